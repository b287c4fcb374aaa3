package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/sitrep-dev/sitrep/catalog"
)

// Pagers holds each person's bundling windows (the Pager workflows): it
// answers which channels may carry a message to a person now.
type Pagers interface {
	Claim(ctx context.Context, in ClaimInput) (ClaimResult, error)
	Take(ctx context.Context, in TakeInput) (TakeResult, error)
}

// ClaimInput asks which of a person's channels may carry Item now.
type ClaimInput struct {
	Person   string
	Channels []catalog.Channel
	Window   time.Duration
	At       time.Time // when the incident asked: a window opened by this page starts then
	Item     BundleItem
}

// BundleItem is one incident's page in a bundle. It carries handles and
// text, never addresses.
type BundleItem struct {
	Key        string // the claim's idempotency key: the same page asking twice gets the same answer
	Ref        string // the incident's ref
	IncidentID string
	Service    string
	Severity   catalog.Severity
	Summary    string
	Kind       string
}

// ClaimResult says who sends the page: the caller, now, on every channel
// (the person was quiet); or, when Queued, the person's Pager, in a bundle.
type ClaimResult struct {
	Queued bool
}

// Claim asks the person's Pager which channels may carry a page now. It runs
// as a local activity on the first page's path: on a quiet person it costs
// one workflow start.
func (a *Activities) Claim(ctx context.Context, in ClaimInput) (ClaimResult, error) {
	if a.Pagers == nil || in.Window <= 0 {
		return ClaimResult{}, nil
	}
	r, err := a.Pagers.Claim(ctx, in)
	if err != nil {
		return ClaimResult{}, fmt.Errorf("claim %s: %w", in.Person, err)
	}
	return r, nil
}

// TakeInput asks a person's Pager for a claimed page (Key) back.
type TakeInput struct {
	Person  string
	Channel catalog.Channel // the bundle's: a claim waits in one per channel
	Ref     string          // the incident's
	Key     string          // the claim's
}

// TakeResult says whether the page was taken back before its bundle went
// out: then the caller sends it alone. Otherwise the bundle is on its way,
// or went, and its outcome comes to the incident as for any bundle.
type TakeResult struct {
	Taken bool
}

// Take asks the person's Pager for a claimed page back: its bundle is late
// to report. With no Pager running, nothing there will send it: taken.
func (a *Activities) Take(ctx context.Context, in TakeInput) (TakeResult, error) {
	if a.Pagers == nil {
		return TakeResult{Taken: true}, nil
	}
	r, err := a.Pagers.Take(ctx, in)
	if err != nil {
		return TakeResult{}, fmt.Errorf("take back from %s: %w", in.Person, err)
	}
	return r, nil
}

// BundleInput is one bundled message: every incident that paged a person on
// a channel within its window, after the first.
type BundleInput struct {
	Ref     string // the bundle's ref: what its acknowledge link, buttons and dedup key carry
	Person  string
	Channel catalog.Channel
	Items   []BundleItem
}

// DeliverBundle renders and sends one bundled message. Retries and
// classification are those of Deliver.
func (a *Activities) DeliverBundle(ctx context.Context, in BundleInput) (DeliverResult, error) {
	n, to, err := a.reach(in.Person, in.Channel)
	if err != nil {
		return DeliverResult{}, err
	}
	// A person paged twice for one incident within the window hears of it once.
	seen := map[string]bool{}
	in.Items = slices.DeleteFunc(slices.Clone(in.Items), func(it BundleItem) bool {
		dup := seen[it.Ref]
		seen[it.Ref] = true
		return dup
	})
	m := Message{IncidentID: in.Ref, Ref: in.Ref, Key: in.Ref, Person: in.Person, To: to, Severity: Worst(in.Items)}
	for _, it := range in.Items {
		if !slices.Contains(m.Incidents, it.IncidentID) {
			m.Incidents = append(m.Incidents, it.IncidentID)
		}
	}
	if a.Links != nil {
		m.AckURL = a.Links.AckURL(m.Ref, in.Person)
	}
	m.Subject, m.Text, err = a.Templates.Bundle(in, m.AckURL)
	if err != nil {
		return DeliverResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrPermanent, err)
	}
	return a.send(ctx, n, m)
}

// Worst is the highest severity among items; "" when there are none.
func Worst(items []BundleItem) catalog.Severity {
	var w catalog.Severity
	for _, it := range items {
		if w == "" || it.Severity < w {
			w = it.Severity
		}
	}
	return w
}

// Forwarder opens an incident for an alert, or folds it into that incident
// when it is open: what the intake does, for an alert a grouped incident
// passes on because it came outside the grouping window.
type Forwarder interface {
	Forward(ctx context.Context, in ForwardInput) error
}

// ForwardInput is the incident to open or fold into, and the alert, as the
// workflows encode it (this package does not know the alert's type).
type ForwardInput struct {
	IncidentID string
	Alert      json.RawMessage
}

// Forward hands an alert to its own incident.
func (a *Activities) Forward(ctx context.Context, in ForwardInput) error {
	if a.Forwarder == nil {
		return temporal.NewNonRetryableApplicationError("no forwarder configured", ErrChannelOff, nil)
	}
	if err := a.Forwarder.Forward(ctx, in); err != nil {
		return fmt.Errorf("forward to %s: %w", in.IncidentID, err)
	}
	return nil
}
