package jira

import (
	"slices"
	"strings"
)

// jqlError is the fake's answer to JQL it rejects. unsupported marks JQL that
// real Jira may accept but the fake cannot read, which it reports.
type jqlError struct {
	msg         string
	unsupported bool
}

// clause is one "field = value", "field != value", "field in (…)" or
// "field not in (…)" condition; clauses are joined by AND.
type clause struct {
	field  string
	values []string
	negate bool
}

// jqlFields are the fields the fake can search on.
var jqlFields = []string{"project", "labels", "key", "issuekey", "status", "statuscategory", "issuetype", "type"}

// parseJQL reads the subset of JQL the fake supports: clauses joined by AND,
// and an ORDER BY that it ignores (results come newest first).
func parseJQL(s string) ([]clause, *jqlError) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, &jqlError{msg: "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."}
	}
	var out []clause
	i := 0
	next := func() (token, bool) {
		if i >= len(toks) {
			return token{}, false
		}
		i++
		return toks[i-1], true
	}
	unsupported := func(why string) *jqlError {
		return &jqlError{msg: "Error in the JQL Query: " + why, unsupported: true}
	}
	for {
		t, ok := next()
		if !ok {
			return nil, unsupported("expected a clause")
		}
		if t.word("order") {
			break
		}
		if t.quoted || t.punct != "" {
			return nil, unsupported("expected a field name, got " + t.text)
		}
		c := clause{field: strings.ToLower(t.text)}
		if !slices.Contains(jqlFields, c.field) {
			return nil, &jqlError{msg: "Field '" + t.text + "' does not exist or you do not have permission to view it.", unsupported: true}
		}
		op, ok := next()
		if !ok {
			return nil, unsupported("expected an operator after " + t.text)
		}
		switch {
		case op.punct == "=":
		case op.punct == "!=":
			c.negate = true
		case op.word("in"), op.word("not"):
			if op.word("not") {
				if in, ok := next(); !ok || !in.word("in") {
					return nil, unsupported("expected IN after NOT")
				}
				c.negate = true
			}
			if open, ok := next(); !ok || open.punct != "(" {
				return nil, unsupported("expected ( after IN")
			}
			for {
				v, ok := next()
				if !ok || v.punct != "" {
					return nil, unsupported("expected a value in the list")
				}
				c.values = append(c.values, v.text)
				sep, ok := next()
				if !ok {
					return nil, unsupported("expected , or )")
				}
				if sep.punct == ")" {
					break
				}
				if sep.punct != "," {
					return nil, unsupported("expected , or )")
				}
			}
		default:
			return nil, unsupported("the fake reads only =, !=, IN and NOT IN, got " + op.text)
		}
		if len(c.values) == 0 {
			v, ok := next()
			if !ok || v.punct != "" {
				return nil, unsupported("expected a value after " + op.text)
			}
			c.values = []string{v.text}
		}
		out = append(out, c)
		t, ok = next()
		if !ok {
			return out, nil
		}
		if t.word("order") {
			break
		}
		if !t.word("and") {
			return nil, unsupported("the fake reads only AND between clauses, got " + t.text)
		}
	}
	if by, ok := next(); !ok || !by.word("by") {
		return nil, unsupported("expected BY after ORDER")
	}
	return out, nil
}

// token is one JQL word, quoted string or punctuation mark.
type token struct {
	text   string
	quoted bool
	punct  string // "=", "!=", "(", ")" or ","
}

func (t token) word(w string) bool { return !t.quoted && t.punct == "" && strings.EqualFold(t.text, w) }

func tokenize(s string) ([]token, *jqlError) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == ',' || c == '=':
			out = append(out, token{text: string(c), punct: string(c)})
			i++
		case c == '!' && i+1 < len(s) && s[i+1] == '=':
			out = append(out, token{text: "!=", punct: "!="})
			i += 2
		case c == '"' || c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, &jqlError{msg: "Error in the JQL Query: The quoted string has not been completed."}
			}
			out = append(out, token{text: b.String(), quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()=,!\"'", rune(s[j])) {
				j++
			}
			if j == i {
				return nil, &jqlError{msg: "Error in the JQL Query: unexpected character '" + string(c) + "'.", unsupported: true}
			}
			out = append(out, token{text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

// matchAll reports whether iss meets every clause.
func matchAll(iss *IssueState, cs []clause) bool {
	for _, c := range cs {
		if match(iss, c) == c.negate {
			return false
		}
	}
	return true
}

func match(iss *IssueState, c clause) bool {
	var have []string
	switch c.field {
	case "project":
		have = []string{iss.Project}
	case "labels":
		have = iss.Labels
	case "key", "issuekey":
		have = []string{iss.Key, iss.ID}
	case "status":
		have = []string{iss.StatusName}
	case "statuscategory":
		have = []string{iss.StatusCategory, categoryNames[iss.StatusCategory].name}
	case "issuetype", "type":
		have = []string{iss.IssueType}
	}
	for _, v := range c.values {
		for _, h := range have {
			if strings.EqualFold(h, v) {
				return true
			}
		}
	}
	return false
}
