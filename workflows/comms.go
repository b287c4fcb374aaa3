package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// The comms part tells stakeholders, at their own pace: the initial notice
// (status page, or email to the service's stakeholder groups) that says when
// the next update comes; the update clock, which reminds the comms lead
// before each due time, the commander at it, and, if the policy says so,
// posts "no new information yet" itself; the notices of mitigation and
// resolution. The response part beside it (response.go) holds the roles and
// the war room. Both only change state and queue jobs; dispatch sends.
type comms struct {
	w *incident
	// spPending are the updates whose status page post is queued or in
	// flight: each waits for the earlier ones, so a quick update never
	// overtakes the notice that opens the status page incident.
	spPending []int
	// summaryBusy: a summary edit is in flight; summaryDirty: the summary
	// changed meanwhile, so one more edit follows it.
	summaryBusy, summaryDirty bool
	// public is the plain-language text the mitigate or resolve handler
	// under way was given for external audiences; closing takes it.
	public string
	// told holds the outcomes Story workflows reported, by notice key,
	// until the notice job waiting for each takes it.
	told map[string]StoryOutcome
}

func newComms(w *incident) *comms { return &comms{w: w} }

// The comms jobs.
const (
	jobNotice  = "notice"  // send Updates[Job.Update] to its audiences
	jobRemind  = "remind"  // remind someone
	jobRoom    = "room"    // open the war room
	jobInvite  = "invite"  // invite responders not yet in the war room
	jobPost    = "post"    // echo a line in the war room
	jobSummary = "summary" // bring the war room's summary up to date
)

// handedOver: jobs that must reach people even after the incident resolved;
// the incident hands them to PostIncident rather than wait for a slow
// provider.
func handedOver(j Job) bool {
	return j.Kind == jobSync || j.Kind == jobNotice || j.Kind == jobPost || j.Kind == jobSummary
}

// cancellable: jobs resolution stops (and hands over, or drops).
func cancellable(j Job) bool {
	return handedOver(j) || j.Kind == jobRemind || j.Kind == jobRoom || j.Kind == jobInvite
}

// commsOptions: a stakeholder notice must not be lost to a worker outage,
// so there is no schedule-to-close; a provider's permanent refusal, or a
// provider not configured, ends it at once. A cancelled call finishes the
// attempt under way, so resolution knows whether it got through.
func commsOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrPermanent, activities.ErrNoContact, activities.ErrChannelOff,
				activities.ErrNotConfigured, activities.ErrCatalog}},
		Summary: summary,
	})
}

// boundedOptions are commsOptions for what goes stale: a reminder, a war
// room's opening. The activity gives up once its provider has failed for
// activities.StaleAfter; there is no schedule-to-close, which would count a
// worker outage too and drop a reminder the outage only delayed.
func boundedOptions(ctx workflow.Context, summary string) workflow.Context {
	ctx = commsOptions(ctx, summary)
	o := workflow.GetActivityOptions(ctx)
	o.RetryPolicy.NonRetryableErrorTypes = append(o.RetryPolicy.NonRetryableErrorTypes, activities.ErrGaveUp)
	return workflow.WithActivityOptions(ctx, o)
}

// routed starts what the severity policy starts as the incident opens.
func (c *comms) routed(ctx workflow.Context) {
	s := &c.w.s
	if s.Plan.Comms.CommsLead != "" {
		c.w.rs.setRole(ctx, catalog.RoleComms, s.Plan.Comms.CommsLead, "", "the team's comms rotation has them on now")
	}
	// The room first: the notice is echoed in it.
	if s.Plan.Comms.WarRoom == catalog.WhenOpen {
		c.w.rs.requestRoom(ctx)
	}
	if s.Plan.Comms.Notice == catalog.WhenOpen {
		c.initial(ctx)
	}
}

// acknowledged starts what waits for a person.
func (c *comms) acknowledged(ctx workflow.Context) {
	s := &c.w.s
	if s.Plan.Comms.WarRoom == catalog.WhenAck {
		c.w.rs.requestRoom(ctx)
	}
	if s.Plan.Comms.Notice == catalog.WhenAck && s.NoticeAt == nil {
		c.initial(ctx)
	}
	c.w.rs.joined(ctx)
}

// raised applies the raised severity's comms policy: a notice or war room
// it wants now that the old one did not, and a shorter cadence from now.
func (c *comms) raised(ctx workflow.Context, wasInternal bool) {
	s := &c.w.s
	p := s.Plan.Comms
	acked := s.AcknowledgedBy != ""
	if p.WarRoom == catalog.WhenOpen || (p.WarRoom == catalog.WhenAck && acked) {
		c.w.rs.requestRoom(ctx)
	}
	now := workflow.Now(ctx)
	if wasInternal && !p.InternalOnly && s.NoticeAt != nil {
		// Only insiders were told so far: customers hear now.
		c.record(ctx, UpdateRecord{At: now, Kind: string(activities.NoticeInitial), By: "sitrep", Status: s.Status,
			Audience: AudienceExternal}, fmt.Sprintf("raised to %s: external audiences told", s.Severity))
	}
	if p.Notice == catalog.WhenOpen || (p.Notice == catalog.WhenAck && acked) {
		c.initial(ctx)
	}
	if p.Cadence <= 0 {
		c.stopClocks()
	}
	for i := range s.Cadences {
		if due := now.Add(p.Cadence); p.Cadence > 0 && s.Cadences[i].Due.After(due) {
			s.Cadences[i] = Cadence{Role: s.Cadences[i].Role, Due: due}
		}
	}
	if s.NoticeAt != nil && len(s.Cadences) == 0 {
		c.startClocks(now)
	}
	c.syncDue()
	c.w.rs.refresh()
}

// initial sends the first notice: investigating, and when the next update comes.
func (c *comms) initial(ctx workflow.Context) {
	s := &c.w.s
	if s.NoticeAt != nil {
		return
	}
	now := workflow.Now(ctx)
	s.NoticeAt = &now
	s.Status = StatusInvestigating
	c.startClocks(now)
	c.record(ctx, UpdateRecord{At: now, Kind: string(activities.NoticeInitial), By: "sitrep", Status: StatusInvestigating,
		Audience: c.fullAudience()}, "initial notice: investigating")
}

// fullAudience is both audiences, or internal when the severity keeps
// external audiences out.
func (c *comms) fullAudience() Audience {
	if c.w.s.Plan.Comms.InternalOnly {
		return AudienceInternal
	}
	return AudienceBoth
}

// startClocks (re)starts the comms lead's update clock and each sub-role
// holder's, from now.
func (c *comms) startClocks(now time.Time) {
	s := &c.w.s
	s.Cadences = nil
	s.NextUpdateDue = nil
	if s.Plan.Comms.Cadence <= 0 || s.NoticeAt == nil || s.Phase == Mitigated || s.Phase == Resolved {
		return
	}
	s.Cadences = append(s.Cadences, Cadence{Role: catalog.RoleComms, Due: now.Add(s.Plan.Comms.Cadence)})
	for _, r := range s.Plan.Comms.Roles {
		if c.w.rs.holder(r.Name) != "" {
			s.Cadences = append(s.Cadences, Cadence{Role: r.Name, Due: now.Add(s.Plan.Comms.Cadence)})
		}
	}
	c.syncDue()
}

// startClock starts one role's clock, when stakeholders have been told and
// it has none running.
func (c *comms) startClock(role string, now time.Time) {
	s := &c.w.s
	if s.Plan.Comms.Cadence <= 0 || s.NoticeAt == nil || s.Phase == Mitigated || s.Phase == Resolved ||
		slices.ContainsFunc(s.Cadences, func(k Cadence) bool { return k.Role == role }) {
		return
	}
	s.Cadences = append(s.Cadences, Cadence{Role: role, Due: now.Add(s.Plan.Comms.Cadence)})
	c.syncDue()
}

// syncDue copies the comms lead's clock into NextUpdateDue.
func (c *comms) syncDue() {
	s := &c.w.s
	s.NextUpdateDue = nil
	for _, k := range s.Cadences {
		if k.Role == catalog.RoleComms {
			due := k.Due
			s.NextUpdateDue = &due
		}
	}
}

// stopClocks: mitigated or resolved, no further update is due.
func (c *comms) stopClocks() {
	c.w.s.Cadences = nil
	c.w.s.NextUpdateDue = nil
}

// mitigated tells stakeholders the fix is being watched.
func (c *comms) mitigated(ctx workflow.Context, by, note string) {
	c.closing(ctx, "Mitigated", activities.NoticeMitigated, StatusMonitoring, by, note, "mitigated: stakeholders told it is being monitored")
}

// resolved sends the final notices.
func (c *comms) resolved(ctx workflow.Context, by, note string) {
	c.closing(ctx, "Resolved", activities.NoticeResolved, StatusResolved, by, note, "resolved: final notice to stakeholders")
}

// closing stops the update clocks, tells the war room and, when they were
// told anything, the stakeholders: the fix is in (mitigated) or it is over.
func (c *comms) closing(ctx workflow.Context, verb string, kind activities.NoticeKind, status StakeholderStatus, by, note, text string) {
	s := &c.w.s
	c.stopClocks()
	c.w.rs.post(fmt.Sprintf("%s by %s: %s", verb, orDefault(by, "sitrep"), note))
	if s.NoticeAt == nil {
		return
	}
	s.Status = status
	// The note is for insiders (it may name hosts and people); external
	// audiences read the public text, or the template's own words.
	public := c.public
	c.public = ""
	c.record(ctx, UpdateRecord{At: workflow.Now(ctx), Kind: string(kind), By: orDefault(by, "sitrep"), Status: status,
		Audience: c.fullAudience(), Message: note, Public: public}, text)
}

// merged: the incident goes on as part of another's story, and its
// stakeholders hear that one: no email of its own. Its status page incident,
// or its link in a shared public story, is closed: a story it shares with
// the target or others stays open for them, and one of its own tells
// customers where the news goes on.
func (c *comms) merged(ctx workflow.Context, target string) {
	s := &c.w.s
	c.stopClocks()
	if s.NoticeAt == nil || !s.Plan.Comms.StatusPage || s.Plan.Comms.InternalOnly {
		return
	}
	s.Status = StatusResolved
	s.Updates = append(s.Updates, UpdateRecord{At: workflow.Now(ctx), Kind: string(activities.NoticeResolved), By: "sitrep",
		Status: StatusResolved, Audience: AudienceExternal, Message: "merged into " + target, Sent: []string{},
		Public: "This issue is now handled together with a related incident. Updates continue there."})
	c.w.event(ctx, "comms.merged", "", "status page: this incident's part closes; its story goes on with "+target)
	c.w.enqueue(Job{Kind: jobNotice, Update: len(s.Updates) - 1, Dest: destStatusPage})
}

// reopened: the problem is back after mitigation. Stakeholders who were
// told it is fixed hear again on the cadence; the comms lead is reminded.
func (c *comms) reopened(ctx workflow.Context) {
	s := &c.w.s
	c.w.rs.post("Re-opened: the alert fired again after its source cleared")
	now := workflow.Now(ctx)
	c.startClocks(now)
	if s.NoticeAt == nil {
		return
	}
	// They were told it is fixed: they hear it is not, and the status
	// starts over.
	s.Status = StatusInvestigating
	c.record(ctx, UpdateRecord{At: now, Kind: string(activities.NoticeUpdate), By: "sitrep", Status: StatusInvestigating,
		Audience: c.fullAudience(), Message: "The problem has returned. We are investigating again."},
		"re-opened: stakeholders told the problem is back")
}

// record adds a stakeholder communication and queues it.
func (c *comms) record(ctx workflow.Context, u UpdateRecord, text string) {
	s := &c.w.s
	if u.Sent == nil {
		u.Sent = []string{}
	}
	if s.NextUpdateDue != nil && u.Kind != string(activities.NoticeMitigated) && u.Kind != string(activities.NoticeResolved) {
		next := *s.NextUpdateDue
		if u.Role != "" {
			for _, k := range s.Cadences {
				if k.Role == u.Role {
					next = k.Due
				}
			}
		}
		u.Next = &next
	}
	s.Updates = append(s.Updates, u)
	dests := c.destinations(u)
	if len(dests) == 0 {
		text += fmt.Sprintf(" (reaches nobody: no stakeholder group, status page or war room for audience %s)", u.Audience)
	}
	c.w.event(ctx, "comms."+u.Kind, u.By, text)
	for _, d := range dests {
		c.w.enqueue(Job{Kind: jobNotice, Update: len(s.Updates) - 1, Dest: d})
	}
	c.w.rs.refresh()
}

// deadline is when the next reminder or automatic notice is due.
func (c *comms) deadline() (time.Time, string) {
	s := &c.w.s
	var at time.Time
	var what string
	consider := func(t time.Time, text string) {
		if at.IsZero() || t.Before(at) {
			at, what = t, text
		}
	}
	p := s.Plan.Comms
	for _, k := range s.Cadences {
		switch {
		case !k.Reminded:
			consider(k.Due.Add(-p.RemindBefore), fmt.Sprintf("remind %s: update due %s", k.Role, k.Due.UTC().Format("15:04")))
		case !k.Escalated:
			consider(k.Due, fmt.Sprintf("%s update due", k.Role))
		case p.NoNewsAfter > 0:
			consider(k.Due.Add(p.NoNewsAfter), fmt.Sprintf("post 'no new information' for %s", k.Role))
		}
	}
	if t, ok := c.w.rs.unfilledAt(); ok {
		consider(t, "remind the commander of unfilled roles")
	}
	return at, what
}

// advance takes every reminder and automatic notice that is due.
func (c *comms) advance(ctx workflow.Context) {
	s := &c.w.s
	if s.Phase == Resolved {
		return
	}
	now := workflow.Now(ctx)
	p := s.Plan.Comms
	for i := 0; i < len(s.Cadences); i++ {
		k := &s.Cadences[i]
		if !k.Reminded && !now.Before(k.Due.Add(-p.RemindBefore)) {
			k.Reminded = true
			c.remind(ctx, activities.ReminderDue, k.Role, k.Due)
		}
		if !k.Escalated && !now.Before(k.Due) {
			k.Escalated = true
			c.remind(ctx, activities.ReminderOverdue, k.Role, k.Due)
		}
		if k.Escalated && p.NoNewsAfter > 0 && !now.Before(k.Due.Add(p.NoNewsAfter)) {
			role := k.Role
			c.restart(role, now)
			next := c.due(role)
			sub := ""
			if role != catalog.RoleComms {
				sub = role
			}
			msg := fmt.Sprintf("No new information yet. We are still working on it; next update at %s.", next.UTC().Format("15:04 MST"))
			c.record(ctx, UpdateRecord{At: now, Kind: string(activities.NoticeNoNews), By: "sitrep", Role: sub, Status: s.Status,
				Audience: c.audienceOf(sub), Message: msg}, fmt.Sprintf("no update came for %s: sitrep posted 'no new information'", p.Cadence))
			k = &s.Cadences[i]
		}
	}
	c.w.rs.advance(ctx, now)
}

// audienceOf is who a role's updates reach: the comms lead's go to the
// service's stakeholders, a sub-role's to its own groups.
func (c *comms) audienceOf(role string) Audience {
	if role != "" {
		return AudienceBoth
	}
	return c.fullAudience()
}

// restart restarts one clock from now: an update was posted.
func (c *comms) restart(role string, now time.Time) {
	s := &c.w.s
	for i := range s.Cadences {
		if s.Cadences[i].Role == role {
			s.Cadences[i] = Cadence{Role: role, Due: now.Add(s.Plan.Comms.Cadence)}
		}
	}
	c.syncDue()
}

// due is when role's next update is due; zero without a clock.
func (c *comms) due(role string) time.Time {
	for _, k := range c.w.s.Cadences {
		if k.Role == role {
			return k.Due
		}
	}
	return time.Time{}
}

// remind queues a reminder about role's update: before the due time to its
// holder (the commander copied), at it to the commander (the holder copied).
func (c *comms) remind(ctx workflow.Context, kind activities.ReminderKind, role string, due time.Time) {
	s := &c.w.s
	holder, commander := c.w.rs.holder(role), c.w.rs.commander()
	to, cc := holder, commander
	if kind == activities.ReminderOverdue {
		to, cc = commander, holder
	}
	if to == "" {
		to, cc = cc, ""
	}
	if to == "" {
		c.w.event(ctx, "reminder.skipped", "", fmt.Sprintf("%s update due %s: nobody holds %s or commander to remind", role, due.UTC().Format("15:04"), role))
		return
	}
	sub := role // the comms lead's update is "the update"; a sub-role's is named
	if role == catalog.RoleComms {
		sub = ""
	}
	r := activities.Reminder{IncidentID: s.ID, Ref: IncidentRef(s.ID, s.Run), Kind: kind, Person: to, Service: s.Service,
		Severity: s.Severity, Summary: s.Summary, Role: sub, Due: due, Command: c.command(role, orDefault(holder, to))}
	if cc != "" && cc != to {
		r.CC = []string{cc}
	}
	if s.WarRoom != nil {
		r.Room = s.WarRoom.URL
	}
	what := "due"
	if kind == activities.ReminderOverdue {
		what = "overdue"
	}
	c.w.event(ctx, "reminder", to, fmt.Sprintf("%s update %s at %s", role, what, due.UTC().Format("15:04")))
	c.w.enqueue(Job{Kind: jobRemind, Reminder: &r})
}

// command is the one command that posts role's update.
func (c *comms) command(role, as string) string {
	s := &c.w.s
	status := s.Status
	if status == "" {
		status = StatusInvestigating
	}
	cmd := fmt.Sprintf(`sitrep update %s --status %s --message "…" --as %s`, s.ID, status, as)
	if role != catalog.RoleComms {
		cmd = fmt.Sprintf(`sitrep update %s --role %s --message "…" --as %s`, s.ID, role, as)
	}
	return cmd
}

// validateUpdate checks a stakeholder update without touching state.
func (w *incident) validateUpdate(req UpdateRequest) error {
	if err := w.validateRun(req.Run); err != nil {
		return err
	}
	var problems []string
	if strings.TrimSpace(req.By) == "" {
		problems = append(problems, "who posts it is empty (--as)")
	}
	if strings.TrimSpace(req.Message) == "" {
		problems = append(problems, "message is empty: say what stakeholders should know, even that there is no news yet")
	}
	if req.Status != "" {
		i, cur := slices.Index(Statuses, req.Status), slices.Index(Statuses, w.s.Status)
		switch {
		case i < 0:
			problems = append(problems, fmt.Sprintf("status %q is not one of investigating, identified, monitoring", req.Status))
		case req.Status == StatusResolved:
			problems = append(problems, "status resolved is what `sitrep resolve` sends, with the final notice")
		case i < cur:
			problems = append(problems, fmt.Sprintf("status cannot go back from %s to %s", w.s.Status, req.Status))
		}
	}
	switch req.Audience {
	case "", AudienceBoth, AudienceInternal:
	case AudienceExternal:
		if w.s.Plan.Comms.InternalOnly {
			problems = append(problems, fmt.Sprintf("%s incidents are internal only: external audiences are not told", w.s.Severity))
		}
	default:
		problems = append(problems, fmt.Sprintf("audience %q is not internal, external or both", req.Audience))
	}
	if req.Role != "" && req.Role != catalog.RoleComms && !slices.ContainsFunc(w.s.Plan.Comms.Roles, func(r catalog.Role) bool { return r.Name == req.Role }) {
		problems = append(problems, fmt.Sprintf("role %q has no audience of its own (roles: %s)", req.Role, strings.Join(w.roleNames()[2:], ", ")))
	}
	if len(problems) > 0 {
		return temporal.NewApplicationError("update: "+strings.Join(problems, "; "), RejectInvalid)
	}
	if w.s.Phase == Resolved {
		return temporal.NewApplicationError("incident is resolved: the final notice went out", RejectWrongPhase)
	}
	return nil
}

// postUpdate records a stakeholder update, queues it and restarts its clock.
func (w *incident) postUpdate(ctx workflow.Context, req UpdateRequest) (UpdateResult, error) {
	if err := workflow.Await(ctx, func() bool { return w.routed }); err != nil {
		return UpdateResult{}, err
	}
	if err := w.validateUpdate(req); err != nil {
		return UpdateResult{}, err
	}
	if err := w.knownPeople(ctx, req.By); err != nil {
		return UpdateResult{}, err
	}
	// The lookup waited: the incident may have moved on meanwhile.
	if err := w.validateUpdate(req); err != nil {
		return UpdateResult{}, err
	}
	s, now := &w.s, workflow.Now(ctx)
	role := req.Role
	if role == catalog.RoleComms {
		role = ""
	}
	if req.Status != "" && role == "" {
		s.Status = req.Status
	}
	if s.Status == "" {
		s.Status = StatusInvestigating
	}
	if s.NoticeAt == nil {
		// The first word stakeholders hear, before the policy would have
		// sent it: it is the notice, and the clocks start with it.
		s.NoticeAt = &now
		w.cm.startClocks(now)
	} else if role == "" {
		w.cm.restart(catalog.RoleComms, now)
	} else {
		w.cm.startClock(role, now)
		w.cm.restart(role, now)
	}
	aud := req.Audience
	if aud == "" {
		aud = w.cm.audienceOf(role)
	}
	w.cm.record(ctx, UpdateRecord{At: now, Kind: string(activities.NoticeUpdate), By: req.By, Role: role, Status: s.Status,
		Audience: aud, Message: req.Message}, fmt.Sprintf("update (%s, %s) via %s: %s", s.Status, aud, orDefault(req.Channel, "cli"), truncate(req.Message, 200)))
	res := UpdateResult{At: now, Status: s.Status}
	if due := w.cm.due(orDefault(role, catalog.RoleComms)); !due.IsZero() {
		res.NextDue = &due
	}
	return res, nil
}

// orDefault is s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// destinations names where u goes: "status page", "email <group>", "war room".
func (c *comms) destinations(u UpdateRecord) []string {
	s := &c.w.s
	internal := u.Audience == AudienceInternal || u.Audience == AudienceBoth
	external := (u.Audience == AudienceExternal || u.Audience == AudienceBoth) && !s.Plan.Comms.InternalOnly
	var out []string
	if external && u.Role == "" && s.Plan.Comms.StatusPage {
		out = append(out, destStatusPage)
	}
	for _, g := range c.groupsFor(u.Role, internal, external) {
		out = append(out, destEmail+g)
	}
	if s.WarRoom != nil || c.w.rs.roomPending() {
		out = append(out, destRoom)
	}
	return out
}

// roomWait is how long an email notice waits for the war room opening with
// it, to carry its link.
const roomWait = 30 * time.Second

// Where a notice goes.
const (
	destStatusPage = "status page"
	destEmail      = "email "
	destRoom       = "war room"
)

// notice sends one stakeholder communication to one destination, and
// records whether it got there. Status page posts go in the order they were
// recorded: the notice that opens the status page incident comes first.
func (c *comms) notice(ctx workflow.Context, j Job) bool {
	s := &c.w.s
	u := s.Updates[j.Update]
	n := c.noticeOf(u, c.external(j.Dest))
	var err error
	switch {
	case j.Dest == destStatusPage:
		c.spPending = append(c.spPending, j.Update)
		defer func() {
			c.spPending = slices.DeleteFunc(c.spPending, func(i int) bool { return i == j.Update })
		}()
		if err := workflow.Await(ctx, func() bool {
			return !slices.ContainsFunc(c.spPending, func(i int) bool { return i < j.Update })
		}); err != nil {
			return false
		}
		if done, told := c.viaStory(ctx, j, u, n); told {
			return done
		}
		id := ""
		if s.StatusPage != nil {
			id = s.StatusPage.ID
		}
		var r activities.StatusPageResult
		err = workflow.ExecuteActivity(commsOptions(ctx, "status page: "+string(u.Status)), a.StatusPageNotice, n, id).Get(ctx, &r)
		if err == nil && s.StatusPage == nil && r.ID != "" {
			s.StatusPage = &StatusPageRef{ID: r.ID, URL: r.URL}
			c.w.rs.refresh()
		}
	case strings.HasPrefix(j.Dest, destEmail):
		g := strings.TrimPrefix(j.Dest, destEmail)
		if c.w.rs.roomPending() {
			// Insiders' notice carries the war room opening with it: a
			// moment's wait, never long.
			if _, err := workflow.AwaitWithTimeout(ctx, roomWait, func() bool { return !c.w.rs.roomPending() }); err != nil {
				return false
			}
			n = c.noticeOf(u, c.external(j.Dest))
		}
		if done, told := c.viaStory(ctx, j, u, n); told {
			return done
		}
		err = workflow.ExecuteActivity(commsOptions(ctx, j.Dest), a.EmailGroup, activities.GroupNotice{Notice: n, Group: g}).Get(ctx, nil)
	case j.Dest == destRoom:
		err = c.w.rs.postNow(ctx, roomLine(u))
	}
	if err != nil && ctx.Err() != nil {
		return false // cancelled before it got through: handed over
	}
	rec := &s.Updates[j.Update]
	if err != nil {
		rec.Failed = append(rec.Failed, j.Dest)
		c.w.event(ctx, "comms.failed", "", fmt.Sprintf("%s (%s) did not reach %s: %s", u.Kind, u.Status, j.Dest, rootMessage(err)))
		return true
	}
	rec.Sent = append(rec.Sent, j.Dest)
	return true
}

// viaStory hands a status page post or a group's email to its Story (see
// Story), which links it to the public story of its cause or folds it into
// the group's digest, and waits until the Story says how it went: the job
// stays in flight until then, so resolution hands it over like any notice
// under way, and the record says what was sent for this incident and
// where. told is false when no Story is configured: the caller sends.
func (c *comms) viaStory(ctx workflow.Context, j Job, u UpdateRecord, n activities.Notice) (done, told bool) {
	s := &c.w.s
	if strings.HasPrefix(j.Dest, destEmail) && s.Plan.Comms.UpdateWindow <= 0 {
		return false, false // no window: every email goes at once, as the incident sends it
	}
	// The key names the update by its index and its time: continue-as-new
	// trims a long record, and an index alone could then name two updates.
	sn := activities.StoryNotice{Key: fmt.Sprintf("%s/%d/%d/%s", IncidentRef(s.ID, s.Run), j.Update, u.At.UnixNano(), j.Dest),
		ReplyTo: workflow.GetInfo(ctx).WorkflowExecution.ID, Ref: IncidentRef(s.ID, s.Run), Update: j.Update, Dest: j.Dest,
		Window: s.Plan.Comms.UpdateWindow, Human: u.Kind == string(activities.NoticeUpdate) && u.By != "sitrep", Notice: n}
	if g, ok := strings.CutPrefix(j.Dest, destEmail); ok {
		sn.Group, sn.Audience = g, catalog.Internal
		if c.external(j.Dest) {
			sn.Audience = catalog.External
		}
	}
	var r activities.StoryReceipt
	err := workflow.ExecuteActivity(commsOptions(ctx, "tell the story: "+j.Dest), a.TellStory, sn).Get(ctx, &r)
	if err == nil && r.Story == "" {
		return false, false
	}
	var o StoryOutcome
	if err == nil {
		o, err = c.awaitOutcome(ctx, sn.Key)
	}
	if err != nil && ctx.Err() != nil {
		return false, true // cancelled before the Story answered: handed over
	}
	rec := &s.Updates[j.Update]
	switch {
	case err != nil:
		o.Error = rootMessage(err)
		fallthrough
	case !o.Delivered:
		rec.Failed = append(rec.Failed, j.Dest)
		c.w.event(ctx, "comms.failed", "", fmt.Sprintf("%s (%s) did not reach %s: %s", u.Kind, u.Status, j.Dest, o.Error))
		return true, true
	}
	rec.Sent = append(rec.Sent, orDefault(o.Sent, j.Dest))
	c.w.event(ctx, "comms.story", "", fmt.Sprintf("%s (%s): %s", u.Kind, u.Status, o.Detail))
	if o.StatusPage != nil && (s.StatusPage == nil || s.StatusPage.ID != o.StatusPage.ID) {
		ref := *o.StatusPage
		s.StatusPage = &ref
		c.w.rs.refresh()
	}
	return true, true
}

// awaitOutcome waits for the Story's answer about the notice key. Answers
// for other notices met on the way are kept for their jobs.
func (c *comms) awaitOutcome(ctx workflow.Context, key string) (StoryOutcome, error) {
	ch := workflow.GetSignalChannel(ctx, StoryOutcomeSignal)
	if c.told == nil {
		c.told = map[string]StoryOutcome{}
	}
	for {
		for {
			var o StoryOutcome
			if !ch.ReceiveAsync(&o) {
				break
			}
			c.told[o.Key] = o
		}
		if o, ok := c.told[key]; ok {
			delete(c.told, key)
			return o, nil
		}
		if err := workflow.Await(ctx, func() bool {
			_, ok := c.told[key]
			return ok || ch.Len() > 0
		}); err != nil {
			return StoryOutcome{}, err
		}
	}
}

// groupsFor names the stakeholder groups an update goes to: a sub-role's
// own groups, or the service's groups of the audiences it is for. External
// groups hear by email only when there is no status page.
func (c *comms) groupsFor(role string, internal, external bool) []string {
	p := c.w.s.Plan.Comms
	if role != "" {
		for _, r := range p.Roles {
			if r.Name == role {
				return slices.Clone(r.StakeholderGroups)
			}
		}
		return nil
	}
	var out []string
	for _, g := range p.Groups {
		switch {
		case g.Audience == catalog.Internal && internal:
			out = append(out, g.Name)
		case g.Audience == catalog.External && external && !p.StatusPage:
			out = append(out, g.Name)
		}
	}
	return out
}

// external: dest is read by an external audience: the status page, or an
// external stakeholder group's email.
func (c *comms) external(dest string) bool {
	if dest == destStatusPage {
		return true
	}
	g, ok := strings.CutPrefix(dest, destEmail)
	if !ok {
		return false
	}
	for _, gp := range c.w.s.Plan.Comms.Groups {
		if gp.Name == g {
			return gp.Audience != catalog.Internal
		}
	}
	// A sub-role's group the plan does not list: read as external, the
	// safer side.
	return true
}

// noticeOf is what the templates get for u. An external audience gets the
// public text of a mitigation or resolution instead of its note.
func (c *comms) noticeOf(u UpdateRecord, external bool) activities.Notice {
	s := &c.w.s
	msg := u.Message
	if external && (u.Kind == string(activities.NoticeMitigated) || u.Kind == string(activities.NoticeResolved)) {
		msg = u.Public
	}
	n := activities.Notice{IncidentID: s.ID, Ref: IncidentRef(s.ID, s.Run), Kind: activities.NoticeKind(u.Kind), Service: s.Service,
		Components: s.Plan.Comms.Components, Severity: s.Severity, Summary: s.Summary, Source: string(s.Source), Reporter: s.Reporter,
		Status: string(u.Status), Message: msg, OpenedAt: s.FirstSeen, At: u.At, Cadence: s.Plan.Comms.Cadence,
		Commander: c.w.rs.commander(), CommsLead: c.w.rs.holder(catalog.RoleComms)}
	if u.Next != nil {
		n.NextUpdate = *u.Next
	}
	if s.WarRoom != nil {
		n.Room, n.Bridge = s.WarRoom.URL, s.WarRoom.Bridge
	}
	if s.StatusPage != nil {
		n.StatusURL = s.StatusPage.URL
	}
	return n
}

// roomLine is how an update is echoed in the war room.
func roomLine(u UpdateRecord) string {
	who := u.By
	if u.Role != "" {
		who += " (" + u.Role + ")"
	}
	line := fmt.Sprintf("Stakeholder %s — %s, to %s, by %s", u.Kind, u.Status, u.Audience, who)
	if u.Message != "" {
		line += ": " + u.Message
	}
	if u.Next != nil {
		line += fmt.Sprintf(" (next update due %s)", u.Next.UTC().Format("15:04 UTC"))
	}
	return line
}

// sendReminder sends one reminder, and says whether it is done: false when
// stopped before it got through.
func (c *comms) sendReminder(ctx workflow.Context, j Job) bool {
	r := *j.Reminder
	var res activities.ReminderResult
	err := workflow.ExecuteActivity(boundedOptions(ctx, fmt.Sprintf("remind %s: %s", r.Person, r.Kind)), a.Remind, r).Get(ctx, &res)
	if err != nil && ctx.Err() == nil {
		c.w.event(ctx, "reminder.failed", r.Person, fmt.Sprintf("%s reminder did not reach %s: %s", r.Kind, r.Person, rootMessage(err)))
	}
	return err == nil || ctx.Err() == nil
}
