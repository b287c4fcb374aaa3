package pagerduty

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
)

const provider = "pagerduty"

// classify maps the outcome of one Events API request to nil or an
// *integrations.Error. x is what came back (nil when nothing was sent); err is
// what the SDK or local validation returned.
//
//	no error, 2xx                       success
//	invalidInput (checked before send)  permanent
//	no response (network, timeout)      transient
//	2xx with an undecodable body        transient (the dedup key makes a retry safe)
//	429                                 transient, RetryAfter from Retry-After or ratelimit-reset
//	408, 5xx                            transient
//	400 and other 4xx                   permanent, with PagerDuty's errors list
func classify(x *exchange, err error) *integrations.Error {
	var invalid invalidInput
	if errors.As(err, &invalid) {
		return &integrations.Error{Provider: provider, Kind: integrations.Permanent, Code: "invalid_input", Message: invalid.Error()}
	}
	if x == nil || x.status == 0 {
		if err == nil {
			return nil
		}
		return &integrations.Error{Provider: provider, Kind: integrations.Transient, Message: err.Error()}
	}
	if x.status >= 200 && x.status <= 299 {
		if err == nil {
			return nil
		}
		return &integrations.Error{Provider: provider, Kind: integrations.Transient, Status: x.status,
			Message: fmt.Sprintf("undecodable success response: %v", err)}
	}
	e := &integrations.Error{Provider: provider, Kind: integrations.Permanent, Status: x.status}
	e.Code, e.Message = eventsError(x.body)
	if e.Message == "" {
		e.Message = http.StatusText(x.status)
	}
	switch {
	case x.status == http.StatusTooManyRequests:
		e.Kind = integrations.Transient
		e.RetryAfter = retryAfter(x.header)
	case x.status == http.StatusRequestTimeout || x.status >= 500:
		e.Kind = integrations.Transient
	}
	return e
}

// eventsError reads the Events API error body:
// {"status":"invalid event","message":"Event object is invalid","errors":["..."]}.
func eventsError(body []byte) (code, message string) {
	var b struct {
		Status  string   `json:"status"`
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}
	if json.Unmarshal(body, &b) != nil {
		return "", ""
	}
	msg := b.Message
	if len(b.Errors) > 0 {
		msg = strings.TrimPrefix(msg+": "+strings.Join(b.Errors, "; "), ": ")
	}
	return b.Status, msg
}

// retryAfter reads Retry-After or PagerDuty's ratelimit-reset, both in seconds.
func retryAfter(h http.Header) time.Duration {
	for _, k := range []string{"Retry-After", "Ratelimit-Reset"} {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Get(k))); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return 0
}
