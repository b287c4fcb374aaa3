package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// cadenceCatalog gives each of n services its own team and on-call person
// (paged once, 30 minutes per level: nobody escalates during the run), and
// one comms lead for all: SEV1 tells stakeholders as it opens and wants an
// update every 2 minutes, the lead reminded a minute before.
func cadenceCatalog(n int) string {
	var b strings.Builder
	b.WriteString("catch_all: team-0\npeople:\n  - handle: lead\n    contacts: [{chat: ULEAD}]\n")
	for i := range n {
		fmt.Fprintf(&b, "  - handle: p-%d\n    contacts: [{sms: \"+1555%07d\"}]\n", i, i)
	}
	b.WriteString("rotations:\n  - name: leads\n    members: [lead]\n    shift: weekly\n    handoff_time: \"09:00\"\n    timezone: UTC\n    start: 2026-01-05\n")
	b.WriteString("teams:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: team-%d\n    policy: policy-%d\n    comms_rotation: leads\n    members: [p-%d]\n", i, i, i)
	}
	b.WriteString("services:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: svc-%d\n    team: team-%d\n    tier: 1\n    stakeholder_groups: [staff]\n", i, i)
	}
	b.WriteString("escalation_policies:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: policy-%d\n    levels:\n      - targets: [{person: p-%d}]\n        delay: 30m\n", i, i)
	}
	b.WriteString("severities:\n")
	b.WriteString("  SEV1:\n    channels: {1: [sms], 2: [sms], 3: [sms]}\n    update_cadence: 2m\n    notice: open\n    war_room: none\n")
	for _, sev := range []string{"SEV2", "SEV3", "SEV4"} {
		fmt.Fprintf(&b, "  %s:\n    channels: {1: [sms], 2: [sms], 3: [sms]}\n    update_cadence: none\n", sev)
	}
	b.WriteString("stakeholder_groups:\n  - name: staff\n    audience: internal\n    emails: [staff@example.com]\n")
	b.WriteString("comms:\n  remind_before: 1m\n  role_unfilled_after: none\n")
	return b.String()
}

// BenchmarkCadence holds 1,000 incidents open in the cadence phase on one
// worker and the dev server (SQLite WAL): each told its stakeholders as it
// opened, so each reminds its comms lead a minute before the update is due
// and again (the commander's reminder, with no commander, goes to the lead
// too) at the due time. It prints the worker process's peak RSS and how late
// reminders reached the provider against the time they were due.
func BenchmarkCadence(b *testing.B) {
	const n, rate = 1000, 50
	cat, err := catalog.Parse("cadence.yaml", []byte(cadenceCatalog(n)))
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	reminded := map[string][]time.Time{}
	ctx := context.Background()
	s, err := startStack(ctx, stackOptions{
		TemporalBin: temporalBin(b), Catalog: cat, DBFile: filepath.Join(b.TempDir(), "temporal.db"),
		Observe: func(m activities.Message, at time.Time) {
			if m.Person == "lead" {
				mu.Lock()
				reminded[m.IncidentID] = append(reminded[m.IncidentID], at)
				mu.Unlock()
			}
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	st := starter.New(s.Client)
	run := fmt.Sprint(time.Now().UnixNano())
	b.ResetTimer()
	for range b.N {
		var idMu sync.Mutex
		var ids []string
		steady(b, rate, n/rate*time.Second, func(i int) error {
			r, err := st.Alert(ctx, workflows.Alert{Source: workflows.Monitoring, Service: fmt.Sprintf("svc-%d", i), Severity: catalog.SEV1,
				Summary: "cadence bench", DedupKey: fmt.Sprintf("cadence-%s-%d", run, i), Integration: "bench"})
			if err == nil {
				idMu.Lock()
				ids = append(ids, r.IncidentID)
				idMu.Unlock()
			}
			return err
		})
		// Two reminders each: a minute before the due time, and at it.
		deadline := time.Now().Add(4 * time.Minute)
		for {
			mu.Lock()
			got := 0
			for _, id := range ids {
				got += min(2, len(reminded[id]))
			}
			mu.Unlock()
			if got >= 2*len(ids) || time.Now().After(deadline) {
				break
			}
			<-time.After(200 * time.Millisecond)
		}
		b.StopTimer()
		var late []time.Duration
		var missing int
		for _, id := range ids {
			inc, err := st.Status(ctx, id)
			if err != nil || inc.NoticeAt == nil {
				b.Fatalf("%s: %v (notice %v)", id, err, inc.NoticeAt)
			}
			mu.Lock()
			got := reminded[id]
			mu.Unlock()
			due := []time.Time{inc.NoticeAt.Add(time.Minute), inc.NoticeAt.Add(2 * time.Minute)}
			for k, at := range got[:min(2, len(got))] {
				late = append(late, at.Sub(due[k]))
			}
			missing += max(0, 2-len(got))
		}
		if missing > 0 {
			b.Fatalf("%d reminders never came", missing)
		}
		slices.Sort(late)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		rss := peakRSS()
		fmt.Printf("\ncadence: %d incidents open at once, %d reminders, one worker on the dev server (SQLite WAL):\n", len(ids), len(late))
		fmt.Printf("  reminder lateness (reached the provider − due)  p50 %7.1f ms   p99 %7.1f ms   (target p99 ≤ 2 s)\n", ms(pct(late, .5)), ms(pct(late, .99)))
		fmt.Printf("  peak RSS of the process running the worker     %7.1f MiB               (target ≤ 512 MiB; the sandbox and load generator share it)\n", float64(rss)/(1<<20))
		b.ReportMetric(ms(pct(late, .99)), "lateness-p99-ms")
		b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
	}
}

// peakRSS is this process's peak resident set (VmHWM), in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
