// Package sandbox is the local stand-in for every provider that `make dev`
// runs: each provider's fake on one HTTP server, and an inbox page
// (http://localhost:8025) listing every SMS, call, email, chat message and
// PagerDuty event, newest first, per person and per incident, with buttons
// that answer a page as the person would (reply to the SMS, press 4 on the
// call, click the chat button), signed as the provider signs them.
package sandbox
