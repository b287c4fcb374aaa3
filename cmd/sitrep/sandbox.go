package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/sandbox"
	"github.com/sitrep-dev/sitrep/workflows"
)

func newCmdSandbox(d *Deps) *cobra.Command {
	var addr, intake, catalogPath string
	cmd := &cobra.Command{
		Use:   "sandbox [--addr 127.0.0.1:8025] [--intake URL] [--catalog PATH]",
		Short: "Run the providers' stand-ins alone, with the inbox page",
		Long: `Run every provider's fake (Twilio, SendGrid, Slack, PagerDuty, Mattermost,
Teams, Statuspage, Jira, Zoom) on one address, with the inbox page. It prints
the environment that points a worker at it. With --intake, the inbox's
buttons (reply to an SMS, press a key, click a chat button, acknowledge in
PagerDuty) reach that intake, signed as the providers sign them. With
--catalog, messages are listed per person.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cat *catalog.Catalog
			if catalogPath != "" {
				c, err := catalog.Load(catalogPath)
				if err != nil {
					return &usageError{err.Error()}
				}
				cat = c
			}
			o := sandbox.Options{IntakeURL: strings.TrimSuffix(intake, "/"), IncidentOf: workflows.FindRef, IncidentsOf: workflows.FindIncidentIDs}
			if cat != nil {
				o.Who = who(cat)
			}
			sb := sandbox.New(o)
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("sandbox: listen on %s: %w", addr, err)
			}
			base := "http://" + ln.Addr().String()
			srv := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 5 * time.Second}
			go func() {
				<-cmd.Context().Done()
				_ = srv.Close() // stopping: in-flight inbox reads may be cut
			}()
			env := sb.Env(base, nil)
			fmt.Fprintf(d.Out, "sandbox inbox on %s\nPoint a worker at it with:\n", base)
			var keys []string
			for _, k := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_BASE_URL",
				"SENDGRID_API_KEY", "SENDGRID_FROM", "SENDGRID_BASE_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET",
				"SLACK_BASE_URL", "PAGERDUTY_EVENTS_URL", "PAGERDUTY_WEBHOOK_SECRET"} {
				keys = append(keys, fmt.Sprintf("  export %s=%q", k, env(k)))
			}
			fmt.Fprintln(d.Out, strings.Join(keys, "\n"))
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("sandbox: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8025", "listen address")
	cmd.Flags().StringVar(&intake, "intake", "", "the intake's URL, for the inbox's reply and click buttons")
	cmd.Flags().StringVar(&catalogPath, "catalog", "", "catalog, to name the person behind each address")
	return cmd
}
