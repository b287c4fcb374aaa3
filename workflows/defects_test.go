package workflows

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// Each test here is one of the paging core's defects (issue 10), in skipped
// time: it failed on the code before the reshape.

// Defect 1: ack, mitigate, monitoring clears, the alert fires 40 minutes later:
// the firing re-opens the incident and pages the person who mitigated it
// first, then the policy from level 1.
func TestFiringAfterAPersonMitigatedPagesThemFirst(t *testing.T) {
	h := newHarness(t, nil)
	cleared := alert("error rate 12%")
	cleared.Resolved = true
	again := alert("error rate 12%")
	again.ReceivedAt = start.Add(60 * m)
	var reopened IncidentState
	h.at(2*m, func() { h.ack("bob") })
	h.at(10*m, func() {
		h.env.UpdateWorkflowNoRejection(MitigateUpdate, "", t, PhaseRequest{By: "bob"})
	})
	h.at(20*m, func() { h.env.SignalWorkflow(AlertSignal, cleared) })
	h.at(60*m, func() { h.env.SignalWorkflow(AlertSignal, again) })
	h.at(61*m, func() { reopened = h.state() })
	h.at(66*m, func() { h.ack("alice") })
	h.at(70*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("error rate 12%"))
	// bob (who mitigated) at 60m, then level 1 (alice) 5 minutes later.
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0},
		{"bob", catalog.SMS, 60 * m}, {"alice", catalog.SMS, 65 * m}, {"alice", catalog.Chat, 65 * m}})
	if reopened.Phase != Triggered || reopened.Escalation.Lead != "bob" {
		t.Fatalf("after the firing: phase %s, lead %q", reopened.Phase, reopened.Escalation.Lead)
	}
	for _, k := range []string{"source.cleared", "reopened"} {
		if !slices.Contains(kinds(st), k) {
			t.Fatalf("timeline has no %s: %v", k, kinds(st))
		}
	}
}

// Defect 1: a repeat of a still-firing alert while mitigated folds in; a
// mitigated incident whose source cleared resolves itself after the
// severity's quiet time (the test catalog's default, 1h).
func TestMitigatedAndClearedResolvesItself(t *testing.T) {
	h := newHarness(t, nil)
	cleared := alert("disk full")
	cleared.Resolved = true
	h.at(2*m, func() { h.ack("alice") })
	h.at(5*m, func() { h.phase(MitigateUpdate) })
	h.at(7*m, func() { h.env.SignalWorkflow(AlertSignal, alert("disk full")) }) // still firing: a repeat
	h.at(30*m, func() { h.env.SignalWorkflow(AlertSignal, cleared) })
	st := h.run(alert("disk full"))
	if got := h.env.Now().Sub(start); got != 90*m || st.Phase != Resolved {
		t.Fatalf("phase %s after %s; want resolved by itself at 90m (cleared at 30m + 1h)", st.Phase, got)
	}
	if slices.Contains(kinds(st), "reopened") {
		t.Fatalf("a repeat of a firing alert re-opened it: %v", kinds(st))
	}
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}})
}

// slowRecipients makes every on-call lookup take d.
func slowRecipients(h *harness, d time.Duration) {
	h.env.OnActivity(recipientsActivity, mock.Anything, mock.Anything).After(d).Return(
		func(_ context.Context, in activities.RecipientsInput) (activities.RecipientsResult, error) {
			c, err := catalog.Parse("test.yaml", []byte(testCatalog))
			if err != nil {
				return activities.RecipientsResult{}, err
			}
			rs, err := c.RecipientsOf(in.Targets, in.At, in.Channels)
			return activities.RecipientsResult{Recipients: rs}, err
		})
}

// Defect 4: an acknowledgment accepted while a level's recipients are being
// looked up stops that level: nobody is paged after it.
func TestAckDuringLookupPagesNobody(t *testing.T) {
	h := newHarness(t, nil)
	slowRecipients(h, 30*time.Second)
	h.at(5*m+10*time.Second, func() { h.ack("alice") }) // level 2's lookup runs 5m..5m30s
	h.at(20*m, func() { h.phase(ResolveUpdate) })
	h.run(alert("lookup race"))
	h.wantSent([]sent{{"alice", catalog.SMS, 30 * time.Second}, {"alice", catalog.Chat, 30 * time.Second}})
}

// swapCatalog is a catalog the test reloads mid-incident, as SIGHUP does.
type swapCatalog struct {
	mu sync.Mutex
	c  *catalog.Catalog
}

func (s *swapCatalog) Current() *catalog.Catalog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c
}

func (s *swapCatalog) load(t *testing.T, yaml string) {
	c, err := catalog.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c = c
}

// Defect 5: a catalog reload that renames and shortens the policy does not
// break a running incident: it pages the levels it routed with; and a
// person the reloaded rotation now puts on call, paged for it, may
// acknowledge.
func TestCatalogReloadKeepsThePlan(t *testing.T) {
	cat := &swapCatalog{}
	cat.load(t, testCatalog)
	h := newHarnessWith(t, nil, cat, nil)
	reloaded := strings.NewReplacer("name: pay-policy", "name: pay-policy-v2", "policy: pay-policy", "policy: pay-policy-v2",
		"members: [alice, bob]", "members: [zed]").Replace(testCatalog)
	h.at(1*m, func() { cat.load(t, reloaded) })
	h.at(16*m, func() { h.ack("zed") }) // round 2, level 1: the rotation is zed now
	h.at(17*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("reload"))
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}, {"carol", catalog.SMS, 5 * m},
		{"zed", catalog.Email, 15 * m}})
	if st.AcknowledgedBy != "zed" || slices.Contains(kinds(st), "exhausted") {
		t.Fatalf("acknowledged by %q, timeline %v", st.AcknowledgedBy, kinds(st))
	}
}

// Defect 6: continue-as-new keeps the head of a long record (the opening,
// the first pages, the acknowledgment) as well as its tail, says what it
// let go and where it is, and keeps everyone ever paged.
func TestContinueAsNewKeepsHeadAndTail(t *testing.T) {
	h := newHarness(t, nil)
	fire, clear := alert("flap"), alert("flap")
	clear.Resolved = true
	// bob acknowledges, then the alert flaps 120 times: each clear mitigates
	// (the source), each firing re-opens and pages alice again.
	h.at(1*m, func() { h.ack("alice") })
	for i := range 120 {
		h.at(time.Duration(2+2*i)*m, func() { h.env.SignalWorkflow(AlertSignal, clear) })
		h.at(time.Duration(3+2*i)*m, func() { h.env.SignalWorkflow(AlertSignal, fire) })
	}
	h.at(250*m, func() { h.env.SetContinueAsNewSuggested(true) })
	h.env.ExecuteWorkflow(Incident, IncidentInput{Alert: fire})
	next := nextIncident(t, h)
	st := next.State
	if st.Elided == nil || st.Elided.Events == 0 || len(st.Elided.Runs) != 1 {
		t.Fatalf("elided: %+v", st.Elided)
	}
	if st.Timeline[0].Kind != "opened" || !slices.ContainsFunc(st.Timeline[:keepHead], func(e Event) bool { return e.Kind == "acknowledged" }) {
		t.Fatalf("head of the timeline lost: %v", kinds(*st)[:5])
	}
	if len(st.Timeline) != keepEvents || st.Pages[0].At != start {
		t.Fatalf("timeline %d events (want %d), first page at %s", len(st.Timeline), keepEvents, st.Pages[0].At)
	}
	if !slices.Contains(st.Paged, "alice") {
		t.Fatalf("paged: %v", st.Paged)
	}
}

// Defect 8: after repage_escalate_after (2) unanswered re-pages, each
// further re-page pages the next level too; an answer from the
// acknowledger resets the count.
func TestUnansweredRepagesEscalate(t *testing.T) {
	h := newHarness(t, nil)
	h.at(2*m, func() { h.ack("bob") })
	h.at(100*m, func() { h.phase(MitigateUpdate) })
	h.at(101*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("slow fix"))
	// bob re-paged at 32m and 62m; at 92m again, and carol (level 2) too.
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0},
		{"bob", catalog.SMS, 32 * m}, {"bob", catalog.SMS, 62 * m}, {"bob", catalog.SMS, 92 * m}, {"carol", catalog.SMS, 92 * m}})
	if !slices.Contains(kinds(st), "repage.escalated") {
		t.Fatalf("timeline: %v", kinds(st))
	}

	h2 := newHarness(t, nil)
	h2.at(2*m, func() { h2.ack("bob") })
	h2.at(70*m, func() { h2.ack("bob") }) // still on it: the count starts over
	h2.at(125*m, func() { h2.phase(ResolveUpdate) })
	h2.run(alert("slow fix"))
	h2.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0},
		{"bob", catalog.SMS, 32 * m}, {"bob", catalog.SMS, 62 * m}, {"bob", catalog.SMS, 100 * m}})
}

// Defect 9: mitigating twice is not refused: the second answers with the
// first mitigation.
func TestMitigateTwiceAnswersTheFirst(t *testing.T) {
	h := newHarness(t, nil)
	var second PhaseResult
	h.at(2*m, func() { h.env.UpdateWorkflowNoRejection(MitigateUpdate, "", t, PhaseRequest{By: "alice"}) })
	h.at(3*m, func() {
		h.env.UpdateWorkflow(MitigateUpdate, "", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("second mitigate refused: %v", err) }, OnAccept: func() {},
			OnComplete: func(r any, err error) { second = r.(PhaseResult) },
		}, PhaseRequest{By: "bob"})
	})
	h.at(4*m, func() { h.phase(ResolveUpdate) })
	h.run(alert("twice"))
	if !second.Already || second.By != "alice" || second.At != start.Add(2*m) {
		t.Fatalf("second mitigate: %+v", second)
	}
}

// Defect 10: an incident started by SignalWithStart (empty input) opens
// from its first alert signal.
func TestOpensFromTheSignalWithStartAlert(t *testing.T) {
	h := newHarness(t, nil)
	h.at(0, func() { h.env.SignalWorkflow(AlertSignal, alert("from the signal")) })
	h.at(1*m, func() { h.phase(ResolveUpdate) })
	h.env.ExecuteWorkflow(Incident, IncidentInput{})
	if err := h.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var st IncidentState
	if err := h.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.Summary != "from the signal" || st.AlertCount != 1 {
		t.Fatalf("summary %q, alerts %d", st.Summary, st.AlertCount)
	}
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}})
}
