// Package backup makes and restores copies of the embedded default's data
// (`shopclip backup`, `shopclip restore`): the SQLite database, copied
// through SQLite's online backup API, and the objects of the blob store,
// with a manifest of what was copied and its checksums.
//
// # Consistency while shopclip runs
//
// The database is copied first, in one step of the online backup API
// (sqlite3_backup_step with -1): it reads one snapshot in a single read
// transaction, which in WAL mode never blocks the running writer, so the
// copy holds every transaction committed before it and none after. The
// objects are copied after it. Objects are written under fresh keys (an
// upload's original, a transcode attempt's generation, a share MP4 named by
// its content) and are only ever replaced whole by a rename (the overlays),
// so every object a row of the snapshot references already existed when the
// snapshot was taken and is still there when the objects are copied — unless
// something deleted it meanwhile: a clip deleted, or an old generation
// collected by the janitor, while the backup runs. The backup checks the
// rows of its snapshot against the objects it copied and lists what is
// missing in the manifest (Manifest.Missing), so that such a clip is known.
// Objects written after the snapshot are copied too if the walk meets them;
// no row references them, and the janitor removes them after its grace.
//
// The job queue (Redis) is not part of a backup: what its tasks do is
// re-derived from the database. The reconciler enqueues again the clips left
// uploaded or processing (a processing one once it has been still for two
// minutes), and the API prices the pop-ups and their WebVTT track from the
// database on every request. What is lost with the queue is the scheduled
// recomputation of a clip's stored timeline (overlays.json, overlays.vtt and
// the share MP4's labels) at its next discount boundary: the next change to
// the clip's tags or products recomputes it.
//
// # Layout of a backup directory
//
//	manifest.json   Manifest, written last: a directory without it is incomplete
//	shopclip.db     the SQLite database, a single file (journal mode DELETE)
//	blobs/KEY       one file per object, under its key
package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
)

// Names inside a backup directory.
const (
	ManifestFile = "manifest.json"
	DatabaseFile = "shopclip.db"
	BlobsDir     = "blobs"
)

// Format is the version of the backup layout this package writes and reads.
const Format = 1

// Manifest describes a backup: what it holds and the checksum of every file.
type Manifest struct {
	Format int `json:"format"`
	// Version is the version of the shopclip that made the backup.
	Version string `json:"shopclip_version"`
	// SnapshotAt is when the database was copied: the backup holds every
	// change committed before it.
	SnapshotAt time.Time `json:"snapshot_at"`
	// FinishedAt is when the last object was copied.
	FinishedAt time.Time `json:"finished_at"`
	// SchemaVersion is the last migration applied to the database.
	SchemaVersion int64 `json:"schema_version"`
	// Rows counts the rows of the main tables ("clips", "products", …)
	// and the clips by status ("clips.ready", …).
	Rows map[string]int64 `json:"rows"`
	// Objects and Bytes count the objects copied and their sizes.
	Objects int64 `json:"objects"`
	Bytes   int64 `json:"bytes"`
	// Vanished counts the objects deleted between being listed and being
	// copied.
	Vanished int64 `json:"vanished,omitempty"`
	// Missing lists the objects that rows of the database reference and the
	// backup lacks, each as "KEY (clip ID)": deleted while the backup ran.
	Missing []string `json:"missing,omitempty"`
	// Files lists every file of the backup but the manifest, sorted.
	Files []File `json:"files"`
}

// File is one file of a backup.
type File struct {
	// Path is slash-separated, relative to the backup directory:
	// DatabaseFile, or BlobsDir + "/" + the object's key.
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Source is the data a backup copies.
type Source struct {
	// Database is the path of the SQLite database file.
	Database string
	// Blobs is the blob store whose objects are copied.
	Blobs blob.Store
}

// Options tune Create.
type Options struct {
	// Version is recorded in the manifest.
	Version string
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Create backs up src into the directory out, which must be empty or
// missing, and returns the manifest it wrote. On failure it removes what
// it wrote.
func Create(ctx context.Context, src Source, out string, opts Options) (m *Manifest, err error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if fi, err := os.Stat(src.Database); err != nil {
		return nil, fmt.Errorf("backup: %w: %w", shopclip.Errorf(shopclip.ENOTFOUND, "No database at %s.", src.Database), err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("backup: %w", shopclip.Errorf(shopclip.EINVALID, "%s is not a database file.", src.Database))
	}
	if err := makeEmptyDir(out); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			removeContents(out)
		}
	}()

	m = &Manifest{Format: Format, Version: opts.Version, Rows: map[string]int64{}, SnapshotAt: now().UTC()}
	dbCopy := filepath.Join(out, DatabaseFile)
	if err := copyDatabase(ctx, src.Database, dbCopy); err != nil {
		return nil, err
	}
	refs, err := describeDatabase(ctx, dbCopy, m)
	if err != nil {
		return nil, err
	}
	f, err := checksum(dbCopy, DatabaseFile)
	if err != nil {
		return nil, err
	}
	m.Files = append(m.Files, f)

	copied := map[string]bool{}
	for after := ""; ; {
		page, err := src.Blobs.ListPage(ctx, "", after, blob.MaxListPage)
		if err != nil {
			return nil, fmt.Errorf("backup: list objects: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, info := range page {
			f, err := copyObject(ctx, src.Blobs, info.Key, out)
			if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
				m.Vanished++
				continue
			} else if err != nil {
				return nil, err
			}
			m.Files = append(m.Files, f)
			m.Objects++
			m.Bytes += f.Size
			copied[info.Key] = true
		}
		after = page[len(page)-1].Key
	}
	for _, r := range refs {
		if !copied[r.key] {
			m.Missing = append(m.Missing, fmt.Sprintf("%s (clip %s)", r.key, r.clip))
		}
	}
	if err := syncTree(out); err != nil {
		return nil, err
	}
	m.FinishedAt = now().UTC()
	slices.SortFunc(m.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileSync(filepath.Join(out, ManifestFile), append(b, '\n')); err != nil {
		return nil, fmt.Errorf("backup: write manifest: %w", err)
	}
	return m, syncDir(out)
}

// backuper is the modernc.org/sqlite connection's online backup API.
type backuper interface {
	NewBackup(dstURI string) (*sqlite.Backup, error)
}

// copyDatabase copies the SQLite database at src to the new file dst with
// the online backup API, in one step, then makes dst a self-contained file
// (journal mode DELETE) and checks its integrity.
func copyDatabase(ctx context.Context, src, dst string) error {
	db, err := sql.Open("sqlite", sqliteURI(src, url.Values{"_busy_timeout": {"10000"}, "_query_only": {"1"}}))
	if err != nil {
		return fmt.Errorf("backup: open database: %w", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("backup: open database: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		b, ok := dc.(backuper)
		if !ok {
			return fmt.Errorf("the sqlite driver (%T) has no online backup API", dc)
		}
		bk, err := b.NewBackup(sqliteURI(dst, nil))
		if err != nil {
			return err
		}
		// One step copies every page within one read transaction: a
		// snapshot. A step that meets a lock (SQLITE_BUSY, SQLITE_LOCKED)
		// copied nothing and is tried again.
		for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
			_, err = bk.Step(-1)
			if err == nil || !isBusy(err) || wait == time.Second {
				break
			}
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-time.After(wait):
				continue
			}
			break
		}
		if ferr := bk.Finish(); err == nil {
			err = ferr
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("backup: copy database: %w", err)
	}
	cp, err := sql.Open("sqlite", sqliteURI(dst, nil))
	if err != nil {
		return fmt.Errorf("backup: open the copy: %w", err)
	}
	defer cp.Close()
	cp.SetMaxOpenConns(1)
	if _, err := cp.ExecContext(ctx, "PRAGMA journal_mode=DELETE"); err != nil {
		return fmt.Errorf("backup: the copy's journal: %w", err)
	}
	if err := integrity(ctx, cp); err != nil {
		return fmt.Errorf("backup: the copy: %w", err)
	}
	if err := cp.Close(); err != nil {
		return fmt.Errorf("backup: close the copy: %w", err)
	}
	return nil
}

func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code() & 0xff
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

// integrity runs SQLite's integrity check.
func integrity(ctx context.Context, db *sql.DB) error {
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return shopclip.Errorf(shopclip.EINVALID, "The database fails its integrity check: %s", res)
	}
	return nil
}

// sqliteURI is the "file:" URI of the database file at p, with query q
// (the store's form: the path escaped as SQLite expects).
func sqliteURI(p string, q url.Values) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// ref is an object a row of the database references.
type ref struct{ key, clip string }

// countedTables are the tables whose rows the manifest counts, when they
// exist.
var countedTables = []string{"accounts", "api_keys", "clips", "products", "discounts", "tags", "events"}

// describeDatabase fills the manifest's schema version and row counts from
// the copy at file, and returns the objects its clips reference: each
// clip's original, a ready clip's master playlist and share MP4.
func describeDatabase(ctx context.Context, file string, m *Manifest) ([]ref, error) {
	db, err := sql.Open("sqlite", sqliteURI(file, url.Values{"_query_only": {"1"}}))
	if err != nil {
		return nil, fmt.Errorf("backup: read the copy: %w", err)
	}
	defer db.Close()
	fail := func(err error) ([]ref, error) { return nil, fmt.Errorf("backup: read the copy: %w", err) }
	if err := db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&m.SchemaVersion); err != nil {
		return fail(err)
	}
	for _, t := range countedTables {
		var exists bool
		if err := db.QueryRowContext(ctx, "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?", t).Scan(&exists); err != nil {
			return fail(err)
		} else if !exists {
			continue
		}
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return fail(err)
		}
		m.Rows[t] = n
	}
	rows, err := db.QueryContext(ctx, "SELECT id, status, original_key, output_prefix, share_key FROM clips ORDER BY id")
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	var refs []ref
	for rows.Next() {
		var id, status, original, prefix, share string
		if err := rows.Scan(&id, &status, &original, &prefix, &share); err != nil {
			return fail(err)
		}
		m.Rows["clips."+status]++
		refs = append(refs, ref{original, id})
		if status == string(shopclip.ClipReady) {
			refs = append(refs, ref{path.Join(prefix, shopclip.MasterPlaylist), id})
			if share != "" {
				refs = append(refs, ref{share, id})
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return refs, nil
}

// copyObject copies the object under key into out/blobs/KEY and returns
// its entry; an object gone since it was listed is ENOTFOUND.
func copyObject(ctx context.Context, blobs blob.Store, key, out string) (File, error) {
	if !blob.ValidKey(key) { // never a path outside out
		return File{}, fmt.Errorf("backup: %w", blob.InvalidKey(key))
	}
	obj, err := blobs.Open(ctx, key)
	if err != nil {
		return File{}, fmt.Errorf("backup: open object %q: %w", key, err)
	}
	defer obj.Close()
	rel := BlobsDir + "/" + key
	dst := filepath.Join(out, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return File{}, fmt.Errorf("backup: %w", err)
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return File{}, fmt.Errorf("backup: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), ctxReader{ctx, obj})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, fmt.Errorf("backup: copy object %q: %w", key, err)
	}
	return File{Path: rel, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// checksum returns the entry of the file at p, named rel.
func checksum(p, rel string) (File, error) {
	f, err := os.Open(p)
	if err != nil {
		return File{}, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return File{}, fmt.Errorf("backup: checksum %s: %w", rel, err)
	}
	return File{Path: rel, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// verifier reads r and fails as soon as what it read differs from the
// file's size or checksum (checked on its last byte, before the end is
// reported): a Put or a copy fed by it never stores damaged data.
type verifier struct {
	ctx     context.Context
	r       io.Reader
	f       File
	h       hash.Hash
	n       int64
	checked bool
}

func newVerifier(ctx context.Context, r io.Reader, f File) *verifier {
	return &verifier{ctx: ctx, r: r, f: f, h: sha256.New()}
}

func (v *verifier) Read(p []byte) (int, error) {
	if err := v.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	switch {
	case v.n > v.f.Size:
		return n, damaged(v.f.Path, "is longer than the manifest says")
	case v.n == v.f.Size && !v.checked && (n > 0 || err == io.EOF):
		v.checked = true
		if hex.EncodeToString(v.h.Sum(nil)) != v.f.SHA256 {
			return n, damaged(v.f.Path, "does not match its checksum")
		}
	case err == io.EOF && v.n < v.f.Size:
		return n, damaged(v.f.Path, "is shorter than the manifest says")
	}
	return n, err
}

// damaged is the error of a backup file that does not match its manifest.
func damaged(rel, what string) error {
	return shopclip.Errorf(shopclip.EINVALID, "The backup is damaged: %s %s.", rel, what)
}

// makeEmptyDir creates dir, or checks that it is an empty directory.
func makeEmptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		return nil
	} else if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("backup: %w", shopclip.Errorf(shopclip.ECONFLICT, "%s is not empty: give a new or empty directory.", dir))
	}
	return nil
}

// removeContents removes everything inside dir.
func removeContents(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// writeFileSync writes a new file and fsyncs it.
func writeFileSync(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncTree fsyncs every directory under root (the files were synced as
// they were written), so their entries are on disk.
func syncTree(root string) error {
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return syncDir(p)
		}
		return nil
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
