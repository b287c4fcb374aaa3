package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/drill"
	"github.com/sitrep-dev/sitrep/workflows"
)

// DrillOptions are the flags of `sitrep drill`.
type DrillOptions struct {
	Service, Severity, Source string
	Summary                   string
	At                        string
	AckAfter                  time.Duration
	AckBy                     string
	NoAck                     bool
	MitigateAfter             time.Duration
	ResolveAfter              time.Duration
	For                       time.Duration
	Catalog                   string
	Compare                   string
	HTML                      string
	Verbose                   bool
	Output                    outputFlag
}

// defaultCatalog is where a catalog comes from when no flag names one:
// SITREP_CATALOG, else the example catalog.
func defaultCatalog(d *Deps, flag string) string {
	return orDefault(flag, orDefault(d.Getenv("SITREP_CATALOG"), "examples/catalog.yaml"))
}

func newCmdDrill(d *Deps, runF func(*DrillOptions) error) *cobra.Command {
	o := &DrillOptions{}
	cmd := &cobra.Command{
		Use:   "drill --service S --severity SEV1 [--at TIME] [--ack-after D | --no-ack] [--mitigate-after D] [--resolve-after D]",
		Short: "Play an incident out in skipped time against the catalog, and print who hears what when",
		Long: `Run the real incident workflows in Temporal's test environment with skipped
time, against the catalog, with every provider replaced by a recorder, and
print the plan as it played out: every message with its offset, its wall time
in the zone of --at, who got it, on which channel, and what it was (page,
escalation, fallback, …), then the incident's timeline.

Nothing is sent and no Temporal server is needed; a day of incident takes a
fraction of a second. The catalog comes from --catalog, SITREP_CATALOG or
examples/catalog.yaml; templates from SITREP_TEMPLATES as the worker reads them.

--at takes "2006-01-02 15:04", optionally followed by an IANA zone
("2026-12-05 03:00 Europe/Berlin"), or RFC 3339; without a zone, local time.
Without --ack-after nobody acknowledges. A drill nothing resolves ends after
--for (default 24h).`,
		Example: `  # Who gets woken if checkout breaks on Saturday at 3 a.m.?
  sitrep drill --service checkout --severity SEV1 --at "2026-12-05 03:00 Europe/Berlin"

  # Someone answers after 7 minutes; it is fixed an hour in
  sitrep drill --service checkout --severity SEV1 --ack-after 7m --mitigate-after 40m --resolve-after 1h

  # What does a catalog change do to the same incident?
  sitrep drill --service checkout --severity SEV1 --catalog examples/catalog.yaml --compare new-catalog.yaml

  # A page to share, with every message's text
  sitrep drill --service checkout --severity SEV1 --verbose --html drill.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, off := range []struct {
				name string
				d    time.Duration
			}{{"ack-after", o.AckAfter}, {"mitigate-after", o.MitigateAfter}, {"resolve-after", o.ResolveAfter}} {
				if cmd.Flags().Changed(off.name) && off.d <= 0 {
					return usagef("--%s must be positive, not %s", off.name, off.d)
				}
			}
			if runF != nil {
				return runF(o)
			}
			return drillRun(d, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Service, "service", "", "the service that breaks, as the catalog names it")
	f.StringVar(&o.Severity, "severity", "", "SEV1 (worst) to SEV4")
	f.StringVar(&o.Summary, "summary", "", `what the alert says (default "drill: SERVICE SEVERITY")`)
	f.StringVar(&o.Source, "source", "monitoring", "who noticed: monitoring, internal or external")
	f.StringVar(&o.At, "at", "", `when the alert fires: "2026-12-05 03:00 Europe/Berlin" (default now)`)
	f.DurationVar(&o.AckAfter, "ack-after", 0, "acknowledge this long after the alert (default: nobody acknowledges)")
	f.StringVar(&o.AckBy, "ack-by", "", "who acknowledges (default: the first person paged)")
	f.BoolVar(&o.NoAck, "no-ack", false, "nobody acknowledges (the default; says so explicitly)")
	f.DurationVar(&o.MitigateAfter, "mitigate-after", 0, "mark it mitigated this long after the alert")
	f.DurationVar(&o.ResolveAfter, "resolve-after", 0, "resolve it this long after the alert")
	f.DurationVar(&o.For, "for", drill.DefaultHorizon, "how long to play an incident nothing resolves")
	f.StringVar(&o.Catalog, "catalog", "", "catalog file or directory (default $SITREP_CATALOG, else examples/catalog.yaml)")
	f.StringVar(&o.Compare, "compare", "", "another catalog: run the same drill on it and print what differs")
	f.StringVar(&o.HTML, "html", "", "also write the drill as a self-contained HTML page to this file")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "print every message's rendered text")
	o.Output.add(cmd)
	for _, name := range []string{"service", "severity"} {
		_ = cmd.MarkFlagRequired(name) // the flags exist: cannot fail
	}
	cmd.MarkFlagsMutuallyExclusive("ack-after", "no-ack")
	cmd.MarkFlagsMutuallyExclusive("ack-by", "no-ack")
	return cmd
}

func drillRun(d *Deps, o *DrillOptions) error {
	if err := o.Output.check(); err != nil {
		return err
	}
	if o.For <= 0 {
		return usagef("--for must be positive, not %s", o.For)
	}
	start := d.Now()
	if o.At != "" {
		var err error
		if start, err = parseAt(o.At); err != nil {
			return err
		}
	}
	tmpl, err := activities.LoadTemplates(d.Getenv("SITREP_TEMPLATES"))
	if err != nil {
		return &usageError{fmt.Sprintf("SITREP_TEMPLATES: %v", err)}
	}
	opts := drill.Options{Service: o.Service, Severity: catalog.Severity(strings.ToUpper(o.Severity)),
		Source: workflows.Source(o.Source), Summary: o.Summary, Start: start, AckAfter: o.AckAfter, AckBy: o.AckBy,
		MitigateAfter: o.MitigateAfter, ResolveAfter: o.ResolveAfter, Horizon: o.For, Templates: tmpl}
	path := defaultCatalog(d, o.Catalog)
	res, err := drillOn(d, path, opts)
	if err != nil {
		return err
	}
	if o.Compare != "" {
		other, err := drillOn(d, o.Compare, opts)
		if err != nil {
			return err
		}
		return writeComparison(d, o, path, res, other)
	}
	if o.HTML != "" {
		if err := writeDrillHTML(o.HTML, res, o.Verbose); err != nil {
			return err
		}
	}
	if o.Output.json() {
		return writeJSON(d.Out, res)
	}
	return res.WriteText(d.Out, o.Verbose)
}

// drillOn runs the drill against the catalog at path.
func drillOn(d *Deps, path string, opts drill.Options) (*drill.Result, error) {
	c, err := catalog.Load(path)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	opts.Catalog = c
	if _, ok := c.Services[opts.Service]; !ok && c.CatchAll != "" {
		fmt.Fprintf(d.Err, "sitrep: %s: service %q is not in the catalog: its alerts go to the catch-all team %s\n", path, opts.Service, c.CatchAll)
	}
	res, err := drill.Run(opts)
	if errors.Is(err, drill.ErrInvalid) {
		return nil, &usageError{err.Error()}
	}
	return res, err
}

func writeDrillHTML(path string, res *drill.Result, verbose bool) error {
	f, err := os.Create(path)
	if err != nil {
		return &usageError{fmt.Sprintf("--html: %v", err)}
	}
	if err := res.WriteHTML(f, verbose); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func writeComparison(d *Deps, o *DrillOptions, path string, a, b *drill.Result) error {
	diffs := drill.Compare(a, b, o.Verbose)
	if o.Output.json() {
		return writeJSON(d.Out, struct {
			A           string             `json:"a"`
			B           string             `json:"b"`
			Differences []drill.Difference `json:"differences"`
		}{path, o.Compare, append([]drill.Difference{}, diffs...)})
	}
	fmt.Fprintln(d.Out, a.Headline())
	if len(diffs) == 0 {
		fmt.Fprintf(d.Out, "No difference between %s and %s.\n", path, o.Compare)
		return nil
	}
	for _, side := range []struct{ only, title string }{
		{"moved", "Sent by both, at another time (" + path + " → " + o.Compare + ")"},
		{"a", "Only with " + path}, {"b", "Only with " + o.Compare},
	} {
		fmt.Fprintf(d.Out, "\n%s:\n", side.title)
		n := 0
		for _, df := range diffs {
			switch {
			case df.Only != side.only:
				continue
			case df.Only == "moved":
				fmt.Fprintf(d.Out, "  %s %s → %s %s\n", df.What, df.From, df.To, df.Line)
			default:
				fmt.Fprintf(d.Out, "  %s %s\n", df.What, df.Line)
			}
			n++
		}
		if n == 0 {
			fmt.Fprintln(d.Out, "  nothing")
		}
	}
	return nil
}

// parseAt reads a time as people write it: "2026-12-05 03:00", optionally
// followed by an IANA zone, or RFC 3339. Without a zone it is local time.
func parseAt(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	loc := time.Local
	fields := strings.Fields(s)
	if len(fields) == 3 {
		l, err := time.LoadLocation(fields[2])
		if err != nil {
			return time.Time{}, usagef("--at %q: unknown time zone %q", s, fields[2])
		}
		loc, fields = l, fields[:2]
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, strings.Join(fields, " "), loc); err == nil {
			return t, nil
		}
	}
	if len(fields) == 1 {
		if t, err := time.ParseInLocation("2006-01-02", fields[0], loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef(`--at %q: want "2006-01-02 15:04 [ZONE]" or RFC 3339`, s)
}
