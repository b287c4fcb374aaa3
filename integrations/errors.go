package integrations

import (
	"fmt"
	"time"
)

// Kind says whether trying again can help.
type Kind int

// The kinds of provider failure.
const (
	// Transient failures (5xx, 429, timeouts, network) may succeed if tried again.
	Transient Kind = iota
	// Permanent failures (invalid number, unsubscribed, bad credentials, other 4xx) never will.
	Permanent
)

// Error is a provider's failure, classified once by the integration that saw it.
type Error struct {
	Provider   string        // "twilio", "sendgrid", ...
	Kind       Kind          // Transient or Permanent
	Status     int           // HTTP status, 0 when none came back
	Code       string        // the provider's own error code, e.g. "21211"
	Message    string        // the provider's message, never a secret
	RetryAfter time.Duration // how long the provider asked us to wait; 0 when it did not say
}

func (e *Error) Error() string {
	kind := "transient"
	if e.Kind == Permanent {
		kind = "permanent"
	}
	s := fmt.Sprintf("%s: %s error", e.Provider, kind)
	if e.Status != 0 {
		s += fmt.Sprintf(" (http %d)", e.Status)
	}
	if e.Code != "" {
		s += " code " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Permanent reports whether trying again cannot help.
func (e *Error) Permanent() bool { return e.Kind == Permanent }
