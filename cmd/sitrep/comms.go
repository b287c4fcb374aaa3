package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// UpdateOptions are the flags of `sitrep update`.
type UpdateOptions struct {
	Incident string
	Request  workflows.UpdateRequest
	Output   outputFlag
	Timeout  time.Duration
}

func newCmdUpdate(d *Deps, runF func(*UpdateOptions) error) *cobra.Command {
	o := &UpdateOptions{}
	cmd := &cobra.Command{
		Use:   "update INCIDENT --message TEXT [--status S] [--audience A] [--role R] --as PERSON",
		Short: "Post a stakeholder update: status page, stakeholder lists and war room; the update clock restarts",
		Long: `Post a stakeholder update. It goes to the status page, to the stakeholder
lists of its audience and to the war room, and restarts the update clock.

The status only moves forward: investigating, identified, monitoring
(resolved comes with the final notice, from ` + "`sitrep resolve`" + `); leave it
out to keep the current one. "No new information yet" is
an update too: stakeholders were promised one on the cadence.`,
		Example: `  sitrep update inc-checkout-0a1b2c3d --status identified \
    --message "A bad deploy of the payment gateway; rolling back" --as carol
  sitrep update inc-checkout-0a1b2c3d --audience internal \
    --message "Rollback at 40%, next update at 10:30" --as carol
  sitrep update inc-checkout-0a1b2c3d --role partner-comms \
    --message "Card payments through partners fail; retry after 11:00" --as dave`,
		Args: exactlyOneIncident,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Incident = args[0]
			o.Request.Channel = "cli"
			o.Request.Status = workflows.StakeholderStatus(strings.ToLower(strings.TrimSpace(string(o.Request.Status))))
			o.Request.Audience = workflows.Audience(strings.ToLower(strings.TrimSpace(string(o.Request.Audience))))
			if runF != nil {
				return runF(o)
			}
			return updateRun(cmd, d, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Request.Message, "message", "", "what stakeholders should know")
	f.StringVar((*string)(&o.Request.Status), "status", "", "investigating, identified or monitoring (default: unchanged); resolve sends resolved")
	f.StringVar((*string)(&o.Request.Audience), "audience", "", "internal, external or both (default both)")
	f.StringVar(&o.Request.Role, "role", "", "post for a sub-role's own audience (e.g. partner-comms) instead of the comms lead's")
	f.StringVar(&o.Request.By, "as", "", "your catalog handle")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long to wait for the incident to answer")
	o.Output.add(cmd)
	for _, name := range []string{"message", "as"} {
		_ = cmd.MarkFlagRequired(name) // the flags exist: cannot fail
	}
	return cmd
}

func updateRun(cmd *cobra.Command, d *Deps, o *UpdateOptions) error {
	if err := o.Output.check(); err != nil {
		return err
	}
	if err := starter.ValidateUpdate(o.Request); err != nil {
		return err
	}
	return withIncidents(cmd, d, o.Timeout, func(ctx context.Context, inc Incidents) error {
		r, err := inc.PostUpdate(ctx, o.Incident, requestID(), o.Request)
		if err != nil {
			return err
		}
		if o.Output.json() {
			return writeJSON(d.Out, r)
		}
		fmt.Fprintf(d.Out, "%s: update posted at %s for %s, status %s", o.Incident, r.At.UTC().Format(time.RFC3339), audienceOf(o.Request), r.Status)
		if r.NextDue != nil {
			fmt.Fprintf(d.Out, "; next update due %s", r.NextDue.UTC().Format(time.RFC3339))
		}
		fmt.Fprintln(d.Out)
		return nil
	})
}

// audienceOf says who an update is for.
func audienceOf(req workflows.UpdateRequest) string {
	switch {
	case req.Role != "":
		return "the " + req.Role + " audience"
	case req.Audience == workflows.AudienceInternal:
		return "internal stakeholders"
	case req.Audience == workflows.AudienceExternal:
		return "external stakeholders"
	}
	return "internal and external stakeholders"
}

// RoleOptions are the flags of `sitrep role`.
type RoleOptions struct {
	Incident string
	Request  workflows.RoleRequest
	Output   outputFlag
	Timeout  time.Duration
}

func newCmdRole(d *Deps, runF func(*RoleOptions) error) *cobra.Command {
	o := &RoleOptions{}
	cmd := &cobra.Command{
		Use:   "role INCIDENT --role ROLE --person P --as PERSON",
		Short: "Give a role (commander, comms, or a sub-role of the catalog) to a person",
		Long: `Give a role on an incident to a person: commander, comms (the
communications lead), or one of the sub-roles the catalog lists (partner
comms, social media comms, …). The holder joins the war room; whoever held
it before is named in the answer.`,
		Example: `  sitrep role inc-checkout-0a1b2c3d --role commander --person bob --as alice
  sitrep role inc-checkout-0a1b2c3d --role comms --person carol --as bob -o json`,
		Args: exactlyOneIncident,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Incident = args[0]
			o.Request.Channel = "cli"
			if runF != nil {
				return runF(o)
			}
			if err := o.Output.check(); err != nil {
				return err
			}
			if err := starter.ValidateRole(o.Request); err != nil {
				return err
			}
			return withIncidents(cmd, d, o.Timeout, func(ctx context.Context, inc Incidents) error {
				r, err := inc.AssignRole(ctx, o.Incident, requestID(), o.Request)
				if err != nil {
					return err
				}
				if o.Output.json() {
					return writeJSON(d.Out, r)
				}
				fmt.Fprintf(d.Out, "%s: %s is %s since %s", o.Incident, r.Role, r.Person, r.At.UTC().Format(time.RFC3339))
				if r.Previous != "" && r.Previous != r.Person {
					fmt.Fprintf(d.Out, " (was %s)", r.Previous)
				}
				fmt.Fprintln(d.Out)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Request.Role, "role", "", "commander, comms, or a sub-role of the catalog")
	f.StringVar(&o.Request.Person, "person", "", "the catalog handle of who takes the role")
	f.StringVar(&o.Request.By, "as", "", "your catalog handle")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long to wait for the incident to answer")
	o.Output.add(cmd)
	for _, name := range []string{"role", "person", "as"} {
		_ = cmd.MarkFlagRequired(name) // the flags exist: cannot fail
	}
	return cmd
}

// shownUpdates is how many of the latest stakeholder updates `sitrep
// status` lists; -o json has them all.
const shownUpdates = 5

// printResponse prints the response and comms parts of an incident: the war
// room, the roles, what stakeholders were told and when they hear next.
func printResponse(w io.Writer, st workflows.IncidentState, now time.Time) {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }
	if room := st.WarRoom; room != nil {
		fmt.Fprintf(w, "  war room %s (%s)", room.Name, room.Platform)
		if room.URL != "" {
			fmt.Fprintf(w, " %s", room.URL)
		}
		fmt.Fprintln(w)
		if room.Bridge != "" {
			fmt.Fprintf(w, "  bridge %s\n", room.Bridge)
		}
	}
	if st.Status != "" {
		fmt.Fprintf(w, "  stakeholders told: %s", st.Status)
		if st.StatusPage != nil {
			fmt.Fprintf(w, " (status page %s)", orDefault(st.StatusPage.URL, st.StatusPage.ID))
		}
		fmt.Fprintln(w)
	}
	if due := st.NextUpdateDue; due != nil {
		fmt.Fprintf(w, "  next update due %s", ts(*due))
		if late := starter.Overdue(*due, now); late != "" {
			fmt.Fprint(w, ", "+late)
		}
		fmt.Fprintln(w)
	}
	for _, c := range st.Cadences {
		if c.Role == "" || c.Role == catalog.RoleComms || c.Due.IsZero() {
			continue // the comms lead's clock is NextUpdateDue
		}
		fmt.Fprintf(w, "  %s update due %s", c.Role, ts(c.Due))
		if late := starter.Overdue(c.Due, now); late != "" {
			fmt.Fprint(w, ", "+late)
		}
		fmt.Fprintln(w)
	}
	if len(st.Roles) > 0 {
		fmt.Fprintln(w, "\nRoles")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, r := range st.Roles {
			by := ""
			if r.By != "" {
				by = " (by " + r.By + ")"
			}
			fmt.Fprintf(tw, "  %s:\t%s\tsince %s%s\n", r.Role, r.Person, ts(r.Since), by)
		}
		_ = tw.Flush() // writes to w, whose errors the caller cannot act on
	}
	if len(st.Updates) > 0 {
		ups := st.Updates
		if len(ups) > shownUpdates {
			fmt.Fprintf(w, "\nStakeholder updates (the last %d of %d)\n", shownUpdates, len(ups))
			ups = ups[len(ups)-shownUpdates:]
		} else {
			fmt.Fprintln(w, "\nStakeholder updates")
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  TIME\tKIND\tSTATUS\tAUDIENCE\tBY\tSENT TO\tFAILED\t")
		for _, u := range ups {
			audience := string(u.Audience)
			if u.Role != "" {
				audience = u.Role
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", ts(u.At), u.Kind, u.Status, audience, orDefault(u.By, "sitrep"),
				orDefault(strings.Join(u.Sent, ", "), "-"), orDefault(strings.Join(u.Failed, ", "), "-"))
		}
		_ = tw.Flush() // writes to w, whose errors the caller cannot act on
	}
}
