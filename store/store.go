// Package store keeps shopclip's metadata (accounts, API keys, clips,
// products, discounts, tags) in SQL. One implementation of shopclip.Store
// speaks two dialects over database/sql: SQLite (modernc.org/sqlite, pure Go),
// the embedded default, a single file in the data directory; and PostgreSQL
// (pgx), for API servers and workers on many machines.
//
// Open picks the dialect from the DSN and brings the schema up to date with
// the migrations embedded in the binary. The conformance suite in
// store/storetest holds both dialects to the shopclip.Store contract.
//
// # Data model notes
//
// Times are stored in UTC, rounded to microseconds (PostgreSQL's precision),
// so both dialects hand back exactly what they were given: in SQLite as
// fixed-width RFC 3339 text ("2006-01-02T15:04:05.000000Z", which sorts as
// time does), in PostgreSQL as timestamptz. Renditions are JSON (TEXT in
// SQLite, jsonb in PostgreSQL); no renditions is SQL NULL and reads back as a
// nil slice.
//
// Deleting a clip deletes its tags (ON DELETE CASCADE). A product that is
// tagged in any clip cannot be deleted (ON DELETE RESTRICT): its tags must be
// removed first, so a clip never silently loses a pop-up. A product's discounts
// go with it. Accounts that own clips or products cannot be deleted; their API
// keys go with them.
//
// CHECK constraints keep statuses, roles and kinds to their known values and
// the clip state machine consistent: a failed clip has an error code and no
// other clip has one, a processing clip has an owning attempt, a ready clip
// has progress 1, a publication time, a generation and an output prefix.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/shopclip/shopclip"
)

// Interface checks.
var _ shopclip.Store = (*DB)(nil)

// Dialect names the SQL database behind a DB.
type Dialect string

// Dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Connection settings.
const (
	// sqliteBusyTimeout is how long a SQLite connection waits for a lock
	// held by another process (another shopclip command on the same file)
	// before giving up. Inside one process writes queue for the single
	// writer connection instead.
	sqliteBusyTimeout = 10 * time.Second
	// postgresMaxConns bounds the connections one process opens to
	// PostgreSQL.
	postgresMaxConns = 16
)

// DB is a shopclip.Store over SQLite or PostgreSQL. Open makes one; it is safe
// for concurrent use.
//
// On SQLite every write goes through a single connection (writes queue in
// database/sql instead of failing with SQLITE_BUSY) and reads use a separate
// pool of read-only connections, which WAL lets run beside the writer. On
// PostgreSQL both use one pool.
type DB struct {
	// Now returns the current time; the store stamps CreatedAt, UpdatedAt
	// and PublishedAt with it (in UTC, rounded to microseconds). It is
	// time.Now unless set, which must happen before the DB is shared.
	Now func() time.Time

	dialect Dialect
	w       *sql.DB // writes (SQLite: one connection)
	r       *sql.DB // reads (SQLite: read-only pool; PostgreSQL: w)
	stmts   *stmtCache
}

// Open connects to the database named by dsn and migrates its schema.
//
// A dsn starting with postgres:// or postgresql:// names a PostgreSQL
// database in the URL form pgx accepts (for example
// "postgres://shopclip:secret@db:5432/shopclip?sslmode=disable"). Anything
// else names a SQLite database file, which is created (with its directory)
// when missing:
//
//   - a path: "shopclip.db", "/var/lib/shopclip/shopclip.db" (the whole string
//     is the file name; no query parameters are read from it);
//   - "sqlite:" followed by a path: "sqlite:///var/lib/shopclip/shopclip.db",
//     "sqlite:data/shopclip.db";
//   - a "file:" URI without query parameters: "file:///var/lib/shopclip.db",
//     "file:data/shopclip.db".
//
// In-memory SQLite databases are refused: the store needs a file shared by its
// writer and reader connections. The store sets its own SQLite pragmas (WAL,
// busy_timeout, foreign_keys, synchronous=NORMAL).
//
// On failure Open releases whatever it had opened. Errors carry the codes
// EINVALID (a bad dsn) or EUNAVAILABLE (the database cannot be reached).
func Open(ctx context.Context, dsn string) (*DB, error) {
	db := &DB{Now: time.Now, stmts: &stmtCache{stmts: map[stmtKey]*sql.Stmt{}}}
	if err := db.open(ctx, dsn); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) open(ctx context.Context, dsn string) error {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db.dialect = Postgres
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return fmt.Errorf("store: open postgres: %w: %w", shopclip.Errorf(shopclip.EINVALID, "The PostgreSQL URL is not valid."), err)
		}
		pool := stdlib.OpenDB(*cfg)
		pool.SetMaxOpenConns(postgresMaxConns)
		pool.SetMaxIdleConns(postgresMaxConns)
		pool.SetConnMaxIdleTime(5 * time.Minute)
		db.w, db.r = pool, pool
	} else {
		db.dialect = SQLite
		path, err := SQLitePath(dsn)
		if err != nil {
			return fmt.Errorf("store: open sqlite: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return fmt.Errorf("store: open sqlite: %w: %w", shopclip.Errorf(shopclip.EUNAVAILABLE, "Cannot create the database directory."), err)
		}
		busy := fmt.Sprint(sqliteBusyTimeout.Milliseconds())
		common := url.Values{
			"_busy_timeout": {busy},
			"_foreign_keys": {"1"},
			"_synchronous":  {"NORMAL"},
		}
		wq := cloneValues(common)
		wq.Set("_journal_mode", "WAL")
		wq.Set("_txlock", "immediate")
		if db.w, err = sql.Open("sqlite", sqliteURI(path, wq)); err != nil {
			return fmt.Errorf("store: open sqlite: %w", err)
		}
		db.w.SetMaxOpenConns(1)
		db.w.SetMaxIdleConns(1)
		db.w.SetConnMaxLifetime(0)
		db.w.SetConnMaxIdleTime(0)
		// The writer connects first so that the file exists and is in WAL
		// mode before any reader opens it. Switching a new file to WAL takes
		// an exclusive lock, and SQLite answers SQLITE_BUSY at once, without
		// waiting, to all but one of several processes doing it at the same
		// moment: retry those for as long as the busy timeout.
		if err := pingRetryingBusy(ctx, db.w, sqliteBusyTimeout); err != nil {
			return db.fail("open sqlite", "", err)
		}
		rq := cloneValues(common)
		rq.Set("_query_only", "1")
		if db.r, err = sql.Open("sqlite", sqliteURI(path, rq)); err != nil {
			return fmt.Errorf("store: open sqlite: %w", err)
		}
		n := max(4, runtime.GOMAXPROCS(0))
		db.r.SetMaxOpenConns(n)
		db.r.SetMaxIdleConns(n)
	}
	if err := db.Ping(ctx); err != nil {
		return err
	}
	return db.migrate(ctx)
}

// pingRetryingBusy pings pool until it succeeds, fails with anything but
// "database is locked", or timeout passes.
func pingRetryingBusy(ctx context.Context, pool *sql.DB, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := pool.PingContext(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED.
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_LOCKED")
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// sqliteURI returns a file: URI for the absolute path with the driver
// parameters q.
func sqliteURI(path string, q url.Values) string {
	// An absolute path gives "file:///abs/path?…", with '?', '#', '%' and
	// spaces in the path percent-escaped, as SQLite expects.
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// SQLitePath returns the absolute file path that a SQLite dsn names (see Open
// for the forms accepted), or an error with code EINVALID.
func SQLitePath(dsn string) (string, error) {
	invalid := func(format string, args ...any) (string, error) {
		return "", shopclip.Errorf(shopclip.EINVALID, format, args...)
	}
	var path string
	switch {
	case dsn == "":
		return invalid("The database DSN is empty: give a SQLite file path or a postgres:// URL.")
	case strings.HasPrefix(dsn, "sqlite:"):
		path = strings.TrimPrefix(dsn, "sqlite:")
		if rest, ok := strings.CutPrefix(path, "//"); ok {
			path = rest // "sqlite:///abs" → "/abs"; "sqlite://rel" → "rel"
		}
	case strings.HasPrefix(dsn, "file:"):
		u, err := url.Parse(dsn)
		if err != nil {
			return invalid("The SQLite URI %q is not valid: %v.", dsn, err)
		}
		if u.RawQuery != "" || u.ForceQuery {
			return invalid("The SQLite URI %q has query parameters; shopclip sets its own.", dsn)
		} else if u.Host != "" && u.Host != "localhost" {
			return invalid("The SQLite URI %q names a remote host.", dsn)
		}
		path = u.Path
		if u.Opaque != "" {
			if path, err = url.PathUnescape(u.Opaque); err != nil {
				return invalid("The SQLite URI %q is not valid: %v.", dsn, err)
			}
		}
	default:
		path = dsn
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, ":memory:") {
		return invalid("The SQLite database must be a file, not %q.", dsn)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return invalid("The SQLite path %q is not valid: %v.", path, err)
	}
	return abs, nil
}

// Dialect reports which database db speaks.
func (db *DB) Dialect() Dialect { return db.dialect }

// SetNow replaces the clock (see DB.Now). It is not safe to call while the DB
// is in use; tests call it right after Open.
func (db *DB) SetNow(now func() time.Time) { db.Now = now }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if db.w == nil {
		return fmt.Errorf("store: ping: %w", shopclip.Errorf(shopclip.EUNAVAILABLE, "The database is not open."))
	}
	if err := db.w.PingContext(ctx); err != nil {
		return db.fail("ping", "", err)
	}
	if db.r != db.w {
		if err := db.r.PingContext(ctx); err != nil {
			return db.fail("ping", "", err)
		}
	}
	return nil
}

// Close releases the database connections. It is safe after a failed Open and
// when called twice.
func (db *DB) Close() error {
	db.closeStatements()
	var errs []error
	if db.r != nil && db.r != db.w {
		errs = append(errs, db.r.Close())
	}
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// now returns the store's clock reading in the form it is stored.
func (db *DB) now() time.Time {
	if db.Now == nil {
		return roundTime(time.Now())
	}
	return roundTime(db.Now())
}

// roundTime returns t in UTC, rounded to microseconds, without a monotonic
// reading: what both dialects store and return.
func roundTime(t time.Time) time.Time {
	return t.UTC().Round(time.Microsecond)
}
