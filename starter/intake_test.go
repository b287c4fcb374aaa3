package starter

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/workflows"
)

func TestAlertRoutes(t *testing.T) {
	tests := []struct {
		name, path, file, key string
		wantAlerts            int
		wantIntegration       string
		wantFirst             string // the first alert's outcome
	}{
		{"alertmanager firing", "/v1/alerts/alertmanager", "alertmanager-firing.json", amKey, 2, IntegrationAlertmanager, "opened"},
		{"alertmanager resolved, nothing open", "/v1/alerts/alertmanager", "alertmanager-resolved.json", amKey, 1, IntegrationAlertmanager, "ignored"},
		{"grafana", "/v1/alerts/grafana", "grafana.json", grafanaKey, 2, IntegrationGrafana, "opened"},
		{"generic", "/v1/alerts", "generic.json", genericKey, 1, IntegrationGeneric, "opened"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, fake := newTestIntake(t)
			w := do(in, "POST", tt.path, readTestdata(t, tt.file), bearer(tt.key)...)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			var got alertsAnswer
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
			require.Len(t, got.Alerts, tt.wantAlerts)
			alerts := fake.recorded()
			require.Len(t, alerts, tt.wantAlerts)
			for i, al := range alerts {
				assert.Equal(t, tt.wantIntegration, al.Integration)
				assert.Equal(t, testNow, al.ReceivedAt)
				assert.Equal(t, workflows.IncidentID(al.Service, al.DedupKey), got.Alerts[i].ID)
				assert.False(t, al.ResolveIncident, "mitigate by default")
			}
			assert.Equal(t, tt.wantFirst, got.Alerts[0].Outcome)

			if tt.wantFirst == "opened" {
				w = do(in, "POST", tt.path, readTestdata(t, tt.file), bearer(tt.key)...)
				require.Equal(t, http.StatusOK, w.Code)
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
				assert.Equal(t, "folded", got.Alerts[0].Outcome, "a repeat folds")
			}
		})
	}
}

func TestResolvedAlerts(t *testing.T) {
	for _, tt := range []struct {
		allResolved workflows.Phase
		want        bool
	}{{"", false}, {workflows.Mitigated, false}, {workflows.Resolved, true}} {
		t.Run(string(tt.allResolved), func(t *testing.T) {
			in, fake := newTestIntake(t, func(c *IntakeConfig) { c.AllResolved = tt.allResolved })
			do(in, "POST", "/v1/alerts/alertmanager", readTestdata(t, "alertmanager-firing.json"), bearer(amKey)...)
			w := do(in, "POST", "/v1/alerts/alertmanager", readTestdata(t, "alertmanager-resolved.json"), bearer(amKey)...)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Contains(t, w.Body.String(), `"outcome":"folded"`, "the resolved alert goes to the firing alert's incident")
			alerts := fake.recorded()
			require.Len(t, alerts, 3)
			assert.False(t, alerts[0].ResolveIncident, "only resolved alerts carry it")
			assert.True(t, alerts[2].Resolved)
			assert.Equal(t, tt.want, alerts[2].ResolveIncident)
		})
	}
}

func TestUnknownServiceAccepted(t *testing.T) {
	in, fake := newTestIntake(t)
	w := do(in, "POST", "/v1/alerts", `{"service":"no-such-service","severity":"SEV3","summary":"x"}`, bearer(genericKey)...)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Len(t, fake.recorded(), 1, "routing to the catch-all team is the workflow's job")
}

func TestPagerDutyEnqueue(t *testing.T) {
	in, fake := newTestIntake(t)
	w := do(in, "POST", "/v2/enqueue", readTestdata(t, "pagerduty-trigger.json"))
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	assert.JSONEq(t, `{"status":"success","message":"Event processed","dedup_key":"srv01/mysql"}`, w.Body.String())
	require.Len(t, fake.recorded(), 1)
	assert.Equal(t, "datapipe", fake.recorded()[0].Service, "the routing key's service")

	w = do(in, "POST", "/v2/enqueue", readTestdata(t, "pagerduty-resolve.json"))
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	assert.JSONEq(t, `{"status":"success","message":"Event processed","dedup_key":"srv01/mysql"}`, w.Body.String())
	resolved := fake.recorded()[1]
	assert.True(t, resolved.Resolved)
	assert.Equal(t, workflows.IncidentID("datapipe", "srv01/mysql"), workflows.IncidentID(resolved.Service, resolved.DedupKey), "same incident as the trigger")

	noKey := strings.Replace(readTestdata(t, "pagerduty-trigger.json"), `"dedup_key": "srv01/mysql",`, "", 1)
	w = do(in, "POST", "/v2/enqueue", noKey)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	assert.JSONEq(t, `{"status":"success","message":"Event processed","dedup_key":"0123456789abcdef0123456789abcdef"}`, w.Body.String())

	ack := `{"routing_key":"` + pdRoutingKey + `","dedup_key":"srv01/mysql","event_action":"acknowledge"}`
	w = do(in, "POST", "/v2/enqueue", ack)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	assert.Len(t, fake.recorded(), 3, "an acknowledge event records nothing")
	assert.Empty(t, fake.updates(), "nor acknowledges anything")

	w = do(in, "POST", "/v2/enqueue", `{"routing_key":"`+pdRoutingKey+`","event_action":"trigger","payload":{"source":"h","severity":"critical"}}`)
	require.Equal(t, http.StatusBadRequest, w.Code)
	assert.JSONEq(t, `{"status":"invalid event","message":"Event object is invalid","errors":["payload.summary: missing"]}`, w.Body.String())
}

func TestAuth(t *testing.T) {
	body := readTestdata(t, "alertmanager-firing.json")
	tests := []struct {
		name    string
		header  []string
		code    int
		wantErr string
	}{
		{"missing", nil, http.StatusUnauthorized, "missing key"},
		{"not bearer", []string{"Authorization", "Basic " + amKey}, http.StatusUnauthorized, "missing key"},
		{"empty bearer", []string{"Authorization", "Bearer "}, http.StatusUnauthorized, "missing key"},
		{"wrong", bearer("am-key-not-the-right-one"), http.StatusUnauthorized, "wrong key for integration alertmanager"},
		{"another integration's key", bearer(grafanaKey), http.StatusUnauthorized, "wrong key"},
		{"current key", bearer(amKey), http.StatusOK, ""},
		{"rotated key, both valid", bearer(amKeyRotated), http.StatusOK, ""},
		{"lowercase scheme", []string{"Authorization", "bearer " + amKey}, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, fake := newTestIntake(t)
			w := do(in, "POST", "/v1/alerts/alertmanager", body, tt.header...)
			require.Equal(t, tt.code, w.Code, w.Body.String())
			if tt.wantErr != "" {
				assert.Contains(t, w.Body.String(), tt.wantErr)
				assert.Empty(t, fake.recorded())
			}
		})
	}

	t.Run("integration without keys", func(t *testing.T) {
		in, _ := newTestIntake(t, func(c *IntakeConfig) { delete(c.Keys, IntegrationGrafana) })
		w := do(in, "POST", "/v1/alerts/grafana", readTestdata(t, "grafana.json"), bearer(grafanaKey)...)
		require.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Contains(t, w.Body.String(), "integration grafana has no keys configured")
	})
	t.Run("pagerduty routing key", func(t *testing.T) {
		in, fake := newTestIntake(t)
		w := do(in, "POST", "/v2/enqueue", strings.Replace(readTestdata(t, "pagerduty-trigger.json"), pdRoutingKey, "ffffffffffffffffffffffffffffffff", 1))
		require.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Contains(t, w.Body.String(), "routing_key: wrong key")
		w = do(in, "POST", "/v2/enqueue", `{"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}`)
		require.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Contains(t, w.Body.String(), "routing_key: missing")
		assert.Empty(t, fake.recorded())
	})
}

func TestBodyTooLarge(t *testing.T) {
	in, fake := newTestIntake(t, func(c *IntakeConfig) { c.MaxBody = 512 })
	big := `{"pad":"` + strings.Repeat("x", 600) + `"}`
	for _, tt := range []struct {
		path   string
		header []string
	}{
		{"/v1/alerts/alertmanager", bearer(amKey)},
		{"/v1/alerts/grafana", bearer(grafanaKey)},
		{"/v1/alerts", bearer(genericKey)},
		{"/v1/reports", append(bearer(reportKey), "Content-Type", "application/json")},
		{"/v2/enqueue", nil},
		{"/v1/pagerduty/webhook", nil},
	} {
		t.Run(tt.path, func(t *testing.T) {
			w := do(in, "POST", tt.path, big, tt.header...)
			assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code, w.Body.String())
		})
	}
	assert.Empty(t, fake.recorded())
}

func TestInvalidPayloadNamesTheField(t *testing.T) {
	in, fake := newTestIntake(t)
	var alerts []string
	for i := range 3 {
		labels := `"service":"payments","severity":"critical"`
		if i == 2 {
			labels = `"severity":"critical"`
		}
		alerts = append(alerts, fmt.Sprintf(`{"status":"firing","labels":{%s},"annotations":{"summary":"s"},"fingerprint":"f%d"}`, labels, i))
	}
	body := `{"version":"4","status":"firing","alerts":[` + strings.Join(alerts, ",") + `]}`
	w := do(in, "POST", "/v1/alerts/alertmanager", body, bearer(amKey)...)
	require.Equal(t, http.StatusBadRequest, w.Code)
	var got errorAnswer
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	assert.Equal(t, "alerts[2].labels.service: missing", got.Error)
	assert.Equal(t, []string{"alerts[2].labels.service: missing"}, got.Problems)
	assert.Empty(t, fake.recorded(), "the valid alerts of an invalid batch are not sent either")

	for _, body := range []string{``, `not json`, `[]`, `{"alerts":"x"}`, `{"version":"4","alerts":[null]}`} {
		w := do(in, "POST", "/v1/alerts/alertmanager", body, bearer(amKey)...)
		assert.Equal(t, http.StatusBadRequest, w.Code, "body %q: %s", body, w.Body.String())
	}
	assert.Empty(t, fake.recorded())
}

func TestUnavailable(t *testing.T) {
	tests := []struct {
		name, path, file string
		header           []string
		failAfter        int
		want             int // alerts recorded before the failure
	}{
		{"alertmanager, first alert", "/v1/alerts/alertmanager", "alertmanager-firing.json", bearer(amKey), 0, 0},
		{"alertmanager, second alert of the batch", "/v1/alerts/alertmanager", "alertmanager-firing.json", bearer(amKey), 1, 1},
		{"grafana", "/v1/alerts/grafana", "grafana.json", bearer(grafanaKey), 0, 0},
		{"generic", "/v1/alerts", "generic.json", bearer(genericKey), 0, 0},
		{"pagerduty", "/v2/enqueue", "pagerduty-trigger.json", nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, fake := newTestIntake(t)
			fake.alertErr, fake.failAfter = fmt.Errorf("fold alert: %w: connection refused", ErrUnavailable), tt.failAfter
			w := do(in, "POST", tt.path, readTestdata(t, tt.file), tt.header...)
			assert.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
			assert.Equal(t, "5", w.Header().Get("Retry-After"))
			assert.Len(t, fake.recorded(), tt.want)
		})
	}
	t.Run("any error that is not a validation error", func(t *testing.T) {
		in, fake := newTestIntake(t)
		fake.alertErr = fmt.Errorf("open incident: something odd")
		w := do(in, "POST", "/v1/alerts", readTestdata(t, "generic.json"), bearer(genericKey)...)
		assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	})
}

func TestReports(t *testing.T) {
	const report = `{"reporter":"Dana","service":"payments","description":"card declined for everyone","source":"external"}`
	t.Run("json with a key", func(t *testing.T) {
		in, fake := newTestIntake(t)
		w := do(in, "POST", "/v1/reports", report, append(bearer(reportKey), "Content-Type", "application/json")...)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		al := fake.recorded()[0]
		assert.Equal(t, workflows.External, al.Source)
		assert.Equal(t, "Dana", al.Reporter)
		assert.Equal(t, catalog.SEV3, al.Severity)
		assert.Equal(t, IntegrationReport, al.Integration)
	})
	t.Run("closed reports need a key", func(t *testing.T) {
		in, fake := newTestIntake(t)
		assert.Equal(t, http.StatusUnauthorized, do(in, "POST", "/v1/reports", report).Code)
		assert.Equal(t, http.StatusUnauthorized, do(in, "POST", "/v1/reports", "reporter=Dana&service=web&description=down",
			"Content-Type", "application/x-www-form-urlencoded").Code)
		assert.Equal(t, http.StatusNotFound, do(in, "GET", "/report", "").Code)
		assert.Empty(t, fake.recorded())
	})
	t.Run("open reports: the form", func(t *testing.T) {
		in, fake := newTestIntake(t, func(c *IntakeConfig) { c.OpenReports = true })
		w := do(in, "GET", "/report", "")
		require.Equal(t, http.StatusOK, w.Code)
		assert.Contains(t, w.Body.String(), `<form method="post" action="/v1/reports">`)
		assert.Contains(t, w.Body.String(), `name="description"`)

		assert.NotContains(t, w.Body.String(), `value="SEV1"`, "the form offers no more than a report without a key may ask")
		assert.NotContains(t, w.Body.String(), "<datalist", "no services configured, no list")
		assert.Contains(t, w.Body.String(), `<option value="SEV3" selected>`)

		w = do(in, "POST", "/v1/reports", "reporter=Dana&service=web&severity=SEV3&description=login+fails",
			"Content-Type", "application/x-www-form-urlencoded")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Contains(t, w.Body.String(), "Your report is incident inc-web-")
		assert.Equal(t, workflows.Internal, fake.recorded()[0].Source)

		w = do(in, "POST", "/v1/reports", "reporter=Dana&service=web", "Content-Type", "application/x-www-form-urlencoded")
		require.Equal(t, http.StatusBadRequest, w.Code)
		assert.Contains(t, w.Body.String(), "description: missing")

		w = do(in, "POST", "/v1/reports", report, "Content-Type", "application/json")
		require.Equal(t, http.StatusOK, w.Code, "JSON too, without a key")
	})
}

func TestReportFormListsServices(t *testing.T) {
	in, _ := newTestIntake(t, func(c *IntakeConfig) { c.OpenReports, c.ReportServices = true, []string{"checkout", "payments"} })
	w := do(in, "GET", "/report", "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `<input name="service" required list="services">`)
	assert.Contains(t, w.Body.String(), `<datalist id="services"><option value="checkout"><option value="payments"></datalist>`)
}

func TestOperations(t *testing.T) {
	in, fake := newTestIntake(t)
	assert.Equal(t, http.StatusOK, do(in, "GET", "/healthz", "").Code)
	assert.Equal(t, http.StatusOK, do(in, "GET", "/readyz", "").Code)
	fake.readyErr = ErrUnavailable
	assert.Equal(t, http.StatusServiceUnavailable, do(in, "GET", "/readyz", "").Code)
	assert.Equal(t, http.StatusOK, do(in, "GET", "/healthz", "").Code, "healthy while serving, ready or not")

	do(in, "POST", "/v1/alerts/alertmanager", readTestdata(t, "alertmanager-firing.json"), bearer(amKey)...)
	do(in, "POST", "/v1/alerts/alertmanager", readTestdata(t, "alertmanager-firing.json"))
	w := do(in, "GET", "/metrics", "")
	require.Equal(t, http.StatusOK, w.Code)
	m := w.Body.String()
	assert.Contains(t, m, `sitrep_intake_alerts_total{integration="alertmanager",outcome="opened",source="monitoring"} 2`)
	assert.Contains(t, m, `sitrep_intake_alerts_total{integration="alertmanager",outcome="unauthorized",source="unknown"} 1`)
	assert.Contains(t, m, `sitrep_intake_request_duration_seconds_count{code="200",route="POST /v1/alerts/alertmanager"} 1`)
	assert.Contains(t, m, `sitrep_intake_request_duration_seconds_count{code="401",route="POST /v1/alerts/alertmanager"} 1`)
	assert.Contains(t, m, `sitrep_build_info{component="intake",goversion="`+runtime.Version()+`"`)
	assert.Contains(t, m, "go_goroutines")

	other, _ := newTestIntake(t)
	assert.NotContains(t, do(other, "GET", "/metrics", "").Body.String(), "sitrep_intake_alerts_total{", "each intake has its own registry")
}

func TestNewIntakeValidation(t *testing.T) {
	_, err := NewIntake(IntakeConfig{
		Keys: map[string][]Key{
			"alertmanger":        {{Value: "long-enough-key-0001"}},
			IntegrationGrafana:   {{Value: "short"}, {Value: "long-enough-key-0001"}},
			IntegrationPagerDuty: {{Value: "long-enough-key-0002"}},
		},
		Severities:       map[string]catalog.Severity{"p1": "SEV0"},
		AllResolved:      workflows.Acknowledged,
		TwilioAuthTokens: []string{"token"},
		PublicURL:        "sitrep.example.com",
	}, nil, slog.Default())
	require.Error(t, err)
	for _, want := range []string{
		"no incidents client",
		`keys: unknown integration "alertmanger"`,
		"keys.grafana[0]: shorter than 16 characters",
		"the same key as one of",
		"keys.pagerduty[0]: no service",
		`severities.p1: "SEV0" is not SEV1..SEV4`,
		`allResolved: "acknowledged" is not mitigated or resolved`,
		"publicURL:",
		"recentPages:",
		"people:",
	} {
		assert.Contains(t, err.Error(), want)
	}

	in, err := NewIntake(IntakeConfig{}, newFake(), nil)
	require.NoError(t, err, "the zero config is valid: every integration refuses, no channel is on")
	assert.Equal(t, http.StatusNotFound, do(in, "POST", "/v1/twilio/sms", "").Code)
	assert.Equal(t, http.StatusNotFound, do(in, "GET", "/ack/x", "").Code)
}
