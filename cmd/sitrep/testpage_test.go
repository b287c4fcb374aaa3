package main

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations/twilio"
	"github.com/sitrep-dev/sitrep/sandbox"
)

// sandboxEnv serves the providers' fakes and returns the environment that
// points sitrep at them.
func sandboxEnv(t *testing.T) (*sandbox.Sandbox, map[string]string) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	get := sb.Env(srv.URL, nil)
	env := map[string]string{"SITREP_CATALOG": exampleCatalog}
	for _, k := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_BASE_URL", "SENDGRID_API_KEY",
		"SENDGRID_FROM", "SENDGRID_BASE_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_BASE_URL", "PAGERDUTY_EVENTS_URL"} {
		env[k] = get(k)
	}
	return sb, env
}

func TestCLITestPage(t *testing.T) {
	c, err := catalog.Load(exampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	sb, env := sandboxEnv(t)
	bob := c.People["bob"]

	t.Run("first contact", func(t *testing.T) {
		if bob.Contacts[0].Channel != catalog.SMS {
			t.Fatalf("the example's bob is no longer reached by sms first: %+v", bob.Contacts)
		}
		r := sitrepEnv(t, nil, env, "test-page", "bob")
		got := sb.Twilio.ExpectSMS(t, bob.Contacts[0].Address, "TEST from sitrep for bob")
		if r.code != 0 || r.stdout != "test sms to bob delivered: provider id "+got.SID+"\n" {
			t.Errorf("exit %d, stdout %q, stderr %q; want the id %s", r.code, r.stdout, r.stderr, got.SID)
		}
		if !strings.Contains(got.Body, "not an incident") {
			t.Errorf("the SMS does not say it is a test: %q", got.Body)
		}
	})
	t.Run("email, json", func(t *testing.T) {
		to, _ := c.Address("grace", catalog.Email)
		r := sitrepEnv(t, nil, env, "test-page", "grace", "--channel", "email", "-o", "json")
		mail := sb.SendGrid.ExpectEmail(t, to, "TEST from sitrep for grace")
		var res testPageResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 || !res.Delivered || res.Channel != "email" {
			t.Errorf("exit %d, %+v (%v), mail %+v", r.code, res, err, mail)
		}
	})
	t.Run("refused", func(t *testing.T) {
		sb.Twilio.Faults.FailNext(twilio.ErrorFault(21211))
		r := sitrepEnv(t, nil, env, "test-page", "bob", "-o", "json")
		var res testPageResult
		_ = json.Unmarshal([]byte(r.stdout), &res)
		if r.code != exitError || res.Delivered || res.Error == "" || !strings.Contains(r.stderr, "test sms to bob not delivered") {
			t.Errorf("exit %d, %+v, stderr %q; want exit 1 and the provider's error", r.code, res, r.stderr)
		}
	})
	t.Run("no provider", func(t *testing.T) {
		r := sitrepEnv(t, nil, map[string]string{"SITREP_CATALOG": exampleCatalog}, "test-page", "bob")
		if r.code != exitError || !strings.Contains(r.stderr, "no provider is configured for sms") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown person", []string{"nobody"}, `"nobody" is not a person in the catalog`},
		{"no such contact", []string{"grace", "--channel", "sms"}, `grace has no "sms" contact (they have: email, chat)`},
		{"no person", nil, "want one PERSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := sitrepEnv(t, nil, env, append([]string{"test-page"}, tt.args...)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, exitUsage, tt.want)
			}
		})
	}
}
