package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// withStarter connects and runs f with the starter's client, within timeout.
func withStarter(cmd *cobra.Command, d *Deps, timeout time.Duration, f func(context.Context, *starter.Client) error) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	tc, err := d.Dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	err = f(ctx, starter.New(tc))
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s (%w): is `sitrep worker` running?", timeout, starter.ErrUnavailable)
	}
	return err
}

// PostmortemOptions are the flags of the postmortem commands.
type PostmortemOptions struct {
	Incident string
	File     string
	As       string
	Comment  string
	Version  int
	Overdue  bool
	Timeout  time.Duration
	Output   outputFlag
}

func newCmdPostmortem(d *Deps) *cobra.Command {
	cmd := &cobra.Command{Use: "postmortem", Short: "The post-mortem of a resolved incident: submit, review, show"}
	o := func(cmd *cobra.Command, as bool) *PostmortemOptions {
		o := &PostmortemOptions{}
		cmd.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long to wait for the post-incident workflow to answer")
		if as {
			cmd.Flags().StringVar(&o.As, "as", "", "your catalog handle")
			_ = cmd.MarkFlagRequired("as") // the flag exists: cannot fail
		}
		o.Output.add(cmd)
		return o
	}
	submit := func(edit bool) *cobra.Command {
		use, short := "submit", "Submit the post-mortem (root cause, impact, action items, learnings) from a YAML file"
		if edit {
			use, short = "edit", "Resubmit the post-mortem, after a rejection or to correct it"
		}
		c := &cobra.Command{Use: use + " INCIDENT --file pm.yaml --as PERSON", Short: short, Args: exactlyOneIncident}
		opts := o(c, true)
		c.Flags().StringVar(&opts.File, "file", "", "the post-mortem, YAML (- for stdin); see examples/postmortem.yaml")
		_ = c.MarkFlagRequired("file") // the flag exists: cannot fail
		c.RunE = func(cmd *cobra.Command, args []string) error {
			opts.Incident = args[0]
			return submitRun(cmd, d, opts, edit)
		}
		return c
	}
	decide := func(approve bool) *cobra.Command {
		use, short := "approve INCIDENT --as PERSON [--version N]", "Approve the stakeholder summary: it goes out (approvers only)"
		if !approve {
			use, short = "reject INCIDENT --as PERSON --comment TEXT", "Reject the stakeholder summary: it goes back to the commander"
		}
		c := &cobra.Command{Use: use, Short: short, Args: exactlyOneIncident}
		opts := o(c, true)
		c.Flags().IntVar(&opts.Version, "version", 0, "the draft you read (refused if an edit replaced it); 0: the current one")
		if !approve {
			c.Flags().StringVar(&opts.Comment, "comment", "", "what must change")
			_ = c.MarkFlagRequired("comment") // the flag exists: cannot fail
		}
		c.RunE = func(cmd *cobra.Command, args []string) error {
			opts.Incident = args[0]
			if !approve && strings.TrimSpace(opts.Comment) == "" {
				return usagef("--comment is empty: say what must change")
			}
			return decideRun(cmd, d, opts, approve)
		}
		return c
	}
	show := &cobra.Command{Use: "show INCIDENT", Short: "Print the post-mortem document and where the process stands", Args: exactlyOneIncident}
	showOpts := o(show, false)
	show.RunE = func(cmd *cobra.Command, args []string) error {
		showOpts.Incident = args[0]
		return showRun(cmd, d, showOpts)
	}
	list := &cobra.Command{Use: "list [--overdue]", Short: "List post-mortems; --overdue: those past due", Args: cobra.NoArgs}
	listOpts := o(list, false)
	list.Flags().BoolVar(&listOpts.Overdue, "overdue", false, "only post-mortems due and not submitted")
	list.RunE = func(cmd *cobra.Command, _ []string) error { return listPostmortemsRun(cmd, d, listOpts) }
	cmd.AddCommand(submit(false), submit(true), decide(true), decide(false), show, list)
	return cmd
}

// readSubmission reads a post-mortem YAML file, rejecting unknown fields by line.
func readSubmission(d *Deps, path string) (workflows.Submission, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(d.In)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return workflows.Submission{}, usagef("read the post-mortem: %v", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var s workflows.Submission
	if err := dec.Decode(&s); err != nil {
		return s, usagef("%s: %v", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return s, nil
}

func submitRun(cmd *cobra.Command, d *Deps, o *PostmortemOptions, edit bool) error {
	if err := o.Output.check(); err != nil {
		return err
	}
	sub, err := readSubmission(d, o.File)
	if err != nil {
		return err
	}
	return withStarter(cmd, d, o.Timeout, func(ctx context.Context, c *starter.Client) error {
		r, err := c.SubmitPostmortem(ctx, o.Incident, "", workflows.SubmitRequest{Submission: sub, By: o.As}, edit)
		if err != nil {
			return err
		}
		if o.Output.json() {
			return writeJSON(d.Out, r)
		}
		fmt.Fprintf(d.Out, "post-mortem of %s taken: %d action item(s); the summary draft goes to %s for approval\n",
			o.Incident, r.Items, orDefault(strings.Join(r.Approvers, ", "), "(no approvers in the catalog)"))
		return nil
	})
}

func decideRun(cmd *cobra.Command, d *Deps, o *PostmortemOptions, approve bool) error {
	if err := o.Output.check(); err != nil {
		return err
	}
	return withStarter(cmd, d, o.Timeout, func(ctx context.Context, c *starter.Client) error {
		r, err := c.Decide(ctx, o.Incident, "", workflows.DecisionRequest{By: o.As, Comment: o.Comment, Version: o.Version}, approve)
		if err != nil {
			return err
		}
		if o.Output.json() {
			return writeJSON(d.Out, r)
		}
		if approve {
			fmt.Fprintf(d.Out, "draft %d approved by %s: the summary goes to the status page and the stakeholders\n", r.Version, o.As)
		} else {
			fmt.Fprintf(d.Out, "draft %d rejected by %s: it goes back to the commander with your comment\n", r.Version, o.As)
		}
		return nil
	})
}

func showRun(cmd *cobra.Command, d *Deps, o *PostmortemOptions) error {
	if err := o.Output.check(); err != nil {
		return err
	}
	return withStarter(cmd, d, o.Timeout, func(ctx context.Context, c *starter.Client) error {
		st, err := c.PostIncident(ctx, o.Incident)
		if err != nil {
			return err
		}
		if o.Output.json() {
			return writeJSON(d.Out, st)
		}
		text, err := c.PostmortemText(ctx, o.Incident)
		if err != nil {
			return err
		}
		fmt.Fprintln(d.Out, text)
		fmt.Fprintf(d.Out, "\nPhase: %s", st.Phase)
		if st.Phase == workflows.PostmortemDue {
			fmt.Fprintf(d.Out, " (due %s)", st.Due.Local().Format(time.RFC1123))
		}
		fmt.Fprintln(d.Out)
		if st.Draft != nil {
			fmt.Fprintf(d.Out, "\nStakeholder summary, draft %d (readability %.0f; jargon: %s):\n\n%s\n", st.Version, st.Draft.Readability,
				orDefault(strings.Join(st.Draft.Jargon, ", "), "none"), st.Draft.Text)
		}
		return nil
	})
}

func listPostmortemsRun(cmd *cobra.Command, d *Deps, o *PostmortemOptions) error {
	if err := o.Output.check(); err != nil {
		return err
	}
	return withStarter(cmd, d, o.Timeout, func(ctx context.Context, c *starter.Client) error {
		ls, err := c.Postmortems(ctx, o.Overdue, d.Now())
		if err != nil {
			return err
		}
		if o.Output.json() {
			return writeJSON(d.Out, ls)
		}
		tw := tabwriter.NewWriter(d.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPHASE\tSERVICE\tTEAM\tDUE")
		for _, l := range ls {
			due := "-"
			if !l.Due.IsZero() {
				due = l.Due.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.ID, l.Phase, l.Service, orDefault(l.Team, "-"), due)
		}
		return tw.Flush()
	})
}

// ActionOptions are the flags of `sitrep actions`.
type ActionOptions struct {
	Incident string
	Item     workflows.ActionItem
	As       string
	Timeout  time.Duration
	Output   outputFlag
}

func newCmdActions(d *Deps) *cobra.Command {
	cmd := &cobra.Command{Use: "actions", Short: "An incident's action items: list them, add one"}
	add := &cobra.Command{Use: "add INCIDENT --title T --owner P --due YYYY-MM-DD [--priority High] --as PERSON",
		Short: "Add an action item: filed as a ticket and followed up weekly with the rest", Args: exactlyOneIncident}
	ao := &ActionOptions{}
	f := add.Flags()
	f.StringVar(&ao.Item.Title, "title", "", "what must be done")
	f.StringVar(&ao.Item.Owner, "owner", "", "who does it (catalog handle)")
	f.StringVar(&ao.Item.Due, "due", "", "when, YYYY-MM-DD")
	f.StringVar(&ao.Item.Priority, "priority", "", "Highest, High (default), Medium, Low, Lowest")
	f.StringVar(&ao.As, "as", "", "your catalog handle")
	f.DurationVar(&ao.Timeout, "timeout", time.Minute, "how long to wait for the ticket to be filed")
	ao.Output.add(add)
	for _, n := range []string{"title", "owner", "due", "as"} {
		_ = add.MarkFlagRequired(n) // the flags exist: cannot fail
	}
	add.RunE = func(cmd *cobra.Command, args []string) error {
		ao.Incident = args[0]
		if err := ao.Output.check(); err != nil {
			return err
		}
		return withStarter(cmd, d, ao.Timeout, func(ctx context.Context, c *starter.Client) error {
			r, err := c.AddAction(ctx, ao.Incident, "", workflows.AddActionRequest{Item: ao.Item, By: ao.As})
			if err != nil {
				return err
			}
			if ao.Output.json() {
				return writeJSON(d.Out, r)
			}
			fmt.Fprintf(d.Out, "action item %s added: %s (owner %s, due %s)%s\n", r.Item.ID, r.Item.Title, r.Item.Owner, r.Item.Due,
				ticketText(r.Item.Ticket, r.Item.URL))
			return nil
		})
	}
	list := &cobra.Command{Use: "list INCIDENT", Short: "List the action items and their tickets' status", Args: exactlyOneIncident}
	lo := &ActionOptions{}
	list.Flags().DurationVar(&lo.Timeout, "timeout", 30*time.Second, "how long to wait for an answer")
	lo.Output.add(list)
	list.RunE = func(cmd *cobra.Command, args []string) error {
		if err := lo.Output.check(); err != nil {
			return err
		}
		return withStarter(cmd, d, lo.Timeout, func(ctx context.Context, c *starter.Client) error {
			items, err := c.Actions(ctx, args[0])
			if err != nil {
				return err
			}
			if lo.Output.json() {
				return writeJSON(d.Out, items)
			}
			tw := tabwriter.NewWriter(d.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTICKET\tSTATUS\tOWNER\tDUE\tPRIORITY\tTITLE")
			for _, it := range items {
				status := orDefault(it.Status, "-")
				if it.Problem != "" {
					status = "? " + it.Problem
				}
				if it.Lost != "" {
					status = "not followed: " + it.Lost
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.ID, orDefault(it.Ticket, "-"), status, it.Owner, it.Due, it.Priority, it.Title)
			}
			return tw.Flush()
		})
	}
	cmd.AddCommand(add, list)
	return cmd
}

func ticketText(key, url string) string {
	if key == "" {
		return "; no ticket yet (the follow-up files it next week)"
	}
	return fmt.Sprintf("; ticket %s %s", key, url)
}

// LearningsOptions are the flags of `sitrep learnings`.
type LearningsOptions struct {
	Catalog string
	Since   string
	Output  outputFlag
}

func newCmdLearnings(d *Deps) *cobra.Command {
	o := &LearningsOptions{}
	cmd := &cobra.Command{
		Use:   "learnings [--since 2026-01-01|30d] [--catalog FILE]",
		Short: "List what incidents taught, from the learnings record the catalog names",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Output.check(); err != nil {
				return err
			}
			since, err := learningsSince(o.Since, d.Now())
			if err != nil {
				return err
			}
			path := orDefault(o.Catalog, d.Getenv("SITREP_CATALOG"))
			if path == "" {
				return usagef("no catalog: pass --catalog or set SITREP_CATALOG")
			}
			c, err := catalog.Load(path)
			if err != nil {
				return &usageError{err.Error()}
			}
			file := c.PostmortemSettings().LearningsFile
			if file == "" {
				return usagef("the catalog's postmortem section names no learnings_file")
			}
			ls, err := activities.ReadLearnings(file, since)
			if errors.Is(err, os.ErrNotExist) {
				ls, err = nil, nil
			}
			if err != nil {
				return err
			}
			if o.Output.json() {
				if ls == nil {
					ls = []activities.Learning{}
				}
				return writeJSON(d.Out, ls)
			}
			if len(ls) == 0 {
				fmt.Fprintln(d.Out, "no learnings recorded yet")
			}
			for _, l := range ls {
				fmt.Fprintf(d.Out, "%s %s %s: %s (%s)\n", l.At.Local().Format("2006-01-02"), l.Severity, l.Service, l.Summary, l.IncidentID)
				for _, x := range l.Learnings {
					fmt.Fprintf(d.Out, "  - %s\n", x)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Catalog, "catalog", "", "the catalog (default $SITREP_CATALOG)")
	cmd.Flags().StringVar(&o.Since, "since", "", "only learnings from this date (YYYY-MM-DD) or this long ago (30d, 12h)")
	o.Output.add(cmd)
	return cmd
}

// learningsSince reads a date, or an age as `sitrep report --since` takes it.
func learningsSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, time.Local); err == nil {
		return t, nil
	}
	d, err := parseSince(s)
	if err != nil {
		return time.Time{}, usagef("--since %q: want a date like 2026-01-31 or an age like 30d or 12h", s)
	}
	return now.Add(-d), nil
}
