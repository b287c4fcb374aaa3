package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/integrations"
)

// The errors VerifyRequest returns; answer each with 401.
var (
	ErrNoSecret         = errors.New("no slack signing secret configured")
	ErrMissingHeaders   = errors.New("X-Slack-Signature or X-Slack-Request-Timestamp missing or malformed")
	ErrExpiredTimestamp = errors.New("X-Slack-Request-Timestamp more than 5 minutes from now")
	ErrInvalidSignature = errors.New("invalid slack signature")
)

// maxClockSkew is how far a request's timestamp may be from now: Slack's rule
// against replays.
const maxClockSkew = 5 * time.Minute

// VerifyRequest checks the v0 signature Slack puts on the requests it sends
// (interactions, slash commands, events) against the raw body, and that the
// request was signed within 5 minutes of now. Verify before parsing the body.
func VerifyRequest(signingSecret integrations.Secret, header http.Header, body []byte, now time.Time) error {
	if signingSecret == "" {
		return ErrNoSecret
	}
	ts := header.Get("X-Slack-Request-Timestamp")
	sig, ok := strings.CutPrefix(header.Get("X-Slack-Signature"), "v0=")
	secs, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		return ErrMissingHeaders
	}
	if d := now.Sub(time.Unix(secs, 0)); d > maxClockSkew || d < -maxClockSkew {
		return ErrExpiredTimestamp
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(signingSecret, ts, body)) {
		return ErrInvalidSignature
	}
	return nil
}

// VerifyRequestAny is VerifyRequest with any one of secrets, so that a
// signing secret can be rotated without refusing a click signed with the
// other. Empty secrets are skipped; with none, it returns ErrNoSecret.
func VerifyRequestAny(secrets []integrations.Secret, header http.Header, body []byte, now time.Time) error {
	err := ErrNoSecret
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if err = VerifyRequest(s, header, body, now); !errors.Is(err, ErrInvalidSignature) {
			return err // nil, or a request no other secret can fix
		}
	}
	return err
}

// Sign returns the X-Slack-Signature for body sent at timestamp ts (Unix
// seconds, as in X-Slack-Request-Timestamp).
func Sign(signingSecret integrations.Secret, ts string, body []byte) string {
	return "v0=" + hex.EncodeToString(mac(signingSecret, ts, body))
}

func mac(secret integrations.Secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret.Reveal()))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return m.Sum(nil)
}

// Interaction is a click on a message button.
type Interaction struct {
	ActionID    string // the Button's ActionID
	Value       string // the Button's Value
	UserID      string // who clicked
	ResponseURL string // where to post a reply or a replacement of the message
	ChannelID   string // where the message is
	MessageTS   string // the message's timestamp, as PostMessage returned it
}

// ParseInteraction reads a block_actions interaction: a form whose field
// "payload" holds the JSON. Verify the request first.
func ParseInteraction(body []byte) (Interaction, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return Interaction{}, fmt.Errorf("parse slack interaction: %w", err)
	}
	payload := form.Get("payload")
	if payload == "" {
		return Interaction{}, errors.New("parse slack interaction: no payload field")
	}
	var ic slackapi.InteractionCallback
	if err := json.Unmarshal([]byte(payload), &ic); err != nil {
		return Interaction{}, fmt.Errorf("parse slack interaction: %w", err)
	}
	if ic.Type != slackapi.InteractionTypeBlockActions || len(ic.ActionCallback.BlockActions) == 0 {
		return Interaction{}, fmt.Errorf("parse slack interaction: type %q with %d block actions, want block_actions with one", ic.Type, len(ic.ActionCallback.BlockActions))
	}
	a := ic.ActionCallback.BlockActions[0]
	in := Interaction{
		ActionID: a.ActionID, Value: a.Value, UserID: ic.User.ID, ResponseURL: ic.ResponseURL,
		ChannelID: ic.Channel.ID, MessageTS: ic.Container.MessageTs,
	}
	if in.ChannelID == "" {
		in.ChannelID = ic.Container.ChannelID
	}
	return in, nil
}
