package catalog

import (
	"slices"
	"testing"
	"time"
)

func TestShiftsFollowTheLocalHandoffAcrossDST(t *testing.T) {
	c, err := Load("../examples/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Rotations["payments-primary"]
	// Europe/Berlin leaves CET for CEST on 2027-03-28.
	from := time.Date(2027, 3, 10, 0, 0, 0, 0, r.Location)
	to := time.Date(2027, 4, 10, 0, 0, 0, 0, r.Location)
	shifts, err := c.Shifts("payments-primary", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(shifts) < 4 {
		t.Fatalf("%d shifts in a month of weekly shifts: %+v", len(shifts), shifts)
	}
	var lengths []time.Duration
	for i, s := range shifts {
		local := s.Start.In(r.Location)
		if local.Weekday() != r.Start.Weekday() || local.Hour() != r.HandoffHour || local.Minute() != r.HandoffMinute {
			t.Errorf("shift %d starts %s, want %s %02d:%02d local", i, local, r.Start.Weekday(), r.HandoffHour, r.HandoffMinute)
		}
		for _, at := range []time.Time{s.Start, s.End.Add(-time.Minute)} {
			if who, _ := c.OnCall("payments-primary", at); who != s.Person {
				t.Errorf("shift %+v: %s is on call at %s", s, who, at)
			}
		}
		if i > 0 && (!shifts[i-1].End.Equal(s.Start) || shifts[i-1].Person == s.Person) {
			t.Errorf("shifts %d and %d do not hand over: %+v, %+v", i-1, i, shifts[i-1], s)
		}
		lengths = append(lengths, s.End.Sub(s.Start))
	}
	short := false
	for _, l := range lengths {
		short = short || l == 7*24*time.Hour-time.Hour
	}
	if !short {
		t.Errorf("no shift is an hour short across the DST change: %v", lengths)
	}
	if !shifts[0].Start.Before(from) || !shifts[0].End.After(from) {
		t.Errorf("the first shift %+v does not start when it really started, before %s", shifts[0], from)
	}
}

func TestOnCallNow(t *testing.T) {
	c, err := Load("../examples/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	now, next, err := c.OnCallNow("payments-primary", at)
	if err != nil {
		t.Fatal(err)
	}
	who, _ := c.OnCall("payments-primary", at)
	after, _ := c.OnCall("payments-primary", now.End)
	before, _ := c.OnCall("payments-primary", now.Start.Add(-time.Minute))
	if now.Person != who || next == nil || next.Person != after || !next.Start.Equal(now.End) || before == who {
		t.Errorf("now %+v next %+v; want %s, then %s", now, next, who, after)
	}
	if now.Start.After(at) || !now.End.After(at) {
		t.Errorf("shift %+v does not hold %s", now, at)
	}
	if _, _, err := c.OnCallNow("nope", at); err == nil {
		t.Error("an unknown rotation: no error")
	}
}

func TestPersonShifts(t *testing.T) {
	c, err := Load("../examples/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	got, ok := c.PersonShifts("alice", from, to)
	if !ok {
		t.Fatal("alice is not found")
	}
	rotations := map[string]bool{}
	for i, s := range got {
		rotations[s.Rotation] = true
		if who, _ := c.OnCall(s.Rotation, s.Start); who != "alice" || s.Person != "alice" {
			t.Errorf("shift %+v: %s is on call", s, who)
		}
		if i > 0 && got[i-1].Start.After(s.Start) {
			t.Errorf("shifts out of order: %+v before %+v", got[i-1], s)
		}
	}
	// Every hour alice is on call somewhere is in one of her shifts.
	for at := from; at.Before(to); at = at.Add(time.Hour) {
		for name := range c.Rotations {
			if who, _ := c.OnCall(name, at); who == "alice" && !slices.ContainsFunc(got, func(s Shift) bool {
				return s.Rotation == name && !at.Before(s.Start) && at.Before(s.End)
			}) {
				t.Errorf("alice is on call for %s at %s, in no shift listed", name, at)
			}
		}
	}
	if len(rotations) != 2 {
		t.Errorf("alice's shifts come from %v, want payments-primary and payments-comms", rotations)
	}
	if _, ok := c.PersonShifts("nobody", from, to); ok {
		t.Error("an unknown person has shifts")
	}
}
