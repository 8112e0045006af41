package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
)

// Target is where a backup is restored to.
type Target struct {
	// Database is the path of the SQLite database file to create; it must
	// not exist.
	Database string
	// Blobs is the blob store the objects are put in; it must be empty.
	Blobs blob.Store
}

// ReadManifest reads the manifest of the backup in dir and checks that the
// directory holds exactly the files it lists (their contents are checked
// as they are restored).
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("restore: %w", shopclip.Errorf(shopclip.EINVALID,
			"%s holds no %s: not a backup, or one that did not finish.", dir, ManifestFile))
	} else if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("restore: %w: %w", shopclip.Errorf(shopclip.EINVALID, "The manifest of %s is not valid JSON.", dir), err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("restore: %w", shopclip.Errorf(shopclip.EINVALID,
			"The backup's format is %d; this shopclip reads format %d.", m.Format, Format))
	}
	listed := map[string]bool{}
	hasDB := false
	for _, f := range m.Files {
		key, isBlob := strings.CutPrefix(f.Path, BlobsDir+"/")
		switch {
		case f.Path == DatabaseFile:
			hasDB = true
		case !isBlob || !blob.ValidKey(key):
			return nil, fmt.Errorf("restore: %w", shopclip.Errorf(shopclip.EINVALID, "The manifest lists %q, which a backup does not hold.", f.Path))
		}
		if listed[f.Path] {
			return nil, fmt.Errorf("restore: %w", shopclip.Errorf(shopclip.EINVALID, "The manifest lists %q twice.", f.Path))
		}
		listed[f.Path] = true
	}
	if !hasDB {
		return nil, fmt.Errorf("restore: %w", shopclip.Errorf(shopclip.EINVALID, "The manifest lists no %s.", DatabaseFile))
	}
	// Every file present is listed, and every listed file is present.
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return nil
		case rel == ManifestFile:
			return nil
		case !d.Type().IsRegular():
			return damaged(rel, "is not a regular file")
		case !listed[rel]:
			return damaged(rel, "is not in the manifest")
		}
		delete(listed, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	for rel := range listed {
		return nil, fmt.Errorf("restore: %w", damaged(rel, "is missing"))
	}
	return &m, nil
}

// Restore restores the backup in dir into dst: it puts every object, then
// writes the database file last, each checked against the manifest's size
// and checksum as it is copied. A damaged file stops the restore, which
// then removes what it restored. It returns the backup's manifest.
func Restore(ctx context.Context, dir string, dst Target) (m *Manifest, err error) {
	if m, err = ReadManifest(dir); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(dst.Database); err == nil {
		return nil, fmt.Errorf("restore: %w", shopclip.Errorf(shopclip.ECONFLICT, "%s exists: restore only into an empty data directory.", dst.Database))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if objs, err := dst.Blobs.ListPage(ctx, "", "", 1); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	} else if len(objs) > 0 {
		return nil, fmt.Errorf("restore: %w", shopclip.Errorf(shopclip.ECONFLICT, "The blob store already holds objects (%s …): restore only into an empty one.", objs[0].Key))
	}

	var restored []string
	defer func() {
		if err != nil {
			// Not ctx: a cancelled restore still undoes itself.
			for _, key := range restored {
				dst.Blobs.Delete(context.WithoutCancel(ctx), key)
			}
		}
	}()
	for _, f := range m.Files {
		key, ok := strings.CutPrefix(f.Path, BlobsDir+"/")
		if !ok {
			continue
		}
		if err := restoreObject(ctx, dir, f, key, dst.Blobs); err != nil {
			return nil, err
		}
		restored = append(restored, key)
	}
	for _, f := range m.Files {
		if f.Path == DatabaseFile {
			if err := restoreDatabase(ctx, dir, f, dst.Database); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func restoreObject(ctx context.Context, dir string, f File, key string, blobs blob.Store) error {
	src, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Path)))
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer src.Close()
	if err := blobs.Put(ctx, key, newVerifier(ctx, src, f), f.Size, blob.PutOptions{IfNotExists: true}); err != nil {
		return fmt.Errorf("restore: object %q: %w", key, err)
	}
	return nil
}

// restoreDatabase copies the database file to a temporary name beside dst,
// checks it, and renames it to dst.
func restoreDatabase(ctx context.Context, dir string, f File, dst string) (err error) {
	src, err := os.Open(filepath.Join(dir, DatabaseFile))
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmp := dst + ".restoring"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	_, err = io.Copy(out, newVerifier(ctx, src, f))
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore: database: %w", err)
	}
	if err := os.Link(tmp, dst); err != nil { // never over a file created meanwhile
		return fmt.Errorf("restore: database: %w", err)
	}
	os.Remove(tmp)
	return syncDir(filepath.Dir(dst))
}
