package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"syscall"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
)

// errPageFull stops a page's walk once it holds limit objects.
var errPageFull = errors.New("local: page full")

// ListPage implements blob.Store. It walks the directories in key order
// (a directory "a" sorts as "a/", after "a.x"), skips the subtrees whose
// keys all sort at or before after, and stops at limit objects: it holds one
// page and the names of the directory it is in, never the whole listing.
func (s *Store) ListPage(ctx context.Context, prefix, after string, limit int) ([]blob.Info, error) {
	if !blob.ValidListPrefix(prefix) {
		return nil, fmt.Errorf("local: list page: %w", shopclip.Errorf(shopclip.EINVALID, "blob: invalid prefix %q", prefix))
	}
	limit, err := blob.PageLimit(limit)
	if err != nil {
		return nil, fmt.Errorf("local: list page: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("local: list page %q: %w", prefix, blob.CtxError(err))
	}
	start, part := ".", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start, part = prefix[:i], prefix[i+1:]
	}
	fsys := s.root.FS()
	infos := []blob.Info{}
	var visit func(dir string, top bool) error
	visit = func(dir string, top bool) error {
		if err := ctx.Err(); err != nil {
			return blob.CtxError(err)
		}
		ents, err := fs.ReadDir(fsys, dir)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil // gone, or a file: nothing under it
		} else if err != nil {
			return err
		}
		type entry struct {
			key, order string // order: key, or key+"/" for a directory
			d          fs.DirEntry
		}
		list := make([]entry, 0, len(ents))
		for _, d := range ents {
			name := d.Name()
			if top && !strings.HasPrefix(name, part) || !blob.ValidKey(name) {
				continue // outside the prefix, or a temporary file
			}
			key := name
			if dir != "." {
				key = path.Join(dir, name)
			}
			switch {
			case d.IsDir():
				list = append(list, entry{key, key + "/", d})
			case d.Type().IsRegular():
				list = append(list, entry{key, key, d})
			}
		}
		ents = nil
		slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.order, b.order) })
		for _, e := range list {
			if !e.d.IsDir() {
				if e.key <= after {
					continue
				}
				fi, err := e.d.Info()
				if errors.Is(err, fs.ErrNotExist) {
					continue // deleted while we walked
				} else if err != nil {
					return err
				}
				infos = append(infos, info(e.key, fi))
				if len(infos) == limit {
					return errPageFull
				}
				continue
			}
			// Every key under the directory starts with e.order; when
			// after is past them all, skip it.
			if after > e.order && !strings.HasPrefix(after, e.order) {
				continue
			}
			if err := visit(e.key, false); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(start, true); err != nil && err != errPageFull {
		return nil, fmt.Errorf("local: list page %q: %w", prefix, err)
	}
	return infos, nil
}
