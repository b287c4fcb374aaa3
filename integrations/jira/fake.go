package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

// FakeOptions configures a Fake.
type FakeOptions struct {
	Reporter   fakeapi.Reporter // told of requests the fake does not expect; nil in the sandbox
	Inbox      *inbox.Inbox     // receives every issue created; may be nil
	Email      string           // the account accepted; empty accepts any
	APIToken   string           // the token accepted; empty accepts any non-empty token
	ProjectKey string           // the only project; empty accepts every key
	IssueTypes []string         // issue types the projects have; default Task, Bug, Story, Epic, Incident
}

// Fake is an in-memory Jira Cloud that speaks the part of REST API v3 the
// client uses: create issue, get issue, search with JQL (GET and POST
// /rest/api/3/search/jql) and the removed /rest/api/3/search (410). It checks
// Basic auth, validates fields and the ADF description as Jira Cloud does,
// numbers issues PROJ-1, PROJ-2… per project, and lets tests move issues
// between statuses with SetStatus. GET /browse/{key} shows an issue in a
// browser, for the sandbox inbox's links.
type Fake struct {
	// Faults injects failures before the fake handles a request.
	Faults fakeapi.Faults

	opts FakeOptions

	received fakeapi.Log[Request] // wakes WaitFor and the Expect helpers

	mu       sync.Mutex
	issues   []*IssueState // oldest first
	counters map[string]int
}

// Request is one request the fake handled, after authentication.
type Request struct {
	Method string
	Path   string
	JQL    string // the search query, for searches
	Body   string // the raw JSON body, for creates and POST searches
	Key    string // the issue created or read
	Status int    // the HTTP status the fake answered with
}

// IssueState is an issue as the fake holds it.
type IssueState struct {
	ID                string
	Key               string
	Project           string
	IssueType         string
	Summary           string
	Description       string          // the ADF description flattened to text
	DescriptionADF    json.RawMessage // as received
	Labels            []string
	Priority          string
	AssigneeAccountID string
	StatusName        string
	StatusCategory    string // new, indeterminate or done
	Created           time.Time
}

// NewFake returns an empty fake Jira site.
func NewFake(opts FakeOptions) *Fake {
	if len(opts.IssueTypes) == 0 {
		opts.IssueTypes = []string{"Task", "Bug", "Story", "Epic", "Incident"}
	}
	return &Fake{opts: opts, counters: map[string]int{}}
}

// Register mounts the fake's routes, Jira Cloud's real paths, on mux.
func (f *Fake) Register(mux *http.ServeMux) {
	mux.Handle("POST /rest/api/3/issue", f.Faults.Wrap(f.auth(f.create)))
	mux.Handle("GET /rest/api/3/issue/{issueIdOrKey}", f.Faults.Wrap(f.auth(f.get)))
	mux.Handle("GET /rest/api/3/search/jql", f.Faults.Wrap(f.auth(f.search)))
	mux.Handle("POST /rest/api/3/search/jql", f.Faults.Wrap(f.auth(f.search)))
	mux.Handle("/rest/api/3/search", f.Faults.Wrap(f.auth(gone)))
	mux.Handle("/rest/api/", fakeapi.Unexpected(f.opts.Reporter, provider))
	mux.HandleFunc("GET /browse/{key}", f.browse)
}

// Received returns the requests the fake handled, oldest first.
func (f *Fake) Received() []Request { return f.received.All() }

// Issues returns copies of every issue, oldest first.
func (f *Fake) Issues() []IssueState {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]IssueState, len(f.issues))
	for i, iss := range f.issues {
		out[i] = iss.clone()
	}
	return out
}

// SetStatus moves issue key to the status name in category (new,
// indeterminate or done), as a person working the ticket would.
func (f *Fake) SetStatus(key, name, category string) error {
	if _, ok := categoryNames[category]; !ok {
		return fmt.Errorf("jira fake: set status: category %q is not new, indeterminate or done", category)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	iss := f.find(key)
	if iss == nil {
		return fmt.Errorf("jira fake: set status: no issue %s", key)
	}
	iss.StatusName, iss.StatusCategory = name, category
	return nil
}

// Delete removes issue key, as a person deleting the ticket would: the
// fake answers 404 for it from then on.
func (f *Fake) Delete(key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	iss := f.find(key)
	if iss == nil {
		return fmt.Errorf("jira fake: delete: no issue %s", key)
	}
	f.issues = slices.DeleteFunc(f.issues, func(i *IssueState) bool { return i == iss })
	return nil
}

// WaitFor returns the first request pred accepts, waiting for it until ctx ends.
func (f *Fake) WaitFor(ctx context.Context, pred func(Request) bool) (Request, error) {
	return f.received.WaitFor(ctx, pred)
}

// ExpectIssue waits up to five seconds for an issue labelled
// MarkerLabel(marker) whose summary contains summary, and fails t when none comes.
func (f *Fake) ExpectIssue(t testing.TB, marker, summary string) IssueState {
	t.Helper()
	want := MarkerLabel(marker)
	var found IssueState
	if !f.received.Eventually(func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, iss := range f.issues {
			if slices.Contains(iss.Labels, want) && strings.Contains(iss.Summary, summary) {
				found = iss.clone()
				return true
			}
		}
		return false
	}) {
		t.Fatalf("jira fake: no issue labelled %s with summary ~%q; have %+v", want, summary, f.Issues())
	}
	return found
}

// ErrorFault answers with status and Jira's error body carrying messages.
func ErrorFault(status int, messages ...string) fakeapi.Fault {
	if messages == nil {
		messages = []string{}
	}
	b, _ := json.Marshal(map[string]any{"errorMessages": messages, "errors": map[string]string{}})
	return fakeapi.Fault{Status: status, Body: string(b)}
}

// RateLimitFault answers 429 as Jira Cloud does, with Retry-After set to
// retryAfter (whole seconds) and RateLimit-Reason jira-burst-based.
func RateLimitFault(retryAfter time.Duration) fakeapi.Fault {
	fl := ErrorFault(http.StatusTooManyRequests, "Rate limit exceeded.")
	fl.Header = map[string]string{
		"Retry-After":           strconv.Itoa(int(retryAfter / time.Second)),
		"X-RateLimit-Remaining": "0",
		"RateLimit-Reason":      "jira-burst-based",
	}
	return fl
}

func (s *IssueState) clone() IssueState {
	c := *s
	c.Labels = slices.Clone(s.Labels)
	c.DescriptionADF = slices.Clone(s.DescriptionADF)
	return c
}

// categoryNames are Jira's status categories: key → (display name, id).
var categoryNames = map[string]struct {
	name string
	id   int
}{
	"new":           {"To Do", 2},
	"indeterminate": {"In Progress", 4},
	"done":          {"Done", 3},
}

var priorities = []string{"Highest", "High", "Medium", "Low", "Lowest"}

// auth checks Basic email:token as Jira Cloud does; a failure is a 401 with a plain-text body.
func (f *Fake) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		email, token, ok := r.BasicAuth()
		if !ok || token == "" || (f.opts.Email != "" && email != f.opts.Email) || (f.opts.APIToken != "" && token != f.opts.APIToken) {
			w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("Client must be authenticated to access this resource."))
			return
		}
		next(w, r)
	}
}

func gone(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusGone, []string{"The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"}, nil)
}

func (f *Fake) create(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, []string{"Unsupported Media Type"}, nil)
		return
	}
	var body struct {
		Fields map[string]json.RawMessage `json:"fields"`
	}
	raw, err := readBody(w, r)
	if err == nil {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, []string{"Unexpected character in the request body: " + err.Error()}, nil)
		return
	}
	req := Request{Method: r.Method, Path: r.URL.Path, Body: string(raw)}
	iss, msgs, errs := f.parseIssue(body.Fields)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(msgs) > 0 || len(errs) > 0 {
		req.Status = http.StatusBadRequest
		f.received.Add(req)
		writeError(w, req.Status, msgs, errs)
		return
	}
	f.counters[iss.Project]++
	iss.Key = fmt.Sprintf("%s-%d", iss.Project, f.counters[iss.Project])
	iss.ID = strconv.Itoa(10000 + len(f.issues))
	iss.StatusName, iss.StatusCategory = "To Do", "new"
	iss.Created = time.Now().UTC()
	f.issues = append(f.issues, iss)
	req.Key, req.Status = iss.Key, http.StatusCreated
	f.received.Add(req)
	f.deliver(iss, siteURL(r))
	writeJSON(w, http.StatusCreated, map[string]string{"id": iss.ID, "key": iss.Key, "self": siteURL(r) + "/rest/api/3/issue/" + iss.ID})
}

// parseIssue validates create fields as Jira Cloud does; msgs and errs are its errorMessages and errors.
func (f *Fake) parseIssue(fields map[string]json.RawMessage) (iss *IssueState, msgs []string, errs map[string]string) {
	errs = map[string]string{}
	iss = &IssueState{}
	var ref fieldRef
	readRef := func(name string) bool {
		ref = fieldRef{}
		raw, ok := fields[name]
		return ok && json.Unmarshal(raw, &ref) == nil
	}
	for name := range fields {
		switch name {
		case "project", "issuetype", "summary", "description", "labels", "priority", "assignee":
		default:
			errs[name] = fmt.Sprintf("Field '%s' cannot be set. It is not on the appropriate screen, or unknown.", name)
		}
	}
	if !readRef("project") || ref.Key == "" || (f.opts.ProjectKey != "" && !strings.EqualFold(ref.Key, f.opts.ProjectKey)) {
		errs["project"] = "Specify a valid project ID or key"
	} else {
		iss.Project = strings.ToUpper(ref.Key)
	}
	switch {
	case !readRef("issuetype") || ref.Name == "":
		errs["issuetype"] = "Specify an issue type"
	case !slices.Contains(f.opts.IssueTypes, ref.Name):
		errs["issuetype"] = "Specify a valid issue type"
	default:
		iss.IssueType = ref.Name
	}
	var s string
	switch {
	case json.Unmarshal(fields["summary"], &s) != nil || strings.TrimSpace(s) == "":
		errs["summary"] = "You must specify a summary of the issue."
	case strings.ContainsAny(s, "\r\n"):
		errs["summary"] = "The summary is invalid because it contains newline characters."
	case len([]rune(s)) > maxSummary:
		errs["summary"] = "Summary must be less than 255 characters."
	default:
		iss.Summary = s
	}
	if raw, ok := fields["description"]; ok && string(raw) != "null" {
		var doc adfNode
		switch {
		case json.Unmarshal(raw, &s) == nil:
			errs["description"] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
		case json.Unmarshal(raw, &doc) != nil || !validDoc(doc):
			msgs = append(msgs, "INVALID_INPUT")
		default:
			iss.DescriptionADF = raw
			iss.Description = adfText(doc)
		}
	}
	if raw, ok := fields["labels"]; ok {
		if err := json.Unmarshal(raw, &iss.Labels); err != nil {
			errs["labels"] = "Labels must be a list of strings."
		}
		for _, l := range iss.Labels {
			switch {
			case strings.ContainsAny(l, " \t\r\n"):
				errs["labels"] = fmt.Sprintf("The label '%s' contains spaces which is invalid.", l)
			case len(l) > 255:
				errs["labels"] = "The label must not exceed 255 characters."
			}
		}
	}
	if _, ok := fields["priority"]; ok {
		if !readRef("priority") || !slices.Contains(priorities, ref.Name) {
			errs["priority"] = "The priority selected is invalid."
		} else {
			iss.Priority = ref.Name
		}
	}
	if _, ok := fields["assignee"]; ok {
		if !readRef("assignee") || ref.AccountID == "" {
			errs["assignee"] = "Specify a valid value for assignee"
		} else {
			iss.AssigneeAccountID = ref.AccountID
		}
	}
	if len(errs) == 0 {
		errs = nil
	}
	return iss, msgs, errs
}

// fieldRef is the object form of project, issuetype, priority and assignee.
type fieldRef struct {
	Key       string `json:"key"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	AccountID string `json:"accountId"`
}

// validDoc reports whether doc is an ADF document the fake accepts.
func validDoc(doc adfNode) bool {
	if doc.Type != "doc" || doc.Version != 1 {
		return false
	}
	for _, c := range doc.Content {
		if !validNode(c) || !isBlock(c.Type) {
			return false
		}
	}
	return true
}

func validNode(n adfNode) bool {
	switch n.Type {
	case "text":
		return n.Text != "" && len(n.Content) == 0
	case "hardBreak", "rule", "mention", "emoji", "inlineCard", "date", "status":
		return len(n.Content) == 0
	}
	if !isBlock(n.Type) {
		return false
	}
	for _, c := range n.Content {
		if !validNode(c) {
			return false
		}
	}
	return true
}

func (f *Fake) get(w http.ResponseWriter, r *http.Request) {
	req := Request{Method: r.Method, Path: r.URL.Path}
	f.mu.Lock()
	defer f.mu.Unlock()
	iss := f.find(r.PathValue("issueIdOrKey"))
	if iss == nil {
		req.Status = http.StatusNotFound
		f.received.Add(req)
		writeError(w, req.Status, []string{"Issue does not exist or you do not have permission to see it."}, nil)
		return
	}
	req.Key, req.Status = iss.Key, http.StatusOK
	f.received.Add(req)
	var want []string
	if v := r.URL.Query().Get("fields"); v != "" {
		want = strings.Split(v, ",")
	}
	writeJSON(w, http.StatusOK, render(iss, siteURL(r), want, true))
}

// search serves GET and POST /rest/api/3/search/jql: it pages with
// nextPageToken, returns only ids unless fields are asked for, and has no total.
func (f *Fake) search(w http.ResponseWriter, r *http.Request) {
	var in struct {
		JQL           string   `json:"jql"`
		Fields        []string `json:"fields"`
		MaxResults    int      `json:"maxResults"`
		NextPageToken string   `json:"nextPageToken"`
	}
	req := Request{Method: r.Method, Path: r.URL.Path}
	if r.Method == http.MethodPost {
		raw, err := readBody(w, r)
		if err == nil {
			err = json.Unmarshal(raw, &in)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, []string{"Invalid request payload. Refer to the REST API documentation and try again."}, nil)
			return
		}
		req.Body = string(raw)
	} else {
		q := r.URL.Query()
		in.JQL, in.NextPageToken = q.Get("jql"), q.Get("nextPageToken")
		for _, v := range q["fields"] {
			in.Fields = append(in.Fields, strings.Split(v, ",")...)
		}
		if v := q.Get("maxResults"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				writeError(w, http.StatusBadRequest, []string{"maxResults must be a number"}, nil)
				return
			}
			in.MaxResults = n
		}
	}
	req.JQL = in.JQL
	clauses, err := parseJQL(in.JQL)
	if err != nil {
		if f.opts.Reporter != nil && err.unsupported {
			f.opts.Reporter.Errorf("jira fake: JQL the fake cannot read: %q: %s", in.JQL, err.msg)
		}
		f.mu.Lock()
		req.Status = http.StatusBadRequest
		f.received.Add(req)
		f.mu.Unlock()
		writeError(w, http.StatusBadRequest, []string{err.msg}, nil)
		return
	}
	size := in.MaxResults
	if size <= 0 || size > 100 {
		size = 50
	}
	skip, _ := strconv.Atoi(in.NextPageToken)
	f.mu.Lock()
	defer f.mu.Unlock()
	var matched []*IssueState
	for _, iss := range slices.Backward(f.issues) { // newest first
		if matchAll(iss, clauses) {
			matched = append(matched, iss)
		}
	}
	out := map[string]any{}
	issues := []any{}
	end := min(skip+size, len(matched))
	for _, iss := range matched[min(skip, len(matched)):end] {
		if len(in.Fields) == 0 {
			issues = append(issues, map[string]string{"id": iss.ID})
			continue
		}
		issues = append(issues, render(iss, siteURL(r), in.Fields, false))
	}
	out["issues"] = issues
	out["isLast"] = end >= len(matched)
	if end < len(matched) {
		out["nextPageToken"] = strconv.Itoa(end)
	}
	req.Status = http.StatusOK
	f.received.Add(req)
	writeJSON(w, http.StatusOK, out)
}

// browse shows an issue as a small web page, for the sandbox inbox's links.
func (f *Fake) browse(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	iss := f.find(r.PathValue("key"))
	var st IssueState
	if iss != nil {
		st = iss.clone()
	}
	f.mu.Unlock()
	if iss == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>%[1]s</title><h1>%[1]s: %[2]s</h1><p>Status: %[3]s · Priority: %[4]s · Labels: %[5]s</p><pre>%[6]s</pre>",
		html.EscapeString(st.Key), html.EscapeString(st.Summary), html.EscapeString(st.StatusName),
		html.EscapeString(st.Priority), html.EscapeString(strings.Join(st.Labels, ", ")), html.EscapeString(st.Description))
}

// render returns Jira's issue object for iss with the fields asked for (all when want is empty).
func render(iss *IssueState, site string, want []string, all bool) map[string]any {
	cat := categoryNames[iss.StatusCategory]
	fields := map[string]any{
		"summary": iss.Summary,
		"status": map[string]any{
			"name": iss.StatusName, "id": strconv.Itoa(10000 + cat.id),
			"statusCategory": map[string]any{"id": cat.id, "key": iss.StatusCategory, "name": cat.name},
		},
		"labels":    slices.Clone(iss.Labels),
		"issuetype": map[string]string{"name": iss.IssueType},
		"project":   map[string]string{"key": iss.Project},
		"created":   iss.Created.Format("2006-01-02T15:04:05.000-0700"),
	}
	if iss.Priority != "" {
		fields["priority"] = map[string]string{"name": iss.Priority}
	} else {
		fields["priority"] = nil
	}
	if iss.AssigneeAccountID != "" {
		fields["assignee"] = map[string]string{"accountId": iss.AssigneeAccountID}
	} else {
		fields["assignee"] = nil
	}
	if iss.DescriptionADF != nil {
		fields["description"] = iss.DescriptionADF
	} else {
		fields["description"] = nil
	}
	if !(all && len(want) == 0) && !slices.Contains(want, "*all") && !slices.Contains(want, "*navigable") {
		picked := map[string]any{}
		for _, name := range want {
			if v, ok := fields[strings.TrimSpace(name)]; ok {
				picked[strings.TrimSpace(name)] = v
			}
		}
		fields = picked
	}
	return map[string]any{"id": iss.ID, "key": iss.Key, "self": site + "/rest/api/3/issue/" + iss.ID, "fields": fields}
}

// deliver shows a new issue in the inbox as the assignee or project would see it.
func (f *Fake) deliver(iss *IssueState, site string) {
	to := "project " + iss.Project
	if iss.AssigneeAccountID != "" {
		to = iss.AssigneeAccountID
	}
	var marker string
	for _, l := range iss.Labels {
		if m, ok := strings.CutPrefix(l, "sitrep-"); ok {
			marker = m
			break
		}
	}
	text := iss.Description
	if iss.Priority != "" {
		text = "Priority: " + iss.Priority + "\n\n" + text
	}
	f.opts.Inbox.Add(inbox.Message{
		Channel:    "tracker",
		Provider:   provider,
		To:         to,
		Subject:    iss.Key + ": " + iss.Summary,
		Text:       text,
		Incident:   marker,
		ProviderID: iss.Key,
		Links:      []inbox.Link{{Label: iss.Key, URL: site + "/browse/" + iss.Key}},
	})
}

func (f *Fake) find(keyOrID string) *IssueState {
	for _, iss := range f.issues {
		if strings.EqualFold(iss.Key, keyOrID) || iss.ID == keyOrID {
			return iss
		}
	}
	return nil
}

func siteURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
}

func writeError(w http.ResponseWriter, status int, msgs []string, errs map[string]string) {
	if msgs == nil {
		msgs = []string{}
	}
	if errs == nil {
		errs = map[string]string{}
	}
	writeJSON(w, status, map[string]any{"errorMessages": msgs, "errors": errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
