package worker_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations/acklink"
	"github.com/sitrep-dev/sitrep/worker"
)

// env is a fake environment for LoadConfig and Providers.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// problems splits a joined error into its messages.
func problems(err error) []string {
	if err == nil {
		return nil
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range joined.Unwrap() {
		out = append(out, e.Error())
	}
	return out
}

const (
	key1 = "0123456789abcdef0123456789abcdef"  // 32 characters
	key2 = "fedcba9876543210fedcba9876543210x" // 33 characters
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want worker.Config
	}{
		{
			name: "nothing set: defaults, links off",
			want: worker.Config{AckTTL: 4 * time.Hour},
		},
		{
			name: "everything set",
			vars: map[string]string{
				"SITREP_CATALOG": "/etc/sitrep/catalog", "SITREP_TEMPLATES": "/etc/sitrep/templates",
				"SITREP_PUBLIC_URL": "https://sitrep.example.com/", "SITREP_ACK_KEYS": " " + key1 + " , " + key2 + ",",
				"SITREP_ACK_TTL": "2h30m",
			},
			want: worker.Config{
				CatalogPath: "/etc/sitrep/catalog", TemplatesDir: "/etc/sitrep/templates",
				PublicURL: "https://sitrep.example.com", AckKeys: []string{key1, key2}, AckTTL: 150 * time.Minute,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := worker.LoadConfig(env(tt.vars))
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if got.CatalogPath != tt.want.CatalogPath || got.TemplatesDir != tt.want.TemplatesDir ||
				got.PublicURL != tt.want.PublicURL || !slices.Equal(got.AckKeys, tt.want.AckKeys) || got.AckTTL != tt.want.AckTTL {
				t.Errorf("LoadConfig =\n  %+v\nwant\n  %+v", got, tt.want)
			}
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	keysFile := filepath.Join(dir, "keys")
	if err := os.WriteFile(keysFile, []byte(key1+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		vars map[string]string
		want []string // each a substring of one reported problem, in any order
		n    int      // how many problems exactly; 0 for at least len(want)
	}{
		{
			name: "every bad variable at once",
			vars: map[string]string{"SITREP_ACK_TTL": "soon", "SITREP_ACK_KEYS": "short", "SITREP_PUBLIC_URL": "sitrep.example.com"},
			want: []string{
				`SITREP_ACK_TTL: "soon" is not a positive duration`,
				`SITREP_PUBLIC_URL: "sitrep.example.com" must start with http:// or https://`,
				"SITREP_ACK_KEYS: key 1 is 5 characters; want at least 32",
			},
			n: 3,
		},
		{
			name: "zero ttl",
			vars: map[string]string{"SITREP_ACK_TTL": "0s"},
			want: []string{`SITREP_ACK_TTL: "0s" is not a positive duration`},
		},
		{
			name: "negative ttl",
			vars: map[string]string{"SITREP_ACK_TTL": "-1h"},
			want: []string{`SITREP_ACK_TTL: "-1h" is not a positive duration`},
		},
		{
			name: "second key short",
			vars: map[string]string{"SITREP_PUBLIC_URL": "https://sitrep.example.com", "SITREP_ACK_KEYS": key1 + ",abc"},
			want: []string{"SITREP_ACK_KEYS: key 2 is 3 characters"},
		},
		{
			name: "url without keys",
			vars: map[string]string{"SITREP_PUBLIC_URL": "https://sitrep.example.com"},
			want: []string{"SITREP_PUBLIC_URL and SITREP_ACK_KEYS go together"},
		},
		{
			name: "keys without url",
			vars: map[string]string{"SITREP_ACK_KEYS": key1},
			want: []string{"SITREP_PUBLIC_URL and SITREP_ACK_KEYS go together"},
		},
		{
			name: "keys and keys file both set",
			vars: map[string]string{"SITREP_PUBLIC_URL": "https://sitrep.example.com", "SITREP_ACK_KEYS": key1, "SITREP_ACK_KEYS_FILE": keysFile},
			want: []string{"SITREP_ACK_KEYS and SITREP_ACK_KEYS_FILE are both set"},
		},
		{
			name: "keys file missing",
			vars: map[string]string{"SITREP_ACK_KEYS_FILE": filepath.Join(dir, "nope")},
			want: []string{"SITREP_ACK_KEYS_FILE: "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := worker.LoadConfig(env(tt.vars))
			got := problems(err)
			if len(got) < len(tt.want) {
				t.Fatalf("LoadConfig reported %d problem(s), want at least %d:\n  %s", len(got), len(tt.want), strings.Join(got, "\n  "))
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, w) }) {
					t.Errorf("no problem mentions %q; got:\n  %s", w, strings.Join(got, "\n  "))
				}
			}
			if tt.n != 0 && len(got) != tt.n {
				t.Errorf("got %d problems, want exactly %d:\n  %s", len(got), tt.n, strings.Join(got, "\n  "))
			}
		})
	}
}

func TestLoadConfigKeysFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ack-keys")
	if err := os.WriteFile(file, []byte(key1+","+key2+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := worker.LoadConfig(env(map[string]string{"SITREP_PUBLIC_URL": "https://sitrep.example.com", "SITREP_ACK_KEYS_FILE": file}))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if !slices.Equal(c.AckKeys, []string{key1, key2}) {
		t.Errorf("AckKeys = %q, want the file's two keys", c.AckKeys)
	}
}

func TestConfigSigner(t *testing.T) {
	t.Run("links off", func(t *testing.T) {
		c, err := worker.LoadConfig(env(nil))
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Signer()
		if s != nil || err != nil {
			t.Errorf("Signer() = %v, %v; want nil, nil", s, err)
		}
	})

	t.Run("round trip", func(t *testing.T) {
		c, err := worker.LoadConfig(env(map[string]string{
			"SITREP_PUBLIC_URL": "https://sitrep.example.com/", "SITREP_ACK_KEYS": key1 + "," + key2, "SITREP_ACK_TTL": "1h",
		}))
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Signer()
		if err != nil {
			t.Fatalf("Signer: %v", err)
		}
		u := s.AckURL("inc-checkout-0a1b2c3d", "alice")
		token, ok := strings.CutPrefix(u, "https://sitrep.example.com/ack/")
		if !ok {
			t.Fatalf("AckURL = %q, want it under https://sitrep.example.com/ack/", u)
		}
		claims, err := s.Verify(token, time.Now())
		if err != nil {
			t.Fatalf("Verify(own token): %v", err)
		}
		if claims.Incident != "inc-checkout-0a1b2c3d" || claims.Person != "alice" {
			t.Errorf("claims = %+v", claims)
		}
		if d := time.Until(claims.Expires); d <= 59*time.Minute || d > time.Hour {
			t.Errorf("token expires in %s, want SITREP_ACK_TTL (1h)", d)
		}
		if _, err := s.Verify(token, time.Now().Add(61*time.Minute)); !errors.Is(err, acklink.ErrExpired) {
			t.Errorf("Verify after the TTL = %v, want ErrExpired", err)
		}

		// A link signed with the second (older) key still works: keys rotate.
		old, err := acklink.New("https://sitrep.example.com", time.Hour, []byte(key2))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Verify(old.Token("inc-checkout-0a1b2c3d", "bob", time.Now()), time.Now()); err != nil {
			t.Errorf("Verify(token signed with the second key): %v", err)
		}
		// A link signed with a key not configured does not.
		other, err := acklink.New("https://sitrep.example.com", time.Hour, []byte(strings.Repeat("z", 32)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Verify(other.Token("inc-checkout-0a1b2c3d", "bob", time.Now()), time.Now()); !errors.Is(err, acklink.ErrSignature) {
			t.Errorf("Verify(token signed with an unknown key) = %v, want ErrSignature", err)
		}
	})
}
