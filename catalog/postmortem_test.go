package catalog

import (
	"testing"
	"time"
)

// The postmortem section: each mistake named at its line.
func TestPostmortemSectionProblems(t *testing.T) {
	src := base + `postmortem:
  due_after: soon #A
  meeting_within_business_days: 40 #B
  follow_up: {day: funday, time: "25:00"} #C
  timezone: Mars/Base #D
  responders: [ann, zoe] #E
  tracker_accounts: {ann: acc-1, zed: acc-2} #F
  colour: red #G
`
	checkProblems(t, "t.yaml", src, []string{
		`@A: postmortem: due_after: bad duration "soon" (want a duration like 30s, 5m or 1h)`,
		`@B: postmortem: meeting_within_business_days: want a whole number from 1 to 20, got "40"`,
		`@C: postmortem: follow_up.day: unknown weekday "funday" (want monday … sunday)`,
		`@C: postmortem: follow_up.time: bad time "25:00" (want 24-hour HH:MM, e.g. 10:00)`,
		`@D: postmortem: timezone: unknown time zone "Mars/Base" (want an IANA name like Europe/Berlin)`,
		`@E: postmortem: unknown person "zoe"`,
		`@F: postmortem: unknown person "zed"`,
		`@G: postmortem: unknown field "colour" (want one of due_after, remind_every, approval_remind_every, give_up_after, meeting_within_business_days, meeting_length, meeting_hour, follow_up, timezone, continue_every_weeks, jargon, responders, learnings_file, tracker_accounts)`,
	})
}

// Settings and their defaults; approvers default to the team's managers.
func TestPostmortemSettings(t *testing.T) {
	c, err := Parse("t.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.PostmortemsOn() {
		t.Error("no postmortem section, yet post-mortems are on")
	}
	s := c.PostmortemSettings()
	if s.DueAfter != DefaultPostmortemDueAfter || s.FollowUpDay != time.Monday || s.FollowUpHour != 10 || s.ContinueEvery != 8 || len(s.Jargon) == 0 {
		t.Errorf("defaults: %+v", s)
	}
	c, err = Parse("t.yaml", []byte(base+"postmortem:\n  due_after: 12h\n  follow_up: {day: thu, time: \"16:30\"}\n  jargon: [p99]\n"))
	if err != nil {
		t.Fatal(err)
	}
	s = c.PostmortemSettings()
	if !c.PostmortemsOn() || s.DueAfter != 12*time.Hour || s.FollowUpDay != time.Thursday || s.FollowUpHour != 16 || s.FollowUpMinute != 30 || len(s.Jargon) != 1 {
		t.Errorf("settings: %+v", s)
	}
	c.Teams["ops"].Managers = []string{"ben"}
	if got := c.Approvers("ops"); len(got) != 1 || got[0] != "ben" {
		t.Errorf("approvers default to managers: %v", got)
	}
	c.Teams["ops"].Approvers = []string{"ann"}
	if got := c.Approvers("ops"); len(got) != 1 || got[0] != "ann" {
		t.Errorf("approvers: %v", got)
	}
}
