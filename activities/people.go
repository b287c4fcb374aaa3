package activities

import (
	"context"
	"slices"
)

// UnknownPeople returns the handles the catalog in force does not have. It
// only reads memory, so workflows run it as a local activity.
func (a *Activities) UnknownPeople(ctx context.Context, handles []string) ([]string, error) {
	c := a.Catalog.Current()
	var out []string
	for _, h := range handles {
		if _, ok := c.People[h]; !ok && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out, nil
}
