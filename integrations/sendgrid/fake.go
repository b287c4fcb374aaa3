package sendgrid

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

// FakeAPIKey is the key the fake accepts when FakeOptions leaves it empty.
const FakeAPIKey = "SG.sandbox.key"

// FakeOptions configures a Fake.
type FakeOptions struct {
	Reporter fakeapi.Reporter    // told of unexpected requests; nil in the sandbox
	Inbox    *inbox.Inbox        // where deliveries show up; may be nil
	APIKey   integrations.Secret // the key accepted; default FakeAPIKey
	// VerifiedSenders are the from addresses SendGrid lets this account use;
	// others get 403. Empty allows any sender.
	VerifiedSenders []string
	// MaxBytes is the largest request accepted; larger ones get 413.
	// Default 30 MiB, SendGrid's limit.
	MaxBytes int
}

// Mail is one mail send the fake accepted.
type Mail struct {
	MessageID   string // the X-Message-Id answered
	From        string
	FromName    string
	To          []string // every personalization's to, in order
	Subject     string
	Text        string // the text/plain content
	HTML        string // the text/html content
	CustomArgs  map[string]string
	Attachments []integrations.Attachment // content decoded
	Raw         []byte                    // the JSON body as received
	At          time.Time
}

// Fake speaks SendGrid's v3 Mail Send API and records what it accepted.
type Fake struct {
	Faults fakeapi.Faults // injected failures; see ErrorFault and RateLimitFault

	opts FakeOptions
	got  fakeapi.Log[Mail]
}

// NewFake returns a Fake with opts' defaults filled in.
func NewFake(opts FakeOptions) *Fake {
	if opts.APIKey == "" {
		opts.APIKey = FakeAPIKey
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = 30 << 20
	}
	return &Fake{opts: opts}
}

// Register mounts SendGrid's paths on mux.
func (f *Fake) Register(mux *http.ServeMux) {
	mux.Handle("POST /v3/mail/send", f.Faults.Wrap(http.HandlerFunc(f.send)))
	mux.Handle("/v3/", fakeapi.Unexpected(f.opts.Reporter, "sendgrid"))
}

// Received returns what the fake accepted, oldest first.
func (f *Fake) Received() []Mail { return f.got.All() }

// WaitFor returns the first accepted mail that pred selects, waiting for it
// until ctx is done.
func (f *Fake) WaitFor(ctx context.Context, pred func(Mail) bool) (Mail, error) {
	return f.got.WaitFor(ctx, pred)
}

// ExpectEmail waits up to 5 seconds for a mail to to whose subject or text
// contains substring, and fails t if none comes.
func (f *Fake) ExpectEmail(t testing.TB, to, substring string) Mail {
	t.Helper()
	return f.got.Expect(t, fmt.Sprintf("sendgrid fake: no email to %s containing %q", to, substring), func(m Mail) bool {
		return slices.Contains(m.To, to) && strings.Contains(m.Subject+"\n"+m.Text+"\n"+m.HTML, substring)
	})
}

// apiError is one entry of SendGrid's {"errors":[...]} body.
type apiError struct {
	Message string  `json:"message"`
	Field   *string `json:"field"`
	Help    *string `json:"help"`
}

func errorsBody(errs ...apiError) string {
	b, _ := json.Marshal(map[string][]apiError{"errors": errs})
	return string(b)
}

func writeErrors(w http.ResponseWriter, status int, errs ...apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, errorsBody(errs...))
}

func field(name string) *string { return &name }

// ErrorFault is SendGrid's answer status with one error about field (empty
// for none), e.g. ErrorFault(500, "", "internal error").
func ErrorFault(status int, fieldName, message string) fakeapi.Fault {
	e := apiError{Message: message}
	if fieldName != "" {
		e.Field = field(fieldName)
	}
	return fakeapi.Fault{Status: status, Body: errorsBody(e)}
}

// RateLimitFault is SendGrid's 429 with X-RateLimit-* headers saying the limit resets at reset.
func RateLimitFault(reset time.Time) fakeapi.Fault {
	return fakeapi.Fault{
		Status: http.StatusTooManyRequests,
		Body:   errorsBody(apiError{Message: "too many requests"}),
		Header: map[string]string{
			"X-RateLimit-Limit":     "600",
			"X-RateLimit-Remaining": "0",
			"X-RateLimit-Reset":     strconv.FormatInt(reset.Unix(), 10),
		},
	}
}

// ProxyErrorFault is an HTML error page with status, as a proxy in front of SendGrid sends.
func ProxyErrorFault(status int) fakeapi.Fault { return fakeapi.ProxyErrorFault(status) }

// mailRequest is the part of the v3 mail send body the fake reads.
type mailRequest struct {
	From *struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	} `json:"from"`
	Subject          string `json:"subject"`
	Personalizations []struct {
		To []struct {
			Email string `json:"email"`
		} `json:"to"`
		Subject    string            `json:"subject"`
		CustomArgs map[string]string `json:"custom_args"`
	} `json:"personalizations"`
	Content []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"content"`
	Attachments []struct {
		Content  string `json:"content"`
		Type     string `json:"type"`
		Filename string `json:"filename"`
	} `json:"attachments"`
	CustomArgs map[string]string `json:"custom_args"`
	TemplateID string            `json:"template_id"`
}

func (f *Fake) send(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		writeErrors(w, http.StatusUnauthorized, apiError{Message: "authorization required"})
		return
	}
	key, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(key), []byte(f.opts.APIKey.Reveal())) != 1 {
		writeErrors(w, http.StatusUnauthorized, apiError{Message: "The provided authorization grant is invalid, expired, or revoked"})
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, int64(f.opts.MaxBytes)+1))
	if err != nil {
		writeErrors(w, http.StatusBadRequest, apiError{Message: "Bad Request"})
		return
	}
	if len(raw) > f.opts.MaxBytes {
		writeErrors(w, http.StatusRequestEntityTooLarge, apiError{Message: "The JSON payload you have included in your request is too large. Please limit your request size to 30MB."})
		return
	}
	var req mailRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		writeErrors(w, http.StatusBadRequest, apiError{Message: "Bad Request", Help: field(err.Error())})
		return
	}
	m, errs := f.read(req)
	if len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	if len(f.opts.VerifiedSenders) > 0 && !slices.Contains(f.opts.VerifiedSenders, m.From) {
		writeErrors(w, http.StatusForbidden, apiError{Field: field("from"), Message: "The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the Sender Identity requirements"})
		return
	}
	m.MessageID, m.Raw, m.At = messageID(), raw, time.Now().UTC()
	f.got.Add(m)

	text, links := fakeapi.MailView(m.Text, m.HTML)
	for _, p := range req.Personalizations {
		subject, incident := req.Subject, req.CustomArgs["incident_id"]
		if p.Subject != "" {
			subject = p.Subject
		}
		if id := p.CustomArgs["incident_id"]; id != "" {
			incident = id
		}
		for _, to := range p.To {
			f.opts.Inbox.Add(inbox.Message{
				Channel: "email", Provider: "sendgrid", To: to.Email, From: m.From, Subject: subject,
				Text: text, Incident: incident, ProviderID: m.MessageID, Links: links,
			})
		}
	}
	w.Header().Set("X-Message-Id", m.MessageID)
	w.WriteHeader(http.StatusAccepted)
}

// read checks req as SendGrid does and returns what it holds.
func (f *Fake) read(req mailRequest) (Mail, []apiError) {
	var errs []apiError
	m := Mail{Subject: req.Subject, CustomArgs: req.CustomArgs}
	if req.From == nil || req.From.Email == "" {
		errs = append(errs, apiError{Field: field("from.email"), Message: "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter."})
	} else {
		m.From, m.FromName = req.From.Email, req.From.Name
	}
	if len(req.Personalizations) == 0 {
		errs = append(errs, apiError{Field: field("personalizations"), Message: "The personalizations field is required and must have at least one personalization."})
	}
	for i, p := range req.Personalizations {
		if len(p.To) == 0 {
			errs = append(errs, apiError{Field: field(fmt.Sprintf("personalizations.%d.to", i)), Message: "The to array is required for all personalization objects, and must have at least one email object with a valid email address."})
		}
		for j, to := range p.To {
			if !strings.Contains(to.Email, "@") {
				errs = append(errs, apiError{Field: field(fmt.Sprintf("personalizations.%d.to.%d.email", i, j)), Message: "Does not contain a valid address."})
			}
			m.To = append(m.To, to.Email)
		}
		if req.Subject == "" && p.Subject == "" && req.TemplateID == "" {
			errs = append(errs, apiError{Field: field("subject"), Message: "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined."})
		}
	}
	if len(req.Content) == 0 && req.TemplateID == "" {
		errs = append(errs, apiError{Field: field("content"), Message: "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required."})
	}
	for i, c := range req.Content {
		switch {
		case c.Type == "text/plain" && i > 0:
			errs = append(errs, apiError{Field: field("content"), Message: "If present, text/plain must be first, followed by text/html, followed by any other content."})
		case c.Type == "text/plain":
			m.Text = c.Value
		case c.Type == "text/html":
			m.HTML = c.Value
		}
		if c.Value == "" {
			errs = append(errs, apiError{Field: field(fmt.Sprintf("content.%d.value", i)), Message: "The content value must be a string at least one character in length."})
		}
	}
	for i, a := range req.Attachments {
		content, err := base64.StdEncoding.DecodeString(a.Content)
		if err != nil || a.Content == "" {
			errs = append(errs, apiError{Field: field(fmt.Sprintf("attachments.%d.content", i)), Message: "The attachment content must be base64 encoded."})
		}
		if a.Filename == "" {
			errs = append(errs, apiError{Field: field(fmt.Sprintf("attachments.%d.filename", i)), Message: "The attachment filename parameter is required."})
		}
		m.Attachments = append(m.Attachments, integrations.Attachment{Filename: a.Filename, ContentType: a.Type, Content: content})
	}
	return m, errs
}

// messageID is a fresh id shaped like SendGrid's X-Message-Id.
func messageID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
