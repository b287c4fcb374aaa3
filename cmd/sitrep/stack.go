package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"google.golang.org/grpc"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/acklink"
	"github.com/sitrep-dev/sitrep/sandbox"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/worker"
	"github.com/sitrep-dev/sitrep/workflows"
)

// stackOptions says how to run sitrep on one machine: what `sitrep dev`,
// the end-to-end tests and the benchmarks share.
type stackOptions struct {
	TemporalBin string // the pinned Temporal CLI
	DBFile      string // SQLite file; empty keeps history in memory
	TemporalLog io.Writer
	HostPort    string // Temporal's gRPC address; empty picks a free port
	UIPort      string // empty: no UI
	SandboxAddr string // e.g. 127.0.0.1:8025; empty picks a free port
	Catalog     *catalog.Catalog
	Logger      *slog.Logger
	NoWorker    bool                                // start everything but the worker
	Observe     func(activities.Message, time.Time) // the benchmark's probe
	PublicURL   string                              // the intake's URL, for voice keypresses and links
	Links       *acklink.Signer                     // signs acknowledge links; nil for none
	Codec       *worker.Codec                       // encrypts payloads; nil stores them as they are
	// SandboxWrap, when set, wraps the sandbox's handler: tests count requests with it.
	SandboxWrap func(http.Handler) http.Handler
}

// stack is a running Temporal dev server, sandbox and worker.
type stack struct {
	Server     *testsuite.DevServer
	Client     client.Client
	Sandbox    *sandbox.Sandbox
	SandboxURL string
	Worker     *worker.Worker
	Env        func(string) string // the sandbox's provider settings
	PublicURL  string              // where the intake is reached, when one runs

	sandboxSrv *http.Server
}

// startDevServer starts the pinned Temporal CLI's dev server with sitrep's
// search attributes and SQLite tuned for throughput.
func startDevServer(ctx context.Context, o stackOptions, logger log.Logger) (*testsuite.DevServer, error) {
	if _, err := os.Stat(o.TemporalBin); err != nil {
		return nil, fmt.Errorf("temporal CLI not found at %s (run `make build`): %w", o.TemporalBin, err)
	}
	var extra []string
	if o.DBFile != "" {
		// WAL doubles the dev server's throughput on a file.
		extra = append(extra, "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal")
	}
	out := o.TemporalLog
	if out == nil {
		out = io.Discard
	}
	copts := &client.Options{HostPort: o.HostPort, Namespace: "default", Logger: logger,
		ConnectionOptions: client.ConnectionOptions{DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(starter.StartedInterceptor)}}}
	if o.Codec != nil {
		copts.DataConverter, copts.FailureConverter = o.Codec.DataConverter()
	}
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     o.TemporalBin,
		ClientOptions:    copts,
		DBFilename:       o.DBFile,
		EnableUI:         o.UIPort != "",
		UIPort:           o.UIPort,
		LogLevel:         "error",
		SearchAttributes: temporal.NewSearchAttributes(workflows.SearchAttributes...),
		ExtraArgs:        extra,
		Stdout:           out,
		Stderr:           out,
	})
	if err != nil {
		return nil, fmt.Errorf("start temporal dev server: %w", err)
	}
	return srv, nil
}

var widenTransport sync.Once

func startStack(ctx context.Context, o stackOptions) (*stack, error) {
	// All goes through the sandbox; the default transport's two idle
	// connections per host would make a burst of pages queue for sockets.
	// Once: tests start stacks in parallel.
	widenTransport.Do(func() { http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 64 })
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	sdkLog := log.NewStructuredLogger(o.Logger)
	srv, err := startDevServer(ctx, o, sdkLog)
	if err != nil {
		return nil, err
	}
	s := &stack{Server: srv, Client: srv.Client()}
	if err := s.startSandbox(o); err != nil {
		s.Stop()
		return nil, err
	}
	if !o.NoWorker {
		if err := s.StartWorker(o); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

func (s *stack) startSandbox(o stackOptions) error {
	addr := o.SandboxAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	s.SandboxURL = "http://" + ln.Addr().String()
	s.PublicURL = o.PublicURL
	s.Sandbox = sandbox.New(sandbox.Options{Who: who(o.Catalog), IncidentOf: workflows.FindRef, IncidentsOf: workflows.FindIncidentIDs, IntakeURL: o.PublicURL})
	s.Env = s.Sandbox.Env(s.SandboxURL, os.Getenv)
	h := s.Sandbox.Handler()
	if o.SandboxWrap != nil {
		h = o.SandboxWrap(h)
	}
	s.sandboxSrv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.sandboxSrv.Serve(ln) }() // returns ErrServerClosed at Stop
	return nil
}

// StartWorker starts a worker that pages through the sandbox.
func (s *stack) StartWorker(o stackOptions) error {
	notifiers, err := worker.Providers(s.Env, o.PublicURL)
	if err != nil {
		return fmt.Errorf("sandbox providers: %w", err)
	}
	comms, err := worker.CommsFromEnv(s.Env, o.PublicURL)
	if err != nil {
		return fmt.Errorf("sandbox comms providers: %w", err)
	}
	tracker, err := worker.NewTracker(s.Env)
	if err != nil {
		return fmt.Errorf("sandbox tracker: %w", err)
	}
	w, err := worker.New(s.Client, worker.Options{Catalog: activities.StaticCatalog{C: o.Catalog}, Notifiers: notifiers, Links: o.Links,
		Logger: o.Logger, Observe: o.Observe, Comms: comms, Tracker: tracker})
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return err
	}
	s.Worker = w
	return nil
}

// Stop stops the worker, the sandbox and the server, in that order.
func (s *stack) Stop() {
	if s.Worker != nil {
		s.Worker.Stop()
	}
	if s.sandboxSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.sandboxSrv.Shutdown(ctx) // best effort on the way out
	}
	if s.Server != nil {
		if err := s.Server.Stop(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			fmt.Fprintln(os.Stderr, "sitrep: stop temporal:", err)
		}
	}
}

// who names the person behind an address, from the catalog.
func who(c *catalog.Catalog) func(channel, address string) string {
	return func(channel, address string) string {
		h, _ := c.PersonAt(catalog.Channel(channel), address)
		return h
	}
}

// repoFile finds path relative to the module root, from wherever the process runs.
func repoFile(path string) string {
	dir, err := os.Getwd()
	if err != nil {
		return path
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, path)
		}
		if filepath.Dir(d) == d {
			return path
		}
	}
}
