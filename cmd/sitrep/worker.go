package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/worker"
)

func newCmdWorker(d *Deps) *cobra.Command {
	var catalogPath string
	cmd := &cobra.Command{
		Use:   "worker [--catalog PATH]",
		Short: "Run the worker: incidents page through the providers configured in the environment",
		Long: `Run the worker. The catalog comes from --catalog or SITREP_CATALOG; providers
from their environment variables (TWILIO_*, SENDGRID_*, SMTP_*, SLACK_*,
PAGERDUTY_*); a provider with no configuration is off (PagerDuty's Events API
needs none: it is always on), and the worker says which channels are live
when it starts. SIGHUP reloads the catalog; one that does not validate is
refused and the one in force stays.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := worker.LoadConfig(d.Getenv)
			if err != nil {
				return &usageError{err.Error()}
			}
			if catalogPath != "" {
				cfg.CatalogPath = catalogPath
			}
			if cfg.CatalogPath == "" {
				return usagef("no catalog: pass --catalog or set SITREP_CATALOG")
			}
			cat, err := worker.LoadCatalogFile(cfg.CatalogPath)
			if err != nil {
				return &usageError{err.Error()}
			}
			notifiers, err := worker.Providers(d.Getenv, cfg.PublicURL)
			if err != nil {
				return &usageError{err.Error()}
			}
			logger := slog.New(slog.NewJSONHandler(d.Err, nil))
			opts, err := workerOptions(cfg, cat, notifiers, logger)
			if err != nil {
				return err
			}
			tc, err := d.Dial(cmd.Context())
			if err != nil {
				return err
			}
			defer tc.Close()
			go reloadOnHangup(cmd.Context(), cat, opts.Notifiers, logger)
			return runWorker(cmd, tc, opts, logger)
		},
	}
	cmd.Flags().StringVar(&catalogPath, "catalog", "", "catalog file or directory (default $SITREP_CATALOG)")
	return cmd
}

func workerOptions(cfg worker.Config, cat activities.Catalog, n map[catalog.Channel]activities.Notifier, logger *slog.Logger) (worker.Options, error) {
	tmpl, err := activities.LoadTemplates(cfg.TemplatesDir)
	if err != nil {
		return worker.Options{}, &usageError{fmt.Sprintf("SITREP_TEMPLATES: %v", err)}
	}
	links, err := cfg.Signer()
	if err != nil {
		return worker.Options{}, &usageError{err.Error()}
	}
	return worker.Options{Catalog: cat, Notifiers: n, Links: links, Templates: tmpl, Logger: logger}, nil
}

func runWorker(cmd *cobra.Command, tc client.Client, o worker.Options, logger *slog.Logger) error {
	w, err := worker.New(tc, o)
	if err != nil {
		return err
	}
	live := worker.Live(o.Notifiers)
	c := o.Catalog.Current()
	logger.Info("worker started", "channelsLive", strings.Join(live, ","), "people", len(c.People), "services", len(c.Services))
	warnMissing(c, o.Notifiers, logger)
	return w.Run(cmd.Context())
}

func warnMissing(c *catalog.Catalog, n map[catalog.Channel]activities.Notifier, logger *slog.Logger) {
	if missing := worker.Missing(c, n); len(missing) > 0 {
		logger.Warn("the catalog pages on channels with no provider: those pages will fail and fall back", "channelsOff", strings.Join(missing, ","))
	}
}

// reloadOnHangup reloads the catalog on SIGHUP; a catalog that does not
// validate is refused, loudly, and the one in force stays.
func reloadOnHangup(ctx context.Context, cat *worker.CatalogFile, n map[catalog.Channel]activities.Notifier, logger *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := cat.Reload(); err != nil {
				logger.Error("catalog reload refused; the previous catalog stays in force", "error", err)
				continue
			}
			c := cat.Current()
			logger.Info("catalog reloaded", "people", len(c.People), "services", len(c.Services))
			warnMissing(c, n, logger)
		}
	}
}
