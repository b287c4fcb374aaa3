package workflows

import (
	"time"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// IncidentInput starts an Incident. A new incident is started by
// SignalWithStart with an empty input: its opening alert is the first alert
// signal. Alert is set instead when the incident is started directly (tests,
// drills) or when it continued as new into the next incident for an alert
// that fired after resolution. State carries a running incident across
// continue-as-new, Pending the alerts that arrived while it handed over.
type IncidentInput struct {
	Alert   Alert          `json:"alert"`
	State   *IncidentState `json:"state,omitempty"`
	Pending []Alert        `json:"pending,omitempty"`
	// Carried are the jobs the run before stopped to continue as new (a
	// notice retrying through a provider outage): they go out first.
	Carried []Job `json:"carried,omitempty"`
}

// IncidentState is everything an incident knows about itself: what the state
// query returns, what `sitrep status` prints and what continues as new. Each
// part of the workflow owns its slice: AlertsState the alerts, PagingState
// who was paged and who answered; the incident itself the identity, phase
// and plan.
type IncidentState struct {
	ID           string           `json:"id"`
	Run          string           `json:"run"` // the run this incident opened in; with ID, its IncidentRef
	Phase        Phase            `json:"phase"`
	Service      string           `json:"service"`
	KnownService bool             `json:"knownService"` // false: routed to the catch-all team
	Team         string           `json:"team"`
	Policy       string           `json:"policy"`
	Tier         int              `json:"tier"`
	Severity     catalog.Severity `json:"severity"` // the highest any of its alerts had
	Source       Source           `json:"source"`
	Summary      string           `json:"summary"`
	Reporter     string           `json:"reporter,omitempty"`
	DedupKey     string           `json:"dedupKey"` // the opening alert's
	AlertsState
	PagingState
	ResponseState
	CommsState
	MitigatedAt *time.Time `json:"mitigatedAt,omitempty"`
	MitigatedBy string     `json:"mitigatedBy,omitempty"`
	ResolvedAt  *time.Time `json:"resolvedAt,omitempty"`
	Plan        Plan       `json:"plan"`
	Timeline    []Event    `json:"timeline"`
	// Elided says what of a very long record was let go at continue-as-new:
	// the head and the tail stay, the middle is in the earlier runs' state.
	Elided *Elided `json:"elided,omitempty"`
	// PostIncident is the workflow that carries on after resolution.
	PostIncident string `json:"postIncident,omitempty"`
	MergeState
}

// AlertsState is the alerts part's slice of an incident.
type AlertsState struct {
	AlertCount int       `json:"alertCount"`
	FirstSeen  time.Time `json:"firstSeen"`
	LastSeen   time.Time `json:"lastSeen"`
	// Keys are the dedup keys folded into this incident: one, or many when
	// the service groups its alerts.
	Keys []AlertKey `json:"keys"`
	// Alerts records each alert that arrived, oldest first.
	Alerts []AlertRecord `json:"alerts"`
	// SourceClearedAt is when the sources last reported every key clear,
	// nil while any still fires.
	SourceClearedAt *time.Time `json:"sourceClearedAt,omitempty"`
	// MitigatedBySource: the alert's source reported it resolved; no person
	// said so.
	MitigatedBySource bool `json:"mitigatedBySource,omitempty"`
	// Forwarded are keys that arrived outside the grouping window and went
	// to an incident of their own.
	Forwarded []string `json:"forwarded,omitempty"`
}

// AlertKey is one dedup key of an incident and what its source last said.
type AlertKey struct {
	DedupKey    string `json:"dedupKey"`
	Integration string `json:"integration,omitempty"` // the integration that first sent it: only it may clear it
	Firing      bool   `json:"firing"`
}

// AlertRecord is one alert as it arrived.
type AlertRecord struct {
	At          time.Time        `json:"at"`
	DedupKey    string           `json:"dedupKey"`
	Severity    catalog.Severity `json:"severity"`
	Summary     string           `json:"summary"`
	Integration string           `json:"integration,omitempty"`
	Resolved    bool             `json:"resolved,omitempty"`
	Ignored     string           `json:"ignored,omitempty"` // why it changed nothing, when it did not
}

// PagingState is the paging part's slice of an incident.
type PagingState struct {
	AcknowledgedBy string     `json:"acknowledgedBy,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledgedAt,omitempty"`
	// Unacknowledged is set when escalation ran out with nobody acknowledging;
	// the incident stays open and can still be acknowledged.
	Unacknowledged bool        `json:"unacknowledged"`
	Escalation     Escalation  `json:"escalation"`
	Pages          []PageEntry `json:"pages"`
	// Paged is everyone ever paged for this incident: searchable, and each
	// may acknowledge.
	Paged []string `json:"paged"`
	// PagerTargets are the alerts this incident may hold open at pagers of
	// record (PagerDuty): one per page, each under its own key, closed when
	// the incident is mitigated or resolved; and the bundles it rode in,
	// whose alerts their Pager closes once every incident in them is done.
	PagerTargets []PagerTarget `json:"pagerTargets,omitempty"`
	// PageKeys numbers the pages sent to pagers of record, so each has a
	// dedup key of its own (PageKey).
	PageKeys int `json:"pageKeys,omitempty"`
	// Bundled are the people whose Pager holds (or sent) a PagerDuty page
	// of this incident since it last told them it was done (release).
	Bundled []string `json:"bundled,omitempty"`
	// Repages counts re-pages since the acknowledger last answered.
	Repages int `json:"repages,omitempty"`
}

// PagerTarget is an alert at a person's pager of record: a page's own,
// under Key, or the bundle's the page went out in, under Bundle.
type PagerTarget struct {
	Person string `json:"person"`
	Key    string `json:"key,omitempty"`
	Bundle string `json:"bundle,omitempty"`
	// Synced is the last action its pager of record was told of
	// (acknowledge, resolve): each key is told each action once.
	Synced string `json:"synced,omitempty"`
}

// Elided counts what of the record continue-as-new let go, and names the
// runs whose state still holds it.
type Elided struct {
	Pages  int `json:"pages"`
	Events int `json:"events"`
	Alerts int `json:"alerts"`
	// Updates are stakeholder updates let go (a long incident's "no news").
	Updates int      `json:"updates,omitempty"`
	Runs    []string `json:"runs"`
}

// Plan is how this incident pages, as routing found it when the incident
// opened. It is kept whole, so a catalog changed or reloaded mid-incident
// never changes who the levels are.
type Plan struct {
	Channels       []catalog.Channel `json:"channels"` // what the severity asks for on this tier
	Levels         []PlanLevel       `json:"levels"`
	Repeat         int               `json:"repeat"`
	Fallback       string            `json:"fallback,omitempty"`
	Responders     []string          `json:"responders"`
	RepageAfterAck time.Duration     `json:"repageAfterAck"`
	// RepageEscalateAfter: unanswered re-pages before the next level is paged too.
	RepageEscalateAfter int           `json:"repageEscalateAfter,omitempty"`
	AutoResolveAfter    time.Duration `json:"autoResolveAfter,omitempty"`
	GroupWindow         time.Duration `json:"groupWindow,omitempty"`
	BundleWindow        time.Duration `json:"bundleWindow,omitempty"`
	Comms               CommsPlan     `json:"comms"`
}

// CommsPlan is how the incident communicates, as routing found it: kept,
// like the levels, so a catalog change never changes a running incident.
type CommsPlan = activities.CommsPlan

// PlanLevel is one level of the escalation policy.
type PlanLevel struct {
	Delay   time.Duration    `json:"delay"`
	Targets []catalog.Target `json:"targets"`
}

// Escalation is where paging stands: the cursor that survives continue-as-new.
type Escalation struct {
	Pass  int `json:"pass,omitempty"` // bumped each time the incident re-opens and paging starts over
	Round int `json:"round"`          // 0-based pass through the policy
	// Level is the 0-based level in Plan.Levels; -1 is the lead, paged
	// before level 1 when the incident re-opens after a person mitigated it.
	Level    int       `json:"level"`
	Lead     string    `json:"lead,omitempty"`
	Paged    bool      `json:"paged"`    // this level's pages went out
	Deadline time.Time `json:"deadline"` // when this level escalates; after an acknowledgment, when the acknowledger is re-paged
	Reached  bool      `json:"reached"`  // someone at this level got a page
	Done     bool      `json:"done"`     // exhausted, or stopped by an acknowledgment
	// Held: the source cleared while escalation was under way with nobody
	// acknowledging; if the alert fires again, escalation resumes where it
	// stood rather than starting over, so a flapping alert still climbs.
	Held bool `json:"held,omitempty"`
	// RepageLevel is the next level a re-page escalation pages.
	RepageLevel int `json:"repageLevel,omitempty"`
}

// Outcome is how one page attempt ended.
type Outcome string

// The outcomes of a page attempt.
const (
	Delivered Outcome = "delivered" // handed to the provider
	Failed    Outcome = "failed"    // the provider refused it for good, or retries ran out
	Cancelled Outcome = "cancelled" // acknowledged or resolved before it went out
	Bundled   Outcome = "bundled"   // waiting in the person's bundle for the channel's window to pass
)

// PageEntry is one attempt to reach one person on one channel.
type PageEntry struct {
	Person     string          `json:"person"`
	Channel    catalog.Channel `json:"channel"`
	Level      int             `json:"level"`          // 1-based; 0 for re-pages, leads and fallback notices
	Round      int             `json:"round"`          // 1-based
	Pass       int             `json:"pass,omitempty"` // Escalation.Pass when it was sent
	Kind       string          `json:"kind"`           // page, lead, repage, repage-escalation, fallback
	At         time.Time       `json:"at"`
	Outcome    Outcome         `json:"outcome"`
	Bundle     string          `json:"bundle,omitempty"` // the bundle it went out in, when it did not go alone
	Key        string          `json:"key,omitempty"`    // the pager of record's dedup key for it (PagerDuty)
	ProviderID string          `json:"providerId,omitempty"`
	Attempts   int32           `json:"attempts,omitempty"` // tries it took, retries of transient failures included
	Error      string          `json:"error,omitempty"`
	Retries    []string        `json:"retries,omitempty"` // each earlier try's failure, e.g. "attempt 1: twilio: transient error (http 429)"
}

// Event is one line of the incident's timeline.
type Event struct {
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"`
	Actor string    `json:"actor,omitempty"`
	Text  string    `json:"text"`
}

// ResponseState is the response part's slice of an incident: who holds
// which role, and the war room.
type ResponseState struct {
	Roles   []RoleHolder `json:"roles"`
	WarRoom *WarRoom     `json:"warRoom,omitempty"`
	// RoomFailed says why there is no war room, when opening it failed.
	RoomFailed string `json:"roomFailed,omitempty"`
	// RolesReminded: the commander was reminded of roles left unfilled.
	RolesReminded bool `json:"rolesReminded,omitempty"`
}

// RoleHolder is who holds one role, since when, and who gave it to them.
type RoleHolder struct {
	Role   string    `json:"role"` // commander, comms, or a sub-role of the catalog
	Title  string    `json:"title"`
	Person string    `json:"person"`
	Since  time.Time `json:"since"`
	By     string    `json:"by,omitempty"` // who assigned it; empty when sitrep did by default
}

// WarRoom is the incident's chat channel and video bridge.
type WarRoom struct {
	Platform string    `json:"platform"`          // slack, mattermost, teams (announcements only)
	Channel  string    `json:"channel,omitempty"` // the platform's channel ID
	Name     string    `json:"name"`
	URL      string    `json:"url,omitempty"`
	Bridge   string    `json:"bridge,omitempty"`
	OpenedAt time.Time `json:"openedAt"`
	// Summary is the message the room's summary is kept current in, by editing it.
	Summary string `json:"summary,omitempty"`
	// Invited are the responders invited, in order.
	Invited []string `json:"invited"`
}

// CommsState is the comms part's slice of an incident: what stakeholders
// were told, and when they hear next.
type CommsState struct {
	// Status is what stakeholders were last told: investigating,
	// identified, monitoring, resolved.
	Status     StakeholderStatus `json:"status,omitempty"`
	StatusPage *StatusPageRef    `json:"statusPage,omitempty"`
	NoticeAt   *time.Time        `json:"noticeAt,omitempty"` // when the initial notice went out
	// NextUpdateDue is when the comms lead's next update is due; nil when
	// none is (no cadence, or mitigated).
	NextUpdateDue *time.Time     `json:"nextUpdateDue,omitempty"`
	Updates       []UpdateRecord `json:"updates"`
	// Cadences are the update clocks: the comms lead's, and one per sub-role
	// with an audience of its own.
	Cadences []Cadence `json:"cadences,omitempty"`
}

// StatusPageRef is the public status page incident.
type StatusPageRef struct {
	ID  string `json:"id"`
	URL string `json:"url,omitempty"`
}

// UpdateRecord is one stakeholder communication and where it went.
type UpdateRecord struct {
	At       time.Time         `json:"at"`
	Kind     string            `json:"kind"` // notice, update, no-news, mitigated, resolved
	By       string            `json:"by,omitempty"`
	Role     string            `json:"role,omitempty"` // the sub-role it was for; empty for the comms lead's
	Status   StakeholderStatus `json:"status"`
	Audience Audience          `json:"audience"`
	Message  string            `json:"message,omitempty"`
	// Public is what external audiences read instead of Message, for the
	// notices whose Message is an internal note (mitigated, resolved);
	// empty there, they read the template's own words.
	Public string `json:"public,omitempty"`
	// Next is when it said the next update comes; nil when it promised none.
	Next *time.Time `json:"nextUpdate,omitempty"`
	// Sent and Failed name each destination: "status page", "email support", "war room".
	Sent   []string `json:"sent"`
	Failed []string `json:"failed,omitempty"`
}

// Cadence is one update clock.
type Cadence struct {
	Role      string    `json:"role"` // comms, or a sub-role
	Due       time.Time `json:"due"`
	Reminded  bool      `json:"reminded,omitempty"`  // the holder was reminded before Due
	Escalated bool      `json:"escalated,omitempty"` // Due passed: the commander was reminded
}

// MergeState is the merge part's slice of an incident: where it was merged
// into, and which incidents were merged into it.
type MergeState struct {
	// MergedInto is the incident this one was merged into; set in phase merged.
	MergedInto string     `json:"mergedInto,omitempty"`
	MergedAt   *time.Time `json:"mergedAt,omitempty"`
	MergedBy   string     `json:"mergedBy,omitempty"`
	// Merged are the incidents merged into this one, oldest first.
	Merged []MergedIncident `json:"merged,omitempty"`
}
