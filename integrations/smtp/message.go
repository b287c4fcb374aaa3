package smtp

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/integrations"
)

// IncidentHeader carries the sitrep incident ID in every message.
const IncidentHeader = "X-Sitrep-Incident"

// buildMessage returns e as an RFC 5322 message with CRLF line ends: the
// text and HTML as multipart/alternative (or the one of them present),
// wrapped in multipart/mixed with the attachments when there are any.
func buildMessage(from *mail.Address, e integrations.Email, messageID string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	to := make([]string, len(e.To))
	for i, a := range e.To {
		to[i] = (&mail.Address{Address: a}).String()
	}
	header("From", from.String())
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", e.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+messageID+">")
	header("MIME-Version", "1.0")
	if e.IncidentID != "" {
		header(IncidentHeader, e.IncidentID)
	}
	textHeader, text, err := textPart(e)
	if err != nil {
		return nil, err
	}
	if len(e.Attachments) == 0 {
		writeHeader(&b, textHeader)
		b.WriteString("\r\n")
		b.Write(text)
		return b.Bytes(), nil
	}
	var body bytes.Buffer
	mixed := multipart.NewWriter(&body)
	header("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mixed.Boundary()}))
	b.WriteString("\r\n")
	w, err := mixed.CreatePart(textHeader)
	if err != nil {
		return nil, err
	}
	w.Write(text)
	for _, a := range e.Attachments {
		w, err := mixed.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {a.ContentType},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename})},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, err
		}
		w.Write(base64Lines(a.Content))
	}
	if err := mixed.Close(); err != nil {
		return nil, err
	}
	b.Write(body.Bytes())
	return b.Bytes(), nil
}

// textPart returns the header and body of the text: multipart/alternative
// when there are both text and HTML, else the single part.
func textPart(e integrations.Email) (textproto.MIMEHeader, []byte, error) {
	part := func(mediaType, s string) (textproto.MIMEHeader, []byte) {
		return textproto.MIMEHeader{
			"Content-Type":              {mediaType + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		}, quotedPrintable(s)
	}
	switch {
	case e.HTML == "":
		h, b := part("text/plain", e.Text)
		return h, b, nil
	case e.Text == "":
		h, b := part("text/html", e.HTML)
		return h, b, nil
	}
	var body bytes.Buffer
	alt := multipart.NewWriter(&body)
	for _, p := range []struct{ mediaType, s string }{{"text/plain", e.Text}, {"text/html", e.HTML}} {
		h, b := part(p.mediaType, p.s)
		w, err := alt.CreatePart(h)
		if err != nil {
			return nil, nil, err
		}
		w.Write(b)
	}
	if err := alt.Close(); err != nil {
		return nil, nil, err
	}
	h := textproto.MIMEHeader{"Content-Type": {mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": alt.Boundary()})}}
	return h, body.Bytes(), nil
}

func writeHeader(b *bytes.Buffer, h textproto.MIMEHeader) {
	for _, k := range []string{"Content-Type", "Content-Transfer-Encoding"} {
		if v := h.Get(k); v != "" {
			fmt.Fprintf(b, "%s: %s\r\n", k, v)
		}
	}
}

// quotedPrintable encodes s with CRLF line ends and lines of at most 76
// characters. It ends in a line break: a soft one when s does not, so that
// the line break SMTP puts before the message's end is not taken for s's.
func quotedPrintable(s string) []byte {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("=\r\n")
	}
	return b.Bytes()
}

// base64Lines encodes data in lines of 76 characters ending in CRLF.
func base64Lines(data []byte) []byte {
	s := base64.StdEncoding.EncodeToString(data)
	var b bytes.Buffer
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s + "\r\n")
	return b.Bytes()
}
