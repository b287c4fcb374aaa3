package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
)

// PostIncidentID is the workflow ID of what follows an incident's
// resolution, keyed by the incident's ref (ID and run): the same alert firing
// again opens a new incident while this one goes on.
func PostIncidentID(ref string) string { return "post-" + ref }

// PostIncidentInput is the resolved incident and what it left to send.
type PostIncidentInput struct {
	Incident IncidentState `json:"incident"`
	// Handover is what the incident had still to send as it resolved: pager
	// syncs, stakeholder notices, war room posts. Never dropped.
	Handover []Job `json:"handover,omitempty"`
}

// Submission is the post-mortem as submitted; ActionItem one of its items.
type (
	Submission = activities.Submission
	ActionItem = activities.ActionItem
	Draft      = activities.Draft
)

// The post-incident phases, in order. A rejected summary goes back to
// PostmortemDue: the commander owes an edit.
const (
	PostmortemDue = "postmortem-due"
	InReview      = "in-review"
	Published     = "published"
	FollowingUp   = "following-up"
	Closed        = "closed"
	// Abandoned: no post-mortem, or no approval, came before the catalog's
	// give_up_after; the managers were told.
	Abandoned = "abandoned"
)

// PostIncidentState is what the post-incident workflow has done: what the
// state query returns.
type PostIncidentState struct {
	Ref        string `json:"ref"`
	Phase      string `json:"phase"`
	IncidentID string `json:"incidentId"`
	Service    string `json:"service"`
	Team       string `json:"team"`
	Summary    string `json:"summary"`
	Source     Source `json:"source"`
	Commander  string `json:"commander,omitempty"`
	// Due is when the post-mortem is due; the commander is reminded after.
	Due time.Time `json:"due"`
	// Ticket is the tracker issue holding the post-mortem document.
	Ticket    string     `json:"ticket,omitempty"`
	TicketURL string     `json:"ticketUrl,omitempty"`
	Meeting   *time.Time `json:"meeting,omitempty"`
	// Submission is the latest submitted post-mortem; Draft the stakeholder
	// summary drafted from it, Version counting drafts.
	Submission *Submission `json:"submission,omitempty"`
	Draft      *Draft      `json:"draft,omitempty"`
	Version    int         `json:"version"`
	Approvers  []string    `json:"approvers"`
	Decisions  []Decision  `json:"decisions"`
	// Items are every action item: the detection gap's, the submission's,
	// those added later; with their tickets once filed.
	Items     []ActionItem `json:"items"`
	Published []string     `json:"published,omitempty"`
	Failed    []string     `json:"failed,omitempty"`
	FollowUp  string       `json:"followUp,omitempty"`
	Timeline  []Event      `json:"timeline"`
}

// Decision is one approver's approval or rejection.
type Decision struct {
	At       time.Time `json:"at"`
	By       string    `json:"by"`
	Approved bool      `json:"approved"`
	Comment  string    `json:"comment,omitempty"`
	Version  int       `json:"version"`
}

// SubmitRequest submits or edits the post-mortem.
type SubmitRequest struct {
	Submission Submission `json:"submission"`
	By         string     `json:"by,omitempty"`
}

// SubmitResult says the post-mortem was taken and what happens next.
type SubmitResult struct {
	Phase     string   `json:"phase"`
	Items     int      `json:"items"`
	Approvers []string `json:"approvers"`
}

// DecisionRequest approves or rejects the summary. Version, when set, is
// the draft the approver read: an approval of an older draft is refused.
type DecisionRequest struct {
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
	Version int    `json:"version,omitempty"`
}

// DecisionResult says what the decision did.
type DecisionResult struct {
	Phase   string `json:"phase"`
	Version int    `json:"version"`
}

// AddActionRequest adds an action item.
type AddActionRequest struct {
	Item ActionItem `json:"item"`
	By   string     `json:"by,omitempty"`
}

// AddActionResult is the item as added: its ID, and its ticket when filed.
type AddActionResult struct {
	Item ActionItem `json:"item"`
}

// maxReminderRounds bounds the reminder rounds before give_up_after, so a
// catalog asking for a reminder a minute cannot grow a history without end.
const maxReminderRounds = 300

// planActivity is PlanPostmortem's registered name, for the local activity.
const planActivity = "PlanPostmortem"

// postIncident is the post-incident workflow's state and what its handlers share.
type postIncident struct {
	in       IncidentState
	s        PostIncidentState
	plan     activities.PostmortemPlan
	planned  bool
	resolved time.Time
	log      interface {
		Info(string, ...any)
	}
	// pending is a submission not yet drafted; decided a decision not yet acted on.
	pending  bool
	decided  *Decision
	nextItem int
}

// PostIncident carries on after an incident resolved: it closes the
// incident's pages on pagers of record (PagerDuty) beside everything else,
// publishes the post-mortem document to the tracker, invites responders to
// the meeting, adds the detection-gap action item, waits for the
// post-mortem (reminding the commander), drafts the stakeholder summary and
// waits for an approver (reminding them), publishes it, files the action
// items as tickets, sends the learnings and starts the weekly FollowUp.
func PostIncident(ctx workflow.Context, in PostIncidentInput) (PostIncidentState, error) {
	p, err := newPostIncident(ctx, in)
	if err != nil {
		return p.s, err
	}
	// What the incident handed over (pager syncs, stakeholder notices and
	// war room posts) runs beside the post-mortem: a PagerDuty outage of
	// hours still ends with its alerts closed, and holds nothing else back.
	inc := &incident{log: workflow.GetLogger(ctx), root: ctx, s: in.Incident, cancels: map[int]running{}}
	inc.pg = newPaging(ctx, inc)
	inc.cm, inc.rs = newComms(inc), newResponse(inc)
	inc.pg.syncFor = 24 * time.Hour
	syncsDone := false
	workflow.Go(ctx, func(gctx workflow.Context) {
		inc.runHandedOver(gctx, in.Handover)
		syncsDone = true
	})
	if err := p.run(ctx); err != nil {
		return p.s, err
	}
	if err := workflow.Await(ctx, func() bool { return syncsDone && workflow.AllHandlersFinished(ctx) }); err != nil {
		return p.s, err
	}
	// The incident's own record got any sync failure; copy it here too.
	p.s.Timeline = append(p.s.Timeline, inc.s.Timeline[len(in.Incident.Timeline):]...)
	if len(in.Handover) > 0 {
		p.event(ctx, "handed-over.done", "", fmt.Sprintf("%d job(s) the incident handed over done (pager syncs, final notices)", len(in.Handover)))
	}
	return p.s, nil
}

func newPostIncident(ctx workflow.Context, in PostIncidentInput) (*postIncident, error) {
	s := in.Incident
	p := &postIncident{in: s, log: workflow.GetLogger(ctx)}
	p.resolved = workflow.Now(ctx)
	if s.ResolvedAt != nil {
		p.resolved = *s.ResolvedAt
	}
	p.s = PostIncidentState{Ref: IncidentRef(s.ID, s.Run), Phase: PostmortemDue, IncidentID: s.ID, Service: s.Service,
		Team: s.Team, Summary: s.Summary, Source: s.Source, Commander: commanderOf(s), Timeline: []Event{},
		Decisions: []Decision{}, Items: []ActionItem{}, Approvers: []string{}}
	if err := workflow.SetQueryHandler(ctx, StateQuery, func() (PostIncidentState, error) { return p.s, nil }); err != nil {
		return p, fmt.Errorf("register state query: %w", err)
	}
	if err := workflow.SetQueryHandler(ctx, PostmortemQuery, func() (activities.PostmortemDoc, error) { return p.doc(), nil }); err != nil {
		return p, fmt.Errorf("register postmortem query: %w", err)
	}
	submit := func(edit bool) func(workflow.Context, SubmitRequest) (SubmitResult, error) {
		return func(ctx workflow.Context, r SubmitRequest) (SubmitResult, error) {
			sub := r.Submission
			sub.By = r.By
			p.number(&sub)
			p.s.Submission = &sub
			p.setItems()
			p.pending = true
			verb := "submitted"
			if edit {
				verb = "edited"
			}
			p.event(ctx, "postmortem."+verb, r.By, fmt.Sprintf("post-mortem %s: %d action item(s), %d learning(s)", verb,
				len(sub.ActionItems), len(sub.Learnings)))
			return SubmitResult{Phase: InReview, Items: len(sub.ActionItems), Approvers: slices.Clone(p.plan.Approvers)}, nil
		}
	}
	validate := func(edit bool) func(workflow.Context, SubmitRequest) error {
		return func(_ workflow.Context, r SubmitRequest) error {
			switch {
			case !p.planned:
				return reject(RejectWrongPhase, "the post-incident workflow is starting; try again in a moment")
			case p.s.Phase != PostmortemDue && p.s.Phase != InReview:
				return reject(RejectWrongPhase, fmt.Sprintf("the post-mortem is %s: it can no longer change", p.s.Phase))
			case p.decided != nil && p.decided.Approved:
				return reject(RejectWrongPhase, "the summary was approved and is being published: it can no longer change")
			case !edit && p.s.Submission != nil:
				return reject(RejectWrongPhase, "a post-mortem was submitted already: use `sitrep postmortem edit` to change it")
			case edit && p.s.Submission == nil:
				return reject(RejectWrongPhase, "nothing to edit: submit the post-mortem first")
			}
			if err := r.Submission.Validate(p.known, p.resolved); err != nil {
				return reject(RejectInvalid, "the post-mortem has problems:\n"+err.Error())
			}
			return nil
		}
	}
	handlers := []struct {
		name string
		fn   any
		opts workflow.UpdateHandlerOptions
	}{
		{SubmitPostmortemUpdate, submit(false), workflow.UpdateHandlerOptions{Validator: validate(false),
			Description: "Submit the post-mortem: root cause, impact, action items, learnings"}},
		{EditPostmortemUpdate, submit(true), workflow.UpdateHandlerOptions{Validator: validate(true),
			Description: "Resubmit the post-mortem, after a rejection or to correct it"}},
		{ApproveUpdate, p.decide(true), workflow.UpdateHandlerOptions{Validator: p.validateDecision(true),
			Description: "Approve the stakeholder summary (approvers only)"}},
		{RejectUpdate, p.decide(false), workflow.UpdateHandlerOptions{Validator: p.validateDecision(false),
			Description: "Reject the stakeholder summary with a comment (approvers only)"}},
		{AddActionUpdate, p.addAction, workflow.UpdateHandlerOptions{Validator: p.validateAdd,
			Description: "Add an action item to the post-mortem"}},
	}
	for _, h := range handlers {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.fn, h.opts); err != nil {
			return p, fmt.Errorf("register %s: %w", h.name, err)
		}
	}
	return p, nil
}

func (p *postIncident) known(handle string) bool {
	return len(p.plan.People) == 0 || slices.Contains(p.plan.People, handle)
}

// number gives the submission's items their IDs, A1, A2…, and the default priority.
func (p *postIncident) number(sub *Submission) {
	for i := range sub.ActionItems {
		sub.ActionItems[i].ID = fmt.Sprintf("A%d", i+1)
		if sub.ActionItems[i].Priority == "" {
			sub.ActionItems[i].Priority = activities.DefaultPriority
		}
	}
}

func (p *postIncident) validateDecision(approve bool) func(workflow.Context, DecisionRequest) error {
	return func(_ workflow.Context, r DecisionRequest) error {
		switch {
		case !slices.Contains(p.plan.Approvers, r.By):
			who := "nobody: add approvers (or managers) to team " + p.s.Team + " in the catalog"
			if len(p.plan.Approvers) > 0 {
				who = strings.Join(p.plan.Approvers, ", ")
			}
			return reject(RejectNotApprover, fmt.Sprintf("%q is not an approver of team %s's incidents; approvers: %s", r.By, p.s.Team, who))
		case p.s.Phase != InReview || p.pending || p.decided != nil:
			return reject(RejectWrongPhase, fmt.Sprintf("no summary is waiting for approval: the post-mortem is %s", p.phaseText()))
		case r.Version != 0 && r.Version != p.s.Version:
			return reject(RejectStaleDraft, fmt.Sprintf("draft %d was replaced by draft %d: read it before deciding", r.Version, p.s.Version))
		case !approve && strings.TrimSpace(r.Comment) == "":
			return reject(RejectInvalid, "a rejection needs --comment: say what must change")
		}
		return nil
	}
}

func (p *postIncident) decide(approve bool) func(workflow.Context, DecisionRequest) (DecisionResult, error) {
	return func(ctx workflow.Context, r DecisionRequest) (DecisionResult, error) {
		d := Decision{At: workflow.Now(ctx), By: r.By, Approved: approve, Comment: r.Comment, Version: p.s.Version}
		p.s.Decisions = append(p.s.Decisions, d)
		p.decided = &d
		if approve {
			p.event(ctx, "summary.approved", r.By, fmt.Sprintf("draft %d approved", d.Version))
			return DecisionResult{Phase: Published, Version: d.Version}, nil
		}
		p.event(ctx, "summary.rejected", r.By, fmt.Sprintf("draft %d rejected: %s", d.Version, r.Comment))
		return DecisionResult{Phase: PostmortemDue, Version: d.Version}, nil
	}
}

func (p *postIncident) validateAdd(_ workflow.Context, r AddActionRequest) error {
	if !p.planned || (p.s.Phase != PostmortemDue && p.s.Phase != InReview) {
		return reject(RejectWrongPhase, fmt.Sprintf("the post-mortem is %s: add the item to its follow-up", p.phaseText()))
	}
	if err := activities.ValidateItem(r.Item, p.known, p.resolved); err != nil {
		return reject(RejectInvalid, err.Error())
	}
	return nil
}

func (p *postIncident) addAction(ctx workflow.Context, r AddActionRequest) (AddActionResult, error) {
	it := r.Item
	p.nextItem++
	it.ID = fmt.Sprintf("L%d", p.nextItem)
	if it.Priority == "" {
		it.Priority = activities.DefaultPriority
	}
	p.s.Items = append(p.s.Items, it)
	p.event(ctx, "action.added", r.By, fmt.Sprintf("action item %s added: %s (owner %s)", it.ID, it.Title, it.Owner))
	return AddActionResult{Item: it}, nil
}

// setItems makes Items the gap item, then the latest submission's items,
// then those added later: what the post-mortem shows before approval is
// what will be filed.
func (p *postIncident) setItems() {
	var gap, added []ActionItem
	for _, it := range p.s.Items {
		switch {
		case it.ID == "gap":
			gap = append(gap, it)
		case strings.HasPrefix(it.ID, "L"):
			added = append(added, it)
		}
	}
	items := append(append([]ActionItem{}, gap...), p.s.Submission.ActionItems...)
	p.s.Items = append(items, added...)
}

func (p *postIncident) phaseText() string {
	if p.pending {
		return "being drafted"
	}
	return p.s.Phase
}

func (p *postIncident) event(ctx workflow.Context, kind, actor, text string) {
	p.s.Timeline = append(p.s.Timeline, Event{At: workflow.Now(ctx), Kind: kind, Actor: actor, Text: text})
}

func (p *postIncident) run(ctx workflow.Context) error {
	p.loadPlan(ctx)
	if !p.plan.On {
		p.event(ctx, "postmortem.off", "", "no post-mortem: the catalog has no postmortem section")
		p.setPhase(ctx, Closed)
		return nil
	}
	p.s.Due = p.resolved.Add(p.plan.DueAfter)
	p.setPhase(ctx, PostmortemDue)
	p.detectionGap(ctx)
	p.publishDocument(ctx)
	p.invite(ctx)
	remindAt := p.s.Due
	// However short the catalog's reminder intervals, at most
	// maxReminderRounds rounds fit before giving up: history stays bounded.
	floor := p.plan.GiveUpAfter / maxReminderRounds
	remindEvery, approvalEvery := max(p.plan.RemindEvery, floor), max(p.plan.ApprovalRemindEvery, floor)
	for {
		switch {
		case p.pending:
			p.draft(ctx)
			continue
		case p.decided != nil && p.decided.Approved:
			return p.publish(ctx)
		case p.decided != nil:
			p.returnToCommander(ctx)
			remindAt = workflow.Now(ctx).Add(remindEvery)
			continue
		}
		giveUp := p.resolved.Add(p.plan.GiveUpAfter)
		if !workflow.Now(ctx).Before(giveUp) {
			return p.abandon(ctx)
		}
		var wait time.Duration
		var summary string
		if p.s.Phase == InReview {
			wait, summary = approvalEvery, "remind approvers"
		} else {
			wait, summary = remindAt.Sub(workflow.Now(ctx)), "post-mortem due"
		}
		wait = min(wait, giveUp.Sub(workflow.Now(ctx)))
		ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: max(wait, time.Second),
			TimerOptions: workflow.TimerOptions{Summary: summary}}, func() bool { return p.pending || p.decided != nil })
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		if !workflow.Now(ctx).Before(giveUp) {
			continue
		}
		if p.s.Phase == InReview {
			p.notify(ctx, "approval-due", p.plan.Approvers, fmt.Sprintf("Waiting for your approval: summary of incident %s", p.s.IncidentID),
				p.approvalText())
		} else {
			p.remindCommander(ctx)
			remindAt = workflow.Now(ctx).Add(remindEvery)
		}
	}
}

// abandon gives up: nobody submitted the post-mortem, or nobody approved
// its summary, within the catalog's give_up_after. The managers hear of it;
// the phase stays searchable.
func (p *postIncident) abandon(ctx workflow.Context) error {
	what := "no post-mortem was submitted"
	if p.s.Phase == InReview {
		what = "no approver decided on the stakeholder summary"
	}
	p.event(ctx, "postmortem.abandoned", "", what+" by "+p.resolved.Add(p.plan.GiveUpAfter).UTC().Format(time.RFC3339))
	p.notify(ctx, "abandoned", append(slices.Clone(p.plan.Managers), p.s.Commander),
		fmt.Sprintf("Post-mortem of incident %s given up", p.s.IncidentID),
		fmt.Sprintf("For incident %s (%s: %s), %s within %s of its resolution. sitrep stops reminding; stakeholders were not sent a summary and no action items were filed.",
			p.s.IncidentID, p.s.Service, p.s.Summary, what, p.plan.GiveUpAfter))
	p.setPhase(ctx, Abandoned)
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// loadPlan reads the catalog's post-incident settings once: a catalog edit
// never changes a post-mortem under way.
func (p *postIncident) loadPlan(ctx workflow.Context) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		// Bounded: the defaults below do without the catalog.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
		Summary:     "post-mortem plan for team " + p.s.Team,
	})
	err := workflow.ExecuteLocalActivity(lctx, planActivity, activities.PlanInput{Team: p.s.Team, Commander: p.s.Commander}).Get(ctx, &p.plan)
	if err != nil {
		p.event(ctx, "plan.failed", "", "catalog unreadable, using default post-mortem settings: "+rootMessage(err))
		p.plan = activities.PostmortemPlan{On: true, DueAfter: 48 * time.Hour, RemindEvery: 24 * time.Hour, ApprovalRemindEvery: 24 * time.Hour,
			GiveUpAfter: 30 * 24 * time.Hour, FollowUpDay: time.Monday, FollowUpHour: 10, TeamZone: "UTC", ContinueEvery: 8}
	}
	p.s.Approvers = slices.Clone(p.plan.Approvers)
	if p.plan.Approvers == nil {
		p.s.Approvers = []string{}
	}
	if p.s.Commander == "" && len(p.plan.Managers) > 0 {
		p.s.Commander = p.plan.Managers[0]
	}
	p.planned = true
}

// refreshApprovers reads the team's approvers from the catalog again.
func (p *postIncident) refreshApprovers(ctx workflow.Context) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 3},
		Summary:             "approvers of team " + p.s.Team,
	})
	var fresh activities.PostmortemPlan
	if err := workflow.ExecuteLocalActivity(lctx, planActivity, activities.PlanInput{Team: p.s.Team, Commander: p.s.Commander}).Get(ctx, &fresh); err == nil {
		p.plan.Approvers = fresh.Approvers
		p.s.Approvers = slices.Clone(fresh.Approvers)
	}
}

// commanderOf is who owns the post-mortem: the commander, else who acknowledged.
func commanderOf(s IncidentState) string {
	for _, r := range s.Roles {
		if r.Role == "commander" && r.Person != "" {
			return r.Person
		}
	}
	return s.AcknowledgedBy
}

// detectionGap: an incident a person found, not monitoring, gets the item
// that closes the gap; one a customer found gets it at high priority, and
// the team's managers are told.
func (p *postIncident) detectionGap(ctx workflow.Context) {
	if p.s.Source != Internal && p.s.Source != External {
		return
	}
	it := ActionItem{ID: "gap", Title: "Close the monitoring gap that let a person find this: " + p.s.Summary,
		Owner: p.s.Commander, Priority: "Medium", Due: p.resolved.AddDate(0, 0, 28).Format(time.DateOnly),
		Detail: fmt.Sprintf("Reported by %s (%s), not by monitoring.", orDash(p.in.Reporter), p.s.Source)}
	if p.s.Source == External {
		it.Priority, it.Due = "High", p.resolved.AddDate(0, 0, 14).Format(time.DateOnly)
	}
	p.s.Items = append(p.s.Items, it)
	p.event(ctx, "detection.gap", "", fmt.Sprintf("%s report, not monitoring: action item %q at %s priority", p.s.Source, it.Title, it.Priority))
	if p.s.Source == External {
		p.notify(ctx, "detection-gap", p.plan.Managers, fmt.Sprintf("A customer found incident %s before monitoring did", p.s.IncidentID),
			fmt.Sprintf("Incident %s (%s: %s) was reported by a customer, not by monitoring.\n\nAn action item to close the monitoring gap was added at high priority, owned by %s and due %s.",
				p.s.IncidentID, p.s.Service, p.s.Summary, orDash(it.Owner), it.Due))
	}
}

// reject is a validator's refusal, typed so callers can tell reasons apart.
func reject(kind, msg string) error { return temporal.NewApplicationError(msg, kind) }

func trackerOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		// An hour covers a tracker outage the retries can ride out; after
		// that the workflow records the failure and goes on.
		ScheduleToCloseTimeout: time.Hour,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrPermanent, activities.ErrNotConfigured, activities.ErrTemplate}},
		Summary: summary,
	})
}

func mailOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		// Email has no idempotency key: a bounded retry, so a mail outage
		// costs a late notice, never an endless stream of duplicates.
		ScheduleToCloseTimeout: 30 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 10 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			MaximumAttempts: 6, NonRetryableErrorTypes: []string{activities.ErrPermanent, activities.ErrNotConfigured, activities.ErrTemplate}},
		Summary: summary,
	})
}

// doc is the post-mortem document's contents.
func (p *postIncident) doc() activities.PostmortemDoc {
	s := p.in
	d := activities.PostmortemDoc{Ref: p.s.Ref, IncidentID: s.ID, Service: s.Service, Team: s.Team, Summary: s.Summary,
		Severity: s.Severity, Source: string(s.Source), Reporter: s.Reporter, OpenedAt: s.FirstSeen,
		AcknowledgedAt: s.AcknowledgedAt, AcknowledgedBy: s.AcknowledgedBy, MitigatedAt: s.MitigatedAt, ResolvedAt: s.ResolvedAt,
		FirstNoticeAt: s.NoticeAt, Cadence: s.Plan.Comms.Cadence, Pages: len(s.Pages), Paged: s.Paged,
		Ticket: p.s.Ticket, Phase: p.s.Phase}
	for _, r := range s.Roles {
		d.Roles = append(d.Roles, activities.DocRole{Role: r.Role, Person: r.Person})
	}
	for _, u := range s.Updates {
		d.Updates = append(d.Updates, activities.DocUpdate{At: u.At, Kind: u.Kind, Status: string(u.Status), Message: u.Message, By: u.By})
	}
	for _, e := range append(slices.Clone(s.Timeline), p.s.Timeline...) {
		d.Timeline = append(d.Timeline, activities.DocEvent{At: e.At, Kind: e.Kind, Actor: e.Actor, Text: e.Text})
	}
	if len(s.Merged) > 0 {
		// Incidents merged into this one: their story is this one's.
		for _, mi := range s.Merged {
			for _, e := range mi.Timeline {
				d.Timeline = append(d.Timeline, activities.DocEvent{At: e.At, Kind: e.Kind, Actor: e.Actor, Text: mi.ID + ": " + e.Text})
			}
		}
		slices.SortStableFunc(d.Timeline, func(a, b activities.DocEvent) int { return a.At.Compare(b.At) })
	}
	if p.s.Submission != nil {
		sub := *p.s.Submission
		sub.ActionItems = slices.Clone(p.s.Items)
		d.Submission = &sub
	}
	for _, dc := range p.s.Decisions {
		dec := "rejected"
		if dc.Approved {
			dec = "approved"
		}
		d.Approvals = append(d.Approvals, activities.DocApproval{At: dc.At, By: dc.By, Decision: fmt.Sprintf("draft %d %s", dc.Version, dec), Comment: dc.Comment})
	}
	return d
}

// publishDocument publishes the post-mortem document, timeline and figures,
// to the tracker: it lives there, not in workflow history.
func (p *postIncident) publishDocument(ctx workflow.Context) {
	var t activities.TicketRef
	if err := workflow.ExecuteActivity(trackerOptions(ctx, "publish post-mortem document"), a.PublishPostmortem, p.doc()).Get(ctx, &t); err != nil {
		p.event(ctx, "postmortem.unpublished", "", "post-mortem document not published to the tracker: "+rootMessage(err))
		return
	}
	p.s.Ticket, p.s.TicketURL = t.Key, t.URL
	p.event(ctx, "postmortem.published", "", "post-mortem document "+t.Key+" "+t.URL)
}

// invite invites responders and role holders to the post-mortem meeting.
func (p *postIncident) invite(ctx workflow.Context) {
	people := slices.Clone(p.in.Paged)
	if p.in.AcknowledgedBy != "" {
		people = append(people, p.in.AcknowledgedBy)
	}
	for _, r := range p.in.Roles {
		people = append(people, r.Person)
	}
	if p.s.Commander != "" {
		people = append(people, p.s.Commander)
	}
	slices.Sort(people)
	people = slices.Compact(people)
	if len(people) == 0 {
		p.event(ctx, "meeting.skipped", "", "nobody responded: no post-mortem meeting invite sent")
		return
	}
	var r activities.MeetingResult
	err := workflow.ExecuteActivity(mailOptions(ctx, "invite to the post-mortem meeting"), a.SendInvite, activities.MeetingRequest{
		Ref: p.s.Ref, IncidentID: p.s.IncidentID, Service: p.s.Service, Summary: p.s.Summary, Commander: p.s.Commander,
		People: people, Resolved: p.resolved, PostmortemURL: p.s.TicketURL}).Get(ctx, &r)
	if err != nil {
		p.event(ctx, "meeting.failed", "", "post-mortem meeting invite not sent: "+rootMessage(err))
		return
	}
	p.s.Meeting = &r.Start
	text := fmt.Sprintf("post-mortem meeting %s %s, invited %s", r.Start.In(time.UTC).Format(time.RFC3339), r.Zone, strings.Join(r.Sent, ", "))
	if len(r.Missing) > 0 {
		text += "; no email for " + strings.Join(r.Missing, ", ")
	}
	p.event(ctx, "meeting.invited", "", text)
}

// notify emails people; a failure is recorded, never fatal.
func (p *postIncident) notify(ctx workflow.Context, kind string, people []string, subject, text string) {
	if len(people) == 0 {
		p.event(ctx, kind+".unsent", "", "nobody to tell: "+subject)
		return
	}
	var r activities.PeopleResult
	err := workflow.ExecuteActivity(mailOptions(ctx, kind+": "+strings.Join(people, ", ")), a.NotifyPeople, activities.PeopleNotice{
		Ref: p.s.Ref, IncidentID: p.s.IncidentID, Kind: kind, People: people, Subject: subject, Text: text}).Get(ctx, &r)
	if err != nil {
		p.event(ctx, kind+".failed", "", subject+": not sent: "+rootMessage(err))
		return
	}
	p.event(ctx, kind, "", fmt.Sprintf("%s: sent to %s", subject, strings.Join(r.Sent, ", ")))
}

func (p *postIncident) remindCommander(ctx workflow.Context) {
	who := []string{p.s.Commander}
	if p.s.Commander == "" {
		who = p.plan.Managers
	}
	text := fmt.Sprintf("The post-mortem of incident %s (%s: %s) was due %s and has not been submitted.\n\nSubmit it with:\n  sitrep postmortem submit %s --file pm.yaml",
		p.s.IncidentID, p.s.Service, p.s.Summary, p.s.Due.UTC().Format(time.RFC1123), p.s.IncidentID)
	if n := len(p.s.Decisions); p.s.Submission != nil && n > 0 {
		last := p.s.Decisions[n-1]
		text = fmt.Sprintf("The stakeholder summary of incident %s was returned by %s: %s\n\nEdit the post-mortem with:\n  sitrep postmortem edit %s --file pm.yaml",
			p.s.IncidentID, last.By, last.Comment, p.s.IncidentID)
	}
	p.notify(ctx, "postmortem-due", who, fmt.Sprintf("Post-mortem due: incident %s", p.s.IncidentID), text)
}

// draft drafts the stakeholder summary from the latest submission and asks
// the approvers for a decision.
func (p *postIncident) draft(ctx workflow.Context) {
	p.pending = false
	sub := *p.s.Submission
	var d Draft
	err := workflow.ExecuteActivity(mailOptions(ctx, "draft the stakeholder summary"), a.DraftSummary, activities.DraftInput{
		Service: p.s.Service, Components: p.in.Plan.Comms.Components, OpenedAt: p.in.FirstSeen, Submission: sub}).Get(ctx, &d)
	if err != nil {
		// The approvers still get a decision to make: the root cause as it
		// was written, flagged.
		d = Draft{Text: sub.RootCause, Jargon: []string{"(not checked: " + rootMessage(err) + ")"}}
	}
	p.s.Draft = &d
	p.s.Version++
	p.decided = nil
	p.setPhase(ctx, InReview)
	p.event(ctx, "summary.drafted", "", fmt.Sprintf("draft %d: readability %.0f, jargon %v, names replaced %v", p.s.Version, d.Readability, d.Jargon, d.Names))
	if len(p.plan.Approvers) == 0 {
		// The one setting read again: with nobody to approve, the summary
		// could never go out; an operator may have added approvers since.
		p.refreshApprovers(ctx)
	}
	if len(p.plan.Approvers) == 0 {
		p.notify(ctx, "no-approvers", []string{p.s.Commander}, fmt.Sprintf("Nobody can approve the summary of incident %s", p.s.IncidentID),
			fmt.Sprintf("Team %s has no approvers and no managers in the catalog, so the stakeholder summary cannot go out. Add `approvers:` to the team in the catalog, then resubmit:\n  sitrep postmortem edit %s --file pm.yaml", p.s.Team, p.s.IncidentID))
	}
	p.notify(ctx, "approval-requested", p.plan.Approvers, fmt.Sprintf("Approve the summary of incident %s", p.s.IncidentID), p.approvalText())
	if len(d.Jargon) > 0 || len(d.Names) > 0 {
		p.notify(ctx, "draft-flags", []string{p.s.Commander}, fmt.Sprintf("Your summary of incident %s: please check", p.s.IncidentID),
			fmt.Sprintf("Draft %d went to the approvers. It reads at %.0f (60 and above is plain).\nJargon to replace: %s\nInternal names removed: %s\n\nChange it with: sitrep postmortem edit %s --file pm.yaml",
				p.s.Version, d.Readability, orDash(strings.Join(d.Jargon, ", ")), orDash(strings.Join(d.Names, ", ")), p.s.IncidentID))
	}
}

func (p *postIncident) approvalText() string {
	d := p.s.Draft
	return fmt.Sprintf("Draft %d of the stakeholder summary of incident %s (%s):\n\n%s\n\nReadability %.0f. Jargon: %s.\n\nApprove:  sitrep postmortem approve %s --as YOU --version %d\nReject:   sitrep postmortem reject %s --as YOU --comment \"what must change\"",
		p.s.Version, p.s.IncidentID, p.s.Service, d.Text, d.Readability, orDash(strings.Join(d.Jargon, ", ")),
		p.s.IncidentID, p.s.Version, p.s.IncidentID)
}

// returnToCommander sends a rejected draft back, with the comment.
func (p *postIncident) returnToCommander(ctx workflow.Context) {
	d := *p.decided
	p.decided = nil
	p.setPhase(ctx, PostmortemDue)
	p.notify(ctx, "rejected", []string{p.s.Commander}, fmt.Sprintf("Summary of incident %s returned by %s", p.s.IncidentID, d.By),
		fmt.Sprintf("%s rejected draft %d:\n\n  %s\n\nThe draft:\n\n%s\n\nEdit and resubmit with:\n  sitrep postmortem edit %s --file pm.yaml",
			d.By, d.Version, d.Comment, p.s.Draft.Text, p.s.IncidentID))
}

// publish sends the approved summary, files the action items, sends the
// learnings and starts the follow-up.
func (p *postIncident) publish(ctx workflow.Context) error {
	approver := p.decided.By
	p.setPhase(ctx, Published)
	sub := p.s.Submission
	var sr activities.SummaryResult
	spID := ""
	if p.in.StatusPage != nil {
		spID = p.in.StatusPage.ID
	}
	groups := p.in.Plan.Comms.Groups
	if p.in.Plan.Comms.InternalOnly {
		groups = slices.DeleteFunc(slices.Clone(groups), func(g activities.GroupPlan) bool { return g.Audience == "external" })
		spID = ""
	}
	err := workflow.ExecuteActivity(mailOptions(ctx, "publish the approved summary"), a.PublishSummary, activities.SummaryNotice{
		Ref: p.s.Ref, IncidentID: p.s.IncidentID, Service: p.s.Service, Severity: p.in.Severity, Components: p.in.Plan.Comms.Components, StatusPageID: spID,
		Groups: groups, Text: p.s.Draft.Text, RootCause: sub.RootCause, ApprovedBy: approver, PostmortemURL: p.s.TicketURL}).Get(ctx, &sr)
	if err != nil {
		sr.Failed = append(sr.Failed, "summary: "+rootMessage(err))
	}
	p.s.Published, p.s.Failed = sr.Sent, sr.Failed
	p.event(ctx, "summary.published", approver, fmt.Sprintf("summary approved by %s sent to %s%s", approver,
		orDash(strings.Join(sr.Sent, ", ")), failedText(sr.Failed)))
	if p.s.Ticket == "" {
		// The tracker was down when the incident resolved: try again, so
		// the tickets can link to the document.
		p.publishDocument(ctx)
	}
	for i := range p.s.Items {
		p.fileTicket(ctx, &p.s.Items[i])
	}
	planners := p.plan.PlanManagers
	if len(planners) == 0 {
		planners = p.plan.Managers
	}
	if len(p.s.Items) > 0 {
		var r activities.PeopleResult
		err := workflow.ExecuteActivity(mailOptions(ctx, "action items to product and project managers"), a.SendActionList, activities.ActionListNotice{
			Ref: p.s.Ref, IncidentID: p.s.IncidentID, Service: p.s.Service, Summary: p.s.Summary, People: planners, Items: p.s.Items}).Get(ctx, &r)
		if err != nil {
			p.event(ctx, "actions.unsent", "", "action item list not sent: "+rootMessage(err))
		} else {
			p.event(ctx, "actions.sent", "", "action item list sent to "+orDash(strings.Join(r.Sent, ", ")))
		}
	}
	var lr activities.LearningsResult
	err = workflow.ExecuteActivity(mailOptions(ctx, "learnings to responders"), a.RecordLearnings, activities.LearningsNotice{
		Ref: p.s.Ref, IncidentID: p.s.IncidentID, Service: p.s.Service, Summary: p.s.Summary, Severity: p.in.Severity,
		At: workflow.Now(ctx), Learnings: sub.Learnings, PostmortemURL: p.s.TicketURL}).Get(ctx, &lr)
	if err != nil {
		p.event(ctx, "learnings.failed", "", "learnings not sent: "+rootMessage(err))
	} else {
		p.event(ctx, "learnings.sent", "", fmt.Sprintf("learnings sent to %d responder(s), recorded in %s", len(lr.Sent), orDash(lr.Recorded)))
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	if len(p.s.Items) == 0 {
		p.setPhase(ctx, Closed)
		return nil
	}
	return p.startFollowUp(ctx)
}

func failedText(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return "; failed: " + strings.Join(f, "; ")
}

// fileTicket files one action item's ticket; a failure leaves it to the
// follow-up, which tries again each week.
func (p *postIncident) fileTicket(ctx workflow.Context, it *ActionItem) {
	var t activities.TicketRef
	err := workflow.ExecuteActivity(trackerOptions(ctx, "ticket for "+it.ID), a.FileTicket, activities.TicketRequest{
		Ref: p.s.Ref, IncidentID: p.s.IncidentID, Service: p.s.Service, Summary: p.s.Summary, Item: *it, PostmortemKey: p.s.Ticket}).Get(ctx, &t)
	if err != nil {
		p.event(ctx, "ticket.failed", "", fmt.Sprintf("no ticket for %s yet: %s", it.ID, rootMessage(err)))
		return
	}
	it.Ticket, it.URL = t.Key, t.URL
	p.event(ctx, "ticket.filed", "", fmt.Sprintf("%s filed as %s", it.ID, t.Key))
}

// startFollowUp starts the weekly follow-up, which outlives this workflow.
func (p *postIncident) startFollowUp(ctx workflow.Context) error {
	id := FollowUpID(p.s.Ref)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:        id,
		TaskQueue:         TaskQueue,
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		StaticSummary:     truncate(fmt.Sprintf("follow-up of %s %s: %d action item(s)", p.s.Service, p.s.Summary, len(p.s.Items)), 200),
	})
	in := FollowUpState{Ref: p.s.Ref, IncidentID: p.s.IncidentID, Service: p.s.Service, Team: p.s.Team, Summary: p.s.Summary,
		Commander: p.s.Commander, PostmortemKey: p.s.Ticket, Managers: p.plan.Managers, PlanManagers: p.plan.PlanManagers, People: p.plan.People,
		Resolved: p.resolved, Schedule: FollowUpSchedule{Day: p.plan.FollowUpDay, Hour: p.plan.FollowUpHour,
			Minute: p.plan.FollowUpMinute, Zone: p.plan.TeamZone, Every: p.plan.FollowUpEvery}, ContinueEvery: p.plan.ContinueEvery}
	for _, it := range p.s.Items {
		in.Items = append(in.Items, FollowItem{ActionItem: it})
	}
	f := workflow.ExecuteChildWorkflow(cctx, FollowUp, in)
	if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		var started *temporal.ChildWorkflowExecutionAlreadyStartedError
		if !errors.As(err, &started) {
			p.event(ctx, "followup.failed", "", "could not start the follow-up: "+rootMessage(err))
			return nil
		}
	}
	p.s.FollowUp = id
	p.event(ctx, "followup.started", "", "weekly follow-up "+id+" started")
	p.setPhase(ctx, FollowingUp)
	// The follow-up runs on its own; this workflow does not wait for it.
	return nil
}

// setPhase records the phase and shows it in the UI.
func (p *postIncident) setPhase(ctx workflow.Context, phase string) {
	p.s.Phase = phase
	attrs := []temporal.SearchAttributeUpdate{PostPhaseAttr.ValueSet(phase), ServiceAttr.ValueSet(p.s.Service),
		TeamAttr.ValueSet(p.s.Team), SeverityAttr.ValueSet(string(p.in.Severity)), SourceAttr.ValueSet(string(p.s.Source))}
	if phase == PostmortemDue {
		attrs = append(attrs, PostmortemDueAttr.ValueSet(p.s.Due))
	} else {
		attrs = append(attrs, PostmortemDueAttr.ValueUnset())
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, attrs...); err != nil {
		p.log.Info("search attributes not updated", "ref", p.s.Ref, "error", err)
	}
	workflow.SetCurrentDetails(ctx, p.details())
}

func (p *postIncident) details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** · after %s %s · team %s\n\n", strings.ToUpper(p.s.Phase), p.in.Severity, p.s.Service, p.s.Team)
	fmt.Fprintf(&b, "%s\n\n", MarkdownText(p.s.Summary))
	fmt.Fprintf(&b, "Commander: %s · post-mortem due %s\n\n", orDash(p.s.Commander), p.s.Due.UTC().Format(time.RFC3339))
	if p.s.Ticket != "" {
		fmt.Fprintf(&b, "Document: %s\n\n", p.s.Ticket)
	}
	if p.s.Draft != nil {
		fmt.Fprintf(&b, "Summary draft %d, approvers: %s\n\n", p.s.Version, orDash(strings.Join(p.s.Approvers, ", ")))
	}
	if n := len(p.s.Decisions); n > 0 {
		d := p.s.Decisions[n-1]
		verb := "rejected"
		if d.Approved {
			verb = "approved"
		}
		fmt.Fprintf(&b, "Last decision: %s by %s\n\n", verb, d.By)
	}
	fmt.Fprintf(&b, "Action items: %d", len(p.s.Items))
	return b.String()
}
