package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
)

// DefaultTimeout bounds one request when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config configures the client.
type Config struct {
	// WebhookURL is the channel's incoming webhook. It is the credential.
	WebhookURL integrations.Secret
	// HTTPClient sends the requests; a plain *http.Client when nil.
	HTTPClient *http.Client
	// Timeout bounds each request; DefaultTimeout when zero. It replaces
	// HTTPClient's own Timeout.
	Timeout time.Duration
}

// ConfigFromEnv reads TEAMS_WEBHOOK_URL (or TEAMS_WEBHOOK_URL_FILE). ok is
// false when it is not set.
func ConfigFromEnv(getenv func(string) string) (Config, bool, error) {
	hook, err := integrations.ReadSecret(getenv, "TEAMS_WEBHOOK_URL")
	if err != nil {
		return Config{}, true, fmt.Errorf("teams config: %w", err)
	}
	return Config{WebhookURL: hook}, hook != "", nil
}

// Client posts to one Teams channel. It is safe for concurrent use.
type Client struct {
	hook integrations.Secret
	hc   *http.Client
}

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	var errs []error
	if u, err := url.Parse(cfg.WebhookURL.Reveal()); cfg.WebhookURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Never the value: the URL is the credential.
		errs = append(errs, errors.New("WebhookURL (TEAMS_WEBHOOK_URL) is not an http(s) URL"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("Timeout %s is negative", cfg.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("teams config: %w", err)
	}
	hc := http.Client{}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	hc.Timeout = cfg.Timeout
	if hc.Timeout == 0 {
		hc.Timeout = DefaultTimeout
	}
	return &Client{hook: cfg.WebhookURL, hc: &hc}, nil
}

// Message is a card with a title, text and link buttons.
type Message struct {
	Title    string
	Text     string // Adaptive Card markdown
	Incident string // the sitrep incident ID, shown as the fact "Incident"; optional
	Links    []Link
}

// Link is an Action.OpenUrl button.
type Link struct {
	Title string
	URL   string
}

// maxPayload is the largest message a Teams webhook takes.
const maxPayload = 28 << 10

// Post sends m to the channel as an Adaptive Card.
func (c *Client) Post(ctx context.Context, m Message) error {
	if strings.TrimSpace(m.Title) == "" && strings.TrimSpace(m.Text) == "" {
		return fmt.Errorf("post to teams: %w", classify(0, nil, nil, invalidInput("no title or text")))
	}
	body, err := json.Marshal(newPayload(m))
	if err != nil {
		return fmt.Errorf("post to teams: %w", classify(0, nil, nil, invalidInput(err.Error())))
	}
	if len(body) > maxPayload {
		return fmt.Errorf("post to teams: %w", classify(0, nil, nil, invalidInput(fmt.Sprintf("card is %d bytes, more than %d", len(body), maxPayload))))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.hook.Reveal(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post to teams: %w", classify(0, nil, nil, invalidInput("bad webhook URL")))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("post to teams: %w", classify(0, nil, nil, err))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if e := classify(resp.StatusCode, resp.Header, answer, err); e != nil {
		return fmt.Errorf("post to teams: %w", e)
	}
	return nil
}

// invalidInput is a message sitrep itself knows Teams would reject.
type invalidInput string

func (e invalidInput) Error() string { return string(e) }

// The webhook payload: a message with one Adaptive Card attachment.
type payload struct {
	Type        string       `json:"type"`
	Attachments []attachment `json:"attachments"`
}

const adaptiveCardType = "application/vnd.microsoft.card.adaptive"

type attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"`
	Content     card    `json:"content"`
}

type card struct {
	Schema  string            `json:"$schema"`
	Type    string            `json:"type"`
	Version string            `json:"version"`
	Body    []element         `json:"body"`
	Actions []cardAction      `json:"actions,omitempty"`
	MSTeams map[string]string `json:"msteams,omitempty"`
}

// element is a TextBlock or a FactSet.
type element struct {
	Type   string `json:"type"`
	Text   string `json:"text,omitempty"`
	Weight string `json:"weight,omitempty"`
	Size   string `json:"size,omitempty"`
	Wrap   bool   `json:"wrap,omitempty"`
	Facts  []fact `json:"facts,omitempty"`
}

type fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type cardAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// incidentFact names the fact that holds the incident ID.
const incidentFact = "Incident"

func newPayload(m Message) payload {
	c := card{
		Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4",
		MSTeams: map[string]string{"width": "Full"},
	}
	if m.Title != "" {
		c.Body = append(c.Body, element{Type: "TextBlock", Text: m.Title, Weight: "Bolder", Size: "Medium", Wrap: true})
	}
	if m.Text != "" {
		c.Body = append(c.Body, element{Type: "TextBlock", Text: m.Text, Wrap: true})
	}
	if m.Incident != "" {
		c.Body = append(c.Body, element{Type: "FactSet", Facts: []fact{{Title: incidentFact, Value: m.Incident}}})
	}
	for _, l := range m.Links {
		c.Actions = append(c.Actions, cardAction{Type: "Action.OpenUrl", Title: l.Title, URL: l.URL})
	}
	return payload{Type: "message", Attachments: []attachment{{ContentType: adaptiveCardType, Content: c}}}
}
