package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// a is how workflows name activities: methods on a nil *Activities.
var a *activities.Activities

// Local activities go by their registered names: a method value on the nil
// *Activities would run with a nil receiver.
const (
	routeActivity         = "Route"
	recipientsActivity    = "Recipients"
	claimActivity         = "Claim"
	unknownPeopleActivity = "UnknownPeople"
)

// Incident runs one incident from its first alert to resolution. It is made
// of parts, each owning its slice of IncidentState: the alerts part folds
// repeats in and follows the source's firing and clearing; the paging part
// pages up the escalation policy until someone acknowledges and re-pages an
// acknowledger who has not mitigated. Update handlers and the alert loop only
// validate, change state and queue jobs; one place, dispatch, sends them; the
// main loop waits for the next change or deadline. As it resolves, the
// incident starts PostIncident and hands it whatever is still to be sent, so
// the same alert firing again opens a new incident at once.
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
	// queue holds the jobs handlers and loops asked for; dispatch starts them.
	queue []Job
	// inflight counts started jobs not yet finished; cancels holds the
	// cancel of each sync and comms job in flight, so resolution can stop
	// them; handoff collects the jobs stopped before they were done, for
	// PostIncident.
	inflight int
	cancels  map[int]running
	handoff  []Job
	nextJob  int
	seqs     int
	// wake is set by anything that may change what the main loop does next.
	wake bool
	// reroute: the severity rose; the channels it pages on are looked up again.
	reroute bool
	pg      *paging
	cm      *comms
	rs      *response
	mg      merging
	// late holds alerts that arrived once the incident was resolved: they
	// open the next incident.
	late []Alert
	// pending holds alerts carried over from the run before, taken once routed.
	pending []Alert
	// carrying: continue-as-new is stopping the jobs in flight; carry
	// collects those stopped before they were done, for the next run.
	carrying bool
	carry    []Job
	// attrs are the search attribute values last upserted; each upsert is a
	// history event, so only changes are sent.
	attrs [8]string
}

// newIncident validates the input and registers the handlers, before
// anything can block.
func newIncident(ctx workflow.Context, in IncidentInput) (*incident, error) {
	w := &incident{log: workflow.GetLogger(ctx), root: ctx, cancels: map[int]running{}}
	w.pg = newPaging(ctx, w)
	w.cm, w.rs = newComms(w), newResponse(w)
	w.alerts = workflow.GetSignalChannelWithOptions(ctx, AlertSignal, workflow.SignalChannelOptions{
		Description: "An alert for this incident: a repeat is counted and pages nobody; a clear mitigates; a firing after a clear re-opens.",
	})
	if in.State != nil {
		w.s = *in.State
		w.routed = len(w.s.Plan.Levels) > 0 || w.s.Team != ""
	}
	if err := w.register(ctx); err != nil {
		return nil, err
	}
	if in.State == nil {
		al := in.Alert
		if al.Service == "" {
			// Started by SignalWithStart: the opening alert is the first signal.
			w.alerts.Receive(ctx, &al)
		}
		CleanAlert(&al)
		if err := ValidateAlert(al); err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), RejectInvalid, nil)
		}
		if al.Resolved {
			return nil, temporal.NewNonRetryableApplicationError("a clear cannot open an incident", RejectInvalid, nil)
		}
		w.open(ctx, al)
	}
	// Alerts carried over are taken once the incident is routed, as live ones are.
	w.pending = in.Pending
	// Jobs the run before stopped to continue as new go out first.
	for _, j := range in.Carried {
		if j.Kind == jobRoom {
			w.rs.roomJob = true
		}
		w.enqueue(j)
	}
	return w, nil
}

// open starts the record of a new incident from its first alert.
func (w *incident) open(ctx workflow.Context, al Alert) {
	info := workflow.GetInfo(ctx)
	w.s = IncidentState{
		ID: info.WorkflowExecution.ID, Run: info.WorkflowExecution.RunID, Phase: Triggered,
		Service: al.Service, Severity: al.Severity, Source: al.Source, Summary: al.Summary,
		Reporter: al.Reporter, DedupKey: al.DedupKey,
		AlertsState: AlertsState{AlertCount: 1, FirstSeen: al.ReceivedAt, LastSeen: al.ReceivedAt,
			Keys:   []AlertKey{{DedupKey: al.DedupKey, Integration: al.Integration, Firing: true}},
			Alerts: []AlertRecord{record(al)}},
		PagingState: PagingState{Pages: []PageEntry{}, Paged: []string{}},
		Timeline:    []Event{},
	}
	who := al.Reporter
	if who == "" {
		who = al.Integration
	}
	w.event(ctx, "opened", who, fmt.Sprintf("%s alert from %s: %s", al.Severity, al.Source, al.Summary))
}

func (w *incident) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandlerWithOptions(ctx, StateQuery, func() (IncidentState, error) {
		return w.s, nil
	}, workflow.QueryHandlerOptions{Description: "The whole incident: phase, alerts, pages, timeline."}); err != nil {
		return fmt.Errorf("register state query: %w", err)
	}
	if err := registerUpdates(ctx, []update{
		{PostUpdateUpdate, "Post a stakeholder update (status, message, audience): status page, stakeholder lists, war room; restarts the update clock.", w.postUpdate, w.validateUpdate},
		{AssignRoleUpdate, "Give a role (commander, comms, a sub-role) to a person; they join the war room.", w.assignRole, w.validateRole},
	}); err != nil {
		return err
	}
	if err := w.registerMerge(ctx); err != nil {
		return err
	}
	return w.pg.register(ctx)
}

// update is one Update an Incident answers: its handler changes state and
// queues jobs; its validator rejects without touching state.
type update struct {
	name, desc string
	handler    any
	validator  any
}

func registerUpdates(ctx workflow.Context, us []update) error {
	for _, u := range us {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler, workflow.UpdateHandlerOptions{
			Validator: u.validator, Description: u.desc,
		}); err != nil {
			return fmt.Errorf("register %s: %w", u.name, err)
		}
	}
	return nil
}

// run is the main loop: start what was queued, take the next step that is
// due, wait for a change or the next deadline.
func (w *incident) run(ctx workflow.Context) (IncidentState, error) {
	w.pg.listen(ctx)
	if !w.routed {
		if err := w.route(ctx); err != nil {
			return w.s, err
		}
	}
	for _, al := range w.pending {
		w.take(ctx, al)
	}
	w.pending = nil
	w.publish(ctx)
	for {
		// Alerts are taken here, in the loop, never by a coroutine of their
		// own: one that arrives in the task that continues as new or finishes
		// is then always in the state carried on, or in the channel drained.
		w.drain(ctx)
		if w.s.Phase == Merged {
			return w.forwardMerged(ctx)
		}
		if w.reroute {
			w.rechannel(ctx)
		}
		w.pg.advance(ctx)
		w.cm.advance(ctx)
		if w.s.Phase == Resolved {
			// What resolution queued (the final notices) is handed over,
			// not started here: the incident closes at once.
			w.publish(ctx)
			return w.finish(ctx)
		}
		w.dispatch(ctx)
		w.publish(ctx)
		if w.shouldContinueAsNew(ctx) {
			if done, err := w.continueAsNew(ctx); done {
				return w.s, err
			}
			continue
		}
		w.wake = false
		ready := func() bool {
			return w.wake || len(w.queue) > 0 || w.alerts.Len() > 0 || w.shouldContinueAsNew(ctx)
		}
		at, summary := w.pg.deadline()
		if cat, csum := w.cm.deadline(); !cat.IsZero() && (at.IsZero() || cat.Before(at)) {
			at, summary = cat, csum
		}
		if at.IsZero() {
			if err := workflow.Await(ctx, ready); err != nil {
				return w.s, err
			}
			continue
		}
		if wait := at.Sub(workflow.Now(ctx)); wait > 0 {
			if _, err := w.await(ctx, wait, summary, ready); err != nil {
				return w.s, err
			}
		}
	}
}

// await waits for cond, or for d to pass; the timer is cancelled when cond
// wins, so it does not fire later for nothing.
func (w *incident) await(ctx workflow.Context, d time.Duration, summary string, cond func() bool) (bool, error) {
	ctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	return workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: d, TimerOptions: workflow.TimerOptions{Summary: summary}}, cond)
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
	in := activities.RouteInput{Service: w.s.Service, Severity: w.s.Severity, Summary: w.s.Summary, OpenedAt: w.s.FirstSeen}
	if err := workflow.ExecuteLocalActivity(lctx, routeActivity, in).Get(ctx, &r); err != nil {
		return fmt.Errorf("route: %w", err)
	}
	w.s.KnownService, w.s.Team, w.s.Policy, w.s.Tier = r.Known, r.Team, r.Policy, r.Tier
	w.s.Plan = Plan{Channels: r.Channels, Repeat: r.Repeat, Fallback: r.Fallback, Responders: r.Responders,
		RepageAfterAck: r.RepageAfterAck, RepageEscalateAfter: r.RepageEscalateAfter, AutoResolveAfter: r.AutoResolveAfter,
		GroupWindow: r.GroupWindow, BundleWindow: r.BundleWindow, Comms: r.Comms}
	for _, l := range r.Levels {
		w.s.Plan.Levels = append(w.s.Plan.Levels, PlanLevel{Delay: l.Delay, Targets: l.Targets})
	}
	w.routed = true
	text := fmt.Sprintf("routed to team %s, policy %s, tier %d, channels %v", r.Team, r.Policy, r.Tier, r.Channels)
	if !r.Known {
		text = fmt.Sprintf("service %q is not in the catalog: %s", w.s.Service, text)
	}
	w.event(ctx, "routed", "", text)
	w.cm.routed(ctx)
	return nil
}

// rechannel looks up, after the severity rose, the channels and re-page
// settings of the new severity; who the levels are stays as routed.
func (w *incident) rechannel(ctx workflow.Context) {
	w.reroute = false
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3},
		Summary:             "channels for " + string(w.s.Severity),
	})
	var r activities.RouteResult
	if err := workflow.ExecuteLocalActivity(lctx, routeActivity, activities.RouteInput{Service: w.s.Service, Severity: w.s.Severity}).Get(ctx, &r); err != nil {
		w.event(ctx, "route.failed", "", "channels for the raised severity unknown, paging as before: "+rootMessage(err))
		return
	}
	p := &w.s.Plan
	was := *p
	p.Channels, p.RepageAfterAck, p.RepageEscalateAfter, p.AutoResolveAfter = r.Channels, r.RepageAfterAck, r.RepageEscalateAfter, r.AutoResolveAfter
	w.pg.raised(ctx, was)
	c := &p.Comms
	c.Cadence, c.NoNewsAfter, c.Notice, c.WarRoom, c.InternalOnly = r.Comms.Cadence, r.Comms.NoNewsAfter, r.Comms.Notice, r.Comms.WarRoom, r.Comms.InternalOnly
	w.cm.raised(ctx, was.Comms.InternalOnly)
}

// Job is one thing the incident must send: the outbox's unit. Handlers and
// loops queue jobs; dispatch starts each in its own coroutine.
type Job struct {
	Kind     string `json:"kind"` // one of the job* kinds
	Pass     int    `json:"pass,omitempty"`
	Round    int    `json:"round,omitempty"`
	Level    int    `json:"level,omitempty"`
	Person   string `json:"person,omitempty"`
	PageKind string `json:"pageKind,omitempty"` // page, lead, repage, repage-escalation, fallback, raise, raised
	// Channels, when set, are the only channels a page job uses: a raise
	// pages on the channels the new severity adds.
	Channels []catalog.Channel    `json:"channels,omitempty"`
	Action   string               `json:"action,omitempty"` // sync: acknowledge or resolve
	Alert    *Alert               `json:"alert,omitempty"`  // forward
	Key      string               `json:"key,omitempty"`    // withdraw: the claim whose bundled page to take out
	Update   int                  `json:"update,omitempty"` // notice: the index of the update in Updates
	Dest     string               `json:"dest,omitempty"`   // notice: where it goes
	Text     string               `json:"text,omitempty"`   // post: the line for the war room
	Reminder *activities.Reminder `json:"reminder,omitempty"`
	// seq numbers jobs in the order they were queued.
	seq int
	// Stop, when set, is the paging context the job belongs to: once it is
	// cancelled (acknowledged, mitigated, resolved) the job pages nobody.
	stop workflow.Context
}

// The kinds of job.
const (
	jobPageLevel  = "page-level"  // resolve a level's targets now and page each
	jobPagePerson = "page-person" // page one person outside the levels
	jobSync       = "sync"        // tell pagers of record of an ack or resolution
	jobWithdraw   = "withdraw"    // take this incident out of a person's pending bundles
	jobForward    = "forward"     // an alert outside the grouping window opens its own incident
)

// enqueue queues a job for dispatch; a withdrawal already queued is not
// queued twice (a claim's channels all withdraw it).
func (w *incident) enqueue(j Job) {
	w.wake = true
	if j.Kind == jobWithdraw && slices.ContainsFunc(w.queue, func(q Job) bool {
		return q.Kind == jobWithdraw && q.Key == j.Key && q.Person == j.Person && slices.Equal(q.Channels, j.Channels)
	}) {
		return
	}
	w.seqs++
	j.seq = w.seqs
	w.queue = append(w.queue, j)
}

// dispatch starts every queued job. It is the one place that sends.
func (w *incident) dispatch(ctx workflow.Context) {
	for len(w.queue) > 0 {
		j := w.queue[0]
		w.queue = w.queue[1:]
		w.inflight++
		id := w.nextJob
		w.nextJob++
		jctx := ctx
		if carried(j) {
			var cancel workflow.CancelFunc
			jctx, cancel = workflow.WithCancel(ctx)
			w.cancels[id] = running{job: j, cancel: cancel}
		}
		workflow.Go(jctx, func(ctx workflow.Context) {
			done := true
			defer func() {
				w.inflight--
				delete(w.cancels, id)
				switch {
				case done || ctx.Err() == nil:
				case w.carrying:
					w.carry = append(w.carry, j)
				case handedOver(j) && j.Kind != jobSync:
					w.handoff = append(w.handoff, j)
				}
				w.wake = true
			}()
			switch j.Kind {
			case jobPageLevel:
				w.pg.pageLevel(ctx, j)
			case jobPagePerson:
				w.pg.pagePerson(ctx, j)
			case jobSync:
				done = w.pg.sync(ctx, j)
			case jobWithdraw:
				w.pg.withdraw(ctx, j)
			case jobForward:
				done = w.forward(ctx, j)
			default:
				done = w.runComms(ctx, j)
			}
		})
	}
}

// finish closes the incident: it starts PostIncident, handing it the pager
// syncs and stakeholder notices still to be sent, and lets handlers
// complete. Alerts that fired after resolution open the next incident at
// once: this one waits for nothing slow.
func (w *incident) finish(ctx workflow.Context) (IncidentState, error) {
	// Syncs, reminders, invitations and the war room's opening in flight
	// are cancelled (a sync is handed over as one resolve; the rest are moot
	// now). Notices and room posts in flight get a minute to finish the
	// attempt under way, so what got through is recorded and not sent
	// twice; then they too are cancelled and, with those queued, handed
	// over. Other jobs (withdrawing bundled pages) still go out.
	// Named at once: whoever reads the incident as it closes finds what
	// carries on after it.
	w.s.PostIncident = PostIncidentID(IncidentRef(w.s.ID, w.s.Run))
	w.stopRunning(func(j Job) bool { return cancellable(j) && (!handedOver(j) || j.Kind == jobSync) })
	busy := func() bool {
		for _, id := range workflow.DeterministicKeys(w.cancels) {
			if j := w.cancels[id].job; handedOver(j) && j.Kind != jobSync {
				return true
			}
		}
		return false
	}
	if busy() {
		if _, err := w.await(ctx, finishGrace, "let notices under way finish", func() bool { return !busy() }); err != nil {
			return w.s, err
		}
	}
	for {
		w.stopRunning(cancellable)
		w.queue = slices.DeleteFunc(w.queue, func(j Job) bool {
			if handedOver(j) && j.Kind != jobSync {
				w.handoff = append(w.handoff, j)
			}
			return cancellable(j)
		})
		w.dispatch(ctx)
		if err := workflow.Await(ctx, func() bool { return w.inflight == 0 }); err != nil {
			return w.s, err
		}
		if len(w.queue) == 0 {
			break
		}
	}
	handed := w.handoff
	var jobs []Job
	if len(syncTargets(&w.s, "resolve")) > 0 {
		jobs = append(jobs, Job{Kind: jobSync, Action: "resolve"})
	}
	// In the order they were queued: status page posts keep theirs.
	slices.SortStableFunc(handed, func(a, b Job) int { return a.seq - b.seq })
	jobs = append(jobs, handed...)
	if err := w.startPostIncident(ctx, jobs); err != nil {
		return w.s, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return w.s, err
	}
	w.drain(ctx)
	w.publish(ctx)
	// The alert fired again as the incident closed: that is a new incident,
	// and whatever came after the firing (a later "resolved" included) is its
	// own. "Resolved" before any firing has nothing left to resolve.
	late := w.late
	if i := slices.IndexFunc(late, func(al Alert) bool { return !al.Resolved }); i >= 0 {
		w.log.Info("alert after resolution opens a new incident", "incidentID", w.s.ID, "alerts", len(late)-i)
		return w.s, workflow.NewContinueAsNewError(ctx, Incident, IncidentInput{Alert: late[i], Pending: late[i+1:]})
	}
	return w.s, nil
}

// running is a cancellable job in flight.
type running struct {
	job    Job
	cancel workflow.CancelFunc
}

// finishGrace is how long resolution lets notices under way finish.
const finishGrace = time.Minute

// stopRunning cancels the jobs in flight that stop says to.
func (w *incident) stopRunning(stop func(Job) bool) {
	for _, id := range workflow.DeterministicKeys(w.cancels) {
		if r := w.cancels[id]; stop(r.job) {
			r.cancel()
		}
	}
}

// runComms runs one job of the comms and response parts, and says whether
// it is done: false when it was cancelled before it got through.
func (w *incident) runComms(ctx workflow.Context, j Job) bool {
	switch j.Kind {
	case jobNotice:
		return w.cm.notice(ctx, j)
	case jobRemind:
		return w.cm.sendReminder(ctx, j)
	case jobRoom:
		w.rs.openRoom(ctx)
		return w.s.WarRoom != nil || w.s.RoomFailed != "" || ctx.Err() == nil
	case jobInvite:
		return w.rs.invite(ctx)
	case jobPost:
		return w.rs.postJob(ctx, j)
	case jobSummary:
		return w.rs.summaryJob(ctx)
	}
	return true
}

// runHandedOver runs, after resolution, what the incident handed over, all
// at once: status page posts still go in the order they were queued.
func (w *incident) runHandedOver(ctx workflow.Context, jobs []Job) {
	pending := len(jobs)
	for _, j := range jobs {
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() { pending-- }()
			if j.Kind == jobSync {
				w.pg.sync(ctx, j)
				return
			}
			w.runComms(ctx, j)
		})
	}
	_ = workflow.Await(ctx, func() bool { return pending == 0 })
}

// startPostIncident starts the workflow that carries on after resolution,
// keyed by the incident's ref, and waits until it has started: with the
// parent-close policy abandon it outlives this run.
func (w *incident) startPostIncident(ctx workflow.Context, syncs []Job) error {
	id := PostIncidentID(IncidentRef(w.s.ID, w.s.Run))
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:        id,
		TaskQueue:         TaskQueue,
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		StaticSummary:     truncate(fmt.Sprintf("after %s %s: %s", w.s.Severity, w.s.Service, w.s.Summary), 200),
	})
	// What it carries on with is bounded like a next run's state; this
	// run's state keeps the whole record.
	// run's state keeps the whole record. A handed-over notice names its
	// update by index: then the updates go whole.
	in := PostIncidentInput{Incident: trimmed(w.s, workflow.GetInfo(ctx).WorkflowExecution.RunID, syncs), Handover: syncs}
	f := workflow.ExecuteChildWorkflow(cctx, PostIncident, in)
	if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		// Already started: a retried task of this run started it before.
		var started *temporal.ChildWorkflowExecutionAlreadyStartedError
		if !errors.As(err, &started) {
			w.s.PostIncident = ""
			w.event(ctx, "postincident.failed", "", "could not start the post-incident workflow: "+rootMessage(err))
			return nil
		}
	}
	w.event(ctx, "postincident", "", "post-incident workflow "+id+" started")
	// The child runs on its own; this run does not wait for its result.
	return nil
}

// drain takes every alert already delivered to the channel.
func (w *incident) drain(ctx workflow.Context) {
	for {
		var al Alert
		if !w.alerts.ReceiveAsync(&al) {
			return
		}
		w.take(ctx, al)
	}
}

// carried: what continue-as-new hands to the next run rather than wait for:
// each may retry a provider (or Temporal) for hours. Pages are not: a
// provider is given up on after activities.GiveUpAfter, and they finish
// first.
func carried(j Job) bool { return cancellable(j) || j.Kind == jobForward }

// shouldContinueAsNew is true when history grows large and nothing but
// carried jobs is queued or in flight.
func (w *incident) shouldContinueAsNew(ctx workflow.Context) bool {
	return workflow.GetInfo(ctx).GetContinueAsNewSuggested() && w.inflight == len(w.cancels) &&
		!slices.ContainsFunc(w.queue, func(j Job) bool { return !carried(j) })
}

// Records longer than these keep their head and tail at continue-as-new.
const (
	keepPages, keepEvents, keepAlerts, keepUpdates = 200, 300, 300, 200
	keepHead                                       = 50
)

// continueAsNew hands the incident to a new run, once handlers have finished;
// done is false when they queued work meanwhile, which goes out first.
func (w *incident) continueAsNew(ctx workflow.Context) (done bool, err error) {
	// A handler may wait on the main loop (escalate waits for the level to
	// move): whatever it asks for is taken first, then this is tried again.
	w.wake = false
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) || w.wake }); err != nil {
		return true, err
	}
	if !workflow.AllHandlersFinished(ctx) || !w.shouldContinueAsNew(ctx) || w.s.Phase == Resolved {
		return false, nil
	}
	// A notice, post or forward retrying through an outage is stopped and
	// carried into the next run: continue-as-new never waits on a
	// provider. The attempt under way finishes first (comms calls wait for
	// their cancellation), so what got through is recorded, not sent again.
	w.carrying = true
	w.stopRunning(func(Job) bool { return true })
	if err := workflow.Await(ctx, func() bool { return len(w.cancels) == 0 }); err != nil {
		return true, err
	}
	w.carrying = false
	carry := append(w.carry, w.queue...)
	w.carry = nil
	// In the order they were queued: status page posts keep theirs.
	slices.SortStableFunc(carry, func(a, b Job) int { return a.seq - b.seq })
	// The wait let handlers in (an escalation waits for the main loop): they
	// are served here first, with the carried jobs going out again.
	if w.inflight > 0 || slices.ContainsFunc(carry, func(j Job) bool { return !carried(j) }) ||
		!workflow.AllHandlersFinished(ctx) || w.pg.escalate {
		// What the stopped jobs queued as they ended must go out here: the
		// carried ones go out again with it.
		w.queue = nil
		for _, j := range carry {
			w.enqueue(j)
		}
		return false, nil
	}
	w.queue = nil
	var pending []Alert
	for {
		var al Alert
		if !w.alerts.ReceiveAsync(&al) {
			break
		}
		pending = append(pending, al)
	}
	w.log.Info("continuing as new", "incidentID", w.s.ID, "historyLength", workflow.GetInfo(ctx).GetCurrentHistoryLength())
	// A flapping alert's record grows with every reopen. The next run keeps
	// the head (the opening, the first pages, the acknowledgment) and the most
	// recent part; the middle stays in this run's state, which the run list
	// in Elided names, for the post-mortem to read. A carried notice names
	// its update by index: the updates are kept whole until the next
	// continue-as-new.
	st := trimmed(w.s, workflow.GetInfo(ctx).WorkflowExecution.RunID, carry)
	if len(carry) > 0 {
		w.log.Info("jobs carried into the next run", "incidentID", w.s.ID, "jobs", len(carry))
	}
	return true, workflow.NewContinueAsNewError(ctx, Incident, IncidentInput{State: &st, Pending: pending, Carried: carry})
}

// maxHandedBytes bounds the state a run hands on, to its next run or to
// PostIncident: Temporal refuses a payload of 2 MB, and a storm of grouped
// alerts or a long flap grows the record past it.
const maxHandedBytes = 256 << 10

// trimmed is st with its long records cut to their head and tail, keeping
// less each time until it encodes within maxHandedBytes. Elided counts what
// was let go and names run, whose state holds it. A notice among jobs names
// its update by index: then the updates are not cut, but the messages of
// those no job names are shortened.
func trimmed(st IncidentState, run string, jobs []Job) IncidentState {
	var named []int
	for _, j := range jobs {
		if j.Kind == jobNotice {
			named = append(named, j.Update)
		}
	}
	el := Elided{Runs: []string{}}
	if st.Elided != nil {
		el = *st.Elided
		el.Runs = slices.Clone(el.Runs)
	}
	for div := 1; div <= 64; div *= 2 {
		var n int
		st.Pages, n = headTail(st.Pages, keepPages/div)
		el.Pages += n
		st.Timeline, n = headTail(st.Timeline, keepEvents/div)
		el.Events += n
		st.Alerts, n = headTail(st.Alerts, keepAlerts/div)
		el.Alerts += n
		if len(named) == 0 {
			st.Updates, n = headTail(st.Updates, keepUpdates/div)
			el.Updates += n
		} else if div > 1 {
			st.Updates = slices.Clone(st.Updates)
			for i := range st.Updates {
				if u := &st.Updates[i]; !slices.Contains(named, i) && len(u.Message) > 200/div {
					u.Message = truncate(u.Message, max(200/div, 4))
				}
			}
		}
		if b, err := json.Marshal(st); err != nil || len(b) <= maxHandedBytes {
			break
		}
	}
	if el.Pages+el.Events+el.Alerts+el.Updates > 0 {
		if !slices.Contains(el.Runs, run) {
			el.Runs = append(el.Runs, run)
		}
		st.Elided = &el
	}
	return st
}

// headTail keeps the head (keepHead, or half of max when max is smaller)
// and the tail of a list longer than max, and says how many it let go.
func headTail[T any](list []T, max int) ([]T, int) {
	if len(list) <= max {
		return list, 0
	}
	head := min(keepHead, max/2)
	cut := len(list) - max
	out := append(slices.Clone(list[:head]), list[head+cut:]...)
	return out, cut
}

func (w *incident) event(ctx workflow.Context, kind, actor, text string) {
	w.s.Timeline = append(w.s.Timeline, Event{At: workflow.Now(ctx), Kind: kind, Actor: actor, Text: text})
	w.wake = true
}

// publish shows the incident's state in the Temporal UI: search attributes to
// filter by, current details to read without opening the history.
func (w *incident) publish(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, w.details())
	next, room := "", ""
	if w.s.NextUpdateDue != nil {
		next = w.s.NextUpdateDue.UTC().Format(time.RFC3339)
	}
	if w.s.WarRoom != nil {
		room = w.s.WarRoom.Channel
	}
	attrs := [8]string{w.s.Service, string(w.s.Severity), string(w.s.Phase), string(w.s.Source), w.s.Team, strings.Join(w.s.Paged, ","), next, room}
	if attrs == w.attrs {
		return
	}
	w.attrs = attrs
	updates := []temporal.SearchAttributeUpdate{ServiceAttr.ValueSet(attrs[0]), SeverityAttr.ValueSet(attrs[1]),
		PhaseAttr.ValueSet(attrs[2]), SourceAttr.ValueSet(attrs[3]), TeamAttr.ValueSet(attrs[4])}
	// Continue-as-new carries a run's attributes into the next incident:
	// what this one has not set is unset.
	if len(w.s.Paged) > 0 {
		updates = append(updates, PagedAttr.ValueSet(slices.Clone(w.s.Paged)))
	} else {
		updates = append(updates, PagedAttr.ValueUnset())
	}
	if w.s.NextUpdateDue != nil {
		updates = append(updates, NextUpdateAttr.ValueSet(*w.s.NextUpdateDue))
	} else {
		updates = append(updates, NextUpdateAttr.ValueUnset())
	}
	if room != "" {
		updates = append(updates, RoomAttr.ValueSet(room))
	} else {
		updates = append(updates, RoomAttr.ValueUnset())
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		w.log.Info("search attributes not updated", "incidentID", w.s.ID, "error", err)
	}
}

func (w *incident) details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** · %s · %s · team %s\n\n", strings.ToUpper(string(w.s.Phase)), w.s.Severity, w.s.Service, w.s.Team)
	fmt.Fprintf(&b, "%s\n\n", MarkdownText(w.s.Summary))
	fmt.Fprintf(&b, "Alerts: %d (last %s)\n\n", w.s.AlertCount, w.s.LastSeen.UTC().Format(time.RFC3339))
	switch {
	case w.s.AcknowledgedBy != "":
		fmt.Fprintf(&b, "Acknowledged by **%s** at %s\n\n", w.s.AcknowledgedBy, w.s.AcknowledgedAt.UTC().Format(time.RFC3339))
	case w.s.Unacknowledged:
		b.WriteString("**Nobody acknowledged**: escalation ran out; fallback contact told.\n\n")
	case len(w.s.Plan.Levels) > 0 && w.s.Phase == Triggered:
		e := w.s.Escalation
		fmt.Fprintf(&b, "Paging level %d of %d (round %d of %d), escalates at %s\n\n", e.Level+1, len(w.s.Plan.Levels),
			e.Round+1, w.s.Plan.Repeat+1, e.Deadline.UTC().Format(time.RFC3339))
	}
	counts := map[Outcome]int{}
	for _, p := range w.s.Pages {
		counts[p.Outcome]++
	}
	fmt.Fprintf(&b, "Pages: %d delivered, %d bundled, %d failed", counts[Delivered], counts[Bundled], counts[Failed])
	if len(w.s.Roles) > 0 {
		b.WriteString("\n\nRoles:")
		for _, h := range w.s.Roles {
			fmt.Fprintf(&b, " %s **%s**;", h.Title, h.Person)
		}
	}
	if w.s.WarRoom != nil {
		fmt.Fprintf(&b, "\n\nWar room: %s", MarkdownText(w.s.WarRoom.Name))
	}
	if w.s.NextUpdateDue != nil {
		fmt.Fprintf(&b, "\n\nNext stakeholder update due **%s**", w.s.NextUpdateDue.UTC().Format(time.RFC3339))
	}
	if n := len(w.s.Updates); n > 0 {
		u := w.s.Updates[n-1]
		fmt.Fprintf(&b, "\n\nLast stakeholder %s at %s by %s: %s", u.Kind, u.At.UTC().Format(time.RFC3339), u.By, MarkdownText(truncate(u.Message, 200)))
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
