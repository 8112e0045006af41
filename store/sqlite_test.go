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

func TestSQLiteIdentity(t *testing.T) {
	storetest.RunIdentity(t, func(t *testing.T) (shopclip.Store, shopclip.Identity) {
		db := openSQLite(t)
		return db, db
	})
}

func TestSQLiteClipLookup(t *testing.T) {
	storetest.RunClipLookup(t, func(t *testing.T) (shopclip.Store, shopclip.ClipLookup) {
		db := openSQLite(t)
		return db, db
	})
}

func TestSQLiteReprocessing(t *testing.T) {
	storetest.RunReprocessing(t, func(t *testing.T) (shopclip.Store, shopclip.Reprocessing) {
		db := openSQLite(t)
		return db, db
	})
}

func TestSQLiteIdempotency(t *testing.T) {
	storetest.RunIdempotency(t, func(t *testing.T) (shopclip.Store, shopclip.Idempotency) {
		db := openSQLite(t)
		return db, db
	})
}

func TestSQLiteUploadQuotas(t *testing.T) {
	storetest.RunUploadQuotas(t, func(t *testing.T) (shopclip.Store, shopclip.UploadQuotas) {
		db := openSQLite(t)
		return db, db
	})
}

func TestSQLiteAnalytics(t *testing.T) {
	storetest.RunAnalytics(t, func(t *testing.T) (shopclip.Store, shopclip.Analytics) {
		db := openSQLite(t)
		return db, db
	})
}

// What the store has no method for: deleting an account, and a disabled
// account that still has sessions.
func TestSQLiteIdentitySchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shopclip.db")
	db, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw := rawSQLite(t, path)
	mustExec(t, raw, "PRAGMA foreign_keys = ON")
	exec := func(query string, args ...any) { mustExec(t, raw, query, args...) }
	t.Run("Cascade", func(t *testing.T) { checkIdentityCascade(t, db, exec) })
	t.Run("DisabledWithSessions", func(t *testing.T) { checkDisabledWithSessions(t, db, exec) })
}

// checkDisabledWithSessions disables an account behind the store's back
// (with exec, a raw statement with one ? placeholder), leaving its sessions
// in place, and checks that they do not authenticate: SessionByHash checks
// the account, not only that disabling deleted its sessions.
func checkDisabledWithSessions(t *testing.T, db *store.DB, exec func(query string, args ...any)) {
	ctx := t.Context()
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "a", Role: shopclip.RoleCreator}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	_, hash := shopclip.NewToken(shopclip.SessionTokenPrefix)
	if err := db.CreateSession(ctx, &shopclip.Session{ID: shopclip.NewID(shopclip.PrefixSession), AccountID: a.ID, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, _, err := db.SessionByHash(ctx, hash, now); err != nil {
		t.Fatalf("session by hash before the account is disabled: %v", err)
	}
	exec("UPDATE accounts SET disabled_at = created_at WHERE id = ?", a.ID)
	if _, _, err := db.SessionByHash(ctx, hash, now); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Errorf("session by hash of a disabled account: %v, want ENOTFOUND", err)
	}
}

// checkIdentityCascade deletes (with exec, a raw statement with one ?
// placeholder) an account that signed up with an invitation and has a
// session and an API key, and checks that its login, sessions and keys went
// with it, its email is free again, and the invitation stays used.
func checkIdentityCascade(t *testing.T, db *store.DB, exec func(query string, args ...any)) {
	ctx := t.Context()
	now := time.Now()
	_, invHash := shopclip.NewToken(shopclip.InviteTokenPrefix)
	if err := db.CreateInvite(ctx, &shopclip.Invite{ID: shopclip.NewID(shopclip.PrefixInvite), Hash: invHash, Role: shopclip.RoleCreator}); err != nil {
		t.Fatal(err)
	}
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "gone", Role: shopclip.RoleCreator}
	if err := db.CreateAccountLogin(ctx, a, &shopclip.Login{Email: "gone@example.com", PasswordHash: "h"}, invHash, now); err != nil {
		t.Fatal(err)
	}
	_, sesHash := shopclip.NewToken(shopclip.SessionTokenPrefix)
	s := &shopclip.Session{ID: shopclip.NewID(shopclip.PrefixSession), AccountID: a.ID, Hash: sesHash}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	k := &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: a.ID, Name: "k", Hash: shopclip.HashAPIKey("k")}
	if err := db.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}

	exec("DELETE FROM accounts WHERE id = ?", a.ID)

	notFound := func(what string, err error) {
		t.Helper()
		if got := shopclip.ErrorCode(err); got != shopclip.ENOTFOUND {
			t.Errorf("%s after the account was deleted: code %q (err %v), want %q", what, got, err, shopclip.ENOTFOUND)
		}
	}
	_, err := db.LoginOf(ctx, a.ID)
	notFound("login of", err)
	_, err = db.LoginByEmail(ctx, "gone@example.com")
	notFound("login by email", err)
	_, _, err = db.SessionByHash(ctx, sesHash, now)
	notFound("session by hash", err)
	_, err = db.AccountByKeyHash(ctx, k.Hash)
	notFound("account by key", err)
	_, err = db.InviteByHash(ctx, invHash, now)
	notFound("used invite", err)
	if ss, err := db.AccountSessions(ctx, a.ID, now); err != nil || len(ss) != 0 {
		t.Errorf("sessions after the account was deleted = %v, %v; want none", ss, err)
	}
	if ks, err := db.AccountAPIKeys(ctx, a.ID); err != nil || len(ks) != 0 {
		t.Errorf("keys after the account was deleted = %v, %v; want none", ks, err)
	}
	b := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "again", Role: shopclip.RoleCreator}
	if err := db.CreateAccountLogin(ctx, b, &shopclip.Login{Email: "gone@example.com", PasswordHash: "h"}, "", now); err != nil {
		t.Errorf("sign up with the deleted account's email: %v", err)
	}
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

func TestSQLiteEventBatches(t *testing.T) {
	storetest.RunEventBatches(t, func(t *testing.T) (shopclip.Store, shopclip.EventBatches) {
		db := openSQLite(t)
		return db, db
	})
}
