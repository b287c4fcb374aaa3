package activities_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/acklink"
)

// testCatalog: ann and ben take weekly turns on ops-primary from Monday
// 2026-01-05 09:00 UTC (ann first); level 2 pages the whole ops team. Ann has
// sms and email, ben only chat.
const testCatalog = `catch_all: ops
people:
  - handle: ann
    contacts:
      - sms: "+15550100001"
      - email: ann@example.com
  - handle: ben
    contacts:
      - chat: U0002
rotations:
  - name: ops-primary
    members: [ann, ben]
    shift: weekly
    handoff_day: monday
    handoff_time: "09:00"
    timezone: UTC
    start: 2026-01-05
teams:
  - name: ops
    rotation: ops-primary
    policy: ops-default
    members: [ann, ben]
services:
  - name: web
    team: ops
    tier: 1
  - name: batch
    team: ops
    tier: 3
escalation_policies:
  - name: ops-default
    levels:
      - targets:
          - rotation: ops-primary
        delay: 5m
      - targets:
          - team: ops
        delay: 10m
    repeat: 1
    fallback: ann
severities:
  SEV1:
    channels: {1: [sms, chat], 2: [sms], 3: [email]}
    update_cadence: 30m
    repage_after_ack: 30m
  SEV2:
    channels: {1: [sms], 2: [email], 3: [email]}
    update_cadence: 1h
  SEV3:
    channels: {1: [email], 2: [email], 3: [email]}
    update_cadence: 4h
  SEV4:
    channels: {1: [email], 2: [email], 3: [email]}
    update_cadence: none
`

func loadCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Parse("catalog.yaml", []byte(testCatalog))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// fakeNotifier records what it was asked to send and answers with id or err.
type fakeNotifier struct {
	id  string
	err error

	mu  sync.Mutex
	got []activities.Message
}

func (f *fakeNotifier) Notify(_ context.Context, m activities.Message) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, m)
	return f.id, f.err
}

func (f *fakeNotifier) sent() []activities.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]activities.Message(nil), f.got...)
}

func newActivities(t *testing.T, n map[catalog.Channel]activities.Notifier) *activities.Activities {
	t.Helper()
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatalf("LoadTemplates: %v", err)
	}
	return &activities.Activities{Catalog: activities.StaticCatalog{C: loadCatalog(t)}, Notifiers: n, Templates: tmpl}
}

func activityEnv(a *activities.Activities) *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler))) // failures are the point of most cases
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	return env
}

// appError returns err's ApplicationError, failing t when there is none.
func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		t.Fatalf("error %v (%T) carries no ApplicationError", err, err)
	}
	return app
}

func TestRoute(t *testing.T) {
	a := newActivities(t, nil)
	levels := []activities.LevelPlan{
		{Delay: 5 * time.Minute, Targets: []catalog.Target{{Kind: catalog.TargetRotation, Name: "ops-primary"}}},
		{Delay: 10 * time.Minute, Targets: []catalog.Target{{Kind: catalog.TargetTeam, Name: "ops"}}},
	}
	tests := []struct {
		name string
		in   activities.RouteInput
		want activities.RouteResult
	}{
		{
			name: "known service",
			in:   activities.RouteInput{Service: "web", Severity: catalog.SEV1},
			want: activities.RouteResult{
				Known: true, Team: "ops", Policy: "ops-default", Tier: 1,
				Channels: []catalog.Channel{catalog.SMS, catalog.Chat}, Levels: levels, Repeat: 1, Fallback: "ann",
				Responders: []string{"ann", "ben"}, RepageAfterAck: 30 * time.Minute,
				RepageEscalateAfter: 2, AutoResolveAfter: time.Hour, BundleWindow: time.Minute,
			},
		},
		{
			name: "known service, lower tier, quieter severity",
			in:   activities.RouteInput{Service: "batch", Severity: catalog.SEV2},
			want: activities.RouteResult{
				Known: true, Team: "ops", Policy: "ops-default", Tier: 3,
				Channels: []catalog.Channel{catalog.Email}, Levels: levels, Repeat: 1, Fallback: "ann",
				Responders:          []string{"ann", "ben"},
				RepageEscalateAfter: 2, AutoResolveAfter: time.Hour, BundleWindow: time.Minute,
			},
		},
		{
			name: "unknown service goes to the catch-all team at tier 1",
			in:   activities.RouteInput{Service: "billing", Severity: catalog.SEV1},
			want: activities.RouteResult{
				Known: false, Team: "ops", Policy: "ops-default", Tier: 1,
				Channels: []catalog.Channel{catalog.SMS, catalog.Chat}, Levels: levels, Repeat: 1, Fallback: "ann",
				Responders: []string{"ann", "ben"}, RepageAfterAck: 30 * time.Minute,
				RepageEscalateAfter: 2, AutoResolveAfter: time.Hour, BundleWindow: time.Minute,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			val, err := activityEnv(a).ExecuteActivity(a.Route, tt.in)
			if err != nil {
				t.Fatalf("Route: %v", err)
			}
			var got activities.RouteResult
			if err := val.Get(&got); err != nil {
				t.Fatal(err)
			}
			got.Comms = activities.CommsPlan{} // TestRouteComms checks it
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Route(%+v) =\n  %+v\nwant\n  %+v", tt.in, got, tt.want)
			}
		})
	}

	t.Run("unknown severity", func(t *testing.T) {
		_, err := activityEnv(a).ExecuteActivity(a.Route, activities.RouteInput{Service: "web", Severity: "SEV9"})
		if err == nil || !strings.Contains(err.Error(), `unknown severity "SEV9"`) {
			t.Fatalf("Route(SEV9) error = %v, want unknown severity", err)
		}
		// Routing errors are retried: a catalog an operator fixes must not
		// leave an incident that gave up paging.
		if app := appError(t, err); app.NonRetryable() {
			t.Errorf("Route(SEV9) error is non-retryable")
		}
	})
}

func TestRecipients(t *testing.T) {
	a := newActivities(t, nil)
	annWeek := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)
	benWeek := time.Date(2026, 1, 13, 12, 0, 0, 0, time.UTC)
	sms := []catalog.Channel{catalog.SMS}
	tests := []struct {
		name string
		in   activities.RecipientsInput
		want []catalog.Recipient
	}{
		{
			name: "level 1 in ann's week",
			in:   activities.RecipientsInput{Targets: []catalog.Target{{Kind: catalog.TargetRotation, Name: "ops-primary"}}, At: annWeek, Channels: sms},
			want: []catalog.Recipient{{Person: "ann", Channels: sms, Fallback: []catalog.Channel{catalog.Email}}},
		},
		{
			name: "level 1 in ben's week: no sms, so his first contact",
			in:   activities.RecipientsInput{Targets: []catalog.Target{{Kind: catalog.TargetRotation, Name: "ops-primary"}}, At: benWeek, Channels: sms},
			want: []catalog.Recipient{{Person: "ben", Channels: []catalog.Channel{catalog.Chat}}},
		},
		{
			name: "level 2 pages the team",
			in:   activities.RecipientsInput{Targets: []catalog.Target{{Kind: catalog.TargetTeam, Name: "ops"}}, At: annWeek, Channels: []catalog.Channel{catalog.Email, catalog.Chat}},
			want: []catalog.Recipient{
				{Person: "ann", Channels: []catalog.Channel{catalog.Email}, Fallback: sms},
				{Person: "ben", Channels: []catalog.Channel{catalog.Chat}},
			},
		},
		{
			name: "one person, whatever the level",
			in:   activities.RecipientsInput{Targets: []catalog.Target{{Kind: catalog.TargetPerson, Name: "ann"}}, Channels: []catalog.Channel{catalog.Email}},
			want: []catalog.Recipient{{Person: "ann", Channels: []catalog.Channel{catalog.Email}, Fallback: sms}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			val, err := activityEnv(a).ExecuteActivity(a.Recipients, tt.in)
			if err != nil {
				t.Fatalf("Recipients: %v", err)
			}
			var res activities.RecipientsResult
			if err := val.Get(&res); err != nil {
				t.Fatal(err)
			}
			if got := res.Recipients; !sameRecipients(got, tt.want) {
				t.Errorf("Recipients(%+v) =\n  %+v\nwant\n  %+v", tt.in, got, tt.want)
			}
		})
	}

	// A target that cannot be resolved is named; the others are still paged.
	problems := []struct {
		name string
		in   activities.RecipientsInput
		want string
	}{
		{"unknown person", activities.RecipientsInput{Targets: []catalog.Target{{Kind: catalog.TargetPerson, Name: "mallory"}, {Kind: catalog.TargetPerson, Name: "ann"}}}, `unknown person "mallory"`},
		{"unknown rotation", activities.RecipientsInput{Targets: []catalog.Target{{Kind: catalog.TargetRotation, Name: "nope"}, {Kind: catalog.TargetPerson, Name: "ann"}}, At: annWeek}, `nope`},
		{"before the rotation starts", activities.RecipientsInput{Targets: []catalog.Target{{Kind: catalog.TargetRotation, Name: "ops-primary"}, {Kind: catalog.TargetPerson, Name: "ann"}}, At: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)}, "ops-primary"},
	}
	for _, tt := range problems {
		t.Run(tt.name, func(t *testing.T) {
			val, err := activityEnv(a).ExecuteActivity(a.Recipients, tt.in)
			if err != nil {
				t.Fatalf("Recipients: %v", err)
			}
			var res activities.RecipientsResult
			if err := val.Get(&res); err != nil {
				t.Fatal(err)
			}
			if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], tt.want) {
				t.Errorf("problems = %q, want one mentioning %q", res.Problems, tt.want)
			}
			if len(res.Recipients) != 1 || res.Recipients[0].Person != "ann" {
				t.Errorf("recipients = %+v, want ann still paged", res.Recipients)
			}
		})
	}
}

// sameRecipients compares recipients, an empty channel list matching none.
func sameRecipients(a, b []catalog.Recipient) bool {
	return slices.EqualFunc(a, b, func(x, y catalog.Recipient) bool {
		return x.Person == y.Person && slices.Equal(x.Channels, y.Channels) && slices.Equal(x.Fallback, y.Fallback)
	})
}

var page = activities.DeliverInput{
	IncidentID: "inc-web-0a1b2c3d", Person: "ann", Channel: catalog.SMS, Kind: "page", Level: 1,
	Service: "web", Severity: catalog.SEV1, Summary: "web error rate 12%", AlertCount: 3,
}

func TestDeliver(t *testing.T) {
	t.Run("sends, with an acknowledge link", func(t *testing.T) {
		sms := &fakeNotifier{id: "SM0001"}
		a := newActivities(t, map[catalog.Channel]activities.Notifier{catalog.SMS: sms})
		signer, err := acklink.New("https://sitrep.example.com", time.Hour, []byte(strings.Repeat("k", 32)))
		if err != nil {
			t.Fatal(err)
		}
		a.Links = signer
		var observed []activities.Message
		a.Observe = func(m activities.Message, _ time.Time) { observed = append(observed, m) }

		val, err := activityEnv(a).ExecuteActivity(a.Deliver, page)
		if err != nil {
			t.Fatalf("Deliver: %v", err)
		}
		var res activities.DeliverResult
		if err := val.Get(&res); err != nil {
			t.Fatal(err)
		}
		if res.ProviderID != "SM0001" {
			t.Errorf("ProviderID = %q, want the provider's SM0001", res.ProviderID)
		}
		got := sms.sent()
		if len(got) != 1 {
			t.Fatalf("notifier got %d messages, want 1", len(got))
		}
		m := got[0]
		if m.To != "+15550100001" || m.Person != "ann" || m.IncidentID != page.IncidentID || m.Severity != catalog.SEV1 {
			t.Errorf("message addressed %+v", m)
		}
		if m.Subject != "[SEV1] web: web error rate 12%" {
			t.Errorf("Subject = %q", m.Subject)
		}
		for _, want := range []string{page.IncidentID, "web error rate 12%", "(3 alerts)", "level 1", "Acknowledge: https://sitrep.example.com/ack/"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("text does not contain %q:\n%s", want, m.Text)
			}
		}
		if !strings.Contains(strings.ToLower(m.Text), "reply 4 to acknowledge") {
			t.Errorf("an SMS page does not say how to acknowledge by reply:\n%s", m.Text)
		}
		token, ok := strings.CutPrefix(m.AckURL, "https://sitrep.example.com/ack/")
		if !ok || !strings.Contains(m.Text, m.AckURL) {
			t.Fatalf("AckURL = %q, not the link in the text", m.AckURL)
		}
		if c, err := signer.Verify(token, time.Now()); err != nil || c.Incident != page.IncidentID || c.Person != "ann" {
			t.Errorf("the link acknowledges %+v, %v; want ann on %s", c, err, page.IncidentID)
		}
		if len(observed) != 1 || observed[0].Text != m.Text {
			t.Errorf("Observe heard %d messages, want the one sent", len(observed))
		}
	})

	t.Run("without links, no acknowledge line", func(t *testing.T) {
		sms := &fakeNotifier{id: "SM0002"}
		a := newActivities(t, map[catalog.Channel]activities.Notifier{catalog.SMS: sms})
		if _, err := activityEnv(a).ExecuteActivity(a.Deliver, page); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
		m := sms.sent()[0]
		if m.AckURL != "" || strings.Contains(m.Text, "Acknowledge:") {
			t.Errorf("message has an acknowledge link with links off: %q\n%s", m.AckURL, m.Text)
		}
	})

	errTests := []struct {
		name         string
		in           activities.DeliverInput
		err          error // the notifier's
		wantType     string
		nonRetryable bool
		retryDelay   time.Duration
		wantMsg      string
		wantSent     int
	}{
		{
			name:     "no provider for the channel",
			in:       with(page, func(in *activities.DeliverInput) { in.Channel = catalog.Voice }),
			wantType: activities.ErrChannelOff, nonRetryable: true, wantMsg: "no provider configured for channel voice",
		},
		{
			name:     "person has no address on the channel",
			in:       with(page, func(in *activities.DeliverInput) { in.Person = "ben" }),
			wantType: activities.ErrNoContact, nonRetryable: true, wantMsg: `person "ben" has no sms contact`,
		},
		{
			name:     "provider refuses for good",
			in:       page,
			err:      &integrations.Error{Provider: "twilio", Kind: integrations.Permanent, Status: 400, Code: "21211", Message: "invalid To number"},
			wantType: activities.ErrPermanent, nonRetryable: true, wantMsg: "invalid To number", wantSent: 1,
		},
		{
			name:     "provider asks to retry later",
			in:       page,
			err:      &integrations.Error{Provider: "twilio", Kind: integrations.Transient, Status: 429, RetryAfter: 42 * time.Second},
			wantType: "TransientDelivery", retryDelay: 42 * time.Second, wantMsg: "http 429", wantSent: 1,
		},
		{
			name:     "provider fails for now, no hint",
			in:       page,
			err:      &integrations.Error{Provider: "twilio", Kind: integrations.Transient, Status: 503},
			wantType: "TransientDelivery", wantMsg: "http 503", wantSent: 1,
		},
		{
			name:    "unclassified error is retried",
			in:      page,
			err:     errors.New("connection reset by peer"),
			wantMsg: "connection reset by peer", wantSent: 1,
		},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			sms := &fakeNotifier{err: tt.err}
			a := newActivities(t, map[catalog.Channel]activities.Notifier{catalog.SMS: sms})
			_, err := activityEnv(a).ExecuteActivity(a.Deliver, tt.in)
			if err == nil {
				t.Fatal("Deliver succeeded, want an error")
			}
			app := appError(t, err)
			if tt.wantType != "" && app.Type() != tt.wantType {
				t.Errorf("type = %q, want %q", app.Type(), tt.wantType)
			}
			if app.NonRetryable() != tt.nonRetryable {
				t.Errorf("NonRetryable = %v, want %v", app.NonRetryable(), tt.nonRetryable)
			}
			if app.NextRetryDelay() != tt.retryDelay {
				t.Errorf("NextRetryDelay = %s, want %s", app.NextRetryDelay(), tt.retryDelay)
			}
			if !strings.Contains(app.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", app.Error(), tt.wantMsg)
			}
			if n := len(sms.sent()); n != tt.wantSent {
				t.Errorf("notifier called %d times, want %d", n, tt.wantSent)
			}
		})
	}
}

func with(in activities.DeliverInput, f func(*activities.DeliverInput)) activities.DeliverInput {
	f(&in)
	return in
}

func TestTemplatesOverride(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		t.Helper()
		dir := t.TempDir()
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}

	t.Run("page text overridden, subject built in", func(t *testing.T) {
		dir := write(t, map[string]string{"page.text.tmpl": "PAGE {{.IncidentID}} {{.Service}} is down: {{.Summary}}\n"})
		tmpl, err := activities.LoadTemplates(dir)
		if err != nil {
			t.Fatalf("LoadTemplates: %v", err)
		}
		sms := &fakeNotifier{id: "SM1"}
		a := newActivities(t, map[catalog.Channel]activities.Notifier{catalog.SMS: sms})
		a.Templates = tmpl
		if _, err := activityEnv(a).ExecuteActivity(a.Deliver, page); err != nil {
			t.Fatalf("Deliver: %v", err)
		}
		m := sms.sent()[0]
		if want := "PAGE inc-web-0a1b2c3d web is down: web error rate 12%"; m.Text != want {
			t.Errorf("Text = %q, want %q", m.Text, want)
		}
		if m.Subject != "[SEV1] web: web error rate 12%" {
			t.Errorf("Subject = %q, want the built-in one", m.Subject)
		}
	})

	t.Run("syntax error names the file", func(t *testing.T) {
		dir := write(t, map[string]string{"page.subject.tmpl": "{{.Severity"})
		_, err := activities.LoadTemplates(dir)
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "page.subject.tmpl")) {
			t.Errorf("LoadTemplates = %v, want an error naming page.subject.tmpl", err)
		}
	})

	t.Run("unknown field fails the page for good", func(t *testing.T) {
		dir := write(t, map[string]string{"page.text.tmpl": "{{.Runbook}}"})
		tmpl, err := activities.LoadTemplates(dir)
		if err != nil {
			t.Fatalf("LoadTemplates: %v", err)
		}
		sms := &fakeNotifier{id: "SM1"}
		a := newActivities(t, map[catalog.Channel]activities.Notifier{catalog.SMS: sms})
		a.Templates = tmpl
		_, err = activityEnv(a).ExecuteActivity(a.Deliver, page)
		if err == nil {
			t.Fatal("Deliver succeeded with a broken template")
		}
		if app := appError(t, err); app.Type() != activities.ErrPermanent || !app.NonRetryable() || !strings.Contains(app.Error(), "page.text.tmpl") {
			t.Errorf("error = %q (type %s, non-retryable %v)", app.Error(), app.Type(), app.NonRetryable())
		}
		if len(sms.sent()) != 0 {
			t.Errorf("a page with a broken template was sent")
		}
	})
}

// stubStatusPage is a configured status page that is never called.
type stubStatusPage struct{ activities.StatusPage }

func TestRouteComms(t *testing.T) {
	cat, err := catalog.Load("../examples/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	withPage := &activities.Activities{Catalog: activities.StaticCatalog{C: cat}, Templates: tmpl,
		Comms: activities.CommsDeps{StatusPage: stubStatusPage{}}}
	noPage := &activities.Activities{Catalog: activities.StaticCatalog{C: cat}, Templates: tmpl}
	// Tuesday 1 December 2026, 10:58 in Berlin: the payments-comms shift
	// that began Wednesday 25 November 10:00 is alice's (carol, alice, bob
	// in turn from 7 January).
	at := time.Date(2026, 12, 1, 9, 58, 0, 0, time.UTC)
	groups := []activities.GroupPlan{{Name: "support", Audience: catalog.Internal}, {Name: "leadership", Audience: catalog.Internal},
		{Name: "merchants", Audience: catalog.External}}
	roles := []catalog.Role{{Name: "partner-comms", Title: "Partner communications", StakeholderGroups: []string{"merchants"}}}
	tests := []struct {
		name string
		a    *activities.Activities
		in   activities.RouteInput
		want activities.CommsPlan
	}{
		{
			name: "SEV1 on a service with status page components",
			a:    withPage,
			in:   activities.RouteInput{Service: "checkout", Severity: catalog.SEV1, Summary: "Checkout error rate 12%!", OpenedAt: at},
			want: activities.CommsPlan{Cadence: 30 * time.Minute, RemindBefore: 5 * time.Minute, NoNewsAfter: 10 * time.Minute,
				RoleUnfilledAfter: 15 * time.Minute, Notice: catalog.WhenOpen, WarRoom: catalog.WhenOpen, StatusPage: true,
				Components: []string{"Checkout"}, Groups: groups, Roles: roles,
				RoomName: "inc-20261201-checkout-checkout-error-rate-12", CommsLead: "alice", UpdateWindow: catalog.DefaultUpdateWindow},
		},
		{
			name: "no status page configured: email only",
			a:    noPage,
			in:   activities.RouteInput{Service: "checkout", Severity: catalog.SEV1, Summary: "Checkout error rate 12%!", OpenedAt: at},
			want: activities.CommsPlan{Cadence: 30 * time.Minute, RemindBefore: 5 * time.Minute, NoNewsAfter: 10 * time.Minute,
				RoleUnfilledAfter: 15 * time.Minute, Notice: catalog.WhenOpen, WarRoom: catalog.WhenOpen,
				Components: []string{"Checkout"}, Groups: groups, Roles: roles,
				RoomName: "inc-20261201-checkout-checkout-error-rate-12", CommsLead: "alice", UpdateWindow: catalog.DefaultUpdateWindow},
		},
		{
			name: "a service with no components, a team with no comms rotation, an internal-only severity",
			a:    withPage,
			in:   activities.RouteInput{Service: "kubernetes", Severity: catalog.SEV3, Summary: "Nodes NotReady", OpenedAt: at},
			want: activities.CommsPlan{Cadence: 4 * time.Hour, RemindBefore: 5 * time.Minute, RoleUnfilledAfter: 15 * time.Minute,
				Notice: catalog.WhenAck, WarRoom: catalog.WhenAck, InternalOnly: true,
				Groups: []activities.GroupPlan{{Name: "support", Audience: catalog.Internal}, {Name: "leadership", Audience: catalog.Internal}},
				Roles:  roles, RoomName: "inc-20261201-kubernetes-nodes-notready", UpdateWindow: catalog.DefaultUpdateWindow},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			val, err := activityEnv(tt.a).ExecuteActivity(tt.a.Route, tt.in)
			if err != nil {
				t.Fatalf("Route: %v", err)
			}
			var got activities.RouteResult
			if err := val.Get(&got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Comms, tt.want) {
				t.Errorf("Route(%+v).Comms =\n  %+v\nwant\n  %+v", tt.in, got.Comms, tt.want)
			}
		})
	}
}
