package worker

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/acklink"
)

// Config is the worker's own configuration, from the environment. Provider
// credentials are read by each integration's ConfigFromEnv.
type Config struct {
	CatalogPath  string        // SITREP_CATALOG: a YAML file or a directory of them
	TemplatesDir string        // SITREP_TEMPLATES: overrides for the message templates
	PublicURL    string        // SITREP_PUBLIC_URL: the intake's public URL, for acknowledge links
	AckKeys      []string      // SITREP_ACK_KEYS(_FILE): comma-separated signing keys, first signs; never logged
	AckTTL       time.Duration // SITREP_ACK_TTL: how long an acknowledge link works; default acklink.DefaultTTL
}

// LoadConfig reads Config from getenv and reports every bad variable at once.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		CatalogPath:  getenv("SITREP_CATALOG"),
		TemplatesDir: getenv("SITREP_TEMPLATES"),
		PublicURL:    strings.TrimSuffix(getenv("SITREP_PUBLIC_URL"), "/"),
		AckTTL:       acklink.DefaultTTL,
	}
	var errs []error
	keys, err := integrations.ReadSecret(getenv, "SITREP_ACK_KEYS")
	if err != nil {
		errs = append(errs, err)
	}
	for _, k := range strings.Split(keys.Reveal(), ",") {
		if k = strings.TrimSpace(k); k != "" {
			c.AckKeys = append(c.AckKeys, k)
		}
	}
	if v := getenv("SITREP_ACK_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("SITREP_ACK_TTL: %q is not a positive duration like 4h", v))
		}
		c.AckTTL = d
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		errs = append(errs, fmt.Errorf("SITREP_PUBLIC_URL: %q must start with http:// or https://", c.PublicURL))
	}
	if (c.PublicURL == "") != (len(c.AckKeys) == 0) {
		errs = append(errs, errors.New("SITREP_PUBLIC_URL and SITREP_ACK_KEYS go together: set both for acknowledge links, or neither"))
	}
	for i, k := range c.AckKeys {
		if len(k) < 32 {
			errs = append(errs, fmt.Errorf("SITREP_ACK_KEYS: key %d is %d characters; want at least 32", i+1, len(k)))
		}
	}
	return c, errors.Join(errs...)
}

// Signer builds the acknowledge-link signer, or nil when links are off.
func (c Config) Signer() (*acklink.Signer, error) {
	if len(c.AckKeys) == 0 {
		return nil, nil
	}
	keys := make([][]byte, len(c.AckKeys))
	for i, k := range c.AckKeys {
		keys[i] = []byte(k)
	}
	return acklink.New(c.PublicURL, c.AckTTL, keys...)
}
