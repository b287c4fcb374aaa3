package activities

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/sitrep-dev/sitrep/catalog"
)

// Stories hands stakeholder notices to the Story workflows, which keep one
// public story per cause and each stakeholder group's update window across
// incidents (see workflows.Story). A notice is handed over durably (a
// signal, or a start with it), never waited on: a storm of incidents never
// queues behind the Story.
type Stories interface {
	Tell(ctx context.Context, n StoryNotice) (story string, err error)
}

// StoryNotice is one incident's notice for one destination, handed to the
// Story that coordinates it. It carries handles and text, never addresses.
type StoryNotice struct {
	// Key names the notice: the incident's ref, the update's index and the
	// destination. A notice told twice (a retry, or the PostIncident the
	// incident handed it to) is one notice.
	Key string
	// ReplyTo is the workflow told how it went: the incident, or the
	// PostIncident it handed the notice to as it resolved.
	ReplyTo string
	Ref     string
	Update  int
	Dest    string // "status page", or "email <group>"
	// Group and Audience: the stakeholder group, for an email.
	Group    string
	Audience catalog.Audience
	// Window is the incident's update window (catalog comms.update_window).
	Window time.Duration
	// Human: a person wrote it (a posted update), so the public story
	// carries it even when another incident leads it.
	Human bool
	// Notice is what the destination reads, already fit for its audience.
	Notice Notice
}

// StoryReceipt names the Story that took a notice; empty when no Story is
// configured and the incident sends the notice itself.
type StoryReceipt struct {
	Story string
}

// TellStory hands a notice to its Story. With no Stories configured (tests,
// drills) it returns an empty receipt: the caller sends the notice itself.
func (a *Activities) TellStory(ctx context.Context, n StoryNotice) (StoryReceipt, error) {
	if a.Stories == nil {
		return StoryReceipt{}, nil
	}
	id, err := a.Stories.Tell(ctx, n)
	if err != nil {
		return StoryReceipt{}, fmt.Errorf("tell story: %w", err)
	}
	return StoryReceipt{Story: id}, nil
}

// StoryPost is one post of a public story to the status page.
type StoryPost struct {
	// Marker opens the status page incident idempotently: a retried open
	// finds the one the first try made.
	Marker string
	// PageID is the status page incident; empty: the post opens it.
	PageID string
	// Notice is what the post says; its Components are what its title and
	// text name (the leading incident's), and its Also the components the
	// linked incidents add.
	Notice Notice
	// Components are every component the story affects, for the page.
	Components []string
	// Incidents are the incidents linked to the story.
	Incidents []string
}

// PostStory opens or updates a public story's status page incident, with
// the external template. No status page: ErrNotConfigured.
func (a *Activities) PostStory(ctx context.Context, p StoryPost) (StatusPageResult, error) {
	if a.Comms.StatusPage == nil {
		return StatusPageResult{}, notConfigured("no status page is configured")
	}
	page := p.Notice
	page.StatusURL = "" // the page is the link
	_, body, err := a.Templates.Notice(page, catalog.External)
	if err != nil {
		return StatusPageResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrPermanent, err)
	}
	title, err := a.Templates.StatusTitle(p.Notice)
	if err != nil {
		return StatusPageResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrPermanent, err)
	}
	comps := p.Components
	if len(comps) == 0 {
		comps = p.Notice.Components
	}
	post := StatusPost{Title: title, Body: body, Status: statusOf(p.Notice), Impact: StatusImpact(p.Notice.Severity), Components: slices.Clone(comps),
		Marker: p.Marker, Incidents: slices.Clone(p.Incidents)}
	if p.PageID == "" {
		id, url, err := a.Comms.StatusPage.Open(ctx, p.Marker, post)
		if err != nil {
			return StatusPageResult{}, providerError(ctx, "open status page incident", p.Notice.IncidentID, err)
		}
		return StatusPageResult{ID: id, URL: url}, nil
	}
	if err := a.Comms.StatusPage.Update(ctx, p.PageID, post); err != nil {
		return StatusPageResult{}, providerError(ctx, "update status page incident", p.Notice.IncidentID, err)
	}
	return StatusPageResult{ID: p.PageID, URL: p.Notice.StatusURL}, nil
}

// DigestLine is one incident in a stakeholder digest: its latest notice.
type DigestLine struct {
	Ref        string
	IncidentID string
	Service    string
	Components []string
	Severity   catalog.Severity
	Summary    string // internal only
	Kind       NoticeKind
	Status     string
	Message    string // fit for the group's audience already
	At         time.Time
	// New: this notice is news since the group's last email.
	New bool
}

// Digest is one email folding every notice a stakeholder group was due
// within its update window.
type Digest struct {
	Group  string
	At     time.Time
	Window time.Duration
	Lines  []DigestLine
}

// EmailDigest renders a digest (stakeholders.digest.*.tmpl) with the
// group's audience and emails every address of the group, one email each.
func (a *Activities) EmailDigest(ctx context.Context, d Digest) (NoticeResult, error) {
	if a.Comms.Mailer == nil {
		return NoticeResult{}, notConfigured("no email provider is configured for stakeholder notices")
	}
	c := a.Catalog.Current()
	g, ok := c.StakeholderGroups[d.Group]
	if !ok {
		return NoticeResult{}, catalogError(fmt.Errorf("unknown stakeholder group %q", d.Group))
	}
	if len(g.Emails) == 0 {
		return NoticeResult{}, catalogError(fmt.Errorf("stakeholder group %q has no email addresses", d.Group))
	}
	subject, text, err := a.Templates.Digest(d, g.Audience)
	if err != nil {
		return NoticeResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrPermanent, err)
	}
	id := ""
	if len(d.Lines) > 0 {
		id = d.Lines[0].IncidentID
	}
	return a.mailGroup(ctx, d.Group, g.Emails, subject, text, id)
}

// digestShown is how many incidents a digest lists one by one.
const digestShown = 50

type digestData struct {
	Digest
	Audience string
	Count    int    // incidents in it
	News     int    // incidents with news since the last email
	Every    string // the window in words
	AtClock  string
	// Shown are the lines listed (internal: one per incident; external:
	// one per affected components and status, counted), More the rest.
	Shown []digestShow
	More  int
}

type digestShow struct {
	DigestLine
	What  string
	State string
	Count int // external: incidents with this What and State
}

// Digest renders a stakeholder digest's subject and text with its
// audience's wording: insiders read each incident, customers read what is
// affected and how it stands, never an incident's summary or ID.
func (t *Templates) Digest(d Digest, audience catalog.Audience) (subject, text string, err error) {
	if audience != catalog.Internal && audience != catalog.External {
		return "", "", fmt.Errorf("render digest: unknown audience %q", audience)
	}
	dd := digestData{Digest: d, Audience: string(audience), Count: len(d.Lines), Every: every(d.Window), AtClock: clock(d.At)}
	lines := slices.Clone(d.Lines)
	// News first, then the newest.
	slices.SortStableFunc(lines, func(x, y DigestLine) int {
		if x.New != y.New {
			if x.New {
				return -1
			}
			return 1
		}
		return y.At.Compare(x.At)
	})
	var shows []digestShow
	for _, l := range lines {
		if l.New {
			dd.News++
		}
		n := Notice{Kind: l.Kind, Status: l.Status, Service: l.Service, Components: l.Components}
		s := digestShow{DigestLine: l, What: what(n), State: statusOf(n), Count: 1}
		if audience == catalog.External {
			s.Summary, s.IncidentID, s.Ref = "", "", ""
			if i := slices.IndexFunc(shows, func(o digestShow) bool { return o.What == s.What && o.State == s.State }); i >= 0 {
				shows[i].Count++
				if shows[i].Message == "" {
					shows[i].Message = s.Message
				}
				continue
			}
		}
		shows = append(shows, s)
	}
	if len(shows) > digestShown {
		dd.More = len(shows) - digestShown
		shows = shows[:digestShown]
	}
	dd.Shown = shows
	if subject, err = t.render("stakeholders.digest.subject.tmpl", dd); err != nil {
		return "", "", err
	}
	if text, err = t.render("stakeholders.digest.text.tmpl", dd); err != nil {
		return "", "", err
	}
	return strings.Join(strings.Fields(subject), " "), strings.TrimSpace(text), nil
}
