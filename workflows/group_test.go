package workflows

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// A service that groups its alerts: a new dedup key within the window folds
// into the open incident (its severity rising to the highest seen, its
// channels with it); one after the window opens an incident of its own; a
// clear counts only for a key of this incident, from the integration that
// sent it.
func TestGroupingFoldsWithinTheWindow(t *testing.T) {
	grouped := strings.Replace(testCatalog, "    team: pay\n    tier: 1\n", "    team: pay\n    tier: 1\n    group_window: 5m\n", 1)
	c, err := catalog.Parse("test.yaml", []byte(grouped))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessWith(t, nil, activities.StaticCatalog{C: c}, nil)
	var forwarded []Alert
	h.env.OnActivity("Forward", mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ForwardInput) error {
		var al Alert
		if err := json.Unmarshal(in.Alert, &al); err != nil || in.IncidentID != IncidentID(al.Service, al.DedupKey) {
			t.Errorf("forwarded %s: %s (%v)", in.IncidentID, in.Alert, err)
		}
		forwarded = append(forwarded, al)
		return nil
	})
	first := alert("db slow")
	first.Severity = catalog.SEV3
	second := alert("checkout 500s")
	second.ReceivedAt = start.Add(2 * m)
	late := alert("cache misses")
	late.ReceivedAt = start.Add(20 * m)
	foreign := alert("checkout 500s")
	foreign.Resolved, foreign.Integration = true, "grafana"
	unknown := alert("not ours")
	unknown.Resolved = true
	clearFirst, clearSecond := first, second
	clearFirst.Resolved, clearSecond.Resolved = true, true
	var during IncidentState
	h.at(2*m, func() { h.env.SignalWorkflow(AlertSignal, second) })
	h.at(20*m, func() { h.env.SignalWorkflow(AlertSignal, late) })
	h.at(21*m, func() { h.env.SignalWorkflow(AlertSignal, foreign) })
	h.at(22*m, func() { h.env.SignalWorkflow(AlertSignal, unknown) })
	h.at(23*m, func() { h.env.SignalWorkflow(AlertSignal, clearFirst) })
	h.at(24*m, func() { during = h.state() })
	h.at(25*m, func() { h.env.SignalWorkflow(AlertSignal, clearSecond) })
	h.at(26*m, func() { h.phase(ResolveUpdate) })
	st := h.run(first)
	if st.Severity != catalog.SEV1 || len(st.Keys) != 2 || st.AlertCount != 4 {
		t.Fatalf("severity %s, keys %v, alerts %d; want SEV1, 2 keys, 4 alerts counted", st.Severity, st.Keys, st.AlertCount)
	}
	// SEV3 pages level 1 by email; raised to SEV1 at 2m, level 1 is paged
	// again on what SEV1 adds (sms and chat); from level 2 on, SEV1's channels.
	h.wantSent([]sent{{"alice", catalog.Email, 0}, {"alice", catalog.SMS, 2 * m}, {"alice", catalog.Chat, 2 * m},
		{"carol", catalog.SMS, 5 * m}, {"alice", catalog.SMS, 15 * m}, {"alice", catalog.Chat, 15 * m}, {"carol", catalog.SMS, 20 * m}})
	if len(forwarded) != 1 || forwarded[0].Summary != "cache misses" {
		t.Fatalf("forwarded: %+v", forwarded)
	}
	if during.Phase != Triggered {
		t.Fatalf("one key cleared of two, or a clear from another integration, mitigated it: %s", during.Phase)
	}
	ignored := 0
	for _, a := range st.Alerts {
		if a.Ignored != "" {
			ignored++
		}
	}
	if ignored != 2 || !slices.Contains(kinds(st), "mitigated") {
		t.Fatalf("ignored %d alerts (want the foreign and the unknown clear); timeline %v", ignored, kinds(st))
	}
}
