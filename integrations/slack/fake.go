package slack

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

// FakeBotToken is the bot token a Fake accepts when FakeOptions.BotToken is empty.
const FakeBotToken integrations.Secret = "xoxb-sitrep-fake"

// FakeBotUserID is the fake bot's own user ID.
const FakeBotUserID = "U0SITREPBOT"

const fakeTeamID = "T0SITREP"

// FakeOptions configures a Fake.
type FakeOptions struct {
	Reporter fakeapi.Reporter    // told of unexpected requests; nil in the sandbox
	Inbox    *inbox.Inbox        // where posted messages are shown; may be nil
	BotToken integrations.Secret // the token it accepts; FakeBotToken when empty
	// Users are the user IDs that exist; when empty, every U… or W… ID does.
	Users []string
	// URL is where the fake is served, for the response_url of clicks;
	// https://hooks.slack.com when empty.
	URL string
	// HTTPClient sends ClickButton's requests; a client with a 10s timeout when nil.
	HTTPClient *http.Client
}

// Fake speaks the Slack Web API methods Client uses (chat.postMessage,
// chat.update, conversations.open, .create, .list and .invite) under /api/, checks the
// bearer or form token, answers errors as HTTP 200 ok:false, and serves the
// response_url of the clicks it sends.
type Fake struct {
	// Faults injects failures before the fake sees a request.
	Faults fakeapi.Faults

	opts FakeOptions

	mu       sync.Mutex
	seq      int
	channels map[string]*fakeChannel // by ID
	order    []string                // channel IDs, oldest first
	ims      map[string]string       // user ID → direct-message channel ID
	messages fakeapi.Log[PostedMessage]
	clicks   map[string]PostedMessage // response_url id → the message clicked
	commands map[string]SlashCommand  // response_url id → the command typed
	replies  []Reply
}

type fakeChannel struct {
	id, name              string
	private, im, archived bool
	user                  string // the other side of a direct message
	members               map[string]bool
	created               int64
}

// PostedMessage is a message the fake accepted.
type PostedMessage struct {
	Channel  string // channel ID
	User     string // for a direct message, the user it went to
	TS       string
	Text     string
	Incident string // from the message metadata
	Buttons  []Button
	Edited   int // how many times chat.update changed it
}

// Reply is what the app posted to a click's response_url.
type Reply struct {
	Channel         string
	TS              string // the message clicked
	Text            string
	ReplaceOriginal bool
}

// NewFake returns a fake workspace with no channels.
func NewFake(opts FakeOptions) *Fake {
	if opts.BotToken == "" {
		opts.BotToken = FakeBotToken
	}
	return &Fake{
		opts: opts, channels: map[string]*fakeChannel{}, ims: map[string]string{},
		clicks: map[string]PostedMessage{}, commands: map[string]SlashCommand{},
	}
}

// Register mounts the fake on mux under Slack's real paths.
func (f *Fake) Register(mux *http.ServeMux) {
	methods := map[string]func(url.Values) any{
		"chat.postMessage":     f.postMessage,
		"chat.update":          f.update,
		"conversations.open":   f.open,
		"conversations.create": f.create,
		"conversations.list":   f.list,
		"conversations.invite": f.invite,
	}
	for name, h := range methods {
		mux.Handle("POST /api/"+name, f.wrap(f.method(h)))
	}
	mux.Handle("GET /api/conversations.list", f.wrap(f.method(f.list)))
	mux.Handle("POST /actions/{team}/{click}/{token}", f.wrap(http.HandlerFunc(f.respond)))
	mux.Handle("POST /commands/{team}/{command}/{token}", f.wrap(http.HandlerFunc(f.commandReply)))
	unexpected := fakeapi.Unexpected(f.opts.Reporter, provider)
	mux.Handle("/api/", unexpected)
	mux.Handle("/actions/", unexpected)
	mux.Handle("/commands/", unexpected)
}

// wrap reads the body before faults apply: the server notices a client that
// hangs up only once the body is read, so a Hang fault ends with the client.
func (f *Fake) wrap(h http.Handler) http.Handler {
	faulty := f.Faults.Wrap(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		faulty.ServeHTTP(w, r)
	})
}

// apiError is an ok:false answer.
type apiError string

// method turns h into a Web API method: it reads the arguments as slack-go
// sends them (form, query or JSON), checks the token, and answers HTTP 200
// with h's result, or ok:false when h returns an apiError.
func (f *Fake) method(h func(url.Values) any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		args, err := arguments(r)
		if err != nil {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_form_data"})
			return
		}
		token := args.Get("token")
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			token = bearer
		}
		switch {
		case token == "":
			writeJSON(w, map[string]any{"ok": false, "error": "not_authed"})
			return
		case token != f.opts.BotToken.Reveal():
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		res := h(args)
		if code, ok := res.(apiError); ok {
			res = map[string]any{"ok": false, "error": string(code)}
		}
		writeJSON(w, res)
	})
}

func arguments(r *http.Request) (url.Values, error) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		err := r.ParseForm()
		return r.Form, err
	}
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		return nil, err
	}
	args := url.Values{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			args.Set(k, s)
			continue
		}
		b, _ := json.Marshal(v)
		args.Set(k, string(b))
	}
	return args, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *Fake) userExists(id string) bool {
	if id == FakeBotUserID {
		return true
	}
	if len(f.opts.Users) == 0 {
		return isUserID(id)
	}
	return slices.Contains(f.opts.Users, id)
}

// imLocked returns the direct-message channel with user, opening it if needed.
func (f *Fake) imLocked(user string) (ch *fakeChannel, existed bool) {
	if id, ok := f.ims[user]; ok {
		return f.channels[id], true
	}
	f.seq++
	ch = &fakeChannel{id: fmt.Sprintf("D%08d", f.seq), im: true, user: user,
		members: map[string]bool{FakeBotUserID: true, user: true}, created: time.Now().Unix()}
	f.channels[ch.id] = ch
	f.ims[user] = ch.id
	return ch, false
}

func (f *Fake) postMessage(args url.Values) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	text, rawBlocks := args.Get("text"), args.Get("blocks")
	switch {
	case text == "" && rawBlocks == "" && args.Get("attachments") == "":
		return apiError("no_text")
	case len(text) > 40000:
		return apiError("msg_too_long")
	}
	var blocks []block
	if rawBlocks != "" && json.Unmarshal([]byte(rawBlocks), &blocks) != nil {
		return apiError("invalid_blocks")
	}
	id := args.Get("channel")
	var ch *fakeChannel
	if isUserID(id) {
		if !f.userExists(id) {
			return apiError("channel_not_found")
		}
		ch, _ = f.imLocked(id)
	} else if ch = f.channels[id]; ch == nil {
		return apiError("channel_not_found")
	}
	switch {
	case ch.archived:
		return apiError("is_archived")
	case !ch.members[FakeBotUserID]:
		return apiError("not_in_channel")
	}
	var meta struct {
		EventPayload map[string]any `json:"event_payload"`
	}
	_ = json.Unmarshal([]byte(args.Get("metadata")), &meta)
	incident, _ := meta.EventPayload[metadataIncidentKey].(string)

	f.seq++
	m := PostedMessage{Channel: ch.id, User: ch.user, TS: fmt.Sprintf("%d.%06d", time.Now().Unix(), f.seq), Text: text, Incident: incident,
		Buttons: buttonsOf(blocks)}
	f.recordLocked(m)
	return map[string]any{"ok": true, "channel": ch.id, "ts": m.TS, "message": map[string]any{
		"type": "message", "user": FakeBotUserID, "bot_id": "B0SITREP", "text": text, "ts": m.TS,
	}}
}

// update serves chat.update: the bot edits one of its own messages, which
// keeps its timestamp. Slack answers with the channel, ts and new text.
func (f *Fake) update(args url.Values) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	text, rawBlocks := args.Get("text"), args.Get("blocks")
	switch {
	case text == "" && rawBlocks == "" && args.Get("attachments") == "":
		return apiError("no_text")
	case len(text) > 40000:
		return apiError("msg_too_long")
	}
	var blocks []block
	if rawBlocks != "" && json.Unmarshal([]byte(rawBlocks), &blocks) != nil {
		return apiError("invalid_blocks")
	}
	ch := f.channels[args.Get("channel")]
	switch {
	case ch == nil:
		return apiError("channel_not_found")
	case ch.archived:
		return apiError("is_archived")
	}
	ts := args.Get("ts")
	found := false
	f.messages.Update(func(ms []PostedMessage) {
		for i := range ms {
			if ms[i].Channel == ch.id && ms[i].TS == ts {
				found = true
				ms[i].Text, ms[i].Buttons, ms[i].Edited = text, buttonsOf(blocks), ms[i].Edited+1
			}
		}
	})
	if !found {
		// Only the bot's own messages are in the log: anyone else's is
		// cant_update_message in Slack; an unknown ts is message_not_found.
		return apiError("message_not_found")
	}
	return map[string]any{"ok": true, "channel": ch.id, "ts": ts, "text": text, "message": map[string]any{
		"type": "message", "user": FakeBotUserID, "bot_id": "B0SITREP", "text": text, "ts": ts,
		"edited": map[string]any{"user": FakeBotUserID, "ts": fmt.Sprintf("%d.000000", time.Now().Unix())},
	}}
}

func buttonsOf(blocks []block) []Button {
	var out []Button
	for _, b := range blocks {
		for _, e := range b.Elements {
			if b.Type == "actions" && e.Type == "button" {
				out = append(out, Button{ActionID: e.ActionID, Text: e.Text.Text, Value: e.Value, Style: e.Style})
			}
		}
	}
	return out
}

// block is the part of a Block Kit block the fake reads.
type block struct {
	Type     string `json:"type"`
	Elements []struct {
		Type     string `json:"type"`
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
		Style    string `json:"style"`
		Text     struct {
			Text string `json:"text"`
		} `json:"text"`
	} `json:"elements"`
}

func (f *Fake) recordLocked(m PostedMessage) {
	to := m.Channel
	if m.User != "" {
		to = m.User
	}
	msg := inbox.Message{Channel: "chat", Provider: provider, To: to, From: FakeBotUserID, Text: m.Text, Incident: m.Incident, ProviderID: m.TS}
	for _, b := range m.Buttons {
		msg.Links = append(msg.Links, inbox.Link{Label: b.Text, URL: "slack-action:" + b.ActionID + ":" + b.Value})
	}
	f.opts.Inbox.Add(msg)
	f.messages.Add(m)
}

func (f *Fake) open(args url.Values) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	users := strings.Split(args.Get("users"), ",")
	switch {
	case args.Get("users") == "":
		return apiError("users_list_not_supplied")
	case len(users) > 1:
		// Group direct messages: sitrep never opens one.
		if f.opts.Reporter != nil {
			f.opts.Reporter.Errorf("slack fake: conversations.open with %d users is not supported", len(users))
		}
		return apiError("not_supported_by_fake")
	case !f.userExists(users[0]) || users[0] == FakeBotUserID:
		return apiError("user_not_found")
	}
	ch, existed := f.imLocked(users[0])
	return map[string]any{"ok": true, "no_op": existed, "already_open": existed, "channel": map[string]any{"id": ch.id}}
}

func (f *Fake) create(args url.Values) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := args.Get("name")
	if code := validName(name); code != "" {
		return apiError(code)
	}
	for _, ch := range f.channels {
		if ch.name == name {
			return apiError("name_taken")
		}
	}
	ch := f.addChannelLocked(name, args.Get("is_private") == "true", FakeBotUserID)
	return map[string]any{"ok": true, "channel": channelJSON(ch)}
}

func validName(name string) string {
	switch {
	case name == "":
		return "invalid_name_required"
	case len(name) > 80:
		return "invalid_name_maxlength"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "invalid_name_specials"
		}
	}
	return ""
}

func (f *Fake) addChannelLocked(name string, private bool, members ...string) *fakeChannel {
	f.seq++
	ch := &fakeChannel{id: fmt.Sprintf("C%08d", f.seq), name: name, private: private, members: map[string]bool{}, created: time.Now().Unix()}
	for _, m := range members {
		ch.members[m] = true
	}
	f.channels[ch.id] = ch
	f.order = append(f.order, ch.id)
	return ch
}

func channelJSON(ch *fakeChannel) map[string]any {
	return map[string]any{
		"id": ch.id, "name": ch.name, "name_normalized": ch.name, "is_channel": !ch.im && !ch.private, "is_group": false,
		"is_im": ch.im, "is_private": ch.private, "is_archived": ch.archived, "created": ch.created,
		"creator": FakeBotUserID, "is_member": ch.members[FakeBotUserID], "num_members": len(ch.members),
	}
}

func (f *Fake) list(args url.Values) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	types := map[string]bool{}
	for _, t := range strings.Split(args.Get("types"), ",") {
		types[t] = true
	}
	if args.Get("types") == "" {
		types["public_channel"] = true
	}
	limit := 100
	if n, err := strconv.Atoi(args.Get("limit")); err == nil && n > 0 {
		limit = min(n, 1000)
	}
	offset := 0
	if c := args.Get("cursor"); c != "" {
		b, _ := base64.StdEncoding.DecodeString(c)
		n, ok := strings.CutPrefix(string(b), "offset:")
		var err error
		if offset, err = strconv.Atoi(n); err != nil || !ok || offset < 0 {
			return apiError("invalid_cursor")
		}
	}
	var visible []map[string]any
	for _, id := range f.order {
		ch := f.channels[id]
		switch {
		case ch.archived && args.Get("exclude_archived") == "true",
			ch.private && (!types["private_channel"] || !ch.members[FakeBotUserID]),
			!ch.private && !types["public_channel"]:
			continue
		}
		visible = append(visible, channelJSON(ch))
	}
	page := visible[min(offset, len(visible)):min(offset+limit, len(visible))]
	next := ""
	if offset+limit < len(visible) {
		next = base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset+limit)))
	}
	return map[string]any{"ok": true, "channels": page, "response_metadata": map[string]any{"next_cursor": next}}
}

// invite adds users to a channel. With several users and some failing, it
// invites nobody unless force is set (unverified against Slack), and lists
// each failure in "errors".
func (f *Fake) invite(args url.Values) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.channels[args.Get("channel")]
	switch {
	case ch == nil:
		return apiError("channel_not_found")
	case ch.im:
		return apiError("method_not_supported_for_channel_type")
	case ch.archived:
		return apiError("is_archived")
	case !ch.members[FakeBotUserID]:
		return apiError("not_in_channel")
	case args.Get("users") == "":
		return apiError("no_user")
	}
	type failure struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
		User  string `json:"user"`
	}
	var valid []string
	var failures []failure
	for _, u := range strings.Split(args.Get("users"), ",") {
		code := ""
		switch {
		case u == FakeBotUserID:
			code = "cant_invite_self"
		case !f.userExists(u):
			code = "user_not_found"
		case ch.members[u]:
			code = "already_in_channel"
		default:
			valid = append(valid, u)
			continue
		}
		failures = append(failures, failure{Error: code, User: u})
	}
	if len(failures) == 0 || args.Get("force") == "true" {
		for _, u := range valid {
			ch.members[u] = true
		}
	}
	switch {
	case len(failures) == 0:
		return map[string]any{"ok": true, "channel": channelJSON(ch)}
	case len(failures) == 1 && len(valid) == 0:
		return apiError(failures[0].Error)
	}
	return map[string]any{"ok": false, "error": failures[0].Error, "errors": failures}
}

// respond serves a click's response_url: the app's reply to the click.
func (f *Fake) respond(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text            string `json:"text"`
		ReplaceOriginal bool   `json:"replace_original"`
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.clicks[r.PathValue("click")]
	if !ok || json.NewDecoder(r.Body).Decode(&body) != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"ok":false,"error":"no_active_hooks"}`)
		return
	}
	f.replies = append(f.replies, Reply{Channel: m.Channel, TS: m.TS, Text: body.Text, ReplaceOriginal: body.ReplaceOriginal})
	to := m.Channel
	if m.User != "" {
		to = m.User
	}
	f.opts.Inbox.Add(inbox.Message{Channel: "chat", Provider: provider, To: to, From: FakeBotUserID, Text: body.Text, Incident: m.Incident})
	if body.ReplaceOriginal {
		f.messages.Update(func(ms []PostedMessage) {
			for i := range ms {
				if ms[i].TS == m.TS {
					ms[i].Text, ms[i].Buttons = body.Text, nil
				}
			}
		})
	}
	writeJSON(w, map[string]any{"ok": true})
}

// AddChannel adds a channel that someone else made, with these members (the
// bot is one only if listed, as FakeBotUserID), and returns its ID.
func (f *Fake) AddChannel(name string, private bool, members ...string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addChannelLocked(name, private, members...).id
}

// ArchiveChannel archives the channel.
func (f *Fake) ArchiveChannel(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ch := f.channels[id]; ch != nil {
		ch.archived = true
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

// ChannelName returns the name of the channel with ID id; false for none
// or a direct message.
func (f *Fake) ChannelName(id string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.channels[id]
	if ch == nil || ch.im {
		return "", false
	}
	return ch.name, true
}

// ChannelID returns the ID of the channel named name.
func (f *Fake) ChannelID(name string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range f.order {
		if f.channels[id].name == name {
			return id, true
		}
	}
	return "", false
}

// Received returns the messages posted, oldest first.
func (f *Fake) Received() []PostedMessage { return f.messages.All() }

// Replies returns what was posted to response_urls, oldest first.
func (f *Fake) Replies() []Reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.replies)
}

// WaitFor returns the first posted message that pred accepts, waiting for
// it until ctx is done.
func (f *Fake) WaitFor(ctx context.Context, pred func(PostedMessage) bool) (PostedMessage, error) {
	return f.messages.WaitFor(ctx, pred)
}

// ExpectMessage waits up to 5 seconds for a message to channelOrUserID (a
// channel ID, or the user of a direct message) whose text contains substring,
// and fails t if none comes.
func (f *Fake) ExpectMessage(t testing.TB, channelOrUserID, substring string) PostedMessage {
	t.Helper()
	return f.messages.Expect(t, fmt.Sprintf("slack fake: no message to %q containing %q", channelOrUserID, substring), func(m PostedMessage) bool {
		return (m.Channel == channelOrUserID || m.User == channelOrUserID) && strings.Contains(m.Text, substring)
	})
}

// ErrorFault is Slack's HTTP 200 ok:false answer with this error code.
func ErrorFault(code string) fakeapi.Fault {
	return fakeapi.Fault{Status: http.StatusOK, Body: `{"ok":false,"error":"` + code + `"}`,
		Header: map[string]string{"Content-Type": "application/json; charset=utf-8"}}
}

// RateLimitFault is Slack's HTTP 429 with Retry-After in seconds.
func RateLimitFault(retryAfter time.Duration) fakeapi.Fault {
	return fakeapi.Fault{Status: http.StatusTooManyRequests, Body: `{"ok":false,"error":"ratelimited"}`,
		Header: map[string]string{"Content-Type": "application/json; charset=utf-8", "Retry-After": strconv.Itoa(int(retryAfter.Seconds()))}}
}

// ServerErrorFault is a 5xx with the HTML body Slack sends with them.
func ServerErrorFault(status int) fakeapi.Fault {
	return fakeapi.Fault{Status: status, Body: "<html><body>Slack is having trouble</body></html>",
		Header: map[string]string{"Content-Type": "text/html"}}
}

// ClickButton sends targetURL the block_actions interaction Slack sends when
// userID clicks the button with actionID and value, signed with
// signingSecret at the current time. The button's latest message gives the
// channel and message timestamp; its response_url leads back to the fake.
func (f *Fake) ClickButton(ctx context.Context, targetURL string, signingSecret integrations.Secret, userID, actionID, value string) (*http.Response, error) {
	f.mu.Lock()
	var clicked PostedMessage
	for _, m := range f.messages.All() {
		for _, b := range m.Buttons {
			if b.ActionID == actionID && b.Value == value {
				clicked = m
			}
		}
	}
	f.seq++
	n := f.seq
	click := fmt.Sprintf("%08d", n)
	f.clicks[click] = clicked
	f.mu.Unlock()

	payload := map[string]any{
		"type":         "block_actions",
		"user":         map[string]any{"id": userID, "username": userID, "team_id": fakeTeamID},
		"api_app_id":   "A0SITREP",
		"team":         map[string]any{"id": fakeTeamID, "domain": "sitrep"},
		"container":    map[string]any{"type": "message", "message_ts": clicked.TS, "channel_id": clicked.Channel, "is_ephemeral": false},
		"channel":      map[string]any{"id": clicked.Channel},
		"trigger_id":   "1000." + click,
		"response_url": f.hooksURL() + "/actions/" + fakeTeamID + "/" + click + "/fake",
		"message":      map[string]any{"type": "message", "ts": clicked.TS, "text": clicked.Text, "user": FakeBotUserID},
		"actions": []map[string]any{{
			"type": "button", "action_id": actionID, "block_id": actionsBlockID, "value": value,
			"action_ts": fmt.Sprintf("%d.%06d", time.Now().Unix(), n),
		}},
	}
	js, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("click slack button: %w", err)
	}
	resp, err := f.sendSigned(ctx, targetURL, signingSecret, url.Values{"payload": {string(js)}})
	if err != nil {
		return nil, fmt.Errorf("click slack button: %w", err)
	}
	return resp, nil
}

// sendSigned posts form to targetURL as Slack posts to an app, signed with
// signingSecret at the current time.
func (f *Fake) sendSigned(ctx context.Context, targetURL string, signingSecret integrations.Secret, form url.Values) (*http.Response, error) {
	body := []byte(form.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, targetURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", Sign(signingSecret, ts, body))
	hc := f.opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return hc.Do(req)
}

// hooksURL is where the fake's response_urls point.
func (f *Fake) hooksURL() string {
	if base := strings.TrimRight(f.opts.URL, "/"); base != "" {
		return base
	}
	return "https://hooks.slack.com"
}

// Room is a channel as a person in the workspace sees it: its members and
// the messages in it, each as last edited.
type Room struct {
	ID       string
	Name     string
	Private  bool
	Archived bool
	Members  []string // user IDs, sorted; the bot is one
	Messages []PostedMessage
}

// Rooms returns the channels other than direct messages, oldest first.
func (f *Fake) Rooms() []Room {
	msgs := f.messages.All()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Room
	for _, id := range f.order {
		ch := f.channels[id]
		r := Room{ID: ch.id, Name: ch.name, Private: ch.private, Archived: ch.archived}
		for u := range ch.members {
			r.Members = append(r.Members, u)
		}
		slices.Sort(r.Members)
		for _, m := range msgs {
			if m.Channel == ch.id {
				r.Messages = append(r.Messages, m)
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

// SendSlashCommand sends targetURL the slash command Slack sends when
// c.User types c.Command c.Text in c.Channel, signed with signingSecret at
// the current time. Its response_url leads back to the fake, where a late
// answer is kept as a Reply.
func (f *Fake) SendSlashCommand(ctx context.Context, targetURL string, signingSecret integrations.Secret, c SlashCommand) (*http.Response, error) {
	f.mu.Lock()
	f.seq++
	id := fmt.Sprintf("%08d", f.seq)
	f.commands[id] = c
	name := ""
	if ch := f.channels[c.Channel]; ch != nil {
		name = ch.name
	}
	f.mu.Unlock()
	resp, err := f.sendSigned(ctx, targetURL, signingSecret, url.Values{
		"token": {"sandboxverificationtoken"}, "team_id": {fakeTeamID}, "team_domain": {"sitrep"},
		"channel_id": {c.Channel}, "channel_name": {name}, "user_id": {c.User}, "user_name": {c.User},
		"command": {c.Command}, "text": {c.Text}, "api_app_id": {"A0SITREP"}, "is_enterprise_install": {"false"},
		"response_url": {f.hooksURL() + "/commands/" + fakeTeamID + "/" + id + "/fake"}, "trigger_id": {"2000." + id},
	})
	if err != nil {
		return nil, fmt.Errorf("send slash command: %w", err)
	}
	return resp, nil
}

// commandReply serves a slash command's response_url: the app's late
// answer, shown to the person who typed the command.
func (f *Fake) commandReply(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text         string `json:"text"`
		ResponseType string `json:"response_type"`
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.commands[r.PathValue("command")]
	if !ok || json.NewDecoder(r.Body).Decode(&body) != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"ok":false,"error":"no_active_hooks"}`)
		return
	}
	f.replies = append(f.replies, Reply{Channel: c.Channel, Text: body.Text})
	f.opts.Inbox.Add(inbox.Message{Channel: "chat", Provider: provider, To: c.User, From: FakeBotUserID, Text: body.Text})
	writeJSON(w, map[string]any{"ok": true})
}
