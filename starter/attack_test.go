package starter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/twilio"
	"github.com/sitrep-dev/sitrep/workflows"
)

// The attack suite: each attack the intake must refuse, sent over HTTP to a
// running intake, with the status it must get, the log line it must leave,
// nothing recorded, and the legitimate request next to it still working.
// (The codec endpoint's, which lives in worker, is worker's TestCodecHandler.)

// logBuffer collects an intake's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// attackRequest is one request of the suite.
type attackRequest struct {
	method, path, body string
	header             []string
}

// runningIntake serves an intake built like newTestIntake's, logging into a
// buffer, on a real listener.
type runningIntake struct {
	in   *Intake
	fake *fakeIncidents
	logs *logBuffer
	url  string
}

func startIntake(t *testing.T, mutate ...func(*IntakeConfig)) *runningIntake {
	t.Helper()
	in, fake := newTestIntake(t, mutate...)
	logs := &logBuffer{}
	in.log = slog.New(slog.NewTextHandler(logs, nil))
	srv := httptest.NewServer(in.Handler())
	t.Cleanup(srv.Close)
	return &runningIntake{in: in, fake: fake, logs: logs, url: srv.URL}
}

func (ri *runningIntake) send(t *testing.T, r attackRequest) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(r.method, ri.url+r.path, strings.NewReader(r.body))
	require.NoError(t, err)
	for i := 0; i+1 < len(r.header); i += 2 {
		req.Header.Set(r.header[i], r.header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// effects counts what the intake has done to incidents so far.
func (f *fakeIncidents) effects() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.alerts) + len(f.acks) + len(f.resolves)
}

func post(path, body string, header ...string) attackRequest {
	return attackRequest{method: http.MethodPost, path: path, body: body, header: header}
}

func jsonType() []string { return []string{"Content-Type", "application/json"} }

func with(h ...[]string) []string {
	var out []string
	for _, x := range h {
		out = append(out, x...)
	}
	return out
}

func reportJSON(severity, description string) string {
	return fmt.Sprintf(`{"reporter":"Dana","service":"payments","severity":%q,"description":%q}`, severity, description)
}

// pdWebhook is the signed PagerDuty webhook of testdata, about service, for
// event id, occurring at at.
func pdWebhook(t *testing.T, service, id string, at time.Time, deliveryID string) attackRequest {
	body := readTestdata(t, "pagerduty-webhook-acknowledged.json")
	body = strings.Replace(body, `"id": "PF9KMXH"`, `"id": "`+service+`"`, 1)
	body = strings.Replace(body, "01BZOH6D2B7AVTO0RVS3UI8K4E", id, 1)
	body = strings.Replace(body, "2026-03-02T10:01:22.169Z", at.UTC().Format(time.RFC3339Nano), 1)
	return post("/v1/pagerduty/webhook", body, "Content-Type", "application/json",
		"X-PagerDuty-Signature", pdSign(pdSecret, body), "X-Webhook-Id", deliveryID)
}

// pdResolved is pdWebhook's incident.resolved twin.
func pdResolved(t *testing.T, service, id string, at time.Time, deliveryID string) attackRequest {
	r := pdWebhook(t, service, id, at, deliveryID)
	r.body = strings.Replace(r.body, "incident.acknowledged", "incident.resolved", 1)
	r.header[3] = pdSign(pdSecret, r.body)
	return r
}

func twilioReply(token, sid string) attackRequest {
	form := smsForm("+15550100001", "4", sid)
	sig := twilio.Sign(integrations.Secret(token), publicURL+"/v1/twilio/sms", form)
	return post("/v1/twilio/sms", form.Encode(), "Content-Type", formType, twilio.SignatureHeader, sig)
}

func slackClick(t *testing.T, secret string) attackRequest {
	body, h := slackRequest(readTestdata(t, "slack-block-actions.json"), testNow, secret)
	return post("/v1/slack/actions", body, h...)
}

func alertmanagerWith(labels string) string {
	return `{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"service":"payments","severity":"critical"` +
		labels + `},"annotations":{"summary":"s"},"fingerprint":"f1"}]}`
}

func TestAttacks(t *testing.T) {
	openReports := func(c *IntakeConfig) { c.OpenReports = true }
	behindProxy := func(c *IntakeConfig) { c.ClientAddressHeader = "X-Forwarded-For" }
	from := func(addr string) []string { return []string{"X-Forwarded-For", "203.0.113.9, " + addr} }
	amResolved := readTestdata(t, "alertmanager-resolved.json")
	grafanaResolved := strings.Replace(amResolved, `"receiver": "sitrep",`, `"receiver": "sitrep", "orgId": 1,`, 1)
	manyLabels := map[string]string{}
	for i := range maxLabels + 1 {
		manyLabels[fmt.Sprintf("l%02d", i)] = "v"
	}
	manyLabelsJSON, err := json.Marshal(map[string]any{"service": "payments", "severity": "SEV3", "summary": "s", "labels": manyLabels})
	require.NoError(t, err)

	tests := []struct {
		name   string
		config []func(*IntakeConfig)
		// setup runs first: the requests that make the state the attack needs.
		setup    []attackRequest
		attack   attackRequest
		want     int
		wantBody string // in the answer
		wantLog  string // in the log
		// legit is the request next to the attack that must still work.
		legit     attackRequest
		legitWant int
	}{
		// Who may page.
		{
			name:   "cross-site form post of a report",
			config: []func(*IntakeConfig){openReports},
			attack: post("/v1/reports", "reporter=x&service=payments&severity=SEV3&description=down",
				"Content-Type", formType, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"),
			want: http.StatusForbidden, wantBody: "cross-origin request refused", wantLog: `msg="cross-origin report refused" origin=https://evil.example secFetchSite=cross-site`,
			legit: post("/v1/reports", "reporter=x&service=payments&severity=SEV3&description=down",
				"Content-Type", formType, "Origin", publicURL, "Sec-Fetch-Site", "same-origin"),
			legitWant: http.StatusOK,
		},
		{
			name:   "cross-site text/plain JSON report from a browser without Sec-Fetch-Site",
			config: []func(*IntakeConfig){openReports},
			attack: post("/v1/reports", reportJSON("SEV3", "down"), "Content-Type", "text/plain", "Origin", "https://evil.example"),
			want:   http.StatusForbidden, wantBody: "cross-origin request refused", wantLog: "cross-origin report refused",
			legit: post("/v1/reports", reportJSON("SEV3", "down"), "Content-Type", "application/json", "Origin", publicURL), legitWant: http.StatusOK,
		},
		{
			name:   "JSON report sent as text/plain",
			config: []func(*IntakeConfig){openReports},
			attack: post("/v1/reports", reportJSON("SEV3", "down"), "Content-Type", "text/plain"),
			want:   http.StatusUnsupportedMediaType, wantBody: `Content-Type: \"text/plain\" is not application/json`, wantLog: `msg="report refused: not JSON or a form" contentType=text/plain`,
			legit: post("/v1/reports", reportJSON("SEV3", "down"), jsonType()...), legitWant: http.StatusOK,
		},
		{
			name:   "keyless SEV1 report",
			config: []func(*IntakeConfig){openReports},
			attack: post("/v1/reports", reportJSON("SEV1", "everything is down"), jsonType()...),
			want:   http.StatusForbidden, wantBody: "severity: SEV1 is more severe than a report without a key may ask for (at most SEV3)",
			wantLog: `msg="report refused: severity above the cap for reports without a key" severity=SEV1 maxSeverity=SEV3`,
			legit:   post("/v1/reports", reportJSON("SEV1", "everything is down"), with(jsonType(), bearer(reportKey))...), legitWant: http.StatusOK,
		},
		{
			name:   "keyless SEV2 report through the form",
			config: []func(*IntakeConfig){openReports},
			attack: post("/v1/reports", "reporter=x&service=payments&severity=SEV2&description=down", "Content-Type", formType),
			want:   http.StatusForbidden, wantBody: "SEV2 is more severe than a report without a key may ask for",
			wantLog: "severity above the cap",
			legit:   post("/v1/reports", "reporter=x&service=payments&severity=SEV4&description=down", "Content-Type", formType), legitWant: http.StatusOK,
		},
		{
			name: "keyless report for a service the catalog does not know (the catch-all team)",
			config: []func(*IntakeConfig){openReports, func(c *IntakeConfig) {
				c.ReportServices = []string{"checkout", "payments"}
			}},
			attack: post("/v1/reports", `{"reporter":"x","service":"made-up","description":"down"}`, jsonType()...),
			want:   http.StatusBadRequest, wantBody: `service: \"made-up\" is not a service sitrep knows`,
			wantLog: `msg="report refused: unknown service" service=made-up`,
			legit:   post("/v1/reports", reportJSON("SEV3", "down"), jsonType()...), legitWant: http.StatusOK,
		},
		{
			name:   "report with a wrong key where reports are open",
			config: []func(*IntakeConfig){openReports},
			attack: post("/v1/reports", reportJSON("SEV1", "down"), with(jsonType(), bearer("report-key-not-the-right-one"))...),
			want:   http.StatusUnauthorized, wantBody: "wrong key for integration report", wantLog: "report refused: no valid key",
			legit: post("/v1/reports", reportJSON("SEV1", "down"), with(jsonType(), bearer(reportKey))...), legitWant: http.StatusOK,
		},
		{
			name: "burst of reports from one address",
			config: []func(*IntakeConfig){openReports, behindProxy, func(c *IntakeConfig) {
				c.ReportRate = RateLimit{PerAddress: Rate{N: 2, Per: time.Minute}, Overall: Rate{N: 100, Per: time.Minute}}
			}},
			setup: []attackRequest{
				post("/v1/reports", reportJSON("SEV3", "one"), with(jsonType(), from("198.51.100.7"))...),
				post("/v1/reports", reportJSON("SEV3", "two"), with(jsonType(), from("198.51.100.7"))...),
			},
			attack: post("/v1/reports", reportJSON("SEV3", "three"), with(jsonType(), from("198.51.100.7"))...),
			want:   http.StatusTooManyRequests, wantBody: "too many reports (address limit); try again in 30 seconds",
			wantLog: `msg="request rate limited" integration=report route="POST /v1/reports" clientAddress=198.51.100.7 limit=address`,
			legit:   post("/v1/reports", reportJSON("SEV3", "four"), with(jsonType(), from("198.51.100.8"))...), legitWant: http.StatusOK,
		},
		{
			name: "burst of reports from many addresses",
			config: []func(*IntakeConfig){openReports, behindProxy, func(c *IntakeConfig) {
				c.ReportRate = RateLimit{PerAddress: Rate{N: 5, Per: time.Minute}, Overall: Rate{N: 2, Per: time.Minute}}
			}},
			setup: []attackRequest{
				post("/v1/reports", reportJSON("SEV3", "one"), with(jsonType(), from("198.51.100.1"))...),
				post("/v1/reports", reportJSON("SEV3", "two"), with(jsonType(), from("198.51.100.2"))...),
			},
			attack: post("/v1/reports", reportJSON("SEV3", "three"), with(jsonType(), from("198.51.100.3"))...),
			want:   http.StatusTooManyRequests, wantBody: "overall limit", wantLog: "limit=overall",
			legit: post("/v1/reports", reportJSON("SEV3", "four"), with(jsonType(), bearer(reportKey))...), legitWant: http.StatusOK,
		},
		{
			name: "burst of alerts over the alert limit",
			config: []func(*IntakeConfig){behindProxy, func(c *IntakeConfig) {
				c.AlertRate = RateLimit{PerAddress: Rate{N: 1, Per: time.Minute}}
			}},
			setup:  []attackRequest{post("/v1/alerts/alertmanager", readTestdata(t, "alertmanager-firing.json"), with(bearer(amKey), from("10.0.0.1"))...)},
			attack: post("/v1/alerts/alertmanager", readTestdata(t, "alertmanager-firing.json"), with(bearer(amKey), from("10.0.0.1"))...),
			want:   http.StatusTooManyRequests, wantBody: "too many requests (address limit)", wantLog: "integration=alertmanager",
			legit: post("/v1/alerts/alertmanager", readTestdata(t, "alertmanager-firing.json"), with(bearer(amKey), from("10.0.0.2"))...), legitWant: http.StatusOK,
		},
		{
			name: "resolve with another integration's key",
			config: []func(*IntakeConfig){func(c *IntakeConfig) {
				c.Keys[IntegrationGrafana] = []Key{{Value: grafanaKey, Services: []string{"search"}}}
			}},
			setup:  []attackRequest{post("/v1/alerts/alertmanager", readTestdata(t, "alertmanager-firing.json"), bearer(amKey)...)},
			attack: post("/v1/alerts/grafana", grafanaResolved, bearer(grafanaKey)...),
			want:   http.StatusForbidden, wantBody: `alerts[0].labels.service: \"payments\" is not one of this key's services (search)`,
			wantLog: `msg="alert refused: outside its key's services" integration=grafana`,
			legit:   post("/v1/alerts/alertmanager", amResolved, bearer(amKey)...), legitWant: http.StatusOK,
		},
		{
			name: "resolve of another service's incident by its dedup key",
			config: []func(*IntakeConfig){func(c *IntakeConfig) {
				c.Keys[IntegrationGeneric] = []Key{{Value: genericKey, Services: []string{"checkout"}}}
			}},
			setup:  []attackRequest{post("/v1/alerts/alertmanager", readTestdata(t, "alertmanager-firing.json"), bearer(amKey)...)},
			attack: post("/v1/alerts", `{"service":"payments","severity":"SEV4","summary":"fixed","dedupKey":"1a30ba71cca2921f","status":"resolved"}`, bearer(genericKey)...),
			want:   http.StatusForbidden, wantBody: `service: \"payments\" is not one of this key's services (checkout)`, wantLog: "integration=generic",
			legit: post("/v1/alerts", `{"service":"checkout","severity":"SEV2","summary":"slow","dedupKey":"checkout/slow"}`, bearer(genericKey)...), legitWant: http.StatusOK,
		},

		// Who may acknowledge or resolve.
		{
			name:   "PagerDuty webhook from an unlisted service",
			attack: pdWebhook(t, "PEVIL01", "01EVENT0000000000000000001", testNow, "wh-1"),
			want:   http.StatusForbidden, wantBody: "event.data.service.id: not a PagerDuty service sitrep pages into",
			wantLog: `msg="pagerduty webhook refused: service not one sitrep pages into" eventID=01EVENT0000000000000000001 eventType=incident.acknowledged pagerdutyService=PEVIL01`,
			legit:   pdWebhook(t, pdService, "01EVENT0000000000000000002", testNow, "wh-2"), legitWant: http.StatusAccepted,
		},
		{
			name:   "PagerDuty webhook replayed under a new X-Webhook-Id",
			setup:  []attackRequest{pdWebhook(t, pdService, "01EVENT0000000000000000003", testNow, "wh-3")},
			attack: pdWebhook(t, pdService, "01EVENT0000000000000000003", testNow, "wh-3-replayed"),
			want:   http.StatusAccepted, wantBody: "Acknowledged as alice", // the first answer again, and no second update
			legit: pdResolved(t, pdService, "01EVENT0000000000000000004", testNow, "wh-4"), legitWant: http.StatusAccepted,
		},
		{
			name:   "PagerDuty webhook older than an hour",
			attack: pdWebhook(t, pdService, "01EVENT0000000000000000005", testNow.Add(-61*time.Minute), "wh-5"),
			want:   http.StatusBadRequest, wantBody: "event.occurred_at: 2026-03-02T08:59:00Z is more than 1h0m0s old",
			wantLog: `msg="pagerduty webhook refused: event too old or in the future" eventID=01EVENT0000000000000000005 occurredAt=2026-03-02T08:59:00.000Z age=1h1m0s`,
			legit:   pdWebhook(t, pdService, "01EVENT0000000000000000006", testNow.Add(-59*time.Minute), "wh-6"), legitWant: http.StatusAccepted,
		},
		{
			name:   "PagerDuty webhook dated in the future",
			attack: pdWebhook(t, pdService, "01EVENT0000000000000000007", testNow.Add(24*time.Hour), "wh-7"),
			want:   http.StatusBadRequest, wantBody: "event.occurred_at: 2026-03-03T10:00:00Z is more than 5m0s in the future", wantLog: "age=-24h0m0s",
			legit: pdWebhook(t, pdService, "01EVENT0000000000000000008", testNow.Add(time.Minute), "wh-8"), legitWant: http.StatusAccepted,
		},
		{
			name:   "Twilio reply signed with a rotated-out auth token",
			config: []func(*IntakeConfig){func(c *IntakeConfig) { c.TwilioAuthTokens = []string{twilioTokenRotated} }},
			attack: twilioReply(twilioToken, "SM0001"),
			want:   http.StatusForbidden, wantBody: "X-Twilio-Signature does not match", wantLog: `msg="twilio signature does not match" channel=sms`,
			legit: twilioReply(twilioTokenRotated, "SM0002"), legitWant: http.StatusOK,
		},
		{
			name:   "Twilio reply with the rotated-in token while both are valid",
			attack: twilioReply("twilio-auth-token-never-configured", "SM0003"),
			want:   http.StatusForbidden, wantLog: "twilio signature does not match",
			legit: twilioReply(twilioTokenRotated, "SM0004"), legitWant: http.StatusOK,
		},
		{
			name:   "Slack click signed with a rotated-out secret",
			config: []func(*IntakeConfig){func(c *IntakeConfig) { c.SlackSigningSecrets = []string{slackSecretRotated} }},
			attack: slackClick(t, slackSecret),
			want:   http.StatusForbidden, wantBody: "invalid slack signature", wantLog: `msg="slack request refused" error="invalid slack signature"`,
			legit: slackClick(t, slackSecretRotated), legitWant: http.StatusOK,
		},
		{
			name:   "Slack click with the rotated-in secret while both are valid",
			attack: slackClick(t, "slack-secret-never-configured-000"),
			want:   http.StatusForbidden, wantLog: "slack request refused",
			legit: slackClick(t, slackSecretRotated), legitWant: http.StatusOK,
		},

		// Bad input.
		{
			name:   "a 1 MiB label of < (6 MiB once escaped)",
			attack: post("/v1/alerts/alertmanager", alertmanagerWith(`,"x":"`+strings.Repeat("<", 1000_000)+`"`), bearer(amKey)...),
			want:   http.StatusBadRequest, wantBody: "alerts[0].labels.x: longer than 1024 bytes",
			wantLog: `msg="alert payload refused" integration=alertmanager error="alerts[0].labels.x: longer than 1024 bytes"`,
			legit:   post("/v1/alerts/alertmanager", alertmanagerWith(`,"x":"`+strings.Repeat("<", maxLabelValue)+`"`), bearer(amKey)...), legitWant: http.StatusOK,
		},
		{
			name:   "a service name over its cap",
			attack: post("/v1/alerts", `{"service":"`+strings.Repeat("s", maxService+1)+`","severity":"SEV3","summary":"s"}`, bearer(genericKey)...),
			want:   http.StatusBadRequest, wantBody: "service: longer than 128 bytes", wantLog: "alert payload refused",
			legit: post("/v1/alerts", `{"service":"`+strings.Repeat("s", maxService)+`","severity":"SEV3","summary":"s"}`, bearer(genericKey)...), legitWant: http.StatusOK,
		},
		{
			name:   "a dedup key over its cap",
			attack: post("/v1/alerts", `{"service":"payments","severity":"SEV3","summary":"s","dedupKey":"`+strings.Repeat("k", maxDedupKey+1)+`"}`, bearer(genericKey)...),
			want:   http.StatusBadRequest, wantBody: "dedupKey: longer than 2048 bytes", wantLog: "alert payload refused",
			legit: post("/v1/alerts", readTestdata(t, "generic.json"), bearer(genericKey)...), legitWant: http.StatusOK,
		},
		{
			name:   "too many labels",
			attack: post("/v1/alerts", string(manyLabelsJSON), bearer(genericKey)...),
			want:   http.StatusBadRequest, wantBody: "labels: 65 labels; at most 64", wantLog: "alert payload refused",
			legit: post("/v1/alerts", readTestdata(t, "generic.json"), bearer(genericKey)...), legitWant: http.StatusOK,
		},
		{
			name:   "a reporter and a contact over their caps",
			config: []func(*IntakeConfig){openReports},
			attack: post("/v1/reports", `{"reporter":"`+strings.Repeat("r", maxReporter+1)+`","contact":"`+strings.Repeat("c", maxContact+1)+`","service":"payments","description":"down"}`, jsonType()...),
			want:   http.StatusBadRequest, wantBody: `"contact: longer than 200 bytes","reporter: longer than 200 bytes"`, wantLog: `msg="report payload refused"`,
			legit: post("/v1/reports", reportJSON("SEV3", "down"), jsonType()...), legitWant: http.StatusOK,
		},
		{
			name:   "a PagerDuty event with custom details over the caps",
			attack: post("/v2/enqueue", strings.Replace(readTestdata(t, "pagerduty-trigger.json"), `"free space": "1%"`, `"free space": "`+strings.Repeat("%", 2000)+`"`, 1)),
			want:   http.StatusBadRequest, wantBody: "payload.custom_details.custom_details.free space: longer than 1024 bytes",
			legit: post("/v2/enqueue", readTestdata(t, "pagerduty-trigger.json")), legitWant: http.StatusAccepted,
		},
		{
			name:   "a service of control characters only",
			attack: post("/v1/alerts", `{"service":"\u001b[2J\u202e\r\n","severity":"SEV3","summary":"s"}`, bearer(genericKey)...),
			want:   http.StatusBadRequest, wantBody: "service: nothing left once control characters are removed", wantLog: "alert payload refused",
			legit: post("/v1/alerts", readTestdata(t, "generic.json"), bearer(genericKey)...), legitWant: http.StatusOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ri := startIntake(t, tt.config...)
			ri.fake.addIncident(incPayments)
			for i, s := range tt.setup {
				resp, body := ri.send(t, s)
				require.Less(t, resp.StatusCode, 300, "setup %d: %s", i, body)
			}
			before := ri.fake.effects()

			resp, body := ri.send(t, tt.attack)
			assert.Equal(t, tt.want, resp.StatusCode, body)
			assert.Contains(t, body, tt.wantBody)
			if resp.StatusCode == http.StatusTooManyRequests {
				assert.NotEmpty(t, resp.Header.Get("Retry-After"), "a 429 says when to retry")
			}
			if tt.wantLog != "" {
				assert.Contains(t, ri.logs.String(), tt.wantLog)
			}
			assert.Equal(t, before, ri.fake.effects(), "the attack recorded nothing")

			resp, body = ri.send(t, tt.legit)
			assert.Equal(t, tt.legitWant, resp.StatusCode, "the legitimate request next to it: %s", body)
			assert.Greater(t, ri.fake.effects(), before, "the legitimate request was recorded")
		})
	}
}

// The workflow decides whether a resolve applies to the incident (only the
// dedup keys and integrations that fed it may resolve it); the intake's part
// is to pass both on as they came.
func TestResolvedAlertKeepsItsIntegrationAndDedupKey(t *testing.T) {
	ri := startIntake(t)
	resp, body := ri.send(t, post("/v1/alerts/alertmanager", readTestdata(t, "alertmanager-firing.json"), bearer(amKey)...))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	grafana := strings.Replace(readTestdata(t, "alertmanager-resolved.json"), `"fingerprint": "1a30ba71cca2921f"`, `"fingerprint": "0000other0000"`, 1)
	resp, body = ri.send(t, post("/v1/alerts/grafana", grafana, bearer(grafanaKey)...))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, body = ri.send(t, post("/v1/alerts", `{"service":"payments","severity":"SEV4","summary":"fixed","dedupKey":"1a30ba71cca2921f","status":"resolved"}`, bearer(genericKey)...))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)

	got := ri.fake.recorded()
	require.Len(t, got, 4)
	assert.Equal(t, []string{IntegrationGrafana, "0000other0000"}, []string{got[2].Integration, got[2].DedupKey})
	assert.True(t, got[2].Resolved)
	assert.Equal(t, []string{IntegrationGeneric, "1a30ba71cca2921f"}, []string{got[3].Integration, got[3].DedupKey},
		"another integration resolving with the incident's dedup key is recorded as that integration")
	assert.True(t, got[3].Resolved)
}

func TestControlCharactersStripped(t *testing.T) {
	ri := startIntake(t)
	summary := "\x1b[31mcheckout\x1b[0m down\r\nInjected: line \u202egnp.exe\u202c <https://evil.example|Acknowledge>\x07"
	b, err := json.Marshal(map[string]any{"service": "pay\u200bments", "severity": "SEV2", "summary": summary,
		"labels": map[string]string{"re\x1b]0;x\x07gion": "eu\u20661"}})
	require.NoError(t, err)
	resp, body := ri.send(t, post("/v1/alerts", string(b), bearer(genericKey)...))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	al := ri.fake.recorded()[0]
	assert.Equal(t, "payments", al.Service)
	assert.Equal(t, "checkout down  Injected: line gnp.exe <https://evil.example|Acknowledge>", al.Summary,
		"ANSI escapes, CR/LF, bidi overrides and BEL gone; the chat and markdown senders escape the rest")
	assert.Equal(t, map[string]string{"region": "eu1"}, al.Labels)
	assert.Equal(t, al.Service+"|"+al.Summary, al.DedupKey)
}

func TestVerboseSummaryTruncatedNotLost(t *testing.T) {
	ri := startIntake(t, func(c *IntakeConfig) { c.MaxBody = 2 << 20 })
	long := strings.Repeat("disk full on db-1; ", 900_000/19)
	b, err := json.Marshal(map[string]string{"service": "payments", "severity": "SEV2", "summary": long})
	require.NoError(t, err)
	resp, body := ri.send(t, post("/v1/alerts", string(b), bearer(genericKey)...))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	al := ri.fake.recorded()[0]
	assert.LessOrEqual(t, len(al.Summary), maxSummary)
	assert.True(t, strings.HasSuffix(al.Summary, truncatedMarker), al.Summary[len(al.Summary)-40:])
	assert.True(t, strings.HasPrefix(al.Summary, "disk full on db-1; disk full"))
}

// temporalRefuses is an Incidents whose Alert fails as Client.Alert does
// when Temporal refuses the request as invalid, e.g. a payload over its size
// limit.
func TestTemporalInvalidArgumentIsNotRetried(t *testing.T) {
	ri := startIntake(t)
	ri.fake.alertErr = fmt.Errorf("record alert: %w", serviceerror.NewInvalidArgument("BlobSizeLimitError: Blob data size exceeds limit (frontend 10.1.2.3:7233)"))
	resp, body := ri.send(t, post("/v1/alerts", readTestdata(t, "generic.json"), bearer(genericKey)...))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	assert.Empty(t, resp.Header.Get("Retry-After"))
	assert.Contains(t, body, "alert: the workflow server refused it as invalid")
	assert.NotContains(t, body, "10.1.2.3", "no server detail in the answer")
	assert.Contains(t, ri.logs.String(), "Blob data size exceeds limit", "the detail is in the log")
}

func TestUnavailableAnswerIsGeneric(t *testing.T) {
	ri := startIntake(t)
	ri.fake.alertErr = fmt.Errorf("fold alert: %w: rpc error: code = Unavailable desc = dial tcp 10.1.2.3:7233: connect: connection refused", ErrUnavailable)
	ri.fake.failAfter = 1
	resp, body := ri.send(t, post("/v1/alerts/alertmanager", readTestdata(t, "alertmanager-firing.json"), bearer(amKey)...))
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, body)
	assert.Equal(t, "5", resp.Header.Get("Retry-After"))
	assert.JSONEq(t, `{"error":"1 of 2 alerts recorded, then sitrep could not reach its workflow server; retry the whole batch"}`, body)
	assert.Contains(t, ri.logs.String(), "10.1.2.3:7233", "the detail is in the log")

	ri.fake.alertErr = nil
	resp, body = ri.send(t, post("/v2/enqueue", readTestdata(t, "pagerduty-trigger.json")))
	require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
	ri.fake.alertErr, ri.fake.failAfter = fmt.Errorf("fold alert: %w: dial tcp 10.1.2.3:7233", ErrUnavailable), 0
	resp, body = ri.send(t, post("/v2/enqueue", readTestdata(t, "pagerduty-trigger.json")))
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.NotContains(t, body, "10.1.2.3")
}

// deadlineIncidents records, at each Alert, whether the context of the
// previous Alert is done: with one deadline per alert, it is.
type deadlineIncidents struct {
	*fakeIncidents
	prev         context.Context
	prevWasAlive []bool
}

func (d *deadlineIncidents) Alert(ctx context.Context, al workflows.Alert) (Receipt, error) {
	if d.prev != nil {
		d.prevWasAlive = append(d.prevWasAlive, d.prev.Err() == nil)
	}
	d.prev = ctx
	if _, ok := ctx.Deadline(); !ok {
		return Receipt{}, fmt.Errorf("alert %s: no deadline", al.DedupKey)
	}
	return d.fakeIncidents.Alert(ctx, al)
}

func TestEachAlertOfABatchHasItsOwnDeadline(t *testing.T) {
	d := &deadlineIncidents{fakeIncidents: newFake()}
	in, err := NewIntake(testConfig(t), d, nil)
	require.NoError(t, err)
	w := do(in, "POST", "/v1/alerts/alertmanager", readTestdata(t, "alertmanager-firing.json"), bearer(amKey)...)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, []bool{false}, d.prevWasAlive, "the first alert's deadline ended with its call, not with the batch")
}

func TestAckTokensNeverLogged(t *testing.T) {
	ri := startIntake(t)
	ri.fake.addIncident(incPayments)
	tokens := []string{
		ri.in.cfg.AckLinks.Token(incPayments, "alice", testNow),
		ri.in.cfg.AckLinks.Token(incPayments, "alice", testNow.Add(-2*time.Hour)), // expired
		ri.in.cfg.AckLinks.Token("inc-gone-00000000", "alice", testNow),           // an incident that is not there
	}
	forged := tokens[0][:len(tokens[0])-4] + "AAAA"
	ri.fake.statusErr = ErrUnavailable // the page logs the status failure
	for _, tok := range append(tokens, forged) {
		ri.send(t, attackRequest{method: http.MethodGet, path: "/ack/" + tok})
		ri.send(t, post("/ack/"+tok, "action=ack", "Content-Type", formType))
		ri.send(t, post("/ack/"+tok, "action=explode", "Content-Type", formType))
		ri.send(t, post("/v1/mattermost/actions", `{"user_id":"mm-alice","post_id":"p","context":{"action":"ack","incident":"`+incPayments+`","token":"`+tok+`"}}`, jsonType()...))
	}
	ri.fake.updateErr = ErrUnavailable
	ri.send(t, post("/ack/"+ri.in.cfg.AckLinks.Token(incPayments, "bob", testNow), "action=escalate", "Content-Type", formType))
	logs := ri.logs.String()
	require.NotEmpty(t, logs, "the requests were logged")
	require.Contains(t, logs, "responder action not recorded")
	for _, tok := range append(tokens, forged) {
		sig := tok[strings.LastIndexByte(tok, '.')+1:]
		assert.NotContains(t, logs, sig, "an acknowledge token's signature in the log")
	}
	_, err := url.Parse(ri.url)
	require.NoError(t, err)
}

func TestOpsListener(t *testing.T) {
	in, _ := newTestIntake(t, func(c *IntakeConfig) { c.InternalOps = true })
	assert.Equal(t, http.StatusNotFound, do(in, "GET", "/metrics", "").Code, "not on the public listener")
	assert.Equal(t, http.StatusNotFound, do(in, "GET", "/readyz", "").Code, "not on the public listener")
	assert.Equal(t, http.StatusOK, do(in, "GET", "/healthz", "").Code)
	for _, path := range []string{"/metrics", "/readyz", "/healthz"} {
		w := httptest.NewRecorder()
		in.OpsHandler().ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		assert.Equal(t, http.StatusOK, w.Code, path)
	}

	public, _ := newTestIntake(t)
	assert.Equal(t, http.StatusOK, do(public, "GET", "/metrics", "").Code, "without an internal listener, as before")
}
