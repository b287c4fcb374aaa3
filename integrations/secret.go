package integrations

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Secret is a credential. It redacts itself when printed or logged; only
// Reveal gives the value, at the one place that sends it to the provider.
type Secret string

// String returns "[redacted]" so that fmt and %v never print the value.
func (s Secret) String() string { return "[redacted]" }

// GoString returns "[redacted]" so that %#v never prints the value.
func (s Secret) GoString() string { return "[redacted]" }

// LogValue returns "[redacted]" so that log/slog never logs the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalText returns "[redacted]" so that JSON and YAML dumps never hold the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// ReadSecret reads the secret named name from the environment: the variable
// name itself, or, when name+"_FILE" is set, the trimmed contents of that
// file. Setting both is an error. An unset secret is "" with no error.
func ReadSecret(getenv func(string) string, name string) (Secret, error) {
	val, file := getenv(name), getenv(name+"_FILE")
	switch {
	case val != "" && file != "":
		return "", fmt.Errorf("%s and %s_FILE are both set; set one", name, name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("%s_FILE: %s is empty", name, file)
		}
		return Secret(s), nil
	default:
		return Secret(val), nil
	}
}
