// The HTTP intake (Intake, which `sitrep serve` serves) turns what monitoring
// tools, stakeholders and responders send into calls on incidents.
//
// # Alerts
//
// Every alert route needs one of its integration's keys, as
// "Authorization: Bearer KEY"; PagerDuty-compatible events carry theirs as
// routing_key. A key may be scoped to services: an alert, firing or
// resolved, for any other service is a 403 and records nothing of its batch.
// A batch is validated whole before anything is recorded: a bad payload is a
// 400 naming each bad field and records nothing. Every text field is cleaned
// (control characters, ANSI escapes, bidi overrides stripped) and capped: a
// summary is truncated with a marker, any other field over its cap is a 400
// naming it. An alert that could not be recorded (Temporal unreachable) is a
// 503 with Retry-After: 5 and a generic message, and the sender retries the
// whole batch; the repeats fold into the incidents they opened. One that
// Temporal refuses as invalid is a 400, which no sender retries. Requests over
// a rate limit are a 429 with Retry-After. Success is 200 with
// {"alerts":[{"id":"inc-…","outcome":"opened"}]}, the outcome being opened,
// folded, or ignored for a resolved alert with no open incident.
//
// Reports refuse cross-origin browser requests (403), take JSON only as
// application/json (else 415), and, without a key, are capped at
// IntakeConfig.OpenReportsMaxSeverity (403 above it), must name one of
// IntakeConfig.ReportServices when set (400), and are rate limited per
// client address and overall.
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
// Each is verified (the link's signature, Twilio's, Slack's or PagerDuty's,
// any of the configured secrets, so that each can be rotated) and goes
// through the same Acknowledge or Escalate update, with the provider's
// delivery ID as the request ID, so a repeated delivery counts once. A
// PagerDuty webhook must be about a listed PagerDuty service and at most an
// hour old, and its signed event ID is its request ID.
//
// # Commands from the war room
//
//	POST /v1/slack/commands       Slack slash command (/sitrep …), signed with the Slack signing secret
//	POST /v1/mattermost/commands  Mattermost slash command, with the command's token
//
// The text is "[INCIDENT] VERB ARGS": update [--status S] [--audience A]
// [--role R] MESSAGE, role ROLE PERSON (or @me), mitigate [NOTE], resolve
// [NOTE], status, help. Without an incident ID the incident is the open one
// whose war room the channel is. The person is the catalog handle whose chat
// contact is the user who typed it. Each goes through the starter call the
// CLI makes, validated alike, with the command's trigger ID as the request
// ID, and is answered at once with an ephemeral message saying what happened
// or what was wrong; a result the incident has not given within Slack's 3
// seconds follows at the command's response_url. A bad signature, a
// timestamp outside 5 minutes or a wrong token is a 401. Commands count
// toward AlertRate, its per-address part per chat user.
//
// # Operations
//
//	GET /healthz  200 while serving
//	GET /readyz   200 when Temporal answers, else 503
//	GET /metrics  Prometheus metrics, from the intake's own registry
//
// With IntakeConfig.InternalOps, /readyz and /metrics are served only by
// OpsHandler, for an internal listener.
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

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/api/serviceerror"

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
	Mitigate(ctx context.Context, id, requestID string, req workflows.PhaseRequest) (workflows.PhaseResult, error)
	Resolve(ctx context.Context, id, requestID string, req workflows.PhaseRequest) (workflows.PhaseResult, error)
	PostUpdate(ctx context.Context, id, requestID string, req workflows.UpdateRequest) (workflows.UpdateResult, error)
	AssignRole(ctx context.Context, id, requestID string, req workflows.RoleRequest) (workflows.RoleResult, error)
	Status(ctx context.Context, id string) (workflows.IncidentState, error)
	List(ctx context.Context, f ListFilter) ([]Listed, error)
	// FindByRoom finds the open incident whose war room is a chat channel.
	FindByRoom(ctx context.Context, channelID string) (string, error)
	// Ready reports whether Temporal answers.
	Ready(ctx context.Context) error
}

// People finds the catalog handle of whoever replied on a channel.
type People interface {
	ByPhone(e164 string) (handle string, ok bool)
	ByChatID(id string) (handle string, ok bool)
	ByEmail(email string) (handle string, ok bool)
}

// RecentPages lists the incidents still paging a person, for an SMS reply
// that names no incident.
type RecentPages interface {
	PagingFor(ctx context.Context, person string) ([]Paging, error)
}

// Key is one integration key.
type Key struct {
	// Value is the key itself: the bearer token, or PagerDuty's routing_key.
	Value string
	// Service is the service a PagerDuty routing key's events belong to,
	// as in PagerDuty, where the key is a service's integration. Required
	// for pagerduty keys; unused by the others, whose payloads name it.
	Service string
	// Services, when set, are the only services the key may send alerts
	// (firing or resolved) or reports for: an alert for another service is
	// refused with 403 and nothing of its batch is recorded. Empty: any.
	Services []string
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
	// RecentPages lists what still pages a person, for an SMS reply without a
	// code; required with Twilio.
	RecentPages RecentPages
	// OpenReports accepts reports without a key, and serves the report
	// form, for an intake only people inside the company can reach. The
	// report routes refuse cross-origin browser requests whatever this says.
	OpenReports bool
	// OpenReportsMaxSeverity is the most severe a report without a key may
	// ask for; default SEV3. A report asking for more is refused with 403;
	// a report with a key of the report integration may ask for any.
	OpenReportsMaxSeverity catalog.Severity
	// ReportServices, when set, are the services a report without a key
	// may name (the catalog's): any other is a 400, so that a report from
	// anyone cannot page the catch-all team. The form offers them.
	ReportServices []string
	// ReportRate limits reports without a key; default
	// DefaultReportRate. Over it, the answer is 429 with Retry-After.
	ReportRate RateLimit
	// AlertRate limits every request with a key (alerts, keyed reports,
	// PagerDuty events); default none. Over it, the answer is 429 with
	// Retry-After, which Alertmanager, Grafana and PagerDuty senders retry.
	AlertRate RateLimit
	// ClientAddressHeader names the header in which a reverse proxy in
	// front of the intake appends the client's address (e.g.
	// X-Forwarded-For); the rate limits then count per that address. Empty:
	// the connection's peer address.
	ClientAddressHeader string

	// TwilioAuthTokens verify Twilio's webhooks, any one of them, so the
	// auth token can be rotated (Twilio's secondary token promoted) without
	// a missed reply; none disables /v1/twilio.
	TwilioAuthTokens []string
	// SlackSigningSecrets verify Slack's requests, any one of them, so the
	// signing secret can be rotated; none disables /v1/slack.
	SlackSigningSecrets []string
	// MattermostCommandTokens verify Mattermost's slash commands, any one of
	// them (the token Mattermost shows for the /sitrep command), so that one
	// can be regenerated without a refused command; none disables
	// /v1/mattermost/commands.
	MattermostCommandTokens []string
	// PagerDutyWebhookSecrets verify PagerDuty v3 webhooks, any one of them,
	// so a secret can be rotated; none disables /v1/pagerduty/webhook.
	PagerDutyWebhookSecrets []string
	// PagerDutyServices are the IDs of the PagerDuty services sitrep pages
	// into (e.g. PSVC001); a webhook about an incident on any other service
	// is refused. Required with PagerDutyWebhookSecrets.
	PagerDutyServices []string
	// PagerDutyUsers maps PagerDuty user IDs (e.g. PLH1HKV) to catalog
	// handles, for acknowledgments made in PagerDuty.
	PagerDutyUsers map[string]string

	// InternalOps keeps /metrics and /readyz off Handler: they are then
	// served only by OpsHandler, on an internal listener (--metrics-addr).
	InternalOps bool

	// MaxBody is the largest request body read; default DefaultMaxBody.
	MaxBody int64
}

// DefaultReportRate is the default IntakeConfig.ReportRate: a person
// reports a problem once, not a hundred times a minute.
var DefaultReportRate = RateLimit{PerAddress: Rate{N: 5, Per: time.Minute}, Overall: Rate{N: 60, Per: time.Minute}}

// maxWebhookAge is how old a PagerDuty webhook event may be: PagerDuty
// retries for about 20 minutes, so an older event is a replay.
const maxWebhookAge = time.Hour

// maxClockSkew is how far in the future a signed event's time may be.
const maxClockSkew = 5 * time.Minute

// Intake is the HTTP intake: alerts in, acknowledgments in, health and
// metrics out.
type Intake struct {
	cfg         IntakeConfig
	inc         Incidents
	log         *slog.Logger
	formats     *formats
	keys        map[string][]hashedKey
	metrics     *metrics
	pages       *template.Template
	handler     http.Handler
	ops         http.Handler
	reportLimit *limiter
	alertLimit  *limiter
	now         func() time.Time
	newKey      func() string // a dedup key for a PagerDuty trigger without one
	commands    *prometheus.CounterVec
	// replyWithin is how long a slash command waits for its incident before
	// answering "working on it"; replies posts the result later.
	replyWithin time.Duration
	replies     *http.Client
}

type hashedKey struct {
	sum      [sha256.Size]byte
	service  string
	services []string // empty: any
}

// keyScope is what a matched key allows.
type keyScope struct {
	services []string // empty: any
}

func (k keyScope) allows(service string) bool {
	return len(k.services) == 0 || slices.Contains(k.services, service)
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
	commands, err := newCommandMetric(m.reg)
	if err != nil {
		return nil, err
	}
	in := &Intake{
		cfg: cfg, inc: incidents, log: logger,
		keys:     map[string][]hashedKey{},
		metrics:  m,
		commands: commands,
		pages:    pages,
		now:      time.Now,
		newKey:   newDedupKey,
		// Slack waits 3 seconds for an answer.
		replyWithin: defaultReplyWithin,
		replies:     &http.Client{Timeout: callTimeout},
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
			in.keys[name] = append(in.keys[name], hashedKey{sum: sha256.Sum256([]byte(k.Value)), service: k.Service, services: k.Services})
		}
	}
	if !cfg.ReportRate.PerAddress.off() || !cfg.ReportRate.Overall.off() {
		in.reportLimit = newLimiter(cfg.ReportRate)
	}
	if !cfg.AlertRate.PerAddress.off() || !cfg.AlertRate.Overall.off() {
		in.alertLimit = newLimiter(cfg.AlertRate)
	}
	in.handler, err = in.routes()
	if err != nil {
		return nil, err
	}
	in.ops = in.opsRoutes()
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
	if c.OpenReportsMaxSeverity == "" {
		c.OpenReportsMaxSeverity = catalog.SEV3
	}
	if c.ReportRate == (RateLimit{}) {
		c.ReportRate = DefaultReportRate
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
			if name == IntegrationPagerDuty && len(k.Services) > 0 {
				errs = append(errs, fmt.Errorf("keys.%s[%d]: services: a routing key belongs to its one service already", name, i))
			}
			for j, svc := range k.Services {
				if strings.TrimSpace(svc) == "" || svc != cleanText(svc) {
					errs = append(errs, fmt.Errorf("keys.%s[%d].services[%d]: %q is not a service name", name, i, j, svc))
				}
			}
		}
	}
	if !isSeverity(c.OpenReportsMaxSeverity) {
		errs = append(errs, fmt.Errorf("openReportsMaxSeverity: %q is not SEV1..SEV4", c.OpenReportsMaxSeverity))
	}
	for name, rl := range map[string]RateLimit{"reportRate": c.ReportRate, "alertRate": c.AlertRate} {
		if rl.PerAddress.N < 0 || rl.Overall.N < 0 || rl.PerAddress.Per < 0 || rl.Overall.Per < 0 {
			errs = append(errs, fmt.Errorf("%s: negative", name))
		}
	}
	if len(c.PagerDutyWebhookSecrets) > 0 && len(c.PagerDutyServices) == 0 {
		errs = append(errs, errors.New("pagerDutyServices: needed with PagerDuty webhook secrets: the IDs of the PagerDuty services sitrep pages into, so that no other service's incidents act on sitrep's"))
	}
	for w, sev := range c.Severities {
		if !slices.Contains([]catalog.Severity{catalog.SEV1, catalog.SEV2, catalog.SEV3, catalog.SEV4}, sev) {
			errs = append(errs, fmt.Errorf("severities.%s: %q is not SEV1..SEV4", w, sev))
		}
	}
	if c.AllResolved != workflows.Mitigated && c.AllResolved != workflows.Resolved {
		errs = append(errs, fmt.Errorf("allResolved: %q is not mitigated or resolved", c.AllResolved))
	}
	if len(c.TwilioAuthTokens) > 0 {
		if !isWebURL(c.PublicURL) {
			errs = append(errs, fmt.Errorf("publicURL: %q is not an absolute http(s) URL; Twilio signs requests with it", c.PublicURL))
		}
		if c.RecentPages == nil {
			errs = append(errs, errors.New("recentPages: needed to answer SMS replies"))
		}
	}
	for name, list := range map[string][]string{"twilioAuthTokens": c.TwilioAuthTokens, "slackSigningSecrets": c.SlackSigningSecrets,
		"pagerDutyWebhookSecrets": c.PagerDutyWebhookSecrets, "mattermostCommandTokens": c.MattermostCommandTokens} {
		for i, v := range list {
			if strings.TrimSpace(v) == "" {
				errs = append(errs, fmt.Errorf("%s[%d]: empty", name, i))
			}
		}
	}
	for i, t := range c.MattermostCommandTokens {
		if t = strings.TrimSpace(t); t != "" && len(t) < 16 {
			errs = append(errs, fmt.Errorf("mattermostCommandTokens[%d]: shorter than 16 characters; use the token Mattermost made for the command", i))
		}
	}
	if c.People == nil && (len(c.TwilioAuthTokens) > 0 || len(c.SlackSigningSecrets) > 0 || len(c.MattermostCommandTokens) > 0 || c.AckLinks != nil) {
		errs = append(errs, errors.New("people: needed to map SMS and chat replies to people"))
	}
	return errors.Join(errs...)
}

// Handler returns the intake's routes.
func (in *Intake) Handler() http.Handler { return in.handler }

// OpsHandler serves /healthz, /readyz and /metrics alone, for an internal
// listener that the outside world cannot reach.
func (in *Intake) OpsHandler() http.Handler { return in.ops }

func (in *Intake) routes() (http.Handler, error) {
	mux := http.NewServeMux()
	handle := func(pattern string, h http.Handler) {
		mux.Handle(pattern, in.metrics.instrument(pattern, h))
	}
	// The report routes may be open to any employee's browser: a page on
	// another site must not be able to post to them (a cross-site form, or
	// JSON sent as text/plain), hence Go's cross-origin protection, which
	// lets through same-origin requests, the public URL's origin and
	// clients that are not browsers.
	cop := http.NewCrossOriginProtection()
	if in.cfg.PublicURL != "" {
		u, err := url.Parse(in.cfg.PublicURL)
		if err != nil {
			return nil, fmt.Errorf("intake config: publicURL: %w", err)
		}
		if err := cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("intake config: publicURL: %w", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(in.crossOriginRefused))
	handle("POST /v1/alerts/alertmanager", in.alertGroupHandler(IntegrationAlertmanager, in.formats.parseAlertmanager))
	handle("POST /v1/alerts/grafana", in.alertGroupHandler(IntegrationGrafana, in.formats.parseGrafana))
	handle("POST /v1/alerts", http.HandlerFunc(in.genericHandler))
	handle("POST /v2/enqueue", http.HandlerFunc(in.enqueueHandler))
	handle("POST /v1/reports", cop.Handler(http.HandlerFunc(in.reportHandler)))
	handle("GET /report", http.HandlerFunc(in.reportFormHandler))
	if in.cfg.AckLinks != nil {
		handle("GET /ack/{token}", http.HandlerFunc(in.ackPageHandler))
		handle("POST /ack/{token}", http.HandlerFunc(in.ackActionHandler))
		handle("POST /v1/mattermost/actions", http.HandlerFunc(in.mattermostHandler))
		if shifts, ok := in.cfg.People.(OnCallShifts); ok {
			handle("GET /v1/oncall/{file}", in.feedHandler(shifts))
		}
	}
	if len(in.cfg.TwilioAuthTokens) > 0 {
		handle("POST /v1/twilio/sms", http.HandlerFunc(in.smsHandler))
		handle("POST /v1/twilio/voice", http.HandlerFunc(in.voiceHandler))
	}
	if len(in.cfg.SlackSigningSecrets) > 0 {
		handle("POST /v1/slack/actions", http.HandlerFunc(in.slackHandler))
		handle("POST /v1/slack/commands", http.HandlerFunc(in.slackCommandHandler))
	}
	if len(in.cfg.MattermostCommandTokens) > 0 {
		handle("POST /v1/mattermost/commands", http.HandlerFunc(in.mattermostCommandHandler))
	}
	if len(in.cfg.PagerDutyWebhookSecrets) > 0 {
		handle("POST /v1/pagerduty/webhook", http.HandlerFunc(in.pagerDutyWebhookHandler))
	}
	handle("GET /healthz", http.HandlerFunc(healthHandler))
	if !in.cfg.InternalOps {
		handle("GET /readyz", http.HandlerFunc(in.readyHandler))
		mux.Handle("GET /metrics", in.metrics.handler())
	}
	return mux, nil
}

func (in *Intake) opsRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", http.HandlerFunc(healthHandler))
	mux.Handle("GET /readyz", in.metrics.instrument("GET /readyz", http.HandlerFunc(in.readyHandler)))
	mux.Handle("GET /metrics", in.metrics.handler())
	return mux
}

func healthHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n") // the client went away; nothing to do
}

// crossOriginRefused answers a browser request that another site's page made.
func (in *Intake) crossOriginRefused(w http.ResponseWriter, r *http.Request) {
	in.metrics.alert(sourceUnknown, IntegrationReport, outcomeCrossOrigin, 1)
	in.log.Warn("cross-origin report refused", "origin", cleanText(r.Header.Get("Origin")), "secFetchSite", cleanText(r.Header.Get("Sec-Fetch-Site")))
	writeJSON(w, http.StatusForbidden, errorAnswer{Error: "cross-origin request refused: report from the intake's own form, or from a client that is not a browser"})
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
	outcomeForbidden    = "forbidden" // a key used outside its services, a keyless report above its severity
	outcomeCrossOrigin  = "cross_origin"
	outcomeRateLimited  = "rate_limited"
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

// authorize checks the request's bearer key against every key of
// integration, and returns what the key may do.
func (in *Intake) authorize(r *http.Request, integration string) (keyScope, error) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return keyScope{}, &authError{"missing key: send Authorization: Bearer <key>"}
	}
	scheme, key, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		return keyScope{}, &authError{"missing key: the Authorization header is not Bearer <key>"}
	}
	k, ok := in.matchKey(integration, strings.TrimSpace(key))
	if !ok {
		return keyScope{}, in.wrongKey(integration, "wrong key")
	}
	return keyScope{services: k.services}, nil
}

func (in *Intake) wrongKey(integration, what string) error {
	if len(in.keys[integration]) == 0 {
		return &authError{fmt.Sprintf("%s: integration %s has no keys configured", what, integration)}
	}
	return &authError{fmt.Sprintf("%s for integration %s", what, integration)}
}

// matchKey compares presented with every key of integration in constant
// time, hashing first so that not even the length leaks, and returns the
// matching key.
func (in *Intake) matchKey(integration, presented string) (match hashedKey, ok bool) {
	sum := sha256.Sum256([]byte(presented))
	for _, k := range in.keys[integration] {
		if subtle.ConstantTimeCompare(sum[:], k.sum[:]) == 1 {
			match, ok = k, true
		}
	}
	return match, ok
}

// limit takes a token from l for r's client, answering 429 itself when
// there is none. Senders retry after Retry-After; people are told to wait.
func (in *Intake) limit(w http.ResponseWriter, r *http.Request, l *limiter, integration string) bool {
	addr := in.clientAddress(r)
	ok, wait, scope := l.allow(addr, in.now())
	if ok {
		return true
	}
	in.metrics.alert(sourceUnknown, integration, outcomeRateLimited, 1)
	in.log.Warn("request rate limited", "integration", integration, "route", r.Pattern, "clientAddress", addr, "limit", scope)
	w.Header().Set("Retry-After", retryAfterSeconds(wait))
	writeJSON(w, http.StatusTooManyRequests, errorAnswer{
		Error: fmt.Sprintf("too many requests (%s limit); retry after %s seconds", scope, retryAfterSeconds(wait)),
	})
	return false
}

// outsideScope lists the alerts a key may not send, each naming its field.
func outsideScope(scope keyScope, alerts []workflows.Alert, serviceField func(i int) string) error {
	var problems fieldErrors
	for i, al := range alerts {
		if !scope.allows(al.Service) {
			problems.add(serviceField(i), "%q is not one of this key's services (%s)", al.Service, strings.Join(scope.services, ", "))
		}
	}
	return problems.err()
}

// alertGroupHandler serves Alertmanager and Grafana webhooks.
func (in *Intake) alertGroupHandler(integration string, parse func([]byte) ([]workflows.Alert, int, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, scope, ok := in.alertBody(w, r, integration)
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
		if err := outsideScope(scope, alerts, func(i int) string {
			return fmt.Sprintf("alerts[%d].labels.%s", i, in.cfg.ServiceLabel)
		}); err != nil {
			in.forbid(w, integration, err)
			return
		}
		in.recordAndAnswer(w, r, integration, alerts)
	}
}

func (in *Intake) genericHandler(w http.ResponseWriter, r *http.Request) {
	body, scope, ok := in.alertBody(w, r, IntegrationGeneric)
	if !ok {
		return
	}
	al, err := in.formats.parseGeneric(body)
	if err != nil {
		in.refuse(w, IntegrationGeneric, err)
		return
	}
	if err := outsideScope(scope, []workflows.Alert{al}, func(int) string { return "service" }); err != nil {
		in.forbid(w, IntegrationGeneric, err)
		return
	}
	in.recordAndAnswer(w, r, IntegrationGeneric, []workflows.Alert{al})
}

// alertBody authenticates a bearer-key alert route, applies the alert rate
// limit and reads its body, answering the request itself when it cannot go on.
func (in *Intake) alertBody(w http.ResponseWriter, r *http.Request, integration string) ([]byte, keyScope, bool) {
	scope, err := in.authorize(r, integration)
	if err != nil {
		in.metrics.alert(sourceUnknown, integration, outcomeUnauthorized, 1)
		in.log.Info("alert refused: no valid key", "integration", integration, "error", err)
		writeJSON(w, http.StatusUnauthorized, errorAnswer{Error: err.Error()})
		return nil, scope, false
	}
	if !in.limit(w, r, in.alertLimit, integration) {
		return nil, scope, false
	}
	body, err := in.readBody(w, r)
	if err != nil {
		in.metrics.alert(sourceUnknown, integration, outcomeInvalid, 1)
		writeJSON(w, bodyStatus(err), errorAnswer{Error: err.Error()})
		return nil, scope, false
	}
	return body, scope, true
}

// refuse answers 400 for a payload the parser refused.
func (in *Intake) refuse(w http.ResponseWriter, integration string, err error) {
	in.metrics.alert(sourceUnknown, integration, outcomeInvalid, 1)
	in.log.Info("alert payload refused", "integration", integration, "error", err)
	writeJSON(w, http.StatusBadRequest, invalidAnswer(err))
}

// forbid answers 403 for alerts the key may not send.
func (in *Intake) forbid(w http.ResponseWriter, integration string, err error) {
	in.metrics.alert(sourceUnknown, integration, outcomeForbidden, 1)
	in.log.Warn("alert refused: outside its key's services", "integration", integration, "error", err)
	writeJSON(w, http.StatusForbidden, invalidAnswer(err))
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

// record checks every alert, then sends them one by one, each within its own
// deadline, so that one slow call does not leave the rest of the batch no
// time; it stops at the first that could not be recorded: the sender retries
// the whole batch, and the alerts already recorded fold into their
// incidents again. The status is 400 for an invalid batch (nothing was
// sent), 400 for an alert the workflow server refuses as invalid (retrying
// cannot help), and 503 for a failure to record. The error a 503 returns is
// for the sender: the server's own error, which may name its addresses, is
// only logged.
func (in *Intake) record(ctx context.Context, integration string, alerts []workflows.Alert) ([]AlertOutcome, int, error) {
	var problems fieldErrors
	for i := range alerts {
		workflows.CleanAlert(&alerts[i]) // the parsers cleaned it already; every path does
		if err := workflows.ValidateAlert(alerts[i]); err != nil {
			problems.add(fmt.Sprintf("alerts[%d]", i), "%v", err)
		}
	}
	if err := problems.err(); err != nil {
		in.metrics.alert(sourceUnknown, integration, outcomeInvalid, 1)
		return nil, http.StatusBadRequest, err
	}
	now := in.now().UTC()
	out := make([]AlertOutcome, 0, len(alerts))
	for i, al := range alerts {
		al.ReceivedAt = now
		al.ResolveIncident = al.Resolved && in.cfg.AllResolved == workflows.Resolved
		rc, err := in.recordOne(ctx, al)
		if err != nil {
			status, outcome := http.StatusServiceUnavailable, outcomeUnavailable
			var badArg *serviceerror.InvalidArgument
			if errors.Is(err, ErrInvalid) || errors.As(err, &badArg) {
				status, outcome = http.StatusBadRequest, outcomeInvalid
			}
			for _, rest := range alerts[i:] {
				in.metrics.alert(string(rest.Source), integration, outcome, 1)
			}
			in.log.Error("alert not recorded", "integration", integration, "service", al.Service,
				"recorded", i, "batch", len(alerts), "status", status, "error", err)
			field := "alert"
			if len(alerts) > 1 {
				field = fmt.Sprintf("alerts[%d]", i)
			}
			if status == http.StatusBadRequest {
				return nil, status, invalid(field, "the workflow server refused it as invalid; it was not recorded, and sending it again will not help")
			}
			return nil, status, fmt.Errorf("%d of %d alerts recorded, then sitrep could not reach its workflow server; retry the whole batch", i, len(alerts))
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

// recordOne records one alert within its own deadline.
func (in *Intake) recordOne(ctx context.Context, al workflows.Alert) (Receipt, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return in.inc.Alert(ctx, al)
}

// mediaType is the request's Content-Type without its parameters.
func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// isForm reports whether the request body is form-encoded.
func isForm(r *http.Request) bool {
	return mediaType(r) == "application/x-www-form-urlencoded"
}

func isSeverity(s catalog.Severity) bool {
	return slices.Contains([]catalog.Severity{catalog.SEV1, catalog.SEV2, catalog.SEV3, catalog.SEV4}, s)
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
	// A key is needed unless reports are open; a key presented is checked
	// even then, since it lifts the severity cap.
	keyed := !in.cfg.OpenReports || r.Header.Get("Authorization") != ""
	var scope keyScope
	if keyed {
		var err error
		if scope, err = in.authorize(r, IntegrationReport); err != nil {
			in.metrics.alert(sourceUnknown, IntegrationReport, outcomeUnauthorized, 1)
			in.log.Info("report refused: no valid key", "error", err)
			fail(http.StatusUnauthorized, err)
			return
		}
	}
	limit := in.reportLimit
	if keyed {
		limit = in.alertLimit
	}
	if ok, wait, which := limit.allow(in.clientAddress(r), in.now()); !ok {
		in.metrics.alert(sourceUnknown, IntegrationReport, outcomeRateLimited, 1)
		in.log.Warn("request rate limited", "integration", IntegrationReport, "route", r.Pattern, "clientAddress", in.clientAddress(r), "limit", which)
		w.Header().Set("Retry-After", retryAfterSeconds(wait))
		fail(http.StatusTooManyRequests, fmt.Errorf("too many reports (%s limit); try again in %s seconds", which, retryAfterSeconds(wait)))
		return
	}
	if mt := mediaType(r); !form && mt != "application/json" {
		in.metrics.alert(sourceUnknown, IntegrationReport, outcomeInvalid, 1)
		in.log.Info("report refused: not JSON or a form", "contentType", cleanText(mt))
		fail(http.StatusUnsupportedMediaType, fmt.Errorf("Content-Type: %q is not application/json or application/x-www-form-urlencoded", mt))
		return
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
		in.log.Info("report payload refused", "error", err)
		fail(http.StatusBadRequest, err)
		return
	}
	if !keyed && len(in.cfg.ReportServices) > 0 && !slices.Contains(in.cfg.ReportServices, al.Service) {
		in.metrics.alert(sourceUnknown, IntegrationReport, outcomeInvalid, 1)
		in.log.Info("report refused: unknown service", "service", al.Service)
		fail(http.StatusBadRequest, invalid("service", "%q is not a service sitrep knows; a report without a key names one of the form's services", al.Service))
		return
	}
	if !keyed && al.Severity < in.cfg.OpenReportsMaxSeverity { // "SEV1" < "SEV3": more severe
		in.metrics.alert(sourceUnknown, IntegrationReport, outcomeForbidden, 1)
		in.log.Warn("report refused: severity above the cap for reports without a key",
			"severity", string(al.Severity), "maxSeverity", string(in.cfg.OpenReportsMaxSeverity), "clientAddress", in.clientAddress(r))
		fail(http.StatusForbidden, invalid("severity", "%s is more severe than a report without a key may ask for (at most %s); page on-call directly for anything worse",
			al.Severity, in.cfg.OpenReportsMaxSeverity))
		return
	}
	if err := outsideScope(scope, []workflows.Alert{al}, func(int) string { return "service" }); err != nil {
		in.metrics.alert(sourceUnknown, IntegrationReport, outcomeForbidden, 1)
		in.log.Warn("report refused: outside its key's services", "error", err)
		fail(http.StatusForbidden, err)
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
	var levels []severityOption
	for _, o := range severityOptions {
		if o.Value >= in.cfg.OpenReportsMaxSeverity {
			levels = append(levels, severityOption{Value: o.Value, Label: o.Label, Selected: o.Value == catalog.SEV3 || (o.Value == in.cfg.OpenReportsMaxSeverity && in.cfg.OpenReportsMaxSeverity > catalog.SEV3)})
		}
	}
	in.page(w, http.StatusOK, "report-form", reportForm{Severities: levels, Services: in.cfg.ReportServices})
}

// reportForm is what GET /report shows: the severities a report without a
// key may ask for, and the services it may name.
type reportForm struct {
	Severities []severityOption
	Services   []string
}

type severityOption struct {
	Value    catalog.Severity
	Label    string
	Selected bool
}

var severityOptions = []severityOption{
	{Value: catalog.SEV1, Label: "critical, customers cannot use it"},
	{Value: catalog.SEV2, Label: "major, badly degraded"},
	{Value: catalog.SEV3, Label: "minor"},
	{Value: catalog.SEV4, Label: "cosmetic"},
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
	key, ok := in.matchKey(IntegrationPagerDuty, ev.RoutingKey)
	if !ok {
		in.log.Info("pagerduty event refused: wrong routing key")
		refuse(http.StatusUnauthorized, outcomeUnauthorized, in.wrongKey(IntegrationPagerDuty, "routing_key: wrong key"))
		return
	}
	service := key.service
	if ok, wait, which := in.alertLimit.allow(in.clientAddress(r), in.now()); !ok {
		in.metrics.alert(sourceUnknown, IntegrationPagerDuty, outcomeRateLimited, 1)
		in.log.Warn("request rate limited", "integration", IntegrationPagerDuty, "route", r.Pattern, "clientAddress", in.clientAddress(r), "limit", which)
		w.Header().Set("Retry-After", retryAfterSeconds(wait))
		writeJSON(w, http.StatusTooManyRequests, pagerDutyAnswer{Status: "throttle event", Message: "Requests for this service are arriving too quickly. Please retry later."})
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
		writeJSON(w, status, pagerDutyAnswer{Status: "invalid event", Message: "Event object is invalid", Errors: invalidAnswer(err).Problems})
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
