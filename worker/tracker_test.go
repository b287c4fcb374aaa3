package worker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/integrations/jira"
)

// The tracker files each action item once however often the activity is
// retried, reads its status as the fake moves it, and reports a ticket
// the tracker no longer has as a 404 the follow-up can name.
func TestTrackerOnJiraFake(t *testing.T) {
	fake := jira.NewFake(jira.FakeOptions{Reporter: t, ProjectKey: "OPS"})
	mux := http.NewServeMux()
	fake.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	env := map[string]string{"JIRA_BASE_URL": srv.URL, "JIRA_EMAIL": "sitrep@example.com", "JIRA_API_TOKEN": "t", "JIRA_PROJECT": "OPS"}
	tr, err := NewTracker(func(k string) string { return env[k] })
	if err != nil || tr == nil {
		t.Fatalf("tracker: %v %v", tr, err)
	}
	ctx := context.Background()
	ticket := activities.Ticket{Marker: "inc-x:r1/A1", Summary: "[checkout] Alert on connections", Description: "owner bob",
		Priority: "High", Labels: []string{"incident-inc-x"}}
	k1, err := tr.File(ctx, ticket)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := tr.File(ctx, ticket)
	if err != nil || k2 != k1 || len(fake.Issues()) != 1 {
		t.Fatalf("second file: %s %v, %d issues: want the same ticket, once", k2, err, len(fake.Issues()))
	}
	iss := fake.Issues()[0]
	if iss.Priority != "High" || iss.Labels[0] != jira.MarkerLabel("inc-x:r1/A1") {
		t.Errorf("issue: %+v", iss)
	}
	if err := fake.SetStatus(k1, "Done", "done"); err != nil {
		t.Fatal(err)
	}
	a := &activities.Activities{Tracker: tr}
	st, err := a.TicketStatuses(ctx, []string{k1, "OPS-99"})
	if err != nil {
		t.Fatal(err)
	}
	if st[0].Category != "done" || st[0].Problem != "" || !strings.Contains(st[1].Problem, "not found") || st[1].Category != "" {
		t.Errorf("statuses: %+v", st)
	}
	if st[1].Cause != activities.TicketGone {
		t.Errorf("a ticket the tracker does not have: cause %q, want %q", st[1].Cause, activities.TicketGone)
	}
	// A ticket deleted in Jira is gone; a tracker that fails or refuses
	// may answer next week.
	if err := fake.Delete(k1); err != nil {
		t.Fatal(err)
	}
	fake.Faults.FailNext(jira.ErrorFault(http.StatusServiceUnavailable), jira.ErrorFault(http.StatusUnauthorized))
	st, err = a.TicketStatuses(ctx, []string{"OPS-98", "OPS-97", k1})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{activities.TicketUnreachable, activities.TicketUnreachable, activities.TicketGone} {
		if st[i].Cause != want || st[i].Problem == "" {
			t.Errorf("read %d: %+v, want cause %q", i, st[i], want)
		}
	}
	if tr.URL(k1) != srv.URL+"/browse/"+k1 {
		t.Errorf("url %s", tr.URL(k1))
	}
	if off, err := NewTracker(func(string) string { return "" }); off != nil || err != nil {
		t.Errorf("no JIRA_ variables: %v %v, want off", off, err)
	}
}
