package starter

import (
	"fmt"
	"net/http"
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
			Help:    "How long the intake took to answer, by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		acks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitrep_acks_total",
			Help: "Acknowledgments and escalations received, by channel and outcome (acknowledged, escalated, rejected, not_found, unavailable, unknown_person, bad_signature, expired, invalid, ignored, forbidden).",
		}, []string{"channel", "outcome"}),
	}
	for _, c := range []prometheus.Collector{m.alerts, m.duration, m.acks,
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
// the raw path, which may hold a token.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	obs := m.duration.WithLabelValues(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		obs.Observe(time.Since(start).Seconds())
	})
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
