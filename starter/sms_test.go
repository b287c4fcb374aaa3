package starter

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A bare "4" acts only on incidents still paging the person: with two pages
// from two messages it acknowledges nothing and answers with the list and
// the codes; "4 CODE" then acknowledges the one; a bundle is one message, so
// a bare "4" acknowledges it whole.
func TestBareSMSReplyNeverGuesses(t *testing.T) {
	a, b := "inc-checkout-a1b2c3d4e5f60718", "inc-checkout-a1b29999e5f60718"
	recent := fakeRecent{"alice": {
		{IncidentID: a, Summary: "checkout 500s", Message: a + ":r1"},
		{IncidentID: b, Summary: "db slow", Message: b + ":r2"},
	}, "bob": {
		{IncidentID: a, Summary: "checkout 500s", Message: "pager-bob:run:1"},
		{IncidentID: b, Summary: "db slow", Message: "pager-bob:run:1"},
	}}
	in, fake := newTestIntake(t, func(c *IntakeConfig) { c.RecentPages = recent })
	fake.addIncident(a)
	fake.addIncident(b)
	fake.addIncident("pager-bob:run:1") // the fake takes the bundle's ref as one incident

	form := smsForm("+15550100001", "4", "SM1")
	w := twilioPost(in, "/v1/twilio/sms", form, form)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "2 incidents are paging you; reply 4 and a code: a1b2c checkout 500s; a1b29 db slow")
	assert.Empty(t, fake.updates(), "a bare reply to two messages acknowledges nothing")

	form = smsForm("+15550100001", "4 a1b29", "SM2")
	w = twilioPost(in, "/v1/twilio/sms", form, form)
	assert.Contains(t, w.Body.String(), "Acknowledged as alice ("+b+")")

	form = smsForm("+15550100002", "4", "SM3")
	w = twilioPost(in, "/v1/twilio/sms", form, form)
	require.Len(t, fake.updates(), 2)
	assert.Equal(t, "pager-bob:run:1", fake.updates()[1].ID, "the bundle, acknowledged whole")
}
