package worker_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/mattermost"
	"github.com/sitrep-dev/sitrep/integrations/slack"
	"github.com/sitrep-dev/sitrep/worker"
)

// fullEnv configures every provider, with addresses that are never contacted.
var fullEnv = map[string]string{
	"TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000", "TWILIO_AUTH_TOKEN": "token", "TWILIO_FROM": "+15005550006",
	"TWILIO_BASE_URL":  "http://127.0.0.1:1",
	"SENDGRID_API_KEY": "SG.key", "SENDGRID_FROM": "sitrep@example.com", "SENDGRID_BASE_URL": "http://127.0.0.1:1",
	"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "secret", "SLACK_BASE_URL": "http://127.0.0.1:1",
	"PAGERDUTY_EVENTS_URL": "http://127.0.0.1:1",
}

func with(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestProviders(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		live []string
	}{
		// The PagerDuty Events API needs no credential, so pagerduty.ConfigFromEnv
		// always enables it: with nothing configured, it is the one channel live.
		{name: "nothing configured", vars: nil, live: []string{"pagerduty"}},
		{name: "everything configured", vars: fullEnv, live: []string{"chat", "email", "pagerduty", "sms", "voice"}},
		{name: "twilio only", vars: map[string]string{
			"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "token", "TWILIO_FROM": "+15005550006",
		}, live: []string{"pagerduty", "sms", "voice"}},
		{name: "smtp for email", vars: map[string]string{"SMTP_ADDR": "mail.example.com:587", "SMTP_FROM": "sitrep@example.com"},
			live: []string{"email", "pagerduty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := worker.Providers(env(tt.vars), "")
			if err != nil {
				t.Fatalf("Providers: %v", err)
			}
			if got := worker.Live(n); !slices.Equal(got, tt.live) {
				t.Errorf("Live = %v, want %v", got, tt.live)
			}
			for ch, nf := range n {
				if nf == nil {
					t.Errorf("notifier for %s is nil", ch)
				}
			}
		})
	}
}

func TestProvidersErrors(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		want    []string // substrings of the error
		notWant []string
	}{
		{
			name:    "twilio half configured",
			vars:    map[string]string{"TWILIO_ACCOUNT_SID": "AC1"},
			want:    []string{"twilio", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"},
			notWant: []string{"TWILIO_ACCOUNT_SID"},
		},
		{
			name: "twilio token file and token both set",
			vars: with(fullEnv, "TWILIO_AUTH_TOKEN_FILE", "/run/secrets/twilio"),
			want: []string{"TWILIO_AUTH_TOKEN and TWILIO_AUTH_TOKEN_FILE are both set"},
		},
		{
			name: "twilio from not a phone number",
			vars: with(fullEnv, "TWILIO_FROM", "sitrep"),
			want: []string{`From "sitrep" is not an E.164 number`},
		},
		{
			name: "sendgrid and smtp both configured",
			vars: with(fullEnv, "SMTP_ADDR", "mail.example.com:587", "SMTP_FROM", "sitrep@example.com"),
			want: []string{"both SendGrid and SMTP are configured"},
		},
		{
			name: "sendgrid without from",
			vars: map[string]string{"SENDGRID_API_KEY": "SG.key"},
			want: []string{"sendgrid", "SENDGRID_FROM is not set"},
		},
		{
			name: "slack without bot token",
			vars: map[string]string{"SLACK_SIGNING_SECRET": "secret"},
			want: []string{"SLACK_BOT_TOKEN"},
		},
		{
			name: "two providers wrong: both reported",
			vars: map[string]string{"TWILIO_FROM": "+15005550006", "SMTP_ADDR": "mail.example.com:587"},
			want: []string{"TWILIO_ACCOUNT_SID is not set", "SMTP_FROM is not set"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := worker.Providers(env(tt.vars), "")
			if err == nil {
				t.Fatalf("Providers succeeded, want an error mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error mentions %q, which is set:\n%v", w, err)
				}
			}
		})
	}
}

// missingCatalog pages SEV1 on voice, sms and chat, SEV2 on sms and email,
// and SEV3 and SEV4 on email.
const missingCatalog = `catch_all: ops
people:
  - handle: ann
    contacts:
      - sms: "+15550100001"
      - email: ann@example.com
rotations:
  - name: ops-primary
    members: [ann]
    shift: weekly
    handoff_day: monday
    handoff_time: "09:00"
    timezone: UTC
    start: 2026-01-05
teams:
  - name: ops
    rotation: ops-primary
    policy: ops-default
    members: [ann]
services:
  - name: web
    team: ops
    tier: 1
escalation_policies:
  - name: ops-default
    levels:
      - targets:
          - rotation: ops-primary
        delay: 5m
severities:
  SEV1:
    channels: {1: [voice, sms], 2: [sms, chat], 3: [sms]}
    update_cadence: 30m
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

type nopNotifier struct{}

func (nopNotifier) Notify(context.Context, activities.Message) (string, error) { return "", nil }

func notifiers(chs ...catalog.Channel) map[catalog.Channel]activities.Notifier {
	out := map[catalog.Channel]activities.Notifier{}
	for _, ch := range chs {
		out[ch] = nopNotifier{}
	}
	return out
}

func TestMissing(t *testing.T) {
	c, err := catalog.Parse("catalog.yaml", []byte(missingCatalog))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	tests := []struct {
		name string
		have map[catalog.Channel]activities.Notifier
		want []string
	}{
		{"no providers", notifiers(), []string{"chat", "email", "sms", "voice"}},
		{"sms and email", notifiers(catalog.SMS, catalog.Email), []string{"chat", "voice"}},
		{"pagerduty is not asked for", notifiers(catalog.PagerDuty, catalog.SMS, catalog.Email, catalog.Chat), []string{"voice"}},
		{"everything asked for", notifiers(catalog.Voice, catalog.SMS, catalog.Chat, catalog.Email), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := worker.Missing(c, tt.have); !slices.Equal(got, tt.want) {
				t.Errorf("Missing = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLive(t *testing.T) {
	tests := []struct {
		name string
		have map[catalog.Channel]activities.Notifier
		want []string
	}{
		{"none", notifiers(), nil},
		{"sorted", notifiers(catalog.Voice, catalog.Chat, catalog.SMS, catalog.PagerDuty, catalog.Email),
			[]string{"chat", "email", "pagerduty", "sms", "voice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := worker.Live(tt.have); !slices.Equal(got, tt.want) {
				t.Errorf("Live = %v, want %v", got, tt.want)
			}
		})
	}
}

// A summary is written by whoever holds an alert key: in a chat page it
// shows as written, never as a disguised link or a mention.
func TestChatPagesEscapeTheText(t *testing.T) {
	const text = "sitrep SEV1 inc-payments-1a2b3c4d: payments: <https://evil.example|Acknowledge> <!channel> [Acknowledge](https://evil.example) & more\nAcknowledge: https://sitrep.example.com/ack/aW5j.YWxpY2U.1767225600.c2ln_-"
	msg := activities.Message{IncidentID: "inc-payments-1a2b3c4d", Person: "alice", To: "U0CA5", Text: text}

	sf := slack.NewFake(slack.FakeOptions{Reporter: t})
	mux := http.NewServeMux()
	sf.Register(mux)
	mf := mattermost.NewFake(mattermost.FakeOptions{Reporter: t})
	mf.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	n, err := worker.Providers(env(map[string]string{"SLACK_BOT_TOKEN": slack.FakeBotToken.Reveal(), "SLACK_BASE_URL": srv.URL}), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n[catalog.Chat].Notify(t.Context(), msg); err != nil {
		t.Fatalf("slack: %v", err)
	}
	got := sf.ExpectMessage(t, "U0CA5", "payments").Text
	if want := "payments: &lt;https://evil.example|Acknowledge&gt; &lt;!channel&gt; [Acknowledge](https://evil.example) &amp; more\nAcknowledge: https://sitrep.example.com/ack/aW5j.YWxpY2U.1767225600.c2ln_-"; !strings.Contains(got, want) {
		t.Errorf("slack text = %q, want it to contain %q", got, want)
	}

	n, err = worker.Providers(env(map[string]string{"MATTERMOST_URL": srv.URL, "MATTERMOST_TOKEN": mattermost.FakeToken.Reveal(), "MATTERMOST_TEAM_ID": mattermost.FakeTeamID}), "")
	if err != nil {
		t.Fatal(err)
	}
	msg.To = "mm-alice"
	if _, err := n[catalog.Chat].Notify(t.Context(), msg); err != nil {
		t.Fatalf("mattermost: %v", err)
	}
	got = mf.ExpectMessage(t, "mm-alice", "payments").Text
	if want := `payments: \<https://evil.example|Acknowledge\> \<!channel\> \[Acknowledge\](https://evil.example) & more` + "\nAcknowledge: https://sitrep.example.com/ack/aW5j.YWxpY2U.1767225600.c2ln_-"; !strings.Contains(got, want) {
		t.Errorf("mattermost text = %q, want it to contain %q", got, want)
	}
}
