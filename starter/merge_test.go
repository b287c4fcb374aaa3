package starter

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitrep-dev/sitrep/workflows"
)

func TestParseChatMerge(t *testing.T) {
	const into = "inc-checkout-0a1b2c3d4e5f6a7b"
	tests := []struct {
		text    string
		want    chatCommand
		wantErr string
	}{
		{"merge --into " + into, chatCommand{Verb: "merge", Into: into}, ""},
		{"merge --into=" + into + " same failover", chatCommand{Verb: "merge", Into: into, Text: "same failover"}, ""},
		{"merge —into " + into, chatCommand{Verb: "merge", Into: into}, ""},
		{"MERGE into " + into + ` "one cause"`, chatCommand{Verb: "merge", Into: into, Text: "one cause"}, ""},
		{"merge " + into, chatCommand{Verb: "merge", Into: into}, ""},
		{"inc-payments-1a2b3c4d merge --into " + into, chatCommand{Incident: "inc-payments-1a2b3c4d", Verb: "merge", Into: into}, ""},
		{"merge", chatCommand{}, "merge: name the incident to merge into"},
		{"merge --into", chatCommand{}, "merge: name the incident to merge into"},
		{"merge --target " + into, chatCommand{}, "merge: unknown option --target (want --into)"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := parseChatCommand(tt.text)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Equal(t, tt.wantErr, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestValidateMerge(t *testing.T) {
	const id, into = "inc-payments-1a2b3c4d5e6f7081", "inc-checkout-0a1b2c3d4e5f6a7b"
	tests := []struct {
		name, id string
		req      workflows.MergeRequest
		want     string
	}{
		{"ok", id, workflows.MergeRequest{Into: into, By: "alice"}, ""},
		{"ok by ref", id + ":run", workflows.MergeRequest{Into: into + ":run2", By: "alice"}, ""},
		{"no target", id, workflows.MergeRequest{By: "alice"}, "into: empty"},
		{"not an ID", id, workflows.MergeRequest{Into: "checkout", By: "alice"}, `into: "checkout" is not an incident ID`},
		{"itself", id, workflows.MergeRequest{Into: id, By: "alice"}, "cannot merge " + id + " into itself"},
		{"itself by ref", id + ":r1", workflows.MergeRequest{Into: id + ":r1", By: "alice"}, "into itself"},
		{"nobody", id, workflows.MergeRequest{Into: into}, "by: empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateMerge(tt.id, tt.req)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// mergingFake is the intake's fake incidents, able to merge.
type mergingFake struct {
	*fakeIncidents
	mu    sync.Mutex
	calls []workflows.MergeRequest
	ids   []string
}

func (f *mergingFake) Merge(_ context.Context, id, _ string, req workflows.MergeRequest) (workflows.MergeResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.ids = append(f.calls, req), append(f.ids, id)
	return workflows.MergeResult{Into: req.Into, At: testNow, By: req.By}, nil
}

// TestSlackCommandMerge: "/sitrep merge --into INC note" typed in the war
// room merges the room's incident as the person who typed it.
func TestSlackCommandMerge(t *testing.T) {
	const into = "inc-checkout-0a1b2c3d4e5f6a7b"
	fake := &mergingFake{fakeIncidents: newFake()}
	fake.addIncident(incPayments)
	fake.rooms[warRoom] = incPayments
	in, err := NewIntake(testConfig(t), fake, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	in.now = func() time.Time { return testNow }

	code, text := slash(t, in, "merge --into "+into+" same failover", "U0CA5", warRoom, "T1")
	assert.Equal(t, 200, code)
	assert.Equal(t, incPayments+" is merged into "+into+" (10:00 UTC): its pages stopped, and updates go on in "+into+".", text)
	require.Len(t, fake.calls, 1)
	assert.Equal(t, incPayments, fake.ids[0])
	assert.Equal(t, workflows.MergeRequest{Into: into, By: "alice", Note: "same failover", Channel: "slack"}, fake.calls[0])

	_, text = slash(t, in, "merge --into "+incPayments, "U0CA5", warRoom, "T2")
	assert.Contains(t, text, "cannot merge "+incPayments+" into itself")
	assert.Len(t, fake.calls, 1, "a refused merge reaches no incident")
}
