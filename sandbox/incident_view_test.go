package sandbox_test

import (
	"log/slog"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
	"github.com/sitrep-dev/sitrep/sandbox"
	"github.com/sitrep-dev/sitrep/worker"
	"github.com/sitrep-dev/sitrep/workflows"
)

// TestMessagesOfOneIncident sends, through the activities the worker
// registers, what one incident sends while its responder was bundled with
// another incident's: a page alone on voice and PagerDuty (the PagerDuty
// alert under a per-page dedup key), a bundle on voice, SMS and PagerDuty
// naming both incidents, a status page post and war room messages. Asked
// for either incident, /api/messages lists every message that names it,
// and nothing of the other incident alone.
func TestMessagesOfOneIncident(t *testing.T) {
	const other = "inc-payments-1a2b3c4d5e6f7081"
	run := "0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
	ref := workflows.IncidentRef(incident, run)
	sb := sandbox.New(sandbox.Options{
		IntakeURL:   "http://intake.example",
		Who:         func(_, addr string) string { return people[addr] },
		IncidentOf:  workflows.FindRef,
		IncidentsOf: workflows.FindIncidentIDs,
	})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	cat, err := catalog.Load("../examples/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	getenv := sb.Env(srv.URL, nil)
	comms, err := worker.CommsFromEnv(getenv, "")
	if err != nil {
		t.Fatal(err)
	}
	notifiers, err := worker.Providers(getenv, "http://intake.example")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	a := &activities.Activities{Catalog: activities.StaticCatalog{C: cat}, Notifiers: notifiers, Templates: tmpl, Comms: comms}
	do := func(fn any, args ...any) converter.EncodedValue {
		t.Helper()
		var s testsuite.WorkflowTestSuite
		s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(a)
		val, err := env.ExecuteActivity(fn, args...)
		if err != nil {
			t.Fatal(err)
		}
		return val
	}

	// The other incident's page alone: it must not list under this one.
	_ = do(a.Deliver, activities.DeliverInput{IncidentID: other, Ref: other + ":" + run, Person: "alice", Channel: catalog.SMS,
		Kind: "page", Level: 1, Service: "payments", Severity: catalog.SEV2, Summary: "refunds slow", AlertCount: 1})
	for _, ch := range []catalog.Channel{catalog.Voice, catalog.PagerDuty} {
		_ = do(a.Deliver, activities.DeliverInput{IncidentID: incident, Ref: ref, Person: "alice", Channel: ch, Kind: "page", Level: 1,
			Service: "checkout", Severity: catalog.SEV1, Summary: "error rate 12%", AlertCount: 1})
	}
	// The per-page PagerDuty dedup key: the incident's ref and a page suffix.
	if _, err := notifiers[catalog.PagerDuty].Notify(t.Context(), activities.Message{IncidentID: incident, Ref: ref + "/p3", Person: "alice",
		To: "0123456789abcdef0123456789abcdef", Subject: "[SEV1] checkout: error rate 12%", Severity: catalog.SEV1}); err != nil {
		t.Fatal(err)
	}
	bundle := "pager-alice:" + run + ":2"
	items := []activities.BundleItem{
		{Key: "k1", Ref: other + ":" + run, IncidentID: other, Service: "payments", Severity: catalog.SEV2, Summary: "refunds slow", Kind: "page"},
		{Key: "k2", Ref: ref, IncidentID: incident, Service: "checkout", Severity: catalog.SEV1, Summary: "error rate 12%", Kind: "page"},
	}
	for _, ch := range []catalog.Channel{catalog.Voice, catalog.SMS, catalog.PagerDuty} {
		_ = do(a.DeliverBundle, activities.BundleInput{Ref: bundle, Person: "alice", Channel: ch, Items: items})
	}
	at := time.Date(2026, 12, 1, 9, 58, 0, 0, time.UTC)
	n := activities.Notice{IncidentID: incident, Ref: ref, Kind: activities.NoticeInitial, Service: "checkout", Components: []string{"Checkout"},
		Severity: catalog.SEV1, Summary: "error rate 12%", Source: "monitoring", Status: "investigating",
		OpenedAt: at, At: at, NextUpdate: at.Add(30 * time.Minute), Cadence: 30 * time.Minute}
	_ = do(a.StatusPageNotice, n, "")
	var room activities.RoomResult
	_ = do(a.OpenRoom, activities.RoomInput{IncidentID: incident, Ref: ref, Name: "inc-20261201-checkout-error-rate-12"}).Get(&room)
	_ = do(a.PostToRoom, activities.RoomPost{IncidentID: incident, Channel: room.Channel, Text: "Acknowledged by alice"})

	got := apiMessages(t, srv.URL, url.Values{"incident": {incident}})
	has := func(channel, substring string) {
		t.Helper()
		for _, m := range got {
			if m.Channel == channel && strings.Contains(m.Subject+" "+m.Text+" "+m.ProviderID, substring) {
				return
			}
		}
		t.Errorf("no %s message with %q listed for %s; got:\n%s", channel, substring, incident, describe(got))
	}
	has("voice", "checkout: error rate 12%")
	has("pagerduty", ref)
	has("pagerduty", ref+"/p3")
	has("voice", "2 more incidents")
	has("sms", "2 more incidents")
	has("pagerduty", bundle)
	has("statuspage", "investigating")
	has("chat", "Acknowledged by alice")
	for _, m := range got {
		if !slices.Contains(m.Incidents, incident) {
			t.Errorf("message %s listed for %s does not name it: incidents %v", m.ID, incident, m.Incidents)
		}
	}
	// The other incident: its own page and the three bundles; nothing of checkout's own.
	others := apiMessages(t, srv.URL, url.Values{"incident": {other}})
	if len(others) != 4 {
		t.Errorf("%d messages listed for %s, want its SMS page and the 3 bundles:\n%s", len(others), other, describe(others))
	}
}

func describe(msgs []inbox.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("  " + m.ID + " " + m.Channel + " incident=" + m.Incident + " incidents=" + strings.Join(m.Incidents, ",") +
			" key=" + m.ProviderID + " text=" + strings.ReplaceAll(m.Subject+" "+m.Text, "\n", " | ") + "\n")
	}
	return b.String()
}
