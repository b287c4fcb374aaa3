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

// The response part holds who runs the incident and where: the roles
// (commander, communications lead, the catalog's sub-roles) and the war
// room, a chat channel for responders only, with a video bridge and a
// summary message kept current by editing it. Responders are whoever
// acknowledged, answered a re-page or holds a role: never stakeholders,
// never the whole team.
type response struct {
	w *incident
	// roomJob: the war room's opening is queued or in flight.
	roomJob bool
}

func newResponse(w *incident) *response { return &response{w: w} }

// roleTitle is how a role reads.
func (w *incident) roleTitle(role string) string {
	switch role {
	case catalog.RoleCommander:
		return "Incident commander"
	case catalog.RoleComms:
		return "Communications lead"
	}
	for _, r := range w.s.Plan.Comms.Roles {
		if r.Name == role {
			return r.Title
		}
	}
	return role
}

// roleNames lists every role of this incident: commander, comms, then the sub-roles.
func (w *incident) roleNames() []string {
	out := []string{catalog.RoleCommander, catalog.RoleComms}
	for _, r := range w.s.Plan.Comms.Roles {
		out = append(out, r.Name)
	}
	return out
}

// holder is who holds role; "" when nobody does.
func (r *response) holder(role string) string {
	for _, h := range r.w.s.Roles {
		if h.Role == role {
			return h.Person
		}
	}
	return ""
}

// commander is the commander, or, with none, whoever acknowledged.
func (r *response) commander() string {
	if c := r.holder(catalog.RoleCommander); c != "" {
		return c
	}
	return r.w.s.AcknowledgedBy
}

// setRole gives role to person and returns who held it before.
func (r *response) setRole(ctx workflow.Context, role, person, by, why string) string {
	s := &r.w.s
	now := workflow.Now(ctx)
	h := RoleHolder{Role: role, Title: r.w.roleTitle(role), Person: person, Since: now, By: by}
	prev := ""
	if i := slices.IndexFunc(s.Roles, func(h RoleHolder) bool { return h.Role == role }); i >= 0 {
		prev = s.Roles[i].Person
		s.Roles[i] = h
	} else {
		s.Roles = append(s.Roles, h)
	}
	text := fmt.Sprintf("%s: %s", h.Title, person)
	if prev != "" {
		text += fmt.Sprintf(" (was %s)", prev)
	}
	if why != "" {
		text += ": " + why
	}
	r.w.event(ctx, "role", orDefault(by, "sitrep"), text)
	if role != catalog.RoleCommander && role != catalog.RoleComms {
		r.w.cm.startClock(role, now)
	}
	r.post(text)
	r.joined(ctx)
	return prev
}

// acknowledged makes the first acknowledger commander, unless someone
// already is.
func (r *response) acknowledged(ctx workflow.Context, person string) {
	if r.holder(catalog.RoleCommander) == "" {
		r.setRole(ctx, catalog.RoleCommander, person, "", "the first to acknowledge")
	}
}

// responders are the people the war room is for, in the order they joined.
func (r *response) responders() []string {
	s := &r.w.s
	var out []string
	add := func(p string) {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	add(s.AcknowledgedBy)
	for _, h := range s.Roles {
		add(h.Person)
	}
	for _, e := range s.Timeline {
		if e.Kind == "answered" || e.Kind == "acknowledged" {
			add(e.Actor)
		}
	}
	return out
}

// requestRoom queues the war room's opening, once.
func (r *response) requestRoom(ctx workflow.Context) {
	s := &r.w.s
	if s.WarRoom != nil || r.roomJob || s.RoomFailed != "" {
		return
	}
	r.roomJob = true
	r.w.enqueue(Job{Kind: jobRoom})
}

// roomPending: the war room is being opened.
func (r *response) roomPending() bool { return r.roomJob }

// joined invites responders not yet in the open war room.
func (r *response) joined(ctx workflow.Context) {
	s := &r.w.s
	if s.WarRoom == nil || s.WarRoom.Channel == "" {
		return
	}
	for _, p := range r.responders() {
		if !slices.Contains(s.WarRoom.Invited, p) {
			r.w.enqueue(Job{Kind: jobInvite})
			return
		}
	}
}

// post queues a line for the war room, when there is or will be one.
func (r *response) post(text string) {
	if r.w.s.WarRoom == nil && !r.roomJob {
		return
	}
	r.w.enqueue(Job{Kind: jobPost, Text: text})
	r.refresh()
}

// refresh queues an edit of the war room's summary, when it has one.
func (r *response) refresh() {
	s := &r.w.s
	if s.WarRoom == nil || s.WarRoom.Summary == "" {
		return
	}
	if r.w.cm.summaryBusy {
		r.w.cm.summaryDirty = true
		return
	}
	if !slices.ContainsFunc(r.w.queue, func(j Job) bool { return j.Kind == jobSummary }) {
		r.w.enqueue(Job{Kind: jobSummary})
	}
}

// roomOptions: war room calls are retried like notices; not configured ends them.
func roomOptions(ctx workflow.Context, summary string) workflow.Context {
	return commsOptions(ctx, summary)
}

// openRoom creates the war room and its bridge, invites the responders and
// posts the summary.
func (r *response) openRoom(ctx workflow.Context) {
	s := &r.w.s
	defer func() { r.roomJob = false }()
	var res activities.RoomResult
	in := activities.RoomInput{IncidentID: s.ID, Ref: IncidentRef(s.ID, s.Run), Name: s.Plan.Comms.RoomName,
		Topic: truncate(fmt.Sprintf("%s %s: %s", s.Severity, s.Service, s.Summary), 200)}
	if err := workflow.ExecuteActivity(boundedOptions(ctx, "open war room "+in.Name), a.OpenRoom, in).Get(ctx, &res); err != nil {
		if ctx.Err() == nil {
			s.RoomFailed = rootMessage(err)
			r.w.event(ctx, "room.failed", "", "no war room: "+s.RoomFailed)
		}
		return
	}
	s.WarRoom = &WarRoom{Platform: res.Platform, Channel: res.Channel, Name: in.Name, URL: res.URL, Bridge: res.Bridge,
		OpenedAt: workflow.Now(ctx), Invited: []string{}}
	text := fmt.Sprintf("war room %s opened on %s", in.Name, res.Platform)
	if res.Bridge != "" {
		text += "; bridge " + res.Bridge
	}
	r.w.event(ctx, "room", "", text)
	for _, p := range res.Problems {
		r.w.event(ctx, "room.failed", "", p)
	}
	if res.Channel != "" {
		r.invite(ctx)
	}
	id, err := r.send(ctx, activities.RoomPost{IncidentID: s.ID, Channel: res.Channel, Text: r.summary()})
	if err == nil && res.Channel != "" {
		s.WarRoom.Summary = id
	}
}

// invite invites every responder not yet in the room, and says whether it
// is done: false when stopped before it got through.
func (r *response) invite(ctx workflow.Context) bool {
	s := &r.w.s
	if s.WarRoom == nil || s.WarRoom.Channel == "" {
		return true
	}
	var people []string
	for _, p := range r.responders() {
		if !slices.Contains(s.WarRoom.Invited, p) {
			people = append(people, p)
		}
	}
	if len(people) == 0 {
		return true
	}
	// Counted in before the call: a second invite queued meanwhile asks for
	// nobody twice.
	s.WarRoom.Invited = append(s.WarRoom.Invited, people...)
	var res activities.InviteResult
	err := workflow.ExecuteActivity(boundedOptions(ctx, "invite "+strings.Join(people, ", ")), a.InviteToRoom,
		activities.InviteInput{Channel: s.WarRoom.Channel, People: people}).Get(ctx, &res)
	if err != nil {
		// Not invited: a later invitation (or the next run's) asks again.
		s.WarRoom.Invited = slices.DeleteFunc(s.WarRoom.Invited, func(p string) bool { return slices.Contains(people, p) })
		if ctx.Err() != nil {
			return false
		}
		r.w.event(ctx, "room.failed", "", fmt.Sprintf("could not invite %s: %s", strings.Join(people, ", "), rootMessage(err)))
		return true
	}
	if len(res.Invited) > 0 {
		r.w.event(ctx, "room.invited", "", "invited "+strings.Join(res.Invited, ", "))
	}
	if len(res.Missing) > 0 {
		r.w.event(ctx, "room.failed", "", fmt.Sprintf("%s ha(s) no chat user in the catalog: not invited", strings.Join(res.Missing, ", ")))
	}
	return true
}

// postNow posts a line in the war room, waiting for it to open.
func (r *response) postNow(ctx workflow.Context, text string) error {
	if err := workflow.Await(ctx, func() bool { return !r.roomJob }); err != nil {
		return err
	}
	s := &r.w.s
	if s.WarRoom == nil {
		return temporal.NewApplicationError("no war room", activities.ErrNotConfigured)
	}
	_, err := r.send(ctx, activities.RoomPost{IncidentID: s.ID, Channel: s.WarRoom.Channel, Text: text})
	return err
}

func (r *response) send(ctx workflow.Context, p activities.RoomPost) (string, error) {
	var id string
	what := "post to war room"
	if p.Edit != "" {
		what = "update war room summary"
	}
	err := workflow.ExecuteActivity(commsOptions(ctx, what), a.PostToRoom, p).Get(ctx, &id)
	if err != nil && ctx.Err() == nil {
		r.w.event(ctx, "room.failed", "", fmt.Sprintf("could not %s: %s", what, rootMessage(err)))
	}
	return id, err
}

// postJob echoes one line; false when cancelled before it got through.
func (r *response) postJob(ctx workflow.Context, j Job) bool {
	return r.postNow(ctx, j.Text) == nil || ctx.Err() == nil
}

// summaryJob edits the summary to the incident as it is now; a change made
// while the edit was in flight gets one more edit.
func (r *response) summaryJob(ctx workflow.Context) bool {
	c := r.w.cm
	s := &r.w.s
	if s.WarRoom == nil || s.WarRoom.Summary == "" {
		return true
	}
	c.summaryBusy = true
	defer func() {
		c.summaryBusy = false
		if c.summaryDirty {
			c.summaryDirty = false
			r.refresh()
		}
	}()
	_, err := r.send(ctx, activities.RoomPost{IncidentID: s.ID, Channel: s.WarRoom.Channel, Text: r.summary(), Edit: s.WarRoom.Summary})
	return err == nil || ctx.Err() == nil
}

// summary is the war room's summary message.
func (r *response) summary() string {
	s := &r.w.s
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s · %s · %s\n%s\n", s.Severity, s.Service, strings.ToUpper(string(s.Phase)), orDefault(string(s.Status), "stakeholders not told yet"), s.Summary)
	for _, role := range r.w.roleNames() {
		fmt.Fprintf(&b, "%s: %s\n", r.w.roleTitle(role), orDefault(r.holder(role), "unassigned"))
	}
	if s.WarRoom != nil && s.WarRoom.Bridge != "" {
		fmt.Fprintf(&b, "Bridge: %s\n", s.WarRoom.Bridge)
	}
	if s.StatusPage != nil && s.StatusPage.URL != "" {
		fmt.Fprintf(&b, "Status page: %s\n", s.StatusPage.URL)
	}
	if s.NextUpdateDue != nil {
		fmt.Fprintf(&b, "Next stakeholder update due: %s\n", s.NextUpdateDue.UTC().Format("15:04 UTC"))
	}
	fmt.Fprintf(&b, "Post an update: /sitrep update --status <status> <message>   Roles: /sitrep role <role> <person>")
	return b.String()
}

// unfilledAt is when the commander is reminded of roles nobody holds.
func (r *response) unfilledAt() (time.Time, bool) {
	s := &r.w.s
	after := s.Plan.Comms.RoleUnfilledAfter
	// With nobody to remind yet, it waits for the first acknowledgment.
	if after <= 0 || s.RolesReminded || s.Phase == Mitigated || s.Phase == Resolved || len(r.unfilled()) == 0 || r.commander() == "" {
		return time.Time{}, false
	}
	return s.FirstSeen.Add(after), true
}

// unfilled lists the roles nobody holds.
func (r *response) unfilled() []string {
	var out []string
	for _, role := range r.w.roleNames() {
		if r.holder(role) == "" {
			out = append(out, role)
		}
	}
	return out
}

// advance reminds of unfilled roles once they are due.
func (r *response) advance(ctx workflow.Context, now time.Time) {
	s := &r.w.s
	at, ok := r.unfilledAt()
	if !ok || now.Before(at) {
		return
	}
	s.RolesReminded = true
	roles := r.unfilled()
	to := r.commander()
	r.w.event(ctx, "reminder", to, fmt.Sprintf("roles unfilled after %s: %s", s.Plan.Comms.RoleUnfilledAfter, strings.Join(roles, ", ")))
	rem := activities.Reminder{IncidentID: s.ID, Ref: IncidentRef(s.ID, s.Run), Kind: activities.ReminderRole, Person: to,
		Service: s.Service, Severity: s.Severity, Summary: s.Summary, Role: strings.Join(roles, ", "), Due: at,
		Command: fmt.Sprintf("sitrep role %s --role %s --person PERSON --as %s", s.ID, roles[0], to)}
	if s.WarRoom != nil {
		rem.Room = s.WarRoom.URL
	}
	r.w.enqueue(Job{Kind: jobRemind, Reminder: &rem})
}

// knownPeople refuses handles the catalog does not have; responders and
// role holders need no lookup.
func (w *incident) knownPeople(ctx workflow.Context, people ...string) error {
	var ask []string
	for _, p := range people {
		if !w.isResponder(p) && !slices.ContainsFunc(w.s.Roles, func(h RoleHolder) bool { return h.Person == p }) {
			ask = append(ask, p)
		}
	}
	if len(ask) == 0 {
		return nil
	}
	var unknown []string
	lctx := lookupOptions(ctx, "check "+strings.Join(ask, ", "))
	if err := workflow.ExecuteLocalActivity(lctx, unknownPeopleActivity, ask).Get(ctx, &unknown); err != nil {
		return temporal.NewApplicationError("cannot check the catalog: "+rootMessage(err), RejectInvalid)
	}
	if len(unknown) > 0 {
		return temporal.NewApplicationError(fmt.Sprintf("%s not in the catalog", strings.Join(unknown, ", ")), RejectUnknownResponder)
	}
	return nil
}

// validateRole checks a role assignment without touching state.
func (w *incident) validateRole(req RoleRequest) error {
	if err := w.validateRun(req.Run); err != nil {
		return err
	}
	var problems []string
	if !slices.Contains(w.roleNames(), req.Role) {
		problems = append(problems, fmt.Sprintf("unknown role %q (roles: %s)", req.Role, strings.Join(w.roleNames(), ", ")))
	}
	if strings.TrimSpace(req.Person) == "" {
		problems = append(problems, "person is empty")
	}
	if strings.TrimSpace(req.By) == "" {
		problems = append(problems, "who assigns it is empty (--as)")
	}
	if len(problems) > 0 {
		return temporal.NewApplicationError("role: "+strings.Join(problems, "; "), RejectInvalid)
	}
	if w.s.Phase == Resolved {
		return temporal.NewApplicationError("incident is resolved: roles are final", RejectWrongPhase)
	}
	return nil
}

// assignRole gives a role to a person the catalog knows.
func (w *incident) assignRole(ctx workflow.Context, req RoleRequest) (RoleResult, error) {
	if err := workflow.Await(ctx, func() bool { return w.routed }); err != nil {
		return RoleResult{}, err
	}
	if err := w.validateRole(req); err != nil {
		return RoleResult{}, err
	}
	if err := w.knownPeople(ctx, req.Person, req.By); err != nil {
		return RoleResult{}, err
	}
	// The lookup waited: the incident may have resolved meanwhile.
	if err := w.validateRole(req); err != nil {
		return RoleResult{}, err
	}
	if w.rs.holder(req.Role) == req.Person {
		h := w.s.Roles[slices.IndexFunc(w.s.Roles, func(h RoleHolder) bool { return h.Role == req.Role })]
		return RoleResult{Role: req.Role, Person: req.Person, At: h.Since}, nil
	}
	prev := w.rs.setRole(ctx, req.Role, req.Person, req.By, "via "+orDefault(req.Channel, "cli"))
	return RoleResult{Role: req.Role, Person: req.Person, Previous: prev, At: workflow.Now(ctx)}, nil
}
