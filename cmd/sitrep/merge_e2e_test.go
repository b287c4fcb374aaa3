package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
	"github.com/sitrep-dev/sitrep/integrations/slack"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// TestEndToEndMerge runs merges on the dev stack with the real worker,
// intake and sandbox: `sitrep merge` from the CLI, `/sitrep INC merge` from
// any channel and `/sitrep merge` typed in the merged incident's own war
// room. The merged incident pages nobody again, says where it went, and a
// repeat of its alert folds into the target; refusals name the problem.
func TestEndToEndMerge(t *testing.T) {
	t.Parallel()
	// A 2s bundling window: the merged incident's pages bundled behind the
	// target's would go out within the watch below, were they not withdrawn.
	catYAML := "bundle_window: 2s\n" + strings.Replace(e2eCatalog, "    update_cadence: 30m\n", "    update_cadence: 30m\n    war_room: open\n", 1)
	s, publicURL := intakeStack(t, catYAML)
	st := starter.New(s.Client)
	c := newCLI(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	open := func(summary string) (workflows.Alert, string) {
		t.Helper()
		al := workflows.Alert{Source: workflows.Monitoring, Service: "checkout", Severity: catalog.SEV1, Summary: summary, Integration: "test"}
		r, err := st.Alert(ctx, al)
		if err != nil || !r.Opened {
			t.Fatalf("alert %q: %+v, %v", summary, r, err)
		}
		return al, r.IncidentID
	}
	status := func(id string) workflows.IncidentState {
		t.Helper()
		var state workflows.IncidentState
		c.mustJSON(&state, "status", id)
		return state
	}
	secret := integrations.Secret(s.Env("SLACK_SIGNING_SECRET"))
	slash := func(channel, text, trigger string) string {
		t.Helper()
		body := url.Values{"command": {"/sitrep"}, "text": {text}, "user_id": {"U0001"}, "channel_id": {channel}, "trigger_id": {trigger}}.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, publicURL+"/v1/slack/commands", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", slack.Sign(secret, ts, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var a struct {
			Text string `json:"text"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &a) != nil {
			t.Fatalf("/sitrep %s: %d %s", text, resp.StatusCode, b)
		}
		return a.Text
	}
	messagesOf := func(id string) []inbox.Message {
		t.Helper()
		resp, err := http.Get(s.SandboxURL + "/api/messages?incident=" + url.QueryEscape(id))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var msgs []inbox.Message
		if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
			t.Fatal(err)
		}
		return msgs
	}

	_, target := open("checkout error rate 12%")
	alB, b := open("checkout payments failing")
	_, cID := open("checkout latency above 2s")

	// The CLI.
	out, errs, code := c.run("merge", b, "--into", target, "--by", "alice", "--note", "one database failover")
	if code != 0 || !strings.HasPrefix(out, "merged "+b+" into "+target) {
		t.Fatalf("sitrep merge: exit %d, %q, %q", code, out, errs)
	}
	mergedAt := time.Now()
	gotB := status(b)
	if gotB.Phase != workflows.Merged || gotB.MergedInto != target || gotB.MergedBy != "alice" {
		t.Fatalf("merged incident: phase %s, merged into %q by %q", gotB.Phase, gotB.MergedInto, gotB.MergedBy)
	}
	if out, _, _ := c.run("status", b); !strings.Contains(out, "MERGED INTO "+target) {
		t.Errorf("sitrep status %s does not say where it went:\n%s", b, out)
	}
	gotT := status(target)
	if !slices.ContainsFunc(gotT.Merged, func(m workflows.MergedIncident) bool { return m.ID == b && len(m.Timeline) > 0 && len(m.Alerts) == 1 }) ||
		!slices.ContainsFunc(gotT.Timeline, func(e workflows.Event) bool {
			return strings.Contains(e.Text, "merged in: "+b+" (checkout payments failing)")
		}) {
		t.Fatalf("target's record: merged %+v, timeline %+v", gotT.Merged, gotT.Timeline)
	}
	if out, _, _ := c.run("status", target); !strings.Contains(out, "Merged in\n  "+b) {
		t.Errorf("sitrep status %s does not list %s:\n%s", target, b, out)
	}
	// Its room hears where the story goes on.
	waitFor(t, "the merged incident's room told", 30*time.Second, func() bool {
		return slices.ContainsFunc(messagesOf(b), func(m inbox.Message) bool { return strings.Contains(m.Text, "Merged into "+target) })
	})

	// A repeat of its alert folds into the target, not into a new incident.
	before := gotT.AlertCount
	alB.ReceivedAt = time.Time{}
	r, err := st.Alert(ctx, alB)
	if err != nil || r.Opened {
		t.Fatalf("repeat of the merged alert: %+v, %v; want folded", r, err)
	}
	waitFor(t, "the repeat to reach the target", 30*time.Second, func() bool {
		return status(target).AlertCount == before+1
	})
	if got := status(b); got.Phase != workflows.Merged {
		t.Fatalf("after the repeat the merged incident is %s, want merged", got.Phase)
	}

	// It pages nobody again: its page to alice, bundled behind the
	// target's, is withdrawn; carol, its level 2 three seconds on, never
	// hears of it.
	pagesOfB := func() int {
		n := 0
		for _, m := range messagesOf(b) {
			if m.Channel != "chat" || !strings.Contains(m.Text, "Merged into") {
				if m.Person == "carol" || (m.Person == "alice" && m.At.After(mergedAt)) {
					n++
				}
			}
		}
		return n
	}
	for until := time.Now().Add(8 * time.Second); time.Now().Before(until); {
		if n := pagesOfB(); n > 0 {
			t.Fatalf("%d page(s) for %s after it was merged: %+v", n, b, messagesOf(b))
		}
		<-time.After(200 * time.Millisecond) // poll interval
	}

	// Typed in its own war room, /sitrep merge needs no incident ID.
	var room string
	waitFor(t, "the third incident's war room", 30*time.Second, func() bool {
		room = ""
		if w := status(cID).WarRoom; w != nil {
			room = w.Channel
		}
		return room != ""
	})
	var answer string
	waitFor(t, "/sitrep merge from the room", 20*time.Second, func() bool {
		answer = slash(room, "merge --into "+target+" same failover", "M1")
		return !strings.Contains(answer, "not the war room")
	})
	if !strings.HasPrefix(answer, cID+" is merged into "+target) {
		t.Fatalf("/sitrep merge in the room: %q", answer)
	}
	if got := status(cID); got.Phase != workflows.Merged || got.MergedInto != target || got.MergedBy != "alice" {
		t.Fatalf("merged from the room: phase %s, into %q by %q", got.Phase, got.MergedInto, got.MergedBy)
	}

	// Refusals, each naming the problem, changing nothing.
	_, d := open("checkout refunds stuck")
	if got := slash("C0GENERAL", d+" merge --into "+b, "M2"); !strings.Contains(got, "itself merged into "+target) {
		t.Errorf("/sitrep merge into a merged incident: %q\nD %+v\nB %+v", got, status(d).Timeline, status(b).Timeline)
	}
	if _, errs, code := c.run("merge", d, "--into", d, "--by", "alice"); code != 2 || !strings.Contains(errs, "into itself") {
		t.Errorf("merge into itself: exit %d, %q", code, errs)
	}
	if _, errs, code := c.run("resolve", target, "--by", "alice"); code != 0 {
		t.Fatalf("resolve the target: %s", errs)
	}
	if _, errs, code := c.run("merge", d, "--into", target, "--by", "alice"); code != 4 || !strings.Contains(errs, "already resolved") {
		t.Errorf("merge into a resolved incident: exit %d, %q", code, errs)
	}
	if got := status(d); got.Phase == workflows.Merged || got.MergedInto != "" {
		t.Errorf("a refused merge changed %s: phase %s, merged into %q", d, got.Phase, got.MergedInto)
	}
	if _, errs, code := c.run("resolve", d, "--by", "alice"); code != 0 {
		t.Fatalf("resolve: %s", errs)
	}
	if _, errs, code := c.run("merge", d, "--into", cID, "--by", "alice"); code != 4 || !strings.Contains(errs, "resolved") {
		t.Errorf("merge of a resolved incident: exit %d, %q", code, errs)
	}
}
