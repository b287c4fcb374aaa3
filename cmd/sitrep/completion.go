package main

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/starter"
)

// addHelp gives every command under root what helps a person type it:
// shell completion of incident IDs (from Temporal's list) and of catalog
// names (handles, services, teams, rotations), and an Example section where
// its constructor wrote none. `sitrep completion bash|zsh|fish|powershell`
// (cobra's) prints the script that uses them.
func addHelp(root *cobra.Command, d *Deps) {
	walk(root, func(c *cobra.Command) {
		path := strings.TrimPrefix(c.CommandPath(), "sitrep ")
		if c.Example == "" {
			c.Example = examples[path]
		}
		switch path {
		case "ack", "escalate", "mitigate", "resolve", "role", "update", "merge":
			c.ValidArgsFunction = incidentIDs(d, true)
		case "status", "postmortem approve", "postmortem edit", "postmortem reject", "postmortem show", "postmortem submit",
			"actions add", "actions list":
			c.ValidArgsFunction = incidentIDs(d, false)
		case "test-page":
			c.ValidArgsFunction = func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return catalogNames(d, cmd, func(c *catalog.Catalog) []string { return slices.Sorted(maps.Keys(c.People)) })
			}
		}
		if c.Flags().Lookup("into") != nil {
			// The target: an open incident, completed as the positional one is.
			_ = c.RegisterFlagCompletionFunc("into", func(cmd *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return incidentIDs(d, true)(cmd, nil, prefix)
			}) // registered once per command: cannot fail
		}
		flag := func(name string, names func(*catalog.Catalog) []string) {
			if c.Flags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
					return catalogNames(d, cmd, names)
				}) // registered once per command: cannot fail
			}
		}
		people := func(c *catalog.Catalog) []string { return slices.Sorted(maps.Keys(c.People)) }
		flag("as", people)
		flag("by", people)
		flag("ack-by", people)
		flag("person", people)
		flag("owner", people)
		asDefault(c, d)
		flag("service", func(c *catalog.Catalog) []string { return slices.Sorted(maps.Keys(c.Services)) })
		flag("team", func(c *catalog.Catalog) []string { return slices.Sorted(maps.Keys(c.Teams)) })
		flag("rotation", func(c *catalog.Catalog) []string { return slices.Sorted(maps.Keys(c.Rotations)) })
		if c.Flags().Lookup("severity") != nil {
			_ = c.RegisterFlagCompletionFunc("severity", cobra.FixedCompletions([]cobra.Completion{"SEV1", "SEV2", "SEV3", "SEV4"}, cobra.ShellCompDirectiveNoFileComp))
		}
		if c.Flags().Lookup("output") != nil && path != "report" {
			_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]cobra.Completion{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
		}
	})
}

// asDefault makes SITREP_AS the default of c's --as, when it has one that
// no constructor gave a default: set, the flag is no longer required.
func asDefault(c *cobra.Command, d *Deps) {
	f := c.Flags().Lookup("as")
	if f == nil {
		return
	}
	if !strings.Contains(f.Usage, "$SITREP_AS") {
		f.Usage += " (default $SITREP_AS)"
	}
	as := getenv(d, "SITREP_AS")
	if as == "" || f.Value.String() != "" {
		return
	}
	_ = f.Value.Set(as) // a string flag: cannot fail
	f.DefValue = as
	delete(f.Annotations, cobra.BashCompOneRequiredFlag)
}

func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		walk(sub, f)
	}
}

// incidentIDs completes an incident ID from Temporal's list, open ones only
// when open; nothing when Temporal does not answer within a second or two.
func incidentIDs(d *Deps, open bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		inc, closeFn, err := d.Incidents(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer closeFn()
		rows, err := inc.List(ctx, starter.ListFilter{Open: open, Limit: 100})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, r := range rows {
			if strings.HasPrefix(r.ID, prefix) {
				out = append(out, cobra.CompletionWithDesc(r.ID, strings.TrimSpace(r.Severity+" "+r.Service+": "+oneLine(r.Summary, 50))))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// catalogNames completes from the catalog the command would read: its
// --catalog flag, SITREP_CATALOG or the example.
func catalogNames(d *Deps, cmd *cobra.Command, names func(*catalog.Catalog) []string) ([]cobra.Completion, cobra.ShellCompDirective) {
	path := ""
	if f := cmd.Flags().Lookup("catalog"); f != nil {
		path = f.Value.String()
	}
	c, err := catalog.Load(defaultCatalog(d, path))
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return names(c), cobra.ShellCompDirectiveNoFileComp
}

// examples are the Example sections of commands whose constructors have
// none, by command path.
var examples = map[string]string{
	"alert": `  sitrep alert --service checkout --severity SEV1 --summary "5xx above 5%"
  sitrep alert --service checkout --severity SEV2 --summary "p99 above 2s" --dedup-key checkout-latency --link https://grafana.example.com/d/1`,
	"declare": `  sitrep declare --service checkout --severity SEV2 --summary "customers cannot pay" --source external --reporter "support: ticket 4411"`,
	"ack": `  sitrep ack inc-checkout-0a1b2c3d4e5f6a7b --as alice
  SITREP_AS=alice sitrep ack inc-checkout-0a1b2c3d4e5f6a7b`,
	"escalate": `  sitrep escalate inc-checkout-0a1b2c3d4e5f6a7b --as alice`,
	"mitigate": `  sitrep mitigate inc-checkout-0a1b2c3d4e5f6a7b --by alice --note "rolled back 1.42"`,
	"resolve":  `  sitrep resolve inc-checkout-0a1b2c3d4e5f6a7b --by alice --note "root cause fixed in 1.43"`,
	"status": `  sitrep status inc-checkout-0a1b2c3d4e5f6a7b
  sitrep status inc-checkout-0a1b2c3d4e5f6a7b -o json | jq .phase`,
	"worker": `  sitrep worker --catalog examples/catalog.yaml
  SITREP_CATALOG=/etc/sitrep/catalog.d sitrep worker --metrics-addr 127.0.0.1:9091`,
	"serve":   `  sitrep serve --addr :8080 --catalog examples/catalog.yaml`,
	"sandbox": `  sitrep sandbox --intake http://localhost:8080 --catalog examples/catalog.yaml`,
	"dev":     `  sitrep dev`,
	"postmortem": `  sitrep postmortem list --overdue
  sitrep postmortem submit inc-checkout-0a1b2c3d4e5f6a7b --file pm.yaml --as carol
  sitrep postmortem approve inc-checkout-0a1b2c3d4e5f6a7b --as frank`,
	"postmortem approve": `  sitrep postmortem approve inc-checkout-0a1b2c3d4e5f6a7b --as frank`,
	"postmortem edit":    `  sitrep postmortem edit inc-checkout-0a1b2c3d4e5f6a7b --file pm.yaml --as carol`,
	"postmortem list": `  sitrep postmortem list
  sitrep postmortem list --overdue -o json`,
	"postmortem reject": `  sitrep postmortem reject inc-checkout-0a1b2c3d4e5f6a7b --as frank --comment "say what customers could not do, not which pod crashed"`,
	"postmortem show":   `  sitrep postmortem show inc-checkout-0a1b2c3d4e5f6a7b`,
	"postmortem submit": `  sitrep postmortem submit inc-checkout-0a1b2c3d4e5f6a7b --file examples/postmortem.yaml --as carol
  sitrep postmortem submit inc-checkout-0a1b2c3d4e5f6a7b --file - --as carol < pm.yaml`,
	"actions": `  sitrep actions list inc-checkout-0a1b2c3d4e5f6a7b
  sitrep actions add inc-checkout-0a1b2c3d4e5f6a7b --title "alert on checkout 5xx" --owner bob --due 2026-12-19 --as carol`,
	"actions add": `  sitrep actions add inc-checkout-0a1b2c3d4e5f6a7b --title "alert on checkout 5xx" --owner bob --due 2026-12-19 --as carol
  sitrep actions add inc-checkout-0a1b2c3d4e5f6a7b --title "load test the new pool" --owner alice --due 2027-01-15 --priority Highest --as carol`,
	"actions list": `  sitrep actions list inc-checkout-0a1b2c3d4e5f6a7b -o json`,
	"learnings": `  sitrep learnings --since 30d
  sitrep learnings --since 2026-01-01 -o json`,
	"report": `  sitrep report --since 30d
  sitrep report --service checkout --since 90d --html report.html`,
}
