package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/acklink"
	"github.com/sitrep-dev/sitrep/starter"
)

func TestCLIOnCall(t *testing.T) {
	c, err := catalog.Load(exampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	at, _ := parseAt(drillAt)
	route, _ := c.Route("checkout")

	t.Run("service", func(t *testing.T) {
		r := sitrep(t, nil, "oncall", "--catalog", exampleCatalog, "--service", "checkout", "--at", drillAt, "-o", "json")
		var rows []onCallRow
		if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || r.code != 0 {
			t.Fatalf("exit %d, %v in %q", r.code, err, r.stdout)
		}
		// Every rotation the checkout policy pages, and the team's comms rotation.
		var want []string
		for _, l := range c.Levels(route.Policy) {
			for _, tg := range l.Targets {
				if tg.Kind == catalog.TargetRotation {
					want = append(want, tg.Name)
				}
			}
		}
		want = append(want, c.Teams[route.Team].CommsRotation)
		if len(rows) != len(want) {
			t.Fatalf("rows %+v, want rotations %v", rows, want)
		}
		for i, row := range rows {
			who, _ := c.OnCall(want[i], at)
			next, _ := c.OnCall(want[i], row.Now.End)
			before, _ := c.OnCall(want[i], row.Now.Start.Add(-1))
			if row.Rotation != want[i] || row.Now.Person != who || row.Next == nil || row.Next.Person != next || before == who ||
				row.Now.Start.After(at) || !row.Now.End.After(at) {
				t.Errorf("row %d: %+v next %+v; want %s on call for %s at %s, then %s", i, row, row.Next, who, want[i], at, next)
			}
		}
	})
	t.Run("table", func(t *testing.T) {
		rot := c.Teams[route.Team].Rotation
		r := sitrep(t, nil, "oncall", "--catalog", exampleCatalog, "--rotation", rot, "--at", drillAt)
		now, next, _ := c.OnCallNow(rot, at)
		loc := c.Rotations[rot].Location
		line := strings.Join([]string{rot, "on call", now.Person, now.Start.In(loc).Format(shiftLayout), now.End.In(loc).Format(shiftLayout), next.Person}, " ")
		if r.code != 0 || !strings.Contains(strings.Join(strings.Fields(r.stdout), " "), strings.Join(strings.Fields(line), " ")) {
			t.Errorf("exit %d\n%s\nwant a line %q", r.code, r.stdout, line)
		}
	})
	t.Run("feed url", func(t *testing.T) {
		const key = "0123456789abcdef0123456789abcdef"
		env := map[string]string{"SITREP_ACK_KEYS": key, "SITREP_PUBLIC_URL": "https://sitrep.example.com/"}
		signer, err := acklink.New("https://sitrep.example.com", time.Hour, []byte(key))
		if err != nil {
			t.Fatal(err)
		}
		r := sitrepEnv(t, nil, env, "oncall", "--catalog", exampleCatalog, "--feed-url", "alice")
		if want := starter.FeedURL(signer, "alice") + "\n"; r.code != 0 || r.stdout != want {
			t.Errorf("exit %d, %q (%s); want %q", r.code, r.stdout, r.stderr, want)
		}
		for _, tt := range []struct {
			env  map[string]string
			who  string
			want string
		}{
			{nil, "alice", "SITREP_ACK_KEYS is not set"},
			{map[string]string{"SITREP_ACK_KEYS": key}, "alice", "SITREP_PUBLIC_URL and SITREP_ACK_KEYS go together"},
			{env, "nobody", `--feed-url "nobody": not a person in the catalog`},
		} {
			r := sitrepEnv(t, nil, tt.env, "oncall", "--catalog", exampleCatalog, "--feed-url", tt.who)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, exitUsage, tt.want)
			}
		}
	})
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown team", []string{"--team", "nope"}, `--team "nope": no such team (teams: payments, sre)`},
		{"unknown rotation", []string{"--rotation", "nope"}, `--rotation "nope": no such rotation`},
		{"unknown service", []string{"--service", "nope"}, `--service "nope": not in the catalog`},
		{"two at once", []string{"--team", "sre", "--service", "dns"}, "none of the others can be"},
		{"bad time", []string{"--at", "noon"}, `--at "noon"`},
		{"an argument", []string{"alice"}, `unknown command "alice"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := sitrep(t, nil, append([]string{"oncall", "--catalog", exampleCatalog}, tt.args...)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, exitUsage, tt.want)
			}
		})
	}
}
