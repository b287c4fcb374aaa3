package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/sitrep-dev/sitrep/integrations"
)

// Tracker files and reads action-item tickets: Jira.
type Tracker interface {
	// File opens t, or returns the ticket a retried attempt opened: it is
	// idempotent on t.Marker.
	File(ctx context.Context, t Ticket) (key string, err error)
	// Status reads a ticket's status.
	Status(ctx context.Context, key string) (TicketStatus, error)
	// URL is where a person sees the ticket.
	URL(key string) string
}

// Ticket is one tracker ticket to open.
type Ticket struct {
	Marker      string // unique per incident and item: a retry finds the first attempt's ticket by it
	Summary     string
	Description string
	Priority    string // Highest, High, Medium, Low
	Labels      []string
	Assignee    string // the tracker's account ID; empty: unassigned
}

// TicketStatus is a ticket's status: Category new, indeterminate or done.
type TicketStatus struct {
	Name     string
	Category string
}

// Ticket errors the follow-up reports instead of failing on.
const (
	ErrTicketMissing = "TicketMissing" // 404: deleted, or no longer visible to sitrep
)

// TicketRequest files one action item.
type TicketRequest struct {
	Ref           string
	IncidentID    string
	Service       string
	Summary       string // the incident's
	Item          ActionItem
	PostmortemKey string // the post-mortem's ticket, linked from the item's
}

// TicketRef is a filed ticket.
type TicketRef struct {
	Key string
	URL string
}

// FileTicket opens the action item's ticket: labelled with the incident,
// assigned to its owner (catalog postmortem.tracker_accounts), linked to
// the post-mortem. Idempotent on the incident's ref and the item's ID.
func (a *Activities) FileTicket(ctx context.Context, in TicketRequest) (TicketRef, error) {
	if a.Tracker == nil {
		return TicketRef{}, temporal.NewNonRetryableApplicationError("no issue tracker is configured (JIRA_BASE_URL)", ErrNotConfigured, nil)
	}
	it := in.Item
	var d strings.Builder
	fmt.Fprintf(&d, "Action item %s from incident %s (%s): %s\n\n", it.ID, in.IncidentID, in.Service, in.Summary)
	fmt.Fprintf(&d, "Owner: %s\nDue: %s\nPriority: %s\n", it.Owner, it.Due, it.Priority)
	if it.Detail != "" {
		fmt.Fprintf(&d, "\n%s\n", it.Detail)
	}
	if in.PostmortemKey != "" {
		fmt.Fprintf(&d, "\nPost-mortem: %s (%s)\n", in.PostmortemKey, a.Tracker.URL(in.PostmortemKey))
	}
	t := Ticket{
		Marker:      in.Ref + "/" + it.ID,
		Summary:     fmt.Sprintf("[%s] %s", in.Service, it.Title),
		Description: d.String(),
		Priority:    it.Priority,
		Labels:      []string{"incident-" + in.IncidentID, "action-item", "owner-" + it.Owner},
		Assignee:    a.Catalog.Current().PostmortemSettings().TrackerAccounts[it.Owner],
	}
	key, err := a.Tracker.File(ctx, t)
	if err != nil {
		return TicketRef{}, trackerError("file ticket", err)
	}
	return TicketRef{Key: key, URL: a.Tracker.URL(key)}, nil
}

// PublishPostmortem renders the post-mortem document (postmortem.text.tmpl)
// from the incident's record and publishes it to the tracker as an issue,
// so the document lives outside workflow history. Idempotent on the ref.
func (a *Activities) PublishPostmortem(ctx context.Context, doc PostmortemDoc) (TicketRef, error) {
	if a.Tracker == nil {
		return TicketRef{}, temporal.NewNonRetryableApplicationError("no issue tracker is configured (JIRA_BASE_URL)", ErrNotConfigured, nil)
	}
	text, err := a.Templates.Postmortem(doc)
	if err != nil {
		return TicketRef{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTemplate, nil)
	}
	key, err := a.Tracker.File(ctx, Ticket{
		Marker:      "postmortem/" + doc.Ref,
		Summary:     fmt.Sprintf("Post-mortem: %s %s: %s", doc.Severity, doc.Service, doc.Summary),
		Description: text,
		Priority:    "High",
		Labels:      []string{"incident-" + doc.IncidentID, "postmortem"},
	})
	if err != nil {
		return TicketRef{}, trackerError("publish post-mortem", err)
	}
	return TicketRef{Key: key, URL: a.Tracker.URL(key)}, nil
}

// ErrTemplate: a message could not be rendered; an operator's template is broken.
const ErrTemplate = "TemplateError"

// TicketState is one ticket's status as the follow-up read it, or why it
// could not: Problem is set when the ticket is gone (404) or the tracker
// did not answer, and Cause says which.
type TicketState struct {
	Key      string
	Name     string
	Category string // new, indeterminate, done
	Problem  string
	Cause    string // with Problem: TicketGone, TicketNoTracker, TicketUnfiled or TicketUnreachable
}

// Why a ticket's status could not be read (TicketState.Cause). The first
// two do not mend by themselves; the others may by next week.
const (
	TicketGone        = "gone"        // 404: deleted, or no longer visible to sitrep
	TicketNoTracker   = "no-tracker"  // no issue tracker is configured
	TicketUnfiled     = "unfiled"     // no ticket was filed yet
	TicketUnreachable = "unreachable" // the tracker did not answer, or refused
)

// TicketStatuses reads each ticket's status. It never fails for one
// ticket: a deleted ticket or an unreachable tracker is reported in its
// state, for the digest to say.
func (a *Activities) TicketStatuses(ctx context.Context, keys []string) ([]TicketState, error) {
	out := make([]TicketState, len(keys))
	for i, k := range keys {
		out[i].Key = k
		if a.Tracker == nil {
			out[i].Problem, out[i].Cause = "no issue tracker is configured", TicketNoTracker
			continue
		}
		if k == "" {
			out[i].Problem, out[i].Cause = "no ticket was filed", TicketUnfiled
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		st, err := a.Tracker.Status(cctx, k)
		cancel()
		var pe *integrations.Error
		switch {
		case err == nil:
			out[i].Name, out[i].Category = st.Name, st.Category
		case errors.As(err, &pe) && pe.Status == 404:
			out[i].Problem, out[i].Cause = "ticket not found (deleted, or sitrep may no longer see it)", TicketGone
		case errors.As(err, &pe) && pe.Permanent():
			// A refusal (401, 403) may be mended with a new token: not gone.
			out[i].Problem, out[i].Cause = "the tracker refused: "+redact(pe.Error()), TicketUnreachable
		default:
			out[i].Problem, out[i].Cause = "the tracker did not answer: "+redact(err.Error()), TicketUnreachable
		}
	}
	return out, nil
}

// trackerError makes a tracker failure an activity error: permanent ones
// non-retryable.
func trackerError(op string, err error) error {
	var pe *integrations.Error
	if errors.As(err, &pe) {
		if pe.Permanent() {
			return temporal.NewNonRetryableApplicationError(op+": "+redact(pe.Error()), ErrPermanent, nil)
		}
		return temporal.NewApplicationErrorWithOptions(op+": "+redact(pe.Error()), "Transient",
			temporal.ApplicationErrorOptions{NextRetryDelay: pe.RetryAfter})
	}
	return fmt.Errorf("%s: %w", op, err)
}
