package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

// FakeToken is the token a Fake accepts when FakeOptions.Token is empty.
const FakeToken integrations.Secret = "sitrepfaketoken0000000000a"

// FakeBotUserID is the user ID of the fake token's owner.
const FakeBotUserID = "sitrepbot00000000000000000"

// FakeTeamID is the fake's team when FakeOptions.TeamID is empty.
const FakeTeamID = "sitrepteam0000000000000000"

// FakeOptions configures a Fake.
type FakeOptions struct {
	Reporter fakeapi.Reporter    // told of unexpected requests; nil in the sandbox
	Inbox    *inbox.Inbox        // where posts are shown; may be nil
	Token    integrations.Secret // the token it accepts; FakeToken when empty
	TeamID   string              // its one team; FakeTeamID when empty
	// Users are the user IDs that exist besides the bot; when empty, every
	// non-empty ID does.
	Users []string
	// HTTPClient sends ClickButton's requests; a client with a 10s timeout when nil.
	HTTPClient *http.Client
}

// Fake speaks the Mattermost REST API v4 endpoints Client uses, under
// /api/v4/, with Mattermost's status codes and error bodies, and clicks
// buttons as Mattermost does.
type Fake struct {
	// Faults injects failures before the fake sees a request.
	Faults fakeapi.Faults

	opts FakeOptions

	mu       sync.Mutex
	seq      int
	channels map[string]*fakeChannel // by ID
	posts    fakeapi.Log[PostedMessage]
	commands map[string]SlashCommand // response_url id → the command typed
	replies  []Reply
}

type fakeChannel struct {
	channel
	members map[string]bool
	user    string // for a direct-message channel, the other user
}

// PostedMessage is a post the fake accepted.
type PostedMessage struct {
	ID        string
	ChannelID string
	User      string // for a direct message, the user it went to
	Text      string
	Incident  string // from the post's props
	Buttons   []Button
	Edited    int // how many times a patch changed it
}

// NewFake returns a fake server with one team and no channels.
func NewFake(opts FakeOptions) *Fake {
	if opts.Token == "" {
		opts.Token = FakeToken
	}
	if opts.TeamID == "" {
		opts.TeamID = FakeTeamID
	}
	return &Fake{opts: opts, channels: map[string]*fakeChannel{}, commands: map[string]SlashCommand{}}
}

// Register mounts the fake on mux under Mattermost's real paths.
func (f *Fake) Register(mux *http.ServeMux) {
	routes := map[string]func(http.ResponseWriter, *http.Request){
		"GET /api/v4/users/me":                             f.me,
		"POST /api/v4/channels/direct":                     f.direct,
		"POST /api/v4/posts":                               f.post,
		"POST /api/v4/channels":                            f.create,
		"GET /api/v4/teams/{team_id}/channels/name/{name}": f.byName,
		"POST /api/v4/channels/{channel_id}/members":       f.addMember,
		"PUT /api/v4/posts/{post_id}/patch":                f.patch,
		"GET /api/v4/teams/{team_id}":                      f.team,
	}
	for pattern, h := range routes {
		mux.Handle(pattern, f.wrap(h))
	}
	mux.Handle("POST /hooks/commands/{command}", http.HandlerFunc(f.commandReply))
	mux.Handle("/api/v4/", fakeapi.Unexpected(f.opts.Reporter, provider))
}

// wrap reads the body before faults apply (the server notices a client that
// hangs up only once the body is read, so a Hang fault ends with the client),
// then checks the token as Mattermost does.
func (f *Fake) wrap(h http.HandlerFunc) http.Handler {
	authed := f.Faults.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			token, ok = strings.CutPrefix(auth, "Token ")
		}
		if !ok || token != f.opts.Token.Reveal() {
			writeError(w, http.StatusUnauthorized, "api.context.session_expired.app_error", "Invalid or expired session, please login again.")
			return
		}
		h(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, "api.context.invalid_body_param.app_error", "Request body too large.")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		authed.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes Mattermost's error body.
func writeError(w http.ResponseWriter, status int, id, message string) {
	writeJSON(w, status, map[string]any{"id": id, "message": message, "detailed_error": "", "request_id": "fakerequest000000000000000", "status_code": status})
}

func badBody(w http.ResponseWriter, param string) {
	writeError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "Invalid or missing "+param+" in request body.")
}

func forbidden(w http.ResponseWriter) {
	writeError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
}

func (f *Fake) userExists(id string) bool {
	if id == FakeBotUserID {
		return true
	}
	if len(f.opts.Users) == 0 {
		return id != ""
	}
	return slices.Contains(f.opts.Users, id)
}

func (f *Fake) newID(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s%0*d", prefix, 26-len(prefix), f.seq)
}

func (f *Fake) me(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"id": FakeBotUserID, "username": "sitrep", "is_bot": true, "roles": "system_user"})
}

func (f *Fake) direct(w http.ResponseWriter, r *http.Request) {
	var ids []string
	if json.NewDecoder(r.Body).Decode(&ids) != nil || len(ids) != 2 {
		badBody(w, "user_ids")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.userExists(ids[0]) || !f.userExists(ids[1]) {
		writeError(w, http.StatusBadRequest, "api.channel.create_direct_channel.invalid_user.app_error", "Invalid user ID for direct channel creation.")
		return
	}
	if !slices.Contains(ids, FakeBotUserID) {
		forbidden(w)
		return
	}
	other := ids[0]
	if other == FakeBotUserID {
		other = ids[1]
	}
	sorted := slices.Sorted(slices.Values(ids))
	name := sorted[0] + "__" + sorted[1]
	for _, ch := range f.channels {
		if ch.Type == "D" && ch.Name == name {
			writeJSON(w, http.StatusCreated, ch.channel)
			return
		}
	}
	ch := &fakeChannel{
		channel: channel{ID: f.newID("dm"), Type: "D", Name: name, CreateAt: time.Now().UnixMilli(), CreatorID: FakeBotUserID},
		members: map[string]bool{ids[0]: true, ids[1]: true}, user: other,
	}
	f.channels[ch.ID] = ch
	writeJSON(w, http.StatusCreated, ch.channel)
}

// maxPostRunes is the longest message Mattermost accepts.
const maxPostRunes = 16383

func (f *Fake) post(w http.ResponseWriter, r *http.Request) {
	var p post
	if json.NewDecoder(r.Body).Decode(&p) != nil || p.ChannelID == "" {
		badBody(w, "post")
		return
	}
	if utf8.RuneCountInString(p.Message) > maxPostRunes {
		writeError(w, http.StatusBadRequest, "model.post.is_valid.msg.app_error", "Invalid Message.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.channels[p.ChannelID]
	switch {
	case ch == nil || !ch.members[FakeBotUserID]:
		forbidden(w)
		return
	case ch.DeleteAt != 0:
		writeError(w, http.StatusBadRequest, "api.post.create_post.can_not_post_to_deleted.error", "Can not post to deleted channel.")
		return
	}
	p.ID, p.UserID, p.CreateAt = f.newID("post"), FakeBotUserID, time.Now().UnixMilli()
	m := PostedMessage{ID: p.ID, ChannelID: ch.ID, User: ch.user, Text: p.Message, Incident: p.Props.Incident}
	for _, a := range p.Props.Attachments {
		for _, act := range a.Actions {
			m.Buttons = append(m.Buttons, Button{ID: act.ID, Text: act.Name, Style: act.Style, URL: act.Integration.URL, Context: act.Integration.Context})
		}
	}
	f.recordLocked(m)
	writeJSON(w, http.StatusCreated, p)
}

// patch serves PUT /api/v4/posts/{post_id}/patch: the bot edits its own
// post's message; the post keeps its ID and buttons.
func (f *Fake) patch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Message *string `json:"message"`
	}
	if json.NewDecoder(r.Body).Decode(&in) != nil {
		badBody(w, "post")
		return
	}
	if in.Message != nil && utf8.RuneCountInString(*in.Message) > maxPostRunes {
		writeError(w, http.StatusBadRequest, "model.post.is_valid.msg.app_error", "Invalid Message.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var edited *PostedMessage
	f.posts.Update(func(ps []PostedMessage) {
		for i := range ps {
			if ps[i].ID != r.PathValue("post_id") {
				continue
			}
			if ch := f.channels[ps[i].ChannelID]; ch != nil && ch.DeleteAt != 0 {
				return
			}
			if in.Message != nil {
				ps[i].Text = *in.Message
			}
			ps[i].Edited++
			e := ps[i]
			edited = &e
		}
	})
	switch {
	case edited == nil && f.channelOfLocked(r.PathValue("post_id")) != nil:
		writeError(w, http.StatusBadRequest, "api.post.patch_post.can_not_update_post_in_deleted.error", "Can not update a post in a deleted channel.")
		return
	case edited == nil:
		// Mattermost answers 403 for a post the token cannot see, real or not.
		forbidden(w)
		return
	}
	now := time.Now().UnixMilli()
	writeJSON(w, http.StatusOK, map[string]any{"id": edited.ID, "channel_id": edited.ChannelID, "user_id": FakeBotUserID,
		"message": edited.Text, "props": map[string]any{incidentProp: edited.Incident}, "update_at": now, "edit_at": now})
}

// channelOfLocked is the channel of a post the bot made, or nil.
func (f *Fake) channelOfLocked(postID string) *fakeChannel {
	for _, p := range f.posts.All() {
		if p.ID == postID {
			return f.channels[p.ChannelID]
		}
	}
	return nil
}

// team serves GET /api/v4/teams/{team_id}: the fake's one team, named "sitrep".
func (f *Fake) team(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("team_id") != f.opts.TeamID {
		forbidden(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": f.opts.TeamID, "name": FakeTeamName, "display_name": "sitrep", "type": "O"})
}

// FakeTeamName is the name of the fake's team, as in its channels' URLs.
const FakeTeamName = "sitrep"

func (f *Fake) recordLocked(m PostedMessage) {
	f.show(m)
	f.posts.Add(m)
}

// show shows the post in the inbox, as its recipient sees it now.
func (f *Fake) show(m PostedMessage) {
	to := m.ChannelID
	if m.User != "" {
		to = m.User
	}
	msg := inbox.Message{Channel: "chat", Provider: provider, To: to, From: FakeBotUserID, Text: m.Text, Incident: m.Incident, ProviderID: m.ID}
	for _, b := range m.Buttons {
		msg.Links = append(msg.Links, inbox.Link{Label: b.Text, URL: b.URL})
	}
	f.opts.Inbox.Add(msg)
}

func validName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (f *Fake) create(w http.ResponseWriter, r *http.Request) {
	var in channel
	if json.NewDecoder(r.Body).Decode(&in) != nil {
		badBody(w, "channel")
		return
	}
	switch {
	case in.TeamID != f.opts.TeamID:
		forbidden(w)
		return
	case !validName(in.Name):
		writeError(w, http.StatusBadRequest, "model.channel.is_valid.name.app_error", "Name must be 1 to 64 lowercase alphanumeric characters.")
		return
	case in.DisplayName == "" || utf8.RuneCountInString(in.DisplayName) > 64:
		writeError(w, http.StatusBadRequest, "model.channel.is_valid.display_name.app_error", "Invalid display name.")
		return
	case in.Type != "O" && in.Type != "P":
		writeError(w, http.StatusBadRequest, "model.channel.is_valid.type.app_error", "Invalid type.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.channels {
		if ch.TeamID == in.TeamID && ch.Name == in.Name {
			writeError(w, http.StatusBadRequest, channelExists, "A channel with that name already exists on the same team.")
			return
		}
	}
	ch := f.addChannelLocked(in.Name, in.DisplayName, in.Type, FakeBotUserID)
	writeJSON(w, http.StatusCreated, ch.channel)
}

func (f *Fake) addChannelLocked(name, displayName, typ string, members ...string) *fakeChannel {
	ch := &fakeChannel{
		channel: channel{ID: f.newID("ch"), TeamID: f.opts.TeamID, Type: typ, Name: name, DisplayName: displayName,
			CreateAt: time.Now().UnixMilli(), CreatorID: FakeBotUserID},
		members: map[string]bool{},
	}
	for _, m := range members {
		ch.members[m] = true
	}
	f.channels[ch.ID] = ch
	return ch
}

func (f *Fake) byName(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	deleted := r.URL.Query().Get("include_deleted") == "true"
	for _, ch := range f.channels {
		if ch.TeamID == r.PathValue("team_id") && ch.Name == r.PathValue("name") && (ch.DeleteAt == 0 || deleted) {
			if ch.Type == "P" && !ch.members[FakeBotUserID] {
				forbidden(w)
				return
			}
			writeJSON(w, http.StatusOK, ch.channel)
			return
		}
	}
	writeError(w, http.StatusNotFound, "app.channel.get_by_name.missing.app_error", "Channel does not exist.")
}

func (f *Fake) addMember(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID string `json:"user_id"`
	}
	if json.NewDecoder(r.Body).Decode(&in) != nil || in.UserID == "" {
		badBody(w, "user_id")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.channels[r.PathValue("channel_id")]
	switch {
	case ch == nil:
		writeError(w, http.StatusNotFound, "app.channel.get.existing.app_error", "Unable to find the existing channel.")
		return
	case ch.Type == "D":
		writeError(w, http.StatusBadRequest, "api.channel.add_user_to_channel.type.app_error", "Can not add user to this channel type.")
		return
	case ch.DeleteAt != 0:
		writeError(w, http.StatusBadRequest, "api.channel.add_user.to.channel.failed.deleted.app_error", "Failed to add user to channel because the channel has been archived.")
		return
	case !ch.members[FakeBotUserID]:
		forbidden(w)
		return
	case !f.userExists(in.UserID):
		writeError(w, http.StatusNotFound, "app.user.missing_account.const", "Unable to find the user.")
		return
	}
	// Adding a member again is a success, as in Mattermost.
	ch.members[in.UserID] = true
	writeJSON(w, http.StatusCreated, map[string]any{"channel_id": ch.ID, "user_id": in.UserID, "roles": "channel_user",
		"last_update_at": time.Now().UnixMilli(), "notify_props": map[string]string{}})
}

// AddChannel adds a channel someone else made in the team, with these
// members (the bot is one only if listed, as FakeBotUserID), and returns its ID.
func (f *Fake) AddChannel(name string, members ...string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addChannelLocked(name, name, "O", members...).ID
}

// ArchiveChannel archives the channel.
func (f *Fake) ArchiveChannel(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ch := f.channels[id]; ch != nil {
		ch.DeleteAt = time.Now().UnixMilli()
	}
}

// Members returns the user IDs in the channel, sorted.
func (f *Fake) Members(channelID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.channels[channelID]
	if ch == nil {
		return nil
	}
	var out []string
	for u := range ch.members {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// ChannelID returns the ID of the team's channel named name.
func (f *Fake) ChannelID(name string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.channels {
		if ch.Type != "D" && ch.Name == name {
			return ch.ID, true
		}
	}
	return "", false
}

// Received returns the posts accepted, oldest first.
func (f *Fake) Received() []PostedMessage { return f.posts.All() }

// WaitFor returns the first post that pred accepts, waiting for it until ctx
// is done.
func (f *Fake) WaitFor(ctx context.Context, pred func(PostedMessage) bool) (PostedMessage, error) {
	return f.posts.WaitFor(ctx, pred)
}

// ExpectMessage waits up to 5 seconds for a post in channelOrUserID (a
// channel ID, or the user of a direct message) whose text contains
// substring, and fails t if none comes.
func (f *Fake) ExpectMessage(t testing.TB, channelOrUserID, substring string) PostedMessage {
	t.Helper()
	return f.posts.Expect(t, fmt.Sprintf("mattermost fake: no post in %q containing %q", channelOrUserID, substring), func(m PostedMessage) bool {
		return (m.ChannelID == channelOrUserID || m.User == channelOrUserID) && strings.Contains(m.Text, substring)
	})
}

// ErrorFault is Mattermost's error answer.
func ErrorFault(status int, id, message string) fakeapi.Fault {
	b, _ := json.Marshal(map[string]any{"id": id, "message": message, "detailed_error": "", "status_code": status})
	return fakeapi.Fault{Status: status, Body: string(b), Header: map[string]string{"Content-Type": "application/json"}}
}

// RateLimitFault is Mattermost's 429 (its rate limiter answers in plain
// text), telling the client to wait retryAfter.
func RateLimitFault(retryAfter time.Duration) fakeapi.Fault {
	secs := fmt.Sprint(int(retryAfter.Seconds()))
	return fakeapi.Fault{Status: http.StatusTooManyRequests, Body: "limit exceeded\n", Header: map[string]string{
		"Content-Type": "text/plain; charset=utf-8", "Retry-After": secs, "X-Ratelimit-Reset": secs,
		"X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "0",
	}}
}

// ClickButton does what Mattermost does when userID clicks the button with
// buttonID on the post: it POSTs the button's Context to the button's URL.
// When the answer carries {"update":{"message":...}}, the post's text
// changes as in Mattermost. The answer's body is left readable.
func (f *Fake) ClickButton(ctx context.Context, postID, buttonID, userID string) (*http.Response, error) {
	f.mu.Lock()
	var (
		clicked PostedMessage
		button  *Button
	)
	for _, m := range f.posts.All() {
		if m.ID != postID {
			continue
		}
		clicked = m
		for i := range m.Buttons {
			if m.Buttons[i].ID == buttonID {
				button = &m.Buttons[i]
			}
		}
	}
	var channelName, teamID string
	if ch := f.channels[clicked.ChannelID]; ch != nil {
		channelName, teamID = ch.Name, ch.TeamID
	}
	f.seq++
	trigger := fmt.Sprintf("fake%022d", f.seq)
	f.mu.Unlock()
	if button == nil {
		return nil, fmt.Errorf("click mattermost button: no button %q on post %q", buttonID, postID)
	}

	body, err := json.Marshal(actionRequest{
		UserID: userID, UserName: userID, ChannelID: clicked.ChannelID, ChannelName: channelName,
		TeamID: teamID, TeamDomain: "sitrep", PostID: postID, TriggerID: trigger, Context: button.Context,
	})
	if err != nil {
		return nil, fmt.Errorf("click mattermost button: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, button.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("click mattermost button: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	hc := f.httpClient()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("click mattermost button: %w", err)
	}
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("click mattermost button: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	var upd struct {
		Update *struct {
			Message string `json:"message"`
		} `json:"update"`
	}
	if resp.StatusCode == http.StatusOK && json.Unmarshal(answer, &upd) == nil && upd.Update != nil {
		f.mu.Lock()
		f.posts.Update(func(ps []PostedMessage) {
			for i := range ps {
				if ps[i].ID == postID {
					ps[i].Text, ps[i].Buttons = upd.Update.Message, nil
					f.show(ps[i])
				}
			}
		})
		f.mu.Unlock()
	}
	return resp, nil
}

// Room is a channel as a person in the team sees it: its members and the
// posts in it, each as last edited.
type Room struct {
	ID       string
	Name     string
	Archived bool
	Members  []string // user IDs, sorted; the bot is one
	Messages []PostedMessage
}

// Rooms returns the team's channels, oldest first.
func (f *Fake) Rooms() []Room {
	posts := f.posts.All()
	f.mu.Lock()
	defer f.mu.Unlock()
	var chans []*fakeChannel
	for _, ch := range f.channels {
		if ch.Type != "D" {
			chans = append(chans, ch)
		}
	}
	slices.SortFunc(chans, func(a, b *fakeChannel) int { return strings.Compare(a.ID, b.ID) }) // IDs count up
	var out []Room
	for _, ch := range chans {
		r := Room{ID: ch.ID, Name: ch.Name, Archived: ch.DeleteAt != 0}
		for u := range ch.members {
			r.Members = append(r.Members, u)
		}
		slices.Sort(r.Members)
		for _, p := range posts {
			if p.ChannelID == ch.ID {
				r.Messages = append(r.Messages, p)
			}
		}
		out = append(out, r)
	}
	return out
}

// SlashCommand is a slash command a person typed in a channel.
type SlashCommand struct {
	User    string // who typed it
	Channel string // where
	Command string // "/sitrep"
	Text    string // what followed it
}

// Reply is a slash command's late answer, posted to its response_url.
type Reply struct {
	Channel string
	User    string
	Text    string
}

// SendSlashCommand sends targetURL the slash command Mattermost sends when
// c.User types c.Command c.Text in c.Channel, with the command's token (in
// the form, as Mattermost sends it). Its response_url is served at
// baseURL, the fake's address, where a late answer is kept as a Reply.
func (f *Fake) SendSlashCommand(ctx context.Context, targetURL, baseURL, token string, c SlashCommand) (*http.Response, error) {
	f.mu.Lock()
	f.seq++
	id := fmt.Sprintf("cmd%023d", f.seq)
	f.commands[id] = c
	name := ""
	if ch := f.channels[c.Channel]; ch != nil {
		name = ch.Name
	}
	f.mu.Unlock()
	form := url.Values{
		"channel_id": {c.Channel}, "channel_name": {name}, "command": {c.Command}, "team_domain": {FakeTeamName},
		"team_id": {f.opts.TeamID}, "text": {c.Text}, "trigger_id": {"trigger" + id}, "user_id": {c.User}, "user_name": {c.User},
		"response_url": {strings.TrimRight(baseURL, "/") + "/hooks/commands/" + id}, "token": {token},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, targetURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("send slash command: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	hc := f.httpClient()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("send slash command: %w", err)
	}
	return resp, nil
}

// commandReply serves a slash command's response_url.
func (f *Fake) commandReply(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text string `json:"text"`
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.commands[r.PathValue("command")]
	if !ok || json.NewDecoder(r.Body).Decode(&body) != nil {
		writeError(w, http.StatusNotFound, "web.incoming_webhook.invalid.app_error", "Invalid webhook.")
		return
	}
	f.replies = append(f.replies, Reply{Channel: c.Channel, User: c.User, Text: body.Text})
	f.opts.Inbox.Add(inbox.Message{Channel: "chat", Provider: provider, To: c.User, From: FakeBotUserID, Text: body.Text})
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok")
}

// Replies returns the slash commands' late answers, oldest first.
func (f *Fake) Replies() []Reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.replies)
}

// httpClient sends what the fake sends to the app: clicks and commands.
func (f *Fake) httpClient() *http.Client {
	if f.opts.HTTPClient != nil {
		return f.opts.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}
