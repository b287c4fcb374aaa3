package drill

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/workflows"
)

// ErrInvalid marks a drill that cannot run as asked: an unknown service or
// severity, offsets beyond the drill's horizon.
var ErrInvalid = errors.New("invalid drill")

// DefaultHorizon is how long a drill plays when nothing resolves it sooner.
const DefaultHorizon = 24 * time.Hour

// Options is the incident to drill and what the people in it do.
type Options struct {
	Catalog  *catalog.Catalog
	Service  string
	Severity catalog.Severity
	Source   workflows.Source // default monitoring
	Summary  string           // default "drill: SERVICE SEVERITY"
	Start    time.Time        // when the alert fires; its zone is the zone times print in
	// AckAfter, when not 0, acknowledges that long after the alert, as AckBy
	// or, when AckBy is empty, as the first person paged.
	AckAfter time.Duration
	AckBy    string
	// MitigateAfter and ResolveAfter, when not 0, mitigate and resolve
	// that long after the alert.
	MitigateAfter, ResolveAfter time.Duration
	// Horizon ends a drill nothing resolved; DefaultHorizon when 0.
	Horizon   time.Duration
	Templates *activities.Templates // the built-in ones when nil
}

// Result is the plan as it played out.
type Result struct {
	Service  string           `json:"service"`
	Severity catalog.Severity `json:"severity"`
	Source   workflows.Source `json:"source"`
	Start    time.Time        `json:"start"`
	Zone     string           `json:"zone"`
	Horizon  Offset           `json:"horizon"`
	// Open: the incident was still open when the drill reached its horizon.
	Open bool `json:"open"`
	// Messages is everything the activities sent through their
	// dependencies, in the order sent.
	Messages []Message `json:"messages"`
	// Timeline is the incident's record, and that of each workflow it
	// started, in time order.
	Timeline []Event `json:"timeline"`
	// Actions are what the drill did as the people in it.
	Actions []Action `json:"actions"`
	// Incident is the incident's state at the end.
	Incident workflows.IncidentState `json:"incident"`
}

// Message is one call an activity made to an outside dependency.
type Message struct {
	Offset Offset    `json:"offset"` // since the alert
	At     time.Time `json:"at"`
	// Via is the channel (sms, voice, email, chat, pagerduty) for messages
	// to people, or the dependency's name.
	Via string `json:"via"`
	// Call is what was asked of it: notify, sync acknowledge, …
	Call   string `json:"call"`
	Person string `json:"person,omitempty"`
	// Kind is what the page was: page, escalation, repage, fallback, …
	// empty for what is not a page.
	Kind    string `json:"kind,omitempty"`
	Level   int    `json:"level,omitempty"` // 1-based level of the policy, for pages
	Round   int    `json:"round,omitempty"` // 1-based pass through the policy, for pages
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
	// Detail is the call's input, for dependencies that are not notifiers.
	Detail json.RawMessage `json:"detail,omitempty"`
	// ProviderID is what the stand-in answered, as a provider's id for it.
	ProviderID string `json:"providerId,omitempty"`
}

// Event is one line of a workflow's timeline.
type Event struct {
	Offset   Offset `json:"offset"`
	Workflow string `json:"workflow"` // Incident, PostIncident, …
	workflows.Event
}

// Action is one thing the drill did as a person, and how the incident took it.
type Action struct {
	Offset Offset `json:"offset"`
	Update string `json:"update"` // acknowledge, mitigate, resolve
	By     string `json:"by"`
	Error  string `json:"error,omitempty"` // the incident's rejection
}

// Offset is a time since the alert; in JSON, a Go duration ("5m0s").
type Offset time.Duration

// MarshalJSON writes the offset as a Go duration.
func (o Offset) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(o).String()) }

// UnmarshalJSON reads a Go duration.
func (o *Offset) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := time.ParseDuration(s)
	*o = Offset(d)
	return err
}

// quiet keeps the SDK's debug lines out of a drill's output.
var quiet = log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// drillBy is who mitigates and resolves when nobody acknowledged.
const drillBy = "drill"

// Run plays the incident out and returns what happened.
func Run(o Options) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.Templates == nil {
		t, err := activities.LoadTemplates("")
		if err != nil {
			return nil, err
		}
		o.Templates = t
	}
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(quiet)
	env := ts.NewTestWorkflowEnvironment()
	env.SetStartTime(o.Start)
	rec := &recorder{now: env.Now}
	acts := newActivities(o.Catalog, o.Templates, rec)
	env.RegisterActivity(acts)
	workflows.Register(env)

	al := workflows.Alert{Source: o.Source, Service: o.Service, Severity: o.Severity, Summary: o.Summary,
		DedupKey: "drill|" + o.Service, Integration: "drill", ReceivedAt: o.Start}
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.IncidentID(o.Service, al.DedupKey), TaskQueue: workflows.TaskQueue})

	d := &run{env: env, rec: rec, res: &Result{Service: o.Service, Severity: o.Severity, Source: o.Source,
		Start: o.Start, Zone: o.Start.Location().String(), Horizon: Offset(o.Horizon), Messages: []Message{}, Timeline: []Event{}, Actions: []Action{}},
		children: map[string]string{}}
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, _ converter.EncodedValues) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.children[info.WorkflowExecution.ID] = info.WorkflowType.Name
	})
	if o.AckAfter > 0 {
		env.RegisterDelayedCallback(func() { d.update(o.AckAfter, workflows.AcknowledgeUpdate, d.acker(o.AckBy)) }, o.AckAfter)
	}
	if o.MitigateAfter > 0 {
		env.RegisterDelayedCallback(func() { d.update(o.MitigateAfter, workflows.MitigateUpdate, d.by(o.AckBy)) }, o.MitigateAfter)
	}
	if o.ResolveAfter > 0 {
		env.RegisterDelayedCallback(func() { d.update(o.ResolveAfter, workflows.ResolveUpdate, d.by(o.AckBy)) }, o.ResolveAfter)
	}
	env.RegisterDelayedCallback(d.stop, o.Horizon)

	env.ExecuteWorkflow(workflows.Incident, workflows.IncidentInput{Alert: al})
	if !env.IsWorkflowCompleted() {
		return nil, errors.New("drill: the incident did not finish")
	}
	if !d.stopped {
		if err := env.GetWorkflowError(); err != nil {
			return nil, fmt.Errorf("drill: incident failed: %w", err)
		}
		if err := env.GetWorkflowResult(&d.res.Incident); err != nil {
			return nil, fmt.Errorf("drill: incident result: %w", err)
		}
	}
	// Children that finished on their own (abandoned by the incident as it
	// resolved) still answer their state query.
	for _, id := range d.running() {
		d.childDone(id, d.children[id], func(v any) error {
			// Not GetWorkflowResultByID: in SDK v1.50.0 it returns the root
			// workflow's result for any ID.
			q, err := env.QueryWorkflowByID(id, workflows.StateQuery)
			if err != nil {
				return err
			}
			return q.Get(v)
		})
	}
	d.finish()
	return d.res, nil
}

func (o *Options) check() error {
	var errs []error
	if o.Catalog == nil {
		errs = append(errs, errors.New("no catalog"))
	}
	if strings.TrimSpace(o.Service) == "" {
		errs = append(errs, errors.New("no service"))
	}
	if o.Catalog != nil {
		if _, ok := o.Catalog.Severities[o.Severity]; !ok {
			errs = append(errs, fmt.Errorf("severity %q is not one of SEV1, SEV2, SEV3, SEV4", o.Severity))
		}
		if o.AckBy != "" {
			if _, ok := o.Catalog.People[o.AckBy]; !ok {
				errs = append(errs, fmt.Errorf("%q is not a person in the catalog", o.AckBy))
			}
		}
	}
	if o.Source == "" {
		o.Source = workflows.Monitoring
	}
	if !slices.Contains([]workflows.Source{workflows.Monitoring, workflows.Internal, workflows.External}, o.Source) {
		errs = append(errs, fmt.Errorf("source %q is not monitoring, internal or external", o.Source))
	}
	if o.Summary == "" {
		o.Summary = fmt.Sprintf("drill: %s %s", o.Service, o.Severity)
	}
	if o.Start.IsZero() {
		errs = append(errs, errors.New("no start time"))
	}
	if o.Horizon == 0 {
		o.Horizon = DefaultHorizon
	}
	for _, off := range []struct {
		name string
		d    time.Duration
	}{{"acknowledge", o.AckAfter}, {"mitigate", o.MitigateAfter}, {"resolve", o.ResolveAfter}} {
		if off.d < 0 {
			errs = append(errs, fmt.Errorf("%s offset %s is negative", off.name, off.d))
		}
		if off.d >= o.Horizon {
			errs = append(errs, fmt.Errorf("%s offset %s is not before the drill's end at %s", off.name, off.d, o.Horizon))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// run is one drill under way.
type run struct {
	env      *testsuite.TestWorkflowEnvironment
	rec      *recorder
	res      *Result
	mu       sync.Mutex
	children map[string]string // workflow ID → type, of every child started
	done     map[string]bool   // children whose timeline is in res
	stopped  bool              // the horizon came with the incident open
}

// acker is who acknowledges: who, or the first person paged so far.
func (d *run) acker(who string) func() string {
	return func() string {
		if who != "" {
			return who
		}
		for _, m := range d.rec.snapshot() {
			if m.Person != "" && m.Call == callNotify {
				return m.Person
			}
		}
		return ""
	}
}

// by is who mitigates and resolves: who, or whoever acknowledged, or the drill.
func (d *run) by(who string) func() string {
	return func() string {
		if who != "" {
			return who
		}
		if st, err := d.state(); err == nil && st.AcknowledgedBy != "" {
			return st.AcknowledgedBy
		}
		return drillBy
	}
}

// update sends an update to the incident as a person would, and records how
// it was taken.
func (d *run) update(at time.Duration, name string, who func() string) {
	by := who()
	a := Action{Offset: Offset(at), Update: name, By: by}
	var arg any
	switch name {
	case workflows.AcknowledgeUpdate:
		if by == "" {
			a.Error = "nobody was paged to acknowledge"
			d.res.Actions = append(d.res.Actions, a)
			return
		}
		arg = workflows.AckRequest{Person: by, Channel: "drill"}
	default:
		arg = workflows.PhaseRequest{By: by, Note: "drill"}
	}
	i := len(d.res.Actions)
	d.res.Actions = append(d.res.Actions, a)
	d.env.UpdateWorkflow(name, fmt.Sprintf("drill-%s", name), &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { d.res.Actions[i].Error = rootMessage(err) },
		OnComplete: func(_ any, err error) {
			if err != nil {
				d.res.Actions[i].Error = rootMessage(err)
			}
		},
	}, arg)
}

// state queries the incident's state.
func (d *run) state() (workflows.IncidentState, error) {
	var st workflows.IncidentState
	v, err := d.env.QueryWorkflow(workflows.StateQuery)
	if err != nil {
		return st, err
	}
	return st, v.Get(&st)
}

// stop ends a drill at its horizon: what is still open is recorded as it
// stands, then cancelled.
func (d *run) stop() {
	if d.env.IsWorkflowCompleted() && len(d.running()) == 0 {
		return
	}
	d.rec.close()
	if !d.env.IsWorkflowCompleted() {
		st, err := d.state()
		if err == nil {
			d.res.Incident = st
		}
		d.stopped, d.res.Open = true, true
		d.env.CancelWorkflow()
	}
	for _, id := range d.running() {
		if v, err := d.env.QueryWorkflowByID(id, workflows.StateQuery); err == nil {
			d.childDone(id, d.children[id], v.Get)
		}
		d.env.CancelWorkflowByID(id, "")
	}
}

// running lists, sorted, the children whose timeline is not yet recorded.
func (d *run) running() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for id := range d.children {
		if !d.done[id] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// childDone records a child workflow's timeline, read by get from its
// result or state: whatever it is, a workflow that keeps a record keeps it
// as "timeline".
func (d *run) childDone(id, typ string, get func(any) error) {
	var rec struct {
		Timeline []workflows.Event `json:"timeline"`
	}
	if err := get(&rec); err != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done == nil {
		d.done = map[string]bool{}
	}
	if d.done[id] {
		return
	}
	d.done[id] = true
	for _, e := range rec.Timeline {
		d.res.Timeline = append(d.res.Timeline, Event{Workflow: typ, Event: e})
	}
}

// finish puts the record together: the incident's timeline with its
// children's, the messages labelled with the pages they were.
func (d *run) finish() {
	r := d.res
	events := make([]Event, 0, len(r.Incident.Timeline)+len(r.Timeline))
	for _, e := range r.Incident.Timeline {
		events = append(events, Event{Workflow: "Incident", Event: e})
	}
	r.Timeline = append(events, r.Timeline...)
	for i := range r.Timeline {
		r.Timeline[i].Offset = Offset(r.Timeline[i].At.Sub(r.Start))
	}
	slices.SortStableFunc(r.Timeline, func(a, b Event) int { return a.At.Compare(b.At) })
	r.Messages = label(d.rec.snapshot(), r.Incident.Pages)
	// Pages to several people and channels at once go out in parallel: order
	// within an instant so that the same drill always reads the same.
	slices.SortStableFunc(r.Messages, func(a, b Message) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Level, b.Level), cmp.Compare(a.Person, b.Person),
			cmp.Compare(a.Via, b.Via), cmp.Compare(a.Call, b.Call))
	})
	for i := range r.Messages {
		r.Messages[i].Offset = Offset(r.Messages[i].At.Sub(r.Start))
		r.Messages[i].At = r.Messages[i].At.In(r.Start.Location())
	}
}

// label gives each message that was a page the kind, level and round of
// its page: the incident records the provider's id of every page it
// delivered. Other messages (reminders, notices) stay unlabelled.
func label(msgs []Message, pages []workflows.PageEntry) []Message {
	byID := map[string]workflows.PageEntry{}
	for _, p := range pages {
		if p.ProviderID != "" {
			byID[p.ProviderID] = p
		}
	}
	for i := range msgs {
		m := &msgs[i]
		if p, ok := byID[m.ProviderID]; ok && m.Call == callNotify {
			m.Kind, m.Level, m.Round = kindOf(p), p.Level, p.Round
		}
	}
	return msgs
}

// kindOf names a page as a reader of the plan would: the first level's page,
// an escalation to a later level, or what the workflow called it.
func kindOf(p workflows.PageEntry) string {
	if p.Kind == "page" && p.Level > 1 {
		return "escalation"
	}
	return p.Kind
}

// rootMessage is the innermost error's message: what a person would read.
func rootMessage(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
