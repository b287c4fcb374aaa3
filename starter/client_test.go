package starter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/workflows"
)

// roomIncident stands in for the Incident workflow's comms handlers, with
// validators that refuse as the real ones do: it counts what reached it.
func roomIncident(ctx workflow.Context) error {
	calls := 0
	if err := workflow.SetQueryHandler(ctx, "calls", func() (int, error) { return calls, nil }); err != nil {
		return err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, workflows.PostUpdateUpdate,
		func(ctx workflow.Context, req workflows.UpdateRequest) (workflows.UpdateResult, error) {
			calls++
			return workflows.UpdateResult{At: workflow.Now(ctx), Status: req.Status}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, req workflows.UpdateRequest) error {
			if req.Status == workflows.StatusInvestigating {
				return temporal.NewApplicationError("status cannot go back from identified to investigating", workflows.RejectWrongPhase)
			}
			return nil
		}})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, workflows.AssignRoleUpdate,
		func(ctx workflow.Context, req workflows.RoleRequest) (workflows.RoleResult, error) {
			calls++
			return workflows.RoleResult{Role: req.Role, Person: req.Person, At: workflow.Now(ctx)}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, req workflows.RoleRequest) error {
			if req.Person == "mallory" {
				return temporal.NewApplicationError("mallory is not in the catalog", workflows.RejectUnknownResponder)
			}
			return nil
		}})
	if err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return false })
}

// devServer starts the pinned Temporal CLI's dev server with sitrep's search
// attributes. Like the end-to-end tests, it fails without the binary; only
// -short, outside CI, skips.
func devServer(t *testing.T) client.Client {
	t.Helper()
	bin := os.Getenv("SITREP_TEMPORAL_BIN")
	if bin == "" {
		bin, _ = filepath.Abs("../bin/temporal")
	}
	if _, err := os.Stat(bin); err != nil {
		if testing.Short() && os.Getenv("CI") == "" {
			t.Skipf("-short: no Temporal CLI at %s", bin)
		}
		t.Fatalf("no Temporal CLI at %s (SITREP_TEMPORAL_BIN): run `make build`: %v", bin, err)
	}
	srv, err := testsuite.StartDevServer(context.Background(), testsuite.DevServerOptions{
		ExistingPath: bin, LogLevel: "error",
		SearchAttributes: temporal.NewSearchAttributes(workflows.SearchAttributes...),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	return srv.Client()
}

func TestClientCommsOnDevServer(t *testing.T) {
	tc := devServer(t)
	w := worker.New(tc, workflows.TaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(roomIncident, workflow.RegisterOptions{Name: "Incident"})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const id, room = "inc-checkout-00000000000000aa", "C0WARROOM1"
	_, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.RoomAttr.ValueSet(room))}, "Incident")
	require.NoError(t, err)
	c := New(tc)
	calls := func() int {
		v, err := tc.QueryWorkflow(ctx, id, "", "calls")
		require.NoError(t, err)
		var n int
		require.NoError(t, v.Get(&n))
		return n
	}

	req := workflows.UpdateRequest{By: "carol", Status: workflows.StatusIdentified, Message: "rolling back", Channel: "cli"}
	out, err := c.PostUpdate(ctx, id, "cli-1", req)
	require.NoError(t, err)
	assert.Equal(t, workflows.StatusIdentified, out.Status)
	again, err := c.PostUpdate(ctx, id, "cli-1", req)
	require.NoError(t, err)
	assert.Equal(t, out, again, "a retried request is answered with the first answer")
	assert.Equal(t, 1, calls(), "and posts once")

	_, err = c.PostUpdate(ctx, id, "cli-2", workflows.UpdateRequest{By: "carol", Status: workflows.StatusInvestigating, Message: "back to square one"})
	var rej *RejectedError
	require.ErrorAs(t, err, &rej)
	assert.Equal(t, workflows.RejectWrongPhase, rej.Type)
	assert.Equal(t, "status cannot go back from identified to investigating", rej.Message)

	for name, bad := range map[string]workflows.UpdateRequest{
		"message: empty":                   {By: "carol", Message: " "},
		`status: "fixed" is not one of`:    {By: "carol", Message: "x", Status: "fixed"},
		`audience: "everyone" is not one`:  {By: "carol", Message: "x", Audience: "everyone"},
		"by: empty: the catalog handle of": {Message: "x"},
	} {
		_, err = c.PostUpdate(ctx, id, "", bad)
		assert.ErrorIs(t, err, ErrInvalid, name)
		assert.ErrorContains(t, err, name)
	}
	assert.Equal(t, 1, calls(), "nothing invalid reached the incident")

	role, err := c.AssignRole(ctx, id, "cli-3", workflows.RoleRequest{Role: "commander", Person: "bob", By: "alice", Channel: "cli"})
	require.NoError(t, err)
	assert.Equal(t, "bob", role.Person)
	_, err = c.AssignRole(ctx, id, "cli-4", workflows.RoleRequest{Role: "commander", Person: "mallory", By: "alice"})
	require.ErrorAs(t, err, &rej)
	assert.Equal(t, workflows.RejectUnknownResponder, rej.Type)
	_, err = c.AssignRole(ctx, id, "cli-5", workflows.RoleRequest{Role: " ", Person: "bob"})
	assert.ErrorIs(t, err, ErrInvalid)
	assert.Equal(t, 2, calls())

	_, err = c.PostUpdate(ctx, "inc-nothing-00000000000000bb", "cli-6", req)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = c.AssignRole(ctx, "inc-nothing-00000000000000bb", "cli-7", workflows.RoleRequest{Role: "comms", Person: "bob", By: "alice"})
	assert.ErrorIs(t, err, ErrNotFound)

	// Visibility follows the start by a moment: poll, with a deadline.
	deadline := time.Now().Add(15 * time.Second)
	for {
		found, err := c.FindByRoom(ctx, room)
		if err == nil {
			assert.Equal(t, id, found)
			break
		}
		require.ErrorIs(t, err, ErrNotFound)
		if time.Now().After(deadline) {
			t.Fatalf("FindByRoom(%s) never found %s: %v", room, id, err)
		}
		<-time.After(100 * time.Millisecond) // poll interval, not a wait for the result
	}
	_, err = c.FindByRoom(ctx, "C0OTHERROOM")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = c.FindByRoom(ctx, `C0" OR WorkflowType = 'Incident`)
	assert.ErrorIs(t, err, ErrInvalid, "nothing but a channel ID reaches the query")

	require.NoError(t, tc.TerminateWorkflow(ctx, id, "", "test over"))
	deadline = time.Now().Add(15 * time.Second)
	for {
		_, err := c.FindByRoom(ctx, room)
		if errors.Is(err, ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("FindByRoom(%s) still finds the closed incident: %v", room, err)
		}
		<-time.After(100 * time.Millisecond) // poll interval
	}
}
