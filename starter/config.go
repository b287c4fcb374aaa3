package starter

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sitrep-dev/sitrep/catalog"
	"github.com/sitrep-dev/sitrep/integrations"
	"github.com/sitrep-dev/sitrep/workflows"
)

// IntakeConfigFromEnv reads the intake's configuration from the environment
// and reports every bad variable at once. Secrets come from the variable or
// its _FILE twin, never from flags:
//
//	SITREP_INTAKE_KEYS(_FILE)      integration:key pairs, comma or newline separated, e.g.
//	                               alertmanager:K1,alertmanager:K2,grafana:K3,pagerduty:ROUTINGKEY@checkout;
//	                               generic:K4@payments|refunds scopes a key to those services
//	SITREP_PUBLIC_URL              the intake's public URL (Twilio signs it; links point at it)
//	TWILIO_AUTH_TOKEN(_FILE)       verifies Twilio's webhooks (SMS replies, keypresses)
//	SITREP_TWILIO_EXTRA_AUTH_TOKENS(_FILE) more auth tokens Twilio's webhooks may be signed with,
//	                               comma separated: the other token while one is rotated
//	SLACK_SIGNING_SECRET(_FILE)    verifies Slack's button clicks and slash commands; comma-separated for rotation
//	MATTERMOST_COMMAND_TOKEN(_FILE) verifies Mattermost's /sitrep slash command; comma-separated for rotation
//	PAGERDUTY_WEBHOOK_SECRET(_FILE) verifies PagerDuty v3 webhooks; comma-separated for rotation
//	SITREP_PAGERDUTY_SERVICES      the PagerDuty service IDs sitrep pages into, comma separated;
//	                               required with PAGERDUTY_WEBHOOK_SECRET
//	SITREP_PAGERDUTY_USERS         PagerDuty user ID=handle pairs, comma separated
//	SITREP_SERVICE_LABEL, SITREP_SEVERITY_LABEL, SITREP_DEDUP_LABELS (comma separated)
//	SITREP_ON_SOURCE_RESOLVED      mitigate (default) or resolve
//	SITREP_OPEN_REPORTS            true: take stakeholder reports without a key
//	SITREP_OPEN_REPORTS_MAX_SEVERITY the most severe a report without a key may be (default SEV3)
//	SITREP_REPORT_RATE, SITREP_REPORT_RATE_PER_ADDRESS  reports without a key, as N/DURATION
//	                               (default 60/1m overall, 5/1m per client address)
//	SITREP_ALERT_RATE, SITREP_ALERT_RATE_PER_ADDRESS    requests with a key (default: no limit)
//	SITREP_CLIENT_ADDRESS_HEADER   behind a reverse proxy: the header it appends the client's
//	                               address to (e.g. X-Forwarded-For), for the per-address limits
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
		Keys:                map[string][]Key{},
		PublicURL:           strings.TrimSuffix(getenv("SITREP_PUBLIC_URL"), "/"),
		SlackSigningSecrets: splitList(secret("SLACK_SIGNING_SECRET")),
		ServiceLabel:        getenv("SITREP_SERVICE_LABEL"),
		SeverityLabel:       getenv("SITREP_SEVERITY_LABEL"),
		PagerDutyUsers:      map[string]string{},
		PagerDutyServices:   splitList(getenv("SITREP_PAGERDUTY_SERVICES")),
		ClientAddressHeader: strings.TrimSpace(getenv("SITREP_CLIENT_ADDRESS_HEADER")),
	}
	if t := secret("TWILIO_AUTH_TOKEN"); t != "" {
		cfg.TwilioAuthTokens = append(cfg.TwilioAuthTokens, t)
	}
	cfg.TwilioAuthTokens = append(cfg.TwilioAuthTokens, splitList(secret("SITREP_TWILIO_EXTRA_AUTH_TOKENS"))...)
	cfg.PagerDutyWebhookSecrets = splitList(secret("PAGERDUTY_WEBHOOK_SECRET"))
	cfg.MattermostCommandTokens = splitList(secret("MATTERMOST_COMMAND_TOKEN"))
	for i, item := range splitList(secret("SITREP_INTAKE_KEYS")) {
		integration, key, ok := strings.Cut(item, ":")
		if !ok || key == "" {
			errs = append(errs, fmt.Errorf("SITREP_INTAKE_KEYS: entry %d is not integration:key", i+1))
			continue
		}
		k := Key{Value: key}
		value, services, scoped := strings.Cut(key, "@")
		switch {
		case integration == IntegrationPagerDuty:
			k.Value, k.Service = value, services
		case scoped && services == "":
			errs = append(errs, fmt.Errorf("SITREP_INTAKE_KEYS: entry %d: no service after @", i+1))
			continue
		case scoped:
			k.Value = value
			for svc := range strings.SplitSeq(services, "|") {
				k.Services = append(k.Services, strings.TrimSpace(svc))
			}
		}
		cfg.Keys[integration] = append(cfg.Keys[integration], k)
	}
	rate := func(name string, into *Rate) {
		r, err := ParseRate(getenv(name))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		*into = r
	}
	rate("SITREP_REPORT_RATE", &cfg.ReportRate.Overall)
	rate("SITREP_REPORT_RATE_PER_ADDRESS", &cfg.ReportRate.PerAddress)
	if getenv("SITREP_REPORT_RATE") == "" && getenv("SITREP_REPORT_RATE_PER_ADDRESS") == "" {
		cfg.ReportRate = DefaultReportRate
	} else if getenv("SITREP_REPORT_RATE") == "" {
		cfg.ReportRate.Overall = DefaultReportRate.Overall
	} else if getenv("SITREP_REPORT_RATE_PER_ADDRESS") == "" {
		cfg.ReportRate.PerAddress = DefaultReportRate.PerAddress
	}
	rate("SITREP_ALERT_RATE", &cfg.AlertRate.Overall)
	rate("SITREP_ALERT_RATE_PER_ADDRESS", &cfg.AlertRate.PerAddress)
	if v := strings.TrimSpace(getenv("SITREP_OPEN_REPORTS_MAX_SEVERITY")); v != "" {
		cfg.OpenReportsMaxSeverity = catalog.Severity(strings.ToUpper(v))
		if !isSeverity(cfg.OpenReportsMaxSeverity) {
			errs = append(errs, fmt.Errorf("SITREP_OPEN_REPORTS_MAX_SEVERITY: %q is not SEV1..SEV4", v))
		}
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
