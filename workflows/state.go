package workflows

import (
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
)

// IncidentInput starts an Incident: the alert that opened it, and, when the
// workflow continued as new, the state it carries over and the alerts that
// arrived while it was handing over.
type IncidentInput struct {
	Alert   Alert          `json:"alert"`
	State   *IncidentState `json:"state,omitempty"`
	Pending []Alert        `json:"pending,omitempty"`
}

// IncidentState is everything an incident knows about itself: what the state
// query returns, what `sitrep status` prints and what continues as new.
type IncidentState struct {
	ID             string           `json:"id"`
	Run            string           `json:"run"` // the run this incident opened in; with ID, its IncidentRef
	Phase          Phase            `json:"phase"`
	Service        string           `json:"service"`
	KnownService   bool             `json:"knownService"` // false: routed to the catch-all team
	Team           string           `json:"team"`
	Policy         string           `json:"policy"`
	Tier           int              `json:"tier"`
	Severity       catalog.Severity `json:"severity"`
	Source         Source           `json:"source"`
	Summary        string           `json:"summary"`
	Reporter       string           `json:"reporter,omitempty"`
	DedupKey       string           `json:"dedupKey"`
	AlertCount     int              `json:"alertCount"`
	FirstSeen      time.Time        `json:"firstSeen"`
	LastSeen       time.Time        `json:"lastSeen"`
	AcknowledgedBy string           `json:"acknowledgedBy,omitempty"`
	AcknowledgedAt *time.Time       `json:"acknowledgedAt,omitempty"`
	// Unacknowledged is set when escalation ran out with nobody acknowledging;
	// the incident stays open and can still be acknowledged.
	Unacknowledged bool       `json:"unacknowledged"`
	MitigatedAt    *time.Time `json:"mitigatedAt,omitempty"`
	MitigatedBy    string     `json:"mitigatedBy,omitempty"`
	// MitigatedBySource: the alert's source reported it resolved; no person
	// said so. The alert firing again re-opens the incident.
	MitigatedBySource bool        `json:"mitigatedBySource,omitempty"`
	ResolvedAt        *time.Time  `json:"resolvedAt,omitempty"`
	Escalation        Escalation  `json:"escalation"`
	Pages             []PageEntry `json:"pages"`
	Timeline          []Event     `json:"timeline"`
	// Dropped counts the oldest pages and timeline entries let go when the
	// incident continued as new with a very long record.
	Dropped int  `json:"dropped,omitempty"`
	Plan    Plan `json:"plan"`
}

// Plan is how this incident pages, as routing found it when the incident opened.
type Plan struct {
	Channels       []catalog.Channel `json:"channels"` // what the severity asks for on this tier
	Levels         []PlanLevel       `json:"levels"`
	Repeat         int               `json:"repeat"`
	Fallback       string            `json:"fallback,omitempty"`
	Responders     []string          `json:"responders"`
	RepageAfterAck time.Duration     `json:"repageAfterAck"`
}

// PlanLevel is one level of the escalation policy.
type PlanLevel struct {
	Delay   time.Duration `json:"delay"`
	Targets []string      `json:"targets"` // e.g. "rotation payments-primary"
}

// Escalation is where paging stands: the cursor that survives continue-as-new.
type Escalation struct {
	Pass     int       `json:"pass,omitempty"` // bumped each time the incident re-opens and paging starts over
	Round    int       `json:"round"`          // 0-based pass through the policy
	Level    int       `json:"level"`          // 0-based level in Plan.Levels
	Paged    bool      `json:"paged"`          // this level's pages went out
	Deadline time.Time `json:"deadline"`       // when this level escalates; after an acknowledgment, when the acknowledger is re-paged
	Reached  bool      `json:"reached"`        // someone at this level got a page
	Done     bool      `json:"done"`           // exhausted, or stopped by an acknowledgment
}

// Outcome is how one page attempt ended.
type Outcome string

// The outcomes of a page attempt.
const (
	Delivered Outcome = "delivered" // handed to the provider
	Failed    Outcome = "failed"    // the provider refused it for good, or retries ran out
	Cancelled Outcome = "cancelled" // acknowledged or resolved before it went out
)

// PageEntry is one attempt to reach one person on one channel.
type PageEntry struct {
	Person     string          `json:"person"`
	Channel    catalog.Channel `json:"channel"`
	Level      int             `json:"level"`          // 1-based; 0 for re-pages and fallback notices
	Round      int             `json:"round"`          // 1-based
	Pass       int             `json:"pass,omitempty"` // Escalation.Pass when it was sent
	Kind       string          `json:"kind"`           // page, repage, fallback
	At         time.Time       `json:"at"`
	Outcome    Outcome         `json:"outcome"`
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
