package catalog

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// GapKind is a kind of gap Check finds.
type GapKind string

// The kinds of gap.
const (
	// GapNobodyOnCall: a rotation has nobody on call for a while.
	GapNobodyOnCall GapKind = "nobody-on-call"
	// GapUnreachable: someone a page may reach has no contact on any
	// channel a severity calls for on a service's tier.
	GapUnreachable GapKind = "unreachable"
	// GapNobodyTold: a service has no stakeholder group and no status page
	// component: nobody outside the responders hears of its incidents.
	GapNobodyTold GapKind = "nobody-told"
	// GapSlowEscalation: a policy pages nobody beyond its first level until
	// later than a severity's update cadence.
	GapSlowEscalation GapKind = "slow-escalation"
	// GapDoubleBooked: one person is on call in two rotations at once.
	GapDoubleBooked GapKind = "double-booked"
	// GapEmptyComms: a team's comms rotation has nobody to act as
	// communications lead for a while.
	GapEmptyComms GapKind = "empty-comms-rotation"
)

// Gap is one thing Check found that would hurt during an incident.
type Gap struct {
	Kind GapKind `json:"kind"`
	// Subject is the rotation, person, service or policy it is about.
	Subject string `json:"subject"`
	// From and To bound when it holds, for gaps that come and go.
	From *time.Time `json:"from,omitempty"`
	To   *time.Time `json:"to,omitempty"`
	Text string     `json:"text"`
}

// Check walks the catalog from from to to and lists its gaps: hours when a
// rotation has nobody on call, or someone on call (or named by a policy)
// with no contact a severity calls for; services nobody outside the
// responders hears about; policies that page nobody beyond their first level
// until later than a severity's update cadence; people on call in two
// rotations at once; comms rotations with nobody. It only reads the catalog.
func (c *Catalog) Check(from, to time.Time) []Gap {
	var gaps []Gap
	segs := c.segments(from, to)
	gaps = append(gaps, c.coverageGaps(segs)...)
	gaps = append(gaps, c.reachGaps(segs)...)
	gaps = append(gaps, c.doubleBooked(segs)...)
	gaps = append(gaps, c.audienceGaps()...)
	gaps = append(gaps, c.escalationGaps()...)
	return gaps
}

// segment is a stretch of time in which nobody's duty changes.
type segment struct {
	from, to time.Time
	onCall   map[string]string // rotation → person; "" nobody
}

// segments cuts [from, to) where any rotation's duty may change: its start,
// each day's handoff, each override's start and end.
func (c *Catalog) segments(from, to time.Time) []segment {
	if !from.Before(to) {
		return nil
	}
	cuts := []time.Time{from, to}
	add := func(t time.Time) {
		if t.After(from) && t.Before(to) {
			cuts = append(cuts, t)
		}
	}
	for _, r := range c.Rotations {
		add(r.Start)
		for _, o := range r.Overrides {
			add(o.Start)
			add(o.End)
		}
		loc := r.Location
		if loc == nil {
			loc = time.UTC
		}
		y, m, d := from.In(loc).Date()
		for day := time.Date(y, m, d-1, r.HandoffHour, r.HandoffMinute, 0, 0, loc); day.Before(to); day = time.Date(day.Year(), day.Month(), day.Day()+1, r.HandoffHour, r.HandoffMinute, 0, 0, loc) {
			add(day)
		}
	}
	slices.SortFunc(cuts, time.Time.Compare)
	cuts = slices.CompactFunc(cuts, time.Time.Equal)
	segs := make([]segment, 0, len(cuts)-1)
	for i := 0; i+1 < len(cuts); i++ {
		s := segment{from: cuts[i], to: cuts[i+1], onCall: map[string]string{}}
		for name, r := range c.Rotations {
			if who, err := r.onCall(cuts[i]); err == nil {
				s.onCall[name] = who
			} else {
				s.onCall[name] = ""
			}
		}
		segs = append(segs, s)
	}
	return segs
}

// spans merges the segments for which key returns the same non-empty
// value into stretches, per value, in time order.
type span struct {
	key      string
	from, to time.Time
}

func spans(segs []segment, keys func(segment) []string) []span {
	var out []span
	open := map[string]int{} // key → index in out of its stretch still running
	for _, s := range segs {
		now := map[string]bool{}
		for _, k := range keys(s) {
			now[k] = true
			if i, ok := open[k]; ok && out[i].to.Equal(s.from) {
				out[i].to = s.to
				continue
			}
			open[k] = len(out)
			out = append(out, span{key: k, from: s.from, to: s.to})
		}
		for k := range open {
			if !now[k] {
				delete(open, k)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b span) int { return cmp.Or(strings.Compare(a.key, b.key), a.from.Compare(b.from)) })
	return out
}

func gapAt(kind GapKind, subject string, from, to time.Time, text string) Gap {
	return Gap{Kind: kind, Subject: subject, From: &from, To: &to, Text: text}
}

// commsRotations are the rotations teams take communications leads from.
func (c *Catalog) commsRotations() map[string]bool {
	out := map[string]bool{}
	for _, t := range c.Teams {
		if t.CommsRotation != "" {
			out[t.CommsRotation] = true
		}
	}
	return out
}

func (c *Catalog) coverageGaps(segs []segment) []Gap {
	comms := c.commsRotations()
	var gaps []Gap
	for _, name := range slices.Sorted(maps.Keys(c.Rotations)) {
		if r := c.Rotations[name]; len(r.Members) == 0 && comms[name] {
			gaps = append(gaps, Gap{Kind: GapEmptyComms, Subject: name, Text: fmt.Sprintf("comms rotation %s has no members", name)})
		}
	}
	for _, sp := range spans(segs, func(s segment) []string {
		var nobody []string
		for name, who := range s.onCall {
			if who == "" {
				nobody = append(nobody, name)
			}
		}
		return nobody
	}) {
		if comms[sp.key] {
			gaps = append(gaps, gapAt(GapEmptyComms, sp.key, sp.from, sp.to,
				fmt.Sprintf("comms rotation %s has nobody to act as communications lead %s", sp.key, during(sp.from, sp.to))))
			continue
		}
		gaps = append(gaps, gapAt(GapNobodyOnCall, sp.key, sp.from, sp.to,
			fmt.Sprintf("rotation %s has nobody on call %s", sp.key, during(sp.from, sp.to))))
	}
	return gaps
}

// callers lists, per rotation and per person a policy names (a team target
// names its members), the tiers of the services whose pages may reach them.
func (c *Catalog) callers() (rotations, people map[string]map[int][]string) {
	rotations, people = map[string]map[int][]string{}, map[string]map[int][]string{}
	note := func(m map[string]map[int][]string, name string, tier int, service string) {
		if m[name] == nil {
			m[name] = map[int][]string{}
		}
		if !slices.Contains(m[name][tier], service) {
			m[name][tier] = append(m[name][tier], service)
		}
	}
	services := slices.Sorted(maps.Keys(c.Services))
	routes := make([]Route, 0, len(services)+1)
	for _, s := range services {
		if r, err := c.Route(s); err == nil {
			routes = append(routes, r)
		}
	}
	if c.CatchAll != "" {
		if r, err := c.Route("\x00unknown"); err == nil {
			r.Service = "services not in the catalog"
			routes = append(routes, r)
		}
	}
	for _, r := range routes {
		levels := c.Levels(r.Policy)
		for _, l := range levels {
			for _, t := range l.Targets {
				switch t.Kind {
				case TargetRotation:
					note(rotations, t.Name, r.Tier, r.Service)
				case TargetPerson:
					note(people, t.Name, r.Tier, r.Service)
				case TargetTeam:
					if team, ok := c.Teams[t.Name]; ok {
						for _, m := range team.Members {
							note(people, m, r.Tier, r.Service)
						}
					}
				}
			}
		}
		if p, ok := c.Policies[r.Policy]; ok && p.Fallback != "" {
			note(people, p.Fallback, r.Tier, r.Service)
		}
	}
	return rotations, people
}

// unreachable says, for each severity, the channels it calls for on tier
// that person has no contact on; nil when they have one.
func (c *Catalog) unreachable(person string, tier int) []string {
	p, ok := c.People[person]
	if !ok {
		return nil
	}
	var out []string
	for _, sev := range []Severity{SEV1, SEV2, SEV3, SEV4} {
		sp, ok := c.Severities[sev]
		if !ok {
			continue
		}
		wanted := sp.ChannelsFor(tier)
		if len(wanted) == 0 || slices.ContainsFunc(p.Contacts, func(ct Contact) bool { return slices.Contains(wanted, ct.Channel) }) {
			continue
		}
		names := make([]string, len(wanted))
		for i, ch := range wanted {
			names[i] = string(ch)
		}
		out = append(out, fmt.Sprintf("%s on tier %d (%s)", sev, tier, strings.Join(names, ", ")))
	}
	return out
}

// unreachableVia is, for a person reached through callers (service names
// by tier), the severities and tiers whose channels they have no contact on,
// and the services those pages come from; nil when none.
func (c *Catalog) unreachableVia(person string, callers map[int][]string) (what, services []string) {
	for _, tier := range slices.Sorted(maps.Keys(callers)) {
		if w := c.unreachable(person, tier); w != nil {
			what = append(what, w...)
			services = append(services, callers[tier]...)
		}
	}
	return what, services
}

func (c *Catalog) reachGaps(segs []segment) []Gap {
	rotCallers, peopleCallers := c.callers()
	var gaps []Gap
	// People policies name directly: unreachable whenever they are paged.
	for _, person := range slices.Sorted(maps.Keys(peopleCallers)) {
		if what, services := c.unreachableVia(person, peopleCallers[person]); what != nil {
			gaps = append(gaps, Gap{Kind: GapUnreachable, Subject: person, Text: fmt.Sprintf("%s, paged for %s, has no contact on the channels of %s",
				person, strings.Join(services, ", "), strings.Join(what, "; "))})
		}
	}
	// People on call: unreachable while on call.
	for _, sp := range spans(segs, func(s segment) []string {
		var keys []string
		for rot, who := range s.onCall {
			if what, _ := c.unreachableVia(who, rotCallers[rot]); who != "" && what != nil {
				keys = append(keys, rot+"\x00"+who)
			}
		}
		return keys
	}) {
		rot, who, _ := strings.Cut(sp.key, "\x00")
		what, services := c.unreachableVia(who, rotCallers[rot])
		gaps = append(gaps, gapAt(GapUnreachable, who, sp.from, sp.to, fmt.Sprintf("%s, on call for %s %s and paged for %s, has no contact on the channels of %s",
			who, rot, during(sp.from, sp.to), strings.Join(services, ", "), strings.Join(what, "; "))))
	}
	return gaps
}

func (c *Catalog) doubleBooked(segs []segment) []Gap {
	var gaps []Gap
	for _, sp := range spans(segs, func(s segment) []string {
		by := map[string][]string{}
		for rot, who := range s.onCall {
			if who != "" {
				by[who] = append(by[who], rot)
			}
		}
		var keys []string
		for who, rots := range by {
			if len(rots) > 1 {
				slices.Sort(rots)
				keys = append(keys, who+"\x00"+strings.Join(rots, ", "))
			}
		}
		return keys
	}) {
		who, rots, _ := strings.Cut(sp.key, "\x00")
		gaps = append(gaps, gapAt(GapDoubleBooked, who, sp.from, sp.to,
			fmt.Sprintf("%s is on call for %s at once %s", who, rots, during(sp.from, sp.to))))
	}
	return gaps
}

func (c *Catalog) audienceGaps() []Gap {
	var gaps []Gap
	for _, name := range slices.Sorted(maps.Keys(c.Services)) {
		s := c.Services[name]
		if len(s.StakeholderGroups) == 0 && len(s.StatusPageComponents) == 0 {
			gaps = append(gaps, Gap{Kind: GapNobodyTold, Subject: name,
				Text: fmt.Sprintf("service %s has no stakeholder group and no status page component: nobody beyond its responders hears of its incidents", name)})
		}
	}
	return gaps
}

// beyondFirst is how long after its first page policy pages someone its
// first level did not name; false when it never does (nor tells a fallback).
func (c *Catalog) beyondFirst(policy string) (time.Duration, bool) {
	p, ok := c.Policies[policy]
	levels := c.Levels(policy)
	if !ok || len(levels) == 0 {
		return 0, false
	}
	var at time.Duration
	for i := 1; i < len(levels); i++ {
		at += levels[i-1].Delay
		if !sameTargets(levels[i].Targets, levels[0].Targets) {
			return at, true
		}
	}
	if p.Fallback == "" {
		return 0, false
	}
	var round time.Duration
	for _, l := range levels {
		round += l.Delay
	}
	return round * time.Duration(p.Repeat+1), true
}

func sameTargets(a, b []Target) bool {
	return slices.Equal(slices.SortedFunc(slices.Values(a), cmpTarget), slices.SortedFunc(slices.Values(b), cmpTarget))
}

func cmpTarget(a, b Target) int {
	return cmp.Or(strings.Compare(string(a.Kind), string(b.Kind)), strings.Compare(a.Name, b.Name))
}

func (c *Catalog) escalationGaps() []Gap {
	var gaps []Gap
	for _, name := range slices.Sorted(maps.Keys(c.Policies)) {
		at, ever := c.beyondFirst(name)
		var late []string
		for _, sev := range []Severity{SEV1, SEV2, SEV3, SEV4} {
			sp, ok := c.Severities[sev]
			if !ok || sp.UpdateCadence <= 0 {
				continue
			}
			if !ever || at > sp.UpdateCadence {
				late = append(late, fmt.Sprintf("%s's %s", sev, sp.UpdateCadence))
			}
		}
		if len(late) == 0 {
			continue
		}
		when := "ever"
		if ever {
			when = fmt.Sprintf("until %s after the first page", at)
		}
		gaps = append(gaps, Gap{Kind: GapSlowEscalation, Subject: name,
			Text: fmt.Sprintf("policy %s pages nobody beyond its first level %s: later than the update cadence (%s)", name, when, strings.Join(late, ", "))})
	}
	return gaps
}

// during shows a stretch of time in UTC.
func during(from, to time.Time) string {
	const layout = "2006-01-02 15:04 MST"
	return fmt.Sprintf("from %s to %s", from.UTC().Format(layout), to.UTC().Format(layout))
}
