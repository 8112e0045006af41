package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Queries are written once with "?" placeholders; rebind turns them into
// PostgreSQL's "$1", "$2", … .

// rebind returns query with each "?" placeholder outside quotes and comments
// replaced by $1, $2, … in order.
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			// Copy a quoted literal or identifier; a doubled quote inside
			// it is an escaped quote and keeps us inside.
			j := i + 1
			for j < len(query) {
				if query[j] == c {
					if j+1 < len(query) && query[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(query))
			b.WriteString(query[i:end])
			i = end - 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j - 1
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// q returns query in db's dialect.
func (db *DB) q(query string) string {
	if db.dialect == Postgres {
		return rebind(query)
	}
	return query
}

// exec runs a write statement.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := db.prepared(ctx, db.w, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.w.ExecContext(ctx, db.q(query), args...)
}

// queryRow runs a read statement returning at most one row.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := db.prepared(ctx, db.r, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.r.QueryRowContext(ctx, db.q(query), args...)
}

// query runs a read statement.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := db.prepared(ctx, db.r, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.r.QueryContext(ctx, db.q(query), args...)
}

// writeRow runs a write statement with a RETURNING clause.
func (db *DB) writeRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := db.prepared(ctx, db.w, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.w.QueryRowContext(ctx, db.q(query), args...)
}

// Prepared statements: on SQLite, parsing and planning a statement costs
// more than running the point queries the hot paths make (a profile of the
// storefront put a tenth of its CPU in the parser), so each query text is
// prepared once per pool and kept (database/sql prepares it again on each
// connection that needs it). PostgreSQL's driver, pgx, keeps prepared
// statements per connection by itself.

// maxStatements bounds the statements kept: queries built with a variable
// number of placeholders beyond it run unprepared.
const maxStatements = 512

type stmtKey struct {
	pool  *sql.DB
	query string
}

type stmtCache struct {
	mu    sync.RWMutex
	stmts map[stmtKey]*sql.Stmt
}

// prepared returns the prepared statement of query on pool, or nil to run
// it unprepared (PostgreSQL, a full cache, or a failed prepare, whose
// error the unprepared run reports).
func (db *DB) prepared(ctx context.Context, pool *sql.DB, query string) *sql.Stmt {
	if db.dialect != SQLite || db.stmts == nil {
		return nil
	}
	key := stmtKey{pool, query}
	db.stmts.mu.RLock()
	st, n := db.stmts.stmts[key], len(db.stmts.stmts)
	db.stmts.mu.RUnlock()
	if st != nil || n >= maxStatements {
		return st
	}
	st, err := pool.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil
	}
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	if prev := db.stmts.stmts[key]; prev != nil {
		st.Close()
		return prev
	}
	db.stmts.stmts[key] = st
	return st
}

// closeStatements closes the kept statements.
func (db *DB) closeStatements() {
	if db.stmts == nil {
		return
	}
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	for k, st := range db.stmts.stmts {
		st.Close()
		delete(db.stmts.stmts, k)
	}
}

// sqliteTimeLayout is how SQLite columns hold times: fixed width, so text
// order is time order.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// ts returns t as a query argument: UTC microseconds, as text for SQLite.
func (db *DB) ts(t time.Time) any {
	t = roundTime(t)
	if db.dialect == SQLite {
		return t.Format(sqliteTimeLayout)
	}
	return t
}

// tsPtr is ts for optional times; nil is SQL NULL.
func (db *DB) tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return db.ts(*t)
}

// timeDest scans a time column of either dialect into *t.
type timeDest struct{ t *time.Time }

// Scan implements sql.Scanner.
func (d timeDest) Scan(src any) error {
	t, err := scanTime(src)
	if err != nil {
		return err
	} else if t == nil {
		return fmt.Errorf("store: NULL in a NOT NULL time column")
	}
	*d.t = *t
	return nil
}

// nullTimeDest scans a nullable time column of either dialect into *t.
type nullTimeDest struct{ t **time.Time }

// Scan implements sql.Scanner.
func (d nullTimeDest) Scan(src any) error {
	t, err := scanTime(src)
	if err != nil {
		return err
	}
	*d.t = t
	return nil
}

func scanTime(src any) (*time.Time, error) {
	var t time.Time
	switch v := src.(type) {
	case nil:
		return nil, nil
	case time.Time:
		t = v
	case string:
		p, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, fmt.Errorf("store: bad time %q: %w", v, err)
		}
		t = p
	case []byte:
		p, err := time.Parse(time.RFC3339Nano, string(v))
		if err != nil {
			return nil, fmt.Errorf("store: bad time %q: %w", v, err)
		}
		t = p
	default:
		return nil, fmt.Errorf("store: cannot scan %T into a time", src)
	}
	t = roundTime(t)
	return &t, nil
}

// clampLimit bounds a list size to 1..hi.
func clampLimit(limit, hi int) int {
	return max(1, min(limit, hi))
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
