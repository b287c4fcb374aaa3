package workflows

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// The alerts part takes in every alert that reaches the incident: repeats
// are counted and page nobody; each dedup key's source firing and clearing is
// followed; a firing after the source cleared re-opens a mitigated incident;
// and, when the service groups its alerts, new keys within the grouping
// window fold in while later ones are forwarded to an incident of their own.

func record(al Alert) AlertRecord {
	return AlertRecord{At: al.ReceivedAt, DedupKey: al.DedupKey, Severity: al.Severity, Summary: al.Summary,
		Integration: al.Integration, Resolved: al.Resolved}
}

// take routes an alert that arrived: into this incident, or, once it is
// resolved, to the next one.
func (w *incident) take(ctx workflow.Context, al Alert) {
	if w.s.Phase == Merged {
		w.takeMerged(al)
		return
	}
	if w.s.Phase == Resolved {
		w.late = append(w.late, al)
		w.wake = true
		return
	}
	w.fold(ctx, al)
	w.wake = true
}

// key finds the incident's entry for a dedup key.
func (w *incident) key(dedup string) *AlertKey {
	for i := range w.s.Keys {
		if w.s.Keys[i].DedupKey == dedup {
			return &w.s.Keys[i]
		}
	}
	return nil
}

// fold takes in one alert.
func (w *incident) fold(ctx workflow.Context, al Alert) {
	s := &w.s
	rec := record(al)
	k := w.key(al.DedupKey)
	by := orDash(al.Integration)
	switch {
	case slices.Contains(s.Forwarded, al.DedupKey):
		// Its own incident takes it; a clear never opens one.
		w.enqueue(Job{Kind: jobForward, Alert: &al})
		return
	case k == nil && al.Resolved:
		// A clear is applied only to the incident its key opened or folded
		// into: one for a key this incident never had changes nothing.
		rec.Ignored = "clear for a dedup key this incident does not hold"
	case k != nil && al.Resolved && k.Integration != "" && al.Integration != k.Integration:
		rec.Ignored = fmt.Sprintf("clear from %s, but only %s may clear this key", by, k.Integration)
	case k == nil && !w.groups(al):
		// Outside the grouping window: an incident of its own.
		s.Forwarded = append(s.Forwarded, al.DedupKey)
		w.event(ctx, "forwarded", by, fmt.Sprintf("alert %q came %s after the last one, outside the %s grouping window: it opens its own incident",
			al.Summary, al.ReceivedAt.Sub(s.LastSeen).Round(1e9), s.Plan.GroupWindow))
		w.enqueue(Job{Kind: jobForward, Alert: &al})
		return
	case k == nil:
		s.Keys = append(s.Keys, AlertKey{DedupKey: al.DedupKey, Integration: al.Integration, Firing: true})
		w.event(ctx, "grouped", by, fmt.Sprintf("%s alert %q grouped into this incident", al.Severity, al.Summary))
		w.raise(ctx, al)
		w.fired(ctx, by)
	case al.Resolved:
		k.Firing = false
		w.cleared(ctx, al, by)
	default:
		wasFiring := k.Firing
		k.Firing = true
		w.raise(ctx, al)
		if !wasFiring {
			w.fired(ctx, by)
		}
	}
	s.Alerts = append(s.Alerts, rec)
	if rec.Ignored != "" {
		w.event(ctx, "alert.ignored", by, rec.Ignored)
		return
	}
	s.AlertCount++
	if al.ReceivedAt.After(s.LastSeen) {
		s.LastSeen = al.ReceivedAt
	}
}

// groups: an alert with a new dedup key may fold into this incident.
func (w *incident) groups(al Alert) bool {
	g := w.s.Plan.GroupWindow
	return g > 0 && al.ReceivedAt.Sub(w.s.LastSeen) <= g
}

// raise lifts the incident's severity to the alert's when it is higher, and
// routes the louder channels for it.
func (w *incident) raise(ctx workflow.Context, al Alert) {
	if !worse(al.Severity, w.s.Severity) {
		return
	}
	was := w.s.Severity
	w.s.Severity = al.Severity
	w.event(ctx, "severity.raised", orDash(al.Integration), fmt.Sprintf("%s → %s: %s", was, al.Severity, al.Summary))
	w.reroute = true
}

// worse: a is a more severe severity than b (SEV1 is the worst).
func worse(a, b catalog.Severity) bool { return a != "" && a < b }

// cleared follows a source's clear: when every key of the incident has
// cleared, an open incident is mitigated (or resolved, as the intake is
// configured) and a mitigated one starts its quiet time.
func (w *incident) cleared(ctx workflow.Context, al Alert, by string) {
	s := &w.s
	if slices.ContainsFunc(s.Keys, func(k AlertKey) bool { return k.Firing }) {
		w.event(ctx, "alert.cleared", by, fmt.Sprintf("the source cleared %q; other alerts of this incident still fire", al.Summary))
		return
	}
	now := workflow.Now(ctx)
	s.SourceClearedAt = &now
	switch s.Phase {
	case Triggered, Acknowledged:
		if al.ResolveIncident {
			w.setResolved(ctx, by, "the source reports the alert resolved")
			return
		}
		w.setMitigated(ctx, by, "the source reports the alert resolved")
		s.MitigatedBySource = true
	case Mitigated:
		w.event(ctx, "source.cleared", by, "the source reports the alert resolved")
	}
}

// fired follows a firing of a key that was clear. While mitigated, after the
// source had cleared, the problem is back: the incident re-opens and pages
// again, the person who mitigated it first, then the policy from level 1.
func (w *incident) fired(ctx workflow.Context, by string) {
	s := &w.s
	s.SourceClearedAt = nil
	if s.Phase != Mitigated {
		return
	}
	lead := ""
	if !s.MitigatedBySource && s.MitigatedBy != "" && w.isResponder(s.MitigatedBy) {
		lead = s.MitigatedBy
	}
	held := s.Escalation.Held && lead == ""
	s.Phase, s.MitigatedAt, s.MitigatedBy, s.MitigatedBySource = Triggered, nil, "", false
	w.pg.escalate = false
	w.pg.restart()
	if held {
		// Nobody had answered yet: the escalation resumes where it stood, on
		// the level's own clock, so a flapping alert still climbs the policy.
		s.Escalation.Done, s.Escalation.Held = false, false
		if !s.Escalation.Reached {
			// The clear stopped this level's pages before any got through:
			// they go out again, and the level's wait starts with them.
			s.Escalation.Paged = false
		}
		w.event(ctx, "reopened", by, fmt.Sprintf("the alert fired again after its source cleared: escalation resumes at level %d", s.Escalation.Level+1))
		w.cm.reopened(ctx)
		return
	}
	s.AcknowledgedBy, s.AcknowledgedAt, s.Unacknowledged, s.Repages = "", nil, false, 0
	s.Escalation = Escalation{Pass: s.Escalation.Pass + 1}
	if lead != "" {
		s.Escalation.Level, s.Escalation.Lead = -1, lead
	}
	text := "the alert fired again after its source cleared: paging from level 1"
	if lead != "" {
		text = fmt.Sprintf("the alert fired again after its source cleared: paging %s, who mitigated it, then the policy from level 1", lead)
	}
	w.event(ctx, "reopened", by, text)
	w.cm.reopened(ctx)
}

// forward opens an incident of its own for an alert outside the grouping
// window, or folds it into that incident when it is open: the same atomic
// SignalWithStart the intake uses, from an activity.
// It says whether it is done: false when stopped before it got through.
func (w *incident) forward(ctx workflow.Context, j Job) bool {
	al := *j.Alert
	id := IncidentID(al.Service, al.DedupKey)
	raw, err := json.Marshal(al)
	if err == nil {
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 30 * time.Second,
			// Never give up: an alert is never dropped; Temporal being
			// unreachable only delays it.
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
				NonRetryableErrorTypes: []string{activities.ErrChannelOff}},
			Summary: "open " + id,
			// Stopped to continue as new, the attempt under way finishes
			// first: the alert is carried over only if it did not go.
			WaitForCancellation: true,
		})
		err = workflow.ExecuteActivity(actx, a.Forward, activities.ForwardInput{IncidentID: id, Alert: raw}).Get(ctx, nil)
	}
	if err != nil && ctx.Err() != nil {
		return false
	}
	if err != nil {
		w.event(ctx, "forward.failed", "", fmt.Sprintf("could not open %s for %q: %s", id, al.Summary, rootMessage(err)))
	}
	return true
}

func orDash(s string) string {
	if s == "" {
		return "source"
	}
	return s
}
