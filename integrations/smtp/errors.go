package smtp

import (
	"errors"
	"io"
	"net"
	"net/textproto"
	"strconv"

	"github.com/sitrep-dev/sitrep/integrations"
)

// classify maps the failure of one step of an SMTP session to an
// *integrations.Error: a 4xx reply is transient and a 5xx reply permanent
// (Code holds the reply code); network failures and timeouts are transient;
// any other failure to set up TLS or AUTH (a certificate that does not
// verify, net/smtp refusing AUTH over plain text) is configuration, permanent.
func classify(step string, err error) *integrations.Error {
	e := &integrations.Error{Provider: "smtp", Kind: integrations.Transient, Message: step + ": " + err.Error()}
	var reply *textproto.Error
	var netErr net.Error
	switch {
	case errors.As(err, &reply):
		e.Code, e.Message = strconv.Itoa(reply.Code), step+": "+reply.Msg
		if reply.Code >= 500 {
			e.Kind = integrations.Permanent
		}
	case errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
	case step == "starttls", step == "auth":
		e.Kind = integrations.Permanent
	}
	return e
}
