package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFS holds the schema migrations, one directory per dialect. Each
// file is named NNNN_description.sql; NNNN is its version. Files are applied
// in version order, each in its own transaction, and never edited once
// released: a change is a new file, in both directories.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migrationLockKey is the pg_advisory_lock key that serializes migrations
// of processes starting at once against one PostgreSQL database
// (the bytes of "shopclip" read as an integer).
const migrationLockKey int64 = 0x73686f70636c6970

// migration is one schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the migrations of dialect d in version order.
func migrations(d Dialect) ([]migration, error) {
	dir := "migrations/" + string(d)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %s/%s: name must be NNNN_description.sql", dir, name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, name, v)
		}
		seen[v] = name
		b, err := migrationFS.ReadFile(path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies the migrations the database lacks. Versions the database
// has beyond those embedded (a newer shopclip migrated it) are left alone.
//
// On PostgreSQL a session advisory lock serializes processes migrating at
// once; on SQLite each migration's transaction starts with BEGIN IMMEDIATE,
// which takes the file's write lock, and rechecks whether another process
// applied it meanwhile.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations(db.dialect)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return db.fail("migrate", "", err)
	}
	defer conn.Close()
	if db.dialect == Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
			return db.fail("migrate: lock", "", err)
		}
		defer func() {
			// A fresh context: the lock must go even when ctx is done. If
			// the unlock fails the connection goes with the pool anyway.
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockKey)
		}()
	}
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`
	if db.dialect == Postgres {
		create = `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL
		)`
	}
	if _, err := conn.ExecContext(ctx, create); err != nil {
		return db.fail("migrate: create schema_migrations", "", err)
	}
	for _, m := range ms {
		if err := db.apply(ctx, conn, m); err != nil {
			return err
		}
	}
	return nil
}

// apply runs m in a transaction unless the database already has it.
func (db *DB) apply(ctx context.Context, conn *sql.Conn, m migration) (err error) {
	op := "migrate " + m.name
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return db.fail(op, "", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var one int
	err = tx.QueryRowContext(ctx, db.q("SELECT 1 FROM schema_migrations WHERE version = ?"), m.version).Scan(&one)
	switch {
	case err == nil:
		return tx.Rollback() // applied already
	case !errors.Is(err, sql.ErrNoRows):
		return db.fail(op, "", err)
	}
	if _, err = tx.ExecContext(ctx, m.sql); err != nil {
		return db.fail(op, "", err)
	}
	if _, err = tx.ExecContext(ctx, db.q("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
		m.version, m.name, db.ts(db.now())); err != nil {
		return db.fail(op, "", err)
	}
	if err = tx.Commit(); err != nil {
		return db.fail(op, "", err)
	}
	return nil
}

// SchemaVersion returns the highest migration version the database has.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := db.queryRow(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, db.fail("schema version", "", err)
	}
	return int(v.Int64), nil
}

// LatestSchemaVersion returns the highest migration version embedded for
// dialect d: what SchemaVersion reports after Open.
func LatestSchemaVersion(d Dialect) int {
	ms, err := migrations(d)
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}
