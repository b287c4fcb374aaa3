package workflows

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/mock"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// shown is one notice as its reader sees it: rendered with its audience's
// template.
type shown struct {
	where string // "status page", "email support", "war room"
	kind  string
	text  string
}

// noteHarness runs commsCatalog's SEV1 with the real templates rendering
// every status page post and email, so tests read what people read.
// Without a status page, the external merchants hear by email.
func noteHarness(t *testing.T, withStatusPage bool) (*harness, func() []shown) {
	t.Helper()
	c, err := catalog.Parse("comms.yaml", []byte(commsCatalog))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	var cd activities.CommsDeps
	if withStatusPage {
		cd.StatusPage = statusPage{}
	}
	h := newHarnessComms(t, nil, activities.StaticCatalog{C: c}, nil, cd)
	var mu sync.Mutex
	var out []shown
	add := func(s shown) {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, s)
	}
	h.env.OnActivity("StatusPageNotice", mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, n activities.Notice, _ string) (activities.StatusPageResult, error) {
			_, text, err := tmpl.Notice(n, catalog.External)
			add(shown{where: destStatusPage, kind: string(n.Kind), text: text})
			return activities.StatusPageResult{ID: "sp1", URL: "https://status.example.com/incidents/sp1"}, err
		})
	h.env.OnActivity("EmailGroup", mock.Anything, mock.Anything).Return(
		func(_ context.Context, n activities.GroupNotice) (activities.NoticeResult, error) {
			subject, text, err := tmpl.Notice(n.Notice, c.StakeholderGroups[n.Group].Audience)
			add(shown{where: destEmail + n.Group, kind: string(n.Kind), text: subject + "\n" + text})
			return activities.NoticeResult{Recipients: 1}, err
		})
	h.env.OnActivity("OpenRoom", mock.Anything, mock.Anything).Return(activities.RoomResult{Platform: "slack", Channel: "C1", URL: "https://chat/C1"}, nil)
	h.env.OnActivity("InviteToRoom", mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.InviteInput) (activities.InviteResult, error) {
			return activities.InviteResult{Invited: in.People}, nil
		})
	h.env.OnActivity("PostToRoom", mock.Anything, mock.Anything).Return(
		func(_ context.Context, p activities.RoomPost) (string, error) {
			if p.Edit == "" {
				add(shown{where: destRoom, text: p.Text})
			}
			return "m1", nil
		})
	h.env.OnActivity("Remind", mock.Anything, mock.Anything).Return(activities.ReminderResult{Channel: catalog.Chat}, nil)
	return h, func() []shown {
		mu.Lock()
		defer mu.Unlock()
		return append([]shown(nil), out...)
	}
}

// A mitigate or resolve note is internal: the status page and external
// emails read the --public text, or the template's own words without one;
// support's email and the war room read the note. Checked with a status
// page (merchants read it there) and without (merchants are emailed).
func TestNotesAreInternalUnlessMadePublic(t *testing.T) {
	const note = "rolled back the pool on internal host db-7.corp; alice restarted it"
	const resolveNote = "db-7.corp replaced by bob"
	const public = "Payments work again. We replaced a faulty server."
	for _, withSP := range []bool{true, false} {
		name := "email only"
		if withSP {
			name = "status page"
		}
		t.Run(name, func(t *testing.T) {
			h, got := noteHarness(t, withSP)
			h.at(1*m, func() { h.ack("alice") })
			h.at(5*m, func() {
				h.env.UpdateWorkflowNoRejection(MitigateUpdate, "", h.t, PhaseRequest{By: "alice", Note: note})
			})
			h.at(10*m, func() {
				h.env.UpdateWorkflowNoRejection(ResolveUpdate, "", h.t, PhaseRequest{By: "alice", Note: resolveNote, Public: public})
			})
			st := h.run(alert("checkout error rate"))
			c, _ := catalog.Parse("comms.yaml", []byte(commsCatalog))
			external := destStatusPage
			if !withSP {
				external = destEmail + "merchants"
			}
			seen := map[string]map[string]string{} // where → kind → text
			for _, s := range got() {
				if seen[s.where] == nil {
					seen[s.where] = map[string]string{}
				}
				seen[s.where][s.kind] += s.text + "\n"
				if s.where != external {
					continue
				}
				for _, bad := range []string{"db-7", "corp", "rolled back the pool"} {
					if strings.Contains(s.text, bad) {
						t.Errorf("%s (%s) shows the internal note: %q", s.where, s.kind, s.text)
					}
				}
				for _, p := range c.People {
					for _, n := range []string{p.Handle, p.Name} {
						if strings.Contains(strings.ToLower(s.text), strings.ToLower(n)) {
							t.Errorf("%s (%s) names %q: %q", s.where, s.kind, n, s.text)
						}
					}
				}
			}
			if seen[external]["mitigated"] == "" || seen[external]["resolved"] == "" {
				t.Fatalf("%s heard %v, want the mitigated and resolved notices", external, seen[external])
			}
			if !strings.Contains(seen[external]["resolved"], public) {
				t.Errorf("%s's final notice %q lacks the public text %q", external, seen[external]["resolved"], public)
			}
			if !strings.Contains(seen[destEmail+"support"]["mitigated"], note) || !strings.Contains(seen[destEmail+"support"]["resolved"], resolveNote) {
				t.Errorf("support's emails lack the notes: %v", seen[destEmail+"support"])
			}
			if !strings.Contains(seen[destRoom][""], note) {
				t.Errorf("the war room never read the note: %q", seen[destRoom][""])
			}
			// The record keeps both: the note, and what customers read.
			last := st.Updates[len(st.Updates)-1]
			if last.Kind != "resolved" || last.Message != resolveNote || last.Public != public {
				t.Errorf("last update %+v, want the resolution with its note and its public text", last)
			}
		})
	}
}
