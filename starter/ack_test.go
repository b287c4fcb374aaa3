package starter

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const formType = "application/x-www-form-urlencoded"

func TestAckLinkPage(t *testing.T) {
	in, fake := newTestIntake(t)
	fake.addIncident(incPayments)
	token := in.cfg.AckLinks.Token(incPayments, "alice", testNow)

	w := do(in, "GET", "/ack/"+token, "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	body := w.Body.String()
	assert.Contains(t, body, "Checkout error rate above 5%")
	assert.Contains(t, body, "Phase: triggered")
	assert.Contains(t, body, `<button name="action" value="ack">Acknowledge as alice</button>`)
	assert.Contains(t, body, `<button name="action" value="escalate">Escalate</button>`)
	assert.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"))
	assert.Empty(t, fake.updates(), "GET never acts: mail scanners fetch links")

	fake.statusErr = ErrUnavailable
	w = do(in, "GET", "/ack/"+token, "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "Incident "+incPayments, "the page shows the ID when status fails")
	assert.Contains(t, w.Body.String(), `value="ack"`)
}

func TestAckLinkActions(t *testing.T) {
	in, fake := newTestIntake(t)
	fake.addIncident(incPayments)
	alice := in.cfg.AckLinks.Token(incPayments, "alice", testNow)
	bob := in.cfg.AckLinks.Token(incPayments, "bob", testNow)

	w := do(in, "POST", "/ack/"+alice, "action=ack", "Content-Type", formType)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), "Acknowledged as alice")

	w = do(in, "POST", "/ack/"+alice, "action=ack", "Content-Type", formType)
	require.Equal(t, http.StatusOK, w.Code, "a double click is the same request")
	assert.Contains(t, w.Body.String(), "Acknowledged as alice")
	require.Len(t, fake.updates(), 1)
	assert.Equal(t, call{incPayments, fake.updates()[0].RequestID, "alice", "link", "ack"}, fake.updates()[0])
	assert.True(t, strings.HasPrefix(fake.updates()[0].RequestID, "link:"))
	assert.NotContains(t, fake.updates()[0].RequestID, alice, "the request ID does not carry the token")

	w = do(in, "POST", "/ack/"+bob, "action=ack", "Content-Type", formType)
	require.Equal(t, http.StatusConflict, w.Code)
	assert.Contains(t, w.Body.String(), "Already acknowledged by alice at 10:04 UTC on 2 Mar 2026")

	w = do(in, "POST", "/ack/"+bob, "action=escalate", "Content-Type", formType)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "Escalated: level 2 is being paged")

	fake.addIncident("inc-web-00000001")
	mallory := in.cfg.AckLinks.Token("inc-web-00000001", "mallory", testNow)
	w = do(in, "POST", "/ack/"+mallory, "action=ack", "Content-Type", formType)
	require.Equal(t, http.StatusConflict, w.Code)
	assert.Contains(t, w.Body.String(), "mallory is not a responder", "the rejection reason")

	w = do(in, "POST", "/ack/"+alice, "action=delete", "Content-Type", formType)
	assert.Equal(t, http.StatusBadRequest, w.Code)

	gone := in.cfg.AckLinks.Token("inc-gone-00000000", "alice", testNow)
	w = do(in, "POST", "/ack/"+gone, "action=ack", "Content-Type", formType)
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.Contains(t, w.Body.String(), "may be resolved already")

	fake.updateErr = ErrUnavailable
	w = do(in, "POST", "/ack/"+in.cfg.AckLinks.Token(incPayments, "bob", testNow.Add(time.Second)), "action=ack", "Content-Type", formType)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
}

func TestAckLinkSignatures(t *testing.T) {
	in, fake := newTestIntake(t)
	fake.addIncident(incPayments)
	valid := in.cfg.AckLinks.Token(incPayments, "alice", testNow)
	parts := strings.Split(valid, ".")
	otherPerson := in.cfg.AckLinks.Token(incPayments, "bob", testNow)
	tampered := parts[0] + "." + strings.Split(otherPerson, ".")[1] + "." + parts[2] + "." + parts[3]
	expired := in.cfg.AckLinks.Token(incPayments, "alice", testNow.Add(-2*time.Hour))

	tests := []struct {
		name, token string
		code        int
		want        string
	}{
		{"valid", valid, http.StatusOK, "Acknowledge as alice"},
		{"person swapped", tampered, http.StatusForbidden, "This link is not valid"},
		{"signature cut", valid[:len(valid)-3], http.StatusForbidden, "This link is not valid"},
		{"expired", expired, http.StatusGone, "This link has expired"},
		{"malformed", "abc", http.StatusBadRequest, "This link is incomplete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{"GET", "POST"} {
				if method == "POST" && tt.code == http.StatusOK {
					continue // acting on a valid link is TestAckLinkActions'
				}
				w := do(in, method, "/ack/"+tt.token, "action=ack", "Content-Type", formType)
				assert.Equal(t, tt.code, w.Code, method)
				assert.Contains(t, w.Body.String(), tt.want, method)
			}
		})
	}
	assert.Empty(t, fake.updates(), "no bad token acted")
}
