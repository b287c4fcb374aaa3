package worker

import (
	"context"
	"fmt"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/integrations/jira"
)

// NewTracker builds the issue tracker action items and post-mortems go
// to, from JIRA_BASE_URL, JIRA_EMAIL, JIRA_API_TOKEN (or _FILE),
// JIRA_PROJECT and JIRA_ISSUE_TYPE. With none of them set it returns nil:
// the tracker is off, and the post-incident workflow records that instead
// of filing tickets.
func NewTracker(getenv func(string) string) (activities.Tracker, error) {
	cfg, ok, err := jira.ConfigFromEnv(getenv)
	if err != nil || !ok {
		return nil, err
	}
	c, err := jira.New(cfg)
	if err != nil {
		return nil, err
	}
	return jiraTracker{c: c, base: cfg.BaseURL}, nil
}

// jiraTracker is a Jira project as an activities.Tracker.
type jiraTracker struct {
	c    *jira.Client
	base string
}

func (j jiraTracker) File(ctx context.Context, t activities.Ticket) (string, error) {
	key, err := j.c.CreateIssue(ctx, jira.Issue{Marker: t.Marker, Summary: t.Summary, Description: t.Description,
		Priority: t.Priority, Labels: t.Labels, AssigneeAccountID: t.Assignee})
	if err != nil {
		return "", fmt.Errorf("jira: %w", err)
	}
	return key, nil
}

func (j jiraTracker) Status(ctx context.Context, key string) (activities.TicketStatus, error) {
	s, err := j.c.IssueStatus(ctx, key)
	if err != nil {
		return activities.TicketStatus{}, fmt.Errorf("jira: %w", err)
	}
	return activities.TicketStatus{Name: s.Name, Category: s.Category}, nil
}

func (j jiraTracker) URL(key string) string {
	if key == "" {
		return ""
	}
	return trimSlash(j.base) + "/browse/" + key
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
