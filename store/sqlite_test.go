package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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

func TestSQLiteDiscovery(t *testing.T) {
	storetest.RunDiscovery(t, func(t *testing.T) (shopclip.Store, shopclip.Discovery) {
		db := openSQLite(t)
		return db, db
	})
}

// rawSQLite opens the SQLite file at path beside a store, for what the store
// offers no method for. It is closed when t ends.
func rawSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetMaxOpenConns(1)
	mustExec(t, raw, "PRAGMA busy_timeout = 10000")
	return raw
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// searchTitles returns the titles of the clips a search finds, sorted.
func searchTitles(t *testing.T, db *store.DB, query string) []string {
	t.Helper()
	cs, err := db.SearchClips(t.Context(), query, 100)
	if err != nil {
		t.Fatalf("search %q: %v", query, err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.Title)
	}
	slices.Sort(out)
	return out
}

// The FTS5 tables keep their own copy of the titles: triggers keep it in
// step with changes no store method makes yet (a clip's title), and it does
// not depend on rowids, which VACUUM renumbers.
func TestSQLiteSearchIndexFollowsTitles(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shopclip.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw := rawSQLite(t, path)

	cr := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "creator", Role: shopclip.RoleCreator}
	if err := db.CreateAccount(ctx, cr); err != nil {
		t.Fatal(err)
	}
	publish := func(title string) *shopclip.Clip {
		t.Helper()
		c := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: cr.ID, Title: title, OriginalKey: "k"}
		if err := db.CreateClip(ctx, c); err != nil {
			t.Fatal(err)
		}
		att := shopclip.NewID(shopclip.PrefixAttempt)
		if _, err := db.StartClipAttempt(ctx, c.ID, att); err != nil {
			t.Fatal(err)
		}
		if err := db.PublishClip(ctx, c.ID, att, &shopclip.Publication{Generation: "g", OutputPrefix: "p/"}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	var clips []*shopclip.Clip
	for i := range 20 {
		clips = append(clips, publish(fmt.Sprintf("look %02d", i)))
	}
	renamed := publish("Summer dress")
	mustExec(t, raw, "UPDATE clips SET title = ? WHERE id = ?", "Winter coat", renamed.ID)
	if got := searchTitles(t, db, "summer"); len(got) != 0 {
		t.Errorf("search summer after the rename = %q, want none", got)
	}
	if got, want := searchTitles(t, db, "winter"), []string{"Winter coat"}; !slices.Equal(got, want) {
		t.Errorf("search winter after the rename = %q, want %q", got, want)
	}

	// Holes in the rowids, then VACUUM, which may renumber them.
	for _, c := range clips[:10] {
		if err := db.DeleteClip(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(t, raw, "VACUUM")
	if err := db.DeleteClip(ctx, clips[15].ID); err != nil {
		t.Fatal(err)
	}
	mustExec(t, raw, "UPDATE clips SET title = ? WHERE id = ?", "look renamed", clips[16].ID)
	var want []string
	for i := 10; i < 20; i++ {
		if i != 15 && i != 16 {
			want = append(want, fmt.Sprintf("look %02d", i))
		}
	}
	want = append(want, "look renamed")
	slices.Sort(want)
	if got := searchTitles(t, db, "look"); !slices.Equal(got, want) {
		t.Errorf("search look after VACUUM = %q, want %q", got, want)
	}
	for _, table := range []string{"clips_fts", "products_fts"} {
		mustExec(t, raw, "INSERT INTO "+table+" ("+table+") VALUES ('integrity-check')")
	}
	var n int
	if err := raw.QueryRowContext(ctx, "SELECT count(*) FROM clips_fts").Scan(&n); err != nil {
		t.Fatal(err)
	} else if n != len(want)+1 {
		t.Errorf("clips_fts has %d rows, want %d (one per clip)", n, len(want)+1)
	}
}

// Migration 0004 indexes the titles of clips and products that exist before
// it.
func TestSQLiteSearchIndexBackfill(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shopclip.db")
	raw := rawSQLite(t, path)
	files, err := filepath.Glob("migrations/sqlite/000[1-3]_*.sql")
	if err != nil || len(files) != 3 {
		t.Fatalf("migrations 1 to 3: %v, %v", files, err)
	}
	mustExec(t, raw, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, raw, string(b))
		mustExec(t, raw, `INSERT INTO schema_migrations VALUES (?, ?, '2025-01-01T00:00:00.000000Z')`, i+1, filepath.Base(f))
	}
	const at = "2025-01-01T00:00:00.000000Z"
	ids := map[string]string{}
	for _, p := range []string{shopclip.PrefixAccount, shopclip.PrefixClip, shopclip.PrefixProduct, shopclip.PrefixTag} {
		ids[p] = shopclip.NewID(p)
	}
	mustExec(t, raw, `INSERT INTO accounts (id, name, role, created_at) VALUES (?, 'c', 'creator', ?)`, ids[shopclip.PrefixAccount], at)
	mustExec(t, raw, `INSERT INTO clips (id, creator_id, title, status, progress, original_key, generation, output_prefix,
		created_at, updated_at, published_at) VALUES (?, ?, 'Summer dress', 'ready', 1, 'k', 'g', 'p/', ?, ?, ?)`,
		ids[shopclip.PrefixClip], ids[shopclip.PrefixAccount], at, at, at)
	mustExec(t, raw, `INSERT INTO products (id, brand_id, title, created_at, updated_at) VALUES (?, ?, 'Leather handbag', ?, ?)`,
		ids[shopclip.PrefixProduct], ids[shopclip.PrefixAccount], at, at)
	mustExec(t, raw, `INSERT INTO tags (id, clip_id, product_id, brand_id, start_ms, end_ms, x, y, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, 0, 1000, 0.5, 0.5, 'active', ?, ?)`,
		ids[shopclip.PrefixTag], ids[shopclip.PrefixClip], ids[shopclip.PrefixProduct], ids[shopclip.PrefixAccount], at, at)

	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := db.SchemaVersion(ctx); err != nil || v != store.LatestSchemaVersion(store.SQLite) {
		t.Fatalf("schema version %d, %v; want %d", v, err, store.LatestSchemaVersion(store.SQLite))
	}
	for _, q := range []string{"summer", "handbag"} {
		if got, want := searchTitles(t, db, q), []string{"Summer dress"}; !slices.Equal(got, want) {
			t.Errorf("search %s after the migration = %q, want %q", q, got, want)
		}
	}
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
