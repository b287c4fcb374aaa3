package catalog

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// covered reports whether some gap of kind about subject holds at t.
func covered(gaps []Gap, kind GapKind, subject string, t time.Time) bool {
	return slices.ContainsFunc(gaps, func(g Gap) bool {
		return g.Kind == kind && g.Subject == subject && g.From != nil && !t.Before(*g.From) && t.Before(*g.To)
	})
}

func bySubject(gaps []Gap, kind GapKind) map[string]int {
	out := map[string]int{}
	for _, g := range gaps {
		if g.Kind == kind {
			out[g.Subject]++
		}
	}
	return out
}

func TestCheckFindsEachKindOfGap(t *testing.T) {
	c, err := Load("testdata/gaps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	to := from.Add(30 * 24 * time.Hour)
	late, comms := c.Rotations["late"].Start, c.Rotations["comms"].Start
	if !late.After(from) || !late.Before(to) || !comms.After(from) || !comms.Before(to) {
		t.Fatalf("the fixture's rotations late (%s) and comms (%s) must start within the horizon", late, comms)
	}
	gaps := c.Check(from, to)

	var kinds []GapKind
	for _, g := range gaps {
		if !slices.Contains(kinds, g.Kind) {
			kinds = append(kinds, g.Kind)
		}
		if g.Text == "" || g.Subject == "" {
			t.Errorf("gap without subject or text: %+v", g)
		}
	}
	all := []GapKind{GapNobodyOnCall, GapUnreachable, GapNobodyTold, GapSlowEscalation, GapDoubleBooked, GapEmptyComms}
	slices.Sort(kinds)
	slices.Sort(all)
	if !slices.Equal(kinds, all) {
		t.Errorf("kinds found %v, want %v", kinds, all)
	}

	// Rotations with nobody: until each starts.
	for _, w := range []struct {
		kind    GapKind
		subject string
		until   time.Time
	}{{GapNobodyOnCall, "late", late}, {GapEmptyComms, "comms", comms}} {
		var got []Gap
		for _, g := range gaps {
			if g.Kind == w.kind {
				got = append(got, g)
			}
		}
		if len(got) != 1 || got[0].Subject != w.subject || !got[0].From.Equal(from) || !got[0].To.Equal(w.until) {
			t.Errorf("%s: %+v, want %s from %s to %s", w.kind, got, w.subject, from, w.until)
		}
	}

	// Every hour someone is on call who cannot be reached, or on call twice,
	// is in a gap; no hour that is fine is.
	for at := from; at.Before(to); at = at.Add(time.Hour) {
		primary, err := c.OnCall("primary", at)
		if err != nil {
			t.Fatal(err)
		}
		secondary, _ := c.OnCall("secondary", at)
		if got, want := covered(gaps, GapUnreachable, "cat", at), primary == "cat"; got != want {
			t.Errorf("%s: cat unreachable gap %v, cat on call %v", at, got, want)
		}
		if got, want := covered(gaps, GapDoubleBooked, "ann", at), primary == "ann" && secondary == "ann"; got != want {
			t.Errorf("%s: ann double-booked gap %v, on call twice %v", at, got, want)
		}
	}
	if subjects := slices.Sorted(maps.Keys(bySubject(gaps, GapUnreachable))); !slices.Equal(subjects, []string{"cat"}) {
		t.Errorf("unreachable: %v, want only cat", subjects)
	}
	if subjects := slices.Sorted(maps.Keys(bySubject(gaps, GapDoubleBooked))); !slices.Equal(subjects, []string{"ann"}) {
		t.Errorf("double-booked: %v, want only ann", subjects)
	}

	if got := bySubject(gaps, GapNobodyTold); len(got) != 1 || got["quiet"] != 1 {
		t.Errorf("nobody told: %v, want quiet once", got)
	}
	slow := c.Policies["slow-policy"].Levels[0].Delay
	for _, g := range gaps {
		if g.Kind == GapSlowEscalation && (g.Subject != "slow-policy" || !strings.Contains(g.Text, slow.String())) {
			t.Errorf("slow escalation %+v, want slow-policy after %s", g, slow)
		}
	}
	if bySubject(gaps, GapSlowEscalation)["slow-policy"] != 1 {
		t.Error("slow-policy is not reported")
	}
}

func TestCheckExampleCatalogHasNoGaps(t *testing.T) {
	c, err := Load("../examples/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Across a year, each 30-day horizon, DST changes included.
	for from := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC); from.Before(time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)); from = from.AddDate(0, 1, 0) {
		if gaps := c.Check(from, from.AddDate(0, 0, 30)); len(gaps) > 0 {
			t.Errorf("from %s: %d gap(s), first: %+v", from.Format(time.DateOnly), len(gaps), gaps[0])
		}
	}
}

func TestCheckHandBuiltEmptyCommsRotation(t *testing.T) {
	c := &Catalog{
		People:    map[string]*Person{"ann": {Handle: "ann", Contacts: []Contact{{Email, "ann@example.com"}}}},
		Rotations: map[string]*Rotation{"comms": {Name: "comms", ShiftDays: 7, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
		Teams:     map[string]*Team{"ops": {Name: "ops", CommsRotation: "comms", Members: []string{"ann"}}},
	}
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	gaps := c.Check(from, from.Add(24*time.Hour))
	if got := bySubject(gaps, GapEmptyComms); got["comms"] == 0 || !slices.ContainsFunc(gaps, func(g Gap) bool { return strings.Contains(g.Text, "has no members") }) {
		t.Errorf("gaps %+v, want the comms rotation reported empty", gaps)
	}
	if got := c.Check(from, from); len(got) != 1 {
		t.Errorf("an empty horizon: %+v, want only the rotation without members", got)
	}
}
