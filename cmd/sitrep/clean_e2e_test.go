package main

import (
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/integrations/inbox"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// An alert whose summary holds a line break, sent with `sitrep alert` as a
// script might, is paged by email: the mail provider refuses a subject
// with a line break for good, so the summary reaches the incident as one
// line and the page goes out, its subject one line, no header forged.
func TestEndToEndSummaryWithALineBreakIsPaged(t *testing.T) {
	t.Parallel()
	s, _ := e2eStack(t, false)
	c := newCLI(t, s)
	var r starter.Receipt
	c.mustJSON(&r, "alert", "--service", "checkout", "--severity", "SEV3", "--summary", "db down\r\nBcc: mallory@example.com")
	msgs := waitInbox(t, s, "email page to alice", func(m []inbox.Message) bool { return len(to(m, "alice")) == 1 })
	page := to(msgs, "alice")[0]
	if page.Channel != "email" || page.Incident != r.IncidentID || strings.ContainsAny(page.Subject, "\r\n") ||
		!strings.Contains(page.Subject, "db down") || !strings.Contains(page.Subject, "Bcc: mallory@example.com") {
		t.Errorf("page: %+v", page)
	}
	for _, m := range msgs {
		if strings.Contains(m.To, "mallory") {
			t.Errorf("a forged Bcc reached %s", m.To)
		}
	}
	var st workflows.IncidentState
	c.mustJSON(&st, "status", r.IncidentID)
	if st.Summary != "db down  Bcc: mallory@example.com" || len(st.Pages) == 0 || st.Pages[0].Outcome != workflows.Delivered {
		t.Errorf("incident: summary %q, pages %+v", st.Summary, st.Pages)
	}
}
