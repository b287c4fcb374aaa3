package mattermost_test

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/sitrep-dev/sitrep/integrations/mattermost"
)

const (
	alice = "alice000000000000000000000"
	bob   = "bob00000000000000000000000"
)

type env struct {
	fake   *mattermost.Fake
	srv    *httptest.Server
	client *mattermost.Client
	inbox  *inbox.Inbox
	rep    *fakeapi.RecordingReporter
}

func setup(t *testing.T, timeout time.Duration) *env {
	t.Helper()
	e := &env{inbox: inbox.New(), rep: &fakeapi.RecordingReporter{}}
	e.fake = mattermost.NewFake(mattermost.FakeOptions{Reporter: e.rep, Inbox: e.inbox, Users: []string{alice, bob}})
	mux := http.NewServeMux()
	e.fake.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	c, err := mattermost.New(mattermost.Config{BaseURL: e.srv.URL, Token: mattermost.FakeToken, TeamID: mattermost.FakeTeamID, Timeout: timeout})
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

func ackMessage(incident, url string) mattermost.Message {
	return mattermost.Message{
		Text:     "**SEV1** checkout is failing. Incident " + incident,
		Incident: incident,
		Buttons: []mattermost.Button{{
			ID: "ack", Text: "Acknowledge", Style: "primary", URL: url,
			Context: map[string]string{"incident": incident, "token": "signed-token"},
		}},
	}
}

func TestWarRoom(t *testing.T) {
	e := setup(t, 0)
	ctx := context.Background()

	ch, err := e.client.CreateChannel(ctx, "inc-20", "INC-20 checkout")
	if err != nil || ch == "" {
		t.Fatalf("CreateChannel = %q, %v", ch, err)
	}
	again, err := e.client.CreateChannel(ctx, "inc-20", "")
	if err != nil || again != ch {
		t.Fatalf("CreateChannel of a taken name = %q, %v; want %q", again, err, ch)
	}
	if err := e.client.Invite(ctx, ch, alice, bob); err != nil {
		t.Fatal(err)
	}
	if err := e.client.Invite(ctx, ch, alice); err != nil {
		t.Fatalf("inviting a member again: %v", err)
	}
	if got := e.fake.Members(ch); !slices.Equal(got, []string{alice, bob, mattermost.FakeBotUserID}) {
		t.Errorf("members = %v", got)
	}

	id, err := e.client.PostMessage(ctx, ch, ackMessage("inc-20", "https://sitrep.example/mattermost/action"))
	if err != nil || id == "" {
		t.Fatalf("PostMessage = %q, %v", id, err)
	}
	m := e.fake.ExpectMessage(t, ch, "checkout is failing")
	if m.ID != id || m.Incident != "inc-20" || len(m.Buttons) != 1 || m.Buttons[0].URL != "https://sitrep.example/mattermost/action" ||
		m.Buttons[0].Context["incident"] != "inc-20" {
		t.Errorf("received %+v", m)
	}
	got := e.inbox.List(inbox.Filter{Incident: "inc-20"})
	if len(got) != 1 || got[0].Channel != "chat" || got[0].Provider != "mattermost" || got[0].To != ch || got[0].ProviderID != id ||
		!slices.Equal(got[0].Links, []inbox.Link{{Label: "Acknowledge", URL: "https://sitrep.example/mattermost/action"}}) {
		t.Errorf("inbox = %+v", got)
	}
}

func TestDirectMessage(t *testing.T) {
	e := setup(t, 0)
	ctx := context.Background()
	for range 2 {
		if _, err := e.client.DirectMessage(ctx, alice, mattermost.Message{Text: "You are on call for checkout"}); err != nil {
			t.Fatal(err)
		}
	}
	msgs := e.inbox.List(inbox.Filter{To: alice})
	if len(msgs) != 2 || msgs[0].Text != "You are on call for checkout" {
		t.Fatalf("inbox = %+v", msgs)
	}
	posts := e.fake.Received()
	if posts[0].ChannelID != posts[1].ChannelID || !strings.HasPrefix(posts[0].ChannelID, "dm") {
		t.Errorf("direct messages went to %q and %q, want one direct channel", posts[0].ChannelID, posts[1].ChannelID)
	}
	_, err := e.client.DirectMessage(ctx, "nobody00000000000000000000", mattermost.Message{Text: "x"})
	assertError(t, err, integrations.Permanent, 400, "api.channel.create_direct_channel.invalid_user.app_error", 0)
}

func TestFakeChecksRealErrors(t *testing.T) {
	e := setup(t, 0)
	ctx := context.Background()
	other := e.fake.AddChannel("someone-elses", alice)
	archived := e.fake.AddChannel("old", mattermost.FakeBotUserID)
	e.fake.ArchiveChannel(archived)
	tests := []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"post to an unknown channel", func() error {
			_, err := e.client.PostMessage(ctx, "nochannel", mattermost.Message{Text: "x"})
			return err
		},
			403, "api.context.permissions.app_error"},
		{"post where the bot is not a member", func() error { _, err := e.client.PostMessage(ctx, other, mattermost.Message{Text: "x"}); return err },
			403, "api.context.permissions.app_error"},
		{"post to an archived channel", func() error { _, err := e.client.PostMessage(ctx, archived, mattermost.Message{Text: "x"}); return err },
			400, "api.post.create_post.can_not_post_to_deleted.error"},
		{"post too long", func() error {
			_, err := e.client.PostMessage(ctx, archived, mattermost.Message{Text: strings.Repeat("x", 16384)})
			return err
		}, 400, "model.post.is_valid.msg.app_error"},
		{"name taken by an archived channel", func() error { _, err := e.client.CreateChannel(ctx, "old", ""); return err },
			404, "app.channel.get_by_name.missing.app_error"},
		{"invite an unknown user", func() error {
			ch, _ := e.client.CreateChannel(ctx, "inc-22", "")
			return e.client.Invite(ctx, ch, "nobody00000000000000000000")
		}, 404, "app.user.missing_account.const"},
		{"invite to an unknown channel", func() error { return e.client.Invite(ctx, "nochannel", alice) }, 404, "app.channel.get.existing.app_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertError(t, tt.call(), integrations.Permanent, tt.status, tt.code, 0)
		})
	}
	t.Run("wrong token", func(t *testing.T) {
		bad, err := mattermost.New(mattermost.Config{BaseURL: e.srv.URL, Token: "wrongtoken", TeamID: mattermost.FakeTeamID})
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.CreateChannel(ctx, "inc-23", "")
		assertError(t, err, integrations.Permanent, 401, "api.context.session_expired.app_error", 0)
		if strings.Contains(err.Error(), "wrongtoken") {
			t.Errorf("error shows the token: %v", err)
		}
	})
	t.Run("wrong team", func(t *testing.T) {
		bad, err := mattermost.New(mattermost.Config{BaseURL: e.srv.URL, Token: mattermost.FakeToken, TeamID: "otherteam"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.CreateChannel(ctx, "inc-24", "")
		assertError(t, err, integrations.Permanent, 403, "api.context.permissions.app_error", 0)
	})
	t.Run("invalid input is not sent", func(t *testing.T) {
		for _, m := range []mattermost.Message{
			{Text: " "},
			{Text: "x", Buttons: []mattermost.Button{{ID: "ack_1", Text: "Ack", URL: "https://x"}}},
			{Text: "x", Buttons: []mattermost.Button{{ID: "ack", Text: "Ack", URL: "/relative"}}},
		} {
			_, err := e.client.PostMessage(ctx, "somechannel", m)
			assertError(t, err, integrations.Permanent, 0, "invalid_input", 0)
		}
	})
}

func TestChannelNames(t *testing.T) {
	e := setup(t, 0)
	ctx := context.Background()
	for _, name := range []string{"INC 21", "inc.21", "", strings.Repeat("a", 65)} {
		_, err := e.client.CreateChannel(ctx, name, "")
		assertError(t, err, integrations.Permanent, 0, "invalid_input", 0)
		if _, made := e.fake.ChannelID(name); made {
			t.Errorf("CreateChannel(%q) made the channel", name)
		}
	}
	if _, err := e.client.CreateChannel(ctx, strings.Repeat("a", 64), ""); err != nil {
		t.Errorf("a 64-character name: %v", err)
	}
	_, err := e.client.CreateChannel(ctx, "inc-21", strings.Repeat("é", 65))
	assertError(t, err, integrations.Permanent, 0, "invalid_input", 0)

	t.Run("the fake refuses what Mattermost refuses", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v4/channels",
			strings.NewReader(`{"team_id":"`+mattermost.FakeTeamID+`","name":"INC 21","display_name":"x","type":"O"}`))
		req.Header.Set("Authorization", "Bearer "+mattermost.FakeToken.Reveal())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), "model.channel.is_valid.name.app_error") {
			t.Errorf("create INC 21: %d %s", resp.StatusCode, b)
		}
	})

	t.Run("channel URL", func(t *testing.T) {
		for range 2 {
			u, err := e.client.ChannelURL(ctx, "inc-21")
			if err != nil || u != e.srv.URL+"/"+mattermost.FakeTeamName+"/channels/inc-21" {
				t.Errorf("ChannelURL = %q, %v", u, err)
			}
		}
	})
}

func TestEditMessage(t *testing.T) {
	e := setup(t, 0)
	ctx := context.Background()
	ch, err := e.client.CreateChannel(ctx, "inc-30", "")
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.client.PostMessage(ctx, ch, mattermost.Message{Text: "Status: investigating", Incident: "inc-30"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the same edit again, as a retry would: harmless
		if err := e.client.EditMessage(ctx, id, "Status: identified"); err != nil {
			t.Fatalf("EditMessage: %v", err)
		}
	}
	var room *mattermost.Room
	for _, r := range e.fake.Rooms() {
		if r.ID == ch {
			room = &r
		}
	}
	if room == nil || len(room.Messages) != 1 {
		t.Fatalf("rooms = %+v, want %s with one post", e.fake.Rooms(), ch)
	}
	if m := room.Messages[0]; m.ID != id || m.Text != "Status: identified" || m.Edited != 2 || m.Incident != "inc-30" {
		t.Errorf("post after the edits = %+v", m)
	}

	t.Run("errors", func(t *testing.T) {
		err := e.client.EditMessage(ctx, "nopost", "x")
		assertError(t, err, integrations.Permanent, 403, "api.context.permissions.app_error", 0)
		err = e.client.EditMessage(ctx, id, " ")
		assertError(t, err, integrations.Permanent, 0, "invalid_input", 0)
		e.fake.Faults.FailNext(mattermost.RateLimitFault(2 * time.Second))
		err = e.client.EditMessage(ctx, id, "x")
		assertError(t, err, integrations.Transient, 429, "", 2*time.Second)
		e.fake.ArchiveChannel(ch)
		err = e.client.EditMessage(ctx, id, "x")
		assertError(t, err, integrations.Permanent, 400, "api.post.patch_post.can_not_update_post_in_deleted.error", 0)
	})
}

func assertError(t *testing.T, err error, kind integrations.Kind, status int, code string, retryAfter time.Duration) {
	t.Helper()
	var me *integrations.Error
	if !errors.As(err, &me) {
		t.Fatalf("err = %v (%T), want *integrations.Error", err, err)
	}
	if me.Provider != "mattermost" || me.Kind != kind || me.Status != status || me.Code != code || me.RetryAfter != retryAfter {
		t.Errorf("err = %+v; want kind %v status %d code %q retryAfter %s", me, kind, status, code, retryAfter)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		fault      fakeapi.Fault
		kind       integrations.Kind
		status     int
		code       string
		retryAfter time.Duration
	}{
		{"400", mattermost.ErrorFault(400, "model.channel.is_valid.name.app_error", "Invalid name"), integrations.Permanent, 400, "model.channel.is_valid.name.app_error", 0},
		{"401", mattermost.ErrorFault(401, "api.context.session_expired.app_error", "Invalid or expired session"), integrations.Permanent, 401, "api.context.session_expired.app_error", 0},
		{"403", mattermost.ErrorFault(403, "api.context.permissions.app_error", "No permission"), integrations.Permanent, 403, "api.context.permissions.app_error", 0},
		{"404", mattermost.ErrorFault(404, "app.channel.get.existing.app_error", "No channel"), integrations.Permanent, 404, "app.channel.get.existing.app_error", 0},
		{"413", fakeapi.Fault{Status: 413, Body: "too large", Header: map[string]string{"Content-Type": "text/plain"}}, integrations.Permanent, 413, "", 0},
		{"429 with Retry-After", mattermost.RateLimitFault(12 * time.Second), integrations.Transient, 429, "", 12 * time.Second},
		{"429 with X-Ratelimit-Reset only", fakeapi.Fault{Status: 429, Body: "limit exceeded", Header: map[string]string{"X-Ratelimit-Reset": "3"}}, integrations.Transient, 429, "", 3 * time.Second},
		{"408", fakeapi.Fault{Status: 408, Body: "{}"}, integrations.Transient, 408, "", 0},
		{"500", mattermost.ErrorFault(500, "app.post.save.app_error", "Unable to save the post."), integrations.Transient, 500, "app.post.save.app_error", 0},
		{"html 502 from a proxy", fakeapi.Fault{Status: 502, Body: "<html>bad gateway</html>", Header: map[string]string{"Content-Type": "text/html"}}, integrations.Transient, 502, "", 0},
		{"503", fakeapi.Fault{Status: 503, Body: "", Header: map[string]string{"Content-Type": "text/plain"}}, integrations.Transient, 503, "", 0},
		{"201 with garbage", fakeapi.Fault{Status: 201, Body: "<html>"}, integrations.Transient, 201, "", 0},
		{"hang until timeout", fakeapi.Fault{Hang: true}, integrations.Transient, 0, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, 200*time.Millisecond)
			e.fake.Faults.FailNext(tt.fault)
			_, err := e.client.CreateChannel(context.Background(), "inc-25", "")
			assertError(t, err, tt.kind, tt.status, tt.code, tt.retryAfter)
			if _, ok := e.fake.ChannelID("inc-25"); ok {
				t.Error("fake created the channel behind a fault")
			}
		})
	}
	t.Run("network error hides the URL", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		c, err := mattermost.New(mattermost.Config{BaseURL: srv.URL, Token: "t", TeamID: "x"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.DirectMessage(context.Background(), alice, mattermost.Message{Text: "x"})
		assertError(t, err, integrations.Transient, 0, "", 0)
		if strings.Contains(err.Error(), srv.URL) {
			t.Errorf("error shows the URL: %v", err)
		}
	})
}

func TestFakeReportsUnexpectedRequests(t *testing.T) {
	e := setup(t, 0)
	req, _ := http.NewRequest("DELETE", e.srv.URL+"/api/v4/channels/abc", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := e.rep.Take()
	if resp.StatusCode != 404 || len(got) != 1 || !strings.Contains(got[0], "DELETE /api/v4/channels/abc") {
		t.Errorf("status %d, reports %q", resp.StatusCode, got)
	}
}

func TestClickButton(t *testing.T) {
	e := setup(t, 0)
	ctx := context.Background()
	actions := make(chan mattermost.Action, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a, err := mattermost.ParseAction(body)
		if err != nil {
			t.Errorf("ParseAction: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		actions <- a
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"update": map[string]string{"message": "Acknowledged by " + a.UserName}})
	}))
	defer app.Close()

	id, err := e.client.DirectMessage(ctx, bob, ackMessage("inc-26", app.URL+"/mattermost/action"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.fake.ClickButton(ctx, id, "ack", bob)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	a := <-actions
	if a.UserID != bob || a.PostID != id || a.ChannelID == "" || a.Context["incident"] != "inc-26" || a.Context["token"] != "signed-token" {
		t.Errorf("action = %+v", a)
	}
	if m := e.fake.ExpectMessage(t, bob, "Acknowledged by "+bob); m.Buttons != nil {
		t.Errorf("updated post still has buttons: %+v", m)
	}
	if msgs := e.inbox.List(inbox.Filter{To: bob}); len(msgs) != 2 || msgs[0].Text != "Acknowledged by "+bob {
		t.Errorf("inbox = %+v", msgs)
	}
	if _, err := e.fake.ClickButton(ctx, id, "nosuch", bob); err == nil {
		t.Error("click on a missing button: no error")
	}
	if _, err := mattermost.ParseAction([]byte(`{"context":{}}`)); err == nil {
		t.Error("ParseAction of a body without user: no error")
	}
}

func TestConfigFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("filetoken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		ok      bool
		wantErr bool
		want    mattermost.Config
	}{
		{"nothing set: disabled", nil, false, false, mattermost.Config{}},
		{"all set", map[string]string{"MATTERMOST_URL": "https://chat", "MATTERMOST_TOKEN": "tok", "MATTERMOST_TEAM_ID": "team"}, true, false,
			mattermost.Config{BaseURL: "https://chat", Token: "tok", TeamID: "team"}},
		{"token file", map[string]string{"MATTERMOST_URL": "https://chat", "MATTERMOST_TOKEN_FILE": file}, true, false,
			mattermost.Config{BaseURL: "https://chat", Token: "filetoken"}},
		{"both set", map[string]string{"MATTERMOST_TOKEN": "a", "MATTERMOST_TOKEN_FILE": file}, true, true, mattermost.Config{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ok, err := mattermost.ConfigFromEnv(func(k string) string { return tt.env[k] })
			if ok != tt.ok || (err != nil) != tt.wantErr {
				t.Fatalf("ok %v err %v", ok, err)
			}
			if !tt.wantErr && (cfg.BaseURL != tt.want.BaseURL || cfg.Token != tt.want.Token || cfg.TeamID != tt.want.TeamID) {
				t.Errorf("cfg = %+v", cfg)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	_, err := mattermost.New(mattermost.Config{Timeout: -1})
	for _, want := range []string{"BaseURL", "Token", "TeamID", "Timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New error %v does not name %s", err, want)
		}
	}
}

func TestSendSlashCommand(t *testing.T) {
	e := setup(t, 0)
	ctx := context.Background()
	ch, err := e.client.CreateChannel(ctx, "inc-50", "")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan url.Values, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("token") != "cmdtoken" {
			http.Error(w, "wrong token", http.StatusUnauthorized)
			return
		}
		got <- r.PostForm
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"response_type":"ephemeral","text":"working on it"}`)
	}))
	defer app.Close()
	resp, err := e.fake.SendSlashCommand(ctx, app.URL, e.srv.URL, "cmdtoken", mattermost.SlashCommand{User: alice, Channel: ch, Command: "/sitrep", Text: "role comms @me"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the app answered %d", resp.StatusCode)
	}
	form := <-got
	for k, want := range map[string]string{"command": "/sitrep", "text": "role comms @me", "user_id": alice, "channel_id": ch, "channel_name": "inc-50",
		"team_id": mattermost.FakeTeamID} {
		if form.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, form.Get(k), want)
		}
	}
	r, err := http.Post(form.Get("response_url"), "application/json", strings.NewReader(`{"response_type":"ephemeral","text":"comms is alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if reps := e.fake.Replies(); r.StatusCode != http.StatusOK || len(reps) != 1 || reps[0] != (mattermost.Reply{Channel: ch, User: alice, Text: "comms is alice"}) {
		t.Errorf("response_url answered %d; replies %+v", r.StatusCode, reps)
	}
	t.Run("a wrong token is refused", func(t *testing.T) {
		resp, err := e.fake.SendSlashCommand(ctx, app.URL, e.srv.URL, "other", mattermost.SlashCommand{User: alice, Channel: ch, Command: "/sitrep", Text: "status"})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}
