package sandbox_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/slack"
	"github.com/sitrep-dev/sitrep/sandbox"
	"github.com/sitrep-dev/sitrep/worker"
)

// commsIncident runs a SEV1's comms on checkout through the activities the
// worker registers, built from the sandbox's environment: status page open
// and updated, a stakeholder email, the war room with alice and carol, its
// summary posted and edited; and one page by email to alice.
func commsIncident(t *testing.T) (*sandbox.Sandbox, *httptest.Server, activities.RoomResult, activities.StatusPageResult, activities.Notice) {
	t.Helper()
	sb, srv := newSandbox(t, "")
	cat, err := catalog.Load("../examples/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	getenv := sb.Env(srv.URL, nil)
	comms, err := worker.CommsFromEnv(getenv, "")
	if err != nil {
		t.Fatalf("CommsFromEnv through the sandbox: %v", err)
	}
	if got := strings.Join(worker.CommsLive(comms), ","); got != "statuspage,rooms:slack,bridge,email" {
		t.Fatalf("comms live = %s", got)
	}
	notifiers, err := worker.Providers(getenv, "")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	a := &activities.Activities{Catalog: activities.StaticCatalog{C: cat}, Notifiers: notifiers, Templates: tmpl, Comms: comms}
	do := func(fn any, args ...any) converter.EncodedValue {
		t.Helper()
		var s testsuite.WorkflowTestSuite
		s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(a)
		val, err := env.ExecuteActivity(fn, args...)
		if err != nil {
			t.Fatal(err)
		}
		return val
	}

	at := time.Date(2026, 12, 1, 9, 58, 0, 0, time.UTC)
	n := activities.Notice{IncidentID: incident, Ref: incident, Kind: activities.NoticeInitial, Service: "checkout", Components: []string{"Checkout"},
		Severity: catalog.SEV1, Summary: "error rate 12%", Source: "monitoring", Status: "investigating",
		OpenedAt: at, At: at, NextUpdate: at.Add(30 * time.Minute), Cadence: 30 * time.Minute}
	var page activities.StatusPageResult
	_ = do(a.StatusPageNotice, n, "").Get(&page)
	_ = do(a.EmailGroup, activities.GroupNotice{Notice: n, Group: "merchants"})
	var room activities.RoomResult
	_ = do(a.OpenRoom, activities.RoomInput{IncidentID: incident, Ref: incident, Name: "inc-20261201-checkout-error-rate-12"}).Get(&room)
	_ = do(a.InviteToRoom, activities.InviteInput{Channel: room.Channel, People: []string{"alice", "carol"}})
	var summary string
	_ = do(a.PostToRoom, activities.RoomPost{IncidentID: incident, Channel: room.Channel, Text: "SEV1 checkout: investigating. Bridge: " + room.Bridge}).Get(&summary)
	_ = do(a.PostToRoom, activities.RoomPost{IncidentID: incident, Channel: room.Channel, Edit: summary,
		Text: "SEV1 checkout: identified. Commander alice. Post: /sitrep update --status <status> <message>. Bridge: " + room.Bridge})
	u := n
	u.Kind, u.Status, u.Message = activities.NoticeUpdate, "identified", "A faulty release; rolling it back."
	_ = do(a.StatusPageNotice, u, page.ID)
	// A page by email to alice is not a stakeholder email.
	if _, err := notifiers[catalog.Email].Notify(t.Context(), activities.Message{IncidentID: incident, Person: "alice", To: "alice@example.com",
		Subject: "[SEV1] page", Text: "page"}); err != nil {
		t.Fatal(err)
	}

	return sb, srv, room, page, u
}

// TestCommsView runs an incident's comms through the activities the worker
// registers, built from the sandbox's environment, and checks that the inbox
// page shows what a person watching `make dev` should see: the status page
// incident and its updates, the war room with only responders, its bridge
// and its summary as last edited, and the stakeholder email, not the pages.
func TestCommsView(t *testing.T) {
	_, srv, room, page, u := commsIncident(t)
	status, body := get(t, srv.URL+"/api/comms")
	if status != http.StatusOK {
		t.Fatalf("GET /api/comms: %d %s", status, body)
	}
	var c sandbox.Comms
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.StatusPage) != 1 || c.StatusPage[0].Status != "identified" || len(c.StatusPage[0].Updates) != 2 ||
		!strings.Contains(c.StatusPage[0].Updates[1].Body, u.Message) || c.StatusPage[0].Link != page.URL {
		t.Errorf("status page = %+v", c.StatusPage)
	}
	if len(c.Rooms) != 1 {
		t.Fatalf("rooms = %+v", c.Rooms)
	}
	r := c.Rooms[0]
	var members []string
	for _, m := range r.Members {
		members = append(members, m.UserID+"="+m.Person)
	}
	if r.Name != "inc-20261201-checkout-error-rate-12" || !slices.Equal(members, []string{"U0001=alice", "U0003="}) ||
		r.Bridge == "" || r.Bridge != room.Bridge || len(r.Messages) != 1 || !strings.Contains(r.Messages[0].Text, "identified") || r.Messages[0].Edited != 1 {
		t.Errorf("room = %+v, members %v", r, members)
	}
	// One email per merchant, so neither sees the other's address.
	var to []string
	for _, e := range c.Emails {
		to = append(to, e.To...)
	}
	slices.Sort(to)
	if len(c.Emails) != 2 || !slices.Equal(to, []string{"alerts@merchant-two.example.com", "ops@merchant-one.example.com"}) {
		t.Errorf("stakeholder emails = %+v", c.Emails)
	}

	// The inbox lists messages to people; the room's are with the room.
	msgs := apiMessages(t, srv.URL, nil)
	for _, m := range msgs {
		if m.To == room.Channel {
			t.Errorf("the inbox lists a war room message: %+v", m)
		}
	}
	if len(msgs) == 0 {
		t.Error("the inbox lists nothing")
	}

	_, html := get(t, srv.URL+"/")
	for _, want := range []string{"Status page: 1 incident(s)", c.StatusPage[0].Name, "A faulty release; rolling it back.",
		"War rooms: 1", "#inc-20261201-checkout-error-rate-12", `href="/?person=alice"`, "U0003", `href="` + room.Bridge + `"`,
		"SEV1 checkout: identified. Commander alice. Post: /sitrep update --status &lt;status&gt; &lt;message&gt;.", "edited 1×", "Stakeholder email: 2", "ops@merchant-one.example.com",
		`id="room-` + room.Channel + `"`} {
		if !strings.Contains(html, want) {
			t.Errorf("the inbox page does not show %q", want)
		}
	}
	_, rooms, _ := strings.Cut(html, `<section id="rooms">`)
	rooms, _, _ = strings.Cut(rooms, "</section>")
	if !strings.Contains(rooms, "Commander alice") || strings.Contains(rooms, "SEV1 checkout: investigating. Bridge") {
		t.Errorf("the war room shows the summary as first posted, not as edited:\n%s", rooms)
	}

	t.Run("room links lead to the room", func(t *testing.T) {
		status, _ := get(t, room.URL)
		resp, err := noRedirects.Get(room.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if status != http.StatusFound || resp.Header.Get("Location") != "/#room-"+room.Channel {
			t.Errorf("GET %s: %d to %q", room.URL, status, resp.Header.Get("Location"))
		}
	})
}

// TestSlashFromRoom types /sitrep in a war room on the inbox page: the
// intake gets the command signed as Slack signs it, and its answer is the
// page's notice, shown to the one who typed it.
func TestSlashFromRoom(t *testing.T) {
	got := make(chan url.Values, 1)
	var secret integrations.Secret
	intake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/v1/slack/commands" || slack.VerifyRequest(secret, r.Header, body, time.Now()) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		form, _ := url.ParseQuery(string(body))
		got <- form
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"response_type":"ephemeral","text":"Update posted &lt;now&gt;"}`)
	}))
	defer intake.Close()
	sb, srv := newSandbox(t, intake.URL)
	secret = integrations.Secret(sb.Env(srv.URL, nil)("SLACK_SIGNING_SECRET"))
	room := sb.Slack.AddChannel("inc-20261201-checkout", false, slack.FakeBotUserID, "U0001")

	if _, page := get(t, srv.URL+"/"); !strings.Contains(page, `action="/sandbox/slash"`) || !strings.Contains(page, `<option value="U0001">alice</option>`) {
		t.Errorf("the war room has no slash command box:\n%s", page)
	}
	slash := func(user, text string) string {
		t.Helper()
		resp, err := noRedirects.PostForm(srv.URL+"/sandbox/slash", url.Values{"channel": {room}, "user": {user}, "text": {text}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST /sandbox/slash: %d", resp.StatusCode)
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc.Fragment != "room-"+room {
			t.Errorf("back to %q, want the room", loc)
		}
		return loc.Query().Get("notice")
	}
	if n := slash("U0001", "update --status identified Card payments fail"); n != "/sitrep update --status identified Card payments fail: Update posted <now>" {
		t.Errorf("notice = %q", n)
	}
	var form url.Values
	select { // the intake answered, so it has read the command, or not
	case form = <-got:
	default:
		t.Fatal("the intake took no command")
	}
	if form.Get("user_id") != "U0001" || form.Get("channel_id") != room || form.Get("command") != "/sitrep" ||
		form.Get("text") != "update --status identified Card payments fail" {
		t.Errorf("the intake got %v", form)
	}
	if n := slash("U0002", "status"); !strings.HasPrefix(n, "failed: U0002 is not in") {
		t.Errorf("a non-member's command: notice %q", n)
	}
}
