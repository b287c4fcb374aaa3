// Package deploy holds the Docker deployment's scripts and config; its test
// checks docker-compose.yml without a Docker engine.
package deploy

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
	"gopkg.in/yaml.v3"

	"github.com/sitrep-dev/sitrep/workflows"
)

type compose struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     any               `yaml:"command"`
		DependsOn   map[string]any    `yaml:"depends_on"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		EnvFile []struct {
			Path     string `yaml:"path"`
			Required *bool  `yaml:"required"`
		} `yaml:"env_file"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// withDefaults replaces ${VAR:-default} with its default, as Compose does
// with VAR unset.
var withDefaults = regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`)

// pinned is an image with an explicit version tag: never latest, never none.
var pinned = regexp.MustCompile(`^[a-z0-9./-]+:[0-9][0-9A-Za-z.-]*$`)

func TestCompose(t *testing.T) {
	root := ".."
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	for _, want := range []string{"postgresql", "temporal-schema", "temporal", "temporal-setup", "temporal-ui", "sitrep-worker", "sitrep-intake"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("service %s missing", want)
		}
	}
	built := map[string]bool{} // images this compose file builds itself
	for _, s := range c.Services {
		if s.Build != nil {
			built[s.Image] = true
		}
	}
	for name, s := range c.Services {
		if s.Image == "" && s.Build == nil {
			t.Errorf("%s: neither image nor build", name)
		}
		if s.Image != "" && s.Build == nil && !built[s.Image] && !pinned.MatchString(s.Image) {
			t.Errorf("%s: image %q is not pinned to a version tag", name, s.Image)
		}
		if s.Build != nil {
			if _, err := os.Stat(filepath.Join(root, "Dockerfile")); err != nil {
				t.Errorf("%s: builds from a Dockerfile that is not there", name)
			}
		}
		for dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
			}
		}
		for _, v := range s.Volumes {
			src := strings.SplitN(withDefaults.ReplaceAllString(v, "$1"), ":", 2)[0]
			if strings.HasPrefix(src, "./") {
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					t.Errorf("%s: volume source %s does not exist", name, src)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s: named volume %s is not declared", name, src)
			}
		}
		for _, f := range s.EnvFile {
			if _, err := os.Stat(filepath.Join(root, f.Path)); err != nil && (f.Required == nil || *f.Required) {
				t.Errorf("%s: required env file %s does not exist", name, f.Path)
			}
			if _, err := os.Stat(filepath.Join(root, f.Path+".example")); err != nil {
				t.Errorf("%s: no %s.example to copy the env file from", name, f.Path)
			}
		}
	}
	// Published on the loopback only: whoever reaches Temporal's gRPC port
	// or the UI can acknowledge or resolve incidents.
	for name, s := range c.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %s beyond 127.0.0.1", name, p)
			}
		}
	}
	// What runs sitrep is checked by its health, and the catalog is the
	// operator's, mounted, not baked into the image.
	for _, name := range []string{"sitrep-worker", "sitrep-worker-2", "sitrep-intake"} {
		s := c.Services[name]
		if s.Healthcheck == nil || !strings.Contains(strings.Join(s.Healthcheck.Test, " "), "/readyz") {
			t.Errorf("%s: no healthcheck on /readyz", name)
		}
		if !slices.ContainsFunc(s.Volumes, func(v string) bool { return strings.HasSuffix(v, ":/etc/sitrep/catalog.yaml:ro") }) {
			t.Errorf("%s: the catalog is not mounted read-only at /etc/sitrep/catalog.yaml", name)
		}
	}
	// Image versions stay with what the topology test builds: the server and
	// admin tools with tools/go.mod's server, the UI with tools/ui/go.mod's.
	server := moduleVersion(t, "../tools/go.mod", "go.temporal.io/server")
	ui := moduleVersion(t, "../tools/ui/go.mod", "github.com/temporalio/ui-server/v2")
	for name, want := range map[string]string{
		"temporal": "temporalio/server:" + server, "temporal-schema": "temporalio/admin-tools:" + server + "-",
		"temporal-setup": "temporalio/admin-tools:" + server + "-", "temporal-ui": "temporalio/ui:" + ui,
	} {
		if img := c.Services[name].Image; img != want && !(strings.HasSuffix(want, "-") && strings.HasPrefix(img, want)) {
			t.Errorf("%s runs %s; want %s… to match the server the topology test builds", name, img, want)
		}
	}
	// The server's membership takes an IP, never a host name.
	if b, ok := c.Services["temporal"].Environment["TEMPORAL_BROADCAST_ADDRESS"]; ok && net.ParseIP(b) == nil {
		t.Errorf("TEMPORAL_BROADCAST_ADDRESS %q is not an IP: the server refuses to start", b)
	}
	if raw, err := os.ReadFile(filepath.Join(root, ".dockerignore")); err != nil {
		t.Error("no .dockerignore: secrets and binaries would go to the build context")
	} else {
		for _, must := range []string{"deploy/sitrep.env", "bin/", ".git"} {
			if !strings.Contains(string(raw), must) {
				t.Errorf(".dockerignore does not keep %s out of the build context", must)
			}
		}
	}
	// The Dockerfile copies only what exists.
	df, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(df), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "COPY" && !strings.HasPrefix(f[1], "--from") {
			for _, src := range f[1 : len(f)-1] {
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					t.Errorf("Dockerfile copies %s, which does not exist", src)
				}
			}
		}
	}
}

// moduleVersion reads module's version from a go.mod, without the v.
func moduleVersion(t *testing.T, gomod, module string) string {
	t.Helper()
	raw, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + ` v(\S+)`).FindStringSubmatch(string(raw))
	if m == nil {
		t.Fatalf("%s does not require %s", gomod, module)
	}
	return m[1]
}

// TestSearchAttributesRegistered: the namespace script registers every
// search attribute the workflows use, with its type.
func TestSearchAttributesRegistered(t *testing.T) {
	script, err := os.ReadFile("scripts/create-namespace.sh")
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]string{}
	for _, m := range regexp.MustCompile(`for sa in ([A-Za-z ]+); do`).FindAllStringSubmatch(string(script), -1) {
		for _, n := range strings.Fields(m[1]) {
			registered[n] = "Keyword"
		}
	}
	for _, m := range regexp.MustCompile(`create_sa (\w+) (\w+)`).FindAllStringSubmatch(string(script), -1) {
		registered[m[1]] = m[2]
	}
	var missing []string
	for k := range temporal.NewSearchAttributes(workflows.SearchAttributes...).GetUntypedValues() {
		want := k.GetValueType().String() // Keyword, KeywordList: the CLI's --type names
		if registered[k.GetName()] != want {
			missing = append(missing, k.GetName()+"="+want)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Fatalf("create-namespace.sh does not register %v (it has %v)", missing, registered)
	}
}
