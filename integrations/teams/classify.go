package teams

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
)

const provider = "teams"

// legacyError finds the status a legacy connector reports inside a 200 body,
// e.g. "Microsoft Teams endpoint returned HTTP error 429 with ContextId ...".
var legacyError = regexp.MustCompile(`HTTP error (\d{3})`)

// classify maps one webhook call's outcome to nil or an *integrations.Error:
// status, header and body of the answer (status 0 when none came), and err
// from sending or reading.
//
//	invalidInput (checked before sending)   permanent
//	no answer (network, timeout)            transient; the message drops the URL, which is the credential
//	200 "1" (connector), 202 (Workflows)    success
//	200 whose text says "HTTP error NNN"    classified as NNN (legacy connectors report failures so)
//	429                                     transient, RetryAfter from Retry-After
//	408, 5xx                                transient
//	400, 401, 403, 404, 413, other 4xx      permanent
func classify(status int, header http.Header, body []byte, err error) *integrations.Error {
	var invalid invalidInput
	if errors.As(err, &invalid) {
		return &integrations.Error{Provider: provider, Kind: integrations.Permanent, Code: "invalid_input", Message: invalid.Error()}
	}
	if status == 0 || err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		msg := "no answer"
		if err != nil {
			msg = err.Error()
		}
		return &integrations.Error{Provider: provider, Kind: integrations.Transient, Status: status, Message: msg}
	}
	text := strings.TrimSpace(string(body))
	if status/100 == 2 {
		m := legacyError.FindStringSubmatch(text)
		if m == nil {
			return nil
		}
		status, _ = strconv.Atoi(m[1])
	}
	e := &integrations.Error{Provider: provider, Kind: integrations.Permanent, Status: status, Message: http.StatusText(status)}
	var b struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	switch {
	case json.Unmarshal(body, &b) == nil && b.Error.Code != "":
		e.Code, e.Message = b.Error.Code, b.Error.Message
	case text != "" && len(text) < 300 && !strings.HasPrefix(text, "<"):
		e.Message = text
	}
	switch {
	case status == http.StatusTooManyRequests:
		e.Kind = integrations.Transient
		if n, err := strconv.Atoi(header.Get("Retry-After")); err == nil && n > 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		}
	case status == http.StatusRequestTimeout || status >= 500:
		e.Kind = integrations.Transient
	}
	return e
}
