package pagerduty

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/PagerDuty/go-pagerduty/webhookv3"

	"github.com/sitrep-dev/sitrep/integrations"
)

// The errors VerifyWebhook returns. Answer ErrInvalidSignature with 403 and
// the others with 400, so that PagerDuty does not redeliver.
var (
	ErrInvalidSignature = webhookv3.ErrNoValidSignatures
	ErrMalformedHeader  = webhookv3.ErrMalformedHeader
	ErrMalformedBody    = webhookv3.ErrMalformedBody
	ErrNoSecret         = errors.New("no pagerduty webhook secret configured")
)

// VerifyWebhook checks the X-PagerDuty-Signature of a v3 webhook delivery
// against each secret in turn, so that old and new secrets are both valid
// while a secret is rotated. It reads r.Body and puts it back.
func VerifyWebhook(r *http.Request, secrets ...integrations.Secret) error {
	tried := false
	for _, s := range secrets {
		if s == "" {
			continue
		}
		tried = true
		err := webhookv3.VerifySignature(r, s.Reveal())
		if !errors.Is(err, webhookv3.ErrNoValidSignatures) {
			return err // nil, or a malformed request that no other secret can fix
		}
	}
	if !tried {
		return ErrNoSecret
	}
	return ErrInvalidSignature
}

// WebhookEvent is one v3 webhook event about an incident.
type WebhookEvent struct {
	ID          string    // the event's ID: PagerDuty redelivers with the same one
	Type        string    // e.g. "incident.acknowledged", "incident.resolved"
	IncidentKey string    // the incident's key: the dedup key sitrep sent, so the sitrep incident ID
	Agent       string    // who did it, e.g. "Alice"; empty when PagerDuty did it itself
	OccurredAt  time.Time // when it happened
}

// ParseWebhook decodes a v3 webhook body. Verify it first.
func ParseWebhook(body []byte) (WebhookEvent, error) {
	var w webhookBody
	if err := json.Unmarshal(body, &w); err != nil {
		return WebhookEvent{}, fmt.Errorf("parse pagerduty webhook: %w", err)
	}
	if w.Event.ID == "" || w.Event.EventType == "" {
		return WebhookEvent{}, errors.New("parse pagerduty webhook: no event id or event_type")
	}
	ev := WebhookEvent{
		ID:          w.Event.ID,
		Type:        w.Event.EventType,
		IncidentKey: w.Event.Data.IncidentKey,
		OccurredAt:  w.Event.OccurredAt,
	}
	if w.Event.Agent != nil {
		ev.Agent = w.Event.Agent.Summary
	}
	return ev, nil
}

// webhookBody is the v3 webhook wire shape, the part sitrep reads or the fake writes.
type webhookBody struct {
	Event struct {
		ID           string        `json:"id"`
		EventType    string        `json:"event_type"`
		ResourceType string        `json:"resource_type"`
		OccurredAt   time.Time     `json:"occurred_at"`
		Agent        *reference    `json:"agent"`
		Client       *struct{}     `json:"client"`
		Data         incidentField `json:"data"`
	} `json:"event"`
}

type reference struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary,omitempty"`
}

type incidentField struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Number      int       `json:"number"`
	Status      string    `json:"status,omitempty"`
	IncidentKey string    `json:"incident_key"`
	Title       string    `json:"title"`
	Urgency     string    `json:"urgency,omitempty"`
	Service     reference `json:"service"`
	HTMLURL     string    `json:"html_url,omitempty"`
}
