// Package sendgrid sends email through SendGrid's v3 Mail Send API with the
// official sendgrid-go SDK, classifies SendGrid's answers into
// integrations.Error, and offers Fake: an HTTP server that speaks
// POST /v3/mail/send, for tests and the sandbox.
//
// sendgrid-go returns no error for a 4xx or 5xx answer and its Client is not
// safe for concurrent use, so Client builds one request per send, runs it
// through its own rest.Client (never the package-level DefaultClient), and
// classifies the status itself.
package sendgrid
