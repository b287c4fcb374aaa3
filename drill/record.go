package drill

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
)

// Calls a notifier records.
const (
	callNotify = "notify"
	callSync   = "sync"
)

// Channels are the channels a drill's notifiers stand in for: every one.
var Channels = []catalog.Channel{catalog.SMS, catalog.Voice, catalog.Email, catalog.Chat, catalog.PagerDuty}

// recorder hears every call the activities make to an outside dependency,
// in virtual time, and answers each as a provider that took it would.
type recorder struct {
	now  func() time.Time
	mu   sync.Mutex
	msgs []Message
	seen map[string]int // how many calls had each content
	// closed: the drill reached its end; what is cancelled then is not
	// part of the plan, and is not recorded.
	closed bool
}

// close stops recording.
func (r *recorder) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
}

// record notes one call and returns the provider id it answers with. The
// id comes from the call's content, not from the order of calls, which
// varies between runs when calls go out in parallel: the same drill
// answers with the same ids, and records the same text.
func (r *recorder) record(m Message) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m.At = r.now()
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%d", m.Via, m.Call, m.Person, m.Subject, m.Text, m.Detail, m.At.UnixNano()))
	key := hex.EncodeToString(sum[:6])
	if r.seen == nil {
		r.seen = map[string]int{}
	}
	r.seen[key]++
	m.ProviderID = fmt.Sprintf("drill-%s-%s-%d", m.Via, key, r.seen[key])
	if !r.closed {
		r.msgs = append(r.msgs, m)
	}
	return m.ProviderID
}

// call records a call to a dependency that is not a notifier: its name,
// the method and its input, whatever that is.
func (r *recorder) call(dep, method, person string, in any) string {
	return r.record(Message{Via: dep, Call: method, Person: person, Detail: detail(in)})
}

func (r *recorder) snapshot() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// notifier stands in for one channel's provider.
type notifier struct {
	r  *recorder
	ch catalog.Channel
}

func (n notifier) Notify(_ context.Context, m activities.Message) (string, error) {
	return n.r.record(Message{Via: string(n.ch), Call: callNotify, Person: m.Person, Subject: m.Subject, Text: m.Text}), nil
}

// pagerOfRecord is the pagerduty channel's stand-in: like the real one it
// also hears acknowledgments and resolutions.
type pagerOfRecord struct{ notifier }

func (p pagerOfRecord) Sync(_ context.Context, action string, m activities.Message) error {
	p.r.record(Message{Via: string(p.ch), Call: callSync + " " + action, Person: m.Person})
	return nil
}

// statusPage stands in for the status page provider.
type statusPage struct{ r *recorder }

func (s statusPage) Open(_ context.Context, marker string, n activities.StatusPost) (string, string, error) {
	id := s.r.record(Message{Via: "statuspage", Call: "open " + n.Status, Subject: n.Title, Text: n.Body, Detail: detail(n)})
	return id, "https://status.example.com/incidents/" + id, nil
}

func (s statusPage) Update(_ context.Context, id string, n activities.StatusPost) error {
	s.r.record(Message{Via: "statuspage", Call: "update " + n.Status, Subject: n.Title, Text: n.Body, Detail: detail(n)})
	return nil
}

// rooms stands in for the chat platform that holds war rooms.
type rooms struct{ r *recorder }

func (rooms) Platform() string { return "slack" }

func (c rooms) Create(_ context.Context, name string) (string, string, error) {
	id := c.r.record(Message{Via: "warroom", Call: "create #" + name})
	return id, "https://chat.example.com/" + name, nil
}

func (c rooms) Invite(_ context.Context, channelID string, userIDs ...string) error {
	c.r.record(Message{Via: "warroom", Call: "invite", Text: strings.Join(userIDs, ", ")})
	return nil
}

func (c rooms) Post(_ context.Context, channelID, text string) (string, error) {
	return c.r.record(Message{Via: "warroom", Call: "post", Text: text}), nil
}

func (c rooms) Edit(_ context.Context, channelID, messageID, text string) error {
	c.r.record(Message{Via: "warroom", Call: "edit", Text: text})
	return nil
}

// announcer stands in for a Teams channel's incoming webhook.
type announcer struct{ r *recorder }

func (a announcer) Announce(_ context.Context, title, text string) error {
	a.r.record(Message{Via: "announce", Call: "announce", Subject: title, Text: text})
	return nil
}

// bridges stands in for the video bridge provider.
type bridges struct{ r *recorder }

func (b bridges) Link(_ context.Context, incidentID, topic string) (string, error) {
	id := b.r.record(Message{Via: "video", Call: "bridge", Text: topic})
	return "https://video.example.com/j/" + id, nil
}

// mailer stands in for stakeholder email.
type mailer struct{ r *recorder }

func (m mailer) Send(_ context.Context, e integrations.Email) (string, error) {
	var files []string
	for _, a := range e.Attachments {
		files = append(files, a.Filename)
	}
	return m.r.record(Message{Via: "email", Call: "mail", Person: strings.Join(e.To, ", "), Subject: e.Subject, Text: e.Text,
		Detail: detail(map[string]any{"attachments": files})}), nil
}

// tracker stands in for the issue tracker (Jira): tickets are filed and,
// in a drill, never done.
type tracker struct{ r *recorder }

func (k tracker) File(_ context.Context, t activities.Ticket) (string, error) {
	id := k.r.record(Message{Via: "tracker", Call: "file " + t.Priority, Person: t.Assignee, Subject: t.Summary, Text: t.Description,
		Detail: detail(map[string]any{"labels": t.Labels})})
	return strings.ToUpper(id), nil
}

func (k tracker) Status(_ context.Context, key string) (activities.TicketStatus, error) {
	k.r.record(Message{Via: "tracker", Call: "status " + key})
	return activities.TicketStatus{Name: "To Do", Category: "new"}, nil
}

func (tracker) URL(key string) string { return "https://tracker.example.com/browse/" + key }

// detail is v as the JSON a drill's record carries.
func detail(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprint(v))
	}
	return b
}

// newActivities builds the activities a drill registers: the real ones, with
// every outside dependency a recorder. Pagers is left nil (each page goes out
// at once, unbundled), and so is Forwarder (a drill has one alert).
func newActivities(c *catalog.Catalog, t *activities.Templates, r *recorder) *activities.Activities {
	n := map[catalog.Channel]activities.Notifier{}
	for _, ch := range Channels {
		if ch == catalog.PagerDuty {
			n[ch] = pagerOfRecord{notifier{r, ch}}
			continue
		}
		n[ch] = notifier{r, ch}
	}
	return &activities.Activities{
		Catalog:   activities.StaticCatalog{C: c},
		Notifiers: n,
		Templates: t,
		Comms: activities.CommsDeps{StatusPage: statusPage{r}, Rooms: rooms{r}, Announcer: announcer{r},
			Bridges: bridges{r}, Mailer: mailer{r}},
		Tracker: tracker{r},
	}
}
