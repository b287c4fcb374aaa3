package sendgrid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

const (
	testKey  = "SG.test.key"
	testFrom = "pager@sitrep.example"
)

type env struct {
	fake   *Fake
	inbox  *inbox.Inbox
	rep    *fakeapi.RecordingReporter
	server *httptest.Server
	client *Client
}

func newEnv(t *testing.T, fo FakeOptions, mod func(*Config)) *env {
	t.Helper()
	e := &env{inbox: inbox.New(), rep: &fakeapi.RecordingReporter{}}
	fo.Reporter, fo.Inbox, fo.APIKey = e.rep, e.inbox, testKey
	e.fake = NewFake(fo)
	mux := http.NewServeMux()
	e.fake.Register(mux)
	e.server = httptest.NewServer(mux)
	t.Cleanup(e.server.Close)
	cfg := Config{APIKey: testKey, From: testFrom, FromName: "sitrep", BaseURL: e.server.URL}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.client = c
	return e
}

func page() integrations.Email {
	return integrations.Email{
		To:         []string{"alice@example.com", "bob@example.com"},
		Subject:    "[SEV1] inc-api-0badc0de: API 5xx",
		Text:       "The API returns 5xx.\nAcknowledge: https://sitrep.example/ack/abc.\n",
		HTML:       `<p>The API returns 5xx.</p><p><a href="https://sitrep.example/ack/abc">Acknowledge</a></p>`,
		IncidentID: "inc-api-0badc0de",
		Attachments: []integrations.Attachment{{
			Filename: "postmortem.ics", ContentType: "text/calendar; method=REQUEST; charset=utf-8",
			Content: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
		}},
	}
}

func TestSend(t *testing.T) {
	e := newEnv(t, FakeOptions{}, nil)
	id, err := e.client.Send(t.Context(), page())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if id == "" {
		t.Error("no message id")
	}
	m := e.fake.ExpectEmail(t, "bob@example.com", "API returns 5xx")
	if m.MessageID != id || m.From != testFrom || m.FromName != "sitrep" || m.CustomArgs["incident_id"] != "inc-api-0badc0de" {
		t.Errorf("fake got %+v", m)
	}
	if len(m.Attachments) != 1 || string(m.Attachments[0].Content) != "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n" || m.Attachments[0].ContentType != "text/calendar; method=REQUEST; charset=utf-8" {
		t.Errorf("attachments = %+v", m.Attachments)
	}
	var body map[string]any
	if err := json.Unmarshal(m.Raw, &body); err != nil {
		t.Fatal(err)
	}
	if c := body["content"].([]any); c[0].(map[string]any)["type"] != "text/plain" || c[1].(map[string]any)["type"] != "text/html" {
		t.Errorf("content = %v", c)
	}
	// The ack link must reach the reader as sent: no click-tracking
	// redirect through SendGrid (which would log the token), no open pixel.
	var tracking struct {
		TrackingSettings struct {
			ClickTracking *struct {
				Enable     *bool `json:"enable"`
				EnableText *bool `json:"enable_text"`
			} `json:"click_tracking"`
			OpenTracking *struct {
				Enable *bool `json:"enable"`
			} `json:"open_tracking"`
		} `json:"tracking_settings"`
	}
	if err := json.Unmarshal(m.Raw, &tracking); err != nil {
		t.Fatal(err)
	}
	ts := tracking.TrackingSettings
	if ts.ClickTracking == nil || ts.ClickTracking.Enable == nil || *ts.ClickTracking.Enable ||
		ts.ClickTracking.EnableText == nil || *ts.ClickTracking.EnableText ||
		ts.OpenTracking == nil || ts.OpenTracking.Enable == nil || *ts.OpenTracking.Enable {
		t.Errorf("tracking_settings in %s: want click (html and text) and open tracking off", m.Raw)
	}
	msgs := e.inbox.List(inbox.Filter{Incident: "inc-api-0badc0de", Channel: "email"})
	if len(msgs) != 2 {
		t.Fatalf("inbox has %d emails, want 2 (one per recipient)", len(msgs))
	}
	for _, im := range msgs {
		if im.Subject != page().Subject || im.Text != page().Text || im.ProviderID != id || im.From != testFrom || im.Provider != "sendgrid" {
			t.Errorf("inbox message = %+v", im)
		}
		if len(im.Links) != 1 || im.Links[0].URL != "https://sitrep.example/ack/abc" {
			t.Errorf("inbox links = %+v", im.Links)
		}
	}
	if got := e.rep.Messages(); len(got) != 0 {
		t.Errorf("unexpected requests: %v", got)
	}
}

func TestSendHTMLOnly(t *testing.T) {
	e := newEnv(t, FakeOptions{}, nil)
	em := integrations.Email{To: []string{"a@example.com"}, Subject: "s", HTML: `<p>Ack <a href="https://x.example/a?i=1&amp;t=2">here</a> &amp; now</p>`}
	if _, err := e.client.Send(t.Context(), em); err != nil {
		t.Fatal(err)
	}
	im := e.inbox.List(inbox.Filter{})[0]
	if im.Text != "Ack here & now" || len(im.Links) != 1 || im.Links[0].URL != "https://x.example/a?i=1&t=2" {
		t.Errorf("inbox message = %+v", im)
	}
}

func TestErrors(t *testing.T) {
	inHalfMinute := time.Now().Add(30 * time.Second)
	tests := []struct {
		name      string
		fake      FakeOptions
		fault     *fakeapi.Fault
		config    func(*Config)
		email     func(*integrations.Email)
		kind      integrations.Kind
		status    int
		message   string
		minRetry  time.Duration
		maxRetry  time.Duration
		noRequest bool
	}{
		{name: "invalid email, refused locally", email: func(e *integrations.Email) { e.Subject = "" }, kind: integrations.Permanent, message: "empty subject", noRequest: true},
		{name: "400 with field", fault: ptr(ErrorFault(400, "subject", "The subject is required.")), kind: integrations.Permanent, status: 400, message: "subject: The subject is required."},
		{name: "wrong key", config: func(c *Config) { c.APIKey = "SG.wrong" }, kind: integrations.Permanent, status: 401, message: "authorization grant is invalid"},
		{name: "unverified sender", fake: FakeOptions{VerifiedSenders: []string{"other@sitrep.example"}}, kind: integrations.Permanent, status: 403, message: "from: The from address does not match"},
		{name: "payload too large", fake: FakeOptions{MaxBytes: 100}, kind: integrations.Permanent, status: 413, message: "too large"},
		{name: "404", fault: ptr(ErrorFault(404, "", "not found")), kind: integrations.Permanent, status: 404},
		{name: "429 with X-RateLimit-Reset", fault: ptr(RateLimitFault(inHalfMinute)), kind: integrations.Transient, status: 429, message: "too many requests", minRetry: 25 * time.Second, maxRetry: 31 * time.Second},
		{name: "429 with past reset", fault: ptr(RateLimitFault(time.Now().Add(-time.Minute))), kind: integrations.Transient, status: 429},
		{name: "500", fault: ptr(ErrorFault(500, "", "internal error")), kind: integrations.Transient, status: 500, message: "internal error"},
		{name: "503", fault: ptr(ErrorFault(503, "", "unavailable")), kind: integrations.Transient, status: 503},
		{name: "non-JSON 502 from a proxy", fault: ptr(ProxyErrorFault(502)), kind: integrations.Transient, status: 502, message: "502 Bad Gateway"},
		{name: "timeout", fault: &fakeapi.Fault{Hang: true}, config: func(c *Config) { c.Timeout = 50 * time.Millisecond }, kind: integrations.Transient, message: "context deadline exceeded"},
		{name: "connection refused", config: func(c *Config) { c.BaseURL = "http://127.0.0.1:1" }, kind: integrations.Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.fake, tt.config)
			if tt.fault != nil {
				e.fake.Faults.FailNext(*tt.fault)
			}
			em := page()
			if tt.email != nil {
				tt.email(&em)
			}
			_, err := e.client.Send(t.Context(), em)
			var ie *integrations.Error
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *integrations.Error", err)
			}
			if ie.Provider != "sendgrid" || ie.Kind != tt.kind || ie.Status != tt.status || !strings.Contains(ie.Message, tt.message) {
				t.Errorf("err = %+v, want kind %v status %d message ~%q", ie, tt.kind, tt.status, tt.message)
			}
			if ie.RetryAfter < tt.minRetry || (tt.maxRetry > 0 && ie.RetryAfter > tt.maxRetry) || (tt.maxRetry == 0 && ie.RetryAfter != 0) {
				t.Errorf("RetryAfter = %v, want in [%v, %v]", ie.RetryAfter, tt.minRetry, tt.maxRetry)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error shows the key: %v", err)
			}
			if len(e.fake.Received()) != 0 {
				t.Errorf("fake recorded a failed send")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestFakeValidation(t *testing.T) {
	// Bodies the SDK would not build from a valid Email, posted directly.
	e := newEnv(t, FakeOptions{}, nil)
	tests := []struct {
		name, body, field string
	}{
		{"no from", `{"personalizations":[{"to":[{"email":"a@x.com"}]}],"subject":"s","content":[{"type":"text/plain","value":"v"}]}`, "from.email"},
		{"no personalizations", `{"from":{"email":"p@x.com"},"subject":"s","content":[{"type":"text/plain","value":"v"}]}`, "personalizations"},
		{"no subject", `{"from":{"email":"p@x.com"},"personalizations":[{"to":[{"email":"a@x.com"}]}],"content":[{"type":"text/plain","value":"v"}]}`, "subject"},
		{"html before text", `{"from":{"email":"p@x.com"},"personalizations":[{"to":[{"email":"a@x.com"}]}],"subject":"s","content":[{"type":"text/html","value":"h"},{"type":"text/plain","value":"v"}]}`, "content"},
		{"attachment not base64", `{"from":{"email":"p@x.com"},"personalizations":[{"to":[{"email":"a@x.com"}]}],"subject":"s","content":[{"type":"text/plain","value":"v"}],"attachments":[{"content":"!!","filename":"a.ics"}]}`, "attachments.0.content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.server.URL+"/v3/mail/send", strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+testKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b struct {
				Errors []struct{ Field string } `json:"errors"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&b)
			if resp.StatusCode != 400 || len(b.Errors) == 0 || b.Errors[0].Field != tt.field {
				t.Errorf("status %d errors %+v, want 400 on %s", resp.StatusCode, b.Errors, tt.field)
			}
		})
	}
}

func TestUnexpected(t *testing.T) {
	e := newEnv(t, FakeOptions{}, nil)
	resp, err := http.Get(e.server.URL + "/v3/templates")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := e.rep.Messages(); resp.StatusCode != 404 || len(got) != 1 || !strings.Contains(got[0], "GET /v3/templates") {
		t.Errorf("status %d, reporter %v", resp.StatusCode, got)
	}
}

func TestConcurrentSends(t *testing.T) {
	e := newEnv(t, FakeOptions{}, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			em := page()
			em.Subject = fmt.Sprint("n", i)
			if _, err := e.client.Send(t.Context(), em); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, m := range e.fake.Received() {
		seen[m.Subject] = true
	}
	if len(seen) != 8 {
		t.Errorf("fake got %d distinct subjects, want 8", len(seen))
	}
}

func TestNewValidation(t *testing.T) {
	good := Config{APIKey: testKey, From: testFrom}
	if _, err := New(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"no key", func(c *Config) { c.APIKey = "" }},
		{"no from", func(c *Config) { c.From = "" }},
		{"from with name", func(c *Config) { c.From = "Pager <p@x.com>" }},
		{"bad base url", func(c *Config) { c.BaseURL = "api.sendgrid.com" }},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mod(&cfg)
			if _, err := New(cfg); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("  SG.file  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		ok      bool
		wantErr bool
		key     string
	}{
		{name: "unset", ok: false},
		{name: "all set", env: map[string]string{"SENDGRID_API_KEY": "SG.k", "SENDGRID_FROM": testFrom, "SENDGRID_BASE_URL": "http://localhost:8025"}, ok: true, key: "SG.k"},
		{name: "key file", env: map[string]string{"SENDGRID_API_KEY_FILE": keyFile, "SENDGRID_FROM": testFrom}, ok: true, key: "SG.file"},
		{name: "key and file", env: map[string]string{"SENDGRID_API_KEY": "SG.k", "SENDGRID_API_KEY_FILE": keyFile, "SENDGRID_FROM": testFrom}, ok: true, wantErr: true},
		{name: "no from", env: map[string]string{"SENDGRID_API_KEY": "SG.k"}, ok: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ok, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if ok != tt.ok || (err != nil) != tt.wantErr {
				t.Fatalf("ok=%v err=%v, want ok=%v wantErr=%v", ok, err, tt.ok, tt.wantErr)
			}
			if tt.key != "" && cfg.APIKey.Reveal() != tt.key {
				t.Errorf("key = %q, want %q", cfg.APIKey.Reveal(), tt.key)
			}
		})
	}
}

func TestSecretRedacted(t *testing.T) {
	cfg := Config{APIKey: "SG.supersecret", From: testFrom}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%v %+v %#v", cfg, cfg, cfg)
	if strings.Contains(buf.String(), "supersecret") {
		t.Errorf("secret shown: %s", buf.String())
	}
}
