package acklink

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	old := []byte(strings.Repeat("o", 32))
	s, err := New("https://sitrep.example.com/", time.Hour, key, old)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	good := s.Token("inc-checkout-1a2b3c4d", "alice", now)
	oldSigner, _ := New("", time.Hour, old)
	rotated := oldSigner.Token("inc-checkout-1a2b3c4d", "alice", now)
	otherKey, _ := New("", time.Hour, []byte(strings.Repeat("x", 32)))
	forged := otherKey.Token("inc-checkout-1a2b3c4d", "alice", now)
	parts := strings.Split(good, ".")
	parts[1] = enc("mallory")
	tampered := strings.Join(parts, ".")

	tests := []struct {
		name  string
		token string
		at    time.Time
		want  error
	}{
		{"valid", good, now.Add(59 * time.Minute), nil},
		{"signed with the previous key", rotated, now, nil},
		{"expired", good, now.Add(time.Hour), ErrExpired},
		{"person swapped", tampered, now, ErrSignature},
		{"signed with an unknown key", forged, now, ErrSignature},
		{"garbage", "abc", now, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.Verify(tt.token, tt.at)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify: got %v, want %v", err, tt.want)
			}
			if err == nil && (c.Incident != "inc-checkout-1a2b3c4d" || c.Person != "alice") {
				t.Fatalf("claims = %+v", c)
			}
		})
	}
	if u := s.AckURL("i", "p"); !strings.HasPrefix(u, "https://sitrep.example.com/ack/") {
		t.Fatalf("AckURL = %q", u)
	}
	if _, err := New("", time.Hour, []byte("short")); err == nil {
		t.Fatal("New accepted a 5-byte key")
	}
}
