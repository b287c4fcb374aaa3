package starter

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/sitrep-dev/sitrep/workflows"
)

// recordingClient is a Temporal client that records the alerts and
// updates the Go API sends; any other call panics (the embedded nil client).
type recordingClient struct {
	client.Client
	signalled []workflows.Alert
	starts    []client.StartWorkflowOptions
	updates   []any
}

func (r *recordingClient) SignalWithStartWorkflow(_ context.Context, _ string, _ string, arg any, opts client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	r.signalled = append(r.signalled, arg.(workflows.Alert))
	r.starts = append(r.starts, opts)
	return stubRun{}, nil
}

func (r *recordingClient) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return nil, errors.New("not found")
}

func (r *recordingClient) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	r.updates = append(r.updates, o.Args...)
	return stubHandle{}, nil
}

type stubRun struct{ client.WorkflowRun }

func (stubRun) GetRunID() string { return "run-1" }

type stubHandle struct{ client.WorkflowUpdateHandle }

func (stubHandle) Get(context.Context, any) error { return nil }

// An alert through the Go API (what `sitrep alert` and `sitrep declare`
// call) reaches the workflow clean: a line break in the summary, which
// would make every email page fail ("subject holds a line break"), becomes
// a space, as it does through the HTTP intake; a field over its cap is
// refused, named.
func TestAlertIsCleanedOnTheGoAPIPath(t *testing.T) {
	rc := &recordingClient{}
	c := New(rc)
	al := workflows.Alert{Source: workflows.Internal, Service: " payments\t", Severity: "SEV2", Summary: "db down\r\nBcc: x",
		Reporter: "ann\x1b[31m", Labels: map[string]string{"team\n": "pay\u202e"}, Links: []string{" https://example.com/x\n"}, Integration: "cli"}
	if _, err := c.Alert(context.Background(), al); err != nil {
		t.Fatalf("alert: %v", err)
	}
	if len(rc.signalled) != 1 {
		t.Fatalf("alerts sent: %d", len(rc.signalled))
	}
	got := rc.signalled[0]
	want := map[string][2]string{
		"summary":  {got.Summary, "db down  Bcc: x"},
		"service":  {got.Service, "payments"},
		"dedupKey": {got.DedupKey, "payments|db down  Bcc: x"},
		"reporter": {got.Reporter, "ann"},
		"label":    {got.Labels["team"], "pay"},
		"link":     {strings.Join(got.Links, ","), "https://example.com/x"},
	}
	for field, w := range want {
		if w[0] != w[1] {
			t.Errorf("%s: %q, want %q", field, w[0], w[1])
		}
	}
	if s := rc.starts[0].StaticSummary; strings.ContainsAny(s, "\r\n") {
		t.Errorf("the UI's summary holds a line break: %q", s)
	}

	long := al
	long.Service = strings.Repeat("s", workflows.MaxService+1)
	long.Summary = strings.Repeat("é", workflows.MaxSummary)
	_, err := c.Alert(context.Background(), long)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "service is 129 bytes, more than 128") {
		t.Errorf("over-long service: %v, want it refused, named", err)
	}
	long.Service = "payments"
	if _, err := c.Alert(context.Background(), long); err != nil {
		t.Fatalf("over-long summary: %v, want it truncated", err)
	}
	if s := rc.signalled[1].Summary; len(s) > workflows.MaxSummary || !strings.HasSuffix(s, workflows.TruncatedMarker) {
		t.Errorf("over-long summary sent as %d bytes, ending %q", len(s), s[len(s)-20:])
	}
}

// What people type reaches the incident clean: a note on one line, an
// update's message with its line breaks but no other control character.
func TestNotesAndMessagesAreCleanedOnTheGoAPIPath(t *testing.T) {
	rc := &recordingClient{}
	c := New(rc)
	ctx := context.Background()
	if _, err := c.Mitigate(ctx, "inc-payments-0123456789abcdef", "", workflows.PhaseRequest{By: "ann", Note: "rolled back\r\nBcc: x\x07"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Resolve(ctx, "inc-payments-0123456789abcdef", "", workflows.PhaseRequest{By: "ann", Note: strings.Repeat("n", workflows.MaxNote+10)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PostUpdate(ctx, "inc-payments-0123456789abcdef", "", workflows.UpdateRequest{By: "ann", Message: "Line one\r\nline two\x1b[2J\u202e\n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PostUpdate(ctx, "inc-payments-0123456789abcdef", "", workflows.UpdateRequest{By: "ann", Message: "\x00\x1b[31m\r\n"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a message of control characters only: %v, want it refused as empty", err)
	}
	if len(rc.updates) != 3 {
		t.Fatalf("updates sent: %d, want 3", len(rc.updates))
	}
	if n := rc.updates[0].(workflows.PhaseRequest).Note; n != "rolled back  Bcc: x" {
		t.Errorf("mitigate note %q", n)
	}
	if n := rc.updates[1].(workflows.PhaseRequest).Note; len(n) > workflows.MaxNote || !strings.HasSuffix(n, workflows.TruncatedMarker) {
		t.Errorf("resolve note of %d bytes", len(n))
	}
	if m := rc.updates[2].(workflows.UpdateRequest).Message; m != "Line one\nline two" {
		t.Errorf("update message %q, want its line break kept and nothing else", m)
	}
}
