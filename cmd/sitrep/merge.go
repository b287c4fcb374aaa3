package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// MergeOptions are the flags of `sitrep merge`.
type MergeOptions struct {
	Incident string
	Into     string
	By       string
	Note     string
	Output   outputFlag
	Timeout  time.Duration
}

func newCmdMerge(d *Deps, runF func(*MergeOptions) error) *cobra.Command {
	o := &MergeOptions{}
	cmd := &cobra.Command{
		Use:   "merge INCIDENT --into TARGET --by PERSON [--note TEXT]",
		Short: "Merge an incident into another: it stops paging and its record joins the target's",
		Long: `Merge an incident into another, so stakeholders hear one story: the merged
incident stops paging, its PagerDuty alerts close, it sends no stakeholder
notice of its own again, and its alerts, pages and timeline (the latest 100
of each) join the target's record. Repeats of its alerts fold into the target
from then on. A resolved incident cannot be merged, nor merged into; nor can
an incident be merged into itself, or into one that is itself merged.`,
		Example: `  sitrep merge inc-checkout-0a1b2c3d4e5f6a7b --into inc-payments-7b6a5f4e3d2c1b0a --by alice
  sitrep merge inc-checkout-0a1b2c3d4e5f6a7b --into inc-payments-7b6a5f4e3d2c1b0a --by alice --note "same database failover" -o json`,
		Args: exactlyOneIncident,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Incident = args[0]
			if runF != nil {
				return runF(o)
			}
			return mergeRun(cmd, d, o)
		},
	}
	cmd.Flags().StringVar(&o.Into, "into", "", "the incident to merge into")
	cmd.Flags().StringVar(&o.By, "by", "", "who merges it (catalog handle), for both timelines")
	cmd.Flags().StringVar(&o.Note, "note", "", "why, in a line: both timelines have it")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long to wait for the incidents to answer")
	_ = cmd.MarkFlagRequired("into") // the flag exists: cannot fail
	_ = cmd.MarkFlagRequired("by")
	o.Output.add(cmd)
	return cmd
}

func mergeRun(cmd *cobra.Command, d *Deps, o *MergeOptions) error {
	if err := o.Output.check(); err != nil {
		return err
	}
	req := workflows.MergeRequest{Into: o.Into, By: o.By, Note: o.Note, Channel: "cli"}
	if err := starter.ValidateMerge(o.Incident, req); err != nil {
		return usagef("%s", strings.TrimPrefix(err.Error(), starter.ErrInvalid.Error()+": "))
	}
	return withIncidents(cmd, d, o.Timeout, func(ctx context.Context, inc Incidents) error {
		m, ok := inc.(starter.Merger)
		if !ok {
			return fmt.Errorf("merge: this connection cannot merge incidents")
		}
		r, err := m.Merge(ctx, o.Incident, requestID(), req)
		if err != nil {
			return err
		}
		if o.Output.json() {
			return writeJSON(d.Out, r)
		}
		if r.Already {
			fmt.Fprintf(d.Out, "%s was merged into %s already (%s%s)\n", o.Incident, r.Into, r.At.UTC().Format(time.RFC3339), byOf(r.By))
			return nil
		}
		fmt.Fprintf(d.Out, "merged %s into %s (%s): its pages stopped; updates go on in %s\n", o.Incident, r.Into, r.At.UTC().Format(time.RFC3339), r.Into)
		return nil
	})
}

// printMerges says where a merged incident went, and which incidents were
// merged into this one.
func printMerges(w io.Writer, st workflows.IncidentState) {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }
	if st.MergedInto != "" {
		at := ""
		if st.MergedAt != nil {
			at = " at " + ts(*st.MergedAt)
		}
		fmt.Fprintf(w, "  MERGED INTO %s%s%s: pages and updates go on there (sitrep status %s)\n", st.MergedInto, at, byOf(st.MergedBy), st.MergedInto)
	}
	if len(st.Merged) == 0 {
		return
	}
	fmt.Fprintln(w, "\nMerged in")
	for _, m := range st.Merged {
		fmt.Fprintf(w, "  %s  %s %s: %s  (at %s%s; %d alert(s), %d page(s))\n", m.ID, m.Severity, m.Service, m.Summary, ts(m.At), byOf(m.By), m.AlertCount, len(m.Pages))
	}
}
