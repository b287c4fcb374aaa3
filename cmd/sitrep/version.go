package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Build is what sitrep was built from.
type Build struct {
	Version  string `json:"version"`          // the module version; "(devel)" from a checkout
	Commit   string `json:"commit,omitempty"` // the VCS revision, when built in a checkout
	Time     string `json:"time,omitempty"`   // the revision's commit time
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
}

// buildOf reads the build from what the Go toolchain stamped into the binary.
func buildOf(bi *debug.BuildInfo, ok bool) Build {
	b := Build{Version: buildVersion(), Go: runtime.Version()}
	if !ok {
		return b
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the version line: "sitrep v1.2.0 (commit 0740afb…, 2026-12-01T09:00:00Z, modified) go1.26.8".
func (b Build) String() string {
	s := "sitrep " + b.Version
	if b.Commit != "" {
		s += " (commit " + b.Commit
		if b.Time != "" {
			s += ", " + b.Time
		}
		if b.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s + " " + b.Go
}

func currentBuild() Build { return buildOf(debug.ReadBuildInfo()) }

func newCmdVersion(d *Deps) *cobra.Command {
	var out outputFlag
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print sitrep's version and the commit it was built from",
		Example: `  sitrep version
  sitrep --version
  sitrep version -o json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			if out.json() {
				return writeJSON(d.Out, currentBuild())
			}
			_, err := fmt.Fprintln(d.Out, currentBuild())
			return err
		},
	}
	out.add(cmd)
	return cmd
}
