// Package slack posts incident messages with buttons, edits them
// (chat.update: a war room's summary is kept current, not reposted), opens
// war-room channels and invites responders through Slack's Web API, built on
// github.com/slack-go/slack, and verifies and reads the button clicks Slack
// sends back.
//
// Slack reports most API errors as HTTP 200 with "ok":false; classify turns
// those, like every other failure, into one *integrations.Error. Fake speaks
// the Web API methods the client uses and can click a button, signed as Slack
// signs it.
package slack
