package video

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Bridge gives the video link for an incident's war room. Template and
// *Client implement it.
type Bridge interface {
	// Link returns the URL responders open to join the incident's call.
	Link(ctx context.Context, incidentID, topic string) (string, error)
}

// templateProvider names a Template in its errors.
const templateProvider = "template"

// placeholder is replaced by the incident ID in a Template's URL.
const placeholder = "{incident}"

// Template is a bridge whose link is computed, not created: URL with every
// {incident} replaced by the incident ID, e.g.
// "https://meet.jit.si/sitrep-{incident}". Build it with NewTemplate.
type Template struct {
	URL string
}

// NewTemplate checks that tmpl is an http(s) URL holding {incident} and returns it as a Template.
func NewTemplate(tmpl string) (Template, error) {
	if !strings.Contains(tmpl, placeholder) {
		return Template{}, fmt.Errorf("video URL template %q has no %s placeholder (VIDEO_URL_TEMPLATE)", tmpl, placeholder)
	}
	u, err := url.Parse(strings.ReplaceAll(tmpl, placeholder, "x"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Template{}, fmt.Errorf("video URL template %q is not an http(s) URL (VIDEO_URL_TEMPLATE)", tmpl)
	}
	return Template{URL: tmpl}, nil
}

// Link returns the template's URL for incidentID. Characters other than
// letters, digits and -._~ become dashes, so the ID is safe in any part of
// the URL and makes a valid Jitsi room name. topic is not used.
func (t Template) Link(ctx context.Context, incidentID, topic string) (string, error) {
	if incidentID == "" {
		return "", classify(templateProvider, nil, nil, fmt.Errorf("video link: %w: incident ID is empty", errInvalid))
	}
	room := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == '_', r == '~':
			return r
		}
		return '-'
	}, incidentID)
	return strings.ReplaceAll(t.URL, placeholder, room), nil
}

// FromEnv returns the bridge the environment configures: Zoom when any
// ZOOM_* variable is set (see ConfigFromEnv), a Template when
// VIDEO_URL_TEMPLATE is set. ok is false when neither is; setting both is an error.
func FromEnv(getenv func(string) string) (b Bridge, ok bool, err error) {
	cfg, zoom, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, false, err
	}
	tmpl := getenv("VIDEO_URL_TEMPLATE")
	switch {
	case zoom && tmpl != "":
		return nil, false, errors.New("video config: both ZOOM_* and VIDEO_URL_TEMPLATE are set; set one")
	case zoom:
		c, err := New(cfg)
		if err != nil {
			return nil, false, err
		}
		return c, true, nil
	case tmpl != "":
		t, err := NewTemplate(tmpl)
		if err != nil {
			return nil, false, fmt.Errorf("video config: %w", err)
		}
		return t, true, nil
	}
	return nil, false, nil
}
