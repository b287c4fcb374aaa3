package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
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
}

// record notes one call and returns the provider id it answers with.
func (r *recorder) record(m Message) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m.At = r.now()
	r.msgs = append(r.msgs, m)
	return fmt.Sprintf("drill-%s-%d", m.Via, len(r.msgs))
}

// call records a call to a dependency that is not a notifier: its name,
// the method and its input, whatever that is.
func (r *recorder) call(dep, method, person string, in any) string {
	detail, err := json.Marshal(in)
	if err != nil {
		detail, _ = json.Marshal(fmt.Sprint(in))
	}
	return r.record(Message{Via: dep, Call: method, Person: person, Detail: detail})
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
	}
}
