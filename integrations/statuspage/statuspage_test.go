package statuspage

import (
	"context"
	"errors"
	"fmt"
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
)

const (
	testKey  = "sp-key-123"
	testPage = "pg1"
)

type env struct {
	fake   *Fake
	client *Client
	box    *inbox.Inbox
	srv    *httptest.Server
}

func setup(t *testing.T, edit func(*Config)) env {
	t.Helper()
	box := inbox.New()
	fake := NewFake(FakeOptions{Reporter: t, Inbox: box, APIKey: testKey, PageID: testPage})
	mux := http.NewServeMux()
	fake.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := Config{APIKey: testKey, PageID: testPage, BaseURL: srv.URL, HTTPClient: srv.Client()}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return env{fake: fake, client: c, box: box, srv: srv}
}

func asError(t *testing.T, err error) *integrations.Error {
	t.Helper()
	var e *integrations.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *integrations.Error", err, err)
	}
	return e
}

func TestCreateIncident(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	id, err := e.client.CreateIncident(ctx, Incident{
		Marker: "inc-42", Name: "Elevated errors", Status: "investigating", Body: "We are investigating.",
		ImpactOverride: "major", ComponentIDs: []string{"api", "web"}, ComponentStatus: "partial_outage",
	})
	if err != nil {
		t.Fatalf("CreateIncident: %v", err)
	}
	st := e.fake.ExpectIncident(t, "inc-42", "investigating")
	if st.ID != id || st.Name != "Elevated errors" || st.ImpactOverride != "major" {
		t.Errorf("incident = %+v, want id %s", st, id)
	}
	if st.Components["api"] != "partial_outage" || st.Components["web"] != "partial_outage" {
		t.Errorf("components = %v", st.Components)
	}
	msgs := e.box.List(inbox.Filter{Incident: "inc-42", Channel: "statuspage"})
	if len(msgs) != 1 {
		t.Fatalf("inbox = %+v, want one statuspage message", msgs)
	}
	m := msgs[0]
	if m.Subject != "Elevated errors" || m.Text != "investigating: We are investigating." || m.ProviderID != id || len(m.Links) != 1 || !strings.HasPrefix(m.Links[0].URL, "https://stspg.io/") {
		t.Errorf("inbox message = %+v", m)
	}
	var post Request
	for _, r := range e.fake.Received() {
		if r.Method == http.MethodPost {
			post = r
		}
	}
	if post.Payload.Metadata["sitrep"].(map[string]any)["incident_id"] != "inc-42" {
		t.Errorf("metadata = %v, want sitrep.incident_id", post.Payload.Metadata)
	}
}

func TestCreateIncidentIsIdempotent(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	inc := Incident{Marker: "inc-7", Name: "DB down", Status: "investigating", Body: "Looking."}
	// Another incident on the page must not match.
	if _, err := e.client.CreateIncident(ctx, Incident{Marker: "inc-other", Name: "Other", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	first, err := e.client.CreateIncident(ctx, inc)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.client.CreateIncident(ctx, inc)
	if err != nil {
		t.Fatal(err)
	}
	if first != again {
		t.Errorf("second create returned %s, want the first %s", again, first)
	}
	id, link, err := e.client.OpenIncident(ctx, inc)
	if err != nil || id != first {
		t.Fatalf("OpenIncident = %q, %q, %v; want the first %s", id, link, err, first)
	}
	if st := e.fake.ExpectIncident(t, "inc-7", "investigating"); link == "" || link != st.Shortlink {
		t.Errorf("OpenIncident's link = %q, want the incident's shortlink %q", link, st.Shortlink)
	}
	if n := len(e.fake.Incidents()); n != 2 {
		t.Errorf("fake holds %d incidents, want 2", n)
	}
	// Once resolved, the marker no longer matches: a new incident is opened.
	if err := e.client.ResolveIncident(ctx, first, Update{Body: "Fixed."}); err != nil {
		t.Fatal(err)
	}
	third, err := e.client.CreateIncident(ctx, inc)
	if err != nil {
		t.Fatal(err)
	}
	if third == first {
		t.Errorf("create after resolve returned the resolved incident %s", first)
	}
}

func TestUpdateAndResolve(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	id, err := e.client.CreateIncident(ctx, Incident{Marker: "inc-9", Name: "Slow API", Body: "Investigating.", ComponentIDs: []string{"api"}, ComponentStatus: "degraded_performance"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.UpdateIncident(ctx, id, Update{Status: "identified", Body: "Found a bad deploy.", ComponentIDs: []string{"api"}, ComponentStatus: "major_outage"}); err != nil {
		t.Fatalf("UpdateIncident: %v", err)
	}
	st := e.fake.ExpectIncident(t, "inc-9", "identified")
	if st.Components["api"] != "major_outage" || len(st.Updates) != 2 {
		t.Errorf("after update: %+v", st)
	}
	if err := e.client.ResolveIncident(ctx, id, Update{Body: "Rolled back."}); err != nil {
		t.Fatalf("ResolveIncident: %v", err)
	}
	st = e.fake.ExpectIncident(t, "inc-9", "resolved")
	if st.Components["api"] != "operational" || st.ResolvedAt.IsZero() {
		t.Errorf("after resolve: %+v", st)
	}
	patches := func() (n int) {
		for _, r := range e.fake.Received() {
			if r.Method == http.MethodPatch {
				n++
			}
		}
		return n
	}
	before := patches()
	// Resolving again is a success that sends nothing.
	if err := e.client.ResolveIncident(ctx, id, Update{Body: "Rolled back."}); err != nil {
		t.Fatalf("second ResolveIncident: %v", err)
	}
	if after := patches(); after != before {
		t.Errorf("second resolve sent %d PATCH, want none", after-before)
	}
	msgs := e.box.List(inbox.Filter{Incident: "inc-9"})
	if len(msgs) != 3 || msgs[0].Text != "resolved: Rolled back." {
		t.Errorf("inbox = %+v, want create, update, resolve (newest first)", msgs)
	}
}

func TestClassify(t *testing.T) {
	html := "<html><body><h1>502 Bad Gateway</h1></body></html>"
	tests := []struct {
		name       string
		fault      fakeapi.Fault
		kind       integrations.Kind
		status     int
		retryAfter time.Duration
		message    string
	}{
		{"rate limit 420", RateLimitFault(420), integrations.Transient, 420, time.Second, "Rate limit"},
		{"rate limit 429", RateLimitFault(429), integrations.Transient, 429, time.Second, "Rate limit"},
		{"429 with Retry-After", fakeapi.Fault{Status: 429, Body: `{"message":"slow down"}`, Header: map[string]string{"Retry-After": "7"}}, integrations.Transient, 429, 7 * time.Second, "slow down"},
		{"500", ErrorFault(500, "Internal error"), integrations.Transient, 500, 0, "Internal error"},
		{"503", ErrorFault(503, "Service unavailable"), integrations.Transient, 503, 0, "Service unavailable"},
		{"non-JSON 502 from a proxy", fakeapi.Fault{Status: 502, Body: html, Header: map[string]string{"Content-Type": "text/html"}}, integrations.Transient, 502, 0, "502 Bad Gateway"},
		{"400", ErrorFault(400, "bad request"), integrations.Permanent, 400, 0, "bad request"},
		{"401", ErrorFault(401, "Could not authenticate"), integrations.Permanent, 401, 0, "Could not authenticate"},
		{"403", ErrorFault(403, "Forbidden"), integrations.Permanent, 403, 0, "Forbidden"},
		{"404", ErrorFault(404, "Not found"), integrations.Permanent, 404, 0, "Not found"},
		{"422 with an error list", fakeapi.Fault{Status: 422, Body: `{"error":["Name can't be blank","Status is invalid"]}`}, integrations.Permanent, 422, 0, "Name can't be blank; Status is invalid"},
		{"409 other 4xx", fakeapi.Fault{Status: 409, Body: `{"error":"conflict"}`}, integrations.Permanent, 409, 0, "conflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, nil)
			e.fake.Faults.FailNext(tt.fault)
			err := e.client.UpdateIncident(context.Background(), "abc", Update{Body: "x"})
			got := asError(t, err)
			if got.Kind != tt.kind || got.Status != tt.status || got.RetryAfter != tt.retryAfter || !strings.Contains(got.Message, tt.message) {
				t.Errorf("got %+v, want kind %v status %d retryAfter %v message ~%q", got, tt.kind, tt.status, tt.retryAfter, tt.message)
			}
		})
	}
}

func TestFakeAnswers(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		call    func(*Client) error
		status  int
		message string
	}{
		{"wrong API key", func(c *Config) { c.APIKey = "wrong-key" }, func(c *Client) error { return c.UpdateIncident(context.Background(), "x", Update{Body: "b"}) }, 401, "Could not authenticate"},
		{"wrong page", func(c *Config) { c.PageID = "other" }, func(c *Client) error {
			_, err := c.CreateIncident(context.Background(), Incident{Marker: "m", Name: "n"})
			return err
		}, 404, "page"},
		{"unknown incident", nil, func(c *Client) error { return c.UpdateIncident(context.Background(), "nope", Update{Body: "b"}) }, 404, "not found"},
		{"invalid status", nil, func(c *Client) error {
			_, err := c.CreateIncident(context.Background(), Incident{Marker: "m", Name: "n", Status: "on fire"})
			return err
		}, 422, "not a valid"},
		{"missing name", nil, func(c *Client) error {
			_, err := c.CreateIncident(context.Background(), Incident{Marker: "m"})
			return err
		}, 422, "Name can't be blank"},
		{"invalid component status", nil, func(c *Client) error {
			_, err := c.CreateIncident(context.Background(), Incident{Marker: "m", Name: "n", ComponentIDs: []string{"a"}, ComponentStatus: "broken"})
			return err
		}, 422, "Component a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, tt.edit)
			got := asError(t, tt.call(e.client))
			if got.Kind != integrations.Permanent || got.Status != tt.status || !strings.Contains(strings.ToLower(got.Message), strings.ToLower(tt.message)) {
				t.Errorf("got %+v, want permanent %d ~%q", got, tt.status, tt.message)
			}
			if strings.Contains(got.Error(), testKey) || strings.Contains(got.Error(), "wrong-key") {
				t.Errorf("error %q shows the API key", got.Error())
			}
		})
	}
}

func TestTimeoutIsTransient(t *testing.T) {
	e := setup(t, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	// A GET: the server notices the client hanging up only once the request body is read.
	e.fake.Faults.FailNext(fakeapi.Fault{Hang: true})
	got := asError(t, e.client.ResolveIncident(context.Background(), "x", Update{Body: "b"}))
	if got.Kind != integrations.Transient || got.Status != 0 {
		t.Errorf("got %+v, want transient without status", got)
	}
}

func TestMissingInputIsPermanent(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		call func(*Client) error
	}{
		{"create without marker", func(c *Client) error { _, err := c.CreateIncident(ctx, Incident{Name: "n"}); return err }},
		{"update without id", func(c *Client) error { return c.UpdateIncident(ctx, "", Update{Body: "b"}) }},
		{"resolve without id", func(c *Client) error { return c.ResolveIncident(ctx, "", Update{Body: "b"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, nil)
			if got := asError(t, tt.call(e.client)); got.Kind != integrations.Permanent {
				t.Errorf("got %+v, want permanent", got)
			}
			if n := len(e.fake.Received()); n != 0 {
				t.Errorf("fake received %d requests, want none", n)
			}
		})
	}
}

func TestFakeReportsUnexpectedRequests(t *testing.T) {
	rep := &fakeapi.RecordingReporter{}
	fake := NewFake(FakeOptions{Reporter: rep})
	mux := http.NewServeMux()
	fake.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/pages/pg1/subscribers", nil)
	req.Header.Set("Authorization", "OAuth k")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status = %d, want 404", resp.StatusCode)
	}
	if msgs := rep.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0], "GET /v1/pages/pg1/subscribers") {
		t.Errorf("reported %q", msgs)
	}
}

func TestWaitFor(t *testing.T) {
	e := setup(t, nil)
	done := make(chan error, 1)
	go func() {
		_, err := e.client.CreateIncident(context.Background(), Incident{Marker: "inc-w", Name: "n", Body: "b"})
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := e.fake.WaitFor(ctx, func(r Request) bool { return r.Method == http.MethodPost })
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusCreated || r.Payload.Name != "n" {
		t.Errorf("request = %+v", r)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		ok      bool
		key     string
		wantErr string
	}{
		{"unset is disabled", map[string]string{}, false, "", ""},
		{"from env", map[string]string{"STATUSPAGE_API_KEY": "k", "STATUSPAGE_PAGE_ID": "p"}, true, "k", ""},
		{"from file", map[string]string{"STATUSPAGE_API_KEY_FILE": keyFile, "STATUSPAGE_PAGE_ID": "p"}, true, "from-file", ""},
		{"both set", map[string]string{"STATUSPAGE_API_KEY": "k", "STATUSPAGE_API_KEY_FILE": keyFile}, false, "", "both set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ok, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ~%q", err, tt.wantErr)
				}
				return
			}
			if err != nil || ok != tt.ok || cfg.APIKey.Reveal() != tt.key {
				t.Errorf("got %+v ok=%v err=%v", cfg, ok, err)
			}
			if tt.key != "" && strings.Contains(fmt.Sprintf("%v %+v", cfg, cfg), tt.key) {
				t.Errorf("config prints its key")
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	_, err := New(Config{BaseURL: "ftp://x"})
	if err == nil {
		t.Fatal("New accepted an empty config")
	}
	for _, want := range []string{"STATUSPAGE_API_KEY", "STATUSPAGE_PAGE_ID", "STATUSPAGE_BASE_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestComponentIDs(t *testing.T) {
	box := inbox.New()
	fake := NewFake(FakeOptions{Reporter: t, Inbox: box, APIKey: testKey, PageID: testPage,
		Components: map[string]string{"cmp1": "Checkout", "cmp2": "Payments API"}})
	mux := http.NewServeMux()
	fake.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := New(Config{APIKey: testKey, PageID: testPage, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ids, err := c.ComponentIDs(ctx, []string{"Payments API", "cmp1", "Unlisted"})
	if err != nil || strings.Join(ids, ",") != "cmp2,cmp1,Unlisted" {
		t.Fatalf("ComponentIDs = %v, %v; want the IDs of the named, the rest as given", ids, err)
	}
	if ids, err := c.ComponentIDs(ctx, nil); err != nil || ids != nil || len(fake.Received()) != 1 {
		t.Errorf("ComponentIDs(nil) = %v, %v after %d requests; want nothing asked", ids, err, len(fake.Received()))
	}
	fake.Faults.FailNext(RateLimitFault(420))
	_, err = c.ComponentIDs(ctx, []string{"Checkout"})
	if e := asError(t, err); e.Kind != integrations.Transient {
		t.Errorf("a rate limit = %v, want transient", err)
	}
}
