package store

import "database/sql"

// Pools returns the database's connection pools by role, for their
// statistics (sql.DB.Stats): "write" and "read" on SQLite (one writer
// connection, a read-only pool), "main" alone on PostgreSQL. Callers must
// not close them or change their settings.
func (db *DB) Pools() map[string]*sql.DB {
	if db.r == nil || db.r == db.w {
		return map[string]*sql.DB{"main": db.w}
	}
	return map[string]*sql.DB{"write": db.w, "read": db.r}
}
