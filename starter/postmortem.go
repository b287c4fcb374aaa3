package starter

import (
	"context"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/workflows"
)

// PostIncidentOf returns the post-incident workflow's ID for incident,
// which may be an incident ID (its latest resolution is meant), a ref, or
// the post-incident workflow's own ID.
func (c *Client) PostIncidentOf(ctx context.Context, incident string) (string, error) {
	switch {
	case strings.HasPrefix(incident, "post-"):
		return incident, nil
	case strings.Contains(incident, ":"):
		return workflows.PostIncidentID(incident), nil
	}
	st, err := c.Status(ctx, incident)
	if err != nil {
		return "", err
	}
	if st.PostIncident != "" {
		return st.PostIncident, nil
	}
	// The same alert fired again and its new incident is open: the
	// post-mortem meant is the last resolved one's.
	resp, lerr := c.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1,
		Query: fmt.Sprintf("WorkflowType = 'PostIncident' AND WorkflowId STARTS_WITH %q", workflows.PostIncidentID(incident+":"))})
	if lerr == nil && len(resp.GetExecutions()) > 0 {
		return resp.GetExecutions()[0].GetExecution().GetWorkflowId(), nil
	}
	return "", fmt.Errorf("%w: incident %s is %s: it has no post-mortem until it is resolved", ErrInvalid, incident, st.Phase)
}

// PostIncident returns the post-incident workflow's state.
func (c *Client) PostIncident(ctx context.Context, incident string) (workflows.PostIncidentState, error) {
	var st workflows.PostIncidentState
	id, err := c.PostIncidentOf(ctx, incident)
	if err != nil {
		return st, err
	}
	return st, c.query(ctx, id, workflows.StateQuery, &st)
}

// PostmortemText renders the post-mortem document as it stands: the
// incident's record and, once submitted, the post-mortem; the same
// template the tracker's copy was rendered with.
func (c *Client) PostmortemText(ctx context.Context, incident string) (string, error) {
	id, err := c.PostIncidentOf(ctx, incident)
	if err != nil {
		return "", err
	}
	var doc activities.PostmortemDoc
	if err := c.query(ctx, id, workflows.PostmortemQuery, &doc); err != nil {
		return "", err
	}
	t, err := activities.LoadTemplates("")
	if err != nil {
		return "", err
	}
	return t.Postmortem(doc)
}

// SubmitPostmortem submits (edit false) or resubmits the post-mortem.
func (c *Client) SubmitPostmortem(ctx context.Context, incident, requestID string, req workflows.SubmitRequest, edit bool) (workflows.SubmitResult, error) {
	var out workflows.SubmitResult
	id, err := c.PostIncidentOf(ctx, incident)
	if err != nil {
		return out, err
	}
	name := workflows.SubmitPostmortemUpdate
	if edit {
		name = workflows.EditPostmortemUpdate
	}
	return out, c.update(ctx, id, requestID, name, req, &out)
}

// Decide approves or rejects the stakeholder summary.
func (c *Client) Decide(ctx context.Context, incident, requestID string, req workflows.DecisionRequest, approve bool) (workflows.DecisionResult, error) {
	var out workflows.DecisionResult
	id, err := c.PostIncidentOf(ctx, incident)
	if err != nil {
		return out, err
	}
	name := workflows.RejectUpdate
	if approve {
		name = workflows.ApproveUpdate
	}
	return out, c.update(ctx, id, requestID, name, req, &out)
}

// AddAction adds an action item: to the weekly follow-up when it runs,
// else to the post-mortem.
func (c *Client) AddAction(ctx context.Context, incident, requestID string, req workflows.AddActionRequest) (workflows.AddActionResult, error) {
	var out workflows.AddActionResult
	id, err := c.PostIncidentOf(ctx, incident)
	if err != nil {
		return out, err
	}
	if f := workflows.FollowUpID(strings.TrimPrefix(id, "post-")); c.isRunning(ctx, f) {
		id = f
	}
	return out, c.update(ctx, id, requestID, workflows.AddActionUpdate, req, &out)
}

// Actions returns the incident's action items as the follow-up last read
// them, or, before it runs, as the post-mortem holds them.
func (c *Client) Actions(ctx context.Context, incident string) ([]workflows.FollowItem, error) {
	id, err := c.PostIncidentOf(ctx, incident)
	if err != nil {
		return nil, err
	}
	var fu workflows.FollowUpState
	if err := c.query(ctx, workflows.FollowUpID(strings.TrimPrefix(id, "post-")), workflows.StateQuery, &fu); err == nil {
		return fu.Items, nil
	}
	var st workflows.PostIncidentState
	if err := c.query(ctx, id, workflows.StateQuery, &st); err != nil {
		return nil, err
	}
	// Items holds the submission's items from the moment it is submitted.
	out := make([]workflows.FollowItem, 0, len(st.Items))
	for _, it := range st.Items {
		out = append(out, workflows.FollowItem{ActionItem: it})
	}
	return out, nil
}

// PostmortemListed is one post-incident workflow in a list.
type PostmortemListed struct {
	ID      string    `json:"id"`
	Phase   string    `json:"phase"`
	Service string    `json:"service"`
	Team    string    `json:"team,omitempty"`
	Due     time.Time `json:"due,omitempty"`
	Started time.Time `json:"started"`
}

// Postmortems lists post-incident workflows, newest first; overdue keeps
// those whose post-mortem is due and past due at now.
func (c *Client) Postmortems(ctx context.Context, overdue bool, now time.Time) ([]PostmortemListed, error) {
	q := "WorkflowType = 'PostIncident'"
	if overdue {
		q += fmt.Sprintf(" AND %s = %q AND %s < %q", workflows.PostPhaseAttr.GetName(), workflows.PostmortemDue,
			workflows.PostmortemDueAttr.GetName(), now.UTC().Format(time.RFC3339))
	}
	resp, err := c.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 1000})
	if err != nil {
		return nil, wrap("list post-mortems", err)
	}
	var out []PostmortemListed
	for _, e := range resp.GetExecutions() {
		sa := e.GetSearchAttributes()
		l := PostmortemListed{ID: e.GetExecution().GetWorkflowId(), Phase: keyword(sa, workflows.PostPhaseAttr),
			Service: keyword(sa, workflows.ServiceAttr), Team: keyword(sa, workflows.TeamAttr), Started: e.GetStartTime().AsTime()}
		if p := sa.GetIndexedFields()[workflows.PostmortemDueAttr.GetName()]; p != nil {
			_ = converter.GetDefaultDataConverter().FromPayload(p, &l.Due) // an unreadable value shows as zero
		}
		out = append(out, l)
	}
	return out, nil
}

// query runs a query on workflow id's latest run.
func (c *Client) query(ctx context.Context, id, name string, out any) error {
	v, err := c.tc.QueryWorkflow(ctx, id, "", name)
	if err != nil {
		if isNotFound(err) {
			return fmt.Errorf("%s %s: %w", name, id, ErrNotFound)
		}
		return wrap(name+" "+id, err)
	}
	if err := v.Get(out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", name, id, err)
	}
	return nil
}

// isRunning reports whether workflow id has a running execution.
func (c *Client) isRunning(ctx context.Context, id string) bool {
	d, err := c.tc.DescribeWorkflowExecution(ctx, id, "")
	return err == nil && d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}
