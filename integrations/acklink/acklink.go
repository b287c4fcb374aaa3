// Package acklink makes and checks the signed links that let a paged person
// acknowledge from an SMS, an email or a chat message: HMAC-SHA256 over the
// incident, the person and an expiry, so a link acts for one person on one
// incident, for a while, and cannot be forged or altered.
package acklink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors Verify returns.
var (
	ErrMalformed = errors.New("malformed acknowledge token")
	ErrSignature = errors.New("acknowledge token signature does not match")
	ErrExpired   = errors.New("acknowledge token expired")
)

// DefaultTTL is how long a link works unless configured otherwise: long
// enough to answer a page, short enough that a link that leaked (a forwarded
// mail, a mail scanner's or a click tracker's log) soon stops working.
const DefaultTTL = 4 * time.Hour

// Signer makes and checks tokens. Keys[0] signs; every key verifies, so a key
// can be rotated without breaking links already sent.
type Signer struct {
	Keys    [][]byte
	BaseURL string        // the intake's public URL, e.g. https://sitrep.example.com
	TTL     time.Duration // how long a link works
}

// Claims is what a token says.
type Claims struct {
	Incident string
	Person   string
	Expires  time.Time
}

// New returns a Signer; it needs at least one key of 32 bytes or more.
func New(baseURL string, ttl time.Duration, keys ...[]byte) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("acklink: no signing key")
	}
	for i, k := range keys {
		if len(k) < 32 {
			return nil, fmt.Errorf("acklink: key %d is %d bytes, want at least 32", i+1, len(k))
		}
	}
	if ttl <= 0 {
		return nil, errors.New("acklink: ttl must be positive")
	}
	return &Signer{Keys: keys, BaseURL: strings.TrimSuffix(baseURL, "/"), TTL: ttl}, nil
}

// Token signs a token for person on incident, valid from now for the TTL.
func (s *Signer) Token(incident, person string, now time.Time) string {
	payload := enc(incident) + "." + enc(person) + "." + strconv.FormatInt(now.Add(s.TTL).Unix(), 10)
	return payload + "." + sign(s.Keys[0], payload)
}

// AckURL is the link a message carries: GET shows the incident, POST acknowledges.
func (s *Signer) AckURL(incident, person string) string {
	return s.BaseURL + "/ack/" + s.Token(incident, person, time.Now())
}

// Verify checks a token's signature against every key, then its expiry.
func (s *Signer) Verify(token string, now time.Time) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 4 {
		return Claims{}, ErrMalformed
	}
	payload := strings.Join(parts[:3], ".")
	ok := false
	for _, k := range s.Keys {
		if hmac.Equal([]byte(sign(k, payload)), []byte(parts[3])) {
			ok = true
		}
	}
	if !ok {
		return Claims{}, ErrSignature
	}
	inc, err1 := dec(parts[0])
	person, err2 := dec(parts[1])
	exp, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return Claims{}, ErrMalformed
	}
	c := Claims{Incident: inc, Person: person, Expires: time.Unix(exp, 0)}
	if !now.Before(c.Expires) {
		return c, ErrExpired
	}
	return c, nil
}

func sign(key []byte, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func dec(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return string(b), err
}
