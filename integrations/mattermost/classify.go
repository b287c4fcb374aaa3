package mattermost

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
)

const provider = "mattermost"

// classify maps one request's outcome to nil or an *integrations.Error:
// status, header and body of the answer (status 0 when none came), and err
// from sending or decoding.
//
//	invalidInput (checked before sending)  permanent
//	no answer (network, timeout)           transient
//	2xx                                    success
//	2xx with an undecodable body           transient
//	429                                    transient, RetryAfter from Retry-After or X-Ratelimit-Reset (seconds)
//	408, 5xx (any body)                    transient
//	other 4xx                              permanent, Code = Mattermost's error id
func classify(status int, header http.Header, body []byte, err error) *integrations.Error {
	var invalid invalidInput
	if errors.As(err, &invalid) {
		return &integrations.Error{Provider: provider, Kind: integrations.Permanent, Code: "invalid_input", Message: invalid.Error()}
	}
	if status == 0 {
		if err == nil {
			return nil
		}
		// Not the *url.Error's text: it repeats the URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &integrations.Error{Provider: provider, Kind: integrations.Transient, Message: err.Error()}
	}
	if status/100 == 2 {
		if err == nil {
			return nil
		}
		return &integrations.Error{Provider: provider, Kind: integrations.Transient, Status: status, Message: fmt.Sprintf("undecodable response: %v", err)}
	}
	e := &integrations.Error{Provider: provider, Kind: integrations.Permanent, Status: status, Message: http.StatusText(status)}
	var b struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &b) == nil && b.ID != "" {
		e.Code, e.Message = b.ID, b.Message
	}
	switch {
	case status == http.StatusTooManyRequests:
		e.Kind = integrations.Transient
		e.RetryAfter = retryAfter(header)
	case status == http.StatusRequestTimeout || status >= 500:
		e.Kind = integrations.Transient
	}
	return e
}

// retryAfter reads Retry-After or X-Ratelimit-Reset, both in seconds.
func retryAfter(h http.Header) time.Duration {
	for _, k := range []string{"Retry-After", "X-Ratelimit-Reset"} {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Get(k))); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return 0
}
