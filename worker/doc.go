// Package worker is sitrep's composition root: it turns configuration into
// the catalog, provider clients and templates, registers the Incident
// workflow and the activities, and runs the Temporal worker.
package worker
