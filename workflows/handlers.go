package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The update handlers. Validators reject without touching state, so a
// rejected request leaves no trace in history; handlers change state and
// queue what must be sent, and never send themselves.

func (p *paging) register(ctx workflow.Context) error {
	w := p.w
	for _, u := range []struct {
		name, desc string
		handler    any
		validator  any
	}{
		{AcknowledgeUpdate, "Acknowledge the page as a responder; stops escalation. The acknowledger answering a re-page says they are still on it.", w.acknowledge, w.validateAck},
		{EscalateUpdate, "Stop waiting at the current level and page the next one now.", w.escalateNow, w.validateEscalate},
		{MitigateUpdate, "Mark the incident mitigated; paging stops. Asking again answers with the first mitigation.", w.mitigate, w.validateMitigate},
		{ResolveUpdate, "Resolve the incident; paging stops and the incident closes. Asking again answers with the resolution.", w.resolve, w.validateResolve},
	} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler, workflow.UpdateHandlerOptions{
			Validator: u.validator, Description: u.desc,
		}); err != nil {
			return fmt.Errorf("register %s: %w", u.name, err)
		}
	}
	return nil
}

// validateRun refuses an answer to a page of an earlier incident with the same ID.
func (w *incident) validateRun(run string) error {
	if run != "" && w.s.Run != "" && run != w.s.Run {
		return temporal.NewApplicationError(fmt.Sprintf(
			"that page was for an earlier incident %s, now closed; this one opened %s", w.s.ID, w.s.FirstSeen.UTC().Format(time.RFC3339)), RejectStale)
	}
	return nil
}

// isResponder: p may act on this incident: a responder by the plan it was
// routed with, or anyone it paged.
func (w *incident) isResponder(p string) bool {
	return slices.Contains(w.s.Plan.Responders, p) || slices.Contains(w.s.Paged, p)
}

// answersRepage: in an acknowledged incident, p is the acknowledger or was
// paged by a re-page escalation, so their acknowledgment says "still on it".
func (w *incident) answersRepage(p string) bool {
	if p == w.s.AcknowledgedBy {
		return true
	}
	for _, pg := range w.s.Pages {
		if pg.Person == p && pg.Kind == "repage-escalation" {
			return true
		}
	}
	return false
}

func (w *incident) validateAck(req AckRequest) error {
	if req.Person == "" {
		return temporal.NewApplicationError("acknowledge: person is empty", RejectInvalid)
	}
	if err := w.validateRun(req.Run); err != nil {
		return err
	}
	switch w.s.Phase {
	case Acknowledged:
		if w.answersRepage(req.Person) {
			return nil
		}
		return temporal.NewApplicationError(
			fmt.Sprintf("already acknowledged by %s at %s", w.s.AcknowledgedBy, w.s.AcknowledgedAt.UTC().Format(time.RFC3339)),
			RejectAlreadyAcknowledged, AckResult{Person: w.s.AcknowledgedBy, At: *w.s.AcknowledgedAt})
	case Mitigated, Resolved:
		return temporal.NewApplicationError(fmt.Sprintf("incident is %s: nothing to acknowledge", w.s.Phase), RejectWrongPhase)
	}
	if w.routed && !w.isResponder(req.Person) {
		return temporal.NewApplicationError(
			fmt.Sprintf("%q is not a responder for %s (team %s)", req.Person, w.s.Service, w.s.Team), RejectUnknownResponder)
	}
	return nil
}

func (w *incident) acknowledge(ctx workflow.Context, req AckRequest) (AckResult, error) {
	// An ack can arrive before routing finished in the first task; the
	// validator could not check the person then, so check here.
	if err := workflow.Await(ctx, func() bool { return w.routed }); err != nil {
		return AckResult{}, err
	}
	if err := w.validateAck(req); err != nil {
		return AckResult{}, err
	}
	now := workflow.Now(ctx)
	s := &w.s
	if s.Phase == Acknowledged {
		// An answer to a re-page: they are still on it.
		s.Repages = 0
		s.Escalation.Deadline = now.Add(s.Plan.RepageAfterAck)
		w.event(ctx, "answered", req.Person, fmt.Sprintf("still working on it (via %s)", req.Channel))
		w.rs.joined(ctx)
		return AckResult{Person: s.AcknowledgedBy, At: *s.AcknowledgedAt}, nil
	}
	s.Phase, s.AcknowledgedBy, s.AcknowledgedAt = Acknowledged, req.Person, &now
	s.Unacknowledged, s.Repages = false, 0
	e := &s.Escalation
	e.Done = true
	e.Deadline = now.Add(s.Plan.RepageAfterAck)
	e.RepageLevel = max(e.Level+1, 0)
	w.pg.escalate = false
	w.pg.restart()
	w.event(ctx, "acknowledged", req.Person, fmt.Sprintf("acknowledged via %s", req.Channel))
	w.enqueue(Job{Kind: jobSync, Action: "acknowledge"})
	w.rs.acknowledged(ctx, req.Person)
	w.cm.acknowledged(ctx)
	w.rs.post(fmt.Sprintf("Acknowledged by %s", req.Person))
	return AckResult{Person: req.Person, At: now}, nil
}

func (w *incident) validateEscalate(req EscalateRequest) error {
	if err := w.validateRun(req.Run); err != nil {
		return err
	}
	if w.s.Phase != Triggered || w.s.Escalation.Done || !w.routed {
		return temporal.NewApplicationError(fmt.Sprintf("incident is %s and not paging: nothing to escalate", w.s.Phase), RejectWrongPhase)
	}
	if req.Person != "" && !w.isResponder(req.Person) {
		return temporal.NewApplicationError(fmt.Sprintf("%q is not a responder for %s", req.Person, w.s.Service), RejectUnknownResponder)
	}
	return nil
}

func (w *incident) escalateNow(ctx workflow.Context, req EscalateRequest) (EscalateResult, error) {
	e := &w.s.Escalation
	if w.pagedBefore(req.Person) {
		// They answer a page of a level that has already escalated: what
		// they asked for has happened; skipping this level too would not be.
		return EscalateResult{Level: e.Level + 1}, nil
	}
	w.pg.escalate = true
	w.wake = true
	w.event(ctx, "escalated", req.Person, fmt.Sprintf("escalated from level %d on request via %s", e.Level+1, req.Channel))
	// Wait until the pager has moved on, so the answer names the new level.
	if err := workflow.Await(ctx, func() bool { return !w.pg.escalate || w.s.Phase != Triggered }); err != nil {
		return EscalateResult{}, err
	}
	if e.Done && w.s.Unacknowledged {
		return EscalateResult{}, temporal.NewApplicationError("escalation ran out: the fallback contact was told", RejectWrongPhase)
	}
	return EscalateResult{Level: e.Level + 1}, nil
}

// pagedBefore: person was paged at an earlier level of this pass, not at the
// current one.
func (w *incident) pagedBefore(person string) bool {
	e := w.s.Escalation
	earlier := false
	for _, p := range w.s.Pages {
		if p.Person != person || p.Kind != "page" || p.Pass != e.Pass || p.Round != e.Round+1 {
			continue
		}
		if p.Level == e.Level+1 {
			return false
		}
		earlier = earlier || p.Level < e.Level+1
	}
	return earlier
}

func (w *incident) validateMitigate(req PhaseRequest) error {
	if err := w.validateRun(req.Run); err != nil {
		return err
	}
	if w.s.Phase == Resolved {
		return temporal.NewApplicationError("incident is already resolved", RejectWrongPhase)
	}
	return nil
}

func (w *incident) mitigate(ctx workflow.Context, req PhaseRequest) (PhaseResult, error) {
	if w.s.Phase == Mitigated {
		return PhaseResult{Phase: Mitigated, At: *w.s.MitigatedAt, By: w.s.MitigatedBy, Already: true}, nil
	}
	w.cm.public = req.Public
	return w.setMitigated(ctx, req.By, orDefault(req.Note, "mitigated")), nil
}

func (w *incident) setMitigated(ctx workflow.Context, by, note string) PhaseResult {
	now := workflow.Now(ctx)
	e := &w.s.Escalation
	e.Held = w.s.Phase == Triggered && !e.Done
	w.s.Phase, w.s.MitigatedAt, w.s.MitigatedBy = Mitigated, &now, by
	e.Done = true
	w.pg.escalate = false
	w.pg.restart()
	w.event(ctx, "mitigated", by, note)
	// Mitigated: pagers of record stop ringing.
	w.enqueue(Job{Kind: jobSync, Action: "resolve"})
	w.cm.mitigated(ctx, by, note)
	return PhaseResult{Phase: Mitigated, At: now, By: by}
}

func (w *incident) validateResolve(req PhaseRequest) error {
	return w.validateRun(req.Run)
}

func (w *incident) resolve(ctx workflow.Context, req PhaseRequest) (PhaseResult, error) {
	if w.s.Phase == Resolved {
		return PhaseResult{Phase: Resolved, At: *w.s.ResolvedAt, Already: true}, nil
	}
	w.cm.public = req.Public
	return w.setResolved(ctx, req.By, orDefault(req.Note, "resolved")), nil
}

// setResolved resolves the incident. Pagers of record are closed by
// PostIncident, which the main loop starts as it finishes.
func (w *incident) setResolved(ctx workflow.Context, by, note string) PhaseResult {
	now := workflow.Now(ctx)
	w.s.Phase, w.s.ResolvedAt = Resolved, &now
	if w.s.MitigatedAt == nil {
		w.s.MitigatedAt = &now
	}
	w.s.Escalation.Done = true
	w.pg.escalate = false
	w.pg.restart()
	w.event(ctx, "resolved", by, note)
	w.cm.resolved(ctx, by, note)
	return PhaseResult{Phase: Resolved, At: now, By: by}
}
