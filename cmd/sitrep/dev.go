package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/acklink"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

// DevOptions are the flags of `sitrep dev`.
type DevOptions struct {
	Catalog     string
	Temporal    string
	State       string
	Port        int
	UIPort      int
	SandboxPort int
	IntakePort  int
}

func newCmdDev(d *Deps) *cobra.Command {
	o := &DevOptions{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run everything locally: Temporal dev server, sandbox providers, worker, intake",
		Long: `Run sitrep on this machine: the pinned Temporal dev server (history in
.sitrep/, kept across runs), the sandbox that stands in for every provider,
the worker and the intake. Ctrl-C stops everything.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return devRun(cmd, d, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Catalog, "catalog", "examples/catalog.yaml", "catalog file or directory")
	f.StringVar(&o.Temporal, "temporal", "bin/temporal", "the pinned Temporal CLI (make build builds it)")
	f.StringVar(&o.State, "state", ".sitrep", "where the dev server keeps its database")
	f.IntVar(&o.Port, "port", 7233, "Temporal gRPC port")
	f.IntVar(&o.UIPort, "ui-port", 8233, "Temporal Web UI port")
	f.IntVar(&o.SandboxPort, "sandbox-port", 8025, "sandbox inbox port")
	f.IntVar(&o.IntakePort, "intake-port", 8080, "intake port")
	return cmd
}

func devRun(cmd *cobra.Command, d *Deps, o *DevOptions) error {
	ctx := cmd.Context()
	cat, err := catalog.Load(o.Catalog)
	if err != nil {
		return &usageError{err.Error()}
	}
	if err := os.MkdirAll(o.State, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	key, err := devAckKey(filepath.Join(o.State, "ack.key"))
	if err != nil {
		return err
	}
	publicURL := fmt.Sprintf("http://localhost:%d", o.IntakePort)
	links, err := acklink.New(publicURL, 24*time.Hour, key)
	if err != nil {
		return err
	}
	logFile, err := os.OpenFile(filepath.Join(o.State, "temporal.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("temporal log: %w", err)
	}
	defer logFile.Close()
	workerLog, err := os.OpenFile(filepath.Join(o.State, "worker.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("worker log: %w", err)
	}
	defer workerLog.Close()

	// Take the intake's port first: a port in use fails before anything starts.
	intakeLn, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", o.IntakePort))
	if err != nil {
		return fmt.Errorf("intake: %w", err)
	}
	fmt.Fprintln(d.Err, "starting the Temporal dev server...")
	s, err := startStack(ctx, stackOptions{
		TemporalBin: o.Temporal,
		DBFile:      filepath.Join(o.State, "temporal.db"),
		TemporalLog: logFile,
		HostPort:    fmt.Sprintf("127.0.0.1:%d", o.Port),
		UIPort:      fmt.Sprint(o.UIPort),
		SandboxAddr: fmt.Sprintf("127.0.0.1:%d", o.SandboxPort),
		Catalog:     cat,
		Logger:      slog.New(slog.NewTextHandler(workerLog, nil)),
		PublicURL:   publicURL,
		Links:       links,
	})
	if err != nil {
		return err
	}
	defer s.Stop()
	stopIntake, err := s.startIntake(ctx, cat, links, intakeLn, slog.New(slog.NewTextHandler(workerLog, nil)))
	if err != nil {
		return err
	}
	defer stopIntake()

	fmt.Fprintf(d.Out, `
sitrep is running.
  Temporal UI    http://localhost:%d   (incidents: WorkflowType = "Incident")
  sandbox inbox  http://localhost:%d   (every SMS, call, email, chat message, PagerDuty event)
  intake         %s   (alerts, acknowledge links, replies)
  logs           %s/worker.log, %s/temporal.log

In another terminal:
  bin/sitrep alert --service checkout --severity SEV1 --summary "checkout error rate 12%%"
  bin/sitrep status <id>                 # who was paged, when, on which channel
  bin/sitrep ack <id> --as alice         # or use the buttons in the sandbox inbox
  bin/sitrep role <id> --role partner-comms --person bob --as alice
  bin/sitrep update <id> --status identified --message "Card payments fail for some customers; fix rolling out" --as carol
  bin/sitrep mitigate <id> --by alice --note "Rolled back the config push; watching error rates"
  bin/sitrep resolve <id> --by alice --note "A bad config push broke card payments for 20 minutes; rolled back"
The sandbox shows the status page, the war room (responders only) and every
stakeholder email; the comms lead is reminded before each update is due.
Pages appear below as they go out. Ctrl-C stops everything.

`, o.UIPort, o.SandboxPort, publicURL, o.State, o.State)
	follow(ctx, s.Sandbox.Inbox, d)
	fmt.Fprintln(d.Err, "\nstopping...")
	return nil
}

// follow prints each new sandbox message until ctx is done.
func follow(ctx interface{ Done() <-chan struct{} }, box *inbox.Inbox, d *Deps) {
	seen := len(box.List(inbox.Filter{}))
	for {
		wake := box.Changed()
		msgs := box.List(inbox.Filter{})
		for i := len(msgs) - seen - 1; i >= 0; i-- {
			m := msgs[i]
			text := strings.ReplaceAll(m.Text, "\n", " / ")
			if len(text) > 110 {
				text = text[:107] + "..."
			}
			fmt.Fprintf(d.Out, "%s  %-9s → %-6s %s\n", m.At.Format("15:04:05"), m.Channel, orDefault(m.Person, m.To), text)
		}
		seen = len(msgs)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
	}
}

// devAckKey reads the dev ack-link key, making one the first time, so links
// in the sandbox keep working across restarts.
func devAckKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("ack key: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("ack key: %w", err)
	}
	key := []byte(hex.EncodeToString(raw))
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("ack key: %w", err)
	}
	return key, nil
}
