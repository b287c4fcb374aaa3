package worker

import (
	"bytes"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
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
