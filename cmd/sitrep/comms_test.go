package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

func (f *fakeIncidents) PostUpdate(_ context.Context, id, requestID string, req workflows.UpdateRequest) (workflows.UpdateResult, error) {
	f.call("update " + id)
	f.reqIDs = append(f.reqIDs, requestID)
	f.updRq = req
	return f.update, f.err
}

func (f *fakeIncidents) AssignRole(_ context.Context, id, requestID string, req workflows.RoleRequest) (workflows.RoleResult, error) {
	f.call("role " + id)
	f.reqIDs = append(f.reqIDs, requestID)
	f.roleRq = req
	return f.role, f.err
}

// flagCase is one parse of a command's flags: the options it gives, or the error.
type flagCase[O comparable] struct {
	name    string
	args    []string
	want    O
	wantErr string
}

func flagCases[O comparable](t *testing.T, build func(*Deps, func(*O) error) *cobra.Command, tests []flagCase[O]) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseCmd(t, build, tt.args)
			if !checkErr(t, err, tt.wantErr) {
				return
			}
			if *o != tt.want {
				t.Errorf("options = %+v, want %+v", *o, tt.want)
			}
		})
	}
}

func TestFlagUpdate(t *testing.T) {
	const id = "inc-checkout-0a1b2c3d"
	tests := []flagCase[UpdateOptions]{
		{name: "all flags", args: []string{id, "--status", "Identified", "--message", "rolling back", "--audience", " EXTERNAL", "--role", "partner-comms", "--as", "carol", "-o", "json", "--timeout", "5s"},
			want: UpdateOptions{Incident: id, Request: workflows.UpdateRequest{By: "carol", Status: "identified", Message: "rolling back", Audience: "external", Role: "partner-comms", Channel: "cli"},
				Output: outputFlag{"json"}, Timeout: 5 * time.Second}},
		{name: "defaults", args: []string{id, "--message", "still looking", "--as", "carol"},
			want: UpdateOptions{Incident: id, Request: workflows.UpdateRequest{By: "carol", Message: "still looking", Channel: "cli"}, Output: outputFlag{"text"}, Timeout: 30 * time.Second}},
		{name: "no message", args: []string{id, "--as", "carol"}, wantErr: `required flag(s) "message" not set`},
		{name: "no --as", args: []string{id, "--message", "x"}, wantErr: `required flag(s) "as" not set`},
		{name: "no incident", args: []string{"--message", "x", "--as", "carol"}, wantErr: "want exactly one INCIDENT id"},
	}
	flagCases(t, newCmdUpdate, tests)
}

func TestFlagRole(t *testing.T) {
	const id = "inc-checkout-0a1b2c3d"
	tests := []flagCase[RoleOptions]{
		{name: "all flags", args: []string{id, "--role", "commander", "--person", "bob", "--as", "alice", "-o", "json"},
			want: RoleOptions{Incident: id, Request: workflows.RoleRequest{Role: "commander", Person: "bob", By: "alice", Channel: "cli"}, Output: outputFlag{"json"}, Timeout: 30 * time.Second}},
		{name: "no person", args: []string{id, "--role", "commander", "--as", "alice"}, wantErr: `required flag(s) "person" not set`},
		{name: "nothing", args: []string{id}, wantErr: `required flag(s) "as", "person", "role" not set`},
	}
	flagCases(t, newCmdRole, tests)
}

func TestCLIUpdateRole(t *testing.T) {
	const id = "inc-checkout-0a1b2c3d"
	at := time.Date(2026, 3, 2, 10, 4, 5, 0, time.UTC)
	next := at.Add(30 * time.Minute)
	posted := workflows.UpdateResult{At: at, Status: workflows.StatusIdentified, NextDue: &next}
	upd := []string{"update", id, "--status", "identified", "--message", "Rolling back the gateway", "--as", "carol"}
	rejected := &starter.RejectedError{Type: workflows.RejectWrongPhase, Message: "status cannot go back from monitoring to identified"}
	tests := []struct {
		name     string
		args     []string
		f        *fakeIncidents
		wantCode int
		wantOut  string
		wantErr  string
		wantCall string
	}{
		{name: "update", args: upd, f: &fakeIncidents{update: posted},
			wantOut:  id + ": update posted at 2026-03-02T10:04:05Z for internal and external stakeholders, status identified; next update due 2026-03-02T10:34:05Z\n",
			wantCall: "update " + id},
		{name: "update internal, no next due", args: []string{"update", id, "--audience", "internal", "--message", "Rollback at 40%", "--as", "carol"},
			f:        &fakeIncidents{update: workflows.UpdateResult{At: at, Status: workflows.StatusMonitoring}},
			wantOut:  id + ": update posted at 2026-03-02T10:04:05Z for internal stakeholders, status monitoring\n",
			wantCall: "update " + id},
		{name: "update for a sub-role", args: []string{"update", id, "--role", "partner-comms", "--message", "Retry after 11:00", "--as", "dave"}, f: &fakeIncidents{update: posted},
			wantOut:  id + ": update posted at 2026-03-02T10:04:05Z for the partner-comms audience, status identified; next update due 2026-03-02T10:34:05Z\n",
			wantCall: "update " + id},
		{name: "update json", args: append(slices.Clone(upd), "-o", "json"), f: &fakeIncidents{update: posted},
			wantOut:  "{\n  \"at\": \"2026-03-02T10:04:05Z\",\n  \"status\": \"identified\",\n  \"nextDue\": \"2026-03-02T10:34:05Z\"\n}\n",
			wantCall: "update " + id},
		{name: "update refused", args: upd, f: &fakeIncidents{err: rejected},
			wantCode: exitRejected, wantErr: "sitrep: status cannot go back from monitoring to identified\n", wantCall: "update " + id},
		{name: "update of an incident that is not there", args: upd, f: &fakeIncidents{err: fmt.Errorf("post-update %s: %w (it may be resolved already)", id, starter.ErrNotFound)},
			wantCode: exitNotFound, wantErr: "no such incident", wantCall: "update " + id},
		{name: "update with temporal down", args: upd, f: &fakeIncidents{err: fmt.Errorf("post-update %s: %w", id, starter.ErrUnavailable)},
			wantCode: exitUnavailable, wantErr: "temporal is unreachable", wantCall: "update " + id},
		{name: "update with an empty message", args: []string{"update", id, "--message", "  ", "--as", "carol"}, f: &fakeIncidents{},
			wantCode: exitUsage, wantErr: "sitrep: invalid request: message: empty: say what stakeholders should know"},
		{name: "update with a status that is not one", args: []string{"update", id, "--status", "fixed", "--message", "x", "--as", "carol"}, f: &fakeIncidents{},
			wantCode: exitUsage, wantErr: `sitrep: invalid request: status: "fixed" is not one of investigating, identified, monitoring` + "\n"},
		{name: "update to resolved", args: []string{"update", id, "--status", "Resolved", "--message", "x", "--as", "carol"}, f: &fakeIncidents{},
			wantCode: exitUsage, wantErr: "sitrep: invalid request: status: resolved is what `sitrep resolve` sends, with the final notice\n"},
		{name: "update for an audience that is not one", args: []string{"update", id, "--audience", "everyone", "--message", "x", "--as", "carol"}, f: &fakeIncidents{},
			wantCode: exitUsage, wantErr: `sitrep: invalid request: audience: "everyone" is not one of internal, external, both` + "\n"},
		{name: "update as nobody", args: []string{"update", id, "--message", "x", "--as", " "}, f: &fakeIncidents{},
			wantCode: exitUsage, wantErr: "by: empty: the catalog handle of who posts it"},
		{name: "update bad output", args: append(slices.Clone(upd), "-o", "yaml"), f: &fakeIncidents{},
			wantCode: exitUsage, wantErr: `--output must be text or json, not "yaml"`},

		{name: "role", args: []string{"role", id, "--role", "commander", "--person", "bob", "--as", "alice"},
			f:        &fakeIncidents{role: workflows.RoleResult{Role: "commander", Person: "bob", Previous: "alice", At: at}},
			wantOut:  id + ": commander is bob since 2026-03-02T10:04:05Z (was alice)\n",
			wantCall: "role " + id},
		{name: "role, first holder", args: []string{"role", id, "--role", "comms", "--person", "carol", "--as", "bob"},
			f:        &fakeIncidents{role: workflows.RoleResult{Role: "comms", Person: "carol", At: at}},
			wantOut:  id + ": comms is carol since 2026-03-02T10:04:05Z\n",
			wantCall: "role " + id},
		{name: "role json", args: []string{"role", id, "--role", "comms", "--person", "carol", "--as", "bob", "-o", "json"},
			f:        &fakeIncidents{role: workflows.RoleResult{Role: "comms", Person: "carol", Previous: "dave", At: at}},
			wantOut:  "{\n  \"role\": \"comms\",\n  \"person\": \"carol\",\n  \"previous\": \"dave\",\n  \"at\": \"2026-03-02T10:04:05Z\"\n}\n",
			wantCall: "role " + id},
		{name: "role refused", args: []string{"role", id, "--role", "janitor", "--person", "bob", "--as", "alice"},
			f: &fakeIncidents{err: &starter.RejectedError{Type: workflows.RejectInvalid,
				Message: `"janitor" is not a role of this incident: commander, comms, partner-comms`}},
			wantCode: exitRejected, wantErr: `sitrep: "janitor" is not a role of this incident: commander, comms, partner-comms` + "\n", wantCall: "role " + id},
		{name: "role for an unknown person", args: []string{"role", id, "--role", "comms", "--person", "mallory", "--as", "alice"},
			f:        &fakeIncidents{err: &starter.RejectedError{Type: workflows.RejectUnknownResponder, Message: "mallory is not in the catalog"}},
			wantCode: exitRejected, wantErr: "sitrep: mallory is not in the catalog\n", wantCall: "role " + id},
		{name: "role of an incident that is not there", args: []string{"role", id, "--role", "comms", "--person", "bob", "--as", "alice"},
			f:        &fakeIncidents{err: fmt.Errorf("assign-role %s: %w", id, starter.ErrNotFound)},
			wantCode: exitNotFound, wantErr: "no such incident", wantCall: "role " + id},
		{name: "role as nobody", args: []string{"role", id, "--role", "comms", "--person", "bob", "--as", " "}, f: &fakeIncidents{},
			wantCode: exitUsage, wantErr: "sitrep: invalid request: by: empty: the catalog handle of who assigns it\n"},
		{name: "role with a blank person", args: []string{"role", id, "--role", "comms", "--person", "", "--as", "alice"}, f: &fakeIncidents{},
			wantCode: exitUsage, wantErr: "sitrep: invalid request: person: empty: the catalog handle of who takes the role\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sitrep(t, tt.f, tt.args...)
			if r.code != tt.wantCode || r.stdout != tt.wantOut || !strings.Contains(r.stderr, tt.wantErr) || (tt.wantErr == "" && r.stderr != "") {
				t.Errorf("exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr, tt.wantCode, tt.wantOut, tt.wantErr)
			}
			var want []string
			if tt.wantCall != "" {
				want = []string{tt.wantCall}
			}
			if !slices.Equal(tt.f.calls, want) {
				t.Errorf("starter calls %v, want %v", tt.f.calls, want)
			}
		})
	}

	t.Run("the requests say who, from the cli, with a request ID of their own", func(t *testing.T) {
		f := &fakeIncidents{update: posted}
		sitrep(t, f, "update", id, "--status", "Identified", "--audience", "Both", "--role", "partner-comms", "--message", "Rolling back", "--as", "carol")
		sitrep(t, f, "role", id, "--role", "commander", "--person", "bob", "--as", "alice")
		sitrep(t, f, "role", id, "--role", "commander", "--person", "bob", "--as", "alice")
		wantUpd := workflows.UpdateRequest{By: "carol", Status: "identified", Audience: "both", Role: "partner-comms", Message: "Rolling back", Channel: "cli"}
		if f.updRq != wantUpd || f.roleRq != (workflows.RoleRequest{Role: "commander", Person: "bob", By: "alice", Channel: "cli"}) {
			t.Errorf("requests %+v, %+v", f.updRq, f.roleRq)
		}
		if len(f.reqIDs) != 3 || !strings.HasPrefix(f.reqIDs[0], "cli-") || f.reqIDs[1] == f.reqIDs[2] {
			t.Errorf("request IDs %q: want one cli-… per run", f.reqIDs)
		}
	})
}

// commsState is incidentState in its comms phase: a war room, roles, and
// seven stakeholder updates, the next one overdue at testNow.
func commsState() workflows.IncidentState {
	st := incidentState()
	first := st.FirstSeen
	due := testNow.Add(-12 * time.Minute)
	st.WarRoom = &workflows.WarRoom{Platform: "slack", Channel: "C0WAR", Name: "inc-20260302-checkout-error-rate",
		URL: "https://example.slack.com/archives/C0WAR", Bridge: "https://meet.example.com/inc-checkout", OpenedAt: first.Add(3 * time.Minute)}
	st.Roles = []workflows.RoleHolder{
		{Role: "commander", Title: "Incident commander", Person: "bob", Since: first.Add(3 * time.Minute)},
		{Role: "comms", Title: "Communications lead", Person: "carol", Since: first.Add(4 * time.Minute), By: "bob"},
	}
	st.Status, st.NextUpdateDue = workflows.StatusIdentified, &due
	st.Cadences = []workflows.Cadence{{Role: "comms", Due: due}, {Role: "partner-comms", Due: testNow.Add(20 * time.Minute)}}
	st.StatusPage = &workflows.StatusPageRef{ID: "p31zjtct2jer", URL: "https://stspg.io/p31zjtct2jer"}
	for i := range 7 {
		u := workflows.UpdateRecord{At: first.Add(time.Duration(i) * 10 * time.Minute), Kind: "update", By: "carol", Status: workflows.StatusInvestigating,
			Audience: workflows.AudienceBoth, Message: fmt.Sprintf("update %d", i), Sent: []string{"status page", "email customers", "war room"}}
		switch i {
		case 0:
			u.Kind, u.By = "notice", ""
		case 5:
			u.Status, u.Role, u.Audience, u.Sent, u.Failed = workflows.StatusIdentified, "partner-comms", workflows.AudienceExternal, []string{"email partners"}, []string{"war room"}
		case 6:
			u.Status, u.Audience, u.Sent = workflows.StatusIdentified, workflows.AudienceInternal, nil
			u.Failed = []string{"email engineering"}
		}
		st.Updates = append(st.Updates, u)
	}
	return st
}

func TestCLIStatusComms(t *testing.T) {
	st := commsState()
	r := sitrep(t, &fakeIncidents{state: st}, "status", st.ID)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, w := range []string{
		"  acknowledged by bob at 2026-03-02 09:03:00Z\n" +
			"  war room inc-20260302-checkout-error-rate (slack) https://example.slack.com/archives/C0WAR\n" +
			"  bridge https://meet.example.com/inc-checkout\n" +
			"  stakeholders told: identified (status page https://stspg.io/p31zjtct2jer)\n" +
			"  next update due 2026-03-02 09:52:05Z, OVERDUE by 12m\n" +
			"  partner-comms update due 2026-03-02 10:24:05Z\n",
		"\nRoles\n  commander:  bob    since 2026-03-02 09:03:00Z\n  comms:      carol  since 2026-03-02 09:04:00Z (by bob)\n",
		"\nStakeholder updates (the last 5 of 7)\n",
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("status does not show %q:\n%s", w, r.stdout)
		}
	}
	_, table, _ := strings.Cut(r.stdout, "Stakeholder updates (the last 5 of 7)\n")
	rows := strings.Split(table, "\n")
	for i, w := range [][]string{
		{"TIME", "KIND", "STATUS", "AUDIENCE", "BY", "SENT", "TO", "FAILED"},
		{"2026-03-02", "09:20:00Z", "update", "investigating", "both", "carol", "status", "page,", "email", "customers,", "war", "room", "-"},
		{"2026-03-02", "09:30:00Z", "update", "investigating", "both", "carol", "status", "page,", "email", "customers,", "war", "room", "-"},
		{"2026-03-02", "09:40:00Z", "update", "investigating", "both", "carol", "status", "page,", "email", "customers,", "war", "room", "-"},
		{"2026-03-02", "09:50:00Z", "update", "identified", "partner-comms", "carol", "email", "partners", "war", "room"},
		{"2026-03-02", "10:00:00Z", "update", "identified", "internal", "carol", "-", "email", "engineering"},
	} {
		if i >= len(rows) || !slices.Equal(strings.Fields(rows[i]), w) {
			t.Errorf("updates row %d = %q, want fields %q", i, rows[min(i, len(rows)-1)], w)
		}
	}
	if strings.Contains(table, "09:00:00Z  notice") || strings.Contains(table, "09:10:00Z") {
		t.Errorf("the updates table shows more than the last 5:\n%s", table)
	}

	t.Run("due, not overdue; nothing said yet", func(t *testing.T) {
		st := incidentState()
		due := testNow.Add(5 * time.Minute)
		st.NextUpdateDue = &due
		r := sitrep(t, &fakeIncidents{state: st}, "status", st.ID)
		if !strings.Contains(r.stdout, "  next update due 2026-03-02 10:09:05Z\n") {
			t.Errorf("status does not show the due time:\n%s", r.stdout)
		}
		for _, not := range []string{"OVERDUE", "war room", "Roles", "Stakeholder updates", "stakeholders told"} {
			if strings.Contains(r.stdout, not) {
				t.Errorf("status shows %q with nothing to show:\n%s", not, r.stdout)
			}
		}
	})
}
