package activities_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/mattermost"
	"github.com/sitrep-dev/sitrep/integrations/sendgrid"
	"github.com/sitrep-dev/sitrep/integrations/slack"
	"github.com/sitrep-dev/sitrep/integrations/teams"
	"github.com/sitrep-dev/sitrep/integrations/twilio"
	"github.com/sitrep-dev/sitrep/integrations/video"
	"github.com/sitrep-dev/sitrep/sandbox"
	"github.com/sitrep-dev/sitrep/worker"
)

// commsEnv is the comms activities against the real clients, built from
// the environment as the worker builds them, and the sandbox's fakes behind
// them, with the example catalog.
type commsEnv struct {
	a   *activities.Activities
	sb  *sandbox.Sandbox
	url string
	cat *catalog.Catalog
}

// newCommsEnv builds the activities; edit changes the sandbox's environment
// first (to turn a provider off, or Mattermost on).
func newCommsEnv(t *testing.T, edit map[string]string) *commsEnv {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	base := sb.Env(srv.URL, nil)
	getenv := func(k string) string {
		if v, ok := edit[k]; ok {
			return strings.ReplaceAll(v, "{sandbox}", srv.URL)
		}
		return base(k)
	}
	cat, err := catalog.Load("../examples/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	notifiers, err := worker.Providers(getenv, "")
	if err != nil {
		t.Fatal(err)
	}
	comms, err := worker.CommsFromEnv(getenv, "")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	a := &activities.Activities{Catalog: activities.StaticCatalog{C: cat}, Notifiers: notifiers, Templates: tmpl, Comms: comms}
	return &commsEnv{a: a, sb: sb, url: srv.URL, cat: cat}
}

// run executes an activity once, as one attempt, and decodes its result.
func run[T any](t *testing.T, a *activities.Activities, fn any, args ...any) (T, error) {
	t.Helper()
	var out T
	val, err := activityEnv(a).ExecuteActivity(fn, args...)
	if err != nil {
		return out, err
	}
	if err := val.Get(&out); err != nil {
		t.Fatal(err)
	}
	return out, nil
}

var opened = time.Date(2026, 12, 1, 9, 58, 0, 0, time.UTC)

// checkoutNotice is a SEV1 on checkout as the workflow would send it: with
// everything internal filled in, so that a leak into an external notice shows.
func checkoutNotice(kind activities.NoticeKind) activities.Notice {
	return activities.Notice{
		IncidentID: "inc-checkout-1", Ref: "inc-checkout-1/run1", Kind: kind, Service: "checkout",
		Components: []string{"Checkout"}, Severity: catalog.SEV1,
		Summary: "5xx rate 12% on db-7.prod.internal pool", Source: "internal", Reporter: "grace",
		Status: "investigating", Message: "Card payments fail for some customers; we rolled back the release.",
		OpenedAt: opened, At: opened.Add(2 * time.Minute), NextUpdate: opened.Add(32 * time.Minute), Cadence: 30 * time.Minute,
		Commander: "alice", CommsLead: "carol", Room: "https://slack.example/app_redirect?channel=C1", Bridge: "https://zoom.example/j/1",
		StatusURL: "https://stspg.io/abc",
	}
}

// leaks returns what of the catalog's people (handles and names), the
// alert's summary or the war room an external text shows.
func leaks(c *catalog.Catalog, n activities.Notice, text string) []string {
	var found []string
	words := []string{n.Summary, "db-7", n.Room, n.Bridge, "war room", "bridge", "SEV", "commander"}
	for h, p := range c.People {
		words = append(words, h)
		words = append(words, strings.Fields(p.Name)...)
	}
	for _, w := range words {
		if w != "" && regexp.MustCompile(`(?i)\b`+regexp.QuoteMeta(w)+`\b`).MatchString(text) {
			found = append(found, w)
		}
	}
	return found
}

func TestEmailGroup(t *testing.T) {
	e := newCommsEnv(t, nil)
	kinds := []activities.NoticeKind{activities.NoticeInitial, activities.NoticeUpdate, activities.NoticeNoNews, activities.NoticeMitigated, activities.NoticeResolved}

	t.Run("external: brief, plain, no internal names", func(t *testing.T) {
		for _, k := range kinds {
			n := checkoutNotice(k)
			res, err := run[activities.NoticeResult](t, e.a, e.a.EmailGroup, activities.GroupNotice{Notice: n, Group: "merchants"})
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			if res.Recipients != 2 || res.ProviderID == "" {
				t.Errorf("%s: result %+v", k, res)
			}
			got := e.sb.SendGrid.Received()
			if len(got) < 2 || !slices.Equal(got[len(got)-2].To, []string{"ops@merchant-one.example.com"}) ||
				!slices.Equal(got[len(got)-1].To, []string{"alerts@merchant-two.example.com"}) {
				t.Fatalf("%s: sent %+v, want one email to each merchant: neither sees the other", k, got)
			}
			m := got[len(got)-1]
			text := m.Subject + "\n" + m.Text
			if l := leaks(e.cat, n, text); len(l) > 0 {
				t.Errorf("%s: the external notice shows %q:\n%s", k, l, text)
			}
			if !strings.Contains(text, "Checkout") {
				t.Errorf("%s: the notice does not name the status page component:\n%s", k, text)
			}
			promise := "Next update by 10:30 UTC, and every 30 minutes"
			if k == activities.NoticeResolved {
				if strings.Contains(text, "Next update") || !strings.Contains(text, n.Message) {
					t.Errorf("resolved: want what happened and no further promise:\n%s", text)
				}
			} else if !strings.Contains(text, promise) {
				t.Errorf("%s: no %q:\n%s", k, promise, text)
			}
		}
	})

	t.Run("internal: names, links, who reported it", func(t *testing.T) {
		n := checkoutNotice(activities.NoticeInitial)
		if _, err := run[activities.NoticeResult](t, e.a, e.a.EmailGroup, activities.GroupNotice{Notice: n, Group: "leadership"}); err != nil {
			t.Fatal(err)
		}
		m := lastMail(t, e.sb.SendGrid)
		for _, want := range []string{"[SEV1] checkout", n.Summary, "Reported by: Grace Gomez (grace), an internal stakeholder", "Incident commander: Alice Andersen (alice)",
			"Communications lead: Carol Costa (carol)", "War room: " + n.Room, "Video bridge: " + n.Bridge, "Status page: " + n.StatusURL,
			"Next update by 10:30 UTC, then every 30 minutes"} {
			if !strings.Contains(m.Subject+"\n"+m.Text, want) {
				t.Errorf("internal notice lacks %q:\n%s\n%s", want, m.Subject, m.Text)
			}
		}
		n.Source, n.Reporter = "monitoring", ""
		if _, err := run[activities.NoticeResult](t, e.a, e.a.EmailGroup, activities.GroupNotice{Notice: n, Group: "leadership"}); err != nil {
			t.Fatal(err)
		}
		if m := lastMail(t, e.sb.SendGrid); strings.Contains(m.Text, "Reported by") {
			t.Errorf("an alert's notice says who reported it:\n%s", m.Text)
		}
	})

	t.Run("unknown group", func(t *testing.T) {
		_, err := run[activities.NoticeResult](t, e.a, e.a.EmailGroup, activities.GroupNotice{Notice: checkoutNotice("notice"), Group: "press"})
		if app := appError(t, err); !app.NonRetryable() || app.Type() != activities.ErrCatalog || !strings.Contains(app.Error(), "press") {
			t.Errorf("error = %v", err)
		}
	})

	t.Run("provider errors: classified, no address shown", func(t *testing.T) {
		e.sb.SendGrid.Faults.FailNext(sendgrid.ErrorFault(400, "personalizations.0.to", "Does not contain a valid address: ops@merchant-one.example.com"))
		_, err := run[activities.NoticeResult](t, e.a, e.a.EmailGroup, activities.GroupNotice{Notice: checkoutNotice("notice"), Group: "merchants"})
		if app := appError(t, err); !app.NonRetryable() || app.Type() != activities.ErrPermanent || strings.Contains(err.Error(), "@") {
			t.Errorf("a 400 = %v, want permanent with the address redacted", err)
		}
		e.sb.SendGrid.Faults.FailNext(sendgrid.RateLimitFault(time.Now().Add(30 * time.Second)))
		_, err = run[activities.NoticeResult](t, e.a, e.a.EmailGroup, activities.GroupNotice{Notice: checkoutNotice("notice"), Group: "merchants"})
		if app := appError(t, err); app.NonRetryable() || app.NextRetryDelay() < 20*time.Second {
			t.Errorf("a 429 = %v (retry after %s), want retried after SendGrid's reset", err, app.NextRetryDelay())
		}
	})

	t.Run("no mailer", func(t *testing.T) {
		off := newCommsEnv(t, map[string]string{"SENDGRID_API_KEY": "", "SENDGRID_FROM": "", "SENDGRID_BASE_URL": ""})
		_, err := run[activities.NoticeResult](t, off.a, off.a.EmailGroup, activities.GroupNotice{Notice: checkoutNotice("notice"), Group: "merchants"})
		if app := appError(t, err); !app.NonRetryable() || app.Type() != activities.ErrNotConfigured {
			t.Errorf("error = %v", err)
		}
	})
}

// TestEmailGroupRetrySendsOnlyWhoWasMissed: the attempt before reached the
// first merchant and failed on the second; the retry emails the second only.
func TestEmailGroupRetrySendsOnlyWhoWasMissed(t *testing.T) {
	e := newCommsEnv(t, nil)
	env := activityEnv(e.a)
	env.SetHeartbeatDetails([]int{0})
	if _, err := env.ExecuteActivity(e.a.EmailGroup, activities.GroupNotice{Notice: checkoutNotice(activities.NoticeUpdate), Group: "merchants"}); err != nil {
		t.Fatal(err)
	}
	got := e.sb.SendGrid.Received()
	if len(got) != 1 || !slices.Equal(got[0].To, []string{"alerts@merchant-two.example.com"}) {
		t.Errorf("sent %+v, want the second merchant only", got)
	}
}

func lastMail(t *testing.T, f *sendgrid.Fake) sendgrid.Mail {
	t.Helper()
	got := f.Received()
	if len(got) == 0 {
		t.Fatal("no email sent")
	}
	return got[len(got)-1]
}

func TestStatusPageNotice(t *testing.T) {
	e := newCommsEnv(t, nil)
	n := checkoutNotice(activities.NoticeInitial)
	first, err := run[activities.StatusPageResult](t, e.a, e.a.StatusPageNotice, n, "")
	if err != nil {
		t.Fatal(err)
	}
	// A retry of the open (the first attempt's answer lost) finds the incident
	// the first made instead of opening another.
	again, err := run[activities.StatusPageResult](t, e.a, e.a.StatusPageNotice, n, "")
	if err != nil || again != first {
		t.Fatalf("retried open = %+v, %v; want %+v", again, err, first)
	}
	incs := e.sb.Statuspage.Incidents()
	if len(incs) != 1 {
		t.Fatalf("status page holds %d incidents, want 1", len(incs))
	}
	inc := incs[0]
	if inc.ID != first.ID || inc.Name != "Problem affecting Checkout" || first.URL != inc.Shortlink || inc.Marker != n.Ref || inc.Status != "investigating" ||
		inc.ImpactOverride != "critical" || inc.Components["Checkout"] != "major_outage" {
		t.Errorf("opened %+v, result %+v", inc, first)
	}
	body := inc.Name + "\n" + inc.Updates[0].Body
	if l := leaks(e.cat, n, body); len(l) > 0 || !strings.Contains(body, "every 30 minutes") || strings.Contains(body, n.StatusURL) {
		t.Errorf("status page shows %q:\n%s", l, body)
	}

	u := checkoutNotice(activities.NoticeUpdate)
	u.Status, u.Message, u.Severity = "identified", "A faulty release; rolling back.", catalog.SEV2
	if res, err := run[activities.StatusPageResult](t, e.a, e.a.StatusPageNotice, u, first.ID); err != nil || res.ID != first.ID {
		t.Fatalf("update = %+v, %v", res, err)
	}
	inc = e.sb.Statuspage.ExpectIncident(t, n.Ref, "identified")
	if last := inc.Updates[len(inc.Updates)-1]; !strings.Contains(last.Body, u.Message) || inc.ImpactOverride != "major" {
		t.Errorf("update body = %q, impact %q after the severity changed to SEV2", last.Body, inc.ImpactOverride)
	}

	r := checkoutNotice(activities.NoticeResolved)
	r.Status, r.Message = "", "A release broke card payments for 40 minutes; it was rolled back."
	if _, err := run[activities.StatusPageResult](t, e.a, e.a.StatusPageNotice, r, first.ID); err != nil {
		t.Fatal(err)
	}
	inc = e.sb.Statuspage.ExpectIncident(t, n.Ref, "resolved")
	if inc.Components["Checkout"] != "operational" || !strings.Contains(inc.Updates[len(inc.Updates)-1].Body, r.Message) {
		t.Errorf("resolved incident = %+v", inc)
	}

	t.Run("impact follows severity", func(t *testing.T) {
		for sev, want := range map[catalog.Severity]string{catalog.SEV1: "critical", catalog.SEV2: "major", catalog.SEV3: "minor", catalog.SEV4: "none"} {
			if got := activities.StatusImpact(sev); got != want {
				t.Errorf("Impact(%s) = %q, want %q", sev, got, want)
			}
		}
	})
	t.Run("not configured", func(t *testing.T) {
		off := newCommsEnv(t, map[string]string{"STATUSPAGE_API_KEY": "", "STATUSPAGE_PAGE_ID": "", "STATUSPAGE_BASE_URL": ""})
		_, err := run[activities.StatusPageResult](t, off.a, off.a.StatusPageNotice, n, "")
		if app := appError(t, err); !app.NonRetryable() || app.Type() != activities.ErrNotConfigured {
			t.Errorf("error = %v", err)
		}
	})
}

func TestOpenRoom(t *testing.T) {
	in := activities.RoomInput{IncidentID: "inc-checkout-1", Ref: "inc-checkout-1/run1", Name: "inc-20261201-checkout-5xx", Topic: "checkout SEV1"}

	t.Run("slack, with a bridge", func(t *testing.T) {
		e := newCommsEnv(t, nil)
		res, err := run[activities.RoomResult](t, e.a, e.a.OpenRoom, in)
		if err != nil {
			t.Fatal(err)
		}
		ch, ok := e.sb.Slack.ChannelID(in.Name)
		meetings := e.sb.Zoom.Meetings()
		if !ok || res.Platform != "slack" || res.Channel != ch || res.URL != e.url+"/app_redirect?channel="+ch ||
			len(meetings) != 1 || res.Bridge != meetings[0].JoinURL || len(res.Problems) != 0 {
			t.Errorf("room = %+v; channel %q, meetings %+v", res, ch, meetings)
		}
		again, err := run[activities.RoomResult](t, e.a, e.a.OpenRoom, in)
		if err != nil || again.Channel != res.Channel || again.Bridge != res.Bridge || len(e.sb.Zoom.Meetings()) != 1 {
			t.Errorf("a retried open = %+v, %v; want the same room and bridge", again, err)
		}
	})

	t.Run("a bridge failure still opens the room", func(t *testing.T) {
		e := newCommsEnv(t, nil)
		e.sb.Zoom.Faults.FailNext(video.ErrorFault(http.StatusBadRequest, 300, "Invalid client_id or client_secret"))
		res, err := run[activities.RoomResult](t, e.a, e.a.OpenRoom, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := e.sb.Slack.ChannelID(in.Name); !ok || res.Channel == "" || res.Bridge != "" || len(res.Problems) != 1 ||
			!strings.Contains(res.Problems[0], "video bridge") {
			t.Errorf("room = %+v", res)
		}
	})

	t.Run("mattermost", func(t *testing.T) {
		e := newCommsEnv(t, mattermostEnv)
		long := in
		long.Name = "inc-20261201-checkout-" + strings.Repeat("error-rate-", 6)
		res, err := run[activities.RoomResult](t, e.a, e.a.OpenRoom, long)
		if err != nil {
			t.Fatal(err)
		}
		rooms := e.sb.Mattermost.Rooms()
		if len(rooms) != 1 || res.Platform != "mattermost" || res.Channel != rooms[0].ID || len(rooms[0].Name) > 64 ||
			res.URL != e.url+"/"+mattermost.FakeTeamName+"/channels/"+rooms[0].Name {
			t.Errorf("room = %+v; rooms %+v", res, rooms)
		}
	})

	t.Run("teams: announcements only", func(t *testing.T) {
		e := newCommsEnv(t, teamsOnlyEnv)
		res, err := run[activities.RoomResult](t, e.a, e.a.OpenRoom, in)
		if err != nil || res.Platform != "teams" || res.Channel != "" || res.Bridge == "" {
			t.Errorf("room = %+v, %v", res, err)
		}
	})

	t.Run("no chat platform", func(t *testing.T) {
		e := newCommsEnv(t, map[string]string{"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_BASE_URL": ""})
		_, err := run[activities.RoomResult](t, e.a, e.a.OpenRoom, in)
		if app := appError(t, err); !app.NonRetryable() || app.Type() != activities.ErrNotConfigured {
			t.Errorf("error = %v", err)
		}
	})
}

var mattermostEnv = map[string]string{
	"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_BASE_URL": "",
	"MATTERMOST_URL": "{sandbox}", "MATTERMOST_TOKEN": mattermost.FakeToken.Reveal(), "MATTERMOST_TEAM_ID": mattermost.FakeTeamID,
}

var teamsOnlyEnv = map[string]string{
	"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_BASE_URL": "",
	"TEAMS_WEBHOOK_URL": teams.NewFake(teams.FakeOptions{}).WebhookURL("{sandbox}").Reveal(),
}

func TestInviteToRoom(t *testing.T) {
	e := newCommsEnv(t, nil)
	room, err := run[activities.RoomResult](t, e.a, e.a.OpenRoom, activities.RoomInput{IncidentID: "inc-1", Name: "inc-1-checkout"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := run[activities.InviteResult](t, e.a, e.a.InviteToRoom, activities.InviteInput{Channel: room.Channel, People: []string{"alice", "carol", "alice", "nobody"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Invited, []string{"alice", "carol"}) || !slices.Equal(res.Missing, []string{"nobody"}) {
		t.Errorf("invite = %+v", res)
	}
	// Only those invited are in: alice (U0001) and carol (U0003), and the bot.
	if got := e.sb.Slack.Members(room.Channel); !slices.Equal(got, []string{"U0001", "U0003", slack.FakeBotUserID}) {
		t.Errorf("members = %v", got)
	}

	t.Run("one the platform refuses is missing, the others join", func(t *testing.T) {
		e.sb.Slack.Faults.FailNext(slack.ErrorFault("user_not_found"))
		res, err := run[activities.InviteResult](t, e.a, e.a.InviteToRoom, activities.InviteInput{Channel: room.Channel, People: []string{"dave", "erin"}})
		if err != nil || !slices.Equal(res.Invited, []string{"erin"}) || !slices.Equal(res.Missing, []string{"dave"}) {
			t.Errorf("invite = %+v, %v", res, err)
		}
	})
	t.Run("a transient failure is retried, naming the person, not their chat ID", func(t *testing.T) {
		e.sb.Slack.Faults.FailNext(slack.RateLimitFault(2 * time.Second))
		_, err := run[activities.InviteResult](t, e.a, e.a.InviteToRoom, activities.InviteInput{Channel: room.Channel, People: []string{"frank"}})
		app := appError(t, err)
		if app.NonRetryable() || app.NextRetryDelay() != 2*time.Second || !strings.Contains(err.Error(), "invite frank") || strings.Contains(err.Error(), "U0006") {
			t.Errorf("error = %v", err)
		}
	})
}

func TestPostToRoom(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		text func(e *commsEnv, channel, id string) (string, int)
	}{
		{"slack", nil, func(e *commsEnv, channel, id string) (string, int) {
			for _, r := range e.sb.Slack.Rooms() {
				for _, m := range r.Messages {
					if r.ID == channel && m.TS == id {
						return m.Text, m.Edited
					}
				}
			}
			return "", -1
		}},
		{"mattermost", mattermostEnv, func(e *commsEnv, channel, id string) (string, int) {
			for _, r := range e.sb.Mattermost.Rooms() {
				for _, m := range r.Messages {
					if r.ID == channel && m.ID == id {
						return m.Text, m.Edited
					}
				}
			}
			return "", -1
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newCommsEnv(t, tt.env)
			room, err := run[activities.RoomResult](t, e.a, e.a.OpenRoom, activities.RoomInput{IncidentID: "inc-1", Name: "inc-1-checkout"})
			if err != nil {
				t.Fatal(err)
			}
			id, err := run[string](t, e.a, e.a.PostToRoom, activities.RoomPost{IncidentID: "inc-1", Channel: room.Channel, Text: "Status: investigating"})
			if err != nil || id == "" {
				t.Fatalf("post = %q, %v", id, err)
			}
			edited, err := run[string](t, e.a, e.a.PostToRoom, activities.RoomPost{IncidentID: "inc-1", Channel: room.Channel, Text: "Status: identified", Edit: id})
			if err != nil || edited != id {
				t.Fatalf("edit = %q, %v; want %q", edited, err, id)
			}
			if text, n := tt.text(e, room.Channel, id); text != "Status: identified" || n != 1 {
				t.Errorf("the summary reads %q after %d edits", text, n)
			}
		})
	}

	t.Run("no channel: announced on teams", func(t *testing.T) {
		e := newCommsEnv(t, teamsOnlyEnv)
		if _, err := run[string](t, e.a, e.a.PostToRoom, activities.RoomPost{IncidentID: "inc-1", Text: "Status: identified"}); err != nil {
			t.Fatal(err)
		}
		if got := e.sb.Teams.Received(); len(got) != 1 || got[0].Text != "Status: identified" {
			t.Errorf("teams received %+v", got)
		}
	})
}

func TestRemind(t *testing.T) {
	r := activities.Reminder{IncidentID: "inc-1", Ref: "inc-1/run1", Kind: activities.ReminderDue, Person: "carol", CC: []string{"alice", "carol"},
		Service: "checkout", Severity: catalog.SEV1, Due: opened.Add(30 * time.Minute),
		Command: `sitrep update inc-1 --status identified --message "…"`, Room: "C1"}

	t.Run("first reachable of chat, sms, email; the commander copied", func(t *testing.T) {
		e := newCommsEnv(t, nil)
		res, err := run[activities.ReminderResult](t, e.a, e.a.Remind, r)
		if err != nil || res.Channel != catalog.Chat {
			t.Fatalf("remind = %+v, %v", res, err)
		}
		for _, user := range []string{"U0003", "U0001"} { // carol, then alice
			m := e.sb.Slack.ExpectMessage(t, user, "due at 10:28 UTC")
			if len(m.Buttons) > 0 {
				t.Errorf("a reminder carries a page's buttons: %+v", m.Buttons)
			}
			for _, want := range []string{r.Command, `/sitrep update --status identified --message "…"`} {
				if !strings.Contains(m.Text, slack.EscapeText(want)) {
					t.Errorf("reminder to %s lacks %q:\n%s", user, want, m.Text)
				}
			}
		}
		if n := len(e.sb.Slack.Received()); n != 2 {
			t.Errorf("%d messages, want 2: carol once, though also copied", n)
		}
	})

	t.Run("never a voice call", func(t *testing.T) {
		// No chat: alice's contacts are voice, sms, chat, email: sms, not her first, voice.
		e := newCommsEnv(t, map[string]string{"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_BASE_URL": ""})
		res, err := run[activities.ReminderResult](t, e.a, e.a.Remind, with2(r, func(r *activities.Reminder) { r.Person, r.CC = "alice", nil }))
		if err != nil || res.Channel != catalog.SMS {
			t.Fatalf("remind = %+v, %v", res, err)
		}
		// Her sms refused for good: email, still no call.
		e.sb.Twilio.Faults.FailNext(twilio.ErrorFault(21610))
		res, err = run[activities.ReminderResult](t, e.a, e.a.Remind, with2(r, func(r *activities.Reminder) { r.Person, r.CC = "alice", nil }))
		if err != nil || res.Channel != catalog.Email {
			t.Fatalf("remind after sms refused = %+v, %v", res, err)
		}
		for _, d := range e.sb.Twilio.Received() {
			if d.Kind == "voice" {
				t.Errorf("a reminder called: %+v", d)
			}
		}
	})

	t.Run("nobody reachable: permanent, no address shown", func(t *testing.T) {
		e := newCommsEnv(t, map[string]string{"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_BASE_URL": "",
			"SENDGRID_API_KEY": "", "SENDGRID_FROM": "", "SENDGRID_BASE_URL": ""})
		e.sb.Twilio.Faults.FailNext(twilio.ErrorFault(21211))
		_, err := run[activities.ReminderResult](t, e.a, e.a.Remind, with2(r, func(r *activities.Reminder) { r.Person, r.CC = "alice", nil }))
		app := appError(t, err)
		if !app.NonRetryable() || app.Type() != activities.ErrNoContact || strings.Contains(err.Error(), "+1555") {
			t.Errorf("error = %v", err)
		}
	})

	t.Run("a transient failure is retried", func(t *testing.T) {
		e := newCommsEnv(t, nil)
		e.sb.Slack.Faults.FailNext(slack.RateLimitFault(4 * time.Second))
		_, err := run[activities.ReminderResult](t, e.a, e.a.Remind, r)
		if app := appError(t, err); app.NonRetryable() || app.NextRetryDelay() != 4*time.Second {
			t.Errorf("error = %v", err)
		}
	})

	// Only the provider's failures count toward giving up: a reminder that
	// waited out an hour-long worker outage still goes; one whose provider
	// has failed for an hour is given up on.
	t.Run("given up after an hour of provider failures, not of waiting", func(t *testing.T) {
		for _, tt := range []struct {
			name        string
			firstFailed time.Duration // ago; 0: never failed before
			gaveUp      bool
		}{
			{"first failure now", 0, false},
			{"failing 59 minutes", 59 * time.Minute, false},
			{"failing an hour", activities.StaleAfter, true},
		} {
			t.Run(tt.name, func(t *testing.T) {
				e := newCommsEnv(t, nil)
				env := activityEnv(e.a)
				if tt.firstFailed > 0 {
					env.SetHeartbeatDetails(map[string]any{"FirstFailure": time.Now().Add(-tt.firstFailed)})
				}
				e.sb.Slack.Faults.FailNext(slack.RateLimitFault(4 * time.Second))
				_, err := env.ExecuteActivity(e.a.Remind, r)
				app := appError(t, err)
				if app.NonRetryable() != tt.gaveUp || tt.gaveUp && app.Type() != activities.ErrGaveUp {
					t.Errorf("error = %v (type %s, non-retryable %t), want given up: %t", err, app.Type(), app.NonRetryable(), tt.gaveUp)
				}
			})
		}
	})

	t.Run("a retry reminds only who the last attempt missed", func(t *testing.T) {
		e := newCommsEnv(t, nil)
		env := activityEnv(e.a)
		// The attempt before reached carol, then failed on alice.
		env.SetHeartbeatDetails(map[string]any{"Sent": map[string]activities.ReminderResult{"carol": {Channel: catalog.Chat, ProviderID: "1.000001"}}})
		val, err := env.ExecuteActivity(e.a.Remind, r)
		if err != nil {
			t.Fatal(err)
		}
		var res activities.ReminderResult
		if err := val.Get(&res); err != nil || res.ProviderID != "1.000001" {
			t.Errorf("result = %+v, %v; want carol's first delivery", res, err)
		}
		got := e.sb.Slack.Received()
		if len(got) != 1 || got[0].User != "U0001" {
			t.Errorf("sent %+v, want alice only", got)
		}
	})

	t.Run("role unfilled", func(t *testing.T) {
		e := newCommsEnv(t, nil)
		rr := with2(r, func(r *activities.Reminder) {
			r.Kind, r.Person, r.CC, r.Role, r.Command = activities.ReminderRole, "alice", nil, "comms", "sitrep role inc-1 --role comms --person P"
		})
		if _, err := run[activities.ReminderResult](t, e.a, e.a.Remind, rr); err != nil {
			t.Fatal(err)
		}
		m := e.sb.Slack.ExpectMessage(t, "U0001", "still unfilled: comms")
		if !strings.Contains(m.Text, "sitrep role inc-1 --role comms --person P") || !strings.Contains(m.Text, "/sitrep role --role comms") {
			t.Errorf("reminder:\n%s", m.Text)
		}
	})
}

func with2(r activities.Reminder, f func(*activities.Reminder)) activities.Reminder {
	f(&r)
	return r
}
