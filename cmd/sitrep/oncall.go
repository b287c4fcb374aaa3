package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/worker"
)

// OnCallOptions are the flags of `sitrep oncall`.
type OnCallOptions struct {
	Team, Rotation, Service string
	At                      string
	FeedURL                 string // a person whose calendar feed URL to print
	Catalog                 string
	Output                  outputFlag
}

// onCallRow is one rotation's answer.
type onCallRow struct {
	Rotation string         `json:"rotation"`
	Role     string         `json:"role"` // on call, comms lead, paged for SERVICE
	Now      catalog.Shift  `json:"now"`
	Next     *catalog.Shift `json:"next,omitempty"`
}

func newCmdOnCall(d *Deps, runF func(*OnCallOptions) error) *cobra.Command {
	o := &OnCallOptions{}
	cmd := &cobra.Command{
		Use:   "oncall [--team T | --rotation R | --service S] [--at TIME]",
		Short: "Who is on call now (or then), until when, and who is next",
		Long: `Read the catalog and say, for each rotation (or the ones of --team, --rotation
or --service), who is on call now or at --at, since and until when, and who
takes over next. Times print in each rotation's zone. The catalog comes from
--catalog, SITREP_CATALOG or examples/catalog.yaml.

--feed-url PERSON prints the signed address of PERSON's on-call calendar on
the intake (GET /v1/oncall/PERSON.ics): their shifts from two weeks back to
three months ahead, for any calendar that subscribes to iCalendar feeds. It
is signed with the acknowledge-link keys (SITREP_ACK_KEYS) and does not
expire; rotating the keys revokes it.`,
		Example: `  sitrep oncall
  sitrep oncall --service checkout
  sitrep oncall --team payments --at "2026-12-24 20:00 Europe/Berlin"
  sitrep oncall --rotation sre-primary -o json
  # The calendar feed of alice's shifts, to subscribe to (SITREP_ACK_KEYS and
  # SITREP_PUBLIC_URL as the intake has them)
  sitrep oncall --feed-url alice`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return onCallRun(d, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Team, "team", "", "the team's rotation and comms rotation")
	f.StringVar(&o.Rotation, "rotation", "", "this rotation")
	f.StringVar(&o.Service, "service", "", "the rotations a page for this service reaches")
	f.StringVar(&o.At, "at", "", `when: "2026-12-05 03:00 Europe/Berlin" (default now)`)
	f.StringVar(&o.Catalog, "catalog", "", "catalog file or directory (default $SITREP_CATALOG, else examples/catalog.yaml)")
	f.StringVar(&o.FeedURL, "feed-url", "", "print the signed URL of this person's on-call calendar feed")
	o.Output.add(cmd)
	cmd.MarkFlagsMutuallyExclusive("team", "rotation", "service", "feed-url")
	return cmd
}

func onCallRun(d *Deps, o *OnCallOptions) error {
	if err := o.Output.check(); err != nil {
		return err
	}
	at := d.Now()
	if o.At != "" {
		var err error
		if at, err = parseAt(o.At); err != nil {
			return err
		}
	}
	c, err := catalog.Load(defaultCatalog(d, o.Catalog))
	if err != nil {
		return &usageError{err.Error()}
	}
	if o.FeedURL != "" {
		return printFeedURL(d, c, o)
	}
	picks, err := rotationsFor(c, o)
	if err != nil {
		return err
	}
	rows := []onCallRow{}
	for _, p := range picks {
		now, next, err := c.OnCallNow(p.rotation, at)
		if err != nil {
			return err
		}
		rows = append(rows, onCallRow{Rotation: p.rotation, Role: p.role, Now: now, Next: next})
	}
	if o.Output.json() {
		return writeJSON(d.Out, rows)
	}
	tw := tabwriter.NewWriter(d.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROTATION\tROLE\tON CALL\tSINCE\tUNTIL\tNEXT")
	for _, r := range rows {
		loc := c.Rotations[r.Rotation].Location
		next := "-"
		if r.Next != nil {
			next = orDefault(r.Next.Person, "nobody")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Rotation, r.Role, orDefault(r.Now.Person, "nobody"),
			r.Now.Start.In(loc).Format(shiftLayout), r.Now.End.In(loc).Format(shiftLayout), next)
	}
	return tw.Flush()
}

// printFeedURL prints the signed URL of a person's calendar feed, made
// with the keys the intake checks it with.
func printFeedURL(d *Deps, c *catalog.Catalog, o *OnCallOptions) error {
	if _, ok := c.People[o.FeedURL]; !ok {
		return usagef("--feed-url %q: not a person in the catalog", o.FeedURL)
	}
	cfg, err := worker.LoadConfig(d.Getenv)
	if err != nil {
		return &usageError{err.Error()}
	}
	signer, err := cfg.Signer()
	switch {
	case err != nil:
		return &usageError{err.Error()}
	case signer == nil:
		return usagef("--feed-url: SITREP_ACK_KEYS is not set: the intake signs and checks feed URLs with the acknowledge-link keys")
	}
	u := starter.FeedURL(signer, o.FeedURL)
	if o.Output.json() {
		return writeJSON(d.Out, map[string]string{"person": o.FeedURL, "url": u})
	}
	_, err = fmt.Fprintln(d.Out, u)
	return err
}

const shiftLayout = "Mon 2006-01-02 15:04 MST"

type pick struct{ rotation, role string }

// rotationsFor lists the rotations the flags ask about, each once.
func rotationsFor(c *catalog.Catalog, o *OnCallOptions) ([]pick, error) {
	var out []pick
	add := func(rotation, role string) {
		if rotation != "" && !slices.ContainsFunc(out, func(p pick) bool { return p.rotation == rotation }) {
			out = append(out, pick{rotation, role})
		}
	}
	team := func(name string) error {
		t, ok := c.Teams[name]
		if !ok {
			return usagef("--team %q: no such team (teams: %s)", name, sortedNames(c.Teams))
		}
		add(t.Rotation, "on call")
		add(t.CommsRotation, "comms lead")
		return nil
	}
	switch {
	case o.Rotation != "":
		if _, ok := c.Rotations[o.Rotation]; !ok {
			return nil, usagef("--rotation %q: no such rotation (rotations: %s)", o.Rotation, sortedNames(c.Rotations))
		}
		add(o.Rotation, "on call")
	case o.Team != "":
		if err := team(o.Team); err != nil {
			return nil, err
		}
	case o.Service != "":
		if _, ok := c.Services[o.Service]; !ok {
			return nil, usagef("--service %q: not in the catalog (services: %s)", o.Service, sortedNames(c.Services))
		}
		r, err := c.Route(o.Service)
		if err != nil {
			return nil, err
		}
		for i, l := range c.Levels(r.Policy) {
			for _, t := range l.Targets {
				if t.Kind == catalog.TargetRotation {
					add(t.Name, fmt.Sprintf("paged at level %d", i+1))
				}
			}
		}
		if t, ok := c.Teams[r.Team]; ok {
			add(t.CommsRotation, "comms lead")
		}
	default:
		comms := map[string]bool{}
		for _, t := range c.Teams {
			comms[t.CommsRotation] = true
		}
		for _, name := range slices.Sorted(maps.Keys(c.Rotations)) {
			if comms[name] {
				add(name, "comms lead")
			} else {
				add(name, "on call")
			}
		}
	}
	return out, nil
}

func sortedNames[V any](m map[string]V) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}

var _ starter.OnCallShifts = catalogPeople{}

// OnCallShifts gives the intake's on-call calendar feed each person's
// shifts, from the catalog it serves with.
func (p catalogPeople) OnCallShifts(person string, from, to time.Time) ([]catalog.Shift, bool) {
	return p.c.PersonShifts(person, from, to)
}
