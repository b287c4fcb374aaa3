package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/sitrep-dev/sitrep/starter"
)

// runOffline runs the CLI with env and no Temporal: a command that dials fails the test.
func runOffline(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	d := newDeps()
	d.Out, d.Err = &out, &errb
	d.Getenv = func(k string) string { return env[k] }
	d.Environ = func() []string { return nil }
	d.Now = func() time.Time { return time.Date(2026, 12, 20, 12, 0, 0, 0, time.UTC) }
	d.Dial = func(context.Context) (client.Client, error) {
		t.Error("dialled Temporal for a request that should have been refused first")
		return nil, starter.ErrUnavailable
	}
	code := run(args, d)
	return code, out.String(), errb.String()
}

func TestCLIPostmortemUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "pm.yaml")
	if err := os.WriteFile(bad, []byte("root_cause: x\nimpact:\n  duration: 45m\n  customers: all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown field in the file", []string{"postmortem", "submit", "inc-x", "--file", bad, "--as", "alice"}, "line 4: field customers not found"},
		{"no file", []string{"postmortem", "submit", "inc-x", "--file", filepath.Join(dir, "none.yaml"), "--as", "alice"}, "none.yaml"},
		{"no --as", []string{"postmortem", "approve", "inc-x"}, `required flag(s) "as" not set`},
		{"empty comment", []string{"postmortem", "reject", "inc-x", "--as", "rita", "--comment", " "}, "--comment is empty"},
		{"no incident", []string{"postmortem", "show"}, "want exactly one INCIDENT"},
		{"action without due", []string{"actions", "add", "inc-x", "--title", "t", "--owner", "bob", "--as", "mia"}, `required flag(s) "due" not set`},
		{"learnings without catalog", []string{"learnings"}, "no catalog: pass --catalog or set SITREP_CATALOG"},
		{"learnings bad since", []string{"learnings", "--catalog", "x", "--since", "last week"}, `--since "last week"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runOffline(t, nil, tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, exitUsage, tc.want)
			}
		})
	}
}

// `sitrep learnings` lists the record the catalog names, since a date or an age.
func TestCLILearnings(t *testing.T) {
	dir := t.TempDir()
	record := filepath.Join(dir, "learnings.jsonl")
	lines := `{"at":"2026-11-02T10:00:00Z","ref":"a:1","incident":"inc-a","service":"checkout","severity":"SEV1","summary":"errors","learnings":["Check the database first."]}
{"at":"2026-12-15T10:00:00Z","ref":"b:1","incident":"inc-b","service":"search","severity":"SEV2","summary":"slow","learnings":["Warm the cache after a deploy."]}
`
	if err := os.WriteFile(record, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	cat, err := os.ReadFile("../../examples/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(cat), "learnings_file: .sitrep/learnings.jsonl", "learnings_file: "+record, 1)
	if src == string(cat) {
		t.Fatal("examples/catalog.yaml names no learnings_file .sitrep/learnings.jsonl")
	}
	catPath := filepath.Join(dir, "catalog.yaml")
	if err := os.WriteFile(catPath, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SITREP_CATALOG": catPath}
	code, out, stderr := runOffline(t, env, "learnings")
	if code != exitOK || !strings.Contains(out, "Check the database first.") || !strings.Contains(out, "Warm the cache") {
		t.Fatalf("exit %d, out %q, err %q", code, out, stderr)
	}
	for _, since := range []string{"2026-12-01", "10d"} {
		_, out, _ = runOffline(t, env, "learnings", "--since", since)
		if strings.Contains(out, "Check the database") || !strings.Contains(out, "Warm the cache") {
			t.Errorf("--since %s: %q", since, out)
		}
	}
}

// The example post-mortem is a valid submission for the example catalog.
func TestExamplePostmortemIsValid(t *testing.T) {
	d := newDeps()
	sub, err := readSubmission(d, "../../examples/postmortem.yaml")
	if err != nil {
		t.Fatal(err)
	}
	known := func(h string) bool { return h == "alice" || h == "bob" }
	if err := sub.Validate(known, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if len(sub.ActionItems) != 2 || sub.Impact.Duration != "45m" || len(sub.Learnings) != 2 {
		t.Errorf("read %+v", sub)
	}
}
