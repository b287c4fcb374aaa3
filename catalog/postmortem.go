package catalog

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Postmortem is what happens after an incident resolves: when the commander
// is reminded of the post-mortem, when approvers are reminded of a pending
// summary, when the weekly follow-up runs, who hears the learnings and where
// they are recorded. PostmortemSettings fills the defaults.
type Postmortem struct {
	// DueAfter: the commander is reminded when no post-mortem was
	// submitted this long after resolution; then every RemindEvery.
	DueAfter    time.Duration
	RemindEvery time.Duration
	// GiveUpAfter: a post-mortem not submitted, or a summary not approved,
	// this long after resolution is given up: the managers are told and
	// the post-incident workflow ends in the phase "abandoned".
	GiveUpAfter time.Duration
	// ApprovalRemindEvery: approvers are reminded of a summary waiting
	// for them this often.
	ApprovalRemindEvery time.Duration
	// MeetingWithin is how many business days after resolution the
	// post-mortem meeting is held at the latest; MeetingLength how long it is.
	MeetingWithin int
	MeetingLength time.Duration
	// MeetingHour is the local hour (in the commander's time zone) the meeting starts.
	MeetingHour int
	// FollowUpDay, FollowUpHour and FollowUpMinute are when the weekly
	// follow-up runs, in the team's time zone (its rotation's, else Timezone).
	FollowUpDay                  time.Weekday
	FollowUpHour, FollowUpMinute int
	// FollowUpEvery, when set, replaces the weekly schedule with a fixed
	// interval: for drills and tests, where a "week" lasts seconds.
	FollowUpEvery time.Duration
	// Timezone is the zone used when a team or person gives none (IANA name).
	Timezone string
	// ContinueEvery is how many weeks one follow-up run covers before it
	// continues as new.
	ContinueEvery int
	// Jargon are terms the stakeholder summary should not use: flagged to
	// its author.
	Jargon []string
	// Responders are everyone who may be on a response team: they receive
	// every incident's learnings.
	Responders []string
	// LearningsFile is where learnings are appended (JSON lines); empty: not recorded.
	LearningsFile string
	// TrackerAccounts maps a person's handle to their tracker (Jira)
	// account ID, so action items are assigned to their owners.
	TrackerAccounts map[string]string

	at *pos // where the section is, once read
}

// Defaults for the postmortem section.
const (
	DefaultPostmortemDueAfter    = 48 * time.Hour
	DefaultPostmortemRemindEvery = 24 * time.Hour
	DefaultApprovalRemindEvery   = 24 * time.Hour
	DefaultGiveUpAfter           = 30 * 24 * time.Hour
	DefaultMeetingWithin         = 3
	DefaultMeetingLength         = time.Hour
	DefaultMeetingHour           = 10
	DefaultFollowUpHour          = 10
	DefaultContinueEvery         = 8
)

// DefaultJargon are the terms flagged when the catalog lists none.
var DefaultJargon = []string{"RCA", "SLO", "SLA", "p99", "latency", "deploy", "rollback", "k8s", "kubernetes", "pod",
	"node", "config", "DNS", "TLS", "cache", "shard", "failover", "on-call", "PagerDuty", "5xx", "500", "timeout"}

// PostmortemSettings returns the postmortem section with defaults filled in.
func (c *Catalog) PostmortemSettings() Postmortem {
	p := c.Postmortem
	p.at = nil
	if p.DueAfter == 0 {
		p.DueAfter = DefaultPostmortemDueAfter
	}
	if p.RemindEvery == 0 {
		p.RemindEvery = DefaultPostmortemRemindEvery
	}
	if p.ApprovalRemindEvery == 0 {
		p.ApprovalRemindEvery = DefaultApprovalRemindEvery
	}
	if p.GiveUpAfter == 0 {
		p.GiveUpAfter = DefaultGiveUpAfter
	}
	if p.MeetingWithin == 0 {
		p.MeetingWithin = DefaultMeetingWithin
	}
	if p.MeetingLength == 0 {
		p.MeetingLength = DefaultMeetingLength
	}
	if p.MeetingHour == 0 {
		p.MeetingHour = DefaultMeetingHour
	}
	if p.FollowUpHour == 0 && p.FollowUpMinute == 0 {
		p.FollowUpHour = DefaultFollowUpHour
	}
	if p.FollowUpDay == 0 {
		p.FollowUpDay = time.Monday
	}
	if p.Timezone == "" {
		p.Timezone = "UTC"
	}
	if p.ContinueEvery == 0 {
		p.ContinueEvery = DefaultContinueEvery
	}
	if p.Jargon == nil {
		p.Jargon = DefaultJargon
	}
	return p
}

// PostmortemsOn reports whether incidents get post-mortems: the catalog
// has a postmortem section. Without one, resolution only closes pages.
func (c *Catalog) PostmortemsOn() bool { return c.Postmortem.at != nil }

// Approvers returns who may approve what a team's incidents tell
// stakeholders: the team's approvers, or else its managers.
func (c *Catalog) Approvers(team string) []string {
	t, ok := c.Teams[team]
	if !ok {
		return nil
	}
	if len(t.Approvers) > 0 {
		return append([]string(nil), t.Approvers...)
	}
	return append([]string(nil), t.Managers...)
}

// TeamTimezone is the IANA zone a team's follow-ups run in: its rotation's,
// else the postmortem section's, else UTC.
func (c *Catalog) TeamTimezone(team string) string {
	if t, ok := c.Teams[team]; ok {
		if r, ok := c.Rotations[t.Rotation]; ok && r.Timezone != "" {
			return r.Timezone
		}
	}
	return c.PostmortemSettings().Timezone
}

// PersonTimezone is the IANA zone of a person, else the postmortem section's.
func (c *Catalog) PersonTimezone(handle string) string {
	if p, ok := c.People[handle]; ok && p.Timezone != "" {
		return p.Timezone
	}
	return c.PostmortemSettings().Timezone
}

var postmortemFields = []string{"due_after", "remind_every", "approval_remind_every", "give_up_after", "meeting_within_business_days",
	"meeting_length", "meeting_hour", "follow_up", "timezone", "continue_every_weeks", "jargon", "responders", "learnings_file",
	"tracker_accounts"}

var followUpFields = []string{"day", "time", "every"}

// postmortem reads the postmortem section.
func (f *file) postmortem(key, n *yaml.Node) {
	p := &f.c.Postmortem
	if p.at != nil {
		f.errorf(key, "", "postmortem: already set at %s", *p.at)
		return
	}
	at := f.at(key)
	p.at = &at
	const owner = "postmortem"
	m := f.fields(n, owner, postmortemFields)
	for field, d := range map[string]*time.Duration{"due_after": &p.DueAfter, "remind_every": &p.RemindEvery,
		"approval_remind_every": &p.ApprovalRemindEvery, "meeting_length": &p.MeetingLength, "give_up_after": &p.GiveUpAfter} {
		if v, ok := m[field]; ok {
			*d, _ = f.duration(v, owner, field, false)
		}
	}
	if v, ok := m["meeting_within_business_days"]; ok {
		p.MeetingWithin, _ = f.integer(v, owner, "meeting_within_business_days", 1, 20)
	}
	if v, ok := m["meeting_hour"]; ok {
		p.MeetingHour, _ = f.integer(v, owner, "meeting_hour", 6, 18)
	}
	if v, ok := m["continue_every_weeks"]; ok {
		p.ContinueEvery, _ = f.integer(v, owner, "continue_every_weeks", 1, 52)
	}
	if v, ok := m["timezone"]; ok {
		_, p.Timezone, _ = f.location(v, owner)
	}
	if v, ok := m["follow_up"]; ok {
		fm := f.fields(v, owner, followUpFields)
		if d, ok := fm["day"]; ok {
			if s, ok := f.scalar(d, owner, "follow_up.day"); ok {
				if wd, ok := parseWeekday(s.value); ok {
					p.FollowUpDay = wd
				} else {
					f.errorf(d, owner, "follow_up.day: unknown weekday %q (want monday … sunday)", s.value)
				}
			}
		}
		if e, ok := fm["every"]; ok {
			p.FollowUpEvery, _ = f.duration(e, owner, "follow_up.every", false)
		}
		if t, ok := fm["time"]; ok {
			if s, ok := f.scalar(t, owner, "follow_up.time"); ok {
				hm, err := time.Parse("15:04", s.value)
				if err != nil {
					f.errorf(t, owner, "follow_up.time: bad time %q (want 24-hour HH:MM, e.g. 10:00)", s.value)
				} else {
					p.FollowUpHour, p.FollowUpMinute = hm.Hour(), hm.Minute()
				}
			}
		}
	}
	if v, ok := m["jargon"]; ok {
		p.Jargon = []string{}
		for _, item := range f.items(v, owner, "jargon") {
			if s, ok := f.scalar(item, owner, "jargon"); ok {
				p.Jargon = append(p.Jargon, strings.TrimSpace(s.value))
			}
		}
	}
	p.Responders = f.refNames(m, owner, "responders", "person")
	if v, ok := m["tracker_accounts"]; ok {
		p.TrackerAccounts = map[string]string{}
		fm := resolve(v)
		if fm.Kind != yaml.MappingNode {
			f.errorf(v, owner, "tracker_accounts: want a mapping of person handle to account ID, got %s", describe(fm))
		} else {
			for i := 0; i+1 < len(fm.Content); i += 2 {
				h, ok1 := f.nameOf(resolve(fm.Content[i]), owner, "tracker_accounts")
				id, ok2 := f.nameOf(resolve(fm.Content[i+1]), owner, "tracker_accounts")
				if ok1 && ok2 {
					f.ref("person", h, owner)
					p.TrackerAccounts[h.value] = id.value
				}
			}
		}
	}
	if v, ok := m["learnings_file"]; ok {
		if s, ok := f.scalar(v, owner, "learnings_file"); ok {
			if strings.ContainsRune(s.value, 0) {
				f.errorf(v, owner, "learnings_file: %q is not a file path", s.value)
			} else {
				p.LearningsFile = s.value
			}
		}
	}
}

// String says where the postmortem section is; for messages.
func (p Postmortem) String() string {
	if p.at == nil {
		return "postmortem (defaults)"
	}
	return fmt.Sprintf("postmortem at %s", *p.at)
}
