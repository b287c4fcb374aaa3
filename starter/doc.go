// Package starter is how the outside world starts and talks to incidents: the
// Go API the CLI uses (alert, acknowledge, escalate, mitigate, resolve,
// status, list) and, in later issues, the HTTP intake. It knows the workflows
// only by their shared names and types.
package starter
