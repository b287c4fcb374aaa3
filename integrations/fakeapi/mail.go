package fakeapi

import (
	"html"
	"regexp"
	"slices"
	"strings"

	"github.com/sitrep-dev/sitrep/integrations/inbox"
)

var (
	htmlTag     = regexp.MustCompile(`<[^>]*>`)
	linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)
)

// MailView is what an inbox shows of a mail with these text and HTML parts:
// the text, or the HTML's text when there is none, and the distinct links of
// the text, or of the HTML when the text has none.
func MailView(text, htmlPart string) (string, []inbox.Link) {
	links := findLinks(text)
	if text == "" {
		text = html.UnescapeString(htmlTag.ReplaceAllString(htmlPart, ""))
	}
	if len(links) == 0 {
		links = findLinks(html.UnescapeString(htmlPart))
	}
	return text, links
}

// findLinks returns the distinct URLs in text, without trailing punctuation, as inbox links.
func findLinks(text string) []inbox.Link {
	var out []inbox.Link
	for _, l := range linkPattern.FindAllString(text, -1) {
		l = strings.TrimRight(l, ".,;:!?)]'")
		if !slices.ContainsFunc(out, func(x inbox.Link) bool { return x.URL == l }) {
			out = append(out, inbox.Link{Label: l, URL: l})
		}
	}
	return out
}
