package worker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
)

// Metrics is what the worker tells Prometheus about paging itself, beside
// the Temporal SDK's own metrics (task latencies, failures, pollers). It is
// observed from outside the workflow and activity code: a worker
// interceptor sees each page and acknowledgment, a wrapper around each
// provider sees its errors.
type Metrics struct {
	reg        *prometheus.Registry
	sdk        *sdkMetrics
	pages      *prometheus.CounterVec
	firstPage  prometheus.Histogram
	acks       *prometheus.CounterVec
	events     *prometheus.CounterVec
	provider   *prometheus.CounterVec
	firstPaged *recent
	// replayed counts timeline lines seen while replaying, and so not
	// counted: the replay test's proof that the observer looked.
	replayed atomic.Int64
}

// NewMetrics builds the worker's registry; version goes into sitrep_build_info.
func NewMetrics(version string) (*Metrics, error) {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		sdk: newSDKMetrics(),
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitrep_pages_total",
			Help: "Page deliveries tried, by channel, kind (page, repage, fallback, bundle: one message for several incidents) and outcome: delivered; retrying (a transient failure, tried again); failed (refused for good, the next channel is tried); cancelled.",
		}, []string{"channel", "kind", "outcome"}),
		firstPage: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sitrep_first_page_latency_seconds",
			Help:    "From an incident's first alert to its first page handed to a provider.",
			Buckets: []float64{.1, .25, .5, 1, 2, 5, 10, 30, 60, 120, 300, 600},
		}),
		acks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitrep_acknowledgments_total",
			Help: "Incidents acknowledged, by the channel the acknowledgment came through.",
		}, []string{"channel"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitrep_incident_events_total",
			Help: "Lines added to incidents' timelines, by kind: escalated, exhausted (the policy ran out with nobody acknowledging), acknowledged, ...",
		}, []string{"kind"}),
		provider: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitrep_provider_errors_total",
			Help: "Errors providers returned, by provider and class (transient, permanent, timeout, unclassified).",
		}, []string{"provider", "class"}),
		firstPaged: newRecent(10000),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "sitrep_build_info",
		Help: "Always 1; the labels say which sitrep is running.",
	}, []string{"version", "goversion", "component"})
	build.WithLabelValues(version, runtime.Version(), "worker").Set(1)
	for _, c := range []prometheus.Collector{m.sdk, m.pages, m.firstPage, m.acks, m.events, m.provider, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// SDKHandler is the client.MetricsHandler that carries the Temporal SDK's
// metrics into the same registry.
func (m *Metrics) SDKHandler() client.MetricsHandler { return m.sdk.Handler() }

// Handler serves /metrics, /healthz (the process answers) and /readyz
// (ready reports nil: the worker polls and Temporal answers).
func (m *Metrics) Handler(ready func(context.Context) error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "ok") // the client went away: nothing to do
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintln(w, "ready")
	})
	return mux
}

// ErrNotStarted: the worker is not polling (yet, or any more).
var ErrNotStarted = errors.New("worker not polling")

// recent remembers the last n keys, to record one first page per incident.
type recent struct {
	mu   sync.Mutex
	n    int
	seen map[string]bool
	ring []string
	next int
}

func newRecent(n int) *recent { return &recent{n: n, seen: map[string]bool{}, ring: make([]string, n)} }

// add reports whether key is new, and remembers it.
func (r *recent) add(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[key] {
		return false
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.seen, old)
	}
	r.ring[r.next] = key
	r.next = (r.next + 1) % r.n
	r.seen[key] = true
	return true
}
