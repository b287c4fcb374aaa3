//go:build prod

package sandbox_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInboxInBrowser renders the inbox page in headless Chromium through
// puppeteer-core (make test-prod installs both, in bin/browser) after an
// incident's comms, and checks that a person sees the status page incident,
// the war room and the stakeholder email side by side, each card within
// its column, and that the page asks for nothing outside the sandbox.
func TestInboxInBrowser(t *testing.T) {
	root, _ := filepath.Abs("..")
	modules := filepath.Join(root, "bin/browser/node_modules")
	if m := os.Getenv("SITREP_BROWSER_MODULES"); m != "" {
		modules = m
	}
	chromium, _ := exec.LookPath("chromium")
	node, _ := exec.LookPath("node")
	if _, err := os.Stat(filepath.Join(modules, "puppeteer-core")); err != nil || chromium == "" || node == "" {
		msg := "needs node, chromium and bin/browser/node_modules/puppeteer-core: run `make test-prod`"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	_, srv, room, _, _ := commsIncident(t)
	shot := filepath.Join(t.TempDir(), "inbox.png")
	cmd := exec.Command(node, "testdata/check-inbox.js", srv.URL+"/", shot)
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
		Title    string
		Sections []struct {
			ID, Heading, Text string
			Width, Height     float64
			Overflowing       int
		}
		Wide            bool
		Outside, Errors []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("browser said %s: %v", out, err)
	}
	if len(got.Outside) > 0 || len(got.Errors) > 0 || got.Wide {
		t.Errorf("the page reached out to %v, errors %v, wider than the window %v", got.Outside, got.Errors, got.Wide)
	}
	want := []struct{ id, heading, text string }{
		{"statuspage", "Status page: 1 incident(s)", "A faulty release; rolling it back."},
		{"rooms", "War rooms: 1", "#inc-20261201-checkout-error-rate-12"},
		{"stakeholder-email", "Stakeholder email: 2", "ops@merchant-one.example.com"},
	}
	if len(got.Sections) != len(want) {
		t.Fatalf("sections %+v", got.Sections)
	}
	for i, w := range want {
		s := got.Sections[i]
		if s.ID != w.id || s.Heading != w.heading || !strings.Contains(s.Text, w.text) || s.Width < 250 || s.Height < 50 || s.Overflowing > 0 {
			t.Errorf("section %d = %s %q %vx%v, %d cards overflowing; want %s %q showing %q", i, s.ID, s.Heading, s.Width, s.Height, s.Overflowing, w.id, w.heading, w.text)
		}
	}
	if r := got.Sections[1].Text; !strings.Contains(r, "members: alice, U0003") || !strings.Contains(r, room.Bridge) || !strings.Contains(r, "edited 1×") {
		t.Errorf("the war room reads:\n%s", r)
	}
	t.Logf("screenshot: %s", shot)
}
