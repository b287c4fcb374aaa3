package jira

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
)

// provider names Jira in every integrations.Error.
const provider = "jira"

// errInvalid marks a request the client refused to send: trying again cannot help.
var errInvalid = integrations.ErrInvalid

// classify maps every outcome of a request to nil or an *integrations.Error:
//
//	err set (transport, timeout, decode)          → Transient (Permanent when errInvalid)
//	2xx                                           → nil
//	429                                           → Transient, RetryAfter from Retry-After (seconds) or X-RateLimit-Reset (ISO-8601); Code = RateLimit-Reason
//	5xx (503 may carry Retry-After)               → Transient
//	400, 401, 403, 404, 410 and other 4xx         → Permanent (410: the removed /rest/api/3/search)
//
// Message joins Jira's errorMessages and errors; a non-JSON body (401 often
// is one) gives its first line. It never holds the API token.
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
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		e.Kind = integrations.Transient
		e.RetryAfter = retryAfter(resp.Header, time.Now())
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		e.Code = resp.Header.Get("RateLimit-Reason")
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// retryAfter reads Retry-After (seconds), then X-RateLimit-Reset (an ISO-8601 time).
func retryAfter(h http.Header, now time.Time) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := time.Parse(time.RFC3339, strings.TrimSpace(h.Get("X-RateLimit-Reset"))); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

// errorMessage reads {"errorMessages":[...],"errors":{field: message}}.
func errorMessage(body []byte) string {
	var v struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if json.Unmarshal(body, &v) != nil {
		line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		if len(line) > 200 {
			line = line[:200]
		}
		return line
	}
	parts := slices.Clone(v.ErrorMessages)
	fields := make([]string, 0, len(v.Errors))
	for f := range v.Errors {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		parts = append(parts, f+": "+v.Errors[f])
	}
	return strings.Join(parts, "; ")
}
