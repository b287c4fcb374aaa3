package starter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/workflows"
)

// The parsers in this file are pure: bytes in, alerts or an error naming the
// field out. The HTTP handlers in intake.go authenticate, read the body, call
// one of them, and only then record anything.

// The caps on what one alert may carry are the workflows package's, for
// every path an alert comes by. A summary over its cap is truncated with
// truncatedMarker, so that an alert is never lost for being verbose; any
// other field over its cap is a 400 naming the field. Together they keep an
// alert, escaped as JSON, far under Temporal's 2 MiB payload limit, so that
// no sender is answered 503 for ever for an alert Temporal would refuse.
const (
	maxSummary    = workflows.MaxSummary
	maxService    = workflows.MaxService
	maxDedupKey   = workflows.MaxDedupKey
	maxLabels     = workflows.MaxLabels
	maxLabelKey   = workflows.MaxLabelKey
	maxLabelValue = workflows.MaxLabelValue
	maxLinks      = workflows.MaxLinks
	maxLink       = workflows.MaxLink
	maxReporter   = workflows.MaxReporter
	maxContact    = 200
)

// truncatedMarker ends a summary cut to maxSummary.
const truncatedMarker = workflows.TruncatedMarker

// DefaultSeverities maps the severity words monitoring tools use to sitrep's
// severities; IntakeConfig.Severities replaces it. SEV1..SEV4 are always
// accepted as themselves. Keys are matched case-insensitively.
func DefaultSeverities() map[string]catalog.Severity {
	return map[string]catalog.Severity{
		"critical": catalog.SEV1,
		"error":    catalog.SEV2,
		"high":     catalog.SEV2,
		"warning":  catalog.SEV3,
		"info":     catalog.SEV4,
	}
}

// formats holds what the parsers need from IntakeConfig.
type formats struct {
	serviceLabel  string
	severityLabel string
	dedupLabels   []string                    // empty: the sender's fingerprint
	severities    map[string]catalog.Severity // lowercased words
}

func (f *formats) severity(word string) (catalog.Severity, bool) {
	w := strings.ToLower(strings.TrimSpace(word))
	if sev := catalog.Severity(strings.ToUpper(w)); slices.Contains([]catalog.Severity{catalog.SEV1, catalog.SEV2, catalog.SEV3, catalog.SEV4}, sev) {
		return sev, true
	}
	sev, ok := f.severities[w]
	return sev, ok
}

func (f *formats) known() string {
	words := make([]string, 0, len(f.severities)+1)
	for w := range f.severities {
		words = append(words, w)
	}
	slices.Sort(words)
	return strings.Join(append(words, "SEV1..SEV4"), ", ")
}

// fieldErrors collects every problem with a payload, each naming its field.
type fieldErrors []string

func (e *fieldErrors) add(field, format string, args ...any) {
	*e = append(*e, field+": "+fmt.Sprintf(format, args...))
}

func (e fieldErrors) err() error {
	if len(e) == 0 {
		return nil
	}
	return &InvalidError{Problems: e}
}

// InvalidError is a payload the intake refused; each problem names its field,
// e.g. "alerts[2].labels.service: missing".
type InvalidError struct {
	Problems []string
}

func (e *InvalidError) Error() string { return strings.Join(e.Problems, "; ") }

// decodeJSON decodes one JSON value into v, naming the field of a type error.
// strict refuses fields the schema does not have: sitrep's own schemas are
// strict so that a typo is an error, vendors' are not so that a new vendor
// field is no error.
func decodeJSON(body []byte, v any, prefix string, strict bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalid(orField(prefix, "body"), "empty")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return invalid(orField(prefix, "body"), "more than one JSON value")
		}
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ):
		field := orField(prefix, "body")
		if typ.Field != "" {
			field = join(prefix, typ.Field)
		}
		return invalid(field, "want %s, got %s", typeName(typ.Type.String()), typ.Value)
	case errors.As(err, &syntax):
		return invalid(orField(prefix, "body"), "invalid JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid(orField(prefix, "body"), "truncated JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return invalid(join(prefix, name), "unknown field")
	default:
		return invalid(orField(prefix, "body"), "%v", err)
	}
}

func invalid(field, format string, args ...any) error {
	var e fieldErrors
	e.add(field, format, args...)
	return e.err()
}

func typeName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "map["):
		return "object"
	case strings.HasPrefix(goType, "[]"):
		return "array"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "float"):
		return "number"
	case goType == "string":
		return "string"
	}
	return "object"
}

func join(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + "." + field
}

func orField(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix
}

// alertGroup is Alertmanager's webhook payload (version 4); Grafana's unified
// alerting webhook sends the same shape plus title, state, message and orgId,
// and per alert silenceURL, dashboardURL, panelURL and valueString.
type alertGroup struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	// Alerts are decoded one by one, so that an error names its index.
	Alerts []json.RawMessage `json:"alerts"`
	// Grafana only.
	Title   string `json:"title"`
	State   string `json:"state"`
	Message string `json:"message"`
	OrgID   int64  `json:"orgId"`
}

type groupAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	// Grafana only.
	SilenceURL   string `json:"silenceURL"`
	DashboardURL string `json:"dashboardURL"`
	PanelURL     string `json:"panelURL"`
	ValueString  string `json:"valueString"`
}

// parseAlertmanager turns an Alertmanager webhook into one alert per
// Alertmanager alert. It also returns truncatedAlerts, which the caller logs.
func (f *formats) parseAlertmanager(body []byte) ([]workflows.Alert, int, error) {
	return f.parseGroup(body, IntegrationAlertmanager)
}

// parseGrafana turns a Grafana alerting webhook into one alert per Grafana alert.
func (f *formats) parseGrafana(body []byte) ([]workflows.Alert, int, error) {
	return f.parseGroup(body, IntegrationGrafana)
}

func (f *formats) parseGroup(body []byte, integration string) ([]workflows.Alert, int, error) {
	var g alertGroup
	if err := decodeJSON(body, &g, "", false); err != nil {
		return nil, 0, err
	}
	var errs fieldErrors
	if integration == IntegrationAlertmanager && g.Version != "4" {
		errs.add("version", "%q is not supported (want \"4\")", g.Version)
	}
	if len(g.Alerts) == 0 {
		errs.add("alerts", "empty")
	}
	out := make([]workflows.Alert, 0, len(g.Alerts))
	for i, raw := range g.Alerts {
		prefix := fmt.Sprintf("alerts[%d]", i)
		var ga groupAlert
		if err := decodeJSON(raw, &ga, prefix, false); err != nil {
			var inv *InvalidError
			errors.As(err, &inv)
			errs = append(errs, inv.Problems...)
			continue
		}
		if al, ok := f.groupAlert(ga, integration, prefix, &errs); ok {
			out = append(out, al)
		}
	}
	if err := errs.err(); err != nil {
		return nil, 0, err
	}
	return out, g.TruncatedAlerts, nil
}

func (f *formats) groupAlert(ga groupAlert, integration, prefix string, errs *fieldErrors) (workflows.Alert, bool) {
	n := len(*errs)
	al := workflows.Alert{Source: workflows.Monitoring, Integration: integration}
	switch ga.Status {
	case "firing":
	case "resolved":
		al.Resolved = true
	case "":
		errs.add(prefix+".status", "missing")
	default:
		errs.add(prefix+".status", "%q is not firing or resolved", ga.Status)
	}
	al.Service = strings.TrimSpace(ga.Labels[f.serviceLabel])
	if al.Service == "" {
		errs.add(prefix+".labels."+f.serviceLabel, "missing")
	}
	al.Severity = f.severityField(ga.Labels[f.severityLabel], prefix+".labels."+f.severityLabel, errs)
	al.Summary = firstNonBlank(ga.Annotations["summary"], ga.Annotations["description"], ga.Labels["alertname"])
	if al.Summary == "" {
		errs.add(prefix+".annotations.summary", "missing (and no description or alertname to use instead)")
	}
	if len(f.dedupLabels) > 0 {
		parts := make([]string, len(f.dedupLabels))
		for i, l := range f.dedupLabels {
			parts[i] = l + "=" + ga.Labels[l]
		}
		al.DedupKey = strings.Join(parts, ",")
	} else if al.DedupKey = strings.TrimSpace(ga.Fingerprint); al.DedupKey == "" {
		errs.add(prefix+".fingerprint", "missing")
	}
	if len(ga.Labels) > 0 {
		al.Labels = ga.Labels
	}
	al.Links = links(ga.GeneratorURL, ga.Annotations["runbook_url"], ga.DashboardURL, ga.PanelURL, ga.SilenceURL)
	if len(*errs) == n {
		dedupField := prefix + ".fingerprint"
		if len(f.dedupLabels) > 0 {
			dedupField = prefix + ".labels"
		}
		finish(&al, fieldNames{
			service: prefix + ".labels." + f.serviceLabel, summary: prefix + ".annotations.summary",
			dedupKey: dedupField, labels: prefix + ".labels", links: prefix + ".links",
		}, errs)
	}
	return al, len(*errs) == n
}

func (f *formats) severityField(word, field string, errs *fieldErrors) catalog.Severity {
	if strings.TrimSpace(word) == "" {
		errs.add(field, "missing")
		return ""
	}
	sev, ok := f.severity(word)
	if !ok {
		errs.add(field, "%q is not a known severity (%s)", word, f.known())
	}
	return sev
}

// GenericAlert is the body of POST /v1/alerts; the package documentation
// describes it.
type GenericAlert struct {
	Service  string            `json:"service"`
	Severity string            `json:"severity"`
	Summary  string            `json:"summary"`
	DedupKey string            `json:"dedupKey,omitempty"`
	Source   string            `json:"source,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Links    []string          `json:"links,omitempty"`
	Status   string            `json:"status,omitempty"`
}

// parseGeneric turns sitrep's own JSON alert into an alert.
func (f *formats) parseGeneric(body []byte) (workflows.Alert, error) {
	var g GenericAlert
	if err := decodeJSON(body, &g, "", true); err != nil {
		return workflows.Alert{}, err
	}
	var errs fieldErrors
	al := workflows.Alert{Integration: IntegrationGeneric, Labels: g.Labels}
	if al.Service = strings.TrimSpace(g.Service); al.Service == "" {
		errs.add("service", "missing")
	}
	al.Severity = f.severityField(g.Severity, "severity", &errs)
	if al.Summary = strings.TrimSpace(g.Summary); al.Summary == "" {
		errs.add("summary", "missing")
	}
	switch src := workflows.Source(g.Source); src {
	case "":
		al.Source = workflows.Monitoring
	case workflows.Monitoring, workflows.Internal, workflows.External:
		al.Source = src
	default:
		errs.add("source", "%q is not monitoring, internal or external", g.Source)
	}
	switch g.Status {
	case "", "firing":
	case "resolved":
		al.Resolved = true
	default:
		errs.add("status", "%q is not firing or resolved", g.Status)
	}
	for i, l := range g.Links {
		if !isWebURL(l) {
			errs.add(fmt.Sprintf("links[%d]", i), "not an absolute http(s) URL")
		}
	}
	al.Links = g.Links
	if len(errs) > 0 {
		return al, errs.err()
	}
	al.DedupKey = g.DedupKey
	finish(&al, fieldNames{service: "service", summary: "summary", dedupKey: "dedupKey", labels: "labels", links: "links"}, &errs)
	if al.DedupKey == "" && len(errs) == 0 {
		al.DedupKey = al.Service + "|" + al.Summary // as Client.Alert does
	}
	return al, errs.err()
}

// Report is a stakeholder's report of a problem: the body of POST /v1/reports,
// as JSON or as the form GET /report shows.
type Report struct {
	Reporter    string `json:"reporter"`
	Contact     string `json:"contact,omitempty"`
	Source      string `json:"source,omitempty"` // internal (default) or external
	Service     string `json:"service"`
	Severity    string `json:"severity,omitempty"` // default SEV3
	Description string `json:"description"`
}

// parseReportJSON decodes a JSON report.
func (f *formats) parseReportJSON(body []byte) (workflows.Alert, error) {
	var rep Report
	if err := decodeJSON(body, &rep, "", true); err != nil {
		return workflows.Alert{}, err
	}
	return f.report(rep)
}

// parseReportForm decodes a form-encoded report.
func (f *formats) parseReportForm(body []byte) (workflows.Alert, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return workflows.Alert{}, invalid("body", "not form-encoded: %v", err)
	}
	return f.report(Report{
		Reporter: form.Get("reporter"), Contact: form.Get("contact"), Source: form.Get("source"),
		Service: form.Get("service"), Severity: form.Get("severity"), Description: form.Get("description"),
	})
}

func (f *formats) report(rep Report) (workflows.Alert, error) {
	var errs fieldErrors
	al := workflows.Alert{Integration: IntegrationReport}
	if al.Reporter = strings.TrimSpace(rep.Reporter); al.Reporter == "" {
		errs.add("reporter", "missing")
	}
	if al.Service = strings.TrimSpace(rep.Service); al.Service == "" {
		errs.add("service", "missing")
	}
	if al.Summary = strings.TrimSpace(rep.Description); al.Summary == "" {
		errs.add("description", "missing")
	}
	switch src := workflows.Source(strings.TrimSpace(rep.Source)); src {
	case "":
		al.Source = workflows.Internal
	case workflows.Internal, workflows.External:
		al.Source = src
	default:
		errs.add("source", "%q is not internal or external", rep.Source)
	}
	al.Severity = catalog.SEV3
	if strings.TrimSpace(rep.Severity) != "" {
		al.Severity = f.severityField(rep.Severity, "severity", &errs)
	}
	if len(errs) > 0 {
		return al, errs.err()
	}
	if c := cleanText(rep.Contact); c != "" {
		if len(c) > maxContact {
			errs.add("contact", "longer than %d bytes", maxContact)
		}
		al.Labels = map[string]string{"contact": c}
	}
	finish(&al, fieldNames{service: "service", summary: "description", reporter: "reporter"}, &errs)
	al.DedupKey = al.Service + "|" + al.Summary
	return al, errs.err()
}

// PagerDuty Events API v2 actions.
const (
	pdTrigger     = "trigger"
	pdAcknowledge = "acknowledge"
	pdResolve     = "resolve"
)

// pagerDutyEvent is a PagerDuty Events API v2 alert event.
type pagerDutyEvent struct {
	RoutingKey  string            `json:"routing_key"`
	EventAction string            `json:"event_action"`
	DedupKey    string            `json:"dedup_key"`
	Payload     *pagerDutyPayload `json:"payload"`
	Client      string            `json:"client"`
	ClientURL   string            `json:"client_url"`
	Links       []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
}

type pagerDutyPayload struct {
	Summary       string                     `json:"summary"`
	Timestamp     string                     `json:"timestamp"`
	Severity      string                     `json:"severity"`
	Source        string                     `json:"source"`
	Component     string                     `json:"component"`
	Group         string                     `json:"group"`
	Class         string                     `json:"class"`
	CustomDetails map[string]json.RawMessage `json:"custom_details"`
}

// decodePagerDuty decodes an event's JSON; pagerDutyAlert checks the rest,
// once the routing key has authenticated the sender.
func decodePagerDuty(body []byte) (pagerDutyEvent, error) {
	var ev pagerDutyEvent
	err := decodeJSON(body, &ev, "", false)
	return ev, err
}

// pagerDutyAlert turns a trigger or resolve event into an alert for service.
// newKey is the dedup key to use when a trigger has none, as PagerDuty
// generates one. Only PagerDuty's own severities are accepted, as PagerDuty
// does: critical, error, warning, info.
func (f *formats) pagerDutyAlert(ev pagerDutyEvent, service, newKey string) (workflows.Alert, error) {
	var errs fieldErrors
	al := workflows.Alert{Source: workflows.Monitoring, Integration: IntegrationPagerDuty, Service: service, DedupKey: ev.DedupKey}
	if len(ev.DedupKey) > 255 {
		errs.add("dedup_key", "longer than 255 characters")
	}
	switch ev.EventAction {
	case pdTrigger:
		if al.DedupKey == "" {
			al.DedupKey = newKey
		}
		p := ev.Payload
		if p == nil {
			errs.add("payload", "missing")
			return al, errs.err()
		}
		if al.Summary = strings.TrimSpace(p.Summary); al.Summary == "" {
			errs.add("payload.summary", "missing")
		}
		if strings.TrimSpace(p.Source) == "" {
			errs.add("payload.source", "missing")
		}
		switch p.Severity {
		case "critical", "error", "warning", "info":
			al.Severity, _ = f.severity(p.Severity)
			if al.Severity == "" {
				errs.add("payload.severity", "%q has no sitrep severity configured", p.Severity)
			}
		case "":
			errs.add("payload.severity", "missing")
		default:
			errs.add("payload.severity", "%q is not critical, error, warning or info", p.Severity)
		}
		al.Labels = pagerDutyLabels(p)
		hrefs := []string{ev.ClientURL}
		for _, l := range ev.Links {
			hrefs = append(hrefs, l.Href)
		}
		al.Links = links(hrefs...)
	case pdResolve:
		// A resolve carries only the dedup key; the summary and severity
		// are there because every alert needs them, and the incident keeps
		// its own.
		if al.DedupKey == "" {
			errs.add("dedup_key", "missing (a resolve needs the dedup key of its trigger)")
		}
		al.Resolved = true
		al.Severity = catalog.SEV4
		al.Summary = "resolved by a PagerDuty resolve event"
		if ev.Payload != nil && strings.TrimSpace(ev.Payload.Summary) != "" {
			al.Summary = strings.TrimSpace(ev.Payload.Summary)
		}
	case pdAcknowledge:
		errs.add("event_action", "acknowledge carries no alert")
	case "":
		errs.add("event_action", "missing")
	default:
		errs.add("event_action", "%q is not trigger, acknowledge or resolve", ev.EventAction)
	}
	if len(errs) > 0 {
		return al, errs.err()
	}
	finish(&al, fieldNames{service: "routing_key", summary: "payload.summary", dedupKey: "dedup_key",
		labels: "payload.custom_details", links: "links"}, &errs)
	return al, errs.err()
}

func pagerDutyLabels(p *pagerDutyPayload) map[string]string {
	labels := map[string]string{}
	for k, v := range map[string]string{"source": p.Source, "component": p.Component, "group": p.Group, "class": p.Class} {
		if v != "" {
			labels[k] = v
		}
	}
	for k, raw := range p.CustomDetails {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			s = string(raw) // numbers, objects: their JSON text
		}
		labels["custom_details."+k] = s
	}
	if len(labels) == 0 {
		return nil
	}
	return labels
}

// links keeps the absolute http(s) URLs no longer than maxLink, in order,
// without repeats: links a vendor sends are aids, so a bad one is dropped,
// not refused.
func links(candidates ...string) []string {
	var out []string
	for _, c := range candidates {
		c = strings.TrimSpace(c)
		if len(c) <= maxLink && isWebURL(c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func firstNonBlank(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// truncateSummary cuts s to at most maxSummary bytes, on a rune boundary,
// ending it with truncatedMarker.
func truncateSummary(s string) string { return workflows.Truncate(s, maxSummary) }

// fieldNames says what the payload calls each alert field, for the errors
// finish reports; an empty name is a field the format does not carry.
type fieldNames struct {
	service, summary, dedupKey, labels, links, reporter string
}

// finish makes a parsed alert safe to record and to show: it strips control
// characters, ANSI escapes and bidi overrides from every text field (see
// cleanText), truncates the summary, and reports each other field over its
// cap, or left empty by the stripping, as a problem naming the field.
func finish(al *workflows.Alert, names fieldNames, errs *fieldErrors) {
	capped := func(name, value string, limit int) string {
		v := cleanText(value)
		switch {
		case len(v) > limit:
			errs.add(name, "longer than %d bytes", limit)
		case v == "" && value != "":
			errs.add(name, "nothing left once control characters are removed")
		}
		return v
	}
	al.Service = capped(names.service, al.Service, maxService)
	if s := cleanText(al.Summary); s == "" && al.Summary != "" {
		errs.add(names.summary, "nothing left once control characters are removed")
	} else {
		al.Summary = truncateSummary(s)
	}
	al.DedupKey = capped(names.dedupKey, al.DedupKey, maxDedupKey)
	al.Reporter = capped(names.reporter, al.Reporter, maxReporter)
	if len(al.Labels) > maxLabels {
		errs.add(names.labels, "%d labels; at most %d", len(al.Labels), maxLabels)
	} else if len(al.Labels) > 0 {
		clean := make(map[string]string, len(al.Labels))
		for _, k := range slices.Sorted(maps.Keys(al.Labels)) {
			ck, cv := cleanText(k), cleanText(al.Labels[k])
			switch {
			case len(ck) > maxLabelKey:
				errs.add(names.labels, "a label name is longer than %d bytes (%.40q…)", maxLabelKey, ck)
			case len(cv) > maxLabelValue:
				errs.add(names.labels+"."+ck, "longer than %d bytes", maxLabelValue)
			case ck != "":
				clean[ck] = cv
			}
		}
		al.Labels = clean
	}
	if len(al.Links) > maxLinks {
		errs.add(names.links, "%d links; at most %d", len(al.Links), maxLinks)
	}
	for i, l := range al.Links {
		if len(l) > maxLink {
			errs.add(fmt.Sprintf("%s[%d]", names.links, i), "longer than %d bytes", maxLink)
		}
		al.Links[i] = cleanText(l)
	}
}

// cleanText makes untrusted text one clean line: workflows.CleanLine, the
// one implementation every path shares.
func cleanText(s string) string { return workflows.CleanLine(s) }
