package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"google.golang.org/grpc"

	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/worker"
	"github.com/sitrep-dev/sitrep/workflows"
)

// Incidents is what the incident commands need of the starter.
type Incidents interface {
	Alert(ctx context.Context, al workflows.Alert) (starter.Receipt, error)
	Acknowledge(ctx context.Context, id, requestID string, req workflows.AckRequest) (workflows.AckResult, error)
	Escalate(ctx context.Context, id, requestID string, req workflows.EscalateRequest) (workflows.EscalateResult, error)
	Mitigate(ctx context.Context, id, requestID string, req workflows.PhaseRequest) (workflows.PhaseResult, error)
	Resolve(ctx context.Context, id, requestID string, req workflows.PhaseRequest) (workflows.PhaseResult, error)
	PostUpdate(ctx context.Context, id, requestID string, req workflows.UpdateRequest) (workflows.UpdateResult, error)
	AssignRole(ctx context.Context, id, requestID string, req workflows.RoleRequest) (workflows.RoleResult, error)
	Status(ctx context.Context, id string) (workflows.IncidentState, error)
	List(ctx context.Context, f starter.ListFilter) ([]starter.Listed, error)
}

// Deps is what every command gets from outside: streams, environment, clock
// and a way to reach Temporal. Tests replace them to run the CLI in-process.
type Deps struct {
	In       io.Reader
	Out, Err io.Writer
	Getenv   func(string) string
	Environ  func() []string
	Now      func() time.Time
	// Dial connects to Temporal from TEMPORAL_* env vars and profiles.
	Dial func(ctx context.Context) (client.Client, error)
	// Incidents connects the incident commands to Temporal.
	Incidents func(ctx context.Context) (Incidents, func(), error)
	// Signals are the signals that stop long-running commands.
	Signals []os.Signal
}

func newDeps() *Deps {
	d := &Deps{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv, Environ: os.Environ, Now: time.Now,
		Signals: []os.Signal{os.Interrupt, syscall.SIGTERM}}
	d.Dial = func(ctx context.Context) (client.Client, error) {
		opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{EnvLookup: envLookup{d}})
		if err != nil {
			return nil, fmt.Errorf("temporal config: %w", err)
		}
		opts.Logger = quietLogger()
		codec, err := worker.CodecFromEnv(d.Getenv)
		if err != nil {
			return nil, &usageError{err.Error()}
		}
		if codec != nil {
			opts.DataConverter, opts.FailureConverter = codec.DataConverter()
		}
		opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions, grpc.WithChainUnaryInterceptor(starter.StartedInterceptor))
		c, err := client.DialContext(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("connect to temporal at %s: %w: %v", orDefault(opts.HostPort, client.DefaultHostPort), starter.ErrUnavailable, err)
		}
		return c, nil
	}
	d.Incidents = func(ctx context.Context) (Incidents, func(), error) {
		c, err := d.Dial(ctx)
		if err != nil {
			return nil, nil, err
		}
		return starter.New(c), c.Close, nil
	}
	return d
}

// envLookup lets envconfig read the injected environment.
type envLookup struct{ d *Deps }

func (e envLookup) Environ() []string { return e.d.Environ() }

func (e envLookup) LookupEnv(k string) (string, bool) {
	v := e.d.Getenv(k)
	return v, v != ""
}

// Exit codes, one place: scripts and monitoring tools branch on them.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2 // bad flags or arguments, invalid input
	exitNotFound    = 3 // no such incident
	exitRejected    = 4 // the incident refused the request (unknown responder, already acknowledged)
	exitUnavailable = 5 // Temporal unreachable or no worker answered
)

func exitCode(err error) int {
	var rej *starter.RejectedError
	var usage *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage), errors.Is(err, starter.ErrInvalid):
		return exitUsage
	case errors.Is(err, starter.ErrNotFound):
		return exitNotFound
	case errors.As(err, &rej):
		return exitRejected
	case errors.Is(err, starter.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return exitUnavailable
	}
	return exitError
}

// usageError is a mistake in how the command was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func run(args []string, d *Deps) int {
	root := newCmdRoot(d)
	// An error before a command's RunE started is cobra's: a missing
	// required flag, wrong arguments, an unknown command. All are usage.
	ran := false
	markRun(root, &ran)
	root.SetArgs(args)
	root.SetIn(d.In)
	root.SetOut(d.Out)
	root.SetErr(d.Err)
	ctx, stop := signal.NotifyContext(context.Background(), d.Signals...)
	defer stop()
	err := root.ExecuteContext(ctx)
	var usage *usageError
	if err != nil && !ran && !errors.As(err, &usage) {
		err = &usageError{err.Error()}
	}
	if err != nil {
		fmt.Fprintln(d.Err, "sitrep:", err)
	}
	return exitCode(err)
}

// markRun makes every command under c set *ran when its RunE starts.
func markRun(c *cobra.Command, ran *bool) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			*ran = true
			return run(cmd, args)
		}
	}
	for _, sub := range c.Commands() {
		markRun(sub, ran)
	}
}

func newCmdRoot(d *Deps) *cobra.Command {
	root := &cobra.Command{
		Use:   "sitrep",
		Short: "Incident communication as durable Temporal workflows",
		Long: `sitrep opens an incident from an alert, pages the owning team up its
escalation policy until someone acknowledges, and keeps the incident's record.

Temporal is reached through TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
TEMPORAL_API_KEY, TEMPORAL_TLS_* or a TEMPORAL_PROFILE (default localhost:7233).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	root.AddCommand(
		newCmdAlert(d, nil), newCmdDeclare(d, nil), newCmdAck(d, nil), newCmdEscalate(d, nil),
		newCmdMitigate(d, nil), newCmdResolve(d, nil), newCmdUpdate(d, nil), newCmdRole(d, nil),
		newCmdStatus(d, nil), newCmdList(d, nil), newCmdMerge(d, nil),
		newCmdCatalog(d), newCmdWorker(d), newCmdServe(d), newCmdSandbox(d), newCmdDev(d),
		newCmdReport(d, nil), newCmdDrill(d, nil), newCmdVersion(d), newCmdOnCall(d, nil), newCmdTestPage(d, nil),
		newCmdPostmortem(d), newCmdActions(d), newCmdLearnings(d),
	)
	addHelp(root, d)
	root.Version = currentBuild().String()
	root.SetVersionTemplate("{{.Version}}\n")
	return root
}

// outputFlag adds --output to cmd and checks its value.
type outputFlag struct{ format string }

func (o *outputFlag) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.format, "output", "o", "text", "output format: text or json")
}

func (o *outputFlag) check() error {
	if o.format != "text" && o.format != "json" {
		return usagef("--output must be text or json, not %q", o.format)
	}
	return nil
}

func (o *outputFlag) json() bool { return o.format == "json" }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
