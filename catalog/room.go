package catalog

import (
	"fmt"
	"strings"
	"text/template"
)

// RoomFields are what a war room name's template may use.
type RoomFields struct {
	Date     string // the incident's opening day, 20261201
	Service  string
	Severity string // sev1
	Summary  string
}

// MaxRoomName is Slack's limit on a channel name.
const MaxRoomName = 80

// RoomName renders a war room's channel name from the catalog's template:
// lowercase letters, digits and single dashes, at most MaxRoomName
// characters, cut at a word boundary where one is near the end.
func RoomName(tmpl string, f RoomFields) (string, error) {
	t, err := template.New("war_room_name").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return "", fmt.Errorf("bad template: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, f); err != nil {
		return "", fmt.Errorf("bad template: %w", err)
	}
	name := channelSlug(b.String())
	if len(name) > MaxRoomName {
		name = name[:MaxRoomName]
		if i := strings.LastIndexByte(name, '-'); i > MaxRoomName-20 {
			name = name[:i]
		}
	}
	name = strings.Trim(name, "-")
	if name == "" {
		return "", fmt.Errorf("template %q renders an empty name", tmpl)
	}
	return name, nil
}

// channelSlug keeps lowercase letters and digits and turns every run of
// anything else into one dash.
func channelSlug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
