//go:build prod

package topology

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// repo is the repository root, from this package's directory.
var repo = func() string {
	p, err := filepath.Abs("../..")
	if err != nil {
		panic(err)
	}
	return p
}()

// need returns the path of each file; a missing one fails the test in CI
// and skips it elsewhere.
func need(t *testing.T, paths ...string) []string {
	t.Helper()
	var out, missing []string
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(repo, p)
		}
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
		out = append(out, p)
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("missing %s: run `make test-prod`, which builds and installs them", strings.Join(missing, ", "))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return out
}

var (
	portsMu sync.Mutex
	taken   = map[int]bool{}
)

// freePort finds a free port on 127.0.0.1 below 32768: the Temporal server
// keeps membership ports in a SMALLINT.
func freePort(t *testing.T) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 1000 {
		p := 20000 + rand.IntN(12000)
		if taken[p] {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		_ = ln.Close() // only probing
		taken[p] = true
		return p
	}
	t.Fatal("no free port below 32768")
	return 0
}

// proc is a process the test started, its output in a log file.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// start runs argv with env (on top of PATH and HOME) and stops it when the
// test ends.
func start(t *testing.T, dir, name string, env []string, argv ...string) *proc {
	t.Helper()
	p := &proc{name: name, log: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(baseEnv(), env...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		_ = f.Close() // the log is complete
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(10 * time.Second)
		if t.Failed() {
			t.Logf("--- last lines of %s ---\n%s", name, tail(p.log, 30))
		}
	})
	return p
}

func baseEnv() []string {
	return []string{"PATH=" + filepath.Join(repo, "bin") + ":" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TZ=UTC"}
}

// running reports whether the process has not exited.
func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and, after grace, SIGKILL; it returns when the
// process is gone.
func (p *proc) stop(grace time.Duration) {
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM) // it may have exited since
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// kill sends SIGKILL to the process alone and waits for it to be gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func tail(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > 400 {
			lines[i] = l[:400] + "…"
		}
	}
	return strings.Join(lines, "\n")
}

// run runs argv to completion and fails the test on error.
func run(t *testing.T, env []string, argv ...string) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(baseEnv(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// runWhile is run, cut short (and failing) if p exits meanwhile.
func runWhile(t *testing.T, p *proc, env []string, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(baseEnv(), env...)
	out, err := cmd.CombinedOutput()
	if !p.running() {
		t.Fatalf("%s exited (%v) while %s ran:\n%s", p.name, p.err, strings.Join(argv, " "), out)
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// waitFor polls cond every 200ms until it reports true or the deadline
// passes; the last error goes into the failure.
func waitFor(t *testing.T, what string, within time.Duration, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (last: %v)", what, within, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// httpOK reports whether GET url answers 200.
func httpOK(url string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body) // drain for reuse
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("status %d", resp.StatusCode)
	}
	return true, nil
}

// postgres is a throwaway PostgreSQL cluster from Debian's packages.
type postgres struct {
	port     int
	password string
}

// startPostgres runs initdb and pg_ctl from Debian's postgresql package in a
// fresh directory, as the postgres user when the test runs as root (initdb
// refuses root), and stops the server when the test ends.
func startPostgres(t *testing.T) postgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		need(t, "/usr/lib/postgresql/15/bin/pg_ctl")
	}
	binDir := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "sitrep-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pg := postgres{port: freePort(t), password: "temporal-test-password"}
	pwfile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwfile, []byte(pg.password+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, sock, logs := filepath.Join(dir, "data"), filepath.Join(dir, "sock"), filepath.Join(dir, "log")
	for _, d := range []string{data, sock, logs} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, and no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		for _, p := range []string{data, sock, logs, pwfile} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	pgRun := func(argv ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(binDir, argv[0]), argv[1:]...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Env = []string{"PATH=" + binDir + ":/usr/bin:/bin", "LANG=C.UTF-8"}
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
	}
	pgRun("initdb", "-D", data, "-U", "temporal", "--pwfile", pwfile, "--auth", "scram-sha-256", "-E", "UTF8", "--no-sync")
	pgRun("pg_ctl", "-D", data, "-l", filepath.Join(logs, "postgres.log"), "-w", "-t", "60",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off", pg.port, sock), "start")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- postgres log ---\n%s", tail(filepath.Join(logs, "postgres.log"), 20))
		}
		cmd := exec.Command(filepath.Join(binDir, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		_ = cmd.Run() // the directory goes next either way
	})
	return pg
}

// jsonLines checks that every line of a log is a JSON object and returns
// their "msg" fields.
func jsonLines(path string) (msgs []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			return msgs, fmt.Errorf("%s line %d is not JSON: %q", filepath.Base(path), n, line)
		}
		m, _ := rec["msg"].(string)
		msgs = append(msgs, m)
	}
	if err := sc.Err(); err != nil {
		return msgs, err
	}
	if n == 0 {
		return nil, errors.New(filepath.Base(path) + " is empty")
	}
	return msgs, nil
}
