package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/shopclip/shopclip"
)

// errorClass is what a vendor error means to shopclip.
type errorClass int

const (
	classOther       errorClass = iota
	classUnique                 // a unique or primary key violation
	classForeignKey             // a reference to a missing row
	classInvalid                // a CHECK, NOT NULL or data-format violation
	classUnavailable            // the database cannot be reached or is overloaded
)

// classify inspects err from either driver.
func classify(err error) errorClass {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return classUnique
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return classForeignKey
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL,
			sqlite3.SQLITE_CONSTRAINT_DATATYPE, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
			return classInvalid
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN,
			sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY,
			sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOLFS, sqlite3.SQLITE_PERM:
			return classUnavailable
		}
		return classOther
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return classUnique
		case pe.Code == "23503":
			return classForeignKey
		case pe.Code == "23514", pe.Code == "23502", strings.HasPrefix(pe.Code, "22"):
			return classInvalid
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),                           // insufficient resources
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // shutdown, cannot connect now
			pe.Code == "40001", pe.Code == "40P01": // serialization failure, deadlock: retry
			return classUnavailable
		}
		return classOther
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		pgconn.Timeout(err),
		strings.Contains(err.Error(), "sql: database is closed"):
		return classUnavailable
	}
	return classOther
}

// fail wraps err, a driver error from operation op on an object of kind
// entity ("Clip", "API key"; may be empty), with the matching shopclip.Error.
// Errors that already carry one are only wrapped.
func (db *DB) fail(op, entity string, err error) error {
	var e *shopclip.Error
	if errors.As(err, &e) {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if entity == "" {
		entity = "Object"
	}
	var app *shopclip.Error
	switch classify(err) {
	case classUnique:
		app = shopclip.Errorf(shopclip.ECONFLICT, "%s already exists.", entity)
	case classForeignKey:
		app = shopclip.Errorf(shopclip.ENOTFOUND, "An object the %s refers to was not found.", strings.ToLower(entity))
	case classInvalid:
		app = shopclip.Errorf(shopclip.EINVALID, "The %s has a value out of range.", strings.ToLower(entity))
	case classUnavailable:
		app = shopclip.Errorf(shopclip.EUNAVAILABLE, "The database is unavailable; try again later.")
	default:
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return fmt.Errorf("store: %s: %w: %w", op, app, err)
}

// notFound returns the ENOTFOUND error for a missing entity.
func notFound(op, entity string) error {
	return fmt.Errorf("store: %s: %w", op, shopclip.Errorf(shopclip.ENOTFOUND, "%s not found.", entity))
}

// invalid returns an EINVALID error for operation op.
func invalid(op, format string, args ...any) error {
	return fmt.Errorf("store: %s: %w", op, shopclip.Errorf(shopclip.EINVALID, format, args...))
}

// ref is a row an insert refers to, checked when the insert breaks a foreign
// key, to say which one is missing.
type ref struct {
	table string // accounts, clips, products
	id    string
	what  string // "Creator account", "Clip", "Product"
}

// failRefs is fail for inserts with foreign keys: a foreign-key violation
// becomes ENOTFOUND naming the first of refs that does not exist.
func (db *DB) failRefs(ctx context.Context, op, entity string, err error, refs ...ref) error {
	if classify(err) != classForeignKey {
		return db.fail(op, entity, err)
	}
	for _, r := range refs {
		var one int
		qerr := db.queryRow(ctx, "SELECT 1 FROM "+r.table+" WHERE id = ?", r.id).Scan(&one)
		if errors.Is(qerr, sql.ErrNoRows) {
			return fmt.Errorf("store: %s: %w: %w", op,
				shopclip.Errorf(shopclip.ENOTFOUND, "%s %s not found.", r.what, r.id), err)
		}
	}
	return db.fail(op, entity, err)
}
