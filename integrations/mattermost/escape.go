package mattermost

import "strings"

var markdownEscaper = strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`)

// EscapeMarkdown escapes the Markdown that could disguise a link in text
// from outside (an alert's summary): brackets, so that [Acknowledge](url)
// and ![](url) show as written, and angle brackets. Bare URLs still link,
// as themselves.
func EscapeMarkdown(s string) string { return markdownEscaper.Replace(s) }
