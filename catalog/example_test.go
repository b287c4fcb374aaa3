package catalog

import (
	"slices"
	"testing"
	"time"
)

// The example operators copy must load, and mean what its comments say.
func TestLoadExample(t *testing.T) {
	c, err := Load("../examples/catalog.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(c.People) < 6 || len(c.Teams) != 2 || c.CatchAll != "sre" {
		t.Errorf("%d people, %d teams, catch-all %q", len(c.People), len(c.Teams), c.CatchAll)
	}

	t.Run("routes", func(t *testing.T) {
		tests := []struct {
			service, team, policy string
			tier                  int
			known                 bool
		}{
			{"checkout", "payments", "payments-critical", 1, true},
			{"payments-api", "payments", "payments-critical", 1, true},
			{"reports", "payments", "payments-default", 3, true},
			{"kubernetes", "sre", "sre-default", 1, true},
			{"something-new", "sre", "sre-default", 1, false},
		}
		for _, tt := range tests {
			r, err := c.Route(tt.service)
			if err != nil {
				t.Fatalf("Route(%s): %v", tt.service, err)
			}
			if r.Team != tt.team || r.Policy != tt.policy || r.Tier != tt.tier || r.Known != tt.known {
				t.Errorf("Route(%s) = %+v", tt.service, r)
			}
		}
	})

	t.Run("handoff", func(t *testing.T) {
		if got := c.Chain("payments-critical"); !slices.Equal(got, []string{"payments-critical", "sre-default"}) {
			t.Errorf("Chain = %v", got)
		}
		if got := len(c.Levels("payments-critical")); got != 5 {
			t.Errorf("len(Levels) = %d, want 5", got)
		}
	})

	t.Run("on call", func(t *testing.T) {
		berlin, _ := time.LoadLocation("Europe/Berlin")
		tests := []struct {
			rotation string
			at       time.Time
			want     string
		}{
			{"payments-primary", time.Date(2026, 1, 5, 9, 0, 0, 0, berlin), "alice"},
			{"payments-primary", time.Date(2026, 1, 12, 9, 0, 0, 0, berlin), "bob"},
			{"payments-primary", time.Date(2026, 2, 16, 12, 0, 0, 0, berlin), "alice"},
			{"payments-primary", time.Date(2026, 2, 17, 12, 0, 0, 0, berlin), "bob"}, // override for alice
			{"payments-primary", time.Date(2026, 2, 19, 12, 0, 0, 0, berlin), "alice"},
			{"sre-primary", time.Date(2026, 1, 12, 15, 0, 0, 0, time.UTC), "erin"},
		}
		for _, tt := range tests {
			if got, err := c.OnCall(tt.rotation, tt.at); err != nil || got != tt.want {
				t.Errorf("OnCall(%s, %s) = %q, %v; want %s", tt.rotation, tt.at, got, err, tt.want)
			}
		}
	})

	t.Run("severities", func(t *testing.T) {
		sev1 := c.Severities[SEV1]
		if got := sev1.ChannelsFor(1); !slices.Equal(got, []Channel{Voice, SMS, Chat, Email, PagerDuty}) {
			t.Errorf("SEV1 tier 1 channels = %v", got)
		}
		if sev1.UpdateCadence != 30*time.Minute || sev1.RepageAfterAck != 30*time.Minute {
			t.Errorf("SEV1 = %+v", sev1)
		}
		if got := c.Severities[SEV3].ChannelsFor(2); !slices.Equal(got, []Channel{Email, Chat}) {
			t.Errorf("SEV3 tier 2 channels = %v", got)
		}
		if got := c.Severities[SEV4].UpdateCadence; got != 0 {
			t.Errorf("SEV4 cadence = %v, want none", got)
		}
	})

	t.Run("responders", func(t *testing.T) {
		r, _ := c.Route("checkout")
		want := []string{"alice", "bob", "carol", "dave", "erin", "frank"}
		if got := c.Responders(r); !slices.Equal(got, want) {
			t.Errorf("Responders = %v, want %v", got, want)
		}
	})

	t.Run("addresses", func(t *testing.T) {
		if got, err := c.Address("carol", PagerDuty); err != nil || len(got) != 32 {
			t.Errorf("Address = %q, %v", got, err)
		}
	})
}
