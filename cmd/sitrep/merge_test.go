package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

const (
	mergeFrom = "inc-checkout-0a1b2c3d4e5f6a7b"
	mergeInto = "inc-payments-7b6a5f4e3d2c1b0a"
)

func TestFlagMerge(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    MergeOptions
		wantErr string
	}{
		{name: "into, by, note", args: []string{mergeFrom, "--into", mergeInto, "--by", "alice", "--note", "same failover"},
			want: MergeOptions{Incident: mergeFrom, Into: mergeInto, By: "alice", Note: "same failover", Output: outputFlag{"text"}, Timeout: 30 * time.Second}},
		{name: "json, timeout", args: []string{"--into=" + mergeInto, "--by", "bob", mergeFrom, "-o", "json", "--timeout", "1m"},
			want: MergeOptions{Incident: mergeFrom, Into: mergeInto, By: "bob", Output: outputFlag{"json"}, Timeout: time.Minute}},
		{name: "no target", args: []string{mergeFrom, "--by", "alice"}, wantErr: `"into" not set`},
		{name: "nobody", args: []string{mergeFrom, "--into", mergeInto}, wantErr: `"by" not set`},
		{name: "no incident", args: []string{"--into", mergeInto, "--by", "alice"}, wantErr: "got 0 arguments"},
		{name: "two incidents", args: []string{mergeFrom, mergeInto, "--by", "alice"}, wantErr: "got 2 arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseCmd(t, newCmdMerge, tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			if *o != tt.want {
				t.Errorf("options = %+v, want %+v", *o, tt.want)
			}
		})
	}
}

// fakeMerger is fakeIncidents that can merge.
type fakeMerger struct {
	*fakeIncidents
	res workflows.MergeResult
	req workflows.MergeRequest
}

func (f *fakeMerger) Merge(_ context.Context, id, _ string, req workflows.MergeRequest) (workflows.MergeResult, error) {
	f.call("merge " + id)
	f.req = req
	return f.res, f.err
}

func TestMergeRun(t *testing.T) {
	at := time.Date(2026, 3, 2, 11, 30, 0, 0, time.UTC)
	tests := []struct {
		name     string
		args     []string
		res      workflows.MergeResult
		err      error
		wantCode int
		wantOut  string
		wantErr  string
		called   bool
	}{
		{name: "merged", args: []string{"merge", mergeFrom, "--into", mergeInto, "--by", "alice", "--note", "same failover"},
			res: workflows.MergeResult{Into: mergeInto, At: at, By: "alice"}, called: true,
			wantOut: "merged " + mergeFrom + " into " + mergeInto + " (2026-03-02T11:30:00Z): its pages stopped; updates go on in " + mergeInto + "\n"},
		{name: "json", args: []string{"merge", mergeFrom, "--into", mergeInto, "--by", "alice", "-o", "json"},
			res: workflows.MergeResult{Into: mergeInto, At: at, By: "alice"}, called: true,
			wantOut: "{\n  \"into\": \"" + mergeInto + "\",\n  \"at\": \"2026-03-02T11:30:00Z\",\n  \"by\": \"alice\"\n}\n"},
		{name: "asked again", args: []string{"merge", mergeFrom, "--into", mergeInto, "--by", "bob"},
			res: workflows.MergeResult{Into: mergeInto, At: at, By: "alice", Already: true}, called: true,
			wantOut: mergeFrom + " was merged into " + mergeInto + " already (2026-03-02T11:30:00Z by alice)\n"},
		{name: "target resolved", args: []string{"merge", mergeFrom, "--into", mergeInto, "--by", "alice"}, called: true,
			err:      &starter.RejectedError{Type: workflows.RejectWrongPhase, Message: mergeInto + " is already resolved: merge into an open incident"},
			wantCode: 4, wantErr: mergeInto + " is already resolved"},
		{name: "into itself", args: []string{"merge", mergeFrom, "--into", mergeFrom, "--by", "alice"},
			wantCode: 2, wantErr: "cannot merge " + mergeFrom + " into itself"},
		{name: "not an incident", args: []string{"merge", mergeFrom, "--into", "payments", "--by", "alice"},
			wantCode: 2, wantErr: `"payments" is not an incident ID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeMerger{fakeIncidents: &fakeIncidents{err: tt.err}, res: tt.res}
			var inc Incidents = f
			if !tt.called {
				inc = nil // must not connect
			}
			r := sitrep(t, inc, tt.args...)
			if r.code != tt.wantCode || r.stdout != tt.wantOut || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout %q, stderr with %q", r.code, r.stdout, r.stderr, tt.wantCode, tt.wantOut, tt.wantErr)
			}
			if !tt.called {
				return
			}
			if want := []string{"merge " + mergeFrom}; !slices.Equal(f.calls, want) || f.req.Into != mergeInto || f.req.By == "" || f.req.Channel != "cli" {
				t.Errorf("starter calls %v with %+v, want %v into %s", f.calls, f.req, want, mergeInto)
			}
		})
	}
}

// TestStatusOfMerges: status says where a merged incident went, and lists
// the incidents merged into one.
func TestStatusOfMerges(t *testing.T) {
	at := time.Date(2026, 3, 2, 11, 30, 0, 0, time.UTC)
	st := incidentState()
	st.Phase, st.MergedInto, st.MergedAt, st.MergedBy = workflows.Merged, mergeInto, &at, "alice"
	r := sitrep(t, &fakeIncidents{state: st}, "status", st.ID)
	if !strings.Contains(r.stdout, "MERGED INTO "+mergeInto+" at 2026-03-02 11:30:00Z by alice") {
		t.Errorf("status of a merged incident does not say where it went:\n%s", r.stdout)
	}
	target := incidentState()
	target.Merged = []workflows.MergedIncident{{ID: mergeFrom, Service: "checkout", Severity: "SEV2", Summary: "latency high", At: at, By: "alice", AlertCount: 3}}
	r = sitrep(t, &fakeIncidents{state: target}, "status", target.ID)
	if !strings.Contains(r.stdout, "Merged in\n  "+mergeFrom+"  SEV2 checkout: latency high") {
		t.Errorf("status of the target does not list what was merged in:\n%s", r.stdout)
	}
}

// TestReportCountsMergedOnce: a merged incident's story goes on in its
// target: the report counts it as merged, not as an incident of its own
// left unresolved.
func TestReportCountsMergedOnce(t *testing.T) {
	first := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	acked, resolved := first.Add(2*time.Minute), first.Add(time.Hour)
	target := workflows.IncidentState{ID: mergeInto, Phase: workflows.Resolved, Source: workflows.Monitoring,
		AlertsState: workflows.AlertsState{FirstSeen: first}, PagingState: workflows.PagingState{AcknowledgedAt: &acked}, ResolvedAt: &resolved}
	merged := workflows.IncidentState{ID: mergeFrom, Phase: workflows.Merged, Source: workflows.Monitoring,
		AlertsState: workflows.AlertsState{FirstSeen: first}, MergeState: workflows.MergeState{MergedInto: mergeInto}}
	f := figures("all", []workflows.IncidentState{target, merged})
	if f.Incidents != 1 || f.Merged != 1 || f.Resolved != 1 || f.Sources["monitoring"] != 1 {
		t.Errorf("figures = %+v, want 1 incident (resolved) and 1 merged", f)
	}
}

// TestMergeCompletion: merge completes open incidents for the incident and
// for --into, and catalog people for --by.
func TestMergeCompletion(t *testing.T) {
	rows := []starter.Listed{{ID: mergeFrom, Severity: "SEV1", Service: "checkout"}, {ID: mergeInto, Severity: "SEV2", Service: "payments"}}
	f := &fakeIncidents{list: rows}
	if got := complete(t, f, nil, "merge", "inc-check"); !slices.Equal(got, []string{mergeFrom}) || !f.filt.Open {
		t.Errorf("merge inc-check completes %v (open only: %v), want %s", got, f.filt.Open, mergeFrom)
	}
	f = &fakeIncidents{list: rows}
	if got := complete(t, f, nil, "merge", mergeFrom, "--into", "inc-pay"); !slices.Equal(got, []string{mergeInto}) || !f.filt.Open {
		t.Errorf("merge --into inc-pay completes %v (open only: %v), want %s", got, f.filt.Open, mergeInto)
	}
}
