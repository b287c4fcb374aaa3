package video

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
)

// zoomProvider names Zoom in its errors.
const zoomProvider = "zoom"

// codeInvalidToken is Zoom's code for an invalid or expired access token.
const codeInvalidToken = "124"

// errInvalid marks a request the client refused to send: trying again cannot help.
var errInvalid = errors.New("invalid request")

// classify maps every outcome of a request to nil or an *integrations.Error:
//
//	err set (transport, timeout, decode)  → Transient (Permanent when errInvalid)
//	2xx                                   → nil
//	429                                   → Transient, RetryAfter from Retry-After (seconds or a date)
//	5xx                                   → Transient
//	401 code 124 (invalid access token)   → Permanent; Client.api first retries once with a new token
//	400 from the token endpoint           → Permanent, Code = OAuth error (invalid_client, unsupported_grant_type…)
//	other 4xx (300 validation, 1001 no such user…) → Permanent, Code = Zoom's code
//
// Message is Zoom's message or OAuth reason, or the start of a non-JSON
// body; it never holds the client secret or a token.
func classify(provider string, resp *http.Response, body []byte, err error) error {
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
	e := &integrations.Error{Provider: provider, Kind: integrations.Permanent, Status: resp.StatusCode}
	e.Code, e.Message = errorBody(body)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		e.Kind = integrations.Transient
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// errorBody reads {"code":124,"message":"…"} (REST API) or
// {"reason":"…","error":"invalid_client"} (OAuth).
func errorBody(body []byte) (code, message string) {
	var v struct {
		Code    json.Number `json:"code"`
		Message string      `json:"message"`
		Error   string      `json:"error"`
		Reason  string      `json:"reason"`
	}
	if json.Unmarshal(body, &v) != nil {
		line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		if len(line) > 200 {
			line = line[:200]
		}
		return "", line
	}
	if v.Error != "" {
		return v.Error, v.Reason
	}
	return v.Code.String(), v.Message
}

// retryAfter reads Retry-After as seconds, an HTTP date or an RFC 3339 time.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(s)*time.Second, 0)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, v); err != nil {
			return 0
		}
	}
	if t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}
