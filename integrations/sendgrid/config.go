package sendgrid

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
)

// DefaultBaseURL is SendGrid's API host.
const DefaultBaseURL = "https://api.sendgrid.com"

// DefaultTimeout bounds each send when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config says how to reach SendGrid.
type Config struct {
	APIKey     integrations.Secret // SENDGRID_API_KEY or SENDGRID_API_KEY_FILE
	From       string              // verified sender address, e.g. pager@example.com; SENDGRID_FROM
	FromName   string              // display name, e.g. "sitrep"; SENDGRID_FROM_NAME
	BaseURL    string              // default DefaultBaseURL; SENDGRID_BASE_URL
	HTTPClient *http.Client        // nil for a default one
	Timeout    time.Duration       // bounds each send; default DefaultTimeout
}

// ConfigFromEnv reads SENDGRID_API_KEY (or SENDGRID_API_KEY_FILE),
// SENDGRID_FROM, SENDGRID_FROM_NAME and SENDGRID_BASE_URL. ok is false when
// none of them is set: SendGrid is then not configured.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	key, err := integrations.ReadSecret(getenv, "SENDGRID_API_KEY")
	if err != nil {
		return Config{}, true, err
	}
	cfg = Config{
		APIKey:   key,
		From:     getenv("SENDGRID_FROM"),
		FromName: getenv("SENDGRID_FROM_NAME"),
		BaseURL:  getenv("SENDGRID_BASE_URL"),
	}
	if cfg.APIKey == "" && cfg.From == "" && cfg.FromName == "" && cfg.BaseURL == "" {
		return Config{}, false, nil
	}
	var errs []error
	if cfg.APIKey == "" {
		errs = append(errs, errors.New("SENDGRID_API_KEY (or SENDGRID_API_KEY_FILE) is not set"))
	}
	if cfg.From == "" {
		errs = append(errs, errors.New("SENDGRID_FROM is not set"))
	}
	return cfg, true, errors.Join(errs...)
}

// validate reports every bad field at once.
func (c Config) validate() error {
	var errs []error
	if c.APIKey == "" {
		errs = append(errs, errors.New("sendgrid: APIKey is not set"))
	}
	if a, err := mail.ParseAddress(c.From); err != nil || a.Address != c.From {
		errs = append(errs, fmt.Errorf("sendgrid: From %q is not a bare email address", c.From))
	}
	if u, err := url.Parse(c.BaseURL); c.BaseURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		errs = append(errs, fmt.Errorf("sendgrid: BaseURL %q is not an http(s) URL", c.BaseURL))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("sendgrid: Timeout is negative"))
	}
	return errors.Join(errs...)
}
