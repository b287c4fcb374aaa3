package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
)

// a is how workflows name activities: methods on a nil *Activities.
var a *activities.Activities

// Local activities go by their registered names: a method value on the nil
// *Activities would run with a nil receiver.
const (
	routeActivity      = "Route"
	recipientsActivity = "Recipients"
)

// Incident runs one incident from its first alert to resolution: it routes
// the alert, pages the owning team up the escalation policy until someone
// acknowledges, re-pages an acknowledger who has not mitigated in time, folds
// repeats of the alert in without paging again, and ends when resolved.
func Incident(ctx workflow.Context, in IncidentInput) (IncidentState, error) {
	w, err := newIncident(ctx, in)
	if err != nil {
		return IncidentState{}, err
	}
	return w.run(ctx)
}

type incident struct {
	s      IncidentState
	log    interface{ Info(string, ...any) }
	root   workflow.Context
	alerts workflow.ReceiveChannel
	routed bool
	// escalate is set by the escalate update and consumed by the pager.
	escalate bool
	inflight int // deliveries and syncs not yet finished
	// levelPending counts each level's page deliveries still in flight, by
	// levelKey: a level whose pages all failed escalates at once. A level
	// this run did not page has no entry.
	levelPending map[[3]int]int
	// pagerTargets are the people a PagerDuty page went to, or is going to,
	// in this run: a page cancelled in flight may have reached PagerDuty.
	pagerTargets []string
	// late holds alerts that arrived once the incident was resolved: they
	// open the next incident.
	late []Alert
	// v2: this run has the second round of paging fixes (cancelled wait
	// timers, pagers closed at mitigation, unreachable levels skipped, late
	// alerts reopening). Incidents begun before replay without them.
	v2 bool
	// pageCtx is cancelled when paging must stop: acknowledged, mitigated, resolved.
	pageCtx    workflow.Context
	stopPaging workflow.CancelFunc
	// attrs are the search attribute values last upserted; each upsert is a
	// history event, so only changes are sent.
	attrs [6]string
	// pagedAttr: this run keeps PagedAttr, the people paged, up to date
	// (incidents started before it existed replay without it).
	pagedAttr bool
}

// setup validates the input and registers the handlers, before anything can block.
func newIncident(ctx workflow.Context, in IncidentInput) (*incident, error) {
	w := &incident{log: workflow.GetLogger(ctx), root: ctx, levelPending: map[[3]int]int{}}
	if in.State != nil {
		w.s = *in.State
		w.routed = len(w.s.Plan.Levels) > 0
	} else {
		if err := ValidateAlert(in.Alert); err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), RejectInvalid, nil)
		}
		al := in.Alert
		w.s = IncidentState{
			ID: workflow.GetInfo(ctx).WorkflowExecution.ID, Run: workflow.GetInfo(ctx).WorkflowExecution.RunID, Phase: Triggered,
			Service: al.Service, Severity: al.Severity, Source: al.Source, Summary: al.Summary,
			Reporter: al.Reporter, DedupKey: al.DedupKey, AlertCount: 1,
			FirstSeen: al.ReceivedAt, LastSeen: al.ReceivedAt,
			Pages: []PageEntry{}, Timeline: []Event{},
		}
		who := al.Reporter
		if who == "" {
			who = al.Integration
		}
		w.event(ctx, "opened", who, fmt.Sprintf("%s alert from %s: %s", al.Severity, al.Source, al.Summary))
	}
	w.pagedAttr = workflow.GetVersion(ctx, "paged-search-attribute", workflow.DefaultVersion, 1) == 1
	w.v2 = workflow.GetVersion(ctx, "incident-v2", workflow.DefaultVersion, 1) == 1
	w.pageCtx, w.stopPaging = workflow.WithCancel(ctx)
	w.alerts = workflow.GetSignalChannelWithOptions(ctx, AlertSignal, workflow.SignalChannelOptions{
		Description: "A repeat of the alert: counted, never paged again.",
	})
	if err := w.register(ctx); err != nil {
		return nil, err
	}
	for _, al := range in.Pending {
		w.take(ctx, al)
	}
	return w, nil
}

// ValidateAlert reports every problem with an alert at once.
func ValidateAlert(al Alert) error {
	var errs []error
	if strings.TrimSpace(al.Service) == "" {
		errs = append(errs, errors.New("alert: service is empty"))
	}
	if !slices.Contains([]string{"SEV1", "SEV2", "SEV3", "SEV4"}, string(al.Severity)) {
		errs = append(errs, fmt.Errorf("alert: severity %q is not one of SEV1, SEV2, SEV3, SEV4", al.Severity))
	}
	if strings.TrimSpace(al.Summary) == "" {
		errs = append(errs, errors.New("alert: summary is empty"))
	}
	if al.DedupKey == "" {
		errs = append(errs, errors.New("alert: dedup key is empty"))
	}
	if !slices.Contains([]Source{Monitoring, Internal, External}, al.Source) {
		errs = append(errs, fmt.Errorf("alert: source %q is not monitoring, internal or external", al.Source))
	}
	return errors.Join(errs...)
}

func (w *incident) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandlerWithOptions(ctx, StateQuery, func() (IncidentState, error) {
		return w.s, nil
	}, workflow.QueryHandlerOptions{Description: "The whole incident: phase, pages, timeline."}); err != nil {
		return fmt.Errorf("register state query: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, AcknowledgeUpdate, w.acknowledge, workflow.UpdateHandlerOptions{
		Validator:   w.validateAck,
		Description: "Acknowledge the page as a responder; stops escalation.",
	}); err != nil {
		return fmt.Errorf("register acknowledge: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, EscalateUpdate, w.escalateNow, workflow.UpdateHandlerOptions{
		Validator:   w.validateEscalate,
		Description: "Stop waiting at the current level and page the next one now.",
	}); err != nil {
		return fmt.Errorf("register escalate: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, MitigateUpdate, w.mitigate, workflow.UpdateHandlerOptions{
		Validator:   w.validateMitigate,
		Description: "Mark the incident mitigated; paging stops.",
	}); err != nil {
		return fmt.Errorf("register mitigate: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ResolveUpdate, w.resolve, workflow.UpdateHandlerOptions{
		Validator:   w.validateResolve,
		Description: "Resolve the incident; paging stops and the incident closes.",
	}); err != nil {
		return fmt.Errorf("register resolve: %w", err)
	}
	return nil
}

func (w *incident) run(ctx workflow.Context) (IncidentState, error) {
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var al Alert
			w.alerts.Receive(ctx, &al)
			w.take(ctx, al)
		}
	})
	if !w.routed {
		if err := w.route(ctx); err != nil {
			return w.s, err
		}
	}
	w.publish(ctx)
	for w.s.Phase != Resolved {
		if w.shouldContinueAsNew(ctx) {
			return w.s, w.continueAsNew(ctx)
		}
		var err error
		switch {
		case w.s.Phase == Triggered && !w.s.Escalation.Done:
			err = w.escalateStep(ctx)
		case w.s.Phase == Acknowledged && w.s.Plan.RepageAfterAck > 0:
			err = w.repageStep(ctx)
		default:
			// Waiting for a person: acknowledge, mitigate, resolve.
			phase := w.s.Phase
			err = workflow.Await(ctx, func() bool { return w.s.Phase != phase || w.shouldContinueAsNew(ctx) })
		}
		if err != nil {
			return w.s, err
		}
	}
	return w.finish(ctx)
}

// route asks the catalog where this incident goes. A local activity: it only
// reads memory, and paging must not wait a round trip for it.
func (w *incident) route(ctx workflow.Context) error {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		// Never give up: a broken catalog must not silently drop an incident.
		// Each failure is logged by the worker until someone fixes the catalog.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Summary:     "route " + w.s.Service,
	})
	var r activities.RouteResult
	if err := workflow.ExecuteLocalActivity(lctx, routeActivity, activities.RouteInput{Service: w.s.Service, Severity: w.s.Severity}).Get(ctx, &r); err != nil {
		return fmt.Errorf("route: %w", err)
	}
	w.s.KnownService, w.s.Team, w.s.Policy, w.s.Tier = r.Known, r.Team, r.Policy, r.Tier
	w.s.Plan = Plan{Channels: r.Channels, Repeat: r.Repeat, Fallback: r.Fallback, Responders: r.Responders, RepageAfterAck: r.RepageAfterAck}
	for _, l := range r.Levels {
		w.s.Plan.Levels = append(w.s.Plan.Levels, PlanLevel{Delay: l.Delay, Targets: l.Targets})
	}
	w.routed = true
	text := fmt.Sprintf("routed to team %s, policy %s, tier %d, channels %v", r.Team, r.Policy, r.Tier, r.Channels)
	if !r.Known {
		text = fmt.Sprintf("service %q is not in the catalog: %s", w.s.Service, text)
	}
	w.event(ctx, "routed", "", text)
	return nil
}

// escalateStep pages the current level once, then waits its delay for an
// acknowledgment, then moves the cursor up. Its state lives in
// s.Escalation, so a continue-as-new resumes mid-level without paging twice.
func (w *incident) escalateStep(ctx workflow.Context) error {
	e := &w.s.Escalation
	if len(w.s.Plan.Levels) == 0 {
		e.Done = true
		w.event(ctx, "exhausted", "", "escalation policy has no levels")
		return nil
	}
	lvl := w.s.Plan.Levels[e.Level]
	if !e.Paged {
		e.Paged = true
		e.Deadline = workflow.Now(ctx).Add(lvl.Delay)
		w.event(ctx, "paging", "", fmt.Sprintf("level %d (round %d): %s", e.Level+1, e.Round+1, strings.Join(lvl.Targets, ", ")))
		w.pageLevel(ctx, e.Round, e.Level)
		w.publish(ctx)
	}
	if wait := e.Deadline.Sub(workflow.Now(ctx)); wait > 0 {
		_, err := w.await(ctx, wait, fmt.Sprintf("wait %s for ack from level %d", lvl.Delay, e.Level+1), func() bool {
			return w.s.Phase != Triggered || w.escalate || w.unreached() || w.shouldContinueAsNew(ctx)
		})
		if err != nil {
			return err
		}
		if w.s.Phase != Triggered || (!w.escalate && !w.unreached() && workflow.Now(ctx).Before(e.Deadline)) {
			return nil // acknowledged, mitigated or resolved; or handing over to a new run
		}
	}
	switch {
	case w.escalate:
		w.escalate = false
	case w.unreached() && workflow.Now(ctx).Before(e.Deadline):
		w.event(ctx, "escalated", "", fmt.Sprintf("nobody at level %d could be paged: escalating now", e.Level+1))
	default:
		w.event(ctx, "escalated", "", fmt.Sprintf("no acknowledgment from level %d within %s", e.Level+1, lvl.Delay))
	}
	e.Paged, e.Reached = false, false
	e.Level++
	if e.Level == len(w.s.Plan.Levels) {
		e.Level = 0
		e.Round++
	}
	if e.Round > w.s.Plan.Repeat {
		e.Done = true
		w.s.Unacknowledged = true
		w.event(ctx, "exhausted", "", fmt.Sprintf("escalation policy %s ran %d time(s) with no acknowledgment", w.s.Policy, w.s.Plan.Repeat+1))
		if w.s.Plan.Fallback != "" {
			w.pagePerson(ctx, w.s.Plan.Fallback, "fallback", 0, e.Round)
		}
		w.publish(ctx)
	}
	return nil
}

// repageStep waits, after an acknowledgment, for mitigation; when it does not
// come within the severity's re-page time, the acknowledger is paged again.
func (w *incident) repageStep(ctx workflow.Context) error {
	d, e := w.s.Plan.RepageAfterAck, &w.s.Escalation
	if wait := e.Deadline.Sub(workflow.Now(ctx)); wait > 0 {
		ok, err := w.await(ctx, wait, fmt.Sprintf("re-page %s if not mitigated in %s", w.s.AcknowledgedBy, d),
			func() bool { return w.s.Phase != Acknowledged || w.shouldContinueAsNew(ctx) })
		if err != nil || ok {
			return err
		}
	}
	w.event(ctx, "repaged", "", fmt.Sprintf("not mitigated %s after acknowledgment: paging %s again", workflow.Now(ctx).Sub(*w.s.AcknowledgedAt), w.s.AcknowledgedBy))
	e.Deadline = workflow.Now(ctx).Add(d)
	if !w.v2 {
		w.pageCtx, w.stopPaging = workflow.WithCancel(ctx)
	}
	w.pagePerson(ctx, w.s.AcknowledgedBy, "repage", 0, 0)
	return nil
}

// finish lets handlers complete, then either closes the incident or, when
// alerts arrived after resolution, opens the next incident for them.
func (w *incident) finish(ctx workflow.Context) (IncidentState, error) {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && w.inflight == 0 }); err != nil {
		return w.s, err
	}
	late := w.late
	for {
		var al Alert
		if !w.alerts.ReceiveAsync(&al) {
			break
		}
		late = append(late, al)
	}
	if !w.v2 && len(late) > 0 {
		w.log.Info("alert after resolution opens a new incident", "incidentID", w.s.ID, "alerts", len(late))
		return w.s, workflow.NewContinueAsNewError(ctx, Incident, IncidentInput{Alert: late[0], Pending: late[1:]})
	}
	// The alert fired again as the incident closed: that is a new incident,
	// and whatever came after the firing (a later "resolved" included) is its
	// own. "Resolved" before any firing has nothing left to resolve.
	if i := slices.IndexFunc(late, func(al Alert) bool { return !al.Resolved }); i >= 0 {
		w.log.Info("alert after resolution opens a new incident", "incidentID", w.s.ID, "alerts", len(late)-i)
		return w.s, workflow.NewContinueAsNewError(ctx, Incident, IncidentInput{Alert: late[i], Pending: late[i+1:]})
	}
	return w.s, nil
}

// await waits for cond, or for d to pass. In v2 runs the wait's timer is
// cancelled when cond wins, so it does not fire later for nothing.
func (w *incident) await(ctx workflow.Context, d time.Duration, summary string, cond func() bool) (bool, error) {
	if w.v2 {
		var cancel workflow.CancelFunc
		ctx, cancel = workflow.WithCancel(ctx)
		defer cancel()
	}
	return workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: d, TimerOptions: workflow.TimerOptions{Summary: summary}}, cond)
}

// levelKey names one level of one pass of the policy.
func levelKey(pass, round, level int) [3]int { return [3]int{pass, round, level} }

// unreached: this run paged the current level, every page of it is done and
// none got through.
func (w *incident) unreached() bool {
	e := w.s.Escalation
	n, paged := w.levelPending[levelKey(e.Pass, e.Round, e.Level)]
	return w.v2 && e.Paged && !e.Reached && paged && n == 0
}

// shouldContinueAsNew is true when history grows large and no page is in flight.
func (w *incident) shouldContinueAsNew(ctx workflow.Context) bool {
	return w.inflight == 0 && workflow.GetInfo(ctx).GetContinueAsNewSuggested()
}

func (w *incident) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	var pending []Alert
	for {
		var al Alert
		if !w.alerts.ReceiveAsync(&al) {
			break
		}
		pending = append(pending, al)
	}
	w.log.Info("continuing as new", "incidentID", w.s.ID, "historyLength", workflow.GetInfo(ctx).GetCurrentHistoryLength())
	st := w.s
	// A flapping alert's record grows with every reopen; the next run starts
	// with the most recent part, and says how much it let go.
	const keepPages, keepEvents = 200, 300
	if n := len(st.Pages) - keepPages; n > 0 {
		st.Pages, st.Dropped = slices.Clone(st.Pages[n:]), st.Dropped+n
	}
	if n := len(st.Timeline) - keepEvents; n > 0 {
		st.Timeline, st.Dropped = slices.Clone(st.Timeline[n:]), st.Dropped+n
	}
	return workflow.NewContinueAsNewError(ctx, Incident, IncidentInput{State: &st, Pending: pending})
}

// take routes an alert that arrived: into this incident, or, once it is
// resolved, to the next one.
func (w *incident) take(ctx workflow.Context, al Alert) {
	if w.s.Phase == Resolved && w.v2 {
		w.late = append(w.late, al)
		return
	}
	w.fold(ctx, al)
}

// fold takes in a repeat of the alert. A repeat is counted and pages
// nobody. The source reporting the alert resolved mitigates the incident (or
// resolves it, as the intake is configured); the alert firing again after
// that re-opens it and pages from the first level, since nobody may be
// watching an incident monitoring closed by itself.
func (w *incident) fold(ctx workflow.Context, al Alert) {
	w.s.AlertCount++
	if al.ReceivedAt.After(w.s.LastSeen) {
		w.s.LastSeen = al.ReceivedAt
	}
	by := orDash(al.Integration)
	switch {
	case al.Resolved && (w.s.Phase == Triggered || w.s.Phase == Acknowledged):
		if al.ResolveIncident {
			w.setResolved(ctx, by, "the source reports the alert resolved")
		} else {
			w.setMitigated(ctx, by, "the source reports the alert resolved")
		}
		w.s.MitigatedBySource = true
	case !al.Resolved && w.s.Phase == Mitigated && w.s.MitigatedBySource:
		w.s.Phase, w.s.MitigatedAt, w.s.MitigatedBy, w.s.MitigatedBySource = Triggered, nil, "", false
		w.s.AcknowledgedBy, w.s.AcknowledgedAt, w.s.Unacknowledged = "", nil, false
		w.s.Escalation = Escalation{Pass: w.s.Escalation.Pass + 1}
		if w.v2 {
			w.escalate = false
		}
		w.pageCtx, w.stopPaging = workflow.WithCancel(w.root)
		w.event(ctx, "reopened", by, "the alert fired again after its source resolved it: paging from level 1")
	}
	w.publish(ctx)
}

func orDash(s string) string {
	if s == "" {
		return "source"
	}
	return s
}

func (w *incident) event(ctx workflow.Context, kind, actor, text string) {
	w.s.Timeline = append(w.s.Timeline, Event{At: workflow.Now(ctx), Kind: kind, Actor: actor, Text: text})
}

// publish shows the incident's state in the Temporal UI: search attributes to
// filter by, current details to read without opening the history.
func (w *incident) publish(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, w.details())
	attrs := [6]string{w.s.Service, string(w.s.Severity), string(w.s.Phase), string(w.s.Source), w.s.Team}
	var paged []string
	if w.pagedAttr {
		for _, p := range w.s.Pages {
			if p.Outcome == Delivered && !slices.Contains(paged, p.Person) {
				paged = append(paged, p.Person)
			}
		}
		attrs[5] = strings.Join(paged, ",")
	}
	if attrs == w.attrs {
		return
	}
	w.attrs = attrs
	updates := []temporal.SearchAttributeUpdate{ServiceAttr.ValueSet(attrs[0]), SeverityAttr.ValueSet(attrs[1]),
		PhaseAttr.ValueSet(attrs[2]), SourceAttr.ValueSet(attrs[3]), TeamAttr.ValueSet(attrs[4])}
	if len(paged) > 0 {
		updates = append(updates, PagedAttr.ValueSet(paged))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		w.log.Info("search attributes not updated", "incidentID", w.s.ID, "error", err)
	}
}

func (w *incident) details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** · %s · %s · team %s\n\n", strings.ToUpper(string(w.s.Phase)), w.s.Severity, w.s.Service, w.s.Team)
	fmt.Fprintf(&b, "%s\n\n", w.s.Summary)
	fmt.Fprintf(&b, "Alerts: %d (last %s)\n\n", w.s.AlertCount, w.s.LastSeen.UTC().Format(time.RFC3339))
	switch {
	case w.s.AcknowledgedBy != "":
		fmt.Fprintf(&b, "Acknowledged by **%s** at %s\n\n", w.s.AcknowledgedBy, w.s.AcknowledgedAt.UTC().Format(time.RFC3339))
	case w.s.Unacknowledged:
		b.WriteString("**Nobody acknowledged**: escalation ran out; fallback contact told.\n\n")
	case len(w.s.Plan.Levels) > 0:
		e := w.s.Escalation
		fmt.Fprintf(&b, "Paging level %d of %d (round %d of %d), escalates at %s\n\n", e.Level+1, len(w.s.Plan.Levels),
			e.Round+1, w.s.Plan.Repeat+1, e.Deadline.UTC().Format(time.RFC3339))
	}
	delivered, failed := 0, 0
	for _, p := range w.s.Pages {
		switch p.Outcome {
		case Delivered:
			delivered++
		case Failed:
			failed++
		}
	}
	fmt.Fprintf(&b, "Pages: %d delivered, %d failed", delivered, failed)
	return b.String()
}
