package backup

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/blob/local"
	"github.com/shopclip/shopclip/store"
)

// fixture is a data directory with a creator, a ready clip and an uploaded
// one, and their objects.
type fixture struct {
	dir     string
	dbPath  string
	db      *store.DB
	blobs   *local.Store
	ready   *shopclip.Clip
	pending *shopclip.Clip
	objects map[string][]byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{dir: t.TempDir(), objects: map[string][]byte{}}
	f.dbPath = filepath.Join(f.dir, "shopclip.db")
	var err error
	if f.db, err = store.Open(ctx, f.dbPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Close() })
	if f.blobs, err = local.New(filepath.Join(f.dir, "blobs")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.blobs.Close() })

	creator := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "Mei", Role: shopclip.RoleCreator}
	if err := f.db.CreateAccount(ctx, creator); err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{"ready", "pending"} {
		c := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: creator.ID, Title: title}
		c.OriginalKey = shopclip.OriginalKey(c.ID)
		f.put(t, c.OriginalKey, []byte("original of "+title))
		if err := f.db.CreateClip(ctx, c); err != nil {
			t.Fatal(err)
		}
		if title == "pending" {
			f.pending = c
			continue
		}
		attempt := shopclip.NewID(shopclip.PrefixAttempt)
		if _, err := f.db.StartClipAttempt(ctx, c.ID, attempt); err != nil {
			t.Fatal(err)
		}
		prefix := shopclip.GenerationPrefix(c.ID, "g1")
		f.put(t, prefix+shopclip.MasterPlaylist, []byte("#EXTM3U\n"))
		f.put(t, prefix+"v0/seg_00001.m4s", bytes.Repeat([]byte{7}, 100_000))
		f.put(t, prefix+"v0/empty", nil)
		if err := f.db.PublishClip(ctx, c.ID, attempt, &shopclip.Publication{Generation: "g1", OutputPrefix: prefix, Width: 720, Height: 1280}); err != nil {
			t.Fatal(err)
		}
		if f.ready, err = f.db.Clip(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) put(t *testing.T, key string, b []byte) {
	t.Helper()
	if err := f.blobs.Put(t.Context(), key, bytes.NewReader(b), int64(len(b)), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	f.objects[key] = b
}

func (f *fixture) source() Source { return Source{Database: f.dbPath, Blobs: f.blobs} }

// target is a new, empty place to restore into.
func newTarget(t *testing.T) (Target, *local.Store) {
	t.Helper()
	dir := t.TempDir()
	blobs, err := local.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	return Target{Database: filepath.Join(dir, "shopclip.db"), Blobs: blobs}, blobs
}

func readAll(t *testing.T, s blob.Store) map[string][]byte {
	t.Helper()
	infos, err := s.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, i := range infos {
		o, err := s.Open(t.Context(), i.Key)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(o)
		o.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[i.Key] = b
	}
	return out
}

func equalObjects(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// TestCreateRestore backs up a data directory, checks the manifest, and
// restores it elsewhere: the same clips and the same objects.
func TestCreateRestore(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(t.TempDir(), "backup")
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	m, err := Create(t.Context(), f.source(), out, Options{Version: "test", Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	wantRows := map[string]int64{"accounts": 1, "clips": 2, "clips.ready": 1, "clips.uploaded": 1}
	for k, want := range wantRows {
		if got := m.Rows[k]; got != want {
			t.Errorf("rows[%s] = %d, want %d", k, got, want)
		}
	}
	var bytesWant int64
	for _, b := range f.objects {
		bytesWant += int64(len(b))
	}
	if m.Objects != int64(len(f.objects)) || m.Bytes != bytesWant || len(m.Missing) != 0 || m.Vanished != 0 {
		t.Errorf("manifest: %d objects, %d bytes, missing %v, vanished %d; want %d, %d, none, 0", m.Objects, m.Bytes, m.Missing, m.Vanished, len(f.objects), bytesWant)
	}
	if m.SchemaVersion < 1 || m.Version != "test" || !m.SnapshotAt.Equal(at) || m.Format != Format {
		t.Errorf("manifest header: %+v", m)
	}
	if len(m.Files) != len(f.objects)+1 || !slices.IsSortedFunc(m.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) }) {
		t.Errorf("files: %+v", m.Files)
	}
	onDisk, err := ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := mustJSON(t, m), mustJSON(t, onDisk); a != b {
		t.Errorf("manifest on disk:\n%s\nreturned:\n%s", b, a)
	}
	for _, side := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat(filepath.Join(out, DatabaseFile+side)); err == nil {
			t.Errorf("the backup holds %s%s: the database is not one file", DatabaseFile, side)
		}
	}

	dst, blobs := newTarget(t)
	if _, err := Restore(t.Context(), out, dst); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, blobs); !equalObjects(got, f.objects) {
		t.Errorf("restored objects %d, want %d, or contents differ", len(got), len(f.objects))
	}
	db, err := store.Open(t.Context(), dst.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, want := range []*shopclip.Clip{f.ready, f.pending} {
		got, err := db.Clip(t.Context(), want.ID)
		if err != nil {
			t.Fatalf("restored clip %s: %v", want.ID, err)
		}
		if got.Status != want.Status || got.OutputPrefix != want.OutputPrefix || got.OriginalKey != want.OriginalKey {
			t.Errorf("restored clip %+v, want %+v", got, want)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCreateIsASnapshot backs up while another connection commits
// transactions that each insert into two tables: the copy holds every
// transaction committed before the backup began, and each one whole.
func TestCreateIsASnapshot(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	w, err := sql.Open("sqlite", sqliteURI(f.dbPath, map[string][]string{"_busy_timeout": {"10000"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	for _, q := range []string{"CREATE TABLE left_side (n INTEGER, pad BLOB)", "CREATE TABLE right_side (n INTEGER, pad BLOB)"} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var committed atomic.Int64
	pad := bytes.Repeat([]byte{1}, 4096)
	insert := func(i int64) error {
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, q := range []string{"INSERT INTO left_side VALUES (?, ?)", "INSERT INTO right_side VALUES (?, ?)"} {
			if _, err := tx.ExecContext(ctx, q, i, pad); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		committed.Store(i)
		return nil
	}
	for i := int64(1); i <= 500; i++ { // a few MB, so the copy takes a while
		if err := insert(i); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var werr error
	wg.Go(func() {
		for i := committed.Load() + 1; i < 1_000_000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if werr = insert(i); werr != nil {
				return
			}
		}
	})
	before := committed.Load()
	out := filepath.Join(t.TempDir(), "backup")
	_, err = Create(ctx, f.source(), out, Options{})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if werr != nil {
		t.Fatalf("writer: %v", werr)
	}
	cp, err := sql.Open("sqlite", sqliteURI(filepath.Join(out, DatabaseFile), nil))
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	var left, right, maxLeft int64
	if err := cp.QueryRow("SELECT (SELECT count(*) FROM left_side), (SELECT count(*) FROM right_side), (SELECT max(n) FROM left_side)").Scan(&left, &right, &maxLeft); err != nil {
		t.Fatal(err)
	}
	t.Logf("committed before the backup: %d; in the copy: %d; committed by the end: %d", before, left, committed.Load())
	if left != right {
		t.Errorf("the copy holds %d rows on one side and %d on the other: a transaction cut in two", left, right)
	}
	if left < before || maxLeft != left {
		t.Errorf("the copy holds %d transactions (last %d), want all %d committed before it began", left, maxLeft, before)
	}
}

func TestCreateRefusesNonEmptyOut(t *testing.T) {
	f := newFixture(t)
	out := t.TempDir()
	keep := filepath.Join(out, "precious.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Create(t.Context(), f.source(), out, Options{})
	if got := shopclip.ErrorCode(err); got != shopclip.ECONFLICT {
		t.Fatalf("Create into a non-empty dir: %v (code %q), want %q", err, got, shopclip.ECONFLICT)
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" {
		t.Errorf("the file already there: %q, %v", b, err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 1 {
		t.Errorf("the directory holds %d entries after the refusal, want 1", len(ents))
	}
}

// vanishing is a blob store whose listed objects are deleted just before
// they are opened, as a clip deleted while a backup runs.
type vanishing struct {
	blob.Store
	key string
}

func (v vanishing) Open(ctx context.Context, key string) (blob.Object, error) {
	if key == v.key {
		if err := v.Store.Delete(ctx, key); err != nil {
			return nil, err
		}
	}
	return v.Store.Open(ctx, key)
}

// TestCreateReportsMissing: an object a row references that is deleted
// while the backup runs is counted as vanished and named in Missing.
func TestCreateReportsMissing(t *testing.T) {
	f := newFixture(t)
	key := f.ready.OutputPrefix + shopclip.MasterPlaylist
	src := f.source()
	src.Blobs = vanishing{f.blobs, key}
	m, err := Create(t.Context(), src, filepath.Join(t.TempDir(), "b"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf("%s (clip %s)", key, f.ready.ID)}
	if m.Vanished != 1 || !slices.Equal(m.Missing, want) {
		t.Errorf("vanished %d, missing %q; want 1, %q", m.Vanished, m.Missing, want)
	}
	if m.Objects != int64(len(f.objects)-1) {
		t.Errorf("objects %d, want %d", m.Objects, len(f.objects)-1)
	}
}

// TestRestoreRefusesDamaged: a backup whose files differ from its manifest
// in any way is refused, and the target is left empty.
func TestRestoreRefusesDamaged(t *testing.T) {
	f := newFixture(t)
	good := filepath.Join(t.TempDir(), "backup")
	if _, err := Create(t.Context(), f.source(), good, Options{}); err != nil {
		t.Fatal(err)
	}
	seg := filepath.Join(BlobsDir, filepath.FromSlash(f.ready.OutputPrefix), "v0", "seg_00001.m4s")
	editManifest := func(edit func(m *Manifest)) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			m, err := ReadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			edit(m)
			b, _ := json.Marshal(m)
			if err := os.WriteFile(filepath.Join(dir, ManifestFile), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"a byte of a segment changed", func(t *testing.T, dir string) { flipByte(t, filepath.Join(dir, seg), 50_000) }, "does not match its checksum"},
		{"a byte of the database changed", func(t *testing.T, dir string) { flipByte(t, filepath.Join(dir, DatabaseFile), 200) }, "does not match its checksum"},
		{"the database cut short", func(t *testing.T, dir string) {
			if err := os.Truncate(filepath.Join(dir, DatabaseFile), 4096); err != nil {
				t.Fatal(err)
			}
		}, "shorter"},
		{"a segment grown", func(t *testing.T, dir string) {
			fh, err := os.OpenFile(filepath.Join(dir, seg), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			fh.Write([]byte("x"))
			fh.Close()
		}, "longer"},
		{"an empty object no longer empty", func(t *testing.T, dir string) {
			p := filepath.Join(dir, BlobsDir, filepath.FromSlash(f.ready.OutputPrefix), "v0", "empty")
			if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "longer"},
		{"a file added", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, BlobsDir, "originals", "extra"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "not in the manifest"},
		{"a file removed", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, seg)); err != nil {
				t.Fatal(err)
			}
		}, "is missing"},
		{"a link in place of a file", func(t *testing.T, dir string) {
			p := filepath.Join(dir, seg)
			os.Remove(p)
			if err := os.Symlink("/etc/passwd", p); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
		{"no manifest", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, ManifestFile)) }, "did not finish"},
		{"a path outside the backup", editManifest(func(m *Manifest) {
			m.Files = append(m.Files, File{Path: BlobsDir + "/../../etc/passwd"})
		}), "does not hold"},
		{"a checksum edited", editManifest(func(m *Manifest) {
			m.Files[len(m.Files)-1].SHA256 = strings.Repeat("0", 64)
		}), "does not match its checksum"},
		{"another format", editManifest(func(m *Manifest) { m.Format = 2 }), "format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "backup")
			if err := os.CopyFS(dir, os.DirFS(good)); err != nil {
				t.Fatal(err)
			}
			tt.damage(t, dir)
			dst, blobs := newTarget(t)
			_, err := Restore(t.Context(), dir, dst)
			if got := shopclip.ErrorCode(err); got != shopclip.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Restore: %v (code %q), want %q mentioning %q", err, got, shopclip.EINVALID, tt.want)
			}
			if _, err := os.Stat(dst.Database); err == nil {
				t.Errorf("the database was restored from a damaged backup")
			}
			if got := readAll(t, blobs); len(got) != 0 {
				t.Errorf("%d objects left in the target after the refusal", len(got))
			}
			if ents, _ := os.ReadDir(filepath.Dir(dst.Database)); len(ents) != 1 { // blobs/
				t.Errorf("the target directory holds %d entries after the refusal, want only blobs/", len(ents))
			}
		})
	}
}

func flipByte(t *testing.T, p string, off int64) {
	t.Helper()
	fh, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	b := []byte{0}
	if _, err := fh.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := fh.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// TestRestoreRefusesNonEmptyTarget: restore never writes over data.
func TestRestoreRefusesNonEmptyTarget(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(t.TempDir(), "backup")
	if _, err := Create(t.Context(), f.source(), out, Options{}); err != nil {
		t.Fatal(err)
	}
	t.Run("database exists", func(t *testing.T) {
		dst, _ := newTarget(t)
		if err := os.WriteFile(dst.Database, []byte("mine"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Restore(t.Context(), out, dst)
		if got := shopclip.ErrorCode(err); got != shopclip.ECONFLICT {
			t.Fatalf("Restore: %v (code %q), want %q", err, got, shopclip.ECONFLICT)
		}
		if b, _ := os.ReadFile(dst.Database); string(b) != "mine" {
			t.Errorf("the database there was overwritten")
		}
	})
	t.Run("objects exist", func(t *testing.T) {
		dst, blobs := newTarget(t)
		if err := blobs.Put(t.Context(), "originals/mine", strings.NewReader("mine"), 4, blob.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err := Restore(t.Context(), out, dst)
		if got := shopclip.ErrorCode(err); got != shopclip.ECONFLICT {
			t.Fatalf("Restore: %v (code %q), want %q", err, got, shopclip.ECONFLICT)
		}
		if got := readAll(t, blobs); len(got) != 1 {
			t.Errorf("the target holds %d objects, want only its own", len(got))
		}
		if _, err := os.Stat(dst.Database); err == nil {
			t.Errorf("a database was restored beside existing objects")
		}
	})
}
