package smtp

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
)

// DefaultTimeout bounds each send when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config says how to reach the SMTP server.
type Config struct {
	Addr     string              // host:port; port 465 means TLS from the start, any other STARTTLS when offered; SMTP_ADDR
	Username string              // for AUTH PLAIN, which net/smtp allows only over TLS or to localhost; empty for no AUTH; SMTP_USERNAME
	Password integrations.Secret // SMTP_PASSWORD or SMTP_PASSWORD_FILE
	From     string              // sender, "pager@example.com" or "sitrep <pager@example.com>"; SMTP_FROM
	Timeout  time.Duration       // bounds each send; default DefaultTimeout
}

// ConfigFromEnv reads SMTP_ADDR, SMTP_USERNAME, SMTP_PASSWORD (or
// SMTP_PASSWORD_FILE) and SMTP_FROM. ok is false when none of them is set:
// SMTP is then not configured.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	pass, err := integrations.ReadSecret(getenv, "SMTP_PASSWORD")
	if err != nil {
		return Config{}, true, err
	}
	cfg = Config{Addr: getenv("SMTP_ADDR"), Username: getenv("SMTP_USERNAME"), Password: pass, From: getenv("SMTP_FROM")}
	if cfg.Addr == "" && cfg.Username == "" && cfg.Password == "" && cfg.From == "" {
		return Config{}, false, nil
	}
	var errs []error
	if cfg.Addr == "" {
		errs = append(errs, errors.New("SMTP_ADDR is not set"))
	}
	if cfg.From == "" {
		errs = append(errs, errors.New("SMTP_FROM is not set"))
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		errs = append(errs, errors.New("set both SMTP_USERNAME and SMTP_PASSWORD (or SMTP_PASSWORD_FILE), or neither"))
	}
	return cfg, true, errors.Join(errs...)
}

// validate reports every bad field at once.
func (c Config) validate() error {
	var errs []error
	if host, port, err := net.SplitHostPort(c.Addr); err != nil || host == "" || port == "" {
		errs = append(errs, fmt.Errorf("smtp: Addr %q is not host:port", c.Addr))
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("smtp: From %q is not an email address: %w", c.From, err))
	}
	if (c.Username == "") != (c.Password == "") {
		errs = append(errs, errors.New("smtp: set both Username and Password, or neither"))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("smtp: Timeout is negative"))
	}
	return errors.Join(errs...)
}
