package store_test

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/store"
)

// TestPools: the pools Pools names are the ones the store uses (their
// statistics move with its queries).
func TestPools(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		dsn   func(t *testing.T) string
		pools []string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "db.sqlite") }, []string{"read", "write"}},
		{"postgres", func(t *testing.T) string { return testenv.Postgres(t) }, []string{"main"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, err := store.Open(ctx, c.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			pools := db.Pools()
			if got := slices.Sorted(maps.Keys(pools)); !slices.Equal(got, c.pools) {
				t.Fatalf("pools %v, want %v", got, c.pools)
			}
			if _, err := db.Clip(ctx, "cl_none"); err == nil {
				t.Fatal("found a clip that does not exist")
			}
			opened := 0
			for _, p := range pools {
				opened += p.Stats().OpenConnections
			}
			if opened == 0 {
				t.Error("no pool has a connection open after a query")
			}
		})
	}
}
