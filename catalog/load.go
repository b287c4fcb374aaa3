package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads the catalog at path: one YAML file, or a directory whose *.yaml
// and *.yml files (not its subdirectories, nor hidden files) are merged into
// one catalog. A name defined in two files is an error. Load validates the
// whole catalog and reports every problem it finds, joined with errors.Join,
// each prefixed with its file and line.
func Load(path string) (*Catalog, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	files := []string{path}
	if info.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("load catalog: %w", err)
		}
		files = nil
		for _, e := range entries {
			name := e.Name()
			ext := filepath.Ext(name)
			if e.IsDir() || strings.HasPrefix(name, ".") || (ext != ".yaml" && ext != ".yml") {
				continue
			}
			files = append(files, filepath.Join(path, name))
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("load catalog: no .yaml or .yml files in %s", path)
		}
	}
	l := newLoader()
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("load catalog: %w", err)
		}
		l.parse(name, data)
	}
	return l.finish(path)
}

// Parse reads a catalog from the YAML in data, naming it name in error
// messages, and validates it as Load does.
func Parse(name string, data []byte) (*Catalog, error) {
	l := newLoader()
	l.parse(name, data)
	return l.finish(name)
}

// pos is where something is written: a file and a 1-based line, or 0 for the
// catalog as a whole.
type pos struct {
	file string
	line int
}

func (p pos) String() string {
	if p.line == 0 {
		return p.file
	}
	return fmt.Sprintf("%s:%d", p.file, p.line)
}

// problem is one validation error.
type problem struct {
	at  pos
	msg string
}

func (p problem) Error() string { return p.at.String() + ": " + p.msg }

// ref is a name that must be defined somewhere in the catalog.
type ref struct {
	at    pos
	owner string // who refers, e.g. `rotation "payments-primary"`
	kind  string // person, rotation, team, policy, stakeholder group
	name  string
}

// loader accumulates a catalog from one or more files, collecting problems
// instead of stopping at the first; finish checks what needs the whole catalog.
type loader struct {
	c        *Catalog
	problems []problem
	defined  map[string]pos // kind+" "+name → where it is defined
	refs     []ref
	catchAll *pos
	sevAt    *pos // first severities section
	// broken is set when a file is not valid YAML: checks across the catalog
	// would only add noise about what that file defines.
	broken bool
	// handoffAt is where each policy names its handoff.
	handoffAt map[string]pos
	// commsAt is where the comms section is, once read.
	commsAt *pos
}

func newLoader() *loader {
	return &loader{
		c: &Catalog{
			People:            map[string]*Person{},
			Rotations:         map[string]*Rotation{},
			Teams:             map[string]*Team{},
			Services:          map[string]*Service{},
			Policies:          map[string]*Policy{},
			Severities:        map[Severity]*SeverityPolicy{},
			StakeholderGroups: map[string]*StakeholderGroup{},
			BundleWindow:      DefaultBundleWindow,
			Comms: Comms{RoomName: DefaultRoomName, RemindBefore: DefaultRemindBefore,
				RoleUnfilledAfter: DefaultRoleUnfilledAfter, UpdateWindow: DefaultUpdateWindow},
		},
		defined:   map[string]pos{},
		handoffAt: map[string]pos{},
	}
}

func (l *loader) add(at pos, owner, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if owner != "" {
		msg = owner + ": " + msg
	}
	l.problems = append(l.problems, problem{at: at, msg: msg})
}

// parse reads every YAML document in data.
func (l *loader) parse(name string, data []byte) {
	f := &file{loader: l, name: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			f.syntax(err)
			return
		}
		if len(doc.Content) > 0 {
			f.top(doc.Content[0])
		}
	}
}

// finish checks everything that spans sections or files, and returns the
// catalog or every problem found, in file and line order.
func (l *loader) finish(path string) (*Catalog, error) {
	c := l.c
	if l.broken {
		return nil, l.errors()
	}
	for _, r := range l.refs {
		if !l.isDefined(r.kind, r.name) {
			l.add(r.at, r.owner, "unknown %s %q", r.kind, r.name)
		}
	}
	if l.catchAll == nil {
		l.add(pos{file: path}, "", "catch_all: missing: name the team that owns alerts for unknown services")
	} else if t, ok := c.Teams[c.CatchAll]; ok && t.Policy == "" {
		l.add(*l.catchAll, "", "catch_all: team %q has no policy to page for unknown services", t.Name)
	}
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if t, ok := c.Teams[s.Team]; ok && s.Policy == "" && t.Policy == "" {
			l.add(l.defined["service "+name], fmt.Sprintf("service %q", name),
				"no policy, and team %q has none", s.Team)
		}
	}
	for _, sev := range []Severity{SEV1, SEV2, SEV3, SEV4} {
		if _, ok := c.Severities[sev]; ok {
			continue
		}
		at := pos{file: path}
		if l.sevAt != nil {
			at = *l.sevAt
		}
		l.add(at, "", "severities: missing %s", sev)
	}
	l.checkHandoffCycles()
	if len(l.problems) > 0 {
		return nil, l.errors()
	}
	return c, nil
}

// errors returns every problem, in file and line order, joined.
func (l *loader) errors() error {
	slices.SortStableFunc(l.problems, func(a, b problem) int {
		if a.at.file != b.at.file {
			return strings.Compare(a.at.file, b.at.file)
		}
		return a.at.line - b.at.line
	})
	errs := make([]error, len(l.problems))
	for i, p := range l.problems {
		errs[i] = p
	}
	return errors.Join(errs...)
}

func (l *loader) isDefined(kind, name string) bool {
	_, ok := l.defined[kind+" "+name]
	return ok
}

// checkHandoffCycles reports each cycle of handoffs once, at the handoff of
// the cycle's policy whose name sorts first.
func (l *loader) checkHandoffCycles() {
	for _, start := range sortedKeys(l.c.Policies) {
		path := []string{start}
		for name := l.c.Policies[start].Handoff; name != ""; {
			p, ok := l.c.Policies[name]
			if !ok {
				break // reported as an unknown policy
			}
			if name == start {
				if slices.Min(path) == start {
					l.add(l.handoffAt[start], fmt.Sprintf("policy %q", start),
						"handoff cycle: %s → %s", strings.Join(path, " → "), start)
				}
				break
			}
			if slices.Contains(path, name) {
				break // a cycle that does not pass through start; reported from inside it
			}
			path = append(path, name)
			name = p.Handoff
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
