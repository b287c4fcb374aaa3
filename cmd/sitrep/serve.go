package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/acklink"
	"github.com/sitrep-dev/sitrep/integrations/pagerduty"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/worker"
)

func newCmdServe(d *Deps) *cobra.Command {
	var addr, catalogPath, codecAddr, codecOrigin, metricsAddr string
	cmd := &cobra.Command{
		Use:   "serve [--addr :8080] [--metrics-addr 127.0.0.1:9090] [--catalog PATH]",
		Short: "Run the HTTP intake: alerts from monitoring, stakeholder reports, acknowledgments",
		Long: `Run the HTTP intake. Configuration comes from the environment (see
starter.IntakeConfigFromEnv): SITREP_INTAKE_KEYS, SITREP_PUBLIC_URL,
SITREP_ACK_KEYS, TWILIO_AUTH_TOKEN, SLACK_SIGNING_SECRET,
PAGERDUTY_WEBHOOK_SECRET, SITREP_PAGERDUTY_SERVICES, and the catalog
(--catalog or SITREP_CATALOG) to know who replied from which phone or chat
account.

With --metrics-addr, /metrics and /readyz move off the public listener to
that one, which should be reachable only from inside. The codec endpoint
(--codec-addr) asks for SITREP_CODEC_TOKEN as a bearer token; without a token
it serves only on a loopback address.

Logs are JSON lines on stderr, the Temporal SDK's included;
SITREP_LOG_LEVEL sets the level (debug, info, warn, error; default info).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			wcfg, err := worker.LoadConfig(d.Getenv)
			if err != nil {
				return &usageError{err.Error()}
			}
			if catalogPath != "" {
				wcfg.CatalogPath = catalogPath
			}
			if wcfg.CatalogPath == "" {
				return usagef("no catalog: pass --catalog or set SITREP_CATALOG")
			}
			cat, err := catalog.Load(wcfg.CatalogPath)
			if err != nil {
				return &usageError{err.Error()}
			}
			links, err := wcfg.Signer()
			if err != nil {
				return &usageError{err.Error()}
			}
			cfg, err := starter.IntakeConfigFromEnv(d.Getenv)
			if err != nil {
				return &usageError{err.Error()}
			}
			cfg.InternalOps = metricsAddr != ""
			var codecToken integrations.Secret
			if codecAddr != "" {
				if codecToken, err = worker.CodecTokenFromEnv(d.Getenv); err != nil {
					return &usageError{err.Error()}
				}
				if codecToken == "" && worker.CodecAddrNeedsToken(codecAddr) {
					return usagef("--codec-addr %s can be reached from other machines: set SITREP_CODEC_TOKEN, or listen on a loopback address such as 127.0.0.1:8081", codecAddr)
				}
			}
			logger, err := jsonLogger(d)
			if err != nil {
				return err
			}
			conn, err := d.Dial(cmd.Context())
			if err != nil {
				return err
			}
			defer conn.Close()
			tc, err := loggedClient(cmd.Context(), d, conn, logger, nil)
			if err != nil {
				return err
			}
			defer tc.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("intake: listen on %s: %w", addr, err)
			}
			var opsLn net.Listener
			if metricsAddr != "" {
				if opsLn, err = net.Listen("tcp", metricsAddr); err != nil {
					_ = ln.Close() // unused now; the listen error is what matters
					return fmt.Errorf("intake: listen on %s: %w", metricsAddr, err)
				}
			}
			stop, err := serveIntake(cmd.Context(), starter.New(tc), cat, links, cfg, ln, opsLn, logger)
			if err != nil {
				return err
			}
			logger.Info("intake listening", "addr", addr, "metricsAddr", metricsAddr)
			if codecAddr != "" {
				stopCodec, err := serveCodec(cmd.Context(), d, codecAddr, codecOrigin, codecToken, logger)
				if err != nil {
					stop()
					return err
				}
				defer stopCodec()
			}
			<-cmd.Context().Done()
			stop()
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", ":8080", "listen address")
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", "serve /metrics and /readyz here instead of on --addr (e.g. 127.0.0.1:9090; keep it internal)")
	cmd.Flags().StringVar(&codecAddr, "codec-addr", "", "with SITREP_CODEC_KEYS: serve the codec endpoint the Temporal UI decrypts with here (e.g. 127.0.0.1:8081; other than loopback, SITREP_CODEC_TOKEN is required)")
	cmd.Flags().StringVar(&codecOrigin, "codec-cors-origin", "http://localhost:8233", "the Temporal UI's origin, allowed to call the codec endpoint")
	cmd.Flags().StringVar(&catalogPath, "catalog", "", "catalog file or directory (default $SITREP_CATALOG)")
	return cmd
}

// serveIntake serves the intake on ln, and /metrics and /readyz on opsLn
// when it is not nil, until the returned stop is called, which drains
// requests in flight.
func serveIntake(ctx context.Context, st *starter.Client, cat *catalog.Catalog, links *acklink.Signer,
	cfg starter.IntakeConfig, ln, opsLn net.Listener, logger *slog.Logger) (stop func(), err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.AckLinks = links
	cfg.People = catalogPeople{cat}
	cfg.ReportServices = slices.Sorted(maps.Keys(cat.Services))
	cfg.RecentPages = st
	st.Groups = func(service string) bool {
		svc, ok := cat.Services[service]
		return ok && svc.GroupWindow > 0
	}
	cfg.InternalOps = opsLn != nil
	in, err := starter.NewIntake(cfg, st, logger)
	if err != nil {
		_ = ln.Close() // unused now; the config error is what matters
		if opsLn != nil {
			_ = opsLn.Close() // likewise
		}
		return nil, &usageError{err.Error()}
	}
	servers := []*http.Server{httpServer(in.Handler(), logger)}
	lns := []net.Listener{ln}
	if opsLn != nil {
		servers, lns = append(servers, httpServer(in.OpsHandler(), logger)), append(lns, opsLn)
	}
	for i, srv := range servers {
		go func() {
			if err := srv.Serve(lns[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("intake stopped", "addr", lns[i].Addr().String(), "error", err)
			}
		}()
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		for _, srv := range servers {
			if err := srv.Shutdown(sctx); err != nil {
				logger.Warn("intake shutdown", "error", err)
			}
		}
	}, nil
}

// httpServer bounds how long a client may take, so that slow clients
// cannot hold connections open, and logs the server's own errors (which
// name no URL, so no acknowledge token) through logger.
func httpServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// serveCodec serves the payload codec for the Temporal UI and CLI
// (--codec-endpoint, with --codec-auth "Bearer TOKEN"), so people with the
// UI can read encrypted incidents.
func serveCodec(ctx context.Context, d *Deps, addr, origin string, token integrations.Secret, logger *slog.Logger) (func(), error) {
	codec, err := worker.CodecFromEnv(d.Getenv)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	if codec == nil {
		return nil, usagef("--codec-addr needs SITREP_CODEC_KEYS")
	}
	h := codec.CodecHandler(worker.CodecServerOptions{Token: token, Origin: origin, Logger: logger})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("codec: listen on %s: %w", addr, err)
	}
	srv := httpServer(h, logger)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("codec endpoint stopped", "error", err)
		}
	}()
	logger.Info("codec endpoint listening", "addr", addr)
	return func() { _ = srv.Shutdown(context.WithoutCancel(ctx)) }, nil // best effort on the way out
}

// catalogPeople finds who replied, from the catalog.
type catalogPeople struct{ c *catalog.Catalog }

func (p catalogPeople) ByPhone(n string) (string, bool)   { return p.c.PersonAt(catalog.SMS, n) }
func (p catalogPeople) ByChatID(id string) (string, bool) { return p.c.PersonAt(catalog.Chat, id) }
func (p catalogPeople) ByEmail(e string) (string, bool)   { return p.c.PersonAt(catalog.Email, e) }

// The dev stack's intake keys. Not secrets: they open a sandbox.
var devKeys = map[string]string{
	starter.IntegrationAlertmanager: "dev-alertmanager-key",
	starter.IntegrationGrafana:      "dev-grafana-key-000",
	starter.IntegrationGeneric:      "dev-generic-key-000",
	starter.IntegrationReport:       "dev-report-key-0000",
	starter.IntegrationPagerDuty:    "0123456789abcdef0123456789abcdef",
}

// startIntake serves the intake for the dev stack, wired to the sandbox's
// provider secrets so its replies and clicks verify.
func (s *stack) startIntake(ctx context.Context, cat *catalog.Catalog, links *acklink.Signer, ln net.Listener, logger *slog.Logger) (func(), error) {
	cfg, err := starter.IntakeConfigFromEnv(s.Env)
	if err != nil {
		return nil, err
	}
	cfg.PublicURL = s.PublicURL
	cfg.OpenReports = true
	cfg.PagerDutyServices = []string{pagerduty.FakeServiceID} // the sandbox's one PagerDuty service
	for h := range cat.People {
		cfg.PagerDutyUsers[pagerduty.FakeUserID(h)] = h // who acknowledges in the sandbox's PagerDuty
	}
	for integration, key := range devKeys {
		k := starter.Key{Value: key}
		if integration == starter.IntegrationPagerDuty {
			k.Service = "checkout"
		}
		cfg.Keys[integration] = []starter.Key{k}
	}
	return serveIntake(ctx, starter.New(s.Client), cat, links, cfg, ln, nil, logger)
}
