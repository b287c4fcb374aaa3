package starter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/acklink"
)

// OnCallShifts is what the on-call calendar feed needs: each person's
// shifts. It is an optional ability of IntakeConfig.People, checked by type
// assertion; without it, and without acknowledge-link keys to sign feed
// URLs with, the intake serves no feed.
type OnCallShifts interface {
	// OnCallShifts lists person's shifts in every rotation that overlap
	// [from, to); false when there is no such person.
	OnCallShifts(person string, from, to time.Time) ([]catalog.Shift, bool)
}

// How much of a person's schedule the feed carries around now.
const (
	feedPast  = 14 * 24 * time.Hour
	feedAhead = 90 * 24 * time.Hour
)

// FeedURL is the address of person's on-call calendar feed on the intake at
// s.BaseURL, signed with s's first key. A calendar subscribes to it for
// good: it does not expire; rotating the keys revokes it.
func FeedURL(s *acklink.Signer, person string) string {
	return s.BaseURL + "/v1/oncall/" + url.PathEscape(person) + ".ics?sig=" + feedSignature(s.Keys[0], person)
}

// feedSignature is HMAC-SHA256 over the person, kept apart from acknowledge
// tokens by its prefix, so one can never pass for the other.
func feedSignature(key []byte, person string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sitrep oncall feed\x00" + person))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// feedHandler serves GET /v1/oncall/PERSON.ics?sig=…: the person's shifts
// from two weeks ago to three months ahead, as iCalendar events in UTC.
func (in *Intake) feedHandler(shifts OnCallShifts) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		person, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
		sig := r.URL.Query().Get("sig")
		valid := false
		for _, k := range in.cfg.AckLinks.Keys {
			if hmac.Equal([]byte(feedSignature(k, person)), []byte(sig)) {
				valid = true
			}
		}
		switch {
		case !ok:
			http.Error(w, "want /v1/oncall/PERSON.ics", http.StatusNotFound)
			return
		case !valid:
			http.Error(w, "the feed's signature does not match: ask for its URL again", http.StatusForbidden)
			return
		}
		now := in.now()
		list, ok := shifts.OnCallShifts(person, now.Add(-feedPast), now.Add(feedAhead))
		if !ok {
			http.Error(w, "no such person in the catalog", http.StatusNotFound)
			return
		}
		cal := ics.NewCalendar()
		cal.SetMethod(ics.MethodPublish)
		cal.SetProductId("-//sitrep//on-call feed//EN")
		cal.SetXWRCalName("On call: " + person)
		cal.SetRefreshInterval("PT1H")
		for _, s := range list {
			e := cal.AddEvent(fmt.Sprintf("%s-%s-%d@sitrep", s.Rotation, person, s.Start.Unix()))
			e.SetDtStampTime(now)
			e.SetStartAt(s.Start)
			e.SetEndAt(s.End)
			e.SetSummary("On call: " + s.Rotation)
			e.SetDescription(fmt.Sprintf("%s is on call for %s from %s to %s.", person, s.Rotation,
				s.Start.Format(time.RFC3339), s.End.Format(time.RFC3339)))
		}
		w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
		w.Header().Set("Cache-Control", "private, max-age=300")
		if err := cal.SerializeTo(w); err != nil {
			in.log.Warn("on-call feed not written", "person", person, "error", err)
		}
	}
}
