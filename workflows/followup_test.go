package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// followEnv is a test environment for a FollowUp run starting at t0,
// sharing the fake tracker and mailer f across runs.
func followEnv(t *testing.T, f *fakes, t0 time.Time) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(quiet)
	env := ts.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	c, err := catalog.Parse("pm.yaml", []byte(pmCatalog))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	f.env = env.Now
	Register(env)
	env.RegisterActivity(&activities.Activities{Catalog: activities.StaticCatalog{C: c}, Templates: tmpl, Tracker: f,
		Comms: activities.CommsDeps{Mailer: f}})
	return env
}

func followInput(items ...ActionItem) FollowUpState {
	in := FollowUpState{Ref: "inc-checkout-0123456789abcdef:r1", IncidentID: "inc-checkout-0123456789abcdef", Service: "checkout",
		Team: "pay", Summary: "checkout error rate above 5%", Commander: "alice", Managers: []string{"mia"}, PlanManagers: []string{"pat"},
		People: []string{"alice", "bob", "mia", "pat", "rita", "zed"}, Resolved: resolvedAt,
		Schedule: FollowUpSchedule{Day: time.Monday, Hour: 10, Zone: "Europe/Berlin"}, ContinueEvery: 4}
	for _, it := range items {
		in.Items = append(in.Items, FollowItem{ActionItem: it})
	}
	return in
}

// runChain runs FollowUp and every run it continues as new into, until
// one completes; before each run, setup may register callbacks on its env.
// It returns the last run's state and each run's input.
func runChain(t *testing.T, f *fakes, in FollowUpState, setup func(run int, env *testsuite.TestWorkflowEnvironment)) (FollowUpState, []FollowUpState) {
	t.Helper()
	t0 := resolvedAt
	var inputs []FollowUpState
	for run := 0; run < 20; run++ {
		inputs = append(inputs, in)
		env := followEnv(t, f, t0)
		if setup != nil {
			setup(run, env)
		}
		env.ExecuteWorkflow(FollowUp, in)
		err := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if errors.As(err, &can) {
			var next FollowUpState
			if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
				t.Fatal(err)
			}
			in, t0 = next, env.Now()
			continue
		}
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		var out FollowUpState
		if err := env.GetWorkflowResult(&out); err != nil {
			t.Fatal(err)
		}
		return out, inputs
	}
	t.Fatal("the follow-up never ended")
	return FollowUpState{}, nil
}

// Ten weeks of follow-ups: every Monday at 10:00 Berlin time each ticket's
// status is read and the digest goes to owners and managers; owners of
// overdue items are reminded; tickets closed in the tracker show as done
// the following Monday; when the last closes, a final notice goes out and
// the follow-up ends. It continues as new every four weeks, carrying its
// state, and an item added just before a hand-over is followed up to the end.
func TestFollowUpTenWeeksUntilAllDone(t *testing.T) {
	f := newFakes(nil, resolvedAt)
	in := followInput(
		ActionItem{ID: "A1", Title: "Check connection limits", Owner: "alice", Priority: "High", Due: "2026-12-10"},
		ActionItem{ID: "A2", Title: "Alert on connections", Owner: "bob", Priority: "High", Due: "2027-01-31"},
	)
	for i := range in.Items {
		k, _ := f.File(nil, activities.Ticket{Marker: in.Ref + "/" + in.Items[i].ID})
		in.Items[i].Ticket = k
	}
	// Mondays 10:00 CET are 09:00 UTC: the first is 7 December.
	monday := func(week int) time.Time {
		return time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC).AddDate(0, 0, 7*(week-1))
	}
	var added updateResult
	out, inputs := runChain(t, f, in, func(run int, env *testsuite.TestWorkflowEnvironment) {
		at := func(t time.Time) time.Duration { return t.Sub(env.Now()) }
		switch run {
		case 0:
			env.RegisterDelayedCallback(func() { f.close("OPS-1") }, at(monday(1).Add(72*time.Hour)))
			// Just before the fourth Monday, the last of this run.
			sendUpdate(env, at(monday(4).Add(-time.Minute)), AddActionUpdate, &added,
				AddActionRequest{Item: ActionItem{Title: "Runbook for the payment database", Owner: "bob", Due: "2027-01-15"}, By: "mia"})
		case 1:
			env.RegisterDelayedCallback(func() { f.close("OPS-3") }, at(monday(6).Add(-time.Hour)))
		case 2:
			env.RegisterDelayedCallback(func() { f.close("OPS-2") }, at(monday(10).Add(-time.Hour)))
		}
	})
	if rejection(added.err) != "accepted" {
		t.Fatalf("actions add: %s", rejection(added.err))
	}
	if len(inputs) != 3 {
		t.Errorf("runs: %d, want 3 (continued as new after weeks 4 and 8)", len(inputs))
	}
	// The item added before the first hand-over is in the second run's input, filed.
	carried := inputs[1].Items
	if len(carried) != 3 || carried[2].Title != "Runbook for the payment database" || carried[2].Ticket != "OPS-3" || carried[2].ID != "L1" {
		t.Errorf("second run's items: %+v", carried)
	}
	if inputs[1].Week != 4 || inputs[2].Week != 8 || inputs[1].Items[0].Category != "done" {
		t.Errorf("carried weeks %d, %d and A1 %q", inputs[1].Week, inputs[2].Week, inputs[1].Items[0].Category)
	}
	if out.Phase != Closed || out.Week != 10 {
		t.Errorf("ended in %s after week %d, want closed after week 10", out.Phase, out.Week)
	}
	digests := f.to("mia@example.com", "Weekly follow-up")
	if len(digests) != 9 {
		t.Fatalf("digests to the manager: %d, want 9 (weeks 1-9)\n%s", len(digests), f.dump())
	}
	for i, d := range digests {
		if want := monday(i + 1).Sub(resolvedAt); d.at != want {
			t.Errorf("digest %d at %v, want %v (Monday 10:00 Berlin)", i+1, d.at, want)
		}
	}
	if !strings.Contains(digests[1].text, "Done since last week (1):\n- OPS-1") {
		t.Errorf("week 2 digest does not show OPS-1 done:\n%s", digests[1].text)
	}
	if !strings.Contains(digests[0].text, "Overdue (0)") || !strings.Contains(digests[0].text, "Open (2)") {
		t.Errorf("week 1 digest:\n%s", digests[0].text)
	}
	// A2 is due 31 January: overdue on Monday 1 February (week 9), closed
	// before week 10; A1 closed before its due date.
	if n := len(f.to("alice@example.com", "Overdue action items")); n != 0 {
		t.Errorf("alice reminded %d times of an item closed in time", n)
	}
	overdue := f.to("bob@example.com", "Overdue action items")
	if len(overdue) != 1 || overdue[0].at != monday(9).Sub(resolvedAt) || !strings.Contains(overdue[0].text, "OPS-2") {
		t.Errorf("bob's overdue reminders: %+v", overdue)
	}
	final := f.to("mia@example.com", "are done")
	if len(final) != 1 || final[0].at != monday(10).Sub(resolvedAt) || !strings.Contains(final[0].text, "last follow-up") {
		t.Errorf("final notice: %+v", final)
	}
	if l := f.to("pat@example.com", "Action items"); len(l) != 1 || !strings.Contains(l[0].text, "added") {
		t.Errorf("added item told to the product manager: %+v", l)
	}
}

// A deleted ticket (404) and a tracker that does not answer are reported
// in the digest; the follow-up goes on with the rest, and the deleted
// ticket's item, dropped, is named to the commander once.
func TestFollowUpReportsTrackerProblems(t *testing.T) {
	f := newFakes(nil, resolvedAt)
	in := followInput(
		ActionItem{ID: "A1", Title: "Check connection limits", Owner: "alice", Due: "2027-03-01"},
		ActionItem{ID: "A2", Title: "Alert on connections", Owner: "bob", Due: "2027-03-01"},
	)
	for i := range in.Items {
		in.Items[i].Ticket, _ = f.File(nil, activities.Ticket{Marker: in.Ref + "/" + in.Items[i].ID})
	}
	f.missing["OPS-2"] = true
	in.ContinueEvery = 3
	env := followEnv(t, f, resolvedAt)
	env.RegisterDelayedCallback(func() { f.mu.Lock(); f.down = true; f.mu.Unlock() }, 7*24*time.Hour)
	env.RegisterDelayedCallback(func() { f.mu.Lock(); f.down = false; f.mu.Unlock() }, 14*24*time.Hour)
	env.ExecuteWorkflow(FollowUp, in)
	var can *workflow.ContinueAsNewError
	if !errors.As(env.GetWorkflowError(), &can) {
		t.Fatalf("want the run to continue as new after 3 weeks, got %v", env.GetWorkflowError())
	}
	d := f.to("alice@example.com", "Weekly follow-up")
	if len(d) != 3 {
		t.Fatalf("digests: %d\n%s", len(d), f.dump())
	}
	if !strings.Contains(d[0].text, "OPS-2 Alert on connections (bob): ticket not found") || !strings.Contains(d[0].text, "Open (1)") {
		t.Errorf("week 1 digest does not report the deleted ticket:\n%s", d[0].text)
	}
	if !strings.Contains(d[1].text, "the tracker did not answer") || !strings.Contains(d[1].text, "Could not be read from the tracker (1)") ||
		strings.Contains(d[1].text, "OPS-2") {
		t.Errorf("week 2 digest does not report the unreachable tracker, or still lists the dropped OPS-2:\n%s", d[1].text)
	}
	if notes := f.to("alice@example.com", "no longer followed: A2"); len(notes) != 1 || !strings.Contains(notes[0].text, "OPS-2 Alert on connections (bob): ticket not found") {
		t.Errorf("the commander's notes of the deleted ticket: %+v", notes)
	}
	if strings.Contains(d[2].text, "did not answer") {
		t.Errorf("week 3: the tracker is back:\n%s", d[2].text)
	}
}

// The weekly time is the team's wall-clock time, across a daylight-saving change.
func TestFollowUpNextIsLocalTime(t *testing.T) {
	f := &followUp{s: FollowUpState{Schedule: FollowUpSchedule{Day: time.Monday, Hour: 10, Zone: "Europe/Berlin"}}}
	// Sunday 29 March 2026: Berlin moves to summer time.
	got := f.next(time.Date(2026, 3, 24, 12, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next after a DST change: %v, want %v", got.UTC(), want)
	}
	got = f.next(time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 4, 6, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next at the very time: %v, want the week after (%v)", got.UTC(), want)
	}
}

// An item is overdue from the day after its due date, in the team's zone.
func TestFollowUpOverdueFromTheNextDay(t *testing.T) {
	f := newFakes(nil, resolvedAt)
	in := followInput(
		ActionItem{ID: "A1", Title: "due today", Owner: "alice", Due: "2026-12-07"},
		ActionItem{ID: "A2", Title: "due yesterday", Owner: "bob", Due: "2026-12-06"},
	)
	for i := range in.Items {
		in.Items[i].Ticket, _ = f.File(nil, activities.Ticket{Marker: in.Ref + "/" + in.Items[i].ID})
	}
	in.Schedule.Every, in.ContinueEvery = time.Hour, 1
	// 22:30 UTC on the 6th is 23:30 in Berlin; an hour later it is the 7th there.
	env := followEnv(t, f, time.Date(2026, 12, 6, 22, 30, 0, 0, time.UTC))
	env.ExecuteWorkflow(FollowUp, in)
	d := f.to("mia@example.com", "Weekly follow-up")
	if len(d) != 1 || !strings.Contains(d[0].text, "Overdue (1):\n- OPS-2 due yesterday") {
		t.Fatalf("digest:\n%s", f.dump())
	}
	if r := f.to("alice@example.com", "Overdue"); len(r) != 0 {
		t.Errorf("alice reminded of an item due today: %+v", r)
	}
}

// Two `actions add` racing each other, sent in the same instant while the
// first one's ticket is being filed: both are filed, both keys are in the
// state and in each answer.
func TestFollowUpConcurrentAddsKeepBothTickets(t *testing.T) {
	f := newFakes(nil, resolvedAt)
	in := followInput(ActionItem{ID: "A1", Title: "Check connection limits", Owner: "alice", Due: "2027-03-01"})
	in.Items[0].Ticket, _ = f.File(nil, activities.Ticket{Marker: in.Ref + "/A1"})
	env := followEnv(t, f, resolvedAt)
	var results [2]updateResult
	var st FollowUpState
	var queryErr error
	queried := false
	env.RegisterDelayedCallback(func() {
		for i, title := range []string{"Runbook for the payment database", "Load test the checkout"} {
			env.UpdateWorkflow(AddActionUpdate, fmt.Sprint("add-", i), &testsuite.TestUpdateCallback{
				OnAccept: func() {},
				OnReject: func(err error) { results[i].err = err },
				OnComplete: func(v any, err error) {
					results[i].val, results[i].err = v, err
				},
			}, AddActionRequest{Item: ActionItem{Title: title, Owner: "bob", Due: "2027-01-15"}, By: "mia"})
		}
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		queried = true
		v, err := env.QueryWorkflow(StateQuery)
		if err == nil {
			err = v.Get(&st)
		}
		queryErr = err
	}, 2*time.Hour)
	env.ExecuteWorkflow(FollowUp, in)
	if !queried || queryErr != nil {
		t.Fatalf("state query: ran %v, %v", queried, queryErr)
	}
	for i, r := range results {
		res, ok := r.val.(AddActionResult)
		if r.err != nil || !ok || res.Item.Ticket == "" {
			t.Errorf("add %d: %s, answered %+v: want its ticket in the answer", i, rejection(r.err), r.val)
		}
	}
	if len(st.Items) != 3 {
		t.Fatalf("items: %+v, want A1 and the two added", st.Items)
	}
	keys := map[string]bool{}
	for _, it := range st.Items[1:] {
		if it.Ticket == "" {
			t.Errorf("item %s %q has no ticket key in the state", it.ID, it.Title)
		}
		keys[it.Ticket] = true
	}
	if len(keys) != 2 || st.Items[1].ID == st.Items[2].ID {
		t.Errorf("added items %+v: want two items with two distinct tickets", st.Items[1:])
	}
	f.mu.Lock()
	filed := len(f.filed)
	f.mu.Unlock()
	if filed != 3 {
		t.Errorf("tickets filed: %d, want 3 (A1 and the two added)", filed)
	}
	// The adds took turns: each was filed before the next began.
	var order []string
	for _, e := range st.Recent {
		if e.Kind == "action.added" || e.Kind == "ticket.filed" {
			order = append(order, e.Kind)
		}
	}
	if want := []string{"action.added", "ticket.filed", "action.added", "ticket.filed"}; !slices.Equal(order, want) {
		t.Errorf("the follow-up's record: %v, want %v (one add at a time)", order, want)
	}
}

// A follow-up that can no longer follow its items does not send a digest a
// week for ever: a ticket deleted in the tracker, or no tracker at all,
// ends it with a note to the commander naming the items and why; a tracker
// that does not answer is given maxUnreadWeeks weeks in a row, then the
// same. Run over more than a year of weeks.
func TestFollowUpEndsWhenItCannotFollow(t *testing.T) {
	for _, tc := range []struct {
		name      string
		noTracker bool
		setup     func(f *fakes, in *FollowUpState)
		endWeek   int    // the week the follow-up ends after; 0: at once
		digests   int    // weekly digests sent before it ends
		why       string // in the commander's note
	}{
		{name: "deleted ticket", endWeek: 1, why: "OPS-1 Check connection limits (alice): ticket not found",
			setup: func(f *fakes, in *FollowUpState) { f.missing["OPS-1"] = true }},
		{name: "no tracker", noTracker: true, endWeek: 0, why: "Check connection limits (alice): no issue tracker is configured"},
		{name: "tracker never answers", endWeek: maxUnreadWeeks, digests: maxUnreadWeeks - 1,
			why:   "could not be filed or read for 4 weeks in a row (last: the tracker did not answer",
			setup: func(f *fakes, in *FollowUpState) { f.down = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakes(nil, resolvedAt)
			in := followInput(ActionItem{ID: "A1", Title: "Check connection limits", Owner: "alice", Due: "2027-03-01"})
			if !tc.noTracker {
				in.Items[0].Ticket, _ = f.File(nil, activities.Ticket{Marker: in.Ref + "/A1"})
			}
			if tc.setup != nil {
				tc.setup(f, &in)
			}
			var out FollowUpState
			if tc.noTracker {
				env := noTrackerEnv(t, f)
				env.ExecuteWorkflow(FollowUp, in)
				if err := env.GetWorkflowError(); err != nil {
					t.Fatalf("follow-up: %v", err)
				}
				if err := env.GetWorkflowResult(&out); err != nil {
					t.Fatal(err)
				}
			} else {
				out, _ = runChain(t, f, in, nil)
			}
			if out.Phase != Closed || out.Week != tc.endWeek {
				t.Errorf("ended in %s after week %d, want closed after week %d", out.Phase, out.Week, tc.endWeek)
			}
			if d := f.to("mia@example.com", "Weekly follow-up"); len(d) != tc.digests {
				t.Errorf("digests sent: %d, want %d\n%s", len(d), tc.digests, f.dump())
			}
			if d := f.to("mia@example.com", "are done"); len(d) != 0 {
				t.Errorf("a final 'all done' notice for items never done: %+v", d)
			}
			notes := f.to("alice@example.com", "no longer followed")
			if len(notes) != 1 {
				t.Fatalf("notes to the commander: %d, want 1\n%s", len(notes), f.dump())
			}
			if !strings.Contains(notes[0].text, tc.why) {
				t.Errorf("the note does not say %q:\n%s", tc.why, notes[0].text)
			}
			if want := followAt(tc.endWeek); notes[0].at != want {
				t.Errorf("note sent at %v, want %v", notes[0].at, want)
			}
			if it := out.Items[0]; it.Lost == "" || out.Recent[len(out.Recent)-1].Kind != "followup.stopped" {
				t.Errorf("state does not record why A1 is no longer followed: %+v, last event %+v", it, out.Recent[len(out.Recent)-1])
			}
		})
	}
}

// followAt is when week n's follow-up runs, from resolvedAt: Mondays 10:00
// Berlin time, the first on 7 December; week 0 is the start.
func followAt(week int) time.Duration {
	if week == 0 {
		return 0
	}
	return time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC).AddDate(0, 0, 7*(week-1)).Sub(resolvedAt)
}

// noTrackerEnv is followEnv on a worker with no issue tracker configured.
func noTrackerEnv(t *testing.T, f *fakes) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(quiet)
	env := ts.NewTestWorkflowEnvironment()
	env.SetStartTime(resolvedAt)
	c, err := catalog.Parse("pm.yaml", []byte(pmCatalog))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	f.env = env.Now
	Register(env)
	env.RegisterActivity(&activities.Activities{Catalog: activities.StaticCatalog{C: c}, Templates: tmpl, Comms: activities.CommsDeps{Mailer: f}})
	return env
}
