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
	return strings.TrimSpace(subject), strings.TrimSpace(text), nil
}

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
	d := bundleData{BundleInput: in, AckURL: ackURL, Severity: string(worst(in.Items))}
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
	return strings.TrimSpace(subject), strings.TrimSpace(text), nil
}

func (t *Templates) render(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := t.t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return b.String(), nil
}
