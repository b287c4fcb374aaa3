package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/acklink"
	"github.com/sitrep-dev/sitrep/integrations/inbox"
	"github.com/sitrep-dev/sitrep/integrations/sendgrid"
	"github.com/sitrep-dev/sitrep/integrations/twilio"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/worker"
	"github.com/sitrep-dev/sitrep/workflows"
)

// e2eCatalog pages in seconds so the end-to-end tests run in real time:
// level 1 is the rotation (alice this week), level 2 is carol, 3s apart.
const e2eCatalog = `
catch_all: pay
people:
  - handle: alice
    contacts: [{sms: "+15550100001"}, {chat: U0001}, {email: alice@example.com}]
  - handle: bob
    contacts: [{sms: "+15550100002"}, {email: bob@example.com}]
  - handle: carol
    contacts: [{sms: "+15550100003"}, {email: carol@example.com}]
  - handle: frank
    contacts: [{email: frank@example.com}]
rotations:
  - name: primary
    members: [alice]
    shift: weekly
    handoff_time: "09:00"
    timezone: UTC
    start: 2026-01-05
teams:
  - name: pay
    rotation: primary
    policy: pay-policy
    members: [alice, bob, carol]
services:
  - name: checkout
    team: pay
    tier: 1
escalation_policies:
  - name: pay-policy
    levels:
      - targets: [{rotation: primary}]
        delay: 3s
      - targets: [{person: carol}]
        delay: 3s
    repeat: 0
    fallback: frank
severities:
  SEV1:
    channels: {1: [sms, chat], 2: [sms], 3: [sms]}
    update_cadence: 30m
  SEV2:
    channels: {1: [sms], 2: [sms], 3: [sms]}
    update_cadence: 1h
  SEV3:
    channels: {1: [email], 2: [email], 3: [email]}
    update_cadence: 4h
  SEV4:
    channels: {1: [email], 2: [email], 3: [email]}
    update_cadence: none
`

// temporalBin finds the pinned Temporal CLI that `make build` and `make
// test` build. Without it the end-to-end tests fail: a suite that skips
// itself passes in CI having tested nothing. Only `go test -short`, outside
// CI, skips them, and says so.
func temporalBin(t testing.TB) string {
	t.Helper()
	p := os.Getenv("SITREP_TEMPORAL_BIN")
	if p == "" {
		p = repoFile("bin/temporal")
	}
	if _, err := os.Stat(p); err != nil {
		if testing.Short() && os.Getenv("CI") == "" {
			t.Skipf("-short: end-to-end test skipped, no Temporal CLI at %s", p)
		}
		t.Fatalf("no Temporal CLI at %s (SITREP_TEMPORAL_BIN): run `make build`, which builds it: %v", p, err)
	}
	return p
}

func e2eStack(t *testing.T, noWorker bool) (*stack, *catalog.Catalog) {
	t.Helper()
	cat, err := catalog.Parse("e2e.yaml", []byte(e2eCatalog))
	if err != nil {
		t.Fatal(err)
	}
	return startE2E(t, stackOptions{Catalog: cat, NoWorker: noWorker}), cat
}

// startE2E starts the stack o describes on the pinned CLI and stops it when
// the test ends.
func startE2E(t *testing.T, o stackOptions) *stack {
	t.Helper()
	o.TemporalBin = temporalBin(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := startStack(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// cli runs sitrep in-process against the stack, as a user would from a shell.
type cli struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T, s *stack) *cli {
	return &cli{t: t, env: map[string]string{"TEMPORAL_ADDRESS": s.Server.FrontendHostPort(), "TEMPORAL_NAMESPACE": "default"}}
}

func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	d := newDeps()
	d.In, d.Out, d.Err = strings.NewReader(""), &out, &errb
	d.Getenv = func(k string) string { return c.env[k] }
	d.Environ = func() []string { return nil }
	code = run(args, d)
	return out.String(), errb.String(), code
}

func (c *cli) mustJSON(v any, args ...string) {
	c.t.Helper()
	out, errs, code := c.run(append(args, "-o", "json")...)
	if code != 0 {
		c.t.Fatalf("sitrep %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("sitrep %s: %v in %q", strings.Join(args, " "), err, out)
	}
}

// readInbox reads the sandbox's inbox API, as a script would.
func readInbox(t *testing.T, s *stack) []inbox.Message {
	t.Helper()
	resp, err := http.Get(s.SandboxURL + "/api/messages")
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

// waitInbox polls the inbox until pred holds, for up to 30s.
func waitInbox(t *testing.T, s *stack, what string, pred func([]inbox.Message) bool) []inbox.Message {
	t.Helper()
	return waitInboxFor(t, s, what, 30*time.Second, pred)
}

// waitInboxFor polls the inbox until pred holds, for up to timeout.
func waitInboxFor(t *testing.T, s *stack, what string, timeout time.Duration, pred func([]inbox.Message) bool) []inbox.Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := readInbox(t, s)
		if pred(msgs) {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; inbox: %+v", timeout, what, msgs)
		}
		<-time.After(100 * time.Millisecond) // poll interval, not a wait for the result
	}
}

// quietInbox watches the inbox until until and fails as soon as it holds
// other than want messages: something that must not happen is watched for
// the whole time it would happen in, not looked for once.
func quietInbox(t *testing.T, s *stack, what string, until time.Time, want int) {
	t.Helper()
	for {
		if msgs := readInbox(t, s); len(msgs) != want {
			t.Fatalf("%s: %d messages in the inbox, want %d: %+v", what, len(msgs), want, msgs)
		}
		if time.Now().After(until) {
			return
		}
		<-time.After(100 * time.Millisecond) // poll interval
	}
}

func to(msgs []inbox.Message, person string) []inbox.Message {
	var out []inbox.Message
	for _, m := range msgs {
		if m.Person == person {
			out = append(out, m)
		}
	}
	return out
}

func TestEndToEndAlertPageAckResolve(t *testing.T) {
	t.Parallel()
	s, _ := e2eStack(t, false)
	c := newCLI(t, s)

	var r starter.Receipt
	c.mustJSON(&r, "alert", "--service", "checkout", "--severity", "SEV1", "--summary", "checkout error rate 12%")
	if !r.Opened || !strings.HasPrefix(r.IncidentID, "inc-checkout-") {
		t.Fatalf("first alert: %+v, want a new inc-checkout-… incident", r)
	}
	out, _, code := c.run("alert", "--service", "checkout", "--severity", "SEV1", "--summary", "checkout error rate 12%")
	if code != 0 || out != "folded into "+r.IncidentID+"\n" {
		t.Fatalf("repeat alert: exit %d, %q", code, out)
	}

	// Level 1: alice, on sms and chat, in the sandbox with the incident's ID.
	msgs := waitInbox(t, s, "level 1 pages to alice", func(m []inbox.Message) bool { return len(to(m, "alice")) == 2 })
	for _, m := range to(msgs, "alice") {
		if m.Incident != r.IncidentID || !strings.Contains(m.Text, "checkout error rate 12%") {
			t.Fatalf("page to alice: %+v", m)
		}
	}
	// Level 2 after 3s: carol. Unanswered, the policy would run out 3s
	// after her page and tell frank, the fallback contact.
	msgs = waitInbox(t, s, "level 2 page to carol", func(m []inbox.Message) bool { return len(to(m, "carol")) == 1 })
	exhausts := to(msgs, "carol")[0].At.Add(3 * time.Second)

	_, errs, code := c.run("ack", r.IncidentID, "--as", "nobody")
	if code != exitRejected || !strings.Contains(errs, `"nobody" is not a responder for checkout`) {
		t.Fatalf("ack by unknown person: exit %d, %q", code, errs)
	}
	out, errs, code = c.run("ack", r.IncidentID, "--as", "carol")
	if code != 0 || !strings.HasPrefix(out, "acknowledged "+r.IncidentID+" as carol") {
		t.Fatalf("ack: exit %d, %q %q", code, out, errs)
	}
	_, errs, code = c.run("ack", r.IncidentID, "--as", "bob")
	if code != exitRejected || !strings.Contains(errs, "already acknowledged by carol") {
		t.Fatalf("second ack: exit %d, %q", code, errs)
	}

	// Nobody is paged after the acknowledgment: the inbox is watched until
	// well past the moment frank would have been told.
	quietInbox(t, s, "after the acknowledgment", exhausts.Add(5*time.Second), 3)

	var st workflows.IncidentState
	c.mustJSON(&st, "status", r.IncidentID)
	if st.Phase != workflows.Acknowledged || st.AcknowledgedBy != "carol" || st.AlertCount != 2 || st.Source != workflows.Monitoring {
		t.Fatalf("status: phase %s ackedBy %q alerts %d source %s", st.Phase, st.AcknowledgedBy, st.AlertCount, st.Source)
	}
	var paged []string
	for _, p := range st.Pages {
		if p.Outcome != workflows.Delivered || p.ProviderID == "" {
			t.Fatalf("page not delivered: %+v", p)
		}
		paged = append(paged, p.Person+"/"+string(p.Channel))
	}
	slices.Sort(paged)
	if want := []string{"alice/chat", "alice/sms", "carol/sms"}; !slices.Equal(paged, want) {
		t.Fatalf("status pages %v, want %v", paged, want)
	}

	out, errs, code = c.run("resolve", r.IncidentID, "--by", "carol")
	if code != 0 || !strings.Contains(out, "is resolved") {
		t.Fatalf("resolve: exit %d %q %q", code, out, errs)
	}
	c.mustJSON(&st, "status", r.IncidentID)
	if st.Phase != workflows.Resolved || st.ResolvedAt == nil {
		t.Fatalf("after resolve: phase %s", st.Phase)
	}
	if n := len(readInbox(t, s)); n != 3 {
		t.Fatalf("%d messages in the inbox after the resolution, want 3", n)
	}

	// The list reads visibility, which catches up a moment later.
	deadline := time.Now().Add(15 * time.Second)
	for {
		var rows []starter.Listed
		c.mustJSON(&rows, "list", "--service", "checkout")
		if len(rows) == 1 && rows[0].ID == r.IncidentID && rows[0].Phase == "resolved" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("list: %+v", rows)
		}
		<-time.After(200 * time.Millisecond)
	}

	// A repeat after resolution is a new incident under the same ID.
	c.mustJSON(&r, "alert", "--service", "checkout", "--severity", "SEV1", "--summary", "checkout error rate 12%")
	if !r.Opened {
		t.Fatal("alert after resolution folded into the closed incident")
	}
}

func TestEndToEndErrors(t *testing.T) {
	t.Parallel()
	s, _ := e2eStack(t, false)
	c := newCLI(t, s)
	_, errs, code := c.run("status", "inc-nope-00000000")
	if code != exitNotFound {
		t.Fatalf("status of unknown incident: exit %d %q", code, errs)
	}
	_, errs, code = c.run("alert", "--service", "checkout", "--severity", "SEV9", "--summary", "x")
	if code != exitUsage || !strings.Contains(errs, `severity "SEV9"`) {
		t.Fatalf("bad severity: exit %d %q", code, errs)
	}
	c.env["TEMPORAL_ADDRESS"] = "127.0.0.1:1"
	_, errs, code = c.run("status", "inc-nope-00000000", "--timeout", "2s")
	if code != exitUnavailable {
		t.Fatalf("unreachable server: exit %d %q", code, errs)
	}
}

// workerProcess builds sitrep and returns how to start `sitrep worker` as a
// process of its own on catYAML, sending through the stack's sandbox, and
// how to kill one with SIGKILL.
func workerProcess(t *testing.T, s *stack, catYAML string) (start func() *exec.Cmd, kill func(*exec.Cmd)) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sitrep")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	catFile := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(catFile, []byte(catYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	start = func() *exec.Cmd {
		cmd := exec.Command(bin, "worker", "--catalog", catFile)
		env := []string{"TEMPORAL_ADDRESS=" + s.Server.FrontendHostPort(), "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
		for _, k := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_BASE_URL",
			"SLACK_BOT_TOKEN", "SLACK_BASE_URL", "SENDGRID_API_KEY", "SENDGRID_FROM", "SENDGRID_BASE_URL",
			"STATUSPAGE_API_KEY", "STATUSPAGE_PAGE_ID", "STATUSPAGE_BASE_URL"} {
			env = append(env, k+"="+s.Env(k))
		}
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	kill = func(w *exec.Cmd) {
		t.Helper()
		if err := w.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = w.Wait() // killed: the error says so
	}
	return start, kill
}

// TestEndToEndWorkerKilled kills the worker with SIGKILL twice: while level
// 1's wait runs, so its timer fires with no worker; then mid-escalation, as
// level 2's page is at the provider, unanswered. Started again, the worker
// skips no level and loses or doubles no page.
func TestEndToEndWorkerKilled(t *testing.T) {
	t.Parallel()
	const carolSMS = "+15550100003"
	// The sandbox holds carol's SMS, once armed, until whoever sent it hangs up.
	var hold atomic.Bool
	held, dropped := make(chan struct{}, 1), make(chan struct{}, 1)
	holdCarol := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/Messages.json") && hold.Load() {
				body, err := io.ReadAll(r.Body) // all of it: the server notices a hang-up only then
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				if q, _ := url.ParseQuery(string(body)); q.Get("To") == carolSMS && hold.CompareAndSwap(true, false) {
					held <- struct{}{}
					<-r.Context().Done()
					dropped <- struct{}{}
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}
	cat, err := catalog.Parse("e2e.yaml", []byte(e2eCatalog))
	if err != nil {
		t.Fatal(err)
	}
	s := startE2E(t, stackOptions{Catalog: cat, NoWorker: true, SandboxWrap: holdCarol})
	c := newCLI(t, s)
	startWorker, kill := workerProcess(t, s, e2eCatalog)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	w := startWorker()
	var r starter.Receipt
	c.mustJSON(&r, "alert", "--service", "checkout", "--severity", "SEV1", "--summary", "disk full")
	waitInbox(t, s, "level 1 pages", func(m []inbox.Message) bool { return len(to(m, "alice")) == 2 })
	// Kill 1, during level 1's 3s wait, once both pages are on the record.
	deadline := time.Now().Add(15 * time.Second)
	var st workflows.IncidentState
	for {
		c.mustJSON(&st, "status", r.IncidentID)
		if len(st.Pages) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries not recorded: %+v", st.Pages)
		}
		<-time.After(100 * time.Millisecond)
	}
	fired := timersFired(ctx, t, s, r.IncidentID)
	kill(w)
	// The wait ends on the server with no worker running: its timer fires.
	deadline = time.Now().Add(30 * time.Second)
	for timersFired(ctx, t, s, r.IncidentID) == fired {
		if time.Now().After(deadline) {
			t.Fatal("level 1's wait never ended on the server")
		}
		<-time.After(100 * time.Millisecond)
	}

	// Kill 2, mid-escalation: level 2's page to carol is at the provider,
	// which has not answered, when the worker that sent it dies.
	hold.Store(true)
	w = startWorker()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("level 2's page to carol never reached the provider after the restart")
	}
	kill(w)
	select {
	case <-dropped: // the provider never answered, and never accepted it
	case <-time.After(10 * time.Second):
		t.Fatal("the held request outlived the worker that sent it")
	}
	if n := len(to(readInbox(t, s), "carol")); n != 0 {
		t.Fatalf("carol has %d messages though her page died with the worker", n)
	}
	startWorker()

	// Level 2 (carol), then exhaustion: frank, the fallback contact, by
	// email. carol's page is retried once the lost attempt times out.
	msgs := waitInboxFor(t, s, "level 2 and fallback", 2*time.Minute, func(m []inbox.Message) bool {
		return len(to(m, "carol")) == 1 && len(to(m, "frank")) == 1
	})
	if len(to(msgs, "alice")) != 2 || len(msgs) != 4 {
		t.Fatalf("after the restart: %d messages (alice %d), want 4 (alice 2, carol 1, frank 1): %+v", len(msgs), len(to(msgs, "alice")), msgs)
	}
	if m := to(msgs, "carol")[0]; m.Channel != "sms" || m.Incident != r.IncidentID {
		t.Fatalf("carol's page: %+v, want her SMS for %s", m, r.IncidentID)
	}
	c.mustJSON(&st, "status", r.IncidentID)
	if !st.Unacknowledged || st.Phase != workflows.Triggered {
		t.Fatalf("after exhaustion: unacknowledged %v phase %s", st.Unacknowledged, st.Phase)
	}
	var carol []workflows.PageEntry
	for _, p := range st.Pages {
		if p.Person == "carol" {
			carol = append(carol, p)
		}
	}
	if len(carol) != 1 || carol[0].Channel != "sms" || carol[0].Outcome != workflows.Delivered || carol[0].Attempts < 2 {
		t.Fatalf("carol's pages on the record: %+v, want one SMS delivered on a later attempt than the lost one", carol)
	}
}

// timersFired counts the timers that fired in an incident's history.
func timersFired(ctx context.Context, t *testing.T, s *stack, id string) int {
	t.Helper()
	n := 0
	it := s.Client.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_TIMER_FIRED {
			n++
		}
	}
	return n
}

// statusRecorder remembers the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }

// TestEndToEndFlakyProviders pages 20 incidents while SMS and email fail
// 30% of the time with 429s and 5xx: every page is delivered, alone or in
// a bundle, and bob's opted-out number, refused for good, is tried once per
// message (his first page, then each bundle), never again.
func TestEndToEndFlakyProviders(t *testing.T) {
	t.Parallel()
	const incidents = 20
	catYAML := strings.NewReplacer(
		"delay: 3s", "delay: 30m",
		"targets: [{rotation: primary}]", "targets: [{rotation: primary}, {person: bob}]",
		"channels: {1: [sms, chat]", "channels: {1: [sms, email]",
	).Replace(e2eCatalog)
	cat, err := catalog.Parse("flaky.yaml", []byte(catYAML))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	refusedBob := 0
	count := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			h.ServeHTTP(rec, r)
			if strings.HasSuffix(r.URL.Path, "/Messages.json") && r.PostFormValue("To") == "+15550100002" && rec.status == http.StatusBadRequest {
				mu.Lock()
				refusedBob++
				mu.Unlock()
			}
		})
	}
	// Bundles go out a window (a minute) after the first pages, then retry.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := startE2E(t, stackOptions{Catalog: cat, SandboxWrap: count})

	// bob texted STOP: Twilio refuses every SMS to him with 21610, for good.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer hook.Close()
	resp, err := s.Sandbox.Twilio.SendInboundSMS(ctx, hook.URL, "+15550100002", "STOP")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.Sandbox.Twilio.Faults.SetRate(0.3, 1, twilio.RateLimitFault(time.Second), twilio.ProxyErrorFault(http.StatusServiceUnavailable))
	s.Sandbox.SendGrid.Faults.SetRate(0.3, 2, sendgrid.RateLimitFault(time.Now().Add(time.Second)), sendgrid.ProxyErrorFault(http.StatusBadGateway))

	st := starter.New(s.Client)
	var ids []string
	for i := range incidents {
		r, err := st.Alert(ctx, workflows.Alert{Source: workflows.Monitoring, Service: "checkout", Severity: catalog.SEV1,
			Summary: "flaky " + strconv.Itoa(i), Integration: "test"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.IncidentID)
	}
	// Per incident: alice by sms and email, bob by email; bob's sms refused.
	deadline := time.Now().Add(4 * time.Minute)
	for _, id := range ids {
		for {
			state, err := st.Status(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]workflows.Outcome{}
			for _, p := range state.Pages {
				got[p.Person+"/"+string(p.Channel)] = p.Outcome
			}
			want := map[string]workflows.Outcome{"alice/sms": workflows.Delivered, "alice/email": workflows.Delivered,
				"bob/email": workflows.Delivered, "bob/sms": workflows.Failed}
			if maps.Equal(got, want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s pages: %v, want %v", id, got, want)
			}
			<-time.After(200 * time.Millisecond)
		}
	}
	// Retried pages say what went wrong on each earlier try, alone or in a
	// bundle (whose outcome carries its tries into each incident).
	retried := 0
	bobSMS := map[string]bool{} // the SMS messages sitrep sent bob: a page alone, or a bundle
	for _, id := range ids {
		state, err := st.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range state.Pages {
			if p.Person == "bob" && p.Channel == catalog.SMS {
				bobSMS[cmp.Or(p.Bundle, id)] = true
			}
			if p.Outcome != workflows.Delivered {
				continue
			}
			if int(p.Attempts) != len(p.Retries)+1 {
				t.Fatalf("%s %s/%s: %d attempts but %d failures recorded: %v", id, p.Person, p.Channel, p.Attempts, len(p.Retries), p.Retries)
			}
			for _, r := range p.Retries {
				if !strings.Contains(r, "transient") {
					t.Fatalf("retry of %s/%s after a non-transient failure: %q", p.Person, p.Channel, r)
				}
				retried++
			}
		}
	}
	if retried == 0 {
		t.Fatal("30% of requests failed, yet no page records a retry")
	}
	mu.Lock()
	defer mu.Unlock()
	if refusedBob != len(bobSMS) {
		t.Fatalf("bob's refused number was tried %d times for %d messages: a permanent error was retried", refusedBob, len(bobSMS))
	}
}

// intakeStack runs the stack with acknowledge links and the intake, as
// `sitrep dev` does, on free ports.
func intakeStack(t *testing.T, catYAML string) (*stack, string) {
	t.Helper()
	cat, err := catalog.Parse("e2e.yaml", []byte(catYAML))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := "http://" + ln.Addr().String()
	links, err := acklink.New(publicURL, time.Hour, []byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := startStack(ctx, stackOptions{TemporalBin: temporalBin(t), Catalog: cat, PublicURL: publicURL, Links: links})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	stop, err := s.startIntake(ctx, cat, links, ln, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s, publicURL
}

// alertmanagerPayload is an Alertmanager v4 webhook for one alert.
func alertmanagerPayload(status, fingerprint string) string {
	return `{"version":"4","groupKey":"{}:{alertname=\"HighErrorRate\"}","truncatedAlerts":0,"status":"` + status + `",
"receiver":"sitrep","groupLabels":{"alertname":"HighErrorRate"},
"commonLabels":{"alertname":"HighErrorRate","service":"checkout","severity":"critical"},
"commonAnnotations":{"summary":"checkout 5xx above 5%"},"externalURL":"http://alertmanager:9093",
"alerts":[{"status":"` + status + `","labels":{"alertname":"HighErrorRate","service":"checkout","severity":"critical"},
"annotations":{"summary":"checkout 5xx above 5%"},"startsAt":"2026-11-25T04:00:00Z","endsAt":"0001-01-01T00:00:00Z",
"generatorURL":"http://prometheus:9090/graph","fingerprint":"` + fingerprint + `"}]}`
}

func post(t *testing.T, url, key, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body) // a short body fails the caller's assertion
	return resp.StatusCode, string(b)
}

// TestEndToEndIntake: an Alertmanager POST opens an incident that pages
// through the sandbox, an SMS reply acknowledges it, a resolved POST
// mitigates it; forged and bad requests change nothing.
func TestEndToEndIntake(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, publicURL := intakeStack(t, strings.ReplaceAll(e2eCatalog, "delay: 3s", "delay: 10m"))
	am := publicURL + "/v1/alerts/alertmanager"
	amKey := devKeys[starter.IntegrationAlertmanager]

	if code, body := post(t, am, "", alertmanagerPayload("firing", "f00d")); code != http.StatusUnauthorized {
		t.Fatalf("no key: %d %s", code, body)
	}
	if code, body := post(t, am, amKey, `{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"severity":"critical"}}]}`); code != http.StatusBadRequest || !strings.Contains(body, "alerts[0]") {
		t.Fatalf("bad payload: %d %s", code, body)
	}
	code, body := post(t, am, amKey, alertmanagerPayload("firing", "f00d"))
	var res struct {
		Alerts []struct{ ID, Outcome string } `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(body), &res); code != http.StatusOK || err != nil || len(res.Alerts) != 1 || res.Alerts[0].Outcome != "opened" {
		t.Fatalf("firing: %d %s", code, body)
	}
	id := res.Alerts[0].ID
	waitInbox(t, s, "pages to alice", func(m []inbox.Message) bool { return len(to(m, "alice")) == 2 })

	// Only the unauthorised and bad requests came before: one incident.
	// The list reads visibility, which lags: wait until it shows this one.
	st := starter.New(s.Client)
	deadline := time.Now().Add(15 * time.Second)
	for {
		rows, err := st.List(ctx, starter.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(rows, func(l starter.Listed) bool { return l.ID == id }) {
			if len(rows) != 1 {
				t.Fatalf("incidents: %+v, want %s alone", rows, id)
			}
			if rows[0].Summary != "checkout 5xx above 5%" {
				t.Errorf("listed summary %q, want the alert's", rows[0].Summary)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("incidents: %+v, want %s", rows, id)
		}
		<-time.After(200 * time.Millisecond)
	}

	// A forged reply changes nothing.
	form := "From=%2B15550100001&Body=4&MessageSid=SMforged"
	req, _ := http.NewRequest(http.MethodPost, publicURL+"/v1/twilio/sms", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", "Zm9yZ2Vk")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged SMS reply: %d", resp.StatusCode)
	}

	// alice replies "4" with no code: the intake finds her latest page
	// through visibility, which lags a moment behind the page.
	deadline = time.Now().Add(15 * time.Second)
	for {
		if ps, err := st.PagingFor(ctx, "alice"); err == nil && len(ps) == 1 && ps[0].IncidentID == id {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("visibility never showed alice's page")
		}
		<-time.After(200 * time.Millisecond)
	}
	resp, err = s.Sandbox.Twilio.SendInboundSMS(ctx, publicURL+"/v1/twilio/sms", "+15550100001", "4")
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(resp.Body) // asserted below
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(reply), "Acknowledged as alice") {
		t.Fatalf("SMS reply: %d %s", resp.StatusCode, reply)
	}
	state, err := st.Status(ctx, id)
	if err != nil || state.AcknowledgedBy != "alice" || state.Phase != workflows.Acknowledged {
		t.Fatalf("after the reply: %v %s %q", err, state.Phase, state.AcknowledgedBy)
	}

	// Alertmanager says it resolved: the incident is mitigated.
	if code, body := post(t, am, amKey, alertmanagerPayload("resolved", "f00d")); code != http.StatusOK || !strings.Contains(body, `"folded"`) {
		t.Fatalf("resolved: %d %s", code, body)
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		state, err = st.Status(ctx, id)
		if err == nil && state.Phase == workflows.Mitigated && state.MitigatedBySource {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after resolved: %v %s", err, state.Phase)
		}
		<-time.After(100 * time.Millisecond)
	}
	// A resolved alert for an incident that never opened opens nothing.
	if code, body := post(t, am, amKey, alertmanagerPayload("resolved", "beef")); code != http.StatusOK || !strings.Contains(body, `"ignored"`) {
		t.Fatalf("resolved without incident: %d %s", code, body)
	}
}

// TestEndToEndEveryAcknowledgmentPath acknowledges one incident per channel
// through the sandbox's buttons, each signed as its provider signs, through
// the real intake: chat button, voice keypress, PagerDuty, signed link.
// Bundling is off: each incident's page goes out alone, as the first page
// to a quiet person does.
func TestEndToEndEveryAcknowledgmentPath(t *testing.T) {
	t.Parallel()
	catYAML := strings.NewReplacer(
		"catch_all: pay\n", "catch_all: pay\nbundle_window: none\n",
		"delay: 3s", "delay: 30m",
		`contacts: [{sms: "+15550100001"}, {chat: U0001}, {email: alice@example.com}]`,
		`contacts: [{sms: "+15550100001"}, {voice: "+15550100001"}, {chat: U0001}, {email: alice@example.com}, {pagerduty: 0123456789abcdef0123456789abcdef}]`,
		"channels: {1: [sms, chat]", "channels: {1: [sms, voice, chat, pagerduty]",
	).Replace(e2eCatalog)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, _ := intakeStack(t, catYAML)
	st := starter.New(s.Client)

	for _, tt := range []struct{ channel, do, via string }{
		{"chat", "slack:ack", "slack"},
		{"voice", "voice:4", "voice"},
		{"pagerduty", "pagerduty:incident.acknowledged", "pagerduty"},
		{"sms", "link", "link"},
	} {
		t.Run(tt.via, func(t *testing.T) {
			r, err := st.Alert(ctx, workflows.Alert{Source: workflows.Monitoring, Service: "checkout", Severity: catalog.SEV1,
				Summary: "ack via " + tt.via, Integration: "test"})
			if err != nil {
				t.Fatal(err)
			}
			msgs := waitInbox(t, s, tt.channel+" page", func(m []inbox.Message) bool {
				for _, x := range m {
					if x.Incident == r.IncidentID && x.Channel == tt.channel {
						return true
					}
				}
				return false
			})
			var msg inbox.Message
			for _, x := range msgs {
				if x.Incident == r.IncidentID && x.Channel == tt.channel {
					msg = x
				}
			}
			if tt.do == "link" {
				// The signed link: GET only shows, POST acts.
				link := ""
				for _, l := range msg.Links {
					if strings.Contains(l.URL, "/ack/") {
						link = l.URL
					}
				}
				if link == "" {
					t.Fatalf("no acknowledge link in %+v", msg)
				}
				resp, err := http.Get(link)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				state, err := st.Status(ctx, r.IncidentID)
				if err != nil {
					t.Fatalf("status after GET of the link: %v", err)
				}
				if state.AcknowledgedBy != "" || state.Phase != workflows.Triggered {
					t.Fatalf("GET of the link acknowledged (by %q, %s): mail scanners would", state.AcknowledgedBy, state.Phase)
				}
				resp, err = http.PostForm(link, url.Values{"action": {"ack"}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			} else {
				client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				resp, err := client.PostForm(s.SandboxURL+"/sandbox/act", url.Values{"id": {msg.ID}, "do": {tt.do}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if loc := resp.Header.Get("Location"); !strings.Contains(loc, "intake+answered+20") {
					t.Fatalf("the intake did not take it: %s", loc)
				}
			}
			state, err := st.Status(ctx, r.IncidentID)
			if err != nil || state.AcknowledgedBy != "alice" {
				t.Fatalf("after %s: %v, acknowledged by %q", tt.via, err, state.AcknowledgedBy)
			}
			// The acknowledgment, then what it starts (the notice, the war room).
			i := slices.IndexFunc(state.Timeline, func(e workflows.Event) bool { return e.Kind == "acknowledged" })
			if i < 0 || !strings.Contains(state.Timeline[i].Text, tt.via) {
				t.Fatalf("timeline %+v, want an acknowledgment via %s", state.Timeline, tt.via)
			}
		})
	}
}

// TestEndToEndEncryptedHistory: with SITREP_CODEC_KEYS, what reaches
// Temporal is ciphertext; sitrep, holding the key, reads it all.
func TestEndToEndEncryptedHistory(t *testing.T) {
	t.Parallel()
	cat, err := catalog.Parse("e2e.yaml", []byte(e2eCatalog))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := worker.NewCodec(strings.Repeat("c", 32))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := startStack(ctx, stackOptions{TemporalBin: temporalBin(t), Catalog: cat, Codec: codec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	const secret = "reported by jane.doe@customer.example, +4930123456"
	st := starter.New(s.Client)
	r, err := st.Alert(ctx, workflows.Alert{Source: workflows.External, Service: "checkout", Severity: catalog.SEV1,
		Summary: secret, Reporter: "support desk", Integration: "test"})
	if err != nil {
		t.Fatal(err)
	}
	waitInbox(t, s, "pages to alice", func(m []inbox.Message) bool { return len(to(m, "alice")) == 2 })
	if _, err := st.Acknowledge(ctx, r.IncidentID, "", workflows.AckRequest{Person: "alice", Channel: "test"}); err != nil {
		t.Fatal(err)
	}
	state, err := st.Status(ctx, r.IncidentID)
	if err != nil || state.Summary != secret || state.AcknowledgedBy != "alice" {
		t.Fatalf("status with the key: %v %q %q", err, state.Summary, state.AcknowledgedBy)
	}

	// Without the key: the history as Temporal stores it.
	raw, err := client.Dial(client.Options{HostPort: s.Server.FrontendHostPort(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	it := raw.GetWorkflowHistory(ctx, r.IncidentID, "", false, 0)
	events := 0
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		events++
		// The text format prints payload bytes as escaped strings: plaintext shows.
		b, err := prototext.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{"jane.doe", "4930123456", "support desk"} {
			if strings.Contains(string(b), leak) {
				t.Fatalf("event %d (%s) holds %q in the clear", ev.GetEventId(), ev.GetEventType(), leak)
			}
		}
	}
	if events < 5 {
		t.Fatalf("only %d events read", events)
	}
}

// TestEndToEndPageWaitsForWorker: the incident opens and schedules its pages
// while no activity worker runs for 5 minutes (a worker for workflows and
// local activities only); then the full worker starts. Waiting for a worker
// is not a provider's failure: each page goes out late on the channel it was
// meant for, is recorded delivered, and neither the person's next channel
// nor the next level is used because of the wait.
func TestEndToEndPageWaitsForWorker(t *testing.T) {
	t.Parallel()
	const outage = 5 * time.Minute
	began := time.Now()
	// Levels 30 minutes apart: only the wait for a worker could move paging on.
	cat, err := catalog.Parse("e2e.yaml", []byte(strings.ReplaceAll(e2eCatalog, "delay: 3s", "delay: 30m")))
	if err != nil {
		t.Fatal(err)
	}
	o := stackOptions{Catalog: cat, NoWorker: true}
	s := startE2E(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), outage+3*time.Minute)
	defer cancel()

	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	// What the worker registers, polled for workflow tasks and run as local
	// activities only: routing, on-call lookup and bundling claims happen,
	// deliveries queue.
	wfOnly := sdkworker.New(s.Client, workflows.TaskQueue, sdkworker.Options{LocalActivityWorkerOnly: true})
	workflows.Register(wfOnly)
	wfOnly.RegisterActivity(&activities.Activities{Catalog: activities.StaticCatalog{C: cat}, Templates: tmpl, Pagers: starter.New(s.Client)})
	if err := wfOnly.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			wfOnly.Stop()
		}
	}()

	st := starter.New(s.Client)
	r, err := st.Alert(ctx, workflows.Alert{Source: workflows.Monitoring, Service: "checkout", Severity: catalog.SEV1,
		Summary: "checkout down while the workers are", Integration: "test"})
	if err != nil {
		t.Fatal(err)
	}
	alerted := time.Now()
	// The pages are scheduled and wait in the task queue.
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := s.Client.DescribeWorkflowExecution(ctx, r.IncidentID, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(d.GetPendingActivities()) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the incident scheduled no page")
		}
		<-time.After(200 * time.Millisecond)
	}
	outageEnds := time.Now().Add(outage)

	// bad reports what the record must not show: while no activity worker
	// runs, nothing is delivered, failed or moved on.
	bad := func(state workflows.IncidentState, delivered bool) string {
		for _, p := range state.Pages {
			if p.Outcome != workflows.Delivered || !delivered {
				return fmt.Sprintf("page %s/%s recorded %s (%s)", p.Person, p.Channel, p.Outcome, p.Error)
			}
		}
		for _, e := range state.Timeline {
			switch e.Kind {
			case "page.failed", "page.fallback", "escalated", "exhausted":
				return fmt.Sprintf("timeline: %s: %s", e.Kind, e.Text)
			}
		}
		return ""
	}
	for time.Now().Before(outageEnds) {
		state, err := st.Status(ctx, r.IncidentID)
		if err != nil {
			t.Fatal(err)
		}
		if why := bad(state, false); why != "" {
			t.Fatalf("%s after %s with no activity worker: waiting for a worker is not a failure", why, time.Since(began).Round(time.Second))
		}
		if n := len(readInbox(t, s)); n != 0 {
			t.Fatalf("%d messages sent with no activity worker running", n)
		}
		<-time.After(2 * time.Second) // poll interval
	}

	wfOnly.Stop()
	stopped = true
	back := time.Now()
	if err := s.StartWorker(o); err != nil {
		t.Fatal(err)
	}
	// alice's pages go out, late, on the channels they were meant for.
	msgs := waitInbox(t, s, "alice's late pages", func(m []inbox.Message) bool { return len(to(m, "alice")) == 2 })
	var state workflows.IncidentState
	deadline = time.Now().Add(30 * time.Second)
	for {
		state, err = st.Status(ctx, r.IncidentID)
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.Client.DescribeWorkflowExecution(ctx, r.IncidentID, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(state.Pages) >= 2 && len(d.GetPendingActivities()) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pages on the record %+v, %d still pending", state.Pages, len(d.GetPendingActivities()))
		}
		<-time.After(200 * time.Millisecond)
	}
	if why := bad(state, true); why != "" {
		t.Fatal(why)
	}
	var got []string
	for _, p := range state.Pages {
		got = append(got, p.Person+"/"+string(p.Channel))
		if p.At.Before(back) {
			t.Errorf("%s/%s recorded at %s, before any activity worker ran (%s)", p.Person, p.Channel, p.At, back)
		}
	}
	slices.Sort(got)
	if want := []string{"alice/chat", "alice/sms"}; !slices.Equal(got, want) {
		t.Fatalf("pages on the record %v, want %v", got, want)
	}
	if msgs = readInbox(t, s); len(msgs) != 2 {
		t.Fatalf("%d messages, want alice's 2 (sms, chat): %+v", len(msgs), msgs)
	}
	for _, m := range msgs {
		if m.Person != "alice" || (m.Channel != "sms" && m.Channel != "chat") || m.Incident != r.IncidentID {
			t.Fatalf("message %+v, want alice's sms or chat page for %s", m, r.IncidentID)
		}
	}
	t.Logf("alice paged %s after the alert, on the channels meant; test wall time %s",
		msgs[0].At.Sub(alerted).Round(time.Second), time.Since(began).Round(time.Second))
}

// TestEndToEndBundle: three incidents on checkout within a second page alice
// once per channel at once, for the first; the other two wait out the
// window and reach her as one bundle per channel, which each incident
// records; one answer to a bundle acknowledges both: a bare SMS reply "4",
// key 4 on the call, the chat button, the link.
func TestEndToEndBundle(t *testing.T) {
	t.Parallel()
	catYAML := strings.NewReplacer(
		"delay: 3s", "delay: 30m",
		`contacts: [{sms: "+15550100001"}, {chat: U0001}, {email: alice@example.com}]`,
		`contacts: [{sms: "+15550100001"}, {voice: "+15550100001"}, {chat: U0001}, {email: alice@example.com}]`,
		"channels: {1: [sms, chat]", "channels: {1: [sms, voice, chat]",
	).Replace(e2eCatalog)
	for _, tt := range []struct{ via, channel, do string }{
		{"sms", "sms", "bare reply"},
		{"voice", "voice", "voice:4"},
		{"slack", "chat", "slack:ack"},
		{"link", "sms", "link"},
	} {
		t.Run(tt.via, func(t *testing.T) {
			t.Parallel()
			testBundle(t, catYAML, tt.via, tt.channel, tt.do)
		})
	}
}

func testBundle(t *testing.T, catYAML, via, channel, do string) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s, publicURL := intakeStack(t, catYAML)
	st := starter.New(s.Client)
	var ids []string
	for i := range 3 {
		r, err := st.Alert(ctx, workflows.Alert{Source: workflows.Monitoring, Service: "checkout", Severity: catalog.SEV1,
			Summary: "bundle " + strconv.Itoa(i), Integration: "test"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.IncidentID)
	}
	// The first page to a quiet person goes out at once, on each channel.
	msgs := waitInbox(t, s, "alice's first pages", func(m []inbox.Message) bool { return len(to(m, "alice")) == 3 })
	first := msgs[0].Incident
	for _, m := range msgs {
		if m.Incident != first || !slices.Contains(ids, first) {
			t.Fatalf("first pages: %+v, want one incident's sms, call and chat", msgs)
		}
	}
	bundled := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == first })
	// Nothing more until the window (a minute) has passed.
	quietInbox(t, s, "within the bundling window", msgs[0].At.Add(55*time.Second), 3)
	msgs = waitInboxFor(t, s, "the bundles", 90*time.Second, func(m []inbox.Message) bool { return len(m) >= 6 })
	quietInbox(t, s, "after the bundles", time.Now().Add(2*time.Second), 6)
	slices.SortFunc(msgs, func(a, b inbox.Message) int { return a.At.Compare(b.At) }) // the inbox lists newest first
	var answer inbox.Message                                                          // the bundle answered
	for _, m := range msgs[3:] {
		// A call says how many; the text names each incident.
		named := m.Channel == "voice" || strings.Contains(m.Text, bundled[0]) && strings.Contains(m.Text, bundled[1])
		if m.Person != "alice" || !strings.Contains(m.Text, "2 more incidents on checkout") || !named || strings.Contains(m.Text, first) {
			t.Fatalf("bundle %+v, want alice told of %v only", m, bundled)
		}
		if m.Channel == channel {
			answer = m
		}
	}
	if answer.ID == "" {
		t.Fatalf("no bundle on %s: %+v", channel, msgs[3:])
	}
	// Each incident records its page, delivered, in the bundle.
	bundleOf := map[catalog.Channel]string{}
	for _, id := range bundled {
		state, err := st.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(state.Pages) != 3 {
			t.Fatalf("%s pages %+v, want alice's sms, call and chat", id, state.Pages)
		}
		for _, p := range state.Pages {
			if p.Person != "alice" || p.Outcome != workflows.Delivered || p.Bundle == "" {
				t.Fatalf("%s page %+v, want alice's, delivered in a bundle", id, p)
			}
			if b, ok := bundleOf[p.Channel]; ok && b != p.Bundle {
				t.Fatalf("%s went in bundle %s on %s, the other in %s", id, p.Bundle, p.Channel, b)
			}
			bundleOf[p.Channel] = p.Bundle
		}
	}

	// alice acknowledges the first incident by its code, then answers the bundle.
	if _, err := st.Acknowledge(ctx, first, "", workflows.AckRequest{Person: "alice", Channel: "test"}); err != nil {
		t.Fatal(err)
	}
	switch do {
	case "bare reply":
		if !strings.Contains(answer.Text, "Reply 4 to acknowledge all 2") {
			t.Fatalf("the bundle SMS does not say how to acknowledge both: %q", answer.Text)
		}
		// What still pages her came in one message, the bundle: visibility
		// shows it a moment after the acknowledgment.
		deadline := time.Now().Add(15 * time.Second)
		for {
			ps, err := st.PagingFor(ctx, "alice")
			if err == nil && len(ps) == 2 && ps[0].Message == ps[1].Message {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("visibility never showed the bundle paging alice alone: %+v %v", ps, err)
			}
			<-time.After(200 * time.Millisecond)
		}
		resp, err := s.Sandbox.Twilio.SendInboundSMS(ctx, publicURL+"/v1/twilio/sms", "+15550100001", "4")
		if err != nil {
			t.Fatal(err)
		}
		reply, _ := io.ReadAll(resp.Body) // asserted below
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(reply), "Acknowledged") {
			t.Fatalf("bare reply to the bundle: %d %s", resp.StatusCode, reply)
		}
	case "link":
		link := ""
		for _, l := range answer.Links {
			if strings.Contains(l.URL, "/ack/") {
				link = l.URL
			}
		}
		if link == "" || !strings.Contains(answer.Text, "Acknowledge all: "+link) {
			t.Fatalf("no acknowledge-all link in the bundle: %+v", answer)
		}
		resp, err := http.PostForm(link, url.Values{"action": {"ack"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST of the bundle's link: %d", resp.StatusCode)
		}
	default:
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.PostForm(s.SandboxURL+"/sandbox/act", url.Values{"id": {answer.ID}, "do": {do}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, "intake+answered+20") {
			t.Fatalf("the intake did not take the answer to the bundle: %s", loc)
		}
	}
	for _, id := range bundled {
		state, err := st.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if state.Phase != workflows.Acknowledged || state.AcknowledgedBy != "alice" {
			t.Fatalf("%s after the answer to its bundle via %s: %s by %q", id, via, state.Phase, state.AcknowledgedBy)
		}
	}
	if n := len(readInbox(t, s)); n != 6 {
		t.Fatalf("%d messages after the acknowledgments, want 6", n)
	}
}
