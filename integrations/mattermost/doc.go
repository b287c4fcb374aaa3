// Package mattermost posts incident messages with buttons, edits them (a
// post's patch), sends direct messages, opens war-room channels and invites
// responders through
// Mattermost's REST API v4, with plain net/http.
//
// Mattermost does not sign button clicks: it POSTs the button's Context to
// the button's URL. Put a token the app can check (a signed link) in the
// Context or the URL. Fake speaks the endpoints Client uses and can click a
// button as Mattermost does.
//
// Every failure is one *integrations.Error, built by classify from
// Mattermost's error body {"id":"...","message":"...","status_code":N}.
package mattermost
