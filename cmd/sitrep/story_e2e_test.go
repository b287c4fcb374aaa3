package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
	"github.com/sitrep-dev/sitrep/integrations/statuspage"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// storyE2EWindow is the update window of the story tests: short, so a
// digest comes within the test, long enough for a storm to fit in one.
const storyE2EWindow = 20 * time.Second

// storyE2ECatalog is the comms catalog with a 20s update window and a
// second service, reports, that has no status page components: its
// external merchants hear by email.
func storyE2ECatalog() string {
	return strings.NewReplacer(
		"update_window: none", "update_window: "+storyE2EWindow.String(),
		"services:\n", "services:\n  - name: reports\n    team: pay\n    tier: 1\n    stakeholder_groups: [support, merchants]\n",
	).Replace(commsCatalogYAML("30m", "5m", "none", "none"))
}

// emailsTo lists, oldest first, the emails the inbox holds for address.
func emailsTo(msgs []inbox.Message, address string) []inbox.Message {
	var out []inbox.Message
	for _, m := range msgs {
		if m.Channel == "email" && strings.Contains(m.To, address) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b inbox.Message) int { return a.At.Compare(b.At) })
	return out
}

// A storm of 20 distinct SEV1 alerts on checkout (one cause) on the dev
// stack with the sandbox's fakes: one status page incident, every incident
// linked to it; support gets one email at once and one digest listing the
// rest; the status page resolves only with the last incident, and reads
// the --public text, never the note; support reads the note. Then the
// external email check: merchants, emailed about reports (no status page),
// never read a person's name or the note's host.
func TestEndToEndStormTellsOneStory(t *testing.T) {
	t.Parallel()
	cat, err := catalog.Parse("story.yaml", []byte(storyE2ECatalog()))
	if err != nil {
		t.Fatal(err)
	}
	s := startE2E(t, stackOptions{Catalog: cat})
	c := newCLI(t, s)
	st := starter.New(s.Client)
	ctx := context.Background()

	const storm = 20
	ids := make([]string, storm)
	var wg sync.WaitGroup
	errs := make([]error, storm)
	for i := range storm {
		wg.Go(func() {
			r, err := st.Alert(ctx, workflows.Alert{Source: workflows.Monitoring, Service: "checkout", Severity: catalog.SEV1,
				Summary: fmt.Sprintf("checkout 5xx on pay-db-7.internal, shard %d", i), DedupKey: fmt.Sprintf("storm-%d", i), Integration: "test"})
			ids[i], errs[i] = r.IncidentID, err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	stormAt := time.Now()
	status := func(id string) workflows.IncidentState {
		state, err := st.Status(ctx, id)
		if err != nil {
			t.Fatalf("status %s: %v", id, err)
		}
		return state
	}
	// Every incident records where its opening notice went: the status
	// page (its own post, or linked) and support (at once, or the digest).
	waitFor(t, "every incident's opening notice recorded", 2*time.Minute, func() bool {
		for _, id := range ids {
			u := status(id).Updates
			if len(u) == 0 || !slices.Contains(u[0].Sent, "email support") ||
				!slices.ContainsFunc(u[0].Sent, func(d string) bool { return strings.HasPrefix(d, "status page") }) {
				return false
			}
		}
		return true
	})
	pages := s.Sandbox.Statuspage.Incidents()
	if len(pages) != 1 {
		t.Fatalf("%d status page incidents opened, want 1: %+v", len(pages), pages)
	}
	linked := 0
	for _, id := range ids {
		state := status(id)
		if state.StatusPage == nil || state.StatusPage.ID != pages[0].ID {
			t.Errorf("%s names status page incident %+v, want %s", id, state.StatusPage, pages[0].ID)
		}
		if slices.Contains(state.Updates[0].Sent, "status page (linked)") {
			linked++
		}
	}
	if linked != storm-1 {
		t.Errorf("%d incidents linked to the status page incident, want %d", linked, storm-1)
	}
	support := emailsTo(readInbox(t, s), "support@example.com")
	if len(support) != 2 {
		t.Fatalf("support got %d emails for the storm, want 2 (one at once, one digest)", len(support))
	}
	for _, id := range ids {
		if !strings.Contains(support[0].Text+support[1].Text, id) {
			t.Errorf("support's emails never name %s", id)
		}
	}
	if len(emailsTo(readInbox(t, s), "merchant.example.com")) != 0 {
		t.Errorf("merchants were emailed though they read the status page")
	}

	// Resolved one by one: the page stays open until the last.
	const note = "internal host db-7.corp was at fault; alice restarted it"
	const public = "Checkout works again."
	for _, id := range ids[:storm-1] {
		if _, errs, code := c.run("resolve", id, "--by", "alice", "--note", note, "--public", public); code != 0 {
			t.Fatalf("resolve %s: %d %s", id, code, errs)
		}
	}
	waitFor(t, "the story to hear 19 resolutions", time.Minute, func() bool {
		v, err := s.Client.QueryWorkflow(ctx, workflows.StoryID("status-page"), "", workflows.StateQuery)
		if err != nil {
			return false
		}
		var ss workflows.StoryState
		if v.Get(&ss) != nil || len(ss.Stories) != 1 {
			return false
		}
		resolved := 0
		for _, l := range ss.Stories[0].Links {
			if l.Status == workflows.StatusResolved {
				resolved++
			}
		}
		return resolved == storm-1
	})
	page := func() statuspage.IncidentState { return s.Sandbox.Statuspage.Incidents()[0] }
	if p := page(); p.Status == "resolved" {
		t.Fatalf("status page incident resolved with one incident still open")
	}
	if _, errs, code := c.run("resolve", ids[storm-1], "--by", "alice", "--note", note, "--public", public); code != 0 {
		t.Fatalf("resolve: %d %s", code, errs)
	}
	waitFor(t, "the status page incident resolved", time.Minute, func() bool { return page().Status == "resolved" })
	if n := len(s.Sandbox.Statuspage.Incidents()); n != 1 {
		t.Errorf("%d status page incidents in all, want 1", n)
	}
	// The shared post speaks for every incident of the story: each finds
	// it in the sandbox, as it finds its own pages.
	for _, id := range []string{ids[0], ids[storm-1]} {
		resp, err := http.Get(s.SandboxURL + "/api/messages?channel=statuspage&incident=" + id)
		if err != nil {
			t.Fatal(err)
		}
		var msgs []inbox.Message
		err = json.NewDecoder(resp.Body).Decode(&msgs)
		resp.Body.Close()
		if err != nil || !slices.ContainsFunc(msgs, func(m inbox.Message) bool { return strings.HasPrefix(m.Text, "resolved") }) {
			t.Errorf("/api/messages?incident=%s: %d status page posts (%v), want the story's, its resolution included", id, len(msgs), err)
		}
	}
	var external []string
	for _, u := range page().Updates {
		external = append(external, u.Body)
	}
	if last := external[len(external)-1]; !strings.Contains(last, public) {
		t.Errorf("the final post %q lacks the public text", last)
	}
	external = append(external, page().Name)
	waitFor(t, "support to read the note", time.Minute, func() bool {
		for _, m := range emailsTo(readInbox(t, s), "support@example.com") {
			if strings.Contains(m.Text, "db-7.corp") {
				return true
			}
		}
		return false
	})

	// Merchants hear of reports by email: first at once, then the
	// mitigation in the window's digest.
	r, err := st.Alert(ctx, workflows.Alert{Source: workflows.Monitoring, Service: "reports", Severity: catalog.SEV1,
		Summary: "reports 5xx on pay-db-7.internal", DedupKey: "reports-1", Integration: "test"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "merchants' first email", time.Minute, func() bool { return len(emailsTo(readInbox(t, s), "ops@merchant.example.com")) == 1 })
	if _, errs, code := c.run("mitigate", r.IncidentID, "--by", "alice", "--note", note); code != 0 {
		t.Fatalf("mitigate: %d %s", code, errs)
	}
	waitFor(t, "merchants' digest", time.Minute, func() bool { return len(emailsTo(readInbox(t, s), "ops@merchant.example.com")) == 2 })
	merchants := emailsTo(readInbox(t, s), "ops@merchant.example.com")
	for _, m := range merchants {
		external = append(external, m.Subject+"\n"+m.Text)
	}
	for _, text := range external {
		for _, p := range cat.People {
			for _, name := range []string{p.Handle, p.Name} {
				if strings.Contains(strings.ToLower(text), strings.ToLower(name)) {
					t.Errorf("external text names %q: %q", name, text)
				}
			}
		}
		for _, bad := range []string{"db-7", "inc-", "5xx"} {
			if strings.Contains(text, bad) {
				t.Errorf("external text shows %q: %q", bad, text)
			}
		}
	}

	// At most one email per address per window, all along.
	for _, address := range []string{"support@example.com", "ops@merchant.example.com"} {
		got := emailsTo(readInbox(t, s), address)
		for i := 1; i < len(got); i++ {
			// The window opens as an email is handed to the provider; the
			// inbox stamps it a moment later.
			if gap := got[i].At.Sub(got[i-1].At); gap < storyE2EWindow-time.Second {
				t.Errorf("%s got two emails %s apart (window %s)", address, gap, storyE2EWindow)
			}
		}
	}
	t.Logf("storm of %d: 1 status page incident, support got %d emails in %s", storm, len(support), time.Since(stormAt).Round(time.Second))
}

// The worker is killed with SIGKILL after support's first email, while the
// rest of a storm waits for the window's digest, and stays down past the
// window's end. Started again, the digest goes out once, late, listing
// every incident, and every incident records it: a late digest, never a
// lost one, never two.
func TestEndToEndStoryDigestSurvivesWorkerKill(t *testing.T) {
	t.Parallel()
	catYAML := storyE2ECatalog()
	cat, err := catalog.Parse("story.yaml", []byte(catYAML))
	if err != nil {
		t.Fatal(err)
	}
	s := startE2E(t, stackOptions{Catalog: cat, NoWorker: true})
	startWorker, kill := workerProcess(t, s, catYAML)
	st := starter.New(s.Client)
	ctx := context.Background()
	w := startWorker()
	const storm = 5
	var ids []string
	for i := range storm {
		r, err := st.Alert(ctx, workflows.Alert{Source: workflows.Monitoring, Service: "checkout", Severity: catalog.SEV1,
			Summary: fmt.Sprintf("checkout 5xx, shard %d", i), DedupKey: fmt.Sprintf("kill-%d", i), Integration: "test"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.IncidentID)
	}
	support := func() []inbox.Message { return emailsTo(readInbox(t, s), "support@example.com") }
	waitFor(t, "support's first email", time.Minute, func() bool { return len(support()) == 1 })
	// Every notice has reached the Story before the kill: the digest owes
	// them all.
	waitFor(t, "the story to hold the other notices", time.Minute, func() bool {
		v, err := s.Client.QueryWorkflow(ctx, workflows.StoryID("email-support"), "", workflows.StateQuery)
		if err != nil {
			return false
		}
		var ss workflows.StoryState
		return v.Get(&ss) == nil && ss.Mail != nil && len(ss.Mail.Lines) == storm
	})
	kill(w)
	killedAt := time.Now()
	<-time.After(storyE2EWindow + 5*time.Second) // the outage, past the window's end; not a wait for async work
	if n := len(support()); n != 1 {
		t.Fatalf("support got %d emails with no worker running, want 1", n)
	}
	startWorker()
	waitFor(t, "the late digest", time.Minute, func() bool { return len(support()) == 2 })
	digest := support()[1]
	if digest.At.Sub(killedAt) < storyE2EWindow {
		t.Errorf("digest at %s, before the worker came back", digest.At)
	}
	for _, id := range ids {
		if !strings.Contains(support()[0].Text+digest.Text, id) {
			t.Errorf("support's emails never name %s", id)
		}
	}
	waitFor(t, "every incident recording its email", time.Minute, func() bool {
		for _, id := range ids {
			state, err := st.Status(ctx, id)
			if err != nil || len(state.Updates) == 0 || !slices.Contains(state.Updates[0].Sent, "email support") {
				return false
			}
		}
		return true
	})
	// No second digest: the window after it passes with nothing due.
	deadline := time.Now().Add(storyE2EWindow + 5*time.Second)
	for time.Now().Before(deadline) {
		if n := len(support()); n != 2 {
			t.Fatalf("support got %d emails, want 2", n)
		}
		<-time.After(500 * time.Millisecond) // poll interval
	}
}
