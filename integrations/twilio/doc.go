// Package twilio sends SMS and voice pages through Twilio with the official
// twilio-go SDK, classifies Twilio's failures into integrations.Error, builds
// the TwiML of a voice page, checks the X-Twilio-Signature of inbound
// webhooks, and offers Fake: an HTTP server that speaks Twilio's REST API
// (Messages and Calls) and emits signed inbound webhooks, for tests and the
// sandbox.
//
// twilio-go takes no context and reads TWILIO_* environment variables when it
// is given no credentials. Client therefore refuses empty credentials, and
// runs each call through its own http.Client whose transport attaches the
// call's context, points the request at Config.BaseURL (which also cancels
// TWILIO_EDGE and TWILIO_REGION) and keeps the response status and headers
// that the SDK hides on errors.
package twilio
