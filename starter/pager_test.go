package starter

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/workflows"
)

// lostAnswer is Pagers whose first claim reaches Temporal, but whose answer
// is lost (a timeout on the way back), so the claim is retried.
type lostAnswer struct {
	*Client
	mu   sync.Mutex
	lost bool
}

func (l *lostAnswer) Claim(ctx context.Context, in activities.ClaimInput) (activities.ClaimResult, error) {
	res, err := l.Client.Claim(ctx, in)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && !l.lost {
		l.lost = true
		return activities.ClaimResult{}, errors.New("context deadline exceeded")
	}
	return res, err
}

// pages records the pages delivered, as a provider would receive them.
type pages struct {
	mu   sync.Mutex
	sent []string
}

func (p *pages) Notify(_ context.Context, m activities.Message) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, m.Person)
	return "SM1", nil
}

func (p *pages) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sent)
}

const claimCatalog = `
catch_all: ops
bundle_window: 1m
people:
  - handle: alice
    contacts: [{sms: "+15550100001"}]
teams:
  - name: ops
    policy: ops-policy
    members: [alice]
services:
  - name: checkout
    team: ops
    tier: 1
escalation_policies:
  - name: ops-policy
    levels:
      - targets: [{person: alice}]
        delay: 30m
severities:
  SEV1:
    channels: {1: [sms], 2: [sms], 3: [sms]}
    update_cadence: none
    notice: none
    war_room: none
  SEV2: {channels: {1: [sms], 2: [sms], 3: [sms]}, update_cadence: none, notice: none, war_room: none}
  SEV3: {channels: {1: [sms], 2: [sms], 3: [sms]}, update_cadence: none, notice: none, war_room: none}
  SEV4: {channels: {1: [sms], 2: [sms], 3: [sms]}, update_cadence: none, notice: none, war_room: none}
comms:
  role_unfilled_after: none
`

// A quiet person's first page goes out at once even when the claim that
// started their Pager is retried (its answer lost): the retry finds the
// Pager running and is told "queued", and the Pager, which that very claim
// started, tells the incident to page alone. Before, the Pager ignored it and
// the page waited the window and the grace: six minutes.
func TestRetriedStartingClaimPagesAtOnceOnDevServer(t *testing.T) {
	tc := devServer(t)
	cat, err := catalog.Parse("claim.yaml", []byte(claimCatalog))
	require.NoError(t, err)
	tmpl, err := activities.LoadTemplates("")
	require.NoError(t, err)
	c := New(tc)
	sms := &pages{}
	pagers := &lostAnswer{Client: c}
	w := worker.New(tc, workflows.TaskQueue, worker.Options{})
	workflows.Register(w)
	w.RegisterActivity(&activities.Activities{Catalog: activities.StaticCatalog{C: cat}, Templates: tmpl, Pagers: pagers,
		Notifiers: map[catalog.Channel]activities.Notifier{catalog.SMS: sms}})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = c.Alert(ctx, workflows.Alert{Source: workflows.Monitoring, Service: "checkout", Severity: catalog.SEV1,
		Summary: "checkout down", DedupKey: "claim-retry", Integration: "test"})
	require.NoError(t, err)
	began := time.Now()
	deadline := time.Now().Add(20 * time.Second)
	for sms.count() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no page 20s after the alert: the retried claim held the first page back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("paged after %s", time.Since(began))
	pagers.mu.Lock()
	lost := pagers.lost
	pagers.mu.Unlock()
	require.True(t, lost, "the claim's answer was never lost: the test did not test")
}

// A page bundled with a Pager is taken back before its bundle goes (the
// incident then pages alone); a page no Pager holds counts as taken.
func TestTakeBackOnDevServer(t *testing.T) {
	tc := devServer(t)
	w := worker.New(tc, workflows.TaskQueue, worker.Options{})
	workflows.Register(w)
	w.RegisterActivity(&activities.Activities{})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := New(tc)
	claim := func(key string) activities.ClaimInput {
		return activities.ClaimInput{Person: "alice", Channels: []catalog.Channel{catalog.SMS}, Window: time.Hour, At: time.Now(),
			Item: activities.BundleItem{Key: key, Ref: "inc-a:r", IncidentID: "inc-a", Service: "checkout", Severity: catalog.SEV1, Summary: "s", Kind: "page"}}
	}
	first, err := c.Claim(ctx, claim("k1"))
	require.NoError(t, err)
	require.False(t, first.Queued, "a quiet person's page goes at once")
	second, err := c.Claim(ctx, claim("k2"))
	require.NoError(t, err)
	require.True(t, second.Queued)
	took, err := c.Take(ctx, activities.TakeInput{Person: "alice", Ref: "inc-a:r", Key: "k2"})
	require.NoError(t, err)
	require.True(t, took.Taken, "a page whose bundle waits for the window is taken back")
	v, err := tc.QueryWorkflow(ctx, workflows.PagerID("alice"), "", workflows.StateQuery)
	require.NoError(t, err)
	var st workflows.PagerState
	require.NoError(t, v.Get(&st))
	for _, b := range st.Bundles {
		require.Empty(t, b.Items, "the bundle still holds the page taken back")
	}
	none, err := c.Take(ctx, activities.TakeInput{Person: "bob", Ref: "inc-a:r", Key: "k9"})
	require.NoError(t, err)
	require.True(t, none.Taken, "no Pager: nothing will send it")
}
