package sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
	"github.com/sitrep-dev/sitrep/integrations/twilio"
	"github.com/sitrep-dev/sitrep/sandbox"
	"github.com/sitrep-dev/sitrep/worker"
	"github.com/sitrep-dev/sitrep/workflows"
)

const incident = "inc-checkout-0a1b2c3d4e5f6071"

// people is the directory the sandbox names people by.
var people = map[string]string{
	"+15550100001": "alice", "alice@example.com": "alice", "U0001": "alice",
	"0123456789abcdef0123456789abcdef": "alice", "+15550100002": "bob",
}

func newSandbox(t *testing.T, intakeURL string) (*sandbox.Sandbox, *httptest.Server) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{
		IntakeURL:  intakeURL,
		Who:        func(_, addr string) string { return people[addr] },
		IncidentOf: workflows.FindIncidentID,
	})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	return sb, srv
}

// noRedirects sees the sandbox's redirects instead of following them.
var noRedirects = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := noRedirects.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func apiMessages(t *testing.T, base string, q url.Values) []inbox.Message {
	t.Helper()
	status, body := get(t, base+"/api/messages?"+q.Encode())
	if status != http.StatusOK {
		t.Fatalf("GET /api/messages?%s: %d %s", q.Encode(), status, body)
	}
	var msgs []inbox.Message
	if err := json.Unmarshal([]byte(body), &msgs); err != nil {
		t.Fatalf("GET /api/messages: %v in %q", err, body)
	}
	return msgs
}

func ids(msgs []inbox.Message) string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.ID)
	}
	return strings.Join(out, ",")
}

func TestMessagesFilter(t *testing.T) {
	sb, srv := newSandbox(t, "")
	for _, m := range []inbox.Message{
		{Channel: "sms", Provider: "twilio", To: "+15550100001", Text: "page 1", Incident: incident},          // 1, alice
		{Channel: "email", Provider: "sendgrid", To: "alice@example.com", Text: "page 2", Incident: incident}, // 2, alice
		{Channel: "sms", Provider: "twilio", To: "+15550100002", Text: "other", Incident: "inc-dns-00000000"}, // 3, bob
		{Channel: "chat", Provider: "slack", To: "U0001", Text: "no incident"},                                // 4, alice
	} {
		sb.Inbox.Add(m)
	}
	tests := []struct {
		name string
		q    url.Values
		want string // message IDs, newest first
	}{
		{"everything", nil, "4,3,2,1"},
		{"incident", url.Values{"incident": {incident}}, "2,1"},
		{"to", url.Values{"to": {"+15550100002"}}, "3"},
		{"person", url.Values{"person": {"alice"}}, "4,2,1"},
		{"channel", url.Values{"channel": {"sms"}}, "3,1"},
		{"person and channel", url.Values{"person": {"alice"}, "channel": {"sms"}}, "1"},
		{"nothing matches", url.Values{"person": {"mallory"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(apiMessages(t, srv.URL, tt.q)); got != tt.want {
				t.Errorf("messages = [%s], want [%s]", got, tt.want)
			}
		})
	}
	t.Run("empty is an empty list, not null", func(t *testing.T) {
		if _, body := get(t, srv.URL+"/api/messages?person=mallory"); strings.TrimSpace(body) != "[]" {
			t.Errorf("body = %q, want []", body)
		}
	})
}

func TestIndexPage(t *testing.T) {
	sms := inbox.Message{Channel: "sms", Provider: "twilio", To: "+15550100001", Text: "sitrep SEV1 " + incident + ": checkout down", Incident: incident}
	tests := []struct {
		name    string
		intake  string
		path    string
		want    []string
		notWant []string
	}{
		{
			name: "with an intake, the person's buttons", intake: "http://127.0.0.1:1", path: "/",
			want: []string{"1 message(s)", "checkout down", `href="/?person=alice"`, `href="/?incident=` + incident,
				`action="/sandbox/act"`, `value="sms:4"`, "reply 4 (acknowledge)", `value="sms:5"`, "reply 5 (escalate)"},
			notWant: []string{"replies and buttons need the intake"},
		},
		{
			name: "without an intake, no buttons", path: "/",
			want:    []string{"checkout down", "replies and buttons need the intake"},
			notWant: []string{`action="/sandbox/act"`, "reply 4 (acknowledge)"},
		},
		{
			name: "filtered out", intake: "http://127.0.0.1:1", path: "/?channel=email",
			want:    []string{"0 message(s)", "Nothing yet", `<option value="email" selected>`},
			notWant: []string{"checkout down"},
		},
		{
			name: "a notice", path: "/?notice=" + url.QueryEscape("sms 4: intake answered 200"),
			want: []string{"<b>sms 4: intake answered 200</b>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := newSandbox(t, tt.intake)
			sb.Inbox.Add(sms)
			status, body := get(t, srv.URL+tt.path)
			if status != http.StatusOK {
				t.Fatalf("GET %s: %d", tt.path, status)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page does not show %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page shows %q", w)
				}
			}
		})
	}
}

func TestEnv(t *testing.T) {
	sb, _ := newSandbox(t, "")
	const base = "http://127.0.0.1:7777"
	prod := func(k string) string { return "real-" + k } // a shell full of production credentials
	getenv := sb.Env(base, prod)
	tests := []struct {
		key, want string
	}{
		{"TWILIO_AUTH_TOKEN", twilio.FakeAuthToken},
		{"TWILIO_ACCOUNT_SID", twilio.FakeAccountSID},
		{"TWILIO_BASE_URL", base},
		{"SENDGRID_BASE_URL", base},
		{"SLACK_BASE_URL", base},
		{"PAGERDUTY_EVENTS_URL", base},
		// A real provider variable the sandbox does not set must not leak through.
		{"TWILIO_AUTH_TOKEN_FILE", ""},
		{"SENDGRID_API_KEY_FILE", ""},
		{"SENDGRID_FROM_NAME", ""},
		{"SLACK_BOT_TOKEN_FILE", ""},
		{"PAGERDUTY_WEBHOOK_SECRET_FILE", ""},
		{"SMTP_ADDR", ""},
		{"SMTP_PASSWORD", ""},
		// Everything else is the caller's.
		{"TEMPORAL_ADDRESS", "real-TEMPORAL_ADDRESS"},
		{"SITREP_CATALOG", "real-SITREP_CATALOG"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := getenv(tt.key); got != tt.want {
				t.Errorf("Env(%s) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
	t.Run("nil fallback", func(t *testing.T) {
		getenv := sb.Env(base, nil)
		if got := getenv("TEMPORAL_ADDRESS"); got != "" {
			t.Errorf("TEMPORAL_ADDRESS = %q, want empty", got)
		}
		if got := getenv("TWILIO_FROM"); got != twilio.FakeNumber {
			t.Errorf("TWILIO_FROM = %q, want %s", got, twilio.FakeNumber)
		}
	})
}

// TestProvidersThroughSandbox sends one page per channel through the real
// notifiers the worker builds from the sandbox's environment.
func TestProvidersThroughSandbox(t *testing.T) {
	sb, srv := newSandbox(t, "")
	notifiers, err := worker.Providers(sb.Env(srv.URL, nil), "http://intake.example")
	if err != nil {
		t.Fatalf("Providers: %v", err)
	}
	if got := strings.Join(worker.Live(notifiers), ","); got != "chat,email,pagerduty,sms,voice" {
		t.Fatalf("live channels = %s, want all five", got)
	}
	tests := []struct {
		channel catalog.Channel
		to      string
	}{
		{catalog.SMS, "+15550100001"},
		{catalog.Voice, "+15550100001"},
		{catalog.Email, "alice@example.com"},
		{catalog.Chat, "U0001"},
		{catalog.PagerDuty, "0123456789abcdef0123456789abcdef"},
	}
	for _, tt := range tests {
		t.Run(string(tt.channel), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			m := activities.Message{
				IncidentID: incident, Person: "alice", To: tt.to, Severity: catalog.SEV1,
				Subject: "[SEV1] checkout: error rate 12%",
				Text:    "sitrep SEV1 " + incident + " (level 1): checkout: error rate 12%\nOr reply 4 to acknowledge, 5 to escalate.",
			}
			id, err := notifiers[tt.channel].Notify(ctx, m)
			if err != nil {
				t.Fatalf("Notify: %v", err)
			}
			if id == "" {
				t.Error("Notify returned no provider id")
			}
			got := apiMessages(t, srv.URL, url.Values{"channel": {string(tt.channel)}})
			if len(got) != 1 {
				t.Fatalf("inbox has %d %s message(s), want 1: %+v", len(got), tt.channel, got)
			}
			msg := got[0]
			if msg.To != tt.to || msg.Person != "alice" {
				t.Errorf("message to %q (%q), want %s (alice)", msg.To, msg.Person, tt.to)
			}
			// The incident is what the inbox filters by and what its buttons
			// (press 4, reply 4) act on.
			if msg.Incident != incident {
				t.Errorf("message incident = %q, want %s; text %q, links %+v", msg.Incident, incident, msg.Text, msg.Links)
			}
			if !strings.Contains(msg.Text+msg.Subject, "checkout") {
				t.Errorf("message does not say what is broken: %+v", msg)
			}
			if tt.channel == catalog.Voice {
				if len(msg.Links) == 0 {
					t.Fatalf("call has no keypress action: %+v", msg)
				}
				u, err := url.Parse(msg.Links[0].URL)
				if err != nil || u.Scheme+"://"+u.Host+u.Path != "http://intake.example/v1/twilio/voice" ||
					u.Query().Get("incident") != incident || u.Query().Get("person") != "alice" {
					t.Errorf("keypress action = %q, want http://intake.example/v1/twilio/voice?incident=%s&person=alice", msg.Links[0].URL, incident)
				}
			}
		})
	}
}

// intake records the webhooks the sandbox's buttons send.
type intake struct {
	mu  sync.Mutex
	got []received
}

type received struct {
	path, signature string
	form            url.Values
}

func (in *intake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	in.mu.Lock()
	in.got = append(in.got, received{path: r.URL.Path, signature: r.Header.Get(twilio.SignatureHeader), form: r.PostForm})
	in.mu.Unlock()
	io.WriteString(w, "acknowledged")
}

func (in *intake) received() []received {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]received(nil), in.got...)
}

// act presses a button on the inbox page and returns the notice the page then shows.
func act(t *testing.T, base, id, do string) string {
	t.Helper()
	resp, err := noRedirects.PostForm(base+"/sandbox/act", url.Values{"id": {id}, "do": {do}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /sandbox/act: %d, want 303", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	notice := loc.Query().Get("notice")
	if _, page := get(t, base+loc.String()); !strings.Contains(page, "<b>"+htmlText(notice)+"</b>") {
		t.Errorf("the page after the redirect does not show the notice %q", notice)
	}
	return notice
}

// htmlText escapes s as html/template does in element text.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

func TestActWithoutIntake(t *testing.T) {
	sb, srv := newSandbox(t, "")
	sb.Inbox.Add(inbox.Message{Channel: "sms", To: "+15550100001", Text: "page", Incident: incident})
	if notice := act(t, srv.URL, "1", "sms:4"); !strings.Contains(notice, "no intake is running") {
		t.Errorf("notice = %q, want it to say no intake is running", notice)
	}
}

func TestActSMSReply(t *testing.T) {
	in := &intake{}
	intakeSrv := httptest.NewServer(in)
	t.Cleanup(intakeSrv.Close)
	sb, srv := newSandbox(t, intakeSrv.URL)
	notifiers, err := worker.Providers(sb.Env(srv.URL, nil), intakeSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := notifiers[catalog.SMS].Notify(ctx, activities.Message{
		IncidentID: incident, Person: "alice", To: "+15550100001", Text: "sitrep SEV1 " + incident + ": checkout down",
	}); err != nil {
		t.Fatalf("send sms: %v", err)
	}
	msgs := apiMessages(t, srv.URL, url.Values{"channel": {"sms"}})
	if len(msgs) != 1 {
		t.Fatalf("inbox has %d sms, want 1", len(msgs))
	}

	tests := []struct {
		name, id, do string
		wantNotice   string
		wantBody     string // the SMS the intake receives; "" for none
	}{
		{"reply 4", msgs[0].ID, "sms:4", "sms 4: intake answered 200 acknowledged", "4 " + incident},
		{"unknown message", "999", "sms:4", `failed: no message "999"`, ""},
		{"unknown action", msgs[0].ID, "fax:4", `failed: unknown action "fax:4"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(in.received())
			if notice := act(t, srv.URL, tt.id, tt.do); notice != tt.wantNotice {
				t.Errorf("notice = %q, want %q", notice, tt.wantNotice)
			}
			got := in.received()[before:]
			if tt.wantBody == "" {
				if len(got) != 0 {
					t.Errorf("intake received %+v, want nothing", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("intake received %d requests, want 1", len(got))
			}
			r := got[0]
			if r.path != "/v1/twilio/sms" {
				t.Errorf("posted to %s, want /v1/twilio/sms", r.path)
			}
			if b := r.form.Get("Body"); b != tt.wantBody {
				t.Errorf("Body = %q, want %q", b, tt.wantBody)
			}
			if from, to := r.form.Get("From"), r.form.Get("To"); from != "+15550100001" || to != twilio.FakeNumber {
				t.Errorf("From %s To %s, want a reply from +15550100001 to %s", from, to, twilio.FakeNumber)
			}
			if !twilio.VerifySignature(twilio.FakeAuthToken, intakeSrv.URL+"/v1/twilio/sms", r.form, r.signature) {
				t.Errorf("signature %q does not verify with the sandbox's Twilio auth token", r.signature)
			}
		})
	}
}
