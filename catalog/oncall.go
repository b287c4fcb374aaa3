package catalog

import (
	"fmt"
	"time"

	// Embed the IANA time zone database so rotations resolve the same way on
	// every host, including minimal containers without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// OnCall returns who is on call for rotation at time at. The last-listed
// override covering at wins; otherwise the schedule decides. OnCall depends on
// nothing but the catalog and at, so a workflow may rely on its answer being
// the same however often an activity asks. It fails for an unknown rotation
// and for any time before the rotation's start.
func (c *Catalog) OnCall(rotation string, at time.Time) (string, error) {
	r, ok := c.Rotations[rotation]
	if !ok {
		return "", fmt.Errorf("on call: unknown rotation %q", rotation)
	}
	return r.onCall(at)
}

func (r *Rotation) onCall(at time.Time) (string, error) {
	if len(r.Members) == 0 || r.ShiftDays < 1 {
		return "", fmt.Errorf("on call: rotation %q has no schedule", r.Name)
	}
	if at.Before(r.Start) {
		return "", fmt.Errorf("on call: rotation %q starts %s, after %s",
			r.Name, r.Start.Format(time.RFC3339), at.Format(time.RFC3339))
	}
	for i := len(r.Overrides) - 1; i >= 0; i-- {
		o := r.Overrides[i]
		if !at.Before(o.Start) && at.Before(o.End) {
			return o.Person, nil
		}
	}
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	// Count calendar days in the rotation's zone, not 24-hour periods: the day of
	// at's shift is at's local date, or the day before when at is earlier than that
	// date's handoff.
	y, m, d := at.In(loc).Date()
	day := civilDay(y, m, d)
	if at.Before(time.Date(y, m, d, r.HandoffHour, r.HandoffMinute, 0, 0, loc)) {
		day--
	}
	days := day - civilDay(r.Start.In(loc).Date())
	if days < 0 { // unreachable given the check above, but never index with a negative
		return "", fmt.Errorf("on call: rotation %q has not started", r.Name)
	}
	shift := days / int64(r.ShiftDays)
	return r.Members[shift%int64(len(r.Members))], nil
}

// civilDay numbers calendar dates consecutively, whatever the time zone.
func civilDay(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}
