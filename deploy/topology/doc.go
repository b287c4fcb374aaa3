// Package topology runs sitrep's production topology for real, with no
// Docker: PostgreSQL from Debian's packages, the Temporal server and its
// SQL tool built from the module proxy (tools/go.mod), the Temporal UI
// server (tools/ui/go.mod), two `sitrep worker` and two `sitrep serve`
// processes, set up by the same scripts and environment that
// docker-compose.yml uses. Its test is behind the "prod" build tag:
// `make test-prod` builds what it needs and runs it.
package topology
