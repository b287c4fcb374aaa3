package drill

import (
	"reflect"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// unrecorded are the dependencies a drill leaves out on purpose: without
// Pagers every page goes out at once (no bundling across incidents, and a
// drill has one); without Forwarder an alert outside a grouping window
// cannot open a second incident (a drill has one alert); without Stories
// the incident sends its notices itself (one incident, one story); without
// Merger there is no other incident to merge into.
var unrecorded = map[string]bool{"Pagers": true, "Forwarder": true, "Stories": true, "Merger": true}

// TestEveryDependencyIsRecorded fails when activities.Activities gains a
// dependency (an interface, a map of them, or a struct of them such as
// CommsDeps) the drill does not stand in for: a drill must show everything
// the activities send.
func TestEveryDependencyIsRecorded(t *testing.T) {
	a := newActivities(&catalog.Catalog{}, nil, &recorder{now: time.Now})
	var check func(v reflect.Value, path string)
	check = func(v reflect.Value, path string) {
		for i := range v.NumField() {
			f, name := v.Field(i), path+v.Type().Field(i).Name
			switch {
			case unrecorded[name]:
				if !f.IsZero() {
					t.Errorf("%s is set; the drill means to leave it out", name)
				}
			case f.Kind() == reflect.Interface && f.IsNil():
				t.Errorf("activities.Activities.%s has no recording stand-in in the drill", name)
			case f.Kind() == reflect.Map && f.Type().Elem().Kind() == reflect.Interface && f.Len() == 0:
				t.Errorf("activities.Activities.%s has no recording stand-ins in the drill", name)
			case f.Kind() == reflect.Struct && f.CanInterface():
				check(f, name+".")
			}
		}
	}
	check(reflect.ValueOf(a).Elem(), "")
	for _, ch := range Channels {
		if _, ok := a.Notifiers[ch]; !ok {
			t.Errorf("no notifier for %s", ch)
		}
	}
	if _, ok := a.Notifiers[catalog.PagerDuty].(activities.Syncer); !ok {
		t.Error("the pagerduty stand-in does not hear acknowledgments and resolutions")
	}
}

func TestRecorderKeepsAnyCall(t *testing.T) {
	now := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	r := &recorder{now: func() time.Time { return now }}
	id := r.call("statuspage", "open", "", struct{ Component string }{"Checkout"})
	got := r.snapshot()
	if len(got) != 1 || got[0].Via != "statuspage" || got[0].Call != "open" || string(got[0].Detail) != `{"Component":"Checkout"}` || !got[0].At.Equal(now) || id == "" {
		t.Errorf("recorded %+v, id %q", got, id)
	}
}

func TestCompare(t *testing.T) {
	msg := func(off time.Duration, person, via string) Message {
		return Message{Offset: Offset(off), Person: person, Via: via, Call: callNotify, Kind: "page", Level: 1, Round: 1}
	}
	a := &Result{Messages: []Message{msg(0, "ann", "sms"), msg(0, "ann", "sms"), msg(5*time.Minute, "bob", "sms"), msg(time.Hour, "cat", "email")}}
	b := &Result{Messages: []Message{msg(0, "ann", "sms"), msg(15*time.Minute, "bob", "sms"), msg(time.Hour, "dan", "email")}}
	got := Compare(a, b, false)
	want := []Difference{
		{Only: "a", What: "message", Line: "+0s ann sms page, level 1"}, // a sends it twice, b once
		{Only: "a", What: "message", Line: "+1h cat email page, level 1"},
		{Only: "b", What: "message", Line: "+1h dan email page, level 1"},
		{Only: "moved", What: "message", Line: "bob sms page, level 1", From: "+5m", To: "+15m"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Compare:\n got %+v\nwant %+v", got, want)
	}
	if d := Compare(a, a, true); len(d) != 0 {
		t.Errorf("a drill against itself: %+v", d)
	}
}
