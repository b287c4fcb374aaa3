package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The update handlers. Validators reject without touching state, so a
// rejected request leaves no trace in history; handlers change state and
// queue what must be sent, and never send themselves.

func (p *paging) register(ctx workflow.Context) error {
	w := p.w
	return registerUpdates(ctx, []update{
		{AcknowledgeUpdate, "Acknowledge the page as a responder; stops escalation. The acknowledger answering a re-page says they are still on it.", w.acknowledge, w.validateAck},
		{EscalateUpdate, "Stop waiting at the current level and page the next one now.", w.escalateNow, w.validateEscalate},
		{MitigateUpdate, "Mark the incident mitigated; paging stops. Asking again answers with the first mitigation.", w.mitigate, w.validateMitigate},
		{ResolveUpdate, "Resolve the incident; paging stops and the incident closes. Asking again answers with the resolution.", w.resolve, w.validateResolve},
	})
}

// validateRun refuses an answer to a page of an earlier incident with the same ID.
func (w *incident) validateRun(run string) error {
	if w.s.Phase == Merged {
		// Everything about it goes on in the incident it was merged into.
		return temporal.NewApplicationError(fmt.Sprintf("%s was merged into %s: act on %s", w.s.ID, w.s.MergedInto, w.s.MergedInto), RejectWrongPhase)
	}
	if run != "" && w.s.Run != "" && run != w.s.Run {
		return temporal.NewApplicationError(fmt.Sprintf(
			"that page was for an earlier incident %s, now closed; this one opened %s", w.s.ID, w.s.FirstSeen.UTC().Format(time.RFC3339)), RejectStale)
	}
	return nil
}

// isResponder: p may act on this incident: a responder by the plan it was
// routed with, or anyone it paged.
func (w *incident) isResponder(p string) bool {
	return slices.Contains(w.s.Plan.Responders, p) || slices.Contains(w.s.Paged, p) || w.mergedResponder(p)
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
		// The re-page's own alert at a pager of record stops ringing too.
		w.enqueue(Job{Kind: jobSync, Action: "acknowledge"})
		w.rs.joined(ctx)
		return AckResult{Person: s.AcknowledgedBy, At: *s.AcknowledgedAt}, nil
	}
	exhausted := s.Unacknowledged
	s.Phase, s.AcknowledgedBy, s.AcknowledgedAt = Acknowledged, req.Person, &now
	s.Unacknowledged, s.Repages = false, 0
	e := &s.Escalation
	e.Done = true
	e.Deadline = now.Add(s.Plan.RepageAfterAck)
	// Re-page escalation pages the levels above the one that answered; once
	// the policy ran out, every level was paged and it starts from level 1.
	e.RepageLevel = max(e.Level+1, 0)
	if exhausted {
		e.RepageLevel = 0
	}
	w.pg.escalate = false
	w.pg.restart()
	w.event(ctx, "acknowledged", req.Person, fmt.Sprintf("acknowledged via %s", req.Channel))
	w.enqueue(Job{Kind: jobSync, Action: "acknowledge"})
	w.pg.release()
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
	w.pg.release()
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
	w.pg.release()
	w.event(ctx, "resolved", by, note)
	w.cm.resolved(ctx, by, note)
	return PhaseResult{Phase: Resolved, At: now, By: by}
}

// validateMerge refuses, without touching state, a merge that cannot be:
// into itself, of an incident resolved or already merged elsewhere, with
// nobody named. Whether the target can take it only the target knows: the
// handler asks it, and answers with its refusal.
func (w *incident) validateMerge(req MergeRequest) error {
	into, _ := ParseIncidentRef(strings.TrimSpace(req.Into))
	var problems []string
	if into == "" {
		problems = append(problems, "name the incident to merge into (--into)")
	}
	if strings.TrimSpace(req.By) == "" {
		problems = append(problems, "who merges it is empty (--by)")
	}
	if len(problems) > 0 {
		return temporal.NewApplicationError("merge: "+strings.Join(problems, "; "), RejectInvalid)
	}
	if into == w.s.ID {
		return temporal.NewApplicationError(fmt.Sprintf("cannot merge %s into itself", w.s.ID), RejectInvalid)
	}
	if w.s.Phase == Merged {
		if into == w.s.MergedInto {
			return nil // asked again: answered with the merge it had
		}
		return temporal.NewApplicationError(fmt.Sprintf("%s is already merged into %s", w.s.ID, w.s.MergedInto), RejectWrongPhase)
	}
	if err := w.validateRun(req.Run); err != nil {
		return err
	}
	if w.s.Phase == Resolved {
		return temporal.NewApplicationError(fmt.Sprintf("%s is already resolved: a resolved incident cannot be merged", w.s.ID), RejectWrongPhase)
	}
	if w.mg.busy {
		return temporal.NewApplicationError(fmt.Sprintf("a merge of %s is already under way", w.s.ID), RejectWrongPhase)
	}
	return nil
}

// merge hands this incident's record to the target and, once the target
// has taken it, closes this incident into it. A target that refuses
// (resolved, itself merged, not there) leaves this incident as it was.
func (w *incident) merge(ctx workflow.Context, req MergeRequest) (MergeResult, error) {
	// A merge can arrive before the opening alert was taken in the first
	// task; the validator could not judge it then, so judge it here.
	if err := workflow.Await(ctx, func() bool { return w.routed }); err != nil {
		return MergeResult{}, err
	}
	if err := w.validateMerge(req); err != nil {
		return MergeResult{}, err
	}
	into, run := ParseIncidentRef(strings.TrimSpace(req.Into))
	if w.s.Phase == Merged {
		return MergeResult{Into: w.s.MergedInto, At: *w.s.MergedAt, By: w.s.MergedBy, Already: true}, nil
	}
	w.mg.busy = true
	defer func() { w.mg.busy = false }()
	rec := w.mergedRecord(ctx, req.By, req.Note)
	res, err := w.callAbsorb(ctx, into, AbsorbRequest{From: w.s.ID, Run: run, Record: &rec}, "hand the record to "+into, true)
	if err != nil {
		return MergeResult{}, refusal(into, err)
	}
	if w.s.Phase == Resolved {
		// Resolved while the target took the record: the target has it, and
		// this incident's own resolution stands.
		w.event(ctx, "merged", req.By, fmt.Sprintf("record handed to %s, but this incident resolved meanwhile", into))
		return MergeResult{}, temporal.NewApplicationError(fmt.Sprintf("%s resolved while merging; %s holds its record", w.s.ID, into), RejectWrongPhase)
	}
	out := w.setMerged(ctx, orDefault(res.ID, into), req.By, req.Note)
	return out, nil
}

// validateAbsorb: a target takes a record only while open and not itself
// merged; alerts passed on it takes while open, and, merged itself, passes
// them on in turn.
func (w *incident) validateAbsorb(req AbsorbRequest) error {
	switch {
	case req.From == "":
		return temporal.NewApplicationError("absorb: from is empty", RejectInvalid)
	case req.From == w.s.ID:
		return temporal.NewApplicationError(fmt.Sprintf("cannot merge %s into itself", w.s.ID), RejectInvalid)
	case req.Run != "" && w.s.Run != "" && req.Run != w.s.Run:
		return temporal.NewApplicationError(fmt.Sprintf("%s is a later incident with that ID: the one named has closed", w.s.ID), RejectStale)
	case w.s.Phase == Resolved:
		return temporal.NewApplicationError(fmt.Sprintf("%s is already resolved: merge into an open incident", w.s.ID), RejectWrongPhase)
	case w.mg.busy && req.Record != nil:
		return temporal.NewApplicationError(fmt.Sprintf("%s is being merged into another incident right now", w.s.ID), RejectWrongPhase)
	case w.s.Phase == Merged && req.Record != nil:
		return temporal.NewApplicationError(fmt.Sprintf("%s is itself merged into %s: merge into %s", w.s.ID, w.s.MergedInto, w.s.MergedInto), RejectWrongPhase)
	}
	return nil
}

func (w *incident) absorb(ctx workflow.Context, req AbsorbRequest) (AbsorbResult, error) {
	if err := workflow.Await(ctx, func() bool { return w.routed }); err != nil {
		return AbsorbResult{}, err
	}
	if err := w.validateAbsorb(req); err != nil {
		return AbsorbResult{}, err
	}
	if req.Record != nil && !slices.ContainsFunc(w.s.Merged, func(m MergedIncident) bool { return m.ID == req.Record.ID && m.Run == req.Record.Run }) {
		w.absorbed(ctx, *req.Record)
	}
	for _, al := range req.Alerts {
		if w.s.Phase == Merged {
			w.takeMerged(al)
			continue
		}
		// Its key is this incident's now: a repeat folds in, never goes
		// back to the incident it came from.
		if w.key(al.DedupKey) == nil && !al.Resolved {
			w.s.Keys = append(w.s.Keys, AlertKey{DedupKey: al.DedupKey, Integration: al.Integration})
		}
		w.take(ctx, al)
	}
	return AbsorbResult{ID: w.s.ID, Run: w.s.Run, Summary: w.s.Summary}, nil
}
