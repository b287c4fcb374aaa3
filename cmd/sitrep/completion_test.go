package main

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/starter"
)

// servers run until stopped and print logs, not results: no --output.
var servers = []string{"worker", "serve", "sandbox", "dev"}

func TestEveryCommandHasAnExampleAndJSON(t *testing.T) {
	root := newCmdRoot(newDeps())
	walk(root, func(c *cobra.Command) {
		path := strings.TrimPrefix(c.CommandPath(), "sitrep")
		path = strings.TrimSpace(path)
		if path == "" || path == "help" || strings.HasPrefix(path, "completion") {
			return // the root and cobra's own commands
		}
		if c.Example == "" {
			t.Errorf("sitrep %s has no Example", path)
		}
		if !c.HasSubCommands() && !slices.Contains(servers, path) && c.Flags().Lookup("output") == nil {
			t.Errorf("sitrep %s has no --output", path)
		}
	})
}

// complete asks the CLI, as a shell would, to complete args; flags cobra
// offers beside (a required --as) are left out.
func complete(t *testing.T, inc Incidents, env map[string]string, args ...string) []string {
	t.Helper()
	r := sitrepEnv(t, inc, env, append([]string{cobra.ShellCompRequestCmd}, args...)...)
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if l != "" && !strings.HasPrefix(l, ":") && !strings.HasPrefix(l, "-") {
			id, _, _ := strings.Cut(l, "\t")
			out = append(out, id)
		}
	}
	return out
}

func TestCompletion(t *testing.T) {
	rows := []starter.Listed{
		{ID: "inc-checkout-0a1b2c3d4e5f6a7b", Severity: "SEV1", Service: "checkout", Summary: "5xx"},
		{ID: "inc-dns-1122334455667788", Severity: "SEV3", Service: "dns"},
	}
	t.Run("incident IDs", func(t *testing.T) {
		f := &fakeIncidents{list: rows}
		got := complete(t, f, nil, "ack", "")
		if !slices.Equal(got, []string{rows[0].ID, rows[1].ID}) || !f.filt.Open {
			t.Errorf("ack completes %v (open only: %v), want %s, %s", got, f.filt.Open, rows[0].ID, rows[1].ID)
		}
		if got := complete(t, f, nil, "update", "inc-check"); !slices.Equal(got, []string{rows[0].ID}) || !f.filt.Open {
			t.Errorf("update inc-check completes %v (open only: %v), want %s", got, f.filt.Open, rows[0].ID)
		}
		if got := complete(t, f, nil, "status", "inc-dns"); !slices.Equal(got, []string{rows[1].ID}) || f.filt.Open {
			t.Errorf("status inc-dns completes %v (open only: %v), want %s of any incident", got, f.filt.Open, rows[1].ID)
		}
	})
	c, err := catalog.Load(exampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SITREP_CATALOG": exampleCatalog}
	people := slices.Sorted(maps.Keys(c.People))
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"ack", rows[0].ID, "--as", ""}, people},
		{[]string{"test-page", ""}, people},
		{[]string{"role", rows[0].ID, "--person", ""}, people},
		{[]string{"oncall", "--service", ""}, slices.Sorted(maps.Keys(c.Services))},
		{[]string{"oncall", "--rotation", ""}, slices.Sorted(maps.Keys(c.Rotations))},
		{[]string{"drill", "--severity", ""}, []string{"SEV1", "SEV2", "SEV3", "SEV4"}},
	} {
		if got := complete(t, nil, env, tt.args...); !slices.Equal(got, tt.want) {
			t.Errorf("%v completes %v, want %v", tt.args, got, tt.want)
		}
	}
}
