package starter

import (
	"net/http"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/sitrep-dev/sitrep/catalog"
)

// shiftPeople answers who replied as fakePeople does, and each person's
// shifts from the example catalog.
type shiftPeople struct {
	fakePeople
	c *catalog.Catalog
}

func (p shiftPeople) OnCallShifts(person string, from, to time.Time) ([]catalog.Shift, bool) {
	return p.c.PersonShifts(person, from, to)
}

func TestOnCallFeed(t *testing.T) {
	c, err := catalog.Load("../examples/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in, _ := newTestIntake(t, func(cfg *IntakeConfig) { cfg.People = shiftPeople{c: c} })
	feed := FeedURL(in.cfg.AckLinks, "alice")
	if !strings.HasPrefix(feed, publicURL+"/v1/oncall/alice.ics?sig=") {
		t.Fatalf("feed URL %q", feed)
	}
	w := do(in, http.MethodGet, strings.TrimPrefix(feed, publicURL), "")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/calendar") {
		t.Fatalf("%d %s: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	cal, err := ics.ParseCalendar(strings.NewReader(w.Body.String()))
	if err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, w.Body)
	}

	// alice's weekly payments-primary shifts (Monday 09:00 Berlin) and
	// payments-comms ones (Wednesday 10:00 Berlin), from two weeks before
	// testNow to three months after: Europe/Berlin moves to summer time on
	// 29 March 2026, inside that span.
	want, _ := c.PersonShifts("alice", testNow.Add(-feedPast), testNow.Add(feedAhead))
	events := cal.Events()
	if len(events) != len(want) || len(want) < 8 {
		t.Fatalf("%d events, want %d (alice's shifts)", len(events), len(want))
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	dst := time.Date(2026, 3, 29, 3, 0, 0, 0, berlin)
	var before, after bool
	for i, e := range events {
		start, err1 := e.GetStartAt()
		end, err2 := e.GetEndAt()
		if err1 != nil || err2 != nil {
			t.Fatalf("event %d: %v %v", i, err1, err2)
		}
		summary := e.GetProperty(ics.ComponentPropertySummary).Value
		if !start.Equal(want[i].Start) || !end.Equal(want[i].End) || summary != "On call: "+want[i].Rotation {
			t.Errorf("event %d: %s %s–%s, want %s %s–%s", i, summary, start, end, want[i].Rotation, want[i].Start, want[i].End)
		}
		// Each shift starts at its rotation's local handoff, summer or winter.
		r := c.Rotations[want[i].Rotation]
		local := start.In(r.Location)
		if (local.Hour() != r.HandoffHour || local.Minute() != r.HandoffMinute) && start.After(testNow.Add(-feedPast)) {
			t.Errorf("event %d starts %s, not at %02d:%02d in %s", i, local, r.HandoffHour, r.HandoffMinute, r.Timezone)
		}
		if who, _ := c.OnCall(want[i].Rotation, start); who != "alice" {
			t.Errorf("event %d: %s is on call for %s at %s, not alice", i, who, want[i].Rotation, start)
		}
		before = before || end.Before(dst)
		after = after || start.After(dst)
	}
	if !before || !after {
		t.Errorf("the feed does not span the DST change: before %v, after %v", before, after)
	}

	for _, tt := range []struct {
		name, target string
		code         int
	}{
		{"no signature", "/v1/oncall/alice.ics", http.StatusForbidden},
		{"another's signature", strings.Replace(strings.TrimPrefix(feed, publicURL), "alice", "bob", 1), http.StatusForbidden},
		{"unknown person", strings.TrimPrefix(FeedURL(in.cfg.AckLinks, "zed"), publicURL), http.StatusNotFound},
		{"not .ics", strings.Replace(strings.TrimPrefix(feed, publicURL), ".ics", ".txt", 1), http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if w := do(in, http.MethodGet, tt.target, ""); w.Code != tt.code {
				t.Errorf("GET %s: %d %s, want %d", tt.target, w.Code, w.Body, tt.code)
			}
		})
	}

	t.Run("no feed without shifts", func(t *testing.T) {
		plain, _ := newTestIntake(t)
		if w := do(plain, http.MethodGet, strings.TrimPrefix(FeedURL(plain.cfg.AckLinks, "alice"), publicURL), ""); w.Code != http.StatusNotFound {
			t.Errorf("%d, want 404", w.Code)
		}
	})
}
