package catalog

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Route is where an alert for a service goes.
type Route struct {
	Service           string
	Known             bool // false: the service is not in the catalog and went to the catch-all team
	Team              string
	Policy            string
	Tier              int
	StakeholderGroups []string
}

// Recipient is one person a level pages, and on which channels.
type Recipient struct {
	Person   string
	Channels []Channel // to use now, in the person's order of preference
	Fallback []Channel // the person's other channels, in order, for when one of Channels fails for good
}

// Route says where an alert for service goes. A known service goes to its team
// with its own escalation policy, or its team's when it has none. An unknown
// service goes to the catch-all team and its policy at tier 1: with nothing
// known about it, page as loudly as for the most critical service. Route fails
// only when the catalog has no usable catch-all team.
func (c *Catalog) Route(service string) (Route, error) {
	if s, ok := c.Services[service]; ok {
		r := Route{
			Service:           service,
			Known:             true,
			Team:              s.Team,
			Policy:            s.Policy,
			Tier:              s.Tier,
			StakeholderGroups: slices.Clone(s.StakeholderGroups),
		}
		if r.Policy == "" {
			if t, ok := c.Teams[s.Team]; ok {
				r.Policy = t.Policy
			}
		}
		return r, nil
	}
	if c.CatchAll == "" {
		return Route{}, fmt.Errorf("route %q: unknown service and no catch-all team", service)
	}
	t, ok := c.Teams[c.CatchAll]
	if !ok {
		return Route{}, fmt.Errorf("route %q: unknown catch-all team %q", service, c.CatchAll)
	}
	return Route{Service: service, Team: t.Name, Policy: t.Policy, Tier: 1}, nil
}

// Chain returns policy followed by the policies it hands off to, in order: when
// a policy's levels are exhausted, paging continues with its handoff's levels.
// It returns nil for an unknown policy, and stops before any policy already in
// the chain (Load rejects cycles; this guards catalogs built by hand).
func (c *Catalog) Chain(policy string) []string {
	var chain []string
	for name := policy; name != ""; {
		p, ok := c.Policies[name]
		if !ok || slices.Contains(chain, name) {
			break
		}
		chain = append(chain, name)
		name = p.Handoff
	}
	return chain
}

// Levels returns the levels of policy followed by those of each policy in its
// handoff chain (see Chain): the list a page walks and that Recipients' level
// indexes. Repeat and Fallback are those of policy itself. It returns nil for an
// unknown policy.
func (c *Catalog) Levels(policy string) []Level {
	var levels []Level
	for _, name := range c.Chain(policy) {
		levels = append(levels, c.Policies[name].Levels...)
	}
	return levels
}

// Recipients resolves level (0-based, into Levels(policy)) of policy at time
// at into people and channels; see RecipientsOf.
func (c *Catalog) Recipients(policy string, level int, at time.Time, channels []Channel) ([]Recipient, error) {
	if _, ok := c.Policies[policy]; !ok {
		return nil, fmt.Errorf("recipients: unknown policy %q", policy)
	}
	levels := c.Levels(policy)
	if level < 0 || level >= len(levels) {
		return nil, fmt.Errorf("recipients: policy %q has no level %d (it has %d)", policy, level, len(levels))
	}
	return c.RecipientsOf(levels[level].Targets, at, channels)
}

// RecipientsOf resolves targets at time at into people and channels. A person
// target is that person, a rotation target whoever is on call at at, a team
// target every member of the team. A person reached twice is listed once,
// where first reached.
//
// channels are the channels the severity and tier call for. Each recipient's
// Channels are their contacts on those channels, in the person's order of
// preference, and Fallback their other contacts, in order. Someone with none of
// the wanted channels gets their first contact as Channels and the rest as
// Fallback: a page must reach them somehow.
//
// A target that cannot be resolved (an unknown rotation, a person with no
// contacts) does not stop the others: RecipientsOf returns everyone it could
// resolve, and an error naming each target it could not.
func (c *Catalog) RecipientsOf(targets []Target, at time.Time, channels []Channel) ([]Recipient, error) {
	var handles []string
	var errs []error
	add := func(h string) {
		if !slices.Contains(handles, h) {
			handles = append(handles, h)
		}
	}
	for _, t := range targets {
		switch t.Kind {
		case TargetPerson:
			add(t.Name)
		case TargetRotation:
			h, err := c.OnCall(t.Name, at)
			if err != nil {
				errs = append(errs, fmt.Errorf("recipients: %w", err))
				continue
			}
			add(h)
		case TargetTeam:
			team, ok := c.Teams[t.Name]
			if !ok {
				errs = append(errs, fmt.Errorf("recipients: unknown team %q", t.Name))
				continue
			}
			for _, m := range team.Members {
				add(m)
			}
		default:
			errs = append(errs, fmt.Errorf("recipients: unknown target kind %q", t.Kind))
		}
	}
	out := make([]Recipient, 0, len(handles))
	for _, h := range handles {
		r, err := c.Reach(h, channels)
		if err == nil && len(r.Channels) == 0 {
			err = fmt.Errorf("person %q has no contacts", h)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("recipients: %w", err))
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// Responders lists, sorted and without duplicates, every handle that may
// acknowledge an incident on r: the team's members and managers, the members
// of its rotation (overrides included), everyone any level of r's policy chain
// can reach, and the policy's fallback.
func (c *Catalog) Responders(r Route) []string {
	var out []string
	rotation := func(name string) {
		if rot, ok := c.Rotations[name]; ok {
			out = append(out, rot.Members...)
			for _, o := range rot.Overrides {
				out = append(out, o.Person)
			}
		}
	}
	team := func(name string) {
		if t, ok := c.Teams[name]; ok {
			out = append(out, t.Members...)
		}
	}
	if t, ok := c.Teams[r.Team]; ok {
		out = append(out, t.Members...)
		out = append(out, t.Managers...)
		rotation(t.Rotation)
	}
	for _, l := range c.Levels(r.Policy) {
		for _, t := range l.Targets {
			switch t.Kind {
			case TargetPerson:
				out = append(out, t.Name)
			case TargetRotation:
				rotation(t.Name)
			case TargetTeam:
				team(t.Name)
			}
		}
	}
	if p, ok := c.Policies[r.Policy]; ok && p.Fallback != "" {
		out = append(out, p.Fallback)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Address returns person's address on channel ch.
func (c *Catalog) Address(person string, ch Channel) (string, error) {
	p, ok := c.People[person]
	if !ok {
		return "", fmt.Errorf("address: unknown person %q", person)
	}
	for _, ct := range p.Contacts {
		if ct.Channel == ch {
			return ct.Address, nil
		}
	}
	return "", fmt.Errorf("address: person %q has no %s contact", person, ch)
}

// ChannelsFor returns the channels to page on for a service of the given tier.
// Load requires tiers 1 to 3 for every severity; for any other tier, or for a
// policy built by hand with gaps, it uses the nearest tier below (more critical,
// so never quieter than asked), else the nearest tier above, else nil.
func (s *SeverityPolicy) ChannelsFor(tier int) []Channel {
	if chs, ok := s.Channels[tier]; ok {
		return slices.Clone(chs)
	}
	below, above := 0, 0
	var haveBelow, haveAbove bool
	for t := range s.Channels {
		if t < tier && (!haveBelow || t > below) {
			below, haveBelow = t, true
		}
		if t > tier && (!haveAbove || t < above) {
			above, haveAbove = t, true
		}
	}
	switch {
	case haveBelow:
		return slices.Clone(s.Channels[below])
	case haveAbove:
		return slices.Clone(s.Channels[above])
	}
	return nil
}
