package catalog

import "time"

// Channel is a way to reach a person.
type Channel string

// The channels a person can be reached on.
const (
	SMS       Channel = "sms"
	Voice     Channel = "voice"
	Email     Channel = "email"
	Chat      Channel = "chat"
	PagerDuty Channel = "pagerduty"
)

// Severity is an incident's severity, SEV1 (worst) to SEV4.
type Severity string

// The severities, worst first.
const (
	SEV1 Severity = "SEV1"
	SEV2 Severity = "SEV2"
	SEV3 Severity = "SEV3"
	SEV4 Severity = "SEV4"
)

// Catalog is the on-call catalog: who is who, who owns what, and how to page them.
// Load or Parse builds a validated one; its methods only read it, so one Catalog
// may be shared by goroutines.
type Catalog struct {
	People            map[string]*Person           // by handle
	Rotations         map[string]*Rotation         // by name
	Teams             map[string]*Team             // by name
	Services          map[string]*Service          // by name
	Policies          map[string]*Policy           // escalation policies by name
	Severities        map[Severity]*SeverityPolicy // all four severities
	StakeholderGroups map[string]*StakeholderGroup // by name
	// CatchAll names the team that owns alerts for services the catalog does not know.
	CatchAll string
	// BundleWindow is pager fatigue's bound: within it a person gets at most
	// one message per channel, and what comes later is bundled into one.
	// 0 turns bundling off. Load sets DefaultBundleWindow when not given.
	BundleWindow time.Duration
	// Comms is how an incident talks while it is open: the war room's name,
	// when the update reminders come, and the roles beyond commander and
	// communications lead.
	Comms Comms
	// Postmortem is what follows an incident; see PostmortemSettings.
	Postmortem Postmortem
}

// Comms is the catalog's communication settings; Load fills the defaults.
type Comms struct {
	// RoomName is a text/template for the war room's channel name, given
	// .Date (20261201), .Service, .Severity (sev1) and .Summary; the result is
	// made a valid channel name and cut to Slack's 80 characters.
	RoomName string
	// RemindBefore: the comms lead is reminded this long before an update is due.
	RemindBefore time.Duration
	// RoleUnfilledAfter: a role still unfilled this long after the incident
	// opened reminds the commander (or, with none, the acknowledger).
	RoleUnfilledAfter time.Duration
	// Roles are the sub-roles beyond commander and communications lead
	// (partner comms, social media comms, …), each with its own audience.
	Roles []Role
	// UpdateWindow is stakeholders' storm bound: within it a stakeholder
	// group hears at most one email (the first at once, the rest folded into
	// one digest at its end), and the incidents of one cause share one
	// status page incident. 0 ("none") sends every notice at once.
	UpdateWindow time.Duration
}

// The built-in roles every incident has.
const (
	RoleCommander = "commander"
	RoleComms     = "comms"
)

// Role is a sub-role: whoever holds it keeps its stakeholder groups informed,
// on the incident's cadence, with reminders of their own.
type Role struct {
	Name              string
	Title             string
	StakeholderGroups []string
}

// RoleNamed returns the sub-role called name, or nil.
func (c Comms) RoleNamed(name string) *Role {
	for i := range c.Roles {
		if c.Roles[i].Name == name {
			return &c.Roles[i]
		}
	}
	return nil
}

// Defaults for what a catalog may leave out.
const (
	DefaultBundleWindow        = time.Minute
	DefaultRepageEscalateAfter = 2
	DefaultAutoResolveAfter    = time.Hour
	DefaultRoomName            = "inc-{{.Date}}-{{.Service}}-{{.Summary}}"
	DefaultRemindBefore        = 5 * time.Minute
	DefaultRoleUnfilledAfter   = 15 * time.Minute
	DefaultUpdateWindow        = 10 * time.Minute
	// MaxUpdateWindow bounds the update window: a digest later than this
	// is news withheld, not noise spared.
	MaxUpdateWindow = 24 * time.Hour
)

// Person is someone who can be paged.
type Person struct {
	Handle   string
	Name     string
	Contacts []Contact // in order of preference; at most one per channel
	Timezone string    // IANA name, informational; empty when not given
}

// Contact is one way to reach a person.
type Contact struct {
	Channel Channel
	Address string // phone number, email, chat user ID, PagerDuty routing key
}

// Rotation hands on-call duty from member to member. Shifts change at the
// handoff wall-clock time in Location, so a daylight-saving change never moves
// a handoff: a weekly shift that crosses one is an hour shorter or longer.
type Rotation struct {
	Name      string
	Members   []string // person handles, in turn order; a handle may appear more than once
	ShiftDays int      // length of one shift in calendar days: 1 daily, 7 weekly
	// HandoffHour and HandoffMinute are the local time of day at which shifts change.
	HandoffHour, HandoffMinute int
	Timezone                   string // IANA name of Location
	Location                   *time.Location
	// Start is when Members[0]'s first shift begins: the start date at the handoff
	// time in Location. For weekly shifts its weekday is the handoff day.
	Start     time.Time
	Overrides []Override // when several cover an instant, the last one listed wins
}

// Override puts someone else on call from Start (inclusive) to End (exclusive).
type Override struct {
	Person     string
	Start, End time.Time
}

// Team owns services.
type Team struct {
	Name            string
	Rotation        string // the team's on-call rotation; may be empty
	Policy          string // default escalation policy for its services and, for the catch-all team, for unknown services; may be empty
	Members         []string
	Managers        []string
	ProductManagers []string
	ProjectManagers []string
	CommsRotation   string // rotation that supplies the communications lead; may be empty
	// Approvers may approve what stakeholders are told after an incident
	// (management, PR); empty: the managers.
	Approvers []string
}

// Service is something that can break.
type Service struct {
	Name   string
	Team   string
	Tier   int    // 1 (most critical) to 3
	Policy string // escalation policy; empty means the team's
	// GroupWindow, when set, folds a new alert for this service into its open
	// incident if that incident's last alert came within the window, instead
	// of opening an incident per alert.
	GroupWindow          time.Duration
	StakeholderGroups    []string
	StatusPageComponents []string
}

// TargetKind says what an escalation target names.
type TargetKind string

// The kinds of escalation target.
const (
	TargetPerson   TargetKind = "person"
	TargetRotation TargetKind = "rotation" // whoever is on call now
	TargetTeam     TargetKind = "team"     // every member
)

// Target is who a level pages.
type Target struct {
	Kind TargetKind
	Name string
}

// Level is one step of an escalation policy.
type Level struct {
	Targets []Target
	Delay   time.Duration // how long to wait for an acknowledgment before the next level
}

// Policy is an escalation policy.
type Policy struct {
	Name     string
	Levels   []Level
	Repeat   int    // how many more times the whole chain runs after the first pass
	Fallback string // person told when the policy is exhausted; may be empty
	// Handoff names the policy whose levels follow this one's (see Catalog.Chain);
	// empty when there is none.
	Handoff string
}

// SeverityPolicy says how loudly a severity pages and how often stakeholders hear.
type SeverityPolicy struct {
	Severity       Severity
	Channels       map[int][]Channel // by service tier
	UpdateCadence  time.Duration     // time between stakeholder updates; 0 = none expected
	RepageAfterAck time.Duration     // page the acknowledger again when not mitigated by then; 0 = never
	// RepageEscalateAfter: after this many re-pages nobody answered, the
	// next level of the policy is paged too; 0 = never.
	RepageEscalateAfter int
	// AutoResolveAfter: a mitigated incident whose source has cleared
	// resolves itself after this quiet time; 0 = never.
	AutoResolveAfter time.Duration
	// Notice is when stakeholders first hear: as the incident opens, once
	// someone acknowledges, or never. Default WhenAck.
	Notice When
	// WarRoom is when the war room opens. Default WhenAck.
	WarRoom When
	// InternalOnly: external audiences (status page, external groups) are
	// not told about incidents of this severity.
	InternalOnly bool
	// NoNewsAfter: when an update is this far overdue, sitrep posts "no new
	// information yet; next update at T" itself; 0 = never.
	NoNewsAfter time.Duration
}

// When is the moment something starts in an incident.
type When string

// The moments.
const (
	WhenOpen  When = "open" // as soon as the incident is routed, before anyone acknowledges
	WhenAck   When = "ack"  // when someone acknowledges
	WhenNever When = "none"
)

// Audience is who a stakeholder group is.
type Audience string

// The audiences.
const (
	Internal Audience = "internal"
	External Audience = "external"
)

// StakeholderGroup is a list of people who hear about incidents.
type StakeholderGroup struct {
	Name     string
	Audience Audience
	Emails   []string
}
