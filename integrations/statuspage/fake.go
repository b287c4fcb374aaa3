package statuspage

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/integrations/fakeapi"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

// FakeOptions configures a Fake.
type FakeOptions struct {
	Reporter fakeapi.Reporter // told of requests the fake does not expect; nil in the sandbox
	Inbox    *inbox.Inbox     // receives every incident opened or updated; may be nil
	APIKey   string           // the key accepted; empty accepts any non-empty key
	PageID   string           // the only page served; empty serves every page ID
	// Components are the page's components, ID → name. An incident may
	// also name components the page does not list; they are named by their ID.
	Components map[string]string
}

// Fake is an in-memory Statuspage that speaks the incidents part of its REST
// API: create, get, update, list (q, limit, page) and list unresolved. It
// checks the OAuth header, validates bodies as Statuspage does and answers
// with its status codes and Incident objects.
type Fake struct {
	// Faults injects failures before the fake handles a request.
	Faults fakeapi.Faults

	opts FakeOptions

	received fakeapi.Log[Request] // wakes WaitFor and the Expect helpers

	mu        sync.Mutex
	rnd       *rand.Rand
	incidents []*IncidentState // oldest first
}

// Request is one request the fake handled, after authentication.
type Request struct {
	Method     string
	Path       string
	PageID     string
	IncidentID string  // the incident read or updated; for a create, the new one
	Payload    Payload // the "incident" object of a create or update
	Status     int     // the HTTP status the fake answered with
}

// IncidentState is an incident as the fake holds it.
type IncidentState struct {
	ID             string
	PageID         string
	Name           string
	Status         string
	ImpactOverride string
	Marker         string   // metadata.sitrep.incident_id
	Incidents      []string // metadata.sitrep.incidents: the sitrep incidents it speaks for
	Shortlink      string
	Metadata       map[string]any
	Components     map[string]string // component ID → status
	Updates        []UpdateState     // oldest first
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ResolvedAt     time.Time // zero while unresolved
}

// UpdateState is one incident update as the fake holds it.
type UpdateState struct {
	ID        string
	Status    string
	Body      string
	CreatedAt time.Time
}

// NewFake returns an empty fake status page.
func NewFake(opts FakeOptions) *Fake {
	return &Fake{opts: opts, rnd: rand.New(rand.NewPCG(1, 2))}
}

// Register mounts the fake's routes, Statuspage's real paths, on mux.
func (f *Fake) Register(mux *http.ServeMux) {
	mux.Handle("POST /v1/pages/{page_id}/incidents", f.Faults.Wrap(f.auth(f.create)))
	mux.Handle("GET /v1/pages/{page_id}/incidents", f.Faults.Wrap(f.auth(f.list)))
	mux.Handle("GET /v1/pages/{page_id}/incidents/unresolved", f.Faults.Wrap(f.auth(f.unresolved)))
	mux.Handle("GET /v1/pages/{page_id}/components", f.Faults.Wrap(f.auth(f.components)))
	mux.Handle("GET /v1/pages/{page_id}/incidents/{incident_id}", f.Faults.Wrap(f.auth(f.get)))
	mux.Handle("PATCH /v1/pages/{page_id}/incidents/{incident_id}", f.Faults.Wrap(f.auth(f.update)))
	mux.Handle("PUT /v1/pages/{page_id}/incidents/{incident_id}", f.Faults.Wrap(f.auth(f.update)))
	mux.Handle("/v1/pages/", fakeapi.Unexpected(f.opts.Reporter, provider))
}

// Received returns the requests the fake handled, oldest first.
func (f *Fake) Received() []Request { return f.received.All() }

// Incidents returns copies of every incident, oldest first.
func (f *Fake) Incidents() []IncidentState {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]IncidentState, len(f.incidents))
	for i, inc := range f.incidents {
		out[i] = inc.clone()
	}
	return out
}

// WaitFor returns the first request pred accepts, waiting for it until ctx ends.
func (f *Fake) WaitFor(ctx context.Context, pred func(Request) bool) (Request, error) {
	return f.received.WaitFor(ctx, pred)
}

// ExpectIncident waits up to five seconds for an incident carrying marker to
// reach status, and fails t when none does.
func (f *Fake) ExpectIncident(t testing.TB, marker, status string) IncidentState {
	t.Helper()
	var found IncidentState
	if !f.received.Eventually(func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, inc := range f.incidents {
			if inc.Marker == marker && inc.Status == status {
				found = inc.clone()
				return true
			}
		}
		return false
	}) {
		t.Fatalf("statuspage fake: no incident with marker %q in status %q; have %+v", marker, status, f.Incidents())
	}
	return found
}

// ErrorFault answers with status and Statuspage's error object carrying message.
func ErrorFault(status int, message string) fakeapi.Fault {
	b, _ := json.Marshal(map[string]string{"message": message})
	return fakeapi.Fault{Status: status, Body: string(b)}
}

// RateLimitFault answers as Statuspage does when the token is over its rate
// limit; status is 420 or 429. Statuspage sends no Retry-After.
func RateLimitFault(status int) fakeapi.Fault {
	return ErrorFault(status, "Rate limit exceeded. Please retry your request later.")
}

func (s *IncidentState) clone() IncidentState {
	c := *s
	c.Components = make(map[string]string, len(s.Components))
	for k, v := range s.Components {
		c.Components[k] = v
	}
	c.Updates = slices.Clone(s.Updates)
	return c
}

// auth checks "Authorization: OAuth <key>" and the page, as Statuspage does.
func (f *Fake) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "OAuth ")
		if !ok || key == "" || (f.opts.APIKey != "" && key != f.opts.APIKey) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Could not authenticate"})
			return
		}
		if f.opts.PageID != "" && r.PathValue("page_id") != f.opts.PageID {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "The page you requested could not be found"})
			return
		}
		next(w, r)
	}
}

func (f *Fake) create(w http.ResponseWriter, r *http.Request) {
	p, ok := f.decode(w, r)
	if !ok {
		return
	}
	req := Request{Method: r.Method, Path: r.URL.Path, PageID: r.PathValue("page_id"), Payload: p}
	if p.Status == "" {
		p.Status = "investigating"
	}
	msg := validate(p, true)
	f.mu.Lock()
	defer f.mu.Unlock()
	if msg != "" {
		req.Status = http.StatusUnprocessableEntity
		f.received.Add(req)
		writeJSON(w, req.Status, map[string]string{"message": msg})
		return
	}
	now := time.Now().UTC()
	inc := &IncidentState{
		ID:             f.newID(12),
		PageID:         req.PageID,
		Name:           p.Name,
		Status:         p.Status,
		ImpactOverride: p.ImpactOverride,
		Marker:         markerOf(p.Metadata),
		Incidents:      incidentsOf(p.Metadata),
		Shortlink:      "https://stspg.io/" + f.newID(7),
		Metadata:       p.Metadata,
		Components:     map[string]string{},
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	for _, id := range p.ComponentIDs {
		inc.Components[id] = "operational"
	}
	for id, st := range p.Components {
		inc.Components[id] = st
	}
	inc.Updates = append(inc.Updates, UpdateState{ID: f.newID(12), Status: p.Status, Body: p.Body, CreatedAt: now})
	if p.Status == "resolved" {
		inc.ResolvedAt = now
	}
	f.incidents = append(f.incidents, inc)
	req.IncidentID, req.Status = inc.ID, http.StatusCreated
	f.received.Add(req)
	f.deliver(inc, p.Body)
	writeJSON(w, http.StatusCreated, f.render(inc))
}

func (f *Fake) update(w http.ResponseWriter, r *http.Request) {
	p, ok := f.decode(w, r)
	if !ok {
		return
	}
	req := Request{Method: r.Method, Path: r.URL.Path, PageID: r.PathValue("page_id"), IncidentID: r.PathValue("incident_id"), Payload: p}
	msg := validate(p, false)
	f.mu.Lock()
	defer f.mu.Unlock()
	inc := f.find(req.PageID, req.IncidentID)
	switch {
	case inc == nil:
		req.Status = http.StatusNotFound
		f.received.Add(req)
		writeJSON(w, req.Status, map[string]string{"message": "Incident not found"})
		return
	case msg != "":
		req.Status = http.StatusUnprocessableEntity
		f.received.Add(req)
		writeJSON(w, req.Status, map[string]string{"message": msg})
		return
	}
	now := time.Now().UTC()
	if p.Name != "" {
		inc.Name = p.Name
	}
	if p.ImpactOverride != "" {
		inc.ImpactOverride = p.ImpactOverride
	}
	if p.Metadata != nil {
		inc.Metadata, inc.Marker, inc.Incidents = p.Metadata, markerOf(p.Metadata), incidentsOf(p.Metadata)
	}
	for _, id := range p.ComponentIDs {
		if _, ok := inc.Components[id]; !ok {
			inc.Components[id] = "operational"
		}
	}
	for id, st := range p.Components {
		inc.Components[id] = st
	}
	status := inc.Status
	if p.Status != "" {
		status = p.Status
	}
	changed := status != inc.Status || p.Body != ""
	inc.Status, inc.UpdatedAt = status, now
	if status == "resolved" && inc.ResolvedAt.IsZero() {
		inc.ResolvedAt = now
	}
	if changed {
		inc.Updates = append(inc.Updates, UpdateState{ID: f.newID(12), Status: status, Body: p.Body, CreatedAt: now})
	}
	req.Status = http.StatusOK
	f.received.Add(req)
	if changed {
		f.deliver(inc, p.Body)
	}
	writeJSON(w, http.StatusOK, f.render(inc))
}

func (f *Fake) get(w http.ResponseWriter, r *http.Request) {
	req := Request{Method: r.Method, Path: r.URL.Path, PageID: r.PathValue("page_id"), IncidentID: r.PathValue("incident_id")}
	f.mu.Lock()
	defer f.mu.Unlock()
	inc := f.find(req.PageID, req.IncidentID)
	if inc == nil {
		req.Status = http.StatusNotFound
		f.received.Add(req)
		writeJSON(w, req.Status, map[string]string{"message": "Incident not found"})
		return
	}
	req.Status = http.StatusOK
	f.received.Add(req)
	writeJSON(w, http.StatusOK, f.render(inc))
}

// list serves GET incidents: newest first, filtered by q, paged by limit and page.
func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	q := strings.ToLower(r.URL.Query().Get("q"))
	f.serveList(w, r, "limit", func(inc *IncidentState) bool {
		if q == "" {
			return true
		}
		text := inc.Name + " " + inc.Status
		for _, u := range inc.Updates {
			text += " " + u.Body
		}
		return strings.Contains(strings.ToLower(text), q)
	})
}

// unresolved serves GET incidents/unresolved: investigating, identified or monitoring.
func (f *Fake) unresolved(w http.ResponseWriter, r *http.Request) {
	f.serveList(w, r, "per_page", func(inc *IncidentState) bool { return inc.Status != "resolved" })
}

func (f *Fake) serveList(w http.ResponseWriter, r *http.Request, sizeParam string, keep func(*IncidentState) bool) {
	req := Request{Method: r.Method, Path: r.URL.Path, PageID: r.PathValue("page_id")}
	size, page := 100, 1
	if v := r.URL.Query().Get(sizeParam); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": sizeParam + " is invalid"})
			return
		}
		size = min(n, 100)
	}
	if v := r.URL.Query().Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "page is invalid"})
			return
		}
		page = n
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []any{}
	skip := (page - 1) * size
	for _, inc := range slices.Backward(f.incidents) {
		if inc.PageID != req.PageID || !keep(inc) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(out) == size {
			break
		}
		out = append(out, f.render(inc))
	}
	req.Status = http.StatusOK
	f.received.Add(req)
	writeJSON(w, http.StatusOK, out)
}

// components serves GET components: the page's components, by ID.
func (f *Fake) components(w http.ResponseWriter, r *http.Request) {
	req := Request{Method: r.Method, Path: r.URL.Path, PageID: r.PathValue("page_id"), Status: http.StatusOK}
	out := []any{}
	for i, id := range slices.Sorted(maps.Keys(f.opts.Components)) {
		out = append(out, map[string]any{"id": id, "page_id": req.PageID, "group_id": nil, "name": f.opts.Components[id],
			"description": nil, "status": "operational", "position": i + 1, "showcase": true, "only_show_if_degraded": false})
	}
	f.received.Add(req)
	writeJSON(w, http.StatusOK, out)
}

// decode reads {"incident": {...}} from a JSON body, answering for it when it cannot.
func (f *Fake) decode(w http.ResponseWriter, r *http.Request) (Payload, bool) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		if f.opts.Reporter != nil {
			f.opts.Reporter.Errorf("statuspage fake: %s %s with Content-Type %q; the fake reads JSON only", r.Method, r.URL.Path, mt)
		}
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"message": "Content-Type must match the body; the fake reads application/json"})
		return Payload{}, false
	}
	var body struct {
		Incident *Payload `json:"incident"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Invalid JSON: " + err.Error()})
		return Payload{}, false
	}
	if body.Incident == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "param is missing or the value is empty: incident"})
		return Payload{}, false
	}
	return *body.Incident, true
}

var (
	incidentStatuses  = []string{"investigating", "identified", "monitoring", "resolved"}
	impacts           = []string{"none", "minor", "major", "critical"}
	componentStatuses = []string{"operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage"}
)

// validate returns Statuspage's complaint about p, or "" when p is valid.
func validate(p Payload, create bool) string {
	switch {
	case create && strings.TrimSpace(p.Name) == "":
		return "Name can't be blank"
	case len([]rune(p.Name)) > 255:
		return "Name is too long (maximum is 255 characters)"
	case len([]rune(p.Body)) > 25000:
		return "Body is too long (maximum is 25000 characters)"
	case p.Status != "" && !slices.Contains(incidentStatuses, p.Status):
		return fmt.Sprintf("Status %q is not a valid realtime incident status", p.Status)
	case p.ImpactOverride != "" && !slices.Contains(impacts, p.ImpactOverride):
		return fmt.Sprintf("Impact override %q is not valid", p.ImpactOverride)
	}
	for id, st := range p.Components {
		if !slices.Contains(componentStatuses, st) {
			return fmt.Sprintf("Component %s status %q is not valid", id, st)
		}
	}
	for k, v := range p.Metadata {
		if _, ok := v.(map[string]any); !ok {
			return fmt.Sprintf("Metadata value for %q must be an object", k)
		}
	}
	return ""
}

func markerOf(md map[string]any) string {
	s, _ := md["sitrep"].(map[string]any)
	id, _ := s["incident_id"].(string)
	return id
}

// incidentsOf reads metadata.sitrep.incidents, as JSON decodes it.
func incidentsOf(md map[string]any) []string {
	s, _ := md["sitrep"].(map[string]any)
	list, _ := s["incidents"].([]any)
	var out []string
	for _, v := range list {
		if id, ok := v.(string); ok {
			out = append(out, id)
		}
	}
	return out
}

func (f *Fake) find(pageID, id string) *IncidentState {
	for _, inc := range f.incidents {
		if inc.ID == id && inc.PageID == pageID {
			return inc
		}
	}
	return nil
}

// newID returns n random lowercase letters and digits, like Statuspage IDs; the caller holds f.mu.
func (f *Fake) newID(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[f.rnd.IntN(len(alphabet))]
	}
	return string(b)
}

// deliver shows the incident's latest state in the inbox as a subscriber reads it.
func (f *Fake) deliver(inc *IncidentState, body string) {
	text := inc.Status
	if body != "" {
		text += ": " + body
	}
	f.opts.Inbox.Add(inbox.Message{
		Channel:    "statuspage",
		Provider:   provider,
		To:         "page " + inc.PageID,
		Subject:    inc.Name,
		Text:       text,
		Incident:   inc.Marker,
		Incidents:  slices.Clone(inc.Incidents),
		ProviderID: inc.ID,
		Links:      []inbox.Link{{Label: "Status page incident", URL: inc.Shortlink}},
	})
}

// impact is impact_override when set, or else the worst component status's impact.
func impact(inc *IncidentState) string {
	if inc.ImpactOverride != "" {
		return inc.ImpactOverride
	}
	rank := map[string]int{"degraded_performance": 1, "partial_outage": 2, "major_outage": 3}
	worst := 0
	for _, st := range inc.Components {
		worst = max(worst, rank[st])
	}
	return impacts[worst]
}

// render returns Statuspage's Incident object for inc.
func (f *Fake) render(inc *IncidentState) map[string]any {
	ts := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.Format(time.RFC3339Nano)
	}
	var override any
	if inc.ImpactOverride != "" {
		override = inc.ImpactOverride
	}
	updates := []any{}
	for _, u := range slices.Backward(inc.Updates) { // newest first, as Statuspage lists them
		updates = append(updates, map[string]any{
			"id": u.ID, "incident_id": inc.ID, "status": u.Status, "body": u.Body,
			"created_at": ts(u.CreatedAt), "updated_at": ts(u.CreatedAt), "display_at": ts(u.CreatedAt),
			"deliver_notifications": true,
		})
	}
	ids := make([]string, 0, len(inc.Components))
	for id := range inc.Components {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	comps := []any{}
	for i, id := range ids {
		comps = append(comps, map[string]any{
			"id": id, "page_id": inc.PageID, "group_id": nil, "name": cmp.Or(f.opts.Components[id], id), "description": nil,
			"status": inc.Components[id], "position": i + 1, "showcase": true, "only_show_if_degraded": false,
			"created_at": ts(inc.CreatedAt), "updated_at": ts(inc.UpdatedAt),
		})
	}
	md := inc.Metadata
	if md == nil {
		md = map[string]any{}
	}
	return map[string]any{
		"id": inc.ID, "page_id": inc.PageID, "name": inc.Name, "status": inc.Status,
		"impact": impact(inc), "impact_override": override, "shortlink": inc.Shortlink,
		"created_at": ts(inc.CreatedAt), "updated_at": ts(inc.UpdatedAt), "started_at": ts(inc.CreatedAt),
		"monitoring_at": nil, "resolved_at": ts(inc.ResolvedAt), "postmortem_body": nil,
		"incident_updates": updates, "components": comps, "metadata": md,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
