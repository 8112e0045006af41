package store

import "context"

// CountMigrations returns the number of rows in schema_migrations.
func CountMigrations(ctx context.Context, db *DB) (int, error) {
	var n int
	err := db.queryRow(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n)
	return n, err
}
