// Package activities holds every side effect sitrep performs, as methods on
// Activities: reading the catalog to route an incident and resolve who is on
// call, and delivering pages through the provider clients in integrations.
// Provider errors arrive classified; here they become retryable or
// non-retryable Temporal errors, so the workflow falls back to a person's next
// channel the moment a provider says a message can never be delivered.
package activities
