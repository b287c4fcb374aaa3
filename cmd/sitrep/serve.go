package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/converter"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/acklink"
	"github.com/sitrep-dev/sitrep/integrations/pagerduty"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/worker"
)

func newCmdServe(d *Deps) *cobra.Command {
	var addr, catalogPath, codecAddr, codecOrigin string
	cmd := &cobra.Command{
		Use:   "serve [--addr :8080] [--catalog PATH]",
		Short: "Run the HTTP intake: alerts from monitoring, stakeholder reports, acknowledgments",
		Long: `Run the HTTP intake. Configuration comes from the environment (see
starter.IntakeConfigFromEnv): SITREP_INTAKE_KEYS, SITREP_PUBLIC_URL,
SITREP_ACK_KEYS, TWILIO_AUTH_TOKEN, SLACK_SIGNING_SECRET,
PAGERDUTY_WEBHOOK_SECRET, and the catalog (--catalog or SITREP_CATALOG) to
know who replied from which phone or chat account.`,
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
			tc, err := d.Dial(cmd.Context())
			if err != nil {
				return err
			}
			defer tc.Close()
			logger := slog.New(slog.NewJSONHandler(d.Err, nil))
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("intake: listen on %s: %w", addr, err)
			}
			stop, err := serveIntake(cmd.Context(), starter.New(tc), cat, links, cfg, ln, logger)
			if err != nil {
				return err
			}
			logger.Info("intake listening", "addr", addr)
			if codecAddr != "" {
				stopCodec, err := serveCodec(cmd.Context(), d, codecAddr, codecOrigin, logger)
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
	cmd.Flags().StringVar(&codecAddr, "codec-addr", "", "with SITREP_CODEC_KEYS: serve the codec endpoint the Temporal UI decrypts with here (e.g. 127.0.0.1:8081; keep it internal)")
	cmd.Flags().StringVar(&codecOrigin, "codec-cors-origin", "http://localhost:8233", "the Temporal UI's origin, allowed to call the codec endpoint")
	cmd.Flags().StringVar(&catalogPath, "catalog", "", "catalog file or directory (default $SITREP_CATALOG)")
	return cmd
}

// serveIntake serves the intake on ln until the returned stop is called,
// which drains requests in flight.
func serveIntake(ctx context.Context, st *starter.Client, cat *catalog.Catalog, links *acklink.Signer,
	cfg starter.IntakeConfig, ln net.Listener, logger *slog.Logger) (stop func(), err error) {
	cfg.AckLinks = links
	cfg.People = catalogPeople{cat}
	cfg.RecentPages = recentPages{st}
	in, err := starter.NewIntake(cfg, st, logger)
	if err != nil {
		_ = ln.Close() // unused now; the config error is what matters
		return nil, &usageError{err.Error()}
	}
	srv := &http.Server{Handler: in.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("intake stopped", "error", err)
		}
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			logger.Warn("intake shutdown", "error", err)
		}
	}, nil
}

// serveCodec serves the payload codec for the Temporal UI and CLI
// (--codec-endpoint), so people with the UI can read encrypted incidents.
func serveCodec(ctx context.Context, d *Deps, addr, origin string, logger *slog.Logger) (func(), error) {
	codec, err := worker.CodecFromEnv(d.Getenv)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	if codec == nil {
		return nil, usagef("--codec-addr needs SITREP_CODEC_KEYS")
	}
	h := converter.NewPayloadCodecHTTPHandler(codec)
	cors := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type,X-Namespace,Authorization")
		w.Header().Set("Access-Control-Allow-Methods", "POST,OPTIONS")
		if r.Method == http.MethodOptions {
			return
		}
		h.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("codec: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: cors, ReadHeaderTimeout: 10 * time.Second}
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

// recentPages finds the incident that last paged a person.
type recentPages struct{ st *starter.Client }

func (r recentPages) LatestFor(person string) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	id, ok, err := r.st.LatestPage(ctx, person)
	return id, ok && err == nil
}

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
	return serveIntake(ctx, starter.New(s.Client), cat, links, cfg, ln, logger)
}
