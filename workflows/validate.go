package workflows

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The caps on what one alert may carry. A summary over its cap is truncated
// with TruncatedMarker, so that an alert is never lost for being verbose;
// any other field over its cap is refused by ValidateAlert, naming it.
// Together they keep an alert, escaped as JSON, far under Temporal's 2 MiB
// payload limit.
const (
	MaxSummary    = 1024 // bytes, the marker included; as PagerDuty does: it titles every page
	MaxService    = 128
	MaxDedupKey   = 2048 // room for the default, service|summary
	MaxLabels     = 64
	MaxLabelKey   = 128
	MaxLabelValue = 1024
	MaxLinks      = 20
	MaxLink       = 2048
	MaxReporter   = 200
)

// The caps on what people type: a mitigate or resolve note (one line, it
// reads in the timeline) and a stakeholder update's message (it may hold
// line breaks). Longer text is truncated with TruncatedMarker.
const (
	MaxNote    = 1024
	MaxMessage = 4096
)

// TruncatedMarker ends a text cut to its cap.
const TruncatedMarker = "… [truncated]"

// CleanAlert makes an alert safe to record and to show, in place, whatever
// path it came by: every text field goes through CleanLine (so the summary,
// which titles every page and email, is one line), the summary is
// truncated to MaxSummary, labels whose name cleans to nothing and links
// that clean to nothing are dropped. Other caps are ValidateAlert's to report.
func CleanAlert(al *Alert) {
	al.Service = CleanLine(al.Service)
	al.Summary = Truncate(CleanLine(al.Summary), MaxSummary)
	al.DedupKey = CleanLine(al.DedupKey)
	al.Reporter = CleanLine(al.Reporter)
	al.Integration = CleanLine(al.Integration)
	if len(al.Labels) > 0 {
		clean := make(map[string]string, len(al.Labels))
		for _, k := range slices.Sorted(maps.Keys(al.Labels)) {
			if ck := CleanLine(k); ck != "" {
				clean[ck] = CleanLine(al.Labels[k])
			}
		}
		al.Labels = clean
	}
	if len(al.Links) > 0 {
		links := make([]string, 0, len(al.Links))
		for _, l := range al.Links {
			if cl := CleanLine(l); cl != "" {
				links = append(links, cl)
			}
		}
		al.Links = links
	}
}

// ValidateAlert reports every problem with an alert at once: a missing
// field, a field over its cap, or text CleanAlert would have changed.
func ValidateAlert(al Alert) error {
	var errs []error
	if strings.TrimSpace(al.Service) == "" {
		errs = append(errs, errors.New("alert: service is empty"))
	}
	if !slices.Contains([]string{"SEV1", "SEV2", "SEV3", "SEV4"}, string(al.Severity)) {
		errs = append(errs, fmt.Errorf("alert: severity %q is not one of SEV1, SEV2, SEV3, SEV4", al.Severity))
	}
	if strings.TrimSpace(al.Summary) == "" {
		errs = append(errs, errors.New("alert: summary is empty"))
	}
	if al.DedupKey == "" {
		errs = append(errs, errors.New("alert: dedup key is empty"))
	}
	if !slices.Contains([]Source{Monitoring, Internal, External}, al.Source) {
		errs = append(errs, fmt.Errorf("alert: source %q is not monitoring, internal or external", al.Source))
	}
	for _, f := range []struct {
		name, value string
		limit       int
	}{
		{"service", al.Service, MaxService},
		{"summary", al.Summary, MaxSummary},
		{"dedup key", al.DedupKey, MaxDedupKey},
		{"reporter", al.Reporter, MaxReporter},
	} {
		switch {
		case len(f.value) > f.limit:
			errs = append(errs, fmt.Errorf("alert: %s is %d bytes, more than %d", f.name, len(f.value), f.limit))
		case CleanLine(f.value) != f.value:
			errs = append(errs, fmt.Errorf("alert: %s holds line breaks, control characters or surrounding spaces", f.name))
		}
	}
	if len(al.Labels) > MaxLabels {
		errs = append(errs, fmt.Errorf("alert: %d labels, more than %d", len(al.Labels), MaxLabels))
	}
	for _, k := range slices.Sorted(maps.Keys(al.Labels)) {
		v := al.Labels[k]
		switch {
		case len(k) > MaxLabelKey:
			errs = append(errs, fmt.Errorf("alert: a label name is longer than %d bytes (%.40q…)", MaxLabelKey, k))
		case len(v) > MaxLabelValue:
			errs = append(errs, fmt.Errorf("alert: label %.40q is longer than %d bytes", k, MaxLabelValue))
		case k == "" || CleanLine(k) != k || CleanLine(v) != v:
			errs = append(errs, fmt.Errorf("alert: label %.40q holds line breaks or control characters", k))
		}
	}
	if len(al.Links) > MaxLinks {
		errs = append(errs, fmt.Errorf("alert: %d links, more than %d", len(al.Links), MaxLinks))
	}
	for i, l := range al.Links {
		switch {
		case len(l) > MaxLink:
			errs = append(errs, fmt.Errorf("alert: link %d is longer than %d bytes", i+1, MaxLink))
		case l == "" || CleanLine(l) != l:
			errs = append(errs, fmt.Errorf("alert: link %d is empty or holds line breaks or control characters", i+1))
		}
	}
	return errors.Join(errs...)
}

// CleanNote cleans a mitigate or resolve note: one line (CleanLine), at
// most MaxNote bytes.
func CleanNote(s string) string { return Truncate(CleanLine(s), MaxNote) }

// CleanMessage cleans a stakeholder update's message: its line breaks stay
// (as "\n"), everything else CleanLine strips goes, and it is cut to
// MaxMessage bytes. What becomes an email subject is never a message.
func CleanMessage(s string) string { return Truncate(clean(s, false), MaxMessage) }

// ansiEscape matches terminal escape sequences: CSI (colours, cursor moves),
// OSC (titles, hyperlinks) and two-character escapes.
var ansiEscape = regexp.MustCompile(`\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]`)

// CleanLine makes untrusted text safe to show in a terminal, a chat message,
// an email subject or the Temporal UI: invalid UTF-8 becomes U+FFFD, ANSI
// escape sequences go, line breaks and tabs become spaces (a summary is one
// line: a CR/LF in it could forge a second line in a log, or a header in an
// email), other control characters and the invisible bidi and zero-width
// formatting characters that can disguise text (U+202E and its kin) go, and
// the result is trimmed.
func CleanLine(s string) string { return clean(s, true) }

// clean is CleanLine; with oneLine false, line breaks stay, as "\n".
func clean(s string, oneLine bool) string {
	if isPlain(s) {
		return strings.TrimSpace(s)
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = ansiEscape.ReplaceAllString(s, "")
	if !oneLine {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == 0x85 || r == 0x2028 || r == 0x2029:
			if oneLine {
				b.WriteByte(' ')
			} else {
				b.WriteByte('\n')
			}
		case unicode.IsControl(r), isHiddenFormat(r):
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// isPlain reports whether s is printable ASCII only, the common case, which
// needs no cleaning.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// isHiddenFormat reports whether r is an invisible character that reorders
// or hides text: the bidi embeddings, overrides, isolates and marks, and the
// zero-width space, word joiner and byte-order mark. Zero-width (non-)joiners
// stay: scripts and emoji need them.
func isHiddenFormat(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200b, r == 0x200e, r == 0x200f, r == 0xfeff:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2060 && r <= 0x206f, r >= 0xfff9 && r <= 0xfffb:
		return true
	}
	return false
}

// Truncate cuts s to at most limit bytes, on a rune boundary, ending it
// with TruncatedMarker.
func Truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len(TruncatedMarker)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + TruncatedMarker
}
