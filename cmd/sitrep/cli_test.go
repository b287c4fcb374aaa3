package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// parseCmd runs one command built with a runF that captures its options,
// as `sitrep <cmd> args...` would, and returns what RunE handed to runF.
func parseCmd[O any](t *testing.T, build func(*Deps, func(*O) error) *cobra.Command, args []string) (*O, error) {
	t.Helper()
	var got *O
	cmd := build(&Deps{}, func(o *O) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	if err == nil && got == nil {
		t.Fatalf("%v: no error and runF not called", args)
	}
	return got, err
}

// checkErr fails t unless err is nil when want is "", or contains want.
func checkErr(t *testing.T, err error, want string) bool {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
	return err == nil
}

func TestFlagAlert(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    workflows.Alert
		labels  []string
		output  string
		timeout time.Duration
		wantErr string
	}{
		{
			name: "all flags",
			args: []string{"--service", "checkout", "--severity", "sev1", "--summary", "error rate 12%", "--dedup-key", "k1",
				"--link", "https://grafana.example.com/d/1,https://runbooks.example.com/checkout", "--label", "region=eu", "--label", "team=pay",
				"-o", "json", "--timeout", "5s"},
			want: workflows.Alert{Source: workflows.Monitoring, Integration: "cli", Service: "checkout", Severity: "sev1",
				Summary: "error rate 12%", DedupKey: "k1", Links: []string{"https://grafana.example.com/d/1", "https://runbooks.example.com/checkout"}},
			labels: []string{"region=eu", "team=pay"}, output: "json", timeout: 5 * time.Second,
		},
		{
			name:   "defaults",
			args:   []string{"--service", "checkout", "--severity", "SEV2", "--summary", "slow"},
			want:   workflows.Alert{Source: workflows.Monitoring, Integration: "cli", Service: "checkout", Severity: "SEV2", Summary: "slow"},
			output: "text", timeout: 30 * time.Second,
		},
		{name: "no summary", args: []string{"--service", "checkout", "--severity", "SEV1"}, wantErr: `"summary"`},
		{name: "no service", args: []string{"--severity", "SEV1", "--summary", "x"}, wantErr: `"service"`},
		{name: "nothing", args: nil, wantErr: `required flag(s) "service", "severity", "summary" not set`},
		{name: "an argument", args: []string{"checkout", "--service", "checkout", "--severity", "SEV1", "--summary", "x"}, wantErr: `unknown command "checkout"`},
		{name: "unknown flag", args: []string{"--service", "checkout", "--severity", "SEV1", "--summary", "x", "--team", "pay"}, wantErr: "unknown flag: --team"},
		{name: "bad timeout", args: []string{"--service", "checkout", "--severity", "SEV1", "--summary", "x", "--timeout", "soon"}, wantErr: `invalid argument "soon" for "--timeout"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseCmd(t, newCmdAlert, tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			if !reflect.DeepEqual(o.Alert, tt.want) {
				t.Errorf("Alert =\n  %+v\nwant\n  %+v", o.Alert, tt.want)
			}
			if !slices.Equal(o.Labels, tt.labels) || o.Output.format != tt.output || o.Timeout != tt.timeout {
				t.Errorf("labels %q, output %q, timeout %s; want %q, %q, %s", o.Labels, o.Output.format, o.Timeout, tt.labels, tt.output, tt.timeout)
			}
		})
	}
}

func TestFlagDeclare(t *testing.T) {
	req := []string{"--service", "checkout", "--severity", "SEV2", "--summary", "customers cannot pay"}
	tests := []struct {
		name      string
		args      []string
		want      workflows.Alert
		wantErr   string
		wantUsage bool
	}{
		{
			name: "internal",
			args: append(slices.Clone(req), "--source", "internal", "--reporter", "bob", "--dedup-key", "pay-1"),
			want: workflows.Alert{Source: workflows.Internal, Integration: "cli", Service: "checkout", Severity: "SEV2",
				Summary: "customers cannot pay", Reporter: "bob", DedupKey: "pay-1"},
		},
		{
			name: "external",
			args: append(slices.Clone(req), "--source", "external", "--reporter", "support ticket 4411"),
			want: workflows.Alert{Source: workflows.External, Integration: "cli", Service: "checkout", Severity: "SEV2",
				Summary: "customers cannot pay", Reporter: "support ticket 4411"},
		},
		{name: "monitoring is not a person", args: append(slices.Clone(req), "--source", "monitoring", "--reporter", "bob"),
			wantErr: `--source must be internal or external, not "monitoring"`, wantUsage: true},
		{name: "no source", args: append(slices.Clone(req), "--reporter", "bob"),
			wantErr: `--source must be internal or external, not ""`, wantUsage: true},
		{name: "no reporter", args: append(slices.Clone(req), "--source", "internal"),
			wantErr: "--reporter is required", wantUsage: true},
		{name: "blank reporter", args: append(slices.Clone(req), "--source", "internal", "--reporter", "  "),
			wantErr: "--reporter is required", wantUsage: true},
		{name: "no severity", args: []string{"--service", "checkout", "--summary", "x", "--source", "internal", "--reporter", "bob"},
			wantErr: `"severity"`},
		{name: "declare has no --link", args: append(slices.Clone(req), "--source", "internal", "--reporter", "bob", "--link", "x"),
			wantErr: "unknown flag: --link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseCmd(t, newCmdDeclare, tt.args)
			if tt.wantUsage {
				var u *usageError
				if !errors.As(err, &u) {
					t.Errorf("error %v is not a usage error", err)
				}
			}
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			if !reflect.DeepEqual(o.Alert, tt.want) {
				t.Errorf("Alert =\n  %+v\nwant\n  %+v", o.Alert, tt.want)
			}
		})
	}
}

func TestFlagAckEscalate(t *testing.T) {
	cmds := map[string]func(*Deps, func(*AckOptions) error) *cobra.Command{"ack": newCmdAck, "escalate": newCmdEscalate}
	tests := []struct {
		name    string
		args    []string
		want    AckOptions
		wantErr string
	}{
		{name: "as", args: []string{"inc-checkout-0a1b2c3d", "--as", "alice"},
			want: AckOptions{Incident: "inc-checkout-0a1b2c3d", As: "alice", Output: outputFlag{"text"}, Timeout: 30 * time.Second}},
		{name: "json, timeout", args: []string{"--as", "alice", "-o", "json", "--timeout", "2m", "inc-checkout-0a1b2c3d"},
			want: AckOptions{Incident: "inc-checkout-0a1b2c3d", As: "alice", Output: outputFlag{"json"}, Timeout: 2 * time.Minute}},
		{name: "no --as", args: []string{"inc-checkout-0a1b2c3d"}, wantErr: `required flag(s) "as" not set`},
		{name: "no incident", args: []string{"--as", "alice"}, wantErr: "want exactly one INCIDENT id (as printed by `sitrep alert` or `sitrep list`), got 0 arguments"},
		{name: "two incidents", args: []string{"inc-a-00000000", "inc-b-00000000", "--as", "alice"}, wantErr: "got 2 arguments"},
	}
	for name, build := range cmds {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				o, err := parseCmd(t, build, tt.args)
				if !checkErr(t, err, tt.wantErr) {
					return
				}
				if *o != tt.want {
					t.Errorf("options = %+v, want %+v", *o, tt.want)
				}
			})
		}
	}
}

func TestFlagMitigateResolve(t *testing.T) {
	cmds := map[string]func(*Deps, func(*PhaseOptions) error) *cobra.Command{"mitigate": newCmdMitigate, "resolve": newCmdResolve}
	tests := []struct {
		name    string
		args    []string
		want    PhaseOptions
		wantErr string
	}{
		{name: "by and note", args: []string{"inc-checkout-0a1b2c3d", "--by", "alice", "--note", "rolled back 1.4.2"},
			want: PhaseOptions{Incident: "inc-checkout-0a1b2c3d", By: "alice", Note: "rolled back 1.4.2", Output: outputFlag{"text"}, Timeout: 30 * time.Second}},
		{name: "note and public text", args: []string{"inc-checkout-0a1b2c3d", "--note", "db-7.corp rolled back", "--public", "Payments work again."},
			want: PhaseOptions{Incident: "inc-checkout-0a1b2c3d", Note: "db-7.corp rolled back", Public: "Payments work again.", Output: outputFlag{"text"}, Timeout: 30 * time.Second}},
		{name: "nothing but the incident", args: []string{"inc-checkout-0a1b2c3d", "-o", "json"},
			want: PhaseOptions{Incident: "inc-checkout-0a1b2c3d", Output: outputFlag{"json"}, Timeout: 30 * time.Second}},
		{name: "no incident", args: []string{"--by", "alice"}, wantErr: "got 0 arguments"},
		{name: "two incidents", args: []string{"inc-a-00000000", "inc-b-00000000"}, wantErr: "got 2 arguments"},
		{name: "no --as here", args: []string{"inc-a-00000000", "--as", "alice"}, wantErr: "unknown flag: --as"},
	}
	for name, build := range cmds {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				o, err := parseCmd(t, build, tt.args)
				if !checkErr(t, err, tt.wantErr) {
					return
				}
				if *o != tt.want {
					t.Errorf("options = %+v, want %+v", *o, tt.want)
				}
			})
		}
	}
}

func TestFlagStatusList(t *testing.T) {
	t.Run("status", func(t *testing.T) {
		tests := []struct {
			name    string
			args    []string
			want    StatusOptions
			wantErr string
		}{
			{name: "defaults", args: []string{"inc-checkout-0a1b2c3d"},
				want: StatusOptions{Incident: "inc-checkout-0a1b2c3d", Output: outputFlag{"text"}, Timeout: 15 * time.Second}},
			{name: "json", args: []string{"inc-checkout-0a1b2c3d", "--output", "json", "--timeout", "1s"},
				want: StatusOptions{Incident: "inc-checkout-0a1b2c3d", Output: outputFlag{"json"}, Timeout: time.Second}},
			{name: "no incident", args: nil, wantErr: "got 0 arguments"},
			{name: "two incidents", args: []string{"a", "b"}, wantErr: "got 2 arguments"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				o, err := parseCmd(t, newCmdStatus, tt.args)
				if checkErr(t, err, tt.wantErr) && *o != tt.want {
					t.Errorf("options = %+v, want %+v", *o, tt.want)
				}
			})
		}
	})
	t.Run("list", func(t *testing.T) {
		tests := []struct {
			name    string
			args    []string
			want    ListOptions
			wantErr string
		}{
			{name: "defaults", args: nil,
				want: ListOptions{Filter: starter.ListFilter{Limit: 50}, Output: outputFlag{"text"}, Timeout: 15 * time.Second}},
			{name: "filters", args: []string{"--service", "checkout", "--phase", "acknowledged", "--open", "--limit", "5", "-o", "json"},
				want: ListOptions{Filter: starter.ListFilter{Service: "checkout", Phase: "acknowledged", Open: true, Limit: 5}, Output: outputFlag{"json"}, Timeout: 15 * time.Second}},
			{name: "an argument", args: []string{"checkout"}, wantErr: `unknown command "checkout"`},
			{name: "bad limit", args: []string{"--limit", "many"}, wantErr: `invalid argument "many" for "--limit"`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				o, err := parseCmd(t, newCmdList, tt.args)
				if checkErr(t, err, tt.wantErr) && *o != tt.want {
					t.Errorf("options = %+v, want %+v", *o, tt.want)
				}
			})
		}
	})
}

// fakeIncidents is the starter as the incident commands see it: it records
// each call and answers with what the test set.
type fakeIncidents struct {
	receipt  starter.Receipt
	ack      workflows.AckResult
	escalate workflows.EscalateResult
	phase    workflows.PhaseResult
	state    workflows.IncidentState
	list     []starter.Listed
	update   workflows.UpdateResult
	role     workflows.RoleResult
	err      error

	mu     sync.Mutex
	calls  []string
	reqIDs []string // the request IDs of update and role
	updRq  workflows.UpdateRequest
	roleRq workflows.RoleRequest
	alert  workflows.Alert
	ackRq  workflows.AckRequest
	escRq  workflows.EscalateRequest
	phRq   workflows.PhaseRequest
	filt   starter.ListFilter
}

func (f *fakeIncidents) call(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeIncidents) Alert(_ context.Context, al workflows.Alert) (starter.Receipt, error) {
	f.call("alert")
	f.alert = al
	return f.receipt, f.err
}

func (f *fakeIncidents) Acknowledge(_ context.Context, id, _ string, req workflows.AckRequest) (workflows.AckResult, error) {
	f.call("ack " + id)
	f.ackRq = req
	return f.ack, f.err
}

func (f *fakeIncidents) Escalate(_ context.Context, id, _ string, req workflows.EscalateRequest) (workflows.EscalateResult, error) {
	f.call("escalate " + id)
	f.escRq = req
	return f.escalate, f.err
}

func (f *fakeIncidents) Mitigate(_ context.Context, id, _ string, req workflows.PhaseRequest) (workflows.PhaseResult, error) {
	f.call("mitigate " + id)
	f.phRq = req
	return f.phase, f.err
}

func (f *fakeIncidents) Resolve(_ context.Context, id, _ string, req workflows.PhaseRequest) (workflows.PhaseResult, error) {
	f.call("resolve " + id)
	f.phRq = req
	return f.phase, f.err
}

func (f *fakeIncidents) Status(_ context.Context, id string) (workflows.IncidentState, error) {
	f.call("status " + id)
	return f.state, f.err
}

func (f *fakeIncidents) List(_ context.Context, flt starter.ListFilter) ([]starter.Listed, error) {
	f.call("list")
	f.filt = flt
	return f.list, f.err
}

var testNow = time.Date(2026, 3, 2, 10, 4, 5, 0, time.UTC)

// cliResult is what a user sees after running sitrep.
type cliResult struct {
	stdout, stderr string
	code           int
	closed         bool // the connection was closed
}

// sitrep runs the CLI in-process with inc as the connection to Temporal.
func sitrep(t *testing.T, inc Incidents, args ...string) cliResult {
	t.Helper()
	return sitrepEnv(t, inc, nil, args...)
}

// sitrepEnv runs the CLI in-process with env as its environment.
func sitrepEnv(t *testing.T, inc Incidents, env map[string]string, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	var closed bool
	d := newDeps()
	d.In, d.Out, d.Err = strings.NewReader(""), &out, &errb
	d.Getenv = func(k string) string { return env[k] }
	d.Environ = func() []string { return nil }
	d.Now = func() time.Time { return testNow.In(time.FixedZone("CET", 3600)) }
	d.Dial = func(context.Context) (client.Client, error) {
		t.Errorf("sitrep %s dialled Temporal", strings.Join(args, " "))
		return nil, errors.New("no temporal in this test")
	}
	d.Incidents = func(context.Context) (Incidents, func(), error) {
		if inc == nil {
			t.Errorf("sitrep %s connected to Temporal", strings.Join(args, " "))
			return nil, nil, errors.New("no temporal in this test")
		}
		return inc, func() { closed = true }, nil
	}
	code := run(args, d)
	return cliResult{out.String(), errb.String(), code, closed}
}

func TestCLIAlert(t *testing.T) {
	const id = "inc-checkout-0a1b2c3d"
	base := []string{"alert", "--service", "checkout", "--severity", "sev1", "--summary", "error rate 12%"}
	tests := []struct {
		name       string
		args       []string
		receipt    starter.Receipt
		wantOut    string
		wantLabels map[string]string
	}{
		{name: "opened", args: base, receipt: starter.Receipt{IncidentID: id, Opened: true}, wantOut: "opened " + id + "\n"},
		{name: "folded", args: base, receipt: starter.Receipt{IncidentID: id}, wantOut: "folded into " + id + "\n"},
		{name: "json", args: append(slices.Clone(base), "-o", "json"), receipt: starter.Receipt{IncidentID: id, Opened: true},
			wantOut: "{\n  \"id\": \"" + id + "\",\n  \"opened\": true\n}\n"},
		{name: "labels", args: append(slices.Clone(base), "--label", "region=eu-west-1", "--label", "query=a=b", "--label", "empty="),
			receipt: starter.Receipt{IncidentID: id}, wantOut: "folded into " + id + "\n",
			wantLabels: map[string]string{"region": "eu-west-1", "query": "a=b", "empty": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeIncidents{receipt: tt.receipt}
			r := sitrep(t, f, tt.args...)
			if r.code != 0 || r.stdout != tt.wantOut || r.stderr != "" {
				t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant exit 0, stdout %q", r.code, r.stdout, r.stderr, tt.wantOut)
			}
			if !r.closed {
				t.Error("the connection was not closed")
			}
			want := workflows.Alert{Source: workflows.Monitoring, Integration: "cli", Service: "checkout", Severity: catalog.SEV1,
				Summary: "error rate 12%", Labels: tt.wantLabels, ReceivedAt: testNow}
			if !reflect.DeepEqual(f.alert, want) {
				t.Errorf("starter got\n  %+v\nwant\n  %+v", f.alert, want)
			}
			if f.alert.ReceivedAt.Location() != time.UTC {
				t.Errorf("ReceivedAt in %s, want UTC", f.alert.ReceivedAt.Location())
			}
		})
	}

	t.Run("json decodes as a receipt", func(t *testing.T) {
		r := sitrep(t, &fakeIncidents{receipt: starter.Receipt{IncidentID: id}}, append(slices.Clone(base), "-o", "json")...)
		var got starter.Receipt
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got != (starter.Receipt{IncidentID: id}) {
			t.Errorf("stdout %q decodes to %+v, %v", r.stdout, got, err)
		}
	})

	t.Run("declare", func(t *testing.T) {
		f := &fakeIncidents{receipt: starter.Receipt{IncidentID: id, Opened: true}}
		r := sitrep(t, f, "declare", "--service", "checkout", "--severity", "sev2", "--summary", "customers cannot pay",
			"--source", "external", "--reporter", "support")
		if r.code != 0 || r.stdout != "opened "+id+"\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if f.alert.Source != workflows.External || f.alert.Reporter != "support" || f.alert.Severity != catalog.SEV2 || f.alert.Integration != "cli" {
			t.Errorf("starter got %+v", f.alert)
		}
	})
}

func TestCLIUsageErrors(t *testing.T) {
	alert := []string{"alert", "--service", "checkout", "--severity", "SEV1", "--summary", "x"}
	tests := []struct {
		name    string
		args    []string
		wantErr string // on stderr
	}{
		{"alert bad output", append(slices.Clone(alert), "-o", "yaml"), `--output must be text or json, not "yaml"`},
		{"alert label without =", append(slices.Clone(alert), "--label", "region"), `--label "region": want key=value`},
		{"alert label without key", append(slices.Clone(alert), "--label", "=eu"), `--label "=eu": want key=value`},
		{"alert unknown flag", append(slices.Clone(alert), "--team", "pay"), "unknown flag: --team"},
		{"declare bad source", []string{"declare", "--service", "checkout", "--severity", "SEV1", "--summary", "x", "--source", "pager", "--reporter", "bob"},
			`--source must be internal or external, not "pager"`},
		{"declare no reporter", []string{"declare", "--service", "checkout", "--severity", "SEV1", "--summary", "x", "--source", "internal"},
			"--reporter is required"},
		{"ack bad output", []string{"ack", "inc-a-00000000", "--as", "alice", "-o", "yaml"}, "--output must be text or json"},
		{"ack two incidents", []string{"ack", "inc-a-00000000", "inc-b-00000000", "--as", "alice"}, "want exactly one INCIDENT id"},
		{"escalate bad output", []string{"escalate", "inc-a-00000000", "--as", "alice", "-o", "xml"}, "--output must be text or json"},
		{"mitigate bad output", []string{"mitigate", "inc-a-00000000", "-o", "yaml"}, "--output must be text or json"},
		{"resolve no incident", []string{"resolve"}, "want exactly one INCIDENT id"},
		{"status bad output", []string{"status", "inc-a-00000000", "-o", "table"}, "--output must be text or json"},
		{"list bad output", []string{"list", "-o", "csv"}, "--output must be text or json"},
		{"list bad timeout", []string{"list", "--timeout", "soon"}, `invalid argument "soon" for "--timeout"`},
		{"list bad since", []string{"list", "--since", "lately"}, `--since "lately": want an age (24h, 7d) or a time`},
		// Missing required flags and stray arguments are usage mistakes too.
		{"alert no summary", []string{"alert", "--service", "checkout", "--severity", "SEV1"}, `required flag(s) "summary" not set`},
		{"ack no --as", []string{"ack", "inc-a-00000000"}, `required flag(s) "as" not set`},
		{"list an argument", []string{"list", "checkout"}, `unknown command "checkout"`},
		{"unknown command", []string{"acknowledge", "inc-a-00000000"}, `unknown command "acknowledge"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeIncidents{}
			r := sitrep(t, f, tt.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, exitUsage, tt.wantErr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			if len(f.calls) != 0 {
				t.Errorf("starter called: %v", f.calls)
			}
		})
	}
}

func TestCLIAckEscalate(t *testing.T) {
	const id = "inc-checkout-0a1b2c3d"
	at := time.Date(2026, 3, 2, 10, 7, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name     string
		args     []string
		f        *fakeIncidents
		wantCode int
		wantOut  string
		wantErr  string
		wantCall string
	}{
		{
			name: "ack", args: []string{"ack", id, "--as", "alice"}, f: &fakeIncidents{ack: workflows.AckResult{Person: "alice", At: at}},
			wantOut: "acknowledged " + id + " as alice at 2026-03-02T09:07:00Z\n", wantCall: "ack " + id,
		},
		{
			name: "ack json", args: []string{"ack", id, "--as", "alice", "-o", "json"}, f: &fakeIncidents{ack: workflows.AckResult{Person: "alice", At: at.UTC()}},
			wantOut: "{\n  \"person\": \"alice\",\n  \"at\": \"2026-03-02T09:07:00Z\"\n}\n", wantCall: "ack " + id,
		},
		{
			name: "ack already acknowledged",
			args: []string{"ack", id, "--as", "alice"},
			f: &fakeIncidents{err: &starter.RejectedError{Type: workflows.RejectAlreadyAcknowledged,
				Message: "already acknowledged by bob at 10:05", By: "bob", At: at}},
			wantCode: exitRejected, wantErr: "sitrep: already acknowledged by bob at 10:05\n", wantCall: "ack " + id,
		},
		{
			name: "ack unknown responder",
			args: []string{"ack", id, "--as", "mallory"},
			f: &fakeIncidents{err: fmt.Errorf("acknowledge %s: %w", id, &starter.RejectedError{Type: workflows.RejectUnknownResponder,
				Message: "mallory is not a responder on " + id})},
			wantCode: exitRejected, wantErr: "mallory is not a responder on " + id, wantCall: "ack " + id,
		},
		{
			name: "ack no such incident", args: []string{"ack", id, "--as", "alice"},
			f:        &fakeIncidents{err: fmt.Errorf("acknowledge %s: %w (it may be resolved already)", id, starter.ErrNotFound)},
			wantCode: exitNotFound, wantErr: "no such incident", wantCall: "ack " + id,
		},
		{
			name: "escalate", args: []string{"escalate", id, "--as", "alice"}, f: &fakeIncidents{escalate: workflows.EscalateResult{Level: 2}},
			wantOut: "escalated " + id + ": now paging level 2\n", wantCall: "escalate " + id,
		},
		{
			name: "escalate json", args: []string{"escalate", id, "--as", "alice", "-o", "json"}, f: &fakeIncidents{escalate: workflows.EscalateResult{Level: 3}},
			wantOut: "{\n  \"level\": 3\n}\n", wantCall: "escalate " + id,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sitrep(t, tt.f, tt.args...)
			if r.code != tt.wantCode || r.stdout != tt.wantOut || !strings.Contains(r.stderr, tt.wantErr) || (tt.wantErr == "" && r.stderr != "") {
				t.Errorf("exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr, tt.wantCode, tt.wantOut, tt.wantErr)
			}
			if !slices.Equal(tt.f.calls, []string{tt.wantCall}) {
				t.Errorf("starter calls %v, want %s", tt.f.calls, tt.wantCall)
			}
		})
	}
	t.Run("the request says who, from the cli", func(t *testing.T) {
		f := &fakeIncidents{ack: workflows.AckResult{Person: "alice", At: at}, escalate: workflows.EscalateResult{Level: 2}}
		sitrep(t, f, "ack", id, "--as", "alice")
		sitrep(t, f, "escalate", id, "--as", "bob")
		if f.ackRq != (workflows.AckRequest{Person: "alice", Channel: "cli"}) || f.escRq != (workflows.EscalateRequest{Person: "bob", Channel: "cli"}) {
			t.Errorf("requests %+v, %+v", f.ackRq, f.escRq)
		}
	})
}

func TestCLISitrepAs(t *testing.T) {
	id := "inc-checkout-0a1b2c3d"
	env := map[string]string{"SITREP_AS": "carol"}
	t.Run("every --as", func(t *testing.T) {
		d := newDeps()
		d.Getenv = func(k string) string { return env[k] }
		n := 0
		walk(newCmdRoot(d), func(c *cobra.Command) {
			if f := c.Flags().Lookup("as"); f != nil {
				n++
				if f.Value.String() != "carol" || f.Annotations[cobra.BashCompOneRequiredFlag] != nil {
					t.Errorf("%s --as: %q, annotations %v; want carol, not required", c.CommandPath(), f.Value, f.Annotations)
				}
			}
		})
		if n < 4 {
			t.Errorf("%d commands with --as", n)
		}
	})
	for _, verb := range []string{"ack", "escalate"} {
		t.Run(verb+" takes SITREP_AS", func(t *testing.T) {
			f := &fakeIncidents{}
			r := sitrepEnv(t, f, env, verb, id)
			got := f.ackRq.Person
			if verb == "escalate" {
				got = f.escRq.Person
			}
			if r.code != 0 || got != "carol" {
				t.Errorf("exit %d (%s), as %q; want carol", r.code, r.stderr, got)
			}
		})
		t.Run(verb+" --as wins", func(t *testing.T) {
			f := &fakeIncidents{}
			sitrepEnv(t, f, env, verb, id, "--as", "dave")
			if f.ackRq.Person != "dave" && f.escRq.Person != "dave" {
				t.Errorf("as %q/%q, want dave", f.ackRq.Person, f.escRq.Person)
			}
		})
	}
}

func TestCLIMitigateResolve(t *testing.T) {
	const id = "inc-checkout-0a1b2c3d"
	at := time.Date(2026, 3, 2, 11, 30, 0, 0, time.UTC)
	tests := []struct {
		name    string
		args    []string
		phase   workflows.Phase
		wantOut string
		wantReq workflows.PhaseRequest
	}{
		{"mitigate", []string{"mitigate", id, "--by", "alice", "--note", "rolled back"}, workflows.Mitigated,
			id + " is mitigated (2026-03-02T11:30:00Z)\n", workflows.PhaseRequest{By: "alice", Note: "rolled back"}},
		{"resolve", []string{"resolve", id}, workflows.Resolved, id + " is resolved (2026-03-02T11:30:00Z)\n", workflows.PhaseRequest{}},
		{"resolve json", []string{"resolve", id, "--by", "bob", "-o", "json"}, workflows.Resolved,
			"{\n  \"phase\": \"resolved\",\n  \"at\": \"2026-03-02T11:30:00Z\"\n}\n", workflows.PhaseRequest{By: "bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeIncidents{phase: workflows.PhaseResult{Phase: tt.phase, At: at}}
			r := sitrep(t, f, tt.args...)
			if r.code != 0 || r.stdout != tt.wantOut || r.stderr != "" {
				t.Errorf("exit %d\nstdout %q\nstderr %q\nwant stdout %q", r.code, r.stdout, r.stderr, tt.wantOut)
			}
			if want := []string{tt.args[0] + " " + id}; !slices.Equal(f.calls, want) || f.phRq != tt.wantReq {
				t.Errorf("starter calls %v with %+v, want %v with %+v", f.calls, f.phRq, want, tt.wantReq)
			}
		})
	}
}

func incidentState() workflows.IncidentState {
	first := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	acked := first.Add(3 * time.Minute)
	return workflows.IncidentState{
		ID: "inc-checkout-0a1b2c3d", Phase: workflows.Acknowledged, Service: "checkout", KnownService: true,
		Team: "payments", Policy: "payments-critical", Tier: 1, Severity: catalog.SEV1, Source: workflows.Monitoring,
		Summary: "checkout error rate 12%", DedupKey: "checkout|error rate",
		AlertsState: workflows.AlertsState{AlertCount: 3, FirstSeen: first, LastSeen: first.Add(2 * time.Minute)},
		PagingState: workflows.PagingState{AcknowledgedBy: "bob", AcknowledgedAt: &acked,
			Escalation: workflows.Escalation{Level: 1, Paged: true, Deadline: first.Add(33 * time.Minute), Done: true},
			Pages: []workflows.PageEntry{
				{Person: "alice", Channel: catalog.Voice, Level: 1, Round: 1, Kind: "page", At: first, Outcome: workflows.Failed,
					Error: "twilio: permanent error (http 400) code 21217"},
				{Person: "alice", Channel: catalog.SMS, Level: 1, Round: 1, Kind: "page", At: first.Add(time.Second), Outcome: workflows.Delivered, ProviderID: "SM1"},
				{Person: "bob", Channel: catalog.Chat, Level: 2, Round: 1, Kind: "page", At: first.Add(5 * time.Minute), Outcome: workflows.Delivered},
				{Person: "frank", Channel: catalog.Email, Kind: "fallback", At: first.Add(6 * time.Minute), Outcome: workflows.Cancelled},
			}},
		Timeline: []workflows.Event{
			{At: first, Kind: "opened", Text: "checkout error rate 12%"},
			{At: acked, Kind: "acknowledged", Actor: "bob", Text: "via sms"},
		},
		Plan: workflows.Plan{Channels: []catalog.Channel{catalog.Voice, catalog.SMS}, Repeat: 2, Fallback: "frank",
			Levels:     []workflows.PlanLevel{{Delay: 5 * time.Minute, Targets: []catalog.Target{{Kind: catalog.TargetRotation, Name: "payments-primary"}}}},
			Responders: []string{"alice", "bob", "frank"}, RepageAfterAck: 30 * time.Minute},
	}
}

func TestCLIStatus(t *testing.T) {
	st := incidentState()

	t.Run("text", func(t *testing.T) {
		f := &fakeIncidents{state: st}
		r := sitrep(t, f, "status", st.ID)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		lines := strings.Split(r.stdout, "\n")
		want := []string{
			"inc-checkout-0a1b2c3d  SEV1 checkout  ACKNOWLEDGED",
			"  checkout error rate 12%",
			"  source monitoring, 3 alert(s), first 2026-03-02 09:00:00Z, last 2026-03-02 09:02:00Z",
			"  team payments, policy payments-critical, tier 1",
			"  acknowledged by bob at 2026-03-02 09:03:00Z",
			"",
			"Pages",
		}
		if len(lines) < len(want) || !slices.Equal(lines[:len(want)], want) {
			t.Fatalf("status starts\n%s\nwant\n%s", r.stdout, strings.Join(want, "\n"))
		}
		// The pages table: one row per attempt, columns aligned.
		table := lines[len(want) : len(want)+5]
		for i, w := range [][]string{
			{"TIME", "LEVEL", "PERSON", "CHANNEL", "OUTCOME"},
			{"2026-03-02", "09:00:00Z", "1", "alice", "voice", "failed:", "twilio:", "permanent", "error", "(http", "400)", "code", "21217"},
			{"2026-03-02", "09:00:01Z", "1", "alice", "sms", "delivered"},
			{"2026-03-02", "09:05:00Z", "2", "bob", "chat", "delivered"},
			{"2026-03-02", "09:06:00Z", "fallback", "frank", "email", "cancelled"},
		} {
			if got := strings.Fields(table[i]); !slices.Equal(got, w) {
				t.Errorf("pages row %d = %q, want fields %q", i, table[i], w)
			}
		}
		col := strings.Index(table[0], "PERSON")
		for _, row := range table[1:] {
			if len(row) <= col || row[col-1] != ' ' || row[col] == ' ' {
				t.Errorf("pages row %q is not aligned under PERSON (column %d)", row, col)
			}
		}
		rest := strings.Join(lines[len(want)+5:], "\n")
		for _, w := range []string{
			"\nTimeline\n",
			"  2026-03-02 09:00:00Z  opened       checkout error rate 12%\n",
			"  2026-03-02 09:03:00Z  acknowledged via sms (bob)\n",
		} {
			if !strings.Contains(rest, w) {
				t.Errorf("status does not show %q:\n%s", w, r.stdout)
			}
		}
		if !slices.Equal(f.calls, []string{"status " + st.ID}) {
			t.Errorf("starter calls %v", f.calls)
		}
	})

	t.Run("unknown service, nobody acknowledged, no pages", func(t *testing.T) {
		st := incidentState()
		st.KnownService, st.Team, st.AcknowledgedBy, st.AcknowledgedAt, st.Unacknowledged, st.Pages = false, "sre", "", nil, true, nil
		st.Phase, st.Source, st.Reporter = workflows.Triggered, workflows.External, "support"
		r := sitrep(t, &fakeIncidents{state: st}, "status", st.ID)
		for _, w := range []string{
			"  TRIGGERED\n",
			"  source external (reported by support), 3 alert(s)",
			"tier 1 (service not in the catalog: catch-all team)\n",
			"  NOBODY ACKNOWLEDGED: escalation ran out, fallback contact told\n",
			"\nTimeline\n",
		} {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("status does not show %q:\n%s", w, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "Pages") {
			t.Errorf("status shows a pages table with no pages:\n%s", r.stdout)
		}
	})

	t.Run("json round-trips", func(t *testing.T) {
		r := sitrep(t, &fakeIncidents{state: st}, "status", st.ID, "-o", "json")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		var got workflows.IncidentState
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("%v in %q", err, r.stdout)
		}
		if !reflect.DeepEqual(got, st) {
			t.Errorf("decoded\n  %+v\nwant\n  %+v", got, st)
		}
	})
}

func TestCLIList(t *testing.T) {
	rows := []starter.Listed{
		{ID: "inc-checkout-0a1b2c3d", Phase: "acknowledged", Service: "checkout", Severity: "SEV1", Source: "monitoring", Team: "payments",
			Status: "Running", Started: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Summary: "checkout 5xx above 5%"},
		{ID: "inc-dns-11223344", Phase: "resolved", Service: "dns", Severity: "SEV3", Source: "internal", Team: "sre",
			Status: "Completed", Started: time.Date(2026, 3, 1, 22, 15, 0, 0, time.FixedZone("EST", -5*3600)),
			Summary: "resolver timeouts in eu-west reported by support after a long night of\nretries"},
	}
	tests := []struct {
		name       string
		args       []string
		rows       []starter.Listed
		wantOut    string
		wantErr    string
		wantFilter starter.ListFilter
	}{
		{
			name: "table", args: []string{"list"}, rows: rows, wantFilter: starter.ListFilter{Limit: 50},
			// testNow is 2026-03-02 10:04:05 UTC: ages 1h4m and 6h49m.
			wantOut: "ID                     SEVERITY  SERVICE   PHASE         SOURCE      TEAM      STARTED            AGE    STATUS     SUMMARY\n" +
				"inc-checkout-0a1b2c3d  SEV1      checkout  acknowledged  monitoring  payments  2026-03-02 09:00Z  1h4m   Running    checkout 5xx above 5%\n" +
				"inc-dns-11223344       SEV3      dns       resolved      internal    sre       2026-03-02 03:15Z  6h49m  Completed  resolver timeouts in eu-west reported by support after a lo…\n",
		},
		{
			name: "since an age", args: []string{"list", "-o", "json", "--since", "7d"}, wantOut: "[]\n",
			wantFilter: starter.ListFilter{Since: testNow.Add(-7 * 24 * time.Hour), Limit: 50},
		},
		{
			name: "since a time", args: []string{"list", "-o", "json", "--since", "2026-03-01 00:00 Europe/Berlin"}, wantOut: "[]\n",
			wantFilter: starter.ListFilter{Since: time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC), Limit: 50},
		},
		{
			name: "empty table", args: []string{"list", "--service", "ci", "--open"}, wantErr: "no incidents match\n",
			wantFilter: starter.ListFilter{Service: "ci", Open: true, Limit: 50},
		},
		{
			name: "empty json", args: []string{"list", "-o", "json", "--phase", "mitigated", "--limit", "3"}, wantOut: "[]\n",
			wantFilter: starter.ListFilter{Phase: "mitigated", Limit: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeIncidents{list: tt.rows}
			r := sitrep(t, f, tt.args...)
			if r.code != 0 || r.stdout != tt.wantOut || r.stderr != tt.wantErr {
				t.Errorf("exit %d\nstdout:\n%s\nstderr %q\nwant stdout:\n%s\nstderr %q", r.code, r.stdout, r.stderr, tt.wantOut, tt.wantErr)
			}
			if f.filt.Since.Equal(tt.wantFilter.Since) {
				f.filt.Since = tt.wantFilter.Since // the same instant, in another zone
			}
			if f.filt != tt.wantFilter {
				t.Errorf("filter %+v, want %+v", f.filt, tt.wantFilter)
			}
		})
	}

	t.Run("json round-trips", func(t *testing.T) {
		r := sitrep(t, &fakeIncidents{list: rows}, "list", "-o", "json")
		var got []starter.Listed
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("%v in %q", err, r.stdout)
		}
		if len(got) != len(rows) {
			t.Fatalf("decoded %d rows, want %d", len(got), len(rows))
		}
		for i := range rows {
			if got[i].ID != rows[i].ID || got[i].Phase != rows[i].Phase || got[i].Team != rows[i].Team || !got[i].Started.Equal(rows[i].Started) || got[i].Summary != rows[i].Summary {
				t.Errorf("row %d = %+v, want %+v", i, got[i], rows[i])
			}
		}
	})
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"other", errors.New("boom"), exitError},
		{"usage", usagef("bad"), exitUsage},
		{"invalid", fmt.Errorf("%w: severity %q", starter.ErrInvalid, "SEV9"), exitUsage},
		{"not found", fmt.Errorf("status inc-x: %w", starter.ErrNotFound), exitNotFound},
		{"rejected", &starter.RejectedError{Type: workflows.RejectWrongPhase, Message: "resolved"}, exitRejected},
		{"rejected, wrapped", fmt.Errorf("ack: %w", &starter.RejectedError{Message: "no"}), exitRejected},
		{"unavailable", fmt.Errorf("connect: %w: refused", starter.ErrUnavailable), exitUnavailable},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), exitUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		err     error
		want    int
		wantErr string
	}{
		{"not found", []string{"status", "inc-a-00000000"}, fmt.Errorf("status inc-a-00000000: %w", starter.ErrNotFound), exitNotFound,
			"sitrep: status inc-a-00000000: no such incident\n"},
		{"unavailable", []string{"list"}, fmt.Errorf("list: %w: connection refused", starter.ErrUnavailable), exitUnavailable,
			"temporal is unreachable"},
		{"invalid alert", []string{"alert", "--service", "checkout", "--severity", "SEV9", "--summary", "x"},
			fmt.Errorf("%w: unknown severity SEV9", starter.ErrInvalid), exitUsage, "invalid request: unknown severity SEV9"},
		{"rejected", []string{"resolve", "inc-a-00000000"}, &starter.RejectedError{Type: workflows.RejectWrongPhase, Message: "inc-a-00000000 is already resolved"},
			exitRejected, "sitrep: inc-a-00000000 is already resolved\n"},
		{"no answer in time", []string{"mitigate", "inc-a-00000000"}, fmt.Errorf("mitigate: %w", context.DeadlineExceeded), exitUnavailable,
			"no answer within 30s (temporal is unreachable): is `sitrep worker` running?"},
		{"anything else", []string{"escalate", "inc-a-00000000", "--as", "alice"}, errors.New("boom"), exitError, "sitrep: boom\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sitrep(t, &fakeIncidents{err: tt.err}, tt.args...)
			if r.code != tt.want || !strings.Contains(r.stderr, tt.wantErr) || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stderr %q", r.code, r.stdout, r.stderr, tt.want, tt.wantErr)
			}
		})
	}

	t.Run("cannot connect", func(t *testing.T) {
		var errb bytes.Buffer
		d := newDeps()
		d.Out, d.Err = &bytes.Buffer{}, &errb
		d.Incidents = func(context.Context) (Incidents, func(), error) {
			return nil, nil, fmt.Errorf("connect to temporal at localhost:7233: %w: refused", starter.ErrUnavailable)
		}
		if code := run([]string{"status", "inc-a-00000000"}, d); code != exitUnavailable || !strings.Contains(errb.String(), "connect to temporal at localhost:7233") {
			t.Errorf("exit %d, stderr %q; want %d", code, errb.String(), exitUnavailable)
		}
	})
}

func TestCLICatalogValidate(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	// Line 6 names a person nobody defined; line 9 has a field that does not exist.
	src := `catch_all: ops
people:
  - handle: ann
    contacts:
      - sms: "+15550100001"
teams:
  - name: ops
    members: [ann, zed]
    pager: yes
`
	if err := os.WriteFile(bad, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  []string
	}{
		{
			name: "example", args: []string{"catalog", "validate", "../../examples/catalog.yaml"},
			wantOut: "../../examples/catalog.yaml: ok: 7 people, 3 rotations, 2 teams, 6 services, 3 escalation policies\n",
		},
		{
			name: "mistakes", args: []string{"catalog", "validate", bad}, wantCode: exitUsage,
			wantErr: []string{bad + ":8: ", `"zed"`, bad + ":9: ", "pager"},
		},
		{
			name: "no such file", args: []string{"catalog", "validate", filepath.Join(dir, "nope.yaml")}, wantCode: exitUsage,
			wantErr: []string{"nope.yaml"},
		},
		{name: "no file", args: []string{"catalog", "validate"}, wantCode: exitUsage, wantErr: []string{"want one catalog file or directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sitrep(t, nil, tt.args...)
			if r.code != tt.wantCode || r.stdout != tt.wantOut {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q", r.code, r.stdout, r.stderr, tt.wantCode, tt.wantOut)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not mention %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

func TestCLIWorkerConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr []string
	}{
		{name: "no catalog", args: []string{"worker"}, wantErr: []string{"no catalog: pass --catalog or set SITREP_CATALOG"}},
		{name: "catalog missing", args: []string{"worker", "--catalog", "/nonexistent/catalog.yaml"}, wantErr: []string{"/nonexistent/catalog.yaml"}},
		{name: "bad config", args: []string{"worker", "--catalog", "../../examples/catalog.yaml"},
			env:     map[string]string{"SITREP_ACK_TTL": "soon", "SITREP_PUBLIC_URL": "https://sitrep.example.com"},
			wantErr: []string{"SITREP_ACK_TTL", "SITREP_PUBLIC_URL and SITREP_ACK_KEYS go together"}},
		{name: "half-configured provider", args: []string{"worker", "--catalog", "../../examples/catalog.yaml"},
			env: map[string]string{"TWILIO_ACCOUNT_SID": "AC1"}, wantErr: []string{"TWILIO_AUTH_TOKEN", "TWILIO_FROM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			d := newDeps()
			d.Out, d.Err = &out, &errb
			d.Getenv = func(k string) string { return tt.env[k] }
			d.Environ = func() []string { return nil }
			d.Dial = func(context.Context) (client.Client, error) {
				t.Error("the worker dialled Temporal with a bad configuration")
				return nil, starter.ErrUnavailable
			}
			code := run(tt.args, d)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr %q", code, exitUsage, errb.String())
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr does not mention %q:\n%s", w, errb.String())
				}
			}
		})
	}
}
