package statuspage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
)

// DefaultBaseURL is Statuspage's API host; request paths start with /v1.
const DefaultBaseURL = "https://api.statuspage.io"

// defaultTimeout bounds each HTTP request when Config.Timeout is zero.
const defaultTimeout = 10 * time.Second

// unresolvedPageSize is how many unresolved incidents one listing request asks for.
const unresolvedPageSize = 100

// maxUnresolvedPages caps the listing a CreateIncident does before creating.
const maxUnresolvedPages = 5

// Config holds what the client needs to reach one Statuspage page.
type Config struct {
	APIKey     integrations.Secret // sent as "Authorization: OAuth <key>"
	PageID     string              // the page incidents are opened on
	BaseURL    string              // default DefaultBaseURL
	HTTPClient *http.Client        // default a new http.Client
	Timeout    time.Duration       // per request; default 10s
}

// ConfigFromEnv reads STATUSPAGE_API_KEY (or STATUSPAGE_API_KEY_FILE),
// STATUSPAGE_PAGE_ID and STATUSPAGE_BASE_URL. ok is false when none of them
// is set: the status page is then disabled.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	key, err := integrations.ReadSecret(getenv, "STATUSPAGE_API_KEY")
	if err != nil {
		return Config{}, false, fmt.Errorf("statuspage config: %w", err)
	}
	cfg = Config{
		APIKey:  key,
		PageID:  getenv("STATUSPAGE_PAGE_ID"),
		BaseURL: getenv("STATUSPAGE_BASE_URL"),
	}
	ok = cfg.APIKey != "" || cfg.PageID != "" || cfg.BaseURL != ""
	return cfg, ok, nil
}

// Client talks to one Statuspage page. It is safe for concurrent use.
type Client struct {
	key     integrations.Secret
	pageID  string
	baseURL string
	http    *http.Client
	timeout time.Duration
}

// New checks cfg and returns a client. It reports every missing field at once.
func New(cfg Config) (*Client, error) {
	var errs []error
	if cfg.APIKey == "" {
		errs = append(errs, errors.New("API key is required (STATUSPAGE_API_KEY)"))
	}
	if cfg.PageID == "" {
		errs = append(errs, errors.New("page ID is required (STATUSPAGE_PAGE_ID)"))
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("base URL %q is not an http(s) URL (STATUSPAGE_BASE_URL)", cfg.BaseURL))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v is negative", cfg.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("statuspage config: %w", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	return &Client{
		key:     cfg.APIKey,
		pageID:  cfg.PageID,
		baseURL: strings.TrimRight(cfg.BaseURL, "/"),
		http:    cfg.HTTPClient,
		timeout: cfg.Timeout,
	}, nil
}

// Incident is what CreateIncident opens.
type Incident struct {
	Marker          string   // the sitrep incident ID; stored in metadata.sitrep.incident_id
	Name            string   // the title customers read
	Status          string   // investigating, identified, monitoring or resolved
	Body            string   // the first update's text
	ImpactOverride  string   // none, minor, major or critical; empty lets Statuspage compute it
	ComponentIDs    []string // components the incident affects
	ComponentStatus string   // operational, degraded_performance, partial_outage or major_outage, applied to ComponentIDs
	// Incidents are the sitrep incidents it speaks for (one public story
	// can hold many); stored in metadata.sitrep.incidents, never shown.
	Incidents []string
}

// Update is one incident update posted by UpdateIncident.
type Update struct {
	Status          string   // investigating, identified, monitoring or resolved; empty keeps the current one
	Body            string   // the update's text
	ImpactOverride  string   // empty keeps the current one
	ComponentIDs    []string // components whose status changes
	ComponentStatus string   // the status ComponentIDs take
	// Marker and Incidents, when Incidents is set, rewrite the metadata
	// the incident opened with: the incidents it speaks for now.
	Marker    string
	Incidents []string
}

// metadata is what sitrep keeps in a status page incident's metadata.
func metadata(marker string, incidents []string) map[string]any {
	md := map[string]any{"incident_id": marker}
	if len(incidents) > 0 {
		md["incidents"] = incidents
	}
	return map[string]any{"sitrep": md}
}

// Payload is the "incident" object of a create or update request, as
// Statuspage reads it. The client sends it; the fake records it.
type Payload struct {
	Name                 string            `json:"name,omitempty"`
	Status               string            `json:"status,omitempty"`
	ImpactOverride       string            `json:"impact_override,omitempty"`
	Body                 string            `json:"body,omitempty"`
	ComponentIDs         []string          `json:"component_ids,omitempty"`
	Components           map[string]string `json:"components,omitempty"`
	Metadata             map[string]any    `json:"metadata,omitempty"`
	DeliverNotifications *bool             `json:"deliver_notifications,omitempty"`
}

type envelope struct {
	Incident Payload `json:"incident"`
}

// incident is the part of Statuspage's Incident object the client reads.
type incident struct {
	ID         string          `json:"id"`
	Shortlink  string          `json:"shortlink"`
	Name       string          `json:"name"`
	Status     string          `json:"status"`
	Metadata   json.RawMessage `json:"metadata"`
	Components []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"components"`
}

// marker returns metadata.sitrep.incident_id, or "" when the incident has none.
func (i incident) marker() string {
	var md struct {
		Sitrep struct {
			IncidentID string `json:"incident_id"`
		} `json:"sitrep"`
	}
	if json.Unmarshal(i.Metadata, &md) != nil {
		return ""
	}
	return md.Sitrep.IncidentID
}

// components maps ids to status, or returns nil when there is nothing to set.
func components(ids []string, status string) map[string]string {
	if status == "" || len(ids) == 0 {
		return nil
	}
	m := make(map[string]string, len(ids))
	for _, id := range ids {
		m[id] = status
	}
	return m
}

// CreateIncident opens inc on the page and returns its Statuspage ID. When an
// unresolved incident already carries inc.Marker, it returns that one's ID
// instead, so retrying is safe.
func (c *Client) CreateIncident(ctx context.Context, inc Incident) (string, error) {
	id, _, err := c.OpenIncident(ctx, inc)
	return id, err
}

// OpenIncident is CreateIncident that also returns the incident's shortlink,
// the public URL customers open.
func (c *Client) OpenIncident(ctx context.Context, inc Incident) (id, shortlink string, err error) {
	if inc.Marker == "" {
		return "", "", classify(nil, nil, fmt.Errorf("create incident: %w: marker is empty", errInvalid))
	}
	found, err := c.findUnresolved(ctx, inc.Marker)
	if err != nil || found.ID != "" {
		return found.ID, found.Shortlink, err
	}
	body := envelope{Incident: Payload{
		Name:           inc.Name,
		Status:         inc.Status,
		ImpactOverride: inc.ImpactOverride,
		Body:           inc.Body,
		ComponentIDs:   inc.ComponentIDs,
		Components:     components(inc.ComponentIDs, inc.ComponentStatus),
		Metadata:       metadata(inc.Marker, inc.Incidents),
	}}
	var created incident
	if err := c.do(ctx, http.MethodPost, c.incidentsPath(), body, &created); err != nil {
		return "", "", err
	}
	return created.ID, created.Shortlink, nil
}

// findUnresolved returns the unresolved incident carrying marker, or a zero one.
func (c *Client) findUnresolved(ctx context.Context, marker string) (incident, error) {
	for page := 1; page <= maxUnresolvedPages; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(unresolvedPageSize)}}
		var list []incident
		if err := c.do(ctx, http.MethodGet, c.incidentsPath()+"/unresolved?"+q.Encode(), nil, &list); err != nil {
			return incident{}, err
		}
		for _, inc := range list {
			if inc.marker() == marker {
				return inc, nil
			}
		}
		if len(list) < unresolvedPageSize {
			break
		}
	}
	return incident{}, nil
}

// UpdateIncident posts u on incident id. Statuspage has no idempotency key: a
// retry after an ambiguous failure may post the update twice.
func (c *Client) UpdateIncident(ctx context.Context, id string, u Update) error {
	if id == "" {
		return classify(nil, nil, fmt.Errorf("update incident: %w: incident ID is empty", errInvalid))
	}
	body := envelope{Incident: Payload{
		Status:         u.Status,
		Body:           u.Body,
		ImpactOverride: u.ImpactOverride,
		ComponentIDs:   u.ComponentIDs,
		Components:     components(u.ComponentIDs, u.ComponentStatus),
	}}
	if len(u.Incidents) > 0 {
		body.Incident.Metadata = metadata(u.Marker, u.Incidents)
	}
	return c.do(ctx, http.MethodPatch, c.incidentPath(id), body, nil)
}

// ResolveIncident marks incident id resolved with u.Body as the last update
// (and u's metadata, as UpdateIncident) and sets every component it affects
// back to operational. Resolving an incident that is already resolved does
// nothing.
func (c *Client) ResolveIncident(ctx context.Context, id string, u Update) error {
	if id == "" {
		return classify(nil, nil, fmt.Errorf("resolve incident: %w: incident ID is empty", errInvalid))
	}
	var cur incident
	if err := c.do(ctx, http.MethodGet, c.incidentPath(id), nil, &cur); err != nil {
		return err
	}
	if cur.Status == "resolved" || cur.Status == "postmortem" {
		return nil
	}
	var ids []string
	for _, comp := range cur.Components {
		ids = append(ids, comp.ID)
	}
	u.Status, u.ComponentIDs, u.ComponentStatus = "resolved", ids, "operational"
	return c.UpdateIncident(ctx, id, u)
}

// ComponentIDs turns the components a catalog names, by name or by ID, into
// the page's component IDs, asking the page for its components. A name the
// page does not know is kept as it is: it may be an ID the listing leaves
// out, and Statuspage refuses it if not.
func (c *Client) ComponentIDs(ctx context.Context, namesOrIDs []string) ([]string, error) {
	if len(namesOrIDs) == 0 {
		return nil, nil
	}
	var comps []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/pages/"+url.PathEscape(c.pageID)+"/components?per_page=100", nil, &comps); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(namesOrIDs))
	for _, n := range namesOrIDs {
		id := n
		for _, comp := range comps {
			if comp.Name == n {
				id = comp.ID
				break
			}
		}
		out = append(out, id)
	}
	return out, nil
}

func (c *Client) incidentsPath() string {
	return "/v1/pages/" + url.PathEscape(c.pageID) + "/incidents"
}

func (c *Client) incidentPath(id string) string {
	return c.incidentsPath() + "/" + url.PathEscape(id)
}

// do sends one request and decodes a 2xx answer into out. Every failure
// comes back through classify.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	return integrations.DoJSON(ctx, c.http, c.timeout, method, c.baseURL+path,
		func(req *http.Request) { req.Header.Set("Authorization", "OAuth "+c.key.Reveal()) }, in, out, classify)
}
