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
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// commsCatalog: checkout's SEV1 tells stakeholders as it opens (status page
// and the internal support list; merchants read the status page), opens the
// war room at the first acknowledgment, wants an update every 30 minutes
// (reminder 5 minutes before), and posts "no news" itself 10 minutes after a
// missed one. carol is the comms lead this week; dave does partner comms
// when given the role. bob is on the team but never acknowledges; the
// stakeholder lists name nobody of the catalog.
const commsCatalog = `
catch_all: pay
people:
  - handle: alice
    name: Alice Andersen
    contacts: [{sms: "+15550100001"}, {chat: U1}]
  - handle: bob
    name: Bob Becker
    contacts: [{sms: "+15550100002"}, {chat: U2}]
  - handle: carol
    name: Carol Costa
    contacts: [{chat: U3}, {email: carol@example.com}]
  - handle: dave
    name: Dave Diaz
    contacts: [{chat: U4}]
rotations:
  - name: primary
    members: [alice, bob]
    shift: weekly
    handoff_time: "09:00"
    timezone: UTC
    start: 2026-11-23
  - name: comms
    members: [carol]
    shift: weekly
    handoff_time: "09:00"
    timezone: UTC
    start: 2026-11-23
teams:
  - name: pay
    rotation: primary
    comms_rotation: comms
    policy: pay-policy
    members: [alice, bob, carol]
services:
  - name: checkout
    team: pay
    tier: 1
    stakeholder_groups: [support, merchants]
    status_page_components: [Checkout]
escalation_policies:
  - name: pay-policy
    levels:
      - targets: [{rotation: primary}]
        delay: 5m
      - targets: [{team: pay}]
        delay: 10m
    repeat: 1
severities:
  SEV1:
    channels: {1: [sms, chat], 2: [sms], 3: [sms]}
    update_cadence: 30m
    notice: open
    war_room: ack
    no_news_after: 10m
  SEV2:
    channels: {1: [sms], 2: [sms], 3: [sms]}
    update_cadence: 1h
  SEV3:
    channels: {1: [sms], 2: [sms], 3: [sms]}
    update_cadence: 4h
    internal_only: true
  SEV4:
    channels: {1: [sms], 2: [sms], 3: [sms]}
    update_cadence: none
stakeholder_groups:
  - name: support
    audience: internal
    emails: [support@example.com]
  - name: merchants
    audience: external
    emails: [ops@merchant.example.com]
  - name: partners
    audience: external
    emails: [partners@example.net]
comms:
  remind_before: 5m
  role_unfilled_after: 20m
  roles:
    - name: partner-comms
      title: Partner communications
      stakeholder_groups: [partners]
`

// statusPage says a status page is configured; the test mocks the activity
// that would call it.
type statusPage struct{}

func (statusPage) Open(context.Context, string, activities.StatusPost) (string, string, error) {
	return "", "", errors.New("mocked")
}
func (statusPage) Update(context.Context, string, activities.StatusPost) error {
	return errors.New("mocked")
}

// said is one thing the comms activities were asked to send, in virtual
// time since the incident opened.
type said struct {
	after time.Duration
	what  string // status-page, email, room-open, invite, post, edit, remind
	to    string // group, person, channel
	kind  string // notice kind, reminder kind
	text  string
	room  string // the war room link an email carried
}

// commsHarness runs an incident against commsCatalog with every comms
// activity replaced by a recorder.
type commsHarness struct {
	*harness
	mu   sync.Mutex
	said []said
	// room is the war room's membership, as the chat platform would have it.
	room []string
	// remindBounds are the reminders' schedule-to-close timeouts.
	remindBounds []time.Duration
}

// commsFaults may fail an activity; nil: it succeeds.
type commsFaults struct {
	statusPage func(n activities.Notice) error
	email      func(n activities.GroupNotice) error
	openRoom   func() error
}

func newCommsHarness(t *testing.T) *commsHarness {
	t.Helper()
	return newFaultyCommsHarness(t, commsFaults{})
}

func newFaultyCommsHarness(t *testing.T, f commsFaults) *commsHarness {
	t.Helper()
	c, err := catalog.Parse("comms.yaml", []byte(commsCatalog))
	if err != nil {
		t.Fatalf("catalog: %v", err)
	}
	h := &commsHarness{harness: newHarnessComms(t, nil, activities.StaticCatalog{C: c}, nil, activities.CommsDeps{StatusPage: statusPage{}})}
	env := h.env
	since := func() time.Duration { return env.Now().Sub(start) }
	note := func(s said) {
		h.mu.Lock()
		defer h.mu.Unlock()
		s.after = since()
		h.said = append(h.said, s)
	}
	env.OnActivity("StatusPageNotice", mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, n activities.Notice, id string) (activities.StatusPageResult, error) {
			if f.statusPage != nil {
				if err := f.statusPage(n); err != nil {
					return activities.StatusPageResult{}, err
				}
			}
			note(said{what: "status-page", to: id, kind: string(n.Kind), text: n.Status + ": " + n.Message})
			return activities.StatusPageResult{ID: "sp1", URL: "https://status.example.com/incidents/sp1"}, nil
		})
	env.OnActivity("EmailGroup", mock.Anything, mock.Anything).Return(
		func(_ context.Context, n activities.GroupNotice) (activities.NoticeResult, error) {
			if f.email != nil {
				if err := f.email(n); err != nil {
					return activities.NoticeResult{}, err
				}
			}
			note(said{what: "email", to: n.Group, kind: string(n.Kind), text: n.Message, room: n.Room})
			return activities.NoticeResult{Recipients: 1}, nil
		})
	env.OnActivity("OpenRoom", mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RoomInput) (activities.RoomResult, error) {
			if f.openRoom != nil {
				if err := f.openRoom(); err != nil {
					return activities.RoomResult{}, err
				}
			}
			note(said{what: "room-open", to: in.Name})
			return activities.RoomResult{Platform: "slack", Channel: "C1", URL: "https://chat/C1", Bridge: "https://meet/1"}, nil
		})
	env.OnActivity("InviteToRoom", mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.InviteInput) (activities.InviteResult, error) {
			h.mu.Lock()
			h.room = append(h.room, in.People...)
			h.mu.Unlock()
			note(said{what: "invite", to: strings.Join(in.People, ",")})
			return activities.InviteResult{Invited: in.People}, nil
		})
	env.OnActivity("PostToRoom", mock.Anything, mock.Anything).Return(
		func(_ context.Context, p activities.RoomPost) (string, error) {
			if p.Edit != "" {
				note(said{what: "edit", to: p.Channel, text: p.Text})
				return p.Edit, nil
			}
			note(said{what: "post", to: p.Channel, text: p.Text})
			return "m1", nil
		})
	env.OnActivity("Remind", mock.Anything, mock.Anything).Return(
		func(ctx context.Context, r activities.Reminder) (activities.ReminderResult, error) {
			h.mu.Lock()
			h.remindBounds = append(h.remindBounds, activity.GetInfo(ctx).ScheduleToCloseTimeout)
			h.mu.Unlock()
			note(said{what: "remind", to: r.Person + "/" + strings.Join(r.CC, ","), kind: string(r.Kind), text: r.Role + " " + r.Command})
			return activities.ReminderResult{Channel: catalog.Chat}, nil
		})
	return h
}

// of returns what was said of one kind.
func (h *commsHarness) of(what string) []said {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []said
	for _, s := range h.said {
		if s.what == what {
			out = append(out, s)
		}
	}
	return out
}

func (h *commsHarness) update(req UpdateRequest) {
	h.env.UpdateWorkflowNoRejection(PostUpdateUpdate, "", h.t, req)
}

func (h *commsHarness) role(req RoleRequest) {
	h.env.UpdateWorkflowNoRejection(AssignRoleUpdate, "", h.t, req)
}

// rejected sends an update that must be rejected; *got holds the
// rejection once it is processed.
func (h *commsHarness) rejected(name string, req any, got *error) {
	*got = errors.New("not answered")
	h.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { *got = err },
		OnAccept:   func() {},
		OnComplete: func(_ any, err error) { *got = err },
	}, req)
}

func times(ss []said) []time.Duration {
	var out []time.Duration
	for _, s := range ss {
		out = append(out, s.after)
	}
	return out
}

// TestCadenceOverASixHourSEV1 follows a SEV1 for six hours: the notice as it
// opens, carol's two updates on time, then silence. Every reminder, every
// escalation to the commander and every "no news" notice comes at the time
// the policy gives, and nothing comes after the resolution.
func TestCadenceOverASixHourSEV1(t *testing.T) {
	h := newCommsHarness(t)
	h.at(3*m, func() { h.ack("alice") })
	h.at(20*m, func() {
		h.update(UpdateRequest{By: "carol", Status: StatusIdentified, Message: "Card payments fail for 5% of customers."})
	})
	h.at(49*m, func() { h.update(UpdateRequest{By: "carol", Message: "A fix is being rolled out."}) })
	const end = 358 * m
	h.at(end, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("checkout error rate"))

	// The policy, replayed by hand: the clock restarts at each update; with
	// none, the comms lead is reminded 5m before the due time, the commander
	// at it, and at 10m past it sitrep posts "no news" and the clock restarts.
	var wantDue, wantOverdue, wantNoNews []time.Duration
	due := 30 * m
	for _, posted := range []time.Duration{20 * m, 49 * m} {
		if due-5*m <= posted {
			wantDue = append(wantDue, due-5*m)
		}
		due = posted + 30*m
	}
	for due-5*m < end {
		wantDue = append(wantDue, due-5*m)
		if due < end {
			wantOverdue = append(wantOverdue, due)
		}
		if due+10*m < end {
			wantNoNews = append(wantNoNews, due+10*m)
		}
		due += 40 * m
	}
	var gotDue, gotOverdue []said
	for _, r := range h.of("remind") {
		switch r.kind {
		case string(activities.ReminderDue):
			gotDue = append(gotDue, r)
			if r.to != "carol/alice" {
				t.Errorf("reminder at %s went to %s, want carol copying alice", r.after, r.to)
			}
		case string(activities.ReminderOverdue):
			gotOverdue = append(gotOverdue, r)
			if r.to != "alice/carol" {
				t.Errorf("overdue reminder at %s went to %s, want alice (the commander) copying carol", r.after, r.to)
			}
		case string(activities.ReminderRole): // partner comms is never filled: TestUnfilledRoleRemindsTheCommander
		default:
			t.Errorf("unexpected reminder %+v", r)
		}
	}
	if !slices.Equal(times(gotDue), wantDue) {
		t.Errorf("reminders before the due time at\n %v\nwant\n %v", times(gotDue), wantDue)
	}
	if !slices.Equal(times(gotOverdue), wantOverdue) {
		t.Errorf("overdue reminders at\n %v\nwant\n %v", times(gotOverdue), wantOverdue)
	}
	if len(gotDue) > 0 && !strings.Contains(gotDue[0].text, "sitrep update "+st.ID+" --status identified") {
		t.Errorf("reminder carries %q, want the command that posts the update", gotDue[0].text)
	}

	// Stakeholders: the status page and support heard the notice, two
	// updates, a "no news" at each missed update, and the final notice.
	var pageKinds, supportKinds []string
	var noNews []time.Duration
	for _, s := range h.of("status-page") {
		pageKinds = append(pageKinds, s.kind)
		if s.kind == string(activities.NoticeNoNews) {
			noNews = append(noNews, s.after)
		}
	}
	for _, s := range h.of("email") {
		if s.to != "support" {
			t.Errorf("email to %s: merchants read the status page, partners only hear from partner comms", s.to)
		}
		supportKinds = append(supportKinds, s.kind)
	}
	want := []string{"notice", "update", "update"}
	for range wantNoNews {
		want = append(want, "no-news")
	}
	want = append(want, "resolved")
	if !slices.Equal(pageKinds, want) || !slices.Equal(supportKinds, want) {
		t.Errorf("status page heard %v\nsupport heard %v\nwant %v", pageKinds, supportKinds, want)
	}
	if !slices.Equal(noNews, wantNoNews) {
		t.Errorf("'no news' at %v, want %v", noNews, wantNoNews)
	}
	if sp := h.of("status-page"); len(sp) > 0 && (sp[0].to != "" || sp[0].after != 0) {
		t.Errorf("the status page incident opened at %s with id %q, want at once, new", sp[0].after, sp[0].to)
	}
	if st.NextUpdateDue != nil || len(st.Cadences) != 0 {
		t.Errorf("resolved incident still has an update due: %v %v", st.NextUpdateDue, st.Cadences)
	}
	if got := len(st.Updates); got != len(want) {
		t.Errorf("%d updates recorded, want %d", got, len(want))
	}
}

// TestWarRoomHoldsOnlyResponders: the room opens at the acknowledgment and
// holds the acknowledger and the role holders as they join; bob, paged with
// the whole team but silent, and the stakeholders are never in it.
func TestWarRoomHoldsOnlyResponders(t *testing.T) {
	h := newCommsHarness(t)
	// Level 2 (the whole team, bob included) is paged at 5m.
	h.at(7*m, func() { h.ack("alice") })
	h.at(10*m, func() { h.role(RoleRequest{Role: "partner-comms", Person: "dave", By: "alice"}) })
	h.at(12*m, func() {
		st := h.state()
		if st.WarRoom == nil || st.WarRoom.Bridge != "https://meet/1" || st.WarRoom.Name == "" {
			t.Errorf("war room after the ack: %+v", st.WarRoom)
		}
	})
	h.at(15*m, func() { h.phase(ResolveUpdate) })
	h.run(alert("checkout error rate"))
	rooms := h.of("room-open")
	if st := h.state(); !slices.Contains(st.Paged, "bob") {
		t.Fatalf("bob was not paged: %v", st.Paged)
	}
	if len(rooms) != 1 || rooms[0].after != 7*m || !strings.HasPrefix(rooms[0].to, "inc-20261125-checkout-checkout-error-rate") {
		t.Fatalf("rooms opened: %+v", rooms)
	}
	slices.Sort(h.room)
	if want := []string{"alice", "carol", "dave"}; !slices.Equal(h.room, want) {
		t.Errorf("war room members %v, want %v (acknowledger, comms lead, partner comms)", h.room, want)
	}
	var summary bool
	for _, p := range h.of("post") {
		if strings.Contains(p.text, "Incident commander: alice") && strings.Contains(p.text, "Bridge: https://meet/1") {
			summary = true
		}
	}
	if !summary {
		t.Errorf("no summary with the commander and the bridge posted: %+v", h.of("post"))
	}
	edits := h.of("edit")
	if len(edits) == 0 || !strings.Contains(edits[len(edits)-1].text, "Partner communications: dave") {
		t.Errorf("summary not edited to show dave's role: %+v", edits)
	}
}

// TestRolesAndTheirValidator: commander by the first ack, comms lead from
// the rotation, reassignment, and each bad request refused with its reason.
func TestRolesAndTheirValidator(t *testing.T) {
	h := newCommsHarness(t)
	h.at(1*m, func() { h.ack("alice") })
	bad := []struct {
		req  RoleRequest
		want string
		got  error
	}{
		{req: RoleRequest{Role: "scribe", Person: "bob", By: "alice"}, want: `unknown role "scribe"`},
		{req: RoleRequest{Role: "commander", Person: "", By: "alice"}, want: "person is empty"},
		{req: RoleRequest{Role: "commander", Person: "bob"}, want: "who assigns it is empty"},
		{req: RoleRequest{Role: "commander", Person: "mallory", By: "alice"}, want: "mallory not in the catalog"},
	}
	h.at(2*m, func() {
		for i := range bad {
			h.rejected(AssignRoleUpdate, bad[i].req, &bad[i].got)
		}
	})
	h.at(3*m, func() { h.role(RoleRequest{Role: "commander", Person: "bob", By: "alice"}) })
	h.at(5*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("checkout error rate"))
	for _, tc := range bad {
		if tc.got == nil || !strings.Contains(tc.got.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error saying %q", tc.req, tc.got, tc.want)
		}
	}
	got := map[string]string{}
	for _, r := range st.Roles {
		got[r.Role] = r.Person + "/" + r.By
	}
	if got["commander"] != "bob/alice" || got["comms"] != "carol/" {
		t.Errorf("roles %v, want commander bob (given by alice), comms carol (from the rotation)", got)
	}
}

// TestUnfilledRoleRemindsTheCommander: partner comms is still empty 20
// minutes in: the commander hears once.
func TestUnfilledRoleRemindsTheCommander(t *testing.T) {
	h := newCommsHarness(t)
	h.at(1*m, func() { h.ack("alice") })
	h.at(19*m, func() { h.update(UpdateRequest{By: "carol", Message: "Investigating."}) })
	h.at(50*m, func() { h.phase(ResolveUpdate) })
	h.run(alert("checkout error rate"))
	var roles []said
	for _, r := range h.of("remind") {
		if r.kind == string(activities.ReminderRole) {
			roles = append(roles, r)
		}
	}
	if len(roles) != 1 || roles[0].after != 20*m || roles[0].to != "alice/" || !strings.HasPrefix(roles[0].text, "partner-comms") {
		t.Errorf("role reminders %+v, want one to alice at 20m about partner-comms", roles)
	}
}

// TestSubRoleSpeaksToItsOwnAudience: partner comms has a clock of its own
// and its updates go to the partners list only.
func TestSubRoleSpeaksToItsOwnAudience(t *testing.T) {
	h := newCommsHarness(t)
	h.at(1*m, func() { h.ack("alice") })
	h.at(10*m, func() { h.role(RoleRequest{Role: "partner-comms", Person: "dave", By: "alice"}) })
	h.at(37*m, func() {
		h.update(UpdateRequest{By: "dave", Role: "partner-comms", Message: "Partners: card payments degraded."})
	})
	h.at(44*m, func() { h.phase(ResolveUpdate) })
	h.run(alert("checkout error rate"))
	var dave []time.Duration
	for _, r := range h.of("remind") {
		if strings.HasPrefix(r.to, "dave/") && r.kind == string(activities.ReminderDue) {
			dave = append(dave, r.after)
		}
	}
	if want := []time.Duration{35 * m}; !slices.Equal(dave, want) {
		t.Errorf("dave reminded at %v, want %v (his clock starts when he takes the role, restarts at his update)", dave, want)
	}
	var partners int
	for _, s := range h.of("email") {
		if s.to == "partners" {
			partners++
			if s.kind != string(activities.NoticeUpdate) {
				t.Errorf("partners heard %s: they hear only partner comms' updates", s.kind)
			}
		}
	}
	if partners != 1 {
		t.Errorf("partners got %d emails, want dave's one update", partners)
	}
	for _, s := range h.of("status-page") {
		if strings.Contains(s.text, "Partners:") {
			t.Errorf("partner comms' update reached the status page: %+v", s)
		}
	}
}

// TestUpdateValidator refuses bad updates with the reason, and none of them
// changes the incident.
func TestUpdateValidator(t *testing.T) {
	h := newCommsHarness(t)
	h.at(1*m, func() { h.ack("alice") })
	h.at(2*m, func() { h.update(UpdateRequest{By: "carol", Status: StatusIdentified, Message: "found it"}) })
	bad := []struct {
		req  UpdateRequest
		want string
		got  error
	}{
		{req: UpdateRequest{By: "carol", Message: "  "}, want: "message is empty"},
		{req: UpdateRequest{Message: "x"}, want: "who posts it is empty"},
		{req: UpdateRequest{By: "carol", Status: StatusInvestigating, Message: "x"}, want: "cannot go back from identified to investigating"},
		{req: UpdateRequest{By: "carol", Status: "fixed", Message: "x"}, want: `status "fixed" is not one of`},
		{req: UpdateRequest{By: "carol", Status: StatusResolved, Message: "x"}, want: "sitrep resolve"},
		{req: UpdateRequest{By: "carol", Audience: "press", Message: "x"}, want: `audience "press"`},
		{req: UpdateRequest{By: "carol", Role: "scribe", Message: "x"}, want: `role "scribe"`},
	}
	h.at(3*m, func() {
		for i := range bad {
			h.rejected(PostUpdateUpdate, bad[i].req, &bad[i].got)
		}
	})
	h.at(4*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("checkout error rate"))
	for _, tc := range bad {
		var app *temporal.ApplicationError
		if !errors.As(tc.got, &app) || app.Type() != RejectInvalid || !strings.Contains(tc.got.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %s saying %q", tc.req, tc.got, RejectInvalid, tc.want)
		}
	}
	var kinds []string
	for _, u := range st.Updates {
		kinds = append(kinds, u.Kind+"/"+string(u.Status))
	}
	if want := []string{"notice/investigating", "update/identified", "resolved/resolved"}; !slices.Equal(kinds, want) {
		t.Errorf("updates %v, want %v", kinds, want)
	}
}

// TestMitigateTellsAndStopsTheClock: mitigation tells stakeholders it is
// being monitored and no reminder follows.
func TestMitigateTellsAndStopsTheClock(t *testing.T) {
	h := newCommsHarness(t)
	h.at(1*m, func() { h.ack("alice") })
	h.at(10*m, func() { h.phase(MitigateUpdate) })
	h.at(3*time.Hour, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("checkout error rate"))
	if r := h.of("remind"); len(r) > 0 {
		t.Errorf("reminders after mitigation: %+v", r)
	}
	var kinds []string
	for _, s := range h.of("status-page") {
		kinds = append(kinds, fmt.Sprintf("%s@%s", s.kind, s.after))
	}
	if want := []string{"notice@0s", "mitigated@10m0s", "resolved@3h0m0s"}; !slices.Equal(kinds, want) {
		t.Errorf("status page heard %v, want %v", kinds, want)
	}
	if st.Status != StatusResolved {
		t.Errorf("stakeholder status %q, want resolved", st.Status)
	}
}

// TestSeverityRaiseTightensComms: a SEV2 (notice at the ack, hourly
// updates) raised to SEV1 mid-incident gets SEV1's 30-minute cadence from
// the raise on.
func TestSeverityRaiseTightensComms(t *testing.T) {
	h := newCommsHarness(t)
	al := alert("checkout error rate")
	al.Severity = catalog.SEV2
	h.at(2*m, func() { h.ack("alice") })
	h.at(10*m, func() {
		louder := alert("checkout error rate")
		louder.ReceivedAt = start.Add(10 * m)
		h.env.SignalWorkflow(AlertSignal, louder)
	})
	h.at(45*m, func() { h.phase(ResolveUpdate) })
	h.run(al)
	var due []time.Duration
	for _, r := range h.of("remind") {
		if r.kind == string(activities.ReminderDue) {
			due = append(due, r.after)
		}
	}
	// The notice at the ack (2m) promised the next update at 1h02m; the
	// raise at 10m brings it to 40m, so carol is reminded at 35m.
	if want := []time.Duration{35 * m}; !slices.Equal(due, want) {
		t.Errorf("reminders at %v, want %v", due, want)
	}
}
