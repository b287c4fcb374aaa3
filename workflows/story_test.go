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
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// storyEnv runs a Story on its own, recording what it posts and emails and
// what it tells each incident, in virtual time since start.
type storyEnv struct {
	env     *testsuite.TestWorkflowEnvironment
	mu      sync.Mutex
	posts   []storyPosted
	emails  []storyMailed
	replies map[string][]StoryOutcome // workflow → outcomes, in order
}

type storyPosted struct {
	after time.Duration
	in    activities.StoryPost
	text  string // the body as the status page shows it
}

type storyMailed struct {
	after  time.Duration
	group  string
	digest bool
	count  int // incidents in it
	text   string
}

func newStoryEnv(t *testing.T) *storyEnv {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(quiet)
	e := &storyEnv{env: ts.NewTestWorkflowEnvironment(), replies: map[string][]StoryOutcome{}}
	e.env.SetStartTime(start)
	Register(e.env)
	e.env.RegisterActivity(&activities.Activities{})
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	since := func() time.Duration { return e.env.Now().Sub(start) }
	e.env.OnActivity("PostStory", mock.Anything, mock.Anything).Return(
		func(_ context.Context, p activities.StoryPost) (activities.StatusPageResult, error) {
			_, body, err := tmpl.Notice(p.Notice, catalog.External)
			e.mu.Lock()
			defer e.mu.Unlock()
			e.posts = append(e.posts, storyPosted{after: since(), in: p, text: body})
			return activities.StatusPageResult{ID: "sp1", URL: "https://status.example.com/incidents/sp1"}, err
		})
	e.env.OnActivity("EmailGroup", mock.Anything, mock.Anything).Return(
		func(_ context.Context, n activities.GroupNotice) (activities.NoticeResult, error) {
			_, text, err := tmpl.Notice(n.Notice, catalog.Internal)
			e.mu.Lock()
			defer e.mu.Unlock()
			e.emails = append(e.emails, storyMailed{after: since(), group: n.Group, count: 1, text: text})
			return activities.NoticeResult{Recipients: 1}, err
		})
	e.env.OnActivity("EmailDigest", mock.Anything, mock.Anything).Return(
		func(_ context.Context, d activities.Digest) (activities.NoticeResult, error) {
			_, text, err := tmpl.Digest(d, catalog.Internal)
			e.mu.Lock()
			defer e.mu.Unlock()
			e.emails = append(e.emails, storyMailed{after: since(), group: d.Group, digest: true, count: len(d.Lines), text: text})
			return activities.NoticeResult{Recipients: 1}, err
		})
	e.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", StoryOutcomeSignal, mock.Anything).Return(
		func(_, id, _, _ string, arg any) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.replies[id] = append(e.replies[id], arg.(StoryOutcome))
			return nil
		})
	return e
}

// tell hands the Story a notice at virtual time at.
func (e *storyEnv) tell(at time.Duration, n activities.StoryNotice) {
	e.env.RegisterDelayedCallback(func() { e.env.SignalWorkflow(TellSignal, n) }, at)
}

// spNotice is incident i's notice of kind k for the status page.
func spNotice(i int, k activities.NoticeKind, status StakeholderStatus, comps ...string) activities.StoryNotice {
	ref := fmt.Sprintf("inc-checkout-%d:run", i)
	if len(comps) == 0 {
		comps = []string{"Checkout"}
	}
	return activities.StoryNotice{Key: fmt.Sprintf("%s/%s/status page", ref, k), ReplyTo: fmt.Sprintf("inc-checkout-%d", i), Ref: ref,
		Dest: destStatusPage, Window: 10 * time.Minute,
		Notice: activities.Notice{IncidentID: fmt.Sprintf("inc-checkout-%d", i), Ref: ref, Kind: k, Service: "checkout", Components: comps,
			Severity: catalog.SEV1, Status: string(status), Summary: "checkout 5xx on db-7.corp"}}
}

// Fifty incidents of one cause on Checkout: one status page incident opens
// for the first, the other forty-nine link to it without a post of their
// own; one touching Checkout and Payments API links too and the page says
// "Also affecting: Payments API". The page says monitoring only when every
// incident is mitigated, and resolved only when the last one resolves;
// every incident hears of every notice, with the page's ID.
func TestStoryOneStatusPageIncidentPerCause(t *testing.T) {
	e := newStoryEnv(t)
	const n = 50
	for i := range n {
		// Half of them in the same instant as the first, while its post
		// is under way.
		e.tell(time.Duration(max(0, i-n/2))*time.Second, spNotice(i, activities.NoticeInitial, StatusInvestigating))
	}
	e.tell(2*m, spNotice(n, activities.NoticeInitial, StatusInvestigating, "Checkout", "Payments API"))
	for i := range n + 1 {
		e.tell(10*m+time.Duration(i)*time.Second, spNotice(i, activities.NoticeMitigated, StatusMonitoring))
	}
	for i := range n + 1 {
		e.tell(20*m+time.Duration(i)*10*time.Second, spNotice(i, activities.NoticeResolved, StatusResolved))
	}
	e.env.ExecuteWorkflow(Story, StoryInput{Scope: "status-page"})
	if err := e.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	lastResolve := 20*m + n*10*time.Second
	if got := e.env.Now().Sub(start); got != lastResolve {
		t.Errorf("story ended at %s, want %s: when its last incident resolved", got, lastResolve)
	}
	opened := 0
	var statuses []string
	for _, p := range e.posts {
		if p.in.PageID == "" {
			opened++
		}
		statuses = append(statuses, fmt.Sprintf("%s@%s", p.in.Notice.Status, p.after))
		if strings.Contains(p.text, "db-7") {
			t.Errorf("status page shows the alert's text: %q", p.text)
		}
	}
	if opened != 1 {
		t.Errorf("%d status page incidents opened, want 1", opened)
	}
	want := []string{"investigating@0s", "investigating@2m0s", "monitoring@" + (10*m + n*time.Second).String(), "resolved@" + lastResolve.String()}
	if !slices.Equal(statuses, want) {
		t.Errorf("posts %v, want %v", statuses, want)
	}
	if len(e.posts) > 1 && !strings.Contains(e.posts[1].text, "Also affecting: Payments API.") {
		t.Errorf("the post for the incident adding Payments API says %q", e.posts[1].text)
	}
	if len(e.posts) == 4 && !slices.Equal(e.posts[3].in.Components, []string{"Checkout"}) {
		t.Errorf("resolved post marks %v, want Checkout only (Payments API's incident resolved)", e.posts[3].in.Components)
	}
	for i := range n + 1 {
		got := e.replies[fmt.Sprintf("inc-checkout-%d", i)]
		if len(got) != 3 {
			t.Errorf("incident %d heard %d outcomes, want 3: %+v", i, len(got), got)
			continue
		}
		for _, o := range got {
			if !o.Delivered || o.StatusPage == nil || o.StatusPage.ID != "sp1" {
				t.Errorf("incident %d told %+v, want delivered to sp1", i, o)
			}
		}
		if i > 0 && i < n && got[0].Sent != "status page (linked)" {
			t.Errorf("incident %d's opening notice recorded as %q, want linked", i, got[0].Sent)
		}
	}
}

// mailNotice is incident i's notice of kind k for the support group.
func mailNotice(i int, k activities.NoticeKind, replyTo string) activities.StoryNotice {
	n := spNotice(i, k, StatusInvestigating)
	n.Key = strings.Replace(n.Key, "status page", "email support", 1)
	n.Dest, n.Group, n.Audience = destEmail+"support", "support", catalog.Internal
	if replyTo != "" {
		n.ReplyTo = replyTo
	}
	return n
}

// A group hears the first of fifty incidents' notices at once, and the
// rest in one digest when the window passes, listing every incident; the
// next window's news goes in the next digest; a window that passes
// quietly closes it. A notice told again is answered again, to whoever
// told it last, and never mailed twice.
func TestStoryEmailsOnePerWindow(t *testing.T) {
	e := newStoryEnv(t)
	const n = 50
	for i := range n {
		e.tell(time.Duration(i)*time.Second, mailNotice(i, activities.NoticeInitial, ""))
	}
	for i := range 10 {
		e.tell(5*m+time.Duration(i)*time.Second, mailNotice(i, activities.NoticeUpdate, ""))
	}
	// Incident 3's first notice told again after the digest answered it:
	// its PostIncident hears it was sent.
	e.tell(12*m, mailNotice(3, activities.NoticeInitial, "post-3"))
	e.tell(15*m, mailNotice(7, activities.NoticeResolved, ""))
	e.tell(16*m, mailNotice(7, activities.NoticeResolved, "post-7")) // handed over while waiting
	e.env.ExecuteWorkflow(Story, StoryInput{Scope: "email-support"})
	if err := e.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, em := range e.emails {
		kind := "at once"
		if em.digest {
			kind = "digest"
		}
		got = append(got, fmt.Sprintf("%s %s@%s (%d)", em.group, kind, em.after, em.count))
	}
	want := []string{"support at once@0s (1)", "support digest@10m0s (50)", "support digest@20m0s (50)"}
	if !slices.Equal(got, want) {
		t.Errorf("emails %v, want %v", got, want)
	}
	for i := 1; i < len(e.emails); i++ {
		if gap := e.emails[i].after - e.emails[i-1].after; gap < 10*m {
			t.Errorf("two emails to support %s apart", gap)
		}
	}
	if ended := e.env.Now().Sub(start); ended != 30*m {
		t.Errorf("story ended at %s, want 30m: the window after the last digest passed quietly", ended)
	}
	if len(e.emails) > 1 && (!strings.Contains(e.emails[1].text, "inc-checkout-49") || !strings.Contains(e.emails[1].text, "inc-checkout-0 ")) {
		t.Errorf("the digest does not list every incident: %q", e.emails[1].text)
	}
	for i := range n {
		id := fmt.Sprintf("inc-checkout-%d", i)
		wantN := 1
		switch {
		case i == 7:
			wantN = 2 // its update; its resolution went to its PostIncident
		case i < 10:
			wantN = 2
		}
		if os := e.replies[id]; len(os) != wantN || slices.ContainsFunc(os, func(o StoryOutcome) bool { return !o.Delivered }) {
			t.Errorf("%s heard %+v, want %d delivered outcomes", id, os, wantN)
		}
	}
	for _, id := range []string{"post-3", "post-7"} {
		if os := e.replies[id]; len(os) != 1 || !os[0].Delivered || os[0].Sent != "email support" {
			t.Errorf("%s heard %+v, want one delivered outcome", id, os)
		}
	}
}

// fakeStories takes every notice, as the starter's Tell would.
type fakeStories struct {
	mu    *sync.Mutex
	told  *[]activities.StoryNotice
	story string
}

func (f fakeStories) Tell(_ context.Context, n activities.StoryNotice) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*f.told = append(*f.told, n)
	if strings.HasPrefix(n.ReplyTo, "post-") {
		return "", nil // the test answers the incident only: its PostIncident sends itself
	}
	return f.story, nil
}

// With Stories configured, an incident hands its status page post and its
// emails to them instead of sending, keeps each notice in flight until the
// Story answers, and records what the Story did for it: linked to status
// page incident sp9, emailed in a digest.
func TestIncidentRecordsWhatItsStoryDid(t *testing.T) {
	c, err := catalog.Parse("comms.yaml", []byte(commsCatalog))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(quiet)
	h := &harness{t: t, env: ts.NewTestWorkflowEnvironment()}
	h.env.SetStartTime(start)
	stories := fakeStories{mu: &sync.Mutex{}, told: &[]activities.StoryNotice{}, story: "story-status-page"}
	notifiers := map[catalog.Channel]activities.Notifier{}
	for _, ch := range []catalog.Channel{catalog.SMS, catalog.Chat} {
		notifiers[ch] = recorder{env: h.env, ch: ch, mu: &h.mu, sent: &h.sent}
	}
	h.env.RegisterActivity(&activities.Activities{Catalog: activities.StaticCatalog{C: c}, Notifiers: notifiers, Templates: tmpl,
		Stories: stories, Comms: activities.CommsDeps{StatusPage: statusPage{}}})
	Register(h.env)
	direct := 0 // notices the incident sent itself while open
	h.env.OnActivity("StatusPageNotice", mock.Anything, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.Notice, string) (activities.StatusPageResult, error) {
			if h.env.Now().Before(start.Add(3 * m)) {
				direct++
			}
			return activities.StatusPageResult{}, nil
		})
	h.env.OnActivity("EmailGroup", mock.Anything, mock.Anything).Return(
		func(context.Context, activities.GroupNotice) (activities.NoticeResult, error) {
			if h.env.Now().Before(start.Add(3 * m)) {
				direct++
			}
			return activities.NoticeResult{}, nil
		})
	h.env.OnActivity("Remind", mock.Anything, mock.Anything).Return(activities.ReminderResult{Channel: catalog.Chat}, nil)
	ref := "default-test-workflow-id:default-test-run-id"
	var during IncidentState
	h.at(30*time.Second, func() { during = h.state() })
	h.at(1*m, func() {
		h.env.SignalWorkflow(StoryOutcomeSignal, StoryOutcome{Key: fmt.Sprintf("%s/0/%d/status page", ref, start.UnixNano()), Delivered: true, Sent: "status page (linked)",
			Detail:     "linked to status page incident sp9 (investigating, 12 linked incidents): no post of its own",
			StatusPage: &StatusPageRef{ID: "sp9", URL: "https://status.example.com/sp9"}, At: start.Add(1 * m)})
	})
	h.at(2*m, func() {
		h.env.SignalWorkflow(StoryOutcomeSignal, StoryOutcome{Key: fmt.Sprintf("%s/0/%d/email support", ref, start.UnixNano()), Delivered: true, Sent: "email support",
			Detail: "email support: in the digest of 03:02 UTC listing 12 incidents", At: start.Add(2 * m)})
	})
	h.at(3*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("checkout error rate"))
	if direct != 0 {
		t.Errorf("the incident sent %d notices itself, want every one handed to its Story", direct)
	}
	stories.mu.Lock()
	var dests []string
	for _, n := range *stories.told {
		dests = append(dests, fmt.Sprintf("%s %s %s", n.Notice.Kind, n.Dest, n.ReplyTo))
		if n.Window != 10*m {
			t.Errorf("notice told with window %s, want the catalog's default 10m", n.Window)
		}
	}
	stories.mu.Unlock()
	// Told side by side: in either order.
	if len(dests) >= 2 {
		slices.Sort(dests[:2])
	}
	if len(dests) < 2 || dests[0] != "notice email support default-test-workflow-id" || dests[1] != "notice status page default-test-workflow-id" {
		t.Errorf("told %v, want the notice for the status page and for support first", dests)
	}
	if len(during.Updates) != 1 || len(during.Updates[0].Sent) != 0 {
		t.Errorf("before the Story answered, the notice recorded %+v, want nothing sent yet", during.Updates)
	}
	if got := st.Updates[0].Sent; !slices.Equal(got, []string{"status page (linked)", "email support"}) {
		t.Errorf("notice sent to %v, want linked on the status page, and support", got)
	}
	if st.StatusPage == nil || st.StatusPage.ID != "sp9" {
		t.Errorf("status page %+v, want the story's sp9", st.StatusPage)
	}
	if !slices.ContainsFunc(st.Timeline, func(e Event) bool {
		return e.Kind == "comms.story" && strings.Contains(e.Text, "linked to status page incident sp9")
	}) {
		t.Errorf("timeline does not say the notice linked to sp9: %+v", st.Timeline)
	}
}

// A Story whose history grows continues as new with its window and the
// notices waiting for its digest, and the next run sends that digest when
// the window passes and answers every one of them: none is lost.
func TestStoryContinuesAsNewWithItsWindow(t *testing.T) {
	e := newStoryEnv(t)
	for i := range 3 {
		e.tell(time.Duration(i)*time.Second, mailNotice(i, activities.NoticeInitial, ""))
	}
	e.env.RegisterDelayedCallback(func() {
		e.env.SetContinueAsNewSuggested(true)
		e.env.SignalWorkflow(TellSignal, mailNotice(3, activities.NoticeInitial, ""))
	}, 3*m)
	e.env.ExecuteWorkflow(Story, StoryInput{Scope: "email-support"})
	var can *workflow.ContinueAsNewError
	if err := e.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	var next StoryInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.State == nil || next.State.Mail == nil || len(next.State.Mail.Waiting) != 3 || !next.State.Mail.Until.Equal(start.Add(10*m)) {
		t.Fatalf("continued with %+v, want the window until 10m and 3 notices waiting", next.State)
	}
	if len(e.emails) != 1 {
		t.Fatalf("first run sent %d emails, want the one at once", len(e.emails))
	}

	e2 := newStoryEnv(t)
	e2.env.SetStartTime(start.Add(3 * m))
	e2.env.ExecuteWorkflow(Story, next)
	if err := e2.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if len(e2.emails) != 1 || !e2.emails[0].digest || e2.emails[0].after != 10*m || e2.emails[0].count != 4 {
		t.Fatalf("next run sent %+v, want one digest of 4 incidents at 10m", e2.emails)
	}
	for i := 1; i <= 3; i++ {
		if os := e2.replies[fmt.Sprintf("inc-checkout-%d", i)]; len(os) != 1 || !os[0].Delivered {
			t.Errorf("incident %d heard %+v from the next run, want its digest", i, os)
		}
	}
}
