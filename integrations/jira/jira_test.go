package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

const (
	testEmail = "bot@example.com"
	testToken = "jira-token-123"
)

type env struct {
	fake   *Fake
	client *Client
	box    *inbox.Inbox
	srv    *httptest.Server
}

func setup(t *testing.T, rep fakeapi.Reporter, edit func(*Config)) env {
	t.Helper()
	if rep == nil {
		rep = t
	}
	box := inbox.New()
	fake := NewFake(FakeOptions{Reporter: rep, Inbox: box, Email: testEmail, APIToken: testToken, ProjectKey: "PROJ"})
	mux := http.NewServeMux()
	fake.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := Config{BaseURL: srv.URL, Email: testEmail, APIToken: testToken, ProjectKey: "PROJ", HTTPClient: srv.Client()}
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

// raw sends one request to the fake with the test credentials.
func raw(t *testing.T, e env, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(testEmail, testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestCreateIssue(t *testing.T) {
	e := setup(t, nil, nil)
	key, err := e.client.CreateIssue(context.Background(), Issue{
		Marker:      "inc-42",
		Summary:     "Close the monitoring gap\nfor db",
		Description: "The alert never fired.\nNobody was paged.\n\nAdd a probe.",
		Priority:    "Highest",
		Labels:      []string{"action item"},
	})
	if err != nil {
		t.Fatalf("CreateIssue: %v", err)
	}
	if key != "PROJ-1" {
		t.Errorf("key = %s, want PROJ-1", key)
	}
	iss := e.fake.ExpectIssue(t, "inc-42", "monitoring gap")
	if iss.Summary != "Close the monitoring gap for db" || iss.Priority != "Highest" || iss.IssueType != "Task" {
		t.Errorf("issue = %+v", iss)
	}
	if want := []string{"sitrep-inc-42", "action-item"}; !reflect.DeepEqual(iss.Labels, want) {
		t.Errorf("labels = %q, want %q", iss.Labels, want)
	}
	if want := "The alert never fired.\nNobody was paged.\n\nAdd a probe."; iss.Description != want {
		t.Errorf("description = %q, want %q", iss.Description, want)
	}
	msgs := e.box.List(inbox.Filter{Incident: "inc-42", Channel: "tracker"})
	if len(msgs) != 1 {
		t.Fatalf("inbox = %+v, want one tracker message", msgs)
	}
	m := msgs[0]
	if m.Subject != "PROJ-1: Close the monitoring gap for db" || m.ProviderID != "PROJ-1" || !strings.HasPrefix(m.Text, "Priority: Highest") || len(m.Links) != 1 || m.Links[0].URL != e.srv.URL+"/browse/PROJ-1" {
		t.Errorf("inbox message = %+v", m)
	}
	status, page := raw(t, e, http.MethodGet, "/browse/PROJ-1", "")
	if status != http.StatusOK || !strings.Contains(page, "Add a probe.") {
		t.Errorf("browse = %d %q", status, page)
	}
}

func TestCreateIssueIsIdempotent(t *testing.T) {
	e := setup(t, nil, nil)
	ctx := context.Background()
	first, err := e.client.CreateIssue(ctx, Issue{Marker: "inc-1/a b", Summary: "one"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.client.CreateIssue(ctx, Issue{Marker: "inc-1/a b", Summary: "one"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.client.CreateIssue(ctx, Issue{Marker: "inc-2", Summary: "two"})
	if err != nil {
		t.Fatal(err)
	}
	if first != "PROJ-1" || again != first || other != "PROJ-2" {
		t.Errorf("keys = %s %s %s, want PROJ-1 PROJ-1 PROJ-2", first, again, other)
	}
	var posts int
	for _, r := range e.fake.Received() {
		if r.Method == http.MethodPost {
			posts++
		}
		if r.JQL != "" && r.JQL != `project = "PROJ" AND labels = "sitrep-inc-1-a-b"` && r.JQL != `project = "PROJ" AND labels = "sitrep-inc-2"` {
			t.Errorf("JQL = %q", r.JQL)
		}
	}
	if posts != 2 {
		t.Errorf("%d creates, want 2", posts)
	}
}

func TestIssueStatus(t *testing.T) {
	e := setup(t, nil, nil)
	ctx := context.Background()
	key, err := e.client.CreateIssue(ctx, Issue{Marker: "inc-3", Summary: "s"})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name, category string
	}{
		{"", ""}, // as created
		{"In Progress", "indeterminate"},
		{"Done", "done"},
	}
	for _, s := range steps {
		want := Status{Name: "To Do", Category: "new"}
		if s.name != "" {
			if err := e.fake.SetStatus(key, s.name, s.category); err != nil {
				t.Fatal(err)
			}
			want = Status{Name: s.name, Category: s.category}
		}
		got, err := e.client.IssueStatus(ctx, key)
		if err != nil || got != want {
			t.Errorf("IssueStatus = %+v, %v; want %+v", got, err, want)
		}
	}
	if err := e.fake.SetStatus(key, "Odd", "finished"); err == nil {
		t.Error("SetStatus accepted an unknown category")
	}
}

func TestClassify(t *testing.T) {
	reset := time.Now().Add(30 * time.Second).UTC().Format(time.RFC3339)
	tests := []struct {
		name       string
		fault      fakeapi.Fault
		kind       integrations.Kind
		status     int
		retryAfter time.Duration
		code       string
		message    string
	}{
		{"429 with Retry-After", RateLimitFault(3 * time.Second), integrations.Transient, 429, 3 * time.Second, "jira-burst-based", "Rate limit"},
		{"429 with X-RateLimit-Reset only", fakeapi.Fault{Status: 429, Body: `{"errorMessages":[],"errors":{}}`, Header: map[string]string{"X-RateLimit-Reset": reset}}, integrations.Transient, 429, 30 * time.Second, "", "Too Many Requests"},
		{"503 with Retry-After", fakeapi.Fault{Status: 503, Body: `{"errorMessages":["down"],"errors":{}}`, Header: map[string]string{"Retry-After": "5"}}, integrations.Transient, 503, 5 * time.Second, "", "down"},
		{"500", ErrorFault(500, "Internal server error"), integrations.Transient, 500, 0, "", "Internal server error"},
		{"non-JSON 502 from a proxy", fakeapi.Fault{Status: 502, Body: "<html><h1>502 Bad Gateway</h1></html>", Header: map[string]string{"Content-Type": "text/html"}}, integrations.Transient, 502, 0, "", "502 Bad Gateway"},
		{"400 with field errors", fakeapi.Fault{Status: 400, Body: `{"errorMessages":[],"errors":{"summary":"You must specify a summary of the issue.","priority":"The priority selected is invalid."}}`}, integrations.Permanent, 400, 0, "", "priority: The priority selected is invalid.; summary: You must specify"},
		{"401 plain text", fakeapi.Fault{Status: 401, Body: "Client must be authenticated to access this resource.", Header: map[string]string{"Content-Type": "text/plain"}}, integrations.Permanent, 401, 0, "", "Client must be authenticated"},
		{"403", ErrorFault(403, "You do not have permission to create issues in this project."), integrations.Permanent, 403, 0, "", "permission"},
		{"404", ErrorFault(404, "Issue does not exist or you do not have permission to see it."), integrations.Permanent, 404, 0, "", "Issue does not exist"},
		{"410", ErrorFault(410, "The requested API has been removed."), integrations.Permanent, 410, 0, "", "removed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, nil, nil)
			e.fake.Faults.FailNext(tt.fault)
			_, err := e.client.IssueStatus(context.Background(), "PROJ-1")
			got := asError(t, err)
			ra := got.RetryAfter.Round(10 * time.Second)
			if tt.retryAfter < 10*time.Second {
				ra = got.RetryAfter
			}
			if got.Kind != tt.kind || got.Status != tt.status || ra != tt.retryAfter || got.Code != tt.code || !strings.Contains(got.Message, tt.message) {
				t.Errorf("got %+v, want kind %v status %d retryAfter %v code %q message ~%q", got, tt.kind, tt.status, tt.retryAfter, tt.code, tt.message)
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
		{"wrong token", func(c *Config) { c.APIToken = "nope-token" }, func(c *Client) error { _, err := c.IssueStatus(context.Background(), "PROJ-1"); return err }, 401, "Client must be authenticated"},
		{"wrong email", func(c *Config) { c.Email = "x@example.com" }, func(c *Client) error { _, err := c.IssueStatus(context.Background(), "PROJ-1"); return err }, 401, "Client must be authenticated"},
		{"unknown issue", nil, func(c *Client) error { _, err := c.IssueStatus(context.Background(), "PROJ-99"); return err }, 404, "Issue does not exist"},
		{"unknown priority", nil, func(c *Client) error {
			_, err := c.CreateIssue(context.Background(), Issue{Marker: "m", Summary: "s", Priority: "Urgent!"})
			return err
		}, 400, "priority: The priority selected is invalid."},
		{"unknown project", func(c *Config) { c.ProjectKey = "OTHER" }, func(c *Client) error {
			_, err := c.CreateIssue(context.Background(), Issue{Marker: "m", Summary: "s"})
			return err
		}, 400, "project: Specify a valid project"},
		{"unknown issue type", func(c *Config) { c.IssueType = "Chore" }, func(c *Client) error {
			_, err := c.CreateIssue(context.Background(), Issue{Marker: "m", Summary: "s"})
			return err
		}, 400, "issuetype: Specify a valid issue type"},
		{"empty summary", nil, func(c *Client) error {
			_, err := c.CreateIssue(context.Background(), Issue{Marker: "m", Summary: " \n "})
			return err
		}, 400, "summary: You must specify a summary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, nil, tt.edit)
			got := asError(t, tt.call(e.client))
			if got.Kind != integrations.Permanent || got.Status != tt.status || !strings.Contains(got.Message, tt.message) {
				t.Errorf("got %+v, want permanent %d ~%q", got, tt.status, tt.message)
			}
			if strings.Contains(got.Error(), testToken) || strings.Contains(got.Error(), "nope-token") {
				t.Errorf("error %q shows the token", got.Error())
			}
		})
	}
}

func TestFakeValidatesLikeJiraCloud(t *testing.T) {
	fields := func(desc string) string {
		return `{"fields":{"project":{"key":"PROJ"},"issuetype":{"name":"Task"},"summary":"s","description":` + desc + `}}`
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		want   string
	}{
		{"plain-string description", "POST", "/rest/api/3/issue", fields(`"just text"`), 400, `"description":"Operation value must be an Atlassian Document`},
		{"ADF with an empty text node", "POST", "/rest/api/3/issue", fields(`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":""}]}]}`), 400, "INVALID_INPUT"},
		{"ADF without version", "POST", "/rest/api/3/issue", fields(`{"type":"doc","content":[]}`), 400, "INVALID_INPUT"},
		{"label with a space", "POST", "/rest/api/3/issue", `{"fields":{"project":{"key":"PROJ"},"issuetype":{"name":"Task"},"summary":"s","labels":["a b"]}}`, 400, "contains spaces"},
		{"unknown field", "POST", "/rest/api/3/issue", `{"fields":{"project":{"key":"PROJ"},"issuetype":{"name":"Task"},"summary":"s","customfield_1":"x"}}`, 400, "cannot be set"},
		{"valid ADF", "POST", "/rest/api/3/issue", fields(`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"hi"}]}]}`), 201, `"key":"PROJ-1"`},
		{"removed search", "GET", "/rest/api/3/search?jql=project%3DPROJ", "", 410, "/rest/api/3/search/jql"},
		{"unbounded search", "GET", "/rest/api/3/search/jql", "", 400, "Unbounded JQL"},
		{"POST search with fields", "POST", "/rest/api/3/search/jql", `{"jql":"project = PROJ","fields":["summary"],"maxResults":10}`, 200, `"isLast":true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, nil, nil)
			status, body := raw(t, e, tt.method, tt.path, tt.body)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("got %d %s, want %d ~%s", status, body, tt.status, tt.want)
			}
		})
	}
}

func TestSearchPagesAndReturnsIDsWithoutFields(t *testing.T) {
	e := setup(t, nil, nil)
	for i := range 3 {
		if _, err := e.client.CreateIssue(context.Background(), Issue{Marker: fmt.Sprint("m", i), Summary: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	status, body := raw(t, e, "GET", "/rest/api/3/search/jql?jql=project+%3D+PROJ+ORDER+BY+created+DESC&maxResults=2", "")
	var page struct {
		Issues        []map[string]any `json:"issues"`
		IsLast        bool             `json:"isLast"`
		NextPageToken string           `json:"nextPageToken"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil || status != 200 {
		t.Fatalf("search = %d %s", status, body)
	}
	if len(page.Issues) != 2 || page.IsLast || page.NextPageToken == "" || len(page.Issues[0]) != 1 || page.Issues[0]["id"] == nil {
		t.Errorf("first page = %s", body)
	}
	_, body = raw(t, e, "GET", "/rest/api/3/search/jql?jql=project+%3D+PROJ&maxResults=2&fields=status&nextPageToken="+page.NextPageToken, "")
	if !strings.Contains(body, `"key":"PROJ-1"`) || !strings.Contains(body, `"isLast":true`) || !strings.Contains(body, `"statusCategory"`) {
		t.Errorf("second page = %s", body)
	}
}

func TestTimeoutIsTransient(t *testing.T) {
	e := setup(t, nil, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	e.fake.Faults.FailNext(fakeapi.Fault{Hang: true})
	_, err := e.client.IssueStatus(context.Background(), "PROJ-1")
	if got := asError(t, err); got.Kind != integrations.Transient || got.Status != 0 {
		t.Errorf("got %+v, want transient without status", got)
	}
}

func TestMissingInputIsPermanent(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		call func(*Client) error
	}{
		{"create without marker", func(c *Client) error { _, err := c.CreateIssue(ctx, Issue{Summary: "s"}); return err }},
		{"status without key", func(c *Client) error { _, err := c.IssueStatus(ctx, ""); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, nil, nil)
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
	tests := []struct {
		name, path, want string
	}{
		{"unknown endpoint", "/rest/api/3/myself", "GET /rest/api/3/myself"},
		{"JQL the fake cannot read", "/rest/api/3/search/jql?jql=labels+%3D+a+OR+labels+%3D+b", "OR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := &fakeapi.RecordingReporter{}
			e := setup(t, rep, nil)
			raw(t, e, http.MethodGet, tt.path, "")
			if msgs := rep.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0], tt.want) {
				t.Errorf("reported %q, want one report ~%q", msgs, tt.want)
			}
		})
	}
}

func TestWaitFor(t *testing.T) {
	e := setup(t, nil, nil)
	done := make(chan error, 1)
	go func() {
		_, err := e.client.CreateIssue(context.Background(), Issue{Marker: "inc-w", Summary: "s"})
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := e.fake.WaitFor(ctx, func(r Request) bool { return r.Method == http.MethodPost && r.Path == "/rest/api/3/issue" })
	if err != nil {
		t.Fatal(err)
	}
	if r.Key != "PROJ-1" || r.Status != http.StatusCreated || !strings.Contains(r.Body, `"labels":["sitrep-inc-w"]`) || strings.Contains(r.Body, "description") {
		t.Errorf("request = %+v", r)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestTextToADF(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", "null"},
		{" \n\n ", "null"},
		{"one", `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"one"}]}]}`},
		{"a\nb\r\n\r\nc", `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"a"},{"type":"hardBreak"},{"type":"text","text":"b"}]},{"type":"paragraph","content":[{"type":"text","text":"c"}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, _ := json.Marshal(textToADF(tt.in))
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}

func TestMarkerLabel(t *testing.T) {
	tests := map[string]string{
		"inc-42":    "sitrep-inc-42",
		"INC 42/db": "sitrep-INC-42-db",
		"a.b_c:d":   "sitrep-a.b_c:d",
		`q"uote`:    "sitrep-q-uote",
		"emoji-🔥":   "sitrep-emoji--",
	}
	for in, want := range tests {
		if got := MarkerLabel(in); got != want {
			t.Errorf("MarkerLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	full := map[string]string{"JIRA_BASE_URL": "https://x.atlassian.net", "JIRA_EMAIL": "a@b.c", "JIRA_PROJECT": "OPS"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for k, v := range full {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		ok      bool
		token   string
		wantErr string
	}{
		{"unset is disabled", map[string]string{}, false, "", ""},
		{"from env", with("JIRA_API_TOKEN", "t"), true, "t", ""},
		{"from file", with("JIRA_API_TOKEN_FILE", tokenFile), true, "from-file", ""},
		{"missing file", with("JIRA_API_TOKEN_FILE", filepath.Join(dir, "nope")), false, "", "JIRA_API_TOKEN_FILE"},
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
			if err != nil || ok != tt.ok || cfg.APIToken.Reveal() != tt.token {
				t.Fatalf("got %+v ok=%v err=%v", cfg, ok, err)
			}
			if ok {
				if _, err := New(cfg); err != nil {
					t.Errorf("New: %v", err)
				}
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	_, err := New(Config{})
	if err == nil {
		t.Fatal("New accepted an empty config")
	}
	for _, want := range []string{"JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PROJECT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
