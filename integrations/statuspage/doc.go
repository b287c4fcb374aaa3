// Package statuspage opens, updates and resolves incidents on an Atlassian
// Statuspage page through its REST API (plain net/http: there is no official
// Go SDK), classifies every failure into an integrations.Error, and offers a
// Fake that speaks the same API for tests and the sandbox.
//
// Statuspage has no idempotency key. The client tags every incident it opens
// with the sitrep incident ID in metadata.sitrep.incident_id, and before
// creating it lists the page's unresolved incidents and returns the one
// carrying that marker, so a retried CreateIncident never opens a second one.
//
// A catalog names components as customers see them ("Checkout");
// ComponentIDs turns those names into the page's component IDs.
package statuspage
