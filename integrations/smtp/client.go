package smtp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
)

// Client sends email through one SMTP server, one connection per send. It is
// safe for concurrent use.
type Client struct {
	cfg  Config
	host string
	from *mail.Address
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	host, _, _ := net.SplitHostPort(cfg.Addr)
	from, _ := mail.ParseAddress(cfg.From)
	return &Client{cfg: cfg, host: host, from: from}, nil
}

// Send sends e as one message to all of e.To and returns its Message-ID
// (without angle brackets).
func (c *Client) Send(ctx context.Context, e integrations.Email) (messageID string, err error) {
	if err := e.Validate(); err != nil {
		return "", fmt.Errorf("send email: %w", &integrations.Error{Provider: "smtp", Kind: integrations.Permanent, Message: err.Error()})
	}
	messageID = newMessageID(c.from.Address)
	msg, err := buildMessage(c.from, e, messageID, time.Now())
	if err != nil {
		return "", fmt.Errorf("send email: %w", &integrations.Error{Provider: "smtp", Kind: integrations.Permanent, Message: err.Error()})
	}
	if err := c.deliver(ctx, e.To, msg); err != nil {
		return "", fmt.Errorf("send email: %w", err)
	}
	return messageID, nil
}

// deliver runs one SMTP session: EHLO, STARTTLS when offered, AUTH when
// configured, MAIL, RCPT for each of to, DATA, QUIT.
func (c *Client) deliver(ctx context.Context, to []string, msg []byte) *integrations.Error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.cfg.Addr)
	if err != nil {
		return classify("dial", err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// A cancelled ctx ends whatever read or write the session is in.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	tlsConfig := &tls.Config{ServerName: c.host}
	implicitTLS := strings.HasSuffix(c.cfg.Addr, ":465")
	if implicitTLS {
		conn = tls.Client(conn, tlsConfig)
	}
	sc, err := smtp.NewClient(conn, c.host)
	if err != nil {
		return classify("greeting", err)
	}
	defer sc.Close()
	if ok, _ := sc.Extension("STARTTLS"); ok && !implicitTLS {
		if err := sc.StartTLS(tlsConfig); err != nil {
			return classify("starttls", err)
		}
	}
	if c.cfg.Username != "" {
		if err := sc.Auth(smtp.PlainAuth("", c.cfg.Username, c.cfg.Password.Reveal(), c.host)); err != nil {
			return classify("auth", err)
		}
	}
	if err := sc.Mail(c.from.Address); err != nil {
		return classify("mail from", err)
	}
	for _, rcpt := range to {
		if err := sc.Rcpt(rcpt); err != nil {
			return classify("rcpt to "+rcpt, err)
		}
	}
	w, err := sc.Data()
	if err != nil {
		return classify("data", err)
	}
	if _, err := w.Write(msg); err != nil {
		return classify("data", err)
	}
	if err := w.Close(); err != nil { // the server's verdict on the message
		return classify("data", err)
	}
	_ = sc.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}

// newMessageID returns a unique id at the sender's domain.
func newMessageID(from string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	domain := "sitrep.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	return hex.EncodeToString(b) + "@" + domain
}
