package worker_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/worker"
)

// commsEnv configures every comms provider, with addresses never contacted.
var commsEnv = with(fullEnv,
	"STATUSPAGE_API_KEY", "sp-key", "STATUSPAGE_PAGE_ID", "page1", "STATUSPAGE_BASE_URL", "http://127.0.0.1:1",
	"ZOOM_ACCOUNT_ID", "acct", "ZOOM_CLIENT_ID", "client", "ZOOM_CLIENT_SECRET", "secret", "ZOOM_BASE_URL", "http://127.0.0.1:1",
	"TEAMS_WEBHOOK_URL", "http://127.0.0.1:1/workflows/x/triggers/manual/paths/invoke?sig=s")

func TestCommsFromEnv(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		live []string
	}{
		{name: "nothing configured", vars: nil, live: nil},
		{name: "everything", vars: commsEnv, live: []string{"statuspage", "rooms:slack", "teams", "bridge", "email"}},
		{name: "mattermost rooms, a URL template bridge, smtp", vars: map[string]string{
			"MATTERMOST_URL": "http://127.0.0.1:1", "MATTERMOST_TOKEN": "tok", "MATTERMOST_TEAM_ID": "team",
			"VIDEO_URL_TEMPLATE": "https://meet.jit.si/sitrep-{incident}",
			"SMTP_ADDR":          "mail.example.com:587", "SMTP_FROM": "sitrep@example.com",
		}, live: []string{"rooms:mattermost", "bridge", "email"}},
		{name: "teams alone", vars: map[string]string{"TEAMS_WEBHOOK_URL": "https://example.webhook.office.com/x"}, live: []string{"teams"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := worker.CommsFromEnv(env(tt.vars), "")
			if err != nil {
				t.Fatalf("CommsFromEnv: %v", err)
			}
			if got := worker.CommsLive(d); !slices.Equal(got, tt.live) {
				t.Errorf("CommsLive = %v, want %v", got, tt.live)
			}
			// Off is nil, not an interface holding a nil client.
			if (d.StatusPage == nil) == slices.Contains(tt.live, "statuspage") || (d.Mailer == nil) == slices.Contains(tt.live, "email") {
				t.Errorf("deps = %+v", d)
			}
		})
	}
}

func TestCommsFromEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"statuspage half configured", map[string]string{"STATUSPAGE_API_KEY": "k"}, []string{"statuspage", "STATUSPAGE_PAGE_ID"}},
		{"zoom half configured", map[string]string{"ZOOM_ACCOUNT_ID": "a"}, []string{"zoom", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET"}},
		{"zoom and a URL template", with(commsEnv, "VIDEO_URL_TEMPLATE", "https://meet.jit.si/{incident}"), []string{"both ZOOM_* and VIDEO_URL_TEMPLATE"}},
		{"slack and mattermost", with(commsEnv, "MATTERMOST_URL", "http://127.0.0.1:1", "MATTERMOST_TOKEN", "t", "MATTERMOST_TEAM_ID", "x"),
			[]string{"both Slack and Mattermost"}},
		{"sendgrid and smtp", with(commsEnv, "SMTP_ADDR", "mail.example.com:587", "SMTP_FROM", "sitrep@example.com"),
			[]string{"both SendGrid and SMTP"}},
		{"mattermost without a team", map[string]string{"MATTERMOST_URL": "http://127.0.0.1:1", "MATTERMOST_TOKEN": "t"}, []string{"MATTERMOST_TEAM_ID"}},
		{"teams webhook not a URL", map[string]string{"TEAMS_WEBHOOK_URL": "not a url"}, []string{"TEAMS_WEBHOOK_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := worker.CommsFromEnv(env(tt.vars), "")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
