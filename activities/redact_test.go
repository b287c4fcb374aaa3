package activities

import "testing"

func TestProviderErrorsKeepContactsOutOfHistory(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"twilio: permanent error (http 400) code 21211: The 'To' number +15550100001 is not a valid phone number.",
			"twilio: permanent error (http 400) code 21211: The 'To' number [redacted] is not a valid phone number."},
		{"smtp: permanent error code 550: 5.1.1 <bob@example.com>: user unknown", "smtp: permanent error code 550: 5.1.1 <[redacted]>: user unknown"},
		{"sendgrid: transient error (http 503)", "sendgrid: transient error (http 503)"},
	} {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
