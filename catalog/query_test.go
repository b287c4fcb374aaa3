package catalog

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const queryCatalog = `
catch_all: core
people:
  - handle: ann
    contacts: [{voice: "+15550100001"}, {sms: "+15550100001"}, {chat: U1}, {email: ann@example.com}]
  - handle: ben
    contacts: [{chat: U2}, {email: ben@example.com}]
  - handle: cat
    contacts: [{email: cat@example.com}]
  - handle: dan
    contacts: [{pagerduty: 0123456789abcdef0123456789abcdef}, {sms: "+15550100004"}]
  - handle: eve
    contacts: [{sms: "+15550100005"}]
  - handle: mgr
    contacts: [{email: mgr@example.com}]
  - handle: sub
    contacts: [{sms: "+15550100007"}]
  - handle: ops1
    contacts: [{sms: "+15550100008"}]
rotations:
  - name: primary
    members: [ann, ben]
    shift: weekly
    handoff_time: "09:00"
    timezone: UTC
    start: 2026-01-05
    overrides:
      - {person: sub, start: 2026-02-02 09:00, end: 2026-02-03 09:00}
  - name: ops-rota
    members: [ops1]
    shift: daily
    handoff_time: "09:00"
    timezone: UTC
    start: 2026-01-05
teams:
  - name: core
    rotation: primary
    policy: main
    members: [ben, cat, ann]
    managers: [mgr]
  - name: ops
    rotation: ops-rota
    members: [ops1]
services:
  - name: web
    team: core
    tier: 2
    stakeholder_groups: [staff]
  - name: api
    team: core
    tier: 1
    policy: lonely
  - name: batch
    team: ops
    tier: 3
    policy: lonely
escalation_policies:
  - name: main
    levels:
      - targets: [{rotation: primary}, {person: ann}]
        delay: 1m
      - targets: [{team: core}, {person: dan}, {person: cat}]
        delay: 2m
    repeat: 2
    fallback: mgr
    handoff: backup
  - name: backup
    levels:
      - targets: [{person: eve}]
        delay: 30s
    repeat: 5
    fallback: eve
    handoff: last
  - name: last
    levels:
      - targets: [{rotation: ops-rota}]
        delay: 30s
  - name: lonely
    levels:
      - targets: [{person: dan}]
        delay: 10s
severities:
  SEV1: {channels: {1: [voice, sms, chat, pagerduty], 2: [sms, chat], 3: [chat]}, update_cadence: 30m, repage_after_ack: 30m}
  SEV2: {channels: {1: [sms], 2: [sms], 3: [sms]}, update_cadence: 1h}
  SEV3: {channels: {1: [email, chat], 2: [email, chat], 3: [email, chat]}, update_cadence: 4h}
  SEV4: {channels: {1: [email], 2: [email], 3: [email]}, update_cadence: none}
stakeholder_groups:
  - {name: staff, audience: internal, emails: [staff@example.com]}
`

func queryTestCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := Parse("query.yaml", []byte(queryCatalog))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestRecipients(t *testing.T) {
	c := queryTestCatalog(t)
	week1 := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC)  // ann on call
	week2 := time.Date(2026, 1, 14, 12, 0, 0, 0, time.UTC) // ben on call
	override := time.Date(2026, 2, 2, 12, 0, 0, 0, time.UTC)
	loud := []Channel{SMS, Voice}
	quiet := []Channel{Email, Chat}
	tests := []struct {
		name     string
		policy   string
		level    int
		at       time.Time
		channels []Channel
		want     []Recipient
	}{
		{"rotation and person deduplicated, channels in the person's order", "main", 0, week1, loud, []Recipient{
			{Person: "ann", Channels: []Channel{Voice, SMS}, Fallback: []Channel{Chat, Email}},
		}},
		{"rotation resolved at the time asked", "main", 0, week2, loud, []Recipient{
			{Person: "ben", Channels: []Channel{Chat}, Fallback: []Channel{Email}}, // none wanted: first contact
			{Person: "ann", Channels: []Channel{Voice, SMS}, Fallback: []Channel{Chat, Email}},
		}},
		{"rotation override", "main", 0, override, loud, []Recipient{
			{Person: "sub", Channels: []Channel{SMS}},
			{Person: "ann", Channels: []Channel{Voice, SMS}, Fallback: []Channel{Chat, Email}},
		}},
		{"team members in team order, then persons, deduplicated", "main", 1, week1, quiet, []Recipient{
			{Person: "ben", Channels: []Channel{Chat, Email}},
			{Person: "cat", Channels: []Channel{Email}},
			{Person: "ann", Channels: []Channel{Chat, Email}, Fallback: []Channel{Voice, SMS}},
			{Person: "dan", Channels: []Channel{PagerDuty}, Fallback: []Channel{SMS}}, // none wanted: first contact
		}},
		{"all channels wanted", "main", 1, week1, []Channel{PagerDuty, Email, Chat, SMS, Voice}, []Recipient{
			{Person: "ben", Channels: []Channel{Chat, Email}},
			{Person: "cat", Channels: []Channel{Email}},
			{Person: "ann", Channels: []Channel{Voice, SMS, Chat, Email}},
			{Person: "dan", Channels: []Channel{PagerDuty, SMS}},
		}},
		{"no channels wanted", "lonely", 0, week1, nil, []Recipient{
			{Person: "dan", Channels: []Channel{PagerDuty}, Fallback: []Channel{SMS}},
		}},
		{"handoff chain: first level of the handoff", "main", 2, week1, loud, []Recipient{
			{Person: "eve", Channels: []Channel{SMS}},
		}},
		{"handoff chain: the handoff's handoff", "main", 3, week1, loud, []Recipient{
			{Person: "ops1", Channels: []Channel{SMS}},
		}},
		{"a handoff policy on its own", "backup", 0, week1, loud, []Recipient{
			{Person: "eve", Channels: []Channel{SMS}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Recipients(tt.policy, tt.level, tt.at, tt.channels)
			if err != nil {
				t.Fatalf("Recipients: %v", err)
			}
			if !slices.EqualFunc(got, tt.want, func(a, b Recipient) bool {
				return a.Person == b.Person && slices.Equal(a.Channels, b.Channels) && slices.Equal(a.Fallback, b.Fallback)
			}) {
				t.Errorf("Recipients(%s, %d):\n got %+v\nwant %+v", tt.policy, tt.level, got, tt.want)
			}
		})
	}

	errTests := []struct {
		name   string
		policy string
		level  int
		at     time.Time
		want   string
	}{
		{"level past the chain", "main", 4, week1, `recipients: policy "main" has no level 4 (it has 4)`},
		{"level past a short policy", "lonely", 1, week1, `recipients: policy "lonely" has no level 1 (it has 1)`},
		{"negative level", "main", -1, week1, `recipients: policy "main" has no level -1 (it has 4)`},
		{"unknown policy", "nope", 0, week1, `recipients: unknown policy "nope"`},
		{"rotation before its start", "main", 0, time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), `recipients: on call: rotation "primary" starts`},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Recipients(tt.policy, tt.level, tt.at, loud)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestChainAndLevels(t *testing.T) {
	c := queryTestCatalog(t)
	tests := []struct {
		policy string
		chain  []string
		delays []time.Duration
	}{
		{"main", []string{"main", "backup", "last"}, []time.Duration{time.Minute, 2 * time.Minute, 30 * time.Second, 30 * time.Second}},
		{"backup", []string{"backup", "last"}, []time.Duration{30 * time.Second, 30 * time.Second}},
		{"lonely", []string{"lonely"}, []time.Duration{10 * time.Second}},
		{"nope", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			if got := c.Chain(tt.policy); !slices.Equal(got, tt.chain) {
				t.Errorf("Chain = %v, want %v", got, tt.chain)
			}
			var delays []time.Duration
			for _, l := range c.Levels(tt.policy) {
				delays = append(delays, l.Delay)
			}
			if !slices.Equal(delays, tt.delays) {
				t.Errorf("Levels delays = %v, want %v", delays, tt.delays)
			}
		})
	}
	t.Run("cycle in a hand-built catalog", func(t *testing.T) {
		hand := &Catalog{Policies: map[string]*Policy{
			"a": {Name: "a", Handoff: "b", Levels: []Level{{Delay: time.Second}}},
			"b": {Name: "b", Handoff: "a", Levels: []Level{{Delay: time.Minute}}},
		}}
		if got := hand.Chain("a"); !slices.Equal(got, []string{"a", "b"}) {
			t.Errorf("Chain = %v, want [a b]", got)
		}
		if got := len(hand.Levels("b")); got != 2 {
			t.Errorf("len(Levels) = %d, want 2", got)
		}
	})
}

func TestRoute(t *testing.T) {
	c := queryTestCatalog(t)
	tests := []struct {
		service string
		want    Route
	}{
		{"web", Route{Service: "web", Known: true, Team: "core", Policy: "main", Tier: 2, StakeholderGroups: []string{"staff"}}},
		{"api", Route{Service: "api", Known: true, Team: "core", Policy: "lonely", Tier: 1}},
		{"mystery", Route{Service: "mystery", Known: false, Team: "core", Policy: "main", Tier: 1}},
		{"", Route{Service: "", Known: false, Team: "core", Policy: "main", Tier: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			got, err := c.Route(tt.service)
			if err != nil {
				t.Fatalf("Route: %v", err)
			}
			if got.Service != tt.want.Service || got.Known != tt.want.Known || got.Team != tt.want.Team ||
				got.Policy != tt.want.Policy || got.Tier != tt.want.Tier || !slices.Equal(got.StakeholderGroups, tt.want.StakeholderGroups) {
				t.Errorf("Route = %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("no catch-all", func(t *testing.T) {
		hand := &Catalog{}
		if _, err := hand.Route("x"); err == nil || err.Error() != `route "x": unknown service and no catch-all team` {
			t.Errorf("error %v", err)
		}
		hand.CatchAll = "gone"
		if _, err := hand.Route("x"); err == nil || err.Error() != `route "x": unknown catch-all team "gone"` {
			t.Errorf("error %v", err)
		}
	})
	t.Run("route does not share the catalog's slices", func(t *testing.T) {
		r, _ := c.Route("web")
		r.StakeholderGroups[0] = "changed"
		if c.Services["web"].StakeholderGroups[0] != "staff" {
			t.Error("Route returned the catalog's own slice")
		}
	})
}

func TestResponders(t *testing.T) {
	c := queryTestCatalog(t)
	tests := []struct {
		name  string
		route Route
		want  []string
	}{
		// core members and manager, rotation members and override, main's chain
		// (dan, cat, eve via backup, ops1 via last's rotation) and main's fallback.
		{"team default policy with handoffs", Route{Team: "core", Policy: "main"},
			[]string{"ann", "ben", "cat", "dan", "eve", "mgr", "ops1", "sub"}},
		{"service policy", Route{Team: "ops", Policy: "lonely"}, []string{"dan", "ops1"}},
		{"unknown team and policy", Route{Team: "nope", Policy: "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Responders(tt.route); !slices.Equal(got, tt.want) {
				t.Errorf("Responders = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAddress(t *testing.T) {
	c := queryTestCatalog(t)
	tests := []struct {
		person  string
		channel Channel
		want    string
		wantErr string
	}{
		{"ann", SMS, "+15550100001", ""},
		{"ann", Email, "ann@example.com", ""},
		{"dan", PagerDuty, "0123456789abcdef0123456789abcdef", ""},
		{"cat", Voice, "", `address: person "cat" has no voice contact`},
		{"zoe", SMS, "", `address: unknown person "zoe"`},
	}
	for _, tt := range tests {
		t.Run(tt.person+"/"+string(tt.channel), func(t *testing.T) {
			got, err := c.Address(tt.person, tt.channel)
			switch {
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("error %v, want %q", err, tt.wantErr)
			case tt.wantErr == "" && (err != nil || got != tt.want):
				t.Errorf("Address = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestChannelsFor(t *testing.T) {
	full := &SeverityPolicy{Channels: map[int][]Channel{1: {Voice, SMS}, 2: {SMS}, 3: {Email}}}
	gappy := &SeverityPolicy{Channels: map[int][]Channel{1: {Voice}, 3: {Email}}}
	tests := []struct {
		name string
		sp   *SeverityPolicy
		tier int
		want []Channel
	}{
		{"exact tier 1", full, 1, []Channel{Voice, SMS}},
		{"exact tier 3", full, 3, []Channel{Email}},
		{"gap uses the tier below", gappy, 2, []Channel{Voice}},
		{"past the last tier", full, 4, []Channel{Email}},
		{"before the first tier", full, 0, []Channel{Voice, SMS}},
		{"empty", &SeverityPolicy{}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sp.ChannelsFor(tt.tier); !slices.Equal(got, tt.want) {
				t.Errorf("ChannelsFor(%d) = %v, want %v", tt.tier, got, tt.want)
			}
		})
	}
}
