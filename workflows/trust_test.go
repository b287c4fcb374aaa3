package workflows

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// Issue 20's paging defects, each as the scenario that showed it.

// pdCatalog adds to testCatalog a billing service whose team, dan and erin,
// share one PagerDuty integration key; carol is level 2.
func pdCatalog(t *testing.T) activities.Catalog {
	t.Helper()
	y := strings.Replace(testCatalog, "rotations:\n", `  - handle: dan
    contacts: [{pagerduty: fedcba9876543210fedcba9876543210}, {sms: "+15550100005"}]
  - handle: erin
    contacts: [{pagerduty: fedcba9876543210fedcba9876543210}, {sms: "+15550100006"}]
rotations:
`, 1)
	y = strings.Replace(y, "services:\n", `  - name: billops
    policy: pd-policy
    members: [dan, erin, carol]
services:
  - name: billing
    team: billops
    tier: 1
`, 1)
	y = strings.Replace(y, "severities:\n", `  - name: pd-policy
    levels:
      - targets: [{person: dan}, {person: erin}]
        delay: 5m
      - targets: [{person: carol}]
        delay: 10m
    repeat: 1
severities:
`, 1)
	y = strings.Replace(y, "  SEV2:\n    channels: {1: [pagerduty], 2: [sms], 3: [sms]}\n    update_cadence: 1h\n",
		"  SEV2:\n    channels: {1: [pagerduty], 2: [sms], 3: [sms]}\n    update_cadence: 1h\n    repage_after_ack: 30m\n", 1)
	c, err := catalog.Parse("pd.yaml", []byte(y))
	if err != nil {
		t.Fatalf("catalog: %v", err)
	}
	return activities.StaticCatalog{C: c}
}

// Defect 1: every PagerDuty page is an alert of its own. Two people on one
// integration key, level 2, round 2 and a re-page after the
// acknowledgment: had they shared a dedup key, PagerDuty would have folded
// each into the open alert and notified nobody. Every alert is acknowledged
// with the incident and resolved with it.
func TestEveryPagerDutyPageIsAnAlertOfItsOwn(t *testing.T) {
	h := newHarnessWith(t, nil, pdCatalog(t), nil)
	al := alert("invoices stuck")
	al.Service, al.Severity = "billing", catalog.SEV2
	h.at(16*m, func() { h.ack("erin") })
	h.at(47*m, func() { h.ack("erin") }) // answers the re-page: still on it
	h.at(50*m, func() { h.phase(ResolveUpdate) })
	var synced []string
	h.env.OnActivity("SyncPages", mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SyncInput) error {
		for _, tg := range in.Targets {
			synced = append(synced, in.Action+" "+tg.Key)
		}
		return nil
	})
	st := h.run(al)
	// dan and erin at 0, carol at 5m, dan and erin at 15m (round 2), erin
	// re-paged at 46m.
	h.wantSent([]sent{{"dan", catalog.PagerDuty, 0}, {"erin", catalog.PagerDuty, 0}, {"carol", catalog.PagerDuty, 5 * m},
		{"dan", catalog.PagerDuty, 15 * m}, {"erin", catalog.PagerDuty, 15 * m}, {"erin", catalog.PagerDuty, 46 * m}})
	var triggered []string
	for _, k := range h.keys {
		if key, ok := strings.CutPrefix(k, "trigger "); ok {
			triggered = append(triggered, key)
		}
	}
	ref := IncidentRef(st.ID, st.Run)
	distinct := slices.Compact(slices.Sorted(slices.Values(triggered)))
	if len(triggered) != 6 || len(distinct) != 6 {
		t.Fatalf("PagerDuty dedup keys %q: want 6 pages under 6 keys", triggered)
	}
	for _, k := range triggered {
		if KeyRef(k) != ref {
			t.Fatalf("key %q does not name the incident's ref %s", k, ref)
		}
	}
	// Acknowledged: the five alerts open then; resolved: all six (the
	// acknowledge is the incident's own; the resolve, PostIncident's).
	var acked []string
	for _, k := range synced {
		if key, ok := strings.CutPrefix(k, "acknowledge "); ok {
			acked = append(acked, key)
		}
	}
	// The five open at the acknowledgment, then the re-page's once answered.
	if len(acked) != 6 || !slices.Equal(slices.Sorted(slices.Values(acked[:5])), slices.Sorted(slices.Values(triggered[:5]))) || acked[5] != triggered[5] {
		t.Fatalf("acknowledged %q, want the five alerts open at the acknowledgment %q, then the re-page's", acked, triggered)
	}
	var handed []string
	for _, t := range syncTargets(&st, "resolve") {
		handed = append(handed, t.Key)
	}
	if !slices.Equal(slices.Sorted(slices.Values(handed)), distinct) {
		t.Fatalf("resolution closes %q, want every alert %q", handed, distinct)
	}
}

// pdClaim is a claim on PagerDuty by alice.
func pdClaim(ref string) activities.ClaimInput { return claimOf(ref, catalog.PagerDuty) }

// Defect 2: a bundle's PagerDuty alert speaks for every incident in it: it
// is resolved only when the last of them is done (acknowledged, mitigated
// or resolved), and by the Pager, which knows them all.
func TestBundleAlertClosesWithItsLastIncident(t *testing.T) {
	env := newPagerEnv()
	env.OnActivity("DeliverBundle", mock.Anything, mock.Anything).Return(activities.DeliverResult{ProviderID: "pd1", Attempts: 1}, nil)
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", BundleSignal, mock.Anything).Return(nil)
	var resolved []string
	var at []time.Duration
	env.OnActivity("SyncPages", mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SyncInput) error {
		for _, tg := range in.Targets {
			resolved = append(resolved, in.Action+" "+tg.Key)
		}
		at = append(at, env.Now().Sub(start))
		return nil
	})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(ClaimSignal, pdClaim("inc-b:r")) }, 10*time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(ClaimSignal, pdClaim("inc-c:r")) }, 20*time.Second)
	// b is mitigated at 2m: c still needs the alert. c is acknowledged at 3m.
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(WithdrawSignal, Withdraw{Ref: "inc-b:r"}) }, 2*m)
	var during PagerState
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(StateQuery)
		if err == nil {
			err = v.Get(&during)
		}
		if err != nil {
			t.Error(err)
		}
	}, 150*time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(WithdrawSignal, Withdraw{Ref: "inc-c:r"}) }, 3*m)
	env.ExecuteWorkflow(Pager, PagerInput{First: pdClaim("inc-a:r")})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	bundle := "pager-alice:default-test-run-id:1"
	if len(resolved) != 1 || resolved[0] != "resolve "+bundle || at[0] != 3*m {
		t.Fatalf("resolved %q at %v, want the bundle's alert once, at 3m when its last incident was done", resolved, at)
	}
	if i := slices.IndexFunc(during.Bundles, func(b Bundle) bool { return b.Ref == bundle }); i < 0 || !slices.Equal(during.Bundles[i].Open, []string{"inc-c:r/alice"}) {
		t.Fatalf("after b was done the bundle holds the alert open for %+v, want c only", during.Bundles)
	}
}

// Defect 2, the incident's side: mitigating an incident whose page went out
// in a bundle's PagerDuty alert does not resolve that alert (it would for
// every incident in it): it tells the bundle's Pager it is done; its own
// page's alert it resolves.
func TestMitigateReleasesTheBundleInsteadOfResolvingIt(t *testing.T) {
	pagers := newFakePagers()
	pagers.who = "dan"
	h := newHarnessWith(t, nil, pdCatalog(t), pagers)
	al := alert("invoices stuck")
	al.Service, al.Severity = "billing", catalog.SEV2
	var withdrawn []Withdraw
	h.env.OnSignalExternalWorkflow(mock.Anything, "pager-dan", "", WithdrawSignal, mock.Anything).Return(
		func(_, _, _, _ string, arg any) error { withdrawn = append(withdrawn, arg.(Withdraw)); return nil })
	var synced []string
	h.env.OnActivity("SyncPages", mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SyncInput) error {
		for _, tg := range in.Targets {
			synced = append(synced, in.Action+" "+tg.Person+" "+tg.Key)
		}
		return nil
	})
	ref := "default-test-workflow-id:default-test-run-id"
	h.at(30*time.Second, func() {
		h.env.SignalWorkflow(BundleSignal, BundleOutcome{Ref: ref, Key: pagers.key(0), Bundle: "pager-dan:run:1", Person: "dan",
			Channel: catalog.PagerDuty, Delivered: true, At: start.Add(30 * time.Second)})
	})
	h.at(1*m, func() { h.phase(MitigateUpdate) })
	h.at(2*m, func() { h.phase(ResolveUpdate) })
	h.run(al)
	if want := []string{"resolve erin " + PageKey(ref, 1)}; !slices.Equal(slices.Compact(synced), want) {
		t.Fatalf("synced %q, want %q: the bundle's alert is its Pager's to close", synced, want)
	}
	if len(withdrawn) != 1 || withdrawn[0].Ref != ref || withdrawn[0].Key != "" {
		t.Fatalf("told dan's Pager %+v, want one release of the whole incident", withdrawn)
	}
}

// Defect 3: a claim whose start of the person's Pager went through, but
// whose answer was lost and retried, was told "queued" by the retry while
// the Pager ignored it: the page waited a window and the grace (~6 minutes).
// The Pager says it goes alone; the incident sends it at once.
func TestRetriedStartingClaimPagesAtOnce(t *testing.T) {
	pagers := newFakePagers()
	h := newHarnessWith(t, nil, nil, pagers)
	h.at(2*time.Second, func() {
		for _, ch := range []catalog.Channel{catalog.SMS, catalog.Chat} {
			h.env.SignalWorkflow(BundleSignal, BundleOutcome{Ref: "default-test-workflow-id:default-test-run-id", Key: pagers.key(0),
				Person: "alice", Channel: ch, Alone: true, At: start.Add(2 * time.Second)})
		}
	})
	h.at(3*m, func() { h.ack("alice") })
	h.at(4*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("retried claim"))
	h.wantSent([]sent{{"alice", catalog.SMS, 2 * time.Second}, {"alice", catalog.Chat, 2 * time.Second}})
	for _, p := range st.Pages {
		if p.Outcome != Delivered || p.Bundle != "" {
			t.Fatalf("page %+v, want delivered alone", p)
		}
	}
}

// Defect 3: a bundle that reports after its due time and the grace is on
// its way, not lost: the page is waited for and recorded delivered, late,
// in its bundle; it is not sent a second time alone, nor recorded failed.
func TestLateBundleIsSentOnceAndRecordedDelivered(t *testing.T) {
	pagers := newFakePagers()
	pagers.onItsWay = true
	h := newHarnessWith(t, nil, nil, pagers)
	h.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", WithdrawSignal, mock.Anything).Return(nil)
	late := 1*m + bundleGrace + 2*m
	h.at(late, func() {
		for _, ch := range []catalog.Channel{catalog.SMS, catalog.Chat} {
			h.env.SignalWorkflow(BundleSignal, BundleOutcome{Ref: "default-test-workflow-id:default-test-run-id", Key: pagers.key(0),
				Bundle: "pager-alice:run:1", Person: "alice", Channel: ch, Delivered: true, ProviderID: "SM1", Attempts: 3, At: start.Add(late)})
		}
	})
	h.at(late+m, func() { h.ack("alice") })
	h.at(late+2*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("late bundle"))
	h.mu.Lock()
	for _, s := range h.sent {
		if s.person == "alice" {
			t.Errorf("alice paged alone at %s: her bundle was on its way", s.after)
		}
	}
	h.mu.Unlock()
	var alice []PageEntry
	for _, p := range st.Pages {
		if p.Person == "alice" {
			alice = append(alice, p)
		}
	}
	if len(alice) != 2 || alice[0].Outcome != Delivered || alice[1].Outcome != Delivered || alice[0].Bundle != "pager-alice:run:1" {
		t.Fatalf("alice's pages: %+v, want two delivered in the bundle", alice)
	}
	if k := kinds(st); !slices.Contains(k, "bundle.late") || slices.Contains(k, "bundle.timeout") {
		t.Fatalf("timeline: %v", k)
	}
	if len(*pagers.takes) != 2 {
		t.Fatalf("asked the Pager back %d times, want once per channel", len(*pagers.takes))
	}
}

// Defect 3, the other way: a bundle still pending at the grace's end is
// taken back, and the page goes alone once, recorded once; the Pager is
// told, per channel, to send none of it.
func TestOverdueBundleIsTakenBackAndPagedAloneOnce(t *testing.T) {
	pagers := newFakePagers()
	h := newHarnessWith(t, nil, nil, pagers)
	var withdrawn []Withdraw
	h.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", WithdrawSignal, mock.Anything).Return(
		func(_, _, _, _ string, arg any) error { withdrawn = append(withdrawn, arg.(Withdraw)); return nil })
	h.at(20*m, func() { h.ack("carol") })
	h.at(21*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("silent bundle"))
	var alice []PageEntry
	for _, p := range st.Pages {
		if p.Person == "alice" && p.Round == 1 {
			alice = append(alice, p)
		}
	}
	if len(alice) != 2 || alice[0].Outcome != Delivered || alice[1].Outcome != Delivered || alice[0].Bundle != "" {
		t.Fatalf("alice's first-round pages: %+v, want one record per channel, delivered alone", alice)
	}
	var chans []catalog.Channel
	for _, wd := range withdrawn {
		if wd.Key == pagers.key(0) {
			chans = append(chans, wd.Channel)
		}
	}
	if slices.Sort(chans); !slices.Equal(chans, []catalog.Channel{catalog.Chat, catalog.SMS}) {
		t.Fatalf("withdrawn %+v, want the first claim's page withdrawn on chat and sms", withdrawn)
	}
	for _, in := range *pagers.takes {
		if in.Channel == "" {
			t.Fatalf("asked back %+v, want a channel: a claim waits in a bundle per channel", in)
		}
	}
}

// Defect 4: a SEV1 page does not wait behind a SEV3 window. alice heard a
// SEV3 at 0 (the window runs 10m); a SEV1 at 30s goes at once; a SEV3 at
// 40s waits out the window the SEV1 opened.
func TestLouderPageSkipsTheWindow(t *testing.T) {
	env := newPagerEnv()
	var sentAt []time.Duration
	var sev []catalog.Severity
	env.OnActivity("DeliverBundle", mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BundleInput) (activities.DeliverResult, error) {
		sentAt = append(sentAt, env.Now().Sub(start))
		sev = append(sev, activities.Worst(in.Items))
		return activities.DeliverResult{ProviderID: "b", Attempts: 1}, nil
	})
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", BundleSignal, mock.Anything).Return(nil)
	with := func(ref string, s catalog.Severity) activities.ClaimInput {
		c := claimOf(ref, catalog.SMS)
		c.Window, c.Item.Severity = 10*m, s
		return c
	}
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(ClaimSignal, with("inc-sev1:r", catalog.SEV1)) }, 30*time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(ClaimSignal, with("inc-sev3b:r", catalog.SEV3)) }, 40*time.Second)
	env.ExecuteWorkflow(Pager, PagerInput{First: with("inc-sev3:r", catalog.SEV3)})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sentAt, []time.Duration{30 * time.Second, 10*m + 30*time.Second}) || !slices.Equal(sev, []catalog.Severity{catalog.SEV1, catalog.SEV3}) {
		t.Fatalf("bundles sent at %v (%v), want the SEV1 at once (30s) and the later SEV3 when its window passed (10m30s)", sentAt, sev)
	}
}

// Defect 5: a raise while paging pages the current level on the louder
// channels; a raise once acknowledged tells the acknowledger once, on one
// channel, and does not re-page them (SEV3 had no re-page: its deadline was
// the acknowledgment itself).
func TestSeverityRaise(t *testing.T) {
	raise := func(summary string) (Alert, Alert) {
		first := alert(summary)
		first.Severity = catalog.SEV3
		louder := first
		louder.Severity, louder.ReceivedAt = catalog.SEV1, start.Add(2*m)
		return first, louder
	}
	t.Run("while paging", func(t *testing.T) {
		h := newHarness(t, nil)
		first, louder := raise("slow")
		h.at(2*m, func() { h.env.SignalWorkflow(AlertSignal, louder) })
		h.at(3*m, func() { h.ack("alice") })
		h.at(4*m, func() { h.phase(ResolveUpdate) })
		st := h.run(first)
		h.wantSent([]sent{{"alice", catalog.Email, 0}, {"alice", catalog.SMS, 2 * m}, {"alice", catalog.Chat, 2 * m}})
		if st.Pages[1].Kind != "raise" || st.Pages[1].Level != 1 {
			t.Fatalf("raise page: %+v", st.Pages[1])
		}
	})
	t.Run("acknowledged", func(t *testing.T) {
		h := newHarness(t, nil)
		first, louder := raise("slow")
		h.at(1*m, func() { h.ack("alice") })
		h.at(2*m, func() { h.env.SignalWorkflow(AlertSignal, louder) })
		h.at(40*m, func() { h.phase(ResolveUpdate) })
		st := h.run(first)
		// Told once at 2m on one channel; re-paged 30m after the raise.
		h.wantSent([]sent{{"alice", catalog.Email, 0}, {"alice", catalog.SMS, 2 * m}, {"alice", catalog.SMS, 32 * m}, {"alice", catalog.Chat, 32 * m}})
		if k := st.Pages[1].Kind; k != "raised" {
			t.Fatalf("told as %q, want raised", k)
		}
	})
}

// Defect 9: once the policy ran out, re-page escalation pages from level 1:
// carol (level 2) acknowledged after exhaustion; her third unanswered
// re-page pages level 1 (alice), not level 2 again.
func TestRepageEscalationAfterExhaustionStartsAtLevelOne(t *testing.T) {
	h := newHarness(t, nil)
	h.at(35*m, func() { h.ack("carol") })
	h.at(130*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("nobody home"))
	var esc []PageEntry
	for _, p := range st.Pages {
		if p.Kind == "repage-escalation" {
			esc = append(esc, p)
		}
	}
	if len(esc) == 0 || esc[0].Person != "alice" || esc[0].At != start.Add(125*m) {
		t.Fatalf("re-page escalations %+v, want alice (level 1) at 125m", esc)
	}
}

// Defect 6: a notice retrying through a provider outage does not hold
// continue-as-new back: it is stopped and carried into the next run.
func TestContinueAsNewCarriesANoticeUnderWay(t *testing.T) {
	var h *commsHarness
	h = newFaultyCommsHarness(t, commsFaults{statusPage: func(activities.Notice) error {
		return errors.New("statuspage: 503 service unavailable")
	}})
	// The test environment gives an activity 10 attempts: the status page
	// notice would fail for good near 5m. Suggested at 2m, it is carried.
	h.at(2*m, func() { h.env.SetContinueAsNewSuggested(true) })
	h.env.ExecuteWorkflow(Incident, IncidentInput{Alert: alert("status page down")})
	next := nextIncident(t, h.harness)
	if got := h.env.Now().Sub(start); got > 3*m {
		t.Fatalf("continued as new %s in, want within a minute of 2m: it waited on the status page", got)
	}
	if !slices.ContainsFunc(next.Carried, func(j Job) bool { return j.Kind == jobNotice && j.Dest == destStatusPage }) {
		t.Fatalf("carried %+v, want the status page notice; timeline %+v", next.Carried, next.State.Timeline)
	}
}

// Defect 9: a reminder is not dropped an hour after it was scheduled (a
// worker outage is not the provider's failure): it has no schedule-to-close
// bound; the activity gives up only after an hour of provider failures
// (activities' TestRemind).
func TestReminderOutlivesAnHourLongOutage(t *testing.T) {
	h := newCommsHarness(t)
	h.at(8*m, func() { h.ack("alice") })
	h.at(40*m, func() { h.phase(ResolveUpdate) })
	h.run(alert("reminded"))
	if len(h.remindBounds) == 0 {
		t.Fatal("no reminder sent")
	}
	for _, b := range h.remindBounds {
		if b > 0 && b <= 2*time.Hour {
			t.Fatalf("a reminder is dropped %s after it was scheduled, worker outage included", b)
		}
	}
}

// A Pager never loses a page it was handed: a claim that arrives as it
// continues as new is in the next run's bundle.
func TestPagerLosesNoClaim(t *testing.T) {
	t.Run("continue-as-new", func(t *testing.T) {
		env := newPagerEnv()
		env.RegisterDelayedCallback(func() {
			env.SetContinueAsNewSuggested(true)
			env.SignalWorkflow(ClaimSignal, claimOf("inc-b:r", catalog.SMS))
		}, 30*time.Second)
		env.ExecuteWorkflow(Pager, PagerInput{First: claimOf("inc-a:r", catalog.SMS)})
		var can *workflow.ContinueAsNewError
		if err := env.GetWorkflowError(); !errors.As(err, &can) {
			t.Fatalf("want continue-as-new, got %v", err)
		}
		var next PagerInput
		if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
			t.Fatal(err)
		}
		if next.State == nil || !slices.ContainsFunc(next.State.Bundles, func(b Bundle) bool {
			return slices.ContainsFunc(b.Items, func(it activities.BundleItem) bool { return it.Ref == "inc-b:r" })
		}) {
			t.Fatalf("next run's state %+v lost the claim handed over as it continued", next.State)
		}
	})
}

// A claim waits in one bundle per channel, each with its own fate: taking
// back the page still pending on sms does not touch chat's bundle, already
// sent, and asking for chat's says it is on its way.
func TestTakeBackIsPerChannel(t *testing.T) {
	env := newPagerEnv()
	env.OnActivity("DeliverBundle", mock.Anything, mock.Anything).Return(activities.DeliverResult{ProviderID: "b", Attempts: 1}, nil)
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", BundleSignal, mock.Anything).Return(nil)
	b := claimOf("inc-b:r", catalog.Chat, catalog.SMS) // chat's bundle first in the list
	// alice heard on sms at 0: sms waits for 1m; chat, quiet, goes at 30s.
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(ClaimSignal, b) }, 30*time.Second)
	got := map[catalog.Channel]TakeResult{}
	for _, ch := range []catalog.Channel{catalog.SMS, catalog.Chat} {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(TakeUpdate, "", &testsuite.TestUpdateCallback{
				OnAccept: func() {}, OnReject: func(err error) { t.Errorf("take %s: %v", ch, err) },
				OnComplete: func(r any, err error) { got[ch] = r.(TakeResult) },
			}, Withdraw{Ref: b.Item.Ref, Key: b.Item.Key, Channel: ch})
		}, 40*time.Second)
	}
	env.ExecuteWorkflow(Pager, PagerInput{First: claimOf("inc-a:r", catalog.SMS)})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if !got[catalog.SMS].Taken || got[catalog.Chat].Taken {
		t.Fatalf("taken back: %+v, want sms's (pending) and not chat's (sent)", got)
	}
}
