// Package local is the blob backend of the all-in-one deployment: objects are
// files under one directory on the local disk, at the path their key names.
//
// Every key is checked with blob.ValidKey and every file operation goes
// through an os.Root, so no key can reach outside the directory. Put writes
// a temporary file next to the object, fsyncs it and renames (or, for
// IfNotExists, hard-links) it into place: readers see the old object or the
// whole new one, never a part. Temporary files carry a "~" in their names,
// which no key can, so they never show up as objects.
//
// The disk keeps no content type: Info.ContentType is derived from the key's
// extension with blob.ContentTypeByKey. A key cannot name both an object and
// a "directory" of other objects ("a" and "a/b"); the second Put of such a
// pair fails with ECONFLICT. The backend cannot sign URLs (SignedURL answers
// EUNSUPPORTED): the storefront streams these objects itself.
package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
)

// tempMarker is in the name of every temporary file. "~" is outside the key
// alphabet, so a temporary file never collides with an object and List and
// DeletePrefix can tell them apart.
const tempMarker = ".~put-"

// copyBufSize is the chunk Put copies between checks of its context.
const copyBufSize = 256 << 10

// Store is a blob.Store kept in a local directory. It is safe for concurrent
// use, also by several processes sharing the directory.
type Store struct {
	dir  string
	root *os.Root
}

var _ blob.Store = (*Store)(nil)

// New returns a Store keeping its objects under dir, which it creates if
// needed. Close releases the directory handle it holds.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, shopclip.Errorf(shopclip.EINVALID, "local: no directory given")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("local: create %q: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("local: open %q: %w", dir, err)
	}
	return &Store{dir: dir, root: root}, nil
}

// Close releases the handle on the directory; the Store is unusable after.
func (s *Store) Close() error {
	return s.root.Close()
}

// Dir returns the directory the Store keeps its objects in.
func (s *Store) Dir() string {
	return s.dir
}

// LocalPath implements blob.LocalFiler: the path of the file that holds the
// object under key. It is read-only to callers (objects are replaced by
// renaming, so a hard link keeps the version it was made from).
func (s *Store) LocalPath(key string) (string, error) {
	if !blob.ValidKey(key) {
		return "", fmt.Errorf("local: path: %w", blob.InvalidKey(key))
	}
	fi, err := s.root.Lstat(key)
	if err != nil {
		return "", fmt.Errorf("local: path %q: %w", key, translate(err, false))
	} else if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("local: path %q: %w", key, shopclip.Errorf(shopclip.ENOTFOUND, "No object %q.", key))
	}
	return filepath.Join(s.dir, filepath.FromSlash(key)), nil
}

// Put implements blob.Store. The object is fsynced before it becomes
// visible. opts.ContentType is ignored: the disk keeps none.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, opts blob.PutOptions) error {
	if !blob.ValidKey(key) {
		return fmt.Errorf("local: put: %w", blob.InvalidKey(key))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local: put %q: %w", key, blob.CtxError(err))
	}
	tmp, tmpName, err := s.createTemp(path.Dir(key))
	if err != nil {
		return fmt.Errorf("local: put %q: %w", key, translate(err, true))
	}
	renamed := false
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		if !renamed {
			s.root.Remove(tmpName)
		}
	}()

	if err := copyObject(ctx, tmp, r, size); err != nil {
		return fmt.Errorf("local: put %q: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("local: put %q: sync: %w", key, translate(err, true))
	}
	err = tmp.Close()
	tmp = nil
	if err != nil {
		return fmt.Errorf("local: put %q: close: %w", key, translate(err, true))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local: put %q: %w", key, blob.CtxError(err))
	}

	if opts.IfNotExists {
		// A hard link fails if the name exists, atomically: of concurrent
		// creators exactly one wins. The temporary name is removed after.
		err = s.root.Link(tmpName, key)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("local: put %q: %w", key, blob.Coded(shopclip.ECONFLICT, "object already exists", err))
		}
	} else {
		err = s.root.Rename(tmpName, key)
		renamed = err == nil
	}
	if err != nil {
		return fmt.Errorf("local: put %q: %w", key, translate(err, true))
	}
	s.syncDir(path.Dir(key))
	return nil
}

// createTemp creates a new temporary file in dir (relative to the root),
// creating dir first. A concurrent Delete may remove dir between the two
// steps (it prunes empty directories), so that is retried.
func (s *Store) createTemp(dir string) (*os.File, string, error) {
	var err error
	for range 100 {
		if dir != "." {
			err = s.root.MkdirAll(dir, 0o755)
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist) {
				// A parent was pruned while we made it, or a concurrent Put
				// made it first: again.
				continue
			} else if err != nil {
				return nil, "", err
			}
		}
		var b [8]byte
		rand.Read(b[:])
		name := path.Join(dir, tempMarker+hex.EncodeToString(b[:]))
		var f *os.File
		f, err = s.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrExist) {
			return nil, "", err
		}
	}
	return nil, "", err
}

// copyObject copies r to w, checking ctx between chunks. When size >= 0, r
// must yield exactly size bytes.
func copyObject(ctx context.Context, w io.Writer, r io.Reader, size int64) error {
	if size >= 0 {
		r = io.LimitReader(r, size+1) // one more byte tells a longer reader
	}
	buf := make([]byte, copyBufSize)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return blob.CtxError(err)
		}
		m, rerr := r.Read(buf)
		if m > 0 {
			n += int64(m)
			if size >= 0 && n > size {
				return shopclip.Errorf(shopclip.EINVALID, "blob: object is longer than its declared size %d", size)
			}
			if _, err := w.Write(buf[:m]); err != nil {
				return translate(err, true)
			}
		}
		if rerr == io.EOF {
			break
		} else if rerr != nil {
			return fmt.Errorf("read: %w", rerr)
		}
	}
	if size >= 0 && n != size {
		return shopclip.Errorf(shopclip.EINVALID, "blob: object has %d bytes, not its declared size %d", n, size)
	}
	return nil
}

// syncDir fsyncs a directory so that a rename in it survives a crash. It is
// best effort: the object is already in place when it runs.
func (s *Store) syncDir(dir string) {
	d, err := s.root.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// Open implements blob.Store. The returned Object is an open file: it keeps
// reading the object it opened even if the key is overwritten or deleted.
func (s *Store) Open(ctx context.Context, key string) (blob.Object, error) {
	if !blob.ValidKey(key) {
		return nil, fmt.Errorf("local: open: %w", blob.InvalidKey(key))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("local: open %q: %w", key, blob.CtxError(err))
	}
	f, err := s.root.Open(key)
	if err != nil {
		return nil, fmt.Errorf("local: open %q: %w", key, translate(err, false))
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("local: open %q: %w", key, translate(err, false))
	}
	return &object{f: f, info: info(key, fi)}, nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	if !blob.ValidKey(key) {
		return blob.Info{}, fmt.Errorf("local: stat: %w", blob.InvalidKey(key))
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, fmt.Errorf("local: stat %q: %w", key, blob.CtxError(err))
	}
	fi, err := s.root.Stat(key)
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return blob.Info{}, fmt.Errorf("local: stat %q: %w", key, translate(err, false))
	}
	return info(key, fi), nil
}

// Delete implements blob.Store. Directories left empty are removed, up to
// (not including) the Store's directory.
func (s *Store) Delete(ctx context.Context, key string) error {
	if !blob.ValidKey(key) {
		return fmt.Errorf("local: delete: %w", blob.InvalidKey(key))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local: delete %q: %w", key, blob.CtxError(err))
	}
	fi, err := s.root.Lstat(key)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || err == nil && fi.IsDir() {
		return nil // no object under key ("a/b" may be a directory of objects)
	} else if err != nil {
		return fmt.Errorf("local: delete %q: %w", key, translate(err, false))
	}
	if err := s.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("local: delete %q: %w", key, translate(err, false))
	}
	s.pruneDirs(path.Dir(key))
	return nil
}

// RemoveStaleTemp removes the temporary files of Puts that were cut off
// (the process was killed mid-write) and are older than olderThan, and
// returns how many it removed. Puts in progress are younger; run it at
// startup or now and then.
func (s *Store) RemoveStaleTemp(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	n := 0
	err := fs.WalkDir(s.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() || !strings.HasPrefix(d.Name(), tempMarker) {
			return nil
		}
		fi, err := d.Info()
		if err != nil || fi.ModTime().After(cutoff) {
			return nil
		}
		if err := s.root.Remove(p); err == nil {
			n++
			s.pruneDirs(path.Dir(p))
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("local: remove stale temporary files: %w", err)
	}
	return n, nil
}

// pruneDirs removes dir and its parents while they are empty, stopping below
// the root. Errors (a directory not empty, a concurrent Put) end it quietly.
func (s *Store) pruneDirs(dir string) {
	for dir != "." && dir != "/" {
		if err := s.root.Remove(dir); err != nil {
			return
		}
		dir = path.Dir(dir)
	}
}

// List implements blob.Store. prefix may end mid-segment ("clips/a" matches
// "clips/abc/x"); see blob.ValidListPrefix.
func (s *Store) List(ctx context.Context, prefix string) ([]blob.Info, error) {
	if !blob.ValidListPrefix(prefix) {
		return nil, fmt.Errorf("local: list: %w", shopclip.Errorf(shopclip.EINVALID, "blob: invalid prefix %q", prefix))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("local: list %q: %w", prefix, blob.CtxError(err))
	}
	infos := []blob.Info{}
	err := s.walk(ctx, prefix, func(key string, d fs.DirEntry) error {
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted while we walked
		} else if err != nil {
			return err
		}
		infos = append(infos, info(key, fi))
		return nil
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("local: list %q: %w", prefix, err)
	}
	// A directory walk is sorted per directory, which is not key order:
	// "a.x" sorts before "a/b".
	slices.SortFunc(infos, func(a, b blob.Info) int { return strings.Compare(a.Key, b.Key) })
	return infos, nil
}

// DeletePrefix implements blob.Store. Temporary files of Puts in progress are
// left alone; directories left empty are removed.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" || !blob.ValidPrefix(prefix) {
		return fmt.Errorf("local: delete prefix: %w", shopclip.Errorf(shopclip.EINVALID, "blob: invalid prefix %q", prefix))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local: delete prefix %q: %w", prefix, blob.CtxError(err))
	}
	var dirs []string
	err := s.walk(ctx, prefix, func(key string, _ fs.DirEntry) error {
		if err := s.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return translate(err, false)
		}
		return nil
	}, func(dir string) { dirs = append(dirs, dir) })
	if err != nil {
		return fmt.Errorf("local: delete prefix %q: %w", prefix, err)
	}
	// Directories were visited parents first: remove them children first.
	for _, dir := range slices.Backward(dirs) {
		s.root.Remove(dir)
	}
	s.pruneDirs(strings.TrimSuffix(prefix, "/"))
	return nil
}

// walk calls object for every object whose key starts with prefix, and dir
// (when not nil) for every directory entirely under prefix, parents first. It
// skips temporary files and anything that is not a regular file or a
// directory, and checks ctx as it goes.
func (s *Store) walk(ctx context.Context, prefix string, object func(key string, d fs.DirEntry) error, dir func(dir string)) error {
	start, part := ".", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start, part = prefix[:i], prefix[i+1:]
	}
	err := fs.WalkDir(s.root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				// start is missing or a file, or an entry vanished
				// under a concurrent Delete: nothing (more) there.
				if p == start {
					return fs.SkipAll
				}
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return blob.CtxError(err)
		}
		if p == start {
			if !d.IsDir() {
				return fs.SkipAll
			}
			return nil
		}
		name := d.Name()
		if path.Dir(p) == start && !strings.HasPrefix(name, part) || !blob.ValidKey(name) {
			// Outside the prefix, or not ours (a temporary file).
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			if dir != nil {
				dir(p)
			}
			return nil
		case d.Type().IsRegular():
			return object(p, d)
		}
		return nil
	})
	return err
}

// SignedURL implements blob.Store: a local directory cannot sign URLs, so it
// always fails with EUNSUPPORTED.
func (s *Store) SignedURL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	return "", fmt.Errorf("local: signed url %q: %w", key,
		shopclip.Errorf(shopclip.EUNSUPPORTED, "blob: the local directory backend cannot sign URLs"))
}

// Ping implements blob.Store: it checks that the directory is still there.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local: ping: %w", blob.CtxError(err))
	}
	// The handle stays valid when the directory is removed or replaced:
	// compare it with what the path names now.
	fi, err := s.root.Stat(".")
	if err == nil {
		var now fs.FileInfo
		if now, err = os.Stat(s.dir); err == nil && !os.SameFile(fi, now) {
			err = errors.New("the directory was replaced")
		}
	}
	if err != nil {
		return fmt.Errorf("local: ping %q: %w", s.dir, blob.Coded(shopclip.EUNAVAILABLE, "object storage unavailable", err))
	}
	return nil
}

func info(key string, fi fs.FileInfo) blob.Info {
	return blob.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime(), ContentType: blob.ContentTypeByKey(key)}
}

// object is an open file that is a blob.Object.
type object struct {
	f    *os.File
	info blob.Info
}

func (o *object) Read(p []byte) (int, error)                   { return o.f.Read(p) }
func (o *object) ReadAt(p []byte, off int64) (int, error)      { return o.f.ReadAt(p, off) }
func (o *object) Seek(offset int64, whence int) (int64, error) { return o.f.Seek(offset, whence) }
func (o *object) Close() error                                 { return o.f.Close() }
func (o *object) Info() blob.Info                              { return o.info }
