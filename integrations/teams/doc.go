// Package teams posts incident messages to a Microsoft Teams channel through
// an incoming webhook (a Power Automate "Workflows" webhook, or a legacy
// Office 365 connector), with plain net/http.
//
// The webhook URL is the credential: it is a Secret and never appears in an
// error. A message is an Adaptive Card whose links are Action.OpenUrl buttons;
// Teams webhooks cannot call back, so acknowledging goes through a signed link.
// Every failure is one *integrations.Error, built by classify. Fake speaks
// both webhook kinds.
package teams
