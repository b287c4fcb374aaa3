package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
)

const target = "inc-checkout-00000000000000aa"

// targetStub stands in for the target incident behind the Absorb activity:
// it records each request and answers as told.
type targetStub struct {
	mu   sync.Mutex
	reqs []AbsorbRequest
	// answer returns the target's answer to a request, virtual time since open.
	answer func(req AbsorbRequest, after time.Duration) error
}

func (ts *targetStub) install(h *harness) {
	h.env.OnActivity("Absorb", mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.AbsorbInput) (activities.AbsorbOutput, error) {
		var req AbsorbRequest
		if err := json.Unmarshal(in.Request, &req); err != nil {
			return activities.AbsorbOutput{}, err
		}
		if in.IncidentID != target {
			h.t.Errorf("absorb sent to %s, want %s", in.IncidentID, target)
		}
		ts.mu.Lock()
		ts.reqs = append(ts.reqs, req)
		ts.mu.Unlock()
		if ts.answer != nil {
			if err := ts.answer(req, h.env.Now().Sub(start)); err != nil {
				return activities.AbsorbOutput{}, err
			}
		}
		raw, _ := json.Marshal(AbsorbResult{ID: target, Run: "target-run", Summary: "checkout down"})
		return activities.AbsorbOutput{Result: raw}, nil
	})
}

func (ts *targetStub) requests() []AbsorbRequest {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.reqs)
}

// closedAfter answers every request until d, then refuses as a target that
// has resolved and closed.
func closedAfter(d time.Duration) func(AbsorbRequest, time.Duration) error {
	return func(_ AbsorbRequest, after time.Duration) error {
		if after >= d {
			return temporal.NewNonRetryableApplicationError("no open incident "+target+": it is resolved", RejectWrongPhase, nil)
		}
		return nil
	}
}

func (h *harness) merge(into, by string, res *MergeResult, failed *error) {
	h.env.UpdateWorkflow(MergeUpdate, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) { *failed = err },
		OnAccept: func() {},
		OnComplete: func(v any, err error) {
			if err != nil {
				*failed = err
				return
			}
			*res = v.(MergeResult)
		},
	}, MergeRequest{Into: into, By: by, Channel: "cli"})
}

// runOpen runs the incident until it ends, which may be by continuing as new.
func (h *harness) runOpen(al Alert) {
	h.t.Helper()
	h.env.ExecuteWorkflow(Incident, IncidentInput{Alert: al})
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
}

// TestMergeStopsPagingAndHandsOverTheRecord: a SEV2 pages alice, then carol
// on PagerDuty at 5m; merged at 6m, it pages nobody again though its policy
// would page at 15m, 20m and then the fallback; carol's PagerDuty alert is
// resolved; the target gets its alerts, pages, timeline and responders;
// no post-incident starts; it closes when the target has closed.
func TestMergeStopsPagingAndHandsOverTheRecord(t *testing.T) {
	h := newHarness(t, nil)
	ts := &targetStub{answer: closedAfter(50 * m)}
	ts.install(h)
	var res MergeResult
	var failed error
	var during IncidentState
	h.at(6*m, func() { h.merge(target, "carol", &res, &failed) })
	h.at(7*m, func() { during = h.state() })
	al := alert("payments down")
	al.Severity = catalog.SEV2
	st := h.run(al)

	if failed != nil {
		t.Fatalf("merge failed: %v", failed)
	}
	if res.Into != target || res.By != "carol" || res.At.Sub(start) != 6*m {
		t.Errorf("merge result = %+v, want into %s by carol at 6m", res, target)
	}
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"carol", catalog.PagerDuty, 5 * m}, {"carol", "pagerduty:resolve", 6 * m}})
	if during.Phase != Merged || during.MergedInto != target || during.MergedBy != "carol" {
		t.Errorf("after the merge: phase %s, merged into %q by %q; want merged into %s by carol", during.Phase, during.MergedInto, during.MergedBy, target)
	}
	if st.Phase != Merged || st.PostIncident != "" || slices.Contains(kinds(st), "postincident") {
		t.Errorf("final: phase %s, post-incident %q, timeline %v; want merged with no post-incident", st.Phase, st.PostIncident, kinds(st))
	}
	if st.NextUpdateDue != nil || len(st.Cadences) > 0 {
		t.Errorf("update clocks still run after the merge: next due %v, cadences %v", st.NextUpdateDue, st.Cadences)
	}
	reqs := ts.requests()
	if len(reqs) == 0 || reqs[0].Record == nil || reqs[0].From != st.ID {
		t.Fatalf("absorb requests = %+v, want the record first", reqs)
	}
	rec := *reqs[0].Record
	if rec.ID != st.ID || rec.AlertCount != 1 || len(rec.Alerts) != 1 || len(rec.Pages) != 2 || len(rec.Timeline) == 0 ||
		!slices.Equal(rec.Responders, []string{"alice", "carol"}) || len(rec.Keys) != 1 || rec.Keys[0].DedupKey != al.DedupKey {
		t.Errorf("record handed over = %+v; want its 1 alert and key, 2 pages, timeline, responders alice and carol", rec)
	}
	// Asked whether the target is open every 30m: at 36m yes, at 66m no.
	if n := len(reqs); n != 3 || reqs[1].Record != nil || reqs[2].Record != nil {
		t.Errorf("absorb requests = %d (%+v), want the record and two checks", n, reqs)
	}
	if i := slices.Index(kinds(st), "merged"); i < 0 || !strings.Contains(st.Timeline[slices.IndexFunc(st.Timeline, func(e Event) bool { return e.Kind == "merged" })].Text, target) {
		t.Errorf("timeline %v has no 'merged into %s'", kinds(st), target)
	}
}

// TestMergeRefusedChangesNothing: the target refuses (resolved): the merge
// fails with the target's reason and the incident pages on as before.
func TestMergeRefusedChangesNothing(t *testing.T) {
	h := newHarness(t, nil)
	ts := &targetStub{answer: closedAfter(0)}
	ts.install(h)
	var res MergeResult
	var failed error
	h.at(1*m, func() { h.merge(target, "alice", &res, &failed) })
	h.at(16*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("error rate 12%"))

	var app *temporal.ApplicationError
	if failed == nil || !strings.Contains(failed.Error(), "resolved") || !asApp(failed, &app) || app.Type() != RejectWrongPhase {
		t.Fatalf("merge error = %v, want the target's refusal (WrongPhase, resolved)", failed)
	}
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}, {"carol", catalog.SMS, 5 * m},
		{"alice", catalog.SMS, 15 * m}, {"alice", catalog.Chat, 15 * m}})
	if st.Phase != Resolved || st.MergedInto != "" || slices.Contains(kinds(st), "merged") {
		t.Errorf("after a refused merge: phase %s, merged into %q, timeline %v", st.Phase, st.MergedInto, kinds(st))
	}
}

// TestMergedIncidentPassesAlertsOn: after the merge a repeat of its alert
// goes on to the target, not into a new incident; once the target has
// closed, the next firing opens a new incident here.
func TestMergedIncidentPassesAlertsOn(t *testing.T) {
	h := newHarness(t, nil)
	ts := &targetStub{answer: closedAfter(40 * m)}
	ts.install(h)
	var res MergeResult
	var failed error
	al := alert("error rate 12%")
	h.at(1*m, func() { h.merge(target, "alice", &res, &failed) })
	h.at(10*m, func() {
		again := al
		again.ReceivedAt = start.Add(10 * m)
		h.env.SignalWorkflow(AlertSignal, again)
	})
	h.at(45*m, func() {
		again := al
		again.ReceivedAt = start.Add(45 * m)
		again.Summary = "error rate 30%"
		h.env.SignalWorkflow(AlertSignal, again)
	})
	h.runOpen(al)

	if failed != nil {
		t.Fatalf("merge failed: %v", failed)
	}
	reqs := ts.requests()
	var passed []AbsorbRequest
	for _, r := range reqs {
		if len(r.Alerts) > 0 {
			passed = append(passed, r)
		}
	}
	if len(passed) != 2 || passed[0].Alerts[0].DedupKey != al.DedupKey || passed[0].From == "" {
		t.Fatalf("alerts passed on = %+v, want the repeat at 10m, then the firing at 45m", passed)
	}
	// At 45m the target refuses: the firing opens a new incident with this ID.
	err := h.env.GetWorkflowError()
	if !isContinueAsNew(err) {
		t.Fatalf("workflow ended with %v, want continue-as-new into a new incident", err)
	}
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}})
}

// TestAbsorbJoinsTheRecordAndFoldsRepeats: the target takes a merged
// incident's record: its timeline says so, status lists it, its responders
// may act here, and a repeat of its alert folds in, by signal or passed on
// by the merged incident, without opening an incident of its own.
func TestAbsorbJoinsTheRecordAndFoldsRepeats(t *testing.T) {
	h := newHarness(t, nil)
	forwarded := 0
	h.env.OnActivity("Forward", mock.Anything, mock.Anything).Return(func(context.Context, activities.ForwardInput) error {
		forwarded++
		return nil
	})
	from := "inc-checkout-00000000000000bb"
	key := "checkout|latency high"
	rec := MergedIncident{ID: from, Run: "r1", Service: "checkout", Severity: catalog.SEV2, Summary: "latency high",
		FirstSeen: start, At: start.Add(time.Minute), By: "alice", AlertCount: 3,
		Keys:       []AlertKey{{DedupKey: key, Integration: "test", Firing: true}},
		Alerts:     []AlertRecord{{At: start, DedupKey: key, Severity: catalog.SEV2, Summary: "latency high"}},
		Pages:      []PageEntry{{Person: "zed", Channel: catalog.Email, Level: 1, Round: 1, Kind: "page", At: start, Outcome: Delivered}},
		Timeline:   []Event{{At: start, Kind: "opened", Text: "SEV2 alert from monitoring: latency high"}},
		Responders: []string{"zed"}}
	var absorbErr error
	h.at(1*m, func() {
		h.env.UpdateWorkflow(AbsorbUpdate, "", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { absorbErr = err }, OnAccept: func() {},
			OnComplete: func(_ any, err error) {
				if err != nil {
					absorbErr = err
				}
			},
		}, AbsorbRequest{From: from, Record: &rec})
	})
	repeat := Alert{Source: Monitoring, Service: "checkout", Severity: catalog.SEV2, Summary: "latency high", DedupKey: key, Integration: "test"}
	h.at(2*m, func() {
		r := repeat
		r.ReceivedAt = start.Add(2 * m)
		h.env.SignalWorkflow(AlertSignal, r)
	})
	h.at(3*m, func() {
		r := repeat
		r.ReceivedAt = start.Add(3 * m)
		h.env.UpdateWorkflowNoRejection(AbsorbUpdate, "", t, AbsorbRequest{From: from, Alerts: []Alert{r}})
	})
	h.at(4*m, func() { h.ack("zed") })
	h.at(5*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("error rate 12%"))

	if absorbErr != nil {
		t.Fatalf("absorb: %v", absorbErr)
	}
	if forwarded != 0 {
		t.Errorf("a repeat of the merged alert was forwarded %d time(s) to an incident of its own, want folded in", forwarded)
	}
	if len(st.Merged) != 1 || st.Merged[0].ID != from || len(st.Merged[0].Pages) != 1 || len(st.Merged[0].Timeline) != 1 {
		t.Fatalf("merged = %+v, want %s with its page and timeline", st.Merged, from)
	}
	if st.AlertCount != 1+3+2 {
		t.Errorf("alert count = %d, want 6 (its own, the merged 3, two repeats)", st.AlertCount)
	}
	if st.AcknowledgedBy != "zed" {
		t.Errorf("acknowledged by %q, want zed, paged by the merged incident", st.AcknowledgedBy)
	}
	i := slices.IndexFunc(st.Timeline, func(e Event) bool { return e.Kind == "merged-in" })
	if i < 0 || !strings.Contains(st.Timeline[i].Text, "merged in: "+from+" (latency high)") {
		t.Errorf("timeline %v has no 'merged in: %s (latency high)'", kinds(st), from)
	}
}

// TestMergeValidation: what the merge and absorb validators refuse, each
// naming the problem, without touching state.
func TestMergeValidation(t *testing.T) {
	resolvedAt := start
	tests := []struct {
		name string
		s    IncidentState
		req  MergeRequest
		want string
	}{
		{"into itself", IncidentState{ID: "inc-a-00000000000000aa", Phase: Triggered}, MergeRequest{Into: "inc-a-00000000000000aa", By: "alice"}, "into itself"},
		{"into itself by ref", IncidentState{ID: "inc-a-00000000000000aa", Phase: Triggered}, MergeRequest{Into: "inc-a-00000000000000aa:run", By: "alice"}, "into itself"},
		{"no target", IncidentState{ID: "inc-a-00000000000000aa", Phase: Triggered}, MergeRequest{By: "alice"}, "--into"},
		{"nobody", IncidentState{ID: "inc-a-00000000000000aa", Phase: Triggered}, MergeRequest{Into: target}, "--by"},
		{"resolved source", IncidentState{ID: "inc-a-00000000000000aa", Phase: Resolved, ResolvedAt: &resolvedAt}, MergeRequest{Into: target, By: "alice"}, "already resolved"},
		{"merged elsewhere", IncidentState{ID: "inc-a-00000000000000aa", Phase: Merged, MergeState: MergeState{MergedInto: "inc-b-00000000000000bb"}},
			MergeRequest{Into: target, By: "alice"}, "already merged into inc-b-00000000000000bb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &incident{s: tt.s}
			err := w.validateMerge(tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("validateMerge = %v, want an error saying %q", err, tt.want)
			}
		})
	}
	absorbs := []struct {
		name string
		s    IncidentState
		req  AbsorbRequest
		want string
	}{
		{"resolved target", IncidentState{ID: target, Phase: Resolved}, AbsorbRequest{From: "inc-a-00000000000000aa", Record: &MergedIncident{}}, "already resolved"},
		{"target merged itself", IncidentState{ID: target, Phase: Merged, MergeState: MergeState{MergedInto: "inc-c-00000000000000cc"}},
			AbsorbRequest{From: "inc-a-00000000000000aa", Record: &MergedIncident{}}, "itself merged into inc-c-00000000000000cc"},
		{"into itself", IncidentState{ID: target, Phase: Triggered}, AbsorbRequest{From: target, Record: &MergedIncident{}}, "into itself"},
		{"a later incident", IncidentState{ID: target, Run: "r2", Phase: Triggered}, AbsorbRequest{From: "inc-a-00000000000000aa", Run: "r1", Record: &MergedIncident{}}, "later incident"},
	}
	for _, tt := range absorbs {
		t.Run("absorb "+tt.name, func(t *testing.T) {
			w := &incident{s: tt.s}
			err := w.validateAbsorb(tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("validateAbsorb = %v, want an error saying %q", err, tt.want)
			}
		})
	}
	// A merged target still takes alerts, to pass on.
	w := &incident{s: IncidentState{ID: target, Phase: Merged, MergeState: MergeState{MergedInto: "inc-c-00000000000000cc"}}}
	if err := w.validateAbsorb(AbsorbRequest{From: "inc-a-00000000000000aa", Alerts: []Alert{alert("x")}}); err != nil {
		t.Errorf("a merged target refused alerts to pass on: %v", err)
	}
}

func asApp(err error, app **temporal.ApplicationError) bool { return errors.As(err, app) }

func isContinueAsNew(err error) bool {
	var can *workflow.ContinueAsNewError
	return errors.As(err, &can)
}

// TestMergeCancelsPagesInFlight: alice's SMS provider is busy and her page
// is being retried when the incident is merged: the retry stops there, and
// she is not paged on her next channel once SMS gives up.
func TestMergeCancelsPagesInFlight(t *testing.T) {
	busy := &integrations.Error{Provider: "twilio", Kind: integrations.Transient, Status: 429, Message: "busy"}
	h := newHarness(t, map[string]error{"alice/sms": busy})
	ts := &targetStub{answer: closedAfter(20 * m)}
	ts.install(h)
	var res MergeResult
	var failed error
	h.at(1*m, func() { h.merge(target, "alice", &res, &failed) })
	st := h.run(alert("error rate 12%"))
	if failed != nil {
		t.Fatalf("merge failed: %v", failed)
	}
	h.wantSent([]sent{{"alice", catalog.Chat, 0}})
	for _, p := range st.Pages {
		if p.Person == "alice" && p.Channel == catalog.SMS && p.Outcome != Cancelled {
			t.Errorf("alice's SMS page ended %s, want cancelled by the merge", p.Outcome)
		}
	}
}

// TestMergeAsTheIncidentOpens: a merge that arrives with the opening alert,
// before the incident has taken it in, waits for it: the target gets the
// incident's ID and record, never an empty one.
func TestMergeAsTheIncidentOpens(t *testing.T) {
	h := newHarness(t, nil)
	ts := &targetStub{answer: closedAfter(20 * m)}
	ts.install(h)
	var res MergeResult
	var failed error
	al := alert("error rate 12%")
	h.env.RegisterDelayedCallback(func() {
		h.merge(target, "alice", &res, &failed)
		h.env.SignalWorkflow(AlertSignal, al)
	}, 0)
	h.env.ExecuteWorkflow(Incident, IncidentInput{})
	if err := h.env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	if failed != nil {
		t.Fatalf("merge failed: %v", failed)
	}
	reqs := ts.requests()
	if len(reqs) == 0 || reqs[0].From == "" || reqs[0].Record == nil || reqs[0].Record.ID != reqs[0].From || reqs[0].Record.AlertCount != 1 {
		t.Fatalf("first absorb request = %+v, want this incident's ID and its record", reqs)
	}
}

// TestPostmortemCoversMergedIncidents: the target's post-mortem document
// reads the merged incidents' timelines in time order with its own, each
// line naming its incident.
func TestPostmortemCoversMergedIncidents(t *testing.T) {
	from := "inc-checkout-00000000000000bb"
	s := IncidentState{ID: target, Timeline: []Event{
		{At: start, Kind: "opened", Text: "SEV1 alert from monitoring: error rate 12%"},
		{At: start.Add(10 * m), Kind: "merged-in", Text: "merged in: " + from + " (latency high)"},
	}}
	s.Merged = []MergedIncident{{ID: from, Timeline: []Event{{At: start.Add(2 * m), Kind: "acknowledged", Actor: "bob", Text: "acknowledged via sms"}}}}
	p := &postIncident{in: s}
	var got []string
	for _, e := range p.doc().Timeline {
		got = append(got, e.Text)
	}
	want := []string{"SEV1 alert from monitoring: error rate 12%", from + ": acknowledged via sms", "merged in: " + from + " (latency high)"}
	if !slices.Equal(got, want) {
		t.Errorf("post-mortem timeline:\n got %q\nwant %q", got, want)
	}
}

// TestMergeTargetUnanswered: the target never answers (no worker, Temporal
// away): after absorbFor the merge fails as unanswered, not as a refusal,
// and the incident pages on unchanged.
func TestMergeTargetUnanswered(t *testing.T) {
	h := newHarness(t, nil)
	ts := &targetStub{answer: func(AbsorbRequest, time.Duration) error { return errors.New("connection refused") }}
	ts.install(h)
	var res MergeResult
	var failed error
	h.at(1*m, func() { h.merge(target, "alice", &res, &failed) })
	h.at(16*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("error rate 12%"))
	var app *temporal.ApplicationError
	if !asApp(failed, &app) || app.Type() != MergeUnanswered || !strings.Contains(app.Message(), "unchanged") {
		t.Fatalf("merge error = %v, want %s saying the incident is unchanged", failed, MergeUnanswered)
	}
	h.wantSent([]sent{{"alice", catalog.SMS, 0}, {"alice", catalog.Chat, 0}, {"carol", catalog.SMS, 5 * m},
		{"alice", catalog.SMS, 15 * m}, {"alice", catalog.Chat, 15 * m}})
	if st.MergedInto != "" || slices.Contains(kinds(st), "merged") {
		t.Errorf("an unanswered merge changed the incident: merged into %q, timeline %v", st.MergedInto, kinds(st))
	}
}

// TestAbsorbKeepsItsStateBounded: past mergedFull merged incidents, a
// merged incident's lists stay in its own record; who, what and when stay here.
func TestAbsorbKeepsItsStateBounded(t *testing.T) {
	h := newHarness(t, nil)
	for i := range mergedFull + 1 {
		rec := MergedIncident{ID: fmt.Sprintf("inc-checkout-%016x", i+1), Run: "r", Summary: "s", AlertCount: 1,
			Timeline: []Event{{At: start, Kind: "opened", Text: "x"}}, Pages: []PageEntry{{Person: "zed"}}}
		h.at(time.Duration(i+1)*m, func() {
			h.env.UpdateWorkflowNoRejection(AbsorbUpdate, "", t, AbsorbRequest{From: rec.ID, Record: &rec})
		})
	}
	h.at(30*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("error rate 12%"))
	if len(st.Merged) != mergedFull+1 {
		t.Fatalf("%d merged, want %d", len(st.Merged), mergedFull+1)
	}
	if kept, last := st.Merged[mergedFull-1], st.Merged[mergedFull]; len(kept.Timeline) != 1 || len(last.Timeline) != 0 || len(last.Pages) != 0 || last.Elided != 2 || last.ID == "" {
		t.Errorf("the %dth merged keeps %+v, the next %+v; want the lists only up to %d", mergedFull, kept, last, mergedFull)
	}
}

// TestMergedIncidentTellsStakeholdersNothing: a SEV1 told stakeholders as it
// opened and runs a 30-minute update clock; merged at 10m, it sends no
// reminder, no "no news", no notice of its own after, and its war room is
// told where the story goes on; an update posted to it is refused.
func TestMergedIncidentTellsStakeholdersNothing(t *testing.T) {
	h := newCommsHarness(t)
	ts := &targetStub{answer: closedAfter(3 * time.Hour)}
	ts.install(h.harness)
	var res MergeResult
	var failed, refused error
	h.at(2*m, func() { h.ack("alice") })
	h.at(10*m, func() { h.merge(target, "alice", &res, &failed) })
	h.at(11*m, func() {
		h.rejected(PostUpdateUpdate, UpdateRequest{By: "carol", Status: StatusIdentified, Message: "found it"}, &refused)
	})
	h.run(alert("error rate 12%"))
	if failed != nil {
		t.Fatalf("merge failed: %v", failed)
	}
	if refused == nil || !strings.Contains(refused.Error(), "merged into "+target) {
		t.Errorf("an update to the merged incident: %v, want refused naming %s", refused, target)
	}
	for _, what := range []string{"email", "remind"} {
		for _, s := range h.of(what) {
			if s.after >= 10*m {
				t.Errorf("%s %s at %s, after the merge", what, s.kind, s.after)
			}
		}
	}
	// Its own status page incident is not left dangling: it closes, saying
	// where the news goes on, in plain words (not the internal note).
	var after []said
	for _, s := range h.of("status-page") {
		if s.after >= 10*m {
			after = append(after, s)
		}
	}
	if len(after) != 1 || after[0].kind != "resolved" || !strings.Contains(after[0].text, "handled together with a related incident") ||
		strings.Contains(after[0].text, target) {
		t.Errorf("status page after the merge: %+v, want one plain-words close pointing on", after)
	}
	if len(h.of("status-page")) == 0 || len(h.of("email")) == 0 {
		t.Fatalf("no initial notice before the merge: the test would prove nothing (status page %v, email %v)", h.of("status-page"), h.of("email"))
	}
	if !slices.ContainsFunc(h.of("post"), func(s said) bool { return strings.Contains(s.text, "Merged into "+target) }) {
		t.Errorf("room posts %v: none says where the story goes on", h.of("post"))
	}
}

// TestAbsorbRaisesSeverity: a SEV1 merged into a SEV2 makes it a SEV1.
func TestAbsorbRaisesSeverity(t *testing.T) {
	h := newHarness(t, nil)
	rec := MergedIncident{ID: "inc-checkout-00000000000000bb", Run: "r", Severity: catalog.SEV1, Summary: "checkout down", AlertCount: 1}
	h.at(1*m, func() {
		h.env.UpdateWorkflowNoRejection(AbsorbUpdate, "", t, AbsorbRequest{From: rec.ID, Record: &rec})
	})
	h.at(2*m, func() { h.phase(ResolveUpdate) })
	al := alert("latency high")
	al.Severity = catalog.SEV2
	st := h.run(al)
	if st.Severity != catalog.SEV1 || !slices.Contains(kinds(st), "severity.raised") {
		t.Errorf("severity %s, timeline %v; want raised to SEV1 by the merge", st.Severity, kinds(st))
	}
}
