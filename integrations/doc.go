// Package integrations holds what every provider client shares: the classified
// Error each one returns. One client per provider lives in a subfolder, each with
// its Config, New, one error classifier and a fake server that speaks the
// provider's real HTTP API. Nothing here imports Temporal.
package integrations
