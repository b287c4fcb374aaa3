package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sitrep-dev/sitrep/activities"
)

// The merge part folds one incident into another, so stakeholders hear one
// story. The merging incident hands its record to the target (an update on
// the target, through an activity: the target may refuse, and then nothing
// here changes), stops paging, closes its pagers of record and sends no
// stakeholder notice of its own again. Its workflow then stays open as a
// thin forwarder while the target is open: the intake routes an alert by
// its dedup key to this incident's ID, so a repeat of its alert must land
// here, and from here goes on to the target. Once the target has closed,
// the forwarder closes too; an alert after that opens a new incident, as
// any alert after resolution does.

// merging is the merge part's run-time state.
type merging struct {
	// busy: a merge is under way (waiting for the target's answer).
	busy bool
	// forward holds alerts that reached this merged incident, for the target.
	forward []Alert
	// absorbs numbers this run's absorb requests, for their update IDs.
	absorbs int
}

// mergedFull is how many merged incidents an incident keeps with their
// alerts, pages and timeline; later ones keep only who, what and when.
const mergedFull = 10

// targetCheckEvery is how often a merged incident asks whether its target
// is still open, to close itself once it is not.
const targetCheckEvery = 30 * time.Minute

// absorbFor bounds how long a merge waits for its target to answer: the
// person merging is waiting, and a target with no worker answering is an
// error to show them, not a merge left hanging.
const absorbFor = 2 * time.Minute

func (w *incident) registerMerge(ctx workflow.Context) error {
	return registerUpdates(ctx, []update{
		{MergeUpdate, "Merge this incident into another: paging stops, its pagers close, stakeholders hear only the target's story, its record joins the target's.", w.merge, w.validateMerge},
		{AbsorbUpdate, "Take in an incident merged into this one (its record), or alerts that reached it after the merge.", w.absorb, w.validateAbsorb},
	})
}

// absorbOptions: a merge's hand-over is bounded (absorbFor) and a refusal
// is final; the alerts a merged incident passes on are retried until the
// target answers, so none is lost while Temporal or a worker is away.
func absorbOptions(ctx workflow.Context, summary string, bounded bool) workflow.Context {
	o := workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{RejectWrongPhase, RejectInvalid, RejectStale, activities.ErrChannelOff}},
		Summary: summary,
	}
	if bounded {
		o.ScheduleToCloseTimeout = absorbFor
	}
	return workflow.WithActivityOptions(ctx, o)
}

// callAbsorb sends req to the target incident and decodes its answer.
func (w *incident) callAbsorb(ctx workflow.Context, target string, req AbsorbRequest, summary string, bounded bool) (AbsorbResult, error) {
	var res AbsorbResult
	raw, err := json.Marshal(req)
	if err != nil {
		return res, temporal.NewApplicationError("encode absorb request: "+err.Error(), RejectInvalid)
	}
	w.mg.absorbs++
	in := activities.AbsorbInput{IncidentID: target, Request: raw,
		RequestID: fmt.Sprintf("absorb/%s/%s/%d", IncidentRef(w.s.ID, workflow.GetInfo(ctx).WorkflowExecution.RunID), target, w.mg.absorbs)}
	var out activities.AbsorbOutput
	if err := workflow.ExecuteActivity(absorbOptions(ctx, summary, bounded), a.Absorb, in).Get(ctx, &out); err != nil {
		return res, err
	}
	if len(out.Result) > 0 {
		if err := json.Unmarshal(out.Result, &res); err != nil {
			return res, temporal.NewApplicationError("decode absorb result: "+err.Error(), RejectInvalid)
		}
	}
	return res, nil
}

// refusal is the target's refusal as the merge update's error: the same
// type, so the caller tells a refusal from an outage.
func refusal(target string, err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && slices.Contains([]string{RejectWrongPhase, RejectInvalid, RejectStale}, app.Type()) {
		return temporal.NewApplicationError(app.Message(), app.Type())
	}
	// No answer in time: this incident is unchanged. The target may have
	// taken the record just before the answer was lost; it takes a record
	// once, so trying again is safe.
	return temporal.NewApplicationError(fmt.Sprintf("%s did not answer in time (%s): this incident is unchanged and still paging; trying again is safe",
		target, rootMessage(err)), MergeUnanswered)
}

// mergedRecord is what this incident hands to its target: the latest
// MergeKeep of each list, and who may act on the target now.
func (w *incident) mergedRecord(ctx workflow.Context, by, note string) MergedIncident {
	s := &w.s
	r := MergedIncident{ID: s.ID, Run: s.Run, Service: s.Service, Severity: s.Severity, Summary: s.Summary,
		FirstSeen: s.FirstSeen, At: workflow.Now(ctx), By: by, Note: note, AlertCount: s.AlertCount,
		Keys: slices.Clone(s.Keys)}
	var n int
	r.Alerts, n = lastOf(s.Alerts, MergeKeep)
	r.Elided += n
	r.Pages, n = lastOf(s.Pages, MergeKeep)
	r.Elided += n
	r.Timeline, n = lastOf(s.Timeline, MergeKeep)
	r.Elided += n
	for _, p := range append(slices.Clone(s.Paged), s.AcknowledgedBy) {
		if p != "" && !slices.Contains(r.Responders, p) {
			r.Responders = append(r.Responders, p)
		}
	}
	return r
}

// lastOf keeps the last n items of list, and says how many it let go.
func lastOf[T any](list []T, n int) ([]T, int) {
	if len(list) <= n {
		return slices.Clone(list), 0
	}
	return slices.Clone(list[len(list)-n:]), len(list) - n
}

// setMerged closes this incident into target: paging stops (pages in
// flight are cancelled, bundled ones withdrawn), pagers of record are
// closed, the update clocks stop, and the war room is told where the
// story goes on.
func (w *incident) setMerged(ctx workflow.Context, target, by, note string) MergeResult {
	now := workflow.Now(ctx)
	s := &w.s
	s.Phase, s.MergedInto, s.MergedAt, s.MergedBy = Merged, target, &now, by
	s.Escalation.Done = true
	w.pg.escalate = false
	w.pg.restart()
	w.cm.merged(ctx, target)
	text := "merged into " + target
	if note != "" {
		text += ": " + note
	}
	w.event(ctx, "merged", by, text)
	w.enqueue(Job{Kind: jobSync, Action: "resolve"})
	w.pg.release()
	w.rs.post(fmt.Sprintf("Merged into %s by %s. Updates and pages go on there.", target, orDefault(by, "sitrep")))
	return MergeResult{Into: target, At: now, By: by}
}

// takeMerged holds an alert that reached this merged incident, for its target.
func (w *incident) takeMerged(al Alert) {
	w.mg.forward = append(w.mg.forward, al)
	w.wake = true
}

// forwardMerged is the merged incident's last loop: what the merge queued
// (the pager sync, the room's post, bundled pages' withdrawals) goes out;
// alerts that arrive pass on to the target; the target is asked every
// targetCheckEvery whether it is still open. Once it is not, this incident
// closes; an alert the target refuses because it has closed opens a new
// incident here instead, as after any resolution.
func (w *incident) forwardMerged(ctx workflow.Context) (IncidentState, error) {
	// What waits for a person is moot now; notices already under way from
	// before the merge finish.
	w.stopRunning(func(j Job) bool { return j.Kind == jobRemind || j.Kind == jobRoom || j.Kind == jobInvite })
	w.queue = slices.DeleteFunc(w.queue, func(j Job) bool { return j.Kind == jobRemind || j.Kind == jobRoom || j.Kind == jobInvite })
	target := w.s.MergedInto
	next := workflow.Now(ctx).Add(targetCheckEvery)
	for {
		w.drain(ctx)
		w.dispatch(ctx)
		w.publish(ctx)
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**Merged into %s** by %s: pages and updates go on there.\n\n%s", target, w.s.MergedBy, w.details()))
		if len(w.mg.forward) > 0 {
			batch := w.mg.forward
			w.mg.forward = nil
			_, err := w.callAbsorb(ctx, target, AbsorbRequest{From: w.s.ID, Alerts: batch}, fmt.Sprintf("pass %d alert(s) on to %s", len(batch), target), false)
			if err != nil {
				w.event(ctx, "merge.target-closed", "", fmt.Sprintf("%s refused alerts passed on (%s): they open a new incident", target, rootMessage(err)))
				return w.closeMerged(ctx, batch)
			}
			w.event(ctx, "merge.forwarded", "", fmt.Sprintf("%d alert(s) passed on to %s", len(batch), target))
			continue
		}
		if !workflow.Now(ctx).Before(next) {
			if _, err := w.callAbsorb(ctx, target, AbsorbRequest{From: w.s.ID}, "is "+target+" still open?", false); err != nil {
				w.event(ctx, "merge.target-closed", "", fmt.Sprintf("%s is closed (%s): this merged incident closes too", target, rootMessage(err)))
				return w.closeMerged(ctx, nil)
			}
			next = workflow.Now(ctx).Add(targetCheckEvery)
			continue
		}
		if w.inflight == 0 && len(w.queue) == 0 && workflow.GetInfo(ctx).GetContinueAsNewSuggested() && workflow.AllHandlersFinished(ctx) {
			var pending []Alert
			for {
				var al Alert
				if !w.alerts.ReceiveAsync(&al) {
					break
				}
				pending = append(pending, al)
			}
			st := w.s
			st.Timeline, _ = headTail(st.Timeline, keepEvents)
			return w.s, workflow.NewContinueAsNewError(ctx, Incident, IncidentInput{State: &st, Pending: pending})
		}
		w.wake = false
		if _, err := w.await(ctx, next.Sub(workflow.Now(ctx)), "ask whether "+target+" is still open", func() bool {
			return w.wake || len(w.queue) > 0 || w.alerts.Len() > 0 || len(w.mg.forward) > 0
		}); err != nil {
			return w.s, err
		}
	}
}

// closeMerged ends the merged incident once what it sends has gone out.
// Alerts the target no longer takes open the next incident with this ID,
// as alerts after a resolution do.
func (w *incident) closeMerged(ctx workflow.Context, late []Alert) (IncidentState, error) {
	for {
		w.dispatch(ctx)
		if err := workflow.Await(ctx, func() bool { return w.inflight == 0 && workflow.AllHandlersFinished(ctx) }); err != nil {
			return w.s, err
		}
		w.drain(ctx)
		late = append(late, w.mg.forward...)
		w.mg.forward = nil
		if len(w.queue) == 0 {
			break
		}
	}
	w.publish(ctx)
	if i := slices.IndexFunc(late, func(al Alert) bool { return !al.Resolved }); i >= 0 {
		w.log.Info("alert after the merge target closed opens a new incident", "incidentID", w.s.ID, "alerts", len(late)-i)
		return w.s, workflow.NewContinueAsNewError(ctx, Incident, IncidentInput{Alert: late[i], Pending: late[i+1:]})
	}
	return w.s, nil
}

// absorbed takes a merged incident's record into this one: its keys (so
// its alerts' repeats and clears fold in here), its responders (who may act
// here), and its alerts, pages and timeline, kept as its own entry.
func (w *incident) absorbed(ctx workflow.Context, r MergedIncident) {
	s := &w.s
	for _, k := range r.Keys {
		if w.key(k.DedupKey) == nil {
			s.Keys = append(s.Keys, k)
		}
	}
	s.AlertCount += r.AlertCount
	if len(s.Merged) >= mergedFull {
		// Bounded: the state is carried whole across continue-as-new. The
		// lists stay in the merged incident's own record.
		r.Elided += len(r.Alerts) + len(r.Pages) + len(r.Timeline)
		r.Alerts, r.Pages, r.Timeline = nil, nil, nil
	}
	s.Merged = append(s.Merged, r)
	text := fmt.Sprintf("merged in: %s (%s): %d alert(s), %d page(s)", r.ID, r.Summary, r.AlertCount, len(r.Pages))
	if r.Note != "" {
		text += ": " + r.Note
	}
	w.event(ctx, "merged-in", r.By, text)
	// One story, at the severity of its worst part, as a grouped alert raises it.
	w.raise(ctx, Alert{Severity: r.Severity, Summary: "merged in " + r.ID, Integration: "merge"})
	w.rs.post(fmt.Sprintf("Merged in by %s: %s (%s %s: %s). Its pages stopped; its stakeholders hear this incident's updates.",
		orDefault(r.By, "sitrep"), r.ID, r.Severity, r.Service, r.Summary))
}

// mergedResponder: p was paged by, or acknowledged, an incident merged into this one.
func (w *incident) mergedResponder(p string) bool {
	for _, r := range w.s.Merged {
		if slices.Contains(r.Responders, p) {
			return true
		}
	}
	return false
}
