package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
)

const gapsCatalog = "../../catalog/testdata/gaps.yaml"

func TestCLICatalogCheck(t *testing.T) {
	at := "2026-12-01 09:30 UTC"
	from, _ := parseAt(at)
	fixture, err := catalog.Load(gapsCatalog)
	if err != nil {
		t.Fatal(err)
	}
	want := fixture.Check(from, from.Add(30*24*time.Hour))

	t.Run("gaps exit 1 and are listed", func(t *testing.T) {
		r := sitrep(t, nil, "catalog", "check", gapsCatalog, "--at", at)
		if r.code != exitError || !strings.Contains(r.stderr, "gap(s) found") {
			t.Errorf("exit %d, stderr %q; want exit %d", r.code, r.stderr, exitError)
		}
		for _, g := range want {
			if !strings.Contains(r.stdout, string(g.Kind)) || !strings.Contains(r.stdout, g.Text) {
				t.Errorf("output lacks %s: %s\n%s", g.Kind, g.Text, r.stdout)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		r := sitrep(t, nil, "catalog", "check", gapsCatalog, "--at", at, "-o", "json")
		var got struct {
			From, To time.Time
			Gaps     []catalog.Gap
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("%v in %q", err, r.stdout)
		}
		if r.code != exitError || len(got.Gaps) != len(want) || !got.From.Equal(from) || !got.To.Equal(from.Add(30*24*time.Hour)) {
			t.Errorf("exit %d, %d gaps from %s to %s; want exit 1, %d gaps over 30 days from %s", r.code, len(got.Gaps), got.From, got.To, len(want), from)
		}
	})
	t.Run("the example has none", func(t *testing.T) {
		r := sitrep(t, nil, "catalog", "check", exampleCatalog, "--horizon", "90d")
		if r.code != 0 || !strings.Contains(r.stdout, "no gaps") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("horizon", func(t *testing.T) {
		r := sitrep(t, nil, "catalog", "check", gapsCatalog, "--at", at, "--horizon", "36h", "-o", "json")
		var got struct{ To time.Time }
		_ = json.Unmarshal([]byte(r.stdout), &got)
		if !got.To.Equal(from.Add(36 * time.Hour)) {
			t.Errorf("--horizon 36h ends at %s, want %s", got.To, from.Add(36*time.Hour))
		}
	})
	for _, tt := range []struct{ name, want string }{
		{"--horizon=30x", `--horizon "30x"`},
		{"--horizon=-3d", `--horizon "-3d"`},
		{"--at=someday", `--at "someday"`},
		{"--output=yaml", "--output must be text or json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := sitrep(t, nil, "catalog", "check", gapsCatalog, tt.name)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, exitUsage, tt.want)
			}
		})
	}
}

func TestCLICatalogValidateJSON(t *testing.T) {
	r := sitrep(t, nil, "catalog", "validate", exampleCatalog, "-o", "json")
	c, _ := catalog.Load(exampleCatalog)
	var got struct {
		OK                bool
		People, Services  int
		StakeholderGroups int
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v in %q", err, r.stdout)
	}
	if r.code != 0 || !got.OK || got.People != len(c.People) || got.Services != len(c.Services) || got.StakeholderGroups != len(c.StakeholderGroups) {
		t.Errorf("exit %d, %+v", r.code, got)
	}
}
