package starter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/workflows"
)

var _ activities.Pagers = (*Client)(nil)

// Claim hands a page to person's Pager (see workflows.Pager). A person with
// no Pager running is quiet: starting one is the claim, one round trip that
// waits for no workflow task, and the caller sends the page now. Otherwise
// the page goes to the running Pager as a signal, to be bundled.
func (c *Client) Claim(ctx context.Context, in activities.ClaimInput) (activities.ClaimResult, error) {
	id := workflows.PagerID(in.Person)
	// A Pager seen running within its window most likely still runs: in a
	// storm, signalling first spares a start refused as already started.
	if seen, ok := c.pagers.Load(in.Person); ok && c.now().Sub(seen.(time.Time)) < in.Window {
		err := c.tc.SignalWorkflow(ctx, id, "", workflows.ClaimSignal, in)
		if err == nil {
			return activities.ClaimResult{Queued: true}, nil
		}
		if !isNotFound(err) {
			return activities.ClaimResult{}, wrap("claim", err)
		}
		c.pagers.Delete(in.Person)
	}
	for range 3 {
		_, err := c.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: id, TaskQueue: workflows.TaskQueue,
			WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
			WorkflowExecutionErrorWhenAlreadyStarted: true,
			StaticSummary:                            "bundling window of " + in.Person,
			// No StartDelay, though nothing is due before the window passes:
			// a delayed workflow holds signals until its delay ends, and a
			// retry of this claim, told "queued" once this start went
			// through, must hear at once that its page goes alone.
		}, workflows.Pager, workflows.PagerInput{First: in})
		if err == nil {
			c.pagers.Store(in.Person, c.now())
			return activities.ClaimResult{}, nil
		}
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if !errors.As(err, &started) {
			return activities.ClaimResult{}, wrap("claim", err)
		}
		err = c.tc.SignalWorkflow(ctx, id, "", workflows.ClaimSignal, in)
		if err == nil {
			c.pagers.Store(in.Person, c.now())
			return activities.ClaimResult{Queued: true}, nil
		}
		if !isNotFound(err) {
			return activities.ClaimResult{}, wrap("claim", err)
		}
		// The Pager finished between the start and the signal: try again.
	}
	return activities.ClaimResult{}, fmt.Errorf("claim %s: the pager kept closing under us", in.Person)
}

// Take asks person's Pager for a claimed page back (workflows.TakeUpdate).
// A Pager that is not running holds nothing: the page is taken.
func (c *Client) Take(ctx context.Context, in activities.TakeInput) (activities.TakeResult, error) {
	var res activities.TakeResult
	err := c.update(ctx, workflows.PagerID(in.Person), "", workflows.TakeUpdate, workflows.Withdraw{Ref: in.Ref, Key: in.Key, Channel: in.Channel}, &res)
	if errors.Is(err, ErrNotFound) {
		return activities.TakeResult{Taken: true}, nil
	}
	return res, err
}

// Bundle returns the incidents a bundle held: what acknowledging the bundle
// acknowledges.
func (c *Client) Bundle(ctx context.Context, ref string) (workflows.Bundle, error) {
	var b workflows.Bundle
	id, run, ok := workflows.ParseBundleRef(ref)
	if !ok {
		return b, fmt.Errorf("%w: %q is not a bundle", ErrInvalid, ref)
	}
	// The Pager's latest run holds the bundle when it carried it over a
	// continue-as-new, with every claim since; a closed run holds the rest.
	v, err := c.tc.QueryWorkflow(ctx, id, "", workflows.BundleQuery, ref)
	if err != nil {
		v, err = c.tc.QueryWorkflow(ctx, id, run, workflows.BundleQuery, ref)
	}
	if err != nil {
		if isNotFound(err) {
			return b, fmt.Errorf("bundle %s: %w", ref, ErrNotFound)
		}
		return b, wrap("bundle "+ref, err)
	}
	if err := v.Get(&b); err != nil {
		return b, fmt.Errorf("bundle %s: decode: %w", ref, err)
	}
	return b, nil
}

// acknowledgeBundle acknowledges every incident of a bundle as req.Person,
// all at once. Incidents already acknowledged, mitigated or resolved are
// passed over. Any other failure (Temporal unreachable, a timeout) fails the
// whole answer, so the sender retries it with the same request ID, which the
// incidents already acknowledged count once.
func (c *Client) acknowledgeBundle(ctx context.Context, ref, requestID string, req workflows.AckRequest) (workflows.AckResult, error) {
	b, err := c.Bundle(ctx, ref)
	if err != nil {
		return workflows.AckResult{}, err
	}
	type one struct {
		id  string
		res workflows.AckResult
		err error
	}
	results := make([]one, len(b.Items))
	var wg sync.WaitGroup
	for i, it := range b.Items {
		wg.Go(func() {
			r := req
			id, run := workflows.ParseIncidentRef(it.Ref)
			r.Run = run
			rid := ""
			if requestID != "" {
				rid = requestID + "/" + it.Ref
			}
			results[i].id = id
			results[i].err = c.update(ctx, id, rid, workflows.AcknowledgeUpdate, r, &results[i].res)
		})
	}
	wg.Wait()
	var out workflows.AckResult
	var passed []string
	for _, r := range results {
		var rej *RejectedError
		switch {
		case r.err == nil:
			out.Person, out.At = r.res.Person, r.res.At
			if !slices.Contains(out.Incidents, r.id) {
				out.Incidents = append(out.Incidents, r.id)
			}
		case errors.As(r.err, &rej), errors.Is(r.err, ErrNotFound):
			passed = append(passed, fmt.Sprintf("%s: %v", r.id, r.err))
		default:
			return workflows.AckResult{}, fmt.Errorf("acknowledge bundle %s: %s: %w", ref, r.id, r.err)
		}
	}
	if len(out.Incidents) == 0 {
		return out, &RejectedError{Type: workflows.RejectWrongPhase, Message: "nothing in that bundle to acknowledge: " + strings.Join(passed, "; ")}
	}
	return out, nil
}

// Paging is an incident still paging a person, and the message that reached
// them: an incident alone, or a bundle.
type Paging struct {
	IncidentID string `json:"id"`
	Summary    string `json:"summary"`
	Message    string `json:"message"` // the ref a reply acts on: the incident's, or its bundle's
}

// PagingFor lists the incidents still paging person (triggered, and a page
// delivered to them in the current pass), newest first. An SMS reply without
// a code acts on them only when they all came in one message.
func (c *Client) PagingFor(ctx context.Context, person string) ([]Paging, error) {
	q := fmt.Sprintf("WorkflowType = 'Incident' AND ExecutionStatus = 'Running' AND %s = %q AND %s = %q",
		workflows.PagedAttr.GetName(), person, workflows.PhaseAttr.GetName(), workflows.Triggered)
	resp, err := c.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 50})
	if err != nil {
		return nil, wrap("paging "+person, err)
	}
	var out []Paging
	for _, e := range resp.GetExecutions() {
		st, err := c.Status(ctx, e.GetExecution().GetWorkflowId())
		if err != nil {
			return nil, err
		}
		if st.Phase != workflows.Triggered {
			continue
		}
		// The message an SMS reply answers: the latest SMS that reached
		// them in this pass, alone or in a bundle; or, with none on SMS,
		// the latest page at all.
		msg, onSMS := "", false
		for _, p := range slices.Backward(st.Pages) {
			if p.Person != person || p.Pass != st.Escalation.Pass || p.Outcome != workflows.Delivered || (onSMS && p.Channel != catalog.SMS) {
				continue
			}
			if msg != "" && p.Channel != catalog.SMS {
				continue
			}
			msg, onSMS = workflows.IncidentRef(st.ID, st.Run), p.Channel == catalog.SMS
			if p.Bundle != "" {
				msg = p.Bundle
			}
			if onSMS {
				break
			}
		}
		if msg != "" {
			out = append(out, Paging{IncidentID: st.ID, Summary: st.Summary, Message: msg})
		}
	}
	return out, nil
}

var _ activities.Forwarder = (*Client)(nil)

// Forward folds an alert into its incident, opening it if needed, exactly as
// Alert does; the incident ID is the one given, not derived again.
func (c *Client) Forward(ctx context.Context, in activities.ForwardInput) error {
	var al workflows.Alert
	if err := json.Unmarshal(in.Alert, &al); err != nil {
		return fmt.Errorf("%w: forwarded alert: %w", ErrInvalid, err)
	}
	workflows.CleanAlert(&al)
	if al.Resolved {
		// A clear never opens an incident: with that incident closed there
		// is nothing to clear.
		if err := c.tc.SignalWorkflow(ctx, in.IncidentID, "", workflows.AlertSignal, al); err != nil && !isNotFound(err) {
			return wrap("forward clear", err)
		}
		return nil
	}
	_, err := c.tc.SignalWithStartWorkflow(ctx, in.IncidentID, workflows.AlertSignal, al, startOptions(in.IncidentID, al), workflows.Incident, workflows.IncidentInput{})
	if err != nil {
		return wrap("forward alert", err)
	}
	return nil
}
