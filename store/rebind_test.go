package store

import "testing"

func TestRebind(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"none", "SELECT 1", "SELECT 1"},
		{"one", "SELECT * FROM t WHERE id = ?", "SELECT * FROM t WHERE id = $1"},
		{"many", "INSERT INTO t (a, b, c) VALUES (?, ?,?)", "INSERT INTO t (a, b, c) VALUES ($1, $2,$3)"},
		{"ten and more", "?,?,?,?,?,?,?,?,?,?,?", "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11"},
		{"string literal", "SELECT '?' , ? FROM t WHERE s = 'it''s ?'", "SELECT '?' , $1 FROM t WHERE s = 'it''s ?'"},
		{"quoted identifier", `SELECT "a?b", ? FROM t`, `SELECT "a?b", $1 FROM t`},
		{"comment", "SELECT ? -- why?\nFROM t WHERE x = ?", "SELECT $1 -- why?\nFROM t WHERE x = $2"},
		{"comment at end", "SELECT ? -- what?", "SELECT $1 -- what?"},
		{"unterminated literal", "SELECT ?, 'abc?", "SELECT $1, 'abc?"},
		{"multibyte", "SELECT '夏?' || ?", "SELECT '夏?' || $1"},
	}
	for _, tt := range tests {
		if got := rebind(tt.in); got != tt.want {
			t.Errorf("%s: rebind(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestMigrationsMatch(t *testing.T) {
	// Both dialects carry the same versions under the same names.
	lite, err := migrations(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := migrations(Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("%d SQLite and %d PostgreSQL migrations", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].version != pg[i].version || lite[i].name != pg[i].name {
			t.Errorf("migration %d: SQLite %s, PostgreSQL %s", i, lite[i].name, pg[i].name)
		}
		if lite[i].version != i+1 {
			t.Errorf("migration %s: version %d, want %d (no gaps)", lite[i].name, lite[i].version, i+1)
		}
	}
}
