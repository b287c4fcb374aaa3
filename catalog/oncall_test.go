package catalog

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// rotationsCatalog builds a valid catalog around the given rotations; every
// handle they use is a person reachable by email.
func rotationsCatalog(t *testing.T, handles []string, rotations string) *Catalog {
	t.Helper()
	var b strings.Builder
	b.WriteString("catch_all: ops\npeople:\n")
	for _, h := range handles {
		fmt.Fprintf(&b, "  - handle: %s\n    contacts: [{email: %s@example.com}]\n", h, h)
	}
	b.WriteString("rotations:\n" + rotations)
	b.WriteString(`teams:
  - name: ops
    policy: ops
escalation_policies:
  - name: ops
    levels:
      - targets: [{person: ` + handles[0] + `}]
        delay: 1m
severities:
  SEV1: {channels: {1: [sms], 2: [sms], 3: [sms]}, update_cadence: 30m}
  SEV2: {channels: {1: [sms], 2: [sms], 3: [sms]}, update_cadence: 1h}
  SEV3: {channels: {1: [email], 2: [email], 3: [email]}, update_cadence: 4h}
  SEV4: {channels: {1: [email], 2: [email], 3: [email]}, update_cadence: none}
`)
	c, err := Parse("rotations.yaml", []byte(b.String()))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

const testRotations = `
  - name: berlin
    members: [a, b, c]
    shift: weekly
    handoff_day: monday
    handoff_time: "09:00"
    timezone: Europe/Berlin
    start: 2026-01-05
  - name: newyork
    members: [d, e]
    shift: weekly
    handoff_day: mon
    handoff_time: "09:00"
    timezone: America/New_York
    start: 2026-01-05
  - name: daily
    members: [x, y, z]
    shift: daily
    handoff_time: "08:00"
    timezone: America/New_York
    start: 2026-03-01
  - name: fall
    members: [p, q]
    shift: daily
    handoff_time: "09:00"
    timezone: America/New_York
    start: 2026-10-30
  - name: gap
    members: [g, h]
    shift: daily
    handoff_time: "02:30"
    timezone: Europe/Berlin
    start: 2026-03-27
  - name: three
    members: [p, q]
    shift: 3d
    handoff_time: "00:00"
    timezone: UTC
    start: 2026-01-01
  - name: covered
    members: [a, b]
    shift: weekly
    handoff_time: "09:00"
    timezone: Europe/Berlin
    start: 2026-01-05
    overrides:
      - person: c
        start: 2026-01-06 09:00
        end: 2026-01-08 09:00
      - person: d
        start: 2026-01-07T00:00:00+01:00
        end: 2026-01-07T12:00:00+01:00
      - person: e
        start: 2026-01-07 06:00
        end: 2026-01-07 07:00
      - person: x
        start: 2026-01-01 00:00
        end: 2026-01-05 10:00
`

func TestOnCall(t *testing.T) {
	c := rotationsCatalog(t, []string{"a", "b", "c", "d", "e", "x", "y", "z", "p", "q", "g", "h"}, testRotations)
	utc := func(s string) time.Time {
		at, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	tests := []struct {
		name     string
		rotation string
		at       time.Time
		want     string
	}{
		{"first instant", "berlin", utc("2026-01-05 08:00:00"), "a"},
		{"just before first handoff", "berlin", utc("2026-01-12 07:59:59"), "a"},
		{"exactly at handoff", "berlin", utc("2026-01-12 08:00:00"), "b"},
		{"one nanosecond before handoff", "berlin", utc("2026-01-12 08:00:00").Add(-time.Nanosecond), "a"},
		{"third week", "berlin", utc("2026-01-21 12:00:00"), "c"},
		{"wraps round", "berlin", utc("2026-01-26 08:00:00"), "a"},
		{"berlin spring forward sunday", "berlin", utc("2026-03-29 12:00:00"), "c"},
		{"berlin spring forward 08:59 CEST", "berlin", utc("2026-03-30 06:59:00"), "c"},
		{"berlin spring forward 09:00 CEST", "berlin", utc("2026-03-30 07:00:00"), "a"},
		{"berlin spring forward 09:30 CEST", "berlin", utc("2026-03-30 07:30:00"), "a"},
		{"berlin fall back sunday", "berlin", utc("2026-10-25 12:00:00"), "c"},
		{"berlin fall back 08:59 CET", "berlin", utc("2026-10-26 07:59:00"), "c"},
		{"berlin fall back 09:00 CET", "berlin", utc("2026-10-26 08:00:00"), "a"},
		{"new york spring forward 08:59 EDT", "newyork", utc("2026-03-09 12:59:00"), "d"},
		{"new york spring forward 09:00 EDT", "newyork", utc("2026-03-09 13:00:00"), "e"},
		{"new york spring forward 09:30 EDT", "newyork", utc("2026-03-09 13:30:00"), "e"},
		{"new york fall back 08:59 EST", "newyork", utc("2026-11-02 13:59:00"), "d"},
		{"new york fall back 09:00 EST", "newyork", utc("2026-11-02 14:00:00"), "e"},
		{"daily first day", "daily", utc("2026-03-01 13:00:00"), "x"},
		{"daily second day", "daily", utc("2026-03-02 13:00:00"), "y"},
		{"daily before DST day handoff", "daily", utc("2026-03-08 11:59:00"), "x"},
		{"daily DST day 08:00 EDT", "daily", utc("2026-03-08 12:00:00"), "y"},
		{"daily after fall back 08:30 EST", "fall", utc("2026-11-01 13:30:00"), "q"},
		{"daily after fall back 09:00 EST", "fall", utc("2026-11-01 14:00:00"), "p"},
		{"handoff in the DST gap, before", "gap", utc("2026-03-29 00:59:00"), "h"},
		{"handoff in the DST gap, after", "gap", utc("2026-03-29 02:00:00"), "g"},
		{"day after the gap 02:29 CEST", "gap", utc("2026-03-30 00:29:00"), "g"},
		{"day after the gap 02:30 CEST", "gap", utc("2026-03-30 00:30:00"), "h"},
		{"3-day shift, day 3", "three", utc("2026-01-03 23:59:59"), "p"},
		{"3-day shift, day 4", "three", utc("2026-01-04 00:00:00"), "q"},
		{"3-day shift, day 7", "three", utc("2026-01-07 00:00:00"), "p"},
		{"override starts", "covered", utc("2026-01-06 08:00:00"), "c"},
		{"override just before start", "covered", utc("2026-01-06 07:59:59"), "a"},
		{"overlapping override, later wins", "covered", utc("2026-01-06 23:00:00"), "d"},
		{"third override inside the second", "covered", utc("2026-01-07 05:30:00"), "e"},
		{"back to the second override", "covered", utc("2026-01-07 06:00:00"), "d"},
		{"back to the first override", "covered", utc("2026-01-07 11:00:00"), "c"},
		{"override end is exclusive", "covered", utc("2026-01-08 08:00:00"), "a"},
		{"override from before the start", "covered", utc("2026-01-05 08:30:00"), "x"},
		{"override ends, schedule resumes", "covered", utc("2026-01-05 09:00:00"), "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.OnCall(tt.rotation, tt.at)
			if err != nil {
				t.Fatalf("OnCall(%s, %s): %v", tt.rotation, tt.at, err)
			}
			if got != tt.want {
				t.Errorf("OnCall(%s, %s) = %s, want %s", tt.rotation, tt.at, got, tt.want)
			}
		})
	}

	errTests := []struct {
		name     string
		rotation string
		at       time.Time
		want     string
	}{
		{"before start", "berlin", utc("2026-01-05 07:59:59"), `on call: rotation "berlin" starts 2026-01-05T09:00:00+01:00, after 2026-01-05T07:59:59Z`},
		{"long before start", "newyork", utc("2025-06-01 00:00:00"), `on call: rotation "newyork" starts 2026-01-05T09:00:00-05:00, after 2025-06-01T00:00:00Z`},
		{"before start despite override", "covered", utc("2026-01-04 12:00:00"), `on call: rotation "covered" starts`},
		{"unknown rotation", "nope", utc("2026-02-01 00:00:00"), `on call: unknown rotation "nope"`},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.OnCall(tt.rotation, tt.at)
			if err == nil {
				t.Fatalf("OnCall(%s, %s) = %s, want error", tt.rotation, tt.at, got)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want prefix %q", err, tt.want)
			}
		})
	}
}

// OnCall must depend only on its inputs: the same instant in any zone, asked
// any number of times, gives the same answer.
func TestOnCallPure(t *testing.T) {
	c := rotationsCatalog(t, []string{"a", "b", "c", "d", "e", "x", "y", "z", "p", "q", "g", "h"}, testRotations)
	at := time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	for i, when := range []time.Time{at, at.In(tokyo), at.Local(), at} {
		got, err := c.OnCall("berlin", when)
		if err != nil || got != "a" {
			t.Errorf("call %d: OnCall = %q, %v; want a", i, got, err)
		}
	}
}
