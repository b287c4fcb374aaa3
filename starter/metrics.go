package starter

import (
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the intake's Prometheus metrics, in a registry of its own so
// that nothing else in the process adds to or collides with them.
type metrics struct {
	reg      *prometheus.Registry
	alerts   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	acks     *prometheus.CounterVec
}

func newMetrics() (*metrics, error) {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitrep_intake_alerts_total",
			Help: "Alerts the intake received, by source, integration and outcome (opened, folded, ignored, invalid, unauthorized, forbidden, cross_origin, rate_limited, unavailable). Requests refused before their alerts were read count once each.",
		}, []string{"source", "integration", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sitrep_intake_request_duration_seconds",
			Help:    "How long the intake took to answer, by route and HTTP status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "code"}),
		acks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitrep_acks_total",
			Help: "Acknowledgments and escalations received, by channel and outcome (acknowledged, escalated, rejected, not_found, unavailable, unknown_person, bad_signature, expired, invalid, ignored, forbidden).",
		}, []string{"channel", "outcome"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "sitrep_build_info",
		Help: "Always 1: the sitrep build answering, by component, module version and Go version.",
	}, []string{"component", "version", "goversion"})
	build.WithLabelValues("intake", buildVersion(), runtime.Version()).Set(1)
	for _, c := range []prometheus.Collector{m.alerts, m.duration, m.acks, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) alert(source, integration, outcome string, n int) {
	m.alerts.WithLabelValues(source, integration, outcome).Add(float64(n))
}

func (m *metrics) ack(channel, outcome string) {
	m.acks.WithLabelValues(channel, outcome).Inc()
}

// instrument times h under route, the pattern it is registered with, never
// the raw path, which may hold a token, and the status code it answered.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.duration.WithLabelValues(route, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status code a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// buildVersion is the module version sitrep was built as; "(devel)" from a checkout.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
