package worker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/workflows"
)

// TestObserverCountsNothingOnReplay replays every recorded Incident history
// through the observer: a worker that takes an incident over from a dead
// one replays its history, and must not count its pages, escalations and
// acknowledgments again.
func TestObserverCountsNothingOnReplay(t *testing.T) {
	files, err := filepath.Glob("../workflows/testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no histories in ../workflows/testdata (%v)", err)
	}
	m, err := NewMetrics("test")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		h, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
		_ = r.Close() // read
		if err != nil {
			t.Fatal(err)
		}
		st := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes()
		rp, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
			Interceptors: []interceptor.WorkerInterceptor{&observer{m: m}},
		})
		if err != nil {
			t.Fatal(err)
		}
		workflows.Register(rp)
		if err := rp.ReplayWorkflowHistoryWithOptions(nil, h, worker.ReplayWorkflowHistoryOptions{
			OriginalExecution: workflow.Execution{ID: st.GetWorkflowId(), RunID: st.GetOriginalExecutionRunId()},
		}); err != nil {
			t.Fatalf("replay %s: %v", f, err)
		}
	}
	if m.replayed.Load() == 0 {
		t.Fatal("the observer saw no timeline line while replaying: it did not look")
	}
	for _, name := range []string{"sitrep_incident_events_total", "sitrep_acknowledgments_total", "sitrep_pages_total"} {
		if n := total(t, m, name); n != 0 {
			t.Errorf("%s = %v after replaying %d histories; want 0", name, n, len(files))
		}
	}
}

func total(t *testing.T, m *Metrics, name string) float64 {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range fams {
		if f.GetName() == name {
			for _, mt := range f.GetMetric() {
				sum += mt.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// observed is a stand-in for the Incident workflow with its shape: a state
// query with a timeline, the acknowledge update, pages through Deliver.
func observed(ctx workflow.Context, in workflows.IncidentInput) error {
	var st workflows.IncidentState
	if in.State != nil {
		st = *in.State // continued: the carried lines were counted before
	}
	event := func(kind string) { st.Timeline = append(st.Timeline, workflows.Event{Kind: kind}) }
	if err := workflow.SetQueryHandler(ctx, workflows.StateQuery, func() (workflows.IncidentState, error) { return st, nil }); err != nil {
		return err
	}
	acked := false
	if err := workflow.SetUpdateHandler(ctx, workflows.AcknowledgeUpdate, func(ctx workflow.Context, req workflows.AckRequest) (workflows.AckResult, error) {
		acked = true
		event("acknowledged")
		return workflows.AckResult{Person: req.Person}, nil
	}); err != nil {
		return err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
	event("opened")
	for level := 1; level <= 2 && !acked; level++ {
		event("paging")
		in := activities.DeliverInput{IncidentID: "inc-1", Person: "alice", Channel: catalog.SMS, Kind: "page", Level: level,
			OpenedAt: workflow.Now(ctx).Add(-3 * time.Second)}
		_ = workflow.ExecuteActivity(ctx, deliverActivity, in).Get(ctx, nil) // a failed page is counted, not fatal here
		if ok, _ := workflow.AwaitWithTimeout(ctx, time.Minute, func() bool { return acked }); !ok {
			event("escalated")
		}
	}
	if !acked {
		event("exhausted")
	}
	return nil
}

// TestObserverCounts runs the stand-in in skipped time: two pages (the
// first refused for good), one escalation, an acknowledgment by SMS, and
// lines carried from an earlier run that are not counted again.
func TestObserverCounts(t *testing.T) {
	m, err := NewMetrics("test")
	if err != nil {
		t.Fatal(err)
	}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&observer{m: m}}})
	env.RegisterWorkflowWithOptions(observed, workflow.RegisterOptions{Name: "Incident"})
	calls := 0
	env.RegisterActivityWithOptions(func(ctx context.Context, in activities.DeliverInput) error {
		calls++
		if calls == 1 {
			return temporal.NewNonRetryableApplicationError("invalid number", activities.ErrPermanent, errors.New("21211"))
		}
		return nil
	}, activity.RegisterOptions{Name: deliverActivity})
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflowNoRejection(workflows.AcknowledgeUpdate, "ack-1", t, workflows.AckRequest{Person: "alice", Channel: "sms"})
	}, 90*time.Second)
	carried := workflows.IncidentState{Timeline: []workflows.Event{{Kind: "escalated"}, {Kind: "escalated"}}}
	env.ExecuteWorkflow("Incident", workflows.IncidentInput{State: &carried})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"sitrep_pages_total", []string{"sms", "page", "failed"}, 1},
		{"sitrep_pages_total", []string{"sms", "page", "delivered"}, 1},
		{"sitrep_incident_events_total", []string{"escalated"}, 1}, // not the two carried over
		{"sitrep_incident_events_total", []string{"paging"}, 2},
		{"sitrep_incident_events_total", []string{"acknowledged"}, 1},
		{"sitrep_incident_events_total", []string{"exhausted"}, 0},
		{"sitrep_acknowledgments_total", []string{"sms"}, 1},
	} {
		if got := counterValue(t, m, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v; want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := histogramCount(t, m, "sitrep_first_page_latency_seconds"); n != 1 {
		t.Errorf("first-page latency observed %d times; want 1 (the first page delivered)", n)
	}
}

func histogramCount(t *testing.T, m *Metrics, name string) uint64 {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name && len(f.GetMetric()) > 0 {
			return f.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	return 0
}
