package sendgrid

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sendgrid/rest"
	sg "github.com/sendgrid/sendgrid-go"
	"github.com/sendgrid/sendgrid-go/helpers/mail"

	"github.com/sitrep-dev/sitrep/integrations"
)

// Client sends email through SendGrid. It is safe for concurrent use.
type Client struct {
	cfg  Config
	rest *rest.Client
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{cfg: cfg, rest: &rest.Client{HTTPClient: hc}}, nil
}

// Send sends e as one message to all of e.To, with the plain-text part first,
// the HTML part if any, e.IncidentID in custom_args.incident_id (SendGrid's
// event webhooks carry it back), and the attachments, with click and open
// tracking off. It returns SendGrid's
// X-Message-Id.
func (c *Client) Send(ctx context.Context, e integrations.Email) (messageID string, err error) {
	if err := e.Validate(); err != nil {
		return "", fmt.Errorf("send email: %w", &integrations.Error{Provider: "sendgrid", Kind: integrations.Permanent, Message: err.Error()})
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel() // SendWithContext has read the whole body when it returns
	// A request per send: sendgrid-go's Client is not safe for concurrent use.
	req := sg.GetRequest(c.cfg.APIKey.Reveal(), "/v3/mail/send", strings.TrimSuffix(c.cfg.BaseURL, "/"))
	req.Method = rest.Post
	req.Body = mail.GetRequestBody(c.message(e))
	resp, err := c.rest.SendWithContext(ctx, req)
	if ierr := classify(resp, err, time.Now()); ierr != nil {
		return "", fmt.Errorf("send email: %w", ierr)
	}
	return http.Header(resp.Headers).Get("X-Message-Id"), nil
}

// message is e in SendGrid's v3 shape.
func (c *Client) message(e integrations.Email) *mail.SGMailV3 {
	m := mail.NewV3Mail()
	m.SetFrom(mail.NewEmail(c.cfg.FromName, c.cfg.From))
	m.Subject = e.Subject
	p := mail.NewPersonalization()
	for _, to := range e.To {
		p.AddTos(mail.NewEmail("", to))
	}
	m.AddPersonalizations(p)
	if e.Text != "" {
		m.AddContent(mail.NewContent("text/plain", e.Text)) // SendGrid wants text/plain first
	}
	if e.HTML != "" {
		m.AddContent(mail.NewContent("text/html", e.HTML))
	}
	if e.IncidentID != "" {
		m.SetCustomArg("incident_id", e.IncidentID)
	}
	// Pages carry acknowledge links, whose token is the credential: click
	// tracking would rewrite them through SendGrid's redirector (and keep
	// them in its logs), and open tracking adds a pixel no one needs. Both
	// are off for every mail, whatever the account's settings say.
	m.SetTrackingSettings(mail.NewTrackingSettings().
		SetClickTracking(mail.NewClickTrackingSetting().SetEnable(false).SetEnableText(false)).
		SetOpenTracking(mail.NewOpenTrackingSetting().SetEnable(false)))
	for _, a := range e.Attachments {
		m.AddAttachment(mail.NewAttachment().
			SetFilename(a.Filename).
			SetType(a.ContentType).
			SetDisposition("attachment").
			SetContent(base64.StdEncoding.EncodeToString(a.Content)))
	}
	return m
}
