package worker

import (
	"fmt"
	"sync/atomic"

	"github.com/sitrep-dev/sitrep/catalog"
)

// CatalogFile is the catalog from a file or directory, reloadable while the
// worker runs. Incidents already open keep the plan they routed with; the
// next lookup (who is on call, a contact address) reads the new catalog.
type CatalogFile struct {
	path string
	cur  atomic.Pointer[catalog.Catalog]
}

// LoadCatalogFile loads path.
func LoadCatalogFile(path string) (*CatalogFile, error) {
	f := &CatalogFile{path: path}
	if err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Current returns the catalog in force.
func (f *CatalogFile) Current() *catalog.Catalog { return f.cur.Load() }

// Reload reads the file again. A catalog that does not validate is refused
// whole and the one in force stays.
func (f *CatalogFile) Reload() error {
	c, err := catalog.Load(f.path)
	if err != nil {
		return fmt.Errorf("reload catalog %s: %w", f.path, err)
	}
	f.cur.Store(c)
	return nil
}
