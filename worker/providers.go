package worker

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strings"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/mattermost"
	"github.com/sitrep-dev/sitrep/integrations/pagerduty"
	"github.com/sitrep-dev/sitrep/integrations/sendgrid"
	"github.com/sitrep-dev/sitrep/integrations/slack"
	"github.com/sitrep-dev/sitrep/integrations/smtp"
	"github.com/sitrep-dev/sitrep/integrations/twilio"
	"github.com/sitrep-dev/sitrep/workflows"
)

// Providers builds a Notifier for every channel whose provider is configured
// in the environment; a provider with no configuration at all is off. A
// provider that is half configured is an error, named, not silence.
// PagerDuty's Events API needs no credentials (each person's routing key is
// in the catalog), so the pagerduty channel is always on.
// publicURL is where the intake listens, for voice keypresses; empty when
// there is no intake.
func Providers(getenv func(string) string, publicURL string) (map[catalog.Channel]activities.Notifier, error) {
	out := map[catalog.Channel]activities.Notifier{}
	var errs []error

	if cfg, ok, err := twilio.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, fmt.Errorf("twilio: %w", err))
	} else if ok {
		c, err := twilio.New(cfg)
		if err != nil {
			errs = append(errs, err)
		} else {
			out[catalog.SMS] = smsNotifier{c}
			out[catalog.Voice] = voiceNotifier{c: c, publicURL: publicURL}
		}
	}

	if cfg, ok, err := sendgrid.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, fmt.Errorf("sendgrid: %w", err))
	} else if ok {
		c, err := sendgrid.New(cfg)
		if err != nil {
			errs = append(errs, err)
		} else {
			out[catalog.Email] = emailNotifier{c}
		}
	}
	if cfg, ok, err := smtp.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, fmt.Errorf("smtp: %w", err))
	} else if ok {
		if _, taken := out[catalog.Email]; taken {
			errs = append(errs, errors.New("both SendGrid and SMTP are configured for email; configure one"))
		} else if c, err := smtp.New(cfg); err != nil {
			errs = append(errs, err)
		} else {
			out[catalog.Email] = emailNotifier{c}
		}
	}

	if cfg, ok, err := slack.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, fmt.Errorf("slack: %w", err))
	} else if ok {
		c, err := slack.New(cfg)
		if err != nil {
			errs = append(errs, err)
		} else {
			out[catalog.Chat] = chatNotifier{c}
		}
	}

	if cfg, ok, err := mattermost.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, fmt.Errorf("mattermost: %w", err))
	} else if ok {
		if _, taken := out[catalog.Chat]; taken {
			errs = append(errs, errors.New("both Slack and Mattermost are configured for chat; configure one"))
		} else if c, err := mattermost.New(cfg); err != nil {
			errs = append(errs, err)
		} else {
			out[catalog.Chat] = mattermostNotifier{c: c, publicURL: publicURL}
		}
	}

	if cfg, ok, err := pagerduty.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, fmt.Errorf("pagerduty: %w", err))
	} else if ok {
		c, err := pagerduty.New(cfg)
		if err != nil {
			errs = append(errs, err)
		} else {
			out[catalog.PagerDuty] = pagerdutyNotifier{c}
		}
	}
	return out, errors.Join(errs...)
}

type smsNotifier struct{ c *twilio.Client }

func (n smsNotifier) Notify(ctx context.Context, m activities.Message) (string, error) {
	return n.c.SendSMS(ctx, m.To, m.Text)
}

type voiceNotifier struct {
	c         *twilio.Client
	publicURL string
}

// Notify calls the person and reads the page. With an intake, a keypress
// acknowledges or escalates; without one, the call only reads the page.
func (n voiceNotifier) Notify(ctx context.Context, m activities.Message) (string, error) {
	say := spoken(m.Subject)
	var doc string
	var err error
	if n.publicURL != "" {
		q := url.Values{"incident": {m.Reference()}, "person": {m.Person}}
		if len(m.Incidents) > 0 {
			// A bundle's ref names no incident: the call names each it carries.
			q.Set("incidents", strings.Join(m.Incidents, " "))
		}
		doc, err = twilio.PageTwiML(say, n.publicURL+"/v1/twilio/voice?"+q.Encode())
	} else {
		doc, err = twilio.SayTwiML(say)
	}
	if err != nil {
		return "", &integrations.Error{Provider: "twilio", Kind: integrations.Permanent, Message: err.Error()}
	}
	return n.c.Call(ctx, m.To, doc)
}

// spoken makes a subject readable aloud: "SEV1" as "severity 1".
func spoken(s string) string {
	r := strings.NewReplacer("[SEV", "Severity ", "]", ".", "-", " ")
	return "sitrep page. " + r.Replace(s)
}

// emailSender is SendGrid or SMTP.
type emailSender interface {
	Send(ctx context.Context, e integrations.Email) (string, error)
}

type emailNotifier struct{ c emailSender }

func (n emailNotifier) Notify(ctx context.Context, m activities.Message) (string, error) {
	return n.c.Send(ctx, integrations.Email{To: []string{m.To}, Subject: m.Subject, Text: m.Text, HTML: emailHTML(m),
		IncidentID: m.IncidentID})
}

var emailPage = template.Must(template.New("email").Parse(`<!doctype html><html><body style="font-family:sans-serif">
<p style="white-space:pre-wrap">{{.Text}}</p>
{{if .AckURL}}<p><a href="{{.AckURL}}" style="display:inline-block;padding:.6em 1.2em;background:#c0392b;color:#fff;text-decoration:none;border-radius:4px">Acknowledge</a></p>{{end}}
</body></html>`))

// emailHTML is the HTML part of a page email: the text, and the acknowledge
// link as a button. html/template escapes both.
func emailHTML(m activities.Message) string {
	var b strings.Builder
	if err := emailPage.Execute(&b, m); err != nil {
		return "" // the plain text part still carries everything
	}
	return b.String()
}

type chatNotifier struct{ c *slack.Client }

// Notify sends a direct message with Acknowledge and Escalate buttons; the
// intake's Slack endpoint receives the clicks.
func (n chatNotifier) Notify(ctx context.Context, m activities.Message) (string, error) {
	// The text holds the alert's summary, which anyone with an alert key
	// wrote: escaped, it cannot render as a link or a mention.
	buttons := []slack.Button{
		{ActionID: "ack", Text: "Acknowledge", Value: m.Reference(), Style: "primary"},
		{ActionID: "escalate", Text: "Escalate", Value: m.Reference(), Style: "danger"},
	}
	if workflows.IsBundleRef(m.Reference()) {
		// A bundle is acknowledged whole; each incident escalates on its own.
		buttons = []slack.Button{{ActionID: "ack", Text: "Acknowledge all", Value: m.Reference(), Style: "primary"}}
	}
	return n.c.PostMessage(ctx, m.To, slack.Message{Text: slack.EscapeText(m.Text), Incident: m.IncidentID, Buttons: buttons})
}

type mattermostNotifier struct {
	c         *mattermost.Client
	publicURL string
}

// Notify sends a direct message. Mattermost does not sign button clicks, so
// each button carries the person's acknowledge token, which the intake
// checks; with no intake or no links, the message has no buttons.
func (n mattermostNotifier) Notify(ctx context.Context, m activities.Message) (string, error) {
	msg := mattermost.Message{Text: mattermost.EscapeMarkdown(m.Text), Incident: m.IncidentID} // as for Slack
	if token, ok := strings.CutPrefix(m.AckURL, n.publicURL+"/ack/"); ok && n.publicURL != "" {
		buttons := []struct{ action, label, style string }{{"ack", "Acknowledge", "primary"}, {"escalate", "Escalate", "danger"}}
		if workflows.IsBundleRef(m.Reference()) {
			buttons = buttons[:1]
			buttons[0].label = "Acknowledge all"
		}
		for _, b := range buttons {
			msg.Buttons = append(msg.Buttons, mattermost.Button{
				ID: b.action, Text: b.label, Style: b.style, URL: n.publicURL + "/v1/mattermost/actions",
				Context: map[string]string{"action": b.action, "incident": m.Reference(), "token": token},
			})
		}
	}
	return n.c.DirectMessage(ctx, m.To, msg)
}

type pagerdutyNotifier struct{ c *pagerduty.Client }

// Notify triggers a PagerDuty alert keyed by the page's own key: a retry of
// the same page folds into its alert, while every other page (a re-page, a
// new round, another person on the same integration key) is an alert of its
// own, which PagerDuty notifies about. A trigger under an open alert's key
// notifies nobody.
func (n pagerdutyNotifier) Notify(ctx context.Context, m activities.Message) (string, error) {
	e := pagerduty.Event{
		RoutingKey: m.To, DedupKey: m.AlertKey(), Summary: m.Subject, Source: "sitrep",
		Severity: pdSeverity(m.Severity),
	}
	if len(m.Incidents) > 0 {
		// A bundle's alert: its details name each incident in it.
		e.CustomDetails = map[string]string{"incidents": strings.Join(m.Incidents, " ")}
	}
	return n.c.Trigger(ctx, e)
}

// Sync acknowledges or resolves the PagerDuty alert the page opened.
func (n pagerdutyNotifier) Sync(ctx context.Context, action string, m activities.Message) error {
	if action == "resolve" {
		return n.c.Resolve(ctx, m.To, m.AlertKey())
	}
	return n.c.Acknowledge(ctx, m.To, m.AlertKey())
}

func pdSeverity(s catalog.Severity) string {
	switch s {
	case catalog.SEV1:
		return "critical"
	case catalog.SEV2:
		return "error"
	case catalog.SEV3:
		return "warning"
	}
	return "info"
}
