package integrations

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// Email is one message to send by email: one message to all of To, who see
// each other in its To header. Send one Email per person to keep addresses private.
type Email struct {
	To          []string // bare addresses, e.g. "oncall@example.com"
	Subject     string
	Text        string // the plain-text part
	HTML        string // the HTML part; optional
	IncidentID  string // the sitrep incident it belongs to, carried where the provider allows
	Attachments []Attachment
}

// Attachment is a file sent with an Email. A calendar invite is an .ics
// file with ContentType "text/calendar; method=REQUEST; charset=utf-8".
type Attachment struct {
	Filename    string
	ContentType string
	Content     []byte
}

// Validate reports every problem with e at once.
func (e Email) Validate() error {
	var errs []error
	if len(e.To) == 0 {
		errs = append(errs, errors.New("no recipient"))
	}
	for _, to := range e.To {
		if a, err := mail.ParseAddress(to); err != nil || a.Address != to {
			errs = append(errs, fmt.Errorf("recipient %q is not a bare email address", to))
		}
	}
	if strings.TrimSpace(e.Subject) == "" {
		errs = append(errs, errors.New("empty subject"))
	}
	if strings.ContainsAny(e.Subject, "\r\n") {
		errs = append(errs, errors.New("subject holds a line break"))
	}
	if strings.ContainsAny(e.IncidentID, "\r\n") {
		errs = append(errs, errors.New("incident id holds a line break"))
	}
	if e.Text == "" && e.HTML == "" {
		errs = append(errs, errors.New("no text and no html body"))
	}
	for i, a := range e.Attachments {
		if a.Filename == "" || strings.ContainsAny(a.Filename, "\r\n\"") {
			errs = append(errs, fmt.Errorf("attachment %d: bad filename %q", i, a.Filename))
		}
		if a.ContentType == "" {
			errs = append(errs, fmt.Errorf("attachment %d: no content type", i))
		}
	}
	return errors.Join(errs...)
}
