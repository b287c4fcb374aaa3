package workflows

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// Pager fatigue is a defect: within a window a person gets at most one
// message per channel, and what comes later is bundled into one. Each
// person's windows live in a Pager workflow (ID PagerID(person)), which runs
// while a window is open. Its ID is the lock that keeps the quiet path fast:
// a page to a person with no Pager running starts one and goes out at once
// (a start is one round trip, and waits for no workflow task). A page to a
// person whose Pager runs is handed to it (ClaimSignal): a signal, so a storm
// of a thousand incidents paging one person never waits on the Pager, as an
// update would. The Pager puts it in the channel's pending bundle, or, when
// the window has passed, in a bundle of its own that goes at once. When a
// bundle is due, the Pager sends it, tells each incident in it how it went
// (BundleSignal), and opens the next window.

// Names the Pager workflow answers to.
const (
	// ClaimSignal hands a page to a running Pager.
	ClaimSignal = "claim"
	// WithdrawSignal takes an incident out of the pending bundles: it was
	// acknowledged, mitigated or resolved before they went out.
	WithdrawSignal = "withdraw"
	// BundleQuery returns one bundle: what the acknowledgment of a bundle
	// acknowledges.
	BundleQuery = "bundle"
	// TakeUpdate takes one claimed page back if its bundle has not gone out
	// yet: an Update, since the incident must know whether it was taken
	// (and it then pages alone) or is already on its way (and it waits).
	TakeUpdate = "take"
)

// PageKey is the dedup key of an incident's n-th page to a pager of record:
// each page that must notify is an alert of its own there, since PagerDuty
// folds a trigger into an open alert with the same key and notifies nobody.
func PageKey(ref string, n int) string { return ref + "/p" + strconv.Itoa(n) }

// KeyRef is the ref a pager of record's key stands for: the incident's ref
// of a page's key, or the key itself (a bundle's ref, or an incident's ref
// from before each page had a key).
func KeyRef(key string) string {
	ref, _, _ := strings.Cut(key, "/")
	return ref
}

// PagerID is the workflow ID of person's Pager.
func PagerID(person string) string { return "pager-" + person }

// IsBundleRef: ref names a bundle, not an incident.
func IsBundleRef(ref string) bool { return strings.HasPrefix(ref, "pager-") }

// bundleRefPattern matches what a Pager names its bundles by.
var bundleRefPattern = regexp.MustCompile(`\bpager-[A-Za-z0-9._-]+:[0-9a-f-]{36}:[0-9]+\b`)

// FindRef returns the first incident ID in text, or else the first bundle
// ref (also when URL-escaped, as in a call's keypad link), or "".
func FindRef(text string) string {
	if id := FindIncidentID(text); id != "" {
		return id
	}
	if u, err := url.QueryUnescape(text); err == nil {
		text = u
	}
	return bundleRefPattern.FindString(text)
}

// ParseBundleRef splits a bundle ref into the Pager's workflow and run IDs.
func ParseBundleRef(ref string) (workflowID, runID string, ok bool) {
	parts := strings.Split(ref, ":")
	if len(parts) != 3 || !IsBundleRef(ref) {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// PagerInput starts a Pager: the claim that found the person quiet, or, when
// it continued as new, its state.
type PagerInput struct {
	First activities.ClaimInput `json:"first"`
	State *PagerState           `json:"state,omitempty"`
}

// PagerState is a person's bundling windows.
type PagerState struct {
	Person   string          `json:"person"`
	Window   time.Duration   `json:"window"`
	Channels []ChannelWindow `json:"channels"`
	Bundles  []Bundle        `json:"bundles"`
	// First is the key of the claim that started this Pager and went out at
	// once: the same claim handed over again, by a retry, is not bundled.
	First string `json:"first,omitempty"`
	Seq   int    `json:"seq"`
}

// ChannelWindow is one channel's window: no message before Until, except the
// bundle gathered for it, or a page louder than the window has heard.
type ChannelWindow struct {
	Channel catalog.Channel `json:"channel"`
	Until   time.Time       `json:"until"`
	Pending string          `json:"pending,omitempty"` // the bundle gathering for it
	// Worst is the highest severity the window's message carried: a page of
	// a higher one does not wait for the window to pass.
	Worst catalog.Severity `json:"worst,omitempty"`
}

// Bundle is one bundled message: pending until Due, then sent.
type Bundle struct {
	Ref     string                  `json:"ref"`
	Channel catalog.Channel         `json:"channel"`
	Due     time.Time               `json:"due"`
	Items   []activities.BundleItem `json:"items"`
	SentAt  *time.Time              `json:"sentAt,omitempty"`
	Outcome string                  `json:"outcome,omitempty"` // delivered, failed, empty (every item withdrawn)
	// Withdrawn are the withdrawals that came while it was being sent.
	Withdrawn []Withdraw `json:"withdrawn,omitempty"`
	// Open are the keys of the items whose incidents still need a delivered
	// pager-of-record bundle's alert; when the last is withdrawn, the
	// Pager resolves the alert there. Resolved says it did.
	Open     []string `json:"open,omitempty"`
	Resolved bool     `json:"resolved,omitempty"`
}

// Withdraw takes one claimed page (Key) out of a Pager's pending bundles;
// with no Key, every page of the incident (Ref). From a bundle already sent
// to a pager of record, it releases the page: the incident no longer needs
// the bundle's alert.
type Withdraw struct {
	Ref string `json:"ref"`
	Key string `json:"key,omitempty"`
	// Channel, when set, limits it to that channel's bundles: one claim's
	// page waits in a bundle per channel, each with its own fate.
	Channel catalog.Channel `json:"channel,omitempty"`
}

// BundleOutcome tells an incident how the bundle holding its page went out.
type BundleOutcome struct {
	Ref        string          `json:"ref"` // the incident's
	Key        string          `json:"key"` // the claim that put the page in the bundle
	Bundle     string          `json:"bundle"`
	Person     string          `json:"person"`
	Channel    catalog.Channel `json:"channel"`
	Delivered  bool            `json:"delivered"`
	ProviderID string          `json:"providerId,omitempty"`
	Attempts   int32           `json:"attempts,omitempty"`
	Error      string          `json:"error,omitempty"`
	Retries    []string        `json:"retries,omitempty"` // each earlier try's failure
	At         time.Time       `json:"at"`
	// Alone: the claim is the one that started the Pager, handed over again
	// by a retry after its start went through: the page goes alone, at once,
	// from the incident.
	Alone bool `json:"alone,omitempty"`
}

// Pager keeps one person's bundling windows; see PagerID.
func Pager(ctx workflow.Context, in PagerInput) error {
	p := &pager{root: ctx}
	if in.State != nil {
		p.s = *in.State
	} else {
		p.s = PagerState{Person: in.First.Person, Window: in.First.Window, Channels: []ChannelWindow{}, Bundles: []Bundle{}, First: in.First.Item.Key}
		// The incident sent this page at once: the windows opened then.
		opened := in.First.At
		if opened.IsZero() {
			opened = workflow.Now(ctx)
		}
		for _, ch := range in.First.Channels {
			cw := p.window(ch)
			cw.Until, cw.Worst = opened.Add(p.s.Window), in.First.Item.Severity
		}
	}
	if err := p.register(ctx); err != nil {
		return err
	}
	return p.run(ctx)
}

type pager struct {
	s        PagerState
	root     workflow.Context
	claims   workflow.ReceiveChannel
	withdraw workflow.ReceiveChannel
	wake     bool
	// sending counts bundles being sent, resolving alerts being resolved
	// at pagers of record.
	sending, resolving int
}

func (p *pager) register(ctx workflow.Context) error {
	p.claims = workflow.GetSignalChannelWithOptions(ctx, ClaimSignal, workflow.SignalChannelOptions{
		Description: "A page for this person: bundled, or sent at once when the channel's window has passed.",
	})
	p.withdraw = workflow.GetSignalChannelWithOptions(ctx, WithdrawSignal, workflow.SignalChannelOptions{
		Description: "Take an incident's page out of the pending bundles.",
	})
	if err := workflow.SetQueryHandlerWithOptions(ctx, BundleQuery, func(ref string) (Bundle, error) {
		for _, b := range p.s.Bundles {
			if b.Ref == ref {
				return b, nil
			}
		}
		return Bundle{}, fmt.Errorf("no bundle %s", ref)
	}, workflow.QueryHandlerOptions{Description: "One bundle and the incidents in it."}); err != nil {
		return fmt.Errorf("register bundle query: %w", err)
	}
	if err := workflow.SetQueryHandler(ctx, StateQuery, func() (PagerState, error) { return p.s, nil }); err != nil {
		return fmt.Errorf("register state query: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, TakeUpdate, func(ctx workflow.Context, wd Withdraw) (TakeResult, error) {
		// Claims delivered before this update are in the state first.
		p.drain(ctx)
		return p.takeBack(wd), nil
	}, workflow.UpdateHandlerOptions{Description: "Take a claimed page back unless its bundle has gone out: the incident then pages alone."}); err != nil {
		return fmt.Errorf("register %s: %w", TakeUpdate, err)
	}
	return nil
}

// TakeResult says whether a claimed page was taken back before its bundle
// went out. When it was not, the bundle is on its way or went, and the
// incident hears how (BundleSignal).
type TakeResult = activities.TakeResult

// takeBack takes the claimed page wd.Key out of its pending bundle; a page
// the Pager does not hold (never claimed, or carried away by a
// continue-as-new) counts as taken: nothing here will send it.
func (p *pager) takeBack(wd Withdraw) TakeResult {
	for i := range p.s.Bundles {
		b := &p.s.Bundles[i]
		at := slices.IndexFunc(b.Items, func(it activities.BundleItem) bool { return it.Key == wd.Key })
		if at < 0 || wd.Channel != "" && wd.Channel != b.Channel {
			continue
		}
		if b.SentAt != nil {
			return TakeResult{}
		}
		b.Items = slices.Delete(b.Items, at, at+1)
		p.wake = true
		return TakeResult{Taken: true}
	}
	return TakeResult{Taken: true}
}

// claim puts a page in each of its channels' pending bundle; a channel whose
// window has passed gets a bundle of its own, due at once, which opens the
// next window.
func (p *pager) claim(ctx workflow.Context, in activities.ClaimInput) {
	if in.Item.Key == p.s.First {
		// It started this Pager, so it was to go at once, but a retried
		// claim told the incident it was queued: it waits for word.
		p.tellAlone(ctx, in)
		return
	}
	now := workflow.Now(ctx)
	if in.Window > 0 {
		p.s.Window = in.Window
	}
	for _, ch := range in.Channels {
		cw := p.window(ch)
		if cw.Pending == "" {
			p.s.Seq++
			due := cw.Until
			if now.After(due) {
				due = now
			}
			ref := PagerID(p.s.Person) + ":" + workflow.GetInfo(ctx).WorkflowExecution.RunID + ":" + strconv.Itoa(p.s.Seq)
			p.s.Bundles = append(p.s.Bundles, Bundle{Ref: ref, Channel: ch, Due: due, Items: []activities.BundleItem{}})
			cw.Pending = ref
		}
		b := p.bundle(cw.Pending)
		if slices.ContainsFunc(b.Items, func(it activities.BundleItem) bool { return it.Key == in.Item.Key }) {
			continue
		}
		if b.Due.After(now) && louder(in.Item.Severity, cw.Worst) && louder(in.Item.Severity, activities.Worst(b.Items)) {
			// Louder than anything the window has carried or holds: it
			// goes now, with whatever waits beside it.
			b.Due = now
		}
		b.Items = append(b.Items, in.Item)
	}
	p.wake = true
}

// louder: a page of severity sev is more urgent than one of than (SEV1 is
// the most); anything is louder than nothing.
func louder(sev, than catalog.Severity) bool { return sev != "" && (than == "" || sev < than) }

func (p *pager) window(ch catalog.Channel) *ChannelWindow {
	for i := range p.s.Channels {
		if p.s.Channels[i].Channel == ch {
			return &p.s.Channels[i]
		}
	}
	p.s.Channels = append(p.s.Channels, ChannelWindow{Channel: ch})
	return &p.s.Channels[len(p.s.Channels)-1]
}

func (p *pager) bundle(ref string) *Bundle {
	for i := range p.s.Bundles {
		if p.s.Bundles[i].Ref == ref {
			return &p.s.Bundles[i]
		}
	}
	return nil
}

// next is the earliest time something is due: a pending bundle, or the end
// of the last open window (when the Pager may finish).
func (p *pager) next() (time.Time, bool) {
	var at time.Time
	pending := false
	for _, cw := range p.s.Channels {
		if cw.Pending != "" {
			if b := p.bundle(cw.Pending); !pending || b.Due.Before(at) {
				at, pending = b.Due, true
			}
		}
	}
	if pending {
		return at, true
	}
	for _, cw := range p.s.Channels {
		if cw.Until.After(at) {
			at = cw.Until
		}
	}
	return at, false
}

func (p *pager) run(ctx workflow.Context) error {
	for {
		// Claims and withdrawals are taken here, never by a coroutine of
		// their own, so none that arrives as the Pager finishes or continues
		// is lost.
		p.drain(ctx)
		now := workflow.Now(ctx)
		for i := range p.s.Channels {
			cw := &p.s.Channels[i]
			if cw.Pending != "" && !now.Before(p.bundle(cw.Pending).Due) {
				ref := cw.Pending
				cw.Pending = ""
				// The bundle is this window's message.
				cw.Until, cw.Worst = now.Add(p.s.Window), activities.Worst(p.bundle(ref).Items)
				p.send(ctx, ref)
			}
		}
		at, pending := p.next()
		if !pending && !now.Before(at) && p.idle() {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return err
			}
			p.drain(ctx)
			if at, pending := p.next(); pending || workflow.Now(ctx).Before(at) || !p.idle() {
				continue // a claim or withdrawal came in while finishing
			}
			return nil
		}
		if p.sending == 0 && p.resolving == 0 && workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return err
			}
			p.drain(ctx)
			if p.sending > 0 || p.resolving > 0 {
				continue // what the last signals started runs here first
			}
			st := p.s
			// Sent bundles stay only while their alert is open somewhere.
			st.Bundles = slices.DeleteFunc(slices.Clone(st.Bundles), func(b Bundle) bool { return b.SentAt != nil && !b.holds() })
			return workflow.NewContinueAsNewError(ctx, Pager, PagerInput{State: &st})
		}
		p.wake = false
		ready := func() bool { return p.wake || p.withdraw.Len() > 0 || p.claims.Len() > 0 }
		wait := at.Sub(now)
		if wait <= 0 {
			// Nothing is due: a bundle is still sending; its end wakes us.
			if err := workflow.Await(ctx, ready); err != nil {
				return err
			}
			continue
		}
		tctx, cancel := workflow.WithCancel(ctx)
		_, err := workflow.AwaitWithOptions(tctx, workflow.AwaitOptions{Timeout: wait,
			TimerOptions: workflow.TimerOptions{Summary: "bundle window of " + p.s.Person}}, ready)
		cancel()
		if err != nil {
			return err
		}
	}
}

// tellAlone tells the incident that its page started this Pager and goes
// alone, now.
func (p *pager) tellAlone(ctx workflow.Context, in activities.ClaimInput) {
	p.sending++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { p.sending--; p.wake = true }()
		for _, ch := range in.Channels {
			o := BundleOutcome{Ref: in.Item.Ref, Key: in.Item.Key, Person: p.s.Person, Channel: ch, Alone: true, At: workflow.Now(ctx)}
			if err := workflow.SignalExternalWorkflow(ctx, in.Item.IncidentID, "", BundleSignal, o).Get(ctx, nil); err != nil {
				workflow.GetLogger(ctx).Info("alone outcome not delivered", "incidentID", in.Item.IncidentID, "error", err)
			}
		}
	})
}

// drain takes every claim and withdrawal delivered so far, in order.
func (p *pager) drain(ctx workflow.Context) {
	for {
		var in activities.ClaimInput
		var wd Withdraw
		switch {
		case p.claims.ReceiveAsync(&in):
			p.claim(ctx, in)
		case p.withdraw.ReceiveAsync(&wd):
			p.take(ctx, wd)
		default:
			return
		}
	}
}

// idle: nothing is being sent or resolved, and no alert this Pager sent
// is still open at a pager of record, so it may finish.
func (p *pager) idle() bool {
	return p.sending == 0 && p.resolving == 0 && !slices.ContainsFunc(p.s.Bundles, Bundle.holds)
}

// holds: the bundle's alert is open at a pager of record for an incident
// that still needs it.
func (b Bundle) holds() bool { return len(b.Open) > 0 }

func (wd Withdraw) matches(b *Bundle, it activities.BundleItem) bool {
	return (wd.Channel == "" || wd.Channel == b.Channel) && (it.Key == wd.Key || wd.Key == "" && it.Ref == wd.Ref)
}

// take removes a withdrawn incident from every pending bundle, and releases
// it from those sent: a pager of record's bundle alert whose last incident
// is released is resolved there.
func (p *pager) take(ctx workflow.Context, wd Withdraw) {
	for i := range p.s.Bundles {
		b := &p.s.Bundles[i]
		switch {
		case wd.Channel != "" && wd.Channel != b.Channel:
		case b.SentAt == nil:
			b.Items = slices.DeleteFunc(b.Items, func(it activities.BundleItem) bool { return wd.matches(b, it) })
		case b.Outcome == "":
			b.Withdrawn = append(b.Withdrawn, wd)
		case b.holds():
			b.Open = slices.DeleteFunc(b.Open, func(key string) bool {
				return slices.ContainsFunc(b.Items, func(it activities.BundleItem) bool { return it.Key == key && wd.matches(b, it) })
			})
			if !b.holds() {
				p.resolve(ctx, b.Ref)
			}
		}
	}
	p.wake = true
}

// resolve closes a bundle's alert at its pager of record: every incident
// in it was acknowledged, mitigated or resolved.
func (p *pager) resolve(ctx workflow.Context, ref string) {
	p.resolving++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { p.resolving--; p.wake = true }()
		b := p.bundle(ref)
		in := activities.SyncInput{IncidentID: ref, Ref: ref, Action: "resolve",
			Targets: []activities.PageTarget{{Person: p.s.Person, Channel: b.Channel, Key: ref}}}
		// An hour: a pager of record down longer than that leaves the alert
		// for someone to close there (logged).
		if err := workflow.ExecuteActivity(syncOptions(ctx, "resolve", time.Hour), a.SyncPages, in).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Info("bundle alert not resolved", "bundle", ref, "error", err)
			return
		}
		p.bundle(ref).Resolved = true
	})
}

// send sends one bundle and tells each incident in it how it went.
func (p *pager) send(ctx workflow.Context, ref string) {
	p.sending++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { p.sending--; p.wake = true }()
		b := p.bundle(ref)
		now := workflow.Now(ctx)
		b.SentAt = &now
		if len(b.Items) == 0 {
			b.Outcome = "empty"
			return
		}
		items := slices.Clone(b.Items)
		in := activities.BundleInput{Ref: ref, Person: p.s.Person, Channel: b.Channel, Items: items}
		var res activities.DeliverResult
		err := workflow.ExecuteActivity(deliverOptions(ctx, fmt.Sprintf("bundle of %d to %s via %s", len(items), p.s.Person, b.Channel)),
			a.DeliverBundle, in).Get(ctx, &res)
		b = p.bundle(ref) // claims may have grown the list meanwhile
		o := BundleOutcome{Bundle: ref, Person: p.s.Person, Channel: b.Channel, At: workflow.Now(ctx)}
		if err != nil {
			o.Error, o.Retries, b.Outcome = rootMessage(err), earlierFailures(err), "failed"
		} else {
			o.Delivered, o.ProviderID, o.Attempts, o.Retries, b.Outcome = true, res.ProviderID, res.Attempts, res.Failures, "delivered"
			if b.Channel == catalog.PagerDuty {
				// Its alert stays open there until every incident in it
				// is done; those withdrawn while it went are done already.
				for _, it := range items {
					if !slices.ContainsFunc(b.Withdrawn, func(wd Withdraw) bool { return wd.matches(b, it) }) {
						b.Open = append(b.Open, it.Key)
					}
				}
				if !b.holds() {
					p.resolve(ctx, ref)
				}
			}
		}
		b.Withdrawn = nil
		// The incidents are told a batch at a time: a storm's bundle holds
		// hundreds, and Temporal allows 2,000 signals in flight per workflow
		// (five channels' bundles may be telling at once).
		for batch := range slices.Chunk(items, 200) {
			sent := make([]workflow.Future, len(batch))
			for i, it := range batch {
				o.Ref, o.Key = it.Ref, it.Key
				sent[i] = workflow.SignalExternalWorkflow(ctx, it.IncidentID, "", BundleSignal, o)
			}
			for i, f := range sent {
				if err := f.Get(ctx, nil); err != nil {
					// The incident has closed since: nothing there waits for it.
					workflow.GetLogger(ctx).Info("bundle outcome not delivered", "incidentID", batch[i].IncidentID, "error", err)
				}
			}
		}
	})
}
