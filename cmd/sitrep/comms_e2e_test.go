package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
	"github.com/sitrep-dev/sitrep/integrations/statuspage"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// commsE2ECatalog: checkout's SEV1 opens a status page incident and tells
// support as it opens, the war room opens at the acknowledgment, updates
// are due every CADENCE; carol is the comms lead, dave (outside the team)
// does partner comms. bob is on the team and on chat, but never answers.
const commsE2ECatalog = `
catch_all: pay
people:
  - handle: alice
    name: Alice Andersen
    contacts: [{sms: "+15550100001"}, {chat: U0001}, {email: alice@example.com}]
  - handle: bob
    name: Bob Becker
    contacts: [{sms: "+15550100002"}, {chat: U0002}]
  - handle: carol
    name: Carol Costa
    contacts: [{chat: U0003}, {email: carol@example.com}]
  - handle: dave
    name: Dave Diaz
    contacts: [{chat: U0004}, {email: dave@example.com}]
rotations:
  - name: primary
    members: [alice]
    shift: weekly
    handoff_time: "09:00"
    timezone: UTC
    start: 2026-01-05
  - name: comms
    members: [carol]
    shift: weekly
    handoff_time: "09:00"
    timezone: UTC
    start: 2026-01-05
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
        delay: 1m
      - targets: [{team: pay}]
        delay: 1m
    repeat: 0
severities:
  SEV1:
    channels: {1: [sms], 2: [sms], 3: [sms]}
    update_cadence: CADENCE
    notice: open
    war_room: WARROOM
    no_news_after: NONEWS
  SEV2: {channels: {1: [sms], 2: [sms], 3: [sms]}, update_cadence: 1h}
  SEV3: {channels: {1: [sms], 2: [sms], 3: [sms]}, update_cadence: 4h}
  SEV4: {channels: {1: [sms], 2: [sms], 3: [sms]}, update_cadence: none}
stakeholder_groups:
  - {name: support, audience: internal, emails: [support@example.com]}
  - {name: merchants, audience: external, emails: [ops@merchant.example.com]}
  - {name: partners, audience: external, emails: [partners@example.net]}
comms:
  # Each notice reaches support at once: these tests follow one incident.
  update_window: none
  remind_before: REMIND
  role_unfilled_after: none
  roles:
    - {name: partner-comms, title: Partner communications, stakeholder_groups: [partners]}
`

func commsCatalogYAML(cadence, remind, noNews, warRoom string) string {
	return strings.NewReplacer("CADENCE", cadence, "REMIND", remind, "NONEWS", noNews, "WARROOM", warRoom).Replace(commsE2ECatalog)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-time.After(100 * time.Millisecond) // poll interval
	}
}

// TestEndToEndDuringTheIncident runs a SEV1 on the dev stack with the
// sandbox's fakes: the status page incident and support's email as it
// opens; at the ack, a war room holding only responders, with its bridge;
// `sitrep role` and `sitrep update` reaching the status page, the lists and
// the room; the final notices at resolution. External text names nobody.
func TestEndToEndDuringTheIncident(t *testing.T) {
	t.Parallel()
	cat, err := catalog.Parse("comms.yaml", []byte(commsCatalogYAML("30m", "5m", "none", "ack")))
	if err != nil {
		t.Fatal(err)
	}
	s := startE2E(t, stackOptions{Catalog: cat})
	c := newCLI(t, s)
	var r starter.Receipt
	c.mustJSON(&r, "alert", "--service", "checkout", "--severity", "SEV1", "--summary", "checkout 5xx on pay-db-7.internal")
	status := func() workflows.IncidentState {
		var st workflows.IncidentState
		c.mustJSON(&st, "status", r.IncidentID)
		return st
	}
	page := func() statuspage.IncidentState {
		for _, inc := range s.Sandbox.Statuspage.Incidents() {
			return inc
		}
		return statuspage.IncidentState{}
	}
	emails := func(to string) []inbox.Message {
		var out []inbox.Message
		for _, m := range readInbox(t, s) {
			if m.Channel == "email" && strings.Contains(m.To, to) {
				out = append(out, m)
			}
		}
		return out
	}

	// As it opens, before anyone acknowledges.
	waitFor(t, "the status page incident and support's email", 30*time.Second, func() bool {
		return page().Status == "investigating" && len(emails("support@example.com")) == 1
	})
	if len(emails("ops@merchant.example.com")) != 0 {
		t.Errorf("merchants were emailed though they read the status page")
	}
	if st := status(); st.WarRoom != nil || st.AcknowledgedBy != "" {
		t.Fatalf("war room before the ack: %+v", st.WarRoom)
	}

	// The ack opens the war room: alice (commander) and carol (comms lead).
	if _, errs, code := c.run("ack", r.IncidentID, "--as", "alice"); code != 0 {
		t.Fatalf("ack: %d %s", code, errs)
	}
	var room string
	waitFor(t, "the war room with its bridge", 30*time.Second, func() bool {
		st := status()
		if st.WarRoom == nil || st.WarRoom.Bridge == "" || len(st.WarRoom.Invited) < 2 {
			return false
		}
		room = st.WarRoom.Channel
		return true
	})
	members := func() []string {
		var out []string
		for _, m := range s.Sandbox.Slack.Members(room) {
			if strings.HasPrefix(m, "U000") {
				out = append(out, m)
			}
		}
		return out
	}
	waitFor(t, "alice and carol in the war room", 30*time.Second, func() bool { return len(members()) == 2 })
	if got := members(); !slices.Equal(got, []string{"U0001", "U0003"}) {
		t.Errorf("war room members %v, want alice and carol only", got)
	}

	// A role, then an update.
	if out, errs, code := c.run("role", r.IncidentID, "--role", "partner-comms", "--person", "dave", "--as", "alice"); code != 0 {
		t.Fatalf("role: %d %s %s", code, out, errs)
	}
	waitFor(t, "dave in the war room", 30*time.Second, func() bool { return slices.Contains(members(), "U0004") })
	msg := "Card payments fail for some customers. A fix is rolling out."
	if out, errs, code := c.run("update", r.IncidentID, "--status", "identified", "--message", msg, "--as", "carol"); code != 0 {
		t.Fatalf("update: %d %s %s", code, out, errs)
	}
	waitFor(t, "the update on the status page", 30*time.Second, func() bool {
		p := page()
		return p.Status == "identified" && len(p.Updates) > 0 && strings.Contains(p.Updates[len(p.Updates)-1].Body, msg)
	})
	waitFor(t, "the update in support's email", 30*time.Second, func() bool {
		e := emails("support@example.com")
		return len(e) == 2 && strings.Contains(e[0].Text, msg) // newest first
	})
	waitFor(t, "the update in the war room", 30*time.Second, func() bool {
		for _, rm := range s.Sandbox.Slack.Rooms() {
			for _, m := range rm.Messages {
				if rm.ID == room && strings.Contains(m.Text, msg) {
					return true
				}
			}
		}
		return false
	})

	// Resolved: the final notices.
	note := "A bad configuration push broke card payments for 20 minutes; it was rolled back."
	if _, errs, code := c.run("resolve", r.IncidentID, "--by", "alice", "--note", note); code != 0 {
		t.Fatalf("resolve: %d %s", code, errs)
	}
	waitFor(t, "the final notices", 30*time.Second, func() bool {
		return page().Status == "resolved" && len(emails("support@example.com")) == 3
	})

	// Nothing customers read names a person or the alert's internal text.
	var external []string
	for _, u := range page().Updates {
		external = append(external, u.Body)
	}
	external = append(external, page().Name)
	for _, text := range external {
		for _, p := range cat.People {
			for _, name := range []string{p.Handle, p.Name} {
				if strings.Contains(strings.ToLower(text), strings.ToLower(name)) {
					t.Errorf("status page names %q: %q", name, text)
				}
			}
		}
		if strings.Contains(text, "pay-db-7") {
			t.Errorf("status page shows the alert's internal text: %q", text)
		}
	}
	if got := members(); !slices.Equal(got, []string{"U0001", "U0003", "U0004"}) {
		t.Errorf("war room members at the end %v, want alice, carol and dave: never bob, never a stakeholder", got)
	}
	st := status()
	var kinds []string
	for _, u := range st.Updates {
		kinds = append(kinds, u.Kind+"/"+string(u.Status))
	}
	if want := []string{"notice/investigating", "update/identified", "resolved/resolved"}; !slices.Equal(kinds, want) {
		t.Errorf("updates %v, want %v", kinds, want)
	}
}

// TestEndToEndWorkerKilledMidCadence kills the worker with SIGKILL between
// a reminder and the next due time, and keeps it down past the due time and
// the "no news" time. Started again, every reminder the incident recorded
// reached carol exactly once: none missed, none doubled.
func TestEndToEndWorkerKilledMidCadence(t *testing.T) {
	t.Parallel()
	catYAML := commsCatalogYAML("12s", "4s", "3s", "none")
	cat, err := catalog.Parse("comms.yaml", []byte(catYAML))
	if err != nil {
		t.Fatal(err)
	}
	s := startE2E(t, stackOptions{Catalog: cat, NoWorker: true})
	c := newCLI(t, s)
	startWorker, kill := workerProcess(t, s, catYAML)
	reminders := func() []inbox.Message {
		var out []inbox.Message
		for _, m := range to(readInbox(t, s), "carol") {
			if strings.Contains(m.Text, "update to stakeholders") {
				out = append(out, m)
			}
		}
		return out
	}
	w := startWorker()
	var r starter.Receipt
	c.mustJSON(&r, "alert", "--service", "checkout", "--severity", "SEV1", "--summary", "checkout error rate")
	// The first reminder comes 8s after the notice; then the worker dies.
	waitFor(t, "the first reminder", time.Minute, func() bool { return len(reminders()) == 1 })
	kill(w)
	// Down past the due time (12s) and the "no news" time (15s).
	<-time.After(10 * time.Second) // the outage itself, not a wait for async work
	startWorker()
	// Two more cycles: due, overdue, no news; due, overdue.
	waitFor(t, "two cycles of reminders after the restart", 2*time.Minute, func() bool { return len(reminders()) >= 4 })
	if _, errs, code := c.run("resolve", r.IncidentID, "--by", "alice"); code != 0 {
		t.Fatalf("resolve: %d %s", code, errs)
	}
	var st workflows.IncidentState
	waitFor(t, "the resolved incident", 30*time.Second, func() bool {
		c.mustJSON(&st, "status", r.IncidentID)
		return st.Phase == workflows.Resolved
	})
	var recorded int
	for _, e := range st.Timeline {
		if e.Kind == "reminder" {
			recorded++
		}
	}
	got := reminders()
	slices.Reverse(got) // the inbox lists newest first
	if len(got) != recorded {
		t.Fatalf("carol got %d reminders, the incident recorded %d: %v", len(got), recorded, st.Timeline)
	}
	// They alternate: before the due time, then at it; never one twice.
	for i, m := range got {
		overdue := strings.Contains(m.Text, "none was posted")
		if overdue != (i%2 == 1) {
			t.Errorf("reminder %d (%s) out of turn: %q", i+1, m.At.Format("15:04:05.000"), m.Text)
		}
	}
	var noNews int
	for _, u := range st.Updates {
		if u.Kind == "no-news" {
			noNews++
		}
	}
	// One per cycle that ran past its "no news" time: the first did, in the outage.
	if noNews < 1 || noNews > len(got)/2 {
		t.Errorf("%d 'no news' notices for %d reminders", noNews, len(got))
	}
}
