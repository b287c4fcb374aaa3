package workflows

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// Defects a review of the reshaped core found, each as the scenario that
// showed it.

// Resolving, like acknowledging and mitigating, takes a page waiting in a
// bundle out of it.
func TestResolveWithdrawsBundledPages(t *testing.T) {
	for _, upd := range []string{ResolveUpdate, MitigateUpdate} {
		t.Run(upd, func(t *testing.T) {
			h := newHarnessWith(t, nil, nil, newFakePagers())
			var withdrawn []Withdraw
			h.env.OnSignalExternalWorkflow(mock.Anything, "pager-alice", "", WithdrawSignal, mock.Anything).Return(
				func(_, _, _, _ string, arg any) error { withdrawn = append(withdrawn, arg.(Withdraw)); return nil })
			h.at(20*time.Second, func() { h.phase(upd) })
			if upd == MitigateUpdate {
				h.at(3*m, func() { h.phase(ResolveUpdate) })
			}
			h.run(alert("withdrawn"))
			if len(withdrawn) != 1 || withdrawn[0].Key == "" {
				t.Fatalf("withdrawals: %+v, want the bundled page's claim", withdrawn)
			}
		})
	}
}

// A withdrawal takes out the one page it names: a newer page of the same
// incident, claimed into the same bundle before the withdrawal arrives,
// still goes out.
func TestWithdrawTakesOutOnlyItsPage(t *testing.T) {
	env := newPagerEnv()
	var sent []activities.BundleInput
	env.OnActivity("DeliverBundle", mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BundleInput) (activities.DeliverResult, error) {
		sent = append(sent, in)
		return activities.DeliverResult{ProviderID: "b", Attempts: 1}, nil
	})
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", BundleSignal, mock.Anything).Return(nil)
	pass0, pass1 := claimOf("inc-x:r", catalog.SMS), claimOf("inc-x:r", catalog.SMS)
	pass0.Item.Key, pass1.Item.Key = "inc-x:r/alice/pass0", "inc-x:r/alice/pass1"
	for i, c := range []activities.ClaimInput{pass0, pass1} {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(ClaimSignal, c) }, time.Duration(10+10*i)*time.Second)
	}
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(WithdrawSignal, Withdraw{Ref: "inc-x:r", Key: pass0.Item.Key}) }, 21*time.Second)
	env.ExecuteWorkflow(Pager, PagerInput{First: claimOf("inc-first:r", catalog.SMS)})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 || len(sent[0].Items) != 1 || sent[0].Items[0].Key != pass1.Item.Key {
		t.Fatalf("bundles sent: %+v, want one holding pass 1's page", sent)
	}
}

// A page waiting in a bundle that never reports goes out alone once the
// bundle is well overdue: it is never left waiting for ever.
func TestSilentBundleFallsBackToPagingAlone(t *testing.T) {
	h := newHarnessWith(t, nil, nil, newFakePagers())
	h.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", WithdrawSignal, mock.Anything).Return(nil)
	h.at(20*m, func() { h.ack("carol") })
	h.at(21*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("silent bundle"))
	// alice's pages waited for their bundle (due within 1m) plus the grace,
	// then went alone; carol (no Pager here) was paged at once at level 2.
	late := bundleGrace + m
	h.wantSent([]sent{{"carol", catalog.SMS, 5 * m}, {"alice", catalog.Chat, late}, {"alice", catalog.SMS, late}})
	if !strings.Contains(strings.Join(kinds(st), " "), "bundle.timeout") {
		t.Fatalf("timeline: %v", kinds(st))
	}
}

// An alert that flaps faster than level 1's delay, with nobody answering,
// still climbs the policy: each firing resumes the escalation where it
// stood instead of starting over at level 1.
func TestFlappingAlertStillEscalates(t *testing.T) {
	h := newHarness(t, nil)
	fire, clr := alert("flap"), alert("flap")
	clr.Resolved = true
	for i := range 30 {
		h.at(time.Duration(2*i+1)*m, func() { h.env.SignalWorkflow(AlertSignal, clr) })
		h.at(time.Duration(2*i+2)*m, func() { h.env.SignalWorkflow(AlertSignal, fire) })
	}
	h.at(61*m, func() { h.phase(ResolveUpdate) })
	h.run(fire)
	h.mu.Lock()
	defer h.mu.Unlock()
	var climbed []string
	for _, s := range h.sent {
		if s.person != "alice" {
			climbed = append(climbed, s.person)
		}
	}
	if len(climbed) < 2 || climbed[0] != "carol" {
		t.Fatalf("pages beyond level 1 in an hour of flapping: %v (all: %v)", climbed, h.sent)
	}
}

// A storm on a grouped service whose alerts reach the incident before it
// is routed folds into it, rather than each being forwarded.
func TestStormAtOpenGroups(t *testing.T) {
	grouped := strings.Replace(testCatalog, "    team: pay\n    tier: 1\n", "    team: pay\n    tier: 1\n    group_window: 5m\n", 1)
	c, err := catalog.Parse("test.yaml", []byte(grouped))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessWith(t, nil, activities.StaticCatalog{C: c}, nil)
	var forwarded []string
	h.env.OnActivity("Forward", mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ForwardInput) error {
		var al Alert
		_ = json.Unmarshal(in.Alert, &al)
		forwarded = append(forwarded, al.Summary)
		return nil
	})
	h.at(0, func() {
		for _, s := range []string{"a", "b", "c", "d"} {
			h.env.SignalWorkflow(AlertSignal, alert(s))
		}
	})
	h.at(1*m, func() { h.phase(ResolveUpdate) })
	h.env.ExecuteWorkflow(Incident, IncidentInput{})
	var st IncidentState
	if err := h.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if len(st.Keys) != 4 || len(forwarded) != 0 || st.AlertCount != 4 {
		t.Fatalf("keys %d, alerts %d, forwarded %v; want all 4 grouped", len(st.Keys), st.AlertCount, forwarded)
	}
}

// A clear never opens an incident.
func TestClearOpensNothing(t *testing.T) {
	h := newHarness(t, nil)
	clr := alert("x")
	clr.Resolved = true
	h.at(0, func() { h.env.SignalWorkflow(AlertSignal, clr) })
	h.env.ExecuteWorkflow(Incident, IncidentInput{})
	if err := h.env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "a clear cannot open an incident") {
		t.Fatalf("error: %v", err)
	}
	h.wantSent(nil)
}

// A summary shows in the Temporal UI as written, never as a link.
func TestMarkdownTextEscapesLinks(t *testing.T) {
	if got, want := MarkdownText("[Acknowledge](https://evil.example) *now*"), `\[Acknowledge\]\(https://evil\.example\) \*now\*`; got != want {
		t.Fatalf("MarkdownText = %q, want %q", got, want)
	}
}

// The sandbox finds what a message is about: an incident it names, or the
// bundle a call's keypad link or a PagerDuty dedup key carries.
func TestFindRef(t *testing.T) {
	ref := "pager-carol:01a23069-50ac-7e76-888b-4074a8719f99:4"
	for _, tt := range []struct{ text, want string }{
		{"sitrep SEV1 inc-checkout-6003a31f3d31c8f8 (level 1): down", "inc-checkout-6003a31f3d31c8f8"},
		{"3 more incidents http://x/v1/twilio/voice?incident=" + url.QueryEscape(ref) + "&person=carol", ref},
		{ref, ref},
		{"nothing here", ""},
	} {
		if got := FindRef(tt.text); got != tt.want {
			t.Errorf("FindRef(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}
