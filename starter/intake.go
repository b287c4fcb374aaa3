// The HTTP intake (Intake, which `sitrep serve` serves) turns what monitoring
// tools, stakeholders and responders send into calls on incidents.
//
// # Alerts
//
// Every alert route needs one of its integration's keys, as
// "Authorization: Bearer KEY"; PagerDuty-compatible events carry theirs as
// routing_key. A batch is validated whole before anything is recorded: a bad
// payload is a 400 naming each bad field and records nothing. An alert that
// could not be recorded (Temporal unreachable) is a 503 with Retry-After: 5,
// and the sender retries the whole batch; the repeats fold into the incidents
// they opened. Success is 200 with {"alerts":[{"id":"inc-…","outcome":"opened"}]},
// the outcome being opened, folded, or ignored for a resolved alert with no
// open incident.
//
//	POST /v1/alerts/alertmanager  Prometheus Alertmanager webhook (version 4); integration "alertmanager"
//	POST /v1/alerts/grafana       Grafana alerting webhook; integration "grafana"
//	POST /v2/enqueue              PagerDuty Events API v2 (trigger, acknowledge, resolve); integration "pagerduty"
//	POST /v1/alerts               sitrep's generic JSON alert, below; integration "generic"
//	POST /v1/reports              a stakeholder's report, JSON or form; integration "report"
//	GET  /report                  the report form, served only when reports are open
//
// Alertmanager and Grafana alerts become one sitrep alert each: service and
// severity from labels (default "service" and "severity"), summary from the
// summary annotation, else the description annotation, else the alertname
// label, dedup key from the fingerprint (or the configured labels), links from
// generatorURL, the runbook_url annotation and Grafana's dashboard, panel and
// silence URLs. An alert whose status is resolved is recorded as resolved,
// which mitigates its incident (or resolves it, as configured).
// A PagerDuty resolve event is a resolved alert for its dedup key; an
// acknowledge event is answered 202 and otherwise ignored, since it names no
// person to acknowledge as.
//
// # Generic alerts
//
// POST /v1/alerts takes one JSON object; unknown fields are an error:
//
//	{
//	  "service":  "payments",                 // required; a service the catalog does not know goes to the catch-all team
//	  "severity": "critical",                 // required: SEV1..SEV4, or critical, error, high, warning, info
//	  "summary":  "checkout errors above 5%", // required; at most 1024 bytes are kept
//	  "dedupKey": "payments/checkout-errors", // optional, default service|summary; repeats fold into the open incident
//	  "source":   "monitoring",               // optional: monitoring (default), internal or external
//	  "labels":   {"region": "eu-1"},         // optional; string values
//	  "links":    ["https://grafana.example.com/d/abc"], // optional; absolute http(s) URLs
//	  "status":   "firing"                    // optional: firing (default) or resolved
//	}
//
// # Acknowledgments
//
//	GET  /ack/{token}             the incident and its buttons; a signed link from a page
//	POST /ack/{token}             action=ack or action=escalate (GET never acts: mail scanners fetch links)
//	POST /v1/twilio/sms           a reply to an SMS page: 4 or ack, 5 or esc, optionally followed by the incident code
//	POST /v1/twilio/voice         the voice page's Gather action, ?incident=ID&person=HANDLE: 4 acknowledges, 5 escalates
//	POST /v1/slack/actions        Slack buttons, action_id ack or escalate, value the incident ID
//	POST /v1/mattermost/actions   Mattermost buttons; the context carries an acknowledge token
//	POST /v1/pagerduty/webhook    PagerDuty v3 webhooks: incident.acknowledged and incident.resolved
//
// Each is verified (the link's signature, Twilio's, Slack's or PagerDuty's)
// and goes through the same Acknowledge or Escalate update, with the
// provider's delivery ID as the request ID, so a repeated delivery counts once.
//
// # Operations
//
//	GET /healthz  200 while serving
//	GET /readyz   200 when Temporal answers, else 503
//	GET /metrics  Prometheus metrics, from the intake's own registry
package starter

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/acklink"
	"github.com/sitrep-dev/sitrep/workflows"
)

// The integrations: the names IntakeConfig.Keys is keyed by, and what
// workflows.Alert.Integration says.
const (
	IntegrationAlertmanager = "alertmanager"
	IntegrationGrafana      = "grafana"
	IntegrationPagerDuty    = "pagerduty"
	IntegrationGeneric      = "generic"
	IntegrationReport       = "report"
)

var integrationNames = []string{IntegrationAlertmanager, IntegrationGrafana, IntegrationPagerDuty, IntegrationGeneric, IntegrationReport}

// DefaultMaxBody is the largest request body the intake reads by default.
const DefaultMaxBody = 1 << 20

// callTimeout bounds each request's calls to Temporal, so that a sender
// hears 503 and retries rather than waiting on a server that is down.
const callTimeout = 10 * time.Second

// retryAfter is what a 503 asks the sender to wait, in seconds.
const retryAfter = "5"

// Incidents is what the intake needs of incidents. *Client is one; tests use
// an in-memory fake.
type Incidents interface {
	Alert(ctx context.Context, al workflows.Alert) (Receipt, error)
	Acknowledge(ctx context.Context, id, requestID string, req workflows.AckRequest) (workflows.AckResult, error)
	Escalate(ctx context.Context, id, requestID string, req workflows.EscalateRequest) (workflows.EscalateResult, error)
	Resolve(ctx context.Context, id string, req workflows.PhaseRequest) (workflows.PhaseResult, error)
	Status(ctx context.Context, id string) (workflows.IncidentState, error)
	List(ctx context.Context, f ListFilter) ([]Listed, error)
	// Ready reports whether Temporal answers.
	Ready(ctx context.Context) error
}

// People finds the catalog handle of whoever replied on a channel.
type People interface {
	ByPhone(e164 string) (handle string, ok bool)
	ByChatID(id string) (handle string, ok bool)
	ByEmail(email string) (handle string, ok bool)
}

// RecentPages finds the incident most recently paged to a person, for an SMS
// reply that names no incident.
type RecentPages interface {
	LatestFor(person string) (incidentID string, ok bool)
}

// Key is one integration key.
type Key struct {
	// Value is the key itself: the bearer token, or PagerDuty's routing_key.
	Value string
	// Service is the service a PagerDuty routing key's events belong to,
	// as in PagerDuty, where the key is a service's integration. Required
	// for pagerduty keys; unused by the others, whose payloads name it.
	Service string
}

// IntakeConfig configures the intake. The zero value of each field is its
// default where one is given.
type IntakeConfig struct {
	// Keys lists the valid keys of each integration (IntegrationAlertmanager,
	// …). All of an integration's keys are valid at once, so a key can be
	// rotated by adding the new one, moving senders over, then removing the
	// old one. An integration with no keys refuses every request.
	Keys map[string][]Key

	// ServiceLabel and SeverityLabel name the Alertmanager and Grafana
	// labels that carry the service and the severity; default "service" and
	// "severity".
	ServiceLabel  string
	SeverityLabel string
	// DedupLabels, when set, make the dedup key of an Alertmanager or
	// Grafana alert from these labels' values instead of its fingerprint.
	DedupLabels []string
	// Severities maps severity words (case-insensitive) to sitrep
	// severities; default DefaultSeverities(). SEV1..SEV4 always map to
	// themselves.
	Severities map[string]catalog.Severity
	// AllResolved is what an incident becomes when its source reports the
	// alert resolved: workflows.Mitigated (default) or workflows.Resolved.
	// The intake stamps it on each resolved alert (ResolveIncident); the
	// workflow acts on it.
	AllResolved workflows.Phase

	// PublicURL is the intake's URL as the outside world calls it, e.g.
	// https://sitrep.example.com: Twilio signs PublicURL + path + query.
	PublicURL string
	// AckLinks checks acknowledge links and Mattermost button tokens; nil
	// disables /ack and /v1/mattermost/actions.
	AckLinks *acklink.Signer
	// People maps phone numbers and chat IDs to catalog handles; required
	// with Twilio, Slack or acknowledge links.
	People People
	// RecentPages finds a person's latest page for an SMS reply without a
	// code; required with Twilio.
	RecentPages RecentPages
	// OpenReports accepts reports without a key, and serves the report
	// form, for an intake only people inside the company can reach.
	OpenReports bool

	// TwilioAuthToken verifies Twilio's webhooks; empty disables /v1/twilio.
	TwilioAuthToken string
	// SlackSigningSecret verifies Slack's requests; empty disables /v1/slack.
	SlackSigningSecret string
	// PagerDutyWebhookSecrets verify PagerDuty v3 webhooks, any one of them,
	// so a secret can be rotated; none disables /v1/pagerduty/webhook.
	PagerDutyWebhookSecrets []string
	// PagerDutyUsers maps PagerDuty user IDs (e.g. PLH1HKV) to catalog
	// handles, for acknowledgments made in PagerDuty.
	PagerDutyUsers map[string]string

	// MaxBody is the largest request body read; default DefaultMaxBody.
	MaxBody int64
}

// Intake is the HTTP intake: alerts in, acknowledgments in, health and
// metrics out.
type Intake struct {
	cfg     IntakeConfig
	inc     Incidents
	log     *slog.Logger
	formats *formats
	keys    map[string][]hashedKey
	metrics *metrics
	pages   *template.Template
	handler http.Handler
	now     func() time.Time
	newKey  func() string // a dedup key for a PagerDuty trigger without one
}

type hashedKey struct {
	sum     [sha256.Size]byte
	service string
}

// NewIntake checks cfg, reporting every problem at once, and builds the intake.
func NewIntake(cfg IntakeConfig, incidents Incidents, logger *slog.Logger) (*Intake, error) {
	cfg = cfg.defaults()
	if err := cfg.validate(incidents); err != nil {
		return nil, fmt.Errorf("intake config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics()
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	in := &Intake{
		cfg: cfg, inc: incidents, log: logger,
		keys:    map[string][]hashedKey{},
		metrics: m,
		pages:   pages,
		now:     time.Now,
		newKey:  newDedupKey,
		formats: &formats{
			serviceLabel: cfg.ServiceLabel, severityLabel: cfg.SeverityLabel,
			dedupLabels: cfg.DedupLabels, severities: map[string]catalog.Severity{},
		},
	}
	for w, sev := range cfg.Severities {
		in.formats.severities[strings.ToLower(strings.TrimSpace(w))] = sev
	}
	for name, keys := range cfg.Keys {
		for _, k := range keys {
			in.keys[name] = append(in.keys[name], hashedKey{sum: sha256.Sum256([]byte(k.Value)), service: k.Service})
		}
	}
	in.handler = in.routes()
	return in, nil
}

func (c IntakeConfig) defaults() IntakeConfig {
	if c.ServiceLabel == "" {
		c.ServiceLabel = "service"
	}
	if c.SeverityLabel == "" {
		c.SeverityLabel = "severity"
	}
	if c.Severities == nil {
		c.Severities = DefaultSeverities()
	}
	if c.AllResolved == "" {
		c.AllResolved = workflows.Mitigated
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	return c
}

func (c IntakeConfig) validate(incidents Incidents) error {
	var errs []error
	if incidents == nil {
		errs = append(errs, errors.New("no incidents client"))
	}
	seen := map[string]string{}
	for name, keys := range c.Keys {
		if !slices.Contains(integrationNames, name) {
			errs = append(errs, fmt.Errorf("keys: unknown integration %q (want one of %s)", name, strings.Join(integrationNames, ", ")))
		}
		for i, k := range keys {
			switch {
			case len(k.Value) < 16:
				errs = append(errs, fmt.Errorf("keys.%s[%d]: shorter than 16 characters", name, i))
			case seen[k.Value] != "":
				errs = append(errs, fmt.Errorf("keys.%s[%d]: the same key as one of %s's", name, i, seen[k.Value]))
			}
			seen[k.Value] = name
			if name == IntegrationPagerDuty && strings.TrimSpace(k.Service) == "" {
				errs = append(errs, fmt.Errorf("keys.%s[%d]: no service: a routing key names the service its events belong to", name, i))
			}
		}
	}
	for w, sev := range c.Severities {
		if !slices.Contains([]catalog.Severity{catalog.SEV1, catalog.SEV2, catalog.SEV3, catalog.SEV4}, sev) {
			errs = append(errs, fmt.Errorf("severities.%s: %q is not SEV1..SEV4", w, sev))
		}
	}
	if c.AllResolved != workflows.Mitigated && c.AllResolved != workflows.Resolved {
		errs = append(errs, fmt.Errorf("allResolved: %q is not mitigated or resolved", c.AllResolved))
	}
	if c.TwilioAuthToken != "" {
		if !isWebURL(c.PublicURL) {
			errs = append(errs, fmt.Errorf("publicURL: %q is not an absolute http(s) URL; Twilio signs requests with it", c.PublicURL))
		}
		if c.RecentPages == nil {
			errs = append(errs, errors.New("recentPages: needed to answer SMS replies"))
		}
	}
	if c.People == nil && (c.TwilioAuthToken != "" || c.SlackSigningSecret != "" || c.AckLinks != nil) {
		errs = append(errs, errors.New("people: needed to map SMS and chat replies to people"))
	}
	return errors.Join(errs...)
}

// Handler returns the intake's routes.
func (in *Intake) Handler() http.Handler { return in.handler }

func (in *Intake) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, in.metrics.instrument(pattern, h))
	}
	handle("POST /v1/alerts/alertmanager", in.alertGroupHandler(IntegrationAlertmanager, in.formats.parseAlertmanager))
	handle("POST /v1/alerts/grafana", in.alertGroupHandler(IntegrationGrafana, in.formats.parseGrafana))
	handle("POST /v1/alerts", in.genericHandler)
	handle("POST /v2/enqueue", in.enqueueHandler)
	handle("POST /v1/reports", in.reportHandler)
	handle("GET /report", in.reportFormHandler)
	if in.cfg.AckLinks != nil {
		handle("GET /ack/{token}", in.ackPageHandler)
		handle("POST /ack/{token}", in.ackActionHandler)
		handle("POST /v1/mattermost/actions", in.mattermostHandler)
	}
	if in.cfg.TwilioAuthToken != "" {
		handle("POST /v1/twilio/sms", in.smsHandler)
		handle("POST /v1/twilio/voice", in.voiceHandler)
	}
	if in.cfg.SlackSigningSecret != "" {
		handle("POST /v1/slack/actions", in.slackHandler)
	}
	if len(in.cfg.PagerDutyWebhookSecrets) > 0 {
		handle("POST /v1/pagerduty/webhook", in.pagerDutyWebhookHandler)
	}
	handle("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n") // the client went away; nothing to do
	})
	handle("GET /readyz", in.readyHandler)
	mux.Handle("GET /metrics", in.metrics.handler())
	return mux
}

func (in *Intake) readyHandler(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := in.inc.Ready(ctx); err != nil {
		in.log.Warn("intake not ready", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "not ready: temporal does not answer\n") // the client went away; nothing to do
		return
	}
	_, _ = io.WriteString(w, "ok\n") // the client went away; nothing to do
}

// Metric outcomes of an alert.
const (
	outcomeOpened       = "opened"
	outcomeFolded       = "folded"
	outcomeIgnored      = "ignored" // resolved, with no open incident to resolve
	outcomeInvalid      = "invalid"
	outcomeUnauthorized = "unauthorized"
	outcomeUnavailable  = "unavailable"
)

// sourceUnknown labels the count of a request refused before its alerts were read.
const sourceUnknown = "unknown"

// AlertOutcome is where one alert went, in an alert route's answer.
type AlertOutcome struct {
	ID      string `json:"id"`
	Outcome string `json:"outcome"` // opened, folded, or ignored (resolved with no open incident)
}

type alertsAnswer struct {
	Alerts []AlertOutcome `json:"alerts"`
}

type errorAnswer struct {
	Error    string   `json:"error"`
	Problems []string `json:"problems,omitempty"`
}

// errTooLarge is a body over MaxBody.
var errTooLarge = errors.New("body too large")

// readBody reads the whole body, at most MaxBody bytes.
func (in *Intake) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, in.cfg.MaxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, fmt.Errorf("%w: the limit is %d bytes", errTooLarge, in.cfg.MaxBody)
	}
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// bodyStatus is the status for a readBody error.
func bodyStatus(err error) int {
	if errors.Is(err, errTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// authError is a request without a valid key; its message says which.
type authError struct{ msg string }

func (e *authError) Error() string { return e.msg }

// authorize checks the request's bearer key against every key of integration.
func (in *Intake) authorize(r *http.Request, integration string) error {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return &authError{"missing key: send Authorization: Bearer <key>"}
	}
	scheme, key, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		return &authError{"missing key: the Authorization header is not Bearer <key>"}
	}
	if _, ok := in.matchKey(integration, strings.TrimSpace(key)); !ok {
		return in.wrongKey(integration, "wrong key")
	}
	return nil
}

func (in *Intake) wrongKey(integration, what string) error {
	if len(in.keys[integration]) == 0 {
		return &authError{fmt.Sprintf("%s: integration %s has no keys configured", what, integration)}
	}
	return &authError{fmt.Sprintf("%s for integration %s", what, integration)}
}

// matchKey compares presented with every key of integration in constant
// time, hashing first so that not even the length leaks, and returns the
// matching key's service.
func (in *Intake) matchKey(integration, presented string) (service string, ok bool) {
	sum := sha256.Sum256([]byte(presented))
	for _, k := range in.keys[integration] {
		if subtle.ConstantTimeCompare(sum[:], k.sum[:]) == 1 {
			service, ok = k.service, true
		}
	}
	return service, ok
}

// alertGroupHandler serves Alertmanager and Grafana webhooks.
func (in *Intake) alertGroupHandler(integration string, parse func([]byte) ([]workflows.Alert, int, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := in.alertBody(w, r, integration)
		if !ok {
			return
		}
		alerts, truncated, err := parse(body)
		if err != nil {
			in.refuse(w, integration, err)
			return
		}
		if truncated > 0 {
			in.log.Warn("alert group truncated by its sender", "integration", integration, "truncatedAlerts", truncated)
		}
		in.recordAndAnswer(w, r, integration, alerts)
	}
}

func (in *Intake) genericHandler(w http.ResponseWriter, r *http.Request) {
	body, ok := in.alertBody(w, r, IntegrationGeneric)
	if !ok {
		return
	}
	al, err := in.formats.parseGeneric(body)
	if err != nil {
		in.refuse(w, IntegrationGeneric, err)
		return
	}
	in.recordAndAnswer(w, r, IntegrationGeneric, []workflows.Alert{al})
}

// alertBody authenticates a bearer-key alert route and reads its body,
// answering the request itself when it cannot go on.
func (in *Intake) alertBody(w http.ResponseWriter, r *http.Request, integration string) ([]byte, bool) {
	if err := in.authorize(r, integration); err != nil {
		in.metrics.alert(sourceUnknown, integration, outcomeUnauthorized, 1)
		writeJSON(w, http.StatusUnauthorized, errorAnswer{Error: err.Error()})
		return nil, false
	}
	body, err := in.readBody(w, r)
	if err != nil {
		in.metrics.alert(sourceUnknown, integration, outcomeInvalid, 1)
		writeJSON(w, bodyStatus(err), errorAnswer{Error: err.Error()})
		return nil, false
	}
	return body, true
}

// refuse answers 400 for a payload the parser refused.
func (in *Intake) refuse(w http.ResponseWriter, integration string, err error) {
	in.metrics.alert(sourceUnknown, integration, outcomeInvalid, 1)
	in.log.Info("alert payload refused", "integration", integration, "error", err)
	writeJSON(w, http.StatusBadRequest, invalidAnswer(err))
}

func invalidAnswer(err error) errorAnswer {
	a := errorAnswer{Error: err.Error()}
	var inv *InvalidError
	if errors.As(err, &inv) {
		a.Problems = inv.Problems
	}
	return a
}

func (in *Intake) recordAndAnswer(w http.ResponseWriter, r *http.Request, integration string, alerts []workflows.Alert) {
	out, status, err := in.record(r.Context(), integration, alerts)
	if err != nil {
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeJSON(w, status, invalidAnswer(err))
		return
	}
	writeJSON(w, http.StatusOK, alertsAnswer{Alerts: out})
}

// record checks every alert, then sends them one by one, stopping at the
// first that could not be recorded: the sender retries the whole batch, and
// the alerts already recorded fold into their incidents again. The status is
// 400 for an invalid batch (nothing was sent) and 503 for a failure to record.
func (in *Intake) record(ctx context.Context, integration string, alerts []workflows.Alert) ([]AlertOutcome, int, error) {
	var problems fieldErrors
	for i, al := range alerts {
		if err := workflows.ValidateAlert(al); err != nil {
			problems.add(fmt.Sprintf("alerts[%d]", i), "%v", err)
		}
	}
	if err := problems.err(); err != nil {
		in.metrics.alert(sourceUnknown, integration, outcomeInvalid, 1)
		return nil, http.StatusBadRequest, err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	now := in.now().UTC()
	out := make([]AlertOutcome, 0, len(alerts))
	for i, al := range alerts {
		al.ReceivedAt = now
		al.ResolveIncident = al.Resolved && in.cfg.AllResolved == workflows.Resolved
		rc, err := in.inc.Alert(ctx, al)
		if err != nil {
			status, outcome := http.StatusServiceUnavailable, outcomeUnavailable
			if errors.Is(err, ErrInvalid) {
				status, outcome = http.StatusBadRequest, outcomeInvalid
			}
			for _, rest := range alerts[i:] {
				in.metrics.alert(string(rest.Source), integration, outcome, 1)
			}
			in.log.Error("alert not recorded", "integration", integration, "service", al.Service,
				"recorded", i, "batch", len(alerts), "error", err)
			if status == http.StatusBadRequest {
				return nil, status, err
			}
			return nil, status, fmt.Errorf("record alerts: %d of %d recorded, then: %w; retry the whole batch", i, len(alerts), err)
		}
		outcome := outcomeFolded
		switch {
		case rc.Opened:
			outcome = outcomeOpened
		case rc.Ignored:
			outcome = outcomeIgnored
		}
		in.metrics.alert(string(al.Source), integration, outcome, 1)
		out = append(out, AlertOutcome{ID: rc.IncidentID, Outcome: outcome})
	}
	return out, http.StatusOK, nil
}

// isForm reports whether the request body is form-encoded.
func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// reportHandler takes a stakeholder's report, as JSON or as the form. A form
// post is answered with a page, JSON with JSON.
func (in *Intake) reportHandler(w http.ResponseWriter, r *http.Request) {
	form := isForm(r)
	fail := func(status int, err error) {
		if form {
			in.page(w, status, "report-result", resultPage{Title: "Report not recorded", Message: err.Error()})
			return
		}
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeJSON(w, status, invalidAnswer(err))
	}
	if !in.cfg.OpenReports {
		if err := in.authorize(r, IntegrationReport); err != nil {
			in.metrics.alert(sourceUnknown, IntegrationReport, outcomeUnauthorized, 1)
			fail(http.StatusUnauthorized, err)
			return
		}
	}
	body, err := in.readBody(w, r)
	if err != nil {
		in.metrics.alert(sourceUnknown, IntegrationReport, outcomeInvalid, 1)
		fail(bodyStatus(err), err)
		return
	}
	parse := in.formats.parseReportJSON
	if form {
		parse = in.formats.parseReportForm
	}
	al, err := parse(body)
	if err != nil {
		in.metrics.alert(sourceUnknown, IntegrationReport, outcomeInvalid, 1)
		fail(http.StatusBadRequest, err)
		return
	}
	out, status, err := in.record(r.Context(), IntegrationReport, []workflows.Alert{al})
	if err != nil {
		fail(status, err)
		return
	}
	if form {
		in.page(w, http.StatusOK, "report-result", resultPage{
			Title:   "Report recorded",
			Message: fmt.Sprintf("Thank you. Your report is incident %s (%s).", out[0].ID, out[0].Outcome),
		})
		return
	}
	writeJSON(w, http.StatusOK, alertsAnswer{Alerts: out})
}

func (in *Intake) reportFormHandler(w http.ResponseWriter, _ *http.Request) {
	if !in.cfg.OpenReports {
		http.Error(w, "reports need a key here: POST /v1/reports with Authorization: Bearer <key>", http.StatusNotFound)
		return
	}
	in.page(w, http.StatusOK, "report-form", nil)
}

// pagerDutyAnswer is PagerDuty's Events API v2 response, success or error.
type pagerDutyAnswer struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

// enqueueHandler is the PagerDuty Events API v2: its routing_key authenticates
// it and names the service.
func (in *Intake) enqueueHandler(w http.ResponseWriter, r *http.Request) {
	refuse := func(status int, outcome string, err error) {
		in.metrics.alert(sourceUnknown, IntegrationPagerDuty, outcome, 1)
		a := pagerDutyAnswer{Status: "invalid event", Message: "Event object is invalid", Errors: invalidAnswer(err).Problems}
		switch status {
		case http.StatusUnauthorized:
			a.Status, a.Message = "unauthorized", "Event refused"
		case http.StatusRequestEntityTooLarge:
			a.Status, a.Message = "too large", "Event object is too large"
		}
		if a.Errors == nil {
			a.Errors = []string{err.Error()}
		}
		writeJSON(w, status, a)
	}
	body, err := in.readBody(w, r)
	if err != nil {
		refuse(bodyStatus(err), outcomeInvalid, err)
		return
	}
	ev, err := decodePagerDuty(body)
	if err != nil {
		refuse(http.StatusBadRequest, outcomeInvalid, err)
		return
	}
	if ev.RoutingKey == "" {
		refuse(http.StatusUnauthorized, outcomeUnauthorized, errors.New("routing_key: missing"))
		return
	}
	service, ok := in.matchKey(IntegrationPagerDuty, ev.RoutingKey)
	if !ok {
		refuse(http.StatusUnauthorized, outcomeUnauthorized, in.wrongKey(IntegrationPagerDuty, "routing_key: wrong key"))
		return
	}
	if ev.EventAction == pdAcknowledge {
		if ev.DedupKey == "" {
			refuse(http.StatusBadRequest, outcomeInvalid, invalid("dedup_key", "missing (an acknowledge needs the dedup key of its trigger)"))
			return
		}
		// An acknowledge event names no person, and sitrep acknowledges
		// only as a person, through the validator; so it is accepted and
		// dropped. Responders acknowledge through sitrep's own channels.
		in.log.Info("pagerduty acknowledge event ignored", "service", service)
		writeJSON(w, http.StatusAccepted, pagerDutyAnswer{Status: "success", Message: "Event processed", DedupKey: ev.DedupKey})
		return
	}
	al, err := in.formats.pagerDutyAlert(ev, service, in.newKey())
	if err != nil {
		refuse(http.StatusBadRequest, outcomeInvalid, err)
		return
	}
	if _, status, err := in.record(r.Context(), IntegrationPagerDuty, []workflows.Alert{al}); err != nil {
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", retryAfter)
			writeJSON(w, status, pagerDutyAnswer{Status: "unavailable", Message: "Event not processed; retry", Errors: []string{err.Error()}})
			return
		}
		writeJSON(w, status, pagerDutyAnswer{Status: "invalid event", Message: "Event object is invalid", Errors: []string{err.Error()}})
		return
	}
	writeJSON(w, http.StatusAccepted, pagerDutyAnswer{Status: "success", Message: "Event processed", DedupKey: al.DedupKey})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

// publicURL is the URL the outside world called for r.
func (in *Intake) publicURL(r *http.Request) string {
	return in.cfg.PublicURL + r.URL.RequestURI()
}

// formOf parses a form-encoded body.
func formOf(body []byte) (url.Values, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("body is not form-encoded: %w", err)
	}
	return form, nil
}
