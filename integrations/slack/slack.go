package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/integrations"
)

// DefaultBaseURL is Slack's; the Web API lives under BaseURL + "/api/".
const DefaultBaseURL = "https://slack.com"

// DefaultTimeout bounds one request when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config configures the client.
type Config struct {
	// BotToken is the bot's OAuth token (xoxb-...), with the scopes chat:write,
	// im:write, channels:manage, channels:read and groups:read.
	BotToken integrations.Secret
	// SigningSecret verifies the requests Slack sends (see VerifyRequest).
	SigningSecret integrations.Secret
	// BaseURL is Slack's address without "/api/"; DefaultBaseURL when empty.
	BaseURL string
	// HTTPClient sends the requests; a plain *http.Client when nil.
	HTTPClient *http.Client
	// Timeout bounds each request; DefaultTimeout when zero. It replaces
	// HTTPClient's own Timeout.
	Timeout time.Duration
}

// ConfigFromEnv reads SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (each also as a
// _FILE) and SLACK_BASE_URL. ok is false when none of them is set.
func ConfigFromEnv(getenv func(string) string) (Config, bool, error) {
	token, terr := integrations.ReadSecret(getenv, "SLACK_BOT_TOKEN")
	signing, serr := integrations.ReadSecret(getenv, "SLACK_SIGNING_SECRET")
	cfg := Config{BotToken: token, SigningSecret: signing, BaseURL: getenv("SLACK_BASE_URL")}
	if err := errors.Join(terr, serr); err != nil {
		return cfg, true, fmt.Errorf("slack config: %w", err)
	}
	return cfg, cfg.BotToken != "" || cfg.SigningSecret != "" || cfg.BaseURL != "", nil
}

// Client talks to Slack's Web API. It is safe for concurrent use.
type Client struct {
	api  *slackapi.Client
	base string
}

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	var errs []error
	if cfg.BotToken == "" {
		errs = append(errs, errors.New("BotToken (SLACK_BOT_TOKEN) is required"))
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("BaseURL %q is not an http(s) URL", cfg.BaseURL))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("Timeout %s is negative", cfg.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("slack config: %w", err)
	}
	hc := http.Client{}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	hc.Timeout = cfg.Timeout
	if hc.Timeout == 0 {
		hc.Timeout = DefaultTimeout
	}
	api := slackapi.New(cfg.BotToken.Reveal(), slackapi.OptionAPIURL(base+"/api/"), slackapi.OptionHTTPClient(&hc))
	return &Client{api: api, base: base}, nil
}

// Message is a message with optional buttons.
type Message struct {
	Text     string // mrkdwn; also the notification text
	Incident string // the sitrep incident ID, carried as message metadata; optional
	Buttons  []Button
}

// Button is a button under the message. A click comes back as an
// Interaction with its ActionID and Value.
type Button struct {
	ActionID string // e.g. "ack"
	Text     string // the label, e.g. "Acknowledge"
	Value    string // e.g. the incident ID
	Style    string // "primary", "danger" or "" (default)
}

// maxSectionText is the most a section block's text may hold.
const maxSectionText = 3000

// PostMessage posts m to a channel (C…, G…, D…) or, for a user ID (U…, W…),
// to the bot's direct-message conversation with that user, opened first with
// conversations.open. It returns the message's timestamp, Slack's id for it.
func (c *Client) PostMessage(ctx context.Context, channelOrUserID string, m Message) (string, error) {
	if channelOrUserID == "" {
		return "", fmt.Errorf("post message: %w", classify(invalidInput("no channel or user ID")))
	}
	if strings.TrimSpace(m.Text) == "" {
		return "", fmt.Errorf("post message: %w", classify(invalidInput("no text")))
	}
	channel := channelOrUserID
	if isUserID(channel) {
		ch, _, _, err := c.api.OpenConversationContext(ctx, &slackapi.OpenConversationParameters{Users: []string{channel}})
		if err != nil {
			return "", fmt.Errorf("open direct message: %w", classify(err))
		}
		channel = ch.ID
	}
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(m.Text, false)}
	if len(m.Buttons) > 0 {
		opts = append(opts, slackapi.MsgOptionBlocks(blocks(m)...))
	}
	if m.Incident != "" {
		opts = append(opts, slackapi.MsgOptionMetadata(slackapi.SlackMetadata{
			EventType: metadataEventType, EventPayload: map[string]any{metadataIncidentKey: m.Incident},
		}))
	}
	_, ts, err := c.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return "", fmt.Errorf("post message: %w", classify(err))
	}
	return ts, nil
}

// The message metadata that carries the incident ID.
const (
	metadataEventType   = "sitrep_incident"
	metadataIncidentKey = "incident_id"
)

// actionsBlockID names the block that holds the buttons.
const actionsBlockID = "sitrep_actions"

func blocks(m Message) []slackapi.Block {
	text := m.Text
	if len(text) > maxSectionText {
		text = truncate(text, maxSectionText-len("…")) + "…"
	}
	var buttons []slackapi.BlockElement
	for _, b := range m.Buttons {
		e := slackapi.NewButtonBlockElement(b.ActionID, b.Value, slackapi.NewTextBlockObject(slackapi.PlainTextType, b.Text, false, false))
		e.Style = slackapi.Style(b.Style)
		buttons = append(buttons, e)
	}
	return []slackapi.Block{
		slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.MarkdownType, text, false, false), nil, nil),
		slackapi.NewActionBlock(actionsBlockID, buttons...),
	}
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isUserID(id string) bool { return strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W") }

// UpdateMessage replaces the text of the message with timestamp ts in the
// channel (chat.update) and drops its buttons: the bot can edit only its own
// messages. It is idempotent, so a retry is safe.
func (c *Client) UpdateMessage(ctx context.Context, channelID, ts string, m Message) error {
	switch {
	case channelID == "" || ts == "":
		return fmt.Errorf("update message: %w", classify(invalidInput("no channel ID or message timestamp")))
	case strings.TrimSpace(m.Text) == "":
		return fmt.Errorf("update message: %w", classify(invalidInput("no text")))
	}
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(m.Text, false)}
	if len(m.Buttons) > 0 {
		opts = append(opts, slackapi.MsgOptionBlocks(blocks(m)...))
	}
	if _, _, _, err := c.api.UpdateMessageContext(ctx, channelID, ts, opts...); err != nil {
		return fmt.Errorf("update message: %w", classify(err))
	}
	return nil
}

// ChannelURL is a link that opens the channel in Slack.
func (c *Client) ChannelURL(channelID string) string {
	return c.base + "/app_redirect?channel=" + url.QueryEscape(channelID)
}

// MaxChannelName is Slack's limit on a channel name.
const MaxChannelName = 80

// checkChannelName reports what Slack would refuse in a channel name:
// it must be 1 to 80 lowercase letters, digits, dashes and underscores (no
// periods, spaces or capitals).
func checkChannelName(name string) error {
	switch {
	case name == "":
		return invalidInput("channel name is empty")
	case len(name) > MaxChannelName:
		return invalidInput(fmt.Sprintf("channel name is %d characters, more than %d", len(name), MaxChannelName))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return invalidInput(fmt.Sprintf("channel name %q holds %q: only lowercase letters, digits, - and _", name, r))
		}
	}
	return nil
}

// CreateChannel creates a public channel and returns its ID. When the name is
// taken it finds that channel and returns its ID, so a retry is safe. A name
// Slack would refuse is a permanent error, not sent.
func (c *Client) CreateChannel(ctx context.Context, name string) (string, error) {
	if err := checkChannelName(name); err != nil {
		return "", fmt.Errorf("create channel: %w", classify(err))
	}
	ch, err := c.api.CreateConversationContext(ctx, slackapi.CreateConversationParams{ChannelName: name})
	if err == nil {
		return ch.ID, nil
	}
	if code(err) != "name_taken" {
		return "", fmt.Errorf("create channel: %w", classify(err))
	}
	id, ferr := c.findChannel(ctx, name)
	switch {
	case ferr != nil:
		return "", fmt.Errorf("find channel: %w", classify(ferr))
	case id == "":
		// Taken by a channel the bot cannot see: archived, or someone's private one.
		return "", fmt.Errorf("create channel: %w", classify(err))
	}
	return id, nil
}

// maxListPages bounds the search for a taken name.
const maxListPages = 50

func (c *Client) findChannel(ctx context.Context, name string) (string, error) {
	params := &slackapi.GetConversationsParameters{
		Types: []string{"public_channel", "private_channel"}, ExcludeArchived: true, Limit: 200,
	}
	for range maxListPages {
		chans, next, err := c.api.GetConversationsContext(ctx, params)
		if err != nil {
			return "", err
		}
		for _, ch := range chans {
			if ch.Name == name {
				return ch.ID, nil
			}
		}
		if next == "" {
			return "", nil
		}
		params.Cursor = next
	}
	return "", nil
}

// Invite adds users to the channel, one request per user so that each
// failure is plain. A user already in the channel counts as invited.
func (c *Client) Invite(ctx context.Context, channelID string, userIDs ...string) error {
	for _, u := range userIDs {
		_, err := c.api.InviteUsersToConversationContext(ctx, channelID, u)
		if err != nil && code(err) != "already_in_channel" {
			return fmt.Errorf("invite %s: %w", u, classify(err))
		}
	}
	return nil
}

// code is Slack's error code in an ok:false answer, or "".
func code(err error) string {
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}
