package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/log"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/worker"
)

func newCmdWorker(d *Deps) *cobra.Command {
	var catalogPath, metricsAddr string
	cmd := &cobra.Command{
		Use:   "worker [--catalog PATH] [--metrics-addr ADDR]",
		Short: "Run the worker: incidents page through the providers configured in the environment",
		Long: `Run the worker. The catalog comes from --catalog or SITREP_CATALOG; providers
from their environment variables (TWILIO_*, SENDGRID_*, SMTP_*, SLACK_*,
MATTERMOST_*, PAGERDUTY_*; for stakeholder comms also STATUSPAGE_*,
TEAMS_WEBHOOK_URL, ZOOM_* or VIDEO_URL_TEMPLATE); a provider with no configuration is off (PagerDuty's Events API
needs none: it is always on), and the worker says which channels are live
when it starts. SIGHUP reloads the catalog; one that does not validate is
refused and the one in force stays.

With --metrics-addr the worker serves /metrics (the Temporal SDK's metrics
and sitrep's: pages by channel and outcome, first-page latency,
acknowledgments, escalations, exhausted policies, provider errors),
/healthz and /readyz. Every log line is JSON on stderr, the SDK's included;
SITREP_LOG_LEVEL sets the level (debug, info, warn, error; default info).`,
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
			logger, err := jsonLogger(d)
			if err != nil {
				return err
			}
			opts, err := workerOptions(cfg, cat, notifiers, logger)
			if err != nil {
				return err
			}
			if opts.Comms, err = worker.CommsFromEnv(d.Getenv, cfg.PublicURL); err != nil {
				return &usageError{err.Error()}
			}
			if opts.Tracker, err = worker.NewTracker(d.Getenv); err != nil {
				return &usageError{err.Error()}
			}
			if metricsAddr != "" {
				if opts.Metrics, err = worker.NewMetrics(buildVersion()); err != nil {
					return err
				}
			}
			conn, err := d.Dial(cmd.Context())
			if err != nil {
				return err
			}
			defer conn.Close()
			tc, err := loggedClient(cmd.Context(), d, conn, logger, opts.Metrics)
			if err != nil {
				return err
			}
			defer tc.Close()
			go reloadOnHangup(cmd.Context(), cat, opts.Notifiers, logger)
			return runWorker(cmd, tc, opts, metricsAddr, logger)
		},
	}
	cmd.Flags().StringVar(&catalogPath, "catalog", "", "catalog file or directory (default $SITREP_CATALOG)")
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", "serve /metrics, /healthz and /readyz here (e.g. 127.0.0.1:9464); off when empty")
	return cmd
}

// jsonLogger logs JSON lines on stderr at SITREP_LOG_LEVEL.
func jsonLogger(d *Deps) (*slog.Logger, error) {
	var level slog.Level
	if v := d.Getenv("SITREP_LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return nil, usagef("SITREP_LOG_LEVEL: %q is not debug, info, warn or error", v)
		}
	}
	return slog.New(slog.NewJSONHandler(d.Err, &slog.HandlerOptions{Level: level})), nil
}

// loggedClient is a Temporal client on conn's connection, with the SDK's logs
// going through logger (JSON, like the worker's and the intake's own) and its
// metrics into m, when m is not nil.
func loggedClient(ctx context.Context, d *Deps, conn client.Client, logger *slog.Logger, m *worker.Metrics) (client.Client, error) {
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{EnvLookup: envLookup{d}})
	if err != nil {
		return nil, fmt.Errorf("temporal config: %w", err)
	}
	opts.Logger = log.NewStructuredLogger(logger)
	if m != nil {
		opts.MetricsHandler = m.SDKHandler()
	}
	codec, err := worker.CodecFromEnv(d.Getenv)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	if codec != nil {
		opts.DataConverter, opts.FailureConverter = codec.DataConverter()
	}
	tc, err := client.NewClientFromExistingWithContext(ctx, conn, opts)
	if err != nil {
		return nil, fmt.Errorf("temporal client: %w", err)
	}
	return tc, nil
}

// buildVersion is the module version sitrep was built as; "(devel)" from a checkout.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
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

func runWorker(cmd *cobra.Command, tc client.Client, o worker.Options, metricsAddr string, logger *slog.Logger) error {
	w, err := worker.New(tc, o)
	if err != nil {
		return err
	}
	if metricsAddr != "" {
		ln, err := net.Listen("tcp", metricsAddr)
		if err != nil {
			return fmt.Errorf("metrics: listen on %s: %w", metricsAddr, err)
		}
		srv := &http.Server{Handler: o.Metrics.Handler(w.Ready), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("metrics endpoint stopped", "error", err)
			}
		}()
		defer func() { _ = srv.Close() }() // on the way out; scrapes in flight do not matter
		logger.Info("metrics listening", "addr", ln.Addr().String())
	}
	live := worker.Live(o.Notifiers)
	c := o.Catalog.Current()
	logger.Info("worker started", "channelsLive", strings.Join(live, ","), "commsLive", strings.Join(worker.CommsLive(o.Comms), ","),
		"people", len(c.People), "services", len(c.Services))
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
