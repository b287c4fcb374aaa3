package sendgrid

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sendgrid/rest"

	"github.com/sitrep-dev/sitrep/integrations"
)

// classify maps what sendgrid-go returned to nil (2xx) or an
// *integrations.Error: transport errors, 429 and 5xx are transient, every
// other status permanent. sendgrid-go itself reports no error for any status.
func classify(resp *rest.Response, err error, now time.Time) *integrations.Error {
	if err != nil {
		return &integrations.Error{Provider: "sendgrid", Kind: integrations.Transient, Message: err.Error()}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &integrations.Error{Provider: "sendgrid", Kind: integrations.Permanent, Status: resp.StatusCode, Message: errorMessage(resp.Body)}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Kind, e.RetryAfter = integrations.Transient, rateLimitReset(http.Header(resp.Headers), now)
	case resp.StatusCode >= 500:
		e.Kind = integrations.Transient
	}
	return e
}

// errorMessage joins SendGrid's {"errors":[{"field","message"}]}, or returns
// the start of a body in another shape.
func errorMessage(body string) string {
	var b struct {
		Errors []struct {
			Field   *string `json:"field"`
			Message string  `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal([]byte(body), &b) != nil || len(b.Errors) == 0 {
		if len(body) > 200 {
			body = body[:200]
		}
		return strings.TrimSpace(body)
	}
	var parts []string
	for _, e := range b.Errors {
		if e.Field != nil && *e.Field != "" {
			parts = append(parts, *e.Field+": "+e.Message)
		} else {
			parts = append(parts, e.Message)
		}
	}
	return strings.Join(parts, "; ")
}

// rateLimitReset turns X-RateLimit-Reset (Unix seconds when the limit resets)
// into a wait from now; 0 when absent or past.
func rateLimitReset(h http.Header, now time.Time) time.Duration {
	s, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil {
		return 0
	}
	if d := time.Unix(s, 0).Sub(now); d > 0 {
		return d
	}
	return 0
}
