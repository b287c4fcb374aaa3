package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// ReportOptions are the flags of `sitrep report`.
type ReportOptions struct {
	Since   time.Duration
	Service string
	Team    string
	Format  string // text, json, csv or html
	Out     string // file to write; stdout when empty
	Timeout time.Duration
}

func newCmdReport(d *Deps, runF func(*ReportOptions) error) *cobra.Command {
	o := &ReportOptions{}
	var since, html string
	cmd := &cobra.Command{
		Use:   "report [--since 30d] [--service S] [--team T] [-o text|json|csv|html] [--html FILE]",
		Short: "MTTA, MTTR, escalations and detection sources per service, team and severity",
		Long: `Report on the incidents opened in the last --since (default 30d): per
service, team and severity, how many, time to acknowledge (MTTA) and to
resolve (MTTR) as median and 90th percentile, escalations, incidents nobody
acknowledged, and where they were detected (monitoring, or reported by
people inside or outside: the monitoring gaps). Figures come from each
incident's own record (its state query), found through Temporal's
visibility, so a worker must be running. -o html (or --html FILE) writes a
self-contained page with charts: incidents per week, the MTTA/MTTR trend,
detection sources.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Since, err = parseSince(since); err != nil {
				return err
			}
			if html != "" {
				o.Format, o.Out = "html", html
			}
			if !slices.Contains([]string{"text", "json", "csv", "html"}, o.Format) {
				return usagef("--output must be text, json, csv or html, not %q", o.Format)
			}
			if runF != nil {
				return runF(o)
			}
			return reportRun(cmd, d, o)
		},
	}
	cmd.Flags().StringVar(&since, "since", "30d", "how far back: incidents opened within this (e.g. 7d, 30d, 12h)")
	cmd.Flags().StringVar(&o.Service, "service", "", "only this service")
	cmd.Flags().StringVar(&o.Team, "team", "", "only this team")
	cmd.Flags().StringVarP(&o.Format, "output", "o", "text", "output format: text, json, csv or html")
	cmd.Flags().StringVar(&o.Out, "out", "", "write the report to this file instead of stdout")
	cmd.Flags().StringVar(&html, "html", "", "write the HTML report with charts to this file (same as -o html --out FILE)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 2*time.Minute, "how long to wait for Temporal and the incidents")
	return cmd
}

// parseSince reads a duration with days: 30d, 36h, 1d12h.
func parseSince(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.Index(s, "d"); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 {
			return 0, usagef("--since %q: want a duration like 30d, 7d or 12h", s)
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, usagef("--since %q: want a duration like 30d, 7d or 12h", s)
		}
		rest = d
	}
	if days+rest <= 0 {
		return 0, usagef("--since must be positive")
	}
	return days + rest, nil
}

func reportRun(cmd *cobra.Command, d *Deps, o *ReportOptions) error {
	now := d.Now()
	var states []workflows.IncidentState
	err := withIncidents(cmd, d, o.Timeout, func(ctx context.Context, inc Incidents) error {
		var err error
		states, err = collectIncidents(ctx, inc, o, now)
		return err
	})
	if err != nil {
		return err
	}
	r := buildReport(states, now, o)
	w := d.Out
	if o.Out != "" {
		f, err := os.Create(o.Out)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		defer f.Close()
		w = f
	}
	switch o.Format {
	case "json":
		return writeJSON(w, r)
	case "csv":
		return writeReportCSV(w, r)
	case "html":
		return writeReportHTML(w, r)
	}
	return writeReportText(w, r)
}

// collectIncidents lists the incidents opened since the window began and
// reads each one's state, a few at a time.
func collectIncidents(ctx context.Context, inc Incidents, o *ReportOptions, now time.Time) ([]workflows.IncidentState, error) {
	rows, err := inc.List(ctx, starter.ListFilter{Service: o.Service, Limit: 100000})
	if err != nil {
		return nil, err
	}
	from := now.Add(-o.Since)
	var ids []string
	seen := map[string]bool{}
	for _, r := range rows {
		// A re-opened incident keeps its ID; its state query answers for the latest run.
		if r.Started.Before(from) || seen[r.ID] || (o.Team != "" && r.Team != "" && r.Team != o.Team) {
			continue
		}
		seen[r.ID] = true
		ids = append(ids, r.ID)
	}
	states := make([]workflows.IncidentState, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			states[i], errs[i] = inc.Status(ctx, id)
		}()
	}
	wg.Wait()
	var out []workflows.IncidentState
	for i, st := range states {
		if errs[i] != nil {
			return nil, fmt.Errorf("incident %s: %w", ids[i], errs[i])
		}
		if st.FirstSeen.Before(from) || (o.Team != "" && st.Team != o.Team) {
			continue
		}
		out = append(out, st)
	}
	return out, nil
}

// Report is what `sitrep report` prints: figures per group and per week.
type Report struct {
	GeneratedAt time.Time `json:"generatedAt"`
	From        time.Time `json:"from"`
	Service     string    `json:"service,omitempty"`
	Team        string    `json:"team,omitempty"`
	Total       Figures   `json:"total"`
	ByService   []Figures `json:"byService"`
	ByTeam      []Figures `json:"byTeam"`
	BySeverity  []Figures `json:"bySeverity"`
	Weeks       []Week    `json:"weeks"`
}

// Figures are one group's numbers. Durations are in seconds; a median or
// percentile of nothing is null.
type Figures struct {
	Key            string         `json:"key"`
	Incidents      int            `json:"incidents"`
	Acknowledged   int            `json:"acknowledged"`
	MTTAMedian     *float64       `json:"mttaMedianSeconds"`
	MTTAP90        *float64       `json:"mttaP90Seconds"`
	Resolved       int            `json:"resolved"`
	MTTRMedian     *float64       `json:"mttrMedianSeconds"`
	MTTRP90        *float64       `json:"mttrP90Seconds"`
	Escalations    int            `json:"escalations"`
	Unacknowledged int            `json:"unacknowledged"`
	Sources        map[string]int `json:"sources"` // monitoring, internal, external: the last two are monitoring gaps
	// Merged counts incidents merged into another: their story goes on in
	// the target, so they count in no other figure.
	Merged int `json:"merged,omitempty"`
}

// Week is one week's figures, for the trend charts. Weeks start on Monday (UTC).
type Week struct {
	Start      time.Time `json:"start"`
	Incidents  int       `json:"incidents"`
	MTTAMedian *float64  `json:"mttaMedianSeconds"`
	MTTRMedian *float64  `json:"mttrMedianSeconds"`
}

// buildReport computes the figures from the incidents' own records.
func buildReport(states []workflows.IncidentState, now time.Time, o *ReportOptions) Report {
	r := Report{GeneratedAt: now.UTC(), From: now.Add(-o.Since).UTC(), Service: o.Service, Team: o.Team}
	r.Total = figures("all", states)
	r.ByService = groupBy(states, func(s workflows.IncidentState) string { return s.Service })
	r.ByTeam = groupBy(states, func(s workflows.IncidentState) string { return s.Team })
	r.BySeverity = groupBy(states, func(s workflows.IncidentState) string { return string(s.Severity) })
	weeks := map[time.Time][]workflows.IncidentState{}
	for _, s := range states {
		w := weekStart(s.FirstSeen)
		weeks[w] = append(weeks[w], s)
	}
	if len(states) > 0 {
		// Every week of the window, empty ones too, so the trend has no gaps.
		for w := weekStart(r.From); !w.After(weekStart(now)); w = w.AddDate(0, 0, 7) {
			f := figures("", weeks[w])
			r.Weeks = append(r.Weeks, Week{Start: w, Incidents: f.Incidents, MTTAMedian: f.MTTAMedian, MTTRMedian: f.MTTRMedian})
		}
	}
	return r
}

func weekStart(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}

func groupBy(states []workflows.IncidentState, key func(workflows.IncidentState) string) []Figures {
	groups := map[string][]workflows.IncidentState{}
	for _, s := range states {
		k := key(s)
		if k == "" {
			k = "unknown"
		}
		groups[k] = append(groups[k], s)
	}
	var out []Figures
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range groups {
			if !yield(k) {
				return
			}
		}
	}) {
		out = append(out, figures(k, groups[k]))
	}
	return out
}

func figures(key string, states []workflows.IncidentState) Figures {
	f := Figures{Key: key, Incidents: len(states), Sources: map[string]int{
		string(workflows.Monitoring): 0, string(workflows.Internal): 0, string(workflows.External): 0}}
	var tta, ttr []float64
	for _, s := range states {
		if s.Phase == workflows.Merged {
			f.Merged++
			f.Incidents--
			continue
		}
		if s.AcknowledgedAt != nil {
			f.Acknowledged++
			tta = append(tta, s.AcknowledgedAt.Sub(s.FirstSeen).Seconds())
		}
		if s.ResolvedAt != nil {
			f.Resolved++
			ttr = append(ttr, s.ResolvedAt.Sub(s.FirstSeen).Seconds())
		}
		if s.Unacknowledged && s.AcknowledgedAt == nil {
			f.Unacknowledged++
		}
		for _, e := range s.Timeline {
			if e.Kind == "escalated" {
				f.Escalations++
			}
		}
		src := string(s.Source)
		if src == "" {
			src = string(workflows.Monitoring)
		}
		f.Sources[src]++
	}
	f.MTTAMedian, f.MTTAP90 = median(tta), percentile(tta, 0.9)
	f.MTTRMedian, f.MTTRP90 = median(ttr), percentile(ttr, 0.9)
	return f
}

// median is the middle value, or the mean of the two middle ones.
func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Sorted(slices.Values(xs))
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return &m
}

// percentile is the nearest-rank percentile: the smallest value with at
// least p of the values at or below it.
func percentile(xs []float64, p float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Sorted(slices.Values(xs))
	v := s[int(math.Ceil(p*float64(len(s))))-1]
	return &v
}

// human prints seconds as a short duration; "-" for none.
func human(sec *float64) string {
	if sec == nil {
		return "-"
	}
	d := time.Duration(*sec * float64(time.Second)).Round(time.Second)
	if d >= 24*time.Hour {
		return fmt.Sprintf("%dd%s", d/(24*time.Hour), (d % (24 * time.Hour)).String())
	}
	return d.String()
}

func secs(sec *float64) string {
	if sec == nil {
		return ""
	}
	return strconv.FormatFloat(*sec, 'f', 0, 64)
}

func writeReportText(w io.Writer, r Report) error {
	fmt.Fprintf(w, "Incidents opened since %s", r.From.Format("2006-01-02 15:04Z"))
	if r.Service != "" {
		fmt.Fprintf(w, ", service %s", r.Service)
	}
	if r.Team != "" {
		fmt.Fprintf(w, ", team %s", r.Team)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BY\tKEY\tINCIDENTS\tMTTA p50\tMTTA p90\tMTTR p50\tMTTR p90\tESCALATIONS\tUNACKED\tMONITORING\tINTERNAL\tEXTERNAL")
	for _, g := range reportGroups(r) {
		for _, f := range g.Rows {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", g.Name, f.Key, f.Incidents,
				human(f.MTTAMedian), human(f.MTTAP90), human(f.MTTRMedian), human(f.MTTRP90), f.Escalations, f.Unacknowledged,
				f.Sources["monitoring"], f.Sources["internal"], f.Sources["external"])
		}
	}
	return tw.Flush()
}

type reportGroup struct {
	Name string
	Rows []Figures
}

func reportGroups(r Report) []reportGroup {
	return []reportGroup{{"total", []Figures{r.Total}}, {"service", r.ByService}, {"team", r.ByTeam}, {"severity", r.BySeverity}}
}

func writeReportCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"group", "key", "incidents", "acknowledged", "mtta_median_s", "mtta_p90_s", "resolved",
		"mttr_median_s", "mttr_p90_s", "escalations", "unacknowledged", "monitoring", "internal", "external"}) // errors surface at Flush
	for _, g := range reportGroups(r) {
		for _, f := range g.Rows {
			_ = cw.Write([]string{g.Name, f.Key, strconv.Itoa(f.Incidents), strconv.Itoa(f.Acknowledged), secs(f.MTTAMedian),
				secs(f.MTTAP90), strconv.Itoa(f.Resolved), secs(f.MTTRMedian), secs(f.MTTRP90), strconv.Itoa(f.Escalations),
				strconv.Itoa(f.Unacknowledged), strconv.Itoa(f.Sources["monitoring"]), strconv.Itoa(f.Sources["internal"]),
				strconv.Itoa(f.Sources["external"])})
		}
	}
	cw.Flush()
	return cw.Error()
}

// The HTML report's charts are inline SVG drawn here: the page needs no
// script, no font and no network, and opens from a file or an email.

type bar struct {
	X, Y, W, H float64
	Label      string
	Value      string
	Class      string
}

type point struct {
	X, Y  float64
	Label string
	Value string
}

type chartData struct {
	Width, Height float64
	Bars          []bar
	MTTA, MTTR    []point
	MTTALine      string
	MTTRLine      string
	YMax          string
}

const (
	chartW, chartH = 720.0, 240.0
	chartLeft      = 48.0
	chartBottom    = 28.0
)

func weeklyBars(r Report) chartData {
	c := chartData{Width: chartW, Height: chartH}
	most := 1
	for _, w := range r.Weeks {
		most = max(most, w.Incidents)
	}
	c.YMax = strconv.Itoa(most)
	if len(r.Weeks) == 0 {
		return c
	}
	slot := (chartW - chartLeft) / float64(len(r.Weeks))
	for i, w := range r.Weeks {
		h := (chartH - chartBottom - 10) * float64(w.Incidents) / float64(most)
		c.Bars = append(c.Bars, bar{X: chartLeft + float64(i)*slot + slot*0.15, Y: chartH - chartBottom - h, W: slot * 0.7, H: h,
			Label: w.Start.Format("Jan 2"), Value: strconv.Itoa(w.Incidents), Class: "bar week"})
	}
	return c
}

func trend(r Report) chartData {
	c := chartData{Width: chartW, Height: chartH}
	most := 60.0 // seconds; at least a minute of scale
	for _, w := range r.Weeks {
		for _, v := range []*float64{w.MTTAMedian, w.MTTRMedian} {
			if v != nil {
				most = max(most, *v)
			}
		}
	}
	c.YMax = human(&most)
	if len(r.Weeks) == 0 {
		return c
	}
	slot := (chartW - chartLeft) / float64(len(r.Weeks))
	var aLine, rLine []string
	for i, w := range r.Weeks {
		x := chartLeft + float64(i)*slot + slot/2
		y := func(v float64) float64 { return chartH - chartBottom - (chartH-chartBottom-10)*v/most }
		if w.MTTAMedian != nil {
			p := point{X: x, Y: y(*w.MTTAMedian), Label: w.Start.Format("Jan 2"), Value: secs(w.MTTAMedian)}
			c.MTTA = append(c.MTTA, p)
			aLine = append(aLine, fmt.Sprintf("%.1f,%.1f", p.X, p.Y))
		}
		if w.MTTRMedian != nil {
			p := point{X: x, Y: y(*w.MTTRMedian), Label: w.Start.Format("Jan 2"), Value: secs(w.MTTRMedian)}
			c.MTTR = append(c.MTTR, p)
			rLine = append(rLine, fmt.Sprintf("%.1f,%.1f", p.X, p.Y))
		}
	}
	c.MTTALine, c.MTTRLine = strings.Join(aLine, " "), strings.Join(rLine, " ")
	return c
}

func sourceBars(r Report) chartData {
	c := chartData{Width: chartW, Height: 150}
	most := max(1, r.Total.Incidents)
	for i, src := range []string{"monitoring", "internal", "external"} {
		n := r.Total.Sources[src]
		w := (chartW - 160) * float64(n) / float64(most)
		c.Bars = append(c.Bars, bar{X: 120, Y: 12 + float64(i)*44, W: w, H: 28, Label: src, Value: strconv.Itoa(n), Class: "bar source " + src})
	}
	return c
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"human": human,
	"date":  func(t time.Time) string { return t.Format("2006-01-02 15:04 MST") },
	"add":   func(a, b float64) float64 { return a + b },
}).Parse(reportHTML))

func writeReportHTML(w io.Writer, r Report) error {
	return reportTemplate.Execute(w, map[string]any{
		"R": r, "Groups": reportGroups(r), "Weekly": weeklyBars(r), "Trend": trend(r), "Sources": sourceBars(r),
	})
}

const reportHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>sitrep report: incidents since {{date .R.From}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2330; max-width: 960px; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { border-bottom: 1px solid #dde; padding: .3rem .5rem; text-align: right; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
svg text { font-size: 11px; fill: #445; }
.bar.week { fill: #3b6fd8; } .bar.source.monitoring { fill: #2e9b5b; } .bar.source.internal { fill: #d89b3b; }
.bar.source.external { fill: #d8453b; } .mtta { stroke: #3b6fd8; fill: #3b6fd8; } .mttr { stroke: #8a3bd8; fill: #8a3bd8; }
polyline { fill: none; stroke-width: 2; } .axis { stroke: #99a; }
.empty { color: #667; }
</style>
</head>
<body>
<h1>Incidents since {{date .R.From}}{{with .R.Service}} · service {{.}}{{end}}{{with .R.Team}} · team {{.}}{{end}}</h1>
<p>{{.R.Total.Incidents}} incidents · MTTA median {{human .R.Total.MTTAMedian}}, p90 {{human .R.Total.MTTAP90}} ·
MTTR median {{human .R.Total.MTTRMedian}}, p90 {{human .R.Total.MTTRP90}} · {{.R.Total.Escalations}} escalations ·
{{.R.Total.Unacknowledged}} never acknowledged. Generated {{date .R.GeneratedAt}} from each incident's own record.</p>
{{if not .R.Weeks}}<p class="empty">No incidents in this window.</p>{{end}}

<h2>Incidents per week</h2>
<svg class="chart" id="incidents-per-week" role="img" aria-label="Incidents per week" width="{{.Weekly.Width}}" height="{{.Weekly.Height}}" viewBox="0 0 {{.Weekly.Width}} {{.Weekly.Height}}">
<line class="axis" x1="48" y1="212" x2="{{.Weekly.Width}}" y2="212"/>
<text x="4" y="20">{{.Weekly.YMax}}</text><text x="4" y="212">0</text>
{{range .Weekly.Bars}}<rect class="{{.Class}}" x="{{printf "%.1f" .X}}" y="{{printf "%.1f" .Y}}" width="{{printf "%.1f" .W}}" height="{{printf "%.1f" .H}}" data-week="{{.Label}}" data-value="{{.Value}}"><title>week of {{.Label}}: {{.Value}}</title></rect>
<text x="{{printf "%.1f" .X}}" y="228">{{.Label}}</text>
{{end}}</svg>

<h2>Time to acknowledge and to resolve (weekly median)</h2>
<svg class="chart" id="mtta-mttr-trend" role="img" aria-label="MTTA and MTTR per week" width="{{.Trend.Width}}" height="{{.Trend.Height}}" viewBox="0 0 {{.Trend.Width}} {{.Trend.Height}}">
<line class="axis" x1="48" y1="212" x2="{{.Trend.Width}}" y2="212"/>
<text x="4" y="20">{{.Trend.YMax}}</text><text x="4" y="212">0</text>
<text class="mtta" x="60" y="230">● MTTA</text><text class="mttr" x="130" y="230">● MTTR</text>
{{with .Trend.MTTALine}}<polyline class="mtta" points="{{.}}"/>{{end}}
{{with .Trend.MTTRLine}}<polyline class="mttr" points="{{.}}"/>{{end}}
{{range .Trend.MTTA}}<circle class="point mtta" cx="{{printf "%.1f" .X}}" cy="{{printf "%.1f" .Y}}" r="4" data-week="{{.Label}}" data-seconds="{{.Value}}"><title>MTTA week of {{.Label}}: {{.Value}} s</title></circle>
{{end}}{{range .Trend.MTTR}}<circle class="point mttr" cx="{{printf "%.1f" .X}}" cy="{{printf "%.1f" .Y}}" r="4" data-week="{{.Label}}" data-seconds="{{.Value}}"><title>MTTR week of {{.Label}}: {{.Value}} s</title></circle>
{{end}}</svg>

<h2>How incidents were detected</h2>
<p>Incidents that people reported (internal, external) are gaps in monitoring.</p>
<svg class="chart" id="detection-source" role="img" aria-label="Detection source" width="{{.Sources.Width}}" height="{{.Sources.Height}}" viewBox="0 0 {{.Sources.Width}} {{.Sources.Height}}">
{{range .Sources.Bars}}<text x="4" y="{{printf "%.1f" (add .Y 19)}}">{{.Label}}</text>
<rect class="{{.Class}}" x="{{printf "%.1f" .X}}" y="{{printf "%.1f" .Y}}" width="{{printf "%.1f" .W}}" height="{{printf "%.1f" .H}}" data-source="{{.Label}}" data-value="{{.Value}}"><title>{{.Label}}: {{.Value}}</title></rect>
<text x="{{printf "%.1f" (add (add .X .W) 6)}}" y="{{printf "%.1f" (add .Y 19)}}">{{.Value}}</text>
{{end}}</svg>

{{range .Groups}}
<h2>By {{.Name}}</h2>
<table class="figures" data-group="{{.Name}}">
<tr><th>{{.Name}}</th><th></th><th>incidents</th><th>MTTA p50</th><th>MTTA p90</th><th>MTTR p50</th><th>MTTR p90</th><th>escalations</th><th>unacknowledged</th><th>monitoring</th><th>internal</th><th>external</th></tr>
{{range .Rows}}<tr><td>{{.Key}}</td><td></td><td>{{.Incidents}}</td><td>{{human .MTTAMedian}}</td><td>{{human .MTTAP90}}</td><td>{{human .MTTRMedian}}</td><td>{{human .MTTRP90}}</td><td>{{.Escalations}}</td><td>{{.Unacknowledged}}</td><td>{{index .Sources "monitoring"}}</td><td>{{index .Sources "internal"}}</td><td>{{index .Sources "external"}}</td></tr>
{{end}}</table>
{{end}}
</body>
</html>
`
