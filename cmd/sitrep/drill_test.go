package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/drill"
)

const exampleCatalog = "../../examples/catalog.yaml"

// drillAt is a Saturday, 3 a.m. in Berlin: the night it matters.
const drillAt = "2026-12-05 03:00 Europe/Berlin"

// page is one message to a person as the drill reports it.
type page struct {
	Offset time.Duration
	Person string
	Via    string
	Kind   string
	Level  int
}

func (p page) String() string {
	return fmt.Sprintf("%s %s/%s %s L%d", p.Offset, p.Person, p.Via, p.Kind, p.Level)
}

// pagesOf lists the pages in r: messages to people that the incident
// recorded as pages (not pager syncs, not reminders or notices).
func pagesOf(r drill.Result) []page {
	var out []page
	for _, m := range r.Messages {
		if m.Call == "notify" && m.Kind != "" {
			out = append(out, page{time.Duration(m.Offset), m.Person, m.Via, m.Kind, m.Level})
		}
	}
	return out
}

func sortPages(p []page) []page {
	slices.SortFunc(p, func(a, b page) int { return strings.Compare(a.String(), b.String()) })
	return p
}

func runDrill(t *testing.T, args ...string) (drill.Result, cliResult) {
	t.Helper()
	r := sitrep(t, nil, append([]string{"drill", "-o", "json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("sitrep drill %v: exit %d\n%s", args, r.code, r.stderr)
	}
	var res drill.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v in %s", err, r.stdout)
	}
	return res, r
}

// expectedPlan is what the catalog says a SEV1 on service starting at start
// pages, nobody answering: every level of every round at its offset, then
// the fallback. It is worked out from the catalog's own answers (who is on
// call when, who a level reaches, on which channels), not from the drill.
func expectedPlan(t *testing.T, c *catalog.Catalog, service string, start time.Time) (want []page, exhausted time.Duration) {
	t.Helper()
	route, err := c.Route(service)
	if err != nil {
		t.Fatal(err)
	}
	channels := c.Severities[catalog.SEV1].ChannelsFor(route.Tier)
	levels := c.Levels(route.Policy)
	policy := c.Policies[route.Policy]
	var at time.Duration
	for round := 0; round <= policy.Repeat; round++ {
		for i, l := range levels {
			rs, err := c.RecipientsOf(l.Targets, start.Add(at), channels)
			if err != nil {
				t.Fatal(err)
			}
			kind := "page"
			if i > 0 {
				kind = "escalation"
			}
			for _, r := range rs {
				for _, ch := range r.Channels {
					want = append(want, page{at, r.Person, string(ch), kind, i + 1})
				}
			}
			at += l.Delay
		}
	}
	fb, err := c.Reach(policy.Fallback, channels)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range fb.Channels {
		want = append(want, page{at, policy.Fallback, string(ch), "fallback", 0})
	}
	return want, at
}

func TestDrillPagesThePolicyAsTheCatalogSays(t *testing.T) {
	c, err := catalog.Load(exampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	start, err := parseAt(drillAt)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := runDrill(t, "--catalog", exampleCatalog, "--service", "checkout", "--severity", "SEV1", "--at", drillAt)
	got := pagesOf(res)

	// The first level is the rotation's on-call person, alone, at +0.
	route, _ := c.Route("checkout")
	first := c.Levels(route.Policy)[0]
	if len(first.Targets) != 1 || first.Targets[0].Kind != catalog.TargetRotation {
		t.Fatalf("the example's checkout policy no longer starts with one rotation: %+v", first.Targets)
	}
	onCall, err := c.OnCall(first.Targets[0].Name, start)
	if err != nil {
		t.Fatal(err)
	}
	var atZero []string
	for _, p := range got {
		if p.Offset == 0 && !slices.Contains(atZero, p.Person) {
			atZero = append(atZero, p.Person)
		}
	}
	if !slices.Equal(atZero, []string{onCall}) {
		t.Errorf("paged at +0: %v, want only %s, on call for %s", atZero, onCall, first.Targets[0].Name)
	}

	// Every level at its delay, every round, then the fallback: exactly.
	want, exhausted := expectedPlan(t, c, "checkout", start)
	if g, w := sortPages(got), sortPages(want); !slices.Equal(g, w) {
		t.Errorf("pages:\n got %v\nwant %v", g, w)
	}
	fallbacks := 0
	for _, p := range got {
		if p.Kind == "fallback" {
			fallbacks++
			if p.Offset != exhausted || p.Person != c.Policies[route.Policy].Fallback {
				t.Errorf("fallback %v, want %s at %s", p, c.Policies[route.Policy].Fallback, exhausted)
			}
		}
	}
	if fallbacks == 0 {
		t.Error("the fallback was never told")
	}
	if !res.Open || res.Incident.AcknowledgedBy != "" || !res.Incident.Unacknowledged {
		t.Errorf("open %v, acknowledged by %q, unacknowledged %v: want open and unacknowledged", res.Open, res.Incident.AcknowledgedBy, res.Incident.Unacknowledged)
	}
	// Wall times are in the zone of --at.
	if res.Zone != "Europe/Berlin" || len(res.Messages) == 0 || res.Messages[0].At.Format(time.RFC3339) != start.Format(time.RFC3339) {
		t.Errorf("zone %q, first message at %v, want %s", res.Zone, res.Messages[0].At, start.Format(time.RFC3339))
	}
}

func TestDrillTextShowsWhoWhenHow(t *testing.T) {
	c, err := catalog.Load(exampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	start, _ := parseAt(drillAt)
	route, _ := c.Route("checkout")
	levels := c.Levels(route.Policy)
	onCall, _ := c.OnCall(levels[0].Targets[0].Name, start)
	reach, _ := c.Reach(onCall, c.Severities[catalog.SEV1].ChannelsFor(route.Tier))
	second := start.Add(levels[0].Delay)

	r := sitrep(t, nil, "drill", "--catalog", exampleCatalog, "--service", "checkout", "--severity", "SEV1", "--at", drillAt,
		"--summary", "card payments failing")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// Columns are aligned with spaces: compare words.
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	out := words(r.stdout)
	for _, want := range []string{
		"Drill: SEV1 checkout (monitoring) at Sat 2026-12-05 03:00 CET (Europe/Berlin)",
		fmt.Sprintf("+0s Sat 03:00 %s %s page, level 1", onCall, reach.Channels[0]),
		fmt.Sprintf("%s Sat %s", drill.Plus(drill.Offset(levels[0].Delay)), second.Format("15:04")),
		"escalation, level 2",
		"fallback",
		"Incident exhausted",
		"nobody acknowledged: escalation ran out",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "| Subject:") {
		t.Error("message texts printed without --verbose")
	}
	v := sitrep(t, nil, "drill", "--catalog", exampleCatalog, "--service", "checkout", "--severity", "SEV1", "--at", drillAt,
		"--summary", "card payments failing", "--verbose")
	if !strings.Contains(v.stdout, "| Subject: [SEV1] checkout: card payments failing") {
		t.Errorf("--verbose does not show the rendered page:\n%s", v.stdout)
	}
}

func TestDrillNothingAfterTheAck(t *testing.T) {
	const ack = 7 * time.Minute
	res, _ := runDrill(t, "--catalog", exampleCatalog, "--service", "checkout", "--severity", "SEV1", "--at", drillAt,
		"--ack-after", ack.String(), "--mitigate-after", "20m")
	before := 0
	for _, p := range pagesOf(res) {
		if p.Offset > ack {
			t.Errorf("paged after the acknowledgment at +%s: %v", ack, p)
		}
		before++
	}
	if before == 0 {
		t.Fatal("nobody was paged before the acknowledgment")
	}
	first := pagesOf(res)[0].Person
	if len(res.Actions) < 1 || res.Actions[0].Update != "acknowledge" || res.Actions[0].By != first || res.Actions[0].Error != "" {
		t.Errorf("actions %+v, want %s's acknowledgment taken", res.Actions, first)
	}
	if res.Incident.AcknowledgedBy != first || res.Incident.AcknowledgedAt.Sub(res.Start) != ack {
		t.Errorf("acknowledged by %q at %v, want %s at +%s", res.Incident.AcknowledgedBy, res.Incident.AcknowledgedAt, first, ack)
	}

	// Not mitigated, the acknowledger alone is paged again after the
	// severity's repage delay: still no escalation.
	c, _ := catalog.Load(exampleCatalog)
	repage := c.Severities[catalog.SEV1].RepageAfterAck
	res, _ = runDrill(t, "--catalog", exampleCatalog, "--service", "checkout", "--severity", "SEV1", "--at", drillAt,
		"--ack-after", ack.String(), "--resolve-after", (ack + repage + time.Minute).String())
	repaged := 0
	for _, p := range pagesOf(res) {
		if p.Offset > ack && (p.Offset != ack+repage || p.Person != first || p.Kind != "repage") {
			t.Errorf("after the acknowledgment: %v; want only a repage of %s at +%s", p, first, ack+repage)
		}
		if p.Kind == "repage" {
			repaged++
		}
	}
	if repaged == 0 {
		t.Errorf("%s was not paged again %s after acknowledging: the drill dropped the re-page", first, repage)
	}
	if res.Open || res.Incident.Phase != "resolved" {
		t.Errorf("open %v, phase %s: want resolved", res.Open, res.Incident.Phase)
	}
}

func TestDrillCompareShowsACatalogChange(t *testing.T) {
	src, err := os.ReadFile(exampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := catalog.Load(exampleCatalog)
	route, _ := c.Route("checkout")
	was := c.Levels(route.Policy)[0].Delay
	now := was + 10*time.Minute
	// Level 1 of checkout's policy waits longer before level 2 is paged.
	old := fmt.Sprintf("- rotation: payments-primary\n        delay: %s\n      - targets:\n          - team: payments", drill.Plus(drill.Offset(was))[1:])
	if strings.Count(string(src), old) != 1 {
		t.Fatalf("the example catalog changed: %q is not in it once", old)
	}
	edited := filepath.Join(t.TempDir(), "edited.yaml")
	if err := os.WriteFile(edited, []byte(strings.Replace(string(src), old, strings.Replace(old, "delay: "+drill.Plus(drill.Offset(was))[1:], "delay: "+now.String(), 1), 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := sitrep(t, nil, "drill", "-o", "json", "--catalog", exampleCatalog, "--compare", edited,
		"--service", "checkout", "--severity", "SEV1", "--at", drillAt)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var cmp struct {
		A, B        string
		Differences []drill.Difference
	}
	if err := json.Unmarshal([]byte(r.stdout), &cmp); err != nil {
		t.Fatal(err)
	}
	// Every level-2 page moved from the old delay to the new one; no page
	// was sent by only one of them. (What the comms activities send in
	// parallel may differ by a war room summary edit from run to run, as it
	// does for real: those lines are not compared here.)
	from, to := drill.Plus(drill.Offset(was)), drill.Plus(drill.Offset(now))
	level2 := 0
	for _, d := range cmp.Differences {
		if d.What != "message" || !isPageLine(d.Line) {
			continue
		}
		if d.Only != "moved" {
			t.Errorf("a page sent by one catalog only: %+v", d)
		}
		if strings.Contains(d.Line, "escalation, level 2") && !strings.Contains(d.Line, "round") {
			level2++
			if d.From != from || d.To != to {
				t.Errorf("%+v: want level 2 moved from %s to %s", d, from, to)
			}
		}
	}
	if level2 == 0 {
		t.Errorf("differences do not show level 2 moving from %s to %s: %+v", from, to, cmp.Differences)
	}

	text := sitrep(t, nil, "drill", "--catalog", exampleCatalog, "--compare", edited, "--service", "checkout", "--severity", "SEV1", "--at", drillAt)
	if !strings.Contains(text.stdout, "Sent by both, at another time ("+exampleCatalog+" → "+edited+"):") ||
		!strings.Contains(text.stdout, "message "+from+" → "+to+" ") {
		t.Errorf("text comparison:\n%s", text.stdout)
	}
	// A SEV3 on a tier-3 service opens no war room: its drill is the same
	// on every run, and against itself shows nothing.
	same := sitrep(t, nil, "drill", "--catalog", exampleCatalog, "--compare", exampleCatalog, "--service", "reports", "--severity", "SEV3", "--at", drillAt)
	if !strings.Contains(same.stdout, "No difference between "+exampleCatalog+" and "+exampleCatalog) {
		t.Errorf("the same catalog compared:\n%s", same.stdout)
	}
}

// isPageLine says whether a comparison line is a page (not a notice, a
// reminder or a war room post).
func isPageLine(line string) bool {
	for _, kind := range []string{" page, level", " escalation, level", " repage", " fallback"} {
		if strings.Contains(line, kind) {
			return true
		}
	}
	return false
}

func TestDrillHTMLIsEscaped(t *testing.T) {
	out := filepath.Join(t.TempDir(), "drill.html")
	r := sitrep(t, nil, "drill", "--catalog", exampleCatalog, "--service", "checkout", "--severity", "SEV1", "--at", drillAt,
		"--summary", `<script>alert("x")</script>`, "--verbose", "--html", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if strings.Contains(page, "<script>") || !strings.Contains(page, "&lt;script&gt;") {
		t.Errorf("the summary is not escaped in the page")
	}
	for _, want := range []string{"<h1>Drill: SEV1 checkout", "escalation, level 2", "fallback", "<h2>Timeline</h2>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestDrillUnknownServiceGoesToTheCatchAll(t *testing.T) {
	c, _ := catalog.Load(exampleCatalog)
	r := sitrep(t, nil, "drill", "--catalog", exampleCatalog, "--service", "chekout", "--severity", "SEV1", "--at", drillAt)
	want := `service "chekout" is not in the catalog: its alerts go to the catch-all team ` + c.CatchAll
	if r.code != 0 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stdout, "Routed to team "+c.CatchAll) {
		t.Errorf("exit %d, stderr %q; want %q\n%s", r.code, r.stderr, want, r.stdout)
	}
}

func TestDrillUsageErrors(t *testing.T) {
	base := []string{"drill", "--catalog", exampleCatalog, "--service", "checkout"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no severity", []string{"drill", "--service", "checkout"}, `"severity" not set`},
		{"bad severity", append(base, "--severity", "SEV9"), `severity "SEV9" is not one of`},
		{"bad zone", append(base, "--severity", "SEV1", "--at", "2026-12-05 03:00 Mars/Olympus"), `unknown time zone "Mars/Olympus"`},
		{"bad time", append(base, "--severity", "SEV1", "--at", "tomorrow"), `--at "tomorrow"`},
		{"ack and no ack", append(base, "--severity", "SEV1", "--ack-after", "5m", "--no-ack"), "none of the others can be"},
		{"beyond the end", append(base, "--severity", "SEV1", "--resolve-after", "30h"), "resolve offset 30h0m0s is not before the drill's end at 24h0m0s"},
		{"unknown acker", append(base, "--severity", "SEV1", "--ack-after", "5m", "--ack-by", "nobody"), `"nobody" is not a person in the catalog`},
		{"zero offset", append(base, "--severity", "SEV1", "--ack-after", "0s"), "--ack-after must be positive, not 0s"},
		{"negative offset", append(base, "--severity", "SEV1", "--resolve-after=-5m"), "--resolve-after must be positive, not -5m0s"},
		{"bad source", append(base, "--severity", "SEV1", "--source", "psychic"), `source "psychic"`},
		{"no catalog", []string{"drill", "--catalog", "nope.yaml", "--service", "checkout", "--severity", "SEV1"}, "nope.yaml"},
		{"bad output", append(base, "--severity", "SEV1", "-o", "yaml"), "--output must be text or json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sitrep(t, nil, tt.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", r.code, r.stdout, r.stderr, exitUsage, tt.want)
			}
		})
	}
}

// TestDrillShowsWhatStakeholdersHear checks that what the comms activities
// send (the status page, the stakeholder lists) reaches the drill, beside
// the pages.
func TestDrillShowsWhatStakeholdersHear(t *testing.T) {
	c, err := catalog.Load(exampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := runDrill(t, "--catalog", exampleCatalog, "--service", "checkout", "--severity", "SEV1", "--at", drillAt,
		"--ack-after", "7m", "--resolve-after", "1h")
	var addresses []string
	for _, g := range c.Services["checkout"].StakeholderGroups {
		addresses = append(addresses, c.StakeholderGroups[g].Emails...)
	}
	var statusPage, mailed bool
	for _, m := range res.Messages {
		statusPage = statusPage || m.Via == "statuspage"
		if m.Call == "mail" && slices.ContainsFunc(addresses, func(a string) bool { return strings.Contains(m.Person, a) }) {
			mailed = true
		}
	}
	if !statusPage || !mailed {
		t.Errorf("status page %v, stakeholder mail %v (to any of %v); messages: %+v", statusPage, mailed, addresses, res.Messages)
	}
}
