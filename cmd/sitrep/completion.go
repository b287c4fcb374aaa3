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
		case "ack", "escalate", "mitigate", "resolve", "role", "update":
			c.ValidArgsFunction = incidentIDs(d, true)
		case "status":
			c.ValidArgsFunction = incidentIDs(d, false)
		case "test-page":
			c.ValidArgsFunction = func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return catalogNames(d, cmd, func(c *catalog.Catalog) []string { return slices.Sorted(maps.Keys(c.People)) })
			}
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
	"report": `  sitrep report --since 30d
  sitrep report --service checkout --since 90d --html report.html`,
}
