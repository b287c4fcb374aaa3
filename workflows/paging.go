package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// The paging part pages up the escalation policy until someone acknowledges,
// re-pages an acknowledger who has not mitigated (and, when nobody answers
// the re-pages, the next level), and keeps pagers of record in step. It runs
// inside Incident rather than as a child workflow: the first page goes out in
// the incident's first workflow task (routing, on-call lookup and the
// bundling claim are local activities, the delivery an eagerly dispatched
// activity), which keeps alert-to-first-page latency near a bare workflow's.
type paging struct {
	w *incident
	// stopCtx is the current paging context: acknowledging, mitigating,
	// resolving or re-opening cancels it, and every page it started stops.
	stopCtx workflow.Context
	stop    workflow.CancelFunc
	// escalate is set by the escalate update and consumed by advance.
	escalate bool
	// levelPending counts each level's lookups and deliveries still in
	// flight, by levelKey: a level whose pages all failed escalates at once.
	levelPending map[[3]int]int
	bundles      workflow.ReceiveChannel
	// outcomes are the bundle outcomes Pager workflows reported, by
	// bundle + "/" + channel.
	outcomes map[string]BundleOutcome
	// claims numbers this run's claims, so each has a key of its own.
	claims int
	// syncFor bounds how long a pager sync retries.
	syncFor time.Duration
}

func newPaging(ctx workflow.Context, w *incident) *paging {
	p := &paging{w: w, levelPending: map[[3]int]int{}, outcomes: map[string]BundleOutcome{}, syncFor: 10 * time.Minute}
	p.stopCtx, p.stop = workflow.WithCancel(ctx)
	p.bundles = workflow.GetSignalChannelWithOptions(ctx, BundleSignal, workflow.SignalChannelOptions{
		Description: "How a bundle holding one of this incident's pages went out.",
	})
	return p
}

// restart stops every page in flight and opens a new paging context.
func (p *paging) restart() {
	p.stop()
	p.stopCtx, p.stop = workflow.WithCancel(p.w.root)
}

// listen records bundle outcomes as the Pager workflows report them.
func (p *paging) listen(ctx workflow.Context) {
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var o BundleOutcome
			p.bundles.Receive(ctx, &o)
			if _, run := ParseIncidentRef(o.Ref); run != "" && run != p.w.s.Run {
				continue // for an earlier incident with this ID
			}
			p.outcomes[o.Key+"/"+string(o.Channel)] = o
			p.w.wake = true
		}
	})
}

// deliverOptions: transient provider failures are retried with backoff
// (after the provider's Retry-After when it gives one); the activity itself
// gives up, as after a permanent refusal, once a provider has failed for
// activities.GiveUpAfter, and the person's next channel is tried. There is
// deliberately no schedule-to-close timeout: time spent waiting for a worker
// is not a provider failure, so a page waiting out a worker outage is
// delivered late on the same channel, never moved on.
func deliverOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        2 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			NonRetryableErrorTypes: []string{activities.ErrPermanent, activities.ErrNoContact, activities.ErrChannelOff, activities.ErrGaveUp},
		},
		Summary: summary,
	})
}

// lookupOptions are for the catalog reads paging needs; local activities.
func lookupOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second, MaximumAttempts: 5,
			NonRetryableErrorTypes: []string{activities.ErrCatalog},
		},
		Summary: summary,
	})
}

// bundleGrace is how long past a bundle's due time a page waits for the
// Pager's report: the bundle's provider retries for GiveUpAfter at most.
const bundleGrace = activities.GiveUpAfter + 2*time.Minute

// levelKey names one level of one pass of the policy.
func levelKey(pass, round, level int) [3]int { return [3]int{pass, round, level} }

// level is the plan's level i; -1 is the lead, paged first on a re-open.
func (p *paging) level(i int) PlanLevel {
	s := &p.w.s
	if i < 0 {
		return PlanLevel{Delay: s.Plan.Levels[0].Delay, Targets: []catalog.Target{{Kind: catalog.TargetPerson, Name: s.Escalation.Lead}}}
	}
	return s.Plan.Levels[i]
}

// advance takes every step that is due now.
func (p *paging) advance(ctx workflow.Context) {
	for p.step(ctx) {
	}
}

// step takes one step that is due now, and says whether it took one.
func (p *paging) step(ctx workflow.Context) bool {
	w, s, now := p.w, &p.w.s, workflow.Now(ctx)
	e := &s.Escalation
	switch s.Phase {
	case Triggered:
		if e.Done || !w.routed {
			return false
		}
		if len(s.Plan.Levels) == 0 {
			e.Done = true
			w.event(ctx, "exhausted", "", "escalation policy has no levels")
			return true
		}
		if !e.Paged {
			lvl := p.level(e.Level)
			e.Paged, e.Reached, e.Deadline = true, false, now.Add(lvl.Delay)
			if e.Level < 0 {
				w.event(ctx, "paging", "", fmt.Sprintf("%s first, who mitigated it last time", e.Lead))
			} else {
				w.event(ctx, "paging", "", fmt.Sprintf("level %d (round %d): %s", e.Level+1, e.Round+1, targetNames(lvl.Targets)))
			}
			p.levelPending[levelKey(e.Pass, e.Round, e.Level)] = 1 // the lookup
			w.enqueue(Job{Kind: jobPageLevel, Pass: e.Pass, Round: e.Round, Level: e.Level, Person: e.Lead, stop: p.stopCtx})
			return true
		}
		unreached := p.unreached()
		if !p.escalate && !unreached && now.Before(e.Deadline) {
			return false
		}
		name := fmt.Sprintf("level %d", e.Level+1)
		if e.Level < 0 {
			name = e.Lead
		}
		switch {
		case p.escalate:
			p.escalate = false // the update's handler wrote the timeline entry
		case unreached && now.Before(e.Deadline):
			w.event(ctx, "escalated", "", fmt.Sprintf("nobody at %s could be paged: escalating now", name))
		default:
			w.event(ctx, "escalated", "", fmt.Sprintf("no acknowledgment from %s within %s", name, p.level(e.Level).Delay))
		}
		p.next(ctx)
		return true
	case Acknowledged:
		if s.Plan.RepageAfterAck <= 0 || now.Before(e.Deadline) {
			return false
		}
		p.repage(ctx)
		return true
	case Mitigated:
		if at := p.autoResolveAt(); !at.IsZero() && !now.Before(at) {
			w.setResolved(ctx, "sitrep", fmt.Sprintf("resolved by itself: the source stayed clear for %s after mitigation", s.Plan.AutoResolveAfter))
			return true
		}
	}
	return false
}

// next moves the escalation cursor one level up; past the last level of the
// last round, the policy is exhausted and the fallback contact told.
func (p *paging) next(ctx workflow.Context) {
	w, s := p.w, &p.w.s
	e := &s.Escalation
	e.Paged, e.Reached = false, false
	if e.Level < 0 {
		e.Level, e.Lead = 0, ""
	} else {
		e.Level++
	}
	if e.Level == len(s.Plan.Levels) {
		e.Level = 0
		e.Round++
	}
	if e.Round > s.Plan.Repeat {
		e.Done = true
		s.Unacknowledged = true
		w.event(ctx, "exhausted", "", fmt.Sprintf("escalation policy %s ran %d time(s) with no acknowledgment", s.Policy, s.Plan.Repeat+1))
		if s.Plan.Fallback != "" {
			w.enqueue(Job{Kind: jobPagePerson, Person: s.Plan.Fallback, PageKind: "fallback", Pass: e.Pass, Round: e.Round, stop: p.stopCtx})
		}
	}
}

// repage pages the acknowledger again; after RepageEscalateAfter re-pages
// nobody answered, each further one pages the next level too.
func (p *paging) repage(ctx workflow.Context) {
	w, s, now := p.w, &p.w.s, workflow.Now(ctx)
	e := &s.Escalation
	s.Repages++
	w.event(ctx, "repaged", "", fmt.Sprintf("not mitigated %s after acknowledgment: paging %s again", now.Sub(*s.AcknowledgedAt), s.AcknowledgedBy))
	w.enqueue(Job{Kind: jobPagePerson, Person: s.AcknowledgedBy, PageKind: "repage", Pass: e.Pass, stop: p.stopCtx})
	if n := s.Plan.RepageEscalateAfter; n > 0 && s.Repages > n {
		switch {
		case e.RepageLevel < len(s.Plan.Levels):
			w.event(ctx, "repage.escalated", "", fmt.Sprintf("%d re-pages of %s went unanswered: paging level %d too",
				s.Repages-1, s.AcknowledgedBy, e.RepageLevel+1))
			w.enqueue(Job{Kind: jobPageLevel, PageKind: "repage-escalation", Pass: e.Pass, Level: e.RepageLevel, stop: p.stopCtx})
			e.RepageLevel++
		case e.RepageLevel == len(s.Plan.Levels) && s.Plan.Fallback != "":
			w.event(ctx, "repage.escalated", "", fmt.Sprintf("%d re-pages of %s went unanswered and every level was told: telling %s",
				s.Repages-1, s.AcknowledgedBy, s.Plan.Fallback))
			w.enqueue(Job{Kind: jobPagePerson, Person: s.Plan.Fallback, PageKind: "fallback", Pass: e.Pass, stop: p.stopCtx})
			e.RepageLevel++
		}
	}
	e.Deadline = now.Add(s.Plan.RepageAfterAck)
}

// raised follows a severity raise; was is the plan before it. While
// paging, the current level is paged again on the channels the new severity
// adds (those it was paged on already rang). Once acknowledged, the
// acknowledger hears of it once, as an update on one channel, not as a
// page; and a re-page the old severity had none of is timed from now.
func (p *paging) raised(ctx workflow.Context, was Plan) {
	s, now := &p.w.s, workflow.Now(ctx)
	e := &s.Escalation
	switch s.Phase {
	case Triggered:
		var added []catalog.Channel
		for _, ch := range s.Plan.Channels {
			if !slices.Contains(was.Channels, ch) {
				added = append(added, ch)
			}
		}
		if e.Done || !e.Paged || len(added) == 0 {
			return
		}
		p.w.event(ctx, "paging", "", fmt.Sprintf("raised to %s: paging %s again on %v", s.Severity, p.levelName(e.Level), added))
		p.w.enqueue(Job{Kind: jobPageLevel, PageKind: "raise", Pass: e.Pass, Round: e.Round, Level: e.Level, Person: e.Lead,
			Channels: added, stop: p.stopCtx})
	case Acknowledged:
		if at := now.Add(s.Plan.RepageAfterAck); s.Plan.RepageAfterAck > 0 && (was.RepageAfterAck <= 0 || at.Before(e.Deadline)) {
			e.Deadline = at
		}
		p.w.enqueue(Job{Kind: jobPagePerson, Person: s.AcknowledgedBy, PageKind: "raised", Pass: e.Pass, stop: p.stopCtx})
	}
}

// levelName names level i for the timeline: the lead by name.
func (p *paging) levelName(i int) string {
	if i < 0 {
		return p.w.s.Escalation.Lead
	}
	return fmt.Sprintf("level %d", i+1)
}

// autoResolveAt is when a mitigated incident whose source has cleared
// resolves itself; zero when it will not.
func (p *paging) autoResolveAt() time.Time {
	s := &p.w.s
	if s.Phase != Mitigated || s.SourceClearedAt == nil || s.Plan.AutoResolveAfter <= 0 {
		return time.Time{}
	}
	from := *s.SourceClearedAt
	if s.MitigatedAt != nil && s.MitigatedAt.After(from) {
		from = *s.MitigatedAt
	}
	return from.Add(s.Plan.AutoResolveAfter)
}

// deadline is when the next step is due, and what it is, for the timer's summary.
func (p *paging) deadline() (time.Time, string) {
	s := &p.w.s
	e := s.Escalation
	switch {
	case s.Phase == Triggered && !e.Done && e.Paged:
		if e.Level < 0 {
			return e.Deadline, fmt.Sprintf("wait %s for ack from %s", p.level(-1).Delay, e.Lead)
		}
		return e.Deadline, fmt.Sprintf("wait %s for ack from level %d", p.level(e.Level).Delay, e.Level+1)
	case s.Phase == Acknowledged && s.Plan.RepageAfterAck > 0:
		return e.Deadline, fmt.Sprintf("re-page %s if not mitigated in %s", s.AcknowledgedBy, s.Plan.RepageAfterAck)
	case s.Phase == Mitigated:
		if at := p.autoResolveAt(); !at.IsZero() {
			return at, fmt.Sprintf("resolve if the source stays clear for %s", s.Plan.AutoResolveAfter)
		}
	}
	return time.Time{}, ""
}

// unreached: this run paged the current level, every page of it is done and
// none got through.
func (p *paging) unreached() bool {
	e := p.w.s.Escalation
	n, paged := p.levelPending[levelKey(e.Pass, e.Round, e.Level)]
	return e.Paged && !e.Reached && paged && n == 0
}

// pageLevel resolves who a level pages now and starts paging each of them.
func (p *paging) pageLevel(ctx workflow.Context, j Job) {
	w := p.w
	policy := j.PageKind == ""
	key := levelKey(j.Pass, j.Round, j.Level)
	if policy {
		defer func() { p.levelPending[key]-- }()
	}
	targets := w.s.Plan.Levels[max(j.Level, 0)].Targets
	name := fmt.Sprintf("level %d", j.Level+1)
	if j.Level < 0 {
		targets, name = []catalog.Target{{Kind: catalog.TargetPerson, Name: j.Person}}, j.Person
	}
	var res activities.RecipientsResult
	in := activities.RecipientsInput{Targets: targets, At: workflow.Now(ctx), Channels: j.channels(w.s.Plan)}
	err := workflow.ExecuteLocalActivity(lookupOptions(ctx, "who is on call at "+name), recipientsActivity, in).Get(ctx, &res)
	if j.stop.Err() != nil {
		// Acknowledged, mitigated or resolved while the lookup ran: nobody
		// is paged after an acknowledgment is accepted.
		return
	}
	switch {
	case err != nil:
		w.event(ctx, "page.failed", "", fmt.Sprintf("%s: cannot resolve who to page: %s", name, rootMessage(err)))
		return
	case len(res.Problems) > 0:
		w.event(ctx, "page.failed", "", fmt.Sprintf("%s: %s", name, strings.Join(res.Problems, "; ")))
	}
	if len(res.Recipients) == 0 {
		w.event(ctx, "page.failed", "", name+" resolves to nobody")
	}
	for _, r := range res.Recipients {
		p.deliverTo(j, r)
	}
}

// pagePerson pages one person outside the policy's levels: re-pages and the fallback contact.
func (p *paging) pagePerson(ctx workflow.Context, j Job) {
	var res activities.RecipientsResult
	in := activities.RecipientsInput{Targets: []catalog.Target{{Kind: catalog.TargetPerson, Name: j.Person}}, Channels: j.channels(p.w.s.Plan)}
	err := workflow.ExecuteLocalActivity(lookupOptions(ctx, "how to reach "+j.Person), recipientsActivity, in).Get(ctx, &res)
	if j.stop.Err() != nil {
		return
	}
	if err != nil || len(res.Recipients) == 0 {
		why := strings.Join(res.Problems, "; ")
		if err != nil {
			why = rootMessage(err)
		}
		p.w.event(ctx, "page.failed", "", fmt.Sprintf("cannot reach %s for %s: %s", j.Person, j.PageKind, why))
		return
	}
	r := res.Recipients[0]
	if j.PageKind == "raised" {
		// An update, not a page: one message, never a call nor an alert
		// at a pager of record that would ring until mitigation.
		r.Channels = slices.DeleteFunc(append(slices.Clone(r.Channels), r.Fallback...), func(ch catalog.Channel) bool {
			return ch == catalog.Voice || ch == catalog.PagerDuty
		})
		if len(r.Channels) == 0 {
			p.w.event(ctx, "page.failed", "", fmt.Sprintf("cannot tell %s of the raise: no channel but voice or PagerDuty", j.Person))
			return
		}
		r.Channels, r.Fallback = r.Channels[:1], r.Channels[1:]
	}
	p.deliverTo(j, r)
}

// channels are the channels a page job uses.
func (j Job) channels(plan Plan) []catalog.Channel {
	if len(j.Channels) > 0 {
		return j.Channels
	}
	return plan.Channels
}

// counts: a delivery of a policy level counts toward its level's pending pages.
func (j Job) counts() bool { return j.Kind == jobPageLevel && j.PageKind == "" }

// deliverTo pages one person on each of their channels at once; a channel
// that fails for good is replaced by the person's next fallback channel.
// First it claims the channels in the person's bundling window: a channel
// the person heard from sitrep on within the window is bundled.
func (p *paging) deliverTo(j Job, r catalog.Recipient) {
	w := p.w
	key := levelKey(j.Pass, j.Round, j.Level)
	fallback := slices.Clone(r.Fallback)
	track := func(d int) {
		w.inflight += d
		if j.counts() {
			p.levelPending[key] += d
		}
		if d < 0 {
			w.wake = true
		}
	}
	track(1)
	workflow.Go(j.stop, func(ctx workflow.Context) {
		defer track(-1)
		c := p.claim(ctx, j, r.Person, r.Channels)
		for _, ch := range r.Channels {
			track(1)
			workflow.Go(ctx, func(ctx workflow.Context) {
				defer track(-1)
				c := c
				for !p.deliver(ctx, j, r.Person, ch, c) {
					if len(fallback) == 0 || ctx.Err() != nil {
						return
					}
					ch, fallback = fallback[0], fallback[1:]
					w.event(ctx, "page.fallback", "", fmt.Sprintf("trying %s on %s instead", r.Person, ch))
					c = p.claim(ctx, j, r.Person, []catalog.Channel{ch})
				}
			})
		}
	})
}

// claim asks the person's Pager which channels may carry a message now; the
// others get a bundle, which goes out when the channel's window passes.
// Bundling never holds a page back for long and never loses one: when the
// claim cannot be made, every channel sends now.
func (p *paging) claim(ctx workflow.Context, j Job, person string, chs []catalog.Channel) claimed {
	s := &p.w.s
	if s.Plan.BundleWindow <= 0 || j.PageKind == "raised" {
		return claimed{}
	}
	p.claims++
	key := fmt.Sprintf("%s/%s/%d/%d/%d/%s/%d", IncidentRef(s.ID, s.Run), person, j.Pass, j.Round, j.Level, pageKind(j), p.claims)
	in := activities.ClaimInput{Person: person, Channels: chs, Window: s.Plan.BundleWindow, At: workflow.Now(ctx), Item: activities.BundleItem{
		Key: key,
		Ref: IncidentRef(s.ID, s.Run), IncidentID: s.ID, Service: s.Service, Severity: s.Severity, Summary: s.Summary, Kind: pageKind(j),
	}}
	actx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		// A quiet person's claim is one round trip. In a storm Temporal is
		// slow to answer, and a claim given up on pages at once: each one
		// a message the bundle was there to spare. So a claim is retried for
		// up to claimFor before the page goes anyway: late by that much at
		// worst, and the person hears of a storm once a window.
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: claimFor,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 5 * time.Second},
		Summary:                "bundling window of " + person,
	})
	var res activities.ClaimResult
	if err := workflow.ExecuteLocalActivity(actx, claimActivity, in).Get(ctx, &res); err != nil {
		if ctx.Err() == nil {
			p.w.event(ctx, "bundle.unavailable", "", fmt.Sprintf("bundling window of %s unknown (%s): paging at once", person, rootMessage(err)))
		}
		return claimed{}
	}
	if !res.Queued {
		return claimed{}
	}
	if slices.Contains(chs, catalog.PagerDuty) && !slices.Contains(s.Bundled, person) {
		// Its bundle's alert at PagerDuty stays open until the incident
		// says it is done (release).
		s.Bundled = append(s.Bundled, person)
	}
	return claimed{queued: true, key: key, due: workflow.Now(ctx).Add(s.Plan.BundleWindow)}
}

// claimFor bounds how long a page waits for its bundling claim.
const claimFor = 30 * time.Second

// claimed is what a claim came to: sent now by the incident, or queued with
// the person's Pager under the claim's key (what its outcome and a
// withdrawal name), due within one bundle window.
type claimed struct {
	queued bool
	key    string
	due    time.Time
}

func pageKind(j Job) string {
	if j.PageKind != "" {
		return j.PageKind
	}
	if j.Level < 0 {
		return "lead"
	}
	return "page"
}

// deliver sends one page, or waits for the bundle it went into, and records
// its outcome; false means try another channel.
func (p *paging) deliver(ctx workflow.Context, j Job, person string, ch catalog.Channel, c claimed) bool {
	w := p.w
	s := &w.s
	if !c.queued {
		e := p.send(ctx, j, person, ch)
		s.Pages = append(s.Pages, e)
		w.wake = true
		return e.Outcome != Failed
	}
	e := p.entry(ctx, j, person, ch)
	e.Outcome = Bundled
	s.Pages = append(s.Pages, e)
	i := len(s.Pages) - 1
	k := c.key + "/" + string(ch)
	told := func() bool { _, ok := p.outcomes[k]; return ok }
	// The Pager reports by the bundle's due time, or a few minutes later
	// while its provider retries. Past that the page is taken back from the
	// bundle and goes alone, unless the bundle is already on its way: then
	// it is late, and waited for, never sent twice.
	due := c.due.Add(bundleGrace)
	ok, err := w.await(ctx, due.Sub(workflow.Now(ctx)), "bundled "+string(ch)+" to "+person, told)
	if err == nil && !ok {
		switch taken, terr := p.takeBack(ctx, person, ch, c.key); {
		case ctx.Err() != nil:
			err = ctx.Err() // paging stopped meanwhile
		case told():
			ok = true // it reported as the Pager was asked
		case terr != nil:
			w.event(ctx, "bundle.timeout", "", fmt.Sprintf("the bundle on %s to %s did not report by %s and its Pager did not answer (%s): paging alone",
				ch, person, due.UTC().Format(time.RFC3339), rootMessage(terr)))
		case taken:
			w.event(ctx, "bundle.timeout", "", fmt.Sprintf("the bundle on %s to %s did not report by %s: taken out of it, paging alone", ch, person, due.UTC().Format(time.RFC3339)))
		default:
			w.event(ctx, "bundle.late", "", fmt.Sprintf("the bundle on %s to %s did not report by %s; it is on its way: waiting for it", ch, person, due.UTC().Format(time.RFC3339)))
			ok, err = w.await(ctx, bundleGrace, "late bundle "+string(ch)+" to "+person, told)
			if err == nil && !ok {
				w.event(ctx, "bundle.timeout", "", fmt.Sprintf("the late bundle on %s to %s never reported: paging alone", ch, person))
			}
		}
		if err == nil && !ok {
			// Whatever the Pager still holds of it goes nowhere now.
			w.enqueue(Job{Kind: jobWithdraw, Person: person, Key: c.key, Channels: []catalog.Channel{ch}})
			s.Pages[i] = p.send(ctx, j, person, ch)
			w.wake = true
			return s.Pages[i].Outcome != Failed
		}
	}
	if err != nil {
		s.Pages[i].Outcome, s.Pages[i].Error = Cancelled, "paging stopped"
		w.enqueue(Job{Kind: jobWithdraw, Person: person, Key: c.key})
		return true
	}
	o := p.outcomes[k]
	if o.Alone {
		// The claim started the person's Pager: the page goes alone, now.
		s.Pages[i] = p.send(ctx, j, person, ch)
		w.wake = true
		return s.Pages[i].Outcome != Failed
	}
	s.Pages[i].Bundle = o.Bundle
	s.Pages[i].At, s.Pages[i].ProviderID, s.Pages[i].Attempts, s.Pages[i].Retries = o.At, o.ProviderID, o.Attempts, o.Retries
	if o.Delivered {
		s.Pages[i].Outcome = Delivered
		if ch == catalog.PagerDuty {
			p.addPagerTarget(PagerTarget{Person: person, Bundle: o.Bundle}) // the bundle's alert, open there now
		}
		p.reached(j, person)
		return true
	}
	s.Pages[i].Outcome, s.Pages[i].Error = Failed, o.Error
	w.event(ctx, "page.failed", "", fmt.Sprintf("bundle %s on %s to %s failed: %s", o.Bundle, ch, person, o.Error))
	return false
}

// takeBack asks the person's Pager for a claimed page back: taken, it goes
// alone; not taken, its bundle is on its way.
func (p *paging) takeBack(ctx workflow.Context, person string, ch catalog.Channel, key string) (bool, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		// Bounded: a page must not wait long on bundling; unanswered, it
		// goes alone (a rare double beats a lost page).
		ScheduleToCloseTimeout: time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second},
		Summary:                "take back the page bundled for " + person,
	})
	var res activities.TakeResult
	in := activities.TakeInput{Person: person, Channel: ch, Ref: IncidentRef(p.w.s.ID, p.w.s.Run), Key: key}
	if err := workflow.ExecuteActivity(actx, a.Take, in).Get(ctx, &res); err != nil {
		return false, err
	}
	return res.Taken, nil
}

// entry is the record of a page to person on ch, before it is sent.
func (p *paging) entry(ctx workflow.Context, j Job, person string, ch catalog.Channel) PageEntry {
	level := 0
	if j.Kind == jobPageLevel && j.Level >= 0 {
		level = j.Level + 1
	}
	return PageEntry{Person: person, Channel: ch, Level: level, Round: j.Round + 1, Pass: j.Pass, Kind: pageKind(j), At: workflow.Now(ctx)}
}

// send sends one page alone and returns its record.
func (p *paging) send(ctx workflow.Context, j Job, person string, ch catalog.Channel) PageEntry {
	w := p.w
	s := &w.s
	e := p.entry(ctx, j, person, ch)
	in := activities.DeliverInput{
		IncidentID: s.ID, Ref: IncidentRef(s.ID, s.Run), Person: person, Channel: ch, Kind: e.Kind, Level: e.Level,
		Service: s.Service, Severity: s.Severity, Summary: s.Summary, AlertCount: s.AlertCount, OpenedAt: s.FirstSeen,
	}
	if ch == catalog.PagerDuty {
		// An alert of its own there, even if cancelled in flight: it may
		// have opened, and is closed when the incident no longer needs it.
		s.PageKeys++
		in.Key = PageKey(in.Ref, s.PageKeys)
		e.Key = in.Key
		p.addPagerTarget(PagerTarget{Person: person, Key: in.Key})
	}
	summary := fmt.Sprintf("%s %s via %s", e.Kind, person, ch)
	if e.Level > 0 {
		summary += fmt.Sprintf(" (level %d)", e.Level)
	}
	var res activities.DeliverResult
	err := workflow.ExecuteActivity(deliverOptions(ctx, summary), a.Deliver, in).Get(ctx, &res)
	e.At = workflow.Now(ctx)
	switch {
	case err == nil:
		e.Outcome, e.ProviderID, e.Attempts, e.Retries = Delivered, res.ProviderID, res.Attempts, res.Failures
		p.reached(j, person)
	case temporal.IsCanceledError(err) || ctx.Err() != nil:
		e.Outcome, e.Error = Cancelled, "paging stopped"
	default:
		e.Outcome, e.Error, e.Retries = Failed, rootMessage(err), earlierFailures(err)
		w.event(ctx, "page.failed", "", fmt.Sprintf("%s to %s failed: %s", ch, person, e.Error))
	}
	return e
}

// reached records that a page got through to person.
func (p *paging) reached(j Job, person string) {
	s := &p.w.s
	if cur := s.Escalation; j.counts() && cur.Pass == j.Pass && cur.Round == j.Round && cur.Level == j.Level {
		s.Escalation.Reached = true
	}
	if !slices.Contains(s.Paged, person) {
		s.Paged = append(s.Paged, person)
	}
	p.w.wake = true
}

func (p *paging) addPagerTarget(t PagerTarget) {
	if !slices.ContainsFunc(p.w.s.PagerTargets, func(o PagerTarget) bool { return o.Person == t.Person && o.Key == t.Key && o.Bundle == t.Bundle }) {
		p.w.s.PagerTargets = append(p.w.s.PagerTargets, t)
	}
}

// syncTargets are the alerts at pagers of record this incident's own pages
// opened that have not heard action yet (a resolved one hears nothing
// more). A bundle's alert is not among them: it speaks for other incidents
// too, and its Pager closes it when the last is done (release).
func syncTargets(s *IncidentState, action string) []activities.PageTarget {
	var out []activities.PageTarget
	for _, t := range s.PagerTargets {
		if t.Key != "" && t.Synced != "resolve" && t.Synced != action {
			out = append(out, activities.PageTarget{Person: t.Person, Channel: catalog.PagerDuty, Key: t.Key})
		}
	}
	return out
}

// release tells the Pager of everyone this incident's pages were handed to
// that it is done (acknowledged, mitigated, resolved or merged): what it
// holds of them goes nowhere, and a bundle alert at a pager of record is
// resolved once none of its incidents needs it.
func (p *paging) release() {
	for _, person := range p.w.s.Bundled {
		p.w.enqueue(Job{Kind: jobWithdraw, Person: person})
	}
	p.w.s.Bundled = nil
}

// sync tells pagers of record (PagerDuty) that the incident was acknowledged
// or resolved here, so their apps stop ringing too.
// It says whether it is done: false when stopped before it got through.
func (p *paging) sync(ctx workflow.Context, j Job) bool {
	s := &p.w.s
	targets := syncTargets(s, j.Action)
	if len(targets) == 0 {
		return true
	}
	err := workflow.ExecuteActivity(syncOptions(ctx, j.Action, p.syncFor), a.SyncPages,
		activities.SyncInput{IncidentID: s.ID, Ref: IncidentRef(s.ID, s.Run), Action: j.Action, Targets: targets}).Get(ctx, nil)
	if err == nil {
		for i := range s.PagerTargets {
			if t := &s.PagerTargets[i]; slices.ContainsFunc(targets, func(pt activities.PageTarget) bool { return pt.Key == t.Key }) {
				t.Synced = j.Action
			}
		}
	}
	if err != nil && ctx.Err() == nil {
		p.w.event(ctx, "sync.failed", "", fmt.Sprintf("could not %s on PagerDuty: %s", j.Action, rootMessage(err)))
	}
	return err == nil || ctx.Err() == nil
}

func syncOptions(ctx workflow.Context, action string, budget time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		// Bounded: a pager that stays down must not be told forever. It
		// runs beside the incident, and after resolution in PostIncident,
		// so it never holds the next incident back.
		ScheduleToCloseTimeout: budget,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrPermanent, activities.ErrNoContact, activities.ErrChannelOff}},
		Summary: action + " on pagers of record",
	})
}

// withdraw takes this incident out of the person's pending bundles: it was
// acknowledged, mitigated or resolved before the bundle went out.
func (p *paging) withdraw(ctx workflow.Context, j Job) {
	ref := IncidentRef(p.w.s.ID, p.w.s.Run)
	wd := Withdraw{Ref: ref, Key: j.Key}
	if len(j.Channels) == 1 {
		wd.Channel = j.Channels[0]
	}
	err := workflow.SignalExternalWorkflow(ctx, PagerID(j.Person), "", WithdrawSignal, wd).Get(ctx, nil)
	if err != nil {
		// The Pager already finished: nothing of this incident is pending there.
		p.w.log.Info("bundle withdrawal not delivered", "incidentID", p.w.s.ID, "person", j.Person, "error", err)
	}
}

// earlierFailures are the failed tries a delivery recorded before its last:
// in the last error's details, or in its heartbeat when it ran out of time.
func earlierFailures(err error) []string {
	var tries []string
	var app *temporal.ApplicationError
	var to *temporal.TimeoutError
	switch {
	case errors.As(err, &app) && app.HasDetails():
		_ = app.Details(&tries) // unreadable: the last error still stands
	case errors.As(err, &to) && to.HasLastHeartbeatDetails():
		_ = to.LastHeartbeatDetails(&tries)
	}
	return tries
}

// rootMessage is the innermost error's message: what the provider said.
func rootMessage(err error) string {
	if err == nil {
		return "no recipient"
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	var to *temporal.TimeoutError
	if errors.As(err, &to) {
		return "gave up after retries: " + to.Error()
	}
	return err.Error()
}

func targetNames(ts []catalog.Target) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = string(t.Kind) + " " + t.Name
	}
	return strings.Join(names, ", ")
}
