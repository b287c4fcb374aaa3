package activities

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
)

//go:embed templates/*.tmpl
var defaultTemplates embed.FS

// Templates renders messages from text/template files, one per message kind
// and part: page.subject.tmpl, page.text.tmpl. An operator overrides any of
// them by putting a file of the same name in a directory.
type Templates struct {
	t *template.Template
}

// LoadTemplates parses the built-in templates, then dir's, when dir is not empty.
func LoadTemplates(dir string) (*Templates, error) {
	t, err := template.New("sitrep").Option("missingkey=error").ParseFS(defaultTemplates, "templates/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse built-in templates: %w", err)
	}
	if dir != "" {
		files, err := filepath.Glob(filepath.Join(dir, "*.tmpl"))
		if err != nil {
			return nil, fmt.Errorf("templates dir %s: %w", dir, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("read template: %w", err)
			}
			if _, err := t.New(filepath.Base(f)).Parse(string(b)); err != nil {
				return nil, fmt.Errorf("parse template %s: %w", f, err)
			}
		}
	}
	return &Templates{t: t}, nil
}

type pageData struct {
	DeliverInput
	AckURL string
}

// Page renders a page's subject and text.
func (t *Templates) Page(in DeliverInput, ackURL string) (subject, text string, err error) {
	d := pageData{DeliverInput: in, AckURL: ackURL}
	if subject, err = t.render("page.subject.tmpl", d); err != nil {
		return "", "", err
	}
	if text, err = t.render("page.text.tmpl", d); err != nil {
		return "", "", err
	}
	return oneLine(subject), strings.TrimSpace(text), nil
}

// oneLine makes s fit an email subject: its runs of white space, line
// breaks included, become one space. A summary recorded with a line break
// would otherwise make every email carrying it fail for good.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

type bundleData struct {
	BundleInput
	AckURL   string
	Severity string
	Services string
	// Shown are the items the message lists, at most bundleShown, each
	// summary cut short; More is how many it leaves out. An SMS stays within
	// Twilio's 1,600 characters however large the bundle.
	Shown []BundleItem
	More  int
}

// bundleShown is how many incidents a bundled message lists by name.
const bundleShown = 5

// Bundle renders a bundled message's subject and text.
func (t *Templates) Bundle(in BundleInput, ackURL string) (subject, text string, err error) {
	d := bundleData{BundleInput: in, AckURL: ackURL, Severity: string(Worst(in.Items))}
	for i, it := range in.Items {
		if i == bundleShown {
			d.More = len(in.Items) - bundleShown
			break
		}
		if r := []rune(it.Summary); len(r) > 80 {
			it.Summary = string(r[:79]) + "…"
		}
		d.Shown = append(d.Shown, it)
	}
	var svcs []string
	for _, it := range in.Items {
		if !slices.Contains(svcs, it.Service) {
			svcs = append(svcs, it.Service)
		}
	}
	d.Services = strings.Join(svcs, ", ")
	if subject, err = t.render("bundle.subject.tmpl", d); err != nil {
		return "", "", err
	}
	if text, err = t.render("bundle.text.tmpl", d); err != nil {
		return "", "", err
	}
	return oneLine(subject), strings.TrimSpace(text), nil
}

func (t *Templates) render(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := t.t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return b.String(), nil
}

// noticeData is what notice templates see: the notice, and what is worked
// out of it for reading.
type noticeData struct {
	Notice
	Audience string
	// What names what is affected: the status page components, the public
	// names, when the service has them; else the service.
	What string
	// Next is when the next update comes ("10:30 UTC"); empty when none is promised.
	Next string
	// Every is the cadence in words ("30 minutes", "hour"); empty when none.
	Every string
	// Opened is when the incident opened ("09:58 UTC").
	Opened string
	// State is the incident's status as the notice leaves it: Status, or
	// the one its kind implies (resolved, monitoring, investigating).
	State string
	// AlsoAffecting names, in a sentence, the components incidents linked
	// to a public story add; empty for any other notice.
	AlsoAffecting string
}

// Notice renders a stakeholder notice's subject and text with its
// audience's templates: notice.internal.* or notice.external.*.
func (t *Templates) Notice(n Notice, audience catalog.Audience) (subject, text string, err error) {
	if audience != catalog.Internal && audience != catalog.External {
		return "", "", fmt.Errorf("render notice: unknown audience %q", audience)
	}
	d := noticeData{Notice: n, Audience: string(audience), What: what(n), Next: clock(n.NextUpdate),
		Every: every(n.Cadence), Opened: clock(n.OpenedAt), State: statusOf(n), AlsoAffecting: joinAnd(n.Also)}
	prefix := "notice." + string(audience)
	if subject, err = t.render(prefix+".subject.tmpl", d); err != nil {
		return "", "", err
	}
	if text, err = t.render(prefix+".text.tmpl", d); err != nil {
		return "", "", err
	}
	return strings.Join(strings.Fields(subject), " "), strings.TrimSpace(text), nil
}

// StatusTitle renders the name of a status page incident
// (statuspage.title.tmpl): what customers see it listed as, whatever its
// status later.
func (t *Templates) StatusTitle(n Notice) (string, error) {
	d := noticeData{Notice: n, Audience: string(catalog.External), What: what(n), State: statusOf(n)}
	title, err := t.render("statuspage.title.tmpl", d)
	return strings.Join(strings.Fields(title), " "), err
}

type reminderData struct {
	Reminder
	DueAt string // "10:30 UTC"
	// Slash is the war room's slash command for Command, when there is a room.
	Slash string
}

// Reminder renders a reminder's subject and text.
func (t *Templates) Reminder(r Reminder) (subject, text string, err error) {
	d := reminderData{Reminder: r, DueAt: clock(r.Due)}
	if r.Room != "" {
		d.Slash = slashCommand(r.Command, r.Ref, r.IncidentID)
	}
	if subject, err = t.render("reminder.subject.tmpl", d); err != nil {
		return "", "", err
	}
	if text, err = t.render("reminder.text.tmpl", d); err != nil {
		return "", "", err
	}
	return strings.Join(strings.Fields(subject), " "), strings.TrimSpace(text), nil
}

// slashCommand turns `sitrep update INC --status …` into the war room's
// `/sitrep update --status …`: the room names the incident.
func slashCommand(command string, ids ...string) string {
	rest, ok := strings.CutPrefix(command, "sitrep ")
	if !ok {
		return ""
	}
	fields := strings.Fields(rest)
	if len(fields) > 1 && slices.Contains(ids, fields[1]) {
		rest = strings.Replace(rest, " "+fields[1], "", 1)
	}
	return "/sitrep " + rest
}

// clock is t as stakeholders read it, in UTC; "" for the zero time.
func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("15:04 MST")
}

// every says a cadence in words: "30 minutes", "hour", "4 hours".
func every(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d == time.Hour:
		return "hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}

// what names what a notice is about: the status page components, the
// public names, when the service has them; else the service.
func what(n Notice) string {
	if len(n.Components) > 0 {
		return joinAnd(n.Components)
	}
	return n.Service
}

// joinAnd joins names as a sentence does: "A", "A and B", "A, B and C".
func joinAnd(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
