package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"go.temporal.io/sdk/temporal"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
)

// The post-incident activities: the post-mortem document, the meeting
// invite, the stakeholder summary, action items and learnings. Like the
// comms activities they carry handles, never addresses.

// Priorities an action item may have, highest first.
var Priorities = []string{"Highest", "High", "Medium", "Low", "Lowest"}

// DefaultPriority is an action item's priority when its author gives none.
const DefaultPriority = "High"

// Submission is the post-mortem as the commander submits it (`sitrep
// postmortem submit --file pm.yaml`).
type Submission struct {
	RootCause    string       `json:"rootCause" yaml:"root_cause"`
	WhatHappened string       `json:"whatHappened,omitempty" yaml:"what_happened"` // for stakeholders; default the root cause
	WhatWeDid    string       `json:"whatWeDid,omitempty" yaml:"what_we_did"`      // for stakeholders
	Impact       Impact       `json:"impact" yaml:"impact"`
	ActionItems  []ActionItem `json:"actionItems" yaml:"action_items"`
	Learnings    []string     `json:"learnings" yaml:"learnings"`
	By           string       `json:"by,omitempty" yaml:"-"`
}

// Impact is what the incident cost.
type Impact struct {
	Duration          string `json:"duration" yaml:"duration"` // e.g. 45m, 2h30m
	CustomersAffected string `json:"customersAffected" yaml:"customers_affected"`
	SLOEffect         string `json:"sloEffect" yaml:"slo_effect"` // SLO/SLA effect: budget burnt, credits owed
}

// ActionItem is one thing that must be done so it does not happen again.
type ActionItem struct {
	ID       string `json:"id" yaml:"-"` // A1, A2…; gap for the detection-gap item
	Title    string `json:"title" yaml:"title"`
	Owner    string `json:"owner" yaml:"owner"`
	Priority string `json:"priority,omitempty" yaml:"priority"`
	Due      string `json:"due" yaml:"due"` // YYYY-MM-DD
	Detail   string `json:"detail,omitempty" yaml:"detail"`
	// Ticket and URL are the tracker ticket, once filed.
	Ticket string `json:"ticket,omitempty" yaml:"-"`
	URL    string `json:"url,omitempty" yaml:"-"`
}

// Validate reports every problem with the submission at once, each named
// by its field. known says whether a person handle exists; resolved is
// when the incident resolved (no due date may be before it).
func (s Submission) Validate(known func(string) bool, resolved time.Time) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(s.RootCause) == "" {
		bad("root_cause: missing: say what caused the incident")
	}
	if strings.TrimSpace(s.Impact.Duration) == "" {
		bad("impact.duration: missing: how long customers were affected, e.g. 45m")
	} else if d, err := time.ParseDuration(s.Impact.Duration); err != nil || d <= 0 {
		bad("impact.duration: %q is not a positive duration like 45m or 2h30m", s.Impact.Duration)
	}
	if strings.TrimSpace(s.Impact.CustomersAffected) == "" {
		bad("impact.customers_affected: missing: who was affected, and how many (\"none\" is an answer)")
	}
	if strings.TrimSpace(s.Impact.SLOEffect) == "" {
		bad("impact.slo_effect: missing: the SLO/SLA effect (\"none\" is an answer)")
	}
	for i, it := range s.ActionItems {
		errs = append(errs, it.validate(fmt.Sprintf("action_items[%d]", i+1), known, resolved)...)
	}
	if len(s.Learnings) == 0 {
		bad("learnings: missing: at least one thing future responders should know")
	}
	for i, l := range s.Learnings {
		if strings.TrimSpace(l) == "" {
			bad("learnings[%d]: empty", i+1)
		}
	}
	return errors.Join(errs...)
}

// ValidateItem reports every problem with one action item added later.
func ValidateItem(it ActionItem, known func(string) bool, resolved time.Time) error {
	return errors.Join(it.validate("action item", known, resolved)...)
}

func (it ActionItem) validate(at string, known func(string) bool, resolved time.Time) []error {
	var errs []error
	if strings.TrimSpace(it.Title) == "" {
		errs = append(errs, fmt.Errorf("%s.title: missing", at))
	}
	switch {
	case strings.TrimSpace(it.Owner) == "":
		errs = append(errs, fmt.Errorf("%s.owner: missing: the catalog handle of who will do it", at))
	case known != nil && !known(it.Owner):
		errs = append(errs, fmt.Errorf("%s.owner: unknown person %q (not in the catalog)", at, it.Owner))
	}
	if it.Priority != "" && !slices.Contains(Priorities, it.Priority) {
		errs = append(errs, fmt.Errorf("%s.priority: %q is not one of %s", at, it.Priority, strings.Join(Priorities, ", ")))
	}
	if d, err := time.Parse(time.DateOnly, it.Due); err != nil {
		errs = append(errs, fmt.Errorf("%s.due: %q is not a date like 2026-12-31", at, it.Due))
	} else if !resolved.IsZero() && d.Before(resolved.Truncate(24*time.Hour)) {
		errs = append(errs, fmt.Errorf("%s.due: %s is before the incident resolved (%s)", at, it.Due, resolved.Format(time.DateOnly)))
	}
	return errs
}

// PlanInput asks how the post-incident process runs for a team.
type PlanInput struct {
	Team      string
	Commander string
}

// PostmortemPlan is the post-incident process for one incident, as the
// catalog says now: kept by the workflow, so a catalog edit never changes
// a post-mortem under way. It holds handles, never addresses.
type PostmortemPlan struct {
	// On: the catalog has a postmortem section; without one, no post-mortem runs.
	On                                         bool
	DueAfter, RemindEvery, ApprovalRemindEvery time.Duration
	GiveUpAfter                                time.Duration
	Approvers                                  []string
	Managers                                   []string
	PlanManagers                               []string // product and project managers: they receive the action items
	People                                     []string // every handle, so owners can be checked
	FollowUpDay                                time.Weekday
	FollowUpHour, FollowUpMinute               int
	FollowUpEvery                              time.Duration // drills: a "week" this long
	TeamZone                                   string
	ContinueEvery                              int
}

// PlanPostmortem reads the catalog's postmortem settings and the team's
// approvers and managers. It only reads the catalog: a local activity.
func (a *Activities) PlanPostmortem(ctx context.Context, in PlanInput) (PostmortemPlan, error) {
	if a.Catalog == nil {
		return PostmortemPlan{}, temporal.NewNonRetryableApplicationError("no catalog", ErrCatalog, nil)
	}
	c := a.Catalog.Current()
	s := c.PostmortemSettings()
	p := PostmortemPlan{On: c.PostmortemsOn(), DueAfter: s.DueAfter, RemindEvery: s.RemindEvery, ApprovalRemindEvery: s.ApprovalRemindEvery,
		GiveUpAfter: s.GiveUpAfter, Approvers: c.Approvers(in.Team), FollowUpDay: s.FollowUpDay, FollowUpHour: s.FollowUpHour,
		FollowUpMinute: s.FollowUpMinute, FollowUpEvery: s.FollowUpEvery, TeamZone: c.TeamTimezone(in.Team), ContinueEvery: s.ContinueEvery}
	if t, ok := c.Teams[in.Team]; ok {
		p.Managers = slices.Clone(t.Managers)
		p.PlanManagers = append(slices.Clone(t.ProductManagers), t.ProjectManagers...)
		slices.Sort(p.PlanManagers)
		p.PlanManagers = slices.Compact(p.PlanManagers)
	}
	for h := range c.People {
		p.People = append(p.People, h)
	}
	slices.Sort(p.People)
	return p, nil
}

// PeopleNotice is one message to some people, by handle: a reminder, a
// request for approval, a rejection, a detection-gap notice.
type PeopleNotice struct {
	Ref        string
	IncidentID string
	Kind       string // postmortem-due, approval-requested, approval-due, rejected, detection-gap, …
	People     []string
	Subject    string
	Text       string
}

// PeopleResult says who got it, and who has no email address.
type PeopleResult struct {
	Sent    []string
	Missing []string
}

// NotifyPeople emails each person on their own (addresses stay private),
// looked up in the catalog here.
func (a *Activities) NotifyPeople(ctx context.Context, n PeopleNotice) (PeopleResult, error) {
	return a.emailPeople(ctx, n.IncidentID, n.People, n.Subject, n.Text, nil)
}

func (a *Activities) emailPeople(ctx context.Context, incidentID string, people []string, subject, text string, att []integrations.Attachment) (PeopleResult, error) {
	if a.Comms.Mailer == nil {
		return PeopleResult{}, temporal.NewNonRetryableApplicationError("no mailer is configured", ErrNotConfigured, nil)
	}
	c := a.Catalog.Current()
	subject = oneLine(subject)
	var out PeopleResult
	for _, p := range dedupe(people) {
		addr, err := c.Address(p, catalog.Email)
		if err != nil {
			out.Missing = append(out.Missing, p)
			continue
		}
		if _, err := a.Comms.Mailer.Send(ctx, integrations.Email{To: []string{addr}, Subject: subject, Text: text,
			IncidentID: incidentID, Attachments: att}); err != nil {
			// What already went out stays out; the retry resends to the rest
			// too, which is the price of a mailer without idempotency keys.
			return out, mailError(err)
		}
		out.Sent = append(out.Sent, p)
	}
	return out, nil
}

func mailError(err error) error {
	var pe *integrations.Error
	if errors.As(err, &pe) && pe.Permanent() {
		return temporal.NewNonRetryableApplicationError("send email: "+redact(pe.Error()), ErrPermanent, nil)
	}
	return fmt.Errorf("send email: %s", redact(err.Error()))
}

func dedupe(people []string) []string {
	var out []string
	for _, p := range people {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// PostmortemDoc is everything the post-mortem document shows: the
// incident's whole record and, once submitted, the post-mortem itself.
type PostmortemDoc struct {
	Ref, IncidentID, Service, Team, Summary string
	Severity                                catalog.Severity
	Source, Reporter                        string
	OpenedAt                                time.Time
	AcknowledgedAt, MitigatedAt, ResolvedAt *time.Time
	AcknowledgedBy                          string
	FirstNoticeAt                           *time.Time
	Cadence                                 time.Duration
	Roles                                   []DocRole
	Pages                                   int
	Paged                                   []string
	Updates                                 []DocUpdate
	Timeline                                []DocEvent
	Submission                              *Submission
	Ticket                                  string // the post-mortem's tracker issue
	Phase                                   string
	Approvals                               []DocApproval
}

// DocRole is who held a role.
type DocRole struct{ Role, Person string }

// DocUpdate is one stakeholder communication.
type DocUpdate struct {
	At                        time.Time
	Kind, Status, Message, By string
}

// DocEvent is one line of the timeline.
type DocEvent struct {
	At                time.Time
	Kind, Actor, Text string
}

// DocApproval is one approver's decision.
type DocApproval struct {
	At                    time.Time
	By, Decision, Comment string
}

// Figures are the incident's times, computed from its record.
type Figures struct {
	ToAcknowledge, ToMitigate, ToResolve, ToFirstNotice string
	UpdatesSent, UpdatesDue                             int
}

// Figures computes the document's figures; "n/a" where a moment never came.
func (d PostmortemDoc) Figures() Figures {
	since := func(t *time.Time) string {
		if t == nil || d.OpenedAt.IsZero() {
			return "n/a"
		}
		return t.Sub(d.OpenedAt).Round(time.Second).String()
	}
	f := Figures{ToAcknowledge: since(d.AcknowledgedAt), ToMitigate: since(d.MitigatedAt), ToResolve: since(d.ResolvedAt),
		ToFirstNotice: since(d.FirstNoticeAt)}
	for _, u := range d.Updates {
		if u.Kind != "notice" {
			f.UpdatesSent++
		}
	}
	end := d.MitigatedAt
	if end == nil {
		end = d.ResolvedAt
	}
	if d.Cadence > 0 && d.FirstNoticeAt != nil && end != nil && end.After(*d.FirstNoticeAt) {
		f.UpdatesDue = int(end.Sub(*d.FirstNoticeAt) / d.Cadence)
	}
	return f
}

// Postmortem renders the post-mortem document.
func (t *Templates) Postmortem(d PostmortemDoc) (string, error) {
	s, err := t.render("postmortem.text.tmpl", d)
	return strings.TrimSpace(s), err
}

// MeetingRequest invites responders and role holders to the post-mortem meeting.
type MeetingRequest struct {
	Ref, IncidentID, Service, Summary string
	Commander                         string // the meeting is in their time zone; they organise it
	People                            []string
	Resolved                          time.Time // the slot is within the configured business days after it
	PostmortemURL                     string
}

// MeetingResult is the slot and who was invited.
type MeetingResult struct {
	Start, End time.Time
	Zone       string
	Sent       []string
	Missing    []string
}

// SendInvite emails each person an iCalendar invitation (a text/calendar;
// method=REQUEST part, which Outlook and Google show as an invite) for a
// slot within the configured number of business days after resolution, in
// the commander's time zone. Its UID is the incident's ref, so a retried
// send is the same invite, not a second meeting.
func (a *Activities) SendInvite(ctx context.Context, in MeetingRequest) (MeetingResult, error) {
	c := a.Catalog.Current()
	s := c.PostmortemSettings()
	zone := c.PersonTimezone(in.Commander)
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc, zone = time.UTC, "UTC"
	}
	start := MeetingSlot(in.Resolved, loc, s.MeetingWithin, s.MeetingHour)
	end := start.Add(s.MeetingLength)
	organizer, _ := c.Address(in.Commander, catalog.Email)
	var attendees []string
	for _, p := range dedupe(in.People) {
		if addr, err := c.Address(p, catalog.Email); err == nil {
			attendees = append(attendees, addr)
		}
	}
	summary := fmt.Sprintf("Post-mortem: %s: %s", in.Service, in.Summary)
	desc := fmt.Sprintf("Post-mortem meeting for incident %s.", in.IncidentID)
	if in.PostmortemURL != "" {
		desc += "\nThe document: " + in.PostmortemURL
	}
	ics := Invite(in.Ref, summary, desc, organizer, attendees, start, end, in.Resolved)
	text := fmt.Sprintf("%s\n\nWhen: %s (%s)\n\nThe invitation is attached; accept it in your calendar.",
		desc, start.Format("Monday 2 January 2006, 15:04"), zone)
	res, err := a.emailPeople(ctx, in.IncidentID, in.People, summary, text, []integrations.Attachment{{
		Filename: "invite.ics", ContentType: "text/calendar; method=REQUEST; charset=utf-8", Content: []byte(ics)}})
	if err != nil {
		return MeetingResult{}, err
	}
	return MeetingResult{Start: start, End: end, Zone: zone, Sent: res.Sent, Missing: res.Missing}, nil
}

// MeetingSlot is the post-mortem meeting's start: at hour, local time in
// loc, on the business day that is min(2, within) business days after
// resolved, so people have a day to prepare and it stays within the limit.
func MeetingSlot(resolved time.Time, loc *time.Location, within, hour int) time.Time {
	days := min(2, within)
	d := resolved.In(loc)
	for days > 0 {
		d = d.AddDate(0, 0, 1)
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
			days--
		}
	}
	return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, loc)
}

// DraftInput asks for the stakeholder summary of a submission.
type DraftInput struct {
	Service    string
	Components []string // the service's public names
	OpenedAt   time.Time
	Submission Submission
}

// Draft is a plain-language summary for stakeholders, with what its author
// should look at before an approver sees it.
type Draft struct {
	Text string
	// Jargon are the terms of the catalog's jargon list the text uses.
	Jargon []string
	// Names are internal names (people) the draft held: replaced.
	Names []string
	// Readability is the Flesch reading ease: 60 and above reads plainly.
	Readability float64
}

// DraftSummary drafts the stakeholder summary from the submission: what
// happened, the impact, what was done, what will prevent a repeat. People's
// names and handles are replaced; jargon is flagged, not changed.
func (a *Activities) DraftSummary(ctx context.Context, in DraftInput) (Draft, error) {
	c := a.Catalog.Current()
	if len(in.Components) == 0 {
		in.Components = publicComponents(c, in.Service)
	}
	text, err := a.Templates.render("summary.draft.tmpl", in)
	if err != nil {
		return Draft{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTemplate, nil)
	}
	d := Draft{}
	var names []string
	for h, p := range c.People {
		names = append(names, h)
		if p.Name != "" {
			names = append(names, p.Name)
		}
	}
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) }) // longest first: "Alice Smith" before "alice"
	for _, n := range names {
		re := regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(n) + `\b`)
		if re.MatchString(text) {
			d.Names = append(d.Names, n)
			text = re.ReplaceAllString(text, "our team")
		}
	}
	slices.Sort(d.Names)
	for _, j := range c.PostmortemSettings().Jargon {
		if regexp.MustCompile(`(?i)(^|[^\pL\pN])` + regexp.QuoteMeta(j) + `($|[^\pL\pN])`).MatchString(text) {
			d.Jargon = append(d.Jargon, j)
		}
	}
	d.Text = strings.TrimSpace(text)
	d.Readability = Readability(d.Text)
	return d, nil
}

// Readability is the Flesch reading ease of text: 206.835 − 1.015 × words
// per sentence − 84.6 × syllables per word, rounded to one decimal.
func Readability(text string) float64 {
	sentences, words, syllables := 0, 0, 0
	for _, s := range regexp.MustCompile(`[.!?\n]+`).Split(text, -1) {
		ws := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' })
		if len(ws) == 0 {
			continue
		}
		sentences++
		words += len(ws)
		for _, w := range ws {
			syllables += countSyllables(w)
		}
	}
	if words == 0 {
		return 0
	}
	score := 206.835 - 1.015*float64(words)/float64(sentences) - 84.6*float64(syllables)/float64(words)
	return float64(int(score*10+0.5*sign(score))) / 10
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

func countSyllables(w string) int {
	w = strings.ToLower(w)
	n, prev := 0, false
	for _, r := range w {
		v := strings.ContainsRune("aeiouy", r)
		if v && !prev {
			n++
		}
		prev = v
	}
	if strings.HasSuffix(w, "e") && n > 1 && !strings.HasSuffix(w, "le") {
		n--
	}
	return max(n, 1)
}

// StatusPostmortem is a status page that can publish an incident's
// postmortem (Statuspage's incident postmortem): an optional ability of a
// StatusPage.
type StatusPostmortem interface {
	Postmortem(ctx context.Context, id, body string) error
}

// SummaryNotice publishes the approved summary.
type SummaryNotice struct {
	Ref, IncidentID, Service string
	Components               []string
	StatusPageID             string // the incident's status page incident; empty: none was opened
	Severity                 catalog.Severity
	// Groups are the incident's stakeholder groups, as its plan kept them;
	// empty: the service's groups in the catalog now (minus external ones
	// for an internal-only severity).
	Groups        []GroupPlan
	Text          string // the approved summary
	RootCause     string // internal only
	ApprovedBy    string // internal only
	PostmortemURL string // internal only
}

// SummaryResult names each destination it reached, and each it did not.
type SummaryResult struct {
	Sent   []string
	Failed []string
}

// PublishSummary posts the approved summary to the status page (as the
// incident's postmortem) and emails each stakeholder group with its
// audience's template (summary.{internal,external}.text.tmpl). A
// destination that fails is named in Failed; the rest still go.
func (a *Activities) PublishSummary(ctx context.Context, n SummaryNotice) (SummaryResult, error) {
	var out SummaryResult
	c := a.Catalog.Current()
	if len(n.Components) == 0 {
		n.Components = publicComponents(c, n.Service)
	}
	subject, err := a.Templates.render("summary.subject.tmpl", n)
	if err != nil {
		return out, temporal.NewNonRetryableApplicationError(err.Error(), ErrTemplate, nil)
	}
	subject = oneLine(subject)
	if n.StatusPageID != "" && a.Comms.StatusPage != nil {
		body, err := a.Templates.render("summary.external.text.tmpl", n)
		if err == nil {
			if pm, ok := a.Comms.StatusPage.(StatusPostmortem); ok {
				err = pm.Postmortem(ctx, n.StatusPageID, strings.TrimSpace(body))
			} else {
				// No postmortem API: the summary is the resolved incident's last update.
				err = a.Comms.StatusPage.Update(ctx, n.StatusPageID, StatusPost{Title: subject, Body: strings.TrimSpace(body),
					Status: "resolved", Components: n.Components})
			}
		}
		if err != nil {
			out.Failed = append(out.Failed, "status page: "+redact(err.Error()))
		} else {
			out.Sent = append(out.Sent, "status page")
		}
	}
	if len(n.Groups) == 0 {
		n.Groups = serviceGroups(c, n.Service, n.Severity)
	}
	for _, g := range n.Groups {
		sg, ok := c.StakeholderGroups[g.Name]
		if !ok || len(sg.Emails) == 0 {
			out.Failed = append(out.Failed, "email "+g.Name+": no such group, or no addresses")
			continue
		}
		if a.Comms.Mailer == nil {
			out.Failed = append(out.Failed, "email "+g.Name+": no mailer is configured")
			continue
		}
		body, err := a.Templates.render("summary."+string(sg.Audience)+".text.tmpl", n)
		if err != nil {
			out.Failed = append(out.Failed, "email "+g.Name+": "+err.Error())
			continue
		}
		failed := false
		for _, addr := range sg.Emails {
			if _, err := a.Comms.Mailer.Send(ctx, integrations.Email{To: []string{addr}, Subject: subject,
				Text: strings.TrimSpace(body), IncidentID: n.IncidentID}); err != nil {
				out.Failed = append(out.Failed, "email "+g.Name+": "+redact(err.Error()))
				failed = true
				break
			}
		}
		if !failed {
			out.Sent = append(out.Sent, "email "+g.Name)
		}
	}
	return out, nil
}

// publicComponents are the names customers know a service by: its status
// page components in the catalog.
func publicComponents(c *catalog.Catalog, service string) []string {
	if svc, ok := c.Services[service]; ok {
		return slices.Clone(svc.StatusPageComponents)
	}
	return nil
}

// serviceGroups are a service's stakeholder groups in the catalog, without
// the external ones when the severity is internal only.
func serviceGroups(c *catalog.Catalog, service string, sev catalog.Severity) []GroupPlan {
	svc, ok := c.Services[service]
	if !ok {
		return nil
	}
	internalOnly := false
	if sp, ok := c.Severities[sev]; ok {
		internalOnly = sp.InternalOnly
	}
	var out []GroupPlan
	for _, g := range svc.StakeholderGroups {
		if sg, ok := c.StakeholderGroups[g]; ok && !(internalOnly && sg.Audience == catalog.External) {
			out = append(out, GroupPlan{Name: g, Audience: sg.Audience})
		}
	}
	return out
}

// ActionListNotice tells the people who plan work of an incident's action items.
type ActionListNotice struct {
	Ref, IncidentID, Service, Summary string
	People                            []string
	Items                             []ActionItem
	Added                             bool // items added after the list first went out
}

// SendActionList emails the list (actions.text.tmpl) to each person.
func (a *Activities) SendActionList(ctx context.Context, n ActionListNotice) (PeopleResult, error) {
	subject := fmt.Sprintf("Action items from incident %s (%s)", n.IncidentID, n.Service)
	text, err := a.Templates.render("actions.text.tmpl", n)
	if err != nil {
		return PeopleResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTemplate, nil)
	}
	return a.emailPeople(ctx, n.IncidentID, n.People, subject, strings.TrimSpace(text), nil)
}

// DigestItem is one action item as the week's follow-up found it.
type DigestItem struct {
	ActionItem
	Status   string // the tracker's status name
	Category string // new, indeterminate, done
	Problem  string // why its status could not be read
	Overdue  bool
	DoneNow  bool // done since the last digest
}

// DigestNotice is one week's follow-up.
type DigestNotice struct {
	Ref, IncidentID, Service, Summary string
	Week                              int
	At                                time.Time
	Final                             bool // every item is done: the last digest
	People                            []string
	Items                             []DigestItem
}

// Open, Overdue, DoneThisWeek and Problems group the digest's items for its template.
func (d DigestNotice) Open() []DigestItem {
	return d.filter(func(i DigestItem) bool { return i.Category != "done" && i.Problem == "" })
}

// Overdue are the open items past their due date.
func (d DigestNotice) Overdue() []DigestItem {
	return d.filter(func(i DigestItem) bool { return i.Overdue })
}

// DoneThisWeek are the items done since the last digest.
func (d DigestNotice) DoneThisWeek() []DigestItem {
	return d.filter(func(i DigestItem) bool { return i.DoneNow })
}

// Problems are the items whose status could not be read.
func (d DigestNotice) Problems() []DigestItem {
	return d.filter(func(i DigestItem) bool { return i.Problem != "" })
}

func (d DigestNotice) filter(f func(DigestItem) bool) []DigestItem {
	var out []DigestItem
	for _, i := range d.Items {
		if f(i) {
			out = append(out, i)
		}
	}
	return out
}

// DigestResult says who got the digest and who was reminded of overdue items.
type DigestResult struct {
	Sent     []string
	Reminded []string
	Missing  []string
}

// SendDigest emails the week's digest (digest.text.tmpl) to owners and
// managers, and reminds each owner of their overdue items.
func (a *Activities) SendDigest(ctx context.Context, n DigestNotice) (DigestResult, error) {
	subject := fmt.Sprintf("Weekly follow-up, incident %s (%s): %d open, %d overdue", n.IncidentID, n.Service, len(n.Open()), len(n.Overdue()))
	if n.Final {
		subject = fmt.Sprintf("All action items of incident %s (%s) are done", n.IncidentID, n.Service)
	}
	text, err := a.Templates.render("digest.text.tmpl", n)
	if err != nil {
		return DigestResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTemplate, nil)
	}
	res, err := a.emailPeople(ctx, n.IncidentID, n.People, subject, strings.TrimSpace(text), nil)
	if err != nil {
		return DigestResult{}, err
	}
	out := DigestResult{Sent: res.Sent, Missing: res.Missing}
	owners := map[string][]string{}
	var order []string
	for _, it := range n.Overdue() {
		if _, ok := owners[it.Owner]; !ok {
			order = append(order, it.Owner)
		}
		owners[it.Owner] = append(owners[it.Owner], fmt.Sprintf("- %s %s (due %s) %s", it.Ticket, it.Title, it.Due, it.URL))
	}
	for _, o := range order {
		r, err := a.emailPeople(ctx, n.IncidentID, []string{o},
			fmt.Sprintf("Overdue action items from incident %s", n.IncidentID),
			"These action items you own are past their due date:\n\n"+strings.Join(owners[o], "\n")+
				"\n\nClose the ticket when done, or agree a new date with your manager.", nil)
		if err != nil {
			return out, err
		}
		out.Reminded = append(out.Reminded, r.Sent...)
	}
	return out, nil
}

// LearningsNotice sends an incident's learnings to every future responder.
type LearningsNotice struct {
	Ref, IncidentID, Service, Summary string
	Severity                          catalog.Severity
	At                                time.Time
	Learnings                         []string
	PostmortemURL                     string
}

// LearningsResult says who got the learnings and where they were recorded.
type LearningsResult struct {
	Sent     []string
	Missing  []string
	Recorded string // the file appended to; empty when none is configured
}

// Learning is one line of the learnings record (JSON lines).
type Learning struct {
	At            time.Time        `json:"at"`
	Ref           string           `json:"ref"`
	IncidentID    string           `json:"incident"`
	Service       string           `json:"service"`
	Severity      catalog.Severity `json:"severity"`
	Summary       string           `json:"summary"`
	Learnings     []string         `json:"learnings"`
	PostmortemURL string           `json:"postmortem,omitempty"`
}

// RecordLearnings emails the learnings (learnings.text.tmpl) to the
// catalog's responders list and appends them to the learnings file, once
// per incident: a retry finds its own line and does not add another.
func (a *Activities) RecordLearnings(ctx context.Context, n LearningsNotice) (LearningsResult, error) {
	s := a.Catalog.Current().PostmortemSettings()
	var out LearningsResult
	if s.LearningsFile != "" {
		if err := appendLearning(s.LearningsFile, Learning{At: n.At, Ref: n.Ref, IncidentID: n.IncidentID, Service: n.Service,
			Severity: n.Severity, Summary: n.Summary, Learnings: n.Learnings, PostmortemURL: n.PostmortemURL}); err != nil {
			return out, fmt.Errorf("record learnings: %w", err)
		}
		out.Recorded = s.LearningsFile
	}
	if len(s.Responders) == 0 {
		return out, nil
	}
	text, err := a.Templates.render("learnings.text.tmpl", n)
	if err != nil {
		return out, temporal.NewNonRetryableApplicationError(err.Error(), ErrTemplate, nil)
	}
	res, err := a.emailPeople(ctx, n.IncidentID, s.Responders, fmt.Sprintf("Learnings from incident %s (%s)", n.IncidentID, n.Service),
		strings.TrimSpace(text), nil)
	if err != nil {
		return out, err
	}
	out.Sent, out.Missing = res.Sent, res.Missing
	return out, nil
}

func appendLearning(path string, l Learning) error {
	have, err := ReadLearnings(path, time.Time{})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, h := range have {
		if h.Ref == l.Ref {
			return nil
		}
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		_ = f.Close() // the write error is the one to report
		return err
	}
	return f.Close()
}

// ReadLearnings reads the learnings record, oldest first, keeping those at
// or after since.
func ReadLearnings(path string, since time.Time) ([]Learning, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Learning
	for i, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var l Learning
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		if !l.At.Before(since) {
			out = append(out, l)
		}
	}
	return out, nil
}

// PagedList names everyone paged, for the document.
func (d PostmortemDoc) PagedList() string { return strings.Join(d.Paged, ", ") }

// Name is what stakeholders call the service: its status page components, else its name.
func (in DraftInput) Name() string { return publicName(in.Service, in.Components) }

// Name is what stakeholders call the service.
func (n SummaryNotice) Name() string { return publicName(n.Service, n.Components) }

func publicName(service string, components []string) string {
	if len(components) > 0 {
		return strings.Join(components, ", ")
	}
	return service
}
