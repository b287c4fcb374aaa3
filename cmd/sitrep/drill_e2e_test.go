package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/drill"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
	"github.com/sitrep-dev/sitrep/starter"
)

// TestEndToEndDrillMatchesReality runs the same alert twice: as a drill, in
// skipped time, and for real, through the dev server, the worker and the
// sandbox's providers, on the end-to-end catalog whose levels are seconds
// apart. Each person gets the same messages on the same channels, and the
// real ones go out when the drill said they would (give or take a second).
func TestEndToEndDrillMatchesReality(t *testing.T) {
	t.Parallel()
	s, cat := e2eStack(t, false)
	c := newCLI(t, s)

	var r starter.Receipt
	c.mustJSON(&r, "alert", "--service", "checkout", "--severity", "SEV1", "--summary", "drill against reality")
	route, _ := cat.Route("checkout")
	fallback := cat.Policies[route.Policy].Fallback
	msgs := waitInbox(t, s, "the fallback told", func(m []inbox.Message) bool { return len(to(m, fallback)) > 0 })
	if len(msgs) == 0 {
		t.Fatal("no messages")
	}
	first := msgs[0].At
	for _, m := range msgs {
		if m.At.Before(first) {
			first = m.At
		}
	}

	res, err := drill.Run(drill.Options{Catalog: cat, Service: "checkout", Severity: catalog.SEV1, Start: first,
		Summary: "drill against reality", Horizon: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	type sent struct {
		person, channel string
		offset          time.Duration
	}
	key := func(x sent) string { return x.person + "/" + x.channel }
	var real, drilled []sent
	for _, m := range msgs {
		real = append(real, sent{m.Person, m.Channel, m.At.Sub(first)})
	}
	for _, m := range res.Messages {
		if m.Call == "notify" {
			drilled = append(drilled, sent{m.Person, m.Via, time.Duration(m.Offset)})
		}
	}
	order := func(a, b sent) int { return strings.Compare(key(a), key(b)) }
	slices.SortStableFunc(real, order)
	slices.SortStableFunc(drilled, order)
	if len(real) != len(drilled) {
		t.Fatalf("real %v\ndrill %v", real, drilled)
	}
	for i := range real {
		if key(real[i]) != key(drilled[i]) || (real[i].offset-drilled[i].offset).Abs() > time.Second {
			t.Errorf("%d: real %s at +%s, drill %s at +%s", i, key(real[i]), real[i].offset, key(drilled[i]), drilled[i].offset)
		}
	}
	if t.Failed() {
		t.Logf("real:  %v\ndrill: %v", real, drilled)
	}
}
