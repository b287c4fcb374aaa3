package smtp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

const (
	testUser = "sitrep"
	testPass = "s3cret"
	testFrom = "sitrep pager <pager@sitrep.example>"
)

type env struct {
	fake   *Fake
	inbox  *inbox.Inbox
	rep    *fakeapi.RecordingReporter
	client *Client
}

func newEnv(t *testing.T, fo FakeOptions, mod func(*Config)) *env {
	t.Helper()
	e := &env{inbox: inbox.New(), rep: &fakeapi.RecordingReporter{}}
	fo.Reporter, fo.Inbox = e.rep, e.inbox
	f, err := NewFakeServer(fo)
	if err != nil {
		t.Fatalf("NewFakeServer: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	e.fake = f
	cfg := Config{Addr: f.Addr(), From: testFrom}
	if fo.Username != "" {
		cfg.Username, cfg.Password = fo.Username, fo.Password
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.client = c
	return e
}

func page() integrations.Email {
	return integrations.Email{
		To:         []string{"alice@example.com", "bob@example.com"},
		Subject:    "[SEV1] inc-api-0badc0de: API 5xx — ünïcode",
		Text:       "The API returns 5xx.\n.a line starting with a dot\n" + strings.Repeat("long ", 40) + "\nAcknowledge: https://sitrep.example/ack/abc.\n",
		HTML:       `<p>The API returns 5xx.</p><p><a href="https://sitrep.example/ack/abc">Acknowledge</a></p>`,
		IncidentID: "inc-api-0badc0de",
		Attachments: []integrations.Attachment{{
			Filename: "postmortem meeting.ics", ContentType: "text/calendar; method=REQUEST; charset=utf-8",
			Content: []byte("BEGIN:VCALENDAR\r\n" + strings.Repeat("X-PAD:0123456789\r\n", 20) + "END:VCALENDAR\r\n"),
		}},
	}
}

func TestSend(t *testing.T) {
	e := newEnv(t, FakeOptions{Username: testUser, Password: testPass}, nil)
	want := page()
	id, err := e.client.Send(t.Context(), want)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !strings.HasSuffix(id, "@sitrep.example") {
		t.Errorf("message id = %q", id)
	}
	m := e.fake.ExpectEmail(t, "bob@example.com", "API returns 5xx")
	if m.MessageID != id || m.From != "pager@sitrep.example" || m.Subject != want.Subject || m.Incident != want.IncidentID {
		t.Errorf("fake got id %q from %q subject %q incident %q", m.MessageID, m.From, m.Subject, m.Incident)
	}
	if m.Text != want.Text || m.HTML != want.HTML {
		t.Errorf("text %q\nhtml %q", m.Text, m.HTML)
	}
	if len(m.Attachments) != 1 || string(m.Attachments[0].Content) != string(want.Attachments[0].Content) ||
		m.Attachments[0].Filename != "postmortem meeting.ics" || !strings.HasPrefix(m.Attachments[0].ContentType, "text/calendar") {
		t.Errorf("attachments = %+v", m.Attachments)
	}
	raw := string(m.Raw)
	for _, s := range []string{"Content-Type: multipart/mixed;", "Content-Type: multipart/alternative;", "MIME-Version: 1.0", "X-Sitrep-Incident: inc-api-0badc0de", "To: <alice@example.com>, <bob@example.com>"} {
		if !strings.Contains(raw, s) {
			t.Errorf("message lacks %q:\n%s", s, raw)
		}
	}
	for _, line := range strings.Split(raw, "\n") {
		if len(line) > 78 && !strings.HasPrefix(line, "Subject:") && !strings.HasPrefix(line, "Content-Type: multipart/") {
			t.Errorf("line longer than 78: %q", line)
		}
	}
	msgs := e.inbox.List(inbox.Filter{Incident: "inc-api-0badc0de", Channel: "email"})
	if len(msgs) != 2 {
		t.Fatalf("inbox has %d, want 2", len(msgs))
	}
	for _, im := range msgs {
		if im.From != "pager@sitrep.example" || im.Subject != want.Subject || im.ProviderID != id || len(im.Links) != 1 || im.Links[0].URL != "https://sitrep.example/ack/abc" {
			t.Errorf("inbox message = %+v", im)
		}
	}
	if got := e.rep.Messages(); len(got) != 0 {
		t.Errorf("unexpected: %v", got)
	}
}

func TestSingleParts(t *testing.T) {
	tests := []struct {
		name, text, html, contentType string
	}{
		{"text only", "hello https://a.example/x", "", "Content-Type: text/plain; charset=utf-8"},
		{"html only", "", `<b>hello</b> <a href="https://a.example/x">x</a>`, "Content-Type: text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, FakeOptions{}, nil)
			if _, err := e.client.Send(t.Context(), integrations.Email{To: []string{"a@example.com"}, Subject: "s", Text: tt.text, HTML: tt.html}); err != nil {
				t.Fatal(err)
			}
			m := e.fake.Received()[0]
			if m.Text != tt.text || m.HTML != tt.html || !strings.Contains(string(m.Raw), tt.contentType) || strings.Contains(string(m.Raw), "multipart") {
				t.Errorf("got text %q html %q raw:\n%s", m.Text, m.HTML, m.Raw)
			}
			if im := e.inbox.List(inbox.Filter{})[0]; len(im.Links) != 1 || im.Links[0].URL != "https://a.example/x" || strings.Contains(im.Text, "<") {
				t.Errorf("inbox = %+v", im)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never greets
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	tests := []struct {
		name     string
		fake     FakeOptions
		rcpt     []Reply
		config   func(*Config)
		email    func(*integrations.Email)
		kind     integrations.Kind
		code     string
		message  string
		received int
	}{
		{name: "rcpt 450", rcpt: []Reply{{450, "4.2.1 Mailbox busy"}}, kind: integrations.Transient, code: "450", message: "Mailbox busy"},
		{name: "rcpt 452 on second recipient", rcpt: []Reply{{}, {452, "4.5.3 Too many recipients"}}, kind: integrations.Transient, code: "452", message: "rcpt to bob@example.com"},
		{name: "rcpt 550", rcpt: []Reply{{550, "5.1.1 No such user"}}, kind: integrations.Permanent, code: "550", message: "rcpt to alice@example.com: 5.1.1 No such user"},
		{name: "wrong password", fake: FakeOptions{Username: testUser, Password: testPass}, config: func(c *Config) { c.Password = "nope" }, kind: integrations.Permanent, code: "535"},
		{name: "auth required", fake: FakeOptions{Username: testUser, Password: testPass}, config: func(c *Config) { c.Username, c.Password = "", "" }, kind: integrations.Permanent, code: "530"},
		{name: "server without AUTH", config: func(c *Config) { c.Username, c.Password = testUser, testPass }, kind: integrations.Permanent, code: "504", message: "auth"},
		{name: "connection refused", config: func(c *Config) { c.Addr = closedAddr }, kind: integrations.Transient, message: "dial"},
		{name: "timeout", config: func(c *Config) { c.Addr, c.Timeout = silent.Addr().String(), 100*time.Millisecond }, kind: integrations.Transient, message: "timeout"},
		{name: "invalid email refused locally", email: func(e *integrations.Email) { e.To = nil }, kind: integrations.Permanent, message: "no recipient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.fake, tt.config)
			e.fake.FailNextRcpt(tt.rcpt...)
			em := page()
			if tt.email != nil {
				tt.email(&em)
			}
			_, err := e.client.Send(t.Context(), em)
			var ie *integrations.Error
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *integrations.Error", err)
			}
			if ie.Provider != "smtp" || ie.Kind != tt.kind || ie.Code != tt.code || !strings.Contains(ie.Message, tt.message) {
				t.Errorf("err = %+v, want kind %v code %q message ~%q", ie, tt.kind, tt.code, tt.message)
			}
			if strings.Contains(err.Error(), testPass) {
				t.Errorf("error shows the password: %v", err)
			}
			if n := len(e.fake.Received()); n != tt.received {
				t.Errorf("fake received %d", n)
			}
		})
	}
}

func TestAuthNeedsTLSAwayFromLocalhost(t *testing.T) {
	// net/smtp sends AUTH PLAIN in clear text only to localhost.
	f, err := NewFakeServer(FakeOptions{Addr: "127.0.0.2:0", Username: testUser, Password: testPass})
	if err != nil {
		t.Skipf("no 127.0.0.2 here: %v", err)
	}
	defer f.Close()
	c, err := New(Config{Addr: f.Addr(), Username: testUser, Password: testPass, From: testFrom})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(t.Context(), page())
	var ie *integrations.Error
	if !errors.As(err, &ie) || ie.Kind != integrations.Permanent || !strings.Contains(ie.Message, "unencrypted connection") {
		t.Errorf("err = %v, want permanent unencrypted connection", err)
	}
}

func TestCancel(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := silent.Accept()
		if err == nil {
			accepted <- conn
		}
	}()
	c, err := New(Config{Addr: silent.Addr().String(), From: testFrom})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		conn := <-accepted // cancel once the session waits for a greeting
		defer conn.Close()
		cancel()
	}()
	start := time.Now()
	_, err = c.Send(ctx, page())
	var ie *integrations.Error
	if !errors.As(err, &ie) || ie.Kind != integrations.Transient {
		t.Errorf("err = %v, want transient", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %v after cancel", d)
	}
}

func TestUnexpectedCommand(t *testing.T) {
	e := newEnv(t, FakeOptions{}, nil)
	conn, err := net.Dial("tcp", e.fake.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	greeting, _ := r.ReadString('\n')
	fmt.Fprintf(conn, "VRFY root\r\n")
	answer, _ := r.ReadString('\n')
	if !strings.HasPrefix(greeting, "220 ") || !strings.HasPrefix(answer, "502 ") {
		t.Errorf("greeting %q, answer %q", greeting, answer)
	}
	if got := e.rep.Messages(); len(got) != 1 || !strings.Contains(got[0], "VRFY") {
		t.Errorf("reporter got %v", got)
	}
}

func TestConcurrentSends(t *testing.T) {
	e := newEnv(t, FakeOptions{Username: testUser, Password: testPass}, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			em := page()
			em.Subject = fmt.Sprint("n", i)
			if _, err := e.client.Send(t.Context(), em); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(e.fake.Received()); n != 8 {
		t.Errorf("fake got %d, want 8", n)
	}
}

func TestNewValidation(t *testing.T) {
	good := Config{Addr: "mail.example:587", From: testFrom}
	if _, err := New(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"no addr", func(c *Config) { c.Addr = "" }},
		{"addr without port", func(c *Config) { c.Addr = "mail.example" }},
		{"bad from", func(c *Config) { c.From = "pager" }},
		{"username without password", func(c *Config) { c.Username = "u" }},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mod(&cfg)
			if _, err := New(cfg); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	passFile := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(passFile, []byte("filepass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		ok      bool
		wantErr bool
		pass    string
	}{
		{name: "unset", ok: false},
		{name: "no auth", env: map[string]string{"SMTP_ADDR": "localhost:2525", "SMTP_FROM": "p@x.com"}, ok: true},
		{name: "password file", env: map[string]string{"SMTP_ADDR": "m:587", "SMTP_FROM": "p@x.com", "SMTP_USERNAME": "u", "SMTP_PASSWORD_FILE": passFile}, ok: true, pass: "filepass"},
		{name: "password and file", env: map[string]string{"SMTP_ADDR": "m:587", "SMTP_FROM": "p@x.com", "SMTP_USERNAME": "u", "SMTP_PASSWORD": "p", "SMTP_PASSWORD_FILE": passFile}, ok: true, wantErr: true},
		{name: "username without password", env: map[string]string{"SMTP_ADDR": "m:587", "SMTP_FROM": "p@x.com", "SMTP_USERNAME": "u"}, ok: true, wantErr: true},
		{name: "no addr", env: map[string]string{"SMTP_FROM": "p@x.com"}, ok: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ok, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if ok != tt.ok || (err != nil) != tt.wantErr {
				t.Fatalf("ok=%v err=%v, want ok=%v wantErr=%v", ok, err, tt.ok, tt.wantErr)
			}
			if tt.pass != "" && cfg.Password.Reveal() != tt.pass {
				t.Errorf("password = %q", cfg.Password.Reveal())
			}
		})
	}
}
