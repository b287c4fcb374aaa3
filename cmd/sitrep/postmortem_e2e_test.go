package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/jira"
	"github.com/sitrep-dev/sitrep/integrations/sendgrid"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/worker"
	"github.com/sitrep-dev/sitrep/workflows"
)

// pmE2ECatalog: alice is on call and will command; frank (manager) and
// grace (PR) approve for team pay; gina plans the work; zed approves nothing.
// The follow-up's "week" is two seconds.
const pmE2ECatalog = `
catch_all: pay
people:
  - handle: alice
    contacts: [{sms: "+15550100001"}, {email: alice@example.com}]
  - handle: bob
    contacts: [{email: bob@example.com}]
  - handle: frank
    contacts: [{email: frank@example.com}]
  - handle: grace
    contacts: [{email: grace@example.com}]
  - handle: gina
    contacts: [{email: gina@example.com}]
  - handle: zed
    contacts: [{email: zed@example.com}]
teams:
  - name: pay
    policy: pay-policy
    members: [alice, bob]
    managers: [frank]
    product_managers: [gina]
    approvers: [frank, grace]
services:
  - name: checkout
    team: pay
    tier: 1
    stakeholder_groups: [customers, staff]
    status_page_components: [Online payments]
escalation_policies:
  - name: pay-policy
    levels:
      - targets: [{person: alice}]
        delay: 1m
severities:
  SEV1: {channels: {1: [sms], 2: [sms], 3: [sms]}, update_cadence: 30m}
  SEV2: {channels: {1: [sms], 2: [sms], 3: [sms]}, update_cadence: 1h}
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
  due_after: 2s
  follow_up: {every: 2s}
  responders: [alice, bob]
  learnings_file: LEARNINGS
`

// The whole after-incident path on a dev server through the sandbox: a
// customer's report is resolved; the post-mortem document lands in the Jira
// fake, the invite (an iCalendar request) and the managers' detection-gap
// notice in the mail fake; the post-mortem is submitted, a non-approver is
// refused, an approver rejects it, it is edited and approved; the summary
// reaches both stakeholder groups, the action items become tickets, the
// learnings are recorded; the tickets are closed in the Jira fake and the
// follow-up ends with its final notice. The same alert firing again
// meanwhile opens a new incident and leaves the post-mortem alone.
func TestEndToEndAfterTheIncident(t *testing.T) {
	dir := t.TempDir()
	learnings := filepath.Join(dir, "learnings.jsonl")
	cat, err := catalog.Parse("pm.yaml", []byte(strings.Replace(pmE2ECatalog, "LEARNINGS", learnings, 1)))
	if err != nil {
		t.Fatal(err)
	}
	s := startE2E(t, stackOptions{Catalog: cat, NoWorker: true})
	env := func(k string) string {
		switch k {
		case "JIRA_BASE_URL":
			return s.SandboxURL
		case "JIRA_EMAIL":
			return "sitrep@example.com"
		case "JIRA_API_TOKEN":
			return "sandbox-token"
		case "JIRA_PROJECT":
			return "OPS"
		}
		return s.Env(k)
	}
	tracker, err := worker.NewTracker(env)
	if err != nil || tracker == nil {
		t.Fatalf("tracker: %v", err)
	}
	sgCfg, ok, err := sendgrid.ConfigFromEnv(env)
	if err != nil || !ok {
		t.Fatalf("sendgrid config: %v", err)
	}
	mailer, err := sendgrid.New(sgCfg)
	if err != nil {
		t.Fatal(err)
	}
	notifiers, err := worker.Providers(env, "")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	st := starter.New(s.Client)
	w := sdkworker.New(s.Client, workflows.TaskQueue, sdkworker.Options{})
	workflows.Register(w)
	w.RegisterActivity(&activities.Activities{Catalog: activities.StaticCatalog{C: cat}, Templates: tmpl, Notifiers: notifiers,
		Pagers: st, Forwarder: st, Tracker: tracker, Comms: activities.CommsDeps{Mailer: mailer}})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	c := newCLI(t, s)
	mails := func(to, subject string) []sendgrid.Mail {
		var out []sendgrid.Mail
		for _, m := range s.Sandbox.SendGrid.Received() {
			if slices.Contains(m.To, to) && strings.Contains(m.Subject, subject) {
				out = append(out, m)
			}
		}
		return out
	}
	waitMail := func(to, subject string) sendgrid.Mail {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; {
			if m := mails(to, subject); len(m) > 0 {
				return m[len(m)-1]
			}
			if time.Now().After(deadline) {
				t.Fatalf("no mail to %s about %q", to, subject)
			}
			<-time.After(100 * time.Millisecond)
		}
	}

	var rc starter.Receipt
	c.mustJSON(&rc, "declare", "--service", "checkout", "--severity", "SEV2", "--summary", "customers cannot pay",
		"--source", "external", "--reporter", "a customer")
	if _, errs, code := c.run("ack", rc.IncidentID, "--as", "alice"); code != 0 {
		t.Fatalf("ack: %d %s", code, errs)
	}
	if _, errs, code := c.run("resolve", rc.IncidentID, "--by", "alice"); code != 0 {
		t.Fatalf("resolve: %d %s", code, errs)
	}
	var inc workflows.IncidentState
	c.mustJSON(&inc, "status", rc.IncidentID)
	post := inc.PostIncident
	if post == "" {
		t.Fatalf("resolved incident names no post-incident workflow: %+v", inc)
	}
	// The same alert again: a new incident; the post-mortem goes on.
	var again starter.Receipt
	c.mustJSON(&again, "declare", "--service", "checkout", "--severity", "SEV2", "--summary", "customers cannot pay",
		"--source", "external", "--reporter", "a customer")
	if !again.Opened || again.IncidentID != rc.IncidentID {
		t.Errorf("second firing: %+v, want a new incident with the same ID", again)
	}
	// By the incident's ID, the post-mortem meant is the resolved one's.
	for deadline := time.Now().Add(15 * time.Second); ; {
		var byID workflows.PostIncidentState
		out, errs, code := c.run("postmortem", "show", rc.IncidentID, "-o", "json")
		if code == 0 && jsonInto(out, &byID) && "post-"+byID.Ref == post {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("postmortem show %s after the alert fired again: exit %d %s %s", rc.IncidentID, code, out, errs)
		}
		<-time.After(200 * time.Millisecond)
	}

	show := func(pred func(workflows.PostIncidentState) bool, what string) workflows.PostIncidentState {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; {
			var ps workflows.PostIncidentState
			out, _, code := c.run("postmortem", "show", post, "-o", "json")
			if code == 0 && jsonInto(out, &ps) && pred(ps) {
				return ps
			}
			if time.Now().After(deadline) {
				t.Fatalf("post-mortem never %s: %s", what, out)
			}
			<-time.After(100 * time.Millisecond)
		}
	}
	ps := show(func(p workflows.PostIncidentState) bool { return p.Ticket != "" && p.Meeting != nil }, "published with a meeting")
	doc := s.Sandbox.Jira.ExpectIssue(t, "postmortem/"+strings.TrimPrefix(post, "post-"), "Post-mortem")
	if !strings.Contains(doc.Description, "Time to acknowledge") || !strings.Contains(doc.Description, "customers cannot pay") {
		t.Errorf("post-mortem document in Jira:\n%s", doc.Description)
	}
	invite := waitMail("alice@example.com", "Post-mortem: checkout")
	if len(invite.Attachments) != 1 || !strings.HasPrefix(invite.Attachments[0].ContentType, "text/calendar; method=REQUEST") ||
		!strings.Contains(string(invite.Attachments[0].Content), "METHOD:REQUEST") {
		t.Errorf("invite: %+v", invite.Attachments)
	}
	waitMail("frank@example.com", "before monitoring did")
	// A manager's view: overdue two seconds after resolution, the
	// commander reminded.
	for deadline := time.Now().Add(20 * time.Second); ; {
		var overdue []starter.PostmortemListed
		c.mustJSON(&overdue, "postmortem", "list", "--overdue")
		if i := slices.IndexFunc(overdue, func(l starter.PostmortemListed) bool { return l.ID == post }); i >= 0 {
			if overdue[i].Phase != workflows.PostmortemDue || overdue[i].Due.IsZero() || overdue[i].Service != "checkout" {
				t.Errorf("overdue: %+v", overdue[i])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("postmortem list --overdue never showed %s: %+v", post, overdue)
		}
		<-time.After(200 * time.Millisecond)
	}
	waitMail("alice@example.com", "Post-mortem due")
	if text, _, code := c.run("postmortem", "show", post); code != 0 || !strings.Contains(text, "Phase: postmortem-due") || !strings.Contains(text, ps.Ticket) {
		t.Errorf("postmortem show:\n%s", text)
	}

	pm := filepath.Join(dir, "pm.yaml")
	write := func(whatHappened string) {
		b, err := os.ReadFile(repoFile("examples/postmortem.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		src := strings.Replace(string(b), "what_happened: A change we made left our payment system unable to keep up with evening traffic.",
			"what_happened: "+strconv.Quote(whatHappened), 1)
		if err := os.WriteFile(pm, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Our payment system could not keep up with evening traffic.")
	if out, errs, code := c.run("postmortem", "submit", post, "--file", pm, "--as", "alice"); code != 0 || !strings.Contains(out, "frank, grace") {
		t.Fatalf("submit: %d %s %s", code, out, errs)
	}
	show(func(p workflows.PostIncidentState) bool { return p.Phase == workflows.InReview && p.Version == 1 }, "in review")
	// Before approval, show lists the items as submitted, beside the gap's.
	text, errs, code := c.run("postmortem", "show", post)
	if i := strings.Index(text, "\nAction items"); code != 0 || i < 0 {
		t.Errorf("postmortem show before approval: exit %d %s\n%s", code, errs, text)
	} else if items := text[i:strings.Index(text, "\nLearnings")]; !strings.Contains(items, "[A1] Check connection limits before a configuration change goes out (owner alice") ||
		!strings.Contains(items, "[A2] Alert on queued connections per database node (owner bob") ||
		!strings.Contains(items, "[gap] Close the monitoring gap") || strings.Contains(items, "none") {
		t.Errorf("postmortem show before approval lists:\n%s", items)
	}
	waitMail("grace@example.com", "Approve the summary")
	if _, errs, code := c.run("postmortem", "approve", post, "--as", "zed"); code != exitRejected || !strings.Contains(errs, "not an approver") {
		t.Errorf("zed approves: exit %d, %s", code, errs)
	}
	if _, errs, code := c.run("postmortem", "reject", post, "--as", "grace", "--comment", "Say sorry first."); code != 0 {
		t.Fatalf("reject: %d %s", code, errs)
	}
	back := waitMail("alice@example.com", "returned by grace")
	if !strings.Contains(back.Text, "Say sorry first.") {
		t.Errorf("rejection mail:\n%s", back.Text)
	}
	show(func(p workflows.PostIncidentState) bool { return p.Phase == workflows.PostmortemDue }, "back with the commander")
	write("We are sorry: our payment system could not keep up with evening traffic.")
	if _, errs, code := c.run("postmortem", "edit", post, "--file", pm, "--as", "alice"); code != 0 {
		t.Fatalf("edit: %d %s", code, errs)
	}
	show(func(p workflows.PostIncidentState) bool { return p.Phase == workflows.InReview && p.Version == 2 }, "in review again")
	if _, errs, code := c.run("postmortem", "approve", post, "--as", "frank", "--version", "2"); code != 0 {
		t.Fatalf("approve: %d %s", code, errs)
	}
	ps = show(func(p workflows.PostIncidentState) bool { return p.Phase == workflows.FollowingUp }, "following up")
	if len(ps.Decisions) != 2 || ps.Decisions[1].By != "frank" || !ps.Decisions[1].Approved {
		t.Errorf("decisions: %+v", ps.Decisions)
	}
	ext := waitMail("customers@example.com", "incident summary")
	if !strings.Contains(ext.Text, "We are sorry") || !strings.Contains(ext.Text, "Online payments did not work") || strings.Contains(ext.Text, "lowered the payment database") || strings.Contains(ext.Text, "alice") {
		t.Errorf("external summary:\n%s", ext.Text)
	}
	if in := waitMail("staff@example.com", "incident summary"); !strings.Contains(in.Text, "lowered the payment database") {
		t.Errorf("internal summary:\n%s", in.Text)
	}
	waitMail("gina@example.com", "Action items")
	waitMail("bob@example.com", "Learnings")
	var items []jira.IssueState
	for _, iss := range s.Sandbox.Jira.Issues() {
		if slices.Contains(iss.Labels, "action-item") {
			items = append(items, iss)
		}
	}
	if len(items) != 3 { // the detection gap's and the two submitted
		t.Fatalf("action-item tickets: %d", len(items))
	}
	for _, iss := range items {
		if !slices.Contains(iss.Labels, "incident-"+rc.IncidentID) || iss.Priority == "" {
			t.Errorf("ticket %s: labels %v priority %q", iss.Key, iss.Labels, iss.Priority)
		}
	}
	if out, _, code := c.run("learnings"); code != exitUsage {
		t.Errorf("learnings without a catalog: exit %d %s", code, out)
	}
	if rec, err := activities.ReadLearnings(learnings, time.Time{}); err != nil || len(rec) != 1 {
		t.Errorf("learnings record: %v %v", rec, err)
	}

	// Close every ticket in Jira; the follow-up sees it and ends.
	for _, iss := range items {
		if err := s.Sandbox.Jira.SetStatus(iss.Key, "Done", "done"); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var fu workflows.FollowUpState
	if err := s.Client.GetWorkflow(ctx, ps.FollowUp, "").Get(ctx, &fu); err != nil {
		t.Fatalf("follow-up: %v", err)
	}
	if fu.Phase != workflows.Closed {
		t.Errorf("follow-up ended in %s", fu.Phase)
	}
	final := waitMail("frank@example.com", "are done")
	if !strings.Contains(final.Text, "last follow-up") {
		t.Errorf("final notice:\n%s", final.Text)
	}
	var listed []workflows.FollowItem
	c.mustJSON(&listed, "actions", "list", post)
	for _, it := range listed {
		if it.Category != "done" {
			t.Errorf("actions list: %s %s", it.ID, it.Category)
		}
	}
	fmt.Fprintf(os.Stderr, "after-incident e2e: %d tickets, follow-up %d week(s)\n", len(items), fu.Week)
}

func jsonInto(s string, v any) bool {
	return json.Unmarshal([]byte(s), v) == nil
}
