package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// Merger hands what a merged incident holds to the incident it was merged
// into: its record at the merge, the alerts that still reach it after. It
// talks to the target incident through the Temporal client (an update), so
// the target's answer comes back: taken, or refused with a reason.
type Merger interface {
	Absorb(ctx context.Context, in AbsorbInput) (AbsorbOutput, error)
}

// AbsorbInput is the target incident and the request, as the workflows
// encode it (this package does not know the request's type).
type AbsorbInput struct {
	IncidentID string
	Request    json.RawMessage
	// RequestID names this hand-over, so a retried attempt counts once.
	RequestID string
}

// AbsorbOutput is the target's answer, as the workflows decode it.
type AbsorbOutput struct {
	Result json.RawMessage
}

// RefusedError is a target's refusal: resolved, itself merged, gone. Type
// is the refusal's kind (one of the workflows' Reject* names), Message is
// for a person.
type RefusedError struct {
	Type    string
	Message string
}

func (e *RefusedError) Error() string { return e.Message }

// Absorb hands a merged incident's record or alerts to its target. A
// refusal is non-retryable, of the refusal's type, so the merging incident
// tells the person why and changes nothing; anything else is retried.
func (a *Activities) Absorb(ctx context.Context, in AbsorbInput) (AbsorbOutput, error) {
	if a.Merger == nil {
		return AbsorbOutput{}, temporal.NewNonRetryableApplicationError("no merger configured", ErrChannelOff, nil)
	}
	out, err := a.Merger.Absorb(ctx, in)
	var refused *RefusedError
	if errors.As(err, &refused) {
		return AbsorbOutput{}, temporal.NewNonRetryableApplicationError(refused.Message, refused.Type, nil)
	}
	if err != nil {
		return AbsorbOutput{}, fmt.Errorf("absorb into %s: %w", in.IncidentID, err)
	}
	return out, nil
}
