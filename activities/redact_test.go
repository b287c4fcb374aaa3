package activities

import "testing"

func TestProviderErrorsKeepContactsOutOfHistory(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"twilio: permanent error (http 400) code 21211: The 'To' number +15550100001 is not a valid phone number.",
			"twilio: permanent error (http 400) code 21211: The 'To' number [redacted] is not a valid phone number."},
		{"smtp: permanent error code 550: 5.1.1 <bob@example.com>: user unknown", "smtp: permanent error code 550: 5.1.1 <[redacted]>: user unknown"},
		{"sendgrid: transient error (http 503)", "sendgrid: transient error (http 503)"},
		{"smtp: transient error code 451: 4.3.0 try again at 2026-11-25 04:00, dial tcp 10.0.0.7:25",
			"smtp: transient error code 451: 4.3.0 try again at 2026-11-25 04:00, dial tcp 10.0.0.7:25"},
		{"post https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json for inc-db-01-1a2b3c4d",
			"post https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json for inc-db-01-1a2b3c4d"},
	} {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
