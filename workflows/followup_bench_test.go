package workflows_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/workflows"
)

// silent keeps the replayer's debug lines out of the benchmark's output.
var silent = log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// yearTracker closes one of its tickets every few weeks: a week is one
// status read of every ticket, so closings follow the follow-up's own weeks.
type yearTracker struct {
	mu     sync.Mutex
	reads  int
	keys   []string
	closes map[string]int // key → the week it is done from
}

func (y *yearTracker) File(_ context.Context, t activities.Ticket) (string, error) { return "", nil }
func (y *yearTracker) URL(key string) string                                       { return "https://tracker.example.com/" + key }

func (y *yearTracker) Status(_ context.Context, key string) (activities.TicketStatus, error) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.reads++
	week := (y.reads-1)/len(y.keys) + 1
	if week >= y.closes[key] {
		return activities.TicketStatus{Name: "Done", Category: "done"}, nil
	}
	return activities.TicketStatus{Name: "In Progress", Category: "indeterminate"}, nil
}

// BenchmarkFollowUpYear: one simulated year of weekly follow-ups for an
// incident with 10 action items, on a dev server, a "week" lasting 100ms;
// the last item closes in week 52. It reports the longest run's history
// event count and the time to replay that run (targets: ≤ 2,000 events,
// ≤ 100 ms).
func BenchmarkFollowUpYear(b *testing.B) {
	bin := os.Getenv("SITREP_TEMPORAL_BIN")
	if bin == "" {
		b.Skip("needs the Temporal CLI: run under `make bench`")
	}
	srv, err := testsuite.StartDevServer(context.Background(), testsuite.DevServerOptions{
		ExistingPath: bin, LogLevel: "error", SearchAttributes: temporal.NewSearchAttributes(workflows.SearchAttributes...)})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = srv.Stop() }()
	c := srv.Client()
	cat, err := catalog.Parse("record.yaml", []byte(recordCatalog))
	if err != nil {
		b.Fatal(err)
	}
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		trk := &yearTracker{closes: map[string]int{}}
		in := workflows.FollowUpState{Ref: fmt.Sprintf("bench-year-%d", i), IncidentID: "inc-bench", Service: "checkout", Team: "pay",
			Summary: "a year of follow-ups", Managers: []string{"frank"}, Resolved: time.Now(),
			Schedule: workflows.FollowUpSchedule{Every: 100 * time.Millisecond, Zone: "UTC"}, ContinueEvery: catalog.DefaultContinueEvery}
		for n := 1; n <= 10; n++ {
			key := fmt.Sprintf("OPS-%d", n)
			trk.keys = append(trk.keys, key)
			trk.closes[key] = 52 * n / 10 // weeks 5, 10, …, 52
			in.Items = append(in.Items, workflows.FollowItem{ActionItem: workflows.ActionItem{ID: fmt.Sprint("A", n), Title: "item " + key,
				Owner: "alice", Priority: "High", Due: time.Now().AddDate(0, 0, 7*n).Format(time.DateOnly), Ticket: key}})
		}
		w := worker.New(c, workflows.TaskQueue, worker.Options{})
		workflows.Register(w)
		w.RegisterActivity(&activities.Activities{Catalog: activities.StaticCatalog{C: cat}, Templates: tmpl, Tracker: trk,
			Comms: activities.CommsDeps{Mailer: okMailer{}}})
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		id := workflows.FollowUpID(in.Ref)
		started := time.Now()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, workflows.FollowUp, in)
		if err != nil {
			b.Fatal(err)
		}
		var out workflows.FollowUpState
		if err := run.Get(ctx, &out); err != nil { // follows continue-as-new to the last run
			b.Fatal(err)
		}
		wall := time.Since(started)
		w.Stop()
		longest, runs, longestEvents := yearRuns(ctx, b, c, id)
		if out.Week != 52 || out.Phase != workflows.Closed {
			b.Fatalf("ended after week %d in %s, want week 52, closed", out.Week, out.Phase)
		}
		rp := worker.NewWorkflowReplayer()
		workflows.Register(rp)
		var best time.Duration
		for range 5 {
			t0 := time.Now()
			if err := rp.ReplayWorkflowHistory(silent, longest); err != nil {
				b.Fatal(err)
			}
			if d := time.Since(t0); best == 0 || d < best {
				best = d
			}
		}
		cancel()
		b.ReportMetric(float64(longestEvents), "events/longest-run")
		b.ReportMetric(float64(best.Microseconds())/1000, "replay-ms")
		b.ReportMetric(float64(runs), "runs")
		fmt.Printf("follow-up year: 52 weeks, 10 items, %d runs (continue-as-new every %d weeks), longest run %d events, replay %.1f ms (best of 5), wall %s\n",
			runs, in.ContinueEvery, longestEvents, float64(best.Microseconds())/1000, wall.Round(time.Millisecond))
	}
}

// yearRuns returns the longest run's history of workflow id, how many runs
// it had, and that run's event count.
func yearRuns(ctx context.Context, b *testing.B, c client.Client, id string) (*historypb.History, int, int) {
	b.Helper()
	var runIDs []string
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowId = %q", id)})
		if err != nil {
			b.Fatal(err)
		}
		runIDs = runIDs[:0]
		closed := 0
		for _, e := range resp.GetExecutions() {
			runIDs = append(runIDs, e.GetExecution().GetRunId())
			if e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				closed++
			}
		}
		// Visibility is eventually consistent: wait until every run is listed closed.
		if len(runIDs) > 1 && closed == len(runIDs) {
			if last := resp.GetExecutions()[0]; last.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("visibility lists %d runs of %s, %d closed", len(runIDs), id, closed)
		}
		<-time.After(200 * time.Millisecond)
	}
	var longest *historypb.History
	for _, r := range runIDs {
		h := &historypb.History{}
		it := c.GetWorkflowHistory(ctx, id, r, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				b.Fatal(err)
			}
			h.Events = append(h.Events, ev)
		}
		if longest == nil || len(h.Events) > len(longest.Events) {
			longest = h
		}
	}
	return longest, len(runIDs), len(longest.Events)
}
