package worker

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

func TestCodec(t *testing.T) {
	oldKey, newKey := strings.Repeat("o", 32), strings.Repeat("n", 32)
	old, err := NewCodec(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := NewCodec(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"contact": "+15550100001"})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := old.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc[0].GetData(), []byte("15550100001")) {
		t.Fatal("encrypted payload holds the plaintext")
	}
	// After rotation, payloads written with the old key still read.
	dec, err := rotated.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dec[0].GetData(), plain.GetData()) || string(dec[0].GetMetadata()["encoding"]) != "json/plain" {
		t.Fatalf("round trip: %v", dec[0])
	}
	// Payloads written before encryption was turned on pass through.
	if dec, err := old.Decode([]*commonpb.Payload{plain}); err != nil || dec[0] != plain {
		t.Fatalf("plain payload: %v %v", dec, err)
	}
	// A key that is gone, or a payload tampered with, is an error, not garbage.
	onlyNew, _ := NewCodec(newKey)
	if _, err := onlyNew.Decode(enc); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("unknown key: %v", err)
	}
	enc[0].Data[len(enc[0].Data)-1] ^= 1
	if _, err := old.Decode(enc); err == nil {
		t.Fatal("tampered payload decoded")
	}
	if _, err := NewCodec("short"); err == nil {
		t.Fatal("short key accepted")
	}
	c, err := CodecFromEnv(func(k string) string {
		return map[string]string{"SITREP_CODEC_KEYS": newKey + ", " + oldKey}[k]
	})
	if err != nil || len(c.keys) != 2 {
		t.Fatalf("from env: %v %v", c, err)
	}
	if c, err := CodecFromEnv(func(string) string { return "" }); c != nil || err != nil {
		t.Fatalf("unset: %v %v", c, err)
	}
}

func TestCodecHandler(t *testing.T) {
	codec, err := NewCodec(strings.Repeat("k", 32))
	if err != nil {
		t.Fatal(err)
	}
	const token = "codec-token-0123456789"
	logs := &lockedBuffer{}
	srv := httptest.NewServer(codec.CodecHandler(CodecServerOptions{Token: token, Origin: "http://localhost:8233", MaxBody: 4096,
		Logger: slog.New(slog.NewTextHandler(logs, nil))}))
	t.Cleanup(srv.Close)
	plain, err := converter.GetDefaultDataConverter().ToPayload("checkout down")
	if err != nil {
		t.Fatal(err)
	}
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{plain}})
	if err != nil {
		t.Fatal(err)
	}
	big, err := converter.GetDefaultDataConverter().ToPayload(strings.Repeat("x", 5000))
	if err != nil {
		t.Fatal(err)
	}
	bigBody, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{big}})
	if err != nil {
		t.Fatal(err)
	}
	post := func(path, auth, origin string, body []byte) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "default")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	tests := []struct {
		name, auth string
		body       []byte
		want       int
	}{
		{"no token", "", body, http.StatusUnauthorized},
		{"wrong token", "Bearer codec-token-wrong-000000", body, http.StatusUnauthorized},
		{"not bearer", "Basic " + token, body, http.StatusUnauthorized},
		{"body over the cap", "Bearer " + token, bigBody, http.StatusBadRequest},
		{"the token", "Bearer " + token, body, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := post("/encode", tt.auth, "", tt.body)
			if resp.StatusCode != tt.want {
				t.Fatalf("POST /encode: %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want != http.StatusOK {
				return
			}
			var out commonpb.Payloads
			b, _ := io.ReadAll(resp.Body) // a short body fails the decode below
			if err := protojson.Unmarshal(b, &out); err != nil || len(out.GetPayloads()) != 1 ||
				string(out.GetPayloads()[0].GetMetadata()["encoding"]) != encryptedEncoding {
				t.Fatalf("encoded: %s %v", b, err)
			}
		})
	}

	if !strings.Contains(logs.String(), `msg="codec request refused: no valid bearer token" path=/encode`) {
		t.Errorf("no log line for the refused requests: %s", logs.String())
	}
	if strings.Contains(logs.String(), "codec-token-wrong") {
		t.Error("a presented token is in the log")
	}
	resp := post("/decode", "Bearer "+token, "http://localhost:8233", body)
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "http://localhost:8233" {
		t.Errorf("Access-Control-Allow-Origin = %q for the UI's origin", got)
	}
	if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "" {
		t.Errorf("Access-Control-Allow-Credentials = %q: no credentialed CORS", got)
	}
	if got := post("/decode", "Bearer "+token, "https://evil.example", body).Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("Access-Control-Allow-Origin = %q for another origin", got)
	}
	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
	req.Header.Set("Origin", "http://localhost:8233")
	pre, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pre.Body.Close()
	if pre.StatusCode != http.StatusNoContent {
		t.Errorf("preflight: %d, want 204 without a token", pre.StatusCode)
	}
}

func TestCodecAddrNeedsToken(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8081": false, "localhost:8081": false, "[::1]:8081": false,
		":8081": true, "0.0.0.0:8081": true, "10.0.0.5:8081": true, "codec.internal:8081": true, "nonsense": true,
	} {
		if got := CodecAddrNeedsToken(addr); got != want {
			t.Errorf("CodecAddrNeedsToken(%q) = %v, want %v", addr, got, want)
		}
	}
	if _, err := CodecTokenFromEnv(func(string) string { return "short" }); err == nil {
		t.Error("a short SITREP_CODEC_TOKEN accepted")
	}
}

// lockedBuffer is a log sink the server's goroutines may write while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
