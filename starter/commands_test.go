package starter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitrep-dev/sitrep/workflows"
)

func TestParseChatCommand(t *testing.T) {
	tests := []struct {
		text    string
		want    chatCommand
		wantErr string
	}{
		{"update --status identified DB failover under way", chatCommand{Verb: "update", Status: "identified", Text: "DB failover under way"}, ""},
		{"  UPDATE   --status=Monitoring   --audience EXTERNAL  it's  fixed, we're watching ", chatCommand{Verb: "update", Status: "monitoring", Audience: "external", Text: "it's  fixed, we're watching"}, ""},
		{`update --role partner-comms "Card payments fail for partners"`, chatCommand{Verb: "update", Role: "partner-comms", Text: "Card payments fail for partners"}, ""},
		{"update --status “identified” “Smart quotes, from a phone”", chatCommand{Verb: "update", Status: "identified", Text: "Smart quotes, from a phone"}, ""},
		{`update "a" and "b"`, chatCommand{Verb: "update", Text: `"a" and "b"`}, ""},
		{"update -- --status is not an option here", chatCommand{Verb: "update", Text: "--status is not an option here"}, ""},
		{"update —status identified –audience internal — Found it", chatCommand{Verb: "update", Status: "identified", Audience: "internal", Text: "Found it"}, ""},
		{"update no options at all", chatCommand{Verb: "update", Text: "no options at all"}, ""},
		{"role commander bob", chatCommand{Verb: "role", Role: "commander", Person: "bob"}, ""},
		{"role comms @me", chatCommand{Verb: "role", Role: "comms", Person: "@me"}, ""},
		{"role comms <@U0BOB|bob>", chatCommand{Verb: "role", Role: "comms", Person: "<@U0BOB|bob>"}, ""},
		{"mitigate rolled back 1.4.2", chatCommand{Verb: "mitigate", Text: "rolled back 1.4.2"}, ""},
		{"mitigate", chatCommand{Verb: "mitigate"}, ""},
		{`mitigate --public "Payments work again." rolled back on db-7.corp`, chatCommand{Verb: "mitigate", Public: "Payments work again.", Text: "rolled back on db-7.corp"}, ""},
		{`resolve —public=“Fixed.”`, chatCommand{Verb: "resolve", Public: "Fixed."}, ""},
		{`resolve --public`, chatCommand{}, "resolve: --public needs the text customers read"},
		{`resolve "root cause: expired cert"`, chatCommand{Verb: "resolve", Text: "root cause: expired cert"}, ""},
		{"status", chatCommand{Verb: "status"}, ""},
		{"", chatCommand{Verb: "help"}, ""},
		{"help", chatCommand{Verb: "help"}, ""},
		{"inc-payments-1a2b3c4d status", chatCommand{Incident: "inc-payments-1a2b3c4d", Verb: "status"}, ""},
		{"inc-payments-1a2b3c4d update --status identified x", chatCommand{Incident: "inc-payments-1a2b3c4d", Verb: "update", Status: "identified", Text: "x"}, ""},

		{"update", chatCommand{}, "update: no message: say what stakeholders should know"},
		{"update --status identified", chatCommand{}, "update: no message: say what stakeholders should know"},
		{"update --status", chatCommand{}, "update: --status needs a value"},
		{"update --severity SEV1 x", chatCommand{}, "update: unknown option --severity (want --status, --audience or --role)"},
		{`update --role "partner comms x`, chatCommand{}, "update: --role: a quote is not closed"},
		{"role commander", chatCommand{}, "role: name the role and the person"},
		{"role commander bob and carol", chatCommand{}, `role: "and carol" after the person: one role, one person`},
		{"status now", chatCommand{}, `status: takes nothing after it, got "now"`},
		{"ack", chatCommand{}, `"ack" is not a sitrep command`},
		{"inc-payments-1a2b3c4d", chatCommand{}, "name a command after the incident"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := parseChatCommand(tt.text)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Equal(t, tt.wantErr, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// The chat side of the test fixtures.
const (
	warRoom   = "C0WARROOM"  // incPayments's war room on Slack
	mmWarRoom = "mmwarroom0" // and on Mattermost
	general   = "C0GENERAL"  // no incident's room
)

// commandIntake is an intake whose fake knows incPayments, with its war room.
func commandIntake(t *testing.T, mutate ...func(*IntakeConfig)) (*Intake, *fakeIncidents) {
	t.Helper()
	in, fake := newTestIntake(t, mutate...)
	fake.addIncident(incPayments)
	fake.rooms[warRoom], fake.rooms[mmWarRoom] = incPayments, incPayments
	return in, fake
}

// slackSlash is a slash command as Slack posts it, signed at ts with secret.
func slackSlash(text, user, channel, trigger string, ts time.Time, secret string) (string, []string) {
	form := url.Values{
		"token": {"gIkuvaNzQIHg97ATvDxqgjtO"}, "team_id": {"T0001"}, "team_domain": {"example"},
		"channel_id": {channel}, "channel_name": {"inc-20260302-payments"}, "user_id": {user}, "user_name": {"someone"},
		"command": {"/sitrep"}, "text": {text}, "api_app_id": {"A0KRD7HC3"}, "is_enterprise_install": {"false"},
		"response_url": {"https://hooks.slack.com/commands/T0001/1234/abcd"}, "trigger_id": {trigger},
	}
	body := form.Encode()
	return body, slackHeaders(body, ts, secret)
}

// slash runs a Slack slash command signed now, and returns the status and
// the text of the answer, checking its shape.
func slash(t *testing.T, in *Intake, text, user, channel, trigger string) (int, string) {
	t.Helper()
	body, h := slackSlash(text, user, channel, trigger, testNow.Add(-10*time.Second), slackSecret)
	return answerOf(t, do(in, "POST", "/v1/slack/commands", body, h...))
}

func answerOf(t *testing.T, w *httptest.ResponseRecorder) (int, string) {
	t.Helper()
	if w.Code != http.StatusOK {
		return w.Code, w.Body.String()
	}
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var a slashAnswer
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &a), w.Body.String())
	assert.Equal(t, "ephemeral", a.ResponseType, "only the person who typed it sees the answer")
	return w.Code, a.Text
}

func TestSlackCommands(t *testing.T) {
	tests := []struct {
		name, text, user, channel string
		want                      string // the whole answer
		call                      *cmdCall
	}{
		{
			name: "update", text: "update --status identified Failover to the replica is under way", user: "U0CA5", channel: warRoom,
			want: "Update posted to inc-payments-1a2b3c4d for internal and external stakeholders at 10:00 UTC, status identified. Next update due at 10:30 UTC.",
			call: &cmdCall{"post-update", incPayments, "slack:T1", workflows.UpdateRequest{By: "alice", Status: "identified",
				Message: "Failover to the replica is under way", Channel: "slack"}},
		},
		{
			name: "update for external stakeholders, quoted, escaped by slack", text: `update --audience=external --status Monitoring "Payments work again &amp; we're watching"`,
			user: "U0BOB", channel: warRoom,
			want: "Update posted to inc-payments-1a2b3c4d for external stakeholders at 10:00 UTC, status monitoring. Next update due at 10:30 UTC.",
			call: &cmdCall{"post-update", incPayments, "slack:T2", workflows.UpdateRequest{By: "bob", Status: "monitoring", Audience: "external",
				Message: "Payments work again & we're watching", Channel: "slack"}},
		},
		{
			name: "update for a sub-role", text: "update --role partner-comms Partners: card payments fail", user: "U0CA5", channel: warRoom,
			want: "Update posted to inc-payments-1a2b3c4d for the partner-comms audience at 10:00 UTC, status investigating. Next update due at 10:30 UTC.",
			call: &cmdCall{"post-update", incPayments, "slack:T3", workflows.UpdateRequest{By: "alice", Role: "partner-comms",
				Message: "Partners: card payments fail", Channel: "slack"}},
		},
		{
			name: "role", text: "role commander bob", user: "U0CA5", channel: warRoom,
			want: "bob is now commander of inc-payments-1a2b3c4d (was alice).",
			call: &cmdCall{"assign-role", incPayments, "slack:T4", workflows.RoleRequest{Role: "commander", Person: "bob", By: "alice", Channel: "slack"}},
		},
		{
			name: "role @me", text: "role comms @me", user: "U0BOB", channel: warRoom,
			want: "bob is now comms of inc-payments-1a2b3c4d (was alice).",
			call: &cmdCall{"assign-role", incPayments, "slack:T5", workflows.RoleRequest{Role: "comms", Person: "bob", By: "bob", Channel: "slack"}},
		},
		{
			name: "role by mention", text: "role comms <@U0BOB|bob>", user: "U0CA5", channel: warRoom,
			want: "bob is now comms of inc-payments-1a2b3c4d (was alice).",
			call: &cmdCall{"assign-role", incPayments, "slack:T6", workflows.RoleRequest{Role: "comms", Person: "bob", By: "alice", Channel: "slack"}},
		},
		{
			name: "mitigate", text: "mitigate rolled back 1.4.2", user: "U0CA5", channel: warRoom,
			want: "inc-payments-1a2b3c4d is mitigated (10:00 UTC).",
			call: &cmdCall{"mitigate", incPayments, "slack:T7", workflows.PhaseRequest{By: "alice", Note: "rolled back 1.4.2"}},
		},
		{
			name: "resolve", text: "resolve", user: "U0BOB", channel: warRoom,
			want: "inc-payments-1a2b3c4d is resolved (10:00 UTC).",
			call: &cmdCall{"resolve", incPayments, "slack:T8", workflows.PhaseRequest{By: "bob"}},
		},
		{
			name: "outside the room, naming the incident", text: "inc-payments-1a2b3c4d update --status identified Found it", user: "U0CA5", channel: general,
			want: "Update posted to inc-payments-1a2b3c4d for internal and external stakeholders at 10:00 UTC, status identified. Next update due at 10:30 UTC.",
			call: &cmdCall{"post-update", incPayments, "slack:T9", workflows.UpdateRequest{By: "alice", Status: "identified", Message: "Found it", Channel: "slack"}},
		},
		{
			name: "unknown user", text: "update --status identified x", user: "U0NOBODY", channel: warRoom,
			want: "sitrep does not know your Slack account (user ID U0NOBODY), so it cannot act for you: add it to your person in the catalog as a chat contact.",
		},
		{
			name: "unknown room", text: "update --status identified x", user: "U0CA5", channel: general,
			want: "This channel is not the war room of an open incident. Run the command in the incident's room, or name the incident first: " +
				"/sitrep inc-… update [--status investigating|identified|monitoring] [--audience internal|external|both] [--role ROLE] MESSAGE",
		},
		{
			name: "an incident that is not there", text: "inc-gone-00000000 mitigate", user: "U0CA5", channel: general,
			want: "No open incident inc-gone-00000000: it may be resolved already.",
		},
		{
			name: "bad status", text: "update --status fixed It works", user: "U0CA5", channel: warRoom,
			want: `Not posted: status: "fixed" is not one of investigating, identified, monitoring.` +
				"\nUsage: /sitrep update [--status investigating|identified|monitoring] [--audience internal|external|both] [--role ROLE] MESSAGE",
		},
		{
			name: "resolved is resolve's", text: "update --status resolved All good", user: "U0CA5", channel: warRoom,
			want: "Not posted: status: resolved is what `sitrep resolve` sends, with the final notice." +
				"\nUsage: /sitrep update [--status investigating|identified|monitoring] [--audience internal|external|both] [--role ROLE] MESSAGE",
		},
		{
			name: "bad audience", text: "update --audience everyone It works", user: "U0CA5", channel: warRoom,
			want: `Not posted: audience: "everyone" is not one of internal, external, both.` +
				"\nUsage: /sitrep update [--status investigating|identified|monitoring] [--audience internal|external|both] [--role ROLE] MESSAGE",
		},
		{
			name: "no message", text: "update --status identified", user: "U0CA5", channel: warRoom,
			want: "update: no message: say what stakeholders should know." +
				"\nUsage: /sitrep update [--status investigating|identified|monitoring] [--audience internal|external|both] [--role ROLE] MESSAGE",
		},
		{
			name: "role without a person", text: "role commander", user: "U0CA5", channel: warRoom,
			want: "role: name the role and the person.\nUsage: /sitrep role ROLE PERSON (or @me)",
		},
		{
			name: "a mention of someone sitrep does not know", text: "role comms <@U0NOBODY|eve>", user: "U0CA5", channel: warRoom,
			want: "Not assigned: sitrep does not know the chat user <@U0NOBODY|eve>; name them by their catalog handle.",
		},
		{
			name: "unknown command", text: "page everyone", user: "U0CA5", channel: warRoom,
			want: `"page" is not a sitrep command.` + "\n" + helpText("/sitrep"),
		},
		{name: "help", text: "help", user: "U0NOBODY", channel: general, want: helpText("/sitrep")},
		{
			name: "mitigate, its note made one clean line", text: "mitigate rolled back\r\nBcc: x\x07\u202e", user: "U0CA5", channel: warRoom,
			want: "inc-payments-1a2b3c4d is mitigated (10:00 UTC).",
			call: &cmdCall{"mitigate", incPayments, "slack:T21", workflows.PhaseRequest{By: "alice", Note: "rolled back  Bcc: x"}},
		},
		{
			name: "update, its line breaks kept, control characters gone", text: "update --status identified Line one\r\nline two\x1b[2J\x07",
			user: "U0CA5", channel: warRoom,
			want: "Update posted to inc-payments-1a2b3c4d for internal and external stakeholders at 10:00 UTC, status identified. Next update due at 10:30 UTC.",
			call: &cmdCall{"post-update", incPayments, "slack:T22", workflows.UpdateRequest{By: "alice", Status: "identified",
				Message: "Line one\nline two", Channel: "slack"}},
		},
	}
	in, fake := commandIntake(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(fake.commandsMade())
			code, text := slash(t, in, tt.text, tt.user, tt.channel, "T"+strconv.Itoa(i+1))
			require.Equal(t, http.StatusOK, code, text)
			assert.Equal(t, slackEscaped(tt.want), text)
			made := fake.commandsMade()[before:]
			if tt.call == nil {
				assert.Empty(t, made, "nothing reaches the incident")
				return
			}
			require.Len(t, made, 1)
			assert.Equal(t, *tt.call, made[0])
		})
	}
	t.Run("help lists every command", func(t *testing.T) {
		for _, w := range []string{"/sitrep update [--status", "/sitrep role ROLE PERSON", `/sitrep mitigate [--public "TEXT"] [NOTE]`, `/sitrep resolve [--public "TEXT"] [NOTE]`,
			"/sitrep status", "/sitrep help", "/sitrep inc-… status"} {
			assert.Contains(t, helpText("/sitrep"), w)
		}
	})
}

// slackEscaped is s as Slack's mrkdwn needs it.
func slackEscaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func TestSlackCommandStatus(t *testing.T) {
	in, fake := commandIntake(t)
	due := testNow.Add(-7 * time.Minute)
	st := fake.states[incPayments]
	st.Phase, st.Status, st.NextUpdateDue = workflows.Acknowledged, workflows.StatusIdentified, &due
	st.Roles = []workflows.RoleHolder{{Role: "commander", Person: "bob"}, {Role: "comms", Person: "carol"}}
	st.WarRoom = &workflows.WarRoom{Platform: "slack", Channel: warRoom, Name: "inc-20260302-payments", Bridge: "https://meet.example.com/inc-payments"}
	fake.states[incPayments] = st

	code, text := slash(t, in, "status", "U0CA5", warRoom, "S1")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "inc-payments-1a2b3c4d: SEV1 payments, ACKNOWLEDGED\nCheckout error rate above 5%\n"+
		"Stakeholders told: identified\nNext update due at 09:53 UTC, OVERDUE by 7m\nRoles: commander bob, comms carol\n"+
		"Bridge: https://meet.example.com/inc-payments", text)
	assert.Empty(t, fake.commandsMade(), "status changes nothing")
}

func TestSlackCommandRefusedAndUnavailable(t *testing.T) {
	in, fake := commandIntake(t)
	fake.rejectErr = &RejectedError{Type: workflows.RejectWrongPhase, Message: "status cannot go back from identified to investigating"}
	_, text := slash(t, in, "update --status investigating Looking again", "U0CA5", warRoom, "R1")
	assert.Equal(t, "Refused: status cannot go back from identified to investigating", text)

	fake.rejectErr = &RejectedError{Type: workflows.RejectInvalid, Message: `"eve" is not in the catalog`}
	_, text = slash(t, in, "role comms eve", "U0CA5", warRoom, "R2")
	assert.Equal(t, `Refused: "eve" is not in the catalog`, text)
	assert.Empty(t, fake.commandsMade())

	fake.rejectErr, fake.updateErr = nil, fmt.Errorf("post-update %s: %w: dial tcp 10.1.2.3:7233", incPayments, ErrUnavailable)
	_, text = slash(t, in, "update Still looking", "U0CA5", warRoom, "R3")
	assert.Equal(t, "sitrep could not reach its workflow server, so nothing was done. Try again in a minute.", text)
	assert.NotContains(t, text, "10.1.2.3", "no server detail for the person")

	fake.updateErr, fake.listErr = nil, fmt.Errorf("find incident of room: %w", ErrUnavailable)
	_, text = slash(t, in, "status", "U0CA5", warRoom, "R4")
	assert.Equal(t, "sitrep could not reach its workflow server, so nothing was done. Try again in a minute.", text)
}

func TestSlackCommandSignature(t *testing.T) {
	in, fake := commandIntake(t)
	body, h := slackSlash("update --status identified x", "U0CA5", warRoom, "SIG1", testNow.Add(-time.Minute), slackSecret)
	signed := func(ts time.Time, secret string) func() (string, []string) {
		return func() (string, []string) {
			return slackSlash("update --status identified x", "U0CA5", warRoom, "SIG1", ts, secret)
		}
	}
	tests := []struct {
		name    string
		request func() (string, []string)
		want    string
	}{
		{"tampered body", func() (string, []string) { return strings.Replace(body, "identified", "resolved", 1), h }, "invalid slack signature"},
		{"wrong secret", signed(testNow, "another-signing-secret"), "invalid slack signature"},
		{"stale timestamp", signed(testNow.Add(-6*time.Minute), slackSecret), "X-Slack-Request-Timestamp more than 5 minutes from now"},
		{"from the future", signed(testNow.Add(6*time.Minute), slackSecret), "X-Slack-Request-Timestamp more than 5 minutes from now"},
		{"unsigned", func() (string, []string) { return body, []string{"Content-Type", formType} }, "X-Slack-Signature or X-Slack-Request-Timestamp missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, hdr := tt.request()
			w := do(in, "POST", "/v1/slack/commands", b, hdr...)
			assert.Equal(t, http.StatusUnauthorized, w.Code)
			assert.Contains(t, w.Body.String(), tt.want)
			assert.Empty(t, fake.commandsMade(), "nothing reaches the incident")
		})
	}

	t.Run("the rotated secret", func(t *testing.T) {
		b, hdr := slackSlash("update --status identified x", "U0CA5", warRoom, "SIG2", testNow, slackSecretRotated)
		code, _ := answerOf(t, do(in, "POST", "/v1/slack/commands", b, hdr...))
		assert.Equal(t, http.StatusOK, code)
		assert.Len(t, fake.commandsMade(), 1)
	})
	t.Run("a replay within the window counts once", func(t *testing.T) {
		_, first := answerOf(t, do(in, "POST", "/v1/slack/commands", body, h...))
		_, again := answerOf(t, do(in, "POST", "/v1/slack/commands", body, h...))
		assert.Equal(t, first, again)
		assert.Len(t, fake.commandsMade(), 2, "the rotated secret's, and this one once")
	})
}

// mattermostSlash is a slash command as Mattermost posts it.
func mattermostSlash(text, user, channel, trigger, token string) string {
	form := url.Values{
		"channel_id": {channel}, "channel_name": {"inc-20260302-payments"}, "command": {"/sitrep"},
		"response_url": {"https://chat.example.com/hooks/commands/abc"}, "team_domain": {"example"}, "team_id": {"team0"},
		"text": {text}, "trigger_id": {trigger}, "user_id": {user}, "user_name": {"someone"},
	}
	if token != "" {
		form.Set("token", token)
	}
	return form.Encode()
}

func TestMattermostCommands(t *testing.T) {
	in, fake := commandIntake(t)
	mm := func(body string, header ...string) (int, string) {
		return answerOf(t, do(in, "POST", "/v1/mattermost/commands", body, append([]string{"Content-Type", formType}, header...)...))
	}

	code, text := mm(mattermostSlash("update --status identified DB failover under way", "mm-alice", mmWarRoom, "MM1", mmCommandToken))
	require.Equal(t, http.StatusOK, code, text)
	assert.Equal(t, "Update posted to inc-payments-1a2b3c4d for internal and external stakeholders at 10:00 UTC, status identified. Next update due at 10:30 UTC.", text)
	require.Len(t, fake.commandsMade(), 1)
	assert.Equal(t, cmdCall{"post-update", incPayments, "mattermost:MM1", workflows.UpdateRequest{By: "alice", Status: "identified",
		Message: "DB failover under way", Channel: "mattermost"}}, fake.commandsMade()[0])

	code, text = mm(mattermostSlash("role comms @me", "mm-bob", mmWarRoom, "MM2", ""), "Authorization", "Token "+mmCommandTokenRotated)
	require.Equal(t, http.StatusOK, code, "the token as a header, the rotated one")
	assert.Equal(t, "bob is now comms of inc-payments-1a2b3c4d (was alice).", text)

	_, text = mm(mattermostSlash("role commander", "mm-alice", mmWarRoom, "MM3", mmCommandToken))
	assert.Equal(t, `role: name the role and the person.`+"\nUsage: /sitrep role ROLE PERSON (or @me)", text)
	_, text = mm(mattermostSlash("update --status x y", "mm-alice", mmWarRoom, "MM4", mmCommandToken))
	assert.Contains(t, text, `\[--status investigating|identified|monitoring\]`, "escaped for Mattermost's Markdown")
	_, text = mm(mattermostSlash("status", "mm-eve", mmWarRoom, "MM5", mmCommandToken))
	assert.Equal(t, "sitrep does not know your Mattermost account (user ID mm-eve), so it cannot act for you: add it to your person in the catalog as a chat contact.", text)
	_, text = mm(mattermostSlash("mitigate", "mm-alice", "town-square", "MM6", mmCommandToken))
	assert.Contains(t, text, "This channel is not the war room of an open incident.")
	assert.Len(t, fake.commandsMade(), 2)

	for name, req := range map[string][]string{
		"wrong token":   {mattermostSlash("resolve", "mm-alice", mmWarRoom, "MM7", "wrongtoken00000000000000000")},
		"no token":      {mattermostSlash("resolve", "mm-alice", mmWarRoom, "MM8", "")},
		"wrong header":  {mattermostSlash("resolve", "mm-alice", mmWarRoom, "MM9", ""), "Authorization", "Token wrongtoken0000000000000"},
		"bearer scheme": {mattermostSlash("resolve", "mm-alice", mmWarRoom, "MM10", ""), "Authorization", "Bearer " + mmCommandToken},
	} {
		t.Run(name, func(t *testing.T) {
			code, body := mm(req[0], req[1:]...)
			assert.Equal(t, http.StatusUnauthorized, code)
			assert.Contains(t, body, "the command's token is not one sitrep was given (MATTERMOST_COMMAND_TOKEN)")
			assert.Len(t, fake.commandsMade(), 2, "nothing reaches the incident")
		})
	}

	t.Run("a short token is refused at start", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.MattermostCommandTokens = []string{mmCommandToken, "sitrep"}
		_, err := NewIntake(cfg, newFake(), nil)
		assert.ErrorContains(t, err, "mattermostCommandTokens[1]: shorter than 16 characters")
	})
	t.Run("off without a token", func(t *testing.T) {
		in, _ := commandIntake(t, func(c *IntakeConfig) { c.MattermostCommandTokens = nil })
		w := do(in, "POST", "/v1/mattermost/commands", mattermostSlash("status", "mm-alice", mmWarRoom, "MM11", mmCommandToken), "Content-Type", formType)
		assert.Equal(t, http.StatusNotFound, w.Code)
	})
}

// blockingIncidents holds PostUpdate until release is closed: an incident
// slower to answer than Slack waits.
type blockingIncidents struct {
	*fakeIncidents
	release chan struct{}
}

func (b *blockingIncidents) PostUpdate(ctx context.Context, id, requestID string, req workflows.UpdateRequest) (workflows.UpdateResult, error) {
	select {
	case <-b.release:
	case <-ctx.Done():
		return workflows.UpdateResult{}, ctx.Err()
	}
	return b.fakeIncidents.PostUpdate(ctx, id, requestID, req)
}

func TestSlackCommandAnsweredLater(t *testing.T) {
	fake := newFake()
	fake.addIncident(incPayments)
	fake.rooms[warRoom] = incPayments
	slow := &blockingIncidents{fakeIncidents: fake, release: make(chan struct{})}
	in, err := NewIntake(testConfig(t), slow, nil)
	require.NoError(t, err)
	in.now = func() time.Time { return testNow }
	in.replyWithin = time.Millisecond

	late := make(chan string, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		late <- r.Header.Get("Content-Type") + " " + string(b)
	}))
	t.Cleanup(hook.Close)

	form := url.Values{"command": {"/sitrep"}, "text": {"update --status identified Found it"}, "user_id": {"U0CA5"},
		"channel_id": {warRoom}, "response_url": {hook.URL + "/commands/T0001/1/abc"}, "trigger_id": {"L1"}}
	body := form.Encode()
	code, text := answerOf(t, do(in, "POST", "/v1/slack/commands", body, slackHeaders(body, testNow, slackSecret)...))
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "Working on it: the incident has not answered yet. sitrep will tell you here when it does.", text)
	assert.Empty(t, fake.commandsMade(), "the incident has not answered")

	close(slow.release)
	select {
	case got := <-late:
		assert.Equal(t, `application/json {"response_type":"ephemeral","text":"Update posted to inc-payments-1a2b3c4d for internal and external stakeholders at 10:00 UTC, status identified. Next update due at 10:30 UTC."}`,
			strings.TrimSpace(got))
	case <-time.After(10 * time.Second):
		t.Fatal("the result never reached the response_url")
	}
	assert.Len(t, fake.commandsMade(), 1)
}

func TestSlashCommandsRateLimitedAndMetered(t *testing.T) {
	ri := startIntake(t, func(c *IntakeConfig) { c.AlertRate = RateLimit{Overall: Rate{N: 2, Per: time.Minute}} })
	ri.fake.addIncident(incPayments)
	ri.fake.rooms[warRoom] = incPayments
	send := func(text, trigger string) (*http.Response, slashAnswer) {
		body, h := slackSlash(text, "U0CA5", warRoom, trigger, testNow, slackSecret)
		resp, b := ri.send(t, post("/v1/slack/commands", body, h...))
		var a slashAnswer
		require.NoError(t, json.Unmarshal([]byte(b), &a), b)
		return resp, a
	}
	send("update --status identified Found it", "M1")
	send("update --status nonsense x", "M2")
	resp, a := send("resolve", "M3")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the person is told in the chat")
	assert.Equal(t, "30", resp.Header.Get("Retry-After"))
	assert.Equal(t, "Too many commands right now; try again in 30 seconds.", a.Text)
	assert.Len(t, ri.fake.commandsMade(), 1, "the refused and the limited did nothing")

	body, h := slackSlash("resolve", "U0CA5", warRoom, "M4", testNow, "forged-secret")
	resp, _ = ri.send(t, post("/v1/slack/commands", body, h...))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	t.Run("per chat user, not per Slack address", func(t *testing.T) {
		ri := startIntake(t, func(c *IntakeConfig) { c.AlertRate = RateLimit{PerAddress: Rate{N: 1, Per: time.Minute}} })
		ri.fake.addIncident(incPayments)
		ri.fake.rooms[warRoom] = incPayments
		for i, tt := range []struct{ user, want string }{
			{"U0CA5", "inc-payments-1a2b3c4d is mitigated (10:00 UTC)."},
			{"U0CA5", "Too many commands right now; try again in 60 seconds."},
			{"U0BOB", "inc-payments-1a2b3c4d is mitigated (10:00 UTC)."},
		} {
			body, h := slackSlash("mitigate", tt.user, warRoom, "P"+strconv.Itoa(i), testNow, slackSecret)
			_, b := ri.send(t, post("/v1/slack/commands", body, h...))
			var a slashAnswer
			require.NoError(t, json.Unmarshal([]byte(b), &a), b)
			assert.Equal(t, tt.want, a.Text, "command %d from %s", i, tt.user)
		}
	})

	_, metrics := ri.send(t, attackRequest{method: http.MethodGet, path: "/metrics"})
	for _, line := range []string{
		`sitrep_commands_total{command="update",outcome="done",platform="slack"} 1`,
		`sitrep_commands_total{command="update",outcome="invalid",platform="slack"} 1`,
		`sitrep_commands_total{command="none",outcome="rate_limited",platform="slack"} 1`,
		`sitrep_commands_total{command="none",outcome="bad_signature",platform="slack"} 1`,
		`sitrep_intake_request_duration_seconds_count{code="401",route="POST /v1/slack/commands"} 1`,
	} {
		assert.Contains(t, metrics, line)
	}
}

func TestMattermostCommandTokenFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte(mmCommandToken+"\n"), 0o600))
	cfg, err := IntakeConfigFromEnv(func(k string) string { return map[string]string{"MATTERMOST_COMMAND_TOKEN_FILE": file}[k] })
	require.NoError(t, err)
	assert.Equal(t, []string{mmCommandToken}, cfg.MattermostCommandTokens)

	cfg, err = IntakeConfigFromEnv(func(k string) string {
		return map[string]string{"MATTERMOST_COMMAND_TOKEN": mmCommandToken + "," + mmCommandTokenRotated}[k]
	})
	require.NoError(t, err)
	assert.Equal(t, []string{mmCommandToken, mmCommandTokenRotated}, cfg.MattermostCommandTokens, "two while one is regenerated")

	_, err = IntakeConfigFromEnv(func(k string) string {
		return map[string]string{"MATTERMOST_COMMAND_TOKEN": "x", "MATTERMOST_COMMAND_TOKEN_FILE": file}[k]
	})
	assert.ErrorContains(t, err, "MATTERMOST_COMMAND_TOKEN and MATTERMOST_COMMAND_TOKEN_FILE are both set")
}

func TestCommandTokensNeverLogged(t *testing.T) {
	ri := startIntake(t)
	ri.fake.addIncident(incPayments)
	ri.fake.rooms[mmWarRoom] = incPayments
	ri.send(t, post("/v1/mattermost/commands", mattermostSlash("status", "mm-alice", mmWarRoom, "N1", mmCommandToken), "Content-Type", formType))
	ri.send(t, post("/v1/mattermost/commands", mattermostSlash("status", "mm-alice", mmWarRoom, "N2", "almost"+mmCommandToken), "Content-Type", formType))
	require.Contains(t, ri.logs.String(), "mattermost command refused")
	assert.NotContains(t, ri.logs.String(), mmCommandToken)
}

func TestOverdue(t *testing.T) {
	assert.Empty(t, Overdue(testNow, testNow), "due now is not late")
	assert.Equal(t, "OVERDUE by 12m", Overdue(testNow.Add(-12*time.Minute-20*time.Second), testNow))
	for d, want := range map[time.Duration]string{
		40 * time.Second: "40s", 12*time.Minute + 20*time.Second: "12m", time.Hour + 5*time.Minute: "1h5m", 2 * time.Hour: "2h",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func FuzzChatCommand(f *testing.F) {
	for _, s := range []string{"update --status identified DB failover", `update --role "partner comms" "quoted message"`, "role comms <@U0BOB|bob>",
		"inc-payments-1a2b3c4d mitigate rolled back", "update —status “identified” ‘x’", "update --status=", `"`, "update -- --", "role ‘a’ “b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := parseChatCommand(text)
		if err != nil {
			var syn *syntaxError
			if !errors.As(err, &syn) || usage[syn.verb] == "" {
				t.Fatalf("%q: error %v names no usage line", text, err)
			}
			return
		}
		if !slices.Contains(verbs, c.Verb) {
			t.Fatalf("%q: verb %q", text, c.Verb)
		}
		if c.Verb == verbUpdate && strings.TrimSpace(c.Text) == "" {
			t.Fatalf("%q: an update with no message", text)
		}
		if c.Verb == verbRole && (c.Role == "" || c.Person == "") {
			t.Fatalf("%q: a role with no role or person: %+v", text, c)
		}
	})
}
