package activities

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/smtp"
)

// smtpNotifier pages by email through the SMTP client, as the worker's
// email notifier does.
type smtpNotifier struct{ c *smtp.Client }

func (n smtpNotifier) Notify(ctx context.Context, m Message) (string, error) {
	return n.c.Send(ctx, integrations.Email{To: []string{m.To}, Subject: m.Subject, Text: m.Text, IncidentID: m.IncidentID})
}

// An incident whose summary holds a line break (one opened before its
// text was cleaned at the door) still gets its email page and its
// post-mortem invitation delivered over real SMTP: the subject is made one
// line, where the SMTP client refuses a line break ("subject holds a line
// break") for good.
func TestSummaryWithALineBreakIsDelivered(t *testing.T) {
	fake, err := smtp.NewFakeServer(smtp.FakeOptions{Reporter: t})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fake.Close() })
	mailer, err := smtp.New(smtp.Config{Addr: fake.Addr(), From: "sitrep@example.com", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := pmActivities(t)
	a.Comms.Mailer = mailer
	a.Notifiers = map[catalog.Channel]Notifier{catalog.Email: smtpNotifier{mailer}}
	const summary = "db down\r\nBcc: mallory@example.com"

	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	if _, err := env.ExecuteActivity(a.Deliver, DeliverInput{IncidentID: "inc-db-0a1b2c3d", Person: "alice", Channel: catalog.Email,
		Kind: "page", Level: 1, Service: "db", Severity: catalog.SEV1, Summary: summary, AlertCount: 1}); err != nil {
		t.Fatalf("page: %v", err)
	}
	if _, err := a.SendInvite(context.Background(), MeetingRequest{Ref: "inc-db:r1", IncidentID: "inc-db-0a1b2c3d", Service: "db",
		Summary: summary, Commander: "alice", People: []string{"alice"}, Resolved: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatalf("invite: %v", err)
	}
	got := fake.Received()
	if len(got) != 2 {
		t.Fatalf("delivered %d mails, want the page and the invite", len(got))
	}
	for i, want := range []string{"[SEV1] db: db down Bcc: mallory@example.com", "Post-mortem: db: db down Bcc: mallory@example.com"} {
		m := got[i]
		if m.Subject != want || strings.Join(m.To, ",") != "alice@example.com" || m.Header.Get("Bcc") != "" {
			t.Errorf("mail %d: subject %q to %v, Bcc %q; want %q to alice only", i, m.Subject, m.To, m.Header.Get("Bcc"), want)
		}
	}
}
