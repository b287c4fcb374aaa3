package twilio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

const (
	testSID   = "AC123"
	testToken = "tok123"
	testFrom  = "+15550001111"
	testTo    = "+15557654321"
)

var incidentMarker = regexp.MustCompile(`inc-[a-z0-9-]+-[0-9a-f]{8}`)

type env struct {
	fake   *Fake
	inbox  *inbox.Inbox
	rep    *fakeapi.RecordingReporter
	server *httptest.Server
	client *Client
}

func newEnv(t *testing.T, mod func(*Config)) *env {
	t.Helper()
	e := &env{inbox: inbox.New(), rep: &fakeapi.RecordingReporter{}}
	e.fake = NewFake(FakeOptions{
		Reporter: e.rep, Inbox: e.inbox, AccountSID: testSID, AuthToken: testToken,
		IncidentOf: func(text string) string { return incidentMarker.FindString(text) },
	})
	mux := http.NewServeMux()
	e.fake.Register(mux)
	e.server = httptest.NewServer(mux)
	t.Cleanup(e.server.Close)
	cfg := Config{AccountSID: testSID, AuthToken: testToken, From: testFrom, BaseURL: e.server.URL}
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

func TestSendSMS(t *testing.T) {
	e := newEnv(t, nil)
	body := "SEV1 inc-api-0badc0de: API 5xx. Ack: https://sitrep.example/ack/abc. Reply 4 to ack."
	sid, err := e.client.SendSMS(t.Context(), testTo, body)
	if err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if !strings.HasPrefix(sid, "SM") || len(sid) != 34 {
		t.Errorf("sid = %q, want SM + 32 hex", sid)
	}
	d := e.fake.ExpectSMS(t, testTo, "API 5xx")
	if d.SID != sid || d.From != testFrom {
		t.Errorf("fake got %+v", d)
	}
	msgs := e.inbox.List(inbox.Filter{Channel: "sms"})
	if len(msgs) != 1 {
		t.Fatalf("inbox: %d sms, want 1", len(msgs))
	}
	m := msgs[0]
	if m.To != testTo || m.From != testFrom || m.Text != body || m.Incident != "inc-api-0badc0de" || m.ProviderID != sid {
		t.Errorf("inbox message = %+v", m)
	}
	if len(m.Links) != 1 || m.Links[0].URL != "https://sitrep.example/ack/abc" {
		t.Errorf("inbox links = %+v", m.Links)
	}
	if got := e.rep.Messages(); len(got) != 0 {
		t.Errorf("unexpected requests: %v", got)
	}
}

func TestCall(t *testing.T) {
	e := newEnv(t, nil)
	tw, err := PageTwiML("Sev 1 incident inc-db-12345678: database down.", "https://sitrep.example/twilio/voice?page=p1")
	if err != nil {
		t.Fatalf("PageTwiML: %v", err)
	}
	sid, err := e.client.Call(t.Context(), testTo, tw)
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	if !strings.HasPrefix(sid, "CA") {
		t.Errorf("sid = %q, want CA…", sid)
	}
	d := e.fake.ExpectCall(t, testTo, "database down")
	if d.TwiML != tw {
		t.Errorf("fake got twiml %q, want %q", d.TwiML, tw)
	}
	m := e.inbox.List(inbox.Filter{Channel: "voice"})[0]
	want := "Sev 1 incident inc-db-12345678: database down. " + PagePrompt + " No key pressed. Goodbye."
	if m.Text != want || m.Incident != "inc-db-12345678" || m.ProviderID != sid {
		t.Errorf("inbox message = %+v\nwant text %q", m, want)
	}
	if len(m.Links) != 1 || m.Links[0].URL != "https://sitrep.example/twilio/voice?page=p1" {
		t.Errorf("inbox links = %+v", m.Links)
	}
}

func TestPageTwiML(t *testing.T) {
	tw, err := PageTwiML("Disk <full> & slow", "https://a.example/g?x=1&y=2")
	if err != nil {
		t.Fatalf("PageTwiML: %v", err)
	}
	for _, want := range []string{
		`<?xml version="1.0" encoding="UTF-8"?>`,
		`<Say>Disk &lt;full&gt; &amp; slow</Say>`,
		`numDigits="1"`, `method="POST"`, `action="https://a.example/g?x=1&amp;y=2"`,
		`<Hangup/>`,
	} {
		if !strings.Contains(tw, want) {
			t.Errorf("twiml lacks %s:\n%s", want, tw)
		}
	}
	if n := strings.Count(tw, "<Gather "); n != 2 {
		t.Errorf("twiml has %d Gathers, want 2 (one repeat with no key)", n)
	}
	say, actions, err := readTwiML(tw)
	if err != nil || len(say) != 3 || say[0] != "Disk <full> & slow" || len(actions) != 1 || actions[0] != "https://a.example/g?x=1&y=2" {
		t.Errorf("readTwiML = %q %q %v", say, actions, err)
	}
	for _, bad := range []struct{ say, action string }{{"", "https://a.example/"}, {"hi", "/relative"}, {"hi", "ftp://x/"}} {
		if _, err := PageTwiML(bad.say, bad.action); err == nil {
			t.Errorf("PageTwiML(%q, %q) gave no error", bad.say, bad.action)
		}
	}
}

func TestErrors(t *testing.T) {
	longBody := strings.Repeat("x", 1601)
	tests := []struct {
		name       string
		fault      *fakeapi.Fault
		config     func(*Config)
		to, body   string
		call       bool
		kind       integrations.Kind
		status     int
		code       string
		retryAfter time.Duration
	}{
		{name: "invalid number from fake", to: "5551234", kind: integrations.Permanent, status: 400, code: "21211"},
		{name: "body too long from fake", body: longBody, kind: integrations.Permanent, status: 400, code: "21617"},
		{name: "call to invalid number from fake", to: "12", call: true, kind: integrations.Permanent, status: 400, code: "21217"},
		{name: "wrong credentials", config: func(c *Config) { c.AuthToken = "wrong" }, kind: integrations.Permanent, status: 401, code: "20003"},
		{name: "429 with Retry-After", fault: ptr(RateLimitFault(7 * time.Second)), kind: integrations.Transient, status: 429, code: "20429", retryAfter: 7 * time.Second},
		{name: "429 without Retry-After", fault: ptr(ErrorFault(20429)), kind: integrations.Transient, status: 429, code: "20429"},
		{name: "500", fault: ptr(ErrorFault(20500)), kind: integrations.Transient, status: 500, code: "20500"},
		{name: "503 on a call", fault: ptr(ErrorFault(20503)), call: true, kind: integrations.Transient, status: 503, code: "20503"},
		{name: "non-JSON 502 from a proxy", fault: ptr(ProxyErrorFault(502)), kind: integrations.Transient, status: 502},
		{name: "non-JSON 429 from a proxy", fault: &fakeapi.Fault{Status: 429, Body: "slow down", Header: map[string]string{"Retry-After": "3", "Content-Type": "text/plain"}}, kind: integrations.Transient, status: 429, retryAfter: 3 * time.Second},
		{name: "JSON 502 without status", fault: &fakeapi.Fault{Status: 502, Body: `{}`}, kind: integrations.Transient, status: 502},
		{name: "timeout", fault: &fakeapi.Fault{Hang: true}, config: func(c *Config) { c.Timeout = 50 * time.Millisecond }, kind: integrations.Transient},
		{name: "unknown 4xx code", fault: &fakeapi.Fault{Status: 400, Body: errorBody(400, 21999, "new error")}, kind: integrations.Permanent, status: 400, code: "21999"},
	}
	for _, code := range []int{21211, 21610, 21612, 21614, 21606, 21608, 21408, 21617, 21217, 21215, 21216, 20003, 20404} {
		tests = append(tests, struct {
			name       string
			fault      *fakeapi.Fault
			config     func(*Config)
			to, body   string
			call       bool
			kind       integrations.Kind
			status     int
			code       string
			retryAfter time.Duration
		}{name: fmt.Sprintf("code %d", code), fault: ptr(ErrorFault(code)), kind: integrations.Permanent, status: ErrorFault(code).Status, code: fmt.Sprint(code)})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.config)
			if tt.fault != nil {
				e.fake.Faults.FailNext(*tt.fault)
			}
			to, body := testTo, "hello"
			if tt.to != "" {
				to = tt.to
			}
			if tt.body != "" {
				body = tt.body
			}
			var err error
			if tt.call {
				_, err = e.client.Call(t.Context(), to, "<Response><Say>hi</Say></Response>")
			} else {
				_, err = e.client.SendSMS(t.Context(), to, body)
			}
			var ie *integrations.Error
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *integrations.Error", err)
			}
			if ie.Provider != "twilio" || ie.Kind != tt.kind || ie.Status != tt.status || ie.Code != tt.code || ie.RetryAfter != tt.retryAfter {
				t.Errorf("err = %+v, want kind %v status %d code %q retryAfter %v", ie, tt.kind, tt.status, tt.code, tt.retryAfter)
			}
			if strings.Contains(err.Error(), "tok123") || strings.Contains(err.Error(), "wrong") {
				t.Errorf("error shows the token: %v", err)
			}
			if len(e.fake.Received()) != 0 {
				t.Errorf("fake recorded a failed send: %+v", e.fake.Received())
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestClassifyLocalCredentialErrors(t *testing.T) {
	// twilio-go refuses non-alphanumeric credentials before any request; New
	// refuses them too, so these come only from the SDK itself.
	for _, code := range []int{21222, 21224} {
		err := classify(&twclient.TwilioRestError{Status: 400, Code: code, Message: "Illegal chars"}, 0, nil, time.Now())
		if err.Kind != integrations.Permanent || err.Code != fmt.Sprint(code) || err.Status != 400 {
			t.Errorf("code %d: %+v", code, err)
		}
	}
}

func TestRetryAfterDate(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}
	if got := retryAfter(h, now); got != 90*time.Second {
		t.Errorf("retryAfter = %v, want 90s", got)
	}
}

func TestCancelledContext(t *testing.T) {
	e := newEnv(t, nil)
	arrived := make(chan struct{}, 1)
	mux := http.NewServeMux()
	e.fake.Register(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, err := New(Config{AccountSID: testSID, AuthToken: testToken, From: testFrom, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Faults.FailNext(fakeapi.Fault{Hang: true})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived // cancel once the fake holds the request
		cancel()
	}()
	start := time.Now()
	_, err = c.SendSMS(ctx, testTo, "hi")
	var ie *integrations.Error
	if !errors.As(err, &ie) || ie.Kind != integrations.Transient || !strings.Contains(ie.Message, "context canceled") {
		t.Fatalf("err = %v, want transient context canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("SendSMS took %v after cancel", d)
	}
}

func TestOptOut(t *testing.T) {
	e := newEnv(t, nil)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer app.Close()
	if _, err := e.client.SendSMS(t.Context(), testTo, "page 1"); err != nil {
		t.Fatal(err)
	}
	resp, err := e.fake.SendInboundSMS(t.Context(), app.URL, testTo, " stop ")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, err = e.client.SendSMS(t.Context(), testTo, "page 2")
	var ie *integrations.Error
	if !errors.As(err, &ie) || ie.Code != "21610" || !ie.Permanent() {
		t.Fatalf("after STOP: err = %v, want permanent 21610", err)
	}
	resp, err = e.fake.SendInboundSMS(t.Context(), app.URL, testTo, "START")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := e.client.SendSMS(t.Context(), testTo, "page 3"); err != nil {
		t.Fatalf("after START: %v", err)
	}
}

func TestInboundWebhooks(t *testing.T) {
	e := newEnv(t, nil)
	type hit struct {
		form  url.Values
		valid bool
	}
	hits := make(chan hit, 2)
	var appURL string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("parse form: %v", err)
		}
		hits <- hit{r.PostForm, VerifySignature(testToken, appURL+r.URL.RequestURI(), r.PostForm, r.Header.Get(SignatureHeader))}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte("<Response/>"))
	}))
	defer app.Close()
	appURL = app.URL

	if _, err := e.client.SendSMS(t.Context(), testTo, "page"); err != nil {
		t.Fatal(err)
	}
	resp, err := e.fake.SendInboundSMS(t.Context(), app.URL+"/twilio/sms?x=1", testTo, "4")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := <-hits
	if !h.valid || h.form.Get("From") != testTo || h.form.Get("To") != testFrom || h.form.Get("Body") != "4" || !strings.HasPrefix(h.form.Get("MessageSid"), "SM") || h.form.Get("AccountSid") != testSID {
		t.Errorf("inbound sms: valid=%v form=%v", h.valid, h.form)
	}

	tw, _ := PageTwiML("page", app.URL+"/twilio/voice")
	sid, err := e.client.Call(t.Context(), testTo, tw)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = e.fake.PressDigits(t.Context(), app.URL+"/twilio/voice", sid, testTo, "*")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h = <-hits
	if !h.valid || h.form.Get("CallSid") != sid || h.form.Get("Digits") != "*" || h.form.Get("To") != testTo || h.form.Get("From") != testFrom {
		t.Errorf("gather: valid=%v form=%v", h.valid, h.form)
	}
}

func TestSignature(t *testing.T) {
	// The vector of twilio-go's own request_validator_test.go.
	form := url.Values{
		"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"}, "Caller": {"+14158675309"},
		"From": {"+14158675309"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"},
	}
	const u, want = "https://mycompany.com/myapp.php?foo=1&bar=2", "vOEb5UThFn24KEfnOFLQY2AE5FY="
	if got := Sign("12345", u, form); got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
	tests := []struct {
		name  string
		token integrations.Secret
		url   string
		sig   string
		want  bool
	}{
		{"valid", "12345", u, want, true},
		{"explicit default port", "12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", want, true},
		{"wrong token", "54321", u, want, false},
		{"other url", "12345", "https://mycompany.com/other", want, false},
		{"empty signature", "12345", u, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifySignature(tt.token, tt.url, form, tt.sig); got != tt.want {
				t.Errorf("VerifySignature = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVerifySignatureAny(t *testing.T) {
	form := url.Values{"Body": {"4"}, "From": {"+15550100001"}}
	const u = "https://sitrep.example.com/v1/twilio/sms"
	newSig, oldSig := Sign("new-token", u, form), Sign("old-token", u, form)
	tests := []struct {
		name   string
		tokens []integrations.Secret
		sig    string
		want   bool
	}{
		{"signed with the first", []integrations.Secret{"new-token", "old-token"}, newSig, true},
		{"signed with the second, while rotating", []integrations.Secret{"new-token", "old-token"}, oldSig, true},
		{"signed with one rotated out", []integrations.Secret{"new-token"}, oldSig, false},
		{"an empty token never verifies", []integrations.Secret{""}, Sign("", u, form), false},
		{"no tokens", nil, newSig, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifySignatureAny(tt.tokens, u, form, tt.sig); got != tt.want {
				t.Errorf("VerifySignatureAny = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFakeFetchAndUnexpected(t *testing.T) {
	e := newEnv(t, nil)
	sid, err := e.client.SendSMS(t.Context(), testTo, "hi")
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.server.URL+path, nil)
		req.SetBasicAuth(testSID, testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get("/2010-04-01/Accounts/AC123/Messages/" + sid + ".json"); s != 200 {
		t.Errorf("fetch message: %d", s)
	}
	if s := get("/2010-04-01/Accounts/AC123/Calls/CAnope.json"); s != 404 {
		t.Errorf("fetch unknown call: %d", s)
	}
	if got := e.rep.Messages(); len(got) != 0 {
		t.Errorf("reported %v", got)
	}
	if s := get("/2010-04-01/Accounts/AC123/Usage/Records.json"); s != 404 {
		t.Errorf("unexpected path: %d", s)
	}
	if got := e.rep.Messages(); len(got) != 1 || !strings.Contains(got[0], "GET /2010-04-01/Accounts/AC123/Usage/Records.json") {
		t.Errorf("reporter got %v", got)
	}
}

func TestEnvVarsIgnoredBySDK(t *testing.T) {
	t.Setenv("TWILIO_ACCOUNT_SID", "ACfromenv")
	t.Setenv("TWILIO_AUTH_TOKEN", "tokfromenv")
	t.Setenv("TWILIO_EDGE", "sydney")
	t.Setenv("TWILIO_REGION", "au1")
	if _, err := New(Config{From: testFrom}); err == nil {
		t.Error("New accepted empty credentials")
	}
	e := newEnv(t, nil) // requests must still reach the fake, not api.sydney.au1.twilio.com
	if _, err := e.client.SendSMS(t.Context(), testTo, "hi"); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
}

func TestConcurrentSends(t *testing.T) {
	e := newEnv(t, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := e.client.SendSMS(t.Context(), testTo, fmt.Sprint("n", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(e.fake.Received()); n != 8 {
		t.Errorf("fake got %d, want 8", n)
	}
}

func TestNewValidation(t *testing.T) {
	good := Config{AccountSID: testSID, AuthToken: testToken, From: testFrom}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"no sid", func(c *Config) { c.AccountSID = "" }},
		{"no token", func(c *Config) { c.AuthToken = "" }},
		{"token with symbols", func(c *Config) { c.AuthToken = "a-b" }},
		{"from not E.164", func(c *Config) { c.From = "5551234" }},
		{"bad base url", func(c *Config) { c.BaseURL = "api.twilio.com" }},
		{"negative timeout", func(c *Config) { c.Timeout = -1 }},
	}
	if _, err := New(good); err != nil {
		t.Fatalf("good config: %v", err)
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
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("filetoken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		ok      bool
		wantErr bool
		token   string
	}{
		{name: "unset", env: nil, ok: false},
		{name: "all set", env: map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t1", "TWILIO_FROM": testFrom}, ok: true, token: "t1"},
		{name: "token file", env: map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN_FILE": tokenFile, "TWILIO_FROM": testFrom}, ok: true, token: "filetoken"},
		{name: "token and file", env: map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t1", "TWILIO_AUTH_TOKEN_FILE": tokenFile, "TWILIO_FROM": testFrom}, ok: true, wantErr: true},
		{name: "missing file", env: map[string]string{"TWILIO_AUTH_TOKEN_FILE": filepath.Join(dir, "nope")}, ok: true, wantErr: true},
		{name: "partial", env: map[string]string{"TWILIO_ACCOUNT_SID": "AC1"}, ok: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ok, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if ok != tt.ok || (err != nil) != tt.wantErr {
				t.Fatalf("ok=%v err=%v, want ok=%v wantErr=%v", ok, err, tt.ok, tt.wantErr)
			}
			if tt.token != "" && cfg.AuthToken.Reveal() != tt.token {
				t.Errorf("token = %q, want %q", cfg.AuthToken.Reveal(), tt.token)
			}
		})
	}
}

func TestSecretRedacted(t *testing.T) {
	cfg := Config{AccountSID: testSID, AuthToken: "supersecret", From: testFrom}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "token", cfg.AuthToken, "cfg", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v %#v", cfg, cfg), buf.String()} {
		if strings.Contains(s, "supersecret") {
			t.Errorf("secret shown: %s", s)
		}
	}
}
