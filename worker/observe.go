package worker

import (
	"context"
	"errors"
	"reflect"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/workflows"
)

// observer is the worker interceptor behind Metrics: it watches pages go
// out (the Deliver activity's input and error), acknowledgments come in
// (the acknowledge update) and the incident's timeline grow (escalated,
// exhausted), without a line of workflow or activity code knowing.
// Nothing is counted while a workflow replays, so a worker that takes over
// an incident from a dead one does not count its history again.
type observer struct {
	interceptor.WorkerInterceptorBase
	m *Metrics
}

func (o *observer) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	a := &activityObserver{m: o.m}
	a.Next = next
	return a
}

func (o *observer) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	w := &workflowObserver{m: o.m}
	w.Next = next
	return w
}

type activityObserver struct {
	interceptor.ActivityInboundInterceptorBase
	m *Metrics
}

// The activities that page, by their registered names.
const (
	deliverActivity = "Deliver"
	bundleActivity  = "DeliverBundle"
)

func (a *activityObserver) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := a.Next.ExecuteActivity(ctx, in)
	if len(in.Args) == 0 {
		return res, err
	}
	name := activity.GetInfo(ctx).ActivityType.Name
	if b, ok := in.Args[0].(activities.BundleInput); ok && name == bundleActivity {
		a.m.pages.WithLabelValues(string(b.Channel), "bundle", pageOutcome(ctx, err)).Inc()
		return res, err
	}
	d, ok := in.Args[0].(activities.DeliverInput)
	if !ok || name != deliverActivity {
		return res, err
	}
	a.m.pages.WithLabelValues(string(d.Channel), d.Kind, pageOutcome(ctx, err)).Inc()
	if err == nil && d.Kind == "page" {
		if opened := openedAt(d); !opened.IsZero() && a.m.firstPaged.add(d.IncidentID+"|"+opened.String()) {
			a.m.firstPage.Observe(time.Since(opened).Seconds())
		}
	}
	return res, err
}

// openedAt reads DeliverInput.OpenedAt, when the incident's first alert
// was received; zero when the field is absent or unset.
func openedAt(d activities.DeliverInput) time.Time {
	f := reflect.ValueOf(d).FieldByName("OpenedAt")
	if !f.IsValid() {
		return time.Time{}
	}
	switch t := f.Interface().(type) {
	case time.Time:
		return t
	case *time.Time:
		if t != nil {
			return *t
		}
	}
	return time.Time{}
}

func pageOutcome(ctx context.Context, err error) string {
	var app *temporal.ApplicationError
	switch {
	case err == nil:
		return "delivered"
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &app) && app.NonRetryable():
		return "failed"
	}
	return "retrying"
}

type workflowObserver struct {
	interceptor.WorkflowInboundInterceptorBase
	m    *Metrics
	seen int // timeline lines already counted (or replayed) in this run
}

func (w *workflowObserver) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	o := &workflowOutboundObserver{w: w}
	o.Next = outbound
	return w.Next.Init(o)
}

func (w *workflowObserver) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	if len(in.Args) > 0 {
		w.seen = carried(in.Args[0])
	}
	res, err := w.Next.ExecuteWorkflow(ctx, in)
	w.checkpoint(ctx)
	return res, err
}

// carried is how many timeline lines the input brings from the run this one
// continues: IncidentInput.State.Timeline. They were counted there.
func carried(input any) int {
	v := reflect.ValueOf(input)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0
	}
	st := v.FieldByName("State")
	if !st.IsValid() {
		return 0
	}
	if st.Kind() == reflect.Pointer {
		if st.IsNil() {
			return 0
		}
		st = st.Elem()
	}
	if st.Kind() != reflect.Struct {
		return 0
	}
	if tl := st.FieldByName("Timeline"); tl.IsValid() && tl.Kind() == reflect.Slice {
		return tl.Len()
	}
	return 0
}

func (w *workflowObserver) ExecuteUpdate(ctx workflow.Context, in *interceptor.UpdateInput) (any, error) {
	res, err := w.Next.ExecuteUpdate(ctx, in)
	if err == nil && in.Name == workflows.AcknowledgeUpdate && !workflow.IsReplaying(ctx) && len(in.Args) > 0 {
		if req, ok := in.Args[0].(workflows.AckRequest); ok {
			w.m.acks.WithLabelValues(orUnknown(req.Channel)).Inc()
		}
	}
	w.checkpoint(ctx)
	return res, err
}

// checkpoint counts the timeline lines added since the last look, reading
// them through the incident's own state query handler, in process.
func (w *workflowObserver) checkpoint(ctx workflow.Context) {
	v, err := w.Next.HandleQuery(ctx, &interceptor.HandleQueryInput{QueryType: workflows.StateQuery})
	if err != nil {
		return // no state handler yet (or not an Incident): nothing to count
	}
	var tl []workflows.Event
	switch st := v.(type) {
	case workflows.IncidentState:
		tl = st.Timeline
	case *workflows.IncidentState:
		if st != nil {
			tl = st.Timeline
		}
	default:
		return
	}
	if len(tl) < w.seen {
		w.seen = len(tl) // the record was trimmed
	}
	if workflow.IsReplaying(ctx) {
		w.m.replayed.Add(int64(len(tl) - w.seen))
	} else {
		for _, e := range tl[w.seen:] {
			w.m.events.WithLabelValues(e.Kind).Inc()
		}
	}
	w.seen = len(tl)
}

// workflowOutboundObserver looks at the timeline whenever the workflow
// yields: an event is always followed by a page, a wait or a search
// attribute update.
type workflowOutboundObserver struct {
	interceptor.WorkflowOutboundInterceptorBase
	w *workflowObserver
}

func (o *workflowOutboundObserver) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	o.w.checkpoint(ctx)
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}

func (o *workflowOutboundObserver) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	o.w.checkpoint(ctx)
	return o.Next.ExecuteLocalActivity(ctx, activityType, args...)
}

func (o *workflowOutboundObserver) Await(ctx workflow.Context, condition func() bool) error {
	o.w.checkpoint(ctx)
	return o.Next.Await(ctx, condition)
}

func (o *workflowOutboundObserver) AwaitWithTimeout(ctx workflow.Context, d time.Duration, condition func() bool) (bool, error) {
	o.w.checkpoint(ctx)
	return o.Next.AwaitWithTimeout(ctx, d, condition)
}

func (o *workflowOutboundObserver) AwaitWithOptions(ctx workflow.Context, opts workflow.AwaitOptions, condition func() bool) (bool, error) {
	o.w.checkpoint(ctx)
	return o.Next.AwaitWithOptions(ctx, opts, condition)
}

func (o *workflowOutboundObserver) NewTimer(ctx workflow.Context, d time.Duration) workflow.Future {
	o.w.checkpoint(ctx)
	return o.Next.NewTimer(ctx, d)
}

func (o *workflowOutboundObserver) NewTimerWithOptions(ctx workflow.Context, d time.Duration, opts workflow.TimerOptions) workflow.Future {
	o.w.checkpoint(ctx)
	return o.Next.NewTimerWithOptions(ctx, d, opts)
}

func (o *workflowOutboundObserver) Sleep(ctx workflow.Context, d time.Duration) error {
	o.w.checkpoint(ctx)
	return o.Next.Sleep(ctx, d)
}

func (o *workflowOutboundObserver) UpsertTypedSearchAttributes(ctx workflow.Context, attrs ...temporal.SearchAttributeUpdate) error {
	o.w.checkpoint(ctx)
	return o.Next.UpsertTypedSearchAttributes(ctx, attrs...)
}

func (o *workflowOutboundObserver) NewContinueAsNewError(ctx workflow.Context, wfn any, args ...any) error {
	o.w.checkpoint(ctx)
	return o.Next.NewContinueAsNewError(ctx, wfn, args...)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// observedNotifier counts a provider's errors by provider and class.
type observedNotifier struct {
	n        activities.Notifier
	provider string
	m        *Metrics
}

func (o observedNotifier) Notify(ctx context.Context, msg activities.Message) (string, error) {
	id, err := o.n.Notify(ctx, msg)
	o.observe(ctx, err)
	return id, err
}

func (o observedNotifier) observe(ctx context.Context, err error) {
	if err == nil {
		return
	}
	provider, class := o.provider, "unclassified"
	var ie *integrations.Error
	switch {
	case errors.As(err, &ie):
		if ie.Provider != "" {
			provider = ie.Provider
		}
		class = "transient"
		if ie.Permanent() {
			class = "permanent"
		}
	case errors.Is(err, context.DeadlineExceeded):
		class = "timeout"
	case ctx.Err() != nil:
		return // cancelled: not the provider's doing
	}
	o.m.provider.WithLabelValues(provider, class).Inc()
}

// observedSyncer keeps a pager of record's Sync visible through the wrapper.
type observedSyncer struct{ observedNotifier }

func (o observedSyncer) Sync(ctx context.Context, action string, msg activities.Message) error {
	err := o.n.(activities.Syncer).Sync(ctx, action, msg)
	o.observe(ctx, err)
	return err
}

// observeNotifiers wraps each provider so its errors are counted.
func observeNotifiers(n map[catalog.Channel]activities.Notifier, m *Metrics) map[catalog.Channel]activities.Notifier {
	out := make(map[catalog.Channel]activities.Notifier, len(n))
	for ch, nt := range n {
		o := observedNotifier{n: nt, provider: providerName(ch, nt), m: m}
		if _, ok := nt.(activities.Syncer); ok {
			out[ch] = observedSyncer{o}
		} else {
			out[ch] = o
		}
	}
	return out
}

// providerName names the provider behind a notifier this package built;
// for another (a test's), the channel.
func providerName(ch catalog.Channel, n activities.Notifier) string {
	switch n.(type) {
	case smsNotifier, voiceNotifier:
		return "twilio"
	case chatNotifier:
		return "slack"
	case mattermostNotifier:
		return "mattermost"
	case pagerdutyNotifier:
		return "pagerduty"
	case emailNotifier:
		return "email"
	}
	return string(ch)
}
