package twilio

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// Client sends SMS and voice calls through Twilio. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
	http http.Client
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
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("twilio: base url: %w", err)
	}
	c := &Client{cfg: cfg, base: base}
	if cfg.HTTPClient != nil {
		c.http = *cfg.HTTPClient
	} else {
		// Like twilio-go's own default client: a redirect is an answer, not followed.
		c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c, nil
}

// SendSMS texts body to the E.164 number to from Config.From and returns the message SID.
func (c *Client) SendSMS(ctx context.Context, to, body string) (sid string, err error) {
	params := &api.CreateMessageParams{}
	params.SetTo(to).SetFrom(c.cfg.From).SetBody(body)
	err = c.do(ctx, func(svc *api.ApiService) error {
		m, err := svc.CreateMessage(params)
		if err == nil && m.Sid != nil {
			sid = *m.Sid
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("send sms: %w", err)
	}
	return sid, nil
}

// Call rings the E.164 number to from Config.From, plays twiml (see PageTwiML)
// when answered, and returns the call SID.
func (c *Client) Call(ctx context.Context, to, twiml string) (sid string, err error) {
	params := &api.CreateCallParams{}
	params.SetTo(to).SetFrom(c.cfg.From).SetTwiml(twiml)
	err = c.do(ctx, func(svc *api.ApiService) error {
		call, err := svc.CreateCall(params)
		if err == nil && call.Sid != nil {
			sid = *call.Sid
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("call: %w", err)
	}
	return sid, nil
}

// do runs one SDK call bound to ctx and Config.Timeout, and classifies its error.
func (c *Client) do(ctx context.Context, call func(*api.ApiService) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel() // the SDK has read the whole response body by the time call returns
	next := c.http.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	rt := &callTransport{ctx: ctx, base: c.base, next: next}
	hc := c.http
	hc.Transport = rt
	tc := &twclient.Client{
		Credentials: twclient.NewCredentials(c.cfg.AccountSID, c.cfg.AuthToken.Reveal()),
		HTTPClient:  &hc,
	}
	tc.SetAccountSid(c.cfg.AccountSID)
	if err := call(api.NewApiServiceWithClient(tc)); err != nil {
		return classify(err, rt.status, rt.header, time.Now())
	}
	return nil
}

// callTransport serves one SDK call: it attaches the call's context (the SDK
// uses context.Background), sends the request to the configured base URL, and
// keeps the last response's status and headers, which the SDK hides on errors.
// It is used by one goroutine only.
type callTransport struct {
	ctx    context.Context
	base   *url.URL
	next   http.RoundTripper
	status int
	header http.Header
}

// RoundTrip implements http.RoundTripper.
func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(t.ctx)
	r.URL.Scheme, r.URL.Host = t.base.Scheme, t.base.Host
	r.URL.Path, r.URL.RawPath = t.base.Path+r.URL.Path, ""
	r.Host = ""
	resp, err := t.next.RoundTrip(r)
	if err == nil {
		t.status, t.header = resp.StatusCode, resp.Header
	}
	return resp, err
}
