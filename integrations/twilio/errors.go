package twilio

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/sitrep-dev/sitrep/integrations"
)

// Twilio error codes that no retry can fix.
var permanentCodes = map[int]bool{
	21211: true, // invalid To number
	21610: true, // recipient replied STOP
	21612: true, // To number unroutable from this From
	21614: true, // To is not a mobile number
	21606: true, // From cannot send SMS
	21608: true, // trial account: To not verified
	21408: true, // no permission for the region
	21617: true, // body over 1600 characters
	21217: true, // voice: invalid To number
	21215: true, // geo permission missing for the call
	21216: true, // call to a blocked number
	20003: true, // authentication failed
	20404: true, // resource not found
	21222: true, // twilio-go, locally: illegal characters in the account SID
	21224: true, // twilio-go, locally: illegal characters in the auth token
}

// classify maps every failure of a Twilio call to an *integrations.Error.
// status and header are the last HTTP response seen (0 and nil when none came):
// twilio-go reads the status from the JSON body and hides headers on errors.
func classify(err error, status int, header http.Header, now time.Time) *integrations.Error {
	e := &integrations.Error{Provider: "twilio", Kind: integrations.Transient, Status: status, Message: err.Error()}
	var rest *twclient.TwilioRestError
	if !errors.As(err, &rest) {
		// Transport error, timeout, or an error body that is not Twilio's JSON
		// (an HTML page from a proxy): worth another try.
		if status == http.StatusTooManyRequests {
			e.RetryAfter = retryAfter(header, now)
		}
		return e
	}
	if rest.Status != 0 {
		e.Status = rest.Status
	}
	e.Message = rest.Message
	if rest.Code != 0 {
		e.Code = strconv.Itoa(rest.Code)
	}
	switch {
	case rest.Code == 20429 || e.Status == http.StatusTooManyRequests:
		e.RetryAfter = retryAfter(header, now)
	case e.Status >= 500:
	case permanentCodes[rest.Code], e.Status >= 400:
		e.Kind = integrations.Permanent
	}
	return e
}

// retryAfter reads Retry-After as seconds or an HTTP date; 0 when absent.
// Twilio does not document it for 20429, so callers fall back to backoff.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
