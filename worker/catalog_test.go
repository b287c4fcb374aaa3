package worker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCatalogFileReload(t *testing.T) {
	example, err := os.ReadFile("../examples/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(path, example, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := LoadCatalogFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before := f.Current()
	if _, ok := before.Services["checkout"]; !ok {
		t.Fatal("example catalog has no checkout service")
	}

	// A broken edit is refused and the catalog in force stays.
	if err := os.WriteFile(path, []byte(strings.Replace(string(example), "team: payments", "team: nobody", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Reload(); err == nil || !strings.Contains(err.Error(), `"nobody"`) {
		t.Fatalf("broken reload: %v", err)
	}
	if f.Current() != before {
		t.Fatal("a broken catalog replaced the one in force")
	}

	// A good edit takes effect.
	if err := os.WriteFile(path, []byte(strings.Replace(string(example), "name: checkout", "name: checkout-v2", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Current().Services["checkout-v2"]; !ok {
		t.Fatal("reloaded catalog not in force")
	}
}
