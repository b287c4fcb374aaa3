package worker

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
)

// TestSDKMetrics: the SDK's counters, gauges and timers come out as
// Prometheus metrics, one label set per name even when the SDK tags a
// name's series differently.
func TestSDKMetrics(t *testing.T) {
	m, err := NewMetrics("test")
	if err != nil {
		t.Fatal(err)
	}
	h := m.SDKHandler().WithTags(map[string]string{"namespace": "default"})
	h.WithTags(map[string]string{"poller_type": "workflow_task"}).Gauge("temporal_num_pollers").Update(2)
	h.Gauge("temporal_num_pollers").Update(1) // no poller_type: reported with it empty
	c := h.WithTags(map[string]string{"task_queue": "sitrep"}).Counter("temporal_request")
	c.Inc(2)
	c.Inc(3)
	tm := h.Timer("temporal_activity_schedule_to_start_latency")
	tm.Record(30 * time.Millisecond)
	tm.Record(2 * time.Minute)

	body := scrapeHandler(t, m)
	for _, line := range []string{
		"# TYPE temporal_num_pollers gauge\n",
		`temporal_num_pollers{namespace="default",poller_type=""} 1` + "\n",
		`temporal_num_pollers{namespace="default",poller_type="workflow_task"} 2` + "\n",
		"# TYPE temporal_request counter\n",
		`temporal_request{namespace="default",task_queue="sitrep"} 5` + "\n",
		`temporal_activity_schedule_to_start_latency_seconds_bucket{namespace="default",le="0.05"} 1`,
		`temporal_activity_schedule_to_start_latency_seconds_bucket{namespace="default",le="300"} 2`,
		`temporal_activity_schedule_to_start_latency_seconds_count{namespace="default"} 2`,
		`sitrep_build_info{component="worker",goversion=`,
	} {
		if !strings.Contains(body, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

func scrapeHandler(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler(func(context.Context) error { return nil }))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}

// TestHealthEndpoints: /healthz answers while the process runs; /readyz
// follows readiness.
func TestHealthEndpoints(t *testing.T) {
	m, err := NewMetrics("test")
	if err != nil {
		t.Fatal(err)
	}
	var ready error
	srv := httptest.NewServer(m.Handler(func(context.Context) error { return ready }))
	defer srv.Close()
	for _, tc := range []struct {
		ready      error
		path       string
		wantStatus int
	}{
		{nil, "/healthz", 200},
		{nil, "/readyz", 200},
		{ErrNotStarted, "/readyz", 503},
		{errors.New("temporal: unavailable"), "/healthz", 200},
		{errors.New("temporal: unavailable"), "/readyz", 503},
	} {
		ready = tc.ready
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tc.wantStatus {
			t.Errorf("%s with ready=%v: %d; want %d", tc.path, tc.ready, resp.StatusCode, tc.wantStatus)
		}
	}
}

type notifyFunc func(context.Context, activities.Message) (string, error)

func (f notifyFunc) Notify(ctx context.Context, m activities.Message) (string, error) {
	return f(ctx, m)
}

type syncingNotifier struct{ notifyFunc }

func (syncingNotifier) Sync(context.Context, string, activities.Message) error {
	return &integrations.Error{Provider: "pagerduty", Kind: integrations.Transient, Status: 503}
}

// TestProviderErrors: each provider error is counted by provider and
// class; a pager of record keeps its Sync through the wrapper.
func TestProviderErrors(t *testing.T) {
	m, err := NewMetrics("test")
	if err != nil {
		t.Fatal(err)
	}
	errs := []error{
		&integrations.Error{Provider: "twilio", Kind: integrations.Permanent, Status: 400},
		&integrations.Error{Provider: "twilio", Kind: integrations.Transient, Status: 429},
		context.DeadlineExceeded,
		errors.New("connection reset"),
		nil,
	}
	i := 0
	n := observeNotifiers(map[catalog.Channel]activities.Notifier{
		catalog.SMS: notifyFunc(func(context.Context, activities.Message) (string, error) {
			err := errs[i]
			i++
			return "id", err
		}),
		catalog.PagerDuty: syncingNotifier{},
	}, m)
	for range errs {
		_, _ = n[catalog.SMS].Notify(context.Background(), activities.Message{}) // the counts are what is tested
	}
	s, ok := n[catalog.PagerDuty].(activities.Syncer)
	if !ok {
		t.Fatal("the wrapper hides the pager's Sync")
	}
	if err := s.Sync(context.Background(), "resolve", activities.Message{}); err == nil {
		t.Fatal("Sync's error lost")
	}
	for labels, want := range map[[2]string]float64{
		{"twilio", "permanent"}: 1, {"twilio", "transient"}: 1, {"sms", "timeout"}: 1, {"sms", "unclassified"}: 1,
		{"pagerduty", "transient"}: 1,
	} {
		if got := counterValue(t, m, "sitrep_provider_errors_total", labels[1], labels[0]); got != want {
			t.Errorf("provider errors %v = %v; want %v", labels, got, want)
		}
	}
}

// TestRecent: one first page per incident, and memory stays bounded.
func TestRecent(t *testing.T) {
	r := newRecent(2)
	if !r.add("a") || r.add("a") || !r.add("b") || !r.add("c") {
		t.Fatal("recent does not remember the last keys once")
	}
	if len(r.seen) != 2 || !r.add("a") {
		t.Fatalf("recent keeps %d keys; want the last 2", len(r.seen))
	}
}

// counterValue reads a counter from the registry by its label values, in
// the order of the label names, sorted (class before provider).
func counterValue(t *testing.T, m *Metrics, name string, values ...string) float64 {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			var got []string
			for _, l := range mt.GetLabel() {
				got = append(got, l.GetValue())
			}
			if strings.Join(got, ",") == strings.Join(values, ",") {
				return mt.GetCounter().GetValue()
			}
		}
	}
	return 0
}
