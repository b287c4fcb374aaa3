package slack_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
	"github.com/sitrep-dev/sitrep/integrations/slack"
)

type env struct {
	fake   *slack.Fake
	srv    *httptest.Server
	client *slack.Client
	inbox  *inbox.Inbox
	rep    *fakeapi.RecordingReporter
}

func setup(t *testing.T, cfg slack.Config) *env {
	t.Helper()
	e := &env{inbox: inbox.New(), rep: &fakeapi.RecordingReporter{}}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.fake = slack.NewFake(slack.FakeOptions{Reporter: e.rep, Inbox: e.inbox, URL: e.srv.URL, Users: []string{"U1ALICE", "U2BOB"}})
	e.fake.Register(mux)
	if cfg.BotToken == "" {
		cfg.BotToken = slack.FakeBotToken
	}
	cfg.BaseURL = e.srv.URL
	c, err := slack.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	t.Cleanup(func() {
		if r := e.rep.Messages(); len(r) != 0 {
			t.Errorf("fake reported %q", r)
		}
	})
	return e
}

func ackMessage(incident string) slack.Message {
	return slack.Message{
		Text:     "*SEV1* checkout is failing. Incident " + incident,
		Incident: incident,
		Buttons: []slack.Button{
			{ActionID: "ack", Text: "Acknowledge", Value: incident, Style: "primary"},
			{ActionID: "escalate", Text: "Escalate", Value: incident, Style: "danger"},
		},
	}
}

func TestPostMessage(t *testing.T) {
	e := setup(t, slack.Config{})
	ctx := context.Background()
	ch, err := e.client.CreateChannel(ctx, "inc-7-checkout")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("to a channel, with buttons", func(t *testing.T) {
		ts, err := e.client.PostMessage(ctx, ch, ackMessage("inc-7"))
		if err != nil || ts == "" {
			t.Fatalf("PostMessage = %q, %v", ts, err)
		}
		m := e.fake.ExpectMessage(t, ch, "checkout is failing")
		if m.TS != ts || m.Incident != "inc-7" || len(m.Buttons) != 2 ||
			m.Buttons[0] != (slack.Button{ActionID: "ack", Text: "Acknowledge", Value: "inc-7", Style: "primary"}) {
			t.Errorf("received %+v", m)
		}
		got := e.inbox.List(inbox.Filter{Incident: "inc-7", To: ch})
		want := []inbox.Link{{Label: "Acknowledge", URL: "slack-action:ack:inc-7"}, {Label: "Escalate", URL: "slack-action:escalate:inc-7"}}
		if len(got) != 1 || got[0].Channel != "chat" || got[0].Provider != "slack" || got[0].ProviderID != ts || !slices.Equal(got[0].Links, want) {
			t.Errorf("inbox = %+v", got)
		}
	})

	t.Run("to a user, through a direct message", func(t *testing.T) {
		for range 2 {
			if _, err := e.client.PostMessage(ctx, "U1ALICE", slack.Message{Text: "You are on call"}); err != nil {
				t.Fatal(err)
			}
		}
		msgs := e.inbox.List(inbox.Filter{To: "U1ALICE"})
		if len(msgs) != 2 || msgs[0].Text != "You are on call" || msgs[0].Links != nil {
			t.Fatalf("inbox for U1ALICE = %+v", msgs)
		}
		m := e.fake.ExpectMessage(t, "U1ALICE", "on call")
		if !strings.HasPrefix(m.Channel, "D") {
			t.Errorf("direct message went to %q", m.Channel)
		}
	})

	t.Run("long text is cut in the block, whole in the notification", func(t *testing.T) {
		long := strings.Repeat("é", 2000) // 4000 bytes
		if _, err := e.client.PostMessage(ctx, ch, slack.Message{Text: long, Buttons: []slack.Button{{ActionID: "ack", Text: "Ack", Value: "x"}}}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("invalid input is permanent and not sent", func(t *testing.T) {
		for _, tc := range []struct{ to, text string }{{"", "x"}, {ch, " "}} {
			_, err := e.client.PostMessage(ctx, tc.to, slack.Message{Text: tc.text})
			var se *integrations.Error
			if !errors.As(err, &se) || se.Kind != integrations.Permanent || se.Code != "invalid_input" {
				t.Errorf("PostMessage(%q, %q) = %v", tc.to, tc.text, err)
			}
		}
	})
}

func TestCreateChannel(t *testing.T) {
	e := setup(t, slack.Config{})
	ctx := context.Background()
	id, err := e.client.CreateChannel(ctx, "inc-8")
	if err != nil || id == "" {
		t.Fatalf("CreateChannel = %q, %v", id, err)
	}
	t.Run("name taken: the existing channel is reused", func(t *testing.T) {
		again, err := e.client.CreateChannel(ctx, "inc-8")
		if err != nil || again != id {
			t.Errorf("second CreateChannel = %q, %v; want %q", again, err, id)
		}
	})
	t.Run("name taken, found on a later page", func(t *testing.T) {
		for i := range 250 {
			e.fake.AddChannel(fmt.Sprintf("other-%d", i), false)
		}
		last := e.fake.AddChannel("inc-9", true, slack.FakeBotUserID)
		got, err := e.client.CreateChannel(ctx, "inc-9")
		if err != nil || got != last {
			t.Errorf("CreateChannel = %q, %v; want %q", got, err, last)
		}
	})
	t.Run("name taken by an archived channel is permanent", func(t *testing.T) {
		e.fake.ArchiveChannel(e.fake.AddChannel("inc-10", false, slack.FakeBotUserID))
		_, err := e.client.CreateChannel(ctx, "inc-10")
		assertError(t, err, integrations.Permanent, 200, "name_taken", 0)
	})
	t.Run("a name Slack refuses is permanent and not sent", func(t *testing.T) {
		for _, name := range []string{"Incident 11", "inc-11.checkout", "INC-11", "", strings.Repeat("a", 81)} {
			_, err := e.client.CreateChannel(ctx, name)
			assertError(t, err, integrations.Permanent, 0, "invalid_input", 0)
			if _, made := e.fake.ChannelID(name); made {
				t.Errorf("CreateChannel(%q) made the channel", name)
			}
		}
		if _, err := e.client.CreateChannel(ctx, strings.Repeat("a", 80)); err != nil {
			t.Errorf("an 80-character name: %v", err)
		}
	})
	t.Run("the fake refuses what Slack refuses", func(t *testing.T) {
		resp, err := http.PostForm(e.srv.URL+"/api/conversations.create", url.Values{"token": {slack.FakeBotToken.Reveal()}, "name": {"inc.11"}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "invalid_name_specials") {
			t.Errorf("conversations.create inc.11: %s", b)
		}
	})
}

func TestUpdateMessage(t *testing.T) {
	e := setup(t, slack.Config{})
	ctx := context.Background()
	ch, err := e.client.CreateChannel(ctx, "inc-20-summary")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := e.client.PostMessage(ctx, ch, slack.Message{Text: "Status: investigating", Incident: "inc-20"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the same edit again, as a retry would: harmless
		if err := e.client.UpdateMessage(ctx, ch, ts, slack.Message{Text: "Status: identified"}); err != nil {
			t.Fatalf("UpdateMessage: %v", err)
		}
	}
	var rooms []slack.Room
	for _, r := range e.fake.Rooms() {
		if r.ID == ch {
			rooms = append(rooms, r)
		}
	}
	if len(rooms) != 1 || len(rooms[0].Messages) != 1 {
		t.Fatalf("rooms = %+v, want one with one message", rooms)
	}
	if m := rooms[0].Messages[0]; m.TS != ts || m.Text != "Status: identified" || m.Edited != 2 {
		t.Errorf("message after the edits = %+v", m)
	}

	t.Run("errors", func(t *testing.T) {
		err := e.client.UpdateMessage(ctx, ch, "1.000001", slack.Message{Text: "x"})
		assertError(t, err, integrations.Permanent, 200, "message_not_found", 0)
		err = e.client.UpdateMessage(ctx, "C404", ts, slack.Message{Text: "x"})
		assertError(t, err, integrations.Permanent, 200, "channel_not_found", 0)
		err = e.client.UpdateMessage(ctx, ch, ts, slack.Message{Text: " "})
		assertError(t, err, integrations.Permanent, 0, "invalid_input", 0)
		e.fake.Faults.FailNext(slack.RateLimitFault(3 * time.Second))
		err = e.client.UpdateMessage(ctx, ch, ts, slack.Message{Text: "x"})
		assertError(t, err, integrations.Transient, 429, "ratelimited", 3*time.Second)
	})
}

func TestInvite(t *testing.T) {
	e := setup(t, slack.Config{})
	ctx := context.Background()
	ch, err := e.client.CreateChannel(ctx, "inc-12")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.Invite(ctx, ch, "U1ALICE"); err != nil {
		t.Fatal(err)
	}
	// Alice is already in: success-equivalent.
	if err := e.client.Invite(ctx, ch, "U1ALICE", "U2BOB"); err != nil {
		t.Fatalf("Invite with one already in: %v", err)
	}
	if got := e.fake.Members(ch); !slices.Equal(got, []string{"U0SITREPBOT", "U1ALICE", "U2BOB"}) {
		t.Errorf("members = %v", got)
	}
	err = e.client.Invite(ctx, ch, "U9NOBODY")
	assertError(t, err, integrations.Permanent, 200, "user_not_found", 0)
	err = e.client.Invite(ctx, "C404", "U1ALICE")
	assertError(t, err, integrations.Permanent, 200, "channel_not_found", 0)
	e.fake.ArchiveChannel(ch)
	err = e.client.Invite(ctx, ch, "U1ALICE")
	assertError(t, err, integrations.Permanent, 200, "is_archived", 0)

	t.Run("several users, one failing", func(t *testing.T) {
		ch, err := e.client.CreateChannel(ctx, "inc-12b")
		if err != nil {
			t.Fatal(err)
		}
		for _, force := range []string{"false", "true"} {
			resp, err := http.PostForm(e.srv.URL+"/api/conversations.invite", url.Values{
				"token": {slack.FakeBotToken.Reveal()}, "channel": {ch}, "users": {"U1ALICE,U9NOBODY"}, "force": {force},
			})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(b), `"errors":[{"ok":false,"error":"user_not_found","user":"U9NOBODY"}]`) {
				t.Errorf("force=%s: %s", force, b)
			}
			if in := slices.Contains(e.fake.Members(ch), "U1ALICE"); in != (force == "true") {
				t.Errorf("force=%s: alice invited = %v", force, in)
			}
		}
	})
}

func TestFakeChecksRealErrors(t *testing.T) {
	e := setup(t, slack.Config{})
	ctx := context.Background()
	private := e.fake.AddChannel("someone-elses", true, "U1ALICE")
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"unknown channel", func() error { _, err := e.client.PostMessage(ctx, "C404", slack.Message{Text: "x"}); return err }, "channel_not_found"},
		{"unknown user", func() error { _, err := e.client.PostMessage(ctx, "U9NOBODY", slack.Message{Text: "x"}); return err }, "user_not_found"},
		{"bot not in channel", func() error { _, err := e.client.PostMessage(ctx, private, slack.Message{Text: "x"}); return err }, "not_in_channel"},
		{"bot invites itself", func() error {
			ch, _ := e.client.CreateChannel(ctx, "inc-13")
			return e.client.Invite(ctx, ch, slack.FakeBotUserID)
		}, "cant_invite_self"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertError(t, tt.call(), integrations.Permanent, 200, tt.code, 0)
		})
	}
	t.Run("wrong token", func(t *testing.T) {
		bad, err := slack.New(slack.Config{BotToken: "xoxb-wrong", BaseURL: e.srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.PostMessage(ctx, "U1ALICE", slack.Message{Text: "x"})
		assertError(t, err, integrations.Permanent, 200, "invalid_auth", 0)
		if strings.Contains(err.Error(), "xoxb-wrong") {
			t.Errorf("error shows the token: %v", err)
		}
	})
	t.Run("no token, bearer or form", func(t *testing.T) {
		for _, req := range []*http.Request{
			httptest.NewRequest("POST", e.srv.URL+"/api/conversations.list", strings.NewReader("")),
			httptest.NewRequest("GET", e.srv.URL+"/api/conversations.list", nil),
		} {
			req.RequestURI = ""
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), `"error":"not_authed"`) {
				t.Errorf("%s: %d %s", req.Method, resp.StatusCode, b)
			}
		}
	})
	t.Run("json body with bearer", func(t *testing.T) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/chat.postMessage", strings.NewReader(`{"channel":"U2BOB","text":"hello","unfurl_links":false}`))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Authorization", "Bearer "+slack.FakeBotToken.Reveal())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `"ok":true`) {
			t.Errorf("got %s", b)
		}
	})
}

func assertError(t *testing.T, err error, kind integrations.Kind, status int, code string, retryAfter time.Duration) {
	t.Helper()
	var se *integrations.Error
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want *integrations.Error", err, err)
	}
	if se.Provider != "slack" || se.Kind != kind || se.Status != status || se.Code != code || se.RetryAfter != retryAfter {
		t.Errorf("err = %+v; want kind %v status %d code %q retryAfter %s", se, kind, status, code, retryAfter)
	}
}

func TestClassify(t *testing.T) {
	var tests []struct {
		name       string
		fault      fakeapi.Fault
		kind       integrations.Kind
		status     int
		code       string
		retryAfter time.Duration
	}
	add := func(name string, fault fakeapi.Fault, kind integrations.Kind, status int, code string, retryAfter time.Duration) {
		tests = append(tests, struct {
			name       string
			fault      fakeapi.Fault
			kind       integrations.Kind
			status     int
			code       string
			retryAfter time.Duration
		}{name, fault, kind, status, code, retryAfter})
	}
	for _, code := range []string{"invalid_auth", "not_authed", "account_inactive", "token_revoked", "missing_scope",
		"channel_not_found", "user_not_found", "is_archived", "not_in_channel", "restricted_action", "msg_too_long",
		"no_text", "invalid_blocks", "cant_invite_self", "invalid_name_specials"} {
		add(code, slack.ErrorFault(code), integrations.Permanent, 200, code, 0)
	}
	for _, code := range []string{"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"} {
		add(code, slack.ErrorFault(code), integrations.Transient, 200, code, 0)
	}
	add("429 with Retry-After", slack.RateLimitFault(30*time.Second), integrations.Transient, 429, "ratelimited", 30*time.Second)
	add("429 without Retry-After", fakeapi.Fault{Status: 429, Body: `{"ok":false,"error":"ratelimited"}`}, integrations.Transient, 429, "", 0)
	add("429 with a date Retry-After", fakeapi.Fault{Status: 429, Header: map[string]string{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}},
		integrations.Transient, 429, "ratelimited", 0)
	add("500", slack.ServerErrorFault(500), integrations.Transient, 500, "", 0)
	add("503", slack.ServerErrorFault(503), integrations.Transient, 503, "", 0)
	add("html 502 from a proxy", fakeapi.Fault{Status: 502, Body: "<html>bad gateway</html>", Header: map[string]string{"Content-Type": "text/html"}},
		integrations.Transient, 502, "", 0)
	add("404", fakeapi.Fault{Status: 404, Body: "not found", Header: map[string]string{"Content-Type": "text/plain"}}, integrations.Permanent, 404, "", 0)
	add("200 with garbage", fakeapi.Fault{Status: 200, Body: "<html>", Header: map[string]string{"Content-Type": "text/html"}}, integrations.Transient, 0, "", 0)
	add("hang until timeout", fakeapi.Fault{Hang: true}, integrations.Transient, 0, "", 0)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, slack.Config{Timeout: 200 * time.Millisecond})
			e.fake.Faults.FailNext(tt.fault)
			_, err := e.client.PostMessage(context.Background(), "C0123", slack.Message{Text: "x"})
			assertError(t, err, tt.kind, tt.status, tt.code, tt.retryAfter)
			if n := len(e.fake.Received()); n != 0 {
				t.Errorf("fake recorded %d messages behind a fault", n)
			}
		})
	}
	t.Run("network error", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		c, err := slack.New(slack.Config{BotToken: "xoxb-x", BaseURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CreateChannel(context.Background(), "inc-14")
		assertError(t, err, integrations.Transient, 0, "", 0)
	})
}

func TestFakeReportsUnexpectedRequests(t *testing.T) {
	rep := &fakeapi.RecordingReporter{}
	f := slack.NewFake(slack.FakeOptions{Reporter: rep})
	mux := http.NewServeMux()
	f.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.PostForm(srv.URL+"/api/chat.delete", url.Values{"token": {slack.FakeBotToken.Reveal()}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := rep.Messages(); resp.StatusCode != 404 || len(got) != 1 || !strings.Contains(got[0], "POST /api/chat.delete") {
		t.Errorf("status %d, reports %q", resp.StatusCode, got)
	}
}

func TestVerifyRequest(t *testing.T) {
	const secret integrations.Secret = "8f742231b10e8888abcd99yyyzzz85a5"
	body := []byte("payload=%7B%7D")
	now := time.Unix(1_700_000_000, 0)
	header := func(ts time.Time, sig string) http.Header {
		h := http.Header{}
		h.Set("X-Slack-Request-Timestamp", fmt.Sprint(ts.Unix()))
		h.Set("X-Slack-Signature", sig)
		return h
	}
	signed := func(ts time.Time, s integrations.Secret) http.Header {
		return header(ts, slack.Sign(s, fmt.Sprint(ts.Unix()), body))
	}
	tests := []struct {
		name   string
		secret integrations.Secret
		header http.Header
		want   error
	}{
		{"valid", secret, signed(now, secret), nil},
		{"4 minutes old", secret, signed(now.Add(-4*time.Minute), secret), nil},
		{"6 minutes old", secret, signed(now.Add(-6*time.Minute), secret), slack.ErrExpiredTimestamp},
		{"6 minutes ahead", secret, signed(now.Add(6*time.Minute), secret), slack.ErrExpiredTimestamp},
		{"other secret", secret, signed(now, "other"), slack.ErrInvalidSignature},
		{"not hex", secret, header(now, "v0=zz"), slack.ErrInvalidSignature},
		{"no v0 prefix", secret, header(now, "v1=00"), slack.ErrMissingHeaders},
		{"no headers", secret, http.Header{}, slack.ErrMissingHeaders},
		{"no secret configured", "", signed(now, ""), slack.ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := slack.VerifyRequest(tt.secret, tt.header, body, now); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("body changed", func(t *testing.T) {
		if err := slack.VerifyRequest(secret, signed(now, secret), []byte("payload=%7B%22x%22%7D"), now); !errors.Is(err, slack.ErrInvalidSignature) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestVerifyRequestAny(t *testing.T) {
	body := []byte("payload=%7B%7D")
	now := time.Unix(1_700_000_000, 0)
	signed := func(ts time.Time, s integrations.Secret) http.Header {
		h := http.Header{}
		h.Set("X-Slack-Request-Timestamp", fmt.Sprint(ts.Unix()))
		h.Set("X-Slack-Signature", slack.Sign(s, fmt.Sprint(ts.Unix()), body))
		return h
	}
	both := []integrations.Secret{"new-signing-secret", "old-signing-secret"}
	tests := []struct {
		name    string
		secrets []integrations.Secret
		header  http.Header
		want    error
	}{
		{"signed with the first", both, signed(now, "new-signing-secret"), nil},
		{"signed with the second, while rotating", both, signed(now, "old-signing-secret"), nil},
		{"signed with one rotated out", both[:1], signed(now, "old-signing-secret"), slack.ErrInvalidSignature},
		{"expired, whatever the secret", both, signed(now.Add(-6*time.Minute), "old-signing-secret"), slack.ErrExpiredTimestamp},
		{"empty secrets skipped", []integrations.Secret{"", "old-signing-secret"}, signed(now, ""), slack.ErrInvalidSignature},
		{"no secrets", nil, signed(now, "new-signing-secret"), slack.ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := slack.VerifyRequestAny(tt.secrets, tt.header, body, now); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestClickButton(t *testing.T) {
	const signing integrations.Secret = "signing-secret"
	e := setup(t, slack.Config{})
	ctx := context.Background()
	ts, err := e.client.PostMessage(ctx, "U2BOB", ackMessage("inc-15"))
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		in  slack.Interaction
		err error
	}
	results := make(chan result, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var res result
		if res.err = slack.VerifyRequest(signing, r.Header, body, time.Now()); res.err == nil {
			res.in, res.err = slack.ParseInteraction(body)
		}
		results <- res
		if res.err != nil {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer app.Close()

	resp, err := e.fake.ClickButton(ctx, app.URL, signing, "U2BOB", "ack", "inc-15")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	res := <-results
	if res.err != nil || resp.StatusCode != 200 {
		t.Fatalf("app: %d %v", resp.StatusCode, res.err)
	}
	in := res.in
	if in.ActionID != "ack" || in.Value != "inc-15" || in.UserID != "U2BOB" || in.MessageTS != ts || !strings.HasPrefix(in.ChannelID, "D") ||
		!strings.HasPrefix(in.ResponseURL, e.srv.URL+"/actions/") {
		t.Fatalf("interaction = %+v", in)
	}

	// The app answers through response_url, replacing the message.
	reply, err := http.Post(in.ResponseURL, "application/json", strings.NewReader(`{"replace_original":true,"text":"Acknowledged by <@U2BOB>"}`))
	if err != nil {
		t.Fatal(err)
	}
	reply.Body.Close()
	if got := e.fake.Replies(); reply.StatusCode != 200 || len(got) != 1 || got[0].Text != "Acknowledged by <@U2BOB>" || got[0].TS != ts {
		t.Errorf("reply %d, replies %+v", reply.StatusCode, got)
	}
	if m := e.fake.ExpectMessage(t, "U2BOB", "Acknowledged by"); m.Buttons != nil {
		t.Errorf("replaced message still has buttons: %+v", m)
	}
	if msgs := e.inbox.List(inbox.Filter{To: "U2BOB", Incident: "inc-15"}); len(msgs) != 2 || msgs[0].Text != "Acknowledged by <@U2BOB>" {
		t.Errorf("inbox = %+v", msgs)
	}

	t.Run("a click signed with another secret is refused", func(t *testing.T) {
		resp, err := e.fake.ClickButton(ctx, app.URL, "wrong", "U2BOB", "ack", "inc-15")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if res := <-results; !errors.Is(res.err, slack.ErrInvalidSignature) || resp.StatusCode != 401 {
			t.Errorf("%d %v", resp.StatusCode, res.err)
		}
	})
}

func TestParseInteractionRejects(t *testing.T) {
	for name, body := range map[string]string{
		"no payload":     "foo=bar",
		"not json":       "payload=%7B",
		"view submitted": "payload=" + url.QueryEscape(`{"type":"view_submission"}`),
		"no actions":     "payload=" + url.QueryEscape(`{"type":"block_actions","actions":[]}`),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := slack.ParseInteraction([]byte(body)); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("xoxb-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		ok      bool
		wantErr bool
		token   integrations.Secret
	}{
		{"nothing set: disabled", nil, false, false, ""},
		{"token", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, true, false, "xoxb-1"},
		{"token file", map[string]string{"SLACK_BOT_TOKEN_FILE": file}, true, false, "xoxb-file"},
		{"both set", map[string]string{"SLACK_BOT_TOKEN": "a", "SLACK_BOT_TOKEN_FILE": file}, true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ok, err := slack.ConfigFromEnv(func(k string) string { return tt.env[k] })
			if ok != tt.ok || (err != nil) != tt.wantErr {
				t.Fatalf("ok %v err %v", ok, err)
			}
			if !tt.wantErr && cfg.BotToken != tt.token {
				t.Errorf("token = %q", cfg.BotToken.Reveal())
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []slack.Config{{}, {BotToken: "x", BaseURL: "slack.com"}, {BotToken: "x", Timeout: -1}} {
		if _, err := slack.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestSendSlashCommand(t *testing.T) {
	e := setup(t, slack.Config{})
	ctx := context.Background()
	ch, err := e.client.CreateChannel(ctx, "inc-40-checkout")
	if err != nil {
		t.Fatal(err)
	}
	const secret integrations.Secret = "signing-secret"
	got := make(chan url.Values, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := slack.VerifyRequest(secret, r.Header, body, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		form, _ := url.ParseQuery(string(body))
		got <- form
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"response_type":"ephemeral","text":"working on it"}`)
	}))
	defer app.Close()

	resp, err := e.fake.SendSlashCommand(ctx, app.URL, secret, slack.SlashCommand{User: "U1ALICE", Channel: ch, Command: "/sitrep", Text: "update --status identified Card payments fail"})
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(answer), "working on it") {
		t.Fatalf("the app answered %d %s", resp.StatusCode, answer)
	}
	form := <-got
	for k, want := range map[string]string{"command": "/sitrep", "text": "update --status identified Card payments fail", "user_id": "U1ALICE",
		"channel_id": ch, "channel_name": "inc-40-checkout"} {
		if form.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, form.Get(k), want)
		}
	}

	// The late answer, posted to the response_url, reaches the one who typed it.
	r, err := http.Post(form.Get("response_url"), "application/json", strings.NewReader(`{"response_type":"ephemeral","text":"Update posted"}`))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if reps := e.fake.Replies(); r.StatusCode != http.StatusOK || len(reps) != 1 || reps[0].Channel != ch || reps[0].Text != "Update posted" {
		t.Errorf("response_url answered %d; replies %+v", r.StatusCode, reps)
	}
	if msgs := e.inbox.List(inbox.Filter{To: "U1ALICE"}); len(msgs) != 1 || msgs[0].Text != "Update posted" {
		t.Errorf("inbox for alice = %+v", msgs)
	}

	t.Run("signed with another secret, the app refuses it", func(t *testing.T) {
		resp, err := e.fake.SendSlashCommand(ctx, app.URL, "other", slack.SlashCommand{User: "U1ALICE", Channel: ch, Command: "/sitrep", Text: "status"})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}
