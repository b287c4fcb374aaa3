package workflows

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// slackDownUntil fails the war room's opening (transiently) until d.
func slackDownUntil(h **commsHarness, d time.Duration) func() error {
	return func() error {
		if (*h).env.Now().Sub(start) < d {
			return errors.New("slack: 503 service unavailable")
		}
		return nil
	}
}

// TestResolutionDoesNotWaitForTheWarRoom: Slack fails from the ack (8m) to
// 12m while the room opens; resolved at 9m, the final notice goes out at
// once and PostIncident starts; the room is never opened late.
func TestResolutionDoesNotWaitForTheWarRoom(t *testing.T) {
	var h *commsHarness
	h = newFaultyCommsHarness(t, commsFaults{openRoom: slackDownUntil(&h, 12*m)})
	h.at(8*m, func() { h.ack("alice") })
	h.at(9*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("checkout error rate"))
	if st.PostIncident == "" || h.env.Now().Sub(start) > 9*m {
		t.Errorf("incident closed at %s with PostIncident %q: it waited for Slack", h.env.Now().Sub(start), st.PostIncident)
	}
	var resolved []time.Duration
	for _, s := range h.of("status-page") {
		if s.kind == string(activities.NoticeResolved) {
			resolved = append(resolved, s.after)
		}
	}
	if len(resolved) != 1 || resolved[0] != 9*m {
		t.Errorf("status page heard 'resolved' at %v, want once at 9m", resolved)
	}
	if r := h.of("room-open"); len(r) > 0 {
		t.Errorf("war room opened after resolution: %+v", r)
	}
}

// TestNoticeUnderWayAtResolutionIsSentOnce: carol's update is at the
// provider when the incident resolves: it is recorded as sent, not handed
// over and sent again.
func TestNoticeUnderWayAtResolutionIsSentOnce(t *testing.T) {
	var h *commsHarness
	var once sync.Once
	h = newFaultyCommsHarness(t, commsFaults{email: func(n activities.GroupNotice) error {
		if n.Kind == activities.NoticeUpdate {
			once.Do(func() {
				h.env.UpdateWorkflow(ResolveUpdate, "", &ignoreUpdate{}, PhaseRequest{By: "alice"})
				<-time.After(300 * time.Millisecond) // the email is on the wire while the resolve is taken
			})
		}
		return nil
	}})
	h.at(3*m, func() { h.ack("alice") })
	h.at(10*m, func() { h.update(UpdateRequest{By: "carol", Status: StatusIdentified, Message: "Found it."}) })
	h.run(alert("checkout error rate"))
	n := 0
	for _, s := range h.of("email") {
		if s.kind == string(activities.NoticeUpdate) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("support got carol's update %d times, want once", n)
	}
}

type ignoreUpdate struct{}

func (ignoreUpdate) Accept()             {}
func (ignoreUpdate) Reject(error)        {}
func (ignoreUpdate) Complete(any, error) {}

// TestHandedOverNoticesDoNotQueueBehindEachOther: after resolution a
// status page that keeps failing does not hold back the email to support.
func TestHandedOverNoticesDoNotQueueBehindEachOther(t *testing.T) {
	var h *commsHarness
	h = newFaultyCommsHarness(t, commsFaults{statusPage: func(n activities.Notice) error {
		if n.Kind == activities.NoticeResolved {
			return errors.New("statuspage: 503")
		}
		return nil
	}})
	h.at(3*m, func() { h.ack("alice") })
	h.at(10*m, func() { h.phase(ResolveUpdate) })
	h.run(alert("checkout error rate"))
	for _, s := range h.of("email") {
		if s.kind == string(activities.NoticeResolved) && s.after != 10*m {
			t.Errorf("support heard 'resolved' at %s, want at 10m", s.after)
		}
	}
}

// TestRaiseFromInternalOnlyTellsCustomers: a SEV3 (internal only) raised
// to SEV1 tells the external audience at the raise.
func TestRaiseFromInternalOnlyTellsCustomers(t *testing.T) {
	h := newCommsHarness(t)
	al := alert("checkout error rate")
	al.Severity = catalog.SEV3
	h.at(2*m, func() { h.ack("alice") })
	h.at(5*m, func() {
		louder := alert("checkout error rate")
		louder.ReceivedAt = start.Add(5 * m)
		h.env.SignalWorkflow(AlertSignal, louder)
	})
	h.at(30*m, func() { h.phase(ResolveUpdate) })
	h.run(al)
	sp := h.of("status-page")
	if len(sp) == 0 || sp[0].after != 5*m || sp[0].kind != string(activities.NoticeInitial) {
		t.Errorf("status page heard %+v, want the notice at the raise (5m)", sp)
	}
}

// TestReopenTellsStakeholdersItIsBack: after a re-open stakeholders hear
// the problem is back, and the comms lead can say "identified" again.
func TestReopenTellsStakeholdersItIsBack(t *testing.T) {
	h := newCommsHarness(t)
	fire := func(at time.Duration, resolved bool) {
		al := alert("checkout error rate")
		al.ReceivedAt, al.Resolved = start.Add(at), resolved
		h.env.SignalWorkflow(AlertSignal, al)
	}
	h.at(2*m, func() { h.ack("alice") })
	h.at(5*m, func() { h.update(UpdateRequest{By: "carol", Status: StatusIdentified, Message: "found it"}) })
	h.at(10*m, func() { fire(10*m, true) })
	h.at(15*m, func() { fire(15*m, false) })
	h.at(20*m, func() { h.update(UpdateRequest{By: "carol", Status: StatusIdentified, Message: "same cause, fixing"}) })
	h.at(40*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("checkout error rate"))
	var kinds []string
	for _, u := range st.Updates {
		kinds = append(kinds, u.Kind+"/"+string(u.Status))
	}
	want := "notice/investigating update/identified mitigated/monitoring update/investigating update/identified resolved/resolved"
	if strings.Join(kinds, " ") != want {
		t.Errorf("updates %v\nwant %s", kinds, want)
	}
}

// TestUpdateByStrangerRefused: only people of the catalog post to stakeholders.
func TestUpdateByStrangerRefused(t *testing.T) {
	h := newCommsHarness(t)
	var got error
	h.at(2*m, func() {
		h.rejected(PostUpdateUpdate, UpdateRequest{By: "mallory", Message: "all fixed, go home"}, &got)
	})
	h.at(5*m, func() { h.phase(ResolveUpdate) })
	st := h.run(alert("checkout error rate"))
	if got == nil || !strings.Contains(got.Error(), "mallory not in the catalog") {
		t.Errorf("update by mallory: %v, want refused", got)
	}
	for _, u := range st.Updates {
		if u.By == "mallory" {
			t.Errorf("mallory's update went out: %+v", u)
		}
	}
}

// TestUnfilledRolesWaitForSomeoneToRemind: roles are due at 20m, nobody
// acknowledges until 25m: the commander is reminded then.
func TestUnfilledRolesWaitForSomeoneToRemind(t *testing.T) {
	h := newCommsHarness(t)
	h.at(25*m, func() { h.ack("alice") })
	h.at(90*m, func() { h.phase(ResolveUpdate) })
	h.run(alert("checkout error rate"))
	for _, r := range h.of("remind") {
		if r.kind == string(activities.ReminderRole) {
			if r.after != 25*m || r.to != "alice/" {
				t.Errorf("role reminder %+v, want to alice at 25m", r)
			}
			return
		}
	}
	t.Errorf("the commander was never reminded of the unfilled role")
}

// TestNoticeIsEchoedInTheRoomThatOpensWithIt: SEV2 opens the notice and the
// war room together at the ack; the notice reaches the room too.
func TestNoticeIsEchoedInTheRoomThatOpensWithIt(t *testing.T) {
	h := newCommsHarness(t)
	al := alert("checkout error rate")
	al.Severity = catalog.SEV2
	h.at(2*m, func() { h.ack("alice") })
	h.at(10*m, func() { h.phase(ResolveUpdate) })
	st := h.run(al)
	if len(st.Updates) == 0 || !strings.Contains(strings.Join(st.Updates[0].Sent, ","), destRoom) {
		t.Errorf("initial notice went to %+v, want the war room too", st.Updates)
	}
	if e := h.of("email"); len(e) == 0 || e[0].room != "https://chat/C1" {
		t.Errorf("support's notice %+v, want it to carry the war room that opened with it", e)
	}
}
