package twilio

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/twilio/twilio-go/twiml"
)

// The keys a paged person presses; Twilio posts them as Digits to the Gather action.
const (
	DigitAck      = "4" // acknowledge the page
	DigitEscalate = "5" // escalate to the next level now
	DigitRepeat   = "*" // hear the page again: the action answers with PageTwiML again
)

// PagePrompt is what a voice page says after its text.
const PagePrompt = "Press 4 to acknowledge, 5 to escalate now, star to repeat."

// PageTwiML returns the TwiML of a voice page: say the page text and the
// prompt while gathering one key, posted to gatherActionURL. With no key
// pressed it gathers once more, then says goodbye and hangs up; a star is
// posted like any key, and the action answers it with this TwiML again.
func PageTwiML(say, gatherActionURL string) (string, error) {
	if strings.TrimSpace(say) == "" {
		return "", errors.New("page twiml: nothing to say")
	}
	if u, err := url.Parse(gatherActionURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("page twiml: gather action %q is not an absolute http(s) URL", gatherActionURL)
	}
	gather := func() twiml.Element {
		return &twiml.VoiceGather{
			NumDigits: "1",
			Action:    gatherActionURL,
			Method:    "POST",
			Timeout:   "10",
			InnerElements: []twiml.Element{
				&twiml.VoiceSay{Message: say},
				&twiml.VoiceSay{Message: PagePrompt},
			},
		}
	}
	xml, err := twiml.Voice([]twiml.Element{
		gather(),
		gather(),
		&twiml.VoiceSay{Message: "No key pressed. Goodbye."},
		&twiml.VoiceHangup{},
	})
	if err != nil {
		return "", fmt.Errorf("page twiml: %w", err)
	}
	return xml, nil
}
