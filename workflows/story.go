package workflows

import "time"

// StoryOutcome tells an incident how the Story handled one of its notices.
type StoryOutcome struct {
	Key       string    `json:"key"`
	Delivered bool      `json:"delivered"`
	Sent      string    `json:"sent,omitempty"`
	Detail    string    `json:"detail,omitempty"`
	Error     string    `json:"error,omitempty"`
	At        time.Time `json:"at"`
}
