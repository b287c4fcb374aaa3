package pagerduty

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/sitrep-dev/sitrep/integrations"
)

// DefaultEventsURL is PagerDuty's Events API endpoint.
const DefaultEventsURL = "https://events.pagerduty.com"

// DefaultTimeout bounds one request when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// The severities PagerDuty accepts on a trigger.
const (
	SeverityCritical = "critical"
	SeverityError    = "error"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// Limits of the Events API v2.
const (
	routingKeyLen = 32
	maxSummary    = 1024
	maxDedupKey   = 255
)

// Config configures the client. Routing keys are not here: they belong to
// people and services in the catalog and come with each call.
type Config struct {
	// BaseURL is the Events API endpoint, without a trailing path;
	// DefaultEventsURL when empty.
	BaseURL string
	// HTTPClient sends the requests; a plain *http.Client when nil.
	HTTPClient *http.Client
	// Timeout bounds each request; DefaultTimeout when zero. It replaces
	// HTTPClient's own Timeout.
	Timeout time.Duration
	// WebhookSecret verifies PagerDuty's v3 webhooks (see VerifyWebhook).
	WebhookSecret integrations.Secret
}

// ConfigFromEnv reads PAGERDUTY_EVENTS_URL and PAGERDUTY_WEBHOOK_SECRET (or
// PAGERDUTY_WEBHOOK_SECRET_FILE). The Events API needs no credential, so the
// provider is always enabled: ok is always true.
func ConfigFromEnv(getenv func(string) string) (Config, bool, error) {
	secret, err := integrations.ReadSecret(getenv, "PAGERDUTY_WEBHOOK_SECRET")
	cfg := Config{BaseURL: getenv("PAGERDUTY_EVENTS_URL"), WebhookSecret: secret}
	if err != nil {
		return cfg, true, fmt.Errorf("pagerduty config: %w", err)
	}
	return cfg, true, nil
}

// Client sends events to PagerDuty. It is safe for concurrent use.
type Client struct {
	pd *pd.Client
}

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultEventsURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("pagerduty config: BaseURL %q is not an http(s) URL", base)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("pagerduty config: Timeout %s is negative", cfg.Timeout)
	}
	hc := http.Client{}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	hc.Timeout = cfg.Timeout
	if hc.Timeout == 0 {
		hc.Timeout = DefaultTimeout
	}
	// The SDK appends "/v2/enqueue" to the endpoint, so no trailing slash.
	c := pd.NewClient("", pd.WithV2EventsAPIEndpoint(strings.TrimRight(base, "/")))
	c.HTTPClient = recorder{hc: &hc}
	return &Client{pd: c}, nil
}

// Link is a link shown with the alert.
type Link struct {
	Href string
	Text string
}

// Event is an alert to open (or fold into the open one with the same DedupKey).
type Event struct {
	RoutingKey    string // the 32-character integration key of the person's or service's PagerDuty service
	DedupKey      string // the sitrep incident ID
	Summary       string // at most 1024 characters
	Source        string // where the problem is, e.g. the service
	Severity      string // SeverityCritical, SeverityError, SeverityWarning or SeverityInfo
	Component     string // optional
	Links         []Link
	CustomDetails map[string]string
}

// Trigger opens an alert, or adds to the open one with the same dedup key,
// and returns the dedup key PagerDuty answered with.
func (c *Client) Trigger(ctx context.Context, e Event) (string, error) {
	if err := validateTrigger(e); err != nil {
		return "", fmt.Errorf("trigger: %w", classify(nil, err))
	}
	ev := &pd.V2Event{
		RoutingKey: e.RoutingKey,
		Action:     "trigger",
		DedupKey:   e.DedupKey,
		Client:     "sitrep",
		Payload: &pd.V2Payload{
			Summary:   e.Summary,
			Source:    e.Source,
			Severity:  e.Severity,
			Component: e.Component,
		},
	}
	if len(e.CustomDetails) > 0 {
		ev.Payload.Details = e.CustomDetails
	}
	for _, l := range e.Links {
		ev.Links = append(ev.Links, map[string]string{"href": l.Href, "text": l.Text})
	}
	resp, err := c.send(ctx, ev)
	if err != nil {
		return "", fmt.Errorf("trigger: %w", err)
	}
	if resp.DedupKey == "" {
		return e.DedupKey, nil
	}
	return resp.DedupKey, nil
}

// Acknowledge acknowledges the alert. PagerDuty accepts and ignores an
// acknowledge for a key it does not know or has resolved, so a retry is safe.
func (c *Client) Acknowledge(ctx context.Context, routingKey, dedupKey string) error {
	if _, err := c.follow(ctx, "acknowledge", routingKey, dedupKey); err != nil {
		return fmt.Errorf("acknowledge: %w", err)
	}
	return nil
}

// Resolve resolves the alert. Like Acknowledge, it is safe to repeat.
func (c *Client) Resolve(ctx context.Context, routingKey, dedupKey string) error {
	if _, err := c.follow(ctx, "resolve", routingKey, dedupKey); err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	return nil
}

func (c *Client) follow(ctx context.Context, action, routingKey, dedupKey string) (*pd.V2EventResponse, error) {
	if err := validateKeys(routingKey, dedupKey); err != nil {
		return nil, classify(nil, err)
	}
	return c.send(ctx, &pd.V2Event{RoutingKey: routingKey, Action: action, DedupKey: dedupKey})
}

// send posts ev through the SDK's client method, which honours the endpoint
// option (the package-level ManageEvent does not), and classifies the outcome.
func (c *Client) send(ctx context.Context, ev *pd.V2Event) (*pd.V2EventResponse, error) {
	x := &exchange{}
	resp, err := c.pd.ManageEventWithContext(context.WithValue(ctx, exchangeKey{}, x), ev)
	if e := classify(x, err); e != nil {
		return nil, e
	}
	return resp, nil
}

// invalidInput is an event that sitrep itself knows PagerDuty would reject.
type invalidInput string

func (e invalidInput) Error() string { return string(e) }

func validateTrigger(e Event) error {
	if err := validateKeys(e.RoutingKey, e.DedupKey); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(e.Summary) == "":
		return invalidInput("summary is empty")
	case len(e.Summary) > maxSummary:
		return invalidInput(fmt.Sprintf("summary is %d characters, more than %d", len(e.Summary), maxSummary))
	case strings.TrimSpace(e.Source) == "":
		return invalidInput("source is empty")
	}
	switch e.Severity {
	case SeverityCritical, SeverityError, SeverityWarning, SeverityInfo:
		return nil
	default:
		return invalidInput(fmt.Sprintf("severity %q is not critical, error, warning or info", e.Severity))
	}
}

func validateKeys(routingKey, dedupKey string) error {
	switch {
	case len(routingKey) != routingKeyLen:
		// The length only: the key itself is a credential.
		return invalidInput(fmt.Sprintf("routing key has %d characters, want %d", len(routingKey), routingKeyLen))
	case dedupKey == "":
		return invalidInput("dedup key (the incident ID) is empty")
	case len(dedupKey) > maxDedupKey:
		return invalidInput(fmt.Sprintf("dedup key is %d characters, more than %d", len(dedupKey), maxDedupKey))
	}
	return nil
}

// exchange is what came back for one request: the SDK keeps neither the
// headers nor the body of an Events API error, so recorder copies them here.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

type exchangeKey struct{}

// recorder is the SDK's HTTP client. It fills the *exchange that the
// request's context carries, so concurrent calls never share one.
type recorder struct{ hc *http.Client }

func (r recorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, err
	}
	x, ok := req.Context().Value(exchangeKey{}).(*exchange)
	if !ok {
		return resp, nil
	}
	x.status, x.header = resp.StatusCode, resp.Header
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		x.body = body
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}
