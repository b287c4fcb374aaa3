package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/integrations/slack"
	"github.com/sitrep-dev/sitrep/starter"
	"github.com/sitrep-dev/sitrep/workflows"
)

// slashStack runs the stack with its intake and opens a SEV1 whose war room
// opens at once; slash sends /sitrep TEXT from channel as alice (U0001),
// signed as Slack signs it, and returns the answer's text.
func slashStack(t *testing.T) (st *starter.Client, id string, slash func(channel, text, trigger string) string) {
	t.Helper()
	catYAML := strings.Replace(e2eCatalog, "    update_cadence: 30m\n", "    update_cadence: 30m\n    war_room: open\n", 1)
	s, publicURL := intakeStack(t, catYAML)
	st = starter.New(s.Client)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	r, err := st.Alert(ctx, workflows.Alert{Source: workflows.Monitoring, Service: "checkout", Severity: catalog.SEV1,
		Summary: "checkout error rate 12%", Integration: "test"})
	if err != nil {
		t.Fatal(err)
	}
	secret := integrations.Secret(s.Env("SLACK_SIGNING_SECRET"))
	return st, r.IncidentID, func(channel, text, trigger string) string {
		t.Helper()
		body := url.Values{"command": {"/sitrep"}, "text": {text}, "user_id": {"U0001"}, "channel_id": {channel}, "trigger_id": {trigger}}.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, publicURL+"/v1/slack/commands", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", slack.Sign(secret, ts, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var a struct {
			Type string `json:"response_type"`
			Text string `json:"text"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &a) != nil || a.Type != "ephemeral" {
			t.Fatalf("/sitrep %s: %d %s", text, resp.StatusCode, b)
		}
		return a.Text
	}
}

// TestEndToEndSlashCommandNamingTheIncident: /sitrep INCIDENT … from any
// channel reaches the real workflow through the real intake.
func TestEndToEndSlashCommandNamingTheIncident(t *testing.T) {
	t.Parallel()
	st, id, slash := slashStack(t)
	if got := slash("C0GENERAL", "status", "E0"); !strings.Contains(got, "not the war room of an open incident") {
		t.Errorf("status from a channel that is no room: %q", got)
	}
	if got := slash("C0GENERAL", id+" role commander @me", "E1"); !strings.HasPrefix(got, "alice is now commander of "+id) {
		t.Fatalf("role: %q", got)
	}
	if got := slash("C0GENERAL", id+" update --status identified A bad config push; rolling back", "E2"); !strings.HasPrefix(got, "Update posted to "+id+" for internal and external stakeholders") {
		t.Fatalf("update: %q", got)
	}
	if got := slash("C0GENERAL", id+" update --status investigating back to square one", "E3"); got != "Refused: update: status cannot go back from identified to investigating" {
		t.Fatalf("a status going back: %q", got)
	}
	state, err := st.Status(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	last := state.Updates[len(state.Updates)-1]
	if state.Status != workflows.StatusIdentified || last.By != "alice" || last.Message != "A bad config push; rolling back" {
		t.Fatalf("state %s, last update %+v", state.Status, last)
	}
	if len(state.Roles) == 0 || state.Roles[0].Role != "commander" || state.Roles[0].Person != "alice" {
		t.Fatalf("roles %+v", state.Roles)
	}
}

// TestEndToEndSlashCommandFromTheRoom: typed in the incident's war room,
// /sitrep needs no incident ID. Needs the war room activities.
func TestEndToEndSlashCommandFromTheRoom(t *testing.T) {
	t.Parallel()
	st, id, slash := slashStack(t)
	var room string
	deadline := time.Now().Add(30 * time.Second)
	for room == "" {
		state, err := st.Status(context.Background(), id)
		if err == nil && state.WarRoom != nil && state.WarRoom.Channel != "" {
			room = state.WarRoom.Channel
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no war room: %+v %v", state.ResponseState, err)
		}
		<-time.After(100 * time.Millisecond) // poll interval
	}
	// Visibility follows the room's opening by a moment.
	deadline = time.Now().Add(15 * time.Second)
	for {
		got := slash(room, "update --status identified A bad config push; rolling back", "R1")
		if strings.HasPrefix(got, "Update posted to "+id) {
			break
		}
		if time.Now().After(deadline) || !strings.Contains(got, "not the war room") {
			t.Fatalf("update from the room: %q", got)
		}
		<-time.After(200 * time.Millisecond) // poll interval
	}
	state, err := st.Status(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if last := state.Updates[len(state.Updates)-1]; state.Status != workflows.StatusIdentified || last.By != "alice" || !slices.Contains(last.Sent, "war room") {
		t.Fatalf("state %s, last update %+v", state.Status, last)
	}
}
