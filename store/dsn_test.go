package store_test

import (
	"path/filepath"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/store"
)

func TestSQLitePath(t *testing.T) {
	wd, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dsn  string
		want string // "" when the DSN is refused with EINVALID
	}{
		{"/var/lib/shopclip/shopclip.db", "/var/lib/shopclip/shopclip.db"},
		{"data/shopclip.db", filepath.Join(wd, "data/shopclip.db")},
		{"/tmp/odd name?#.db", "/tmp/odd name?#.db"},
		{"sqlite:///var/lib/shopclip.db", "/var/lib/shopclip.db"},
		{"sqlite:data/x.db", filepath.Join(wd, "data/x.db")},
		{"sqlite://data/x.db", filepath.Join(wd, "data/x.db")},
		{"file:///var/lib/shopclip.db", "/var/lib/shopclip.db"},
		{"file://localhost/var/lib/shopclip.db", "/var/lib/shopclip.db"},
		{"file:/var/lib/a%20b.db", "/var/lib/a b.db"},
		{"file:data/x.db", filepath.Join(wd, "data/x.db")},
		{"", ""},
		{":memory:", ""},
		{"sqlite::memory:", ""},
		{"file::memory:", ""},
		{"file:/x.db?mode=memory", ""},
		{"file:/x.db?_pragma=foreign_keys(0)", ""},
		{"file://otherhost/x.db", ""},
		{"sqlite:", ""},
	}
	for _, tt := range tests {
		got, err := store.SQLitePath(tt.dsn)
		if tt.want == "" {
			if code := shopclip.ErrorCode(err); code != shopclip.EINVALID {
				t.Errorf("SQLitePath(%q) = %q, %v; want an EINVALID error", tt.dsn, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("SQLitePath(%q) = %q, %v; want %q", tt.dsn, got, err, tt.want)
		}
	}
}

func TestOpenInvalid(t *testing.T) {
	for _, dsn := range []string{"", ":memory:", "postgres://%zz"} {
		db, err := store.Open(t.Context(), dsn)
		if code := shopclip.ErrorCode(err); code != shopclip.EINVALID || db != nil {
			t.Errorf("Open(%q) = %v, %v; want nil and an EINVALID error", dsn, db, err)
		}
	}
}

func TestCloseZero(t *testing.T) {
	// Close undoes what succeeded: nothing, for a DB that never opened.
	var db store.DB
	if err := db.Close(); err != nil {
		t.Errorf("Close of a zero DB: %v", err)
	}
	if code := shopclip.ErrorCode(db.Ping(t.Context())); code != shopclip.EUNAVAILABLE {
		t.Errorf("Ping of a zero DB: code %q, want %q", code, shopclip.EUNAVAILABLE)
	}
}

func TestOpenUnwritable(t *testing.T) {
	// A path under a regular file cannot be created: Open fails and leaves
	// nothing open.
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	db, err := store.Open(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = store.Open(t.Context(), filepath.Join(file, "sub", "x.db"))
	if err == nil || db != nil {
		t.Fatalf("Open under a file = %v, %v; want an error", db, err)
	}
	if code := shopclip.ErrorCode(err); code != shopclip.EUNAVAILABLE {
		t.Errorf("code %q (err %v), want %q", code, err, shopclip.EUNAVAILABLE)
	}
}
