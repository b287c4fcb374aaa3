package workflows

import (
	"strings"
	"testing"
)

func TestCleanLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"  padded\t", "padded"},
		{"db down\r\nBcc: x", "db down  Bcc: x"},
		{"a\nb\rc\vd\fe\u0085f\u2028g\u2029h", "a b c d e f g h"},
		{"\x1b[31mred\x1b[0m", "red"},
		{"\x1b]8;;https://evil\x07x\x1b]8;;\x07", "x"},
		{"gnp\u202e.exe\u200b", "gnp.exe"},
		{"bell\x07 nul\x00", "bell nul"},
		{"\xff\xfe", "\uFFFD"},
		{"é\u200d👩", "é\u200d👩"},
		{"\r\n\t", ""},
	} {
		if got := CleanLine(tc.in); got != tc.want {
			t.Errorf("CleanLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := CleanLine(tc.want); got != tc.want {
			t.Errorf("CleanLine is not idempotent on %q: %q", tc.want, got)
		}
	}
}

func TestCleanMessageKeepsLineBreaks(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Line one\r\nline two\n", "Line one\nline two"},
		{"a\rb\u2028c", "a\nb\nc"},
		{"tab\there \x1b[2J\x07\u202e", "tab here"},
		{"\x00\x1b[31m\r\n", ""},
		{strings.Repeat("x", MaxMessage+1), strings.Repeat("x", MaxMessage-len(TruncatedMarker)) + TruncatedMarker},
	} {
		if got := CleanMessage(tc.in); got != tc.want {
			t.Errorf("CleanMessage(%.40q) = %.60q, want %.60q", tc.in, got, tc.want)
		}
	}
	if got := CleanNote("rolled back\nBcc: x"); got != "rolled back Bcc: x" {
		t.Errorf("CleanNote keeps a line break: %q", got)
	}
	if got := CleanNote(strings.Repeat("é", MaxNote)); len(got) > MaxNote || !strings.HasSuffix(got, TruncatedMarker) {
		t.Errorf("CleanNote leaves %d bytes", len(got))
	}
}

// CleanAlert then ValidateAlert: what every path that creates an alert
// does. A summary with a line break comes out one line; what cannot be
// cleaned into a valid alert is refused, each problem named.
func TestCleanAndValidateAlert(t *testing.T) {
	ok := func() Alert {
		return Alert{Source: Monitoring, Service: "checkout", Severity: "SEV2", Summary: "error rate 12%", DedupKey: "k"}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Alert)
		check func(Alert) bool // on the cleaned alert
		errs  []string         // ValidateAlert's problems; none: valid
	}{
		{name: "clean already", edit: func(*Alert) {}, check: func(a Alert) bool { return a.Summary == "error rate 12%" }},
		{name: "line break in the summary", edit: func(a *Alert) { a.Summary = "db down\r\nBcc: x" },
			check: func(a Alert) bool { return a.Summary == "db down  Bcc: x" }},
		{name: "long summary truncated, not refused", edit: func(a *Alert) { a.Summary = strings.Repeat("é", MaxSummary) },
			check: func(a Alert) bool {
				return len(a.Summary) <= MaxSummary && strings.HasSuffix(a.Summary, TruncatedMarker)
			}},
		{name: "labels and links cleaned", edit: func(a *Alert) {
			a.Labels = map[string]string{"re\x1b]0;x\x07gion": "eu\u20661", "\n": "dropped"}
			a.Links = []string{" https://example.com/a\n", "\x07"}
		}, check: func(a Alert) bool {
			return len(a.Labels) == 1 && a.Labels["region"] == "eu1" && len(a.Links) == 1 && a.Links[0] == "https://example.com/a"
		}},
		{name: "summary of control characters only", edit: func(a *Alert) { a.Summary = "\x1b[2J\r\n" }, errs: []string{"summary is empty"}},
		{name: "fields over their caps", edit: func(a *Alert) {
			a.Service = strings.Repeat("s", MaxService+1)
			a.DedupKey = strings.Repeat("k", MaxDedupKey+1)
			a.Reporter = strings.Repeat("r", MaxReporter+1)
			a.Links = []string{"https://example.com/" + strings.Repeat("l", MaxLink)}
		}, errs: []string{"service is 129 bytes, more than 128", "dedup key is 2049 bytes", "reporter is 201 bytes", "link 1 is longer than 2048 bytes"}},
		{name: "too many labels", edit: func(a *Alert) {
			a.Labels = map[string]string{}
			for i := range MaxLabels + 1 {
				a.Labels[strings.Repeat("k", i+1)] = "v"
			}
		}, errs: []string{"65 labels, more than 64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			al := ok()
			tc.edit(&al)
			CleanAlert(&al)
			if tc.check != nil && !tc.check(al) {
				t.Errorf("cleaned: %+v", al)
			}
			err := ValidateAlert(al)
			if len(tc.errs) == 0 && err != nil {
				t.Fatalf("cleaned alert refused: %v", err)
			}
			for _, w := range tc.errs {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("ValidateAlert: %v; want it to say %q", err, w)
				}
			}
		})
	}
	// Not cleaned: refused, so no path can skip CleanAlert unnoticed.
	al := ok()
	al.Summary = "db down\r\nBcc: x"
	if err := ValidateAlert(al); err == nil || !strings.Contains(err.Error(), "summary holds line breaks") {
		t.Errorf("an uncleaned summary: %v", err)
	}
}

// The workflow's own open cleans the alert too: an alert started straight
// on Temporal (not through sitrep's API) opens a clean, one-line incident.
func TestIncidentOpensWithACleanSummary(t *testing.T) {
	h := newHarness(t, nil)
	al := alert("db down\r\nBcc: x")
	h.at(1*m, func() { h.phase(ResolveUpdate) })
	st := h.run(al)
	if st.Summary != "db down  Bcc: x" || st.DedupKey != "checkout|db down  Bcc: x" {
		t.Errorf("opened with summary %q, dedup key %q", st.Summary, st.DedupKey)
	}
}
