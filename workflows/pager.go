package workflows

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// Pager fatigue is a defect: within a window a person gets at most one
// message per channel, and what comes later is bundled into one. Each
// person's windows live in a Pager workflow (ID PagerID(person)), which runs
// while a window is open. Its ID is the lock that keeps the quiet path fast:
// a page to a person with no Pager running starts one and goes out at once
// (a start is one round trip, and waits for no workflow task); a page to a
// person whose Pager runs asks it (ClaimUpdate) and is sent now or bundled.
// When a channel's window passes, the Pager sends the bundle, tells each
// incident in it how it went (BundleSignal), and opens the next window.

// Names the Pager workflow answers to.
const (
	// ClaimUpdate asks a running Pager which channels may carry a page now.
	ClaimUpdate = "claim"
	// WithdrawSignal takes an incident out of the pending bundles: it was
	// acknowledged, mitigated or resolved before they went out.
	WithdrawSignal = "withdraw"
	// BundleQuery returns one bundle: what the acknowledgment of a bundle
	// acknowledges.
	BundleQuery = "bundle"
)

// PagerID is the workflow ID of person's Pager.
func PagerID(person string) string { return "pager-" + person }

// IsBundleRef: ref names a bundle, not an incident.
func IsBundleRef(ref string) bool { return strings.HasPrefix(ref, "pager-") }

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
	// Claims remembers recent answers by the claim's key, so a retried
	// claim gets the same answer.
	Claims []ClaimRecord `json:"claims"`
	Seq    int           `json:"seq"`
}

// ChannelWindow is one channel's window: no message before Until, except the
// bundle gathered for it.
type ChannelWindow struct {
	Channel catalog.Channel `json:"channel"`
	Until   time.Time       `json:"until"`
	Pending string          `json:"pending,omitempty"` // the bundle gathering for it
}

// Bundle is one bundled message: pending until Due, then sent.
type Bundle struct {
	Ref     string                  `json:"ref"`
	Channel catalog.Channel         `json:"channel"`
	Due     time.Time               `json:"due"`
	Items   []activities.BundleItem `json:"items"`
	SentAt  *time.Time              `json:"sentAt,omitempty"`
	Outcome string                  `json:"outcome,omitempty"` // delivered, failed, empty (every item withdrawn)
}

// ClaimRecord is an answered claim.
type ClaimRecord struct {
	Key    string                 `json:"key"`
	Result activities.ClaimResult `json:"result"`
}

// Withdraw takes one claimed page (Key) out of a Pager's pending bundles;
// with no Key, every page of the incident (Ref).
type Withdraw struct {
	Ref string `json:"ref"`
	Key string `json:"key,omitempty"`
}

// BundleOutcome tells an incident how the bundle holding its page went out.
type BundleOutcome struct {
	Ref        string          `json:"ref"` // the incident's
	Bundle     string          `json:"bundle"`
	Person     string          `json:"person"`
	Channel    catalog.Channel `json:"channel"`
	Delivered  bool            `json:"delivered"`
	ProviderID string          `json:"providerId,omitempty"`
	Attempts   int32           `json:"attempts,omitempty"`
	Error      string          `json:"error,omitempty"`
	Retries    []string        `json:"retries,omitempty"` // each earlier try's failure
	At         time.Time       `json:"at"`
}

// Pager keeps one person's bundling windows; see PagerID.
func Pager(ctx workflow.Context, in PagerInput) error {
	p := &pager{root: ctx}
	if in.State != nil {
		p.s = *in.State
	} else {
		p.s = PagerState{Person: in.First.Person, Window: in.First.Window, Channels: []ChannelWindow{}, Bundles: []Bundle{}}
		p.claim(ctx, in.First)
	}
	if err := p.register(ctx); err != nil {
		return err
	}
	return p.run(ctx)
}

type pager struct {
	s        PagerState
	root     workflow.Context
	withdraw workflow.ReceiveChannel
	wake     bool
	sending  int
}

func (p *pager) register(ctx workflow.Context) error {
	p.withdraw = workflow.GetSignalChannelWithOptions(ctx, WithdrawSignal, workflow.SignalChannelOptions{
		Description: "Take an incident out of the pending bundles.",
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
	return workflow.SetUpdateHandlerWithOptions(ctx, ClaimUpdate, func(ctx workflow.Context, in activities.ClaimInput) (activities.ClaimResult, error) {
		return p.claim(ctx, in), nil
	}, workflow.UpdateHandlerOptions{
		Validator: func(in activities.ClaimInput) error {
			if in.Person != p.s.Person || len(in.Channels) == 0 {
				return temporal.NewApplicationError("claim: wrong person or no channels", RejectInvalid)
			}
			return nil
		},
		Description: "Which of these channels may carry a page now; the others are bundled.",
	})
}

// claim answers which channels may carry a message now, bundling the others.
func (p *pager) claim(ctx workflow.Context, in activities.ClaimInput) activities.ClaimResult {
	for _, c := range p.s.Claims {
		if c.Key == in.Item.Key {
			return c.Result
		}
	}
	now := workflow.Now(ctx)
	if in.Window > 0 {
		p.s.Window = in.Window
	}
	res := activities.ClaimResult{}
	for _, ch := range in.Channels {
		cw := p.window(ch)
		if !now.Before(cw.Until) {
			cw.Until = now.Add(p.s.Window)
			continue
		}
		if cw.Pending == "" {
			p.s.Seq++
			ref := PagerID(p.s.Person) + ":" + workflow.GetInfo(ctx).WorkflowExecution.RunID + ":" + strconv.Itoa(p.s.Seq)
			p.s.Bundles = append(p.s.Bundles, Bundle{Ref: ref, Channel: ch, Due: cw.Until, Items: []activities.BundleItem{}})
			cw.Pending = ref
		}
		b := p.bundle(cw.Pending)
		if !slices.ContainsFunc(b.Items, func(it activities.BundleItem) bool { return it.Key == in.Item.Key }) {
			b.Items = append(b.Items, in.Item)
		}
		if res.Bundles == nil {
			res.Bundles = map[catalog.Channel]string{}
		}
		res.Bundles[ch] = cw.Pending
		if b.Due.After(res.Due) {
			res.Due = b.Due
		}
	}
	p.s.Claims = append(p.s.Claims, ClaimRecord{Key: in.Item.Key, Result: res})
	if n := len(p.s.Claims) - 500; n > 0 {
		p.s.Claims = slices.Clone(p.s.Claims[n:])
	}
	p.wake = true
	return res
}

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
		// Withdrawals are taken here, never by a coroutine of their own, so
		// one that arrives as the Pager finishes or continues is not lost.
		var wd Withdraw
		for p.withdraw.ReceiveAsync(&wd) {
			p.take(wd)
		}
		now := workflow.Now(ctx)
		for i := range p.s.Channels {
			cw := &p.s.Channels[i]
			if cw.Pending != "" && !now.Before(p.bundle(cw.Pending).Due) {
				ref := cw.Pending
				cw.Pending = ""
				cw.Until = now.Add(p.s.Window) // the bundle is this window's message
				p.send(ctx, ref)
			}
		}
		at, pending := p.next()
		if !pending && !now.Before(at) && p.sending == 0 {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return err
			}
			var wd Withdraw
			for p.withdraw.ReceiveAsync(&wd) {
				p.take(wd)
			}
			if at, pending := p.next(); pending || workflow.Now(ctx).Before(at) {
				continue // a claim came in while finishing
			}
			return nil
		}
		if p.sending == 0 && workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return err
			}
			for p.withdraw.ReceiveAsync(&wd) {
				p.take(wd)
			}
			st := p.s
			st.Bundles = slices.DeleteFunc(slices.Clone(st.Bundles), func(b Bundle) bool { return b.SentAt != nil })
			return workflow.NewContinueAsNewError(ctx, Pager, PagerInput{State: &st})
		}
		p.wake = false
		ready := func() bool { return p.wake || p.withdraw.Len() > 0 }
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

// take removes a withdrawn incident from every pending bundle.
func (p *pager) take(wd Withdraw) {
	for i := range p.s.Bundles {
		if b := &p.s.Bundles[i]; b.SentAt == nil && b.Outcome == "" {
			b.Items = slices.DeleteFunc(b.Items, func(it activities.BundleItem) bool {
				return it.Key == wd.Key || wd.Key == "" && it.Ref == wd.Ref
			})
		}
	}
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
		}
		for _, it := range items {
			o.Ref = it.Ref
			if err := workflow.SignalExternalWorkflow(ctx, it.IncidentID, "", BundleSignal, o).Get(ctx, nil); err != nil {
				// The incident has closed since: nothing there waits for it.
				workflow.GetLogger(ctx).Info("bundle outcome not delivered", "incidentID", it.IncidentID, "error", err)
			}
		}
	})
}
