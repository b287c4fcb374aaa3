package activities

import (
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// Invite builds an iCalendar (RFC 5545) meeting request: METHOD:REQUEST,
// one VEVENT whose UID is derived from ref, so sending it again updates
// the same meeting in the attendees' calendars instead of adding one.
func Invite(ref, summary, description, organizer string, attendees []string, start, end, stamp time.Time) string {
	cal := ics.NewCalendar()
	cal.SetMethod(ics.MethodRequest)
	cal.SetProductId("-//sitrep//post-mortem//EN")
	ev := cal.AddEvent(strings.NewReplacer(":", "-", "/", "-").Replace(ref) + "@sitrep")
	ev.SetDtStampTime(stamp.UTC())
	ev.SetSequence(0)
	ev.SetStartAt(start.UTC())
	ev.SetEndAt(end.UTC())
	ev.SetSummary(summary)
	ev.SetDescription(description)
	ev.SetStatus(ics.ObjectStatusConfirmed)
	if organizer != "" {
		ev.SetOrganizer("mailto:" + organizer)
	}
	for _, a := range attendees {
		ev.AddAttendee("mailto:"+a, ics.CalendarUserTypeIndividual, ics.ParticipationStatusNeedsAction,
			ics.ParticipationRoleReqParticipant, ics.WithRSVP(true))
	}
	return cal.Serialize()
}
