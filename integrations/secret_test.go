package integrations

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretRedacts(t *testing.T) {
	s := Secret("hunter2")
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "s", s)
	j, _ := json.Marshal(struct{ S Secret }{s})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), buf.String(), string(j)} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret shown: %s", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Errorf("Reveal = %q", s.Reveal())
	}
}

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s")
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(file, []byte("  fromfile \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    Secret
		wantErr bool
	}{
		{name: "unset", want: ""},
		{name: "value", env: map[string]string{"X": "v"}, want: "v"},
		{name: "file, trimmed", env: map[string]string{"X_FILE": file}, want: "fromfile"},
		{name: "both", env: map[string]string{"X": "v", "X_FILE": file}, wantErr: true},
		{name: "missing file", env: map[string]string{"X_FILE": filepath.Join(dir, "nope")}, wantErr: true},
		{name: "empty file", env: map[string]string{"X_FILE": empty}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadSecret(func(k string) string { return tt.env[k] }, "X")
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ReadSecret = %q, %v; want %q, error %v", got.Reveal(), err, tt.want.Reveal(), tt.wantErr)
			}
		})
	}
}
