package starter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/sitrep-dev/sitrep/integrations/acklink"
	"github.com/sitrep-dev/sitrep/workflows"
)

// The channels an acknowledgment arrives by, as workflows.AckRequest.Channel
// records them.
const (
	channelLink       = "link"
	channelSMS        = "sms"
	channelVoice      = "voice"
	channelSlack      = "slack"
	channelMattermost = "mattermost"
	channelPagerDuty  = "pagerduty"
)

// action is what a responder asked for.
type action string

const (
	actAck      action = "ack"
	actEscalate action = "escalate"
)

// Metric outcomes of an acknowledgment or escalation.
const (
	ackAcknowledged  = "acknowledged"
	ackEscalated     = "escalated"
	ackRejected      = "rejected"
	ackNotFound      = "not_found"
	ackUnavailable   = "unavailable"
	ackUnknownPerson = "unknown_person"
	ackBadSignature  = "bad_signature"
	ackExpired       = "expired"
	ackInvalid       = "invalid"
	ackIgnored       = "ignored"
	ackForbidden     = "forbidden" // signed, but about what this channel may not touch
)

// actResult is what an acknowledge or escalate came to.
type actResult struct {
	Text    string // for the person, e.g. "Acknowledged as alice"
	Status  int    // for the routes that answer with an HTTP status
	Outcome string // for sitrep_acks_total
}

// act acknowledges or escalates incident id as person. Every channel comes
// through here, so the workflow's validator judges them all alike.
func (in *Intake) act(ctx context.Context, channel string, act action, id, requestID, person string) actResult {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var res actResult
	var err error
	switch act {
	case actAck:
		var out workflows.AckResult
		out, err = in.inc.Acknowledge(ctx, id, requestID, workflows.AckRequest{Person: person, Channel: channel})
		if out.Person == "" {
			out.Person = person
		}
		res = actResult{Text: "Acknowledged as " + out.Person, Status: http.StatusOK, Outcome: ackAcknowledged}
		if n := len(out.Incidents); n > 1 {
			res.Text += fmt.Sprintf(": %d incidents", n)
		}
	case actEscalate:
		var out workflows.EscalateResult
		out, err = in.inc.Escalate(ctx, id, requestID, workflows.EscalateRequest{Person: person, Channel: channel})
		res = actResult{Text: fmt.Sprintf("Escalated: level %d is being paged", out.Level), Status: http.StatusOK, Outcome: ackEscalated}
	}
	var rej *RejectedError
	switch {
	case err == nil:
		in.log.Info("responder acted", "incidentID", id, "person", person, "channel", channel, "action", string(act))
	case errors.As(err, &rej):
		res = actResult{Text: rejectionText(rej), Status: http.StatusConflict, Outcome: ackRejected}
		in.log.Info("responder action rejected", "incidentID", id, "person", person, "channel", channel, "action", string(act), "reason", rej.Type)
	case errors.Is(err, ErrNotFound):
		res = actResult{Text: fmt.Sprintf("No open incident %s: it may be resolved already.", shownID(id)), Status: http.StatusNotFound, Outcome: ackNotFound}
	default:
		res = actResult{Text: "sitrep could not reach its workflow server. Try again in a minute.", Status: http.StatusServiceUnavailable, Outcome: ackUnavailable}
		in.log.Error("responder action not recorded", "incidentID", id, "person", person, "channel", channel, "action", string(act), "error", err)
	}
	in.metrics.ack(channel, res.Outcome)
	return res
}

// rejectionText says why the incident refused, for a person.
func rejectionText(rej *RejectedError) string {
	if rej.Type == workflows.RejectAlreadyAcknowledged && rej.By != "" {
		return fmt.Sprintf("Already acknowledged by %s at %s", rej.By, rej.At.UTC().Format("15:04 UTC on 2 Jan 2006"))
	}
	return rej.Message
}

// ackPage is what GET /ack/{token} shows.
type ackPage struct {
	ID, Person                        string
	Found                             bool
	Service, Severity, Summary, Phase string
	AckBy                             string
}

// resultPage is a page with one message.
type resultPage struct {
	Title, Message string
}

// verifyLink checks the token of an /ack route, answering the request itself
// when the token is no good.
func (in *Intake) verifyLink(w http.ResponseWriter, r *http.Request) (acklink.Claims, bool) {
	claims, err := in.cfg.AckLinks.Verify(r.PathValue("token"), in.now())
	switch {
	case err == nil:
		return claims, true
	case errors.Is(err, acklink.ErrExpired):
		in.metrics.ack(channelLink, ackExpired)
		in.page(w, http.StatusGone, "result", resultPage{
			Title: "This link has expired",
			Message: fmt.Sprintf("It stopped working at %s. Acknowledge incident %s from a newer page, or with `sitrep ack %s`.",
				claims.Expires.UTC().Format("15:04 UTC on 2 Jan 2006"), shownID(claims.Incident), shownID(claims.Incident)),
		})
	case errors.Is(err, acklink.ErrSignature):
		in.metrics.ack(channelLink, ackBadSignature)
		in.page(w, http.StatusForbidden, "result", resultPage{Title: "This link is not valid", Message: "Its signature does not match. Use the link from your page as it came."})
	default:
		in.metrics.ack(channelLink, ackInvalid)
		in.page(w, http.StatusBadRequest, "result", resultPage{Title: "This link is incomplete", Message: "It may have been cut when it was copied. Use the link from your page as it came."})
	}
	return claims, false
}

// ackPageHandler shows the incident and the buttons; it never acts, since
// mail scanners fetch every link they see.
func (in *Intake) ackPageHandler(w http.ResponseWriter, r *http.Request) {
	claims, ok := in.verifyLink(w, r)
	if !ok {
		return
	}
	p := ackPage{ID: shownID(claims.Incident), Person: claims.Person}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	st, err := in.inc.Status(ctx, claims.Incident)
	if err == nil {
		p.Found = true
		p.Service, p.Severity, p.Summary, p.Phase = st.Service, string(st.Severity), st.Summary, string(st.Phase)
		p.AckBy = st.AcknowledgedBy
	} else {
		in.log.Warn("incident status unavailable for ack page", "incidentID", claims.Incident, "error", err)
	}
	in.page(w, http.StatusOK, "ack", p)
}

// ackActionHandler acknowledges or escalates as the link's person.
func (in *Intake) ackActionHandler(w http.ResponseWriter, r *http.Request) {
	claims, ok := in.verifyLink(w, r)
	if !ok {
		return
	}
	body, err := in.readBody(w, r)
	var form map[string][]string
	if err == nil {
		form, err = formOf(body)
	}
	if err != nil {
		in.metrics.ack(channelLink, ackInvalid)
		in.page(w, bodyStatus(err), "result", resultPage{Title: "Nothing done", Message: err.Error()})
		return
	}
	act := action(first(form["action"]))
	if act != actAck && act != actEscalate {
		in.metrics.ack(channelLink, ackInvalid)
		in.page(w, http.StatusBadRequest, "result", resultPage{Title: "Nothing done", Message: "action: want ack or escalate"})
		return
	}
	// One request ID per link and action: a double click counts once.
	sum := sha256.Sum256([]byte(r.PathValue("token")))
	requestID := "link:" + hex.EncodeToString(sum[:12]) + ":" + string(act)
	res := in.act(r.Context(), channelLink, act, claims.Incident, requestID, claims.Person)
	in.page(w, res.Status, "result", resultPage{Title: "Incident " + shownID(claims.Incident), Message: res.Text})
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// page renders one of the HTML pages.
func (in *Intake) page(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := in.pages.ExecuteTemplate(&buf, name, data); err != nil {
		in.log.Error("page not rendered", "page", name, "error", err)
		http.Error(w, "page not rendered", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // the URL holds the token
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w) // the client went away; nothing to do
}

// parsePages parses the intake's pages.
func parsePages() (*template.Template, error) {
	t, err := template.New("").Parse(pagesText)
	if err != nil {
		return nil, fmt.Errorf("parse pages: %w", err)
	}
	return t, nil
}

const pagesText = `
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>sitrep: {{.}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:2em auto;padding:0 1em;line-height:1.4}
button{font-size:1.1em;padding:.5em 1em;margin-right:.5em}label{display:block;margin-top:.8em}
input,select,textarea{width:100%;font-size:1em}</style></head><body>{{end}}

{{define "ack"}}{{template "head" .ID}}
<h1>Incident {{.ID}}</h1>
{{if .Found}}<p><strong>{{.Severity}} on {{.Service}}</strong>: {{.Summary}}</p>
<p>Phase: {{.Phase}}{{if .AckBy}}, acknowledged by {{.AckBy}}{{end}}</p>
{{else}}<p>The incident's details cannot be read right now; you can still act on it.</p>{{end}}
<form method="post">
<button name="action" value="ack">Acknowledge as {{.Person}}</button>
<button name="action" value="escalate">Escalate</button>
</form>
</body></html>{{end}}

{{define "result"}}{{template "head" .Title}}
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
</body></html>{{end}}

{{define "report-result"}}{{template "result" .}}{{end}}

{{define "report-form"}}{{template "head" "report a problem"}}
<h1>Report a problem</h1>
<form method="post" action="/v1/reports">
<label>Your name <input name="reporter" required></label>
<label>How to reach you <input name="contact"></label>
<label>Service <input name="service" required{{if .Services}} list="services"{{end}}></label>
{{if .Services}}<datalist id="services">{{range .Services}}<option value="{{.}}">{{end}}</datalist>{{end}}
<label>Severity <select name="severity">
{{range .Severities}}<option value="{{.Value}}"{{if .Selected}} selected{{end}}>{{.Value}}: {{.Label}}</option>
{{end}}</select></label>
<label>Reported by <select name="source">
<option value="internal" selected>someone inside the company</option>
<option value="external">a customer or partner</option>
</select></label>
<label>What is wrong <textarea name="description" rows="5" required></textarea></label>
<p><button>Report</button></p>
</form>
</body></html>{{end}}
`

// shownID is the incident ID a person reads, without the ref's run part.
func shownID(ref string) string {
	id, _ := workflows.ParseIncidentRef(ref)
	return id
}
