package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/integrations/mattermost"
	"github.com/sitrep-dev/sitrep/integrations/sendgrid"
	"github.com/sitrep-dev/sitrep/integrations/slack"
	"github.com/sitrep-dev/sitrep/integrations/smtp"
	"github.com/sitrep-dev/sitrep/integrations/statuspage"
	"github.com/sitrep-dev/sitrep/integrations/teams"
	"github.com/sitrep-dev/sitrep/integrations/video"
)

// CommsFromEnv builds the comms activities' providers from the environment:
// the status page (STATUSPAGE_*), war rooms on the chat platform pages use
// (SLACK_* or MATTERMOST_*), announcements on Teams (TEAMS_WEBHOOK_URL), the
// video bridge (ZOOM_* or VIDEO_URL_TEMPLATE) and stakeholder email
// (SENDGRID_* or SMTP_*). A provider with no configuration is left nil; one
// half configured is an error that names it. publicURL is where the intake
// listens; empty when there is none.
func CommsFromEnv(getenv func(string) string, publicURL string) (activities.CommsDeps, error) {
	var out activities.CommsDeps
	var errs []error

	if cfg, ok, err := statuspage.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, fmt.Errorf("statuspage: %w", err))
	} else if ok {
		if c, err := statuspage.New(cfg); err != nil {
			errs = append(errs, err)
		} else {
			out.StatusPage = statusPage{c}
		}
	}

	if cfg, ok, err := slack.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, fmt.Errorf("slack: %w", err))
	} else if ok {
		if c, err := slack.New(cfg); err != nil {
			errs = append(errs, err)
		} else {
			out.Rooms = slackRooms{c}
		}
	}
	if cfg, ok, err := mattermost.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, fmt.Errorf("mattermost: %w", err))
	} else if ok {
		if out.Rooms != nil {
			errs = append(errs, errors.New("both Slack and Mattermost are configured for chat; configure one"))
		} else if c, err := mattermost.New(cfg); err != nil {
			errs = append(errs, err)
		} else {
			out.Rooms = mattermostRooms{c}
		}
	}

	if cfg, ok, err := teams.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, fmt.Errorf("teams: %w", err))
	} else if ok {
		if c, err := teams.New(cfg); err != nil {
			errs = append(errs, err)
		} else {
			out.Announcer = teamsAnnouncer{c}
		}
	}

	if b, ok, err := video.FromEnv(getenv); err != nil {
		errs = append(errs, err)
	} else if ok {
		out.Bridges = b
	}

	if cfg, ok, err := sendgrid.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, fmt.Errorf("sendgrid: %w", err))
	} else if ok {
		if c, err := sendgrid.New(cfg); err != nil {
			errs = append(errs, err)
		} else {
			out.Mailer = c
		}
	}
	if cfg, ok, err := smtp.ConfigFromEnv(getenv); err != nil {
		errs = append(errs, fmt.Errorf("smtp: %w", err))
	} else if ok {
		if out.Mailer != nil {
			errs = append(errs, errors.New("both SendGrid and SMTP are configured for email; configure one"))
		} else if c, err := smtp.New(cfg); err != nil {
			errs = append(errs, err)
		} else {
			out.Mailer = c
		}
	}
	if err := errors.Join(errs...); err != nil {
		return activities.CommsDeps{}, err
	}
	return out, nil
}

// CommsLive lists the comms providers that are configured.
func CommsLive(d activities.CommsDeps) []string {
	var out []string
	if d.StatusPage != nil {
		out = append(out, "statuspage")
	}
	if d.Rooms != nil {
		out = append(out, "rooms:"+d.Rooms.Platform())
	}
	if d.Announcer != nil {
		out = append(out, "teams")
	}
	if d.Bridges != nil {
		out = append(out, "bridge")
	}
	if d.Mailer != nil {
		out = append(out, "email")
	}
	return out
}

type statusPage struct{ c *statuspage.Client }

// componentStatus is what an incident of this impact does to its components.
func componentStatus(impact string) string {
	switch impact {
	case "critical":
		return "major_outage"
	case "major":
		return "partial_outage"
	case "minor":
		return "degraded_performance"
	}
	return ""
}

// Open opens the incident on the components the catalog names, by their
// names on the page or their IDs.
func (s statusPage) Open(ctx context.Context, marker string, n activities.StatusPost) (string, string, error) {
	ids, err := s.c.ComponentIDs(ctx, n.Components)
	if err != nil {
		return "", "", err
	}
	return s.c.OpenIncident(ctx, statuspage.Incident{
		Marker: marker, Name: n.Title, Status: n.Status, Body: n.Body, ImpactOverride: n.Impact,
		ComponentIDs: ids, ComponentStatus: componentStatus(n.Impact), Incidents: n.Incidents,
	})
}

// Update posts the notice; a resolved one also sets the components back
// to operational.
func (s statusPage) Update(ctx context.Context, id string, n activities.StatusPost) error {
	if n.Status == "resolved" {
		return s.c.ResolveIncident(ctx, id, statuspage.Update{Body: n.Body, Marker: n.Marker, Incidents: n.Incidents})
	}
	// The impact goes along: a raised severity raises it on the page.
	return s.c.UpdateIncident(ctx, id, statuspage.Update{Status: n.Status, Body: n.Body, ImpactOverride: n.Impact,
		Marker: n.Marker, Incidents: n.Incidents})
}

type slackRooms struct{ c *slack.Client }

func (slackRooms) Platform() string { return "slack" }

func (r slackRooms) Create(ctx context.Context, name string) (string, string, error) {
	id, err := r.c.CreateChannel(ctx, name)
	if err != nil {
		return "", "", err
	}
	return id, r.c.ChannelURL(id), nil
}

func (r slackRooms) Invite(ctx context.Context, channelID string, userIDs ...string) error {
	return r.c.Invite(ctx, channelID, userIDs...)
}

// Post posts text as written by sitrep, escaped: it quotes alert summaries
// and updates, which must not turn into mentions or disguised links.
func (r slackRooms) Post(ctx context.Context, channelID, text string) (string, error) {
	return r.c.PostMessage(ctx, channelID, slack.Message{Text: slack.EscapeText(text)})
}

// PostAbout is Post, with the incident in the message's metadata.
func (r slackRooms) PostAbout(ctx context.Context, channelID, incidentID, text string) (string, error) {
	return r.c.PostMessage(ctx, channelID, slack.Message{Text: slack.EscapeText(text), Incident: incidentID})
}

func (r slackRooms) Edit(ctx context.Context, channelID, messageID, text string) error {
	return r.c.UpdateMessage(ctx, channelID, messageID, slack.Message{Text: slack.EscapeText(text)})
}

// DirectMessage messages one user: a reminder, with no buttons.
func (r slackRooms) DirectMessage(ctx context.Context, userID, text string) (string, error) {
	return r.c.PostMessage(ctx, userID, slack.Message{Text: slack.EscapeText(text)})
}

type mattermostRooms struct{ c *mattermost.Client }

// DirectMessage messages one user: a reminder, with no buttons.
func (r mattermostRooms) DirectMessage(ctx context.Context, userID, text string) (string, error) {
	return r.c.DirectMessage(ctx, userID, mattermost.Message{Text: mattermost.EscapeMarkdown(text)})
}

func (mattermostRooms) Platform() string { return "mattermost" }

// Create makes the channel, its name cut to Mattermost's 64 characters.
func (r mattermostRooms) Create(ctx context.Context, name string) (string, string, error) {
	name = shortName(name, mattermost.MaxChannelName)
	id, err := r.c.CreateChannel(ctx, name, "")
	if err != nil {
		return "", "", err
	}
	u, err := r.c.ChannelURL(ctx, name)
	if err != nil {
		return "", "", err
	}
	return id, u, nil
}

// shortName cuts a channel name to n characters, at a dash when one is near the end.
func shortName(name string, n int) string {
	if len(name) <= n {
		return name
	}
	name = name[:n]
	if i := strings.LastIndexByte(name, '-'); i > n-16 {
		name = name[:i]
	}
	return strings.Trim(name, "-_")
}

func (r mattermostRooms) Invite(ctx context.Context, channelID string, userIDs ...string) error {
	return r.c.Invite(ctx, channelID, userIDs...)
}

func (r mattermostRooms) Post(ctx context.Context, channelID, text string) (string, error) {
	return r.c.PostMessage(ctx, channelID, mattermost.Message{Text: mattermost.EscapeMarkdown(text)})
}

// PostAbout is Post, with the incident in the post's props.
func (r mattermostRooms) PostAbout(ctx context.Context, channelID, incidentID, text string) (string, error) {
	return r.c.PostMessage(ctx, channelID, mattermost.Message{Text: mattermost.EscapeMarkdown(text), Incident: incidentID})
}

func (r mattermostRooms) Edit(ctx context.Context, channelID, messageID, text string) error {
	return r.c.EditMessage(ctx, messageID, mattermost.EscapeMarkdown(text))
}

type teamsAnnouncer struct{ c *teams.Client }

func (a teamsAnnouncer) Announce(ctx context.Context, title, text string) error {
	return a.c.Post(ctx, teams.Message{Title: title, Text: text})
}

// The comms providers must keep to what the activities need.
var (
	_ activities.StatusPage      = statusPage{}
	_ activities.Rooms           = slackRooms{}
	_ activities.Rooms           = mattermostRooms{}
	_ activities.DirectMessenger = slackRooms{}
	_ activities.DirectMessenger = mattermostRooms{}
	_ activities.Announcer       = teamsAnnouncer{}
	_ activities.Bridges         = video.Template{}
	_ activities.Mailer          = (*sendgrid.Client)(nil)
	_ activities.Mailer          = (*smtp.Client)(nil)
)
