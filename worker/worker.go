package worker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/acklink"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// Options is everything a worker needs, already loaded.
type Options struct {
	Catalog   activities.Catalog // a *CatalogFile, or activities.StaticCatalog
	Notifiers map[catalog.Channel]activities.Notifier
	Links     *acklink.Signer // nil: pages carry no acknowledge link
	Templates *activities.Templates
	Logger    *slog.Logger
	// Observe, when set, hears of each message handed to a provider.
	Observe func(activities.Message, time.Time)
	// Metrics, when set, counts pages, acknowledgments, escalations and
	// provider errors (give the client its SDKHandler too).
	Metrics *Metrics
	// Tracker files action items and post-mortems (NewTracker); nil: off.
	Tracker activities.Tracker
	// Comms are the status page, war room, bridge and stakeholder email
	// providers (see CommsFromEnv); any may be nil.
	Comms activities.CommsDeps
}

// Worker polls sitrep's task queue.
type Worker struct {
	w       worker.Worker
	tc      client.Client
	log     *slog.Logger
	polling atomic.Bool
}

// New registers the Incident workflow and the activities on tc.
func New(tc client.Client, o Options) (*Worker, error) {
	if o.Catalog == nil || o.Catalog.Current() == nil {
		return nil, fmt.Errorf("worker: no catalog")
	}
	if o.Templates == nil {
		t, err := activities.LoadTemplates("")
		if err != nil {
			return nil, err
		}
		o.Templates = t
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	opts := Tuning()
	if o.Metrics != nil {
		opts.Interceptors = append(opts.Interceptors, &observer{m: o.Metrics})
		o.Notifiers = observeNotifiers(o.Notifiers, o.Metrics)
	}
	w := worker.New(tc, workflows.TaskQueue, opts)
	workflows.Register(w)
	st := starter.New(tc)
	w.RegisterActivity(&activities.Activities{
		Catalog:   o.Catalog,
		Notifiers: o.Notifiers,
		Links:     o.Links,
		Templates: o.Templates,
		Observe:   o.Observe,
		Pagers:    st,
		Forwarder: st,
		Stories:   st,
		Tracker:   o.Tracker,
		Comms:     o.Comms,
		Merger:    st,
	})
	return &Worker{w: w, tc: tc, log: o.Logger}, nil
}

// Tuning is the worker options sitrep runs with: more pollers than the
// SDK's two, so a burst of alerts does not queue behind them.
func Tuning() worker.Options {
	return worker.Options{
		MaxConcurrentWorkflowTaskPollers: 4,
		MaxConcurrentActivityTaskPollers: 4,
	}
}

// Live lists the channels that have a provider, sorted.
func Live(n map[catalog.Channel]activities.Notifier) []string {
	var out []string
	for ch := range n {
		out = append(out, string(ch))
	}
	slices.Sort(out)
	return out
}

// Start starts polling and returns.
func (w *Worker) Start() error {
	if err := w.w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	w.polling.Store(true)
	return nil
}

// Stop stops polling, letting running tasks finish.
func (w *Worker) Stop() {
	w.polling.Store(false)
	w.w.Stop()
}

// Ready reports nil when the worker polls and Temporal answers: what
// /readyz serves.
func (w *Worker) Ready(ctx context.Context) error {
	if !w.polling.Load() {
		return ErrNotStarted
	}
	if _, err := w.tc.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	return nil
}

// Run polls until ctx is done.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	w.Stop()
	return nil
}

// Missing lists, sorted, the channels the catalog's severity policy pages on
// that have no provider.
func Missing(c *catalog.Catalog, n map[catalog.Channel]activities.Notifier) []string {
	seen := map[string]bool{}
	for _, sp := range c.Severities {
		for _, chs := range sp.Channels {
			for _, ch := range chs {
				if _, ok := n[ch]; !ok {
					seen[string(ch)] = true
				}
			}
		}
	}
	var out []string
	for ch := range seen {
		out = append(out, ch)
	}
	slices.Sort(out)
	return out
}
