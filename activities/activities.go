package activities

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/acklink"
)

// Error types a workflow sees on an activity's ApplicationError. They are
// non-retryable: trying again cannot help.
const (
	// ErrPermanent: the provider refused the message for good (invalid
	// number, unsubscribed, bad credentials).
	ErrPermanent = "PermanentDelivery"
	// ErrNoContact: the person has no address on that channel.
	ErrNoContact = "NoContact"
	// ErrChannelOff: no provider is configured for that channel.
	ErrChannelOff = "ChannelDisabled"
	// ErrCatalog: the catalog cannot answer (unknown policy, person).
	ErrCatalog = "CatalogError"
	// ErrGaveUp: a provider kept failing for GiveUpAfter; the person's next
	// channel is tried.
	ErrGaveUp = "ProviderGaveUp"
)

// GiveUpAfter is how long a delivery retries a provider's transient failures
// before it gives up and the person's next channel is tried. It is measured
// from the first failure the provider gave, so time spent waiting for a
// worker never counts.
const GiveUpAfter = 3 * time.Minute

// Notifier delivers one message on one channel and returns the provider's id for it.
type Notifier interface {
	Notify(ctx context.Context, m Message) (providerID string, err error)
}

// Message is one notification, rendered, addressed and ready for a channel.
type Message struct {
	IncidentID string
	Ref        string // the incident's ref (ID and run): what links, buttons and dedup keys carry
	Person     string // catalog handle
	To         string // the person's address on this channel
	Subject    string
	Text       string
	Severity   catalog.Severity
	AckURL     string // signed link that acknowledges as this person; empty when none
	// Key is what a pager of record (PagerDuty) keys the alert by: the
	// page's own key, or its bundle's ref; Reference() when empty.
	Key string
	// Incidents are the incident IDs a bundle carries, so that every
	// channel's message can name each; empty for a page of one incident.
	Incidents []string
}

// Reference is what links, buttons and dedup keys carry: the ref, or the
// ID when the message has none.
func (m Message) Reference() string { return orID(m.Ref, m.IncidentID) }

// AlertKey is the key a pager of record keeps the message's alert under.
func (m Message) AlertKey() string { return orID(m.Key, m.Reference()) }

// Catalog gives the catalog in force now; the worker may reload it between calls.
type Catalog interface {
	Current() *catalog.Catalog
}

// StaticCatalog is a Catalog that never changes.
type StaticCatalog struct{ C *catalog.Catalog }

// Current returns the catalog.
func (s StaticCatalog) Current() *catalog.Catalog { return s.C }

// Activities holds every side effect's dependencies. Register one; workflows
// call its methods through a nil *Activities.
type Activities struct {
	Catalog   Catalog
	Notifiers map[catalog.Channel]Notifier
	Links     *acklink.Signer // nil: messages carry no acknowledge link
	Templates *Templates
	// Observe, when set, hears of each message handed to a provider; the benchmark measures with it.
	Observe func(Message, time.Time)
	// Pagers holds each person's bundling windows; nil pages every message at once.
	Pagers Pagers
	// Forwarder opens incidents for alerts a grouped incident passes on.
	Forwarder Forwarder
	// Stories holds the public stories and stakeholder update windows
	// across incidents (the Story workflows); nil: each incident sends its
	// notices itself.
	Stories Stories
	// Comms are the providers of everything said to people not being paged:
	// status page, war room, video bridge, stakeholder email.
	Comms CommsDeps
	// Tracker files and reads action-item tickets (Jira); nil: not configured.
	Tracker Tracker
	// Merger hands a merged incident's record and later alerts to its target.
	Merger Merger
}

// RouteInput asks where an incident goes.
type RouteInput struct {
	Service  string
	Severity catalog.Severity
	Summary  string    // for the war room's name
	OpenedAt time.Time // for the war room's name, and who is comms lead
}

// RouteResult is where an incident goes and how it pages.
type RouteResult struct {
	Known          bool
	Team           string
	Policy         string
	Tier           int
	Channels       []catalog.Channel
	Levels         []LevelPlan
	Repeat         int
	Fallback       string
	Responders     []string
	RepageAfterAck time.Duration
	// RepageEscalateAfter, AutoResolveAfter: see catalog.SeverityPolicy.
	RepageEscalateAfter int
	AutoResolveAfter    time.Duration
	GroupWindow         time.Duration // see catalog.Service
	BundleWindow        time.Duration // see catalog.Catalog
	Comms               CommsPlan
}

// CommsPlan is how an incident communicates, as routing found it.
type CommsPlan struct {
	Cadence           time.Duration // see catalog.SeverityPolicy
	RemindBefore      time.Duration
	NoNewsAfter       time.Duration
	RoleUnfilledAfter time.Duration
	Notice            catalog.When
	WarRoom           catalog.When
	InternalOnly      bool
	// StatusPage: a status page is configured and the service has components on it.
	StatusPage bool
	Components []string
	Groups     []GroupPlan // the service's stakeholder groups
	Roles      []catalog.Role
	RoomName   string // the war room's channel name
	// CommsLead is who the team's comms rotation has on now; empty when it has none.
	CommsLead string
	// UpdateWindow: see catalog.Comms.
	UpdateWindow time.Duration
}

// GroupPlan is a stakeholder group and its audience.
type GroupPlan struct {
	Name     string
	Audience catalog.Audience
}

// LevelPlan is one escalation level as routing saw it.
type LevelPlan struct {
	Delay   time.Duration
	Targets []catalog.Target
}

// Route resolves service and severity into a team, a policy and channels.
// It only reads the catalog, so the workflow runs it as a local activity.
func (a *Activities) Route(ctx context.Context, in RouteInput) (RouteResult, error) {
	c := a.Catalog.Current()
	// Errors here are retried without end: an incident must not give up on
	// paging because the catalog is broken; the worker logs each attempt
	// until an operator fixes it.
	r, err := c.Route(in.Service)
	if err != nil {
		return RouteResult{}, fmt.Errorf("route: %w", err)
	}
	sp, ok := c.Severities[in.Severity]
	if !ok {
		return RouteResult{}, fmt.Errorf("route: unknown severity %q", in.Severity)
	}
	p, ok := c.Policies[r.Policy]
	if !ok {
		return RouteResult{}, fmt.Errorf("route: unknown policy %q", r.Policy)
	}
	out := RouteResult{
		Known: r.Known, Team: r.Team, Policy: r.Policy, Tier: r.Tier,
		Channels:            sp.ChannelsFor(r.Tier),
		Repeat:              p.Repeat,
		Fallback:            p.Fallback,
		Responders:          c.Responders(r),
		RepageAfterAck:      sp.RepageAfterAck,
		RepageEscalateAfter: sp.RepageEscalateAfter,
		AutoResolveAfter:    sp.AutoResolveAfter,
		BundleWindow:        c.BundleWindow,
	}
	if svc, ok := c.Services[in.Service]; ok {
		out.GroupWindow = svc.GroupWindow
	}
	for _, l := range c.Levels(r.Policy) {
		out.Levels = append(out.Levels, LevelPlan{Delay: l.Delay, Targets: slices.Clone(l.Targets)})
	}
	out.Comms = a.commsPlan(c, r, sp, in)
	return out, nil
}

// commsPlan is how the incident will communicate.
func (a *Activities) commsPlan(c *catalog.Catalog, r catalog.Route, sp *catalog.SeverityPolicy, in RouteInput) CommsPlan {
	p := CommsPlan{Cadence: sp.UpdateCadence, RemindBefore: c.Comms.RemindBefore, NoNewsAfter: sp.NoNewsAfter,
		RoleUnfilledAfter: c.Comms.RoleUnfilledAfter, Notice: sp.Notice, WarRoom: sp.WarRoom, InternalOnly: sp.InternalOnly,
		Roles: slices.Clone(c.Comms.Roles), UpdateWindow: c.Comms.UpdateWindow}
	if svc, ok := c.Services[in.Service]; ok {
		p.Components = slices.Clone(svc.StatusPageComponents)
		for _, g := range svc.StakeholderGroups {
			if sg, ok := c.StakeholderGroups[g]; ok {
				p.Groups = append(p.Groups, GroupPlan{Name: g, Audience: sg.Audience})
			}
		}
	}
	p.StatusPage = a.Comms.StatusPage != nil && len(p.Components) > 0
	if t, ok := c.Teams[r.Team]; ok && t.CommsRotation != "" {
		// No one on the rotation yet (it starts later): the role stays open
		// and the commander is reminded to fill it.
		p.CommsLead, _ = c.OnCall(t.CommsRotation, in.OpenedAt)
	}
	name, err := catalog.RoomName(c.Comms.RoomName, catalog.RoomFields{Date: in.OpenedAt.UTC().Format("20060102"),
		Service: in.Service, Severity: strings.ToLower(string(in.Severity)), Summary: in.Summary})
	if err != nil {
		name, _ = catalog.RoomName(catalog.DefaultRoomName, catalog.RoomFields{Date: in.OpenedAt.UTC().Format("20060102"),
			Service: in.Service, Severity: strings.ToLower(string(in.Severity)), Summary: in.Summary})
	}
	p.RoomName = name
	return p
}

// RecipientsInput asks who targets (a level of the plan, or one person) are
// at time At, and how to reach each on Channels.
type RecipientsInput struct {
	Targets  []catalog.Target
	At       time.Time
	Channels []catalog.Channel
}

// RecipientsResult is who to page, and each target that could not be
// resolved (the others are still paged).
type RecipientsResult struct {
	Recipients []catalog.Recipient
	Problems   []string
}

// Recipients resolves targets (rotations at time At) into people and
// channels, from the catalog in force now: the incident's plan says who the
// levels are, the catalog who is on call and how to reach them.
func (a *Activities) Recipients(ctx context.Context, in RecipientsInput) (RecipientsResult, error) {
	rs, err := a.Catalog.Current().RecipientsOf(in.Targets, in.At, in.Channels)
	out := RecipientsResult{Recipients: rs}
	if err != nil {
		for _, e := range strings.Split(err.Error(), "\n") {
			out.Problems = append(out.Problems, redact(e))
		}
	}
	return out, nil
}

// DeliverInput is one page to one person on one channel. It carries handles,
// never addresses: contact details stay out of workflow history.
type DeliverInput struct {
	IncidentID string
	Ref        string // the incident's ref, for links and buttons
	// Key is the page's own dedup key at a pager of record: every page that
	// must notify is an alert of its own there.
	Key        string
	Person     string
	Channel    catalog.Channel
	Kind       string // page, lead, repage, repage-escalation, fallback, raise, raised
	Level      int
	Service    string
	Severity   catalog.Severity
	Summary    string
	AlertCount int
	OpenedAt   time.Time // when the incident's first alert arrived
}

// DeliverResult is the provider's id for the message.
type DeliverResult struct {
	ProviderID string
	Attempts   int32    // tries it took, retries of transient failures included
	Failures   []string // what went wrong on the tries before the one that worked
}

// Deliver renders and sends one page. A provider's permanent refusal comes
// back non-retryable, so the workflow moves to the person's next channel at
// once; a transient one is retried, after the provider's Retry-After when it
// gave one.
func (a *Activities) Deliver(ctx context.Context, in DeliverInput) (DeliverResult, error) {
	n, to, err := a.reach(in.Person, in.Channel)
	if err != nil {
		return DeliverResult{}, err
	}
	m := Message{IncidentID: in.IncidentID, Ref: orID(in.Ref, in.IncidentID), Key: in.Key, Person: in.Person, To: to, Severity: in.Severity}
	if a.Links != nil {
		m.AckURL = a.Links.AckURL(m.Ref, in.Person)
	}
	m.Subject, m.Text, err = a.Templates.Page(in, m.AckURL)
	if err != nil {
		return DeliverResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrPermanent, err)
	}
	return a.send(ctx, n, m)
}

// reach finds the provider for ch and person's address on it; what is
// missing is a non-retryable error, so the person's next channel is tried.
func (a *Activities) reach(person string, ch catalog.Channel) (Notifier, string, error) {
	n, ok := a.Notifiers[ch]
	if !ok {
		return nil, "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("no provider configured for channel %s", ch), ErrChannelOff, nil)
	}
	to, err := a.Catalog.Current().Address(person, ch)
	if err != nil {
		return nil, "", temporal.NewNonRetryableApplicationError(err.Error(), ErrNoContact, nil)
	}
	return n, to, nil
}

// tries is what a delivery's attempts pass on to the next through heartbeat
// details: each earlier failure, and when the provider first failed.
type tries struct {
	Failures     []string
	FirstFailure time.Time
}

// send hands m to n. Earlier attempts' failures ride on heartbeat details
// from one attempt to the next, so the incident's record shows every try, not
// just the last; a provider that has failed for GiveUpAfter is given up on.
func (a *Activities) send(ctx context.Context, n Notifier, m Message) (DeliverResult, error) {
	var t tries
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &t) // unreadable: the record starts afresh
	}
	attempt := activity.GetInfo(ctx).Attempt
	id, err := n.Notify(ctx, m)
	if err != nil {
		now := time.Now()
		if t.FirstFailure.IsZero() {
			t.FirstFailure = now
		}
		// The last error carries the earlier ones as details: a delivery that
		// gives up shows every try too.
		err = classify(err, t.Failures)
		if !isNonRetryable(err) {
			if since := now.Sub(t.FirstFailure); since >= GiveUpAfter && attempt > 1 {
				err = temporal.NewNonRetryableApplicationError(fmt.Sprintf("gave up after %s of failures: %s", since.Round(time.Second), redact(err.Error())),
					ErrGaveUp, nil, append(t.Failures, fmt.Sprintf("attempt %d: %s", attempt, err)))
			}
		}
		activity.GetLogger(ctx).Warn("delivery failed", "incidentID", m.IncidentID, "person", m.Person,
			"attempt", attempt, "error", err)
		t.Failures = append(t.Failures, fmt.Sprintf("attempt %d: %s", attempt, err))
		activity.RecordHeartbeat(ctx, t)
		return DeliverResult{}, err
	}
	if a.Observe != nil {
		a.Observe(m, time.Now())
	}
	return DeliverResult{ProviderID: id, Attempts: attempt, Failures: t.Failures}, nil
}

func isNonRetryable(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.NonRetryable()
}

// Syncer is what a pager of record (PagerDuty) can do beyond paging: hear
// that the incident was acknowledged or resolved in sitrep.
type Syncer interface {
	Sync(ctx context.Context, action string, m Message) error
}

// PageTarget is an alert at a person's pager of record, under Key: a
// page's own key, or the ref of the bundle the page went out in.
type PageTarget struct {
	Person  string
	Channel catalog.Channel
	Key     string
}

// SyncInput asks pagers of record to follow an acknowledgment or resolution.
type SyncInput struct {
	IncidentID string
	Ref        string
	Action     string // acknowledge or resolve
	Targets    []PageTarget
}

// SyncPages tells each target's pager of record that the incident was
// acknowledged or resolved. Channels whose provider cannot hear it are
// skipped. Repeating it is harmless: each target names its alert's key.
//
// One target's failure does not keep the others from being told: every
// target is tried; then a transient failure retries the whole (the others
// are told again, harmlessly), and a permanent one fails it for good.
func (a *Activities) SyncPages(ctx context.Context, in SyncInput) error {
	var transient, permanent error
	for _, t := range in.Targets {
		s, ok := a.Notifiers[t.Channel].(Syncer)
		if !ok {
			continue
		}
		to, err := a.Catalog.Current().Address(t.Person, t.Channel)
		if err != nil {
			// The catalog no longer has the address: the others still get told.
			activity.GetLogger(ctx).Warn("pager not synced: no address", "incidentID", in.IncidentID, "person", t.Person, "error", err)
			continue
		}
		if err := s.Sync(ctx, in.Action, Message{IncidentID: in.IncidentID, Ref: orID(in.Ref, in.IncidentID), Key: t.Key, Person: t.Person, To: to}); err != nil {
			err = classify(err, nil)
			if isNonRetryable(err) {
				permanent = cmpOr(permanent, err)
			} else {
				transient = cmpOr(transient, err)
			}
		}
	}
	return cmpOr(transient, permanent)
}

// cmpOr is the first error that is not nil.
func cmpOr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// orID is ref, or id for inputs recorded before refs existed.
func orID(ref, id string) string {
	if ref == "" {
		return id
	}
	return ref
}

// classify turns a provider's error into what Temporal's retry needs to know.
// Its message goes into workflow history, so contact details a provider
// echoes back (the number it refused, the address that bounced) are
// redacted from it.
// earlier, when not empty, goes into the error's details.
func classify(err error, earlier []string) error {
	var details []any
	if len(earlier) > 0 {
		details = []any{earlier}
	}
	var ie *integrations.Error
	if errors.As(err, &ie) {
		if ie.Permanent() {
			return temporal.NewNonRetryableApplicationError(redact(ie.Error()), ErrPermanent, nil, details...)
		}
		return temporal.NewApplicationErrorWithOptions(redact(ie.Error()), "TransientDelivery",
			temporal.ApplicationErrorOptions{NextRetryDelay: ie.RetryAfter, Details: details})
	}
	msg := redact(err.Error())
	if msg == err.Error() && details == nil {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(msg, "TransientDelivery", temporal.ApplicationErrorOptions{Details: details})
}

// contactLike matches phone numbers and email addresses.
// Phone numbers are matched in E.164 form, as sitrep's catalog holds them
// and providers echo them back; dates, codes and IDs are left alone.
var contactLike = regexp.MustCompile(`\+[1-9][0-9]{6,14}|[^\s<>"'@:/]+@[^\s<>"'@]+\.[A-Za-z]{2,}`)

func redact(s string) string { return contactLike.ReplaceAllString(s, "[redacted]") }

func catalogError(err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), ErrCatalog, nil)
}
