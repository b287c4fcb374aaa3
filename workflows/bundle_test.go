package workflows

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

func item(ref string) activities.BundleItem {
	id, _ := ParseIncidentRef(ref)
	return activities.BundleItem{Key: ref + "/alice", Ref: ref, IncidentID: id, Service: "checkout", Severity: catalog.SEV1, Summary: "s " + id, Kind: "page"}
}

// newPagerEnv is a test environment for a Pager on its own, at start.
func newPagerEnv() *testsuite.TestWorkflowEnvironment {
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(quiet)
	env := ts.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	Register(env)
	env.RegisterActivity(&activities.Activities{})
	return env
}

func claimOf(ref string, chs ...catalog.Channel) activities.ClaimInput {
	return activities.ClaimInput{Person: "alice", Channels: chs, Window: time.Minute, Item: item(ref)}
}

// The Pager: the first message per channel goes at once, later ones within
// the window gather into one bundle sent when it passes; a withdrawn
// incident leaves its bundle; a bundle left empty sends nothing; each
// incident hears how its bundle went; the Pager ends when its windows pass.
func TestPagerBundlesWithinTheWindow(t *testing.T) {
	env := newPagerEnv()
	var mu sync.Mutex
	var sentBundles []activities.BundleInput
	var sentAt []time.Duration
	env.OnActivity("DeliverBundle", mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BundleInput) (activities.DeliverResult, error) {
		mu.Lock()
		defer mu.Unlock()
		sentBundles = append(sentBundles, in)
		sentAt = append(sentAt, env.Now().Sub(start))
		return activities.DeliverResult{ProviderID: "b1", Attempts: 1}, nil
	})
	var told []BundleOutcome
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", BundleSignal, mock.Anything).Return(
		func(_, id, _, _ string, arg any) error {
			mu.Lock()
			defer mu.Unlock()
			told = append(told, arg.(BundleOutcome))
			return nil
		})
	claim := func(at time.Duration, in activities.ClaimInput) {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(ClaimSignal, in) }, at)
	}
	first := claimOf("inc-a:r", catalog.SMS, catalog.Chat)
	claim(5*time.Second, first) // the starting claim handed over again by a retry
	claim(10*time.Second, claimOf("inc-b:r", catalog.SMS))
	claim(20*time.Second, claimOf("inc-c:r", catalog.SMS, catalog.Chat))
	claim(25*time.Second, claimOf("inc-b:r", catalog.SMS)) // a retried claim
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(WithdrawSignal, Withdraw{Ref: "inc-c:r"}) }, 30*time.Second)
	env.ExecuteWorkflow(Pager, PagerInput{First: first})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := env.Now().Sub(start); got != 2*time.Minute {
		t.Fatalf("pager ended after %s, want 2m (the bundle at 1m opens the next window)", got)
	}
	mu.Lock()
	defer mu.Unlock()
	// One message: sms at 1m holding b once (c withdrawn, a sent at once);
	// chat's bundle emptied and sent nothing.
	if len(sentBundles) != 1 || sentAt[0] != time.Minute || sentBundles[0].Channel != catalog.SMS ||
		len(sentBundles[0].Items) != 1 || sentBundles[0].Items[0].Ref != "inc-b:r" {
		t.Fatalf("bundles sent: %+v at %v", sentBundles, sentAt)
	}
	// The retried starting claim is not bundled: its incident, told it was
	// queued, hears that its page goes alone, on each channel.
	var alone []catalog.Channel
	told = slices.DeleteFunc(told, func(o BundleOutcome) bool {
		if o.Alone && o.Key == first.Item.Key {
			alone = append(alone, o.Channel)
		}
		return o.Alone
	})
	if !slices.Equal(alone, []catalog.Channel{catalog.SMS, catalog.Chat}) {
		t.Fatalf("the retried starting claim was told to go alone on %v, want sms and chat", alone)
	}
	if len(told) != 1 || told[0].Ref != "inc-b:r" || told[0].Key != "inc-b:r/alice" || !told[0].Delivered || told[0].Bundle == "" {
		t.Fatalf("incidents told: %+v", told)
	}
}

// A page handed to a running Pager after its channel's window has passed
// goes out at once, in a bundle of its own, and opens the next window.
func TestPagerSendsAtOnceWhenTheWindowHasPassed(t *testing.T) {
	env := newPagerEnv()
	var sentAt []time.Duration
	env.OnActivity("DeliverBundle", mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BundleInput) (activities.DeliverResult, error) {
		sentAt = append(sentAt, env.Now().Sub(start))
		return activities.DeliverResult{ProviderID: "b1", Attempts: 1}, nil
	})
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", BundleSignal, mock.Anything).Return(nil)
	// The chat window (opened at 0) keeps the Pager running; sms's passes at 1m.
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(ClaimSignal, claimOf("inc-chat:r", catalog.Chat)) }, 30*time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(ClaimSignal, claimOf("inc-late:r", catalog.SMS)) }, 65*time.Second)
	env.ExecuteWorkflow(Pager, PagerInput{First: claimOf("inc-a:r", catalog.SMS, catalog.Chat)})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if len(sentAt) != 2 || sentAt[0] != time.Minute || sentAt[1] != 65*time.Second {
		t.Fatalf("bundles sent at %v, want chat's at 1m and the late sms at once, at 65s", sentAt)
	}
}

// fakePagers queues every claim for alice with her Pager, and keeps the
// claims' keys, which the Pager's outcomes name.
type fakePagers struct {
	mu   *sync.Mutex
	keys *[]string
	// onItsWay: a page asked back is in a bundle on its way; otherwise it
	// is taken back.
	onItsWay bool
	takes    *[]activities.TakeInput
	// who is the one person with a Pager; alice when empty.
	who string
}

func newFakePagers() fakePagers {
	return fakePagers{mu: &sync.Mutex{}, keys: &[]string{}, takes: &[]activities.TakeInput{}}
}

func (f fakePagers) Take(_ context.Context, in activities.TakeInput) (activities.TakeResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*f.takes = append(*f.takes, in)
	return activities.TakeResult{Taken: !f.onItsWay}, nil
}

func (f fakePagers) Claim(_ context.Context, in activities.ClaimInput) (activities.ClaimResult, error) {
	if in.Person != cmp.Or(f.who, "alice") {
		return activities.ClaimResult{}, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	*f.keys = append(*f.keys, in.Item.Key)
	return activities.ClaimResult{Queued: true}, nil
}

func (f fakePagers) key(i int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return (*f.keys)[i]
}

// An incident whose page went into a bundle records it as bundled, then as
// delivered in that bundle when the Pager says so; the escalation counts
// it as reached.
func TestBundledPageIsRecordedWithItsBundle(t *testing.T) {
	pagers := newFakePagers()
	h := newHarnessWith(t, nil, nil, pagers)
	var during IncidentState
	h.at(30*time.Second, func() { during = h.state() })
	h.at(1*m, func() {
		for _, ch := range []catalog.Channel{catalog.SMS, catalog.Chat} {
			h.env.SignalWorkflow(BundleSignal, BundleOutcome{Ref: "default-test-workflow-id:default-test-run-id", Key: pagers.key(0),
				Bundle: "pager-alice:run:1", Person: "alice", Channel: ch, Delivered: true, ProviderID: "SM9", Attempts: 1, At: start.Add(1 * m)})
		}
	})
	h.at(2*m, func() { h.ack("alice") })
	h.at(3*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("bundled"))
	h.wantSent(nil) // both went in the Pager's bundle, not by the incident
	var sms *PageEntry
	for i, p := range st.Pages {
		if p.Channel == catalog.SMS {
			sms = &st.Pages[i]
		}
	}
	if sms == nil || sms.Outcome != Delivered || sms.Bundle != "pager-alice:run:1" || sms.ProviderID != "SM9" || sms.At != start.Add(m) {
		t.Fatalf("sms page: %+v", sms)
	}
	if n := len(during.Pages); n != 2 || during.Pages[1].Outcome != Bundled && during.Pages[0].Outcome != Bundled {
		t.Fatalf("while waiting: %+v", during.Pages)
	}
}

// Acknowledged before its bundle went out: the page is cancelled and the
// incident withdrawn from the Pager's bundle.
func TestAckWithdrawsFromThePendingBundle(t *testing.T) {
	h := newHarnessWith(t, nil, nil, newFakePagers())
	var withdrawn []string
	h.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", WithdrawSignal, mock.Anything).Return(
		func(_, id, _, _ string, arg any) error {
			withdrawn = append(withdrawn, id+" "+arg.(Withdraw).Ref)
			return nil
		})
	h.at(20*time.Second, func() { h.ack("alice") })
	h.at(3*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("withdrawn"))
	if len(withdrawn) != 1 || withdrawn[0] != "pager-alice default-test-workflow-id:default-test-run-id" {
		t.Fatalf("withdrawn: %v", withdrawn)
	}
	for _, p := range st.Pages {
		if p.Channel == catalog.SMS && p.Outcome != Cancelled {
			t.Fatalf("sms page: %+v", p)
		}
	}
}
