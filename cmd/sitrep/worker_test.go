package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/sitrep-dev/sitrep/starter"
)

// TestWorkerLogLevel: a bad SITREP_LOG_LEVEL is a usage error found before
// Temporal is dialled; a good one goes on to dial.
func TestWorkerLogLevel(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantCode int
		wantErr  string
	}{
		{"unknown level", map[string]string{"SITREP_LOG_LEVEL": "loud"}, exitUsage, `SITREP_LOG_LEVEL: "loud" is not debug, info, warn or error`},
		{"known level, Temporal down", map[string]string{"SITREP_LOG_LEVEL": "warn"}, exitUnavailable, "temporal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			d := newDeps()
			d.Out, d.Err = &out, &errb
			d.Getenv = func(k string) string { return tt.env[k] }
			d.Environ = func() []string { return nil }
			dialled := false
			d.Dial = func(context.Context) (client.Client, error) {
				dialled = true
				return nil, starter.ErrUnavailable
			}
			code := run([]string{"worker", "--catalog", "../../examples/catalog.yaml", "--metrics-addr", "127.0.0.1:0"}, d)
			if code != tt.wantCode || !strings.Contains(strings.ToLower(errb.String()), strings.ToLower(tt.wantErr)) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errb.String(), tt.wantCode, tt.wantErr)
			}
			if dialled != (tt.wantCode != exitUsage) {
				t.Errorf("dialled Temporal: %v", dialled)
			}
		})
	}
}

// TestJSONLogger: every line the worker logs is JSON, at the level asked.
func TestJSONLogger(t *testing.T) {
	var errb bytes.Buffer
	d := &Deps{Err: &errb, Getenv: func(k string) string { return map[string]string{"SITREP_LOG_LEVEL": "warn"}[k] }}
	logger, err := jsonLogger(d)
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("hidden")
	logger.Warn("shown", "incidentID", "inc-1")
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines at warn: %q", len(lines), errb.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil || rec["msg"] != "shown" || rec["incidentID"] != "inc-1" {
		t.Fatalf("not the JSON line expected: %q (%v)", lines[0], err)
	}
}
