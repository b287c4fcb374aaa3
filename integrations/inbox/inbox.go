// Package inbox records what the providers' fakes received, as one list of
// messages a person would see: the sandbox's inbox page and tests read it.
package inbox

import (
	"slices"
	"strconv"
	"sync"
	"time"
)

// Message is one thing a fake provider delivered, as the recipient would see it.
type Message struct {
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	Channel    string    `json:"channel"`  // sms, voice, email, chat, pagerduty, statuspage, tracker
	Provider   string    `json:"provider"` // twilio, sendgrid, slack, ...
	To         string    `json:"to"`
	Person     string    `json:"person,omitempty"` // the catalog handle To belongs to, when known
	From       string    `json:"from,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	Text       string    `json:"text"`
	Incident   string    `json:"incident,omitempty"`
	ProviderID string    `json:"providerId,omitempty"` // the id the provider answered with
	Links      []Link    `json:"links,omitempty"`      // acknowledge links and buttons, as shown to the person
	// Incidents are every incident the message names (a bundle names each
	// incident in it), as FindIncidentsBy finds them; without it, Incident.
	Incidents []string `json:"incidents,omitempty"`
}

// Link is a link or button in a message.
type Link struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// Filter selects messages; empty fields match everything.
type Filter struct {
	Incident string // matches any incident the message names
	To       string
	Person   string
	Channel  string
}

// Inbox is a concurrency-safe list of messages, oldest first.
type Inbox struct {
	mu   sync.Mutex
	msgs []Message
	wake chan struct{}
	who  func(channel, address string) string
	find func(Message) []string
}

// New returns an empty inbox.
func New() *Inbox { return &Inbox{wake: make(chan struct{})} }

// NameBy makes the inbox name the person behind each new message's address
// (a phone number, an email) with who, so messages can be listed per person.
func (b *Inbox) NameBy(who func(channel, address string) string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.who = who
}

// FindIncidentsBy makes the inbox list, for each new message, every
// incident find says it names (its Incident included, when find finds it).
func (b *Inbox) FindIncidentsBy(find func(Message) []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.find = find
}

// Add records m, giving it an ID and time when it has none.
func (b *Inbox) Add(m Message) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if m.ID == "" {
		m.ID = strconv.Itoa(len(b.msgs) + 1)
	}
	if m.At.IsZero() {
		m.At = time.Now()
	}
	if m.Person == "" && b.who != nil {
		m.Person = b.who(m.Channel, m.To)
	}
	switch {
	case b.find != nil:
		m.Incidents = append(m.Incidents, b.find(m)...)
	case m.Incident != "":
		m.Incidents = append([]string{m.Incident}, m.Incidents...)
	}
	seen := map[string]bool{}
	m.Incidents = slices.DeleteFunc(m.Incidents, func(id string) bool { dup := seen[id] || id == ""; seen[id] = true; return dup })
	b.msgs = append(b.msgs, m)
	close(b.wake)
	b.wake = make(chan struct{})
}

// List returns the messages f selects, newest first.
func (b *Inbox) List(f Filter) []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Message
	for _, m := range b.msgs {
		if (f.Incident == "" || m.Incident == f.Incident || slices.Contains(m.Incidents, f.Incident)) && (f.To == "" || m.To == f.To) && (f.Person == "" || m.Person == f.Person) && (f.Channel == "" || m.Channel == f.Channel) {
			out = append(out, m)
		}
	}
	slices.Reverse(out)
	return out
}

// Changed returns a channel closed at the next Add, for long polls and tests.
func (b *Inbox) Changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.wake
}
