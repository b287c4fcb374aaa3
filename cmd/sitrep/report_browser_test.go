//go:build prod

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// TestReportInBrowser renders `sitrep report --html` in headless Chromium
// through puppeteer-core (make test-prod installs both) and checks that a
// manager sees the three charts drawn with the known incidents' figures,
// and that the page asks for nothing outside itself.
func TestReportInBrowser(t *testing.T) {
	root, _ := filepath.Abs("../..")
	modules := filepath.Join(root, "bin/browser/node_modules")
	script := filepath.Join(root, "tools/browser/check-report.js")
	chromium, _ := exec.LookPath("chromium")
	node, _ := exec.LookPath("node")
	if _, err := os.Stat(filepath.Join(modules, "puppeteer-core")); err != nil || chromium == "" || node == "" {
		msg := "needs node, chromium and bin/browser/node_modules/puppeteer-core: run `make test-prod`"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	page, shot := filepath.Join(dir, "report.html"), filepath.Join(dir, "report.png")
	if _, errs, code := runReport(t, "--html", page); code != 0 {
		t.Fatalf("report: exit %d: %s", code, errs)
	}
	cmd := exec.Command(node, script, page, shot)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "CHROMIUM="+chromium)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("browser: %v\n%s", err, stderr)
	}
	var got struct {
		Title  string
		Charts []struct {
			ID            string
			Width, Height float64
			Bars          []struct {
				Value, Key, Fill string
				Drawn            bool
			}
			Points []struct {
				Series, Week, Seconds string
				Drawn                 bool
			}
			Lines int
		}
		Tables, Outside, Errors []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("browser said %s: %v", out, err)
	}
	if len(got.Outside) > 0 || len(got.Errors) > 0 {
		t.Errorf("the page reached out to %v, errors %v", got.Outside, got.Errors)
	}
	ids := []string{}
	for _, c := range got.Charts {
		ids = append(ids, c.ID)
		if c.Width < 300 || c.Height < 100 {
			t.Errorf("chart %s is %vx%v: not drawn", c.ID, c.Width, c.Height)
		}
	}
	if !slices.Equal(ids, []string{"incidents-per-week", "mtta-mttr-trend", "detection-source"}) {
		t.Fatalf("charts %v", ids)
	}
	values := func(i int) (v []string) {
		for _, b := range got.Charts[i].Bars {
			if !b.Drawn && b.Value != "0" {
				t.Errorf("%s: bar %s=%s not drawn", got.Charts[i].ID, b.Key, b.Value)
			}
			v = append(v, b.Key+"="+b.Value)
		}
		return v
	}
	if v := values(0); !slices.Equal(v, []string{"Feb 16=0", "Feb 23=0", "Mar 2=0", "Mar 9=2", "Mar 16=3"}) {
		t.Errorf("incidents per week: %v", v)
	}
	if v := values(2); !slices.Equal(v, []string{"monitoring=3", "internal=1", "external=1"}) {
		t.Errorf("detection sources: %v", v)
	}
	var points []string
	for _, p := range got.Charts[1].Points {
		if !p.Drawn {
			t.Errorf("trend point %s %s not drawn", p.Series, p.Week)
		}
		points = append(points, p.Series+" "+p.Week+"="+p.Seconds)
	}
	if !slices.Equal(points, []string{"mtta Mar 9=60", "mtta Mar 16=240", "mttr Mar 16=3600"}) || got.Charts[1].Lines != 2 {
		t.Errorf("MTTA/MTTR trend: %v, %d lines", points, got.Charts[1].Lines)
	}
	if !slices.Equal(got.Tables, []string{"total", "service", "team", "severity"}) {
		t.Errorf("tables %v", got.Tables)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 20_000 {
		t.Errorf("screenshot missing or blank: %v", err)
	}
	t.Logf("%q rendered: %d charts, screenshot %s", got.Title, len(got.Charts), shot)
	if dst := os.Getenv("SITREP_TOPOLOGY_ARTIFACTS"); dst != "" {
		if raw, err := os.ReadFile(shot); err == nil && os.MkdirAll(dst, 0o755) == nil {
			_ = os.WriteFile(filepath.Join(dst, "report.png"), raw, 0o644)
		}
	}
}
