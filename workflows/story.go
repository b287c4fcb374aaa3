package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// Stakeholders hear one story per cause. A storm of fifty alerts on one
// cause opens fifty incidents; customers must not read fifty status page
// incidents, nor a stakeholder list fifty emails. What spans incidents
// lives in a Story workflow, never in a worker's memory: one per audience
// channel, its ID derived from what it coordinates (StoryID): the status
// page ("story-status-page"), and each stakeholder group
// ("story-email-support"). An incident hands each status page post and
// group email to its Story (TellSignal, by SignalWithStart from an
// activity: a signal, so a thousand incidents never wait on the Story; a
// start with it, so a notice arriving as the Story finishes is never lost),
// and the Story tells the incident how it went (StoryOutcomeSignal), which
// the incident records as it records what it sent itself.
//
// The status page: while a public story is open for a set of components,
// an incident touching any of them links to it instead of opening another.
// Its status is the least advanced of its open incidents' (one still
// investigating keeps it investigating), and it is resolved when its last
// incident is: not before, as customers would read "resolved" while
// checkout still fails. A notice is posted when it changes what the page
// says (the status, components added: "Also affecting: …"), when it is the
// leading incident's own update, or when a person wrote it; the rest (the
// storm's fifty opening notices) link silently, and their incidents record
// "linked to status page incident X".
//
// Email: a group hears the first notice at once, and the window
// (catalog comms.update_window) opens; every notice due within it is folded
// into one digest at its end, listing every incident the group was told of
// and its latest status, and the next window opens. A window that ends
// with nothing due closes; the Story finishes when nothing is open.
//
// Nothing is dropped: a notice told twice (a retry, or the PostIncident an
// incident handed it to) is one notice, answered again if it was already
// handled; a digest late from a provider outage goes late. The Story
// continues as new when its history grows, once nothing is in flight and
// its signals are drained.

// Names the Story workflow answers to, and the incidents it tells.
const (
	// TellSignal hands a Story one incident's notice (activities.StoryNotice).
	TellSignal = "tell"
	// StoryOutcomeSignal tells an incident (or its PostIncident) how the
	// Story handled one of its notices.
	StoryOutcomeSignal = "story-outcome"
)

// StoryScope names what a destination's Story coordinates: "status-page",
// or "email-<group>".
func StoryScope(dest string) string {
	if g, ok := strings.CutPrefix(dest, destEmail); ok {
		return "email-" + g
	}
	return "status-page"
}

// StoryID is the workflow ID of the Story for scope.
func StoryID(scope string) string { return "story-" + scope }

// StoryInput starts a Story: its scope (the first notice is the signal it
// was started with), or its state when it continued as new.
type StoryInput struct {
	Scope string      `json:"scope"`
	State *StoryState `json:"state,omitempty"`
}

// StoryState is what a Story holds: the open public stories (status page),
// or one group's update window (email).
type StoryState struct {
	Scope   string        `json:"scope"`
	Stories []PublicStory `json:"stories"`
	Mail    *MailWindow   `json:"mail,omitempty"`
	// Done are the latest outcomes, for a notice told again; at most keepDone.
	Done []StoryOutcome `json:"done"`
	Seq  int            `json:"seq"`
}

// PublicStory is one status page incident and the incidents linked to it.
type PublicStory struct {
	// Marker opens the status page incident idempotently.
	Marker string `json:"marker"`
	PageID string `json:"pageId,omitempty"`
	URL    string `json:"url,omitempty"`
	// Lead is the incident whose updates the story carries: the earliest
	// linked one still open.
	Lead string `json:"lead"`
	// Components are what the story names: the components of the incident
	// that opened it.
	Components []string    `json:"components"`
	Links      []StoryLink `json:"links"`
	// Posted is the status the page shows, or will once the post due or
	// in flight lands; PostedAlso the components it says are also affected.
	Posted     StakeholderStatus `json:"posted,omitempty"`
	PostedAlso []string          `json:"postedAlso,omitempty"`
	// Next is the notice the next post carries, when one is due.
	Next *activities.StoryNotice `json:"next,omitempty"`
	// Waiting are the notices to answer once the page has their news.
	Waiting []StoryWaiter `json:"waiting"`
	// Closing: the post resolving it is in flight; no incident links now.
	Closing bool `json:"closing,omitempty"`
	busy    bool
}

// StoryLink is one incident linked to a public story, as it last stood.
type StoryLink struct {
	Ref        string            `json:"ref"`
	IncidentID string            `json:"incidentId"`
	Components []string          `json:"components"`
	Status     StakeholderStatus `json:"status"`
	At         time.Time         `json:"at"`
}

// StoryWaiter is a notice the Story owes an answer.
type StoryWaiter struct {
	Key     string `json:"key"`
	ReplyTo string `json:"replyTo"`
	// Post: the notice is carried by a post (else it only links).
	Post bool `json:"post,omitempty"`
}

// MailWindow is one stakeholder group's update window.
type MailWindow struct {
	Group    string           `json:"group"`
	Audience catalog.Audience `json:"audience"`
	Window   time.Duration    `json:"window"`
	// Until: no email before it but the digest due then.
	Until time.Time `json:"until"`
	// Lines are the incidents the group was told of in this run of
	// windows, each as it last stood.
	Lines   []activities.DigestLine `json:"lines"`
	Waiting []StoryWaiter           `json:"waiting"`
	busy    bool
}

// StoryOutcome tells an incident how the Story handled one of its notices.
type StoryOutcome struct {
	Key       string `json:"key"`
	Delivered bool   `json:"delivered"`
	// Sent is where it went, as the incident's Updates[].Sent names it:
	// "status page", "status page (linked)", "email support".
	Sent       string         `json:"sent,omitempty"`
	Detail     string         `json:"detail,omitempty"`
	Error      string         `json:"error,omitempty"`
	StatusPage *StatusPageRef `json:"statusPage,omitempty"`
	At         time.Time      `json:"at"`
}

// keepDone bounds the outcomes a Story remembers for notices told again:
// a retry comes within minutes, a handover within the incident's minute of
// grace; a storm's thousand notices fit. With the digest lines, it keeps
// the state a Story continues as new with well under Temporal's 2 MB.
const keepDone = 1500

// Story coordinates what incidents tell one audience channel; see StoryID.
func Story(ctx workflow.Context, in StoryInput) (StoryState, error) {
	st := &story{tells: workflow.GetSignalChannelWithOptions(ctx, TellSignal, workflow.SignalChannelOptions{
		Description: "An incident's notice: linked to the open public story or posted; emailed at once or folded into the window's digest.",
	})}
	if in.State != nil {
		st.s = *in.State
	} else {
		st.s = StoryState{Scope: in.Scope, Stories: []PublicStory{}, Done: []StoryOutcome{}}
	}
	if err := workflow.SetQueryHandler(ctx, StateQuery, func() (StoryState, error) { return st.s, nil }); err != nil {
		return st.s, fmt.Errorf("register state query: %w", err)
	}
	return st.run(ctx)
}

type story struct {
	s     StoryState
	tells workflow.ReceiveChannel
	// busy counts posts, emails and replies in flight.
	busy int
	wake bool
}

func (st *story) run(ctx workflow.Context) (StoryState, error) {
	for {
		// Notices are taken here, never by a coroutine of their own, so
		// none that arrives as the Story finishes or continues is lost.
		st.drain(ctx)
		st.step(ctx)
		idle := st.busy == 0 && len(st.s.Stories) == 0 && st.s.Mail == nil
		if idle {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return st.s, err
			}
			if st.tells.Len() > 0 {
				continue // a notice came in while finishing
			}
			return st.s, nil
		}
		if st.busy == 0 && workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return st.s, err
			}
			st.drain(ctx)
			if st.busy == 0 {
				next := st.s
				return st.s, workflow.NewContinueAsNewError(ctx, Story, StoryInput{Scope: next.Scope, State: &next})
			}
			continue
		}
		st.wake = false
		ready := func() bool { return st.wake || st.tells.Len() > 0 }
		if m := st.s.Mail; m != nil && !m.busy {
			if wait := m.Until.Sub(workflow.Now(ctx)); wait > 0 {
				tctx, cancel := workflow.WithCancel(ctx)
				_, err := workflow.AwaitWithOptions(tctx, workflow.AwaitOptions{Timeout: wait,
					TimerOptions: workflow.TimerOptions{Summary: "update window of " + m.Group}}, ready)
				cancel()
				if err != nil {
					return st.s, err
				}
				continue
			}
		}
		if err := workflow.Await(ctx, ready); err != nil {
			return st.s, err
		}
	}
}

// drain takes every notice delivered so far, in order.
func (st *story) drain(ctx workflow.Context) {
	for {
		var n activities.StoryNotice
		if !st.tells.ReceiveAsync(&n) {
			return
		}
		st.take(ctx, n)
	}
}

// take handles one notice: answered again if it was handled, re-addressed
// if it waits, else linked, posted, mailed or folded.
func (st *story) take(ctx workflow.Context, n activities.StoryNotice) {
	if i := slices.IndexFunc(st.s.Done, func(o StoryOutcome) bool { return o.Key == n.Key }); i >= 0 {
		st.reply(ctx, []StoryWaiter{{Key: n.Key, ReplyTo: n.ReplyTo}}, func(StoryWaiter) StoryOutcome { return st.s.Done[i] })
		return
	}
	if st.readdress(n) {
		return
	}
	if strings.HasPrefix(n.Dest, destEmail) {
		st.mail(ctx, n)
		return
	}
	st.link(ctx, n)
}

// readdress points a notice still waiting at the workflow that told it
// last: an incident that resolved handed it to its PostIncident.
func (st *story) readdress(n activities.StoryNotice) bool {
	found := false
	fix := func(ws []StoryWaiter) {
		for i := range ws {
			if ws[i].Key == n.Key {
				ws[i].ReplyTo, found = n.ReplyTo, true
			}
		}
	}
	for i := range st.s.Stories {
		fix(st.s.Stories[i].Waiting)
	}
	if st.s.Mail != nil {
		fix(st.s.Mail.Waiting)
	}
	return found
}

// statusOfNotice is the stakeholder status a notice leaves its incident in.
func statusOfNotice(n activities.Notice) StakeholderStatus {
	switch {
	case n.Kind == activities.NoticeResolved:
		return StatusResolved
	case n.Status != "":
		return StakeholderStatus(n.Status)
	case n.Kind == activities.NoticeMitigated:
		return StatusMonitoring
	}
	return StatusInvestigating
}

// link puts a status page notice in its public story: the one its incident
// is linked to, else an open one touching its components, else a new one.
func (st *story) link(ctx workflow.Context, n activities.StoryNotice) {
	now := workflow.Now(ctx)
	ps := st.storyOf(n.Ref)
	if ps == nil {
		for i := range st.s.Stories {
			if p := &st.s.Stories[i]; !p.Closing && touches(p, n.Notice.Components) {
				ps = p
				break
			}
		}
	}
	fresh := ps == nil
	if fresh {
		st.s.Seq++
		st.s.Stories = append(st.s.Stories, PublicStory{
			Marker: fmt.Sprintf("%s:%s:%d", StoryID(st.s.Scope), workflow.GetInfo(ctx).WorkflowExecution.RunID, st.s.Seq),
			Lead:   n.Ref, Components: slices.Clone(n.Notice.Components), Links: []StoryLink{}, Waiting: []StoryWaiter{}})
		ps = &st.s.Stories[len(st.s.Stories)-1]
	}
	status := statusOfNotice(n.Notice)
	if i := slices.IndexFunc(ps.Links, func(l StoryLink) bool { return l.Ref == n.Ref }); i >= 0 {
		ps.Links[i].Status, ps.Links[i].At = status, now
	} else {
		ps.Links = append(ps.Links, StoryLink{Ref: n.Ref, IncidentID: n.Notice.IncidentID, Components: slices.Clone(n.Notice.Components), Status: status, At: now})
	}
	ps.relead()
	kind := n.Notice.Kind
	post := fresh || ps.PageID == "" && ps.Next == nil && !ps.busy ||
		combined(ps.Links) != ps.Posted || !slices.Equal(ps.also(), ps.PostedAlso) ||
		n.Ref == ps.Lead && (kind == activities.NoticeUpdate || kind == activities.NoticeNoNews) || n.Human
	if post {
		next := n
		ps.Next = &next
		// What the page will show once this post lands: notices arriving
		// meanwhile compare with it, not with what it showed before.
		ps.Posted, ps.PostedAlso = combined(ps.Links), ps.also()
	}
	ps.Waiting = append(ps.Waiting, StoryWaiter{Key: n.Key, ReplyTo: n.ReplyTo, Post: post})
	st.wake = true
}

func (st *story) storyOf(ref string) *PublicStory {
	for i := range st.s.Stories {
		if p := &st.s.Stories[i]; !p.Closing && slices.ContainsFunc(p.Links, func(l StoryLink) bool { return l.Ref == ref }) {
			return p
		}
	}
	return nil
}

// touches: the story covers any of comps.
func touches(p *PublicStory, comps []string) bool {
	for _, l := range p.Links {
		if l.Status == StatusResolved {
			continue
		}
		for _, c := range comps {
			if slices.Contains(l.Components, c) {
				return true
			}
		}
	}
	return slices.ContainsFunc(comps, func(c string) bool { return slices.Contains(p.Components, c) })
}

// relead makes the earliest linked incident still open the lead.
func (p *PublicStory) relead() {
	for _, l := range p.Links {
		if l.Status != StatusResolved {
			p.Lead = l.Ref
			return
		}
	}
}

// combined is a story's status: the least advanced of its open incidents',
// resolved when all are.
func combined(links []StoryLink) StakeholderStatus {
	out := StatusResolved
	for _, l := range links {
		if slices.Index(Statuses, l.Status) < slices.Index(Statuses, out) {
			out = l.Status
		}
	}
	return out
}

// also lists, sorted, the components open linked incidents add to the
// story's own.
func (p *PublicStory) also() []string {
	var out []string
	for _, l := range p.Links {
		if l.Status == StatusResolved {
			continue
		}
		for _, c := range l.Components {
			if !slices.Contains(p.Components, c) && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	slices.Sort(out)
	return out
}

// step starts what is due: posts, answers to linked notices, digests.
func (st *story) step(ctx workflow.Context) {
	for i := range st.s.Stories {
		p := &st.s.Stories[i]
		switch {
		case p.busy:
		case p.Next != nil:
			st.post(ctx, p.Marker)
		case p.PageID != "" && len(p.Waiting) > 0:
			// Linked only: the page already says what they would.
			ws := p.Waiting
			p.Waiting = []StoryWaiter{}
			st.replyLinked(ctx, p, ws)
		}
	}
	// Stories resolved on the page, with no one waiting, are done.
	st.s.Stories = slices.DeleteFunc(st.s.Stories, func(p PublicStory) bool {
		return !p.busy && p.Posted == StatusResolved && p.Next == nil && len(p.Waiting) == 0 && combined(p.Links) == StatusResolved
	})
	if m := st.s.Mail; m != nil && !m.busy && !workflow.Now(ctx).Before(m.Until) {
		if len(m.Waiting) == 0 {
			st.s.Mail = nil // the window passed quietly: the next notice goes at once
		} else {
			st.digest(ctx)
		}
	}
}

func (st *story) find(marker string) *PublicStory {
	for i := range st.s.Stories {
		if st.s.Stories[i].Marker == marker {
			return &st.s.Stories[i]
		}
	}
	return nil
}

// post sends a story's due post, and answers the notices waiting on it.
func (st *story) post(ctx workflow.Context, marker string) {
	p := st.find(marker)
	p.busy = true
	st.busy++
	next := *p.Next
	p.Next = nil
	waiting := p.Waiting
	p.Waiting = []StoryWaiter{}
	status := combined(p.Links)
	also := p.also()
	n := next.Notice
	n.Components = slices.Clone(p.Components)
	n.Also = also
	switch {
	case status == StatusResolved:
		n.Kind, n.Status = activities.NoticeResolved, string(StatusResolved)
		p.Closing = true
	case n.Kind == activities.NoticeResolved || n.Kind == activities.NoticeMitigated && status != StatusMonitoring:
		// This incident is fixed; others of the story are not.
		n.Kind, n.Status, n.Message = activities.NoticeUpdate, string(status), ""
	case n.Kind == activities.NoticeInitial && p.PageID != "":
		n.Kind, n.Status = activities.NoticeUpdate, string(status)
	default:
		n.Status = string(status)
	}
	n.StatusURL = p.URL
	in := activities.StoryPost{Marker: p.Marker, PageID: p.PageID, Notice: n, Components: append(slices.Clone(p.Components), also...)}
	for _, l := range p.Links {
		if !slices.Contains(in.Incidents, l.IncidentID) {
			in.Incidents = append(in.Incidents, l.IncidentID)
		}
	}
	summary := fmt.Sprintf("post to status page: %s (%d incidents)", status, len(p.Links))
	if p.PageID == "" {
		summary = fmt.Sprintf("open status page incident: %s", status)
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { st.busy--; st.wake = true }()
		var r activities.StatusPageResult
		err := workflow.ExecuteActivity(commsOptions(ctx, summary), a.PostStory, in).Get(ctx, &r)
		p := st.find(marker)
		p.busy = false
		if err != nil {
			// The page shows what it did before: the next notice posts.
			p.Closing, p.Posted, p.PostedAlso = false, "", nil
			msg := rootMessage(err)
			st.reply(ctx, waiting, func(StoryWaiter) StoryOutcome {
				return StoryOutcome{Error: "status page: " + msg, At: workflow.Now(ctx)}
			})
			if p.PageID == "" && p.Next == nil && len(p.Waiting) == 0 {
				// Nothing open on the page and nobody waiting: the next
				// notice on these components tries again.
				st.s.Stories = slices.DeleteFunc(st.s.Stories, func(q PublicStory) bool { return q.Marker == marker })
			}
			return
		}
		if p.PageID == "" {
			p.PageID, p.URL = r.ID, r.URL
		}
		p.Posted, p.PostedAlso = status, also
		ref := &StatusPageRef{ID: p.PageID, URL: p.URL}
		st.reply(ctx, waiting, func(w StoryWaiter) StoryOutcome {
			o := StoryOutcome{Delivered: true, Sent: destStatusPage, StatusPage: ref, At: workflow.Now(ctx),
				Detail: fmt.Sprintf("status page incident %s (%s, %d linked incidents): posted %s", p.PageID, status, len(p.Links), in.Notice.Kind)}
			if !w.Post {
				o.Sent = destStatusPage + " (linked)"
				o.Detail = fmt.Sprintf("linked to status page incident %s (%s, %d linked incidents): no post of its own", p.PageID, status, len(p.Links))
			}
			return o
		})
	})
}

// replyLinked answers notices a story took without a post.
func (st *story) replyLinked(ctx workflow.Context, p *PublicStory, ws []StoryWaiter) {
	ref := &StatusPageRef{ID: p.PageID, URL: p.URL}
	detail := fmt.Sprintf("linked to status page incident %s (%s, %d linked incidents): no post of its own", p.PageID, p.Posted, len(p.Links))
	st.reply(ctx, ws, func(StoryWaiter) StoryOutcome {
		return StoryOutcome{Delivered: true, Sent: destStatusPage + " (linked)", Detail: detail, StatusPage: ref, At: workflow.Now(ctx)}
	})
}

// mail sends a group's notice at once when its window is closed, else
// folds it into the window's digest.
func (st *story) mail(ctx workflow.Context, n activities.StoryNotice) {
	now := workflow.Now(ctx)
	m := st.s.Mail
	if m == nil {
		m = &MailWindow{Group: n.Group, Audience: n.Audience, Lines: []activities.DigestLine{}, Waiting: []StoryWaiter{}}
		st.s.Mail = m
	}
	m.Window = n.Window
	line := activities.DigestLine{Ref: n.Ref, IncidentID: n.Notice.IncidentID, Service: n.Notice.Service, Components: n.Notice.Components,
		Severity: n.Notice.Severity, Summary: truncate(n.Notice.Summary, 200), Kind: n.Notice.Kind, Status: string(statusOfNotice(n.Notice)),
		Message: truncate(n.Notice.Message, 300), At: now, New: true}
	if i := slices.IndexFunc(m.Lines, func(l activities.DigestLine) bool { return l.Ref == n.Ref }); i >= 0 {
		m.Lines[i] = line
	} else {
		m.Lines = append(m.Lines, line)
	}
	st.wake = true
	if m.busy || len(m.Waiting) > 0 || now.Before(m.Until) {
		m.Waiting = append(m.Waiting, StoryWaiter{Key: n.Key, ReplyTo: n.ReplyTo})
		return
	}
	// Quiet: this one goes at once, and the window opens.
	m.Until = now.Add(m.Window)
	m.busy = true
	st.busy++
	for i := range m.Lines {
		if m.Lines[i].Ref == n.Ref {
			m.Lines[i].New = false
		}
	}
	w := StoryWaiter{Key: n.Key, ReplyTo: n.ReplyTo}
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { st.busy--; st.wake = true }()
		err := workflow.ExecuteActivity(commsOptions(ctx, n.Dest), a.EmailGroup, activities.GroupNotice{Notice: n.Notice, Group: n.Group}).Get(ctx, nil)
		if m := st.s.Mail; m != nil {
			m.busy = false
		}
		at := workflow.Now(ctx)
		st.reply(ctx, []StoryWaiter{w}, func(StoryWaiter) StoryOutcome {
			if err != nil {
				return StoryOutcome{Error: n.Dest + ": " + rootMessage(err), At: at}
			}
			return StoryOutcome{Delivered: true, Sent: n.Dest, At: at,
				Detail: fmt.Sprintf("%s: sent at once; what follows within %s goes in one digest", n.Dest, n.Window)}
		})
	})
}

// digest sends the window's digest to the group and opens the next window.
func (st *story) digest(ctx workflow.Context) {
	m := st.s.Mail
	now := workflow.Now(ctx)
	m.busy = true
	st.busy++
	waiting := m.Waiting
	m.Waiting = []StoryWaiter{}
	m.Until = now.Add(m.Window)
	d := activities.Digest{Group: m.Group, At: now, Window: m.Window, Lines: slices.Clone(m.Lines)}
	for i := range m.Lines {
		m.Lines[i].New = false
	}
	// A resolved incident is in one digest after it resolved, then no more.
	m.Lines = slices.DeleteFunc(m.Lines, func(l activities.DigestLine) bool { return l.Status == string(StatusResolved) })
	dest := destEmail + m.Group
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { st.busy--; st.wake = true }()
		err := workflow.ExecuteActivity(commsOptions(ctx, fmt.Sprintf("digest of %d incidents to %s", len(d.Lines), m.Group)), a.EmailDigest, d).Get(ctx, nil)
		if m := st.s.Mail; m != nil {
			m.busy = false
		}
		at := workflow.Now(ctx)
		st.reply(ctx, waiting, func(StoryWaiter) StoryOutcome {
			if err != nil {
				return StoryOutcome{Error: dest + ": digest: " + rootMessage(err), At: at}
			}
			return StoryOutcome{Delivered: true, Sent: dest, At: at,
				Detail: fmt.Sprintf("%s: in the digest of %s listing %d incidents", dest, at.UTC().Format("15:04 UTC"), len(d.Lines))}
		})
	})
}

// reply records each waiter's outcome and tells its workflow, a batch at a
// time: Temporal allows 2,000 signals in flight per workflow.
func (st *story) reply(ctx workflow.Context, ws []StoryWaiter, outcome func(StoryWaiter) StoryOutcome) {
	if len(ws) == 0 {
		return
	}
	outs := make([]StoryOutcome, len(ws))
	for i, w := range ws {
		outs[i] = outcome(w)
		outs[i].Key = w.Key
		st.remember(outs[i])
	}
	st.busy++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { st.busy--; st.wake = true }()
		for from := 0; from < len(ws); from += 200 {
			to := min(from+200, len(ws))
			sent := make([]workflow.Future, 0, to-from)
			for i := from; i < to; i++ {
				sent = append(sent, workflow.SignalExternalWorkflow(ctx, ws[i].ReplyTo, "", StoryOutcomeSignal, outs[i]))
			}
			for i, f := range sent {
				if err := f.Get(ctx, nil); err != nil {
					// Closed since: its PostIncident tells this notice again
					// and hears the outcome remembered in Done.
					workflow.GetLogger(ctx).Info("story outcome not delivered", "workflowID", ws[from+i].ReplyTo, "error", err)
				}
			}
		}
	})
}

// remember keeps an outcome for a notice told again, the latest keepDone.
func (st *story) remember(o StoryOutcome) {
	st.s.Done = slices.DeleteFunc(st.s.Done, func(d StoryOutcome) bool { return d.Key == o.Key })
	st.s.Done = append(st.s.Done, o)
	if n := len(st.s.Done) - keepDone; n > 0 {
		st.s.Done = slices.Delete(st.s.Done, 0, n)
	}
}
