package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/worker"
)

// TestPageOptions are the flags of `sitrep test-page`.
type TestPageOptions struct {
	Person  string
	Channel string
	Catalog string
	Timeout time.Duration
	Output  outputFlag
}

// testPageResult is what a test page did.
type testPageResult struct {
	Person     string `json:"person"`
	Channel    string `json:"channel"`
	Delivered  bool   `json:"delivered"`
	ProviderID string `json:"providerId,omitempty"`
	Error      string `json:"error,omitempty"`
}

func newCmdTestPage(d *Deps, runF func(*TestPageOptions) error) *cobra.Command {
	o := &TestPageOptions{}
	cmd := &cobra.Command{
		Use:   "test-page PERSON [--channel sms]",
		Short: "Send a clearly marked test message to someone through the real provider",
		Long: `Send PERSON a message marked TEST through the provider the environment
configures for the channel (TWILIO_*, SENDGRID_* or SMTP_*, SLACK_* or
MATTERMOST_*, PAGERDUTY_*), exactly as a page would go, and show whether the
provider took it: its id for the message, or its error. Exit code 1 when it
was not delivered. The channel defaults to the person's first contact; the
address comes from the catalog (--catalog, SITREP_CATALOG or
examples/catalog.yaml). No incident is opened and nothing can be acknowledged.`,
		Example: `  sitrep test-page alice
  sitrep test-page bob --channel voice
  sitrep test-page carol --channel pagerduty -o json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one PERSON (a catalog handle), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Person = args[0]
			if runF != nil {
				return runF(o)
			}
			return testPageRun(cmd.Context(), d, o)
		},
	}
	cmd.Flags().StringVar(&o.Channel, "channel", "", "sms, voice, email, chat or pagerduty (default the person's first contact)")
	cmd.Flags().StringVar(&o.Catalog, "catalog", "", "catalog file or directory (default $SITREP_CATALOG, else examples/catalog.yaml)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long to wait for the provider")
	o.Output.add(cmd)
	return cmd
}

func testPageRun(ctx context.Context, d *Deps, o *TestPageOptions) error {
	if err := o.Output.check(); err != nil {
		return err
	}
	c, err := catalog.Load(defaultCatalog(d, o.Catalog))
	if err != nil {
		return &usageError{err.Error()}
	}
	p, ok := c.People[o.Person]
	if !ok {
		return usagef("%q is not a person in the catalog", o.Person)
	}
	var have []string
	for _, ct := range p.Contacts {
		have = append(have, string(ct.Channel))
	}
	ch := catalog.Channel(o.Channel)
	if ch == "" && len(have) > 0 {
		ch = catalog.Channel(have[0])
	}
	if !slices.Contains(have, string(ch)) {
		return usagef("%s has no %q contact (they have: %s)", o.Person, ch, strings.Join(have, ", "))
	}
	to, err := c.Address(o.Person, ch)
	if err != nil {
		return &usageError{err.Error()}
	}
	providers, err := worker.Providers(d.Getenv, "")
	if err != nil {
		return &usageError{err.Error()}
	}
	res := testPageResult{Person: o.Person, Channel: string(ch)}
	n, ok := providers[ch]
	if !ok {
		res.Error = fmt.Sprintf("no provider is configured for %s", ch)
	} else {
		ctx, cancel := context.WithTimeout(ctx, o.Timeout)
		defer cancel()
		now := d.Now()
		ref := fmt.Sprintf("sitrep-test-%s-%d", o.Person, now.Unix())
		m := activities.Message{IncidentID: ref, Ref: ref, Person: o.Person, To: to,
			Subject: "[TEST] sitrep test page: no incident",
			Text: fmt.Sprintf("TEST from sitrep for %s, sent %s with `sitrep test-page`. This is not an incident; there is nothing to acknowledge.",
				o.Person, now.UTC().Format(time.RFC3339))}
		if res.ProviderID, err = n.Notify(ctx, m); err != nil {
			res.Error = err.Error()
		}
		res.Delivered = err == nil
	}
	if o.Output.json() {
		if err := writeJSON(d.Out, res); err != nil {
			return err
		}
	} else if res.Delivered {
		fmt.Fprintf(d.Out, "test %s to %s delivered: provider id %s\n", ch, o.Person, res.ProviderID)
	}
	if !res.Delivered {
		return fmt.Errorf("test %s to %s not delivered: %s", ch, o.Person, res.Error)
	}
	return nil
}
