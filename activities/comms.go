package activities

import (
	"context"
	"time"

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
	return NoticeResult{}, temporal.NewNonRetryableApplicationError("not built", ErrNotConfigured, nil)
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
	return StatusPageResult{}, temporal.NewNonRetryableApplicationError("not built", ErrNotConfigured, nil)
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
	return RoomResult{}, temporal.NewNonRetryableApplicationError("not built", ErrNotConfigured, nil)
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
func (a *Activities) InviteToRoom(ctx context.Context, in InviteInput) (InviteResult, error) {
	return InviteResult{}, temporal.NewNonRetryableApplicationError("not built", ErrNotConfigured, nil)
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
func (a *Activities) PostToRoom(ctx context.Context, in RoomPost) (string, error) {
	return "", temporal.NewNonRetryableApplicationError("not built", ErrNotConfigured, nil)
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
func (a *Activities) Remind(ctx context.Context, r Reminder) (ReminderResult, error) {
	return ReminderResult{}, temporal.NewNonRetryableApplicationError("not built", ErrNotConfigured, nil)
}
