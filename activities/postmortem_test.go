package activities

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
)

const pmTestCatalog = `
catch_all: pay
people:
  - handle: alice
    name: Alice Archer
    timezone: America/New_York
    contacts: [{email: alice@example.com}]
  - handle: bob
    contacts: [{email: bob@example.com}]
  - handle: nomail
    contacts: [{sms: "+15550100009"}]
teams:
  - name: pay
    policy: p
    members: [alice, bob]
    managers: [bob]
escalation_policies:
  - name: p
    levels: [{targets: [{person: alice}], delay: 5m}]
severities:
  SEV1: {channels: {1: [email], 2: [email], 3: [email]}, update_cadence: none}
  SEV2: {channels: {1: [email], 2: [email], 3: [email]}, update_cadence: none}
  SEV3: {channels: {1: [email], 2: [email], 3: [email]}, update_cadence: none}
  SEV4: {channels: {1: [email], 2: [email], 3: [email]}, update_cadence: none}
postmortem:
  meeting_within_business_days: 3
  meeting_hour: 11
  jargon: [SLO, rollback]
  responders: [alice, bob, nomail]
  learnings_file: LEARNINGS
`

type mailbox struct{ sent []integrations.Email }

func (m *mailbox) Send(_ context.Context, e integrations.Email) (string, error) {
	if err := e.Validate(); err != nil {
		return "", err
	}
	m.sent = append(m.sent, e)
	return "id", nil
}

func pmActivities(t *testing.T) (*Activities, *mailbox, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "learnings.jsonl")
	c, err := catalog.Parse("pm.yaml", []byte(strings.Replace(pmTestCatalog, "LEARNINGS", file, 1)))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	mb := &mailbox{}
	return &Activities{Catalog: StaticCatalog{C: c}, Templates: tmpl, Comms: CommsDeps{Mailer: mb}}, mb, file
}

// The invite is an iCalendar request for a weekday slot at the meeting
// hour in the commander's zone, to each responder with an address.
func TestSendInvite(t *testing.T) {
	a, mb, _ := pmActivities(t)
	// Friday 18:00 in New York: two business days later is Tuesday.
	resolved := time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC)
	r, err := a.SendInvite(context.Background(), MeetingRequest{Ref: "inc-x:r1", IncidentID: "inc-x", Service: "checkout",
		Summary: "errors", Commander: "alice", People: []string{"alice", "bob", "nomail"}, Resolved: resolved})
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	if want := time.Date(2026, 12, 8, 11, 0, 0, 0, ny); !r.Start.Equal(want) || r.Zone != "America/New_York" {
		t.Errorf("slot %v %s, want %v", r.Start, r.Zone, want)
	}
	if len(mb.sent) != 2 || strings.Join(r.Missing, ",") != "nomail" {
		t.Fatalf("sent %d, missing %v", len(mb.sent), r.Missing)
	}
	att := mb.sent[0].Attachments
	if len(att) != 1 || att[0].ContentType != "text/calendar; method=REQUEST; charset=utf-8" {
		t.Fatalf("attachment: %+v", att)
	}
	// Unfold the 75-octet lines (RFC 5545 3.1) before looking.
	ics := strings.NewReplacer("\r\n ", "", "\n ", "").Replace(string(att[0].Content))
	for _, want := range []string{"BEGIN:VCALENDAR", "METHOD:REQUEST", "UID:inc-x-r1@sitrep", "DTSTART:20261208T160000Z",
		"ORGANIZER:mailto:alice@example.com", "RSVP=true:mailto:bob@example.com", "DTEND:20261208T170000Z"} {
		if !strings.Contains(ics, want) {
			t.Errorf("invite lacks %q:\n%s", want, ics)
		}
	}
}

// The draft replaces people's names, flags the catalog's jargon, and
// scores its readability.
func TestDraftSummary(t *testing.T) {
	a, _, _ := pmActivities(t)
	d, err := a.DraftSummary(context.Background(), DraftInput{Service: "checkout", Components: []string{"Checkout"},
		OpenedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Submission: Submission{
			RootCause:   "Alice Archer's rollback missed the SLO.",
			Impact:      Impact{Duration: "45m", CustomersAffected: "Some customers could not pay."},
			ActionItems: []ActionItem{{Title: "Test every change first"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(d.Text, "Alice") || !strings.Contains(d.Text, "our team") || strings.Join(d.Names, ",") != "Alice Archer" {
		t.Errorf("names: %v\n%s", d.Names, d.Text)
	}
	if strings.Join(d.Jargon, ",") != "SLO,rollback" {
		t.Errorf("jargon %v", d.Jargon)
	}
	if !strings.Contains(d.Text, "On 1 December 2026, Checkout did not work") || !strings.Contains(d.Text, "- Test every change first") {
		t.Errorf("draft:\n%s", d.Text)
	}
	if d.Readability <= 0 || d.Readability > 120 {
		t.Errorf("readability %v", d.Readability)
	}
	if plain, hard := Readability("The cat sat on the mat. It was warm."), Readability("Institutional infrastructural considerations necessitate comprehensive reconfiguration."); plain <= hard {
		t.Errorf("readability: plain %v <= hard %v", plain, hard)
	}
}

// Learnings go to every responder with an address and are recorded once,
// however often the activity is retried.
func TestRecordLearnings(t *testing.T) {
	a, mb, file := pmActivities(t)
	n := LearningsNotice{Ref: "inc-x:r1", IncidentID: "inc-x", Service: "checkout", Summary: "errors", Severity: catalog.SEV1,
		At: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), Learnings: []string{"Look at the database first."}}
	for range 2 {
		r, err := a.RecordLearnings(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		if r.Recorded != file || strings.Join(r.Missing, ",") != "nomail" {
			t.Errorf("result %+v", r)
		}
	}
	if len(mb.sent) != 4 || !strings.Contains(mb.sent[0].Text, "Look at the database first.") {
		t.Errorf("sent %d", len(mb.sent))
	}
	got, err := ReadLearnings(file, time.Time{})
	if err != nil || len(got) != 1 {
		t.Fatalf("recorded %d (%v), want once", len(got), err)
	}
	if later, _ := ReadLearnings(file, n.At.Add(time.Hour)); len(later) != 0 {
		t.Errorf("--since after it: %d", len(later))
	}
}

func TestMeetingSlotSkipsWeekends(t *testing.T) {
	for _, tc := range []struct {
		resolved time.Time
		within   int
		want     time.Time
	}{
		{time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC), 3, time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}, // Tue → Thu
		{time.Date(2026, 12, 4, 14, 0, 0, 0, time.UTC), 3, time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)}, // Fri → Tue
		{time.Date(2026, 12, 5, 14, 0, 0, 0, time.UTC), 1, time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}, // Sat → Mon
	} {
		if got := MeetingSlot(tc.resolved, time.UTC, tc.within, 10); !got.Equal(tc.want) {
			t.Errorf("%v within %d: %v, want %v", tc.resolved, tc.within, got, tc.want)
		}
	}
}
