// Package jira opens tracker tickets on Jira Cloud (REST API v3, plain
// net/http: no Jira Go SDK is available) and reads their status, classifies
// every failure into an integrations.Error, and offers a Fake that speaks the
// same API for tests and the sandbox.
//
// Jira has no idempotency key. Every issue the client opens carries the label
// MarkerLabel(marker); before creating, the client searches for that label
// with the current search endpoint (/rest/api/3/search/jql) and returns the
// issue it finds. That search is eventually consistent, so an issue created
// moments before may be missed: a rare duplicate remains possible.
package jira
