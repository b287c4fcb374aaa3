package jira

import "strings"

// adfNode is one node of an Atlassian Document Format document.
type adfNode struct {
	Type    string    `json:"type"`
	Version int       `json:"version,omitempty"`
	Text    string    `json:"text,omitempty"`
	Content []adfNode `json:"content,omitempty"`
}

// textToADF turns plain text into an ADF document: blank lines separate
// paragraphs, single newlines become hard breaks. It returns nil for blank text.
func textToADF(text string) *adfNode {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	doc := &adfNode{Type: "doc", Version: 1}
	for _, para := range strings.Split(text, "\n\n") {
		var inline []adfNode
		for _, line := range strings.Split(strings.Trim(para, "\n"), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			if len(inline) > 0 {
				inline = append(inline, adfNode{Type: "hardBreak"})
			}
			inline = append(inline, adfNode{Type: "text", Text: line})
		}
		if len(inline) > 0 {
			doc.Content = append(doc.Content, adfNode{Type: "paragraph", Content: inline})
		}
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return doc
}

// adfText flattens an ADF document back to plain text, paragraphs separated
// by blank lines.
func adfText(n adfNode) string {
	switch n.Type {
	case "text":
		return n.Text
	case "hardBreak":
		return "\n"
	}
	var parts []string
	var b strings.Builder
	for _, c := range n.Content {
		if isBlock(c.Type) {
			parts = append(parts, adfText(c))
			continue
		}
		b.WriteString(adfText(c))
	}
	if b.Len() > 0 {
		parts = append([]string{b.String()}, parts...)
	}
	return strings.Join(parts, "\n\n")
}

// blockTypes are the ADF block nodes the fake accepts; all others are inline.
var blockTypes = []string{"paragraph", "heading", "bulletList", "orderedList", "listItem", "codeBlock", "blockquote", "rule", "panel", "table", "tableRow", "tableCell", "tableHeader", "mediaSingle"}

func isBlock(t string) bool {
	for _, b := range blockTypes {
		if b == t {
			return true
		}
	}
	return false
}
