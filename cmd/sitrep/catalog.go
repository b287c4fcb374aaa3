package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitrep-dev/sitrep/catalog"
)

func newCmdCatalog(d *Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Work with the on-call catalog",
		Example: `  sitrep catalog validate examples/catalog.yaml
  sitrep catalog check examples/catalog.yaml --horizon 30d`,
	}
	cmd.AddCommand(newCmdCatalogValidate(d), newCmdCatalogCheck(d))
	return cmd
}

func oneCatalogArg(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("want one catalog file or directory")
	}
	return nil
}

func newCmdCatalogValidate(d *Deps) *cobra.Command {
	var out outputFlag
	cmd := &cobra.Command{
		Use:   "validate FILE|DIR",
		Short: "Check a catalog and list every mistake with its file and line",
		Example: `  sitrep catalog validate examples/catalog.yaml
  sitrep catalog validate /etc/sitrep/catalog.d -o json`,
		Args: oneCatalogArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			c, err := catalog.Load(args[0])
			if err != nil {
				return &usageError{err.Error()}
			}
			if out.json() {
				return writeJSON(d.Out, map[string]any{"catalog": args[0], "ok": true, "people": len(c.People), "rotations": len(c.Rotations),
					"teams": len(c.Teams), "services": len(c.Services), "policies": len(c.Policies), "stakeholderGroups": len(c.StakeholderGroups)})
			}
			fmt.Fprintf(d.Out, "%s: ok: %d people, %d rotations, %d teams, %d services, %d escalation policies\n",
				args[0], len(c.People), len(c.Rotations), len(c.Teams), len(c.Services), len(c.Policies))
			return nil
		},
	}
	out.add(cmd)
	return cmd
}

// gapsFound is check's failure: the catalog is valid, but has gaps.
type gapsFound struct{ n int }

func (e *gapsFound) Error() string { return fmt.Sprintf("%d gap(s) found", e.n) }

func newCmdCatalogCheck(d *Deps) *cobra.Command {
	var out outputFlag
	var horizon, at string
	cmd := &cobra.Command{
		Use:   "check [FILE|DIR] [--horizon 30d] [--at TIME]",
		Short: "Walk the coming weeks and report the gaps an incident would fall into",
		Long: `Beyond validation: walk the catalog from --at (default now) over --horizon and
report its gaps: rotations with nobody on call, people on call (or named by a
policy) with no contact on the channels a severity calls for, services nobody
beyond the responders hears about (no stakeholder group, no status page
component), policies that page nobody beyond their first level until later
than a severity's update cadence, people on call in two rotations at once,
comms rotations with nobody.

The catalog comes from the argument, SITREP_CATALOG or examples/catalog.yaml.
Exit code 1 when gaps are found, so it can guard a catalog change in CI.`,
		Example: `  sitrep catalog check examples/catalog.yaml
  sitrep catalog check catalog.d --horizon 90d --at "2027-01-04 09:00 Europe/Berlin"
  sitrep catalog check -o json | jq '.gaps[].kind'`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("want at most one catalog file or directory")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			span, err := parseHorizon(horizon)
			if err != nil {
				return err
			}
			from := d.Now()
			if at != "" {
				if from, err = parseAt(at); err != nil {
					return err
				}
			}
			path := defaultCatalog(d, "")
			if len(args) == 1 {
				path = args[0]
			}
			c, err := catalog.Load(path)
			if err != nil {
				return &usageError{err.Error()}
			}
			to := from.Add(span)
			gaps := c.Check(from, to)
			if out.json() {
				if err := writeJSON(d.Out, struct {
					Catalog string        `json:"catalog"`
					From    time.Time     `json:"from"`
					To      time.Time     `json:"to"`
					Gaps    []catalog.Gap `json:"gaps"`
				}{path, from, to, append([]catalog.Gap{}, gaps...)}); err != nil {
					return err
				}
			} else {
				writeGaps(d, path, from, to, gaps)
			}
			if len(gaps) > 0 {
				return &gapsFound{len(gaps)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&horizon, "horizon", "30d", "how far ahead to walk: days (30d) or a Go duration (36h)")
	cmd.Flags().StringVar(&at, "at", "", `where to start: "2026-12-05 03:00 Europe/Berlin" (default now)`)
	out.add(cmd)
	return cmd
}

func writeGaps(d *Deps, path string, from, to time.Time, gaps []catalog.Gap) {
	const layout = "2006-01-02 15:04 MST"
	if len(gaps) == 0 {
		fmt.Fprintf(d.Out, "%s: no gaps from %s to %s\n", path, from.Format(layout), to.Format(layout))
		return
	}
	fmt.Fprintf(d.Out, "%s: %d gap(s) from %s to %s\n", path, len(gaps), from.Format(layout), to.Format(layout))
	tw := tabwriter.NewWriter(d.Out, 0, 4, 2, ' ', 0)
	for _, g := range gaps {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", g.Kind, g.Subject, g.Text)
	}
	_ = tw.Flush() // d.Out is the command's stdout: nothing to do if it fails
}

// parseHorizon reads "30d", "1d12h" or a Go duration.
func parseHorizon(s string) (time.Duration, error) {
	d, err := parseSince(s)
	if err != nil {
		return 0, usagef("--horizon %q: want a positive number of days (30d) or a duration (36h, 1d12h)", s)
	}
	return d, nil
}
