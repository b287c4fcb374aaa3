//go:build prod

package topology

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"gopkg.in/yaml.v3"

	"github.com/sitrep-dev/sitrep/integrations/inbox"
	"github.com/sitrep-dev/sitrep/integrations/twilio"
	"github.com/sitrep-dev/sitrep/sandbox"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// topologyServices is how many services the catalog has. Each incident of
// the test goes to a service of its own, paged by people of its own, so
// sitrep's pager-fatigue bundling (one message per person and channel in a
// window) never mixes two incidents' pages.
const topologyServices = 40

// topologyCatalog pages in seconds: for service svc-NN, alice-NN, then
// bob-NN, then carol-NN by SMS; nobody acknowledging tells frank-NN by
// email. Level 1 waits long enough to kill a worker while every incident
// sits in it.
func topologyCatalog() string {
	var people, rotations, teams, services, policies strings.Builder
	for n := range topologyServices {
		for i, who := range []string{"alice", "bob", "carol"} {
			fmt.Fprintf(&people, "  - handle: %s-%02d\n    contacts: [{sms: \"%s\"}]\n", who, n, phone(n, i+1))
		}
		fmt.Fprintf(&people, "  - handle: frank-%02d\n    contacts: [{email: frank-%02d@example.com}]\n", n, n)
		fmt.Fprintf(&rotations, `  - name: rot-%02[1]d
    members: [alice-%02[1]d]
    shift: weekly
    handoff_time: "09:00"
    timezone: UTC
    start: 2026-01-05
`, n)
		fmt.Fprintf(&teams, "  - name: team-%02[1]d\n    rotation: rot-%02[1]d\n    policy: pol-%02[1]d\n    members: [alice-%02[1]d, bob-%02[1]d, carol-%02[1]d]\n", n)
		fmt.Fprintf(&services, "  - name: svc-%02[1]d\n    team: team-%02[1]d\n    tier: 1\n", n)
		fmt.Fprintf(&policies, `  - name: pol-%02[1]d
    levels:
      - targets: [{person: alice-%02[1]d}]
        delay: %[2]s
      - targets: [{person: bob-%02[1]d}]
        delay: 5s
      - targets: [{person: carol-%02[1]d}]
        delay: 5s
    repeat: 0
    fallback: frank-%02[1]d
`, n, level1Delay)
	}
	sev := "    channels: {1: [sms], 2: [sms], 3: [sms]}\n"
	return "catch_all: team-00\npeople:\n" + people.String() + "rotations:\n" + rotations.String() + "teams:\n" + teams.String() +
		"services:\n" + services.String() + "escalation_policies:\n" + policies.String() + "severities:\n" +
		"  SEV1:\n" + sev + "    update_cadence: 30m\n  SEV2:\n" + sev + "    update_cadence: 1h\n" +
		"  SEV3:\n" + sev + "    update_cadence: 4h\n  SEV4:\n" + sev + "    update_cadence: none\n"
}

// phone is person role (1 alice, 2 bob, 3 carol) of service n's number.
func phone(n, role int) string { return fmt.Sprintf("+1555%02d%04d", n, role) }

const intakeKey = "topology-test-generic-key"

// level1Delay is how long the catalog's level 1 waits.
const level1Delay = 15 * time.Second

// cluster is the running topology.
type cluster struct {
	t          *testing.T
	dir        string
	bin        map[string]string
	pg         postgres
	frontend   int
	serverEnv  []string
	server     *proc
	tc         client.Client
	st         *starter.Client
	sb         *sandbox.Sandbox
	sandboxEnv []string
	workers    []*proc
	metrics    []string // each worker's metrics address
	intakes    []string // each intake's base URL
	catalog    string
	compose    composeFile
	services   int            // services handed out so far
	serviceOf  map[string]int // incident ID → its service
}

// composeFile is what the test reads of docker-compose.yml: it runs what
// the compose file deploys.
type composeFile struct {
	Services map[string]struct {
		Command     any               `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
	} `yaml:"services"`
}

func readCompose(t *testing.T) composeFile {
	raw, err := os.ReadFile(filepath.Join(repo, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestProductionTopology runs the production topology and puts it through a
// worker killed with SIGKILL mid-escalation and the Temporal server stopped
// for 30 s, then checks the worker's metrics after a known scenario, the
// logs, and the UI's view of the incidents.
func TestProductionTopology(t *testing.T) {
	bins := need(t, "bin/temporal-server", "bin/temporal-sql-tool", "bin/temporal-ui-server", "bin/temporal", "bin/sitrep",
		"bin/temporal-server.d/config/docker.yaml", "bin/temporal-server.d/schema/postgresql/v12", "bin/temporal-ui.d/config/docker.yaml")
	c := &cluster{t: t, dir: t.TempDir(), bin: map[string]string{}, compose: readCompose(t), serviceOf: map[string]int{}}
	for _, b := range bins {
		c.bin[filepath.Base(b)] = b
	}
	c.bin["temporal-server.d"] = filepath.Join(repo, "bin/temporal-server.d")
	c.bin["temporal-ui.d"] = filepath.Join(repo, "bin/temporal-ui.d")
	began := time.Now()
	step := func(what string, since time.Time) { t.Logf("%-44s %6.1fs", what, time.Since(since).Seconds()) }

	s := time.Now()
	c.pg = startPostgres(t)
	step("postgres up (initdb, pg_ctl)", s)

	s = time.Now()
	c.setupSchema()
	c.setupSchema() // the admin job may run again on every `compose up`: it must be idempotent
	step("schema set up twice (temporal-sql-tool)", s)

	s = time.Now()
	c.startServer()
	c.createNamespace()
	step("server up, namespace and attributes ready", s)

	s = time.Now()
	ui := c.startUI()
	c.startSandbox()
	c.writeCatalog()
	for range 2 {
		c.startWorker()
		c.startIntake()
	}
	c.dial()
	step("UI, 2 workers, 2 intakes ready", s)

	s = time.Now()
	killed := c.scenarioWorkerKilled()
	step("worker killed mid-escalation, all carried on", s)

	s = time.Now()
	c.scenarioServerStopped(killed)
	step("server stopped 30s, alerts retried, paging on", s)

	s = time.Now()
	c.scenarioMetrics(killed)
	step("metrics after a known scenario", s)

	c.checkLogs()
	c.checkReport()
	s = time.Now()
	c.checkUI(ui)
	step("UI lists the incidents (headless chromium)", s)
	step("whole topology test", began)
}

// setupSchema runs the compose file's schema job: its script, with its
// environment but for the database's address.
func (c *cluster) setupSchema() {
	job := c.compose.Services["temporal-schema"]
	if job.Command != "/scripts/setup-postgres.sh" {
		c.t.Fatalf("docker-compose.yml's temporal-schema runs %q, not /scripts/setup-postgres.sh", job.Command)
	}
	env := []string{"SCHEMA_DIR=" + c.bin["temporal-server.d"] + "/schema/postgresql/v12"}
	for k, v := range job.Environment {
		switch k {
		case "POSTGRES_SEEDS":
			v = "127.0.0.1"
		case "DB_PORT", "POSTGRES_PORT":
			v = strconv.Itoa(c.pg.port)
		case "POSTGRES_PWD":
			v = c.pg.password
		}
		env = append(env, k+"="+v)
	}
	run(c.t, env, "sh", filepath.Join(repo, "deploy/scripts/setup-postgres.sh"))
}

// startServer runs the Temporal server with the environment the compose
// file gives the temporalio/server image (read from docker-compose.yml),
// and the same config template; only addresses and ports differ.
func (c *cluster) startServer() {
	c.frontend = freePort(c.t)
	env := map[string]string{}
	for k, v := range c.compose.Services["temporal"].Environment {
		env[k] = v
	}
	for k, v := range map[string]string{
		"DB_PORT": strconv.Itoa(c.pg.port), "POSTGRES_PORT": strconv.Itoa(c.pg.port), "POSTGRES_SEEDS": "127.0.0.1",
		"POSTGRES_PWD": c.pg.password, "BIND_ON_IP": "127.0.0.1",
		"FRONTEND_GRPC_PORT": strconv.Itoa(c.frontend),
	} {
		if _, ok := env[k]; !ok && k != "FRONTEND_GRPC_PORT" {
			c.t.Fatalf("docker-compose.yml's temporal service no longer sets %s: update this test with it", k)
		}
		env[k] = v
	}
	// The compose file mounts deploy/dynamicconfig where this relative path points.
	if got := env["DYNAMIC_CONFIG_FILE_PATH"]; got != "config/dynamicconfig/sitrep.yaml" {
		c.t.Fatalf("docker-compose.yml's DYNAMIC_CONFIG_FILE_PATH is %q", got)
	}
	env["DYNAMIC_CONFIG_FILE_PATH"] = filepath.Join(repo, "deploy/dynamicconfig/sitrep.yaml")
	for _, k := range []string{"FRONTEND_HTTP_PORT", "FRONTEND_MEMBERSHIP_PORT", "HISTORY_GRPC_PORT", "HISTORY_MEMBERSHIP_PORT",
		"MATCHING_GRPC_PORT", "MATCHING_MEMBERSHIP_PORT", "WORKER_GRPC_PORT", "WORKER_MEMBERSHIP_PORT"} {
		env[k] = strconv.Itoa(freePort(c.t))
	}
	for k, v := range env {
		c.serverEnv = append(c.serverEnv, k+"="+v)
	}
	c.runServer()
}

func (c *cluster) runServer() {
	c.server = start(c.t, c.dir, fmt.Sprintf("temporal-server-%d", time.Now().UnixNano()), c.serverEnv,
		c.bin["temporal-server"], "--root", c.bin["temporal-server.d"], "--config", "config", "--env", "docker", "start")
}

func (c *cluster) address() string { return "127.0.0.1:" + strconv.Itoa(c.frontend) }

// createNamespace runs the compose file's setup job: the namespace script,
// with its environment but for the server's address.
func (c *cluster) createNamespace() {
	job := c.compose.Services["temporal-setup"]
	if job.Command != "/scripts/create-namespace.sh" {
		c.t.Fatalf("docker-compose.yml's temporal-setup runs %q, not /scripts/create-namespace.sh", job.Command)
	}
	env := []string{"TEMPORAL_ADDRESS=" + c.address()}
	for k, v := range job.Environment {
		if k != "TEMPORAL_ADDRESS" {
			env = append(env, k+"="+v)
		}
	}
	out := runWhile(c.t, c.server, env, "sh", filepath.Join(repo, "deploy/scripts/create-namespace.sh"))
	if !strings.Contains(out, "search attributes usable") {
		c.t.Fatalf("create-namespace.sh did not finish:\n%s", out)
	}
}

func (c *cluster) startUI() string {
	port := freePort(c.t)
	start(c.t, c.dir, "temporal-ui", []string{"TEMPORAL_ADDRESS=" + c.address(), "TEMPORAL_UI_PORT=" + strconv.Itoa(port),
		"TEMPORAL_CORS_ORIGINS=http://127.0.0.1:" + strconv.Itoa(port), "TEMPORAL_DISABLE_NEWS_FETCH=true"},
		c.bin["temporal-ui-server"], "--root", c.bin["temporal-ui.d"], "--config", "config", "--env", "docker", "start")
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	waitFor(c.t, "UI server answers", 60*time.Second, func() (bool, error) { return httpOK(base + "/api/v1/namespaces/default") })
	return base
}

func (c *cluster) startSandbox() {
	c.sb = sandbox.New(sandbox.Options{IncidentOf: workflows.FindIncidentID})
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(freePort(c.t)))
	if err != nil {
		c.t.Fatal(err)
	}
	srv := &http.Server{Handler: c.sb.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }() // ends with Close
	c.t.Cleanup(func() { _ = srv.Close() })
	base := "http://" + ln.Addr().String()
	env := c.sb.Env(base, nil)
	for _, k := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_BASE_URL",
		"SENDGRID_API_KEY", "SENDGRID_FROM", "SENDGRID_BASE_URL"} {
		c.sandboxEnv = append(c.sandboxEnv, k+"="+env(k))
	}
}

func (c *cluster) writeCatalog() {
	c.catalog = filepath.Join(c.dir, "catalog.yaml")
	if err := os.WriteFile(c.catalog, []byte(topologyCatalog()), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) sitrepEnv() []string {
	return []string{"TEMPORAL_ADDRESS=" + c.address(), "TEMPORAL_NAMESPACE=default", "SITREP_CATALOG=" + c.catalog, "SITREP_LOG_LEVEL=info"}
}

// ready waits for url to answer 200, failing at once if p exits.
func (c *cluster) ready(p *proc, url string) {
	waitFor(c.t, p.name+" ready", 60*time.Second, func() (bool, error) {
		if !p.running() {
			c.t.Fatalf("%s exited: %v\n%s", p.name, p.err, tail(p.log, 20))
		}
		return httpOK(url)
	})
}

func (c *cluster) startWorker() {
	addr := "127.0.0.1:" + strconv.Itoa(freePort(c.t))
	// The compose file's worker command, on a free port.
	argv := []string{c.bin["sitrep"]}
	for _, a := range c.compose.Services["sitrep-worker"].Command.([]any) {
		argv = append(argv, strings.ReplaceAll(fmt.Sprint(a), ":9464", addr))
	}
	if !slices.Equal(argv[1:], []string{"worker", "--metrics-addr", addr}) {
		c.t.Fatalf("docker-compose.yml's worker runs %v: update this test with it", argv[1:])
	}
	w := start(c.t, c.dir, fmt.Sprintf("worker-%d", len(c.workers)+1), append(c.sitrepEnv(), c.sandboxEnv...), argv...)
	c.workers = append(c.workers, w)
	c.metrics = append(c.metrics, addr)
	c.ready(w, "http://"+addr+"/readyz")
}

func (c *cluster) startIntake() {
	if cmd := fmt.Sprint(c.compose.Services["sitrep-intake"].Command); !strings.Contains(cmd, "exec sitrep serve --addr :8080") {
		c.t.Fatalf("docker-compose.yml's intake runs %s: update this test with it", cmd)
	}
	addr := "127.0.0.1:" + strconv.Itoa(freePort(c.t))
	p := start(c.t, c.dir, fmt.Sprintf("intake-%d", len(c.intakes)+1), append(c.sitrepEnv(), "SITREP_INTAKE_KEYS=generic:"+intakeKey),
		c.bin["sitrep"], "serve", "--addr", addr)
	base := "http://" + addr
	c.intakes = append(c.intakes, base)
	c.ready(p, base+"/readyz")
}

func (c *cluster) dial() {
	tc, err := client.Dial(client.Options{HostPort: c.address(), Namespace: "default", Logger: quiet{}})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(tc.Close)
	c.tc, c.st = tc, starter.New(tc)
}

// alert posts a generic alert to an intake and returns the status, the
// Retry-After header and the incident ID when one was recorded.
func (c *cluster) alert(intake string, service int, dedup, summary string) (status int, retryAfter, id string, err error) {
	body, _ := json.Marshal(map[string]any{"service": fmt.Sprintf("svc-%02d", service), "severity": "SEV2", "summary": summary, "dedupKey": dedup})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, intake+"/v1/alerts", bytes.NewReader(body))
	if err != nil {
		return 0, "", "", err
	}
	req.Header.Set("Authorization", "Bearer "+intakeKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var ans struct {
		Alerts []struct{ ID, Outcome string }
	}
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, &ans); err != nil || len(ans.Alerts) != 1 {
			return resp.StatusCode, "", "", fmt.Errorf("answer %s: %v", raw, err)
		}
		id = ans.Alerts[0].ID
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), id, nil
}

// nextService hands out a service no incident has used yet.
func (c *cluster) nextService() int {
	n := c.services
	c.services++
	if n >= topologyServices {
		c.t.Fatalf("more than %d incidents: raise topologyServices", topologyServices)
	}
	return n
}

// mustAlert opens an incident on a fresh service and returns its ID.
func (c *cluster) mustAlert(intake, dedup string) string {
	n := c.nextService()
	status, _, id, err := c.alert(intake, n, dedup, "errors "+dedup)
	if err != nil || status != http.StatusOK || id == "" {
		c.t.Fatalf("alert %s via %s: status %d id %q err %v", dedup, intake, status, id, err)
	}
	c.serviceOf[id] = n
	return id
}

// smsTo lists who got an SMS for incident id, oldest first.
func (c *cluster) smsTo(id string) []string {
	var out []string
	msgs := c.sb.Inbox.List(inbox.Filter{Incident: id, Channel: "sms"})
	slices.SortStableFunc(msgs, func(a, b inbox.Message) int { return a.At.Compare(b.At) })
	for _, m := range msgs {
		out = append(out, who(m.To))
	}
	return out
}

// who names the role behind a number: alice, bob or carol.
func who(number string) string {
	switch {
	case strings.HasSuffix(number, "0001"):
		return "alice"
	case strings.HasSuffix(number, "0002"):
		return "bob"
	case strings.HasSuffix(number, "0003"):
		return "carol"
	}
	return number
}

// pending is how many activities incident id has in flight.
func (c *cluster) pending(id string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := c.tc.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return 0, err
	}
	return len(d.GetPendingActivities()), nil
}

func (c *cluster) status(id string) (workflows.IncidentState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.st.Status(ctx, id)
}

func kinds(st workflows.IncidentState) []string {
	var out []string
	for _, e := range st.Timeline {
		out = append(out, e.Kind)
	}
	return out
}

func count(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

// waitExhausted waits until incident id has paged alice, bob and carol once
// each, in that order, escalated out of each level, run out and told frank.
func (c *cluster) waitExhausted(id string, within time.Duration) {
	c.t.Helper()
	waitFor(c.t, "incident "+id+" paged every level and ran out", within, func() (bool, error) {
		st, err := c.status(id)
		if err != nil {
			return false, err
		}
		k := kinds(st)
		if !st.Unacknowledged || count(k, "exhausted") != 1 {
			return false, fmt.Errorf("timeline %v", k)
		}
		if got := c.smsTo(id); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
			return false, fmt.Errorf("SMS went to %v; want alice, bob, carol once each", got)
		}
		// One escalation out of each level, the last into running out.
		if n, p := count(k, "escalated"), count(k, "paging"); n != 3 || p != 3 {
			return false, fmt.Errorf("%d escalations and %d levels paged in %v; want 3 and 3", n, p, k)
		}
		if got := len(c.sb.Inbox.List(inbox.Filter{Incident: id, Channel: "email"})); got != 1 {
			return false, fmt.Errorf("%d fallback emails; want 1", got)
		}
		return true, nil
	})
	// Nothing more arrives: a duplicate would show up here.
	if got := c.smsTo(id); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
		c.t.Fatalf("incident %s: SMS went to %v", id, got)
	}
}

// scenarioWorkerKilled sends alerts through both intakes, kills one worker
// with SIGKILL while every incident waits at level 1 with no activity in
// flight, and checks the other carries every incident through every level.
func (c *cluster) scenarioWorkerKilled() int {
	t := c.t
	var ids []string
	for i := range 6 {
		ids = append(ids, c.mustAlert(c.intakes[i%2], fmt.Sprintf("kill-%d", i)))
	}
	waitFor(t, "every incident paged alice, nothing in flight", 30*time.Second, func() (bool, error) {
		for _, id := range ids {
			if got := c.smsTo(id); !slices.Equal(got, []string{"alice"}) {
				return false, fmt.Errorf("%s: SMS to %v", id, got)
			}
			if n, err := c.pending(id); err != nil || n > 0 {
				return false, fmt.Errorf("%s: %d activities in flight (%v)", id, n, err)
			}
		}
		return true, nil
	})
	// Mid-escalation: every incident has paged level 1 and none has left it.
	var firstDeadline time.Time
	for _, id := range ids {
		st, err := c.status(id)
		if err != nil {
			t.Fatal(err)
		}
		if k := kinds(st); count(k, "escalated") > 0 {
			t.Fatalf("%s escalated before the kill (%v): the test kills too late", id, k)
		}
		if d := st.FirstSeen.Add(level1Delay); firstDeadline.IsZero() || d.Before(firstDeadline) {
			firstDeadline = d
		}
	}
	killed := 0
	c.workers[killed].kill()
	killedAt := time.Now()
	if !killedAt.Before(firstDeadline) {
		t.Fatalf("killed at %s, after the first escalation was due (%s)", killedAt, firstDeadline)
	}
	t.Logf("worker-1 SIGKILLed %.1fs before the first escalation was due", firstDeadline.Sub(killedAt).Seconds())
	for _, id := range ids {
		c.waitExhausted(id, 90*time.Second)
	}
	t.Logf("worker-1 SIGKILLed; worker-2 took %d incidents through levels 2 and 3 and the fallback in %.1fs",
		len(ids), time.Since(killedAt).Seconds())
	if ok, err := httpOK("http://" + c.metrics[1] + "/readyz"); !ok {
		t.Fatalf("surviving worker not ready: %v", err)
	}
	return killed
}

// scenarioServerStopped stops the Temporal server for 30 s with one incident
// mid-escalation: the intakes answer 503 with Retry-After and never 2xx,
// the worker reports not ready; with the server back every refused alert,
// sent again, is recorded and pages, and the incident left waiting goes on
// through its levels.
func (c *cluster) scenarioServerStopped(killed int) {
	t := c.t
	live := c.metrics[1-killed]
	carried := c.mustAlert(c.intakes[0], "outage-carried")
	waitFor(t, "carried incident paged alice", 30*time.Second, func() (bool, error) {
		n, err := c.pending(carried)
		return len(c.smsTo(carried)) == 1 && n == 0 && err == nil, err
	})

	c.server.stop(30 * time.Second)
	stopped := time.Now()
	type refused struct {
		intake  string
		service int
		dedup   string
	}
	// An alert every 2 s through the outage, each in its own request: each
	// waits out the intake's own Temporal timeout before its answer.
	type answer struct {
		refused
		status     int
		retryAfter string
		err        error
	}
	answers := make(chan answer, 64)
	sent := 0
	sawNotReady := false
	for i := 0; time.Since(stopped) < 30*time.Second; i++ {
		r := refused{c.intakes[i%2], c.nextService(), fmt.Sprintf("outage-%d", i)}
		sent++
		go func() {
			status, retryAfter, _, err := c.alert(r.intake, r.service, r.dedup, "errors during the outage "+r.dedup)
			answers <- answer{r, status, retryAfter, err}
		}()
		if ok, _ := httpOK("http://" + live + "/readyz"); !ok {
			sawNotReady = true
		}
		time.Sleep(2 * time.Second)
	}
	var rejected []refused
	for range sent {
		a := <-answers
		switch {
		case a.err != nil:
			t.Fatalf("intake %s during the outage: %v", a.intake, a.err)
		case a.status/100 == 2:
			t.Fatalf("intake %s answered %d for %s with Temporal down: an alert it cannot have recorded", a.intake, a.status, a.dedup)
		case a.status != http.StatusServiceUnavailable || a.retryAfter == "":
			t.Fatalf("intake %s answered %d Retry-After %q with Temporal down; want 503 and Retry-After", a.intake, a.status, a.retryAfter)
		}
		rejected = append(rejected, a.refused)
	}
	if len(rejected) < 10 {
		t.Fatalf("only %d alerts tried during the 30 s outage", len(rejected))
	}
	if !sawNotReady {
		t.Fatal("the worker's /readyz never said it was not ready while Temporal was down")
	}
	c.runServer()
	t.Logf("server stopped for %.1fs; %d alerts answered 503 with Retry-After, none 2xx", time.Since(stopped).Seconds(), len(rejected))

	back := time.Now()
	var ids []string
	for _, r := range rejected {
		var id string
		waitFor(t, "alert "+r.dedup+" recorded once the server is back", 120*time.Second, func() (bool, error) {
			status, _, got, err := c.alert(r.intake, r.service, r.dedup, "errors during the outage "+r.dedup)
			id = got
			return status == http.StatusOK && got != "", fmt.Errorf("status %d: %v", status, err)
		})
		ids = append(ids, id)
		c.serviceOf[id] = r.service
	}
	t.Logf("every refused alert recorded %.1fs after the server came back", time.Since(back).Seconds())
	for _, id := range ids {
		waitFor(t, "incident "+id+" pages alice", 60*time.Second, func() (bool, error) {
			got := c.smsTo(id)
			return slices.Equal(got, []string{"alice"}), fmt.Errorf("SMS to %v", got)
		})
	}
	c.waitExhausted(carried, 120*time.Second)
	waitFor(t, "worker ready again", 60*time.Second, func() (bool, error) { return httpOK("http://" + live + "/readyz") })
	// Settle: resolve every open incident so the metrics scenario starts clean.
	c.resolveAll(append(ids, carried))
}

func (c *cluster) resolveAll(ids []string) {
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := c.st.Resolve(ctx, id, "topology-resolve-"+id, workflows.PhaseRequest{By: "topology-test"})
		cancel()
		if err != nil {
			c.t.Fatalf("resolve %s: %v", id, err)
		}
	}
}

// scrape reads a worker's /metrics into name{labels} → value.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation) // Prometheus's classic names: what promtool and the rules expect
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := name + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[name+"_count{"+strings.Join(labels, ",")+"}"] = float64(m.GetHistogram().GetSampleCount())
				out[name+"_sum{"+strings.Join(labels, ",")+"}"] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

// sum adds every series of name whose labels contain each of with.
func sum(m map[string]float64, name string, with ...string) float64 {
	total := 0.0
	for k, v := range m {
		n, labels, _ := strings.Cut(k, "{")
		if n != name {
			continue
		}
		ok := true
		for _, w := range with {
			if !strings.Contains(","+strings.TrimSuffix(labels, "}")+",", ","+w+",") {
				ok = false
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

// scenarioMetrics runs a known scenario on the surviving worker alone and
// asserts its metrics moved by exactly what happened: one incident paged
// and acknowledged from the CLI; one whose first SMS Twilio refused for
// good, so it escalated at once and paged bob.
func (c *cluster) scenarioMetrics(killed int) {
	t := c.t
	addr := c.metrics[1-killed]
	before := scrape(t, addr)

	acked := c.mustAlert(c.intakes[1], "metrics-acked")
	waitFor(t, "alice paged", 30*time.Second, func() (bool, error) { return len(c.smsTo(acked)) == 1, nil })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	_, err := c.st.Acknowledge(ctx, acked, "topology-ack", workflows.AckRequest{Person: fmt.Sprintf("alice-%02d", c.serviceOf[acked]), Channel: "cli"})
	cancel()
	if err != nil {
		t.Fatal(err)
	}

	c.sb.Twilio.Faults.FailNext(twilio.ErrorFault(21211)) // invalid number: permanent
	refused := c.mustAlert(c.intakes[0], "metrics-refused")
	waitFor(t, "bob paged after alice's SMS was refused", 30*time.Second, func() (bool, error) {
		got := c.smsTo(refused)
		return slices.Equal(got, []string{"bob"}), fmt.Errorf("SMS to %v", got)
	})
	waitFor(t, "nothing in flight", 30*time.Second, func() (bool, error) {
		n, err := c.pending(refused)
		return n == 0 && err == nil, err
	})
	c.resolveAll([]string{acked, refused})

	want := []struct {
		name  string
		with  []string
		delta float64
	}{
		{"sitrep_pages_total", []string{"channel=sms", "kind=page", "outcome=delivered"}, 2}, // alice (acked), bob (refused)
		{"sitrep_pages_total", []string{"channel=sms", "kind=page", "outcome=failed"}, 1},    // alice's refused SMS
		{"sitrep_provider_errors_total", []string{"provider=twilio", "class=permanent"}, 1},
		{"sitrep_acknowledgments_total", []string{"channel=cli"}, 1},
		{"sitrep_incident_events_total", []string{"kind=escalated"}, 1}, // nobody at level 1 reachable
		{"sitrep_incident_events_total", []string{"kind=acknowledged"}, 1},
		{"sitrep_incident_events_total", []string{"kind=resolved"}, 2},
		// Each incident's first page handed to a provider: alice's (acked), bob's (refused).
		{"sitrep_first_page_latency_seconds_count", nil, 2},
	}
	var after map[string]float64
	waitFor(t, "metrics moved by the scenario", 30*time.Second, func() (bool, error) {
		after = scrape(t, addr)
		for _, w := range want {
			if d := sum(after, w.name, w.with...) - sum(before, w.name, w.with...); d != w.delta {
				return false, fmt.Errorf("%s%v moved by %v; want %v", w.name, w.with, d, w.delta)
			}
		}
		return true, nil
	})
	for _, w := range want {
		t.Logf("metric %s%v: %v (moved by %v)", w.name, w.with, sum(after, w.name, w.with...), w.delta)
	}
	// Alert to first page: well under the 15 s level-1 wait for alice's; bob's
	// came after alice's SMS was refused, at once, not after the wait.
	latency := sum(after, "sitrep_first_page_latency_seconds_sum") - sum(before, "sitrep_first_page_latency_seconds_sum")
	if latency <= 0 || latency > 2*level1Delay.Seconds() {
		t.Errorf("first-page latencies add up to %.2fs; want between 0 and %.0fs", latency, 2*level1Delay.Seconds())
	}
	t.Logf("metric sitrep_first_page_latency_seconds: 2 incidents, %.2fs in all", latency)
	// The Temporal SDK's own metrics, through the same endpoint.
	for _, name := range []string{"temporal_activity_schedule_to_start_latency_seconds_count", "temporal_workflow_task_schedule_to_start_latency_seconds_count",
		"temporal_activity_execution_latency_seconds_count", "temporal_num_pollers", "temporal_worker_task_slots_available"} {
		if v := sum(after, name); v <= 0 {
			t.Errorf("SDK metric %s = %v; want > 0", name, v)
		} else {
			t.Logf("SDK metric %s = %v", name, v)
		}
	}
	if v := sum(after, "sitrep_build_info", "component=worker"); v != 1 {
		t.Errorf("sitrep_build_info{component=worker} = %v", v)
	}
}

// checkReport runs `sitrep report` against the cluster: its figures are
// those of the incidents' own records, found through PostgreSQL-backed
// visibility.
func (c *cluster) checkReport() {
	t := c.t
	var incidents, acked, unacked, resolved, escalations int
	for id := range c.serviceOf {
		st, err := c.status(id)
		if err != nil {
			t.Fatal(err)
		}
		incidents++
		if st.AcknowledgedAt != nil {
			acked++
		}
		if st.Unacknowledged && st.AcknowledgedAt == nil {
			unacked++
		}
		if st.ResolvedAt != nil {
			resolved++
		}
		escalations += count(kinds(st), "escalated")
	}
	out := run(t, c.sitrepEnv(), c.bin["sitrep"], "report", "--since", "1h", "-o", "json")
	var r struct {
		Total struct {
			Incidents, Acknowledged, Unacknowledged, Resolved, Escalations int
			Sources                                                        map[string]int
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	got := [5]int{r.Total.Incidents, r.Total.Acknowledged, r.Total.Unacknowledged, r.Total.Resolved, r.Total.Escalations}
	want := [5]int{incidents, acked, unacked, resolved, escalations}
	if got != want || r.Total.Sources["monitoring"] != incidents {
		t.Fatalf("sitrep report: incidents, acked, unacked, resolved, escalations = %v; the incidents say %v (sources %v)", got, want, r.Total.Sources)
	}
	t.Logf("sitrep report on the cluster: %d incidents, %d acknowledged, %d never, %d resolved, %d escalations", got[0], got[1], got[2], got[3], got[4])
}

// checkLogs: every line the workers wrote is JSON, the SDK's included.
func (c *cluster) checkLogs() {
	for _, w := range c.workers {
		msgs, err := jsonLines(w.log)
		if err != nil {
			c.t.Error(err)
			continue
		}
		if !slices.Contains(msgs, "Started Worker") {
			c.t.Errorf("%s: the SDK's own \"Started Worker\" line is not among its JSON lines", w.name)
		}
	}
}

// checkUI: the UI server lists the incidents through its API, and headless
// chromium renders the incident list with them in it.
func (c *cluster) checkUI(base string) {
	t := c.t
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: "WorkflowType = 'Incident'"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetExecutions()) == 0 {
		t.Fatal("no incidents listed")
	}
	some := resp.GetExecutions()[0].GetExecution().GetWorkflowId()
	var api struct {
		Executions []struct {
			Execution struct {
				WorkflowID string `json:"workflowId"`
			} `json:"execution"`
		} `json:"executions"`
	}
	r, err := http.Get(base + "/api/v1/namespaces/default/workflows?query=" + strings.ReplaceAll("WorkflowType='Incident'", "'", "%27"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err := json.Unmarshal(raw, &api); err != nil || len(api.Executions) != len(resp.GetExecutions()) {
		t.Fatalf("UI API listed %d incidents, Temporal %d (%v): %.300s", len(api.Executions), len(resp.GetExecutions()), err, raw)
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		need(t, "/usr/bin/chromium")
	}
	shot := filepath.Join(c.dir, "ui.png")
	url := base + "/namespaces/default/workflows"
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,900", "--virtual-time-budget=20000"}
	out, err := exec.Command(chromium, append(args, "--dump-dom", url)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	if !bytes.Contains(out, []byte(some)) {
		t.Fatalf("the UI's incident list does not show %s (%d bytes of DOM)", some, len(out))
	}
	if out, err := exec.Command(chromium, append(args, "--screenshot="+shot, url)...).CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot of the incident list missing or blank: %v", err)
	}
	if dst := os.Getenv("SITREP_TOPOLOGY_ARTIFACTS"); dst != "" {
		_ = os.MkdirAll(dst, 0o755)
		if raw, err := os.ReadFile(shot); err == nil {
			_ = os.WriteFile(filepath.Join(dst, "ui-incidents.png"), raw, 0o644)
		}
	}
}

// quiet drops the test client's own logs.
type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
