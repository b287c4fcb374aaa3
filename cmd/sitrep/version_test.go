package main

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildOf(t *testing.T) {
	bi := &debug.BuildInfo{Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0740afb1c2d3"}, {Key: "vcs.time", Value: "2026-12-01T09:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	b := buildOf(bi, true)
	if b.Commit != "0740afb1c2d3" || b.Time != "2026-12-01T09:00:00Z" || !b.Modified || b.Go != runtime.Version() {
		t.Errorf("build %+v", b)
	}
	want := "sitrep " + buildVersion() + " (commit 0740afb1c2d3, 2026-12-01T09:00:00Z, modified) " + runtime.Version()
	if b.String() != want {
		t.Errorf("%q, want %q", b.String(), want)
	}
	if got := buildOf(nil, false).String(); got != "sitrep "+buildVersion()+" "+runtime.Version() {
		t.Errorf("no build info: %q", got)
	}
}

func TestCLIVersion(t *testing.T) {
	want := currentBuild().String() + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := sitrep(t, nil, args...)
		if r.code != 0 || r.stdout != want {
			t.Errorf("sitrep %s: exit %d, %q; want %q", strings.Join(args, " "), r.code, r.stdout, want)
		}
	}
	r := sitrep(t, nil, "version", "-o", "json")
	var b Build
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || b != currentBuild() {
		t.Errorf("json %q (%v), want %+v", r.stdout, err, currentBuild())
	}
	if r := sitrep(t, nil, "version", "extra"); r.code != exitUsage {
		t.Errorf("an argument: exit %d, want %d", r.code, exitUsage)
	}
}
