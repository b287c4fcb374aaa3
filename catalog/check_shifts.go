package catalog

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Shift is one person's unbroken stretch on call in a rotation: the
// schedule's shifts, overrides cut in, and a person's consecutive shifts
// run together. Person is empty while nobody is on call.
type Shift struct {
	Rotation string    `json:"rotation"`
	Person   string    `json:"person"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
}

// Shifts lists the shifts of rotation that overlap [from, to), in order.
// The first starts when it really started, up to one full turn of the
// rotation before from; the last ends when it really ends, up to one turn
// after to.
func (c *Catalog) Shifts(rotation string, from, to time.Time) ([]Shift, error) {
	r, ok := c.Rotations[rotation]
	if !ok {
		return nil, fmt.Errorf("shifts: unknown rotation %q", rotation)
	}
	turn := time.Duration(max(r.ShiftDays, 1)*max(len(r.Members), 1)+1) * 24 * time.Hour
	only := &Catalog{Rotations: map[string]*Rotation{rotation: r}}
	var out []Shift
	for _, s := range only.segments(from.Add(-turn), to.Add(turn)) {
		who := s.onCall[rotation]
		if n := len(out); n > 0 && out[n-1].Person == who && out[n-1].End.Equal(s.from) {
			out[n-1].End = s.to
			continue
		}
		out = append(out, Shift{Rotation: rotation, Person: who, Start: s.from, End: s.to})
	}
	return slices.DeleteFunc(out, func(s Shift) bool { return !s.End.After(from) || !s.Start.Before(to) }), nil
}

// OnCallNow says who is on call in rotation at at, since and until when,
// and who comes next. Next is nil when nobody else takes over within one
// turn of the rotation.
func (c *Catalog) OnCallNow(rotation string, at time.Time) (now Shift, next *Shift, err error) {
	shifts, err := c.Shifts(rotation, at, at.Add(time.Nanosecond))
	if err != nil {
		return Shift{}, nil, err
	}
	if len(shifts) == 0 {
		return Shift{}, nil, fmt.Errorf("on call: rotation %q has no schedule", rotation)
	}
	now = shifts[0]
	r := c.Rotations[rotation]
	turn := time.Duration(max(r.ShiftDays, 1)*max(len(r.Members), 1)+1) * 24 * time.Hour
	later, err := c.Shifts(rotation, now.End, now.End.Add(turn))
	if err == nil && len(later) > 0 && later[0].Start.Equal(now.End) && later[0].Person != now.Person {
		next = &later[0]
	}
	return now, next, nil
}

// PersonShifts lists person's shifts in every rotation that overlap
// [from, to), by start; false when there is no such person.
func (c *Catalog) PersonShifts(person string, from, to time.Time) ([]Shift, bool) {
	if _, ok := c.People[person]; !ok {
		return nil, false
	}
	out := []Shift{}
	for _, name := range slices.Sorted(maps.Keys(c.Rotations)) {
		shifts, err := c.Shifts(name, from, to)
		if err != nil {
			continue
		}
		for _, s := range shifts {
			if s.Person == person {
				out = append(out, s)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Shift) int { return a.Start.Compare(b.Start) })
	return out, true
}
