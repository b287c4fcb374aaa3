package mattermost

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
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sitrep-dev/sitrep/integrations"
)

// DefaultTimeout bounds one request when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config configures the client.
type Config struct {
	// BaseURL is the Mattermost server, e.g. https://chat.example.com. Required.
	BaseURL string
	// Token is a bot's or user's personal access token.
	Token integrations.Secret
	// TeamID is the team war-room channels are created in.
	TeamID string
	// HTTPClient sends the requests; a plain *http.Client when nil.
	HTTPClient *http.Client
	// Timeout bounds each request; DefaultTimeout when zero. It replaces
	// HTTPClient's own Timeout.
	Timeout time.Duration
}

// ConfigFromEnv reads MATTERMOST_URL, MATTERMOST_TOKEN (or
// MATTERMOST_TOKEN_FILE) and MATTERMOST_TEAM_ID. ok is false when none is set.
func ConfigFromEnv(getenv func(string) string) (Config, bool, error) {
	token, err := integrations.ReadSecret(getenv, "MATTERMOST_TOKEN")
	cfg := Config{BaseURL: getenv("MATTERMOST_URL"), Token: token, TeamID: getenv("MATTERMOST_TEAM_ID")}
	if err != nil {
		return cfg, true, fmt.Errorf("mattermost config: %w", err)
	}
	return cfg, cfg.BaseURL != "" || cfg.Token != "" || cfg.TeamID != "", nil
}

// Client talks to Mattermost's REST API v4. It is safe for concurrent use.
type Client struct {
	base   string
	token  integrations.Secret
	teamID string
	hc     *http.Client

	mu       sync.Mutex
	me       string // the token's own user ID, once known
	teamName string // the team's name, once known
}

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	var errs []error
	base := strings.TrimRight(cfg.BaseURL, "/")
	if u, err := url.Parse(base); base == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("BaseURL (MATTERMOST_URL) %q is not an http(s) URL", cfg.BaseURL))
	}
	if cfg.Token == "" {
		errs = append(errs, errors.New("Token (MATTERMOST_TOKEN) is required"))
	}
	if cfg.TeamID == "" {
		errs = append(errs, errors.New("TeamID (MATTERMOST_TEAM_ID) is required"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("Timeout %s is negative", cfg.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("mattermost config: %w", err)
	}
	hc := http.Client{}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	hc.Timeout = cfg.Timeout
	if hc.Timeout == 0 {
		hc.Timeout = DefaultTimeout
	}
	return &Client{base: base, token: cfg.Token, teamID: cfg.TeamID, hc: &hc}, nil
}

// Message is a message with optional buttons.
type Message struct {
	Text     string // Markdown
	Incident string // the sitrep incident ID, kept in the post's props; optional
	Buttons  []Button
}

// Button is an interactive button. A click makes Mattermost POST the
// Context, with who clicked, to URL (see ParseAction).
type Button struct {
	ID      string // letters and digits only: Mattermost cannot route a click to other IDs
	Text    string // the label
	Style   string // "default", "primary", "success", "good", "warning" or "danger"
	URL     string // where Mattermost posts the click
	Context map[string]string
}

// PostMessage posts m in the channel and returns the post's ID.
func (c *Client) PostMessage(ctx context.Context, channelID string, m Message) (string, error) {
	if err := validate(channelID, m); err != nil {
		return "", fmt.Errorf("post message: %w", classify(0, nil, nil, err))
	}
	var p post
	if err := c.do(ctx, http.MethodPost, "/api/v4/posts", newPost(channelID, m), &p); err != nil {
		return "", fmt.Errorf("post message: %w", err)
	}
	return p.ID, nil
}

// DirectMessage posts m in the direct-message channel between the token's
// user and userID, creating it if needed, and returns the post's ID.
func (c *Client) DirectMessage(ctx context.Context, userID string, m Message) (string, error) {
	if userID == "" {
		return "", fmt.Errorf("direct message: %w", classify(0, nil, nil, invalidInput("no user ID")))
	}
	me, err := c.self(ctx)
	if err != nil {
		return "", fmt.Errorf("direct message: %w", err)
	}
	var ch channel
	if err := c.do(ctx, http.MethodPost, "/api/v4/channels/direct", []string{me, userID}, &ch); err != nil {
		return "", fmt.Errorf("direct message: %w", err)
	}
	return c.PostMessage(ctx, ch.ID, m)
}

// self returns the token's own user ID, asking once.
func (c *Client) self(ctx context.Context) (string, error) {
	c.mu.Lock()
	me := c.me
	c.mu.Unlock()
	if me != "" {
		return me, nil
	}
	var u struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v4/users/me", nil, &u); err != nil {
		return "", fmt.Errorf("get own user: %w", err)
	}
	c.mu.Lock()
	c.me = u.ID
	c.mu.Unlock()
	return u.ID, nil
}

// channelExists is Mattermost's error id for a name taken in the team.
const channelExists = "store.sql_channel.save_channel.exists.app_error"

// CreateChannel creates a public channel in the team and returns its ID.
// When the name is taken it returns that channel's ID, so a retry is safe.
// An empty displayName is the name.
// A name or display name Mattermost would refuse is a permanent error, not sent.
func (c *Client) CreateChannel(ctx context.Context, name, displayName string) (string, error) {
	if displayName == "" {
		displayName = name
	}
	if err := checkChannelName(name, displayName); err != nil {
		return "", fmt.Errorf("create channel: %w", classify(0, nil, nil, err))
	}
	var ch channel
	err := c.do(ctx, http.MethodPost, "/api/v4/channels",
		map[string]string{"team_id": c.teamID, "name": name, "display_name": displayName, "type": "O"}, &ch)
	var e *integrations.Error
	if errors.As(err, &e) && e.Code == channelExists {
		path := "/api/v4/teams/" + url.PathEscape(c.teamID) + "/channels/name/" + url.PathEscape(name)
		if err := c.do(ctx, http.MethodGet, path, nil, &ch); err != nil {
			return "", fmt.Errorf("get channel %s: %w", name, err)
		}
		return ch.ID, nil
	}
	if err != nil {
		return "", fmt.Errorf("create channel: %w", err)
	}
	return ch.ID, nil
}

// MaxChannelName is Mattermost's limit on a channel's name and on its display name.
const MaxChannelName = 64

// checkChannelName reports what Mattermost would refuse: a name of 1 to 64
// lowercase letters, digits, dashes and underscores, a display name of 1
// to 64 characters.
func checkChannelName(name, displayName string) error {
	switch {
	case name == "":
		return invalidInput("channel name is empty")
	case len(name) > MaxChannelName:
		return invalidInput(fmt.Sprintf("channel name is %d characters, more than %d", len(name), MaxChannelName))
	case utf8.RuneCountInString(displayName) > MaxChannelName:
		return invalidInput(fmt.Sprintf("channel display name is more than %d characters", MaxChannelName))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return invalidInput(fmt.Sprintf("channel name %q holds %q: only lowercase letters, digits, - and _", name, r))
		}
	}
	return nil
}

// EditMessage replaces the text of the post (PUT /api/v4/posts/{id}/patch);
// its buttons stay. Patching the same text again succeeds, so a retry is safe.
func (c *Client) EditMessage(ctx context.Context, postID, text string) error {
	switch {
	case postID == "":
		return fmt.Errorf("edit message: %w", classify(0, nil, nil, invalidInput("no post ID")))
	case strings.TrimSpace(text) == "":
		return fmt.Errorf("edit message: %w", classify(0, nil, nil, invalidInput("no text")))
	}
	if err := c.do(ctx, http.MethodPut, "/api/v4/posts/"+url.PathEscape(postID)+"/patch", map[string]string{"message": text}, nil); err != nil {
		return fmt.Errorf("edit message: %w", err)
	}
	return nil
}

// ChannelURL is the link that opens the team's channel called name. It asks
// the team's name once.
func (c *Client) ChannelURL(ctx context.Context, name string) (string, error) {
	c.mu.Lock()
	team := c.teamName
	c.mu.Unlock()
	if team == "" {
		var t struct {
			Name string `json:"name"`
		}
		if err := c.do(ctx, http.MethodGet, "/api/v4/teams/"+url.PathEscape(c.teamID), nil, &t); err != nil {
			return "", fmt.Errorf("get team: %w", err)
		}
		team = t.Name
		c.mu.Lock()
		c.teamName = team
		c.mu.Unlock()
	}
	return c.base + "/" + url.PathEscape(team) + "/channels/" + url.PathEscape(name), nil
}

// Invite adds users to the channel, one request per user. Adding a member
// again succeeds, so a retry is safe.
func (c *Client) Invite(ctx context.Context, channelID string, userIDs ...string) error {
	if channelID == "" {
		return fmt.Errorf("invite: %w", classify(0, nil, nil, invalidInput("no channel ID")))
	}
	for _, u := range userIDs {
		if err := c.do(ctx, http.MethodPost, "/api/v4/channels/"+url.PathEscape(channelID)+"/members", map[string]string{"user_id": u}, nil); err != nil {
			return fmt.Errorf("invite %s: %w", u, err)
		}
	}
	return nil
}

// do sends one request and decodes a 2xx JSON answer into out (when not
// nil). Any failure comes back from classify.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return classify(0, nil, nil, invalidInput(err.Error()))
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return classify(0, nil, nil, invalidInput(err.Error()))
	}
	req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return classify(0, nil, nil, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && out != nil && resp.StatusCode/100 == 2 {
		err = json.Unmarshal(b, out)
	}
	if e := classify(resp.StatusCode, resp.Header, b, err); e != nil {
		return e
	}
	return nil
}

// invalidInput is a request sitrep itself knows Mattermost would reject.
type invalidInput string

func (e invalidInput) Error() string { return string(e) }

func validate(channelID string, m Message) error {
	switch {
	case channelID == "":
		return invalidInput("no channel ID")
	case strings.TrimSpace(m.Text) == "":
		return invalidInput("no text")
	}
	for _, b := range m.Buttons {
		if b.ID == "" || strings.IndexFunc(b.ID, func(r rune) bool { return !isAlnum(r) }) >= 0 {
			return invalidInput(fmt.Sprintf("button ID %q is not letters and digits", b.ID))
		}
		if u, err := url.Parse(b.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return invalidInput(fmt.Sprintf("button %s URL is not an http(s) URL", b.ID))
		}
	}
	return nil
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// incidentProp is the post prop that holds the sitrep incident ID.
const incidentProp = "sitrep_incident"

// post is a Mattermost post, the part sitrep writes or reads.
type post struct {
	ID        string    `json:"id,omitempty"`
	ChannelID string    `json:"channel_id"`
	UserID    string    `json:"user_id,omitempty"`
	CreateAt  int64     `json:"create_at,omitempty"`
	Message   string    `json:"message"`
	Props     postProps `json:"props"`
}

type postProps struct {
	Incident    string       `json:"sitrep_incident,omitempty"`
	Attachments []attachment `json:"attachments,omitempty"`
}

type attachment struct {
	Text    string   `json:"text,omitempty"`
	Actions []action `json:"actions"`
}

type action struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Type        string      `json:"type"`
	Style       string      `json:"style,omitempty"`
	Integration integration `json:"integration"`
}

type integration struct {
	URL     string            `json:"url"`
	Context map[string]string `json:"context,omitempty"`
}

func newPost(channelID string, m Message) post {
	p := post{ChannelID: channelID, Message: m.Text, Props: postProps{Incident: m.Incident}}
	if len(m.Buttons) == 0 {
		return p
	}
	var acts []action
	for _, b := range m.Buttons {
		acts = append(acts, action{ID: b.ID, Name: b.Text, Type: "button", Style: b.Style, Integration: integration{URL: b.URL, Context: b.Context}})
	}
	p.Props.Attachments = []attachment{{Actions: acts}}
	return p
}

// channel is a Mattermost channel, the part sitrep reads or the fake writes.
type channel struct {
	ID          string `json:"id"`
	TeamID      string `json:"team_id"`
	Type        string `json:"type"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	CreateAt    int64  `json:"create_at"`
	DeleteAt    int64  `json:"delete_at"`
	CreatorID   string `json:"creator_id"`
}

// Action is a button click, as Mattermost posts it to the button's URL.
type Action struct {
	UserID    string
	UserName  string
	ChannelID string
	PostID    string
	TeamID    string
	Context   map[string]string // the Button's Context
}

// actionRequest is what Mattermost posts to a button's URL.
type actionRequest struct {
	UserID      string            `json:"user_id"`
	UserName    string            `json:"user_name"`
	ChannelID   string            `json:"channel_id"`
	ChannelName string            `json:"channel_name"`
	TeamID      string            `json:"team_id"`
	TeamDomain  string            `json:"team_domain"`
	PostID      string            `json:"post_id"`
	TriggerID   string            `json:"trigger_id"`
	Type        string            `json:"type"`
	DataSource  string            `json:"data_source"`
	Context     map[string]string `json:"context"`
}

// ParseAction reads a button click. Mattermost does not sign it: check a
// token carried in the Context or the URL.
func ParseAction(body []byte) (Action, error) {
	var r actionRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return Action{}, fmt.Errorf("parse mattermost action: %w", err)
	}
	if r.UserID == "" || r.PostID == "" {
		return Action{}, errors.New("parse mattermost action: no user_id or post_id")
	}
	return Action{UserID: r.UserID, UserName: r.UserName, ChannelID: r.ChannelID, PostID: r.PostID, TeamID: r.TeamID, Context: r.Context}, nil
}
