package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
)

// pmCatalog: alice commands; rita (PR) and mia (manager) approve for team
// pay; pat plans the work; zed is nobody's approver.
const pmCatalog = `
catch_all: pay
people:
  - handle: alice
    name: Alice Archer
    timezone: Europe/Berlin
    contacts: [{email: alice@example.com}]
  - handle: bob
    contacts: [{email: bob@example.com}]
  - handle: mia
    contacts: [{email: mia@example.com}]
  - handle: rita
    contacts: [{email: rita@example.com}]
  - handle: pat
    contacts: [{email: pat@example.com}]
  - handle: zed
    contacts: [{email: zed@example.com}]
teams:
  - name: pay
    policy: pay-policy
    members: [alice, bob]
    managers: [mia]
    product_managers: [pat]
    approvers: [rita, mia]
services:
  - name: checkout
    team: pay
    tier: 1
    stakeholder_groups: [customers, staff]
    status_page_components: [Checkout]
escalation_policies:
  - name: pay-policy
    levels:
      - targets: [{person: alice}]
        delay: 5m
severities:
  SEV1: {channels: {1: [email], 2: [email], 3: [email]}, update_cadence: 30m}
  SEV2: {channels: {1: [email], 2: [email], 3: [email]}, update_cadence: 1h}
  SEV3: {channels: {1: [email], 2: [email], 3: [email]}, update_cadence: 4h}
  SEV4: {channels: {1: [email], 2: [email], 3: [email]}, update_cadence: none}
stakeholder_groups:
  - name: customers
    audience: external
    emails: [customers@example.com]
  - name: staff
    audience: internal
    emails: [staff@example.com]
postmortem:
  due_after: 24h
  remind_every: 12h
  approval_remind_every: 6h
  give_up_after: 720h
  follow_up: {day: monday, time: "10:00"}
  timezone: Europe/Berlin
  continue_every_weeks: 4
  responders: [alice, bob]
  tracker_accounts: {alice: acc-alice, bob: acc-bob}
`

// mail is one email the fake mailer took, at virtual time.
type mail struct {
	to      string
	subject string
	text    string
	at      time.Duration
	ics     string
}

// fakes are the providers a post-incident test sees through.
type fakes struct {
	env     func() time.Time
	t0      time.Time
	mu      sync.Mutex
	mails   []mail
	posts   []activities.StatusPost
	tickets map[string]string // marker → key
	filed   []activities.Ticket
	status  map[string]activities.TicketStatus
	missing map[string]bool // keys the tracker answers 404 for
	down    bool            // the tracker answers nothing
}

func newFakes(now func() time.Time, t0 time.Time) *fakes {
	return &fakes{env: now, t0: t0, tickets: map[string]string{}, status: map[string]activities.TicketStatus{}, missing: map[string]bool{}}
}

func (f *fakes) Send(_ context.Context, e integrations.Email) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := e.Validate(); err != nil {
		return "", err
	}
	m := mail{to: e.To[0], subject: e.Subject, text: e.Text, at: f.env().Sub(f.t0)}
	for _, a := range e.Attachments {
		m.ics = string(a.Content)
	}
	f.mails = append(f.mails, m)
	return "m", nil
}

func (f *fakes) Open(context.Context, string, activities.StatusPost) (string, string, error) {
	return "", "", errors.New("not expected")
}

func (f *fakes) Update(_ context.Context, id string, n activities.StatusPost) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts = append(f.posts, n)
	return nil
}

func (f *fakes) File(_ context.Context, t activities.Ticket) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return "", &integrations.Error{Provider: "jira", Kind: integrations.Transient, Status: 503, Message: "down"}
	}
	if k, ok := f.tickets[t.Marker]; ok {
		return k, nil
	}
	k := fmt.Sprintf("OPS-%d", len(f.tickets)+1)
	f.tickets[t.Marker] = k
	f.filed = append(f.filed, t)
	f.status[k] = activities.TicketStatus{Name: "To Do", Category: "new"}
	return k, nil
}

func (f *fakes) Status(_ context.Context, key string) (activities.TicketStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.down:
		return activities.TicketStatus{}, &integrations.Error{Provider: "jira", Kind: integrations.Transient, Message: "connection refused"}
	case f.missing[key]:
		return activities.TicketStatus{}, &integrations.Error{Provider: "jira", Kind: integrations.Permanent, Status: 404,
			Message: "Issue does not exist or you do not have permission to see it."}
	}
	return f.status[key], nil
}

func (f *fakes) URL(key string) string { return "https://jira.example.com/browse/" + key }

func (f *fakes) close(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[key] = activities.TicketStatus{Name: "Done", Category: "done"}
}

// to returns the mails to addr whose subject holds sub.
func (f *fakes) to(addr, sub string) []mail {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []mail
	for _, m := range f.mails {
		if m.to == addr && strings.Contains(m.subject, sub) {
			out = append(out, m)
		}
	}
	return out
}

func (f *fakes) dump() string {
	var b strings.Builder
	for _, m := range f.mails {
		fmt.Fprintf(&b, "  %v %s: %s\n", m.at, m.to, m.subject)
	}
	return b.String()
}

// resolvedAt is when the test incident resolved: a Tuesday.
var resolvedAt = time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)

func pmEnv(t *testing.T, catalogText string) (*testsuite.TestWorkflowEnvironment, *fakes) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(quiet)
	env := ts.NewTestWorkflowEnvironment()
	env.SetStartTime(resolvedAt)
	c, err := catalog.Parse("pm.yaml", []byte(catalogText))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	f := newFakes(env.Now, resolvedAt)
	Register(env)
	env.RegisterActivity(&activities.Activities{Catalog: activities.StaticCatalog{C: c}, Templates: tmpl, Tracker: f,
		Comms: activities.CommsDeps{Mailer: f, StatusPage: f}})
	return env, f
}

func resolvedIncident(source Source) PostIncidentInput {
	opened := resolvedAt.Add(-2 * time.Hour)
	ack := opened.Add(4 * time.Minute)
	mit := opened.Add(50 * time.Minute)
	res := resolvedAt
	notice := opened.Add(time.Minute)
	s := IncidentState{ID: "inc-checkout-0123456789abcdef", Run: "r1", Phase: Resolved, Service: "checkout", KnownService: true,
		Team: "pay", Severity: catalog.SEV1, Source: source, Summary: "checkout error rate above 5%", DedupKey: "k",
		MitigatedAt: &mit, ResolvedAt: &res}
	if source != Monitoring {
		s.Reporter = "a customer"
	}
	s.FirstSeen, s.LastSeen, s.AlertCount = opened, opened, 1
	s.AcknowledgedBy, s.AcknowledgedAt = "alice", &ack
	s.Paged = []string{"alice"}
	s.Pages = []PageEntry{{Person: "alice", Channel: catalog.Email, Level: 1, Round: 1, Kind: "page", At: opened, Outcome: Delivered}}
	s.Roles = []RoleHolder{{Role: "commander", Title: "Incident commander", Person: "alice", Since: ack}, {Role: "comms", Person: "bob", Since: ack}}
	s.NoticeAt = &notice
	s.StatusPage = &StatusPageRef{ID: "sp-1"}
	s.Updates = []UpdateRecord{{At: notice, Kind: "notice", Status: StatusInvestigating, Audience: AudienceBoth}}
	s.Plan.Comms = CommsPlan{Cadence: 30 * time.Minute, Components: []string{"Checkout"},
		Groups: []activities.GroupPlan{{Name: "customers", Audience: catalog.External}, {Name: "staff", Audience: catalog.Internal}}}
	s.Timeline = []Event{{At: opened, Kind: "opened", Text: "opened"}, {At: res, Kind: "resolved", Actor: "alice", Text: "resolved"}}
	return PostIncidentInput{Incident: s}
}

func goodSubmission() Submission {
	return Submission{
		RootCause: "A configuration change sent all payment requests to one database node, which ran out of connections.",
		WhatWeDid: "We undid the change and moved the requests back.",
		Impact:    activities.Impact{Duration: "45m", CustomersAffected: "About 3% of customers could not pay.", SLOEffect: "Half the monthly error budget."},
		ActionItems: []ActionItem{
			{Title: "Check connection limits before a change goes out", Owner: "alice", Due: "2026-12-15"},
			{Title: "Alert on connections per node", Owner: "bob", Priority: "Medium", Due: "2026-12-22"},
		},
		Learnings: []string{"Look at the database dashboard first when payments fail."},
	}
}

// updateResult sends an update at delay and records its outcome.
type updateResult struct {
	err error
	val any
}

func sendUpdate(env *testsuite.TestWorkflowEnvironment, at time.Duration, name string, out *updateResult, arg any) {
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(name, fmt.Sprint(name, at), &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { out.err = err },
			OnComplete: func(v any, err error) {
				out.val = v
				if err != nil {
					out.err = err
				}
			},
		}, arg)
	}, at)
}

func rejection(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type() + ": " + app.Message()
	}
	if err == nil {
		return "accepted"
	}
	return err.Error()
}

// The whole path in skipped time: the commander is reminded while the
// post-mortem is missing; a non-approver cannot approve; a rejection goes
// back to the commander with its comment; the edit goes round again;
// approvers are reminded while it waits; the approval publishes the
// summary to the status page and both audiences, files the tickets, tells
// the product manager, sends the learnings and starts the follow-up.
func TestPostmortemThroughRejectionAndApproval(t *testing.T) {
	env, f := pmEnv(t, pmCatalog)
	var followIn *FollowUpState
	env.OnWorkflow("FollowUp", mock.Anything, mock.Anything).Return(func(_ workflow.Context, in FollowUpState) (FollowUpState, error) {
		followIn = &in
		return in, nil
	})
	var submit, byZed, noComment, rej, early, edit, stale, approve updateResult
	sendUpdate(env, 30*time.Hour, SubmitPostmortemUpdate, &submit, SubmitRequest{Submission: goodSubmission(), By: "alice"})
	sendUpdate(env, 31*time.Hour, ApproveUpdate, &byZed, DecisionRequest{By: "zed"})
	sendUpdate(env, 31*time.Hour+time.Minute, RejectUpdate, &noComment, DecisionRequest{By: "rita"})
	sendUpdate(env, 32*time.Hour, RejectUpdate, &rej, DecisionRequest{By: "rita", Comment: "Say sorry, and drop the database details."})
	sendUpdate(env, 32*time.Hour+time.Minute, ApproveUpdate, &early, DecisionRequest{By: "mia"})
	edited := goodSubmission()
	edited.WhatHappened = "A change we made sent too much work to one part of our payment system."
	sendUpdate(env, 34*time.Hour, EditPostmortemUpdate, &edit, SubmitRequest{Submission: edited, By: "alice"})
	sendUpdate(env, 41*time.Hour, ApproveUpdate, &stale, DecisionRequest{By: "mia", Version: 1})
	sendUpdate(env, 41*time.Hour+time.Minute, ApproveUpdate, &approve, DecisionRequest{By: "mia", Version: 2})
	env.ExecuteWorkflow(PostIncident, resolvedIncident(Monitoring))
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("not completed: %v", env.GetWorkflowError())
	}
	var st PostIncidentState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}

	for name, want := range map[string]struct {
		got  updateResult
		want string
	}{
		"submit":             {submit, "accepted"},
		"approve by zed":     {byZed, "NotApprover"},
		"reject, no comment": {noComment, "InvalidRequest: a rejection needs --comment"},
		"reject":             {rej, "accepted"},
		"approve rejected":   {early, "WrongPhase"},
		"edit":               {edit, "accepted"},
		"approve stale":      {stale, "StaleDraft"},
		"approve":            {approve, "accepted"},
	} {
		if got := rejection(want.got.err); !strings.HasPrefix(got, want.want) {
			t.Errorf("%s: %s, want %s", name, got, want.want)
		}
	}
	// Due at 24h; submitted at 30h, before the next reminder (36h).
	due := f.to("alice@example.com", "Post-mortem due")
	if len(due) != 1 || due[0].at != 24*time.Hour {
		t.Errorf("commander reminders: %+v, want one at 24h\n%s", due, f.dump())
	}
	asks := f.to("rita@example.com", "Approve the summary")
	if len(asks) != 2 || asks[0].at != 30*time.Hour || asks[1].at != 34*time.Hour {
		t.Errorf("approval requests to rita: %d, want drafts 1 (30h) and 2 (34h)\n%s", len(asks), f.dump())
	}
	waiting := f.to("mia@example.com", "Waiting for your approval")
	// Draft 1 was asked for at 30h and rejected at 32h; draft 2 asked for
	// at 34h waits past 40h: one reminder.
	if len(waiting) != 1 || waiting[0].at != 40*time.Hour {
		t.Errorf("approver reminders to mia: %+v, want one at 40h", waiting)
	}
	back := f.to("alice@example.com", "returned by rita")
	if len(back) != 1 || !strings.Contains(back[0].text, "Say sorry, and drop the database details.") || !strings.Contains(back[0].text, "sitrep postmortem edit") {
		t.Errorf("rejection to the commander: %+v", back)
	}
	// The decisions, with who made them.
	if len(st.Decisions) != 2 || st.Decisions[0].By != "rita" || st.Decisions[0].Approved || !st.Decisions[1].Approved || st.Decisions[1].By != "mia" || st.Decisions[1].Version != 2 {
		t.Errorf("decisions: %+v", st.Decisions)
	}
	// The summary: on the status page and to both audiences; the external
	// one plain, without the root cause or anyone's name.
	if len(f.posts) != 1 || f.posts[0].Status != "resolved" || !strings.Contains(f.posts[0].Body, "too much work to one part") {
		t.Fatalf("status page: %+v", f.posts)
	}
	ext := f.to("customers@example.com", "incident summary")
	in := f.to("staff@example.com", "incident summary")
	if len(ext) != 1 || len(in) != 1 {
		t.Fatalf("summary emails: external %d, internal %d\n%s", len(ext), len(in), f.dump())
	}
	for _, leak := range []string{"alice", "Alice", "database node", "inc-checkout", "mia"} {
		if strings.Contains(ext[0].text, leak) || strings.Contains(f.posts[0].Body, leak) {
			t.Errorf("external summary shows %q:\n%s", leak, ext[0].text)
		}
	}
	if !strings.Contains(in[0].text, "database node") || !strings.Contains(in[0].text, "Approved by mia") {
		t.Errorf("internal summary lacks the root cause or the approver:\n%s", in[0].text)
	}
	// Tickets: one per item, high priority by default, labelled, assigned.
	if len(f.filed) != 3 { // the post-mortem document and two items
		t.Fatalf("tickets filed: %+v", f.filed)
	}
	item := f.filed[1]
	if item.Priority != "High" || item.Assignee != "acc-alice" || !slices.Contains(item.Labels, "incident-inc-checkout-0123456789abcdef") ||
		!strings.Contains(item.Description, "OPS-1") {
		t.Errorf("first item's ticket: %+v", item)
	}
	if f.filed[2].Priority != "Medium" {
		t.Errorf("second item keeps its priority: %+v", f.filed[2])
	}
	if l := f.to("pat@example.com", "Action items"); len(l) != 1 || !strings.Contains(l[0].text, "OPS-2") || !strings.Contains(l[0].text, "OPS-3") {
		t.Errorf("product manager's list: %+v", l)
	}
	if l := f.to("bob@example.com", "Learnings"); len(l) != 1 || !strings.Contains(l[0].text, "database dashboard") {
		t.Errorf("learnings to responders: %+v", l)
	}
	// The meeting invite: an iCalendar request to the responders and role holders.
	inv := f.to("bob@example.com", "Post-mortem: checkout")
	if len(inv) != 1 || !strings.Contains(inv[0].ics, "METHOD:REQUEST") || !strings.Contains(inv[0].ics, "ATTENDEE") {
		t.Errorf("invite: %+v", inv)
	}
	if st.Phase != FollowingUp || followIn == nil || len(followIn.Items) != 2 || followIn.Items[0].Ticket != "OPS-2" || followIn.Commander != "alice" {
		t.Errorf("phase %s, follow-up input %+v", st.Phase, followIn)
	}
	if st.Meeting == nil || st.Meeting.Weekday() != time.Thursday {
		t.Errorf("meeting %v: want two business days after a Tuesday resolution", st.Meeting)
	}
}

// A submission with many problems is refused with each one named.
func TestSubmissionNamesEachProblem(t *testing.T) {
	env, f := pmEnv(t, pmCatalog)
	var bad updateResult
	sub := Submission{Impact: activities.Impact{Duration: "a while"}, ActionItems: []ActionItem{
		{Title: "", Owner: "nobody", Priority: "Urgent", Due: "next week"}}}
	sendUpdate(env, time.Hour, SubmitPostmortemUpdate, &bad, SubmitRequest{Submission: sub, By: "alice"})
	env.ExecuteWorkflow(PostIncident, resolvedIncident(Monitoring))
	got := rejection(bad.err)
	for _, want := range []string{"root_cause: missing", `impact.duration: "a while"`, "impact.customers_affected: missing",
		"impact.slo_effect: missing", "action_items[1].title: missing", `action_items[1].owner: unknown person "nobody"`,
		`action_items[1].priority: "Urgent"`, `action_items[1].due: "next week"`, "learnings: missing"} {
		if !strings.Contains(got, want) {
			t.Errorf("rejection lacks %q:\n%s", want, got)
		}
	}
	var st PostIncidentState
	_ = env.GetWorkflowResult(&st)
	if st.Phase != Abandoned || st.Submission != nil {
		t.Errorf("phase %s, submission %+v: want nothing taken, given up", st.Phase, st.Submission)
	}
	if g := f.to("mia@example.com", "given up"); len(g) != 1 || g[0].at != 720*time.Hour {
		t.Errorf("managers told it was given up: %+v", g)
	}
}

// An incident a person found, not monitoring, gets the monitoring-gap
// action item by itself; a customer's report gets it at high priority and
// the team's managers are told.
func TestDetectionGap(t *testing.T) {
	for _, tc := range []struct {
		source   Source
		priority string
		told     bool
	}{
		{Monitoring, "", false},
		{Internal, "Medium", false},
		{External, "High", true},
	} {
		t.Run(string(tc.source), func(t *testing.T) {
			env, f := pmEnv(t, pmCatalog)
			var st PostIncidentState
			queryErr := errors.New("the state was never queried")
			env.RegisterDelayedCallback(func() {
				v, err := env.QueryWorkflow(StateQuery)
				if err == nil {
					err = v.Get(&st)
				}
				queryErr = err
			}, time.Hour)
			env.ExecuteWorkflow(PostIncident, resolvedIncident(tc.source))
			if queryErr != nil {
				t.Fatalf("state query: %v", queryErr)
			}
			if st.Ref == "" {
				t.Fatalf("state query answered an empty state: %+v", st)
			}
			var gap *ActionItem
			for i := range st.Items {
				if st.Items[i].ID == "gap" {
					gap = &st.Items[i]
				}
			}
			switch {
			case tc.priority == "" && gap != nil:
				t.Errorf("monitoring found it, yet a gap item: %+v", gap)
			case tc.priority != "" && (gap == nil || gap.Priority != tc.priority || gap.Owner != "alice" ||
				!strings.Contains(gap.Title, "monitoring gap")):
				t.Errorf("gap item %+v, want priority %s owned by the commander", gap, tc.priority)
			}
			if told := len(f.to("mia@example.com", "before monitoring did")) == 1; told != tc.told {
				t.Errorf("managers told: %v, want %v\n%s", told, tc.told, f.dump())
			}
		})
	}
}

// With no postmortem section in the catalog, resolution only closes pages.
func TestNoPostmortemSectionOnlyClosesPages(t *testing.T) {
	env, f := pmEnv(t, pmCatalog[:strings.Index(pmCatalog, "postmortem:")])
	env.ExecuteWorkflow(PostIncident, resolvedIncident(External))
	var st PostIncidentState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.Phase != Closed || len(f.mails) != 0 || len(f.filed) != 0 {
		t.Errorf("phase %s, %d mails, %d tickets: want closed and quiet", st.Phase, len(f.mails), len(f.filed))
	}
}

// A team with no approvers and no managers: the commander hears that
// nobody can approve, and what to add to the catalog.
func TestNoApproversTellsTheCommander(t *testing.T) {
	cat := strings.Replace(strings.Replace(pmCatalog, "    managers: [mia]\n", "", 1), "    approvers: [rita, mia]\n", "", 1)
	env, f := pmEnv(t, cat)
	var submit, approve updateResult
	sendUpdate(env, time.Hour, SubmitPostmortemUpdate, &submit, SubmitRequest{Submission: goodSubmission(), By: "alice"})
	sendUpdate(env, 2*time.Hour, ApproveUpdate, &approve, DecisionRequest{By: "mia"})
	env.ExecuteWorkflow(PostIncident, resolvedIncident(Monitoring))
	if rejection(submit.err) != "accepted" || !strings.Contains(rejection(approve.err), "add approvers (or managers) to team pay") {
		t.Errorf("submit %s; approve %s", rejection(submit.err), rejection(approve.err))
	}
	if m := f.to("alice@example.com", "Nobody can approve"); len(m) != 1 || !strings.Contains(m[0].text, "approvers:") {
		t.Errorf("commander not told: %s", f.dump())
	}
}

// A reminder a minute for thirty days would be 43,200 rounds: they are
// spread out to at most maxReminderRounds, so the history stays bounded.
func TestRemindersAreBounded(t *testing.T) {
	env, f := pmEnv(t, strings.Replace(pmCatalog, "remind_every: 12h", "remind_every: 1m", 1))
	env.ExecuteWorkflow(PostIncident, resolvedIncident(Monitoring))
	n := len(f.to("alice@example.com", "Post-mortem due"))
	if n == 0 || n > maxReminderRounds {
		t.Errorf("%d reminders in 30 days, want 1 to %d", n, maxReminderRounds)
	}
	var st PostIncidentState
	if err := env.GetWorkflowResult(&st); err != nil || st.Phase != Abandoned {
		t.Errorf("phase %s (%v), want abandoned", st.Phase, err)
	}
}

// Jira down for hours as the incident resolves: the document is published
// at approval instead, and the tickets link to it.
func TestDocumentPublishedLateWhenTheTrackerWasDown(t *testing.T) {
	env, f := pmEnv(t, pmCatalog)
	f.down = true
	env.OnWorkflow("FollowUp", mock.Anything, mock.Anything).Return(FollowUpState{}, nil)
	env.RegisterDelayedCallback(func() { f.mu.Lock(); f.down = false; f.mu.Unlock() }, 10*time.Hour)
	var submit, approve updateResult
	sendUpdate(env, 30*time.Hour, SubmitPostmortemUpdate, &submit, SubmitRequest{Submission: goodSubmission(), By: "alice"})
	sendUpdate(env, 31*time.Hour, ApproveUpdate, &approve, DecisionRequest{By: "rita"})
	env.ExecuteWorkflow(PostIncident, resolvedIncident(Monitoring))
	var st PostIncidentState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if rejection(approve.err) != "accepted" || st.Ticket != "OPS-1" || len(f.filed) != 3 || !strings.Contains(f.filed[1].Description, "OPS-1") {
		t.Errorf("approve %s, document %q, filed %+v", rejection(approve.err), st.Ticket, f.filed)
	}
	if !strings.Contains(fmt.Sprint(st.Timeline), "postmortem.unpublished") {
		t.Errorf("timeline does not say the document waited: %v", st.Timeline)
	}
}

// Before approval, the post-mortem as `sitrep postmortem show` prints it
// (the document query, rendered) and the state list the action items as
// submitted, then as edited: never "none", never the list before the edit.
func TestShowBeforeApprovalListsSubmittedItems(t *testing.T) {
	env, _ := pmEnv(t, pmCatalog)
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		text  string
		items []ActionItem
		err   error
	}
	var afterSubmit, afterEdit seen
	look := func(out *seen) func() {
		return func() {
			var doc activities.PostmortemDoc
			var st PostIncidentState
			v, err := env.QueryWorkflow(PostmortemQuery)
			if err == nil {
				err = v.Get(&doc)
			}
			if err == nil {
				out.text, err = tmpl.Postmortem(doc)
			}
			if err == nil {
				if v, err = env.QueryWorkflow(StateQuery); err == nil {
					err = v.Get(&st)
				}
			}
			out.items, out.err = st.Items, err
			if err == nil && out.text == "" {
				out.err = errors.New("empty document")
			}
		}
	}
	var submit, edit updateResult
	sendUpdate(env, 30*time.Hour, SubmitPostmortemUpdate, &submit, SubmitRequest{Submission: goodSubmission(), By: "alice"})
	env.RegisterDelayedCallback(look(&afterSubmit), 31*time.Hour)
	edited := goodSubmission()
	edited.ActionItems = []ActionItem{{Title: "Cap connections per node", Owner: "bob", Due: "2026-12-29"}}
	sendUpdate(env, 32*time.Hour, EditPostmortemUpdate, &edit, SubmitRequest{Submission: edited, By: "alice"})
	env.RegisterDelayedCallback(look(&afterEdit), 33*time.Hour)
	env.ExecuteWorkflow(PostIncident, resolvedIncident(Monitoring))
	if rejection(submit.err) != "accepted" || rejection(edit.err) != "accepted" {
		t.Fatalf("submit %s, edit %s", rejection(submit.err), rejection(edit.err))
	}
	for _, tc := range []struct {
		name    string
		got     seen
		want    []string
		notWant []string
	}{
		{"submitted", afterSubmit, []string{"[A1] Check connection limits before a change goes out (owner alice", "[A2] Alert on connections per node (owner bob, Medium"}, nil},
		{"edited", afterEdit, []string{"[A1] Cap connections per node (owner bob"}, []string{"Check connection limits", "Alert on connections"}},
	} {
		if tc.got.err != nil {
			t.Fatalf("%s: query: %v", tc.name, tc.got.err)
		}
		items := tc.got.text[strings.Index(tc.got.text, "Action items"):]
		items = items[:strings.Index(items, "Learnings")]
		for _, w := range tc.want {
			if !strings.Contains(items, w) {
				t.Errorf("%s: the document's action items lack %q:\n%s", tc.name, w, items)
			}
		}
		for _, w := range append(tc.notWant, "none") {
			if strings.Contains(items, w) {
				t.Errorf("%s: the document's action items hold %q:\n%s", tc.name, w, items)
			}
		}
		if len(tc.got.items) != len(tc.want) {
			t.Errorf("%s: state items %+v, want %d", tc.name, tc.got.items, len(tc.want))
		}
	}
}
