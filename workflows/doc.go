// Package workflows holds sitrep's deterministic orchestration, the Incident
// workflow, and the names both sides share: the task queue, the incident ID
// format, the signal, update and query names, the search attributes, and
// every input and result type the starter sends and reads.
package workflows
