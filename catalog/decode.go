package catalog

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// file walks the YAML nodes of one file into the loader's catalog. Walking
// nodes rather than unmarshalling into structs keeps every line number, keeps
// values exactly as written (a phone number stays a string), and lets unknown
// and repeated fields be reported all at once.
type file struct {
	*loader
	name string
}

// What the loader accepts: the fields of each section (in the order
// examples/catalog.yaml documents them), the values of closed sets, and the
// shapes of checked strings.
var (
	topFields      = []string{"catch_all", "bundle_window", "people", "rotations", "teams", "services", "escalation_policies", "severities", "stakeholder_groups", "comms", "postmortem"}
	personFields   = []string{"handle", "name", "timezone", "contacts"}
	rotationFields = []string{"name", "members", "shift", "handoff_day", "handoff_time", "timezone", "start", "overrides"}
	overrideFields = []string{"person", "start", "end"}
	teamFields     = []string{"name", "rotation", "comms_rotation", "policy", "members", "managers", "product_managers", "project_managers", "approvers"}
	serviceFields  = []string{"name", "team", "tier", "policy", "group_window", "stakeholder_groups", "status_page_components"}
	policyFields   = []string{"name", "levels", "repeat", "fallback", "handoff"}
	levelFields    = []string{"targets", "delay"}
	severityFields = []string{"channels", "update_cadence", "repage_after_ack", "repage_escalate_after", "auto_resolve_after",
		"notice", "war_room", "internal_only", "no_news_after"}
	commsFields     = []string{"war_room_name", "remind_before", "role_unfilled_after", "update_window", "roles"}
	roleFields      = []string{"name", "title", "stakeholder_groups"}
	allWhens        = []When{WhenOpen, WhenAck, WhenNever}
	groupFields     = []string{"name", "audience", "emails"}
	allChannels     = []Channel{SMS, Voice, Email, Chat, PagerDuty}
	allSeverities   = []Severity{SEV1, SEV2, SEV3, SEV4}
	allTargetKinds  = []TargetKind{TargetPerson, TargetRotation, TargetTeam}
	yamlLineError   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	phoneNumber     = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	pagerDutyKey    = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	shiftDays       = regexp.MustCompile(`^([0-9]+)d$`)
	localTimeLayout = []string{"2006-01-02 15:04", "2006-01-02T15:04"}
)

func (f *file) at(n *yaml.Node) pos { return pos{file: f.name, line: n.Line} }

func (f *file) errorf(n *yaml.Node, owner, format string, args ...any) {
	f.add(f.at(n), owner, format, args...)
}

// syntax reports a YAML syntax error at its line when yaml.v3 gives one.
func (f *file) syntax(err error) {
	f.broken = true
	if m := yamlLineError.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		f.add(pos{file: f.name, line: line}, "", "yaml: %s", m[2])
		return
	}
	f.add(pos{file: f.name}, "", "%v", err)
}

// define records that kind name is defined at n, reporting a second definition.
func (f *file) define(kind, name string, n *yaml.Node) bool {
	key := kind + " " + name
	if first, ok := f.defined[key]; ok {
		f.errorf(n, fmt.Sprintf("%s %q", kind, name), "already defined at %s", first)
		return false
	}
	f.defined[key] = f.at(n)
	return true
}

// ref records that n names a kind that must exist.
func (f *file) ref(kind string, n named, owner string) {
	f.refs = append(f.refs, ref{at: f.at(n.node), owner: owner, kind: kind, name: n.value})
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func describe(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

// fields returns mapping n's values by key, reporting anything but a mapping,
// unknown keys and repeated keys. A null node is an empty mapping.
func (f *file) fields(n *yaml.Node, owner string, known []string) map[string]*yaml.Node {
	n = resolve(n)
	out := map[string]*yaml.Node{}
	if isNull(n) {
		return out
	}
	if n.Kind != yaml.MappingNode {
		f.errorf(n, owner, "want a mapping of %s, got %s", strings.Join(known, ", "), describe(n))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		switch _, dup := out[k.Value]; {
		case !contains(known, k.Value):
			f.errorf(k, owner, "unknown field %q (want one of %s)", k.Value, strings.Join(known, ", "))
		case dup:
			f.errorf(k, owner, "field %q given twice", k.Value)
		default:
			out[k.Value] = resolve(n.Content[i+1])
		}
	}
	return out
}

// items returns the items of sequence n; a null node is an empty list.
func (f *file) items(n *yaml.Node, owner, field string) []*yaml.Node {
	n = resolve(n)
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		f.errorf(n, owner, "%s: want a list, got %s", field, describe(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = resolve(c)
	}
	return out
}

// list returns the items of field, which must be given and not empty;
// missing says what to give, e.g. "give at least one way to reach them".
func (f *file) list(m map[string]*yaml.Node, parent *yaml.Node, owner, field, missing string) []*yaml.Node {
	n, given := m[field]
	items := f.items(n, owner, field)
	if len(items) == 0 && (!given || isNull(n) || n.Kind == yaml.SequenceNode) {
		at := parent
		if given {
			at = n
		}
		f.errorf(at, owner, "no %s: %s", field, missing)
	}
	return items
}

// pair returns the one key and value of a single-entry mapping such as
// "- sms: +15550100001" or "- rotation: payments-primary".
func (f *file) pair(n *yaml.Node, owner, what string) (key, value *yaml.Node, ok bool) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		f.errorf(n, owner, "%s: want one \"kind: value\" entry, got %s", what, describe(n))
		return nil, nil, false
	}
	return resolve(n.Content[0]), resolve(n.Content[1]), true
}

// named is a scalar and where it is written.
type named struct {
	value string
	node  *yaml.Node
}

// scalar returns the non-empty scalar n.
func (f *file) scalar(n *yaml.Node, owner, field string) (named, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) || strings.TrimSpace(n.Value) == "" {
		f.errorf(n, owner, "%s: want a value, got %s", field, describe(n))
		return named{}, false
	}
	return named{value: n.Value, node: n}, true
}

// nameOf returns the scalar n when it is a usable name: no spaces.
func (f *file) nameOf(n *yaml.Node, owner, field string) (named, bool) {
	v, ok := f.scalar(n, owner, field)
	if ok && strings.ContainsFunc(v.value, func(r rune) bool { return r <= ' ' }) {
		f.errorf(n, owner, "%s: %q must not contain spaces", field, v.value)
		return named{}, false
	}
	return v, ok
}

// optional returns field's value, if given and usable.
func (f *file) optional(m map[string]*yaml.Node, owner, field string) (named, bool) {
	n, ok := m[field]
	if !ok {
		return named{}, false
	}
	return f.nameOf(n, owner, field)
}

// required returns field's value, reporting it missing at parent.
func (f *file) required(m map[string]*yaml.Node, parent *yaml.Node, owner, field string) (named, bool) {
	n, ok := m[field]
	if !ok {
		f.errorf(parent, owner, "missing field %q", field)
		return named{}, false
	}
	return f.nameOf(n, owner, field)
}

// names returns the names listed in field, reporting any listed twice.
func (f *file) names(m map[string]*yaml.Node, owner, field string) []named {
	n, ok := m[field]
	if !ok {
		return nil
	}
	var out []named
	seen := map[string]bool{}
	for _, item := range f.items(n, owner, field) {
		v, ok := f.nameOf(item, owner, field)
		if !ok {
			continue
		}
		if seen[v.value] {
			f.errorf(item, owner, "%s: %q listed twice", field, v.value)
			continue
		}
		seen[v.value] = true
		out = append(out, v)
	}
	return out
}

// refNames records every name in field as a reference to kind and returns them.
func (f *file) refNames(m map[string]*yaml.Node, owner, field, kind string) []string {
	var out []string
	for _, v := range f.names(m, owner, field) {
		f.ref(kind, v, owner)
		out = append(out, v.value)
	}
	return out
}

func contains[T ~string](list []T, s string) bool {
	for _, v := range list {
		if string(v) == s {
			return true
		}
	}
	return false
}

func join[T ~string](list []T) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// duration parses a Go duration such as 30s, 5m or 1h30m; with allowNone,
// "none" means 0.
func (f *file) duration(n *yaml.Node, owner, field string, allowNone bool) (time.Duration, bool) {
	v, ok := f.scalar(n, owner, field)
	if !ok {
		return 0, false
	}
	if allowNone && v.value == "none" {
		return 0, true
	}
	d, err := time.ParseDuration(v.value)
	switch {
	case err != nil:
		want := `a duration like 30s, 5m or 1h`
		if allowNone {
			want += ` or "none"`
		}
		f.errorf(n, owner, "%s: bad duration %q (want %s)", field, v.value, want)
		return 0, false
	case d < 0, d == 0 && !allowNone:
		f.errorf(n, owner, "%s: must be positive, got %s", field, v.value)
		return 0, false
	}
	return d, true
}

// integer parses a whole number between lo and hi.
func (f *file) integer(n *yaml.Node, owner, field string, lo, hi int) (int, bool) {
	v, ok := f.scalar(n, owner, field)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(v.value)
	if err != nil || i < lo || i > hi {
		f.errorf(n, owner, "%s: want a whole number from %d to %d, got %q", field, lo, hi, v.value)
		return 0, false
	}
	return i, true
}

func (f *file) location(n *yaml.Node, owner string) (*time.Location, string, bool) {
	v, ok := f.scalar(n, owner, "timezone")
	if !ok {
		return nil, "", false
	}
	loc, err := time.LoadLocation(v.value)
	if err != nil || v.value == "Local" {
		f.errorf(n, owner, "timezone: unknown time zone %q (want an IANA name like Europe/Berlin)", v.value)
		return nil, "", false
	}
	return loc, v.value, true
}

// top reads one document.
func (f *file) top(n *yaml.Node) {
	m := f.fields(n, "", topFields)
	if v, ok := m["catch_all"]; ok {
		if name, ok := f.nameOf(v, "", "catch_all"); ok {
			if f.catchAll != nil {
				f.errorf(v, "", "catch_all: already set at %s", *f.catchAll)
			} else {
				at := f.at(v)
				f.catchAll = &at
				f.c.CatchAll = name.value
				f.ref("team", name, "catch_all")
			}
		}
	}
	if v, ok := m["bundle_window"]; ok {
		f.c.BundleWindow, _ = f.duration(v, "", "bundle_window", true)
	}
	for _, item := range f.items(m["people"], "", "people") {
		f.person(item)
	}
	for _, item := range f.items(m["rotations"], "", "rotations") {
		f.rotation(item)
	}
	for _, item := range f.items(m["teams"], "", "teams") {
		f.team(item)
	}
	for _, item := range f.items(m["services"], "", "services") {
		f.service(item)
	}
	for _, item := range f.items(m["escalation_policies"], "", "escalation_policies") {
		f.policy(item)
	}
	if v, ok := m["severities"]; ok {
		f.severities(keyNode(n, "severities"), v)
	}
	for _, item := range f.items(m["stakeholder_groups"], "", "stakeholder_groups") {
		f.group(item)
	}
	if v, ok := m["comms"]; ok {
		f.comms(keyNode(n, "comms"), v)
	}
	if v, ok := m["postmortem"]; ok {
		f.postmortem(keyNode(n, "postmortem"), v)
	}
}

// comms reads the communication settings.
func (f *file) comms(key, n *yaml.Node) {
	if f.commsAt != nil {
		f.errorf(key, "", "comms: already set at %s", *f.commsAt)
		return
	}
	at := f.at(key)
	f.commsAt = &at
	m := f.fields(n, "comms", commsFields)
	c := &f.c.Comms
	if v, ok := m["war_room_name"]; ok {
		if name, ok := f.scalar(v, "comms", "war_room_name"); ok {
			if _, err := RoomName(name.value, RoomFields{Date: "20260101", Service: "svc", Severity: "sev1", Summary: "x"}); err != nil {
				f.errorf(v, "comms", "war_room_name: %v", err)
			} else {
				c.RoomName = name.value
			}
		}
	}
	if v, ok := m["remind_before"]; ok {
		c.RemindBefore, _ = f.duration(v, "comms", "remind_before", false)
	}
	if v, ok := m["role_unfilled_after"]; ok {
		c.RoleUnfilledAfter, _ = f.duration(v, "comms", "role_unfilled_after", true)
	}
	if v, ok := m["update_window"]; ok {
		if d, ok := f.duration(v, "comms", "update_window", true); ok {
			if d > MaxUpdateWindow {
				f.errorf(v, "comms", "update_window: %s is longer than %s: stakeholders would wait too long for news", d, MaxUpdateWindow)
			} else {
				c.UpdateWindow = d
			}
		}
	}
	for _, item := range f.items(m["roles"], "comms", "roles") {
		rm, name, owner, ok := f.head(item, "role", "name", roleFields)
		if rm == nil {
			continue
		}
		if name.value == RoleCommander || name.value == RoleComms {
			f.errorf(name.node, owner, "%q is built in; list only the roles beyond commander and comms", name.value)
			continue
		}
		r := Role{Name: name.value, Title: name.value}
		if v, ok := rm["title"]; ok {
			if t, ok := f.scalar(v, owner, "title"); ok {
				r.Title = t.value
			}
		}
		r.StakeholderGroups = f.refNames(rm, owner, "stakeholder_groups", "stakeholder group")
		if len(r.StakeholderGroups) == 0 {
			f.errorf(item, owner, "no stakeholder_groups: a role speaks to an audience; list its groups")
		}
		if ok {
			c.Roles = append(c.Roles, r)
		}
	}
}

// when reads "open", "ack" or "none".
func (f *file) when(n *yaml.Node, owner, field string) When {
	v, ok := f.scalar(n, owner, field)
	if !ok {
		return ""
	}
	if !contains(allWhens, v.value) {
		f.errorf(n, owner, "%s: unknown value %q (want open, ack or none)", field, v.value)
		return ""
	}
	return When(v.value)
}

// head reads an entry's fields and its name, returning the owner to name it by
// in messages and whether to add the entry to the catalog (a usable name, not
// defined before). It returns nil fields for an entry that is not a mapping.
func (f *file) head(n *yaml.Node, kind, nameField string, known []string) (map[string]*yaml.Node, named, string, bool) {
	if n = resolve(n); n.Kind != yaml.MappingNode {
		f.errorf(n, "", "%s: want a mapping of %s, got %s", kind, strings.Join(known, ", "), describe(n))
		return nil, named{}, kind, false
	}
	// Name the entry in messages about its other fields when its name is usable.
	owner := kind
	if key := keyNode(n, nameField); key != n {
		if v := resolve(valueOf(n, key)); v.Kind == yaml.ScalarNode && v.Value != "" &&
			!strings.ContainsFunc(v.Value, func(r rune) bool { return r <= ' ' }) {
			owner = fmt.Sprintf("%s %q", kind, v.Value)
		}
	}
	m := f.fields(n, owner, known)
	name, ok := f.required(m, n, kind, nameField)
	if !ok {
		return m, name, kind, false
	}
	return m, name, owner, f.define(kind, name.value, name.node)
}

// valueOf returns the value that follows key in mapping n.
func valueOf(n, key *yaml.Node) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i] == key {
			return n.Content[i+1]
		}
	}
	return key
}

func (f *file) person(n *yaml.Node) {
	m, handle, owner, ok := f.head(n, "person", "handle", personFields)
	if m == nil {
		return
	}
	p := &Person{Handle: handle.value, Name: handle.value}
	if v, ok := m["name"]; ok {
		if name, ok := f.scalar(v, owner, "name"); ok {
			p.Name = name.value
		}
	}
	if v, ok := m["timezone"]; ok {
		if _, tz, ok := f.location(v, owner); ok {
			p.Timezone = tz
		}
	}
	contacts := f.list(m, n, owner, "contacts", "give at least one way to reach them")
	for _, c := range contacts {
		k, v, okPair := f.pair(c, owner, "contact")
		if !okPair {
			continue
		}
		ch := Channel(k.Value)
		if !contains(allChannels, k.Value) {
			f.errorf(k, owner, "unknown channel %q (want one of %s)", k.Value, join(allChannels))
			continue
		}
		addr, okAddr := f.scalar(v, owner, string(ch))
		if !okAddr || !f.address(v, owner, ch, addr.value) {
			continue
		}
		if slices.ContainsFunc(p.Contacts, func(c Contact) bool { return c.Channel == ch }) {
			f.errorf(k, owner, "channel %s listed twice", ch)
			continue
		}
		p.Contacts = append(p.Contacts, Contact{Channel: ch, Address: addr.value})
	}
	if ok {
		f.c.People[p.Handle] = p
	}
}

// address checks addr looks right for ch.
func (f *file) address(n *yaml.Node, owner string, ch Channel, addr string) bool {
	var want string
	switch ch {
	case SMS, Voice:
		if !phoneNumber.MatchString(addr) {
			want = "an E.164 phone number like +15550100001"
		}
	case Email:
		if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr {
			want = "a plain address like alice@example.com"
		}
	case Chat:
		if strings.ContainsFunc(addr, func(r rune) bool { return r <= ' ' }) {
			want = "a chat user ID like U0001"
		}
	case PagerDuty:
		if !pagerDutyKey.MatchString(addr) {
			want = "a 32-character integration routing key"
		}
	}
	if want != "" {
		f.errorf(n, owner, "%s: bad address %q (want %s)", ch, addr, want)
		return false
	}
	return true
}

func (f *file) rotation(n *yaml.Node) {
	m, name, owner, ok := f.head(n, "rotation", "name", rotationFields)
	if m == nil {
		return
	}
	r := &Rotation{Name: name.value}
	for _, item := range f.list(m, n, owner, "members", "give the people who take turns") {
		if v, ok := f.nameOf(item, owner, "members"); ok {
			f.ref("person", v, owner)
			r.Members = append(r.Members, v.value)
		}
	}

	if v, given := f.required(m, n, owner, "shift"); given {
		switch v.value {
		case "daily":
			r.ShiftDays = 1
		case "weekly":
			r.ShiftDays = 7
		default:
			if s := shiftDays.FindStringSubmatch(v.value); s != nil {
				r.ShiftDays, _ = strconv.Atoi(s[1])
			}
			if r.ShiftDays < 1 || r.ShiftDays > 366 {
				r.ShiftDays = 0
				f.errorf(v.node, owner, "shift: bad shift %q (want daily, weekly or a number of days like 3d)", v.value)
			}
		}
	}

	var locOK bool
	if v, given := m["timezone"]; given {
		r.Location, r.Timezone, locOK = f.location(v, owner)
	} else {
		f.errorf(n, owner, "missing field %q", "timezone")
	}

	timeOK := false
	if v, given := f.required(m, n, owner, "handoff_time"); given {
		t, err := time.Parse("15:04", v.value)
		if err != nil || len(v.value) != 5 {
			f.errorf(v.node, owner, "handoff_time: bad time %q (want HH:MM, 24-hour, like 09:00)", v.value)
		} else {
			r.HandoffHour, r.HandoffMinute, timeOK = t.Hour(), t.Minute(), true
		}
	}

	var start time.Time
	startOK := false
	if v, given := f.required(m, n, owner, "start"); given {
		t, err := time.Parse(time.DateOnly, v.value)
		if err != nil {
			f.errorf(v.node, owner, "start: bad date %q (want YYYY-MM-DD)", v.value)
		} else {
			start, startOK = t, true
		}
	}

	if v, given := f.optional(m, owner, "handoff_day"); given {
		day, dayOK := parseWeekday(v.value)
		switch {
		case !dayOK:
			f.errorf(v.node, owner, "handoff_day: bad weekday %q (want monday to sunday)", v.value)
		case r.ShiftDays != 0 && r.ShiftDays%7 != 0:
			f.errorf(v.node, owner, "handoff_day: only for shifts of whole weeks, not %d days", r.ShiftDays)
		case startOK && start.Weekday() != day:
			f.errorf(v.node, owner, "handoff_day: %s, but start %s is a %s", day, start.Format(time.DateOnly), start.Weekday())
		}
	}

	if locOK && timeOK && startOK {
		r.Start = time.Date(start.Year(), start.Month(), start.Day(), r.HandoffHour, r.HandoffMinute, 0, 0, r.Location)
	}

	parseLoc := r.Location
	if parseLoc == nil {
		parseLoc = time.UTC // still check the times' format
	}
	for _, item := range f.items(m["overrides"], owner, "overrides") {
		om := f.fields(item, owner+": override", overrideFields)
		o := Override{}
		okO := true
		if p, given := f.required(om, item, owner+": override", "person"); given {
			f.ref("person", p, owner+": override")
			o.Person = p.value
		} else {
			okO = false
		}
		var okS, okE bool
		o.Start, okS = f.instant(om, item, owner+": override", "start", parseLoc)
		o.End, okE = f.instant(om, item, owner+": override", "end", parseLoc)
		if okS && okE && !o.End.After(o.Start) {
			f.errorf(om["end"], owner+": override", "end: must be after start")
			okE = false
		}
		if okO && okS && okE {
			r.Overrides = append(r.Overrides, o)
		}
	}
	if ok {
		f.c.Rotations[r.Name] = r
	}
}

// instant parses field as RFC 3339 ("2026-03-02T09:00:00+01:00") or as a local
// time in loc ("2026-03-02 09:00").
func (f *file) instant(m map[string]*yaml.Node, parent *yaml.Node, owner, field string, loc *time.Location) (time.Time, bool) {
	v, ok := m[field]
	if !ok {
		f.errorf(parent, owner, "missing field %q", field)
		return time.Time{}, false
	}
	s, ok := f.scalar(v, owner, field)
	if !ok {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339, s.value); err == nil {
		return t, true
	}
	for _, layout := range localTimeLayout {
		if t, err := time.ParseInLocation(layout, s.value, loc); err == nil {
			return t, true
		}
	}
	f.errorf(v, owner, "%s: bad time %q (want 2026-03-02 09:00 in the rotation's timezone, or RFC 3339)", field, s.value)
	return time.Time{}, false
}

func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(s)
	for d := time.Sunday; d <= time.Saturday; d++ {
		full := strings.ToLower(d.String())
		if s == full || s == full[:3] {
			return d, true
		}
	}
	return 0, false
}

func (f *file) team(n *yaml.Node) {
	m, name, owner, ok := f.head(n, "team", "name", teamFields)
	if m == nil {
		return
	}
	t := &Team{Name: name.value}
	if v, given := f.optional(m, owner, "rotation"); given {
		f.ref("rotation", v, owner)
		t.Rotation = v.value
	}
	if v, given := f.optional(m, owner, "comms_rotation"); given {
		f.ref("rotation", v, owner)
		t.CommsRotation = v.value
	}
	if v, given := f.optional(m, owner, "policy"); given {
		f.ref("policy", v, owner)
		t.Policy = v.value
	}
	t.Members = f.refNames(m, owner, "members", "person")
	t.Managers = f.refNames(m, owner, "managers", "person")
	t.ProductManagers = f.refNames(m, owner, "product_managers", "person")
	t.ProjectManagers = f.refNames(m, owner, "project_managers", "person")
	t.Approvers = f.refNames(m, owner, "approvers", "person")
	if ok {
		f.c.Teams[t.Name] = t
	}
}

func (f *file) service(n *yaml.Node) {
	m, name, owner, ok := f.head(n, "service", "name", serviceFields)
	if m == nil {
		return
	}
	s := &Service{Name: name.value}
	if v, given := f.required(m, n, owner, "team"); given {
		f.ref("team", v, owner)
		s.Team = v.value
	}
	if v, given := m["tier"]; given {
		s.Tier, _ = f.integer(v, owner, "tier", 1, 3)
	} else {
		f.errorf(n, owner, "missing field %q", "tier")
	}
	if v, given := f.optional(m, owner, "policy"); given {
		f.ref("policy", v, owner)
		s.Policy = v.value
	}
	if v, given := m["group_window"]; given {
		s.GroupWindow, _ = f.duration(v, owner, "group_window", true)
	}
	s.StakeholderGroups = f.refNames(m, owner, "stakeholder_groups", "stakeholder group")
	if v, given := m["status_page_components"]; given {
		for _, item := range f.items(v, owner, "status_page_components") {
			if c, ok := f.scalar(item, owner, "status_page_components"); ok {
				s.StatusPageComponents = append(s.StatusPageComponents, c.value)
			}
		}
	}
	if ok {
		f.c.Services[s.Name] = s
	}
}

func (f *file) policy(n *yaml.Node) {
	m, name, owner, ok := f.head(n, "policy", "name", policyFields)
	if m == nil {
		return
	}
	p := &Policy{Name: name.value}
	for i, item := range f.list(m, n, owner, "levels", "give at least one") {
		lowner := fmt.Sprintf("%s: level %d", owner, i+1)
		lm := f.fields(item, lowner, levelFields)
		l := Level{}
		for _, t := range f.list(lm, item, lowner, "targets", "give at least one person, rotation or team") {
			k, v, ok := f.pair(t, lowner, "target")
			if !ok {
				continue
			}
			if !contains(allTargetKinds, k.Value) {
				f.errorf(k, lowner, "unknown target kind %q (want one of %s)", k.Value, join(allTargetKinds))
				continue
			}
			tn, ok := f.nameOf(v, lowner, k.Value)
			if !ok {
				continue
			}
			kind := TargetKind(k.Value)
			f.ref(string(kind), tn, lowner)
			l.Targets = append(l.Targets, Target{Kind: kind, Name: tn.value})
		}
		if v, given := lm["delay"]; given {
			l.Delay, _ = f.duration(v, lowner, "delay", false)
		} else {
			f.errorf(item, lowner, "missing field %q", "delay")
		}
		p.Levels = append(p.Levels, l)
	}
	if v, given := m["repeat"]; given {
		p.Repeat, _ = f.integer(v, owner, "repeat", 0, 100)
	}
	if v, given := f.optional(m, owner, "fallback"); given {
		f.ref("person", v, owner)
		p.Fallback = v.value
	}
	if v, given := f.optional(m, owner, "handoff"); given {
		f.ref("policy", v, owner)
		f.handoffAt[p.Name] = f.at(v.node)
		p.Handoff = v.value
	}
	if ok {
		f.c.Policies[p.Name] = p
	}
}

func (f *file) severities(key, n *yaml.Node) {
	if f.sevAt == nil {
		at := f.at(key)
		f.sevAt = &at
	}
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		f.errorf(n, "", "severities: want a mapping of SEV1 to SEV4, got %s", describe(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		sev := Severity(key.Value)
		if !contains(allSeverities, key.Value) {
			f.errorf(key, "", "severities: unknown severity %q (want %s)", key.Value, join(allSeverities))
			continue
		}
		owner := fmt.Sprintf("severity %q", sev)
		if !f.define("severity", string(sev), key) {
			continue
		}
		sp := &SeverityPolicy{Severity: sev, Channels: map[int][]Channel{}}
		sm := f.fields(v, owner, severityFields)
		if cv, given := sm["channels"]; given {
			f.tierChannels(cv, owner, sp)
		} else {
			f.errorf(key, owner, "missing field %q", "channels")
		}
		if cv, given := sm["update_cadence"]; given {
			sp.UpdateCadence, _ = f.duration(cv, owner, "update_cadence", true)
		} else {
			f.errorf(key, owner, "missing field %q", "update_cadence")
		}
		if cv, given := sm["repage_after_ack"]; given {
			sp.RepageAfterAck, _ = f.duration(cv, owner, "repage_after_ack", true)
		}
		sp.RepageEscalateAfter = DefaultRepageEscalateAfter
		if cv, given := sm["repage_escalate_after"]; given {
			sp.RepageEscalateAfter, _ = f.integer(cv, owner, "repage_escalate_after", 0, 100)
		}
		sp.AutoResolveAfter = DefaultAutoResolveAfter
		if cv, given := sm["auto_resolve_after"]; given {
			sp.AutoResolveAfter, _ = f.duration(cv, owner, "auto_resolve_after", true)
		}
		sp.Notice, sp.WarRoom = WhenAck, WhenAck
		if cv, given := sm["notice"]; given {
			sp.Notice = f.when(cv, owner, "notice")
		}
		if cv, given := sm["war_room"]; given {
			sp.WarRoom = f.when(cv, owner, "war_room")
		}
		if cv, given := sm["internal_only"]; given {
			if b, ok := f.scalar(cv, owner, "internal_only"); ok {
				switch b.value {
				case "true":
					sp.InternalOnly = true
				case "false":
				default:
					f.errorf(cv, owner, "internal_only: want true or false, got %q", b.value)
				}
			}
		}
		if cv, given := sm["no_news_after"]; given {
			sp.NoNewsAfter, _ = f.duration(cv, owner, "no_news_after", true)
		}
		f.c.Severities[sev] = sp
	}
}

func (f *file) tierChannels(n *yaml.Node, owner string, sp *SeverityPolicy) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		f.errorf(n, owner, "channels: want a mapping of tier (1, 2, 3) to channels, got %s", describe(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		tier, ok := f.integer(k, owner, "channels: tier", 1, 3)
		if !ok {
			continue
		}
		if _, dup := sp.Channels[tier]; dup {
			f.errorf(k, owner, "channels: tier %d given twice", tier)
			continue
		}
		towner := fmt.Sprintf("%s: tier %d", owner, tier)
		list := f.items(n.Content[i+1], towner, "channels")
		if len(list) == 0 {
			f.errorf(k, towner, "no channels")
		}
		chs := []Channel{}
		for _, item := range list {
			c, ok := f.scalar(item, towner, "channel")
			switch {
			case !ok:
			case !contains(allChannels, c.value):
				f.errorf(item, towner, "unknown channel %q (want one of %s)", c.value, join(allChannels))
			case contains(chs, c.value):
				f.errorf(item, towner, "channel %s listed twice", c.value)
			default:
				chs = append(chs, Channel(c.value))
			}
		}
		sp.Channels[tier] = chs
	}
	for tier := 1; tier <= 3; tier++ {
		if _, ok := sp.Channels[tier]; !ok {
			f.errorf(n, owner, "channels: missing tier %d", tier)
		}
	}
}

func (f *file) group(n *yaml.Node) {
	m, name, owner, ok := f.head(n, "stakeholder group", "name", groupFields)
	if m == nil {
		return
	}
	g := &StakeholderGroup{Name: name.value}
	if v, given := f.required(m, n, owner, "audience"); given {
		switch a := Audience(v.value); a {
		case Internal, External:
			g.Audience = a
		default:
			f.errorf(v.node, owner, "audience: unknown audience %q (want internal or external)", v.value)
		}
	}
	for _, item := range f.list(m, n, owner, "emails", "give at least one") {
		e, ok := f.scalar(item, owner, "emails")
		switch {
		case !ok:
		case slices.Contains(g.Emails, e.value):
			f.errorf(item, owner, "emails: %q listed twice", e.value)
		case f.address(item, owner, Email, e.value):
			g.Emails = append(g.Emails, e.value)
		}
	}
	if ok {
		f.c.StakeholderGroups[g.Name] = g
	}
}

// keyNode returns the key node for key in mapping n, or n itself.
func keyNode(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return n
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return n
}
