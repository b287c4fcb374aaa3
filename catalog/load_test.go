package catalog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// base is the smallest valid catalog; the validation cases break one thing in it.
const base = `catch_all: ops
people:
  - handle: ann
    name: Ann
    contacts:
      - sms: "+15550100001"
      - email: ann@example.com
  - handle: ben
    contacts:
      - chat: U0002
rotations:
  - name: ops-primary
    members: [ann, ben]
    shift: weekly
    handoff_day: monday
    handoff_time: "09:00"
    timezone: UTC
    start: 2026-01-05
teams:
  - name: ops
    rotation: ops-primary
    policy: ops-default
    members: [ann, ben]
services:
  - name: web
    team: ops
    tier: 1
    stakeholder_groups: [staff]
escalation_policies:
  - name: ops-default
    levels:
      - targets:
          - rotation: ops-primary
        delay: 30s
    repeat: 1
    fallback: ann
severities:
  SEV1:
    channels: {1: [sms], 2: [sms], 3: [email]}
    update_cadence: 30m
    repage_after_ack: 30m
  SEV2:
    channels: {1: [sms], 2: [email], 3: [email]}
    update_cadence: 1h
  SEV3:
    channels: {1: [email], 2: [email], 3: [email]}
    update_cadence: 4h
  SEV4:
    channels: {1: [email], 2: [email], 3: [email]}
    update_cadence: none
stakeholder_groups:
  - name: staff
    audience: internal
    emails: [staff@example.com]
`

var marker = regexp.MustCompile(`#([A-Z])\b`)

// expand replaces @X in each want with name:line, the line of the YAML that
// carries the comment #X.
func expand(t *testing.T, name, src string, wants []string) []string {
	t.Helper()
	lines := map[string]int{}
	for i, l := range strings.Split(src, "\n") {
		for _, m := range marker.FindAllStringSubmatch(l, -1) {
			lines[m[1]] = i + 1
		}
	}
	out := make([]string, len(wants))
	for i, w := range wants {
		out[i] = regexp.MustCompile(`@([A-Z])`).ReplaceAllStringFunc(w, func(m string) string {
			line, ok := lines[m[1:]]
			if !ok {
				t.Fatalf("want %q: no #%s in the YAML", w, m[1:])
			}
			return fmt.Sprintf("%s:%d", name, line)
		})
	}
	return out
}

// problems splits a Load error into its messages.
func problems(err error) []string {
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range joined.Unwrap() {
		out = append(out, e.Error())
	}
	return out
}

func checkProblems(t *testing.T, name, src string, wants []string) {
	t.Helper()
	_, err := Parse(name, []byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded, want errors:\n%s", strings.Join(wants, "\n"))
	}
	got := problems(err)
	want := expand(t, name, src, wants)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n  got:\n    %s\n  want:\n    %s", strings.Join(got, "\n    "), strings.Join(want, "\n    "))
	}
}

func TestParseBase(t *testing.T) {
	if _, err := Parse("t.yaml", []byte(base)); err != nil {
		t.Fatalf("base catalog: %v", err)
	}
}

func TestValidationEachError(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace old in base by new
		want     []string
	}{
		{"unknown person in rotation",
			"members: [ann, ben]\n    shift", "members: [ann, zoe] #A\n    shift",
			[]string{`@A: rotation "ops-primary": unknown person "zoe"`}},
		{"unknown person in team",
			"members: [ann, ben]\nservices", "members: [ann, zoe] #A\nservices",
			[]string{`@A: team "ops": unknown person "zoe"`}},
		{"unknown manager",
			"members: [ann, ben]\nservices", "members: [ann, ben]\n    managers:\n      - zoe #A\nservices",
			[]string{`@A: team "ops": unknown person "zoe"`}},
		{"unknown person in override",
			"start: 2026-01-05\n", "start: 2026-01-05\n    overrides:\n      - person: zoe #A\n        start: 2026-02-02 09:00\n        end: 2026-02-03 09:00\n",
			[]string{`@A: rotation "ops-primary": override: unknown person "zoe"`}},
		{"unknown person in target",
			"- rotation: ops-primary\n", "- rotation: ops-primary\n          - person: zoe #A\n",
			[]string{`@A: policy "ops-default": level 1: unknown person "zoe"`}},
		{"unknown fallback",
			"fallback: ann", "fallback: zoe #A",
			[]string{`@A: policy "ops-default": unknown person "zoe"`}},
		{"unknown team of service",
			"team: ops\n    tier", "team: opz #A\n    tier",
			[]string{`@A: service "web": unknown team "opz"`}},
		{"unknown rotation of team",
			"rotation: ops-primary\n    policy", "rotation: ops-secondary #A\n    policy",
			[]string{`@A: team "ops": unknown rotation "ops-secondary"`}},
		{"unknown comms rotation",
			"rotation: ops-primary\n    policy", "rotation: ops-primary\n    comms_rotation: comms #A\n    policy",
			[]string{`@A: team "ops": unknown rotation "comms"`}},
		{"unknown rotation target",
			"- rotation: ops-primary\n", "- rotation: nope #A\n",
			[]string{`@A: policy "ops-default": level 1: unknown rotation "nope"`}},
		{"unknown team target",
			"- rotation: ops-primary\n", "- team: nope #A\n",
			[]string{`@A: policy "ops-default": level 1: unknown team "nope"`}},
		{"unknown policy of team",
			"policy: ops-default\n", "policy: ops-loud #A\n",
			[]string{`@A: team "ops": unknown policy "ops-loud"`}},
		{"unknown policy of service",
			"tier: 1\n", "tier: 1\n    policy: ops-loud #A\n",
			[]string{`@A: service "web": unknown policy "ops-loud"`}},
		{"unknown stakeholder group",
			"stakeholder_groups: [staff]", "stakeholder_groups: [staff, press] #A",
			[]string{`@A: service "web": unknown stakeholder group "press"`}},
		{"policy with no levels",
			"levels:\n      - targets:\n          - rotation: ops-primary\n        delay: 30s\n", "levels: [] #A\n",
			[]string{`@A: policy "ops-default": no levels: give at least one`}},
		{"policy with levels missing",
			"- name: ops-default\n    levels:\n      - targets:\n          - rotation: ops-primary\n        delay: 30s\n", "- name: ops-default #A\n",
			[]string{`@A: policy "ops-default": no levels: give at least one`}},
		{"level with no targets",
			"- targets:\n          - rotation: ops-primary\n        delay: 30s", "- targets: [] #A\n        delay: 30s",
			[]string{`@A: policy "ops-default": level 1: no targets: give at least one person, rotation or team`}},
		{"zero delay",
			"delay: 30s", "delay: 0s #A",
			[]string{`@A: policy "ops-default": level 1: delay: must be positive, got 0s`}},
		{"negative delay",
			"delay: 30s", "delay: -5m #A",
			[]string{`@A: policy "ops-default": level 1: delay: must be positive, got -5m`}},
		{"unparseable delay",
			"delay: 30s", "delay: soon #A",
			[]string{`@A: policy "ops-default": level 1: delay: bad duration "soon" (want a duration like 30s, 5m or 1h)`}},
		{"missing delay",
			"- targets:\n          - rotation: ops-primary\n        delay: 30s", "- targets: #A\n          - rotation: ops-primary",
			[]string{`@A: policy "ops-default": level 1: missing field "delay"`}},
		{"bad cadence",
			"update_cadence: 1h", "update_cadence: hourly #A",
			[]string{`@A: severity "SEV2": update_cadence: bad duration "hourly" (want a duration like 30s, 5m or 1h or "none")`}},
		{"bad notice moment",
			"update_cadence: 1h", "update_cadence: 1h\n    notice: soon #A\n    war_room: ack\n    internal_only: maybe #B",
			[]string{`@A: severity "SEV2": notice: unknown value "soon" (want open, ack or none)`,
				`@B: severity "SEV2": internal_only: want true or false, got "maybe"`}},
		{"bad comms",
			"stakeholder_groups:\n", "comms:\n  war_room_name: \"inc-{{.Team}}\" #A\n  remind_before: none #B\n  roles:\n    - name: commander #C\n      stakeholder_groups: [staff]\n    - name: partner-comms #D\n    - name: social\n      stakeholder_groups: [press] #E\nstakeholder_groups:\n",
			[]string{`@A: comms: war_room_name: bad template: template: war_room_name:1:6: executing "war_room_name" at <.Team>: can't evaluate field Team in type catalog.RoomFields`,
				`@B: comms: remind_before: bad duration "none" (want a duration like 30s, 5m or 1h)`,
				`@C: role "commander": "commander" is built in; list only the roles beyond commander and comms`,
				`@D: role "partner-comms": no stakeholder_groups: a role speaks to an audience; list its groups`,
				`@E: role "social": unknown stakeholder group "press"`}},
		{"negative repage",
			"repage_after_ack: 30m", "repage_after_ack: -30m #A",
			[]string{`@A: severity "SEV1": repage_after_ack: must be positive, got -30m`}},
		{"bad timezone",
			"timezone: UTC", "timezone: Europe/Berln #A",
			[]string{`@A: rotation "ops-primary": timezone: unknown time zone "Europe/Berln" (want an IANA name like Europe/Berlin)`}},
		{"bad person timezone",
			"name: Ann\n", "name: Ann\n    timezone: Mars/Olympus #A\n",
			[]string{`@A: person "ann": timezone: unknown time zone "Mars/Olympus" (want an IANA name like Europe/Berlin)`}},
		{"bad weekday",
			"handoff_day: monday", "handoff_day: funday #A",
			[]string{`@A: rotation "ops-primary": handoff_day: bad weekday "funday" (want monday to sunday)`}},
		{"weekday does not match start",
			"handoff_day: monday", "handoff_day: tue #A",
			[]string{`@A: rotation "ops-primary": handoff_day: Tuesday, but start 2026-01-05 is a Monday`}},
		{"weekday on daily shift",
			"shift: weekly\n    handoff_day: monday", "shift: daily\n    handoff_day: monday #A",
			[]string{`@A: rotation "ops-primary": handoff_day: only for shifts of whole weeks, not 1 days`}},
		{"bad handoff time",
			`handoff_time: "09:00"`, `handoff_time: 9am #A`,
			[]string{`@A: rotation "ops-primary": handoff_time: bad time "9am" (want HH:MM, 24-hour, like 09:00)`}},
		{"bad handoff hour",
			`handoff_time: "09:00"`, `handoff_time: "25:00" #A`,
			[]string{`@A: rotation "ops-primary": handoff_time: bad time "25:00" (want HH:MM, 24-hour, like 09:00)`}},
		{"bad shift",
			"shift: weekly", "shift: fortnightly #A",
			[]string{`@A: rotation "ops-primary": shift: bad shift "fortnightly" (want daily, weekly or a number of days like 3d)`}},
		{"bad start",
			"start: 2026-01-05", "start: 2026-13-01 #A",
			[]string{`@A: rotation "ops-primary": start: bad date "2026-13-01" (want YYYY-MM-DD)`}},
		{"missing timezone",
			"- name: ops-primary\n    members: [ann, ben]\n    shift: weekly\n    handoff_day: monday\n    handoff_time: \"09:00\"\n    timezone: UTC\n",
			"- name: ops-primary #A\n    members: [ann, ben]\n    shift: weekly\n    handoff_day: monday\n    handoff_time: \"09:00\"\n",
			[]string{`@A: rotation "ops-primary": missing field "timezone"`}},
		{"rotation without members",
			"members: [ann, ben]\n    shift", "members: [] #A\n    shift",
			[]string{`@A: rotation "ops-primary": no members: give the people who take turns`}},
		{"bad override time and order",
			"start: 2026-01-05\n", "start: 2026-01-05\n    overrides:\n      - person: ben\n        start: next tuesday #A\n        end: 2026-02-03 09:00\n      - person: ben\n        start: 2026-02-03T09:00:00Z\n        end: 2026-02-03 08:00 #B\n",
			[]string{
				`@A: rotation "ops-primary": override: start: bad time "next tuesday" (want 2026-03-02 09:00 in the rotation's timezone, or RFC 3339)`,
				`@B: rotation "ops-primary": override: end: must be after start`,
			}},
		{"unknown contact channel",
			"- chat: U0002", "- fax: U0002 #A",
			[]string{`@A: person "ben": unknown channel "fax" (want one of sms, voice, email, chat, pagerduty)`}},
		{"repeated contact channel",
			"- chat: U0002", "- chat: U0002\n      - chat: U0003 #A",
			[]string{`@A: person "ben": channel chat listed twice`}},
		{"bad phone number",
			`- sms: "+15550100001"`, `- sms: 555-0100 #A`,
			[]string{`@A: person "ann": sms: bad address "555-0100" (want an E.164 phone number like +15550100001)`}},
		{"bad email",
			"- email: ann@example.com", "- email: ann at example #A",
			[]string{`@A: person "ann": email: bad address "ann at example" (want a plain address like alice@example.com)`}},
		{"bad pagerduty key",
			"- chat: U0002", "- pagerduty: abc #A",
			[]string{`@A: person "ben": pagerduty: bad address "abc" (want a 32-character integration routing key)`}},
		{"unknown channel in severity",
			"channels: {1: [sms], 2: [sms], 3: [email]}", "channels: {1: [sms, pigeon], 2: [sms], 3: [email]} #A",
			[]string{`@A: severity "SEV1": tier 1: unknown channel "pigeon" (want one of sms, voice, email, chat, pagerduty)`}},
		{"person with no contacts",
			"- handle: ben\n    contacts:\n      - chat: U0002", "- handle: ben #A",
			[]string{`@A: person "ben": no contacts: give at least one way to reach them`}},
		{"person with empty contacts",
			"- handle: ben\n    contacts:\n      - chat: U0002", "- handle: ben\n    contacts: [] #A",
			[]string{`@A: person "ben": no contacts: give at least one way to reach them`}},
		{"duplicate handle",
			"- handle: ben\n", "- handle: ann #A\n",
			[]string{
				`@A: person "ann": already defined at t.yaml:3`,
				// ben is gone, so references to it fail too.
				"t.yaml:13: rotation \"ops-primary\": unknown person \"ben\"",
				"t.yaml:23: team \"ops\": unknown person \"ben\"",
			}},
		{"duplicate team",
			"services:\n", "  - name: ops #A\n    members: [ann]\nservices:\n",
			[]string{`@A: team "ops": already defined at t.yaml:20`}},
		{"duplicate list entry",
			"members: [ann, ben]\nservices", "members: [ann, ben, ann] #A\nservices",
			[]string{`@A: team "ops": members: "ann" listed twice`}},
		{"severity missing",
			"  SEV4:\n    channels: {1: [email], 2: [email], 3: [email]}\n    update_cadence: none\n", "",
			[]string{`t.yaml:37: severities: missing SEV4`}},
		{"unknown severity",
			"  SEV4:", "  SEV5: #A\n    channels: {1: [email], 2: [email], 3: [email]}\n    update_cadence: none\n  SEV4:",
			[]string{`@A: severities: unknown severity "SEV5" (want SEV1, SEV2, SEV3, SEV4)`}},
		{"severity given twice",
			"  SEV4:", "  SEV3: #A\n    channels: {1: [email], 2: [email], 3: [email]}\n    update_cadence: none\n  SEV4:",
			[]string{`@A: severity "SEV3": already defined at t.yaml:45`}},
		{"service tier out of range",
			"tier: 1", "tier: 4 #A",
			[]string{`@A: service "web": tier: want a whole number from 1 to 3, got "4"`}},
		{"service tier missing",
			"- name: web\n    team: ops\n    tier: 1", "- name: web #A\n    team: ops",
			[]string{`@A: service "web": missing field "tier"`}},
		{"severity tier out of range",
			"channels: {1: [sms], 2: [sms], 3: [email]}", "channels: {1: [sms], 2: [sms], 3: [email], 4: [email]} #A",
			[]string{`@A: severity "SEV1": channels: tier: want a whole number from 1 to 3, got "4"`}},
		{"severity tier missing",
			"channels: {1: [sms], 2: [sms], 3: [email]}", "channels: {1: [sms], 3: [email]} #A",
			[]string{`@A: severity "SEV1": channels: missing tier 2`}},
		{"unknown target kind",
			"- rotation: ops-primary\n", "- rotation: ops-primary\n          - group: staff #A\n",
			[]string{`@A: policy "ops-default": level 1: unknown target kind "group" (want one of person, rotation, team)`}},
		{"catch-all missing",
			"catch_all: ops\n", "",
			[]string{`t.yaml: catch_all: missing: name the team that owns alerts for unknown services`}},
		{"catch-all unknown",
			"catch_all: ops", "catch_all: sre #A",
			[]string{`@A: catch_all: unknown team "sre"`}},
		{"unknown top-level field",
			"catch_all: ops", "catch_all: ops\ncatchall: ops #A",
			[]string{`@A: unknown field "catchall" (want one of catch_all, bundle_window, people, rotations, teams, services, escalation_policies, severities, stakeholder_groups, comms, postmortem)`}},
		{"unknown nested field",
			"    name: Ann\n", "    name: Ann\n    phone: 123 #A\n",
			[]string{`@A: person "ann": unknown field "phone" (want one of handle, name, timezone, contacts)`}},
		{"field given twice",
			"    name: Ann\n", "    name: Ann\n    name: Anne #A\n",
			[]string{`@A: person "ann": field "name" given twice`}},
		{"handoff cycle",
			"    fallback: ann\n", "    fallback: ann\n    handoff: ops-backup\n  - name: ops-backup\n    levels:\n      - targets: [person: ben]\n        delay: 1m\n    handoff: ops-default #A\n",
			[]string{`@A: policy "ops-backup": handoff cycle: ops-backup → ops-default → ops-backup`}},
		{"handoff to itself",
			"    fallback: ann\n", "    fallback: ann\n    handoff: ops-default #A\n",
			[]string{`@A: policy "ops-default": handoff cycle: ops-default → ops-default`}},
		{"unknown handoff",
			"    fallback: ann\n", "    fallback: ann\n    handoff: ops-backup #A\n",
			[]string{`@A: policy "ops-default": unknown policy "ops-backup"`}},
		{"negative repeat",
			"repeat: 1", "repeat: -1 #A",
			[]string{`@A: policy "ops-default": repeat: want a whole number from 0 to 100, got "-1"`}},
		{"service and team without policy",
			"    policy: ops-default\n    members", "    members",
			[]string{
				`t.yaml:1: catch_all: team "ops" has no policy to page for unknown services`,
				`t.yaml:24: service "web": no policy, and team "ops" has none`,
			}},
		{"unknown audience",
			"audience: internal", "audience: press #A",
			[]string{`@A: stakeholder group "staff": audience: unknown audience "press" (want internal or external)`}},
		{"group without emails",
			"emails: [staff@example.com]", "emails: [] #A",
			[]string{`@A: stakeholder group "staff": no emails: give at least one`}},
		{"name with spaces",
			"- name: web\n", "- name: web site #A\n",
			[]string{`@A: service: name: "web site" must not contain spaces`}},
		{"list expected",
			"stakeholder_groups: [staff]", "stakeholder_groups: staff #A",
			[]string{`@A: service "web": stakeholder_groups: want a list, got "staff"`}},
		{"mapping expected",
			"  - name: staff\n", "  - staff #A\n  - name: staff\n",
			[]string{`@A: stakeholder group: want a mapping of name, audience, emails, got "staff"`}},
		{"yaml syntax error",
			"    name: Ann\n", "    name: Ann: Anders #A\n",
			[]string{`@A: yaml: mapping values are not allowed in this context`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(base, tt.old) {
				t.Fatalf("base has no %q", tt.old)
			}
			src := strings.Replace(base, tt.old, tt.new, 1)
			checkProblems(t, "t.yaml", src, tt.want)
		})
	}
}

// bad has one or more mistakes on every marked line.
const bad = `catch_all: nobody #A
people:
  - handle: ann
    contacts:
      - sms: "+15550100001"
      - fax: "+15550100001" #B
  - handle: ann #C
    contacts: [{email: ann2@example.com}]
  - handle: ben #D
rotations:
  - name: primary
    members: [ann, zoe] #E
    shift: weekly
    handoff_day: funday #F
    handoff_time: "9:00" #G
    timezone: Mars/Base #H
    start: 2026-01-05
    colour: red #I
teams:
  - name: core
    rotation: secondary #J
    policy: main
    members: [ann]
services:
  - name: web
    team: core
    tier: 0 #K
    stakeholder_groups: [press] #L
escalation_policies:
  - name: main
    levels:
      - targets: [{rotation: primary}, {squad: x}] #M
        delay: 0s #N
      - targets: [] #O
        delay: 5m
    fallback: zed #P
    handoff: backup
  - name: backup
    levels: [] #Q
    handoff: main #R
severities: #X
  SEV1:
    channels: {1: [sms, pigeon], 2: [sms], 3: [sms]} #S
    update_cadence: 30min #T
  SEV2:
    channels: {1: [sms], 2: [sms], 4: [sms]} #U
    update_cadence: 1h
  SEV3:
    channels: {1: [email], 2: [email], 3: [email]}
    update_cadence: 4h
  SEV9: #V
    update_cadence: 1h
stakeholder_groups:
  - name: staff
    audience: everyone #W
    emails: [staff@example.com]
`

func TestValidationManyErrors(t *testing.T) {
	wants := []string{
		`@A: catch_all: unknown team "nobody"`,
		`@B: person "ann": unknown channel "fax" (want one of sms, voice, email, chat, pagerduty)`,
		`@C: person "ann": already defined at bad.yaml:3`,
		`@D: person "ben": no contacts: give at least one way to reach them`,
		`@E: rotation "primary": unknown person "zoe"`,
		`@F: rotation "primary": handoff_day: bad weekday "funday" (want monday to sunday)`,
		`@G: rotation "primary": handoff_time: bad time "9:00" (want HH:MM, 24-hour, like 09:00)`,
		`@H: rotation "primary": timezone: unknown time zone "Mars/Base" (want an IANA name like Europe/Berlin)`,
		`@I: rotation "primary": unknown field "colour" (want one of name, members, shift, handoff_day, handoff_time, timezone, start, overrides)`,
		`@J: team "core": unknown rotation "secondary"`,
		`@K: service "web": tier: want a whole number from 1 to 3, got "0"`,
		`@L: service "web": unknown stakeholder group "press"`,
		`@M: policy "main": level 1: unknown target kind "squad" (want one of person, rotation, team)`,
		`@N: policy "main": level 1: delay: must be positive, got 0s`,
		`@O: policy "main": level 2: no targets: give at least one person, rotation or team`,
		`@P: policy "main": unknown person "zed"`,
		`@Q: policy "backup": no levels: give at least one`,
		`@R: policy "backup": handoff cycle: backup → main → backup`,
		`@X: severities: missing SEV4`,
		`@S: severity "SEV1": tier 1: unknown channel "pigeon" (want one of sms, voice, email, chat, pagerduty)`,
		`@T: severity "SEV1": update_cadence: bad duration "30min" (want a duration like 30s, 5m or 1h or "none")`,
		`@U: severity "SEV2": channels: tier: want a whole number from 1 to 3, got "4"`,
		`@U: severity "SEV2": channels: missing tier 3`,
		`@V: severities: unknown severity "SEV9" (want SEV1, SEV2, SEV3, SEV4)`,
		`@W: stakeholder group "staff": audience: unknown audience "everyone" (want internal or external)`,
	}
	checkProblems(t, "bad.yaml", bad, wants)

	// The problems come in line order, so an operator can fix them top down.
	_, err := Parse("bad.yaml", []byte(bad))
	got := problems(err)
	if !slices.IsSortedFunc(got, func(a, b string) int { return lineOf(a) - lineOf(b) }) {
		t.Errorf("problems not in line order:\n%s", strings.Join(got, "\n"))
	}
}

func lineOf(msg string) int {
	var line int
	fmt.Sscanf(strings.SplitN(msg, ":", 3)[1], "%d", &line)
	return line
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDirectory(t *testing.T) {
	i := strings.Index(base, "teams:\n")
	head, tail := base[:i], base[i:]
	t.Run("merges .yaml and .yml files, skips others", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{
			"people.yaml":      head,
			"rest.yml":         tail,
			"README.md":        "not yaml: [",
			".draft.yaml":      "not yaml: [",
			"old/ignored.yaml": "not yaml: [",
		})
		c, err := Load(dir)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if len(c.People) != 2 || len(c.Services) != 1 || c.CatchAll != "ops" {
			t.Errorf("merged catalog: %d people, %d services, catch-all %q", len(c.People), len(c.Services), c.CatchAll)
		}
	})
	t.Run("a name defined in two files", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{
			"a.yaml": head,
			"b.yaml": tail + "people:\n  - handle: ben\n    contacts: [{chat: U9}]\n",
		})
		_, err := Load(dir)
		a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
		line := strings.Count(tail, "\n") + 2 // "- handle: ben", after tail and "people:"
		want := []string{fmt.Sprintf(`%s:%d: person "ben": already defined at %s:8`, b, line, a)}
		if got := problems(err); !slices.Equal(got, want) {
			t.Errorf("errors:\n got %q\nwant %q", got, want)
		}
	})
	t.Run("catch_all in two files", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"a.yaml": head, "b.yaml": tail + "catch_all: ops\n"})
		_, err := Load(dir)
		line := strings.Count(tail, "\n") + 1
		want := []string{fmt.Sprintf(`%s:%d: catch_all: already set at %s:1`, filepath.Join(dir, "b.yaml"), line, filepath.Join(dir, "a.yaml"))}
		if got := problems(err); !slices.Equal(got, want) {
			t.Errorf("errors:\n got %q\nwant %q", got, want)
		}
	})
	t.Run("a syntax error hides the cross-file checks", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"a.yaml": head, "b.yaml": "teams: [\n"})
		_, err := Load(dir)
		got := problems(err)
		if len(got) != 1 || !strings.HasPrefix(got[0], filepath.Join(dir, "b.yaml")+":") {
			t.Errorf("errors: %q, want one syntax error in b.yaml", got)
		}
	})
	t.Run("several documents in one file", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"all.yaml": head + "---\n" + tail})
		if _, err := Load(dir); err != nil {
			t.Errorf("Load: %v", err)
		}
	})
	t.Run("no yaml files", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"notes.txt": "hi"})
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), "load catalog: no .yaml or .yml files in") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("missing path", func(t *testing.T) {
		_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
		if err == nil || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("error %v, want not exist", err)
		}
	})
	t.Run("single file", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"catalog.yaml": base})
		if _, err := Load(filepath.Join(dir, "catalog.yaml")); err != nil {
			t.Errorf("Load: %v", err)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		_, err := Parse("empty.yaml", []byte("# nothing yet\n"))
		want := []string{
			"empty.yaml: catch_all: missing: name the team that owns alerts for unknown services",
			"empty.yaml: severities: missing SEV1",
			"empty.yaml: severities: missing SEV2",
			"empty.yaml: severities: missing SEV3",
			"empty.yaml: severities: missing SEV4",
		}
		if got := problems(err); !slices.Equal(got, want) {
			t.Errorf("errors:\n got %q\nwant %q", got, want)
		}
	})
}

// The update window: 10 minutes unless the comms section says otherwise;
// "none" sends every notice at once; a bad, negative or day-long one is
// refused, naming the line.
func TestUpdateWindow(t *testing.T) {
	c, err := Parse("t.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.Comms.UpdateWindow != DefaultUpdateWindow || DefaultUpdateWindow != 10*time.Minute {
		t.Errorf("default update window %s, want 10m", c.Comms.UpdateWindow)
	}
	for in, want := range map[string]time.Duration{"5m": 5 * time.Minute, "none": 0} {
		c, err := Parse("t.yaml", []byte(strings.Replace(base, "stakeholder_groups:\n", "comms:\n  update_window: "+in+"\nstakeholder_groups:\n", 1)))
		if err != nil {
			t.Fatalf("update_window %s: %v", in, err)
		}
		if c.Comms.UpdateWindow != want {
			t.Errorf("update_window %s: got %s, want %s", in, c.Comms.UpdateWindow, want)
		}
	}
	for in, want := range map[string]string{
		"soon": `@A: comms: update_window: bad duration "soon" (want a duration like 30s, 5m or 1h or "none")`,
		"-5m":  `@A: comms: update_window: must be positive, got -5m`,
		"48h":  `@A: comms: update_window: 48h0m0s is longer than 24h0m0s: stakeholders would wait too long for news`,
	} {
		checkProblems(t, "t.yaml", strings.Replace(base, "stakeholder_groups:\n", "comms:\n  update_window: "+in+" #A\nstakeholder_groups:\n", 1), []string{want})
	}
}
