// Package video gives each incident's war room a video bridge link. A
// Bridge is either a Template (a Jitsi-style URL with an {incident}
// placeholder, no API call) or a Client for Zoom (server-to-server OAuth,
// POST /v2/users/me/meetings). FromEnv picks one from the environment.
//
// Zoom has no idempotency key. The client writes "sitrep incident <marker>"
// as the meeting's agenda and, before creating, lists the user's scheduled
// meetings and returns the join URL of one already carrying that agenda. The
// Fake speaks Zoom's token and meetings endpoints for tests and the sandbox.
package video
