package starter

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitrep-dev/sitrep/catalog"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestIntakeConfigFromEnv(t *testing.T) {
	cfg, err := IntakeConfigFromEnv(env(map[string]string{
		"SITREP_INTAKE_KEYS": "alertmanager:am-key-0123456789abcdef,generic:gen-key-0123456789abc@payments|refunds," +
			"pagerduty:e93facc04764012d7bfb002500d5d1a6@checkout",
		"TWILIO_AUTH_TOKEN":                "primary-token-0123456789",
		"SITREP_TWILIO_EXTRA_AUTH_TOKENS":  "secondary-token-0123456789",
		"SLACK_SIGNING_SECRET":             "slack-new-0123456789, slack-old-0123456789",
		"PAGERDUTY_WEBHOOK_SECRET":         "pd-secret-0123456789",
		"SITREP_PAGERDUTY_SERVICES":        "PSVC001, PSVC002",
		"SITREP_OPEN_REPORTS_MAX_SEVERITY": "sev2",
		"SITREP_REPORT_RATE_PER_ADDRESS":   "3/1m",
		"SITREP_ALERT_RATE":                "500/1s",
		"SITREP_CLIENT_ADDRESS_HEADER":     "X-Forwarded-For",
	}))
	require.NoError(t, err)
	assert.Equal(t, []Key{{Value: "am-key-0123456789abcdef"}}, cfg.Keys[IntegrationAlertmanager])
	assert.Equal(t, []Key{{Value: "gen-key-0123456789abc", Services: []string{"payments", "refunds"}}}, cfg.Keys[IntegrationGeneric])
	assert.Equal(t, []Key{{Value: "e93facc04764012d7bfb002500d5d1a6", Service: "checkout"}}, cfg.Keys[IntegrationPagerDuty])
	assert.Equal(t, []string{"primary-token-0123456789", "secondary-token-0123456789"}, cfg.TwilioAuthTokens)
	assert.Equal(t, []string{"slack-new-0123456789", "slack-old-0123456789"}, cfg.SlackSigningSecrets)
	assert.Equal(t, []string{"PSVC001", "PSVC002"}, cfg.PagerDutyServices)
	assert.Equal(t, catalog.SEV2, cfg.OpenReportsMaxSeverity)
	assert.Equal(t, RateLimit{PerAddress: Rate{N: 3, Per: time.Minute}, Overall: DefaultReportRate.Overall}, cfg.ReportRate)
	assert.Equal(t, RateLimit{Overall: Rate{N: 500, Per: time.Second}}, cfg.AlertRate)
	assert.Equal(t, "X-Forwarded-For", cfg.ClientAddressHeader)

	cfg, err = IntakeConfigFromEnv(env(nil))
	require.NoError(t, err)
	assert.Equal(t, DefaultReportRate, cfg.ReportRate, "reports are limited by default")
	assert.Equal(t, RateLimit{}, cfg.AlertRate, "alerts are not")
	assert.Empty(t, cfg.TwilioAuthTokens)

	_, err = IntakeConfigFromEnv(env(map[string]string{
		"SITREP_INTAKE_KEYS":               "generic:gen-key-0123456789abc@",
		"SITREP_OPEN_REPORTS_MAX_SEVERITY": "SEV0",
		"SITREP_REPORT_RATE":               "lots",
		"SITREP_ALERT_RATE_PER_ADDRESS":    "5/never",
	}))
	require.Error(t, err)
	for _, want := range []string{
		"SITREP_INTAKE_KEYS: entry 1: no service after @",
		`SITREP_OPEN_REPORTS_MAX_SEVERITY: "SEV0" is not SEV1..SEV4`,
		`SITREP_REPORT_RATE: "lots" is not N/DURATION like 5/1m`,
		`SITREP_ALERT_RATE_PER_ADDRESS: "5/never" is not N/DURATION`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestNewIntakeSecurityValidation(t *testing.T) {
	_, err := NewIntake(IntakeConfig{
		Keys: map[string][]Key{
			IntegrationGeneric:   {{Value: "long-enough-key-0001", Services: []string{"payments", " "}}},
			IntegrationPagerDuty: {{Value: "long-enough-key-0002", Service: "checkout", Services: []string{"checkout"}}},
		},
		OpenReportsMaxSeverity:  "SEV9",
		PagerDutyWebhookSecrets: []string{"pd-secret-0123456789", ""},
		AlertRate:               RateLimit{PerAddress: Rate{N: -1, Per: time.Second}},
	}, newFake(), slog.Default())
	require.Error(t, err)
	for _, want := range []string{
		`keys.generic[0].services[1]: " " is not a service name`,
		"keys.pagerduty[0]: services: a routing key belongs to its one service already",
		`openReportsMaxSeverity: "SEV9" is not SEV1..SEV4`,
		"pagerDutyServices: needed with PagerDuty webhook secrets",
		"pagerDutyWebhookSecrets[1]: empty",
		"alertRate: negative",
	} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestRateLimiter(t *testing.T) {
	l := newLimiter(RateLimit{PerAddress: Rate{N: 2, Per: time.Minute}, Overall: Rate{N: 3, Per: time.Minute}})
	now := testNow
	for i, tt := range []struct {
		addr      string
		at        time.Duration
		ok        bool
		wantScope string
		wantRetry time.Duration
	}{
		{"a", 0, true, "", 0},
		{"a", 0, true, "", 0},
		{"a", 0, false, "address", 30 * time.Second}, // a's two are spent; one comes back every 30s
		{"b", 0, true, "", 0},
		{"c", 0, false, "overall", 20 * time.Second}, // three overall are spent; one every 20s
		{"c", 20 * time.Second, true, "", 0},
		{"a", 30 * time.Second, false, "overall", 10 * time.Second}, // a earned one back, but the overall bucket did not yet
		{"a", 40 * time.Second, true, "", 0},
		{"a", 40 * time.Second, false, "address", 20 * time.Second}, // a has a third of a token
	} {
		ok, retry, scope := l.allow(tt.addr, now.Add(tt.at))
		assert.Equal(t, tt.ok, ok, "request %d", i)
		assert.Equal(t, tt.wantScope, scope, "request %d", i)
		assert.InDelta(t, tt.wantRetry.Seconds(), retry.Seconds(), 0.001, "request %d", i)
	}
	var none *limiter
	ok, _, _ := none.allow("a", now)
	assert.True(t, ok, "no limiter, no limit")
	assert.Equal(t, "30", retryAfterSeconds(29100*time.Millisecond), "Retry-After rounds up")
	assert.Equal(t, "1", retryAfterSeconds(time.Millisecond))
}

func TestRateLimiterForgetsQuietAddresses(t *testing.T) {
	l := newLimiter(RateLimit{PerAddress: Rate{N: 1, Per: time.Second}})
	for i := range maxTrackedAddresses {
		l.allow(string(rune(i)), testNow)
	}
	require.Len(t, l.addrs, maxTrackedAddresses)
	ok, _, _ := l.allow("new", testNow.Add(time.Minute))
	assert.True(t, ok)
	assert.Len(t, l.addrs, 1, "refilled buckets were forgotten")
}
