package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// Paging runs inside the Incident workflow rather than as a child workflow:
// the first page goes out in the incident's first workflow task (routing and
// on-call lookup are local activities, the delivery an eagerly dispatched
// activity), which keeps alert-to-first-page latency near a bare workflow's.
// Each level's deliveries run as coroutines under pageCtx, which an
// acknowledgment cancels.

// deliverOptions bound what a paid provider is asked: transient failures are
// retried with backoff (after the provider's Retry-After when it gives one)
// for three minutes at most; then, as after a permanent refusal, the person's
// next channel is tried.
func deliverOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 3 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        2 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			NonRetryableErrorTypes: []string{activities.ErrPermanent, activities.ErrNoContact, activities.ErrChannelOff},
		},
		Summary: summary,
	})
}

// lookupOptions are for the catalog reads paging needs; local activities.
func lookupOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second, MaximumAttempts: 5,
			NonRetryableErrorTypes: []string{activities.ErrCatalog},
		},
		Summary: summary,
	})
}

// pageLevel resolves who a level pages now and starts paging each of them.
func (w *incident) pageLevel(ctx workflow.Context, round, level int) {
	w.levelPending[levelKey(w.s.Escalation.Pass, round, level)] = 0 // paged by this run, even if nobody resolves
	var rs []catalog.Recipient
	in := activities.RecipientsInput{Policy: w.s.Policy, Level: level, At: workflow.Now(ctx), Channels: w.s.Plan.Channels}
	err := workflow.ExecuteLocalActivity(lookupOptions(ctx, fmt.Sprintf("who is on call at level %d", level+1)), recipientsActivity, in).Get(ctx, &rs)
	if err != nil {
		w.event(ctx, "page.failed", "", fmt.Sprintf("level %d: cannot resolve who to page: %v", level+1, rootMessage(err)))
		return
	}
	if len(rs) == 0 {
		w.event(ctx, "page.failed", "", fmt.Sprintf("level %d resolves to nobody", level+1))
	}
	for _, r := range rs {
		w.deliverTo(r, "page", level+1, round+1)
	}
}

// pagePerson pages one person outside the policy's levels: re-pages and the fallback contact.
func (w *incident) pagePerson(ctx workflow.Context, person, kind string, level, round int) {
	var rs []catalog.Recipient
	in := activities.RecipientsInput{Person: person, Channels: w.s.Plan.Channels}
	err := workflow.ExecuteLocalActivity(lookupOptions(ctx, "how to reach "+person), recipientsActivity, in).Get(ctx, &rs)
	if err != nil || len(rs) == 0 {
		w.event(ctx, "page.failed", "", fmt.Sprintf("cannot reach %s for %s: %v", person, kind, rootMessage(err)))
		return
	}
	w.deliverTo(rs[0], kind, level, round)
}

// deliverTo pages one person on each of their channels at once; a channel
// that fails for good is replaced by the person's next fallback channel.
func (w *incident) deliverTo(r catalog.Recipient, kind string, level, round int) {
	fallback := append([]catalog.Channel(nil), r.Fallback...)
	next := func() (catalog.Channel, bool) {
		if len(fallback) == 0 {
			return "", false
		}
		ch := fallback[0]
		fallback = fallback[1:]
		return ch, true
	}
	key := levelKey(w.s.Escalation.Pass, round-1, level-1)
	for _, ch := range r.Channels {
		w.inflight++
		if kind == "page" {
			w.levelPending[key]++
		}
		workflow.Go(w.pageCtx, func(ctx workflow.Context) {
			defer func() {
				w.inflight--
				if kind == "page" {
					w.levelPending[key]--
				}
			}()
			for {
				if w.deliver(ctx, r.Person, ch, kind, level, round) {
					return
				}
				var ok bool
				if ch, ok = next(); !ok {
					return
				}
				w.event(ctx, "page.fallback", "", fmt.Sprintf("trying %s on %s instead", r.Person, ch))
			}
		})
	}
}

// deliver sends one page and records its outcome; false means try another channel.
func (w *incident) deliver(ctx workflow.Context, person string, ch catalog.Channel, kind string, level, round int) bool {
	in := activities.DeliverInput{
		IncidentID: w.s.ID, Ref: IncidentRef(w.s.ID, w.s.Run), Person: person, Channel: ch, Kind: kind, Level: level,
		Service: w.s.Service, Severity: w.s.Severity, Summary: w.s.Summary, AlertCount: w.s.AlertCount,
	}
	summary := fmt.Sprintf("%s %s via %s", kind, person, ch)
	if level > 0 {
		summary += fmt.Sprintf(" (level %d)", level)
	}
	if ch == catalog.PagerDuty && !slices.Contains(w.pagerTargets, person) {
		w.pagerTargets = append(w.pagerTargets, person)
	}
	pass := w.s.Escalation.Pass
	var res activities.DeliverResult
	err := workflow.ExecuteActivity(deliverOptions(ctx, summary), a.Deliver, in).Get(ctx, &res)
	e := PageEntry{Person: person, Channel: ch, Level: level, Round: round, Pass: pass, Kind: kind, At: workflow.Now(ctx)}
	switch {
	case err == nil:
		e.Outcome, e.ProviderID, e.Attempts, e.Retries = Delivered, res.ProviderID, res.Attempts, res.Failures
		if cur := w.s.Escalation; kind == "page" && cur.Pass == pass && cur.Round == round-1 && cur.Level == level-1 {
			w.s.Escalation.Reached = true
		}
	case temporal.IsCanceledError(err) || ctx.Err() != nil:
		e.Outcome, e.Error = Cancelled, "paging stopped"
	default:
		e.Outcome, e.Error, e.Retries = Failed, rootMessage(err), earlierFailures(err)
		w.event(ctx, "page.failed", "", fmt.Sprintf("%s to %s failed: %s", ch, person, e.Error))
	}
	w.s.Pages = append(w.s.Pages, e)
	w.publish(ctx)
	return e.Outcome != Failed
}

// earlierFailures are the failed tries a delivery recorded before its last:
// in the last error's details, or in its heartbeat when it ran out of time.
func earlierFailures(err error) []string {
	var tries []string
	var app *temporal.ApplicationError
	var to *temporal.TimeoutError
	switch {
	case errors.As(err, &app) && app.HasDetails():
		_ = app.Details(&tries) // unreadable: the last error still stands
	case errors.As(err, &to) && to.HasLastHeartbeatDetails():
		_ = to.LastHeartbeatDetails(&tries)
	}
	return tries
}

// rootMessage is the innermost error's message: what the provider said.
func rootMessage(err error) string {
	if err == nil {
		return "no recipient"
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	var to *temporal.TimeoutError
	if errors.As(err, &to) {
		return "gave up after retries: " + to.Error()
	}
	return err.Error()
}

// The handlers: validators reject without touching state, so a rejected
// request leaves no trace in history.

// validateRun refuses an answer to a page of an earlier incident with the same ID.
func (w *incident) validateRun(run string) error {
	if run != "" && w.s.Run != "" && run != w.s.Run {
		return temporal.NewApplicationError(fmt.Sprintf(
			"that page was for an earlier incident %s, now closed; this one opened %s", w.s.ID, w.s.FirstSeen.UTC().Format(time.RFC3339)), RejectStale)
	}
	return nil
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

func (w *incident) isResponder(p string) bool {
	for _, r := range w.s.Plan.Responders {
		if r == p {
			return true
		}
	}
	return false
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
	w.s.Phase, w.s.AcknowledgedBy, w.s.AcknowledgedAt = Acknowledged, req.Person, &now
	w.s.Unacknowledged = false
	w.s.Escalation.Done = true
	w.s.Escalation.Deadline = now.Add(w.s.Plan.RepageAfterAck)
	if w.v2 {
		w.escalate = false
	}
	w.stopPaging()
	if w.v2 {
		// Re-pages get their own context, which mitigation cancels.
		w.pageCtx, w.stopPaging = workflow.WithCancel(w.root)
	}
	w.event(ctx, "acknowledged", req.Person, fmt.Sprintf("acknowledged via %s", req.Channel))
	w.publish(ctx)
	w.syncPages(ctx, "acknowledge")
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
	if w.v2 && w.pagedBefore(req.Person) {
		// They answer a page of a level that has already escalated: what
		// they asked for has happened; skipping this level too would not be.
		return EscalateResult{Level: e.Level + 1}, nil
	}
	w.escalate = true
	w.event(ctx, "escalated", req.Person, fmt.Sprintf("escalated from level %d on request via %s", e.Level+1, req.Channel))
	// Wait until the pager has moved on, so the answer names the new level.
	if err := workflow.Await(ctx, func() bool { return !w.escalate || w.s.Phase != Triggered }); err != nil {
		return EscalateResult{}, err
	}
	if w.v2 && e.Done && w.s.Unacknowledged {
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
	if w.s.Phase != Triggered && w.s.Phase != Acknowledged {
		return temporal.NewApplicationError(fmt.Sprintf("incident is already %s", w.s.Phase), RejectWrongPhase)
	}
	return nil
}

func (w *incident) mitigate(ctx workflow.Context, req PhaseRequest) (PhaseResult, error) {
	return w.setMitigated(ctx, req.By, noteOr(req.Note, "mitigated")), nil
}

func (w *incident) setMitigated(ctx workflow.Context, by, note string) PhaseResult {
	now := workflow.Now(ctx)
	w.s.Phase, w.s.MitigatedAt, w.s.MitigatedBy = Mitigated, &now, by
	w.s.Escalation.Done = true
	if w.v2 {
		w.escalate = false
	}
	w.stopPaging()
	w.event(ctx, "mitigated", by, note)
	w.publish(ctx)
	if w.v2 {
		// Mitigated: pagers of record stop ringing.
		w.syncPages(ctx, "resolve")
	}
	return PhaseResult{Phase: Mitigated, At: now}
}

func (w *incident) validateResolve(req PhaseRequest) error {
	if err := w.validateRun(req.Run); err != nil {
		return err
	}
	if w.s.Phase == Resolved {
		return temporal.NewApplicationError("incident is already resolved", RejectWrongPhase)
	}
	return nil
}

func (w *incident) resolve(ctx workflow.Context, req PhaseRequest) (PhaseResult, error) {
	return w.setResolved(ctx, req.By, noteOr(req.Note, "resolved")), nil
}

func (w *incident) setResolved(ctx workflow.Context, by, note string) PhaseResult {
	now := workflow.Now(ctx)
	w.s.Phase, w.s.ResolvedAt = Resolved, &now
	if w.s.MitigatedAt == nil {
		w.s.MitigatedAt = &now
	}
	w.s.Escalation.Done = true
	if w.v2 {
		w.escalate = false
	}
	w.stopPaging()
	w.event(ctx, "resolved", by, note)
	w.publish(ctx)
	w.syncPages(ctx, "resolve")
	return PhaseResult{Phase: Resolved, At: now}
}

// syncPages tells pagers of record (PagerDuty) that the incident was
// acknowledged or resolved here, so their apps stop ringing too. It runs
// beside the handler; finish waits for it before the incident closes.
func (w *incident) syncPages(ctx workflow.Context, action string) {
	// Incidents that began before pagers were synchronised replay without it.
	if workflow.GetVersion(ctx, "sync-pages", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	var targets []activities.PageTarget
	add := func(person string) {
		if t := (activities.PageTarget{Person: person, Channel: catalog.PagerDuty}); !slices.Contains(targets, t) {
			targets = append(targets, t)
		}
	}
	for _, p := range w.s.Pages {
		if p.Channel == catalog.PagerDuty && (p.Outcome == Delivered || (w.v2 && p.Outcome == Cancelled)) {
			add(p.Person)
		}
	}
	if w.v2 {
		// Pages still in flight, or cancelled before their outcome is
		// recorded, may have reached PagerDuty too; closing an alert that
		// never opened is harmless.
		for _, p := range w.pagerTargets {
			add(p)
		}
	}
	if len(targets) == 0 {
		return
	}
	w.inflight++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { w.inflight-- }()
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 30 * time.Second,
			// Bounded: a pager that stays down must not hold the incident open.
			ScheduleToCloseTimeout: 10 * time.Minute,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
				NonRetryableErrorTypes: []string{activities.ErrPermanent, activities.ErrNoContact, activities.ErrChannelOff}},
			Summary: action + " on pagers of record",
		})
		err := workflow.ExecuteActivity(actx, a.SyncPages, activities.SyncInput{IncidentID: w.s.ID, Ref: IncidentRef(w.s.ID, w.s.Run), Action: action, Targets: targets}).Get(ctx, nil)
		if err != nil {
			w.event(ctx, "sync.failed", "", fmt.Sprintf("could not %s on PagerDuty: %s", action, rootMessage(err)))
		}
	})
}

func noteOr(note, def string) string {
	if note != "" {
		return note
	}
	return def
}
