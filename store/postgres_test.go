package store_test

import (
	"database/sql"
	"strings"
	"sync"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/store"
	"github.com/shopclip/shopclip/store/storetest"
)

// openPostgres opens a store on a new, empty PostgreSQL database.
func openPostgres(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), testenv.Postgres(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if db.Dialect() != store.Postgres {
		t.Fatalf("dialect = %s, want postgres", db.Dialect())
	}
	return db
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) shopclip.Store { return openPostgres(t) })
}

func TestPostgresDiscovery(t *testing.T) {
	storetest.RunDiscovery(t, func(t *testing.T) (shopclip.Store, shopclip.Discovery) {
		db := openPostgres(t)
		return db, db
	})
}

func TestPostgresIdentity(t *testing.T) {
	storetest.RunIdentity(t, func(t *testing.T) (shopclip.Store, shopclip.Identity) {
		db := openPostgres(t)
		return db, db
	})
}

func TestPostgresClipLookup(t *testing.T) {
	storetest.RunClipLookup(t, func(t *testing.T) (shopclip.Store, shopclip.ClipLookup) {
		db := openPostgres(t)
		return db, db
	})
}

func TestPostgresReprocessing(t *testing.T) {
	storetest.RunReprocessing(t, func(t *testing.T) (shopclip.Store, shopclip.Reprocessing) {
		db := openPostgres(t)
		return db, db
	})
}

func TestPostgresIdempotency(t *testing.T) {
	storetest.RunIdempotency(t, func(t *testing.T) (shopclip.Store, shopclip.Idempotency) {
		db := openPostgres(t)
		return db, db
	})
}

func TestPostgresUploadQuotas(t *testing.T) {
	storetest.RunUploadQuotas(t, func(t *testing.T) (shopclip.Store, shopclip.UploadQuotas) {
		db := openPostgres(t)
		return db, db
	})
}

func TestPostgresAnalytics(t *testing.T) {
	storetest.RunAnalytics(t, func(t *testing.T) (shopclip.Store, shopclip.Analytics) {
		db := openPostgres(t)
		return db, db
	})
}

// See TestSQLiteIdentitySchema.
func TestPostgresIdentitySchema(t *testing.T) {
	url := testenv.Postgres(t)
	db, err := store.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	exec := func(query string, args ...any) { mustExec(t, raw, strings.Replace(query, "?", "$1", 1), args...) }
	t.Run("Cascade", func(t *testing.T) { checkIdentityCascade(t, db, exec) })
	t.Run("DisabledWithSessions", func(t *testing.T) { checkDisabledWithSessions(t, db, exec) })
}

func TestPostgresOpenTwice(t *testing.T) {
	ctx := t.Context()
	url := testenv.Postgres(t)
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatalf("first open: %v", err)
	}
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "kept", Role: shopclip.RoleBrand}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	v1, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := store.LatestSchemaVersion(store.Postgres); v1 != want || v1 == 0 {
		t.Errorf("schema version = %d, want %d", v1, want)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(ctx, url)
	if err != nil {
		t.Fatalf("second open: %v", err)
	}
	defer db.Close()
	checkReopened(t, ctx, db, a, v1)
}

// Processes starting at once against a fresh database all come up, and the
// schema is migrated once.
func TestPostgresConcurrentOpen(t *testing.T) {
	ctx := t.Context()
	url := testenv.Postgres(t)
	const n = 4
	dbs := make([]*store.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = store.Open(ctx, url) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("open %d: %v", i, errs[i])
			continue
		}
		if got, want := countMigrations(t, ctx, dbs[i]), store.LatestSchemaVersion(store.Postgres); got != want {
			t.Errorf("open %d sees %d migrations, want %d", i, got, want)
		}
		dbs[i].Close()
	}
}

func TestPostgresUnavailable(t *testing.T) {
	// Port 1 on loopback refuses connections.
	_, err := store.Open(t.Context(), "postgres://shopclip@127.0.0.1:1/shopclip?sslmode=disable&connect_timeout=5")
	if got := shopclip.ErrorCode(err); got != shopclip.EUNAVAILABLE {
		t.Fatalf("open unreachable server: code %q (err %v), want %q", got, err, shopclip.EUNAVAILABLE)
	}
}

func TestPostgresEventBatches(t *testing.T) {
	storetest.RunEventBatches(t, func(t *testing.T) (shopclip.Store, shopclip.EventBatches) {
		db := openPostgres(t)
		return db, db
	})
}
