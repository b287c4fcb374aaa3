package workflows_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// recordCatalog pages in seconds, so each scenario plays out on a real
// server in a few seconds.
const recordCatalog = `
catch_all: pay
bundle_window: 3s
people:
  - handle: alice
    contacts: [{sms: "+15550100001"}, {email: alice@example.com}]
  - handle: carol
    contacts: [{pagerduty: 0123456789abcdef0123456789abcdef}, {sms: "+15550100003"}]
  - handle: frank
    contacts: [{email: frank@example.com}]
  - handle: bea
    contacts: [{sms: "+15550100009"}, {email: bea@example.com}]
  - handle: cody
    contacts: [{chat: U7}, {sms: "+15550100007"}]
rotations:
  - name: comms
    members: [cody]
    shift: weekly
    handoff_time: "09:00"
    timezone: UTC
    start: 2026-01-05
  - name: later
    members: [carol]
    shift: weekly
    handoff_time: "09:00"
    timezone: UTC
    start: 2099-01-05
teams:
  - name: pay
    policy: pay-policy
    members: [alice, carol]
    approvers: [frank]
  - name: web
    policy: web-policy
    members: [bea, carol]
  - name: ops
    policy: pay-policy
    comms_rotation: comms
    members: [alice, cody]
services:
  - name: checkout
    team: pay
    tier: 1
  - name: web
    team: web
    tier: 1
    group_window: 1m
  - name: api
    team: ops
    tier: 1
    stakeholder_groups: [staff, customers]
    status_page_components: [API]
escalation_policies:
  - name: web-policy
    levels:
      - targets: [{rotation: later}]
        delay: 1m
      - targets: [{person: bea}]
        delay: 2s
    repeat: 0
  - name: pay-policy
    levels:
      - targets: [{person: alice}]
        delay: 2s
      - targets: [{person: carol}]
        delay: 2s
    repeat: 0
    fallback: frank
severities:
  SEV1: {channels: {1: [sms], 2: [sms], 3: [sms]}, update_cadence: 30m, repage_after_ack: 2s, repage_escalate_after: 1, auto_resolve_after: 2s}
  SEV2: {channels: {1: [pagerduty], 2: [sms], 3: [sms]}, update_cadence: 1h}
  SEV3: {channels: {1: [email], 2: [email], 3: [email]}, update_cadence: 4h}
  SEV4: {channels: {1: [sms], 2: [sms], 3: [sms]}, update_cadence: 3s, notice: open, war_room: open, no_news_after: 2s}
stakeholder_groups:
  - {name: staff, audience: internal, emails: [staff@example.com]}
  - {name: customers, audience: external, emails: [customers@example.com]}
comms:
  remind_before: 1s
  role_unfilled_after: 2s
  update_window: 2s
  roles:
    - {name: partner-comms, title: Partner comms, stakeholder_groups: [customers]}
postmortem:
  due_after: 2s
  remind_every: 2s
  approval_remind_every: 2s
  give_up_after: 30s
  responders: [alice, carol]
`

// memComms stands in for every comms provider.
type memComms struct{}

func (memComms) Open(context.Context, string, activities.StatusPost) (string, string, error) {
	return "sp-1", "https://status.example.com/incidents/sp-1", nil
}
func (memComms) Update(context.Context, string, activities.StatusPost) error { return nil }
func (memComms) Platform() string                                            { return "slack" }
func (memComms) Create(_ context.Context, name string) (string, string, error) {
	return "C-" + name, "https://chat.example.com/" + name, nil
}
func (memComms) Invite(context.Context, string, ...string) error      { return nil }
func (memComms) Post(context.Context, string, string) (string, error) { return "m-1", nil }
func (memComms) Edit(context.Context, string, string, string) error   { return nil }
func (memComms) Link(_ context.Context, id, _ string) (string, error) {
	return "https://meet.example.com/" + id, nil
}
func (memComms) Send(context.Context, integrations.Email) (string, error) { return "e-1", nil }

// okNotifier delivers everything but what fail names (person/channel).
type okNotifier struct {
	ch   catalog.Channel
	fail map[string]bool
}

func (n okNotifier) Notify(_ context.Context, m activities.Message) (string, error) {
	if n.fail[m.Person+"/"+string(n.ch)] {
		return "", &integrations.Error{Provider: "fake", Kind: integrations.Permanent, Status: 400, Code: "21211", Message: "invalid number"}
	}
	return "id-" + m.Person, nil
}

func (n okNotifier) Sync(context.Context, string, activities.Message) error { return nil }

// TestRecordHistories plays each scenario on a real dev server and stores
// its histories in testdata/, for TestReplay. `make histories` runs it; it is
// skipped otherwise.
func TestRecordHistories(t *testing.T) {
	bin := os.Getenv("SITREP_TEMPORAL_BIN")
	if os.Getenv("SITREP_RECORD_HISTORIES") == "" || bin == "" {
		t.Skip("records only under `make histories`")
	}
	srv, err := testsuite.StartDevServer(context.Background(), testsuite.DevServerOptions{
		ExistingPath: bin, LogLevel: "error",
		SearchAttributes: temporal.NewSearchAttributes(workflows.SearchAttributes...),
		ExtraArgs:        []string{"--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=80"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Stop() }()
	c := srv.Client()
	cat, err := catalog.Parse("record.yaml", []byte(recordCatalog))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	fail := map[string]bool{"bea/sms": true}
	trk := &memTracker{status: map[string]string{}}
	w := worker.New(c, workflows.TaskQueue, worker.Options{})
	workflows.Register(w)
	st := starter.New(c)
	w.RegisterActivity(&activities.Activities{Catalog: activities.StaticCatalog{C: cat}, Templates: tmpl, Pagers: st,
		Forwarder: st, Stories: st, Notifiers: map[catalog.Channel]activities.Notifier{catalog.SMS: okNotifier{catalog.SMS, fail},
			catalog.Email: okNotifier{catalog.Email, fail}, catalog.PagerDuty: okNotifier{catalog.PagerDuty, fail},
			catalog.Chat: okNotifier{catalog.Chat, fail}},
		Tracker: trk, Comms: activities.CommsDeps{StatusPage: memComms{}, Rooms: memComms{}, Bridges: memComms{}, Mailer: memComms{}},
		Merger: st})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	st.Groups = func(service string) bool { return service == "web" }
	alertOn := func(service, key string, sev catalog.Severity, resolved bool) string {
		r, err := st.Alert(ctx, workflows.Alert{Source: workflows.Monitoring, Service: service, Severity: sev,
			Summary: key, DedupKey: key, Integration: "record", Resolved: resolved})
		if err != nil {
			t.Fatal(err)
		}
		return r.IncidentID
	}
	alert := func(key string, sev catalog.Severity, resolved bool) string {
		return alertOn("checkout", key, sev, resolved)
	}
	until := func(id string, ok func(workflows.IncidentState) bool) {
		deadline := time.Now().Add(time.Minute)
		for {
			s, err := st.Status(ctx, id)
			if err == nil && ok(s) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never reached the state wanted: %+v (%v)", id, s.Phase, err)
			}
			<-time.After(100 * time.Millisecond)
		}
	}
	phase := func(p workflows.Phase) func(workflows.IncidentState) bool {
		return func(s workflows.IncidentState) bool { return s.Phase == p }
	}
	kind := func(k string) func(workflows.IncidentState) bool {
		return func(s workflows.IncidentState) bool {
			return strings.Contains(fmt.Sprint(s.Timeline), " "+k+" ")
		}
	}

	// ack, re-page, re-page escalation, mitigate, resolve.
	id := alert("repage", catalog.SEV1, false)
	until(id, func(s workflows.IncidentState) bool { return len(s.Paged) > 0 })
	if _, err := st.Acknowledge(ctx, id, "", workflows.AckRequest{Person: "alice", Channel: "cli"}); err != nil {
		t.Fatal(err)
	}
	until(id, kind("repage.escalated"))
	ok(t)(st.Mitigate(ctx, id, "", workflows.PhaseRequest{By: "alice"}))
	ok(t)(st.Resolve(ctx, id, "", workflows.PhaseRequest{By: "alice"}))
	save(t, c, id, "ack-repage-escalate-resolve")

	// exhausted: nobody answers; the fallback is told; the source clears
	// (mitigated), the alert fires again (re-opened), clears, auto-resolves.
	id = alert("exhausted", catalog.SEV1, false)
	until(id, func(s workflows.IncidentState) bool { return s.Unacknowledged })
	alert("exhausted", catalog.SEV1, true)
	until(id, phase(workflows.Mitigated))
	alert("exhausted", catalog.SEV1, false)
	until(id, kind("reopened"))
	alert("exhausted", catalog.SEV1, true)
	until(id, phase(workflows.Resolved))
	save(t, c, id, "exhausted-reopen-autoresolve")

	// PagerDuty page, acknowledged, resolved while the sync may be in flight.
	id = alert("pagerduty", catalog.SEV2, false)
	until(id, func(s workflows.IncidentState) bool { return len(s.PagerTargets) > 0 && len(s.Paged) > 0 })
	if _, err := st.Acknowledge(ctx, id, "", workflows.AckRequest{Person: "carol", Channel: "cli"}); err != nil {
		t.Fatal(err)
	}
	ok(t)(st.Resolve(ctx, id, "", workflows.PhaseRequest{By: "carol"}))
	save(t, c, id, "pagerduty-sync-resolve")

	// Bundling: three incidents within alice's window; the second and third
	// go out in one bundle.
	a1, a2, a3 := alert("bundle-1", catalog.SEV1, false), alert("bundle-2", catalog.SEV1, false), alert("bundle-3", catalog.SEV1, false)
	until(a3, func(s workflows.IncidentState) bool {
		for _, p := range s.Pages {
			if p.Bundle != "" && p.Outcome == workflows.Delivered {
				return true
			}
		}
		return false
	})
	for _, id := range []string{a1, a2, a3} {
		ok(t)(st.Resolve(ctx, id, "", workflows.PhaseRequest{By: "alice"}))
	}
	save(t, c, a3, "bundled")
	save(t, c, workflows.PagerID("alice"), "pager")

	// A grouped service: level 1's rotation has not started (unreachable:
	// escalates at once); bea's sms is refused for good (her email instead);
	// a second alert groups in, a late one is forwarded.
	g := alertOn("web", "web-1", catalog.SEV1, false)
	alertOn("web", "web-2", catalog.SEV1, false)
	until(g, func(s workflows.IncidentState) bool { return len(s.Keys) == 2 && slices.Contains(s.Paged, "bea") })
	ok(t)(st.Resolve(ctx, g, "", workflows.PhaseRequest{By: "bea"}))
	save(t, c, g, "grouped-unreachable-fallback-channel")

	// Comms: the notice and the war room as the incident opens, cody (comms
	// lead) reminded, the commander at the due time, "no news" posted; an
	// update, a role, mitigation and resolution with their notices.
	id = alertOn("api", "comms", catalog.SEV4, false)
	until(id, func(s workflows.IncidentState) bool { return s.WarRoom != nil && len(s.Paged) > 0 })
	if _, err := st.Acknowledge(ctx, id, "", workflows.AckRequest{Person: "alice", Channel: "cli"}); err != nil {
		t.Fatal(err)
	}
	until(id, func(s workflows.IncidentState) bool {
		return slices.ContainsFunc(s.Updates, func(u workflows.UpdateRecord) bool { return u.Kind == "no-news" })
	})
	update := func(name string, arg any) {
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name,
			WaitForStage: client.WorkflowUpdateStageCompleted, Args: []any{arg}})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	update(workflows.PostUpdateUpdate, workflows.UpdateRequest{By: "cody", Status: workflows.StatusIdentified, Message: "Found it."})
	update(workflows.AssignRoleUpdate, workflows.RoleRequest{Role: "partner-comms", Person: "bea", By: "alice"})
	ok(t)(st.Mitigate(ctx, id, "", workflows.PhaseRequest{By: "alice"}))
	ok(t)(st.Resolve(ctx, id, "", workflows.PhaseRequest{By: "alice"}))
	save(t, c, id, "comms")
	until(id, func(s workflows.IncidentState) bool { return s.PostIncident != "" })
	s, err := st.Status(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	save(t, c, s.PostIncident, "post-incident-comms")
	// The Stories the comms incident told: its status page story, opened
	// and resolved; staff's update window, an email at once then digests.
	storyDone := func(scope string) {
		deadline := time.Now().Add(time.Minute)
		for {
			d, err := c.DescribeWorkflowExecution(ctx, workflows.StoryID(scope), "")
			if err == nil && d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("story %s still running: %v", scope, err)
			}
			<-time.After(100 * time.Millisecond)
		}
	}
	storyDone("status-page")
	save(t, c, workflows.StoryID("status-page"), "story-status-page")
	storyDone("email-staff")
	save(t, c, workflows.StoryID("email-staff"), "story-email-staff")

	// Continue-as-new (the server suggests it at 80 events here): repeats
	// fold in until the incident hands over to a new run.
	id = alert("long", catalog.SEV3, false)
	first, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 60 {
		alert("long", catalog.SEV3, false)
	}
	until(id, func(s workflows.IncidentState) bool { return s.AlertCount == 61 })
	ok(t)(st.Resolve(ctx, id, "", workflows.PhaseRequest{By: "alice"}))
	saveRun(t, c, id, first.GetWorkflowExecutionInfo().GetExecution().GetRunId(), "continue-as-new")

	recordMerge(ctx, t, c, st, alert, until)
	recordPostIncident(ctx, t, c, st, trk)
}

// recordMerge records a merge: the merged incident hands its record over,
// passes a repeat of its alert on, and, once the target has resolved, the
// next firing opens a new incident in its place.
func recordMerge(ctx context.Context, t *testing.T, c client.Client, st *starter.Client,
	alert func(string, catalog.Severity, bool) string, until func(string, func(workflows.IncidentState) bool)) {
	tgt := alert("merge-target", catalog.SEV1, false)
	src := alert("merge-source", catalog.SEV1, false)
	first, err := c.DescribeWorkflowExecution(ctx, src, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Merge(ctx, src, "", workflows.MergeRequest{Into: tgt, By: "alice"}); err != nil {
		t.Fatal(err)
	}
	alert("merge-source", catalog.SEV1, false)
	until(tgt, func(s workflows.IncidentState) bool { return s.AlertCount == 3 })
	ok(t)(st.Resolve(ctx, tgt, "", workflows.PhaseRequest{By: "alice"}))
	alert("merge-source", catalog.SEV1, false)
	saveRun(t, c, src, first.GetWorkflowExecutionInfo().GetExecution().GetRunId(), "merge-forward-reopen")
	save(t, c, tgt, "merge-target")
	until(src, func(s workflows.IncidentState) bool { return s.Phase == workflows.Triggered })
	ok(t)(st.Resolve(ctx, src, "", workflows.PhaseRequest{By: "alice"}))
}

// recordPostIncident records the post-incident workflows: a post-mortem
// submitted, rejected, edited and approved; a follow-up that continues as
// new with an item added before it hands over, and ends when all are done.
func recordPostIncident(ctx context.Context, t *testing.T, c client.Client, st *starter.Client, trk *memTracker) {
	now := time.Now().UTC()
	in := workflows.PostIncidentInput{Incident: workflows.IncidentState{ID: "inc-checkout-00000000000000aa", Run: "rec", Phase: workflows.Resolved,
		Service: "checkout", KnownService: true, Team: "pay", Severity: catalog.SEV2, Source: workflows.External, Reporter: "a customer",
		Summary: "customers cannot pay", ResolvedAt: &now, Timeline: []workflows.Event{{At: now, Kind: "resolved", Text: "resolved"}}}}
	in.Incident.AcknowledgedBy, in.Incident.Paged = "alice", []string{"alice"}
	ref := workflows.IncidentRef(in.Incident.ID, in.Incident.Run)
	id := workflows.PostIncidentID(ref)
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, workflows.PostIncident, in); err != nil {
		t.Fatal(err)
	}
	sub := workflows.Submission{RootCause: "a change", Impact: activities.Impact{Duration: "30m", CustomersAffected: "some", SLOEffect: "none"},
		ActionItems: []workflows.ActionItem{{Title: "test changes", Owner: "alice", Due: now.AddDate(0, 0, 7).Format(time.DateOnly)}},
		Learnings:   []string{"look first"}}
	postUntil := func(ok func(workflows.PostIncidentState) bool) {
		deadline := time.Now().Add(time.Minute)
		for {
			s, err := st.PostIncident(ctx, id)
			if err == nil && ok(s) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never reached the state wanted: %+v (%v)", id, s.Phase, err)
			}
			<-time.After(100 * time.Millisecond)
		}
	}
	inReview := func(s workflows.PostIncidentState) bool { return s.Phase == workflows.InReview }
	postUntil(func(s workflows.PostIncidentState) bool { return s.Meeting != nil || len(s.Timeline) > 3 })
	must(t)(st.SubmitPostmortem(ctx, id, "", workflows.SubmitRequest{Submission: sub, By: "alice"}, false))
	postUntil(inReview)
	mustD(t)(st.Decide(ctx, id, "", workflows.DecisionRequest{By: "frank", Comment: "plainer, please"}, false))
	postUntil(func(s workflows.PostIncidentState) bool { return s.Phase == workflows.PostmortemDue })
	must(t)(st.SubmitPostmortem(ctx, id, "", workflows.SubmitRequest{Submission: sub, By: "alice"}, true))
	postUntil(func(s workflows.PostIncidentState) bool { return s.Phase == workflows.InReview && s.Version == 2 })
	mustD(t)(st.Decide(ctx, id, "", workflows.DecisionRequest{By: "frank"}, true))
	save(t, c, id, "postincident-reject-edit-approve")

	// The follow-up, a "week" a second: two weeks a run.
	fin := workflows.FollowUpState{Ref: "rec-followup", IncidentID: "inc-rec", Service: "checkout", Team: "pay", Summary: "customers cannot pay",
		Resolved: now, Schedule: workflows.FollowUpSchedule{Every: time.Second, Zone: "UTC"}, ContinueEvery: 2}
	for i, title := range []string{"one", "two"} {
		key := fmt.Sprintf("REC-%d", i+1)
		trk.set(key, "new")
		fin.Items = append(fin.Items, workflows.FollowItem{ActionItem: workflows.ActionItem{ID: fmt.Sprint("A", i+1), Title: title,
			Owner: "alice", Due: now.Format(time.DateOnly), Ticket: key}})
	}
	fid := workflows.FollowUpID("rec-followup")
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fid, TaskQueue: workflows.TaskQueue}, workflows.FollowUp, fin); err != nil {
		t.Fatal(err)
	}
	first, err := c.DescribeWorkflowExecution(ctx, fid, "")
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: fid, UpdateName: workflows.AddActionUpdate,
		Args:         []any{workflows.AddActionRequest{Item: workflows.ActionItem{Title: "three", Owner: "carol", Due: now.Format(time.DateOnly)}}},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	trk.set("REC-1", "done")
	firstRun := first.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	for deadline := time.Now().Add(time.Minute); ; {
		d, err := c.DescribeWorkflowExecution(ctx, fid, "")
		if err == nil && d.GetWorkflowExecutionInfo().GetExecution().GetRunId() != firstRun {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never continued as new (%v)", fid, err)
		}
		<-time.After(100 * time.Millisecond)
	}
	for _, k := range trk.keys() {
		trk.set(k, "done")
	}
	saveRun(t, c, fid, firstRun, "followup-continue-as-new")
	save(t, c, fid, "followup-until-done")
}

func must(t *testing.T) func(workflows.SubmitResult, error) {
	return func(_ workflows.SubmitResult, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func mustD(t *testing.T) func(workflows.DecisionResult, error) {
	return func(_ workflows.DecisionResult, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// memTracker is an issue tracker in memory.
type memTracker struct {
	mu     sync.Mutex
	status map[string]string // key → category
	marks  map[string]string
}

func (m *memTracker) set(key, category string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.status[key] = category
}

func (m *memTracker) keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.status {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (m *memTracker) File(_ context.Context, tk activities.Ticket) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.marks == nil {
		m.marks = map[string]string{}
	}
	if k, ok := m.marks[tk.Marker]; ok {
		return k, nil
	}
	k := fmt.Sprintf("OPS-%d", len(m.marks)+1)
	m.marks[tk.Marker] = k
	m.status[k] = "new"
	return k, nil
}

func (m *memTracker) Status(_ context.Context, key string) (activities.TicketStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.status[key]
	if !ok {
		return activities.TicketStatus{}, &integrations.Error{Provider: "mem", Kind: integrations.Permanent, Status: 404, Message: "no such issue"}
	}
	return activities.TicketStatus{Name: c, Category: c}, nil
}

func (m *memTracker) URL(key string) string { return "https://tracker.example.com/" + key }

// okMailer takes every email.
type okMailer struct{}

func (okMailer) Send(context.Context, integrations.Email) (string, error) { return "mail", nil }

func ok(t *testing.T) func(workflows.PhaseResult, error) {
	return func(_ workflows.PhaseResult, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// save waits for the workflow's current run to close and writes its history.
func save(t *testing.T, c client.Client, id, name string) {
	t.Helper()
	saveRun(t, c, id, "", name)
}

// saveRun waits for a run (the current one when run is "") to close and
// writes its history.
func saveRun(t *testing.T, c client.Client, id, run, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if run == "" {
		wr := c.GetWorkflow(ctx, id, "")
		if err := wr.Get(ctx, nil); err != nil {
			t.Logf("%s closed with %v", id, err)
		}
		run = wr.GetRunID()
	}
	var h historypb.History
	it := c.GetWorkflowHistory(ctx, id, run, true, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	b, err := protojson.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", name+".json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
