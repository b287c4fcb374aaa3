package twilio

import (
	"errors"
	"fmt"
	"strings"

	"github.com/twilio/twilio-go/twiml"
)

// SayTwiML returns the TwiML of a call that only reads say, twice, and hangs
// up: a voice page where no intake can take a keypress.
func SayTwiML(say string) (string, error) {
	if strings.TrimSpace(say) == "" {
		return "", errors.New("say twiml: nothing to say")
	}
	xml, err := twiml.Voice([]twiml.Element{
		&twiml.VoiceSay{Message: say},
		&twiml.VoicePause{Length: "1"},
		&twiml.VoiceSay{Message: say},
		&twiml.VoiceHangup{},
	})
	if err != nil {
		return "", fmt.Errorf("say twiml: %w", err)
	}
	return xml, nil
}
