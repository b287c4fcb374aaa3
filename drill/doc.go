// Package drill plays an incident out before it happens: it runs sitrep's
// real workflows in the SDK's test environment with skipped time, against a
// catalog, with every outside dependency of the activities replaced by a
// recorder. What the recorders heard, and the incident's own record, are the
// plan as it played out: who is paged when, on which channel, escalations,
// fallback, and everything else the activities send.
//
// It contacts no provider and no Temporal server; a day of incident runs in
// well under a second. `sitrep drill` prints its Result.
package drill
