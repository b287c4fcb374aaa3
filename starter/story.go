package starter

import (
	"context"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/workflows"
)

var _ activities.Stories = (*Client)(nil)

// Tell hands a notice to the Story of its destination (see workflows.Story)
// in one SignalWithStart: the Story running takes it as a signal; none
// running, one starts with it. A Story finishing as the signal arrives sees
// it before it can finish, so no notice is lost. It returns the Story's ID.
func (c *Client) Tell(ctx context.Context, n activities.StoryNotice) (string, error) {
	scope := workflows.StoryScope(n.Dest)
	id := workflows.StoryID(scope)
	_, err := c.tc.SignalWithStartWorkflow(ctx, id, workflows.TellSignal, n, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue,
		// A Story that finished (nothing open) starts again for the next cause.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:         "one story per cause: " + scope,
	}, workflows.Story, workflows.StoryInput{Scope: scope})
	if err != nil {
		return "", wrap("tell "+id, err)
	}
	return id, nil
}
