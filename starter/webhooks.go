package starter

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/acklink"
	"github.com/sitrep-dev/sitrep/integrations/mattermost"
	"github.com/sitrep-dev/sitrep/integrations/pagerduty"
	"github.com/sitrep-dev/sitrep/integrations/slack"
	"github.com/sitrep-dev/sitrep/integrations/twilio"
	"github.com/sitrep-dev/sitrep/workflows"
)

// requestID names a provider's delivery as an update's request ID, so that a
// redelivery counts once; an empty delivery ID gives none.
func requestID(channel, deliveryID string) string {
	if deliveryID == "" {
		return ""
	}
	return channel + ":" + deliveryID
}

// secrets types a list of configured secrets, which redact themselves in logs.
func secrets(list []string) []integrations.Secret {
	out := make([]integrations.Secret, len(list))
	for i, s := range list {
		out[i] = integrations.Secret(s)
	}
	return out
}

// newDedupKey makes a dedup key as PagerDuty does for a trigger without one:
// 32 random hex digits.
func newDedupKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// twilioForm reads a Twilio webhook's form and checks its X-Twilio-Signature
// against the public URL Twilio called, answering the request itself when it
// is no good. Twilio signs no timestamp: a replayed delivery passes, and its
// MessageSid or CallSid as the request ID makes it count once.
func (in *Intake) twilioForm(w http.ResponseWriter, r *http.Request, channel string) (url.Values, bool) {
	body, err := in.readBody(w, r)
	var form url.Values
	if err == nil {
		form, err = formOf(body)
	}
	if err != nil {
		in.metrics.ack(channel, ackInvalid)
		http.Error(w, err.Error(), bodyStatus(err))
		return nil, false
	}
	if !twilio.VerifySignatureAny(secrets(in.cfg.TwilioAuthTokens), in.publicURL(r), form, r.Header.Get(twilio.SignatureHeader)) {
		in.metrics.ack(channel, ackBadSignature)
		in.log.Warn("twilio signature does not match", "channel", channel)
		http.Error(w, "X-Twilio-Signature does not match", http.StatusForbidden)
		return nil, false
	}
	return form, true
}

// smsReply is a parsed reply to an SMS page.
type smsReply struct {
	Action action
	Code   string // an incident ID, the start of its hex suffix, or empty for the latest page
}

// smsHelp answers an SMS that is not a command.
const smsHelp = "sitrep: reply 4 (or ack) to acknowledge, 5 (or esc) to escalate, " +
	"optionally followed by the incident code, e.g. \"4 1a2b3c4d\"."

// parseSMSReply reads "4", "ack", "5", "esc", each optionally followed by an
// incident code, in any case.
func parseSMSReply(body string) (smsReply, error) {
	fields := strings.Fields(strings.ToLower(body))
	if len(fields) == 0 || len(fields) > 2 {
		return smsReply{}, errors.New("sms reply: want a command and at most a code")
	}
	var r smsReply
	switch fields[0] {
	case twilio.DigitAck, "ack":
		r.Action = actAck
	case twilio.DigitEscalate, "esc":
		r.Action = actEscalate
	default:
		return smsReply{}, fmt.Errorf("sms reply: %q is not a command", fields[0])
	}
	if len(fields) == 2 {
		if !isIncidentCode(fields[1]) {
			return smsReply{}, fmt.Errorf("sms reply: %q is not an incident code", fields[1])
		}
		r.Code = fields[1]
	}
	return r, nil
}

// isIncidentCode accepts what workflows.IncidentID makes,
// "inc-<slug>-<hex>", or the start of its hex suffix alone: 4 to 16 hex
// digits, as the list a bare reply answers with gives them.
func isIncidentCode(s string) bool {
	if isHashSuffix(s) {
		return true
	}
	rest, ok := strings.CutPrefix(s, "inc-")
	if !ok {
		return false
	}
	dash := strings.LastIndexByte(rest, '-')
	if dash < 1 || len(rest) > 60 || !isHashSuffix(rest[dash+1:]) {
		return false
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// isHashSuffix reports whether s is an incident ID's hash, or the start of it: 4 to 16 hex digits.
func isHashSuffix(s string) bool {
	if len(s) < 4 || len(s) > 16 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// smsHandler takes a reply to an SMS page.
func (in *Intake) smsHandler(w http.ResponseWriter, r *http.Request) {
	form, ok := in.twilioForm(w, r, channelSMS)
	if !ok {
		return
	}
	reply := func(text string) { writeTwiML(w, "<Message>"+xmlText(text)+"</Message>") }
	person, ok := in.cfg.People.ByPhone(form.Get("From"))
	if !ok {
		in.metrics.ack(channelSMS, ackUnknownPerson)
		in.log.Info("sms reply from a number not in the catalog")
		reply("sitrep does not know this number, so it cannot act for you.")
		return
	}
	cmd, err := parseSMSReply(form.Get("Body"))
	if err != nil {
		in.metrics.ack(channelSMS, ackInvalid)
		reply(smsHelp)
		return
	}
	id, problem := in.smsIncident(r.Context(), person, cmd.Code)
	if id == "" {
		in.metrics.ack(channelSMS, ackNotFound)
		reply(problem)
		return
	}
	res := in.act(r.Context(), channelSMS, cmd.Action, id, requestID(channelSMS, form.Get("MessageSid")), person)
	reply(res.Text + " (" + id + ")")
}

// smsIncident finds what an SMS reply means: the incident its code names,
// or, with no code, the incidents still paging person, when one message (a
// page, or a bundle) brought them all. Otherwise it answers with what the
// person can reply instead, and acts on nothing.
func (in *Intake) smsIncident(ctx context.Context, person, code string) (string, string) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if strings.HasPrefix(code, "inc-") {
		return code, ""
	}
	paging, err := in.cfg.RecentPages.PagingFor(ctx, person)
	if err != nil {
		in.log.Error("pages to a person not listed", "error", err)
		return "", "sitrep could not look your pages up. Try again in a minute, or reply 4 followed by the incident code."
	}
	if code == "" {
		switch {
		case len(paging) == 0:
			return "", "Nothing is paging you now. To act on an incident, reply 4 followed by its code."
		case oneMessage(paging):
			return paging[0].Message, ""
		}
		return "", pagingList(paging)
	}
	code = strings.ToLower(code)
	var found []string
	for _, p := range paging {
		if strings.HasPrefix(incidentCode(p.IncidentID), code) {
			found = append(found, p.IncidentID)
		}
	}
	if len(found) == 0 && len(code) >= 4 {
		open, err := in.inc.List(ctx, ListFilter{Open: true, Limit: 1000})
		if err != nil {
			in.log.Error("open incidents not listed", "error", err)
			return "", "sitrep could not look the code up. Try again in a minute."
		}
		for _, l := range open {
			if strings.HasPrefix(incidentCode(l.ID), code) {
				found = append(found, l.ID)
			}
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Sprintf("No open incident has the code %s.", code)
	case 1:
		return found[0], ""
	}
	return "", fmt.Sprintf("Several open incidents have the code %s: reply with more of it, or the full ID, e.g. %s.", code, found[0])
}

// oneMessage: every incident in the list came in the same message.
func oneMessage(ps []Paging) bool {
	for _, p := range ps[1:] {
		if p.Message != ps[0].Message {
			return false
		}
	}
	return true
}

// incidentCode is the hash part of an incident ID: what SMS codes match.
func incidentCode(id string) string { return id[strings.LastIndex(id, "-")+1:] }

// pagingList answers a bare reply that could mean several incidents: each
// with the shortest code (at least 4 characters) that tells it apart.
func pagingList(ps []Paging) string {
	codes := make([]string, len(ps))
	for n := 4; ; n++ {
		seen, unique := map[string]bool{}, true
		for i, p := range ps {
			c := incidentCode(p.IncidentID)
			codes[i] = c[:min(n, len(c))]
			unique = unique && !seen[codes[i]]
			seen[codes[i]] = true
		}
		if unique || n >= 16 {
			break
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d incidents are paging you; reply 4 and a code:", len(ps))
	for i, p := range ps {
		if i == 5 {
			fmt.Fprintf(&b, " (and %d more)", len(ps)-5)
			break
		}
		fmt.Fprintf(&b, " %s %s;", codes[i], truncateRunes(p.Summary, 40))
	}
	return strings.TrimSuffix(b.String(), ";")
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// voiceHandler is the Gather action of a voice page: 4 acknowledges, 5
// escalates, anything else hears the incident and the prompt again. The
// incident and the person are in the query, which Twilio's signature covers.
func (in *Intake) voiceHandler(w http.ResponseWriter, r *http.Request) {
	form, ok := in.twilioForm(w, r, channelVoice)
	if !ok {
		return
	}
	id, person := r.URL.Query().Get("incident"), r.URL.Query().Get("person")
	if id == "" || person == "" {
		in.metrics.ack(channelVoice, ackInvalid)
		http.Error(w, "the incident and person query parameters are required", http.StatusBadRequest)
		return
	}
	var act action
	switch form.Get("Digits") {
	case twilio.DigitAck:
		act = actAck
	case twilio.DigitEscalate:
		act = actEscalate
	default:
		in.voicePrompt(w, r, id)
		return
	}
	var reqID string
	if sid := form.Get("CallSid"); sid != "" {
		reqID = requestID(channelVoice, sid+":"+string(act))
	}
	res := in.act(r.Context(), channelVoice, act, id, reqID, person)
	writeTwiML(w, "<Say>"+xmlText(res.Text+". Goodbye.")+"</Say><Hangup/>")
}

// voicePrompt says the incident and the prompt again, gathering one key.
func (in *Intake) voicePrompt(w http.ResponseWriter, r *http.Request, id string) {
	say := "sitrep incident " + shownID(id) + "."
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if st, err := in.inc.Status(ctx, id); err == nil {
		say = fmt.Sprintf("sitrep: %s on %s. %s.", st.Severity, st.Service, st.Summary)
	}
	doc, err := twilio.PageTwiML(say, in.publicURL(r))
	if err != nil {
		in.log.Error("voice prompt not built", "incidentID", id, "error", err)
		writeTwiML(w, "<Say>sitrep cannot take your answer now. Goodbye.</Say><Hangup/>")
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = io.WriteString(w, doc) // the client went away; nothing to do
}

// writeTwiML answers Twilio with <Response>inner</Response>.
func writeTwiML(w http.ResponseWriter, inner string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = io.WriteString(w, xml.Header+"<Response>"+inner+"</Response>") // the client went away; nothing to do
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

// slackAnswer is a reply only the clicker sees, leaving the page message as it was.
type slackAnswer struct {
	ResponseType    string `json:"response_type"`
	ReplaceOriginal bool   `json:"replace_original"`
	Text            string `json:"text"`
}

// slackHandler takes a click on a page message's button: action_id ack or
// escalate, value the incident ID. Slack signs the request with a timestamp,
// so a replay is refused after 5 minutes; within them, the request ID (the
// message, the clicker and the button) makes it count once.
func (in *Intake) slackHandler(w http.ResponseWriter, r *http.Request) {
	body, ok := in.slackSigned(w, r, http.StatusForbidden, func(outcome string) { in.metrics.ack(channelSlack, outcome) })
	if !ok {
		return
	}
	click, err := slack.ParseInteraction(body)
	if err != nil {
		in.metrics.ack(channelSlack, ackInvalid)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	act := action(click.ActionID)
	if (act != actAck && act != actEscalate) || click.Value == "" {
		in.metrics.ack(channelSlack, ackIgnored)
		writeJSON(w, http.StatusOK, slackAnswer{ResponseType: "ephemeral", Text: "sitrep does not know this button."})
		return
	}
	person, ok := in.cfg.People.ByChatID(click.UserID)
	if !ok {
		in.metrics.ack(channelSlack, ackUnknownPerson)
		writeJSON(w, http.StatusOK, slackAnswer{ResponseType: "ephemeral", Text: "sitrep does not know your Slack account, so it cannot act for you."})
		return
	}
	reqID := requestID(channelSlack, click.ChannelID+":"+click.MessageTS+":"+click.UserID+":"+click.ActionID)
	res := in.act(r.Context(), channelSlack, act, click.Value, reqID, person)
	writeJSON(w, http.StatusOK, slackAnswer{ResponseType: "ephemeral", Text: res.Text})
}

// slackSigned reads the body of a request Slack signed and checks its
// signature against every signing secret, and its timestamp against the 5
// minute window, answering the request itself with refused when it is no
// good; count counts the outcome of a request refused.
func (in *Intake) slackSigned(w http.ResponseWriter, r *http.Request, refused int, count func(outcome string)) ([]byte, bool) {
	body, err := in.readBody(w, r)
	if err != nil {
		count(ackInvalid)
		http.Error(w, err.Error(), bodyStatus(err))
		return nil, false
	}
	if err := slack.VerifyRequestAny(secrets(in.cfg.SlackSigningSecrets), r.Header, body, in.now()); err != nil {
		outcome := ackBadSignature
		if errors.Is(err, slack.ErrExpiredTimestamp) {
			outcome = ackExpired
		}
		count(outcome)
		in.log.Warn("slack request refused", "error", err, "route", r.Pattern)
		http.Error(w, err.Error(), refused)
		return nil, false
	}
	return body, true
}

// The keys of a Mattermost button's Context that the intake reads: the page
// activity must send the same.
const (
	mattermostAction   = "action"   // ack or escalate
	mattermostIncident = "incident" // the incident ID
	mattermostToken    = "token"    // an acknowledge token for the paged person
)

// mattermostAnswer is a reply only the clicker sees.
type mattermostAnswer struct {
	EphemeralText string `json:"ephemeral_text"`
}

// mattermostHandler takes a click on a page message's button. Mattermost does
// not sign requests, so the button's context carries an acknowledge token; the
// click acts only for the token's person, and only when that person clicked.
func (in *Intake) mattermostHandler(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, outcome, text string) {
		if outcome != "" {
			in.metrics.ack(channelMattermost, outcome)
		}
		writeJSON(w, status, mattermostAnswer{EphemeralText: text})
	}
	body, err := in.readBody(w, r)
	if err != nil {
		answer(bodyStatus(err), ackInvalid, err.Error())
		return
	}
	click, err := mattermost.ParseAction(body)
	if err != nil {
		answer(http.StatusBadRequest, ackInvalid, err.Error())
		return
	}
	incident := click.Context[mattermostIncident]
	claims, err := in.cfg.AckLinks.Verify(click.Context[mattermostToken], in.now())
	switch {
	case errors.Is(err, acklink.ErrExpired):
		answer(http.StatusOK, ackExpired, "This button has expired. Acknowledge from a newer page, or with `sitrep ack "+claims.Incident+"`.")
		return
	case err != nil, incident != "" && incident != claims.Incident:
		in.log.Warn("mattermost button token refused", "error", err)
		answer(http.StatusForbidden, ackBadSignature, "This button's token is not valid.")
		return
	}
	act := action(click.Context[mattermostAction])
	if act != actAck && act != actEscalate {
		answer(http.StatusBadRequest, ackInvalid, "context.action: want ack or escalate")
		return
	}
	if clicker, ok := in.cfg.People.ByChatID(click.UserID); !ok || clicker != claims.Person {
		answer(http.StatusOK, ackUnknownPerson, "This button acts for "+claims.Person+", and only they can press it.")
		return
	}
	// Mattermost does not retry a click; the post, the clicker and the
	// button make a replay count once.
	reqID := requestID(channelMattermost, click.PostID+":"+click.UserID+":"+string(act))
	res := in.act(r.Context(), channelMattermost, act, claims.Incident, reqID, claims.Person)
	answer(http.StatusOK, "", res.Text)
}

// pagerDutyWebhook is the part of a PagerDuty v3 webhook the intake reads.
// integrations/pagerduty's ParseWebhook gives the agent's name, not the user
// ID the intake maps to a person, hence this.
type pagerDutyWebhook struct {
	Event struct {
		ID         string `json:"id"`
		EventType  string `json:"event_type"`
		OccurredAt string `json:"occurred_at"`
		Agent      *struct {
			ID string `json:"id"`
		} `json:"agent"`
		Data struct {
			IncidentKey string `json:"incident_key"`
			Service     struct {
				ID string `json:"id"`
			} `json:"service"`
		} `json:"data"`
	} `json:"event"`
}

// pagerDutyWebhookHandler takes PagerDuty's v3 webhooks about incidents
// sitrep paged through PagerDuty, whose incident key is the sitrep incident
// ID. Anything refused for good is answered 2xx or 4xx, so PagerDuty does
// not redeliver it; only an unreachable Temporal is a 503, which it retries.
//
// The signature covers the body only, so everything the intake trusts comes
// from the body: the event's ID (not the unsigned X-Webhook-Id) is the
// request ID, so a captured body counts once whatever header it is replayed
// under; an event older than maxWebhookAge, or from the future, is refused,
// so it cannot be replayed later; and an event about an incident on a
// PagerDuty service sitrep does not page into is refused, so a routing key
// of another service cannot resolve sitrep's incidents.
func (in *Intake) pagerDutyWebhookHandler(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, result string) {
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeJSON(w, status, map[string]string{"result": result})
	}
	body, err := in.readBody(w, r)
	if err != nil {
		in.metrics.ack(channelPagerDuty, ackInvalid)
		answer(bodyStatus(err), err.Error())
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := pagerduty.VerifyWebhook(r, secrets(in.cfg.PagerDutyWebhookSecrets)...); err != nil {
		in.metrics.ack(channelPagerDuty, ackBadSignature)
		in.log.Warn("pagerduty webhook refused", "error", err)
		if errors.Is(err, pagerduty.ErrInvalidSignature) {
			answer(http.StatusForbidden, "X-PagerDuty-Signature does not match")
			return
		}
		answer(http.StatusBadRequest, "X-PagerDuty-Signature is missing or malformed")
		return
	}
	var hook pagerDutyWebhook
	if err := decodeJSON(body, &hook, "", false); err != nil || hook.Event.EventType == "" {
		in.metrics.ack(channelPagerDuty, ackInvalid)
		answer(http.StatusBadRequest, "event.event_type: missing, or the body is not a v3 webhook")
		return
	}
	ev := hook.Event
	if strings.TrimSpace(ev.ID) == "" {
		in.metrics.ack(channelPagerDuty, ackInvalid)
		in.log.Warn("pagerduty webhook refused: no event id", "eventType", cleanText(ev.EventType))
		answer(http.StatusBadRequest, "event.id: missing")
		return
	}
	at, err := time.Parse(time.RFC3339Nano, ev.OccurredAt)
	if err != nil {
		in.metrics.ack(channelPagerDuty, ackInvalid)
		in.log.Warn("pagerduty webhook refused: no valid occurred_at", "eventID", cleanText(ev.ID))
		answer(http.StatusBadRequest, "event.occurred_at: missing or not an RFC 3339 time")
		return
	}
	if age := in.now().Sub(at); age > maxWebhookAge || age < -maxClockSkew {
		in.metrics.ack(channelPagerDuty, ackExpired)
		in.log.Warn("pagerduty webhook refused: event too old or in the future", "eventID", cleanText(ev.ID),
			"occurredAt", at.UTC(), "age", age.Round(time.Second).String())
		when := fmt.Sprintf("more than %s old", maxWebhookAge)
		if age < 0 {
			when = fmt.Sprintf("more than %s in the future", maxClockSkew)
		}
		answer(http.StatusBadRequest, fmt.Sprintf("event.occurred_at: %s is %s; a late or replayed event is not applied",
			at.UTC().Format(time.RFC3339), when))
		return
	}
	delivery := ev.ID                            // signed, unlike X-Webhook-Id
	key := workflows.KeyRef(ev.Data.IncidentKey) // sitrep's dedup key: a page's own, under its incident's ref
	id, _ := workflows.ParseIncidentRef(key)
	_, _, bundle := workflows.ParseBundleRef(key) // a bundle's alert: acknowledging it acknowledges each incident in it
	sitrepIncident := strings.HasPrefix(id, "inc-") && isIncidentCode(id) || bundle
	if !sitrepIncident || (ev.EventType != "incident.acknowledged" && ev.EventType != "incident.resolved") {
		in.log.Info("pagerduty webhook ignored", "eventType", cleanText(ev.EventType))
		answer(http.StatusAccepted, "ignored")
		return
	}
	if !slices.Contains(in.cfg.PagerDutyServices, ev.Data.Service.ID) {
		in.metrics.ack(channelPagerDuty, ackForbidden)
		in.log.Warn("pagerduty webhook refused: service not one sitrep pages into", "eventID", cleanText(ev.ID),
			"eventType", ev.EventType, "pagerdutyService", cleanText(ev.Data.Service.ID), "incidentID", key)
		answer(http.StatusForbidden, "event.data.service.id: not a PagerDuty service sitrep pages into")
		return
	}
	var person string
	if ev.Agent != nil {
		person = in.cfg.PagerDutyUsers[ev.Agent.ID]
	}
	if ev.EventType == "incident.acknowledged" {
		if person == "" {
			in.metrics.ack(channelPagerDuty, ackUnknownPerson)
			in.log.Info("pagerduty acknowledgment by a user not in the catalog ignored", "incidentID", key)
			answer(http.StatusAccepted, "ignored: the PagerDuty user maps to no person")
			return
		}
		res := in.act(r.Context(), channelPagerDuty, actAck, key, requestID(channelPagerDuty, delivery), person)
		if res.Outcome == ackUnavailable {
			answer(http.StatusServiceUnavailable, res.Text)
			return
		}
		answer(http.StatusAccepted, res.Text)
		return
	}
	if person == "" {
		person = "pagerduty"
	}
	if workflows.IsBundleRef(key) {
		// A bundle's alert closed in PagerDuty says nothing about which of
		// its incidents are over: each is resolved in sitrep.
		in.log.Info("pagerduty resolve of a bundle ignored", "bundle", key)
		answer(http.StatusAccepted, "ignored: resolve each incident of a bundle in sitrep")
		return
	}
	// A redelivery carries the same request ID and counts once; a resolve of
	// an incident resolved already answers with that resolution.
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	_, err = in.inc.Resolve(ctx, key, requestID(channelPagerDuty, delivery), workflows.PhaseRequest{By: person, Note: "resolved in PagerDuty"})
	var rej *RejectedError
	switch {
	case err == nil:
		in.log.Info("incident resolved from pagerduty", "incidentID", key, "person", person)
		answer(http.StatusAccepted, "resolved")
	case errors.As(err, &rej), errors.Is(err, ErrNotFound):
		in.log.Info("pagerduty resolve not applied", "incidentID", key, "error", err)
		answer(http.StatusAccepted, "not applied: "+err.Error())
	default:
		in.log.Error("pagerduty resolve not recorded", "incidentID", key, "error", err)
		answer(http.StatusServiceUnavailable, "not recorded; retry")
	}
}
