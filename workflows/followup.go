package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // the team's zone, even on a worker without zone data

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
)

// FollowUpID is the workflow ID of an incident's weekly follow-up.
func FollowUpID(ref string) string { return "followup-" + ref }

// FollowUpSchedule is when the weekly follow-up runs: a weekday and a time
// of day in Zone (the team's). Every, when set, replaces the weekly
// schedule with a fixed interval: for drills and the benchmark.
type FollowUpSchedule struct {
	Day    time.Weekday  `json:"day"`
	Hour   int           `json:"hour"`
	Minute int           `json:"minute"`
	Zone   string        `json:"zone"`
	Every  time.Duration `json:"every,omitempty"`
}

// FollowItem is an action item as the follow-up knows it.
type FollowItem struct {
	ActionItem
	Status   string     `json:"status,omitempty"`   // the tracker's status name
	Category string     `json:"category,omitempty"` // new, indeterminate, done
	Problem  string     `json:"problem,omitempty"`  // why the last read failed
	DoneAt   *time.Time `json:"doneAt,omitempty"`
	// Unread counts the weeks in a row its ticket could not be read or filed.
	Unread int `json:"unread,omitempty"`
	// Lost says why the follow-up no longer follows the item: its ticket
	// is gone, there is no tracker, or the tracker could not be read for
	// maxUnreadWeeks weeks in a row. Empty while it is followed.
	Lost string `json:"lost,omitempty"`
}

// maxUnreadWeeks is how many weeks in a row an item's ticket may go
// unread (the tracker did not answer, or refused) before the follow-up
// stops following it: a month covers an outage or a renewed API token,
// and no follow-up sends digests of unknowns for ever.
const maxUnreadWeeks = 4

// FollowUpState is everything the follow-up carries: its input, what the
// state query returns, and what it continues as new with.
type FollowUpState struct {
	Ref           string    `json:"ref"`
	IncidentID    string    `json:"incidentId"`
	Service       string    `json:"service"`
	Team          string    `json:"team"`
	Summary       string    `json:"summary"`
	PostmortemKey string    `json:"postmortemKey,omitempty"`
	Managers      []string  `json:"managers"`
	PlanManagers  []string  `json:"planManagers"`
	People        []string  `json:"people,omitempty"` // known handles, to check owners of added items
	Resolved      time.Time `json:"resolved"`
	// Commander owns the post-mortem: told when items can no longer be followed.
	Commander string           `json:"commander,omitempty"`
	Schedule  FollowUpSchedule `json:"schedule"`
	// ContinueEvery is how many weeks a run covers before continuing as new.
	ContinueEvery int          `json:"continueEvery"`
	Items         []FollowItem `json:"items"`
	Phase         string       `json:"phase"`
	Week          int          `json:"week"` // digests sent, over every run
	Runs          int          `json:"runs"` // runs before this one
	NextAt        time.Time    `json:"nextAt"`
	// Recent is the latest of the follow-up's own events; older ones are
	// in earlier runs' histories.
	Recent []Event `json:"recent"`
}

// maxRecent bounds the events a follow-up carries across continue-as-new.
const maxRecent = 30

// followUp is the follow-up workflow's state and what its handlers share.
type followUp struct {
	s   FollowUpState
	log interface{ Info(string, ...any) }
	// mu lets one thing at a time change the items across an activity:
	// an add filing its item, or the week filing and reading. Two adds
	// racing each other each get their ticket, recorded on their item.
	mu workflow.Mutex
	// lostNow are the items found unfollowable since the commander was
	// last told.
	lostNow []int
}

// FollowUp chases an incident's action items every week, at the team's
// weekday and time, until every one is done: it reads each ticket's status,
// sends owners and managers a digest (open, overdue, done since last week)
// and reminds owners of overdue items; when all are done it sends a final
// notice and ends. An item it cannot follow (its ticket deleted, no tracker
// configured, or its ticket unread maxUnreadWeeks weeks in a row) is
// dropped with a note to the commander naming it and why; once nothing is
// left to follow, the follow-up ends. It continues as new every
// ContinueEvery weeks, carrying its state, once every update in flight has
// finished, so a year of weeks keeps each run small and no added item is lost.
func FollowUp(ctx workflow.Context, in FollowUpState) (FollowUpState, error) {
	f := &followUp{s: in, log: workflow.GetLogger(ctx), mu: workflow.NewMutex(ctx)}
	if f.s.ContinueEvery <= 0 {
		f.s.ContinueEvery = 8
	}
	if f.s.Items == nil {
		f.s.Items = []FollowItem{}
	}
	if err := workflow.SetQueryHandler(ctx, StateQuery, func() (FollowUpState, error) { return f.s, nil }); err != nil {
		return f.s, fmt.Errorf("register state query: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, AddActionUpdate, f.add, workflow.UpdateHandlerOptions{
		Validator: f.validateAdd, Description: "Add an action item: filed as a ticket and followed up with the rest"}); err != nil {
		return f.s, fmt.Errorf("register %s: %w", AddActionUpdate, err)
	}
	f.setPhase(ctx, FollowingUp)
	stop := false
	if f.s.Runs == 0 && f.s.Week == 0 && slices.ContainsFunc(f.s.Items, func(it FollowItem) bool { return it.Ticket == "" }) {
		// What the post-incident workflow could not file is tried at once:
		// with no tracker at all, the commander hears now, not in a week.
		var err error
		if stop, err = f.locked(ctx, func(ctx workflow.Context) bool {
			f.fileMissing(ctx)
			return f.settle(ctx)
		}); err != nil {
			return f.s, err
		}
	}
	for weeks := 0; !stop; weeks++ {
		if weeks >= f.s.ContinueEvery || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			// Every add in flight finishes (its ticket filed) before the
			// state is handed over, so none is lost.
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return f.s, err
			}
			f.s.Runs++
			return f.s, workflow.NewContinueAsNewError(ctx, FollowUp, f.s)
		}
		// A side effect: the zone's rules come from the worker's time zone
		// data, which a replay on another worker must not recompute.
		now := workflow.Now(ctx)
		if err := workflow.SideEffect(ctx, func(workflow.Context) any { return f.next(now) }).Get(&f.s.NextAt); err != nil {
			return f.s, err
		}
		workflow.SetCurrentDetails(ctx, f.details())
		if err := workflow.NewTimerWithOptions(ctx, f.s.NextAt.Sub(workflow.Now(ctx)),
			workflow.TimerOptions{Summary: "weekly follow-up"}).Get(ctx, nil); err != nil {
			return f.s, err
		}
		var err error
		if stop, err = f.locked(ctx, f.week); err != nil {
			return f.s, err
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return f.s, err
	}
	f.setPhase(ctx, Closed)
	return f.s, nil
}

// next is the next follow-up time after now: the schedule's weekday and
// time in the team's zone, or now+Every.
func (f *followUp) next(now time.Time) time.Time {
	sc := f.s.Schedule
	if sc.Every > 0 {
		return now.Add(sc.Every)
	}
	loc, err := time.LoadLocation(sc.Zone)
	if err != nil {
		loc = time.UTC
	}
	t := now.In(loc)
	for d := 0; d <= 7; d++ {
		day := t.AddDate(0, 0, d)
		at := time.Date(day.Year(), day.Month(), day.Day(), sc.Hour, sc.Minute, 0, 0, loc)
		if at.Weekday() == sc.Day && at.After(now) {
			return at
		}
	}
	return now.Add(7 * 24 * time.Hour)
}

// locked runs fn holding f.mu.
func (f *followUp) locked(ctx workflow.Context, fn func(workflow.Context) bool) (bool, error) {
	if err := f.mu.Lock(ctx); err != nil {
		return false, err
	}
	defer f.mu.Unlock()
	return fn(ctx), nil
}

// week runs one follow-up: files what has no ticket yet, reads every
// ticket, sends the digest, and tells the commander of items it can no
// longer follow. It reports whether nothing is left to follow.
func (f *followUp) week(ctx workflow.Context) bool {
	f.s.Week++
	f.fileMissing(ctx)
	var followed []int
	var keys []string
	for i, it := range f.s.Items {
		if it.Lost == "" {
			followed = append(followed, i)
			keys = append(keys, it.Ticket)
		}
	}
	var states []activities.TicketState
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		// It reports each ticket's failure itself; these retries only
		// cover a worker lost mid-read.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 10 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 3},
		Summary:     fmt.Sprintf("read %d ticket(s)", len(keys)),
	})
	if err := workflow.ExecuteActivity(actx, a.TicketStatuses, keys).Get(ctx, &states); err != nil {
		states = make([]activities.TicketState, len(keys))
		for i := range states {
			states[i] = activities.TicketState{Key: keys[i], Problem: "the tracker could not be read: " + rootMessage(err),
				Cause: activities.TicketUnreachable}
		}
	}
	now := workflow.Now(ctx)
	today := now.In(f.loc()).Format(time.DateOnly)
	n := activities.DigestNotice{Ref: f.s.Ref, IncidentID: f.s.IncidentID, Service: f.s.Service, Summary: f.s.Summary,
		Week: f.s.Week, At: now}
	var owners []string
	for j, i := range followed {
		it := &f.s.Items[i]
		st := activities.TicketState{Problem: "not read", Cause: activities.TicketUnreachable}
		if j < len(states) {
			st = states[j]
		}
		wasDone := it.Category == "done"
		it.Problem = st.Problem
		switch {
		case st.Problem == "":
			it.Status, it.Category, it.Unread = st.Name, st.Category, 0
		case wasDone:
			// Done is done: an unreadable ticket does not undo it.
		case st.Cause == activities.TicketGone || st.Cause == activities.TicketNoTracker:
			f.lose(i, st.Problem)
		default:
			it.Unread++
			if it.Unread >= maxUnreadWeeks {
				f.lose(i, fmt.Sprintf("its ticket could not be filed or read for %d weeks in a row (last: %s)", it.Unread, st.Problem))
			}
		}
		d := activities.DigestItem{ActionItem: it.ActionItem, Status: it.Status, Category: it.Category, Problem: it.Problem}
		if it.Category == "done" && !wasDone {
			it.DoneAt = &now
			d.DoneNow = true
		}
		if it.Category != "done" {
			d.Overdue = it.Problem == "" && it.Due < today
			if d.Status == "" {
				d.Status = "status unknown"
			}
		}
		n.Items = append(n.Items, d)
		owners = append(owners, it.Owner)
	}
	open, lost := f.count()
	if open > 0 || lost == 0 {
		// The last digest says all is done; with items lost, the
		// commander's note below ends the follow-up instead.
		n.Final = open == 0
		n.People = append(append(owners, f.s.Managers...), f.s.PlanManagers...)
		var r activities.DigestResult
		if err := workflow.ExecuteActivity(mailOptions(ctx, fmt.Sprintf("week %d digest", f.s.Week)), a.SendDigest, n).Get(ctx, &r); err != nil {
			f.event(ctx, "digest.failed", "", fmt.Sprintf("week %d digest not sent: %s", f.s.Week, rootMessage(err)))
		} else {
			f.event(ctx, "digest.sent", "", fmt.Sprintf("week %d: %d open, %d overdue, %d done this week, %d unreadable; sent to %d, %d reminded",
				f.s.Week, len(n.Open()), len(n.Overdue()), len(n.DoneThisWeek()), len(n.Problems()), len(r.Sent), len(r.Reminded)))
		}
	}
	return f.settle(ctx)
}

// count returns how many items are still open and followed, and how many
// are no longer followed.
func (f *followUp) count() (open, lost int) {
	for _, it := range f.s.Items {
		switch {
		case it.Lost != "":
			lost++
		case it.Category != "done":
			open++
		}
	}
	return open, lost
}

// lose stops following item i, for why.
func (f *followUp) lose(i int, why string) {
	f.s.Items[i].Lost = why
	f.lostNow = append(f.lostNow, i)
}

// fileMissing files each followed item that has no ticket yet; with no
// tracker configured, the item cannot be followed.
func (f *followUp) fileMissing(ctx workflow.Context) {
	for i := range f.s.Items {
		if f.s.Items[i].Ticket != "" || f.s.Items[i].Lost != "" {
			continue
		}
		var app *temporal.ApplicationError
		if err := f.file(ctx, i); errors.As(err, &app) && app.Type() == activities.ErrNotConfigured {
			f.lose(i, "no issue tracker is configured: sitrep can neither file nor read its ticket")
		}
	}
}

// settle tells the commander of the items lost since last told, and
// reports whether nothing is left to follow; then the note says the
// follow-up ends, and names every item it could not follow.
func (f *followUp) settle(ctx workflow.Context) bool {
	open, lost := f.count()
	end := open == 0 && lost > 0
	if len(f.lostNow) == 0 && !end {
		return open == 0
	}
	var b strings.Builder
	var named []int
	if end {
		fmt.Fprintf(&b, "sitrep has stopped following up the action items of incident %s (%s: %s): %d of %d are done, and the rest can no longer be followed.\n\n",
			f.s.IncidentID, f.s.Service, f.s.Summary, len(f.s.Items)-lost, len(f.s.Items))
		for i, it := range f.s.Items {
			if it.Lost != "" {
				named = append(named, i)
			}
		}
	} else {
		fmt.Fprintf(&b, "sitrep no longer follows up these action items of incident %s (%s: %s); the weekly follow-up goes on with the rest.\n\n",
			f.s.IncidentID, f.s.Service, f.s.Summary)
		named = f.lostNow
	}
	var ids []string
	for _, i := range named {
		it := f.s.Items[i]
		fmt.Fprintf(&b, "- %s %s (%s): %s\n", orDefault(it.Ticket, "(no ticket)"), it.Title, it.Owner, it.Lost)
		ids = append(ids, it.ID)
	}
	fmt.Fprintf(&b, "\nTrack them another way, or add them again once the tracker works:\n  sitrep actions add %s --title ... --owner ... --due ... --as YOU", f.s.IncidentID)
	f.lostNow = nil
	who := []string{f.s.Commander}
	if f.s.Commander == "" {
		who = f.s.Managers
	}
	subject := fmt.Sprintf("Action items of incident %s no longer followed: %s", f.s.IncidentID, strings.Join(ids, ", "))
	sent := "told " + strings.Join(who, ", ")
	var r activities.PeopleResult
	if err := workflow.ExecuteActivity(mailOptions(ctx, "items no longer followed: "+strings.Join(who, ", ")), a.NotifyPeople, activities.PeopleNotice{
		Ref: f.s.Ref, IncidentID: f.s.IncidentID, Kind: "followup-stopped", People: who, Subject: subject, Text: b.String()}).Get(ctx, &r); err != nil {
		sent = "note not sent: " + rootMessage(err)
	}
	kind, text := "items.lost", fmt.Sprintf("no longer followed: %s; %s", strings.Join(ids, ", "), sent)
	if end {
		kind, text = "followup.stopped", fmt.Sprintf("nothing left to follow (%s no longer followed); %s", strings.Join(ids, ", "), sent)
	}
	f.event(ctx, kind, "", text)
	return open == 0
}

func (f *followUp) loc() *time.Location {
	loc, err := time.LoadLocation(f.s.Schedule.Zone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// file files item i's ticket; a failure leaves it for next week. The key
// is written by index once filed: the item list may have grown meanwhile.
func (f *followUp) file(ctx workflow.Context, i int) error {
	it := f.s.Items[i].ActionItem
	var t activities.TicketRef
	err := workflow.ExecuteActivity(trackerOptions(ctx, "ticket for "+it.ID), a.FileTicket, activities.TicketRequest{
		Ref: f.s.Ref, IncidentID: f.s.IncidentID, Service: f.s.Service, Summary: f.s.Summary, Item: it, PostmortemKey: f.s.PostmortemKey}).Get(ctx, &t)
	if err != nil {
		f.event(ctx, "ticket.failed", "", fmt.Sprintf("no ticket for %s yet: %s", it.ID, rootMessage(err)))
		return err
	}
	f.s.Items[i].Ticket, f.s.Items[i].URL = t.Key, t.URL
	f.event(ctx, "ticket.filed", "", fmt.Sprintf("%s filed as %s", it.ID, t.Key))
	return nil
}

func (f *followUp) validateAdd(_ workflow.Context, r AddActionRequest) error {
	if f.s.Phase == Closed {
		return reject(RejectWrongPhase, "the follow-up is closed")
	}
	known := func(h string) bool { return len(f.s.People) == 0 || slices.Contains(f.s.People, h) }
	if err := activities.ValidateItem(r.Item, known, f.s.Resolved); err != nil {
		return reject(RejectInvalid, err.Error())
	}
	return nil
}

// add files the item's ticket at once and tells the people who plan work.
// Adds take turns, with each other and with the week's reading: each
// numbers its item after the last and records its own ticket.
func (f *followUp) add(ctx workflow.Context, r AddActionRequest) (AddActionResult, error) {
	if err := f.mu.Lock(ctx); err != nil {
		return AddActionResult{}, err
	}
	defer f.mu.Unlock()
	it := r.Item
	n := 0
	for _, x := range f.s.Items {
		if strings.HasPrefix(x.ID, "L") {
			n++
		}
	}
	it.ID = fmt.Sprintf("L%d", n+1)
	if it.Priority == "" {
		it.Priority = activities.DefaultPriority
	}
	// Appended before filing: a continue-as-new waits for this handler, and
	// a ticket the tracker refuses now is filed next week.
	f.s.Items = append(f.s.Items, FollowItem{ActionItem: it})
	i := len(f.s.Items) - 1
	f.event(ctx, "action.added", r.By, fmt.Sprintf("action item %s added: %s (owner %s)", it.ID, it.Title, it.Owner))
	_ = f.file(ctx, i) // recorded; the week files what is still missing
	it = f.s.Items[i].ActionItem
	people := f.s.PlanManagers
	if len(people) == 0 {
		people = f.s.Managers
	}
	var res activities.PeopleResult
	if err := workflow.ExecuteActivity(mailOptions(ctx, "added action item to product and project managers"), a.SendActionList,
		activities.ActionListNotice{Ref: f.s.Ref, IncidentID: f.s.IncidentID, Service: f.s.Service, Summary: f.s.Summary,
			People: people, Items: []ActionItem{it}, Added: true}).Get(ctx, &res); err != nil {
		f.event(ctx, "actions.unsent", "", "added item not announced: "+rootMessage(err))
	}
	return AddActionResult{Item: it}, nil
}

func (f *followUp) event(ctx workflow.Context, kind, actor, text string) {
	f.s.Recent = append(f.s.Recent, Event{At: workflow.Now(ctx), Kind: kind, Actor: actor, Text: text})
	if len(f.s.Recent) > maxRecent {
		f.s.Recent = slices.Clone(f.s.Recent[len(f.s.Recent)-maxRecent:])
	}
}

func (f *followUp) setPhase(ctx workflow.Context, phase string) {
	f.s.Phase = phase
	if err := workflow.UpsertTypedSearchAttributes(ctx, PostPhaseAttr.ValueSet(phase), ServiceAttr.ValueSet(f.s.Service),
		TeamAttr.ValueSet(f.s.Team)); err != nil {
		f.log.Info("search attributes not updated", "ref", f.s.Ref, "error", err)
	}
	workflow.SetCurrentDetails(ctx, f.details())
}

func (f *followUp) details() string {
	var b strings.Builder
	done := 0
	for _, it := range f.s.Items {
		if it.Category == "done" {
			done++
		}
	}
	fmt.Fprintf(&b, "**%s** · %s · team %s\n\n%s\n\n", strings.ToUpper(f.s.Phase), f.s.Service, f.s.Team, MarkdownText(f.s.Summary))
	fmt.Fprintf(&b, "Action items: %d of %d done · week %d · run %d\n\n", done, len(f.s.Items), f.s.Week, f.s.Runs+1)
	if f.s.Phase != Closed {
		fmt.Fprintf(&b, "Next follow-up: %s", f.s.NextAt.UTC().Format(time.RFC3339))
	}
	return b.String()
}
