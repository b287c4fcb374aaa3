package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"
)

// PostIncidentID is the workflow ID of what follows an incident's
// resolution, keyed by the incident's ref (ID and run): the same alert firing
// again opens a new incident while this one goes on.
func PostIncidentID(ref string) string { return "post-" + ref }

// PostIncidentInput is the resolved incident and what it left to send.
type PostIncidentInput struct {
	Incident IncidentState `json:"incident"`
	// Syncs are the pager-of-record syncs the incident had queued or in
	// flight as it resolved: handed over, never dropped.
	Syncs []Job `json:"syncs,omitempty"`
}

// PostIncidentState is what the post-incident workflow has done.
type PostIncidentState struct {
	Ref      string  `json:"ref"`
	Phase    string  `json:"phase"`
	Timeline []Event `json:"timeline"`
}

// PostIncident carries on after an incident resolved. Today it closes the
// incident's pages on pagers of record (PagerDuty), which may take minutes
// while a provider is down, so the incident itself need not wait; the
// post-mortem, the approved summary, action items and learnings join it here.
func PostIncident(ctx workflow.Context, in PostIncidentInput) (PostIncidentState, error) {
	inc := &incident{log: workflow.GetLogger(ctx), root: ctx, s: in.Incident, cancels: map[int]running{}}
	inc.pg = newPaging(ctx, inc)
	inc.cm, inc.rs = newComms(inc), newResponse(inc)
	// Nothing waits on these: a PagerDuty outage of hours still ends with
	// its alerts closed.
	inc.pg.syncFor = 24 * time.Hour
	st := PostIncidentState{Ref: IncidentRef(in.Incident.ID, in.Incident.Run), Phase: "closing pages", Timeline: []Event{}}
	if err := workflow.SetQueryHandler(ctx, StateQuery, func() (PostIncidentState, error) { return st, nil }); err != nil {
		return st, fmt.Errorf("register state query: %w", err)
	}
	inc.runHandedOver(ctx, in.Syncs)
	// The incident's own record got any sync failure; copy it here too.
	for _, e := range inc.s.Timeline[len(in.Incident.Timeline):] {
		st.Timeline = append(st.Timeline, e)
	}
	st.Timeline = append(st.Timeline, Event{At: workflow.Now(ctx), Kind: "pages.closed", Text: fmt.Sprintf("%d pager sync(s) done", len(in.Syncs))})
	st.Phase = "closed"
	return st, nil
}
