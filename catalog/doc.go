// Package catalog is sitrep's on-call configuration: people and how to reach
// them, rotations, teams, the services they own, escalation policies, the
// severity policy and stakeholder groups.
//
// Load reads it from one YAML file or a directory of them (examples/catalog.yaml
// documents the layout) and validates all of it at once: every mistake is
// reported, each prefixed with its file and line. A loaded Catalog answers the
// questions the incident workflows ask through their activities: where an
// alert goes (Route), who a level of an escalation policy pages and on which
// channels (Recipients), who is on call (OnCall), who may acknowledge
// (Responders) and how to reach someone (Address).
//
// The package imports nothing else of sitrep.
package catalog
