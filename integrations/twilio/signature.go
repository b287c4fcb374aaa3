package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"slices"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/sitrep-dev/sitrep/integrations"
)

// SignatureHeader is the header in which Twilio signs its webhooks.
const SignatureHeader = "X-Twilio-Signature"

// VerifySignature reports whether signature is Twilio's X-Twilio-Signature
// for a form POST to fullURL, the URL exactly as Twilio called it (scheme,
// host, port, path and query: behind a proxy, build it from the public base
// URL, not from r.Host). It uses twilio-go's RequestValidator, which reads the
// first value of each form key.
func VerifySignature(authToken integrations.Secret, fullURL string, form url.Values, signature string) bool {
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) > 0 {
			params[k] = vs[0]
		}
	}
	v := twclient.NewRequestValidator(authToken.Reveal())
	return v.Validate(fullURL, params, signature)
}

// VerifySignatureAny reports whether signature verifies under any one of
// tokens, so that an auth token can be rotated (Twilio's secondary token
// promoted to primary) without refusing a webhook signed with the other.
// Empty tokens are skipped; with none, nothing verifies.
func VerifySignatureAny(tokens []integrations.Secret, fullURL string, form url.Values, signature string) bool {
	ok := false
	for _, t := range tokens {
		if t != "" && VerifySignature(t, fullURL, form, signature) {
			ok = true
		}
	}
	return ok
}

// Sign computes the X-Twilio-Signature Twilio sends with a form POST to
// fullURL: base64(HMAC-SHA1(authToken, fullURL + each key and value, keys sorted)).
func Sign(authToken integrations.Secret, fullURL string, form url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken.Reveal()))
	mac.Write([]byte(fullURL))
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range form[k] {
			mac.Write([]byte(k + v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
