package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/log"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

func quietLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// withIncidents connects, runs f within the command's timeout, and says on
// stderr when the wait gets long (no worker running, usually).
func withIncidents(cmd *cobra.Command, d *Deps, timeout time.Duration, f func(context.Context, Incidents) error) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	inc, closeFn, err := d.Incidents(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			fmt.Fprintln(d.Err, "sitrep: still waiting for the incident to answer; is `sitrep worker` running?")
		}
	}()
	err = f(ctx, inc)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s (%w): is `sitrep worker` running?", timeout, starter.ErrUnavailable)
	}
	return err
}

// AlertOptions are the flags of `sitrep alert` and `sitrep declare`.
type AlertOptions struct {
	Alert   workflows.Alert
	Output  outputFlag
	Labels  []string
	Timeout time.Duration
}

func newCmdAlert(d *Deps, runF func(*AlertOptions) error) *cobra.Command {
	o := &AlertOptions{}
	cmd := &cobra.Command{
		Use:   "alert --service S --severity SEV1 --summary TEXT [--dedup-key K]",
		Short: "Raise an alert from monitoring: opens an incident, or folds into the open one",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Alert.Source, o.Alert.Integration = workflows.Monitoring, "cli"
			if runF != nil {
				return runF(o)
			}
			return alertRun(cmd, d, o)
		},
	}
	alertFlags(cmd, o)
	cmd.Flags().StringVar(&o.Alert.DedupKey, "dedup-key", "", "alerts with the same key fold into one incident (default: service and summary)")
	cmd.Flags().StringSliceVar(&o.Alert.Links, "link", nil, "a link for responders (dashboard, runbook); repeatable")
	cmd.Flags().StringArrayVar(&o.Labels, "label", nil, "a label key=value; repeatable")
	return cmd
}

func newCmdDeclare(d *Deps, runF func(*AlertOptions) error) *cobra.Command {
	o := &AlertOptions{}
	var source string
	cmd := &cobra.Command{
		Use:   "declare --service S --severity SEV2 --summary TEXT --source internal|external --reporter NAME",
		Short: "Declare an incident a person reported: recorded as a gap in monitoring",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if source != string(workflows.Internal) && source != string(workflows.External) {
				return usagef("--source must be internal or external, not %q", source)
			}
			if strings.TrimSpace(o.Alert.Reporter) == "" {
				return usagef("--reporter is required: who reported it")
			}
			o.Alert.Source, o.Alert.Integration = workflows.Source(source), "cli"
			if runF != nil {
				return runF(o)
			}
			return alertRun(cmd, d, o)
		},
	}
	alertFlags(cmd, o)
	cmd.Flags().StringVar(&source, "source", "", "who noticed: internal (a colleague) or external (a customer)")
	cmd.Flags().StringVar(&o.Alert.Reporter, "reporter", "", "who reported it")
	cmd.Flags().StringVar(&o.Alert.DedupKey, "dedup-key", "", "reports with the same key fold into one incident (default: service and summary)")
	return cmd
}

func alertFlags(cmd *cobra.Command, o *AlertOptions) {
	f := cmd.Flags()
	f.StringVar(&o.Alert.Service, "service", "", "the service that is broken, as the catalog names it")
	f.StringVar((*string)(&o.Alert.Severity), "severity", "", "SEV1 (worst) to SEV4")
	f.StringVar(&o.Alert.Summary, "summary", "", "what is wrong, in one line")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long to wait for Temporal")
	o.Output.add(cmd)
	for _, name := range []string{"service", "severity", "summary"} {
		_ = cmd.MarkFlagRequired(name) // the flags exist: cannot fail
	}
}

func alertRun(cmd *cobra.Command, d *Deps, o *AlertOptions) error {
	if err := o.Output.check(); err != nil {
		return err
	}
	o.Alert.Severity = catalog.Severity(strings.ToUpper(string(o.Alert.Severity)))
	for _, l := range o.Labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return usagef("--label %q: want key=value", l)
		}
		if o.Alert.Labels == nil {
			o.Alert.Labels = map[string]string{}
		}
		o.Alert.Labels[k] = v
	}
	o.Alert.ReceivedAt = d.Now().UTC()
	return withIncidents(cmd, d, o.Timeout, func(ctx context.Context, inc Incidents) error {
		r, err := inc.Alert(ctx, o.Alert)
		if err != nil {
			return err
		}
		if o.Output.json() {
			return writeJSON(d.Out, r)
		}
		if r.Opened {
			fmt.Fprintf(d.Out, "opened %s\n", r.IncidentID)
		} else {
			fmt.Fprintf(d.Out, "folded into %s\n", r.IncidentID)
		}
		return nil
	})
}

// AckOptions are the flags of `sitrep ack` and `sitrep escalate`.
type AckOptions struct {
	Incident string
	As       string
	Output   outputFlag
	Timeout  time.Duration
}

func newCmdAck(d *Deps, runF func(*AckOptions) error) *cobra.Command {
	o := &AckOptions{}
	cmd := &cobra.Command{
		Use:   "ack INCIDENT --as PERSON",
		Short: "Acknowledge an incident's page: escalation stops",
		Args:  exactlyOneIncident,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Incident = args[0]
			if runF != nil {
				return runF(o)
			}
			return ackRun(cmd, d, o)
		},
	}
	ackFlags(cmd, d, o)
	return cmd
}

func ackFlags(cmd *cobra.Command, d *Deps, o *AckOptions) {
	// SITREP_AS saves typing your handle on every command; without it --as
	// is required.
	as := getenv(d, "SITREP_AS")
	cmd.Flags().StringVar(&o.As, "as", as, "your catalog handle (default $SITREP_AS)")
	if as == "" {
		_ = cmd.MarkFlagRequired("as") // the flag exists: cannot fail
	}
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long to wait for the incident to answer")
	o.Output.add(cmd)
}

func exactlyOneIncident(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("want exactly one INCIDENT id (as printed by `sitrep alert` or `sitrep list`), got %d arguments", len(args))
	}
	return nil
}

func ackRun(cmd *cobra.Command, d *Deps, o *AckOptions) error {
	if err := o.Output.check(); err != nil {
		return err
	}
	return withIncidents(cmd, d, o.Timeout, func(ctx context.Context, inc Incidents) error {
		r, err := inc.Acknowledge(ctx, o.Incident, "", workflows.AckRequest{Person: o.As, Channel: "cli"})
		if err != nil {
			return err
		}
		if o.Output.json() {
			return writeJSON(d.Out, r)
		}
		fmt.Fprintf(d.Out, "acknowledged %s as %s at %s\n", o.Incident, r.Person, r.At.UTC().Format(time.RFC3339))
		return nil
	})
}

func newCmdEscalate(d *Deps, runF func(*AckOptions) error) *cobra.Command {
	o := &AckOptions{}
	cmd := &cobra.Command{
		Use:   "escalate INCIDENT --as PERSON",
		Short: "Page the next escalation level now instead of waiting",
		Args:  exactlyOneIncident,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Incident = args[0]
			if runF != nil {
				return runF(o)
			}
			if err := o.Output.check(); err != nil {
				return err
			}
			return withIncidents(cmd, d, o.Timeout, func(ctx context.Context, inc Incidents) error {
				r, err := inc.Escalate(ctx, o.Incident, "", workflows.EscalateRequest{Person: o.As, Channel: "cli"})
				if err != nil {
					return err
				}
				if o.Output.json() {
					return writeJSON(d.Out, r)
				}
				fmt.Fprintf(d.Out, "escalated %s: now paging level %d\n", o.Incident, r.Level)
				return nil
			})
		},
	}
	ackFlags(cmd, d, o)
	return cmd
}

// getenv reads the environment d was given; nothing when it has none.
func getenv(d *Deps, key string) string {
	if d.Getenv == nil {
		return ""
	}
	return d.Getenv(key)
}

// PhaseOptions are the flags of `sitrep mitigate` and `sitrep resolve`.
type PhaseOptions struct {
	Incident string
	By       string
	Note     string
	Public   string
	Output   outputFlag
	Timeout  time.Duration
}

func newCmdMitigate(d *Deps, runF func(*PhaseOptions) error) *cobra.Command {
	return phaseCmd(d, runF, "mitigate", "Mark an incident mitigated: paging stops",
		func(ctx context.Context, inc Incidents, id string, r workflows.PhaseRequest) (workflows.PhaseResult, error) {
			return inc.Mitigate(ctx, id, requestID(), r)
		})
}

func newCmdResolve(d *Deps, runF func(*PhaseOptions) error) *cobra.Command {
	return phaseCmd(d, runF, "resolve", "Resolve an incident: paging stops and the incident closes",
		func(ctx context.Context, inc Incidents, id string, r workflows.PhaseRequest) (workflows.PhaseResult, error) {
			return inc.Resolve(ctx, id, requestID(), r)
		})
}

func phaseCmd(d *Deps, runF func(*PhaseOptions) error, verb, short string,
	do func(context.Context, Incidents, string, workflows.PhaseRequest) (workflows.PhaseResult, error)) *cobra.Command {
	o := &PhaseOptions{}
	cmd := &cobra.Command{
		Use:   verb + " INCIDENT [--by PERSON] [--note TEXT] [--public TEXT]",
		Short: short,
		Args:  exactlyOneIncident,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Incident = args[0]
			if runF != nil {
				return runF(o)
			}
			if err := o.Output.check(); err != nil {
				return err
			}
			return withIncidents(cmd, d, o.Timeout, func(ctx context.Context, inc Incidents) error {
				r, err := do(ctx, inc, o.Incident, workflows.PhaseRequest{By: o.By, Note: o.Note, Public: o.Public})
				if err != nil {
					return err
				}
				if o.Output.json() {
					return writeJSON(d.Out, r)
				}
				if r.Already {
					fmt.Fprintf(d.Out, "%s was %s already (%s%s)\n", o.Incident, r.Phase, r.At.UTC().Format(time.RFC3339), byOf(r.By))
					return nil
				}
				fmt.Fprintf(d.Out, "%s is %s (%s)\n", o.Incident, r.Phase, r.At.UTC().Format(time.RFC3339))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&o.By, "by", "", "who did it, for the timeline")
	cmd.Flags().StringVar(&o.Note, "note", "", "what happened, in a line, for insiders: the timeline, the war room and internal stakeholders read it")
	cmd.Flags().StringVar(&o.Public, "public", "", "what customers read, in plain language: the status page and external stakeholders (default: the template's own words, never the note)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long to wait for the incident to answer")
	o.Output.add(cmd)
	return cmd
}

// requestID names one run of a command: the SDK's retries of its call count once.
func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on the platforms Go supports
	return "cli-" + hex.EncodeToString(b)
}

func byOf(by string) string {
	if by == "" {
		return ""
	}
	return " by " + by
}

// StatusOptions are the flags of `sitrep status`.
type StatusOptions struct {
	Incident string
	Output   outputFlag
	Timeout  time.Duration
}

func newCmdStatus(d *Deps, runF func(*StatusOptions) error) *cobra.Command {
	o := &StatusOptions{}
	cmd := &cobra.Command{
		Use:   "status INCIDENT",
		Short: "Show an incident: phase, who was paged when, who acknowledged, war room, roles, stakeholder updates, timeline",
		Args:  exactlyOneIncident,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Incident = args[0]
			if runF != nil {
				return runF(o)
			}
			if err := o.Output.check(); err != nil {
				return err
			}
			return withIncidents(cmd, d, o.Timeout, func(ctx context.Context, inc Incidents) error {
				st, err := inc.Status(ctx, o.Incident)
				if err != nil {
					return err
				}
				if o.Output.json() {
					return writeJSON(d.Out, st)
				}
				printStatus(d.Out, st, d.Now())
				return nil
			})
		},
	}
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 15*time.Second, "how long to wait for an answer")
	o.Output.add(cmd)
	return cmd
}

func printStatus(w io.Writer, st workflows.IncidentState, now time.Time) {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }
	fmt.Fprintf(w, "%s  %s %s  %s\n", st.ID, st.Severity, st.Service, strings.ToUpper(string(st.Phase)))
	fmt.Fprintf(w, "  %s\n", st.Summary)
	fmt.Fprintf(w, "  source %s", st.Source)
	if st.Reporter != "" {
		fmt.Fprintf(w, " (reported by %s)", st.Reporter)
	}
	fmt.Fprintf(w, ", %d alert(s), first %s, last %s\n", st.AlertCount, ts(st.FirstSeen), ts(st.LastSeen))
	fmt.Fprintf(w, "  team %s, policy %s, tier %d", st.Team, st.Policy, st.Tier)
	if !st.KnownService {
		fmt.Fprint(w, " (service not in the catalog: catch-all team)")
	}
	fmt.Fprintln(w)
	if len(st.Keys) > 1 {
		fmt.Fprintf(w, "  %d alerts grouped into this incident\n", len(st.Keys))
	}
	switch {
	case st.AcknowledgedBy != "":
		fmt.Fprintf(w, "  acknowledged by %s at %s\n", st.AcknowledgedBy, ts(*st.AcknowledgedAt))
	case st.Unacknowledged:
		fmt.Fprintln(w, "  NOBODY ACKNOWLEDGED: escalation ran out, fallback contact told")
	}
	printResponse(w, st, now)
	printMerges(w, st)
	if len(st.Pages) > 0 {
		fmt.Fprintln(w, "\nPages")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  TIME\tLEVEL\tPERSON\tCHANNEL\tOUTCOME\t")
		for _, p := range st.Pages {
			lvl := fmt.Sprint(p.Level)
			if p.Kind != "page" {
				lvl = p.Kind
			}
			out := string(p.Outcome)
			if p.Attempts > 1 {
				out += fmt.Sprintf(" on attempt %d", p.Attempts)
			}
			if p.Bundle != "" {
				out += " in bundle " + p.Bundle
			}
			if p.Error != "" {
				out += ": " + p.Error
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t\n", ts(p.At), lvl, p.Person, p.Channel, out)
		}
		_ = tw.Flush() // writes to w, whose errors the caller cannot act on
	}
	if st.PostIncident != "" {
		fmt.Fprintf(w, "  after resolution: %s (its phase: sitrep postmortem show %s)\n", st.PostIncident, st.ID)
	}
	fmt.Fprintln(w, "\nTimeline")
	if st.Elided != nil {
		fmt.Fprintf(w, "  (%d events, %d pages and %d alerts from the middle of this record are in the state of runs %s)\n",
			st.Elided.Events, st.Elided.Pages, st.Elided.Alerts, strings.Join(st.Elided.Runs, ", "))
	}
	for _, e := range st.Timeline {
		actor := ""
		if e.Actor != "" {
			actor = " (" + e.Actor + ")"
		}
		fmt.Fprintf(w, "  %s  %-12s %s%s\n", ts(e.At), e.Kind, e.Text, actor)
	}
}

// ListOptions are the flags of `sitrep list`.
type ListOptions struct {
	Filter  starter.ListFilter
	Since   string
	Output  outputFlag
	Timeout time.Duration
}

func newCmdList(d *Deps, runF func(*ListOptions) error) *cobra.Command {
	o := &ListOptions{}
	cmd := &cobra.Command{
		Use:   "list [--service S] [--phase P] [--open] [--since 24h|TIME]",
		Short: "List incidents, newest first, with their summary and age",
		Example: `  sitrep list --open
  sitrep list --service checkout --since 7d
  sitrep list --phase acknowledged --since "2026-12-05 00:00 Europe/Berlin" -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			if err := o.Output.check(); err != nil {
				return err
			}
			if o.Since != "" {
				since, err := listSince(o.Since, d.Now())
				if err != nil {
					return err
				}
				o.Filter.Since = since
			}
			return withIncidents(cmd, d, o.Timeout, func(ctx context.Context, inc Incidents) error {
				rows, err := inc.List(ctx, o.Filter)
				if err != nil {
					return err
				}
				if o.Output.json() {
					if rows == nil {
						rows = []starter.Listed{}
					}
					return writeJSON(d.Out, rows)
				}
				if len(rows) == 0 {
					fmt.Fprintln(d.Err, "no incidents match")
					return nil
				}
				tw := tabwriter.NewWriter(d.Out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSEVERITY\tSERVICE\tPHASE\tSOURCE\tTEAM\tSTARTED\tAGE\tSTATUS\tSUMMARY")
				for _, r := range rows {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Service, r.Phase, r.Source, r.Team,
						r.Started.UTC().Format("2006-01-02 15:04Z"), age(d.Now().Sub(r.Started)), r.Status, oneLine(r.Summary, 60))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&o.Filter.Service, "service", "", "only this service")
	cmd.Flags().StringVar(&o.Filter.Phase, "phase", "", "only this phase: triggered, acknowledged, mitigated, resolved, merged")
	cmd.Flags().BoolVar(&o.Filter.Open, "open", false, "only incidents still open")
	cmd.Flags().StringVar(&o.Since, "since", "", `only incidents opened since: an age (24h, 7d) or a time ("2026-12-05 00:00 Europe/Berlin")`)
	cmd.Flags().IntVar(&o.Filter.Limit, "limit", 50, "at most this many")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 15*time.Second, "how long to wait for Temporal")
	o.Output.add(cmd)
	return cmd
}

// listSince reads list's --since: an age back from now (24h, 7d) or a time.
func listSince(s string, now time.Time) (time.Time, error) {
	if d, err := parseSince(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := parseAt(s)
	if err != nil {
		return time.Time{}, usagef("--since %q: want an age (24h, 7d) or a time (\"2026-12-05 00:00 Europe/Berlin\")", s)
	}
	return t, nil
}

// age shows a duration the way people say it: 45s, 12m, 3h5m, 2d4h.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

// oneLine is s on one line, cut to n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
