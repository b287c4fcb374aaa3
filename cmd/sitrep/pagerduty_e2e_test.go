package main

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/pagerduty"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// TestEndToEndPagerDutyAlerts, through go-pagerduty and the PagerDuty fake:
// each page is an alert of its own there (a re-page after the
// acknowledgment included: under the incident's key it would have folded
// into the acknowledged alert and rung nobody); a bundle's alert, which
// speaks for two incidents, stays open when one is mitigated and is
// resolved when the other is; resolving an incident resolves its pages'
// alerts.
func TestEndToEndPagerDutyAlerts(t *testing.T) {
	t.Parallel()
	const key = "0123456789abcdef0123456789abcdef"
	catYAML := strings.NewReplacer(
		"delay: 3s", "delay: 30m",
		`contacts: [{sms: "+15550100001"}, {chat: U0001}, {email: alice@example.com}]`,
		`contacts: [{pagerduty: `+key+`}, {email: alice@example.com}]`,
		"channels: {1: [sms, chat], 2: [sms], 3: [sms]}\n    update_cadence: 30m\n",
		"channels: {1: [pagerduty], 2: [sms], 3: [sms]}\n    update_cadence: 30m\n    repage_after_ack: 20s\n",
	).Replace(e2eCatalog)
	s, _ := intakeStack(t, catYAML)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	st := starter.New(s.Client)
	pd := s.Sandbox.PagerDuty
	var ids []string
	for _, summary := range []string{"payments down", "cart errors", "slow checkout"} {
		r, err := st.Alert(ctx, workflows.Alert{Source: workflows.Monitoring, Service: "checkout", Severity: catalog.SEV1, Summary: summary, Integration: "test"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.IncidentID)
	}
	// alert waits until pred holds for the state of incident id.
	state := func(id, what string, pred func(workflows.IncidentState) bool) workflows.IncidentState {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			got, err := st.Status(ctx, id)
			if err == nil && pred(got) {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s never came (%v): %+v", id, what, err, got.Pages)
			}
			<-time.After(200 * time.Millisecond)
		}
	}
	alertOf := func(dedup, status string) pagerduty.Alert {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			a, ok := pd.Alert(key, dedup)
			if ok && a.Status == status {
				return a
			}
			if time.Now().After(deadline) {
				t.Fatalf("PagerDuty alert %s: %+v (found %t), want %s", dedup, a, ok, status)
			}
			<-time.After(200 * time.Millisecond)
		}
	}
	delivered := func(st workflows.IncidentState) bool {
		return len(st.Pages) > 0 && st.Pages[0].Outcome == workflows.Delivered
	}
	// The first incident pages alone; the other two ride in one bundle.
	var alone string
	var bundled []string
	var bundle string
	for _, id := range ids {
		got := state(id, "alice's page delivered", delivered)
		p := got.Pages[0]
		switch {
		case p.Bundle == "":
			alone = id
			if p.Key == "" || workflows.KeyRef(p.Key) != workflows.IncidentRef(got.ID, got.Run) {
				t.Fatalf("%s's page has key %q, want a key of its own under the incident's ref", id, p.Key)
			}
			if a := alertOf(p.Key, "triggered"); a.Triggers != 1 {
				t.Fatalf("page alert %+v: triggered %d times", a, a.Triggers)
			}
		default:
			bundled = append(bundled, id)
			bundle = p.Bundle
		}
	}
	if alone == "" || len(bundled) != 2 {
		t.Fatalf("alone %q, bundled %v: want one page alone and two in a bundle", alone, bundled)
	}
	alertOf(bundle, "triggered")

	// Acknowledged, then re-paged 20s later: a new alert, ringing again.
	if _, err := st.Acknowledge(ctx, alone, "", workflows.AckRequest{Person: "alice", Channel: "test"}); err != nil {
		t.Fatal(err)
	}
	got := state(alone, "the re-page", func(st workflows.IncidentState) bool {
		return slices.ContainsFunc(st.Pages, func(p workflows.PageEntry) bool { return p.Kind == "repage" && p.Outcome == workflows.Delivered })
	})
	first := got.Pages[0].Key
	alertOf(first, "acknowledged")
	repage := got.Pages[slices.IndexFunc(got.Pages, func(p workflows.PageEntry) bool { return p.Kind == "repage" })]
	// Within alice's bundling window it goes in a bundle: its alert is
	// keyed by the bundle.
	repageKey := cmp.Or(repage.Key, repage.Bundle)
	if repageKey == first || repageKey == "" {
		t.Fatalf("re-page under key %q, the first page's %q: PagerDuty would ring nobody", repageKey, first)
	}
	alertOf(repageKey, "triggered")

	// One incident of the bundle mitigated: its Pager holds the alert open
	// for the other.
	if _, err := st.Mitigate(ctx, bundled[0], "", workflows.PhaseRequest{By: "alice", Note: "rolled back"}); err != nil {
		t.Fatal(err)
	}
	pagerOpen := func(want int) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			v, err := s.Client.QueryWorkflow(ctx, workflows.PagerID("alice"), "", workflows.StateQuery)
			var ps workflows.PagerState
			if err == nil {
				err = v.Get(&ps)
			}
			i := slices.IndexFunc(ps.Bundles, func(b workflows.Bundle) bool { return b.Ref == bundle })
			if err == nil && i >= 0 && len(ps.Bundles[i].Open) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("alice's Pager: %+v (%v), want the bundle open for %d incident(s)", ps.Bundles, err, want)
			}
			<-time.After(200 * time.Millisecond)
		}
	}
	pagerOpen(1)
	if a, _ := pd.Alert(key, bundle); a.Status != "triggered" {
		t.Fatalf("the bundle's alert is %s after one of its two incidents was mitigated: the other still needs it", a.Status)
	}
	// The other resolved: the bundle's alert is resolved.
	if _, err := st.Resolve(ctx, bundled[1], "", workflows.PhaseRequest{By: "alice", Note: "fixed"}); err != nil {
		t.Fatal(err)
	}
	alertOf(bundle, "resolved")
	// The first incident resolved: both its alerts are.
	if _, err := st.Resolve(ctx, alone, "", workflows.PhaseRequest{By: "alice", Note: "fixed"}); err != nil {
		t.Fatal(err)
	}
	alertOf(first, "resolved")
	alertOf(repageKey, "resolved")
}
