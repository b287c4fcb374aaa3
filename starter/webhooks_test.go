package starter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/twilio"
)

func TestParseSMSReply(t *testing.T) {
	tests := []struct {
		body string
		want smsReply
		ok   bool
	}{
		{"4", smsReply{Action: actAck}, true},
		{"ack", smsReply{Action: actAck}, true},
		{" ACK \n", smsReply{Action: actAck}, true},
		{"4 1a2b3c4d", smsReply{Action: actAck, Code: "1a2b3c4d"}, true},
		{"ack 1A2B3C4D", smsReply{Action: actAck, Code: "1a2b3c4d"}, true},
		{"ack inc-payments-1a2b3c4d", smsReply{Action: actAck, Code: "inc-payments-1a2b3c4d"}, true},
		{"5", smsReply{Action: actEscalate}, true},
		{"esc", smsReply{Action: actEscalate}, true},
		{"Esc 1a2b3c4d", smsReply{Action: actEscalate, Code: "1a2b3c4d"}, true},
		{"", smsReply{}, false},
		{"help", smsReply{}, false},
		{"44", smsReply{}, false},
		{"ack please", smsReply{}, false},
		{"4 1a2", smsReply{}, false},
		{"4 zzzzzzzz", smsReply{}, false},
		{"4 inc-payments", smsReply{}, false},
		{"4 inc-pay_ments-1a2b3c4d", smsReply{}, false},
		{"4 1a2b3c4d extra", smsReply{}, false},
		{"acknowledged", smsReply{}, false},
		{"4 inc-payments-0123456789abcdef", smsReply{Action: actAck, Code: "inc-payments-0123456789abcdef"}, true},
		{"4 0123456789ABCDEF", smsReply{Action: actAck, Code: "0123456789abcdef"}, true},
		{"4 0123456789abcdef0", smsReply{}, false},
		{"4 inc-payments-0123456789abcdef0", smsReply{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			got, err := parseSMSReply(tt.body)
			if !tt.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// twilioPost signs form as Twilio would for a POST to publicURL+target.
func twilioPost(in *Intake, target string, form url.Values, sign url.Values) *httptest.ResponseRecorder {
	sig := twilio.Sign(integrations.Secret(twilioToken), publicURL+target, sign)
	return do(in, "POST", target, form.Encode(), "Content-Type", formType, twilio.SignatureHeader, sig)
}

func smsForm(from, body, sid string) url.Values {
	return url.Values{
		"AccountSid": {"AC00000000000000000000000000000000"}, "MessageSid": {sid}, "SmsSid": {sid},
		"From": {from}, "To": {"+15550109999"}, "Body": {body}, "NumMedia": {"0"}, "ApiVersion": {"2010-04-01"},
	}
}

func TestTwilioSMS(t *testing.T) {
	in, fake := newTestIntake(t)
	fake.addIncident(incPayments)
	fake.addIncident("inc-web-00000001")

	form := smsForm("+15550100001", "4", "SM0001")
	w := twilioPost(in, "/v1/twilio/sms", form, form)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "text/xml; charset=utf-8", w.Header().Get("Content-Type"))
	assert.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Response><Message>Acknowledged as alice (inc-payments-1a2b3c4d)</Message></Response>`, w.Body.String(), "the latest page to alice")

	w = twilioPost(in, "/v1/twilio/sms", form, form)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "Acknowledged as alice", "a replayed delivery answers the same")
	require.Len(t, fake.updates(), 1, "and counts once")
	assert.Equal(t, call{incPayments, "sms:SM0001", "alice", "sms", "ack"}, fake.updates()[0])

	form = smsForm("+15550100002", "5 00000001", "SM0002")
	w = twilioPost(in, "/v1/twilio/sms", form, form)
	assert.Contains(t, w.Body.String(), "Escalated: level 2 is being paged (inc-web-00000001)", "the code's suffix")

	form = smsForm("+15550100002", "ack inc-payments-1a2b3c4d", "SM0003")
	w = twilioPost(in, "/v1/twilio/sms", form, form)
	assert.Contains(t, w.Body.String(), "Already acknowledged by alice at 10:04 UTC")

	form = smsForm("+15550100002", "4", "SM0004")
	w = twilioPost(in, "/v1/twilio/sms", form, form)
	assert.Contains(t, w.Body.String(), "Nothing is paging you now", "nothing pages bob")

	form = smsForm("+15550100002", "4 deadbeef", "SM0005")
	w = twilioPost(in, "/v1/twilio/sms", form, form)
	assert.Contains(t, w.Body.String(), "No open incident has the code deadbeef")

	form = smsForm("+15550100001", "what is going on?", "SM0006")
	w = twilioPost(in, "/v1/twilio/sms", form, form)
	assert.Contains(t, w.Body.String(), "reply 4 (or ack) to acknowledge", "help")

	form = smsForm("+15550100666", "4", "SM0007")
	w = twilioPost(in, "/v1/twilio/sms", form, form)
	assert.Contains(t, w.Body.String(), "does not know this number")
	assert.Len(t, fake.updates(), 2)
}

func TestTwilioSignature(t *testing.T) {
	in, fake := newTestIntake(t)
	fake.addIncident(incPayments)
	form := smsForm("+15550100001", "4", "SM0001")
	tampered := smsForm("+15550100002", "4", "SM0001")

	w := twilioPost(in, "/v1/twilio/sms", tampered, form)
	assert.Equal(t, http.StatusForbidden, w.Code, "a form other than the signed one")

	sig := twilio.Sign(integrations.Secret(twilioToken), "http://localhost:8080/v1/twilio/sms", form)
	w = do(in, "POST", "/v1/twilio/sms", form.Encode(), "Content-Type", formType, twilio.SignatureHeader, sig)
	assert.Equal(t, http.StatusForbidden, w.Code, "signed for another URL")

	sig = twilio.Sign("another-token", publicURL+"/v1/twilio/sms", form)
	w = do(in, "POST", "/v1/twilio/sms", form.Encode(), "Content-Type", formType, twilio.SignatureHeader, sig)
	assert.Equal(t, http.StatusForbidden, w.Code, "signed with another token")

	w = do(in, "POST", "/v1/twilio/sms", form.Encode(), "Content-Type", formType)
	assert.Equal(t, http.StatusForbidden, w.Code, "unsigned")
	assert.Empty(t, fake.updates())
}

func TestTwilioVoice(t *testing.T) {
	in, fake := newTestIntake(t)
	fake.addIncident(incPayments)
	target := "/v1/twilio/voice?incident=" + incPayments + "&person=alice"
	gather := func(digits, callSid string) url.Values {
		return url.Values{"AccountSid": {"AC0"}, "CallSid": {callSid}, "Digits": {digits}, "From": {"+15550109999"},
			"To": {"+15550100001"}, "CallStatus": {"in-progress"}, "Direction": {"outbound-api"}}
	}

	form := gather("9", "CA0001")
	w := twilioPost(in, target, form, form)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), "<Gather", "any other key prompts again")
	assert.Contains(t, w.Body.String(), "Checkout error rate above 5%")
	assert.Contains(t, w.Body.String(), "incident=inc-payments-1a2b3c4d&amp;person=alice")
	assert.Empty(t, fake.updates())

	form = gather("4", "CA0001")
	w = twilioPost(in, target, form, form)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Response><Say>Acknowledged as alice. Goodbye.</Say><Hangup/></Response>`, w.Body.String())
	twilioPost(in, target, form, form)
	require.Len(t, fake.updates(), 1, "a replayed key press counts once")
	assert.Equal(t, call{incPayments, "voice:CA0001:ack", "alice", "voice", "ack"}, fake.updates()[0])

	form = gather("5", "CA0002")
	w = twilioPost(in, target, form, form)
	assert.Contains(t, w.Body.String(), "<Say>Escalated: level 2 is being paged. Goodbye.</Say><Hangup/>")

	form = gather("4", "CA0003")
	sig := twilio.Sign(integrations.Secret(twilioToken), publicURL+target, form)
	w = do(in, "POST", strings.Replace(target, "alice", "bob", 1), form.Encode(), "Content-Type", formType, twilio.SignatureHeader, sig)
	assert.Equal(t, http.StatusForbidden, w.Code, "the signature covers the query")
}

// slackRequest builds a signed Slack interaction request.
func slackRequest(payload string, ts time.Time, secret string) (string, []string) {
	body := "payload=" + url.QueryEscape(payload)
	return body, slackHeaders(body, ts, secret)
}

// slackHeaders signs a form body as Slack does: v0= and the hex
// HMAC-SHA256 of "v0:<timestamp>:<body>" under the signing secret.
func slackHeaders(body string, ts time.Time, secret string) []string {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + stamp + ":" + body))
	return []string{"Content-Type", formType, "X-Slack-Request-Timestamp", stamp,
		"X-Slack-Signature", "v0=" + hex.EncodeToString(mac.Sum(nil))}
}

func TestSlackActions(t *testing.T) {
	in, fake := newTestIntake(t)
	fake.addIncident(incPayments)
	payload := readTestdata(t, "slack-block-actions.json")

	body, h := slackRequest(payload, testNow.Add(-time.Minute), slackSecret)
	w := do(in, "POST", "/v1/slack/actions", body, h...)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"response_type":"ephemeral","replace_original":false,"text":"Acknowledged as alice"}`, w.Body.String())

	w = do(in, "POST", "/v1/slack/actions", body, h...)
	require.Equal(t, http.StatusOK, w.Code, "a replay within the window")
	require.Len(t, fake.updates(), 1, "counts once")
	assert.Equal(t, call{incPayments, "slack:CBR2V3XEX:1548261231.000200:U0CA5:ack", "alice", "slack", "ack"}, fake.updates()[0])

	signed := func(ts time.Time, secret string) func() (string, []string) {
		return func() (string, []string) { return slackRequest(payload, ts, secret) }
	}
	tests := []struct {
		name    string
		request func() (string, []string)
	}{
		{"tampered body", func() (string, []string) { return strings.Replace(body, "alice", "bob", 1), h }},
		{"wrong secret", signed(testNow, "another-secret")},
		{"replayed after 5 minutes", signed(testNow.Add(-6*time.Minute), slackSecret)},
		{"from the future", signed(testNow.Add(6*time.Minute), slackSecret)},
		{"unsigned", func() (string, []string) { return body, []string{"Content-Type", formType} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, hdr := tt.request()
			w := do(in, "POST", "/v1/slack/actions", b, hdr...)
			assert.Equal(t, http.StatusForbidden, w.Code)
		})
	}
	require.Len(t, fake.updates(), 1)

	other := strings.Replace(payload, `"U0CA5"`, `"UNOBODY"`, 1)
	body, h = slackRequest(other, testNow, slackSecret)
	w = do(in, "POST", "/v1/slack/actions", body, h...)
	assert.Contains(t, w.Body.String(), "does not know your Slack account")

	esc := strings.Replace(payload, `"action_id": "ack"`, `"action_id": "escalate"`, 1)
	body, h = slackRequest(esc, testNow, slackSecret)
	w = do(in, "POST", "/v1/slack/actions", body, h...)
	assert.Contains(t, w.Body.String(), "Escalated: level 2")
	assert.Len(t, fake.updates(), 2)
}

func TestMattermostActions(t *testing.T) {
	in, fake := newTestIntake(t)
	fake.addIncident(incPayments)
	req := func(user, action, incident, token, trigger string) string {
		b, _ := json.Marshal(map[string]any{
			"user_id": user, "user_name": user, "channel_id": "ch1", "team_id": "team1", "post_id": "post1",
			"trigger_id": trigger, "type": "", "data_source": "",
			"context": map[string]string{"action": action, "incident": incident, "token": token},
		})
		return string(b)
	}
	alice := in.cfg.AckLinks.Token(incPayments, "alice", testNow)

	w := do(in, "POST", "/v1/mattermost/actions", req("mm-alice", "ack", incPayments, alice, "tr1"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"ephemeral_text":"Acknowledged as alice"}`, w.Body.String())
	do(in, "POST", "/v1/mattermost/actions", req("mm-alice", "ack", incPayments, alice, "tr1"))
	require.Len(t, fake.updates(), 1, "a replay counts once")
	assert.Equal(t, call{incPayments, "mattermost:post1:mm-alice:ack", "alice", "mattermost", "ack"}, fake.updates()[0])

	w = do(in, "POST", "/v1/mattermost/actions", req("mm-bob", "ack", incPayments, alice, "tr2"))
	assert.Contains(t, w.Body.String(), "acts for alice, and only they can press it", "bob pressing alice's button")

	parts := strings.Split(alice, ".")
	tampered := parts[0] + "." + strings.Split(in.cfg.AckLinks.Token(incPayments, "bob", testNow), ".")[1] + "." + parts[2] + "." + parts[3]
	w = do(in, "POST", "/v1/mattermost/actions", req("mm-bob", "ack", incPayments, tampered, "tr3"))
	assert.Equal(t, http.StatusForbidden, w.Code)

	w = do(in, "POST", "/v1/mattermost/actions", req("mm-alice", "ack", "inc-web-00000001", alice, "tr4"))
	assert.Equal(t, http.StatusForbidden, w.Code, "a token for another incident")

	expired := in.cfg.AckLinks.Token(incPayments, "alice", testNow.Add(-2*time.Hour))
	w = do(in, "POST", "/v1/mattermost/actions", req("mm-alice", "ack", incPayments, expired, "tr5"))
	assert.Contains(t, w.Body.String(), "This button has expired")

	w = do(in, "POST", "/v1/mattermost/actions", req("mm-alice", "", incPayments, "", "tr6"))
	assert.Equal(t, http.StatusForbidden, w.Code, "no token")
	assert.Len(t, fake.updates(), 1)
}

func pdSign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

func TestPagerDutyWebhook(t *testing.T) {
	in, fake := newTestIntake(t)
	fake.addIncident(incPayments)
	body := readTestdata(t, "pagerduty-webhook-acknowledged.json")
	headers := func(sig, id string) []string {
		return []string{"Content-Type", "application/json", "X-PagerDuty-Signature", sig, "X-Webhook-Id", id,
			"X-Webhook-Subscription", "PSUB123"}
	}

	w := do(in, "POST", "/v1/pagerduty/webhook", body, headers("v1=00ff,"+pdSign(pdSecretRotated, body), "wh-1")...)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), "Acknowledged as alice", "a rotated secret among several signatures")
	w = do(in, "POST", "/v1/pagerduty/webhook", body, headers(pdSign(pdSecret, body), "wh-1")...)
	require.Equal(t, http.StatusAccepted, w.Code, "a redelivery")
	require.Len(t, fake.updates(), 1, "counts once")
	assert.Equal(t, call{incPayments, "pagerduty:01BZOH6D2B7AVTO0RVS3UI8K4E", "alice", "pagerduty", "ack"}, fake.updates()[0],
		"the signed event ID, not X-Webhook-Id, is the request ID")

	tests := []struct {
		name, body, sig string
		code            int
	}{
		{"tampered", strings.Replace(body, "PLH1HKV", "PXXXXXX", 1), pdSign(pdSecret, body), http.StatusForbidden},
		{"wrong secret", body, pdSign("not-the-secret", body), http.StatusForbidden},
		{"no signature", body, "", http.StatusBadRequest},
		{"signed garbage", `{"event":`, pdSign(pdSecret, `{"event":`), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(in, "POST", "/v1/pagerduty/webhook", tt.body, headers(tt.sig, "wh-2")...)
			assert.Equal(t, tt.code, w.Code, w.Body.String())
		})
	}
	assert.Len(t, fake.updates(), 1)

	unknown := strings.ReplaceAll(body, "PLH1HKV", "PUNKNWN")
	w = do(in, "POST", "/v1/pagerduty/webhook", unknown, headers(pdSign(pdSecret, unknown), "wh-3")...)
	assert.Equal(t, http.StatusAccepted, w.Code, "an unknown agent is answered 202, so PagerDuty does not retry")
	assert.Len(t, fake.updates(), 1, "and acknowledges nothing")

	resolved := strings.Replace(body, "incident.acknowledged", "incident.resolved", 1)
	w = do(in, "POST", "/v1/pagerduty/webhook", resolved, headers(pdSign(pdSecret, resolved), "wh-4")...)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	require.Len(t, fake.resolves, 1)
	assert.Equal(t, call{ID: incPayments, Person: "alice", Kind: "resolve"}, fake.resolves[0])
	w = do(in, "POST", "/v1/pagerduty/webhook", resolved, headers(pdSign(pdSecret, resolved), "wh-4")...)
	assert.Equal(t, http.StatusAccepted, w.Code, "a redelivered resolve finds it resolved: still 202")

	other := strings.Replace(body, "inc-payments-1a2b3c4d", "d3640fbd41094207a1c11e58e46b1662", 1)
	w = do(in, "POST", "/v1/pagerduty/webhook", other, headers(pdSign(pdSecret, other), "wh-5")...)
	assert.Equal(t, http.StatusAccepted, w.Code, "an incident sitrep did not open is ignored")

	// Each page is its own PagerDuty alert, keyed by the incident's ref and
	// the page: acting on one acts on the incident.
	fake.addIncident("inc-pages-00000002")
	page := strings.Replace(strings.Replace(body, `"incident_key": "`+incPayments+`"`, `"incident_key": "inc-pages-00000002/p3"`, 1),
		"01BZOH6D2B7AVTO0RVS3UI8K4E", "01BZOH6D2B7AVTO0RVS3UI8K4G", 1)
	require.NotEqual(t, body, page)
	w = do(in, "POST", "/v1/pagerduty/webhook", page, headers(pdSign(pdSecret, page), "wh-7")...)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	assert.Equal(t, "inc-pages-00000002", fake.updates()[len(fake.updates())-1].ID, "a page's key acknowledges its incident")

	// A bundle's alert acknowledged in PagerDuty acknowledges its incidents.
	bundle := "pager-alice:0f8fad5b-d9cb-469f-a165-70867728950e:3"
	fake.addIncident(bundle)
	bundled := strings.Replace(strings.Replace(body, `"incident_key": "`+incPayments+`"`, `"incident_key": "`+bundle+`"`, 1),
		"01BZOH6D2B7AVTO0RVS3UI8K4E", "01BZOH6D2B7AVTO0RVS3UI8K4H", 1)
	w = do(in, "POST", "/v1/pagerduty/webhook", bundled, headers(pdSign(pdSecret, bundled), "wh-8")...)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	assert.Equal(t, bundle, fake.updates()[len(fake.updates())-1].ID, "a bundle's key acknowledges the bundle")

	fake.addIncident("inc-web-00000001")
	fake.updateErr = ErrUnavailable
	web := strings.Replace(strings.Replace(body, incPayments, "inc-web-00000001", 1), "01BZOH6D2B7AVTO0RVS3UI8K4E", "01BZOH6D2B7AVTO0RVS3UI8K4F", 1)
	w = do(in, "POST", "/v1/pagerduty/webhook", web, headers(pdSign(pdSecret, web), "wh-6")...)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, "PagerDuty retries when Temporal is down")
	assert.Equal(t, "5", w.Header().Get("Retry-After"))
}
