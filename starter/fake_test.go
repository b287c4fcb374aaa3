package starter

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sitrep-dev/sitrep/integrations/acklink"
	"github.com/sitrep-dev/sitrep/workflows"
)

// fakeIncidents is an in-memory Incidents. Like Temporal, it answers a
// repeated request ID with the first answer and records the update once.
type fakeIncidents struct {
	mu        sync.Mutex
	alerts    []workflows.Alert
	open      map[string]bool
	states    map[string]workflows.IncidentState
	acks      []call
	resolves  []call
	seen      map[string]any // request ID → first result
	alertErr  error          // Alert fails with it once failAfter alerts are recorded
	failAfter int
	updateErr error // Acknowledge, Escalate and Resolve fail with it
	statusErr error
	readyErr  error
	listed    []Listed
	listErr   error
	rooms     map[string]string // chat channel ID → the incident it is the war room of
	commands  []cmdCall
	rejectErr error // Mitigate, PostUpdate and AssignRole are refused with it
}

// cmdCall is one update a command asked for: what reached the starter.
type cmdCall struct {
	Kind, ID, RequestID string
	Req                 any
}

// call is one recorded update.
type call struct {
	ID, RequestID, Person, Channel, Kind string
}

func newFake() *fakeIncidents {
	return &fakeIncidents{open: map[string]bool{}, states: map[string]workflows.IncidentState{}, seen: map[string]any{}, rooms: map[string]string{}}
}

func (f *fakeIncidents) Alert(_ context.Context, al workflows.Alert) (Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.alertErr != nil && len(f.alerts) >= f.failAfter {
		return Receipt{}, f.alertErr
	}
	if err := workflows.ValidateAlert(al); err != nil {
		return Receipt{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	f.alerts = append(f.alerts, al)
	id := workflows.IncidentID(al.Service, al.DedupKey)
	if al.Resolved && !f.open[id] {
		return Receipt{IncidentID: id, Ignored: true}, nil
	}
	opened := !f.open[id]
	f.open[id] = true
	return Receipt{IncidentID: id, Opened: opened}, nil
}

func (f *fakeIncidents) Acknowledge(_ context.Context, id, requestID string, req workflows.AckRequest) (workflows.AckResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.seen[requestID]; ok && requestID != "" {
		return r.(workflows.AckResult), nil
	}
	if f.updateErr != nil {
		return workflows.AckResult{}, f.updateErr
	}
	st, ok := f.states[id]
	if !ok {
		return workflows.AckResult{}, fmt.Errorf("acknowledge %s: %w", id, ErrNotFound)
	}
	if st.AcknowledgedBy != "" {
		return workflows.AckResult{}, &RejectedError{Type: workflows.RejectAlreadyAcknowledged,
			Message: "already acknowledged by " + st.AcknowledgedBy, By: st.AcknowledgedBy, At: *st.AcknowledgedAt}
	}
	if req.Person == "mallory" {
		return workflows.AckResult{}, &RejectedError{Type: workflows.RejectUnknownResponder, Message: "mallory is not a responder on " + id}
	}
	at := time.Date(2026, 3, 2, 10, 4, 0, 0, time.UTC)
	st.AcknowledgedBy, st.AcknowledgedAt, st.Phase = req.Person, &at, workflows.Acknowledged
	f.states[id] = st
	f.acks = append(f.acks, call{id, requestID, req.Person, req.Channel, "ack"})
	res := workflows.AckResult{Person: req.Person, At: at}
	f.seen[requestID] = res
	return res, nil
}

func (f *fakeIncidents) Escalate(_ context.Context, id, requestID string, req workflows.EscalateRequest) (workflows.EscalateResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.seen[requestID]; ok && requestID != "" {
		return r.(workflows.EscalateResult), nil
	}
	if f.updateErr != nil {
		return workflows.EscalateResult{}, f.updateErr
	}
	if _, ok := f.states[id]; !ok {
		return workflows.EscalateResult{}, fmt.Errorf("escalate %s: %w", id, ErrNotFound)
	}
	f.acks = append(f.acks, call{id, requestID, req.Person, req.Channel, "escalate"})
	res := workflows.EscalateResult{Level: 2}
	f.seen[requestID] = res
	return res, nil
}

func (f *fakeIncidents) Resolve(_ context.Context, id, requestID string, req workflows.PhaseRequest) (workflows.PhaseResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.updateErr != nil {
		return workflows.PhaseResult{}, f.updateErr
	}
	st, ok := f.states[id]
	if !ok || st.Phase == workflows.Resolved {
		return workflows.PhaseResult{}, fmt.Errorf("resolve %s: %w", id, ErrNotFound)
	}
	st.Phase = workflows.Resolved
	f.states[id] = st
	f.resolves = append(f.resolves, call{ID: id, Person: req.By, Kind: "resolve"})
	f.commands = append(f.commands, cmdCall{"resolve", id, requestID, req})
	return workflows.PhaseResult{Phase: workflows.Resolved, At: testNow}, nil
}

// command records an update a command asked for, answering like Temporal:
// not found, refused, or done once per request ID.
func (f *fakeIncidents) command(kind, id, requestID string, req any) (first any, err error) {
	if r, ok := f.seen[requestID]; ok && requestID != "" {
		return r, nil
	}
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	if _, ok := f.states[id]; !ok {
		return nil, fmt.Errorf("%s %s: %w (it may be resolved already)", kind, id, ErrNotFound)
	}
	if f.rejectErr != nil {
		return nil, f.rejectErr
	}
	f.commands = append(f.commands, cmdCall{kind, id, requestID, req})
	return nil, nil
}

// commandAnswer answers one command as Temporal and the client would:
// invalid, not found, refused, the first answer to its request ID, or res.
func commandAnswer[R any](f *fakeIncidents, kind, id, requestID string, req any, invalid error, res R) (R, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var zero R
	if invalid != nil {
		return zero, invalid
	}
	if first, err := f.command(kind, id, requestID, req); first != nil || err != nil {
		r, _ := first.(R)
		return r, err
	}
	f.seen[requestID] = res
	return res, nil
}

func (f *fakeIncidents) Mitigate(_ context.Context, id, requestID string, req workflows.PhaseRequest) (workflows.PhaseResult, error) {
	return commandAnswer(f, "mitigate", id, requestID, req, nil, workflows.PhaseResult{Phase: workflows.Mitigated, At: testNow})
}

func (f *fakeIncidents) PostUpdate(_ context.Context, id, requestID string, req workflows.UpdateRequest) (workflows.UpdateResult, error) {
	next := testNow.Add(30 * time.Minute)
	res := workflows.UpdateResult{At: testNow, Status: req.Status, NextDue: &next}
	if res.Status == "" {
		res.Status = workflows.StatusInvestigating
	}
	return commandAnswer(f, "post-update", id, requestID, req, ValidateUpdate(req), res)
}

func (f *fakeIncidents) AssignRole(_ context.Context, id, requestID string, req workflows.RoleRequest) (workflows.RoleResult, error) {
	return commandAnswer(f, "assign-role", id, requestID, req, ValidateRole(req),
		workflows.RoleResult{Role: req.Role, Person: req.Person, Previous: "alice", At: testNow})
}

func (f *fakeIncidents) FindByRoom(_ context.Context, channelID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return "", f.listErr
	}
	id, ok := f.rooms[channelID]
	if !ok {
		return "", fmt.Errorf("room %s: %w: no open incident has this channel as its war room", channelID, ErrNotFound)
	}
	return id, nil
}

func (f *fakeIncidents) commandsMade() []cmdCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]cmdCall(nil), f.commands...)
}

func (f *fakeIncidents) Status(_ context.Context, id string) (workflows.IncidentState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.statusErr != nil {
		return workflows.IncidentState{}, f.statusErr
	}
	st, ok := f.states[id]
	if !ok {
		return st, fmt.Errorf("status %s: %w", id, ErrNotFound)
	}
	return st, nil
}

func (f *fakeIncidents) List(context.Context, ListFilter) ([]Listed, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.listed, f.listErr
}

func (f *fakeIncidents) Ready(context.Context) error { return f.readyErr }

func (f *fakeIncidents) recorded() []workflows.Alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]workflows.Alert(nil), f.alerts...)
}

func (f *fakeIncidents) updates() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.acks...)
}

// addIncident makes an open incident the fake knows.
func (f *fakeIncidents) addIncident(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.states[id] = workflows.IncidentState{ID: id, Phase: workflows.Triggered, Service: "payments", Severity: "SEV1", Summary: "Checkout error rate above 5%"}
	f.listed = append(f.listed, Listed{ID: id, Phase: "triggered", Service: "payments", Status: "Running"})
}

// fakePeople is a catalog of alice and bob.
type fakePeople struct{}

func (fakePeople) ByPhone(n string) (string, bool) {
	return lookup(map[string]string{"+15550100001": "alice", "+15550100002": "bob"}, n)
}

func (fakePeople) ByChatID(id string) (string, bool) {
	return lookup(map[string]string{"U0CA5": "alice", "U0BOB": "bob", "mm-alice": "alice", "mm-bob": "bob"}, id)
}

func (fakePeople) ByEmail(e string) (string, bool) {
	return lookup(map[string]string{"alice@example.com": "alice"}, e)
}

func lookup(m map[string]string, k string) (string, bool) {
	v, ok := m[k]
	return v, ok
}

// fakeRecent says incPayments is paging alice, and what pages
// others when a test sets it.
type fakeRecent map[string][]Paging

func (f fakeRecent) PagingFor(_ context.Context, person string) ([]Paging, error) {
	if person == "alice" && f["alice"] == nil {
		return []Paging{{IncidentID: incPayments, Summary: "payments down", Message: incPayments}}, nil
	}
	return f[person], nil
}

// Test fixtures.
const (
	incPayments        = "inc-payments-1a2b3c4d"
	amKey              = "am-key-0123456789abcdef"
	amKeyRotated       = "am-key-fedcba9876543210"
	grafanaKey         = "grafana-key-0123456789"
	genericKey         = "generic-key-0123456789"
	reportKey          = "report-key-0123456789a"
	pdRoutingKey       = "e93facc04764012d7bfb002500d5d1a6"
	twilioToken        = "twilio-auth-token-0123456789abcdef"
	twilioTokenRotated = "twilio-auth-token-rotated-fedcba98"
	slackSecret        = "8f742231b10e8888abcd99yyyzzz85a5"
	slackSecretRotated = "slack-signing-secret-rotated-0001"
	pdService          = "PF9KMXH"
	pdSecret           = "pd-webhook-secret-0123456789"
	pdSecretRotated    = "pd-webhook-secret-rotated-9876"
	publicURL          = "https://sitrep.example.com"

	mmCommandToken        = "xbt6dmfa4pgbzdqr8ka6ztwsqe"
	mmCommandTokenRotated = "9gqyf1ucwprdzmr7wpyw5s1e4h"
)

var testNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func testSigner(t *testing.T) *acklink.Signer {
	t.Helper()
	s, err := acklink.New(publicURL, time.Hour, []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	return s
}

func testConfig(t *testing.T) IntakeConfig {
	return IntakeConfig{
		Keys: map[string][]Key{
			IntegrationAlertmanager: {{Value: amKey}, {Value: amKeyRotated}},
			IntegrationGrafana:      {{Value: grafanaKey}},
			IntegrationGeneric:      {{Value: genericKey}},
			IntegrationReport:       {{Value: reportKey}},
			IntegrationPagerDuty:    {{Value: pdRoutingKey, Service: "datapipe"}},
		},
		PublicURL:               publicURL,
		AckLinks:                testSigner(t),
		People:                  fakePeople{},
		RecentPages:             fakeRecent{},
		TwilioAuthTokens:        []string{twilioToken, twilioTokenRotated},
		SlackSigningSecrets:     []string{slackSecret, slackSecretRotated},
		PagerDutyWebhookSecrets: []string{pdSecret, pdSecretRotated},
		MattermostCommandTokens: []string{mmCommandToken, mmCommandTokenRotated},
		PagerDutyServices:       []string{pdService},
		PagerDutyUsers:          map[string]string{"PLH1HKV": "alice"},
	}
}

// newTestIntake builds an intake on a fresh fake, with the clock at testNow.
func newTestIntake(t *testing.T, mutate ...func(*IntakeConfig)) (*Intake, *fakeIncidents) {
	t.Helper()
	cfg := testConfig(t)
	for _, m := range mutate {
		m(&cfg)
	}
	fake := newFake()
	in, err := NewIntake(cfg, fake, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	in.now = func() time.Time { return testNow }
	in.newKey = func() string { return "0123456789abcdef0123456789abcdef" }
	return in, fake
}

// do serves one request and returns the recorded response.
func do(in *Intake, method, target string, body string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	in.Handler().ServeHTTP(w, r)
	return w
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return string(b)
}

func bearer(key string) []string { return []string{"Authorization", "Bearer " + key} }
