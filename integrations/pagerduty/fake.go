package pagerduty

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

// FakeOptions configures a Fake.
type FakeOptions struct {
	Reporter fakeapi.Reporter // told of unexpected requests; nil in the sandbox
	Inbox    *inbox.Inbox     // where new alerts are shown; may be nil
	// HTTPClient sends the webhooks of SendWebhook; a client with a 10s timeout when nil.
	HTTPClient *http.Client
	// IncidentOf finds the incident ID anywhere in a dedup key (an
	// incident's ref, maybe with a page suffix as in "inc-…:run/p3", or a
	// bundle's ref), for the inbox; nil takes the whole key.
	IncidentOf func(dedupKey string) string
}

// Fake speaks PagerDuty's Events API v2 (POST /v2/enqueue) and sends signed v3
// webhooks. It keeps the state of each alert by routing key and dedup key.
type Fake struct {
	// Faults injects failures before the fake sees a request.
	Faults fakeapi.Faults

	opts FakeOptions

	received fakeapi.Log[ReceivedEvent]

	mu     sync.Mutex
	alerts map[alertKey]*Alert
	seq    int
}

// ReceivedEvent is one event the fake accepted.
type ReceivedEvent struct {
	Action        string // trigger, acknowledge or resolve
	RoutingKey    string
	DedupKey      string // as answered: generated when the trigger had none
	Summary       string
	Source        string
	Severity      string
	Component     string
	Links         []Link
	CustomDetails map[string]any
}

// Alert is the state of one alert.
type Alert struct {
	RoutingKey string
	DedupKey   string
	Summary    string
	Status     string // triggered, acknowledged or resolved
	Triggers   int    // triggers folded into it, the first included
}

type alertKey struct{ routingKey, dedupKey string }

// NewFake returns a fake with no alerts.
func NewFake(opts FakeOptions) *Fake {
	return &Fake{opts: opts, alerts: map[alertKey]*Alert{}}
}

// Register mounts the Events API on mux under its real paths.
func (f *Fake) Register(mux *http.ServeMux) {
	mux.Handle("POST /v2/enqueue", readBody(f.Faults.Wrap(http.HandlerFunc(f.enqueue))))
	unexpected := fakeapi.Unexpected(f.opts.Reporter, provider)
	mux.Handle("/v2/enqueue", unexpected)
	mux.Handle("/v2/change/enqueue", unexpected)
}

// readBody reads the request body before h runs. The server notices a client
// that hangs up only once the body is read, so without it a Hang fault would
// outlive the client's timeout.
func readBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		h.ServeHTTP(w, r)
	})
}

// eventBody is the Events API v2 request.
type eventBody struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary       string         `json:"summary"`
		Source        string         `json:"source"`
		Severity      string         `json:"severity"`
		Component     string         `json:"component"`
		CustomDetails map[string]any `json:"custom_details"`
	} `json:"payload"`
	Links []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
}

func (f *Fake) enqueue(w http.ResponseWriter, r *http.Request) {
	var b eventBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 512<<10)).Decode(&b); err != nil {
		invalidEvent(w, "Event object is invalid", "Malformed JSON or payload over 512 KB")
		return
	}
	if errs := validateEvent(b); len(errs) > 0 {
		invalidEvent(w, "Event object is invalid", errs...)
		return
	}
	ev := ReceivedEvent{Action: b.EventAction, RoutingKey: b.RoutingKey, DedupKey: b.DedupKey}
	if p := b.Payload; p != nil {
		ev.Summary, ev.Source, ev.Severity, ev.Component, ev.CustomDetails = p.Summary, p.Source, p.Severity, p.Component, p.CustomDetails
	}
	for _, l := range b.Links {
		ev.Links = append(ev.Links, Link(l))
	}
	f.apply(&ev)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

// apply records ev and moves its alert along, as PagerDuty does: a trigger
// opens an alert or folds into the open one; acknowledge and resolve of an
// unknown or resolved alert are accepted and ignored.
func (f *Fake) apply(ev *ReceivedEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	if ev.DedupKey == "" {
		ev.DedupKey = fmt.Sprintf("fake%028x", f.seq)
	}
	k := alertKey{ev.RoutingKey, ev.DedupKey}
	a := f.alerts[k]
	open := a != nil && a.Status != "resolved"
	switch {
	case ev.Action == "trigger" && open:
		a.Triggers++
	case ev.Action == "trigger":
		f.alerts[k] = &Alert{RoutingKey: ev.RoutingKey, DedupKey: ev.DedupKey, Summary: ev.Summary, Status: "triggered", Triggers: 1}
		incident := ev.DedupKey
		if f.opts.IncidentOf != nil {
			incident = f.opts.IncidentOf(ev.DedupKey)
		}
		m := inbox.Message{Channel: "pagerduty", Provider: provider, To: ev.RoutingKey, Text: ev.Summary, Incident: incident, ProviderID: ev.DedupKey}
		if f.opts.IncidentOf != nil {
			// A bundle's alert names its incidents in its details.
			for _, k := range slices.Sorted(maps.Keys(ev.CustomDetails)) {
				for _, word := range strings.Fields(fmt.Sprint(ev.CustomDetails[k])) {
					if id := f.opts.IncidentOf(word); id != "" && !slices.Contains(m.Incidents, id) {
						m.Incidents = append(m.Incidents, id)
					}
				}
			}
		}
		for _, l := range ev.Links {
			m.Links = append(m.Links, inbox.Link{Label: l.Text, URL: l.Href})
		}
		f.opts.Inbox.Add(m)
	case open && ev.Action == "acknowledge":
		a.Status = "acknowledged"
	case open && ev.Action == "resolve":
		a.Status = "resolved"
	}
	f.received.Add(*ev)
}

func validateEvent(b eventBody) []string {
	var errs []string
	if len(b.RoutingKey) != routingKeyLen {
		errs = append(errs, "Length of 'routing_key' is incorrect (should be 32 characters)")
	}
	if len(b.DedupKey) > maxDedupKey {
		errs = append(errs, "'dedup_key' is too long (maximum is 255 characters)")
	}
	switch b.EventAction {
	case "trigger":
		p := b.Payload
		switch {
		case p == nil:
			errs = append(errs, "'payload' is missing or blank")
		default:
			if strings.TrimSpace(p.Summary) == "" {
				errs = append(errs, "'payload.summary' is missing or blank")
			} else if len(p.Summary) > maxSummary {
				errs = append(errs, "'payload.summary' is too long (maximum is 1024 characters)")
			}
			if strings.TrimSpace(p.Source) == "" {
				errs = append(errs, "'payload.source' is missing or blank")
			}
			switch p.Severity {
			case SeverityCritical, SeverityError, SeverityWarning, SeverityInfo:
			default:
				errs = append(errs, "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')")
			}
		}
	case "acknowledge", "resolve":
		if b.DedupKey == "" {
			errs = append(errs, "'dedup_key' is missing or blank")
		}
	default:
		errs = append(errs, "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')")
	}
	return errs
}

func invalidEvent(w http.ResponseWriter, message string, errs ...string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": message, "errors": errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Received returns every event the fake accepted, oldest first.
func (f *Fake) Received() []ReceivedEvent { return f.received.All() }

// Alert returns the state of the alert with this routing key and dedup key.
func (f *Fake) Alert(routingKey, dedupKey string) (Alert, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.alerts[alertKey{routingKey, dedupKey}]
	if !ok {
		return Alert{}, false
	}
	return *a, true
}

// WaitFor returns the first received event that pred accepts, waiting for it
// until ctx is done.
func (f *Fake) WaitFor(ctx context.Context, pred func(ReceivedEvent) bool) (ReceivedEvent, error) {
	return f.received.WaitFor(ctx, pred)
}

// ExpectEvent waits up to 5 seconds for an event with this action and dedup
// key (the incident ID), and fails t if none comes.
func (f *Fake) ExpectEvent(t testing.TB, action, dedupKey string) ReceivedEvent {
	t.Helper()
	return f.received.Expect(t, fmt.Sprintf("pagerduty fake: no %s for dedup key %q", action, dedupKey), func(ev ReceivedEvent) bool {
		return ev.Action == action && ev.DedupKey == dedupKey
	})
}

// ExpectTrigger waits up to 5 seconds for a trigger to routingKey whose
// summary contains substring, and fails t if none comes.
func (f *Fake) ExpectTrigger(t testing.TB, routingKey, substring string) ReceivedEvent {
	t.Helper()
	return f.received.Expect(t, fmt.Sprintf("pagerduty fake: no trigger to routing key %q with summary containing %q", routingKey, substring), func(ev ReceivedEvent) bool {
		return ev.Action == "trigger" && ev.RoutingKey == routingKey && strings.Contains(ev.Summary, substring)
	})
}

// InvalidEventFault is the Events API's 400 for an event it rejects.
func InvalidEventFault(errs ...string) fakeapi.Fault {
	b, _ := json.Marshal(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": errs})
	return fakeapi.Fault{Status: http.StatusBadRequest, Body: string(b), Header: map[string]string{"Content-Type": "application/json"}}
}

// RateLimitFault is the Events API's 429, telling the client to wait retryAfter
// in PagerDuty's ratelimit-reset header (seconds).
func RateLimitFault(retryAfter time.Duration) fakeapi.Fault {
	return fakeapi.Fault{
		Status: http.StatusTooManyRequests,
		Body:   `{"status":"throttle event","message":"Requests for this service are arriving too quickly. Please retry later."}`,
		Header: map[string]string{"Content-Type": "application/json", "ratelimit-reset": fmt.Sprint(int(retryAfter.Seconds()))},
	}
}

// ServerErrorFault is a 5xx from PagerDuty itself, with a JSON body.
func ServerErrorFault(status int) fakeapi.Fault {
	return fakeapi.Fault{Status: status, Body: `{"status":"error","message":"Internal server error"}`, Header: map[string]string{"Content-Type": "application/json"}}
}

// FakeServiceID is the ID of the one PagerDuty service the fake's webhooks
// name: the service sitrep pages into.
const FakeServiceID = "PSVC001"

// FakeUserID is the PagerDuty user ID the fake gives the agent named name.
func FakeUserID(name string) string { return "P" + strings.ToUpper(name) }

// SendWebhook delivers one signed v3 webhook about the incident whose key is
// incidentKey (the dedup key, that is the sitrep incident ID) to targetURL, as
// PagerDuty does when someone acts on it: eventType is e.g.
// "incident.acknowledged", agentName who did it.
func (f *Fake) SendWebhook(ctx context.Context, targetURL string, secret integrations.Secret, eventType, incidentKey, agentName string) (*http.Response, error) {
	status := webhookStatus(eventType)
	f.mu.Lock()
	f.seq++
	n := f.seq
	title := ""
	for _, a := range f.alerts {
		if a.DedupKey != incidentKey {
			continue
		}
		title = a.Summary
		// Someone acted in PagerDuty: the alert follows before the webhook tells.
		if status == "acknowledged" && a.Status == "triggered" || status == "resolved" {
			a.Status = status
		}
	}
	f.mu.Unlock()

	var w webhookBody
	w.Event.ID = fmt.Sprintf("01FAKE%020d", n)
	w.Event.EventType = eventType
	w.Event.ResourceType = "incident"
	w.Event.OccurredAt = time.Now().UTC()
	if agentName != "" {
		w.Event.Agent = &reference{ID: FakeUserID(agentName), Type: "user_reference", Summary: agentName}
	}
	w.Event.Data = incidentField{
		ID: fmt.Sprintf("PINC%03d", n), Type: "incident", Number: n,
		Status:      status,
		IncidentKey: incidentKey, Title: title, Urgency: "high",
		Service: reference{ID: FakeServiceID, Type: "service_reference"},
	}
	body, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("send pagerduty webhook: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, targetURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("send pagerduty webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "PagerDuty-Webhook/V3.0")
	req.Header.Set("X-PagerDuty-Signature", Sign(body, secret))
	req.Header.Set("X-Webhook-Id", w.Event.ID)
	req.Header.Set("X-Webhook-Subscription", "PSUB001")
	hc := f.opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("send pagerduty webhook: %w", err)
	}
	return resp, nil
}

// webhookStatus is the incident status after an event of this type, or ""
// when the type does not change it.
func webhookStatus(eventType string) string {
	switch eventType {
	case "incident.triggered", "incident.reopened", "incident.unacknowledged":
		return "triggered"
	case "incident.acknowledged":
		return "acknowledged"
	case "incident.resolved":
		return "resolved"
	}
	return ""
}

// Sign returns the X-PagerDuty-Signature value for body: "v1=" and the hex
// HMAC-SHA256 of the raw body keyed with secret.
func Sign(body []byte, secret integrations.Secret) string {
	mac := hmac.New(sha256.New, []byte(secret.Reveal()))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}
