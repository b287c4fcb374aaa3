package drill

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Clock is how a drill shows an instant: weekday and wall time in the
// drill's zone, with the date when it is not the alert's day.
func (r *Result) Clock(t time.Time) string {
	t = t.In(r.Start.Location())
	y, m, d := t.Date()
	sy, sm, sd := r.Start.Date()
	if y == sy && m == sm && d == sd {
		return t.Format("Mon 15:04")
	}
	return t.Format("Mon 2006-01-02 15:04")
}

// Plus shows an offset as +5m, +1h30m, +0s.
func Plus(o Offset) string {
	s := time.Duration(o).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return "+" + s
}

// What says what a message was: "page, level 1", "escalation, level 2,
// round 2", "fallback", "sync resolve", or the dependency's call.
func (m Message) What() string {
	about := ""
	if m.Subject != "" {
		about = ": " + oneLine(m.Subject, 60)
	}
	if m.Call != callNotify {
		if about == "" && m.Text != "" {
			about = ": " + oneLine(m.Text, 60) // a war room post, an invitation
		}
		return m.Call + about
	}
	if m.Kind == "" {
		return "message" + about // not a page: a reminder, a notice
	}
	parts := []string{m.Kind}
	if m.Level > 0 {
		parts = append(parts, fmt.Sprintf("level %d", m.Level))
	}
	if m.Round > 1 && m.Kind != "fallback" {
		parts = append(parts, fmt.Sprintf("round %d", m.Round))
	}
	return strings.Join(parts, ", ")
}

// Headline is the drill's first line: what fired, where, when.
func (r *Result) Headline() string {
	return fmt.Sprintf("Drill: %s %s (%s) at %s (%s)", r.Severity, r.Service, r.Source,
		r.Start.Format("Mon 2006-01-02 15:04 MST"), r.Zone)
}

// Routing is who the incident went to, as routing found it.
func (r *Result) Routing() string {
	in := r.Incident
	if in.Team == "" {
		return "not routed"
	}
	chs := make([]string, len(in.Plan.Channels))
	for i, c := range in.Plan.Channels {
		chs[i] = string(c)
	}
	return fmt.Sprintf("team %s, policy %s, tier %d, channels %s", in.Team, in.Policy, in.Tier, strings.Join(chs, ", "))
}

// Ending says how the drill ended.
func (r *Result) Ending() string {
	in := r.Incident
	var b strings.Builder
	if r.Open {
		fmt.Fprintf(&b, "At %s the incident is still %s", Plus(r.Horizon), in.Phase)
	} else {
		fmt.Fprintf(&b, "The incident is %s", in.Phase)
	}
	switch {
	case in.AcknowledgedBy != "":
		fmt.Fprintf(&b, ", acknowledged by %s at %s", in.AcknowledgedBy, Plus(Offset(in.AcknowledgedAt.Sub(r.Start))))
	case in.Unacknowledged:
		b.WriteString(", nobody acknowledged: escalation ran out")
	}
	fmt.Fprintf(&b, "; %d message(s) sent.", len(r.Messages))
	return b.String()
}

// WriteText prints the drill for a person: the messages, what the drill did,
// the timeline; with verbose, every message's rendered text.
func (r *Result) WriteText(w io.Writer, verbose bool) error {
	fmt.Fprintln(w, r.Headline())
	fmt.Fprintf(w, "Routed to %s\n\nMessages\n", r.Routing())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, m := range r.Messages {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", Plus(m.Offset), r.Clock(m.At), orDash(m.Person), m.Via, m.What())
		if verbose {
			if err := tw.Flush(); err != nil {
				return err
			}
			writeIndented(w, m)
		}
	}
	if len(r.Messages) == 0 {
		fmt.Fprintln(tw, "  none")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Actions) > 0 {
		fmt.Fprintln(w, "\nActions")
		for _, a := range r.Actions {
			outcome := "taken"
			if a.Error != "" {
				outcome = "refused: " + a.Error
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\tas %s\t%s\n", Plus(a.Offset), r.Clock(r.Start.Add(time.Duration(a.Offset))), a.Update, orDash(a.By), outcome)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nTimeline")
	for _, e := range r.Timeline {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", Plus(e.Offset), r.Clock(e.At), e.Workflow, e.Kind, e.Text)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s\n", r.Ending())
	return err
}

func writeIndented(w io.Writer, m Message) {
	var body []string
	if m.Subject != "" {
		body = append(body, "Subject: "+m.Subject)
	}
	if m.Text != "" {
		body = append(body, strings.Split(m.Text, "\n")...)
	}
	if len(m.Detail) > 0 {
		body = append(body, string(m.Detail))
	}
	for _, l := range body {
		fmt.Fprintf(w, "      | %s\n", l)
	}
}

// oneLine is s on one line, cut to n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Line is one message as a comparison sees it: when, who, how, what; the
// rendered text too when withText.
func (m Message) Line(withText bool) string {
	s := fmt.Sprintf("%s %s %s %s", Plus(m.Offset), orDash(m.Person), m.Via, m.What())
	if withText {
		s += " | " + strings.ReplaceAll(m.Subject+" "+m.Text+string(m.Detail), "\n", " ")
	}
	return s
}

// Line is one timeline event as a comparison sees it.
func (e Event) Line() string {
	return fmt.Sprintf("%s %s %s: %s", Plus(e.Offset), e.Workflow, e.Kind, e.Text)
}

// Difference is what one drill did that the other did not.
type Difference struct {
	// Only is "a" or "b": only that drill has Line; or "moved": both
	// have it (without its offset), a at From and b at To.
	Only string `json:"only"`
	What string `json:"what"` // message or event
	Line string `json:"line"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// Compare lists what differs between two drills of the same incident: the
// messages and timeline events each has that the other has not, as many
// times as it has more of them, in time order; a message both send, only at
// different offsets, is one "moved" difference.
func Compare(a, b *Result, withText bool) []Difference {
	var out []Difference
	lines := func(r *Result) (msgs, events []string) {
		for _, m := range r.Messages {
			msgs = append(msgs, m.Line(withText))
		}
		for _, e := range r.Timeline {
			events = append(events, e.Line())
		}
		return msgs, events
	}
	am, ae := lines(a)
	bm, be := lines(b)
	out = append(out, moved(diff("message", am, bm))...)
	out = append(out, diff("event", ae, be)...)
	return out
}

// moved pairs each line only a has with the first line only b has that
// says the same but for its offset (the first word), in order.
func moved(diffs []Difference) []Difference {
	var out, pairs []Difference
	taken := make([]bool, len(diffs))
	for i, d := range diffs {
		if d.Only != "a" {
			continue
		}
		from, rest, _ := strings.Cut(d.Line, " ")
		for j, e := range diffs {
			to, other, _ := strings.Cut(e.Line, " ")
			if taken[j] || e.Only != "b" || other != rest {
				continue
			}
			taken[i], taken[j] = true, true
			pairs = append(pairs, Difference{Only: "moved", What: d.What, Line: rest, From: from, To: to})
			break
		}
	}
	for i, d := range diffs {
		if !taken[i] {
			out = append(out, d)
		}
	}
	return append(out, pairs...)
}

// diff lists the lines of a not in b and of b not in a, counting repeats.
func diff(what string, a, b []string) []Difference {
	count := map[string]int{}
	for _, l := range b {
		count[l]++
	}
	var out []Difference
	for _, l := range a {
		if count[l] > 0 {
			count[l]--
			continue
		}
		out = append(out, Difference{Only: "a", What: what, Line: l})
	}
	count = map[string]int{}
	for _, l := range a {
		count[l]++
	}
	for _, l := range b {
		if count[l] > 0 {
			count[l]--
			continue
		}
		out = append(out, Difference{Only: "b", What: what, Line: l})
	}
	return out
}

// WriteHTML writes the drill as one self-contained page: no scripts, no
// links out, every value escaped.
func (r *Result) WriteHTML(w io.Writer, verbose bool) error {
	return page.Execute(w, struct {
		*Result
		Verbose bool
	}{r, verbose})
}

var page = template.Must(template.New("drill").Funcs(template.FuncMap{"plus": Plus}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{.Headline}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:2em}
td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{background:#f4f4f4}.off{font-variant-numeric:tabular-nums;white-space:nowrap}
.escalation{color:#a60}.fallback{color:#b00;font-weight:bold}pre{margin:.3em 0;white-space:pre-wrap}
</style></head><body>
<h1>{{.Headline}}</h1>
<p>Routed to {{.Routing}}.</p>
<p><strong>{{.Ending}}</strong></p>
<h2>Messages</h2>
<table><tr><th>after</th><th>when</th><th>who</th><th>via</th><th>what</th>{{if .Verbose}}<th>text</th>{{end}}</tr>
{{range .Messages}}<tr class="{{.Kind}}"><td class="off">{{plus .Offset}}</td><td class="off">{{$.Clock .At}}</td><td>{{.Person}}</td><td>{{.Via}}</td><td>{{.What}}</td>{{if $.Verbose}}<td>{{if .Subject}}<strong>{{.Subject}}</strong>{{end}}<pre>{{.Text}}{{printf "%s" .Detail}}</pre></td>{{end}}</tr>
{{else}}<tr><td colspan="5">none</td></tr>
{{end}}</table>
{{if .Actions}}<h2>Actions</h2>
<table><tr><th>after</th><th>update</th><th>as</th><th>outcome</th></tr>
{{range .Actions}}<tr><td class="off">{{plus .Offset}}</td><td>{{.Update}}</td><td>{{.By}}</td><td>{{if .Error}}refused: {{.Error}}{{else}}taken{{end}}</td></tr>
{{end}}</table>{{end}}
<h2>Timeline</h2>
<table><tr><th>after</th><th>when</th><th>workflow</th><th>event</th><th>text</th></tr>
{{range .Timeline}}<tr><td class="off">{{plus .Offset}}</td><td class="off">{{$.Clock .At}}</td><td>{{.Workflow}}</td><td>{{.Kind}}</td><td>{{.Text}}</td></tr>
{{end}}</table>
</body></html>
`))
