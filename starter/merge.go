package starter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/workflows"
)

// Merger is what the intake needs to merge incidents from a chat command;
// Client is one. Optional, so an Incidents without it still serves the rest.
type Merger interface {
	Merge(ctx context.Context, id, requestID string, req workflows.MergeRequest) (workflows.MergeResult, error)
}

var _ Merger = (*Client)(nil)

// ValidateMerge checks what can be checked of a merge without the
// incidents, naming each problem; the error wraps ErrInvalid.
func ValidateMerge(id string, req workflows.MergeRequest) error {
	var problems []string
	into, _ := workflows.ParseIncidentRef(strings.TrimSpace(req.Into))
	switch {
	case into == "":
		problems = append(problems, "into: empty: name the incident to merge into")
	case workflows.FindIncidentID(into) != into:
		problems = append(problems, fmt.Sprintf("into: %q is not an incident ID (inc-<service>-<16 hex>)", truncate(into, 60)))
	}
	if own, _ := workflows.ParseIncidentRef(id); into != "" && own == into {
		problems = append(problems, fmt.Sprintf("into: cannot merge %s into itself", own))
	}
	if strings.TrimSpace(req.By) == "" {
		problems = append(problems, "by: empty: the catalog handle of who merges it")
	}
	return invalidRequest(problems)
}

// Merge merges incident id into req.Into: id stops paging, its PagerDuty
// alerts close, its stakeholders hear only the target's story, and its
// record joins the target's. A refusal (a resolved target or source, a
// target itself merged) comes back as a RejectedError and changes nothing.
// Asking again answers with the merge it had, even once id has closed.
func (c *Client) Merge(ctx context.Context, id, requestID string, req workflows.MergeRequest) (workflows.MergeResult, error) {
	var out workflows.MergeResult
	if err := ValidateMerge(id, req); err != nil {
		return out, err
	}
	id, req.Run = workflows.ParseIncidentRef(id)
	err := c.update(ctx, id, requestID, workflows.MergeUpdate, req, &out)
	if rej := (*RejectedError)(nil); errors.As(err, &rej) && rej.Type == workflows.MergeUnanswered {
		return out, fmt.Errorf("merge %s: %w: %s", id, ErrUnavailable, rej.Message)
	}
	if errors.Is(err, ErrNotFound) || isCompleted(err) {
		st, serr := c.Status(ctx, id)
		into, _ := workflows.ParseIncidentRef(req.Into)
		switch {
		case serr != nil:
		case st.Phase == workflows.Merged && st.MergedInto == into && st.MergedAt != nil:
			return workflows.MergeResult{Into: st.MergedInto, At: *st.MergedAt, By: st.MergedBy, Already: true}, nil
		case st.Phase == workflows.Resolved:
			return out, &RejectedError{Type: workflows.RejectWrongPhase, Message: fmt.Sprintf("%s is already resolved: a resolved incident cannot be merged", id)}
		}
	}
	return out, err
}

var _ activities.Merger = (*Client)(nil)

// Absorb hands a merged incident's record, or alerts that reached it
// after the merge, to the target incident: the target's absorb update.
// A request with neither only asks whether the target is still open. A
// target that refuses, has closed or never existed is a RefusedError.
func (c *Client) Absorb(ctx context.Context, in activities.AbsorbInput) (activities.AbsorbOutput, error) {
	var req workflows.AbsorbRequest
	if err := json.Unmarshal(in.Request, &req); err != nil {
		return activities.AbsorbOutput{}, &activities.RefusedError{Type: workflows.RejectInvalid, Message: "absorb request unreadable: " + err.Error()}
	}
	// closed: the target is not open; it says how, when its record still answers.
	closed := func() error {
		if st, err := c.Status(ctx, in.IncidentID); err == nil && st.Phase == workflows.Resolved {
			return &activities.RefusedError{Type: workflows.RejectWrongPhase,
				Message: fmt.Sprintf("%s is already resolved: merge into an open incident", in.IncidentID)}
		}
		return &activities.RefusedError{Type: workflows.RejectWrongPhase,
			Message: fmt.Sprintf("no open incident %s: it is resolved, or there is no such incident", in.IncidentID)}
	}
	var out workflows.AbsorbResult
	if req.Record == nil && len(req.Alerts) == 0 {
		if c.running(ctx, in.IncidentID) == "" {
			return activities.AbsorbOutput{}, closed()
		}
		st, err := c.Status(ctx, in.IncidentID)
		switch {
		case errors.Is(err, ErrNotFound):
			return activities.AbsorbOutput{}, closed()
		case err != nil:
			return activities.AbsorbOutput{}, err
		case st.Phase == workflows.Resolved || (req.Run != "" && st.Run != req.Run):
			return activities.AbsorbOutput{}, closed()
		}
		out = workflows.AbsorbResult{ID: st.ID, Run: st.Run, Summary: st.Summary}
	} else {
		err := c.update(ctx, in.IncidentID, in.RequestID, workflows.AbsorbUpdate, req, &out)
		var rej *RejectedError
		switch {
		case errors.As(err, &rej):
			return activities.AbsorbOutput{}, &activities.RefusedError{Type: rej.Type, Message: rej.Message}
		case errors.Is(err, ErrNotFound) || isCompleted(err):
			return activities.AbsorbOutput{}, closed()
		case err != nil:
			return activities.AbsorbOutput{}, err
		}
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return activities.AbsorbOutput{}, fmt.Errorf("encode absorb result: %w", err)
	}
	return activities.AbsorbOutput{Result: raw}, nil
}
