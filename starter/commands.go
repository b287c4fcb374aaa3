package starter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sitrep-dev/sitrep/integrations/mattermost"
	"github.com/sitrep-dev/sitrep/integrations/slack"
	"github.com/sitrep-dev/sitrep/workflows"
)

// defaultReplyWithin is how long a slash command waits for the incident
// before answering "working on it": Slack gives up on an answer after 3
// seconds. The result then goes to the command's response_url.
const defaultReplyWithin = 2500 * time.Millisecond

// Metric outcomes of a slash command, besides the acknowledgment outcomes
// bad_signature and expired and the alert outcomes unauthorized (a wrong
// Mattermost token), invalid, rate_limited and unavailable.
const (
	cmdDone          = "done"
	cmdRejected      = "rejected"
	cmdNotFound      = "not_found"
	cmdUnknownRoom   = "unknown_room"
	cmdUnknownPerson = "unknown_person"
	cmdHelp          = "help"
)

// The verbs of a slash command.
const (
	verbUpdate   = "update"
	verbRole     = "role"
	verbMitigate = "mitigate"
	verbResolve  = "resolve"
	verbStatus   = "status"
	verbHelp     = "help"
	verbMerge    = "merge"
)

var verbs = []string{verbUpdate, verbRole, verbMitigate, verbResolve, verbMerge, verbStatus, verbHelp}

// usage is each verb's usage line, after the command's own name.
var usage = map[string]string{
	verbUpdate:   "update [--status investigating|identified|monitoring] [--audience internal|external|both] [--role ROLE] MESSAGE",
	verbRole:     "role ROLE PERSON (or @me)",
	verbMitigate: `mitigate [--public "TEXT"] [NOTE]`,
	verbResolve:  `resolve [--public "TEXT"] [NOTE]`,
	verbStatus:   "status",
	verbHelp:     "help",
	verbMerge:    "merge --into INCIDENT [NOTE]",
}

// chatCommand is a slash command's text, parsed.
type chatCommand struct {
	Incident string // named before the verb; empty: the room's incident
	Verb     string
	Status   workflows.StakeholderStatus
	Audience workflows.Audience
	Role     string
	Person   string // role's person, as typed
	Text     string // update's message; mitigate's and resolve's note
	Into     string // merge's target
	Public   string // mitigate's and resolve's text for customers (--public)
}

// syntaxError is a command line sitrep cannot read; it answers with the
// verb's usage line.
type syntaxError struct {
	verb, msg string
}

func (e *syntaxError) Error() string { return e.msg }

// parseChatCommand reads "[INCIDENT] VERB ARGS…". Option values may be
// quoted; the message or note is the rest of the line, as typed, or one
// quoted string. Values are not judged here: ValidateUpdate does that, as
// for the CLI.
func parseChatCommand(text string) (chatCommand, error) {
	sc := &scanner{s: text}
	word, err := sc.next()
	if err != nil {
		return chatCommand{}, &syntaxError{verbHelp, err.Error()}
	}
	var c chatCommand
	if strings.HasPrefix(word, "inc-") && isIncidentCode(word) {
		c.Incident = word
		if word, err = sc.next(); err != nil || word == "" {
			return c, &syntaxError{verbHelp, "name a command after the incident"}
		}
	}
	c.Verb = strings.ToLower(word)
	switch c.Verb {
	case "":
		c.Verb = verbHelp
	case verbUpdate:
		if err := c.updateOptions(sc); err != nil {
			return c, &syntaxError{verbUpdate, err.Error()}
		}
		if c.Text = unquote(sc.rest()); c.Text == "" {
			return c, &syntaxError{verbUpdate, "update: no message: say what stakeholders should know"}
		}
	case verbRole:
		c.Role, err = sc.next()
		if err == nil {
			c.Person, err = sc.next()
		}
		switch {
		case err != nil:
			return c, &syntaxError{verbRole, "role: " + err.Error()}
		case c.Role == "" || c.Person == "":
			return c, &syntaxError{verbRole, "role: name the role and the person"}
		case sc.rest() != "":
			return c, &syntaxError{verbRole, fmt.Sprintf("role: %q after the person: one role, one person", truncateRunes(sc.rest(), 40))}
		}
	case verbMitigate, verbResolve:
		if err := c.publicOption(sc); err != nil {
			return c, &syntaxError{c.Verb, err.Error()}
		}
		c.Text = unquote(sc.rest())
	case verbMerge:
		if err := c.mergeTarget(sc); err != nil {
			return c, &syntaxError{verbMerge, err.Error()}
		}
		c.Text = unquote(sc.rest())
	case verbStatus, verbHelp:
		if sc.rest() != "" {
			return c, &syntaxError{c.Verb, fmt.Sprintf("%s: takes nothing after it, got %q", c.Verb, truncateRunes(sc.rest(), 40))}
		}
	default:
		return c, &syntaxError{verbHelp, fmt.Sprintf("%q is not a sitrep command", truncateRunes(word, 40))}
	}
	return c, nil
}

// updateOptions reads update's --status, --audience and --role, as
// "--status S" or "--status=S", up to the message; "--" ends them.
func (c *chatCommand) updateOptions(sc *scanner) error {
	for {
		at := sc.pos
		word, err := sc.next()
		if err != nil {
			return fmt.Errorf("update: %w", err)
		}
		// Chat clients on phones and Macs turn "--" into a dash.
		for _, dash := range []string{"—", "–"} {
			if rest, ok := strings.CutPrefix(word, dash); ok {
				word = "--" + rest
			}
		}
		if word == "--" {
			return nil
		}
		if !strings.HasPrefix(word, "--") {
			sc.pos = at // the message starts here
			return nil
		}
		name, value, inline := strings.Cut(word, "=")
		if !inline {
			if value, err = sc.next(); err != nil {
				return fmt.Errorf("update: %s: %w", name, err)
			}
			if value == "" {
				return fmt.Errorf("update: %s needs a value", name)
			}
		}
		switch name {
		case "--status":
			c.Status = workflows.StakeholderStatus(strings.ToLower(value))
		case "--audience":
			c.Audience = workflows.Audience(strings.ToLower(value))
		case "--role":
			c.Role = value
		default:
			return fmt.Errorf("update: unknown option %s (want --status, --audience or --role)", truncateRunes(name, 40))
		}
	}
}

// publicOption reads mitigate's and resolve's --public TEXT (or
// --public=TEXT), when it comes first: the note, internal, is the rest.
func (c *chatCommand) publicOption(sc *scanner) error {
	at := sc.pos
	word, err := sc.next()
	if err != nil {
		return fmt.Errorf("%s: %w", c.Verb, err)
	}
	for _, dash := range []string{"—", "–"} {
		if rest, ok := strings.CutPrefix(word, dash); ok {
			word = "--" + rest
		}
	}
	name, value, inline := strings.Cut(word, "=")
	if name != "--public" {
		sc.pos = at // the note starts here
		return nil
	}
	if inline {
		value = unquote(value)
	} else if value, err = sc.next(); err != nil {
		return fmt.Errorf("%s: --public: %w", c.Verb, err)
	}
	if strings.TrimSpace(value) == "" {
		return fmt.Errorf("%s: --public needs the text customers read", c.Verb)
	}
	c.Public = value
	return nil
}

// quotes pairs each opening quote with the closing quotes that end it:
// chat clients turn straight quotes into curly ones.
var quotes = map[rune]string{'"': `"”`, '“': `”"`, '\'': `'’`, '‘': `’'`}

// scanner reads words off a command line one at a time, leaving the rest
// as typed, so that an apostrophe in a message is never taken for a quote.
type scanner struct {
	s   string
	pos int
}

// next returns the next word, unquoted, or "" at the end of the line.
func (sc *scanner) next() (string, error) {
	rest := strings.TrimLeft(sc.s[sc.pos:], " \t\n\r")
	sc.pos = len(sc.s) - len(rest)
	if rest == "" {
		return "", nil
	}
	first := []rune(rest)[0]
	if closing, ok := quotes[first]; ok {
		body := rest[len(string(first)):]
		end := strings.IndexAny(body, closing)
		if end < 0 {
			return "", errors.New("a quote is not closed")
		}
		_, size := firstRune(body[end:])
		sc.pos += len(string(first)) + end + size
		return body[:end], nil
	}
	end := strings.IndexAny(rest, " \t\n\r")
	if end < 0 {
		end = len(rest)
	}
	sc.pos += end
	return rest[:end], nil
}

func (sc *scanner) rest() string { return strings.TrimSpace(sc.s[sc.pos:]) }

func firstRune(s string) (rune, int) {
	for _, r := range s {
		return r, len(string(r))
	}
	return 0, 0
}

// unquote strips the quotes of a message typed as one quoted string.
func unquote(s string) string {
	r := []rune(s)
	if len(r) < 2 {
		return s
	}
	closing, ok := quotes[r[0]]
	if !ok || !strings.ContainsRune(closing, r[len(r)-1]) || strings.ContainsAny(string(r[1:len(r)-1]), closing) {
		return s
	}
	return strings.TrimSpace(string(r[1 : len(r)-1]))
}

// slashRequest is a slash command as either platform sends it.
type slashRequest struct {
	platform    string // channelSlack or channelMattermost
	command     string // as typed, e.g. /sitrep
	text        string
	userID      string
	channelID   string
	responseURL string
	triggerID   string
	// unescape undoes the platform's escaping of the text the user typed.
	unescape func(string) string
	// escape makes a reply's text show as written.
	escape func(string) string
}

// slashAnswer is an answer only the person who typed the command sees, in
// the shape both Slack and Mattermost read.
type slashAnswer struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

// slackUnescape undoes what Slack does to the text of a slash command.
var slackUnescape = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace

// slackCommandHandler takes a Slack slash command. Slack signs it as it
// signs button clicks, with the same signing secrets and the same 5 minute
// window; anything unsigned, or signed too long ago, is a 401.
func (in *Intake) slackCommandHandler(w http.ResponseWriter, r *http.Request) {
	body, ok := in.slackSigned(w, r, http.StatusUnauthorized, func(outcome string) { in.commandMetric(channelSlack, "", outcome) })
	if !ok {
		return
	}
	form, err := formOf(body)
	if err != nil {
		in.commandMetric(channelSlack, "", outcomeInvalid)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	in.slashCommand(w, r, slashRequest{
		platform: channelSlack, command: form.Get("command"), text: form.Get("text"),
		userID: form.Get("user_id"), channelID: form.Get("channel_id"),
		responseURL: form.Get("response_url"), triggerID: form.Get("trigger_id"),
		unescape: slackUnescape, escape: slack.EscapeText,
	})
}

// mattermostCommandHandler takes a Mattermost slash command. Mattermost
// signs nothing: the command's token, in the form (or, from newer servers,
// as "Authorization: Token …"), must be one of the configured ones.
func (in *Intake) mattermostCommandHandler(w http.ResponseWriter, r *http.Request) {
	body, err := in.readBody(w, r)
	var form url.Values
	if err == nil {
		form, err = formOf(body)
	}
	if err != nil {
		in.commandMetric(channelMattermost, "", outcomeInvalid)
		http.Error(w, err.Error(), bodyStatus(err))
		return
	}
	get := form.Get
	token := get("token")
	if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); token == "" && ok && strings.EqualFold(scheme, "Token") {
		token = strings.TrimSpace(t)
	}
	if !in.commandTokenMatches(token) {
		in.commandMetric(channelMattermost, "", outcomeUnauthorized)
		in.log.Warn("mattermost command refused: wrong token")
		http.Error(w, "the command's token is not one sitrep was given (MATTERMOST_COMMAND_TOKEN)", http.StatusUnauthorized)
		return
	}
	in.slashCommand(w, r, slashRequest{
		platform: channelMattermost, command: get("command"), text: get("text"),
		userID: get("user_id"), channelID: get("channel_id"),
		responseURL: get("response_url"), triggerID: get("trigger_id"),
		unescape: func(s string) string { return s }, escape: mattermost.EscapeMarkdown,
	})
}

// commandTokenMatches compares token with every configured Mattermost
// command token in constant time, hashing first so that not even the
// length leaks.
func (in *Intake) commandTokenMatches(token string) bool {
	if token == "" {
		return false
	}
	sum := sha256.Sum256([]byte(token))
	ok := false
	for _, t := range in.cfg.MattermostCommandTokens {
		want := sha256.Sum256([]byte(t))
		if subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
			ok = true
		}
	}
	return ok
}

// slashCommand runs a verified slash command and answers it, within
// replyWithin, with what happened; a command the incident has not
// answered by then is answered "working on it", and its result goes to
// the command's response_url when it comes.
func (in *Intake) slashCommand(w http.ResponseWriter, r *http.Request, sr slashRequest) {
	name := truncateRunes(strings.TrimSpace(sr.command), 32)
	if name == "" {
		name = "/sitrep"
	}
	answer := func(text string) {
		writeJSON(w, http.StatusOK, slashAnswer{ResponseType: "ephemeral", Text: sr.escape(text)})
	}
	// Every command comes from the chat platform's addresses, so the
	// per-address limit counts per chat user, whom the signature or token
	// vouches for. Over the limit, the person is told in the chat: an HTTP
	// error would show only as "the command failed".
	if ok, wait, which := in.alertLimit.allow(sr.platform+":"+sr.userID, in.now()); !ok {
		in.commandMetric(sr.platform, "", outcomeRateLimited)
		in.log.Warn("request rate limited", "integration", sr.platform, "route", r.Pattern, "chatUser", truncateRunes(sr.userID, 40), "limit", which)
		w.Header().Set("Retry-After", retryAfterSeconds(wait))
		answer(fmt.Sprintf("Too many commands right now; try again in %s seconds.", retryAfterSeconds(wait)))
		return
	}
	cmd, err := parseChatCommand(sr.text)
	var syn *syntaxError
	switch {
	case errors.As(err, &syn):
		in.commandMetric(sr.platform, syn.verb, outcomeInvalid)
		if syn.verb == verbHelp {
			answer(syn.msg + ".\n" + helpText(name))
			return
		}
		answer(syn.msg + ".\nUsage: " + name + " " + usage[syn.verb])
		return
	case cmd.Verb == verbHelp:
		in.commandMetric(sr.platform, verbHelp, cmdHelp)
		answer(helpText(name))
		return
	}
	person, ok := in.cfg.People.ByChatID(sr.userID)
	if !ok {
		in.commandMetric(sr.platform, cmd.Verb, cmdUnknownPerson)
		in.log.Info("slash command from a chat user not in the catalog", "platform", sr.platform)
		answer(fmt.Sprintf("sitrep does not know your %s account (user ID %s), so it cannot act for you: add it to your person in the catalog as a chat contact.",
			platformName(sr.platform), truncateRunes(sr.userID, 40)))
		return
	}
	cmd.Text = sr.unescape(cmd.Text)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), callTimeout)
	done := make(chan cmdResult, 1)
	go func() {
		defer cancel()
		done <- in.runCommand(ctx, sr, cmd, person, name)
	}()
	select {
	case res := <-done:
		in.commandMetric(sr.platform, cmd.Verb, res.outcome)
		answer(res.text)
	case <-time.After(in.replyWithin):
		answer("Working on it: the incident has not answered yet. sitrep will tell you here when it does.")
		go func() {
			res := <-done
			in.commandMetric(sr.platform, cmd.Verb, res.outcome)
			in.replyLater(sr, res.text)
		}()
	}
}

// cmdResult is what a command came to.
type cmdResult struct {
	text    string // for the person
	outcome string // for sitrep_commands_total
}

// runCommand finds the incident (the one named, or the room's) and runs
// cmd on it as person, through the same starter calls and validation as
// the CLI.
func (in *Intake) runCommand(ctx context.Context, sr slashRequest, cmd chatCommand, person, name string) cmdResult {
	id := cmd.Incident
	if id == "" {
		found, err := in.inc.FindByRoom(ctx, sr.channelID)
		switch {
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalid):
			return cmdResult{fmt.Sprintf("This channel is not the war room of an open incident. Run the command in the incident's room, or name the incident first: %s inc-… %s",
				name, usage[cmd.Verb]), cmdUnknownRoom}
		case err != nil:
			return in.failed(err, sr, cmd, "")
		}
		id = found
	}
	reqID := requestID(sr.platform, sr.triggerID)
	var text string
	var err error
	switch cmd.Verb {
	case verbUpdate:
		// What people type is cleaned at the door: a message keeps its line breaks.
		req := workflows.UpdateRequest{By: person, Status: cmd.Status, Message: workflows.CleanMessage(cmd.Text), Audience: cmd.Audience, Role: cmd.Role, Channel: sr.platform}
		if err = ValidateUpdate(req); err != nil {
			return cmdResult{"Not posted: " + strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ") + ".\nUsage: " + name + " " + usage[verbUpdate], outcomeInvalid}
		}
		var out workflows.UpdateResult
		if out, err = in.inc.PostUpdate(ctx, id, reqID, req); err == nil {
			text = updateText(id, req, out)
		}
	case verbRole:
		p, ok := in.rolePerson(cmd.Person, person)
		if !ok {
			return cmdResult{fmt.Sprintf("Not assigned: sitrep does not know the chat user %s; name them by their catalog handle.", truncateRunes(cmd.Person, 40)), outcomeInvalid}
		}
		req := workflows.RoleRequest{Role: cmd.Role, Person: p, By: person, Channel: sr.platform}
		var out workflows.RoleResult
		if out, err = in.inc.AssignRole(ctx, id, reqID, req); err == nil {
			text = fmt.Sprintf("%s is now %s of %s", out.Person, out.Role, id)
			if out.Previous != "" && out.Previous != out.Person {
				text += " (was " + out.Previous + ")"
			}
			text += "."
		}
	case verbMitigate, verbResolve:
		req := workflows.PhaseRequest{By: person, Note: workflows.CleanNote(cmd.Text), Public: workflows.CleanNote(cmd.Public)}
		call := in.inc.Mitigate
		if cmd.Verb == verbResolve {
			call = in.inc.Resolve
		}
		var out workflows.PhaseResult
		if out, err = call(ctx, id, reqID, req); err == nil {
			text = phaseText(id, out)
		}
	case verbMerge:
		m, ok := in.inc.(Merger)
		if !ok {
			return cmdResult{"Not done: this intake cannot merge incidents.", outcomeInvalid}
		}
		req := workflows.MergeRequest{Into: cmd.Into, By: person, Note: cmd.Text, Channel: sr.platform}
		if err = ValidateMerge(id, req); err != nil {
			return cmdResult{"Not merged: " + strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ") + ".\nUsage: " + name + " " + usage[verbMerge], outcomeInvalid}
		}
		var out workflows.MergeResult
		if out, err = m.Merge(ctx, id, reqID, req); err == nil {
			text = mergeText(id, out)
		}
	case verbStatus:
		var st workflows.IncidentState
		if st, err = in.inc.Status(ctx, id); err == nil {
			text = statusText(st, in.now())
		}
	}
	if err != nil {
		return in.failed(err, sr, cmd, id)
	}
	in.log.Info("slash command done", "platform", sr.platform, "command", cmd.Verb, "incidentID", id, "person", person)
	return cmdResult{text, cmdDone}
}

// failed says why a command did nothing.
func (in *Intake) failed(err error, sr slashRequest, cmd chatCommand, id string) cmdResult {
	var rej *RejectedError
	switch {
	case errors.As(err, &rej):
		in.log.Info("slash command rejected", "platform", sr.platform, "command", cmd.Verb, "incidentID", id, "reason", rej.Type)
		return cmdResult{"Refused: " + rejectionText(rej), cmdRejected}
	case errors.Is(err, ErrInvalid):
		return cmdResult{"Not done: " + strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "), outcomeInvalid}
	case errors.Is(err, ErrNotFound):
		return cmdResult{fmt.Sprintf("No open incident %s: it may be resolved already.", shownID(id)), cmdNotFound}
	}
	in.log.Error("slash command not done", "platform", sr.platform, "command", cmd.Verb, "incidentID", id, "error", err)
	return cmdResult{"sitrep could not reach its workflow server, so nothing was done. Try again in a minute.", outcomeUnavailable}
}

// rolePerson is the catalog handle a role command names: @me is whoever
// typed it, a Slack mention (<@U123|name>) the person with that chat ID,
// anything else a handle, with or without its @.
func (in *Intake) rolePerson(typed, me string) (string, bool) {
	if typed == "@me" || strings.EqualFold(typed, "me") {
		return me, true
	}
	if mention, ok := strings.CutPrefix(typed, "<@"); ok {
		id, _, _ := strings.Cut(strings.TrimSuffix(mention, ">"), "|")
		return in.cfg.People.ByChatID(id)
	}
	return strings.TrimPrefix(typed, "@"), true
}

// replyLater posts a command's late result to its response_url.
func (in *Intake) replyLater(sr slashRequest, text string) {
	if !isWebURL(sr.responseURL) {
		in.log.Warn("slash command result not delivered: no response_url", "platform", sr.platform)
		return
	}
	body, err := json.Marshal(slashAnswer{ResponseType: "ephemeral", Text: sr.escape(text)})
	if err != nil {
		in.log.Error("slash command result not encoded", "error", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sr.responseURL, bytes.NewReader(body))
	if err != nil {
		in.log.Warn("slash command result not delivered", "platform", sr.platform, "error", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := in.replies.Do(req)
	if err != nil {
		in.log.Warn("slash command result not delivered", "platform", sr.platform, "error", err)
		return
	}
	_ = resp.Body.Close() // nothing in it is needed
	if resp.StatusCode >= 300 {
		in.log.Warn("slash command result refused", "platform", sr.platform, "status", resp.StatusCode)
	}
}

func helpText(name string) string {
	var b strings.Builder
	b.WriteString("sitrep commands, in an incident's war room:")
	for _, v := range verbs {
		b.WriteString("\n" + name + " " + usage[v])
	}
	b.WriteString("\nElsewhere, name the incident first: " + name + " inc-… status")
	return b.String()
}

func platformName(p string) string {
	if p == channelSlack {
		return "Slack"
	}
	return "Mattermost"
}

func clock(t time.Time) string { return t.UTC().Format("15:04 UTC") }

func updateText(id string, req workflows.UpdateRequest, out workflows.UpdateResult) string {
	audience := "internal and external stakeholders"
	switch req.Audience {
	case workflows.AudienceInternal:
		audience = "internal stakeholders"
	case workflows.AudienceExternal:
		audience = "external stakeholders"
	}
	if req.Role != "" {
		audience = "the " + req.Role + " audience"
	}
	text := fmt.Sprintf("Update posted to %s for %s at %s, status %s.", id, audience, clock(out.At), out.Status)
	if out.NextDue != nil {
		text += " Next update due at " + clock(*out.NextDue) + "."
	}
	return text
}

func phaseText(id string, out workflows.PhaseResult) string {
	if out.Already {
		return fmt.Sprintf("%s was %s already, at %s%s.", id, out.Phase, clock(out.At), byOf(out.By))
	}
	return fmt.Sprintf("%s is %s (%s).", id, out.Phase, clock(out.At))
}

func mergeText(id string, out workflows.MergeResult) string {
	if out.Already {
		return fmt.Sprintf("%s was merged into %s already, at %s%s.", id, out.Into, clock(out.At), byOf(out.By))
	}
	return fmt.Sprintf("%s is merged into %s (%s): its pages stopped, and updates go on in %s.", id, out.Into, clock(out.At), out.Into)
}

func byOf(by string) string {
	if by == "" {
		return ""
	}
	return " by " + by
}

// statusText is an incident in a few lines, for the person who asked.
func statusText(st workflows.IncidentState, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s, %s\n%s", st.ID, st.Severity, st.Service, strings.ToUpper(string(st.Phase)), st.Summary)
	if st.Status != "" {
		fmt.Fprintf(&b, "\nStakeholders told: %s", st.Status)
	}
	if st.NextUpdateDue != nil {
		fmt.Fprintf(&b, "\nNext update due at %s", clock(*st.NextUpdateDue))
		if late := Overdue(*st.NextUpdateDue, now); late != "" {
			b.WriteString(", " + late)
		}
	}
	if len(st.Roles) > 0 {
		var roles []string
		for _, r := range st.Roles {
			roles = append(roles, r.Role+" "+r.Person)
		}
		b.WriteString("\nRoles: " + strings.Join(roles, ", "))
	}
	if st.WarRoom != nil && st.WarRoom.Bridge != "" {
		b.WriteString("\nBridge: " + st.WarRoom.Bridge)
	}
	if st.MergedInto != "" {
		b.WriteString("\nMerged into " + st.MergedInto + ": updates go on there")
	}
	for _, m := range st.Merged {
		b.WriteString("\nMerged in: " + m.ID + " (" + m.Summary + ")")
	}
	return b.String()
}

// commandMetric counts a slash command by platform, verb and outcome.
func (in *Intake) commandMetric(platform, verb, outcome string) {
	if verb == "" {
		verb = "none"
	}
	in.commands.WithLabelValues(platform, verb, outcome).Inc()
}

func newCommandMetric(reg *prometheus.Registry) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sitrep_commands_total",
		Help: "Slash commands received from chat, by platform, command and outcome (done, rejected, not_found, unknown_room, unknown_person, bad_signature, expired, unauthorized, invalid, rate_limited, unavailable, help).",
	}, []string{"platform", "command", "outcome"})
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	return c, nil
}

// Overdue says how late an update due at due is at now, "OVERDUE by 12m",
// or "" while it is not.
func Overdue(due, now time.Time) string {
	if late := now.Sub(due); late > 0 {
		return "OVERDUE by " + shortDuration(late)
	}
	return ""
}

// shortDuration is d to the minute (to the second under a minute), without
// the zero units time.Duration prints: "12m", "1h5m", "40s".
func shortDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	s := d.Round(time.Minute).String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// mergeTarget reads merge's target: "--into INC", "--into=INC", "into INC"
// or the incident alone; the note is the rest of the line.
func (c *chatCommand) mergeTarget(sc *scanner) error {
	word, err := sc.next()
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	for _, dash := range []string{"—", "–"} {
		if rest, ok := strings.CutPrefix(word, dash); ok {
			word = "--" + rest
		}
	}
	if v, ok := strings.CutPrefix(word, "--into="); ok {
		word = v
	} else if word == "--into" || strings.EqualFold(word, "into") {
		if word, err = sc.next(); err != nil {
			return fmt.Errorf("merge: --into: %w", err)
		}
	}
	if word == "" {
		return errors.New("merge: name the incident to merge into")
	}
	if strings.HasPrefix(word, "--") {
		return fmt.Errorf("merge: unknown option %s (want --into)", truncateRunes(word, 40))
	}
	c.Into = word
	return nil
}
