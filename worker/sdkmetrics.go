package worker

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// sdkMetrics turns the Temporal SDK's metrics (schedule-to-start latency,
// task failures, poller counts, slots) into Prometheus metrics. The SDK's
// contrib/tally is not on the module proxy here and contrib/opentelemetry
// would add a second metrics stack; this adapter is the few lines between
// the SDK's client.MetricsHandler and client_golang.
//
// The SDK emits one metric name with different tag sets (a poller count
// with and without poller_type, say); Prometheus wants one label set per
// name. The collector therefore reports every series of a name with the
// union of its tag keys, empty where a series lacks one.
type sdkMetrics struct {
	mu      sync.Mutex
	series  map[string]map[string]*sdkSeries // name → canonical tags → series
	kind    map[string]sdkKind
	buckets []float64
}

type sdkKind int

const (
	sdkCounter sdkKind = iota
	sdkGauge
	sdkTimer
)

type sdkSeries struct {
	tags    map[string]string
	value   float64  // counter total or gauge value
	count   uint64   // timer observations
	sum     float64  // timer seconds
	buckets []uint64 // timer counts per upper bound, not cumulative
}

func newSDKMetrics() *sdkMetrics {
	return &sdkMetrics{
		series: map[string]map[string]*sdkSeries{},
		kind:   map[string]sdkKind{},
		// Latencies from a millisecond poll to a worker that was away for minutes.
		buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	}
}

// Handler is the client.MetricsHandler to give the Temporal client.
func (m *sdkMetrics) Handler() client.MetricsHandler { return sdkHandler{m: m} }

func (m *sdkMetrics) get(name string, k sdkKind, tags map[string]string) *sdkSeries {
	keys := slices.Sorted(maps.Keys(tags))
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(tags[k])
		b.WriteByte(0)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.kind[name]; !ok {
		m.kind[name] = k
		m.series[name] = map[string]*sdkSeries{}
	}
	s, ok := m.series[name][b.String()]
	if !ok {
		s = &sdkSeries{tags: tags}
		if k == sdkTimer {
			s.buckets = make([]uint64, len(m.buckets))
		}
		m.series[name][b.String()] = s
	}
	return s
}

func (m *sdkMetrics) add(s *sdkSeries, v float64) {
	m.mu.Lock()
	s.value += v
	m.mu.Unlock()
}

func (m *sdkMetrics) set(s *sdkSeries, v float64) {
	m.mu.Lock()
	s.value = v
	m.mu.Unlock()
}

func (m *sdkMetrics) observe(s *sdkSeries, d time.Duration) {
	sec := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	s.count++
	s.sum += sec
	for i, ub := range m.buckets {
		if sec <= ub {
			s.buckets[i]++
			break
		}
	}
}

// Describe sends nothing: the SDK's metrics are only known once emitted, so
// this is an unchecked collector.
func (m *sdkMetrics) Describe(chan<- *prometheus.Desc) {}

// Collect reports every series the SDK has emitted so far.
func (m *sdkMetrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, byTags := range m.series {
		labelSet := map[string]bool{}
		for _, s := range byTags {
			for k := range s.tags {
				labelSet[k] = true
			}
		}
		labels := slices.Sorted(maps.Keys(labelSet))
		promName := sanitize(name)
		kind := m.kind[name]
		if kind == sdkTimer {
			promName += "_seconds"
		}
		desc := prometheus.NewDesc(promName, "Temporal SDK metric "+name+".", sanitizeAll(labels), nil)
		for _, s := range byTags {
			values := make([]string, len(labels))
			for i, l := range labels {
				values[i] = s.tags[l]
			}
			var metric prometheus.Metric
			var err error
			switch kind {
			case sdkCounter:
				metric, err = prometheus.NewConstMetric(desc, prometheus.CounterValue, s.value, values...)
			case sdkGauge:
				metric, err = prometheus.NewConstMetric(desc, prometheus.GaugeValue, s.value, values...)
			case sdkTimer:
				cum := map[float64]uint64{}
				var n uint64
				for i, ub := range m.buckets {
					n += s.buckets[i]
					cum[ub] = n
				}
				metric, err = prometheus.NewConstHistogram(desc, s.count, s.sum, cum, values...)
			}
			if err == nil {
				ch <- metric
			}
		}
	}
}

func sanitizeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = sanitize(s)
	}
	return out
}

// sanitize makes a Prometheus metric or label name of an SDK one.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// sdkHandler is the client.MetricsHandler: tags accumulate with WithTags.
type sdkHandler struct {
	m    *sdkMetrics
	tags map[string]string
}

func (h sdkHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return sdkHandler{m: h.m, tags: merged}
}

func (h sdkHandler) Counter(name string) client.MetricsCounter {
	s := h.m.get(name, sdkCounter, h.tags)
	return counterFunc(func(d int64) { h.m.add(s, float64(d)) })
}

func (h sdkHandler) Gauge(name string) client.MetricsGauge {
	s := h.m.get(name, sdkGauge, h.tags)
	return gaugeFunc(func(v float64) { h.m.set(s, v) })
}

func (h sdkHandler) Timer(name string) client.MetricsTimer {
	s := h.m.get(name, sdkTimer, h.tags)
	return timerFunc(func(d time.Duration) { h.m.observe(s, d) })
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }
