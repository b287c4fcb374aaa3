package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

// FakeSig is the signature a Fake accepts when FakeOptions.Sig is empty.
const FakeSig = "sitrepfakesig0000"

// FakeOptions configures a Fake.
type FakeOptions struct {
	Reporter fakeapi.Reporter // told of unexpected requests; nil in the sandbox
	Inbox    *inbox.Inbox     // where cards are shown; may be nil
	// Sig is the secret part of the webhook URLs it accepts: the sig query
	// parameter of a Workflows URL, the key of a connector URL. FakeSig when empty.
	Sig string
}

// Fake is a Teams channel behind incoming webhooks: Power Automate
// Workflows (POST /workflows/{id}/triggers/manual/paths/invoke?...&sig=...,
// answering 202) and legacy Office 365 connectors (POST
// /webhookb2/.../IncomingWebhook/{key}/..., answering 200 "1", and reporting
// failures in a 200 body).
type Fake struct {
	// Faults injects failures before the fake sees a request.
	Faults fakeapi.Faults

	opts FakeOptions

	mu    sync.Mutex // keeps cards and the inbox in the same order
	cards fakeapi.Log[PostedCard]
}

// PostedCard is a card the fake accepted.
type PostedCard struct {
	Webhook  string // the workflow ID, or "connector"
	Title    string
	Text     string
	Incident string // the "Incident" fact
	Links    []Link
	Raw      []byte // the request body
}

// NewFake returns a fake channel with no cards.
func NewFake(opts FakeOptions) *Fake {
	if opts.Sig == "" {
		opts.Sig = FakeSig
	}
	return &Fake{opts: opts}
}

// WebhookURL returns a Workflows webhook URL on the fake served at base.
func (f *Fake) WebhookURL(base string) integrations.Secret {
	q := url.Values{"api-version": {"2016-06-01"}, "sp": {"/triggers/manual/run"}, "sv": {"1.0"}, "sig": {f.opts.Sig}}
	return integrations.Secret(strings.TrimRight(base, "/") + "/workflows/sitrep/triggers/manual/paths/invoke?" + q.Encode())
}

// ConnectorURL returns a legacy connector webhook URL on the fake served at base.
func (f *Fake) ConnectorURL(base string) integrations.Secret {
	return integrations.Secret(strings.TrimRight(base, "/") + "/webhookb2/sitrep@tenant/IncomingWebhook/" + f.opts.Sig + "/owner")
}

// Register mounts the fake on mux under the real webhook paths.
func (f *Fake) Register(mux *http.ServeMux) {
	mux.Handle("POST /workflows/{workflow}/triggers/manual/paths/invoke", f.wrap(f.workflow))
	mux.Handle("POST /webhookb2/{rest...}", f.wrap(f.connector))
	unexpected := fakeapi.Unexpected(f.opts.Reporter, provider)
	mux.Handle("/workflows/", unexpected)
	mux.Handle("/webhookb2/", unexpected)
}

// wrap reads the body before faults apply: the server notices a client that
// hangs up only once the body is read, so a Hang fault ends with the client.
func (f *Fake) wrap(h func(http.ResponseWriter, *http.Request, []byte)) http.Handler {
	faulty := f.Faults.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h(w, r, body)
	}))
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

// workflowError writes a Logic Apps error body.
func workflowError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}

func (f *Fake) workflow(w http.ResponseWriter, r *http.Request, body []byte) {
	switch sig := r.URL.Query().Get("sig"); {
	case sig == "":
		workflowError(w, http.StatusUnauthorized, "DirectApiAuthorizationRequired",
			"The request must be authenticated only by Shared Access scheme.")
		return
	case sig != f.opts.Sig:
		workflowError(w, http.StatusUnauthorized, "DirectApiInvalidAuthorizationSignature",
			"The provided authorization signature is not valid.")
		return
	case len(body) > maxPayload:
		workflowError(w, http.StatusRequestEntityTooLarge, "MessageSizeExceeded", "The message is larger than 28 KB.")
		return
	}
	c, ok := parseCard(body)
	if !ok {
		workflowError(w, http.StatusBadRequest, "InvalidRequestContent",
			"The input body for trigger 'manual' of type 'Request' did not match its schema definition.")
		return
	}
	c.Webhook = r.PathValue("workflow")
	f.record(c)
	w.WriteHeader(http.StatusAccepted)
}

func (f *Fake) connector(w http.ResponseWriter, r *http.Request, body []byte) {
	if !strings.Contains(r.URL.Path, "/IncomingWebhook/"+f.opts.Sig+"/") {
		http.Error(w, "Webhook not found.", http.StatusNotFound)
		return
	}
	if len(body) > maxPayload {
		// Connectors report a failed delivery in a 200 body.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413 with ContextId MS-CV=fake.")
		return
	}
	c, ok := parseCard(body)
	if !ok {
		http.Error(w, "Bad payload received by generic incoming webhook.", http.StatusBadRequest)
		return
	}
	c.Webhook = "connector"
	f.record(c)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "1")
}

// parseCard reads a message with an Adaptive Card attachment.
func parseCard(body []byte) (PostedCard, bool) {
	var p payload
	if json.Unmarshal(body, &p) != nil || p.Type != "message" || len(p.Attachments) == 0 {
		return PostedCard{}, false
	}
	a := p.Attachments[0]
	if a.ContentType != adaptiveCardType || a.Content.Type != "AdaptiveCard" {
		return PostedCard{}, false
	}
	c := PostedCard{Raw: body}
	var texts []string
	for i, e := range a.Content.Body {
		switch {
		case e.Type == "TextBlock" && i == 0 && e.Weight == "Bolder":
			c.Title = e.Text
		case e.Type == "TextBlock":
			texts = append(texts, e.Text)
		case e.Type == "FactSet":
			for _, ft := range e.Facts {
				if ft.Title == incidentFact {
					c.Incident = ft.Value
				}
			}
		}
	}
	c.Text = strings.Join(texts, "\n")
	for _, act := range a.Content.Actions {
		if act.Type == "Action.OpenUrl" {
			c.Links = append(c.Links, Link{Title: act.Title, URL: act.URL})
		}
	}
	return c, true
}

func (f *Fake) record(c PostedCard) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := inbox.Message{Channel: "chat", Provider: provider, To: c.Webhook, Subject: c.Title, Text: c.Text, Incident: c.Incident}
	for _, l := range c.Links {
		m.Links = append(m.Links, inbox.Link{Label: l.Title, URL: l.URL})
	}
	f.opts.Inbox.Add(m)
	f.cards.Add(c)
}

// Received returns the cards accepted, oldest first.
func (f *Fake) Received() []PostedCard { return f.cards.All() }

// WaitFor returns the first card that pred accepts, waiting for it until
// ctx is done.
func (f *Fake) WaitFor(ctx context.Context, pred func(PostedCard) bool) (PostedCard, error) {
	return f.cards.WaitFor(ctx, pred)
}

// ExpectCard waits up to 5 seconds for a card whose title or text contains
// substring, and fails t if none comes.
func (f *Fake) ExpectCard(t testing.TB, substring string) PostedCard {
	t.Helper()
	return f.cards.Expect(t, fmt.Sprintf("teams fake: no card containing %q", substring), func(c PostedCard) bool {
		return strings.Contains(c.Title, substring) || strings.Contains(c.Text, substring)
	})
}

// RateLimitFault is a 429 with Retry-After in seconds.
func RateLimitFault(retryAfter time.Duration) fakeapi.Fault {
	return fakeapi.Fault{Status: http.StatusTooManyRequests,
		Body:   `{"error":{"code":"WorkflowTriggeredTooFrequently","message":"Rate limit is exceeded."}}`,
		Header: map[string]string{"Content-Type": "application/json", "Retry-After": fmt.Sprint(int(retryAfter.Seconds()))}}
}

// ConnectorFailureFault is a legacy connector's way of failing: HTTP 200
// with the real status in the text.
func ConnectorFailureFault(status int) fakeapi.Fault {
	return fakeapi.Fault{Status: http.StatusOK, Header: map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		Body: fmt.Sprintf("Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error %d with ContextId MS-CV=fake.", status)}
}
