package smtp

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

// FakeOptions configures a Fake.
type FakeOptions struct {
	Reporter fakeapi.Reporter // told of commands the server does not know; nil in the sandbox
	Inbox    *inbox.Inbox     // where deliveries show up; may be nil
	Addr     string           // where to listen; default "127.0.0.1:0"
	// Username and Password, when set, make AUTH PLAIN required before MAIL.
	Username string
	Password integrations.Secret
}

// Reply is an SMTP reply, e.g. {450, "4.2.1 Mailbox busy"} or {550, "5.1.1 No such user"}.
type Reply struct {
	Code int
	Text string
}

// Mail is one message the fake accepted.
type Mail struct {
	MessageID   string   // the Message-ID header, without angle brackets
	From        string   // envelope sender
	To          []string // envelope recipients
	Header      mail.Header
	Subject     string // decoded
	Text        string // the text/plain part, decoded
	HTML        string // the text/html part, decoded
	Incident    string // the X-Sitrep-Incident header
	Attachments []integrations.Attachment
	Raw         []byte // the message as received, dot-unstuffed, LF line ends
	At          time.Time
}

// Fake is a small SMTP server that accepts what net/smtp sends (EHLO, AUTH
// PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no STARTTLS) and records it.
type Fake struct {
	opts FakeOptions
	ln   net.Listener
	wg   sync.WaitGroup

	mu        sync.Mutex
	conns     map[net.Conn]bool
	rcptFails []Reply

	got fakeapi.Log[Mail]
}

// NewFakeServer starts a Fake listening on opts.Addr; Close stops it.
func NewFakeServer(opts FakeOptions) (*Fake, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp fake: listen: %w", err)
	}
	f := &Fake{opts: opts, ln: ln, conns: map[net.Conn]bool{}}
	f.wg.Go(f.accept)
	return f, nil
}

// Addr returns the host:port the fake listens on.
func (f *Fake) Addr() string { return f.ln.Addr().String() }

// Close stops the fake and ends its sessions.
func (f *Fake) Close() error {
	err := f.ln.Close()
	f.mu.Lock()
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
	return err
}

// FailNextRcpt makes the next len(replies) RCPT commands get these replies
// instead of 250, in order: 4xx for a transient refusal, 5xx for a permanent
// one; a zero Reply lets its RCPT through.
func (f *Fake) FailNextRcpt(replies ...Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rcptFails = append(f.rcptFails, replies...)
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
	return f.got.Expect(t, fmt.Sprintf("smtp fake: no email to %s containing %q", to, substring), func(m Mail) bool {
		return slices.Contains(m.To, to) && strings.Contains(m.Subject+"\n"+m.Text+"\n"+m.HTML, substring)
	})
}

func (f *Fake) accept() {
	for {
		conn, err := f.ln.Accept()
		if err != nil {
			return // closed
		}
		f.mu.Lock()
		f.conns[conn] = true
		f.mu.Unlock()
		f.wg.Go(func() {
			defer func() {
				f.mu.Lock()
				delete(f.conns, conn)
				f.mu.Unlock()
				conn.Close()
			}()
			f.session(conn)
		})
	}
}

// session speaks SMTP on conn until QUIT or an error.
func (f *Fake) session(conn net.Conn) {
	tp := textproto.NewConn(conn)
	reply := func(code int, text string) bool { return tp.PrintfLine("%d %s", code, text) == nil }
	authed := f.opts.Username == ""
	var mailing bool
	var from string
	var rcpts []string
	if !reply(220, "sitrep-fake ESMTP") {
		return
	}
	for {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Minute))
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		ok := true
		switch strings.ToUpper(verb) {
		case "EHLO":
			ext := []string{"sitrep-fake", "8BITMIME", "SIZE 26214400"}
			if f.opts.Username != "" {
				ext = append(ext, "AUTH PLAIN")
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				if tp.PrintfLine("250%s%s", sep, e) != nil {
					return
				}
			}
		case "HELO":
			ok = reply(250, "sitrep-fake")
		case "AUTH":
			authed, ok = f.auth(tp, arg, reply)
		case "MAIL":
			addr, found := path(arg, "FROM:")
			switch {
			case !authed:
				ok = reply(530, "5.7.0 Authentication required")
			case !found:
				ok = reply(501, "5.5.4 Syntax: MAIL FROM:<address>")
			default:
				mailing, from, rcpts = true, addr, nil
				ok = reply(250, "2.1.0 Ok")
			}
		case "RCPT":
			addr, found := path(arg, "TO:")
			switch {
			case !mailing:
				ok = reply(503, "5.5.1 Error: need MAIL command")
			case !found || addr == "":
				ok = reply(501, "5.5.4 Syntax: RCPT TO:<address>")
			default:
				if r, failed := f.nextRcptFail(); failed && r.Code != 0 {
					ok = reply(r.Code, r.Text)
					break
				}
				rcpts = append(rcpts, addr)
				ok = reply(250, "2.1.5 Ok")
			}
		case "DATA":
			if len(rcpts) == 0 {
				ok = reply(503, "5.5.1 Error: need RCPT command")
				break
			}
			if !reply(354, "End data with <CR><LF>.<CR><LF>") {
				return
			}
			raw, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			m, err := readMail(raw)
			if err != nil {
				ok = reply(554, "5.6.0 Malformed message: "+err.Error())
			} else {
				m.From, m.To = from, rcpts
				f.record(m)
				ok = reply(250, "2.0.0 Ok: queued as "+m.MessageID)
			}
			mailing, from, rcpts = false, "", nil
		case "RSET":
			mailing, from, rcpts = false, "", nil
			ok = reply(250, "2.0.0 Ok")
		case "NOOP":
			ok = reply(250, "2.0.0 Ok")
		case "QUIT":
			reply(221, "2.0.0 Bye")
			return
		default:
			if f.opts.Reporter != nil {
				f.opts.Reporter.Errorf("smtp fake: unexpected command %q", verb)
			}
			ok = reply(502, "5.5.2 Error: command not recognized")
		}
		if !ok {
			return
		}
	}
}

// auth answers AUTH PLAIN, with the initial response on the line or after a 334.
func (f *Fake) auth(tp *textproto.Conn, arg string, reply func(int, string) bool) (authed, ok bool) {
	mech, resp, _ := strings.Cut(arg, " ")
	if f.opts.Username == "" || !strings.EqualFold(mech, "PLAIN") {
		return false, reply(504, "5.5.4 Unrecognized authentication type")
	}
	if resp == "" {
		if !reply(334, "") {
			return false, false
		}
		line, err := tp.ReadLine()
		if err != nil {
			return false, false
		}
		resp = line
	}
	b, err := base64.StdEncoding.DecodeString(resp)
	parts := strings.Split(string(b), "\x00")
	if err != nil || len(parts) != 3 || parts[1] != f.opts.Username ||
		subtle.ConstantTimeCompare([]byte(parts[2]), []byte(f.opts.Password.Reveal())) != 1 {
		return false, reply(535, "5.7.8 Authentication credentials invalid")
	}
	return true, reply(235, "2.7.0 Authentication successful")
}

func (f *Fake) nextRcptFail() (Reply, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.rcptFails) == 0 {
		return Reply{}, false
	}
	r := f.rcptFails[0]
	f.rcptFails = f.rcptFails[1:]
	return r, true
}

func (f *Fake) record(m Mail) {
	f.got.Add(m)
	text, links := fakeapi.MailView(m.Text, m.HTML)
	from := m.From
	if a, err := mail.ParseAddress(m.Header.Get("From")); err == nil {
		from = a.Address
	}
	for _, to := range m.To {
		f.opts.Inbox.Add(inbox.Message{
			Channel: "email", Provider: "smtp", To: to, From: from, Subject: m.Subject,
			Text: text, Incident: m.Incident, ProviderID: m.MessageID, Links: links,
		})
	}
}

// path returns the address in "FROM:<addr> PARAMS" after prefix.
func path(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	addr, _, found := strings.Cut(rest[1:], ">")
	return addr, found
}

// readMail parses a received message and its MIME parts.
func readMail(raw []byte) (Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Mail{}, err
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Mail{}, fmt.Errorf("subject: %w", err)
	}
	m := Mail{
		MessageID: strings.Trim(msg.Header.Get("Message-ID"), "<> "),
		Header:    msg.Header,
		Subject:   subject,
		Incident:  msg.Header.Get(IncidentHeader),
		Raw:       raw,
		At:        time.Now().UTC(),
	}
	if m.MessageID == "" {
		return Mail{}, errors.New("no Message-ID")
	}
	err = m.readPart(textproto.MIMEHeader(msg.Header), msg.Body)
	return m, err
}

// readPart reads one MIME part, descending into multiparts.
func (m *Mail) readPart(h textproto.MIMEHeader, body io.Reader) error {
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.readPart(p.Header, p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // it skips the line breaks
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	content, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("%s part: %w", mediaType, err)
	}
	disposition, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	switch {
	case disposition == "attachment":
		m.Attachments = append(m.Attachments, integrations.Attachment{Filename: dparams["filename"], ContentType: h.Get("Content-Type"), Content: content})
	case mediaType == "text/plain" && m.Text == "":
		m.Text = string(content)
	case mediaType == "text/html" && m.HTML == "":
		m.HTML = string(content)
	}
	return nil
}
