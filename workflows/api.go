package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// TaskQueue is the task queue sitrep's workers poll and its starter starts on.
const TaskQueue = "sitrep"

// Message names: the starter and the workflows share these.
const (
	// AlertSignal folds an alert into an open incident. A signal, not an
	// update: an alert must be durable the moment the server accepts it, even
	// while no worker is running.
	AlertSignal = "alert"
	// AcknowledgeUpdate acknowledges the incident's page. An update, so the
	// responder hears at once whether it counted (unknown person, already
	// acknowledged by someone else).
	AcknowledgeUpdate = "acknowledge"
	// EscalateUpdate skips the rest of the current level's wait.
	EscalateUpdate = "escalate"
	// MitigateUpdate marks the incident mitigated; paging stops.
	MitigateUpdate = "mitigate"
	// ResolveUpdate resolves the incident; paging stops and the workflow ends.
	ResolveUpdate = "resolve"
	// StateQuery returns the whole IncidentState.
	StateQuery = "state"
	// BundleSignal tells an incident how a bundle holding one of its pages
	// went out. A signal: the Pager workflow must not wait on the incident.
	BundleSignal = "bundle"
	// PostUpdateUpdate posts a stakeholder update: status page, stakeholder
	// lists of its audience, war room; it restarts the update clock.
	PostUpdateUpdate = "post-update"
	// AssignRoleUpdate gives a role (commander, comms, a sub-role) to a person.
	AssignRoleUpdate = "assign-role"
	// SubmitPostmortemUpdate submits the post-mortem (root cause, impact,
	// action items, learnings); EditPostmortemUpdate resubmits it. Updates:
	// the commander hears at once what is wrong with it, field by field.
	SubmitPostmortemUpdate = "postmortem-submit"
	EditPostmortemUpdate   = "postmortem-edit"
	// ApproveUpdate and RejectUpdate decide on the stakeholder summary;
	// only the service's approvers may.
	ApproveUpdate = "postmortem-approve"
	RejectUpdate  = "postmortem-reject"
	// AddActionUpdate adds an action item, to the post-mortem before it is
	// approved, to the follow-up after.
	AddActionUpdate = "actions-add"
	// PostmortemQuery returns the post-mortem document's contents.
	PostmortemQuery = "postmortem"
)

// StakeholderStatus is what stakeholders are told of the incident's state;
// it only moves forward.
type StakeholderStatus string

// The statuses, in order.
const (
	StatusInvestigating StakeholderStatus = "investigating"
	StatusIdentified    StakeholderStatus = "identified"
	StatusMonitoring    StakeholderStatus = "monitoring"
	StatusResolved      StakeholderStatus = "resolved"
)

// Statuses lists the statuses in the order an incident goes through them.
var Statuses = []StakeholderStatus{StatusInvestigating, StatusIdentified, StatusMonitoring, StatusResolved}

// Audience is who an update is for.
type Audience string

// The audiences.
const (
	AudienceInternal Audience = "internal"
	AudienceExternal Audience = "external"
	AudienceBoth     Audience = "both"
)

// UpdateRequest posts a stakeholder update.
type UpdateRequest struct {
	By       string            `json:"by"`
	Status   StakeholderStatus `json:"status,omitempty"` // empty: unchanged
	Message  string            `json:"message"`
	Audience Audience          `json:"audience,omitempty"` // empty: both
	// Role posts for a sub-role's own audience instead of the comms lead's.
	Role    string `json:"role,omitempty"`
	Channel string `json:"channel,omitempty"` // how it arrived: cli, slack, mattermost
	Run     string `json:"run,omitempty"`
}

// UpdateResult says what was posted and when the next update is due.
type UpdateResult struct {
	At      time.Time         `json:"at"`
	Status  StakeholderStatus `json:"status"`
	NextDue *time.Time        `json:"nextDue,omitempty"`
}

// RoleRequest gives Role to Person.
type RoleRequest struct {
	Role    string `json:"role"`
	Person  string `json:"person"`
	By      string `json:"by,omitempty"`
	Channel string `json:"channel,omitempty"`
	Run     string `json:"run,omitempty"`
}

// RoleResult says who holds the role now, and who held it before.
type RoleResult struct {
	Role     string    `json:"role"`
	Person   string    `json:"person"`
	Previous string    `json:"previous,omitempty"`
	At       time.Time `json:"at"`
}

// Rejection reasons: the application error types an update's validator
// rejects with, so callers can tell them apart.
const (
	RejectUnknownResponder    = "UnknownResponder"
	RejectAlreadyAcknowledged = "AlreadyAcknowledged"
	RejectWrongPhase          = "WrongPhase"
	RejectInvalid             = "InvalidRequest"
	// RejectStale: the request answers a page of an earlier incident that
	// had the same ID (the same alert, fired again after it was resolved).
	RejectStale = "StaleIncident"
	// RejectNotApprover: only the service's approvers decide what
	// stakeholders are told after an incident.
	RejectNotApprover = "NotApprover"
	// RejectStaleDraft: the approver decided on a draft an edit replaced.
	RejectStaleDraft = "StaleDraft"
)

// IncidentRef names one incident, not just its ID, for everything that
// answers a page later: acknowledge links, chat buttons, voice keypresses,
// PagerDuty's dedup key. An ID is reused when the same alert fires again
// after its incident resolved; the ref's run part is not, so yesterday's
// button cannot acknowledge today's incident.
func IncidentRef(id, run string) string {
	if run == "" {
		return id
	}
	return id + ":" + run
}

// ParseIncidentRef splits a ref into the incident ID and its run part; a
// plain ID has no run part.
func ParseIncidentRef(ref string) (id, run string) {
	id, run, _ = strings.Cut(ref, ":")
	return id, run
}

// Search attributes a manager filters incidents by in the Temporal UI.
var (
	ServiceAttr  = temporal.NewSearchAttributeKeyKeyword("SitrepService")
	SeverityAttr = temporal.NewSearchAttributeKeyKeyword("SitrepSeverity")
	PhaseAttr    = temporal.NewSearchAttributeKeyKeyword("SitrepPhase")
	SourceAttr   = temporal.NewSearchAttributeKeyKeyword("SitrepSource")
	TeamAttr     = temporal.NewSearchAttributeKeyKeyword("SitrepTeam")
)

// NextUpdateAttr is when the incident's next stakeholder update is due:
// `SitrepNextUpdate < "<now>"` finds every incident whose update is overdue.
// Unset while no update is due.
var NextUpdateAttr = temporal.NewSearchAttributeKeyTime("SitrepNextUpdate")

// RoomAttr is the war room's chat channel ID: how a slash command typed in
// the room finds its incident.
var RoomAttr = temporal.NewSearchAttributeKeyKeyword("SitrepRoom")

// PagedAttr lists the handles of everyone paged: "incidents that paged
// alice", and how an SMS reply without a code finds its incident.
var PagedAttr = temporal.NewSearchAttributeKeyKeywordList("SitrepPaged")

// PostPhaseAttr is where an incident's aftermath stands: postmortem-due,
// in-review, published, following-up, closed (PostIncident and FollowUp).
var PostPhaseAttr = temporal.NewSearchAttributeKeyKeyword("SitrepPostPhase")

// PostmortemDueAttr is when the post-mortem is due: `SitrepPostPhase =
// "postmortem-due" AND SitrepPostmortemDue < "<now>"` finds every overdue one.
var PostmortemDueAttr = temporal.NewSearchAttributeKeyTime("SitrepPostmortemDue")

// SearchAttributes lists every search attribute sitrep needs registered,
// with an empty value of its type.
var SearchAttributes = []temporal.SearchAttributeUpdate{
	ServiceAttr.ValueSet(""), SeverityAttr.ValueSet(""), PhaseAttr.ValueSet(""), SourceAttr.ValueSet(""),
	TeamAttr.ValueSet(""), PagedAttr.ValueSet(nil), NextUpdateAttr.ValueSet(time.Time{}),
	RoomAttr.ValueSet(""),
	PostPhaseAttr.ValueSet(""), PostmortemDueAttr.ValueSet(time.Time{}),
}

// Source is where an alert came from.
type Source string

// The sources, most desirable first: an incident monitoring did not catch is a gap.
const (
	Monitoring Source = "monitoring"
	Internal   Source = "internal"
	External   Source = "external"
)

// Phase is where an incident is in its lifecycle.
type Phase string

// The phases. Later issues add post-mortem, published, follow-up and closed
// after resolved.
const (
	Triggered    Phase = "triggered"
	Acknowledged Phase = "acknowledged"
	Mitigated    Phase = "mitigated"
	Resolved     Phase = "resolved"
)

// Alert is one alert from any source, normalised.
type Alert struct {
	Source      Source            `json:"source"`
	Service     string            `json:"service"`
	Severity    catalog.Severity  `json:"severity"`
	Summary     string            `json:"summary"`
	DedupKey    string            `json:"dedupKey"`
	Labels      map[string]string `json:"labels,omitempty"`
	Links       []string          `json:"links,omitempty"`
	Reporter    string            `json:"reporter,omitempty"`    // who declared it, for internal and external reports
	Integration string            `json:"integration,omitempty"` // how it arrived: cli, alertmanager, grafana, pagerduty, generic, report
	Resolved    bool              `json:"resolved,omitempty"`    // the source says the condition cleared
	// ResolveIncident: when the source says the alert cleared, resolve the
	// incident rather than only mitigate it.
	ResolveIncident bool      `json:"resolveIncident,omitempty"`
	ReceivedAt      time.Time `json:"receivedAt"`
}

// IncidentID derives the incident's workflow ID from the alert: the service,
// so the UI's list reads well, and 64 bits of a hash of the dedup key, so
// repeats of the same alert land on the same workflow and nobody can aim an
// alert at another key's incident.
func IncidentID(service, dedupKey string) string {
	sum := sha256.Sum256([]byte(dedupKey))
	return "inc-" + slug(service) + "-" + hex.EncodeToString(sum[:8])
}

// GroupID is the incident ID every alert of a service that groups its alerts
// goes to: the service's open incident, whatever the alert's dedup key.
func GroupID(service string) string { return IncidentID(service, "\x00group:"+service) }

// incidentIDPattern matches what IncidentID makes.
var incidentIDPattern = regexp.MustCompile(`\binc-[a-z0-9-]{1,40}-[0-9a-f]{16}\b`)

// FindIncidentID returns the first incident ID in text, or "".
func FindIncidentID(text string) string { return incidentIDPattern.FindString(text) }

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	out := strings.TrimSuffix(b.String(), "-")
	if out == "" {
		return "unknown"
	}
	return out
}

// AckRequest asks to acknowledge an incident.
type AckRequest struct {
	Person  string `json:"person"`        // catalog handle
	Channel string `json:"channel"`       // how the ack arrived: cli, sms, voice, link, slack, mattermost, pagerduty
	Run     string `json:"run,omitempty"` // the run part of the page's IncidentRef; empty from the CLI
}

// AckResult says who acknowledged and when.
type AckResult struct {
	Person string    `json:"person"`
	At     time.Time `json:"at"`
	// Incidents lists the incidents a bundle's acknowledgment acknowledged.
	Incidents []string `json:"incidents,omitempty"`
}

// EscalateRequest asks to stop waiting at the current level.
type EscalateRequest struct {
	Person  string `json:"person"`
	Channel string `json:"channel"`
	Run     string `json:"run,omitempty"`
}

// EscalateResult says which level the page moved to.
type EscalateResult struct {
	Level int `json:"level"` // 1-based level now paging
}

// PhaseRequest moves an incident to mitigated or resolved.
type PhaseRequest struct {
	By string `json:"by,omitempty"`
	// Note is what happened, for insiders: the timeline, the war room and
	// internal stakeholder emails. It never reaches the status page or an
	// external audience: it may name hosts and people.
	Note string `json:"note,omitempty"`
	// Public is the plain-language text external audiences read in the
	// mitigated or final notice; empty, they read the template's own words.
	Public string `json:"public,omitempty"`
	Run    string `json:"run,omitempty"`
}

// PhaseResult is the incident's phase after the change.
type PhaseResult struct {
	Phase Phase     `json:"phase"`
	At    time.Time `json:"at"`
	// Already: the incident was in that phase before this request, since At
	// (by By); asking twice is not an error.
	Already bool   `json:"already,omitempty"`
	By      string `json:"by,omitempty"`
}

// Registrar is what workflows are registered with: a worker, a test
// environment, a replayer.
type Registrar interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// Register registers every sitrep workflow under its name.
func Register(r Registrar) {
	r.RegisterWorkflowWithOptions(Incident, workflow.RegisterOptions{Name: "Incident"})
	r.RegisterWorkflowWithOptions(Pager, workflow.RegisterOptions{Name: "Pager"})
	r.RegisterWorkflowWithOptions(PostIncident, workflow.RegisterOptions{Name: "PostIncident"})
	r.RegisterWorkflowWithOptions(FollowUp, workflow.RegisterOptions{Name: "FollowUp"})
	r.RegisterWorkflowWithOptions(Story, workflow.RegisterOptions{Name: "Story"})
}

// MarkdownText escapes text (an alert's summary, which anyone holding an
// alert key wrote) for the Markdown the Temporal UI renders, so it shows as
// written and never as a link or an image.
func MarkdownText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_{}[]()<>#+-.!|~", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// FindIncidentIDs returns every incident ID in text, each once, in order;
// also when URL-escaped, as in a call's keypad link.
func FindIncidentIDs(text string) []string {
	if u, err := url.QueryUnescape(text); err == nil {
		text = u
	}
	var out []string
	for _, id := range incidentIDPattern.FindAllString(text, -1) {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// Merging: one incident folded into another, so stakeholders hear one story.
const (
	// MergeUpdate merges this incident into another: paging stops, its
	// pagers of record close, stakeholders hear only the target's story,
	// and its record joins the target's. An update: the person merging
	// hears at once why a merge is refused, and nothing is done then.
	MergeUpdate = "merge"
	// AbsorbUpdate is how a merging incident hands its record to the
	// target, and how, after the merge, the alerts that still reach it pass
	// on. An update, so a target that has resolved meanwhile refuses and
	// nothing is half done.
	AbsorbUpdate = "absorb"
)

// Merged is the phase of an incident merged into another: closed, with
// MergedInto naming where its story goes on.
const Merged Phase = "merged"

// MergeUnanswered is the error type of a merge whose target did not answer
// in time: nothing changed, and it is no refusal; trying again is safe.
const MergeUnanswered = "MergeTargetUnanswered"

// MergeKeep is how many of its latest alerts, pages and timeline entries a
// merged incident hands to its target; what is older stays in its own record.
const MergeKeep = 100

// MergeRequest merges an incident into Into.
type MergeRequest struct {
	Into    string `json:"into"` // the target incident's ID (or ref)
	By      string `json:"by"`
	Note    string `json:"note,omitempty"`
	Channel string `json:"channel,omitempty"` // how it arrived: cli, slack, mattermost
	Run     string `json:"run,omitempty"`
}

// MergeResult says where the incident went, when and by whom.
type MergeResult struct {
	Into string    `json:"into"`
	At   time.Time `json:"at"`
	By   string    `json:"by,omitempty"`
	// Already: it was merged into Into before this request.
	Already bool `json:"already,omitempty"`
}

// AbsorbRequest hands a merged incident's record to its target (Record), or
// passes on alerts that reached the merged incident after the merge
// (Alerts). With neither, it only asks whether the target is still open.
type AbsorbRequest struct {
	From   string          `json:"from"`          // the merged incident's ID
	Run    string          `json:"run,omitempty"` // the target's run the merge was aimed at; empty: the open one
	Record *MergedIncident `json:"record,omitempty"`
	Alerts []Alert         `json:"alerts,omitempty"`
}

// AbsorbResult names the target that took the record.
type AbsorbResult struct {
	ID      string `json:"id"`
	Run     string `json:"run"`
	Summary string `json:"summary"`
}

// MergedIncident is an incident merged into this one: who merged it, and
// the latest MergeKeep of its alerts, pages and timeline entries.
type MergedIncident struct {
	ID         string           `json:"id"`
	Run        string           `json:"run"`
	Service    string           `json:"service"`
	Severity   catalog.Severity `json:"severity"`
	Summary    string           `json:"summary"`
	FirstSeen  time.Time        `json:"firstSeen"`
	At         time.Time        `json:"at"` // when it was merged
	By         string           `json:"by"`
	Note       string           `json:"note,omitempty"`
	AlertCount int              `json:"alertCount"`
	Keys       []AlertKey       `json:"keys"`
	Alerts     []AlertRecord    `json:"alerts"`
	Pages      []PageEntry      `json:"pages"`
	Timeline   []Event          `json:"timeline"`
	// Responders are those it paged or who acknowledged it: they may act
	// on the target.
	Responders []string `json:"responders,omitempty"`
	// Elided counts the entries older than the last MergeKeep of each list,
	// which stay in the merged incident's own record.
	Elided int `json:"elided,omitempty"`
}
