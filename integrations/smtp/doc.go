// Package smtp sends email through any SMTP server with net/smtp: the
// self-hosted alternative to SendGrid. It builds a MIME message
// (multipart/alternative text and HTML, inside multipart/mixed when there are
// attachments) carrying a Message-ID and the X-Sitrep-Incident header,
// classifies SMTP replies into integrations.Error, and offers Fake: a small
// in-process SMTP server for tests and the sandbox.
package smtp
