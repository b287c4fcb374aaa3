package starter

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/workflows"
)

// IntakeConfigFromEnv reads the intake's configuration from the environment
// and reports every bad variable at once. Secrets come from the variable or
// its _FILE twin, never from flags:
//
//	SITREP_INTAKE_KEYS(_FILE)      integration:key pairs, comma or newline separated, e.g.
//	                               alertmanager:K1,alertmanager:K2,grafana:K3,pagerduty:ROUTINGKEY@checkout
//	SITREP_PUBLIC_URL              the intake's public URL (Twilio signs it; links point at it)
//	TWILIO_AUTH_TOKEN(_FILE)       verifies Twilio's webhooks (SMS replies, keypresses)
//	SLACK_SIGNING_SECRET(_FILE)    verifies Slack's button clicks
//	PAGERDUTY_WEBHOOK_SECRET(_FILE) verifies PagerDuty v3 webhooks; comma-separated for rotation
//	SITREP_PAGERDUTY_USERS         PagerDuty user ID=handle pairs, comma separated
//	SITREP_SERVICE_LABEL, SITREP_SEVERITY_LABEL, SITREP_DEDUP_LABELS (comma separated)
//	SITREP_ON_SOURCE_RESOLVED      mitigate (default) or resolve
//	SITREP_OPEN_REPORTS            true: take stakeholder reports without a key
//
// People, RecentPages and AckLinks are the caller's to set.
func IntakeConfigFromEnv(getenv func(string) string) (IntakeConfig, error) {
	var errs []error
	secret := func(name string) string {
		s, err := integrations.ReadSecret(getenv, name)
		if err != nil {
			errs = append(errs, err)
		}
		return s.Reveal()
	}
	cfg := IntakeConfig{
		Keys:               map[string][]Key{},
		PublicURL:          strings.TrimSuffix(getenv("SITREP_PUBLIC_URL"), "/"),
		TwilioAuthToken:    secret("TWILIO_AUTH_TOKEN"),
		SlackSigningSecret: secret("SLACK_SIGNING_SECRET"),
		ServiceLabel:       getenv("SITREP_SERVICE_LABEL"),
		SeverityLabel:      getenv("SITREP_SEVERITY_LABEL"),
		PagerDutyUsers:     map[string]string{},
	}
	for _, s := range splitList(secret("PAGERDUTY_WEBHOOK_SECRET")) {
		cfg.PagerDutyWebhookSecrets = append(cfg.PagerDutyWebhookSecrets, s)
	}
	for i, item := range splitList(secret("SITREP_INTAKE_KEYS")) {
		integration, key, ok := strings.Cut(item, ":")
		if !ok || key == "" {
			errs = append(errs, fmt.Errorf("SITREP_INTAKE_KEYS: entry %d is not integration:key", i+1))
			continue
		}
		k := Key{Value: key}
		if integration == IntegrationPagerDuty {
			k.Value, k.Service, _ = strings.Cut(key, "@")
		}
		cfg.Keys[integration] = append(cfg.Keys[integration], k)
	}
	for _, pair := range splitList(getenv("SITREP_PAGERDUTY_USERS")) {
		id, handle, ok := strings.Cut(pair, "=")
		if !ok || id == "" || handle == "" {
			errs = append(errs, fmt.Errorf("SITREP_PAGERDUTY_USERS: %q is not USERID=handle", pair))
			continue
		}
		cfg.PagerDutyUsers[id] = handle
	}
	cfg.DedupLabels = splitList(getenv("SITREP_DEDUP_LABELS"))
	switch v := getenv("SITREP_ON_SOURCE_RESOLVED"); v {
	case "", "mitigate":
		cfg.AllResolved = workflows.Mitigated
	case "resolve":
		cfg.AllResolved = workflows.Resolved
	default:
		errs = append(errs, fmt.Errorf("SITREP_ON_SOURCE_RESOLVED: %q is not mitigate or resolve", v))
	}
	if v := getenv("SITREP_OPEN_REPORTS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("SITREP_OPEN_REPORTS: %q is not true or false", v))
		}
		cfg.OpenReports = b
	}
	return cfg, errors.Join(errs...)
}

func splitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' })
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	return slices.DeleteFunc(f, func(s string) bool { return s == "" })
}
