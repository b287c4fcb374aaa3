package worker

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/sitrep-dev/sitrep/integrations"
)

// The metadata an encrypted payload carries.
const (
	encryptedEncoding = "binary/sitrep-aes256gcm"
	metaEncoding      = "encoding"
	metaKeyID         = "sitrep-key-id"
)

// Codec encrypts every payload sitrep writes to Temporal (alerts, summaries,
// the incident's state, activity inputs and results, failure messages) with
// AES-256-GCM, so what reaches Temporal's database, a reporter's contact
// included, is unreadable without the key. The first key encrypts; every
// key decrypts, so keys can be rotated. Search attributes are not payloads:
// they stay readable, and hold no contact details.
type Codec struct {
	keys []codecKey
}

type codecKey struct {
	id   string
	aead cipher.AEAD
}

// NewCodec takes secrets of at least 32 characters; each becomes an AES-256
// key through SHA-256.
func NewCodec(secrets ...string) (*Codec, error) {
	if len(secrets) == 0 {
		return nil, errors.New("codec: no key")
	}
	c := &Codec{}
	for i, s := range secrets {
		if len(s) < 32 {
			return nil, fmt.Errorf("codec: key %d is %d characters; want at least 32", i+1, len(s))
		}
		k := sha256.Sum256([]byte(s))
		block, err := aes.NewCipher(k[:])
		if err != nil {
			return nil, fmt.Errorf("codec: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: %w", err)
		}
		id := sha256.Sum256(k[:])
		c.keys = append(c.keys, codecKey{id: hex.EncodeToString(id[:4]), aead: aead})
	}
	return c, nil
}

// CodecFromEnv builds the codec from SITREP_CODEC_KEYS (or its _FILE),
// comma-separated; nil when unset: payloads are then stored as they are.
func CodecFromEnv(getenv func(string) string) (*Codec, error) {
	s, err := integrations.ReadSecret(getenv, "SITREP_CODEC_KEYS")
	if err != nil || s == "" {
		return nil, err
	}
	var keys []string
	for _, k := range strings.Split(s.Reveal(), ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	c, err := NewCodec(keys...)
	if err != nil {
		return nil, fmt.Errorf("SITREP_CODEC_KEYS: %w", err)
	}
	return c, nil
}

// Encode encrypts each payload with the first key.
func (c *Codec) Encode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	k := c.keys[0]
	out := make([]*commonpb.Payload, len(ps))
	for i, p := range ps {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: %w", err)
		}
		nonce := make([]byte, k.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{metaEncoding: []byte(encryptedEncoding), metaKeyID: []byte(k.id)},
			Data:     k.aead.Seal(nonce, nonce, plain, nil),
		}
	}
	return out, nil
}

// Decode decrypts what Encode encrypted and passes other payloads through,
// so histories written before encryption was turned on still read.
func (c *Codec) Decode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(ps))
	for i, p := range ps {
		if string(p.GetMetadata()[metaEncoding]) != encryptedEncoding {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[metaKeyID])
		var key *codecKey
		for j := range c.keys {
			if c.keys[j].id == id {
				key = &c.keys[j]
			}
		}
		if key == nil {
			return nil, fmt.Errorf("codec: payload encrypted with key %s, which is not configured", id)
		}
		n := key.aead.NonceSize()
		if len(p.GetData()) < n {
			return nil, errors.New("codec: encrypted payload too short")
		}
		plain, err := key.aead.Open(nil, p.GetData()[:n], p.GetData()[n:], nil)
		if err != nil {
			return nil, fmt.Errorf("codec: decrypt with key %s: %w", id, err)
		}
		var dp commonpb.Payload
		if err := proto.Unmarshal(plain, &dp); err != nil {
			return nil, fmt.Errorf("codec: %w", err)
		}
		out[i] = &dp
	}
	return out, nil
}

// DataConverter wraps the default converter with c, and has failures'
// messages encrypted too.
func (c *Codec) DataConverter() (converter.DataConverter, converter.FailureConverter) {
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
	fc := temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
	return dc, fc
}

// DefaultCodecMaxBody caps a codec request's body: a few payloads, each
// under Temporal's 2 MiB payload limit.
const DefaultCodecMaxBody = 8 << 20

// CodecServerOptions configures the codec endpoint the Temporal UI and CLI
// decode payloads with.
type CodecServerOptions struct {
	// Token is the bearer token every request must carry ("Authorization:
	// Bearer TOKEN"; the CLI's --codec-auth). Empty: no token is asked
	// for, which only a loopback address may serve (see CodecAddrNeedsToken).
	Token integrations.Secret
	// Origin is the Temporal UI's origin, allowed to call the endpoint from
	// the browser. No credentials (cookies) are allowed cross-origin.
	Origin string
	// MaxBody caps a request body; default DefaultCodecMaxBody.
	MaxBody int64
	// Logger logs refused requests; none when nil.
	Logger *slog.Logger
}

// CodecHandler serves c as a remote codec (POST /encode, POST /decode), with
// a bearer token, a body cap and CORS for the UI's origin only.
func (c *Codec) CodecHandler(opts CodecServerOptions) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultCodecMaxBody
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	inner := converter.NewPayloadCodecHTTPHandler(c)
	want := sha256.Sum256([]byte(opts.Token.Reveal()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if opts.Origin != "" && r.Header.Get("Origin") == opts.Origin {
			h.Set("Access-Control-Allow-Origin", opts.Origin)
			h.Set("Access-Control-Allow-Headers", "Content-Type,X-Namespace,Authorization")
			h.Set("Access-Control-Allow-Methods", "POST,OPTIONS")
			h.Set("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent) // a preflight carries no token
			return
		}
		if opts.Token != "" {
			scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
			if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
				opts.Logger.Warn("codec request refused: no valid bearer token", "path", r.URL.Path, "remoteAddr", r.RemoteAddr)
				h.Set("WWW-Authenticate", `Bearer realm="sitrep codec"`)
				http.Error(w, "codec: missing or wrong bearer token", http.StatusUnauthorized)
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, opts.MaxBody)
		inner.ServeHTTP(w, r)
	})
}

// CodecAddrNeedsToken reports whether a codec endpoint listening on addr
// (host:port) can be reached from other machines, and so must ask for a
// token: any address but localhost and loopback IPs.
func CodecAddrNeedsToken(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// CodecTokenFromEnv reads SITREP_CODEC_TOKEN (or its _FILE).
func CodecTokenFromEnv(getenv func(string) string) (integrations.Secret, error) {
	t, err := integrations.ReadSecret(getenv, "SITREP_CODEC_TOKEN")
	if err == nil && t != "" && len(t) < 16 {
		return "", errors.New("SITREP_CODEC_TOKEN: shorter than 16 characters")
	}
	return t, err
}
