package starter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/sitrep-dev/sitrep/workflows"
)

// Errors the starter returns; the CLI maps them to exit codes and the intake to HTTP statuses.
var (
	ErrNotFound    = errors.New("no such incident")
	ErrUnavailable = errors.New("temporal is unreachable")
	ErrInvalid     = errors.New("invalid request")
)

// RejectedError is an update the incident refused: the reason is for a person.
type RejectedError struct {
	Type    string // one of workflows.Reject*
	Message string
	// By and At say who acknowledged first, for RejectAlreadyAcknowledged.
	By string
	At time.Time
}

func (e *RejectedError) Error() string { return e.Message }

// Client starts and talks to incidents.
type Client struct {
	tc  client.Client
	now func() time.Time
	// Groups, when set, says which services group their alerts into one
	// open incident (catalog: group_window); their alerts go to GroupID.
	Groups func(service string) bool
	probed probed
	// pagers remembers whose Pager was last seen running, and when: a claim
	// for them goes straight to it, one round trip instead of two (see
	// Claim).
	pagers sync.Map
}

// New wraps a connected Temporal client.
func New(tc client.Client) *Client { return &Client{tc: tc, now: time.Now} }

var _ Incidents = (*Client)(nil)

// Ready reports whether Temporal answers.
func (c *Client) Ready(ctx context.Context) error {
	if _, err := c.tc.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return wrap("health", err)
	}
	return nil
}

// Receipt says where an alert went.
type Receipt struct {
	IncidentID string `json:"id"`
	Opened     bool   `json:"opened"` // false: folded into the open incident
	// Ignored: a resolved alert with no open incident to resolve.
	Ignored bool `json:"ignored,omitempty"`
}

// Alert records an alert: it folds into the open incident for its dedup key
// (or, for a service that groups its alerts, the service's open incident), or
// opens a new one, in one atomic call (SignalWithStart). It returns only once
// the server has durably recorded the alert, whether or not a worker is
// running. A resolved alert never opens an incident: with none open it is
// ignored. Its text is cleaned first (workflows.CleanAlert), as on every
// path: a line break in a summary would make every email page fail.
func (c *Client) Alert(ctx context.Context, al workflows.Alert) (Receipt, error) {
	workflows.CleanAlert(&al)
	if al.DedupKey == "" {
		al.DedupKey = al.Service + "|" + al.Summary
	}
	if al.ReceivedAt.IsZero() {
		al.ReceivedAt = c.now().UTC()
	}
	if err := workflows.ValidateAlert(al); err != nil {
		return Receipt{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	id := workflows.IncidentID(al.Service, al.DedupKey)
	if c.Groups != nil && c.Groups(al.Service) {
		id = workflows.GroupID(al.Service)
	}
	if al.Resolved {
		err := c.tc.SignalWorkflow(ctx, id, "", workflows.AlertSignal, al)
		switch {
		case err == nil:
			return Receipt{IncidentID: id}, nil
		case isNotFound(err):
			// The condition cleared with no incident open: nothing to do, and
			// certainly nothing to page.
			return Receipt{IncidentID: id, Ignored: true}, nil
		}
		return Receipt{}, wrap("fold alert", err)
	}
	// The server says whether it started a run (StartedInterceptor); with
	// no interceptor on the connection, which run was open before says it.
	before := ""
	if !c.probed.Load() {
		before = c.running(ctx, id)
	}
	probe := &startedProbe{}
	run, err := c.tc.SignalWithStartWorkflow(context.WithValue(ctx, startedKey{}, probe), id, workflows.AlertSignal, al,
		startOptions(id, al), workflows.Incident, workflows.IncidentInput{})
	if err != nil {
		return Receipt{}, wrap("record alert", err)
	}
	opened := run.GetRunID() != before
	if probe.seen {
		c.probed.Store(true)
		opened = probe.started
	}
	if !opened {
		// Landed in an incident that has resolved and is closing: it opens
		// the next incident as it closes.
		opened = c.closing(ctx, id)
	}
	return Receipt{IncidentID: id, Opened: opened}, nil
}

// closing: id's open run has resolved and is handing over.
func (c *Client) closing(ctx context.Context, id string) bool {
	d, err := c.tc.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return false
	}
	return keyword(d.GetWorkflowExecutionInfo().GetSearchAttributes(), workflows.PhaseAttr) == string(workflows.Resolved)
}

// running is the run ID of id's open incident, or "" when none is open.
func (c *Client) running(ctx context.Context, id string) string {
	d, err := c.tc.DescribeWorkflowExecution(ctx, id, "")
	if err != nil || d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return ""
	}
	return d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
}

func startOptions(id string, al workflows.Alert) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: workflows.TaskQueue,
		// A resolved incident's ID may be reused: the same alert firing again
		// later is a new incident. Two senders racing to open it get one.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.ServiceAttr.ValueSet(al.Service), workflows.SeverityAttr.ValueSet(string(al.Severity)),
			workflows.PhaseAttr.ValueSet(string(workflows.Triggered)), workflows.SourceAttr.ValueSet(string(al.Source))),
		StaticSummary: truncate(fmt.Sprintf("%s %s: %s", al.Severity, al.Service, al.Summary), 200),
		StaticDetails: fmt.Sprintf("**%s** incident on **%s**, from %s (%s)\n\n%s\n\nDedup key: %s",
			al.Severity, workflows.MarkdownText(al.Service), al.Source, orDash(al.Integration), workflows.MarkdownText(al.Summary), workflows.MarkdownText(al.DedupKey)),
	}
}

// Acknowledge acknowledges incident id as req.Person. requestID, when not
// empty, makes retries of the same request (a webhook delivered twice) count once.
// id may be an IncidentRef, as links and buttons carry: an answer to an
// earlier incident with the same ID is then refused.
func (c *Client) Acknowledge(ctx context.Context, id, requestID string, req workflows.AckRequest) (workflows.AckResult, error) {
	if workflows.IsBundleRef(id) {
		return c.acknowledgeBundle(ctx, id, requestID, req)
	}
	var out workflows.AckResult
	id, req.Run = workflows.ParseIncidentRef(id)
	return out, c.update(ctx, id, requestID, workflows.AcknowledgeUpdate, req, &out)
}

// Escalate pages the next level of incident id now.
func (c *Client) Escalate(ctx context.Context, id, requestID string, req workflows.EscalateRequest) (workflows.EscalateResult, error) {
	var out workflows.EscalateResult
	if workflows.IsBundleRef(id) {
		return out, &RejectedError{Type: workflows.RejectInvalid,
			Message: "a bundle is acknowledged whole but escalated incident by incident: reply 5 with an incident's code"}
	}
	id, req.Run = workflows.ParseIncidentRef(id)
	return out, c.update(ctx, id, requestID, workflows.EscalateUpdate, req, &out)
}

// Mitigate marks incident id mitigated. Asking again is not an error: the
// answer says it was mitigated already, by whom and when. The note is
// cleaned to one line (workflows.CleanNote).
func (c *Client) Mitigate(ctx context.Context, id, requestID string, req workflows.PhaseRequest) (workflows.PhaseResult, error) {
	var out workflows.PhaseResult
	req.Note, req.Public = workflows.CleanNote(req.Note), workflows.CleanNote(req.Public)
	id, req.Run = workflows.ParseIncidentRef(id)
	return out, c.update(ctx, id, requestID, workflows.MitigateUpdate, req, &out)
}

// Resolve resolves incident id. Asking again, even once the incident has
// closed, answers with the resolution it already has. The note is cleaned
// to one line (workflows.CleanNote).
func (c *Client) Resolve(ctx context.Context, id, requestID string, req workflows.PhaseRequest) (workflows.PhaseResult, error) {
	var out workflows.PhaseResult
	req.Note, req.Public = workflows.CleanNote(req.Note), workflows.CleanNote(req.Public)
	id, req.Run = workflows.ParseIncidentRef(id)
	err := c.update(ctx, id, requestID, workflows.ResolveUpdate, req, &out)
	if errors.Is(err, ErrNotFound) || isCompleted(err) {
		// Closed: it was resolved (a closed incident always is); say when.
		st, serr := c.Status(ctx, id)
		if serr == nil && st.Phase == workflows.Resolved && (req.Run == "" || req.Run == st.Run) && st.ResolvedAt != nil {
			return workflows.PhaseResult{Phase: workflows.Resolved, At: *st.ResolvedAt, Already: true}, nil
		}
	}
	return out, err
}

// isCompleted: the update reached a workflow that has already closed.
func isCompleted(err error) bool {
	return err != nil && strings.Contains(err.Error(), "workflow execution already completed")
}

func (c *Client) update(ctx context.Context, id, requestID, name string, arg, out any) error {
	h, err := c.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateID: requestID, UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, out)
	}
	if err == nil {
		return nil
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		r := &RejectedError{Type: app.Type(), Message: app.Message()}
		if r.Type == workflows.RejectAlreadyAcknowledged && app.HasDetails() {
			var first workflows.AckResult
			if app.Details(&first) == nil {
				r.By, r.At = first.Person, first.At
			}
		}
		return r
	}
	if isNotFound(err) {
		return fmt.Errorf("%s %s: %w (it may be resolved already)", name, id, ErrNotFound)
	}
	return wrap(name+" "+id, err)
}

// Status returns the whole state of incident id, open or closed.
func (c *Client) Status(ctx context.Context, id string) (workflows.IncidentState, error) {
	var st workflows.IncidentState
	id, _ = workflows.ParseIncidentRef(id)
	v, err := c.tc.QueryWorkflow(ctx, id, "", workflows.StateQuery)
	if err != nil {
		if isNotFound(err) {
			return st, fmt.Errorf("status %s: %w", id, ErrNotFound)
		}
		return st, wrap("status "+id, err)
	}
	if err := v.Get(&st); err != nil {
		return st, fmt.Errorf("status %s: decode: %w", id, err)
	}
	return st, nil
}

// ListFilter selects incidents; empty fields match all.
type ListFilter struct {
	Service string
	Phase   string
	Open    bool      // only incidents still running
	Since   time.Time // only incidents opened at or after; zero for all
	Limit   int
}

// Listed is one incident in a list, read from visibility without a worker.
type Listed struct {
	ID       string    `json:"id"`
	Phase    string    `json:"phase"`
	Service  string    `json:"service"`
	Severity string    `json:"severity"`
	Source   string    `json:"source"`
	Team     string    `json:"team,omitempty"`
	Status   string    `json:"status"` // Temporal's: Running, Completed, ...
	Started  time.Time `json:"started"`
	// Summary is the opening alert's summary; empty when it could not be read.
	Summary string `json:"summary"`
}

// List returns incidents, newest first.
func (c *Client) List(ctx context.Context, f ListFilter) ([]Listed, error) {
	q := "WorkflowType = 'Incident'"
	if f.Service != "" {
		q += fmt.Sprintf(" AND %s = %q", workflows.ServiceAttr.GetName(), f.Service)
	}
	if f.Phase != "" {
		q += fmt.Sprintf(" AND %s = %q", workflows.PhaseAttr.GetName(), f.Phase)
	}
	if f.Open {
		q += " AND ExecutionStatus = 'Running'"
	}
	if !f.Since.IsZero() {
		q += fmt.Sprintf(" AND StartTime >= %q", f.Since.UTC().Format(time.RFC3339))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []Listed
	var token []byte
	for len(out) < limit {
		resp, err := c.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, NextPageToken: token, PageSize: int32(min(limit, 1000))})
		if err != nil {
			return nil, wrap("list", err)
		}
		for _, e := range resp.GetExecutions() {
			sa := e.GetSearchAttributes()
			l := Listed{ID: e.GetExecution().GetWorkflowId(), Status: statusName(e.GetStatus()), Started: e.GetStartTime().AsTime()}
			l.Phase, l.Service = keyword(sa, workflows.PhaseAttr), keyword(sa, workflows.ServiceAttr)
			l.Severity, l.Source, l.Team = keyword(sa, workflows.SeverityAttr), keyword(sa, workflows.SourceAttr), keyword(sa, workflows.TeamAttr)
			l.Summary = c.summary(ctx, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId())
			out = append(out, l)
			if len(out) == limit {
				break
			}
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	return out, nil
}

// summary reads an incident's opening summary from the summary it was
// started with ("SEV1 checkout: what is wrong"), which visibility does not
// list: one describe per incident, decoded by the client's data converter.
func (c *Client) summary(ctx context.Context, id, run string) string {
	d, err := c.tc.DescribeWorkflow(ctx, id, run)
	if err != nil {
		return "" // the row still lists; only its summary is missing
	}
	s, err := d.GetStaticSummary()
	if err != nil {
		return ""
	}
	if _, rest, ok := strings.Cut(s, ": "); ok && strings.HasPrefix(s, "SEV") {
		return rest
	}
	return s
}

func keyword(sa *commonpb.SearchAttributes, k temporal.SearchAttributeKeyKeyword) string {
	var v string
	if p := sa.GetIndexedFields()[k.GetName()]; p != nil {
		_ = converter.GetDefaultDataConverter().FromPayload(p, &v) // an unreadable value shows as empty
	}
	return v
}

func statusName(s enumspb.WorkflowExecutionStatus) string {
	name := s.String()
	if len(name) > 1 {
		return name[:1] + toLower(name[1:])
	}
	return name
}

func toLower(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	return string(b)
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// wrap names an error as unreachable when Temporal could not be reached.
func wrap(op string, err error) error {
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	if errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w: %v", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// PostUpdate posts a stakeholder update to incident id: the status page,
// the stakeholder lists of its audience and the war room; the update clock
// restarts. The message is cleaned (workflows.CleanMessage: its line
// breaks stay) and the request checked here first (ValidateUpdate), so a
// mistake is named before anything reaches the incident; the incident's
// own validator then judges the rest (a status going backwards, an unknown
// sub-role), answered as a RejectedError. requestID, when not empty, makes
// a retried request count once.
func (c *Client) PostUpdate(ctx context.Context, id, requestID string, req workflows.UpdateRequest) (workflows.UpdateResult, error) {
	var out workflows.UpdateResult
	req.Message = workflows.CleanMessage(req.Message)
	if err := ValidateUpdate(req); err != nil {
		return out, err
	}
	id, req.Run = workflows.ParseIncidentRef(id)
	return out, c.update(ctx, id, requestID, workflows.PostUpdateUpdate, req, &out)
}

// AssignRole gives req.Role on incident id to req.Person. The incident's
// validator refuses an unknown role or person with a RejectedError.
func (c *Client) AssignRole(ctx context.Context, id, requestID string, req workflows.RoleRequest) (workflows.RoleResult, error) {
	var out workflows.RoleResult
	if err := ValidateRole(req); err != nil {
		return out, err
	}
	id, req.Run = workflows.ParseIncidentRef(id)
	return out, c.update(ctx, id, requestID, workflows.AssignRoleUpdate, req, &out)
}

// FindByRoom returns the ID of the open incident whose war room is the chat
// channel channelID (its SitrepRoom search attribute), or ErrNotFound. It
// reads visibility, which lags a room's opening by a moment.
func (c *Client) FindByRoom(ctx context.Context, channelID string) (string, error) {
	if !isChannelID(channelID) {
		return "", fmt.Errorf("%w: channel %q is not a chat channel ID", ErrInvalid, truncate(channelID, 40))
	}
	q := fmt.Sprintf("WorkflowType = 'Incident' AND ExecutionStatus = 'Running' AND %s = %q", workflows.RoomAttr.GetName(), channelID)
	resp, err := c.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 1})
	if err != nil {
		return "", wrap("find incident of room "+channelID, err)
	}
	if len(resp.GetExecutions()) == 0 {
		return "", fmt.Errorf("room %s: %w: no open incident has this channel as its war room", channelID, ErrNotFound)
	}
	return resp.GetExecutions()[0].GetExecution().GetWorkflowId(), nil
}

// isChannelID accepts what Slack and Mattermost channel IDs are made of,
// so that nothing else reaches a visibility query.
func isChannelID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Audiences lists the audiences an update may be for.
var Audiences = []workflows.Audience{workflows.AudienceInternal, workflows.AudienceExternal, workflows.AudienceBoth}

// updateStatuses are the statuses an update may set: resolved comes with
// the final notice, from Resolve.
var updateStatuses = slices.DeleteFunc(slices.Clone(workflows.Statuses), func(s workflows.StakeholderStatus) bool {
	return s == workflows.StatusResolved
})

// ValidateUpdate checks what can be checked of an update without the
// incident, naming each problem; the error wraps ErrInvalid. The CLI, the
// slash commands and PostUpdate all call it, so each refuses alike.
func ValidateUpdate(req workflows.UpdateRequest) error {
	var problems []string
	if strings.TrimSpace(req.Message) == "" {
		problems = append(problems, `message: empty: say what stakeholders should know ("no new information yet, next update at 10:30" is an update too)`)
	}
	switch {
	case req.Status == workflows.StatusResolved:
		problems = append(problems, "status: resolved is what `sitrep resolve` sends, with the final notice")
	case req.Status != "" && !slices.Contains(workflows.Statuses, req.Status):
		problems = append(problems, fmt.Sprintf("status: %q is not one of %s", req.Status, joinAny(updateStatuses)))
	}
	if req.Audience != "" && !slices.Contains(Audiences, req.Audience) {
		problems = append(problems, fmt.Sprintf("audience: %q is not one of %s", req.Audience, joinAny(Audiences)))
	}
	if strings.TrimSpace(req.By) == "" {
		problems = append(problems, "by: empty: the catalog handle of who posts it")
	}
	return invalidRequest(problems)
}

// ValidateRole checks a role request's fields; the incident's validator
// judges whether the role and the person exist.
func ValidateRole(req workflows.RoleRequest) error {
	var problems []string
	if strings.TrimSpace(req.Role) == "" {
		problems = append(problems, "role: empty: name a role (commander, comms, or a sub-role of the catalog)")
	}
	if strings.TrimSpace(req.Person) == "" {
		problems = append(problems, "person: empty: the catalog handle of who takes the role")
	}
	if strings.TrimSpace(req.By) == "" {
		problems = append(problems, "by: empty: the catalog handle of who assigns it")
	}
	return invalidRequest(problems)
}

func invalidRequest(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
}

func joinAny[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
