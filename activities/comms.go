package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
)

// The comms activities: everything an incident says to people who are not
// being paged. Each carries names (handles, group names, the incident's
// ref), never addresses; addresses are looked up here, from the catalog.

// ErrNotConfigured: the provider a comms step needs is not configured
// (no status page, no chat platform for a war room). The workflow records it
// and carries on with what it has.
const ErrNotConfigured = "NotConfigured"

// StatusPage opens, updates and resolves a public status page incident.
// Open is idempotent on marker: a retried open finds the incident the first
// try made.
type StatusPage interface {
	Open(ctx context.Context, marker string, n StatusPost) (id, url string, err error)
	Update(ctx context.Context, id string, n StatusPost) error
}

// StatusPost is what a status page shows of one notice.
type StatusPost struct {
	Title      string
	Body       string
	Status     string // investigating, identified, monitoring, resolved
	Impact     string // critical, major, minor, none
	Components []string
	// Marker is what opened it; Incidents the sitrep incidents it speaks
	// for, kept with it (never shown) so each can be found by it.
	Marker    string
	Incidents []string
}

// Rooms is a chat platform that can hold a war room: Slack or Mattermost.
// Create is idempotent on name: creating a room that exists returns it.
type Rooms interface {
	Platform() string // slack, mattermost
	Create(ctx context.Context, name string) (channelID, url string, err error)
	Invite(ctx context.Context, channelID string, userIDs ...string) error
	Post(ctx context.Context, channelID, text string) (messageID string, err error)
	Edit(ctx context.Context, channelID, messageID, text string) error
}

// IncidentPoster is a Rooms that can say which incident a post is about
// (message metadata, post props), so that each war room message names its
// incident.
type IncidentPoster interface {
	PostAbout(ctx context.Context, channelID, incidentID, text string) (messageID string, err error)
}

// DirectMessenger is a Rooms that can also message one person: reminders
// then go as plain messages, without the buttons of a page.
type DirectMessenger interface {
	DirectMessage(ctx context.Context, userID, text string) (messageID string, err error)
}

// Announcer posts announcements to one configured channel: Microsoft
// Teams, whose incoming webhooks cannot create channels.
type Announcer interface {
	Announce(ctx context.Context, title, text string) error
}

// Bridges make a video bridge link for an incident: Zoom, or a URL template.
type Bridges interface {
	Link(ctx context.Context, incidentID, topic string) (string, error)
}

// Mailer sends email to stakeholder lists: SendGrid or SMTP.
type Mailer interface {
	Send(ctx context.Context, e integrations.Email) (string, error)
}

// CommsDeps are the comms activities' providers; any may be nil (not configured).
type CommsDeps struct {
	StatusPage StatusPage
	Rooms      Rooms
	Announcer  Announcer
	Bridges    Bridges
	Mailer     Mailer
}

// NoticeKind is which stakeholder communication a notice is.
type NoticeKind string

// The notices.
const (
	NoticeInitial   NoticeKind = "notice"    // the first: something is wrong, next update at T
	NoticeUpdate    NoticeKind = "update"    // a posted update
	NoticeNoNews    NoticeKind = "no-news"   // "no new information yet; next update at T", sent by sitrep
	NoticeMitigated NoticeKind = "mitigated" // fixed, being watched
	NoticeResolved  NoticeKind = "resolved"  // the final one: what happened, in one paragraph
)

// Notice is one stakeholder communication, with everything a template may
// show. Internal templates may show all of it; external ones only what a
// customer may read (Status, Message when its audience is external,
// NextUpdate, Cadence, Components or Service).
type Notice struct {
	IncidentID string
	Ref        string
	Kind       NoticeKind
	Service    string
	Components []string // status page components: the service's public names
	Severity   catalog.Severity
	Summary    string // the alert's summary: internal only
	Source     string // monitoring, internal, external
	Reporter   string // who reported it, when a person did: internal only
	Status     string // investigating, identified, monitoring, resolved
	Message    string // the update's text, as its author wrote it for this audience
	OpenedAt   time.Time
	At         time.Time
	NextUpdate time.Time // zero: no further update is promised
	Cadence    time.Duration
	Commander  string // internal only
	CommsLead  string // internal only
	Room       string // war room link: internal only
	Bridge     string // video bridge: internal only
	StatusURL  string // the public status page incident
	// Also are the components incidents linked to this public story add to
	// the ones it names (status page posts of a story only).
	Also []string
}

// GroupNotice sends a notice to one stakeholder group, rendered with its
// audience's template.
type GroupNotice struct {
	Notice
	Group string
}

// NoticeResult says what went out.
type NoticeResult struct {
	ProviderID string
	Recipients int // addresses it went to
}

// EmailGroup renders n with the template of the group's audience
// (notice.internal.*.tmpl or notice.external.*.tmpl) and emails every
// address of the group. A group the catalog no longer has, or no mailer, is
// a non-retryable error naming it.
func (a *Activities) EmailGroup(ctx context.Context, n GroupNotice) (NoticeResult, error) {
	if a.Comms.Mailer == nil {
		return NoticeResult{}, notConfigured("no email provider is configured for stakeholder notices")
	}
	c := a.Catalog.Current()
	g, ok := c.StakeholderGroups[n.Group]
	if !ok {
		return NoticeResult{}, catalogError(fmt.Errorf("unknown stakeholder group %q", n.Group))
	}
	if len(g.Emails) == 0 {
		return NoticeResult{}, catalogError(fmt.Errorf("stakeholder group %q has no email addresses", n.Group))
	}
	if g.Audience == catalog.Internal {
		// Colleagues read people by name; external audiences never see them.
		n.Commander, n.CommsLead, n.Reporter = fullName(c, n.Commander), fullName(c, n.CommsLead), fullName(c, n.Reporter)
	}
	subject, text, err := a.Templates.Notice(n.Notice, g.Audience)
	if err != nil {
		return NoticeResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrPermanent, err)
	}
	return a.mailGroup(ctx, n.Group, g.Emails, subject, text, n.IncidentID)
}

// mailGroup emails one stakeholder group's addresses, one email each: a
// merchant never sees who else is on the list. Who was sent to rides on
// heartbeat details, so a retry after a transient failure sends nobody the
// email twice.
func (a *Activities) mailGroup(ctx context.Context, group string, emails []string, subject, text, incidentID string) (NoticeResult, error) {
	var sent []int
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &sent) // unreadable: the list is sent again
	}
	var id string
	var err error
	for i, to := range emails {
		if slices.Contains(sent, i) {
			continue
		}
		if id, err = a.Comms.Mailer.Send(ctx, integrations.Email{To: []string{to}, Subject: subject, Text: text, IncidentID: incidentID}); err != nil {
			return NoticeResult{}, providerError(ctx, "email "+group, incidentID, err)
		}
		sent = append(sent, i)
		activity.RecordHeartbeat(ctx, sent)
	}
	return NoticeResult{ProviderID: id, Recipients: len(emails)}, nil
}

// fullName is "Alice Andersen (alice)" for a handle the catalog has a name
// for, else the handle as it is.
func fullName(c *catalog.Catalog, handle string) string {
	if p, ok := c.People[handle]; ok && p.Name != "" {
		return p.Name + " (" + handle + ")"
	}
	return handle
}

// notConfigured is the non-retryable error of a step whose provider is missing.
func notConfigured(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrNotConfigured, nil)
}

// providerError classifies a comms provider's failure as Deliver does, and
// names the step that failed. Only the provider's own error is kept, not
// what the client wrapped around it (a chat user ID, say), and contacts
// are redacted: the message goes into history.
// StaleAfter is how long what goes stale (a reminder, a war room's opening
// and invitations) retries a provider's failures before it is given up.
// It counts from the provider's first failure, which the attempts pass on
// through heartbeat details: time spent waiting for a worker never counts,
// so a worker outage makes these late, never lost.
const StaleAfter = time.Hour

// staleness is what the attempts of something that goes stale pass on.
type staleness struct {
	FirstFailure time.Time
}

// stale turns a provider's transient failure into ErrGaveUp once the
// provider has failed for StaleAfter, counted from the first failure the
// attempts recorded (first, updated here).
func stale(ctx context.Context, err error, first *time.Time) error {
	if err == nil || isNonRetryable(err) {
		return err
	}
	now := time.Now()
	if first.IsZero() {
		*first = now
	}
	if since := now.Sub(*first); since >= StaleAfter {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("gave up after %s of failures: %s", since.Round(time.Second), redact(err.Error())), ErrGaveUp, nil)
	}
	return err
}

// firstFailure is when the provider first failed, as the attempts before
// recorded it; an attempt before that ended with nothing recorded (it timed
// out: the provider hung) counts as failing from now.
func firstFailure(ctx context.Context, recorded time.Time) time.Time {
	if recorded.IsZero() && activity.GetInfo(ctx).Attempt > 1 {
		return time.Now()
	}
	return recorded
}

// staleError is stale for activities whose heartbeat details carry nothing
// else.
func staleError(ctx context.Context, err error) error {
	var st staleness
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &st) // unreadable: counted from now
	}
	st.FirstFailure = firstFailure(ctx, st.FirstFailure)
	err = stale(ctx, err, &st.FirstFailure)
	activity.RecordHeartbeat(ctx, st)
	return err
}

func providerError(ctx context.Context, step, incidentID string, err error) error {
	err = classify(err, nil)
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		msg := step + ": " + app.Message()
		if app.NonRetryable() {
			err = temporal.NewNonRetryableApplicationError(msg, app.Type(), nil)
		} else {
			err = temporal.NewApplicationErrorWithOptions(msg, app.Type(), temporal.ApplicationErrorOptions{NextRetryDelay: app.NextRetryDelay()})
		}
	} else {
		err = fmt.Errorf("%s: %s", step, redact(err.Error()))
	}
	activity.GetLogger(ctx).Warn("comms step failed", "step", step, "incidentID", incidentID, "error", err)
	return err
}

// StatusPageResult is the status page incident a notice went to.
type StatusPageResult struct {
	ID  string
	URL string
}

// StatusPageNotice posts n to the public status page: the first notice
// opens its incident (idempotently, on the incident's ref), later ones
// update it by ID; resolved resolves it. External template. No status page
// configured: ErrNotConfigured.
func (a *Activities) StatusPageNotice(ctx context.Context, n Notice, id string) (StatusPageResult, error) {
	if a.Comms.StatusPage == nil {
		return StatusPageResult{}, notConfigured("no status page is configured")
	}
	// The page is the link: the notice on it does not point to itself.
	page := n
	page.StatusURL = ""
	_, body, err := a.Templates.Notice(page, catalog.External)
	if err != nil {
		return StatusPageResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrPermanent, err)
	}
	title, err := a.Templates.StatusTitle(n)
	if err != nil {
		return StatusPageResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrPermanent, err)
	}
	post := StatusPost{Title: title, Body: body, Status: statusOf(n), Impact: StatusImpact(n.Severity), Components: slices.Clone(n.Components),
		Marker: orID(n.Ref, n.IncidentID), Incidents: []string{n.IncidentID}}
	if id == "" {
		id, url, err := a.Comms.StatusPage.Open(ctx, orID(n.Ref, n.IncidentID), post)
		if err != nil {
			return StatusPageResult{}, providerError(ctx, "open status page incident", n.IncidentID, err)
		}
		return StatusPageResult{ID: id, URL: url}, nil
	}
	if err := a.Comms.StatusPage.Update(ctx, id, post); err != nil {
		return StatusPageResult{}, providerError(ctx, "update status page incident", n.IncidentID, err)
	}
	return StatusPageResult{ID: id, URL: n.StatusURL}, nil
}

// statusOf is the status page status a notice sets: its own, or the one
// its kind implies.
func statusOf(n Notice) string {
	switch {
	case n.Kind == NoticeResolved:
		return "resolved"
	case n.Status != "":
		return n.Status
	case n.Kind == NoticeMitigated:
		return "monitoring"
	}
	return "investigating"
}

// StatusImpact is the status page impact of a severity.
func StatusImpact(s catalog.Severity) string {
	switch s {
	case catalog.SEV1:
		return "critical"
	case catalog.SEV2:
		return "major"
	case catalog.SEV3:
		return "minor"
	}
	return "none"
}

// RoomInput asks for an incident's war room.
type RoomInput struct {
	IncidentID string
	Ref        string
	Name       string // the channel name, from catalog.RoomName
	Topic      string // the bridge's topic
}

// RoomResult is the war room: on Teams, no channel (announcements only).
type RoomResult struct {
	Platform string // slack, mattermost, teams
	Channel  string
	URL      string
	Bridge   string
	Problems []string // what could not be made (the bridge, say), the rest still works
}

// OpenRoom creates the war room's channel (or finds the one a retried
// attempt created) and the video bridge. No chat platform: ErrNotConfigured.
func (a *Activities) OpenRoom(ctx context.Context, in RoomInput) (RoomResult, error) {
	var out RoomResult
	switch {
	case a.Comms.Rooms != nil:
		ch, url, err := a.Comms.Rooms.Create(ctx, in.Name)
		if err != nil {
			return RoomResult{}, staleError(ctx, providerError(ctx, "create war room", in.IncidentID, err))
		}
		out = RoomResult{Platform: a.Comms.Rooms.Platform(), Channel: ch, URL: url}
	case a.Comms.Announcer != nil:
		out = RoomResult{Platform: "teams"}
	default:
		return RoomResult{}, notConfigured("no chat platform is configured for a war room")
	}
	if a.Comms.Bridges == nil {
		return out, nil
	}
	topic := in.Topic
	if topic == "" {
		topic = in.Name
	}
	// A bridge that cannot be made leaves the room without one: responders
	// still talk in the channel, and the failure is on the timeline.
	bridge, err := a.Comms.Bridges.Link(ctx, orID(in.Ref, in.IncidentID), topic)
	if err != nil {
		activity.GetLogger(ctx).Warn("video bridge failed", "incidentID", in.IncidentID, "error", err)
		out.Problems = append(out.Problems, redact("video bridge: "+err.Error()))
		return out, nil
	}
	out.Bridge = bridge
	return out, nil
}

// InviteInput invites people to a war room, by handle.
type InviteInput struct {
	Channel string
	People  []string
}

// InviteResult says who is in, and who has no chat user to invite.
type InviteResult struct {
	Invited []string
	Missing []string
}

// InviteToRoom invites people, by their chat contact in the catalog.
//
// Each person is invited on their own, so one the platform does not know
// (a permanent refusal) is in Missing and the others still join; a
// transient failure retries the whole, and inviting a member again is harmless.
func (a *Activities) InviteToRoom(ctx context.Context, in InviteInput) (InviteResult, error) {
	if a.Comms.Rooms == nil {
		return InviteResult{}, notConfigured("no chat platform is configured for a war room")
	}
	c := a.Catalog.Current()
	var out InviteResult
	for _, p := range in.People {
		if slices.Contains(out.Invited, p) || slices.Contains(out.Missing, p) {
			continue
		}
		user, err := c.Address(p, catalog.Chat)
		if err != nil {
			out.Missing = append(out.Missing, p)
			continue
		}
		if err := a.Comms.Rooms.Invite(ctx, in.Channel, user); err != nil {
			err = providerError(ctx, "invite "+p, "", err)
			if !isNonRetryable(err) {
				return InviteResult{}, staleError(ctx, err)
			}
			out.Missing = append(out.Missing, p)
			continue
		}
		out.Invited = append(out.Invited, p)
	}
	return out, nil
}

// RoomPost posts text to a war room, or edits the message Edit names.
// Channel empty: the announcement goes to the Announcer (Teams).
type RoomPost struct {
	IncidentID string
	Channel    string
	Text       string
	Edit       string
}

// PostToRoom posts or edits; it returns the message's ID.
// Editing the summary is idempotent; a retried post after an ambiguous
// failure may show twice, as chat platforms have no idempotency key.
func (a *Activities) PostToRoom(ctx context.Context, in RoomPost) (string, error) {
	if in.Channel == "" {
		if a.Comms.Announcer == nil {
			return "", notConfigured("no war room channel and no announcement channel")
		}
		if err := a.Comms.Announcer.Announce(ctx, "sitrep incident "+in.IncidentID, in.Text); err != nil {
			return "", providerError(ctx, "announce", in.IncidentID, err)
		}
		return "", nil
	}
	if a.Comms.Rooms == nil {
		return "", notConfigured("no chat platform is configured for a war room")
	}
	if in.Edit != "" {
		if err := a.Comms.Rooms.Edit(ctx, in.Channel, in.Edit, in.Text); err != nil {
			return "", providerError(ctx, "edit war room message", in.IncidentID, err)
		}
		return in.Edit, nil
	}
	post := a.Comms.Rooms.Post
	if p, ok := a.Comms.Rooms.(IncidentPoster); ok && in.IncidentID != "" {
		post = func(ctx context.Context, channel, text string) (string, error) {
			return p.PostAbout(ctx, channel, in.IncidentID, text)
		}
	}
	id, err := post(ctx, in.Channel, in.Text)
	if err != nil {
		return "", providerError(ctx, "post to war room", in.IncidentID, err)
	}
	return id, nil
}

// ReminderKind is what a reminder is about.
type ReminderKind string

// The reminders.
const (
	ReminderDue     ReminderKind = "update-due"     // an update is due soon
	ReminderOverdue ReminderKind = "update-overdue" // it is due now and none came
	ReminderRole    ReminderKind = "role-unfilled"  // a role is still empty
)

// Reminder is one reminder to one person.
type Reminder struct {
	IncidentID string
	Ref        string
	Kind       ReminderKind
	Person     string
	CC         []string // copied: the commander
	Service    string
	Severity   catalog.Severity
	Summary    string
	Role       string // the role whose update is due, or that is unfilled
	Due        time.Time
	Command    string // the one command that posts the update, or assigns the role
	Room       string // the war room, whose slash command works too
}

// ReminderResult says how the reminder went out.
type ReminderResult struct {
	Channel    catalog.Channel
	ProviderID string
}

// Remind renders a reminder (reminder.*.tmpl) and sends it to the person on
// their first reachable channel of chat, sms, email (never a voice call),
// and to each CC the same way.
//
// Who already got it rides on heartbeat details, so a retry after a CC's
// transient failure does not remind the person twice. A person with no
// reachable channel is a non-retryable ErrNoContact, after the CCs are told.
func (a *Activities) Remind(ctx context.Context, r Reminder) (ReminderResult, error) {
	subject, text, err := a.Templates.Reminder(r)
	if err != nil {
		return ReminderResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrPermanent, err)
	}
	var done reminded
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &done) // unreadable: everyone is reminded again
	}
	if done.Sent == nil {
		done.Sent = map[string]ReminderResult{}
	}
	if first := firstFailure(ctx, done.FirstFailure); !first.Equal(done.FirstFailure) {
		// The attempt before hung: from now on, its failures count.
		done.FirstFailure = first
		activity.RecordHeartbeat(ctx, done)
	}
	var out ReminderResult
	var missing error
	for i, p := range append([]string{r.Person}, r.CC...) {
		if p == "" || (i > 0 && p == r.Person) {
			continue
		}
		res, ok := done.Sent[p]
		if !ok {
			res, err = a.remindOne(ctx, r, p, subject, text)
			if err != nil && !isNonRetryable(err) {
				err = stale(ctx, err, &done.FirstFailure)
				activity.RecordHeartbeat(ctx, done)
			}
			if err != nil && isNonRetryable(err) {
				if i == 0 {
					missing = err
				}
				continue
			}
			if err != nil {
				return ReminderResult{}, err
			}
			done.Sent[p] = res
			activity.RecordHeartbeat(ctx, done)
		}
		if i == 0 {
			out = res
		}
	}
	return out, missing
}

// directNotifier sends a message as a plain direct message.
type directNotifier struct{ dm DirectMessenger }

func (d directNotifier) Notify(ctx context.Context, m Message) (string, error) {
	return d.dm.DirectMessage(ctx, m.To, m.Text)
}

// reminded is who a reminder reached, across its attempts, and when its
// provider first failed.
type reminded struct {
	Sent         map[string]ReminderResult
	FirstFailure time.Time
}

// reminderChannels are the channels a reminder may use, in order: never a
// voice call for something that is not a page.
var reminderChannels = []catalog.Channel{catalog.Chat, catalog.SMS, catalog.Email}

// remindOne sends the reminder to person on their first reachable channel;
// a channel that refuses for good moves on to the next.
func (a *Activities) remindOne(ctx context.Context, r Reminder, person, subject, text string) (ReminderResult, error) {
	c := a.Catalog.Current()
	var refused []string
	for _, ch := range reminderChannels {
		n, ok := a.Notifiers[ch]
		if dm, isDM := a.Comms.Rooms.(DirectMessenger); isDM && ch == catalog.Chat {
			// The chat notifier adds a page's Acknowledge and Escalate buttons.
			n, ok = directNotifier{dm}, true
		}
		if !ok {
			continue
		}
		to, err := c.Address(person, ch)
		if err != nil {
			continue
		}
		m := Message{IncidentID: r.IncidentID, Ref: orID(r.Ref, r.IncidentID), Person: person, To: to,
			Subject: subject, Text: text, Severity: r.Severity}
		id, err := n.Notify(ctx, m)
		if err == nil {
			if a.Observe != nil {
				a.Observe(m, time.Now())
			}
			return ReminderResult{Channel: ch, ProviderID: id}, nil
		}
		err = classify(err, nil)
		activity.GetLogger(ctx).Warn("reminder failed", "incidentID", r.IncidentID, "person", person, "channel", ch, "error", err)
		if !isNonRetryable(err) {
			return ReminderResult{}, err
		}
		refused = append(refused, fmt.Sprintf("%s: %s", ch, err))
	}
	msg := fmt.Sprintf("%s has no reachable chat, sms or email contact", person)
	if len(refused) > 0 {
		msg += " (" + strings.Join(refused, "; ") + ")"
	}
	return ReminderResult{}, temporal.NewNonRetryableApplicationError(redact(msg), ErrNoContact, nil)
}
