package starter

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/workflows"
)

func testFormats() *formats {
	return &formats{serviceLabel: "service", severityLabel: "severity", severities: DefaultSeverities()}
}

func TestParseAlertmanager(t *testing.T) {
	f := testFormats()
	alerts, truncated, err := f.parseAlertmanager([]byte(readTestdata(t, "alertmanager-firing.json")))
	require.NoError(t, err)
	assert.Zero(t, truncated)
	require.Len(t, alerts, 2)

	first := alerts[0]
	assert.Equal(t, workflows.Monitoring, first.Source)
	assert.Equal(t, IntegrationAlertmanager, first.Integration)
	assert.Equal(t, "payments", first.Service)
	assert.Equal(t, catalog.SEV1, first.Severity)
	assert.Equal(t, "Checkout error rate above 5%", first.Summary, "summary annotation first")
	assert.Equal(t, "1a30ba71cca2921f", first.DedupKey)
	assert.False(t, first.Resolved)
	assert.Equal(t, "checkout-1:9090", first.Labels["instance"])
	assert.Equal(t, []string{
		"http://prometheus.example.com:9090/graph?g0.expr=checkout_error_ratio+%3E+0.05&g0.tab=1",
		"https://runbooks.example.com/payments/checkout-errors",
	}, first.Links)

	second := alerts[1]
	assert.Equal(t, catalog.SEV3, second.Severity, "warning")
	assert.Equal(t, "p99 checkout latency is 2.4s", second.Summary, "description without a summary")
	assert.Equal(t, "7c1f1b2a8e0d4c55", second.DedupKey)

	resolved, _, err := f.parseAlertmanager([]byte(readTestdata(t, "alertmanager-resolved.json")))
	require.NoError(t, err)
	require.Len(t, resolved, 1)
	assert.True(t, resolved[0].Resolved)
	assert.Equal(t, first.DedupKey, resolved[0].DedupKey, "the resolved alert lands on the firing alert's incident")
}

func TestParseGrafana(t *testing.T) {
	alerts, _, err := testFormats().parseGrafana([]byte(readTestdata(t, "grafana.json")))
	require.NoError(t, err)
	require.Len(t, alerts, 2)
	assert.Equal(t, IntegrationGrafana, alerts[0].Integration)
	assert.Equal(t, "search", alerts[0].Service)
	assert.Equal(t, catalog.SEV2, alerts[0].Severity, "high")
	assert.Equal(t, "This alert was triggered for zone us-1", alerts[0].Summary)
	assert.Equal(t, "c6eadffa33fcdf37", alerts[0].DedupKey)
	assert.Equal(t, []string{
		"https://play.grafana.org/alerting/1afz29v7z/edit",
		"https://myrunbook.com/runbook/1234",
		"https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1",
	}, alerts[0].Links, "empty dashboard and panel URLs are left out")

	assert.True(t, alerts[1].Resolved)
	assert.Equal(t, catalog.SEV4, alerts[1].Severity, "SEV4 as is")
	assert.Equal(t, "The system has high CPU usage", alerts[1].Summary)
	assert.Contains(t, alerts[1].Links, "https://play.grafana.org/d/abcd?viewPanel=2")
}

func TestParseGroupConfiguredLabels(t *testing.T) {
	f := &formats{serviceLabel: "job", severityLabel: "priority", dedupLabels: []string{"alertname", "instance"},
		severities: map[string]catalog.Severity{"p1": catalog.SEV1}}
	body := `{"version":"4","status":"firing","alerts":[{"status":"firing",
		"labels":{"alertname":"Down","instance":"db-1","job":"postgres","priority":"P1"},"fingerprint":"ffff"}]}`
	alerts, _, err := f.parseAlertmanager([]byte(body))
	require.NoError(t, err)
	require.Len(t, alerts, 1)
	assert.Equal(t, "postgres", alerts[0].Service)
	assert.Equal(t, catalog.SEV1, alerts[0].Severity)
	assert.Equal(t, "alertname=Down,instance=db-1", alerts[0].DedupKey)
	assert.Equal(t, "Down", alerts[0].Summary, "alertname when there is no summary or description")

	_, _, err = f.parseAlertmanager([]byte(strings.Replace(body, `"P1"`, `"critical"`, 1)))
	require.ErrorContains(t, err, `alerts[0].labels.priority: "critical" is not a known severity`, "a replaced mapping drops the defaults")
}

func TestParseErrorsNameTheField(t *testing.T) {
	alert := func(labels string) string {
		return `{"status":"firing","labels":{` + labels + `},"annotations":{"summary":"s"},"fingerprint":"f"}`
	}
	ok := alert(`"service":"a","severity":"critical"`)
	tests := []struct {
		name, body string
		want       []string
	}{
		{"empty body", ``, []string{"body: empty"}},
		{"not JSON", `{"alerts": [`, []string{"body: truncated JSON"}},
		{"syntax", `{"alerts": [}`, []string{"body: invalid JSON at byte"}},
		{"version", `{"version":"5","alerts":[` + ok + `]}`, []string{`version: "5" is not supported`}},
		{"no alerts", `{"version":"4","alerts":[]}`, []string{"alerts: empty"}},
		{"missing service in third alert", `{"version":"4","alerts":[` + ok + `,` + ok + `,` + alert(`"severity":"critical"`) + `]}`,
			[]string{"alerts[2].labels.service: missing"}},
		{"unknown severity", `{"version":"4","alerts":[` + alert(`"service":"a","severity":"meh"`) + `]}`,
			[]string{`alerts[0].labels.severity: "meh" is not a known severity`}},
		{"missing severity", `{"version":"4","alerts":[` + alert(`"service":"a"`) + `]}`, []string{"alerts[0].labels.severity: missing"}},
		{"label of the wrong type", `{"version":"4","alerts":[` + ok + `,{"labels":{"service":3}}]}`,
			[]string{"alerts[1].labels: want string, got number"}},
		{"alert not an object", `{"version":"4","alerts":[7]}`, []string{"alerts[0]: want object, got number"}},
		{"bad status, no summary, no fingerprint", `{"version":"4","alerts":[{"status":"maybe","labels":{"service":"a","severity":"info"}}]}`,
			[]string{`alerts[0].status: "maybe" is not firing or resolved`, "alerts[0].annotations.summary: missing", "alerts[0].fingerprint: missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts, _, err := testFormats().parseAlertmanager([]byte(tt.body))
			require.Error(t, err)
			assert.Nil(t, alerts, "an invalid batch yields nothing")
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseGeneric(t *testing.T) {
	f := testFormats()
	al, err := f.parseGeneric([]byte(readTestdata(t, "generic.json")))
	require.NoError(t, err)
	assert.Equal(t, workflows.Alert{
		Source: workflows.Monitoring, Service: "payments", Severity: catalog.SEV2,
		Summary: "Refunds stuck in the queue for 20 minutes", DedupKey: "payments/refund-queue",
		Labels: map[string]string{"queue": "refunds", "region": "eu-1"}, Links: []string{"https://grafana.example.com/d/refunds"},
		Integration: IntegrationGeneric,
	}, al)

	al, err = f.parseGeneric([]byte(`{"service":"web","severity":"warning","summary":"slow","status":"resolved","source":"external"}`))
	require.NoError(t, err)
	assert.Equal(t, "web|slow", al.DedupKey, "default dedup key")
	assert.True(t, al.Resolved)
	assert.Equal(t, workflows.External, al.Source)

	tests := []struct{ body, want string }{
		{`{"severity":"SEV1","summary":"x"}`, "service: missing"},
		{`{"service":"a","summary":"x"}`, "severity: missing"},
		{`{"service":"a","severity":"SEV1"}`, "summary: missing"},
		{`{"service":"a","severity":"SEV1","summary":"x","sumary":"y"}`, "sumary: unknown field"},
		{`{"service":"a","severity":"SEV1","summary":"x","source":"robot"}`, `source: "robot" is not monitoring`},
		{`{"service":"a","severity":"SEV1","summary":"x","status":"open"}`, `status: "open" is not firing or resolved`},
		{`{"service":"a","severity":"SEV1","summary":"x","links":["javascript:alert(1)"]}`, "links[0]: not an absolute http(s) URL"},
		{`{"service":"a","severity":"SEV1","summary":"x","labels":{"a":1}}`, "labels: want string, got number"},
		{`{"service":"a","severity":"SEV1","summary":"x"} {}`, "body: more than one JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := f.parseGeneric([]byte(tt.body))
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestParsePagerDuty(t *testing.T) {
	f := testFormats()
	ev, err := decodePagerDuty([]byte(readTestdata(t, "pagerduty-trigger.json")))
	require.NoError(t, err)
	al, err := f.pagerDutyAlert(ev, "datapipe", "generated")
	require.NoError(t, err)
	assert.Equal(t, "datapipe", al.Service, "from the routing key")
	assert.Equal(t, catalog.SEV1, al.Severity)
	assert.Equal(t, "DISK at 99% on machine prod-datapipe03.example.com", al.Summary)
	assert.Equal(t, "srv01/mysql", al.DedupKey)
	assert.Equal(t, "mysql", al.Labels["component"])
	assert.Equal(t, "1%", al.Labels["custom_details.free space"])
	assert.Equal(t, "0.75", al.Labels["custom_details.load avg"])
	assert.Equal(t, []string{"https://monitoring.service.com", "http://pagerduty.example.com"}, al.Links)

	ev.DedupKey = ""
	al, err = f.pagerDutyAlert(ev, "datapipe", "generated")
	require.NoError(t, err)
	assert.Equal(t, "generated", al.DedupKey, "a trigger without a dedup key gets one")

	ev, err = decodePagerDuty([]byte(readTestdata(t, "pagerduty-resolve.json")))
	require.NoError(t, err)
	al, err = f.pagerDutyAlert(ev, "datapipe", "generated")
	require.NoError(t, err)
	assert.True(t, al.Resolved)
	assert.Equal(t, "srv01/mysql", al.DedupKey)
	require.NoError(t, workflows.ValidateAlert(al))

	tests := []struct{ body, want string }{
		{`{"event_action":"trigger"}`, "payload: missing"},
		{`{"event_action":"trigger","payload":{"source":"h","severity":"critical"}}`, "payload.summary: missing"},
		{`{"event_action":"trigger","payload":{"summary":"s","severity":"critical"}}`, "payload.source: missing"},
		{`{"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"SEV1"}}`, `payload.severity: "SEV1" is not critical, error, warning or info`},
		{`{"event_action":"resolve"}`, "dedup_key: missing"},
		{`{"event_action":"explode"}`, `event_action: "explode" is not trigger`},
		{`{}`, "event_action: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			ev, err := decodePagerDuty([]byte(tt.body))
			require.NoError(t, err)
			_, err = f.pagerDutyAlert(ev, "datapipe", "k")
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestParseReport(t *testing.T) {
	f := testFormats()
	al, err := f.parseReportJSON([]byte(`{"reporter":"Dana from support","contact":"dana@example.com","service":"payments","description":"customers see card declined"}`))
	require.NoError(t, err)
	assert.Equal(t, workflows.Internal, al.Source, "default")
	assert.Equal(t, catalog.SEV3, al.Severity, "default")
	assert.Equal(t, "Dana from support", al.Reporter)
	assert.Equal(t, "customers see card declined", al.Summary)
	assert.Equal(t, "dana@example.com", al.Labels["contact"])
	require.NoError(t, workflows.ValidateAlert(al))

	al, err = f.parseReportForm([]byte("reporter=Eve&service=web&source=external&severity=SEV2&description=login+fails"))
	require.NoError(t, err)
	assert.Equal(t, workflows.External, al.Source)
	assert.Equal(t, catalog.SEV2, al.Severity)

	_, err = f.parseReportForm([]byte("service=web&source=monitoring"))
	require.ErrorContains(t, err, "reporter: missing")
	require.ErrorContains(t, err, "description: missing")
	require.ErrorContains(t, err, `source: "monitoring" is not internal or external`)
}

func TestSeverityMapping(t *testing.T) {
	f := testFormats()
	for word, want := range map[string]catalog.Severity{
		"critical": catalog.SEV1, "CRITICAL": catalog.SEV1, "error": catalog.SEV2, "high": catalog.SEV2,
		"warning": catalog.SEV3, "info": catalog.SEV4, "SEV1": catalog.SEV1, "sev4": catalog.SEV4, " SEV2 ": catalog.SEV2,
	} {
		got, ok := f.severity(word)
		assert.True(t, ok, word)
		assert.Equal(t, want, got, word)
	}
	for _, word := range []string{"", "page", "SEV5", "sev"} {
		_, ok := f.severity(word)
		assert.False(t, ok, word)
	}
}

func TestTruncateSummary(t *testing.T) {
	long := strings.Repeat("é", maxSummary)
	got := truncateSummary(long)
	assert.LessOrEqual(t, len(got), maxSummary)
	assert.True(t, strings.HasSuffix(got, truncatedMarker))
	assert.True(t, strings.HasPrefix(got, "éé"))
}

// The fuzz targets: a parser never panics, and whatever it accepts is an
// alert the workflow accepts too. Seeds are in testdata/fuzz/<FuzzName>.

func requireValid(t *testing.T, alerts ...workflows.Alert) {
	t.Helper()
	for i, al := range alerts {
		if err := workflows.ValidateAlert(al); err != nil {
			t.Fatalf("accepted alert %d is invalid: %v", i, err)
		}
		requireSafe(t, i, al)
	}
}

// requireSafe fails when an accepted alert holds what the intake must strip
// (control characters, ANSI escapes, bidi overrides) or a field over its cap.
func requireSafe(t *testing.T, i int, al workflows.Alert) {
	t.Helper()
	texts := map[string]string{"service": al.Service, "summary": al.Summary, "dedupKey": al.DedupKey, "reporter": al.Reporter}
	for k, v := range al.Labels {
		texts["labels key "+k] = k
		texts["labels."+k] = v
	}
	for j, l := range al.Links {
		texts[fmt.Sprintf("links[%d]", j)] = l
	}
	for field, v := range texts {
		if cleanText(v) != v {
			t.Fatalf("accepted alert %d: %s %q is not clean", i, field, v)
		}
	}
	for field, n := range map[string][2]int{
		"service": {len(al.Service), maxService}, "summary": {len(al.Summary), maxSummary}, "dedupKey": {len(al.DedupKey), maxDedupKey},
		"reporter": {len(al.Reporter), maxReporter}, "labels": {len(al.Labels), maxLabels}, "links": {len(al.Links), maxLinks},
	} {
		if n[0] > n[1] {
			t.Fatalf("accepted alert %d: %s is %d, over its cap %d", i, field, n[0], n[1])
		}
	}
	for k, v := range al.Labels {
		if len(k) > maxLabelKey || len(v) > maxLabelValue {
			t.Fatalf("accepted alert %d: label %.40q over its cap", i, k)
		}
	}
	if !utf8.ValidString(al.Summary) {
		t.Fatalf("accepted alert %d: summary is not UTF-8", i)
	}
}

func FuzzAlertmanager(f *testing.F) {
	f.Add([]byte(readTestdata(f, "alertmanager-firing.json")))
	f.Add([]byte(readTestdata(f, "alertmanager-resolved.json")))
	f.Add([]byte(`{"version":"4","alerts":[{"status":"firing","labels":{"service":" ","severity":"critical","alertname":"x"},"fingerprint":"f"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		alerts, _, err := testFormats().parseAlertmanager(body)
		if err == nil {
			if len(alerts) == 0 {
				t.Fatal("accepted a batch of no alerts")
			}
			requireValid(t, alerts...)
		}
	})
}

func FuzzGrafana(f *testing.F) {
	f.Add([]byte(readTestdata(f, "grafana.json")))
	f.Add([]byte(`{"alerts":[{"status":"resolved","labels":{"service":"a","severity":"info"},"annotations":{"description":"d"},"fingerprint":"f"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		alerts, _, err := testFormats().parseGrafana(body)
		if err == nil {
			if len(alerts) == 0 {
				t.Fatal("accepted a batch of no alerts")
			}
			requireValid(t, alerts...)
		}
	})
}

func FuzzPagerDutyEvent(f *testing.F) {
	f.Add([]byte(readTestdata(f, "pagerduty-trigger.json")))
	f.Add([]byte(readTestdata(f, "pagerduty-resolve.json")))
	f.Add([]byte(`{"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := decodePagerDuty(body)
		if err != nil {
			return
		}
		al, err := testFormats().pagerDutyAlert(ev, "datapipe", "0123456789abcdef0123456789abcdef")
		if err == nil {
			requireValid(t, al)
		}
	})
}

func FuzzGeneric(f *testing.F) {
	f.Add([]byte(readTestdata(f, "generic.json")))
	f.Add([]byte(`{"service":"a","severity":"high","summary":"s","status":"resolved","source":"internal"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		al, err := testFormats().parseGeneric(body)
		if err == nil {
			requireValid(t, al)
		}
	})
}

func FuzzReport(f *testing.F) {
	f.Add([]byte(`{"reporter":"Dana","contact":"dana@example.com","service":"payments","description":"card declined"}`), false)
	f.Add([]byte("reporter=Eve&service=web&source=external&severity=SEV2&description=login+fails"), true)
	f.Add([]byte("reporter=%1b%5b31mEve&service=web&description=%e2%80%aelogin%0d%0afails"), true)
	f.Fuzz(func(t *testing.T, body []byte, form bool) {
		parse := testFormats().parseReportJSON
		if form {
			parse = testFormats().parseReportForm
		}
		if al, err := parse(body); err == nil {
			requireValid(t, al)
			if c := al.Labels["contact"]; len(c) > maxContact {
				t.Fatalf("contact of %d bytes accepted", len(c))
			}
		}
	})
}

// isHiddenFormat reports whether r is an invisible character that reorders
// or hides text, which cleaned text must never hold: the bidi embeddings,
// overrides, isolates and marks, the zero-width space, word joiner and
// byte-order mark.
func isHiddenFormat(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200b, r == 0x200e, r == 0x200f, r == 0xfeff:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2060 && r <= 0x206f, r >= 0xfff9 && r <= 0xfffb:
		return true
	}
	return false
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[31mred\x1b[0m", "a\u202eb", "line\r\nbreak", "\xff\xfe", "\x1b]8;;https://evil\x07x\x1b]8;;\x07", "é\u200d👩"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := cleanText(s)
		if cleanText(c) != c {
			t.Fatalf("cleanText is not idempotent on %q: %q then %q", s, c, cleanText(c))
		}
		for _, r := range c {
			if unicode.IsControl(r) || isHiddenFormat(r) {
				t.Fatalf("cleanText(%q) = %q keeps %U", s, c, r)
			}
		}
		if !utf8.ValidString(c) {
			t.Fatalf("cleanText(%q) = %q is not UTF-8", s, c)
		}
		if len(truncateSummary(c)) > maxSummary {
			t.Fatalf("truncateSummary leaves %d bytes", len(truncateSummary(c)))
		}
	})
}

func FuzzSMSReply(f *testing.F) {
	for _, s := range []string{"4", "ack", "4 1a2b3c4d", "ACK inc-payments-1a2b3c4d", "5", "esc 1a2b3c4d", "help", "", "4 inc-payments-0123456789abcdef"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r, err := parseSMSReply(body)
		if err != nil {
			return
		}
		if r.Action != actAck && r.Action != actEscalate {
			t.Fatalf("accepted reply %q has action %q", body, r.Action)
		}
		if r.Code != "" && !isIncidentCode(r.Code) {
			t.Fatalf("accepted reply %q has code %q", body, r.Code)
		}
	})
}
