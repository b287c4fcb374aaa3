package workflows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
)

// testCatalog: alice and bob take turns on call in weekly shifts; level 1
// pages the rotation, level 2 pages carol; the policy runs twice, then frank
// hears. SEV1 on tier 1 pages by sms and chat. Stakeholders are never told
// and there is no war room: the paging tests see pages only (comms_test.go
// has its own catalog).
const testCatalog = `
catch_all: pay
people:
  - handle: alice
    contacts: [{sms: "+15550100001"}, {chat: U1}, {email: alice@example.com}]
  - handle: bob
    contacts: [{sms: "+15550100002"}, {email: bob@example.com}]
  - handle: carol
    contacts: [{voice: "+15550100003"}, {sms: "+15550100003"}, {pagerduty: 0123456789abcdef0123456789abcdef}]
  - handle: frank
    contacts: [{email: frank@example.com}]
  - handle: zed
    contacts: [{email: zed@example.com}]
rotations:
  - name: primary
    members: [alice, bob]
    shift: weekly
    handoff_time: "09:00"
    timezone: UTC
    start: 2026-11-23
teams:
  - name: pay
    rotation: primary
    policy: pay-policy
    members: [alice, bob, carol]
  - name: other
    policy: pay-policy
    members: [zed]
services:
  - name: checkout
    team: pay
    tier: 1
escalation_policies:
  - name: pay-policy
    levels:
      - targets: [{rotation: primary}]
        delay: 5m
      - targets: [{person: carol}]
        delay: 10m
    repeat: 1
    fallback: frank
severities:
  SEV1:
    channels: {1: [sms, chat], 2: [sms], 3: [sms]}
    update_cadence: 30m
    repage_after_ack: 30m
    notice: none
    war_room: none
  SEV2:
    channels: {1: [pagerduty], 2: [sms], 3: [sms]}
    update_cadence: 1h
    notice: none
    war_room: none
  SEV3:
    channels: {1: [email], 2: [email], 3: [email]}
    update_cadence: 4h
    notice: none
    war_room: none
  SEV4:
    channels: {1: [email], 2: [email], 3: [email]}
    update_cadence: none
    notice: none
    war_room: none
comms:
  role_unfilled_after: none
`

// quiet keeps the SDK's debug lines out of test output; failures say enough.
var quiet = log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// start is a Wednesday: alice is on call (her shift began Monday 09:00 UTC).
var start = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

type sent struct {
	person  string
	channel catalog.Channel
	after   time.Duration // virtual time since the incident opened
}

// recorder is a Notifier on every channel that records what it sent, in
// virtual time, and fails where told to.
type recorder struct {
	env   *testsuite.TestWorkflowEnvironment
	ch    catalog.Channel
	mu    *sync.Mutex
	sent  *[]sent
	fails map[string]error // person/channel → error
	// keys are the pager-of-record keys triggered ("trigger KEY") and
	// synced ("resolve KEY").
	keys *[]string
}

// Sync records that the pager of record heard of an acknowledgment or resolution.
func (r recorder) Sync(ctx context.Context, action string, m activities.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.sent = append(*r.sent, sent{m.Person, catalog.Channel(string(r.ch) + ":" + action), r.env.Now().Sub(start)})
	*r.keys = append(*r.keys, action+" "+m.AlertKey())
	return nil
}

func (r recorder) Notify(ctx context.Context, m activities.Message) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fails[m.Person+"/"+string(r.ch)]; err != nil {
		return "", err
	}
	*r.sent = append(*r.sent, sent{m.Person, r.ch, r.env.Now().Sub(start)})
	if r.ch == catalog.PagerDuty {
		*r.keys = append(*r.keys, "trigger "+m.AlertKey())
	}
	return fmt.Sprintf("%s-%d", r.ch, len(*r.sent)), nil
}

type harness struct {
	t    *testing.T
	env  *testsuite.TestWorkflowEnvironment
	mu   sync.Mutex
	sent []sent
	keys []string
}

func newHarness(t *testing.T, fails map[string]error) *harness {
	t.Helper()
	return newHarnessWith(t, fails, nil, nil)
}

// newHarnessWith builds a harness whose activities read the catalog from
// cat (the test catalog when nil) and claim bundling windows from pagers.
func newHarnessWith(t *testing.T, fails map[string]error, cat activities.Catalog, pagers activities.Pagers) *harness {
	t.Helper()
	return newHarnessComms(t, fails, cat, pagers, activities.CommsDeps{})
}

// newHarnessComms is newHarnessWith with comms providers (whose activities
// a test mocks; what matters is which are configured).
func newHarnessComms(t *testing.T, fails map[string]error, cat activities.Catalog, pagers activities.Pagers, cd activities.CommsDeps) *harness {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(quiet)
	h := &harness{t: t, env: ts.NewTestWorkflowEnvironment()}
	h.env.SetStartTime(start)
	if cat == nil {
		c, err := catalog.Parse("test.yaml", []byte(testCatalog))
		if err != nil {
			t.Fatalf("catalog: %v", err)
		}
		cat = activities.StaticCatalog{C: c}
	}
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	n := map[catalog.Channel]activities.Notifier{}
	for _, ch := range []catalog.Channel{catalog.SMS, catalog.Voice, catalog.Email, catalog.Chat, catalog.PagerDuty} {
		n[ch] = recorder{env: h.env, ch: ch, mu: &h.mu, sent: &h.sent, fails: fails, keys: &h.keys}
	}
	h.env.RegisterActivity(&activities.Activities{Catalog: cat, Notifiers: n, Templates: tmpl, Pagers: pagers, Comms: cd})
	Register(h.env)
	return h
}

func alert(summary string) Alert {
	return Alert{Source: Monitoring, Service: "checkout", Severity: catalog.SEV1, Summary: summary,
		DedupKey: "checkout|" + summary, Integration: "test", ReceivedAt: start}
}

// at runs f at virtual time d after the incident opened.
func (h *harness) at(d time.Duration, f func()) { h.env.RegisterDelayedCallback(f, d) }

// ack acknowledges as person, which must succeed.
func (h *harness) ack(person string) {
	h.env.UpdateWorkflowNoRejection(AcknowledgeUpdate, "", h.t, AckRequest{Person: person, Channel: "cli"})
}

// ackRejected acknowledges as person and stores the rejection in *rejected
// once the update is processed.
func (h *harness) ackRejected(person string, rejected *error) {
	h.env.UpdateWorkflow(AcknowledgeUpdate, "", &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { *rejected = err },
		OnAccept:   func() { h.t.Errorf("ack by %s accepted, want rejected", person) },
		OnComplete: func(any, error) {},
	}, AckRequest{Person: person, Channel: "cli"})
}

func (h *harness) phase(update string) {
	h.env.UpdateWorkflowNoRejection(update, "", h.t, PhaseRequest{By: "test"})
}

func (h *harness) state() IncidentState {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(StateQuery)
	if err != nil {
		h.t.Fatalf("query: %v", err)
	}
	var st IncidentState
	if err := v.Get(&st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

func (h *harness) run(al Alert) IncidentState {
	h.t.Helper()
	h.env.ExecuteWorkflow(Incident, IncidentInput{Alert: al})
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatalf("workflow error: %v", err)
	}
	var st IncidentState
	if err := h.env.GetWorkflowResult(&st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

func (h *harness) wantSent(want []sent) {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	// Pages to several channels at once go out in parallel: order within an instant is free.
	order := func(a, b sent) int {
		if a.after != b.after {
			return int(a.after - b.after)
		}
		if a.person != b.person {
			return strings.Compare(a.person, b.person)
		}
		return strings.Compare(string(a.channel), string(b.channel))
	}
	slices.SortFunc(h.sent, order)
	slices.SortFunc(want, order)
	if !slices.Equal(h.sent, want) {
		h.t.Fatalf("pages sent:\n got %v\nwant %v", h.sent, want)
	}
}

// kinds lists the paging part's timeline: the roles it gives (the first
// acknowledger becomes commander) are the response part's.
func kinds(st IncidentState) []string {
	var out []string
	for _, e := range st.Timeline {
		if e.Kind != "role" {
			out = append(out, e.Kind)
		}
	}
	return out
}

const m = time.Minute

func TestEscalationClimbsRepeatsAndFallsBack(t *testing.T) {
	h := newHarness(t, nil)
	var during IncidentState
	h.at(31*m, func() { during = h.state() })
	h.at(40*m, func() {
		h.ack("bob")
	})
	h.at(45*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("error rate 12%"))

	// Level delays exact: level 1 at 0, level 2 at 5m, round 2 at 15m and
	// 20m, then frank at 30m on his only channel, email.
	h.wantSent([]sent{
		{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0},
		{"carol", catalog.SMS, 5 * m},
		{"alice", catalog.SMS, 15 * m}, {"alice", catalog.Chat, 15 * m},
		{"carol", catalog.SMS, 20 * m},
		{"frank", catalog.Email, 30 * m},
	})
	if !during.Unacknowledged || during.Phase != Triggered {
		t.Fatalf("after exhaustion: phase %s, unacknowledged %v; want triggered and unacknowledged", during.Phase, during.Unacknowledged)
	}
	if st.Phase != Resolved || st.AcknowledgedBy != "bob" || st.Unacknowledged {
		t.Fatalf("final: phase %s, ackedBy %q, unacknowledged %v", st.Phase, st.AcknowledgedBy, st.Unacknowledged)
	}
	if got := st.AcknowledgedAt.Sub(start); got != 40*m {
		t.Fatalf("acknowledged %s after open, want 40m", got)
	}
	want := []string{"opened", "routed", "paging", "escalated", "paging", "escalated", "paging", "escalated", "paging", "escalated", "exhausted", "acknowledged", "resolved", "postincident"}
	if !slices.Equal(kinds(st), want) {
		t.Fatalf("timeline:\n got %v\nwant %v", kinds(st), want)
	}
}

func TestAckStopsEscalation(t *testing.T) {
	for _, tt := range []struct {
		name  string
		ackAt time.Duration
		by    string
		want  []sent
	}{
		// Watched past the 30-minute re-page (and past where the policy
		// would have run out): the acknowledger's re-page is all that follows.
		{"at level 1", 2 * m, "alice", []sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0},
			{"alice", catalog.SMS, 32 * m}, {"alice", catalog.Chat, 32 * m}}},
		{"at level 2", 7 * m, "carol", []sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}, {"carol", catalog.SMS, 5 * m},
			{"carol", catalog.SMS, 37 * m}}},
		{"in round 2", 16 * m, "bob", []sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}, {"carol", catalog.SMS, 5 * m},
			{"alice", catalog.SMS, 15 * m}, {"alice", catalog.Chat, 15 * m}, {"bob", catalog.SMS, 46 * m}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.at(tt.ackAt, func() {
				h.ack(tt.by)
			})
			h.at(tt.ackAt+40*m, func() { h.phase(MitigateUpdate) })
			h.at(tt.ackAt+45*m, func() { h.phase(ResolveUpdate) })
			st := h.run(alert("latency"))
			h.wantSent(tt.want)
			if st.AcknowledgedBy != tt.by || st.Phase != Resolved {
				t.Fatalf("acknowledgedBy %q phase %s", st.AcknowledgedBy, st.Phase)
			}
			if got := h.env.Now().Sub(start); got != tt.ackAt+45*m {
				t.Fatalf("incident took %s of virtual time, want %s", got, tt.ackAt+45*m)
			}
		})
	}
}

func TestRepageAfterAckUntilMitigated(t *testing.T) {
	h := newHarness(t, nil)
	h.at(2*m, func() {
		h.ack("bob")
	})
	h.at(70*m, func() { h.phase(MitigateUpdate) })
	h.at(200*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("disk full"))
	// bob acknowledged at 2m; not mitigated by 32m, nor by 62m: paged on sms
	// both times (his only SEV1 channel); mitigation at 70m ends it.
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}, {"bob", catalog.SMS, 32 * m}, {"bob", catalog.SMS, 62 * m}})
	if n := slices.Index(kinds(st), "repaged"); n < 0 {
		t.Fatalf("timeline has no repaged event: %v", kinds(st))
	}
}

func TestRepeatsFoldWithoutPaging(t *testing.T) {
	h := newHarness(t, nil)
	for i := 1; i <= 3; i++ {
		h.at(time.Duration(i)*m, func() {
			al := alert("error rate 12%")
			al.ReceivedAt = start.Add(time.Duration(i) * m)
			h.env.SignalWorkflow(AlertSignal, al)
		})
	}
	h.at(4*m, func() {
		h.ack("alice")
	})
	h.at(5*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("error rate 12%"))
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}})
	if st.AlertCount != 4 || !st.LastSeen.Equal(start.Add(3*m)) {
		t.Fatalf("alertCount %d lastSeen %s; want 4 and %s", st.AlertCount, st.LastSeen, start.Add(3*m))
	}
}

func TestRejectedAcksChangeNothing(t *testing.T) {
	h := newHarness(t, nil)
	var before, afterRejects IncidentState
	var errUnknown, errOutsider, errTwice error
	h.at(1*m, func() {
		before = h.state()
		h.ackRejected("nobody", &errUnknown)
		h.ackRejected("zed", &errOutsider)
	})
	h.at(90*time.Second, func() { afterRejects = h.state() })
	h.at(2*m, func() { h.ack("carol") })
	h.at(150*time.Second, func() { h.ackRejected("bob", &errTwice) })
	h.at(3*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("queue backlog"))

	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"unknown person", errUnknown, `"nobody" is not a responder for checkout (team pay)`},
		{"person of another team", errOutsider, `"zed" is not a responder for checkout (team pay)`},
		{"second ack", errTwice, "already acknowledged by carol at 2026-11-25T03:02:00Z"},
	} {
		var app *temporal.ApplicationError
		if !errors.As(c.err, &app) || app.Message() != c.want {
			t.Errorf("%s: got error %v, want %q", c.name, c.err, c.want)
		}
	}
	if before.Phase != afterRejects.Phase || len(before.Timeline) != len(afterRejects.Timeline) || afterRejects.AcknowledgedBy != "" {
		t.Fatalf("rejected acks changed the state: before %+v after %+v", before, afterRejects)
	}
	if st.AcknowledgedBy != "carol" {
		t.Fatalf("acknowledgedBy %q, want carol", st.AcknowledgedBy)
	}
}

func TestPermanentFailureFallsBackToNextChannel(t *testing.T) {
	bad := &integrations.Error{Provider: "twilio", Kind: integrations.Permanent, Status: 400, Code: "21610", Message: "unsubscribed"}
	h := newHarness(t, map[string]error{"alice/sms": bad})
	h.at(1*m, func() {
		h.ack("alice")
	})
	h.at(2*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("5xx"))
	// sms refused for good: alice's next channel after sms and chat is email.
	h.wantSent([]sent{{"alice", catalog.Chat, 0}, {"alice", catalog.Email, 0}})
	var outcomes []string
	for _, p := range st.Pages {
		outcomes = append(outcomes, fmt.Sprintf("%s/%s/%s", p.Person, p.Channel, p.Outcome))
	}
	slices.Sort(outcomes)
	if want := []string{"alice/chat/delivered", "alice/email/delivered", "alice/sms/failed"}; !slices.Equal(outcomes, want) {
		t.Fatalf("pages: got %v want %v", outcomes, want)
	}
	for _, p := range st.Pages {
		if p.Outcome == Failed && p.Error == "" {
			t.Fatalf("failed page carries no error: %+v", p)
		}
	}
}

func TestEscalateSkipsTheWait(t *testing.T) {
	h := newHarness(t, nil)
	var level int
	h.at(1*m, func() {
		h.env.UpdateWorkflow(EscalateUpdate, "", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("escalate rejected: %v", err) }, OnAccept: func() {},
			OnComplete: func(v any, err error) {
				if r, ok := v.(EscalateResult); ok {
					level = r.Level
				}
			},
		}, EscalateRequest{Person: "alice", Channel: "sms"})
	})
	h.at(2*m, func() {
		h.ack("carol")
	})
	h.at(3*m, func() { h.phase(ResolveUpdate) })
	h.run(alert("escalate me"))
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}, {"carol", catalog.SMS, 1 * m}})
	if level != 2 {
		t.Fatalf("escalate answered level %d, want 2", level)
	}
}

func TestUnknownServiceGoesToCatchAll(t *testing.T) {
	h := newHarness(t, nil)
	h.at(1*m, func() { h.phase(ResolveUpdate) })
	al := alert("mystery")
	al.Service = "mystery-svc"
	st := h.run(al)
	if st.KnownService || st.Team != "pay" || st.Tier != 1 {
		t.Fatalf("known %v team %q tier %d; want unknown, pay, 1", st.KnownService, st.Team, st.Tier)
	}
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}})
}

func TestInvalidAlertStartsNothing(t *testing.T) {
	h := newHarness(t, nil)
	h.env.ExecuteWorkflow(Incident, IncidentInput{Alert: Alert{Service: "checkout", Severity: "SEV9", Source: Monitoring}})
	err := h.env.GetWorkflowError()
	if err == nil {
		t.Fatal("invalid alert ran")
	}
	for _, want := range []string{`severity "SEV9"`, "summary is empty", "dedup key is empty"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	h.wantSent(nil)
}

func TestSourceResolvedMitigatesAndRefiringReopens(t *testing.T) {
	h := newHarness(t, nil)
	var mitigated IncidentState
	resolvedAlert := alert("error rate 12%")
	resolvedAlert.Resolved = true
	h.at(2*m, func() { h.env.SignalWorkflow(AlertSignal, resolvedAlert) })
	h.at(3*m, func() { mitigated = h.state() })
	h.at(10*m, func() { h.env.SignalWorkflow(AlertSignal, alert("error rate 12%")) })
	h.at(11*m, func() { h.ack("carol") })
	h.at(12*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("error rate 12%"))
	if mitigated.Phase != Mitigated || !mitigated.MitigatedBySource || mitigated.MitigatedBy != "test" {
		t.Fatalf("after the source resolved: phase %s bySource %v by %q", mitigated.Phase, mitigated.MitigatedBySource, mitigated.MitigatedBy)
	}
	// Paging stopped at 2m (no level 2 at 5m). Nobody had answered: the
	// alert firing again at 10m resumes the escalation where it stood, and
	// level 1's 5 minutes are long past, so level 2 (carol) is paged at once.
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}, {"carol", catalog.SMS, 10 * m}})
	if !slices.Contains(kinds(st), "reopened") || st.AlertCount != 3 {
		t.Fatalf("timeline %v alerts %d", kinds(st), st.AlertCount)
	}
}

func TestSourceResolvedCanResolve(t *testing.T) {
	h := newHarness(t, nil)
	al := alert("disk full")
	al.Resolved, al.ResolveIncident = true, true
	h.at(1*m, func() { h.env.SignalWorkflow(AlertSignal, al) })
	st := h.run(alert("disk full"))
	if st.Phase != Resolved || h.env.Now().Sub(start) != 1*m {
		t.Fatalf("phase %s after %s; want resolved after 1m", st.Phase, h.env.Now().Sub(start))
	}
}

func TestPagerOfRecordFollowsAckMitigateAndResolve(t *testing.T) {
	h := newHarness(t, nil)
	h.at(6*m, func() { h.ack("carol") })
	h.at(7*m, func() { h.phase(MitigateUpdate) })
	h.at(8*m, func() { h.phase(ResolveUpdate) })
	al := alert("payments down")
	al.Severity = catalog.SEV2
	h.run(al)
	// SEV2 on tier 1 pages by PagerDuty: alice has none and is paged on her
	// first contact (sms); carol's PagerDuty alert follows her
	// acknowledgment and is resolved at mitigation, once: the resolution
	// has nothing left to tell it.
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"carol", catalog.PagerDuty, 5 * m},
		{"carol", "pagerduty:acknowledge", 6 * m}, {"carol", "pagerduty:resolve", 7 * m}})
}

// TestContinueAsNewMidLevel: when history grows, the incident continues as
// new between pages; the next run resumes the level's wait without paging it
// again, and keeps the alerts that arrived meanwhile.
func TestContinueAsNewMidLevel(t *testing.T) {
	h := newHarness(t, nil)
	h.at(1*m, func() { h.env.SignalWorkflow(AlertSignal, alert("error rate 12%")) })
	// The callback itself wakes the workflow, which sees the suggestion.
	h.at(2*m, func() { h.env.SetContinueAsNewSuggested(true) })
	h.env.ExecuteWorkflow(Incident, IncidentInput{Alert: alert("error rate 12%")})
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	var next IncidentInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.State == nil || next.State.AlertCount+len(next.Pending) != 2 || !next.State.Escalation.Paged || next.State.Escalation.Level != 0 {
		t.Fatalf("carried state: %+v, pending %d", next.State, len(next.Pending))
	}
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}})

	// The next run, from 2m: level 2 at 5m as planned, level 1 not again.
	h2 := newHarness(t, nil)
	h2.env.SetStartTime(start.Add(2 * m))
	h2.at(4*m, func() { h2.ack("carol") }) // at 6m
	h2.at(5*m, func() { h2.phase(ResolveUpdate) })
	h2.env.ExecuteWorkflow(Incident, next)
	if err := h2.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var st IncidentState
	if err := h2.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	h2.wantSent([]sent{{"carol", catalog.SMS, 5 * m}})
	if st.AlertCount != 2 || st.AcknowledgedBy != "carol" || len(st.Pages) != 3 {
		t.Fatalf("after the new run: alerts %d ackedBy %q pages %d", st.AlertCount, st.AcknowledgedBy, len(st.Pages))
	}
}

func TestStaleAnswersAreRefused(t *testing.T) {
	h := newHarness(t, nil)
	var stale error
	h.at(1*m, func() {
		h.env.UpdateWorkflow(AcknowledgeUpdate, "", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { stale = err }, OnAccept: func() { t.Error("stale ack accepted") }, OnComplete: func(any, error) {},
		}, AckRequest{Person: "alice", Channel: "link", Run: "an-earlier-run"})
	})
	h.at(2*m, func() {
		h.env.UpdateWorkflowNoRejection(AcknowledgeUpdate, "", t, AckRequest{Person: "alice", Channel: "link", Run: "default-test-run-id"})
	})
	h.at(3*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("stale"))
	var app *temporal.ApplicationError
	if !errors.As(stale, &app) || app.Type() != RejectStale {
		t.Fatalf("stale ack: %v", stale)
	}
	if st.AcknowledgedAt.Sub(start) != 2*m {
		t.Fatalf("acknowledged at %s, want 2m", st.AcknowledgedAt.Sub(start))
	}
}

// TestUnreachableLevelEscalatesAtOnce: when every channel of everyone at a
// level fails for good, the next level is paged now, not after the delay.
func TestUnreachableLevelEscalatesAtOnce(t *testing.T) {
	bad := &integrations.Error{Provider: "test", Kind: integrations.Permanent, Code: "21211"}
	h := newHarness(t, map[string]error{"alice/sms": bad, "alice/chat": bad, "alice/email": bad})
	h.at(1*m, func() { h.ack("carol") })
	h.at(2*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("nobody home"))
	h.wantSent([]sent{{"carol", catalog.SMS, 0}})
	if !slices.Contains(kinds(st), "escalated") {
		t.Fatalf("timeline %v", kinds(st))
	}
}

// TestEscalateFromAnEarlierLevelDoesNotSkip: alice answers level 1's page
// with "escalate" just after level 2 went out: level 2 keeps its wait.
func TestEscalateFromAnEarlierLevelDoesNotSkip(t *testing.T) {
	h := newHarness(t, nil)
	var level int
	h.at(5*m+10*time.Second, func() {
		h.env.UpdateWorkflow(EscalateUpdate, "", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("escalate rejected: %v", err) }, OnAccept: func() {},
			OnComplete: func(v any, err error) { r, _ := v.(EscalateResult); level = r.Level },
		}, EscalateRequest{Person: "alice", Channel: "sms"})
	})
	h.at(8*m, func() { h.ack("carol") })
	h.at(9*m, func() { h.phase(ResolveUpdate) })
	h.run(alert("late escalate"))
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}, {"carol", catalog.SMS, 5 * m}})
	if level != 2 {
		t.Fatalf("escalate answered level %d, want 2", level)
	}
}
