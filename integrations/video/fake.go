package video

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
)

// FakeOptions configures a Fake.
type FakeOptions struct {
	Reporter     fakeapi.Reporter // told of requests the fake does not expect; nil in the sandbox
	AccountID    string           // accepted account_id; empty accepts any non-empty one
	ClientID     string           // accepted client ID; empty accepts any non-empty one
	ClientSecret string           // accepted client secret; empty accepts any non-empty one
	UserIDs      []string         // users besides "me" whose meetings the fake serves
	TokenTTL     time.Duration    // access token lifetime; default one hour, as Zoom's
}

// Fake is an in-memory Zoom that speaks server-to-server OAuth (POST
// /oauth/token) and the meetings endpoints the client uses (POST and GET
// /v2/users/{userId}/meetings). It checks Basic and Bearer auth and answers
// with Zoom's status codes and {"code":…,"message":…} bodies.
type Fake struct {
	// Faults injects failures before the fake handles a request.
	Faults fakeapi.Faults

	opts FakeOptions

	received fakeapi.Log[Request] // wakes WaitFor and the Expect helpers

	mu       sync.Mutex
	tokens   map[string]time.Time // access token → expiry
	meetings []*Meeting           // oldest first
}

// Request is one request the fake handled.
type Request struct {
	Method    string
	Path      string
	GrantType string          // token requests
	AccountID string          // token requests
	Meeting   *MeetingRequest // meeting creations
	Status    int             // the HTTP status the fake answered with
}

// Meeting is a meeting as the fake holds it.
type Meeting struct {
	ID        int64
	UUID      string
	UserID    string
	Topic     string
	Type      int
	StartTime string
	Duration  int
	Timezone  string
	Agenda    string
	Password  string
	JoinURL   string
	StartURL  string
	Settings  MeetingSettings
	CreatedAt time.Time
}

// NewFake returns a fake Zoom account with no meetings.
func NewFake(opts FakeOptions) *Fake {
	if opts.TokenTTL == 0 {
		opts.TokenTTL = time.Hour
	}
	return &Fake{opts: opts, tokens: map[string]time.Time{}}
}

// Register mounts the fake's routes, Zoom's real paths, on mux.
func (f *Fake) Register(mux *http.ServeMux) {
	mux.Handle("POST /oauth/token", f.Faults.Wrap(http.HandlerFunc(f.token)))
	mux.Handle("POST /v2/users/{userId}/meetings", f.Faults.Wrap(f.bearer(f.create)))
	mux.Handle("GET /v2/users/{userId}/meetings", f.Faults.Wrap(f.bearer(f.list)))
	mux.Handle("/oauth/", fakeapi.Unexpected(f.opts.Reporter, zoomProvider))
	mux.Handle("/v2/users/", fakeapi.Unexpected(f.opts.Reporter, zoomProvider))
}

// Received returns the requests the fake handled, oldest first.
func (f *Fake) Received() []Request { return f.received.All() }

// Meetings returns copies of every meeting, oldest first.
func (f *Fake) Meetings() []Meeting {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Meeting, len(f.meetings))
	for i, m := range f.meetings {
		out[i] = *m
	}
	return out
}

// ExpireTokens makes every access token issued so far invalid, as when Zoom
// expires or revokes them; the next API call gets code 124.
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for t := range f.tokens {
		f.tokens[t] = time.Time{}
	}
}

// WaitFor returns the first request pred accepts, waiting for it until ctx ends.
func (f *Fake) WaitFor(ctx context.Context, pred func(Request) bool) (Request, error) {
	return f.received.WaitFor(ctx, pred)
}

// ExpectMeeting waits up to five seconds for a meeting created for marker
// (its agenda is "sitrep incident <marker>"), and fails t when none comes.
func (f *Fake) ExpectMeeting(t testing.TB, marker string) Meeting {
	t.Helper()
	var found Meeting
	if !f.received.Eventually(func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, m := range f.meetings {
			if m.Agenda == agendaPrefix+marker {
				found = *m
				return true
			}
		}
		return false
	}) {
		t.Fatalf("zoom fake: no meeting for %q; have %+v", marker, f.Meetings())
	}
	return found
}

// ErrorFault answers with status and Zoom's {"code":code,"message":message}.
func ErrorFault(status, code int, message string) fakeapi.Fault {
	b, _ := json.Marshal(map[string]any{"code": code, "message": message})
	return fakeapi.Fault{Status: status, Body: string(b)}
}

// RateLimitFault answers 429 as Zoom does, with Retry-After in seconds when retryAfter is positive.
func RateLimitFault(retryAfter time.Duration) fakeapi.Fault {
	fl := ErrorFault(http.StatusTooManyRequests, 429, "You have reached the maximum per-second rate limit for this API. Try again later.")
	fl.Header = map[string]string{"X-RateLimit-Type": "QPS", "X-RateLimit-Category": "Light"}
	if retryAfter > 0 {
		fl.Header["Retry-After"] = strconv.Itoa(int(retryAfter / time.Second))
	}
	return fl
}

// token serves server-to-server OAuth: Basic client_id:secret, and
// grant_type and account_id in the query or the form body.
func (f *Fake) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"reason": "Invalid request : Bad Request", "error": "invalid_request"})
		return
	}
	req := Request{Method: r.Method, Path: r.URL.Path, GrantType: r.Form.Get("grant_type"), AccountID: r.Form.Get("account_id")}
	id, secret, ok := r.BasicAuth()
	status, body := http.StatusOK, map[string]any(nil)
	switch {
	case !ok || id == "" || secret == "" || (f.opts.ClientID != "" && id != f.opts.ClientID) || (f.opts.ClientSecret != "" && secret != f.opts.ClientSecret):
		status, body = http.StatusBadRequest, map[string]any{"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
	case req.GrantType != "account_credentials":
		status, body = http.StatusBadRequest, map[string]any{"reason": "unsupported grant type", "error": "unsupported_grant_type"}
	case req.AccountID == "" || (f.opts.AccountID != "" && req.AccountID != f.opts.AccountID):
		status, body = http.StatusBadRequest, map[string]any{"reason": "Invalid account_id", "error": "invalid_request"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if status == http.StatusOK {
		tok := "fake-zoom-" + randomHex(16)
		f.tokens[tok] = time.Now().Add(f.opts.TokenTTL)
		body = map[string]any{
			"access_token": tok, "token_type": "bearer", "expires_in": int(f.opts.TokenTTL / time.Second),
			"scope": "meeting:write:meeting:admin meeting:read:list_meetings:admin", "api_url": "https://api.zoom.us",
		}
	}
	req.Status = status
	f.received.Add(req)
	writeJSON(w, status, body)
}

// bearer checks the access token and the user as Zoom does.
func (f *Fake) bearer(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		expiry, ok := f.tokens[tok]
		f.mu.Unlock()
		switch {
		case !ok:
			writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 124, "message": "Invalid access token."})
			return
		case time.Now().After(expiry):
			writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 124, "message": "Access token is expired."})
			return
		}
		if user := r.PathValue("userId"); user != DefaultUserID && !slices.Contains(f.opts.UserIDs, user) {
			writeJSON(w, http.StatusNotFound, map[string]any{"code": 1001, "message": "User does not exist: " + user + "."})
			return
		}
		next(w, r)
	}
}

var meetingTypes = []int{1, 2, 3, 8, 10}

func (f *Fake) create(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var in MeetingRequest
	if mt != "application/json" || json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&in) != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": 300, "message": "Request Body should be a valid JSON object."})
		return
	}
	req := Request{Method: r.Method, Path: r.URL.Path, Meeting: &in}
	var field, why string
	switch {
	case !slices.Contains(meetingTypes, in.Type):
		field, why = "type", "Invalid meeting type."
	case len([]rune(in.Topic)) > maxTopic:
		field, why = "topic", "Topic cannot exceed 200 characters."
	case len([]rune(in.Agenda)) > 2000:
		field, why = "agenda", "Agenda cannot exceed 2000 characters."
	case in.Duration < 0:
		field, why = "duration", "Invalid duration."
	case in.StartTime != "" && !validStart(in.StartTime):
		field, why = "start_time", "Invalid start_time, the format should be yyyy-MM-ddTHH:mm:ssZ."
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if field != "" {
		req.Status = http.StatusBadRequest
		f.received.Add(req)
		writeJSON(w, req.Status, map[string]any{"code": 300, "message": "Validation Failed.", "errors": []any{map[string]string{"field": field, "message": why}}})
		return
	}
	now := time.Now().UTC()
	id := 81000000000 + int64(len(f.meetings))*7919 + 17
	pwd := randomHex(16)
	m := &Meeting{
		ID: id, UUID: randomHex(11) + "==", UserID: r.PathValue("userId"), Topic: in.Topic, Type: in.Type,
		StartTime: in.StartTime, Duration: in.Duration, Timezone: in.Timezone, Agenda: in.Agenda,
		Password: pwd[:6], JoinURL: fmt.Sprintf("https://zoom.us/j/%d?pwd=%s", id, pwd),
		StartURL: fmt.Sprintf("https://zoom.us/s/%d?zak=%s", id, randomHex(16)), Settings: in.Settings, CreatedAt: now,
	}
	if m.StartTime == "" {
		m.StartTime = now.Format("2006-01-02T15:04:05Z")
	}
	if m.Timezone == "" {
		m.Timezone = "UTC"
	}
	f.meetings = append(f.meetings, m)
	req.Status = http.StatusCreated
	f.received.Add(req)
	out := render(m)
	out["host_email"] = "owner@example.com"
	out["status"] = "waiting"
	out["start_url"] = m.StartURL
	out["password"] = m.Password
	out["encrypted_password"] = pwd
	out["pre_schedule"] = false
	out["settings"] = map[string]any{"join_before_host": m.Settings.JoinBeforeHost, "jbh_time": m.Settings.JBHTime, "waiting_room": m.Settings.WaitingRoom}
	writeJSON(w, http.StatusCreated, out)
}

// list serves the user's meetings: type scheduled (default), upcoming or
// live; instant meetings are never listed. It pages with next_page_token.
func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	typ := q.Get("type")
	if typ == "" {
		typ = "scheduled"
	}
	if !slices.Contains([]string{"scheduled", "live", "upcoming", "upcoming_meetings", "previous_meetings"}, typ) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": 300, "message": "Invalid field.", "errors": []any{map[string]string{"field": "type", "message": "Invalid meeting type."}}})
		return
	}
	size := 30
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": 300, "message": "Invalid field.", "errors": []any{map[string]string{"field": "page_size", "message": "Invalid page_size."}}})
			return
		}
		size = min(n, 300)
	}
	skip, _ := strconv.Atoi(q.Get("next_page_token"))
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []*Meeting
	for _, m := range f.meetings {
		if m.UserID == r.PathValue("userId") && m.Type != 1 {
			all = append(all, m)
		}
	}
	meetings := []any{}
	end := min(skip+size, len(all))
	for _, m := range all[min(skip, len(all)):end] {
		meetings = append(meetings, render(m))
	}
	next := ""
	if end < len(all) {
		next = strconv.Itoa(end)
	}
	f.received.Add(Request{Method: r.Method, Path: r.URL.Path, Status: http.StatusOK})
	writeJSON(w, http.StatusOK, map[string]any{"page_size": size, "total_records": len(all), "next_page_token": next, "meetings": meetings})
}

// render returns the fields Zoom's list and create responses share.
func render(m *Meeting) map[string]any {
	return map[string]any{
		"uuid": m.UUID, "id": m.ID, "host_id": "fakeHostId", "topic": m.Topic, "type": m.Type,
		"start_time": m.StartTime, "duration": m.Duration, "timezone": m.Timezone, "agenda": m.Agenda,
		"created_at": m.CreatedAt.Format("2006-01-02T15:04:05Z"), "join_url": m.JoinURL,
	}
}

func validStart(s string) bool {
	_, err := time.Parse("2006-01-02T15:04:05Z", s)
	if err != nil {
		_, err = time.Parse("2006-01-02T15:04:05", s)
	}
	return err == nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
