package video

import (
	"bytes"
	"context"
	"encoding/base64"
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

// Zoom's defaults.
const (
	DefaultBaseURL  = "https://api.zoom.us"
	DefaultTokenURL = "https://zoom.us/oauth/token"
	DefaultUserID   = "me"
)

// defaultTimeout bounds each HTTP request when Config.Timeout is zero.
const defaultTimeout = 10 * time.Second

// tokenMargin is how long before its expiry a cached access token is replaced.
const tokenMargin = time.Minute

// meetingDuration is the scheduled length of an incident's meeting, in
// minutes; Zoom does not end a meeting when it runs over.
const meetingDuration = 60

// maxTopic is Zoom's limit on a meeting topic, in characters.
const maxTopic = 200

// agendaPrefix starts the agenda of every meeting the client creates; the marker follows.
const agendaPrefix = "sitrep incident "

// Config holds a Zoom server-to-server OAuth app's credentials.
type Config struct {
	AccountID    string
	ClientID     string
	ClientSecret integrations.Secret
	UserID       string        // whose meetings; default "me", the app's owner
	BaseURL      string        // default DefaultBaseURL; paths start with /v2
	TokenURL     string        // default DefaultTokenURL
	HTTPClient   *http.Client  // default a new http.Client
	Timeout      time.Duration // per request; default 10s
}

// ConfigFromEnv reads ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET (or
// ZOOM_CLIENT_SECRET_FILE), ZOOM_USER_ID, ZOOM_BASE_URL and ZOOM_TOKEN_URL.
// ok is false when none of the credentials is set: Zoom is then not used.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	secret, err := integrations.ReadSecret(getenv, "ZOOM_CLIENT_SECRET")
	if err != nil {
		return Config{}, false, fmt.Errorf("zoom config: %w", err)
	}
	cfg = Config{
		AccountID:    getenv("ZOOM_ACCOUNT_ID"),
		ClientID:     getenv("ZOOM_CLIENT_ID"),
		ClientSecret: secret,
		UserID:       getenv("ZOOM_USER_ID"),
		BaseURL:      getenv("ZOOM_BASE_URL"),
		TokenURL:     getenv("ZOOM_TOKEN_URL"),
	}
	ok = cfg.AccountID != "" || cfg.ClientID != "" || cfg.ClientSecret != ""
	return cfg, ok, nil
}

// Client creates Zoom meetings. It caches its access token until shortly
// before it expires. It is safe for concurrent use.
type Client struct {
	accountID string
	clientID  string
	secret    integrations.Secret
	userID    string
	baseURL   string
	tokenURL  string
	http      *http.Client
	timeout   time.Duration

	// lock guards token and expiry; it is a channel so that waiting for it honours ctx.
	lock   chan struct{}
	token  string
	expiry time.Time
}

// New checks cfg and returns a Zoom client. It reports every bad field at once.
func New(cfg Config) (*Client, error) {
	var errs []error
	if cfg.AccountID == "" {
		errs = append(errs, errors.New("account ID is required (ZOOM_ACCOUNT_ID)"))
	}
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("client ID is required (ZOOM_CLIENT_ID)"))
	}
	if cfg.ClientSecret == "" {
		errs = append(errs, errors.New("client secret is required (ZOOM_CLIENT_SECRET)"))
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.TokenURL == "" {
		cfg.TokenURL = DefaultTokenURL
	}
	for _, u := range []struct{ name, val string }{{"ZOOM_BASE_URL", cfg.BaseURL}, {"ZOOM_TOKEN_URL", cfg.TokenURL}} {
		if p, err := url.Parse(u.val); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%q is not an http(s) URL (%s)", u.val, u.name))
		}
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v is negative", cfg.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("zoom config: %w", err)
	}
	if cfg.UserID == "" {
		cfg.UserID = DefaultUserID
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	return &Client{
		accountID: cfg.AccountID,
		clientID:  cfg.ClientID,
		secret:    cfg.ClientSecret,
		userID:    cfg.UserID,
		baseURL:   strings.TrimRight(cfg.BaseURL, "/"),
		tokenURL:  cfg.TokenURL,
		http:      cfg.HTTPClient,
		timeout:   cfg.Timeout,
		lock:      make(chan struct{}, 1),
	}, nil
}

// Link creates (or finds) the Zoom meeting for incidentID and returns its join URL.
func (c *Client) Link(ctx context.Context, incidentID, topic string) (string, error) {
	return c.CreateMeeting(ctx, topic, incidentID)
}

// MeetingRequest is the body of POST /v2/users/{userId}/meetings as the
// client sends it; the fake records it.
type MeetingRequest struct {
	Topic     string          `json:"topic"`
	Type      int             `json:"type"` // 1 instant, 2 scheduled
	StartTime string          `json:"start_time,omitempty"`
	Duration  int             `json:"duration,omitempty"`
	Timezone  string          `json:"timezone,omitempty"`
	Agenda    string          `json:"agenda,omitempty"`
	Settings  MeetingSettings `json:"settings"`
}

// MeetingSettings are the meeting settings the client sets.
type MeetingSettings struct {
	JoinBeforeHost bool `json:"join_before_host"`
	JBHTime        int  `json:"jbh_time"` // minutes before the start participants may join; 0 means any time
	WaitingRoom    bool `json:"waiting_room"`
}

// meeting is the part of Zoom's meeting object the client reads.
type meeting struct {
	ID      int64  `json:"id"`
	Agenda  string `json:"agenda"`
	JoinURL string `json:"join_url"`
}

// CreateMeeting creates a scheduled meeting starting now, which responders
// can join before the host, and returns its join URL. When one of the user's
// scheduled meetings already has marker's agenda, it returns that one's join URL.
func (c *Client) CreateMeeting(ctx context.Context, topic, marker string) (string, error) {
	if marker == "" {
		return "", classify(zoomProvider, nil, nil, fmt.Errorf("create meeting: %w: marker is empty", errInvalid))
	}
	agenda := agendaPrefix + marker
	path := "/v2/users/" + url.PathEscape(c.userID) + "/meetings"
	var list struct {
		Meetings []meeting `json:"meetings"`
	}
	if err := c.api(ctx, http.MethodGet, path+"?type=scheduled&page_size=300", nil, &list); err != nil {
		return "", err
	}
	for _, m := range list.Meetings {
		if m.Agenda == agenda && m.JoinURL != "" {
			return m.JoinURL, nil
		}
	}
	if r := []rune(topic); len(r) > maxTopic {
		topic = string(r[:maxTopic])
	}
	req := MeetingRequest{
		Topic:     topic,
		Type:      2,
		StartTime: time.Now().UTC().Format("2006-01-02T15:04:05Z"),
		Duration:  meetingDuration,
		Timezone:  "UTC",
		Agenda:    agenda,
		Settings:  MeetingSettings{JoinBeforeHost: true, JBHTime: 0, WaitingRoom: false},
	}
	var created meeting
	if err := c.api(ctx, http.MethodPost, path, req, &created); err != nil {
		return "", err
	}
	return created.JoinURL, nil
}

// api calls Zoom's REST API with the cached access token. When Zoom says the
// token is invalid (code 124), it drops the token and tries once more with a new one.
func (c *Client) api(ctx context.Context, method, path string, in, out any) error {
	for attempt := 0; ; attempt++ {
		token, err := c.accessToken(ctx)
		if err != nil {
			return err
		}
		err = c.do(ctx, method, c.baseURL+path, "Bearer "+token, in, out)
		var e *integrations.Error
		if attempt == 0 && errors.As(err, &e) && e.Status == http.StatusUnauthorized && e.Code == codeInvalidToken {
			if err := c.dropToken(ctx, token); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

// accessToken returns the cached token, fetching a new one when it is missing or about to expire.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	if err := c.acquire(ctx); err != nil {
		return "", err
	}
	defer c.release()
	if c.token != "" && time.Now().Before(c.expiry) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"account_credentials"}, "account_id": {c.accountID}}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	basic := "Basic " + basicAuth(c.clientID, c.secret.Reveal())
	if err := c.do(ctx, http.MethodPost, c.tokenURL, basic, form, &tok); err != nil {
		return "", err
	}
	if tok.AccessToken == "" {
		return "", classify(zoomProvider, nil, nil, errors.New("token response has no access_token"))
	}
	life := time.Duration(tok.ExpiresIn) * time.Second
	if life > 2*tokenMargin {
		life -= tokenMargin
	} else {
		life /= 2
	}
	c.token, c.expiry = tok.AccessToken, time.Now().Add(life)
	return c.token, nil
}

// dropToken forgets token, unless another call has already replaced it.
func (c *Client) dropToken(ctx context.Context, token string) error {
	if err := c.acquire(ctx); err != nil {
		return err
	}
	defer c.release()
	if c.token == token {
		c.token = ""
	}
	return nil
}

func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return classify(zoomProvider, nil, nil, fmt.Errorf("wait for access token: %w", ctx.Err()))
	}
}

func (c *Client) release() { <-c.lock }

// maxBody caps how much of a response the client reads.
const maxBody = 1 << 20

// do sends one request and decodes a 2xx answer into out. in is sent as a
// form when it is url.Values, as JSON otherwise. Every failure comes back
// through classify.
func (c *Client) do(ctx context.Context, method, target, auth string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	contentType := ""
	switch v := in.(type) {
	case nil:
	case url.Values:
		body, contentType = strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return classify(zoomProvider, nil, nil, fmt.Errorf("encode request: %w: %v", errInvalid, err))
		}
		body, contentType = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return classify(zoomProvider, nil, nil, fmt.Errorf("build request: %w: %v", errInvalid, err))
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return classify(zoomProvider, nil, nil, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return classify(zoomProvider, nil, nil, fmt.Errorf("read response: %w", err))
	}
	if e := classify(zoomProvider, resp, b, nil); e != nil {
		return e
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return classify(zoomProvider, nil, nil, fmt.Errorf("decode response: %w", err))
		}
	}
	return nil
}

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}
