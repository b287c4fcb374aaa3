package sandbox

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
	"github.com/sitrep-dev/sitrep/integrations/jira"
	"github.com/sitrep-dev/sitrep/integrations/mattermost"
	"github.com/sitrep-dev/sitrep/integrations/pagerduty"
	"github.com/sitrep-dev/sitrep/integrations/sendgrid"
	"github.com/sitrep-dev/sitrep/integrations/slack"
	"github.com/sitrep-dev/sitrep/integrations/statuspage"
	"github.com/sitrep-dev/sitrep/integrations/teams"
	"github.com/sitrep-dev/sitrep/integrations/twilio"
	"github.com/sitrep-dev/sitrep/integrations/video"
)

// Options configures a Sandbox.
type Options struct {
	// IntakeURL is where replies, keypresses, button clicks and PagerDuty
	// webhooks go, e.g. http://localhost:8080; empty when no intake runs.
	IntakeURL string
	// Who names the person behind an address, for the per-person view.
	Who func(channel, address string) string
	// IncidentOf finds an incident ID in a message's text.
	IncidentOf func(text string) string
	// IncidentsOf finds every incident ID in a message's text, subject,
	// links and provider ID (a bundle names several), so that a message
	// lists under each incident it names; nil: only IncidentOf's.
	IncidentsOf func(text string) []string
}

// The credentials the sandbox's fakes accept; Env hands them to the worker.
// They are not secrets: nothing real is behind them.
const (
	slackSigningSecret = "sandbox-signing-secret"
	pagerdutySecret    = "sandbox-pagerduty-webhook-secret"
	fromEmail          = "sitrep@example.com"
	jiraToken          = "sandbox-jira-token"
	statuspageKey      = "sandbox-statuspage-key"
	zoomAccount        = "sandbox-zoom-account"
	zoomClient         = "sandbox-zoom-client"
	zoomSecret         = "sandbox-zoom-secret"
)

// StatuspagePageID is the sandbox status page's page ID.
const StatuspagePageID = "sandboxpage"

// providerPrefixes start every provider's environment variables.
var providerPrefixes = []string{"TWILIO_", "SENDGRID_", "SMTP_", "SLACK_", "PAGERDUTY_", "MATTERMOST_", "TEAMS_",
	"STATUSPAGE_", "JIRA_", "ZOOM_", "VIDEO_"}

// Sandbox is every provider's fake on one mux, with an inbox page.
type Sandbox struct {
	Inbox      *inbox.Inbox
	Twilio     *twilio.Fake
	SendGrid   *sendgrid.Fake
	Slack      *slack.Fake
	PagerDuty  *pagerduty.Fake
	Mattermost *mattermost.Fake
	Teams      *teams.Fake
	Statuspage *statuspage.Fake
	Jira       *jira.Fake
	Zoom       *video.Fake

	opts Options
	mux  *http.ServeMux
	page *template.Template
	http *http.Client
}

//go:embed page.html
var pageHTML string

// New builds the sandbox.
func New(o Options) *Sandbox {
	box := inbox.New()
	if o.Who != nil {
		box.NameBy(o.Who)
	}
	if o.IncidentsOf != nil {
		box.FindIncidentsBy(func(m inbox.Message) []string {
			parts := []string{m.Incident, m.Subject, m.Text, m.ProviderID}
			for _, l := range m.Links {
				parts = append(parts, l.URL)
			}
			return o.IncidentsOf(strings.Join(parts, " "))
		})
	}
	s := &Sandbox{
		Inbox:      box,
		Twilio:     twilio.NewFake(twilio.FakeOptions{Inbox: box, IncidentOf: o.IncidentOf}),
		SendGrid:   sendgrid.NewFake(sendgrid.FakeOptions{Inbox: box}),
		Slack:      slack.NewFake(slack.FakeOptions{Inbox: box}),
		PagerDuty:  pagerduty.NewFake(pagerduty.FakeOptions{Inbox: box, IncidentOf: o.IncidentOf}),
		Mattermost: mattermost.NewFake(mattermost.FakeOptions{Inbox: box}),
		Teams:      teams.NewFake(teams.FakeOptions{Inbox: box}),
		Statuspage: statuspage.NewFake(statuspage.FakeOptions{Inbox: box, APIKey: statuspageKey, PageID: StatuspagePageID}),
		Jira:       jira.NewFake(jira.FakeOptions{Inbox: box}),
		Zoom:       video.NewFake(video.FakeOptions{AccountID: zoomAccount, ClientID: zoomClient, ClientSecret: zoomSecret}),
		opts:       o,
		mux:        http.NewServeMux(),
		http:       &http.Client{Timeout: 10 * time.Second},
	}
	s.page = template.Must(template.New("page").Funcs(template.FuncMap{
		"isHTTP":  func(u string) bool { return strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") },
		"actions": actionsFor,
	}).Parse(pageHTML))
	s.Twilio.Register(s.mux)
	s.SendGrid.Register(s.mux)
	s.Slack.Register(s.mux)
	s.PagerDuty.Register(s.mux)
	s.Mattermost.Register(s.mux)
	s.Teams.Register(s.mux)
	s.Statuspage.Register(s.mux)
	s.Jira.Register(s.mux)
	s.Zoom.Register(s.mux)
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /api/messages", s.messages)
	s.mux.HandleFunc("GET /api/comms", s.commsJSON)
	s.mux.HandleFunc("GET /app_redirect", s.roomRedirect)
	s.mux.HandleFunc("GET /"+mattermost.FakeTeamName+"/channels/{name}", s.roomRedirect)
	s.mux.HandleFunc("POST /sandbox/act", s.act)
	s.mux.HandleFunc("POST /sandbox/slash", s.slash)
	return s
}

// Handler serves the fakes' APIs, the inbox page and its JSON API.
func (s *Sandbox) Handler() http.Handler { return s.mux }

// Env returns the environment a worker needs to send through this sandbox
// served at baseURL; other variables come from fallback.
func (s *Sandbox) Env(baseURL string, fallback func(string) string) func(string) string {
	vars := map[string]string{
		"TWILIO_ACCOUNT_SID":       twilio.FakeAccountSID,
		"TWILIO_AUTH_TOKEN":        twilio.FakeAuthToken,
		"TWILIO_FROM":              twilio.FakeNumber,
		"TWILIO_BASE_URL":          baseURL,
		"SENDGRID_API_KEY":         string(sendgrid.FakeAPIKey),
		"SENDGRID_FROM":            fromEmail,
		"SENDGRID_BASE_URL":        baseURL,
		"SLACK_BOT_TOKEN":          slack.FakeBotToken.Reveal(),
		"SLACK_SIGNING_SECRET":     slackSigningSecret,
		"SLACK_BASE_URL":           baseURL,
		"PAGERDUTY_EVENTS_URL":     baseURL,
		"PAGERDUTY_WEBHOOK_SECRET": pagerdutySecret,
		"STATUSPAGE_API_KEY":       statuspageKey,
		"STATUSPAGE_PAGE_ID":       StatuspagePageID,
		"STATUSPAGE_BASE_URL":      baseURL,
		"ZOOM_ACCOUNT_ID":          zoomAccount,
		"ZOOM_CLIENT_ID":           zoomClient,
		"ZOOM_CLIENT_SECRET":       zoomSecret,
		"ZOOM_BASE_URL":            baseURL,
		"ZOOM_TOKEN_URL":           baseURL + "/oauth/token",
		"JIRA_BASE_URL":            baseURL,
		"JIRA_EMAIL":               fromEmail,
		"JIRA_API_TOKEN":           jiraToken,
		"JIRA_PROJECT":             "OPS",
	}
	return func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		if fallback == nil {
			return ""
		}
		for _, p := range providerPrefixes {
			if strings.HasPrefix(k, p) {
				return "" // the sandbox's providers only: never a real one by accident
			}
		}
		return fallback(k)
	}
}

func filterOf(q url.Values) inbox.Filter {
	return inbox.Filter{Incident: q.Get("incident"), To: q.Get("to"), Person: q.Get("person"), Channel: q.Get("channel")}
}

// list is the inbox's messages to people: a war room's messages are the
// room's, shown with it (Comms), as last edited. Asked for one incident's,
// it lists its room's messages too: everything that incident sent.
func (s *Sandbox) list(f inbox.Filter) []inbox.Message {
	if f.Incident != "" {
		return s.Inbox.List(f)
	}
	rooms := map[string]bool{}
	for _, r := range s.Slack.Rooms() {
		rooms[r.ID] = true
	}
	for _, r := range s.Mattermost.Rooms() {
		rooms[r.ID] = true
	}
	return slices.DeleteFunc(s.Inbox.List(f), func(m inbox.Message) bool { return m.Channel == "chat" && rooms[m.To] })
}

func (s *Sandbox) messages(w http.ResponseWriter, r *http.Request) {
	msgs := s.list(filterOf(r.URL.Query()))
	if msgs == nil {
		msgs = []inbox.Message{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(msgs) // the client went away: nothing to do
}

func (s *Sandbox) index(w http.ResponseWriter, r *http.Request) {
	f := filterOf(r.URL.Query())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err := s.page.Execute(w, map[string]any{
		"Messages": s.list(f), "Filter": f, "Interactive": s.opts.IntakeURL != "", "Comms": s.Comms(),
		"Channels": []string{"", "sms", "voice", "email", "chat", "pagerduty", "statuspage", "tracker"},
		"Notice":   r.URL.Query().Get("notice"),
	})
	if err != nil {
		http.Error(w, "render inbox: "+err.Error(), http.StatusInternalServerError)
	}
}

// action is something a person can do with a message, as they would on their device.
type action struct{ Do, Label string }

func actionsFor(m inbox.Message) []action {
	if m.Incident == "" {
		return nil
	}
	switch m.Channel {
	case "sms":
		return []action{{"sms:4", "reply 4 (acknowledge)"}, {"sms:5", "reply 5 (escalate)"}}
	case "voice":
		return []action{{"voice:4", "press 4 (acknowledge)"}, {"voice:5", "press 5 (escalate)"}}
	case "chat":
		// A page has buttons; a war room post names its incident but has none.
		if m.Provider == "slack" && len(m.Links) > 0 {
			return []action{{"slack:ack", "click Acknowledge"}, {"slack:escalate", "click Escalate"}}
		}
	case "pagerduty":
		return []action{{"pagerduty:incident.acknowledged", "acknowledge in PagerDuty"}, {"pagerduty:incident.resolved", "resolve in PagerDuty"}}
	}
	return nil
}

// act does what the person would: reply to an SMS, press a key on the call,
// click a chat button, acknowledge in PagerDuty, all signed as the provider
// signs them, sent to the intake.
func (s *Sandbox) act(w http.ResponseWriter, r *http.Request) {
	notice, err := s.do(r.Context(), r.FormValue("id"), r.FormValue("do"))
	if err != nil {
		notice = "failed: " + err.Error()
	}
	http.Redirect(w, r, "/?notice="+url.QueryEscape(notice), http.StatusSeeOther)
}

func (s *Sandbox) do(ctx context.Context, id, do string) (string, error) {
	if s.opts.IntakeURL == "" {
		return "", fmt.Errorf("no intake is running to receive it")
	}
	var m *inbox.Message
	for _, x := range s.Inbox.List(inbox.Filter{}) {
		if x.ID == id {
			m = &x
			break
		}
	}
	if m == nil {
		return "", fmt.Errorf("no message %q", id)
	}
	kind, arg, _ := strings.Cut(do, ":")
	var resp *http.Response
	var err error
	switch kind {
	case "sms":
		// As a person would: a bundle says "reply 4 to acknowledge all",
		// which a bare 4 does; a page alone gets its incident's code.
		body := arg + " " + m.Incident
		if strings.Contains(m.Text, "to acknowledge all") {
			body = arg
		}
		resp, err = s.Twilio.SendInboundSMS(ctx, s.opts.IntakeURL+"/v1/twilio/sms", m.To, body)
	case "voice":
		if len(m.Links) == 0 {
			return "", fmt.Errorf("the call has no keypress action")
		}
		resp, err = s.Twilio.PressDigits(ctx, m.Links[0].URL, m.ProviderID, m.To, arg)
	case "slack":
		value := m.Incident
		for _, l := range m.Links {
			if v, ok := strings.CutPrefix(l.URL, "slack-action:"+arg+":"); ok {
				value = v // the button's own value: the incident's ref
			}
		}
		resp, err = s.Slack.ClickButton(ctx, s.opts.IntakeURL+"/v1/slack/actions", integrations.Secret(slackSigningSecret), m.To, arg, value)
	case "pagerduty":
		// The webhook names the alert by its dedup key, as PagerDuty does.
		resp, err = s.PagerDuty.SendWebhook(ctx, s.opts.IntakeURL+"/v1/pagerduty/webhook", integrations.Secret(pagerdutySecret), arg, m.ProviderID, m.Person)
	default:
		return "", fmt.Errorf("unknown action %q", do)
	}
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096)) // shown to the user as is; a short read shows less
	return fmt.Sprintf("%s %s: intake answered %d %s", m.Channel, arg, resp.StatusCode, strings.TrimSpace(string(body))), nil
}

// Comms is what stakeholders and responders see beyond messages: the status
// page's incidents, the war rooms and the stakeholder emails.
type Comms struct {
	StatusPage []StatusIncident `json:"statusPage"`
	Rooms      []Room           `json:"rooms"`
	Emails     []Email          `json:"emails"`
}

// StatusIncident is a status page incident as its public page shows it.
type StatusIncident struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Status     string         `json:"status"`
	Impact     string         `json:"impact"`
	Link       string         `json:"link"`
	Incident   string         `json:"incident"` // the sitrep ref it carries
	Components []string       `json:"components"`
	Updates    []StatusUpdate `json:"updates"` // oldest first
}

// StatusUpdate is one update of a status page incident.
type StatusUpdate struct {
	At     time.Time `json:"at"`
	Status string    `json:"status"`
	Body   string    `json:"body"`
}

// Room is a war room: a Slack or Mattermost channel.
type Room struct {
	Platform string        `json:"platform"`
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Archived bool          `json:"archived,omitempty"`
	Members  []Member      `json:"members"` // people only: the bot is left out
	Bridge   string        `json:"bridge,omitempty"`
	Messages []RoomMessage `json:"messages"` // oldest first, each as last edited
}

// Member is a chat user in a room, with the catalog handle behind them.
type Member struct {
	UserID string `json:"userId"`
	Person string `json:"person,omitempty"`
}

// RoomMessage is a message in a room; Edited counts its edits.
type RoomMessage struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	Edited int    `json:"edited,omitempty"`
}

// Email is a stakeholder email: one sent to none of the catalog's people.
type Email struct {
	At      time.Time `json:"at"`
	To      []string  `json:"to"`
	Subject string    `json:"subject"`
	Text    string    `json:"text"`
}

// Comms gathers the comms view from the fakes, newest first.
func (s *Sandbox) Comms() Comms {
	out := Comms{StatusPage: []StatusIncident{}, Rooms: []Room{}, Emails: []Email{}}
	for _, inc := range slices.Backward(s.Statuspage.Incidents()) {
		si := StatusIncident{ID: inc.ID, Name: inc.Name, Status: inc.Status, Impact: inc.ImpactOverride, Link: inc.Shortlink, Incident: inc.Marker}
		for _, id := range slices.Sorted(maps.Keys(inc.Components)) {
			si.Components = append(si.Components, id+": "+strings.ReplaceAll(inc.Components[id], "_", " "))
		}
		for _, u := range inc.Updates {
			si.Updates = append(si.Updates, StatusUpdate{At: u.CreatedAt, Status: u.Status, Body: u.Body})
		}
		out.StatusPage = append(out.StatusPage, si)
	}
	var bridges []string
	for _, m := range s.Zoom.Meetings() {
		bridges = append(bridges, m.JoinURL)
	}
	var rooms []Room
	for _, r := range s.Slack.Rooms() {
		room := Room{Platform: "slack", ID: r.ID, Name: r.Name, Archived: r.Archived}
		for _, m := range r.Messages {
			room.Messages = append(room.Messages, RoomMessage{ID: m.TS, Text: slackShown.Replace(m.Text), Edited: m.Edited})
		}
		rooms = append(rooms, s.roomOf(room, r.Members, slack.FakeBotUserID, bridges))
	}
	for _, r := range s.Mattermost.Rooms() {
		room := Room{Platform: "mattermost", ID: r.ID, Name: r.Name, Archived: r.Archived}
		for _, m := range r.Messages {
			room.Messages = append(room.Messages, RoomMessage{ID: m.ID, Text: m.Text, Edited: m.Edited})
		}
		rooms = append(rooms, s.roomOf(room, r.Members, mattermost.FakeBotUserID, bridges))
	}
	slices.Reverse(rooms)
	out.Rooms = append(out.Rooms, rooms...)
	for _, m := range slices.Backward(s.SendGrid.Received()) {
		if s.stakeholders(m.To) {
			out.Emails = append(out.Emails, Email{At: m.At, To: m.To, Subject: m.Subject, Text: m.Text})
		}
	}
	return out
}

// slackShown undoes the escaping Slack asks of message text (slack.EscapeText):
// Slack shows &lt; as <.
var slackShown = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// roomOf fills in the room's people (not the bot) and its bridge: the video
// link posted in it.
func (s *Sandbox) roomOf(r Room, members []string, bot string, bridges []string) Room {
	for _, u := range members {
		if u == bot {
			continue
		}
		m := Member{UserID: u}
		if s.opts.Who != nil {
			m.Person = s.opts.Who("chat", u)
		}
		r.Members = append(r.Members, m)
	}
	for _, m := range r.Messages {
		for _, b := range bridges {
			if strings.Contains(m.Text, b) {
				r.Bridge = b
			}
		}
	}
	if r.Messages == nil {
		r.Messages = []RoomMessage{}
	}
	if r.Members == nil {
		r.Members = []Member{}
	}
	return r
}

// stakeholders reports whether an email went to no one the catalog knows:
// a stakeholder list, not a page.
func (s *Sandbox) stakeholders(to []string) bool {
	if s.opts.Who == nil {
		return true
	}
	for _, a := range to {
		if s.opts.Who("email", a) != "" {
			return false
		}
	}
	return true
}

func (s *Sandbox) commsJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.Comms()) // the client went away: nothing to do
}

// roomRedirect serves the war room links Slack's client makes
// (/app_redirect?channel=C…)
// and Mattermost's (/{team}/channels/{name}): to the room on the inbox page.
func (s *Sandbox) roomRedirect(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("channel")
	if name := r.PathValue("name"); name != "" {
		id, _ = s.Mattermost.ChannelID(name)
	}
	http.Redirect(w, r, "/#room-"+url.QueryEscape(id), http.StatusFound)
}

// slash types a slash command in a Slack war room, as the member chosen,
// and sends it, signed as Slack signs it, to the intake; the intake's
// answer, which only that person sees, comes back as the page's notice.
func (s *Sandbox) slash(w http.ResponseWriter, r *http.Request) {
	channel := r.FormValue("channel")
	notice, err := s.typeSlash(r.Context(), channel, r.FormValue("user"), r.FormValue("text"))
	if err != nil {
		notice = "failed: " + err.Error()
	}
	http.Redirect(w, r, "/?notice="+url.QueryEscape(notice)+"#room-"+url.QueryEscape(channel), http.StatusSeeOther)
}

func (s *Sandbox) typeSlash(ctx context.Context, channel, user, text string) (string, error) {
	if s.opts.IntakeURL == "" {
		return "", fmt.Errorf("no intake is running to receive it")
	}
	if _, ok := s.Slack.ChannelName(channel); !ok || !slices.Contains(s.Slack.Members(channel), user) {
		return "", fmt.Errorf("%s is not in a Slack room %s", user, channel)
	}
	resp, err := s.Slack.SendSlashCommand(ctx, s.opts.IntakeURL+"/v1/slack/commands", integrations.Secret(slackSigningSecret),
		slack.SlashCommand{User: user, Channel: channel, Command: "/sitrep", Text: text})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096)) // shown as is; a short read shows less
	var answer struct {
		Text string `json:"text"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &answer) != nil {
		return fmt.Sprintf("/sitrep %s: intake answered %d %s", text, resp.StatusCode, strings.TrimSpace(string(body))), nil
	}
	return fmt.Sprintf("/sitrep %s: %s", text, slackShown.Replace(answer.Text)), nil
}
