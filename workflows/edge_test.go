package workflows

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
)

// nextIncident returns the input the workflow continued as new with.
func nextIncident(t *testing.T, h *harness) IncidentInput {
	t.Helper()
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	var next IncidentInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	return next
}

// A resolution does not wait for PagerDuty: with PagerDuty answering 503
// for ten minutes, the incident closes at once (so the same alert firing
// again opens a new incident at once) and the post-incident workflow carries
// the resolve on, never dropping it.
func TestResolveDoesNotWaitForPagerSync(t *testing.T) {
	h := newHarness(t, nil)
	h.env.OnActivity("SyncPages", mock.Anything, mock.Anything).Return(nil).After(10 * m)
	var handed *PostIncidentInput
	h.env.OnWorkflow("PostIncident", mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in PostIncidentInput) (PostIncidentState, error) {
			handed = &in
			return PostIncidentState{}, nil
		})
	al := alert("payments down")
	al.Severity = catalog.SEV2 // pages carol's PagerDuty
	h.at(6*m, func() { h.ack("carol") })
	h.at(10*m, func() { h.phase(ResolveUpdate) })
	st := h.run(al)
	if got, closed := st.ResolvedAt.Sub(start), h.env.Now().Sub(start); got != 10*m || closed != 10*m {
		t.Fatalf("resolved at %s, closed at %s; want both at 10m", got, closed)
	}
	if handed == nil || len(handed.Handover) != 1 || handed.Handover[0].Action != "resolve" || st.PostIncident == "" {
		t.Fatalf("handed to PostIncident: %+v (state %q)", handed, st.PostIncident)
	}
}

// A PagerDuty page still in flight when the incident resolves is closed too.
func TestInflightPagerDutyPageIsClosed(t *testing.T) {
	h := newHarness(t, nil)
	var mu sync.Mutex
	var syncs []activities.SyncInput
	h.env.OnActivity("Deliver", mock.Anything, mock.MatchedBy(func(in activities.DeliverInput) bool { return in.Channel == catalog.PagerDuty })).
		After(30*time.Second).Return(activities.DeliverResult{ProviderID: "pd", Attempts: 1}, nil)
	h.env.OnActivity("Deliver", mock.Anything, mock.Anything).Return(activities.DeliverResult{ProviderID: "ok", Attempts: 1}, nil)
	h.env.OnActivity("SyncPages", mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SyncInput) error {
		mu.Lock()
		defer mu.Unlock()
		syncs = append(syncs, in)
		return nil
	})
	al := alert("payments down")
	al.Severity = catalog.SEV2
	h.at(5*m+10*time.Second, func() { h.phase(ResolveUpdate) })
	h.run(al)
	mu.Lock()
	defer mu.Unlock()
	if len(syncs) != 1 || syncs[0].Action != "resolve" || len(syncs[0].Targets) != 1 || syncs[0].Targets[0].Person != "carol" {
		t.Fatalf("syncs: %+v; want carol's PagerDuty alert resolved", syncs)
	}
}

// State carried from a run before unreachable-level escalation existed
// waits out the level, as that run would have.
func TestOldStateWaitsOutTheLevel(t *testing.T) {
	h := newHarness(t, nil)
	h.at(2*m, func() { h.env.SetContinueAsNewSuggested(true) })
	h.env.ExecuteWorkflow(Incident, IncidentInput{Alert: alert("error rate 12%")})
	next := nextIncident(t, h)
	next.State.Escalation.Reached, next.State.Run = false, "" // as a pre-v2 run carries it
	h2 := newHarness(t, nil)
	h2.env.SetStartTime(start.Add(2 * m))
	h2.at(4*m, func() { h2.ack("carol") })
	h2.at(5*m, func() { h2.phase(ResolveUpdate) })
	h2.env.ExecuteWorkflow(Incident, next)
	if err := h2.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	h2.wantSent([]sent{{"carol", catalog.SMS, 5 * m}})
}

// Alerts carried into a new run are routed like live ones: a firing after
// a resolution opens the next incident.
func TestCarriedFireAfterResolveOpensTheNext(t *testing.T) {
	h := newHarness(t, nil)
	h.at(2*m, func() { h.env.SetContinueAsNewSuggested(true) })
	h.env.ExecuteWorkflow(Incident, IncidentInput{Alert: alert("x")})
	next := nextIncident(t, h)
	res, fire := alert("x"), alert("x")
	res.Resolved, res.ResolveIncident = true, true
	next.Pending = []Alert{res, fire}
	h2 := newHarness(t, nil)
	h2.env.SetStartTime(start.Add(2 * m))
	h2.env.ExecuteWorkflow(Incident, next)
	if again := nextIncident(t, h2); again.Alert.Resolved || again.State != nil {
		t.Fatalf("next incident: %+v", again)
	}
}

// A page that gives up after transient failures shows each try.
func TestGivingUpShowsEveryTry(t *testing.T) {
	busy := &integrations.Error{Provider: "twilio", Kind: integrations.Transient, Status: 429, Message: "busy"}
	h := newHarness(t, map[string]error{"alice/sms": busy})
	h.at(6*m, func() { h.ack("carol") })
	h.at(7*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("retry"))
	for _, p := range st.Pages {
		if p.Person != "alice" || p.Channel != catalog.SMS || p.Round != 1 {
			continue
		}
		if p.Outcome != Failed || len(p.Retries) < 2 || !strings.Contains(p.Retries[0], "attempt 1: twilio: transient error (http 429)") {
			t.Fatalf("alice/sms: %s, retries %q", p.Outcome, p.Retries)
		}
		return
	}
	t.Fatal("no page to alice by sms")
}
