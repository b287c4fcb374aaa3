package integrations

import "testing"

func TestEmailValidate(t *testing.T) {
	good := Email{To: []string{"a@example.com"}, Subject: "s", Text: "t"}
	if err := good.Validate(); err != nil {
		t.Fatalf("good email: %v", err)
	}
	tests := []struct {
		name string
		mod  func(*Email)
	}{
		{"no recipient", func(e *Email) { e.To = nil }},
		{"named recipient", func(e *Email) { e.To = []string{"A <a@example.com>"} }},
		{"not an address", func(e *Email) { e.To = []string{"alice"} }},
		{"empty subject", func(e *Email) { e.Subject = " " }},
		{"subject with newline", func(e *Email) { e.Subject = "a\r\nBcc: x@y.z" }},
		{"incident with newline", func(e *Email) { e.IncidentID = "inc\nX: y" }},
		{"no body", func(e *Email) { e.Text = "" }},
		{"attachment without name", func(e *Email) { e.Attachments = []Attachment{{ContentType: "text/plain"}} }},
		{"attachment without type", func(e *Email) { e.Attachments = []Attachment{{Filename: "a.ics"}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good
			tt.mod(&e)
			if err := e.Validate(); err == nil {
				t.Error("Validate accepted it")
			}
		})
	}
}
