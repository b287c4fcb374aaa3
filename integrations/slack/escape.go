package slack

import "strings"

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// EscapeText escapes text for a mrkdwn field as Slack asks: &, < and >
// become entities, so that text from outside (an alert's summary) cannot
// make a link with a text of its choosing (<https://evil|Acknowledge>) or
// notify a channel (<!channel>). Slack shows the characters as they were.
func EscapeText(s string) string { return mrkdwnEscaper.Replace(s) }
