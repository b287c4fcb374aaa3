package pagerduty_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
	"github.com/sitrep-dev/sitrep/integrations/pagerduty"
)

const routingKey = "R0123456789abcdef0123456789abcde" // 32 characters

type env struct {
	fake   *pagerduty.Fake
	srv    *httptest.Server
	client *pagerduty.Client
	inbox  *inbox.Inbox
	rep    *fakeapi.RecordingReporter
}

func setup(t *testing.T, timeout time.Duration) *env {
	t.Helper()
	e := &env{inbox: inbox.New(), rep: &fakeapi.RecordingReporter{}}
	e.fake = pagerduty.NewFake(pagerduty.FakeOptions{Reporter: e.rep, Inbox: e.inbox})
	mux := http.NewServeMux()
	e.fake.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	c, err := pagerduty.New(pagerduty.Config{BaseURL: e.srv.URL, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	return e
}

func event(incident string) pagerduty.Event {
	return pagerduty.Event{
		RoutingKey: routingKey, DedupKey: incident, Summary: "SEV1 checkout: 5xx above 5%",
		Source: "checkout", Severity: pagerduty.SeverityCritical, Component: "api",
		Links:         []pagerduty.Link{{Href: "https://sitrep.example/ack/" + incident, Text: "Acknowledge"}},
		CustomDetails: map[string]string{"incident": incident},
	}
}

func TestTriggerAckResolve(t *testing.T) {
	e := setup(t, 0)
	ctx := context.Background()

	key, err := e.client.Trigger(ctx, event("inc-1"))
	if err != nil || key != "inc-1" {
		t.Fatalf("Trigger = %q, %v; want inc-1, nil", key, err)
	}
	// A retried trigger folds into the open alert: no second page.
	if _, err := e.client.Trigger(ctx, event("inc-1")); err != nil {
		t.Fatalf("second Trigger: %v", err)
	}
	a, _ := e.fake.Alert(routingKey, "inc-1")
	if a.Status != "triggered" || a.Triggers != 2 {
		t.Errorf("alert = %+v; want triggered with 2 triggers", a)
	}
	msgs := e.inbox.List(inbox.Filter{Incident: "inc-1"})
	if len(msgs) != 1 {
		t.Fatalf("inbox has %d messages for inc-1, want 1: %+v", len(msgs), msgs)
	}
	m := msgs[0]
	if m.Channel != "pagerduty" || m.Provider != "pagerduty" || m.To != routingKey || m.Text != "SEV1 checkout: 5xx above 5%" ||
		len(m.Links) != 1 || m.Links[0] != (inbox.Link{Label: "Acknowledge", URL: "https://sitrep.example/ack/inc-1"}) {
		t.Errorf("inbox message = %+v", m)
	}
	got := e.fake.ExpectTrigger(t, routingKey, "checkout")
	if got.Severity != "critical" || got.Source != "checkout" || got.Component != "api" || got.CustomDetails["incident"] != "inc-1" {
		t.Errorf("received trigger = %+v", got)
	}

	if err := e.client.Acknowledge(ctx, routingKey, "inc-1"); err != nil {
		t.Fatalf("Acknowledge: %v", err)
	}
	if a, _ := e.fake.Alert(routingKey, "inc-1"); a.Status != "acknowledged" {
		t.Errorf("after ack, status = %q", a.Status)
	}
	if err := e.client.Resolve(ctx, routingKey, "inc-1"); err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	e.fake.ExpectEvent(t, "resolve", "inc-1")
	if a, _ := e.fake.Alert(routingKey, "inc-1"); a.Status != "resolved" {
		t.Errorf("after resolve, status = %q", a.Status)
	}
	// Acknowledging or resolving an unknown or resolved alert is accepted and ignored.
	for _, f := range []func(context.Context, string, string) error{e.client.Acknowledge, e.client.Resolve} {
		if err := f(ctx, routingKey, "inc-unknown"); err != nil {
			t.Errorf("follow-up of an unknown key: %v", err)
		}
	}
	if err := e.client.Acknowledge(ctx, routingKey, "inc-1"); err != nil {
		t.Errorf("ack after resolve: %v", err)
	}
	if a, _ := e.fake.Alert(routingKey, "inc-1"); a.Status != "resolved" {
		t.Errorf("ack after resolve changed status to %q", a.Status)
	}
	if _, ok := e.fake.Alert(routingKey, "inc-unknown"); ok {
		t.Error("ack of an unknown key created an alert")
	}
	if r := e.rep.Messages(); len(r) != 0 {
		t.Errorf("fake reported %v", r)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		fault      fakeapi.Fault
		kind       integrations.Kind
		status     int
		retryAfter time.Duration
		message    string
	}{
		{"invalid event", pagerduty.InvalidEventFault("Length of 'routing_key' is incorrect (should be 32 characters)"),
			integrations.Permanent, 400, 0, "routing_key"},
		{"rate limited, ratelimit-reset", pagerduty.RateLimitFault(30 * time.Second), integrations.Transient, 429, 30 * time.Second, "too quickly"},
		{"rate limited, Retry-After", fakeapi.Fault{Status: 429, Body: `{}`, Header: map[string]string{"Retry-After": "7"}},
			integrations.Transient, 429, 7 * time.Second, ""},
		{"server error", pagerduty.ServerErrorFault(500), integrations.Transient, 500, 0, "Internal"},
		{"unavailable", pagerduty.ServerErrorFault(503), integrations.Transient, 503, 0, ""},
		{"html 502 from a proxy", fakeapi.Fault{Status: 502, Body: "<html>bad gateway</html>", Header: map[string]string{"Content-Type": "text/html"}},
			integrations.Transient, 502, 0, ""},
		{"request timeout", fakeapi.Fault{Status: 408, Body: `{}`}, integrations.Transient, 408, 0, ""},
		{"forbidden", fakeapi.Fault{Status: 403, Body: `{}`}, integrations.Permanent, 403, 0, ""},
		{"2xx with garbage", fakeapi.Fault{Status: 202, Body: "not json"}, integrations.Transient, 202, 0, "undecodable"},
		{"hang until timeout", fakeapi.Fault{Hang: true}, integrations.Transient, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, 200*time.Millisecond)
			e.fake.Faults.FailNext(tt.fault)
			_, err := e.client.Trigger(context.Background(), event("inc-2"))
			var pe *integrations.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v (%T), want *integrations.Error", err, err)
			}
			if pe.Provider != "pagerduty" || pe.Kind != tt.kind || pe.Status != tt.status || pe.RetryAfter != tt.retryAfter || !strings.Contains(pe.Message, tt.message) {
				t.Errorf("err = %+v; want kind %v status %d retryAfter %s message ~%q", pe, tt.kind, tt.status, tt.retryAfter, tt.message)
			}
			if len(e.fake.Received()) != 0 {
				t.Errorf("fake recorded an event behind a fault")
			}
		})
	}
}

func TestNetworkErrorIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c, err := pagerduty.New(pagerduty.Config{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Resolve(context.Background(), routingKey, "inc-3")
	var pe *integrations.Error
	if !errors.As(err, &pe) || pe.Kind != integrations.Transient || pe.Status != 0 {
		t.Fatalf("err = %v, want a transient error with no status", err)
	}
}

func TestLocalValidationIsPermanentAndSendsNothing(t *testing.T) {
	tests := []struct {
		name string
		edit func(*pagerduty.Event)
	}{
		{"short routing key", func(e *pagerduty.Event) { e.RoutingKey = "abc" }},
		{"no dedup key", func(e *pagerduty.Event) { e.DedupKey = "" }},
		{"long dedup key", func(e *pagerduty.Event) { e.DedupKey = strings.Repeat("x", 256) }},
		{"no summary", func(e *pagerduty.Event) { e.Summary = " " }},
		{"long summary", func(e *pagerduty.Event) { e.Summary = strings.Repeat("x", 1025) }},
		{"no source", func(e *pagerduty.Event) { e.Source = "" }},
		{"bad severity", func(e *pagerduty.Event) { e.Severity = "sev1" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, 0)
			ev := event("inc-4")
			tt.edit(&ev)
			_, err := e.client.Trigger(context.Background(), ev)
			var pe *integrations.Error
			if !errors.As(err, &pe) || pe.Kind != integrations.Permanent || pe.Code != "invalid_input" {
				t.Fatalf("err = %v, want permanent invalid_input", err)
			}
			if strings.Contains(err.Error(), routingKey) {
				t.Errorf("error %q shows the routing key", err)
			}
			if n := len(e.fake.Received()); n != 0 {
				t.Errorf("fake received %d events", n)
			}
		})
	}
}

func TestFakeValidatesLikePagerDuty(t *testing.T) {
	e := setup(t, 0)
	tests := []struct {
		name, body, want string
	}{
		{"short routing key", `{"routing_key":"abc","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"info"}}`, "routing_key"},
		{"long summary", `{"routing_key":"` + routingKey + `","event_action":"trigger","payload":{"summary":"` + strings.Repeat("s", 1025) + `","source":"x","severity":"info"}}`, "payload.summary"},
		{"long dedup key", `{"routing_key":"` + routingKey + `","event_action":"resolve","dedup_key":"` + strings.Repeat("d", 256) + `"}`, "dedup_key"},
		{"bad action", `{"routing_key":"` + routingKey + `","event_action":"snooze","dedup_key":"x"}`, "event_action"},
		{"bad severity", `{"routing_key":"` + routingKey + `","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"sev1"}}`, "payload.severity"},
		{"not json", `{`, "Malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(e.srv.URL+"/v2/enqueue", "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/json" ||
				!strings.Contains(string(b), `"status":"invalid event"`) || !strings.Contains(string(b), tt.want) {
				t.Errorf("got %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
			}
		})
	}
	// A trigger without a dedup key gets one generated, as PagerDuty does.
	resp, err := http.Post(e.srv.URL+"/v2/enqueue", "application/json",
		strings.NewReader(`{"routing_key":"`+routingKey+`","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"info"}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 || !strings.Contains(string(b), `"dedup_key":"fake`) {
		t.Errorf("trigger without dedup key: %d %s", resp.StatusCode, b)
	}
}

func TestFakeReportsUnexpectedRequests(t *testing.T) {
	e := setup(t, 0)
	for _, req := range []struct{ method, path string }{{"GET", "/v2/enqueue"}, {"POST", "/v2/change/enqueue"}} {
		r, _ := http.NewRequest(req.method, e.srv.URL+req.path, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s %s = %d, want 404", req.method, req.path, resp.StatusCode)
		}
	}
	if got := e.rep.Messages(); len(got) != 2 || !strings.Contains(got[0], "GET /v2/enqueue") || !strings.Contains(got[1], "POST /v2/change/enqueue") {
		t.Errorf("reports = %q", got)
	}
}

func TestWebhook(t *testing.T) {
	e := setup(t, 0)
	if _, err := e.client.Trigger(context.Background(), event("inc-5")); err != nil {
		t.Fatal(err)
	}
	const oldSecret, newSecret integrations.Secret = "old-secret", "new-secret"
	type result struct {
		id    string
		err   error
		event pagerduty.WebhookEvent
	}
	results := make(chan result, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := result{id: r.Header.Get("X-Webhook-Id")}
		if res.err = pagerduty.VerifyWebhook(r, oldSecret, newSecret); res.err == nil {
			body, _ := io.ReadAll(r.Body)
			res.event, res.err = pagerduty.ParseWebhook(body)
		}
		results <- res
		if res.err != nil {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer app.Close()

	tests := []struct {
		name    string
		secret  integrations.Secret
		status  int
		wantErr error
	}{
		{"current secret", newSecret, 202, nil},
		{"secret being rotated out", oldSecret, 202, nil},
		{"wrong secret", "guess", 403, pagerduty.ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.fake.SendWebhook(context.Background(), app.URL, tt.secret, "incident.acknowledged", "inc-5", "Alice")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			res := <-results
			if resp.StatusCode != tt.status || !errors.Is(res.err, tt.wantErr) {
				t.Fatalf("status %d err %v; want %d %v", resp.StatusCode, res.err, tt.status, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			ev := res.event
			if ev.ID == "" || ev.ID != res.id || ev.Type != "incident.acknowledged" || ev.IncidentKey != "inc-5" || ev.Agent != "Alice" ||
				time.Since(ev.OccurredAt) > time.Minute {
				t.Errorf("event = %+v (X-Webhook-Id %q)", ev, res.id)
			}
		})
	}
	if a, _ := e.fake.Alert(routingKey, "inc-5"); a.Status != "acknowledged" {
		t.Errorf("alert status after an ack webhook = %q", a.Status)
	}

	t.Run("missing header", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(`{"event":{}}`))
		if err := pagerduty.VerifyWebhook(r, newSecret); !errors.Is(err, pagerduty.ErrMalformedHeader) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("no secret configured", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(`{}`))
		r.Header.Set("X-PagerDuty-Signature", pagerduty.Sign([]byte(`{}`), ""))
		if err := pagerduty.VerifyWebhook(r, ""); !errors.Is(err, pagerduty.ErrNoSecret) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("parse rejects a body with no event", func(t *testing.T) {
		if _, err := pagerduty.ParseWebhook([]byte(`{"messages":[]}`)); err == nil {
			t.Error("no error")
		}
	})
}

func TestConfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    pagerduty.Config
		wantErr bool
	}{
		{"nothing set: enabled with defaults", nil, pagerduty.Config{}, false},
		{"url and secret", map[string]string{"PAGERDUTY_EVENTS_URL": "http://fake", "PAGERDUTY_WEBHOOK_SECRET": "s"},
			pagerduty.Config{BaseURL: "http://fake", WebhookSecret: "s"}, false},
		{"secret file", map[string]string{"PAGERDUTY_WEBHOOK_SECRET_FILE": file}, pagerduty.Config{WebhookSecret: "from-file"}, false},
		{"both set", map[string]string{"PAGERDUTY_WEBHOOK_SECRET": "s", "PAGERDUTY_WEBHOOK_SECRET_FILE": file}, pagerduty.Config{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ok, err := pagerduty.ConfigFromEnv(func(k string) string { return tt.env[k] })
			if !ok || (err != nil) != tt.wantErr {
				t.Fatalf("ok %v err %v", ok, err)
			}
			if !tt.wantErr && (cfg.BaseURL != tt.want.BaseURL || cfg.WebhookSecret != tt.want.WebhookSecret) {
				t.Errorf("cfg = %+v, want %+v", cfg, tt.want)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []pagerduty.Config{{BaseURL: "events.pagerduty.com"}, {BaseURL: "ftp://x"}, {Timeout: -time.Second}} {
		if _, err := pagerduty.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	if _, err := pagerduty.New(pagerduty.Config{}); err != nil {
		t.Errorf("New with defaults: %v", err)
	}
}
