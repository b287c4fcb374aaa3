package slack

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	slackapi "github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/integrations"
)

const provider = "slack"

// transientCode reports whether an ok:false code may succeed later. After
// internal_error and fatal_error Slack says part of the call may have
// happened; the callers' retries are safe (name_taken and already_in_channel
// are success-equivalent) except that a message may be posted twice.
func transientCode(code string) bool {
	switch code {
	case "ratelimited", "rate_limited", "internal_error", "fatal_error",
		"service_unavailable", "request_timeout", "team_added_to_org":
		return true
	}
	return false
}

// transientStatus reports whether an HTTP status may succeed later.
func transientStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// invalidInput is a request sitrep itself knows Slack would reject.
type invalidInput string

func (e invalidInput) Error() string { return string(e) }

// classify maps what slack-go returned to an *integrations.Error.
//
//	invalidInput (checked before sending)      permanent
//	HTTP 200 ok:false, transientCode           transient
//	HTTP 200 ok:false, any other code          permanent (invalid_auth, not_authed, channel_not_found,
//	                                           user_not_found, is_archived, not_in_channel, missing_scope, ...)
//	HTTP 429 with Retry-After                  transient, RetryAfter parsed (slack.RateLimitedError)
//	HTTP 429 with a bad Retry-After            transient
//	HTTP 408, 429, 5xx (any body)              transient (slack.StatusCodeError)
//	other HTTP statuses                        permanent
//	HTTP 200 with an undecodable body          transient
//	network error, timeout                     transient
func classify(err error) *integrations.Error {
	if err == nil {
		return nil
	}
	e := &integrations.Error{Provider: provider, Kind: integrations.Transient}
	var (
		invalid   invalidInput
		apiErr    slackapi.SlackErrorResponse
		rateErr   *slackapi.RateLimitedError
		statusErr slackapi.StatusCodeError
		numErr    *strconv.NumError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		urlErr    *url.Error
	)
	switch {
	case errors.As(err, &invalid):
		e.Kind, e.Code, e.Message = integrations.Permanent, "invalid_input", invalid.Error()
	case errors.As(err, &apiErr):
		e.Status, e.Code, e.Message = http.StatusOK, apiErr.Err, apiErr.Err
		if !transientCode(apiErr.Err) {
			e.Kind = integrations.Permanent
		}
	case errors.As(err, &rateErr):
		e.Status, e.Code, e.RetryAfter, e.Message = http.StatusTooManyRequests, "ratelimited", rateErr.RetryAfter, "rate limited"
	case errors.As(err, &statusErr):
		e.Status, e.Message = statusErr.Code, statusErr.Status
		if !transientStatus(statusErr.Code) {
			e.Kind = integrations.Permanent
		}
	case errors.As(err, &numErr):
		// Only a 429's Retry-After is parsed as a number.
		e.Status, e.Code, e.Message = http.StatusTooManyRequests, "ratelimited", "rate limited, unreadable Retry-After"
	case errors.As(err, &syntaxErr), errors.As(err, &typeErr):
		e.Message = "undecodable response: " + err.Error()
	case errors.As(err, &urlErr):
		e.Message = urlErr.Err.Error()
	default:
		e.Message = err.Error()
	}
	return e
}
