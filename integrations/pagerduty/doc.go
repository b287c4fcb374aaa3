// Package pagerduty pages people through the PagerDuty Events API v2 and
// reads PagerDuty's v3 webhooks, built on github.com/PagerDuty/go-pagerduty.
//
// A routing key (a service's integration key) belongs to a person or service
// in sitrep's catalog, so every call takes it as an argument. The dedup key is
// always the sitrep incident ID: a retried trigger folds into the same alert,
// and acknowledge and resolve find it again.
//
// Every failure is one *integrations.Error, built by classify. Fake speaks the
// Events API (POST /v2/enqueue) and signs webhook v3 deliveries, so tests and
// the sandbox need no network.
package pagerduty
