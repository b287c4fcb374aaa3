package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// reportNow is the fake clock of the report tests: Wednesday 2026-03-18.
var reportNow = time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)

// reportIncidents are incidents with known times:
//
//	id  service  team  sev   source      opened        acked after  resolved after  escalations
//	a   checkout pay   SEV1  monitoring  03-16 10:00   2m           30m             1
//	b   checkout pay   SEV2  monitoring  03-17 10:00   4m           1h              0
//	c   checkout pay   SEV1  external    03-17 20:00   10m          2h              2
//	d   search   find  SEV3  internal    03-10 09:00   -            -               3 (exhausted)
//	e   search   find  SEV3  monitoring  03-11 09:00   1m           -               0
//	old checkout pay   SEV1  monitoring  01-01 (outside 30d)
func reportIncidents() []workflows.IncidentState {
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
	after := func(t time.Time, d time.Duration) *time.Time { x := t.Add(d); return &x }
	esc := func(n int) []workflows.Event {
		ev := []workflows.Event{{Kind: "opened"}}
		for range n {
			ev = append(ev, workflows.Event{Kind: "escalated"})
		}
		return ev
	}
	// inc sets fields one by one: some are promoted from embedded parts.
	inc := func(id, svc, team, sev string, src workflows.Source, first time.Time, ack, res time.Duration, escalations int) workflows.IncidentState {
		var s workflows.IncidentState
		s.ID, s.Service, s.Team, s.Severity, s.Source = id, svc, team, catalog.Severity(sev), src
		s.FirstSeen, s.Timeline = first, esc(escalations)
		if ack > 0 {
			s.AcknowledgedAt = after(first, ack)
		}
		if res > 0 {
			s.ResolvedAt = after(first, res)
		}
		return s
	}
	unacked := inc("inc-d", "search", "find", "SEV3", workflows.Internal, at(10, 9), 0, 0, 3)
	unacked.Unacknowledged = true
	unacked.Timeline = append(unacked.Timeline, workflows.Event{Kind: "exhausted"})
	return []workflows.IncidentState{
		inc("inc-a", "checkout", "pay", "SEV1", workflows.Monitoring, at(16, 10), 2*time.Minute, 30*time.Minute, 1),
		inc("inc-b", "checkout", "pay", "SEV2", workflows.Monitoring, at(17, 10), 4*time.Minute, time.Hour, 0),
		inc("inc-c", "checkout", "pay", "SEV1", workflows.External, at(17, 20), 10*time.Minute, 2*time.Hour, 2),
		unacked,
		inc("inc-e", "search", "find", "SEV3", workflows.Monitoring, at(11, 9), time.Minute, 0, 0),
		inc("inc-old", "checkout", "pay", "SEV1", workflows.Monitoring, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Hour, 9*time.Hour, 0),
	}
}

// reportFake answers List and Status from reportIncidents.
type reportFake struct {
	Incidents
	states []workflows.IncidentState
}

func (f reportFake) List(_ context.Context, flt starter.ListFilter) ([]starter.Listed, error) {
	var out []starter.Listed
	for _, s := range f.states {
		if flt.Service == "" || s.Service == flt.Service {
			out = append(out, starter.Listed{ID: s.ID, Service: s.Service, Team: s.Team, Started: s.FirstSeen})
		}
	}
	return out, nil
}

func (f reportFake) Status(_ context.Context, id string) (workflows.IncidentState, error) {
	for _, s := range f.states {
		if s.ID == id {
			return s, nil
		}
	}
	return workflows.IncidentState{}, starter.ErrNotFound
}

func runReport(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errs bytes.Buffer
	d := &Deps{Out: &out, Err: &errs, Getenv: func(string) string { return "" }, Environ: func() []string { return nil },
		Now: func() time.Time { return reportNow }}
	d.Incidents = func(context.Context) (Incidents, func(), error) {
		return reportFake{states: reportIncidents()}, func() {}, nil
	}
	code := run(append([]string{"report"}, args...), d)
	return out.String(), errs.String(), code
}

func sec(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

// TestReportFigures checks every figure against the incidents' known times.
func TestReportFigures(t *testing.T) {
	out, errs, code := runReport(t, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	type want struct {
		incidents, acked, resolved, escalations, unacked int
		mtta50, mtta90, mttr50, mttr90                   float64
		monitoring, internal, external                   int
	}
	check := func(name string, f Figures, w want) {
		t.Helper()
		got := want{f.Incidents, f.Acknowledged, f.Resolved, f.Escalations, f.Unacknowledged,
			sec(f.MTTAMedian), sec(f.MTTAP90), sec(f.MTTRMedian), sec(f.MTTRP90),
			f.Sources["monitoring"], f.Sources["internal"], f.Sources["external"]}
		if got != w {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, w)
		}
	}
	// total: acks 2m,4m,10m,1m → median 3m, p90 10m; resolves 30m,1h,2h → median 1h, p90 2h.
	check("total", r.Total, want{5, 4, 3, 6, 1, 180, 600, 3600, 7200, 3, 1, 1})
	if len(r.ByService) != 2 || r.ByService[0].Key != "checkout" || r.ByService[1].Key != "search" {
		t.Fatalf("by service: %+v", r.ByService)
	}
	check("checkout", r.ByService[0], want{3, 3, 3, 3, 0, 240, 600, 3600, 7200, 2, 0, 1})
	check("search", r.ByService[1], want{2, 1, 0, 3, 1, 60, 60, -1, -1, 1, 1, 0})
	check("team find", r.ByTeam[0], want{2, 1, 0, 3, 1, 60, 60, -1, -1, 1, 1, 0})
	if len(r.BySeverity) != 3 {
		t.Fatalf("by severity: %+v", r.BySeverity)
	}
	// SEV1: a (2m, 30m) and c (10m, 2h): medians are the means of the two.
	check("SEV1", r.BySeverity[0], want{2, 2, 2, 3, 0, 360, 600, 4500, 7200, 1, 0, 1})
	// Weeks since 02-16 (30 days back, Monday-aligned) to the week of 03-16: five weeks.
	if len(r.Weeks) != 5 {
		t.Fatalf("weeks: %+v", r.Weeks)
	}
	last, prev := r.Weeks[4], r.Weeks[3]
	if !last.Start.Equal(time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)) || last.Incidents != 3 || sec(last.MTTAMedian) != 240 || sec(last.MTTRMedian) != 3600 {
		t.Errorf("week of 03-16: %+v", last)
	}
	if prev.Incidents != 2 || sec(prev.MTTAMedian) != 60 || prev.MTTRMedian != nil {
		t.Errorf("week of 03-09: %+v", prev)
	}
	if r.Weeks[0].Incidents != 0 {
		t.Errorf("an empty week counts %d", r.Weeks[0].Incidents)
	}
}

func TestReportFilters(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		incidents int
	}{
		{"service", []string{"--service", "search"}, 2},
		{"team", []string{"--team", "pay"}, 3},
		{"since 3d", []string{"--since", "3d"}, 3},
		{"since 400d takes the old one", []string{"--since", "400d"}, 6},
		{"since hours", []string{"--since", "1d12h"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := runReport(t, append(tc.args, "-o", "json")...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var r Report
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			if r.Total.Incidents != tc.incidents {
				t.Errorf("%d incidents; want %d", r.Total.Incidents, tc.incidents)
			}
		})
	}
	for _, bad := range [][]string{{"--since", "x"}, {"--since", "0d"}, {"-o", "pdf"}} {
		if _, _, code := runReport(t, bad...); code != exitUsage {
			t.Errorf("%v: exit %d; want usage", bad, code)
		}
	}
}

func TestReportCSV(t *testing.T) {
	out, _, code := runReport(t, "-o", "csv")
	if code != 0 {
		t.Fatal(code)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// header, total, 2 services, 2 teams, 3 severities
	if len(rows) != 9 || rows[0][4] != "mtta_median_s" {
		t.Fatalf("%d rows: %v", len(rows), rows)
	}
	if strings.Join(rows[1], ",") != "total,all,5,4,180,600,3,3600,7200,6,1,3,1,1" {
		t.Errorf("total row: %v", rows[1])
	}
}

// TestReportHTML: the page holds its three charts with the weekly figures,
// and reaches for nothing outside itself.
func TestReportHTML(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.html")
	if _, errs, code := runReport(t, "--html", path); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(raw)
	for _, want := range []string{`id="incidents-per-week"`, `id="mtta-mttr-trend"`, `id="detection-source"`,
		`data-week="Mar 16" data-value="3"`, `class="point mttr" `, `data-source="external" data-value="1"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, outside := range []string{"<script", "http://", "https://", "<link", "@import"} {
		if strings.Contains(page, outside) {
			t.Errorf("page is not self-contained: it has %q", outside)
		}
	}
	if os.Getenv("SITREP_REPORT_HTML") != "" { // the browser check (make test-prod) renders this page
		_ = os.WriteFile(os.Getenv("SITREP_REPORT_HTML"), raw, 0o644)
	}
}

// reopenFake lists inc-c twice, as visibility does for an ID that re-opened
// (or continued as new) in a second run; the state query answers for the
// latest run.
type reopenFake struct {
	reportFake
	mu     *sync.Mutex
	status map[string]int
}

func (f reopenFake) List(ctx context.Context, flt starter.ListFilter) ([]starter.Listed, error) {
	out, err := f.reportFake.List(ctx, flt)
	for _, l := range out {
		if l.ID == "inc-c" {
			earlier := l
			earlier.Started = l.Started.Add(-48 * time.Hour)
			out = append(out, earlier)
			break
		}
	}
	return out, err
}

func (f reopenFake) Status(ctx context.Context, id string) (workflows.IncidentState, error) {
	f.mu.Lock()
	f.status[id]++
	f.mu.Unlock()
	return f.reportFake.Status(ctx, id)
}

// An incident ID listed twice, once per run, is read and counted once: the
// latest run's record, not the same record twice.
func TestReportCountsAReopenedIDOnce(t *testing.T) {
	fake := reopenFake{reportFake: reportFake{states: reportIncidents()}, mu: &sync.Mutex{}, status: map[string]int{}}
	var out, errs bytes.Buffer
	d := &Deps{Out: &out, Err: &errs, Getenv: func(string) string { return "" }, Environ: func() []string { return nil },
		Now: func() time.Time { return reportNow }}
	d.Incidents = func(context.Context) (Incidents, func(), error) { return fake, func() {}, nil }
	if code := run([]string{"report", "-o", "json"}, d); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	var r Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Total.Incidents != 5 || r.Total.Escalations != 6 || r.Total.Sources["external"] != 1 {
		t.Errorf("total: %d incidents, %d escalations, %d external; want 5, 6, 1 (inc-c once)",
			r.Total.Incidents, r.Total.Escalations, r.Total.Sources["external"])
	}
	if n := fake.status["inc-c"]; n != 1 {
		t.Errorf("inc-c's state read %d times, want 1", n)
	}
}
