package twilio

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
)

// DefaultBaseURL is Twilio's REST API host.
const DefaultBaseURL = "https://api.twilio.com"

// DefaultTimeout bounds each call to Twilio when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config says how to reach Twilio.
type Config struct {
	AccountSID string              // "AC…"; TWILIO_ACCOUNT_SID
	AuthToken  integrations.Secret // TWILIO_AUTH_TOKEN or TWILIO_AUTH_TOKEN_FILE
	From       string              // the Twilio number pages come from, E.164; TWILIO_FROM
	BaseURL    string              // default DefaultBaseURL; TWILIO_BASE_URL
	HTTPClient *http.Client        // its transport, jar and redirect policy are used; nil for a default one
	Timeout    time.Duration       // bounds each call; default DefaultTimeout
}

// ConfigFromEnv reads TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN (or
// TWILIO_AUTH_TOKEN_FILE), TWILIO_FROM and TWILIO_BASE_URL. ok is false when
// none of them is set: Twilio is then not configured.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	token, err := integrations.ReadSecret(getenv, "TWILIO_AUTH_TOKEN")
	if err != nil {
		return Config{}, true, err
	}
	cfg = Config{
		AccountSID: getenv("TWILIO_ACCOUNT_SID"),
		AuthToken:  token,
		From:       getenv("TWILIO_FROM"),
		BaseURL:    getenv("TWILIO_BASE_URL"),
	}
	if cfg.AccountSID == "" && cfg.AuthToken == "" && cfg.From == "" && cfg.BaseURL == "" {
		return Config{}, false, nil
	}
	var errs []error
	if cfg.AccountSID == "" {
		errs = append(errs, errors.New("TWILIO_ACCOUNT_SID is not set"))
	}
	if cfg.AuthToken == "" {
		errs = append(errs, errors.New("TWILIO_AUTH_TOKEN (or TWILIO_AUTH_TOKEN_FILE) is not set"))
	}
	if cfg.From == "" {
		errs = append(errs, errors.New("TWILIO_FROM is not set"))
	}
	return cfg, true, errors.Join(errs...)
}

var (
	alphanumeric = regexp.MustCompile(`^[a-zA-Z0-9]+$`)
	e164         = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
)

// validate reports every bad field at once. Empty credentials are refused
// because twilio-go would silently replace them with TWILIO_* variables.
func (c Config) validate() error {
	var errs []error
	if !alphanumeric.MatchString(c.AccountSID) {
		errs = append(errs, errors.New("twilio: AccountSID must be set and alphanumeric"))
	}
	if !alphanumeric.MatchString(c.AuthToken.Reveal()) {
		errs = append(errs, errors.New("twilio: AuthToken must be set and alphanumeric"))
	}
	if !e164.MatchString(c.From) {
		errs = append(errs, fmt.Errorf("twilio: From %q is not an E.164 number like +15551234567", c.From))
	}
	if u, err := url.Parse(c.BaseURL); c.BaseURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		errs = append(errs, fmt.Errorf("twilio: BaseURL %q is not an http(s) URL", c.BaseURL))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("twilio: Timeout is negative"))
	}
	return errors.Join(errs...)
}
