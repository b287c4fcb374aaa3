package statuspage

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
)

// provider names Statuspage in every integrations.Error.
const provider = "statuspage"

// errInvalid marks a request the client refused to send: trying again cannot help.
var errInvalid = integrations.ErrInvalid

// rateLimitBackoff is the wait after a 420/429, which Statuspage sends without
// Retry-After; its limit is 1 request per second over a rolling minute.
const rateLimitBackoff = time.Second

// classify maps every outcome of a request to nil or an *integrations.Error:
//
//	err set (transport, timeout, decode)   → Transient (Permanent when errInvalid)
//	2xx                                    → nil
//	420, 429                               → Transient, RetryAfter from Retry-After or 1s
//	5xx                                    → Transient
//	400, 401, 403, 404, 422 and other 4xx  → Permanent
//
// Message is Statuspage's own "message" (or "error") text, or the start of a
// non-JSON body; it never holds the API key.
func classify(resp *http.Response, body []byte, err error) error {
	if err != nil {
		kind := integrations.Transient
		if errors.Is(err, errInvalid) {
			kind = integrations.Permanent
		}
		return &integrations.Error{Provider: provider, Kind: kind, Message: err.Error()}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &integrations.Error{Provider: provider, Kind: integrations.Permanent, Status: resp.StatusCode, Message: errorMessage(body)}
	switch {
	case resp.StatusCode == 420 || resp.StatusCode == http.StatusTooManyRequests:
		e.Kind = integrations.Transient
		e.RetryAfter = rateLimitBackoff
		if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
	case resp.StatusCode >= 500:
		e.Kind = integrations.Transient
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// errorMessage reads {"message": "..."} or {"error": "..." | ["..."]}; the
// exact key is not documented, so both are accepted. A body that is not JSON
// gives its first line.
func errorMessage(body []byte) string {
	var v struct {
		Message string          `json:"message"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &v) != nil {
		line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		if len(line) > 200 {
			line = line[:200]
		}
		return line
	}
	if v.Message != "" {
		return v.Message
	}
	var s string
	if json.Unmarshal(v.Error, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(v.Error, &list) == nil {
		return strings.Join(list, "; ")
	}
	return ""
}
