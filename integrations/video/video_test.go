package video

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
)

const (
	testAccount = "acct-1"
	testClient  = "client-1"
	testSecret  = "zoom-secret-123"
)

type env struct {
	fake   *Fake
	client *Client
	srv    *httptest.Server
}

func setup(t *testing.T, rep fakeapi.Reporter, edit func(*Config)) env {
	t.Helper()
	if rep == nil {
		rep = t
	}
	fake := NewFake(FakeOptions{Reporter: rep, AccountID: testAccount, ClientID: testClient, ClientSecret: testSecret})
	mux := http.NewServeMux()
	fake.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := Config{AccountID: testAccount, ClientID: testClient, ClientSecret: testSecret, BaseURL: srv.URL, TokenURL: srv.URL + "/oauth/token", HTTPClient: srv.Client()}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return env{fake: fake, client: c, srv: srv}
}

func asError(t *testing.T, err error) *integrations.Error {
	t.Helper()
	var e *integrations.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *integrations.Error", err, err)
	}
	return e
}

func tokenRequests(f *Fake) (n int) {
	for _, r := range f.Received() {
		if r.Path == "/oauth/token" {
			n++
		}
	}
	return n
}

func meetingPosts(f *Fake) (n int) {
	for _, r := range f.Received() {
		if r.Method == http.MethodPost && r.Meeting != nil && r.Status == http.StatusCreated {
			n++
		}
	}
	return n
}

func TestZoomLink(t *testing.T) {
	e := setup(t, nil, nil)
	var b Bridge = e.client
	ctx := context.Background()
	link, err := b.Link(ctx, "inc-42", "SEV1: checkout down")
	if err != nil {
		t.Fatalf("Link: %v", err)
	}
	m := e.fake.ExpectMeeting(t, "inc-42")
	if link != m.JoinURL || !strings.HasPrefix(link, "https://zoom.us/j/") {
		t.Errorf("link = %q, meeting join URL %q", link, m.JoinURL)
	}
	if m.Topic != "SEV1: checkout down" || m.Type != 2 || !m.Settings.JoinBeforeHost || m.Settings.WaitingRoom || m.UserID != "me" {
		t.Errorf("meeting = %+v", m)
	}
	again, err := b.Link(ctx, "inc-42", "SEV1: checkout down")
	if err != nil || again != link {
		t.Errorf("second Link = %q, %v; want %q", again, err, link)
	}
	other, err := b.Link(ctx, "inc-43", strings.Repeat("x", 300))
	if err != nil || other == link {
		t.Errorf("Link for another incident = %q, %v", other, err)
	}
	if n := meetingPosts(e.fake); n != 2 {
		t.Errorf("%d meetings created, want 2", n)
	}
	if n := tokenRequests(e.fake); n != 1 {
		t.Errorf("%d token requests, want 1 (cached)", n)
	}
	if got := e.fake.ExpectMeeting(t, "inc-43").Topic; len(got) != maxTopic {
		t.Errorf("long topic kept %d characters, want %d", len(got), maxTopic)
	}
	r := e.fake.Received()[0]
	if r.GrantType != "account_credentials" || r.AccountID != testAccount {
		t.Errorf("token request = %+v", r)
	}
}

func TestZoomRefreshesAnInvalidToken(t *testing.T) {
	e := setup(t, nil, nil)
	ctx := context.Background()
	if _, err := e.client.Link(ctx, "inc-1", "t"); err != nil {
		t.Fatal(err)
	}
	e.fake.ExpireTokens()
	if _, err := e.client.Link(ctx, "inc-2", "t"); err != nil {
		t.Fatalf("Link after expiry: %v", err)
	}
	if n := tokenRequests(e.fake); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
}

func TestZoomTokenIsSharedAcrossGoroutines(t *testing.T) {
	e := setup(t, nil, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			_, err := e.client.Link(context.Background(), fmt.Sprint("inc-", i), "t")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := tokenRequests(e.fake); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}

func TestZoomClassify(t *testing.T) {
	date := time.Now().Add(40 * time.Second).UTC().Format(http.TimeFormat)
	invalid := ErrorFault(401, 124, "Invalid access token.")
	tests := []struct {
		name       string
		edit       func(*Config)
		faults     []fakeapi.Fault // after the token request, unless the test breaks the token itself
		kind       integrations.Kind
		status     int
		code       string
		retryAfter time.Duration
		message    string
	}{
		{"wrong client secret", func(c *Config) { c.ClientSecret = "bad-secret" }, nil, integrations.Permanent, 400, "invalid_client", 0, "Invalid client_id or client_secret"},
		{"wrong account", func(c *Config) { c.AccountID = "other" }, nil, integrations.Permanent, 400, "invalid_request", 0, "Invalid account_id"},
		{"unknown user", func(c *Config) { c.UserID = "someone@example.com" }, nil, integrations.Permanent, 404, "1001", 0, "User does not exist"},
		{"token endpoint 503", nil, []fakeapi.Fault{{Status: 503, Body: "upstream down"}}, integrations.Transient, 503, "", 0, "upstream down"},
		{"429 without Retry-After", nil, []fakeapi.Fault{{}, RateLimitFault(0)}, integrations.Transient, 429, "429", 0, "rate limit"},
		{"429 with Retry-After seconds", nil, []fakeapi.Fault{{}, RateLimitFault(2 * time.Second)}, integrations.Transient, 429, "429", 2 * time.Second, "rate limit"},
		{"429 with Retry-After date", nil, []fakeapi.Fault{{}, {Status: 429, Body: `{"code":429,"message":"daily limit"}`, Header: map[string]string{"Retry-After": date}}}, integrations.Transient, 429, "429", 40 * time.Second, "daily limit"},
		{"500", nil, []fakeapi.Fault{{}, ErrorFault(500, 500, "Internal error")}, integrations.Transient, 500, "500", 0, "Internal error"},
		{"non-JSON 502 from a proxy", nil, []fakeapi.Fault{{}, {Status: 502, Body: "<html><h1>502 Bad Gateway</h1></html>", Header: map[string]string{"Content-Type": "text/html"}}}, integrations.Transient, 502, "", 0, "502 Bad Gateway"},
		{"validation failed", nil, []fakeapi.Fault{{}, {}, ErrorFault(400, 300, "Validation Failed.")}, integrations.Permanent, 400, "300", 0, "Validation Failed."},
		{"403", nil, []fakeapi.Fault{{}, ErrorFault(403, 4711, "Invalid access token, does not contain scopes.")}, integrations.Permanent, 403, "4711", 0, "scopes"},
		{"124 even with a new token", nil, []fakeapi.Fault{{}, invalid, {}, invalid}, integrations.Permanent, 401, "124", 0, "Invalid access token."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, nil, tt.edit)
			e.fake.Faults.FailNext(tt.faults...)
			_, err := e.client.CreateMeeting(context.Background(), "topic", "inc-1")
			got := asError(t, err)
			ra := got.RetryAfter
			if tt.retryAfter >= 10*time.Second {
				ra = ra.Round(10 * time.Second)
			}
			if got.Kind != tt.kind || got.Status != tt.status || got.Code != tt.code || ra != tt.retryAfter || !strings.Contains(strings.ToLower(got.Message), strings.ToLower(tt.message)) {
				t.Errorf("got %+v, want kind %v status %d code %q retryAfter %v message ~%q", got, tt.kind, tt.status, tt.code, tt.retryAfter, tt.message)
			}
			if strings.Contains(got.Error(), testSecret) || strings.Contains(got.Error(), "bad-secret") || strings.Contains(got.Error(), "fake-zoom-") {
				t.Errorf("error %q shows a credential", got.Error())
			}
		})
	}
}

func TestZoomTimeoutIsTransient(t *testing.T) {
	e := setup(t, nil, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	// The token request passes; the meetings listing (a GET) hangs.
	e.fake.Faults.FailNext(fakeapi.Fault{}, fakeapi.Fault{Hang: true})
	_, err := e.client.CreateMeeting(context.Background(), "t", "inc-1")
	if got := asError(t, err); got.Kind != integrations.Transient || got.Status != 0 {
		t.Errorf("got %+v, want transient without status", got)
	}
}

func TestZoomEmptyMarkerIsPermanent(t *testing.T) {
	e := setup(t, nil, nil)
	_, err := e.client.CreateMeeting(context.Background(), "t", "")
	if got := asError(t, err); got.Kind != integrations.Permanent {
		t.Errorf("got %+v, want permanent", got)
	}
	if n := len(e.fake.Received()); n != 0 {
		t.Errorf("fake received %d requests, want none", n)
	}
}

func TestZoomFakeReportsUnexpectedRequests(t *testing.T) {
	rep := &fakeapi.RecordingReporter{}
	e := setup(t, rep, nil)
	resp, err := e.srv.Client().Get(e.srv.URL + "/v2/users/me/recordings")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if msgs := rep.Messages(); resp.StatusCode != 404 || len(msgs) != 1 || !strings.Contains(msgs[0], "GET /v2/users/me/recordings") {
		t.Errorf("status %d, reported %q", resp.StatusCode, msgs)
	}
}

func TestZoomWaitFor(t *testing.T) {
	e := setup(t, nil, nil)
	done := make(chan error, 1)
	go func() {
		_, err := e.client.Link(context.Background(), "inc-w", "war room")
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := e.fake.WaitFor(ctx, func(r Request) bool { return r.Meeting != nil })
	if err != nil {
		t.Fatal(err)
	}
	if r.Meeting.Agenda != "sitrep incident inc-w" || r.Status != http.StatusCreated {
		t.Errorf("request = %+v", r)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestTemplate(t *testing.T) {
	tests := []struct {
		tmpl, incident, want, wantErr string
	}{
		{"https://meet.jit.si/sitrep-{incident}", "inc-42", "https://meet.jit.si/sitrep-inc-42", ""},
		{"https://meet.example.com/{incident}?room={incident}", "INC 7/db&x", "https://meet.example.com/INC-7-db-x?room=INC-7-db-x", ""},
		{"https://meet.jit.si/fixed-room", "", "", "no {incident} placeholder"},
		{"meet.jit.si/{incident}", "", "", "not an http(s) URL"},
		{"ftp://host/{incident}", "", "", "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			b, err := NewTemplate(tt.tmpl)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ~%q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.Link(context.Background(), tt.incident, "topic")
			if err != nil || got != tt.want {
				t.Errorf("Link = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	_, err := Template{URL: "https://x/{incident}"}.Link(context.Background(), "", "t")
	if got := asError(t, err); got.Kind != integrations.Permanent || got.Provider != "template" {
		t.Errorf("empty incident: %+v", got)
	}
}

func TestFromEnv(t *testing.T) {
	zoom := map[string]string{"ZOOM_ACCOUNT_ID": "a", "ZOOM_CLIENT_ID": "c", "ZOOM_CLIENT_SECRET": "s"}
	tests := []struct {
		name    string
		env     map[string]string
		ok      bool
		want    string // the bridge's type
		wantErr string
	}{
		{"nothing set", map[string]string{}, false, "<nil>", ""},
		{"template", map[string]string{"VIDEO_URL_TEMPLATE": "https://meet.jit.si/{incident}"}, true, "video.Template", ""},
		{"zoom", zoom, true, "*video.Client", ""},
		{"zoom and template", map[string]string{"ZOOM_CLIENT_ID": "c", "VIDEO_URL_TEMPLATE": "https://meet.jit.si/{incident}"}, false, "", "set one"},
		{"zoom without secret", map[string]string{"ZOOM_ACCOUNT_ID": "a", "ZOOM_CLIENT_ID": "c"}, false, "", "ZOOM_CLIENT_SECRET"},
		{"bad template", map[string]string{"VIDEO_URL_TEMPLATE": "https://meet.jit.si/room"}, false, "", "placeholder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok, err := FromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ~%q", err, tt.wantErr)
				}
				return
			}
			if err != nil || ok != tt.ok || fmt.Sprintf("%T", b) != tt.want {
				t.Errorf("got %T ok=%v err=%v", b, ok, err)
			}
		})
	}
}

func TestConfigDoesNotPrintSecret(t *testing.T) {
	cfg, ok, err := ConfigFromEnv(func(k string) string {
		return map[string]string{"ZOOM_CLIENT_SECRET": testSecret}[k]
	})
	if err != nil || !ok {
		t.Fatalf("ConfigFromEnv: %v %v", ok, err)
	}
	if s := fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg); strings.Contains(s, testSecret) {
		t.Errorf("config prints the secret: %s", s)
	}
	if cfg.ClientSecret.Reveal() != testSecret {
		t.Errorf("secret = %q", cfg.ClientSecret.Reveal())
	}
}
