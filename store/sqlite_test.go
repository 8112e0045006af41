package store_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/store"
	"github.com/shopclip/shopclip/store/storetest"
)

// openSQLite opens a store on a new file in t's temporary directory.
func openSQLite(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "shopclip.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return db
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) shopclip.Store { return openSQLite(t) })
}

func TestSQLiteOpenTwice(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "data", "shopclip.db") // the directory is created
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatalf("first open: %v", err)
	}
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "kept", Role: shopclip.RoleCreator}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	v1, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Every DSN form names the same file; the second Open migrates nothing
	// and keeps the data.
	for _, dsn := range []string{path, "sqlite://" + path, "file://" + path} {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("reopen %q: %v", dsn, err)
		}
		checkReopened(t, ctx, db, a, v1)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func checkReopened(t *testing.T, ctx context.Context, db *store.DB, a *shopclip.Account, wantVersion int) {
	t.Helper()
	if v, err := db.SchemaVersion(ctx); err != nil || v != wantVersion {
		t.Errorf("schema version after reopen = %d, %v; want %d", v, err, wantVersion)
	}
	if n := countMigrations(t, ctx, db); n != wantVersion {
		t.Errorf("schema_migrations has %d rows, want %d", n, wantVersion)
	}
	if got, err := db.Account(ctx, a.ID); err != nil || got.Name != a.Name {
		t.Errorf("account after reopen = %v, %v", got, err)
	}
}

func TestSQLiteConcurrentOpen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shopclip.db")
	const n = 4
	dbs := make([]*store.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = store.Open(ctx, path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("open %d: %v", i, errs[i])
			continue
		}
		if got := countMigrations(t, ctx, dbs[i]); got != store.LatestSchemaVersion(store.SQLite) {
			t.Errorf("open %d sees %d migrations, want %d", i, got, store.LatestSchemaVersion(store.SQLite))
		}
		dbs[i].Close()
	}
}

func TestSQLiteClockRoundTrip(t *testing.T) {
	// The suite's clocks step; this checks the default clock too.
	db := openSQLite(t)
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "n", Role: shopclip.RoleAdmin}
	if err := db.CreateAccount(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	got, err := db.Account(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(a.CreatedAt) || got.CreatedAt.Location() != time.UTC || got.CreatedAt.Nanosecond()%1000 != 0 {
		t.Errorf("CreatedAt read back %v, stored %v; want equal, UTC, whole microseconds", got.CreatedAt, a.CreatedAt)
	}
}

func countMigrations(t *testing.T, ctx context.Context, db *store.DB) int {
	t.Helper()
	n, err := store.CountMigrations(ctx, db)
	if err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	return n
}
