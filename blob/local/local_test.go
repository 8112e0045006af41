package local_test

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/blob/blobtest"
	"github.com/shopclip/shopclip/blob/local"
)

func newStore(t *testing.T, dir string) *local.Store {
	t.Helper()
	s, err := local.New(dir)
	if err != nil {
		t.Fatalf("New(%q): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return newStore(t, t.TempDir())
	})
}

// files lists what is on disk under dir (files and directories), slash
// separated and sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var got []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			rel += "/"
		}
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestKeysStayInsideTheDirectory(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "store")
	s := newStore(t, dir)
	ctx := t.Context()
	if err := os.WriteFile(filepath.Join(base, "secret"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(base, "outside"), 0o755); err != nil {
		t.Fatal(err)
	}

	for _, key := range []string{"../secret", "../outside/x", "a/../../secret", "/etc/passwd", "./../secret"} {
		_, err := s.Open(ctx, key)
		if shopclip.ErrorCode(err) != shopclip.EINVALID {
			t.Errorf("Open(%q): got %v, want code %q", key, err, shopclip.EINVALID)
		}
		err = s.Put(ctx, key, strings.NewReader("x"), 1, blob.PutOptions{})
		if shopclip.ErrorCode(err) != shopclip.EINVALID {
			t.Errorf("Put(%q): got %v, want code %q", key, err, shopclip.EINVALID)
		}
		if err := s.Delete(ctx, key); shopclip.ErrorCode(err) != shopclip.EINVALID {
			t.Errorf("Delete(%q): got %v, want code %q", key, err, shopclip.EINVALID)
		}
	}

	// Even a symbolic link someone put in the directory cannot lead out
	// of it: every access goes through an os.Root.
	if err := os.Symlink(filepath.Join(base, "outside"), filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../secret", filepath.Join(dir, "secretlink")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "escape/x", strings.NewReader("x"), 1, blob.PutOptions{}); err == nil {
		t.Errorf("Put through a symlink leading outside: got nil error")
	}
	if _, err := s.Open(ctx, "secretlink"); err == nil {
		t.Errorf("Open of a symlink leading outside: got nil error")
	}
	if got := files(t, filepath.Join(base, "outside")); len(got) != 0 {
		t.Errorf("files written outside the directory: %q", got)
	}
	if b, err := os.ReadFile(filepath.Join(base, "secret")); err != nil || string(b) != "secret" {
		t.Errorf("the file outside changed: %q, %v", b, err)
	}
	infos, err := s.List(ctx, "")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(infos) != 0 {
		t.Errorf("List shows symlinks as objects: %v", infos)
	}
}

func TestNoTemporaryFilesLeft(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	ctx := t.Context()
	if err := s.Put(ctx, "a/b/obj", strings.NewReader("data"), 4, blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "a/b/once", strings.NewReader("data"), 4, blob.PutOptions{IfNotExists: true}); err != nil {
		t.Fatal(err)
	}
	err := s.Put(ctx, "a/b/once", strings.NewReader("data"), 4, blob.PutOptions{IfNotExists: true})
	if shopclip.ErrorCode(err) != shopclip.ECONFLICT {
		t.Fatalf("second IfNotExists Put: got %v, want code %q", err, shopclip.ECONFLICT)
	}
	if err := s.Put(ctx, "a/b/bad", strings.NewReader("data"), 5, blob.PutOptions{}); shopclip.ErrorCode(err) != shopclip.EINVALID {
		t.Fatalf("Put with a wrong size: got %v, want code %q", err, shopclip.EINVALID)
	}
	want := []string{"a/", "a/b/", "a/b/obj", "a/b/once"}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Errorf("files on disk: got %q, want %q", got, want)
	}
}

// TestStrayTemporaryFiles checks that the temporary file of a Put that
// never finished (the process died) is no object.
func TestStrayTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	ctx := t.Context()
	if err := s.Put(ctx, "clips/c1/obj", strings.NewReader("x"), 1, blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(dir, "clips", "c1", ".~put-0123456789abcdef")
	if err := os.WriteFile(stray, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	infos, err := s.List(ctx, "clips/")
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(infos); !slices.Equal(got, []string{"clips/c1/obj"}) {
		t.Errorf("List: got %q, want only the object", got)
	}
	if err := s.DeletePrefix(ctx, "clips/"); err != nil {
		t.Fatal(err)
	}
	infos, err = s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 0 {
		t.Errorf("List after DeletePrefix: got %q, want nothing", keys(infos))
	}
}

func keys(infos []blob.Info) []string {
	var ks []string
	for _, i := range infos {
		ks = append(ks, i.Key)
	}
	return ks
}

func TestEmptyDirectoriesRemoved(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	ctx := t.Context()
	for _, k := range []string{"a/b/c/obj", "a/keep", "x/y/z/1", "x/y/2", "x/yy/3"} {
		if err := s.Put(ctx, k, strings.NewReader("x"), 1, blob.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "a/b/c/obj"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePrefix(ctx, "x/y/"); err != nil {
		t.Fatal(err)
	}
	want := []string{"a/", "a/keep", "x/", "x/yy/", "x/yy/3"}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Errorf("files on disk: got %q, want %q", got, want)
	}
	if err := s.Delete(ctx, "a/keep"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePrefix(ctx, "x/"); err != nil {
		t.Fatal(err)
	}
	if got := files(t, dir); len(got) != 0 {
		t.Errorf("files on disk: got %q, want none", got)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("the store's own directory was removed: %v", err)
	}
}

// TestKeyClash documents a limit of a file system: "a" cannot be an object
// and hold "a/b" too.
func TestKeyClash(t *testing.T) {
	s := newStore(t, t.TempDir())
	ctx := t.Context()
	put := func(key string) error { return s.Put(ctx, key, strings.NewReader("x"), 1, blob.PutOptions{}) }
	if err := put("a"); err != nil {
		t.Fatal(err)
	}
	if err := put("a/b"); shopclip.ErrorCode(err) != shopclip.ECONFLICT {
		t.Errorf("Put(a/b) with an object a: got %v, want code %q", err, shopclip.ECONFLICT)
	}
	if err := put("c/d"); err != nil {
		t.Fatal(err)
	}
	if err := put("c"); shopclip.ErrorCode(err) != shopclip.ECONFLICT {
		t.Errorf("Put(c) with an object c/d: got %v, want code %q", err, shopclip.ECONFLICT)
	}
	err := s.Put(ctx, "c", strings.NewReader("x"), 1, blob.PutOptions{IfNotExists: true})
	if shopclip.ErrorCode(err) != shopclip.ECONFLICT {
		t.Errorf("Put(c, IfNotExists) with an object c/d: got %v, want code %q", err, shopclip.ECONFLICT)
	}
	if _, err := s.Stat(ctx, "a/b"); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Errorf("Stat(a/b) with an object a: got %v, want code %q", err, shopclip.ENOTFOUND)
	}
}

func TestSignedURLUnsupported(t *testing.T) {
	s := newStore(t, t.TempDir())
	if err := s.Put(t.Context(), "a", strings.NewReader("x"), 1, blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	u, err := s.SignedURL(t.Context(), "a", time.Hour)
	if shopclip.ErrorCode(err) != shopclip.EUNSUPPORTED || u != "" {
		t.Errorf("SignedURL: got %q, %v, want code %q", u, err, shopclip.EUNSUPPORTED)
	}
}

func TestNew(t *testing.T) {
	base := t.TempDir()
	if _, err := local.New(""); shopclip.ErrorCode(err) != shopclip.EINVALID {
		t.Errorf("New(\"\"): got %v, want code %q", err, shopclip.EINVALID)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := local.New(file); err == nil {
		s.Close()
		t.Errorf("New(a file): got nil error")
	}
	nested := filepath.Join(base, "new", "nested")
	s := newStore(t, nested)
	if s.Dir() != nested {
		t.Errorf("Dir(): got %q, want %q", s.Dir(), nested)
	}
	if fi, err := os.Stat(nested); err != nil || !fi.IsDir() {
		t.Errorf("New did not create %q: %v", nested, err)
	}
}

func TestPingNoticesAMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s := newStore(t, dir)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); shopclip.ErrorCode(err) != shopclip.EUNAVAILABLE {
		t.Errorf("Ping without its directory: got %v, want code %q", err, shopclip.EUNAVAILABLE)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); shopclip.ErrorCode(err) != shopclip.EUNAVAILABLE {
		t.Errorf("Ping with its directory replaced: got %v, want code %q", err, shopclip.EUNAVAILABLE)
	}
}

// TestOpenKeepsItsVersion checks that an open object keeps reading the
// version it opened while the key is overwritten and deleted.
func TestOpenKeepsItsVersion(t *testing.T) {
	s := newStore(t, t.TempDir())
	ctx := t.Context()
	v1 := bytes.Repeat([]byte("1"), 1000)
	if err := s.Put(ctx, "k", bytes.NewReader(v1), int64(len(v1)), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	o, err := s.Open(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := s.Put(ctx, "k", strings.NewReader("2"), 1, blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, v1) {
		t.Errorf("read from the open object: got %q, want the version opened", got)
	}
}

func TestRemoveStaleTemp(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	ctx := t.Context()
	if err := s.Put(ctx, "originals/c1", strings.NewReader("kept"), 4, blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "originals", ".~put-00000000000000aa")
	young := filepath.Join(dir, "originals", ".~put-00000000000000bb")
	orphanDir := filepath.Join(dir, "clips", "c2", "g1")
	os.MkdirAll(orphanDir, 0o755)
	orphan := filepath.Join(orphanDir, ".~put-00000000000000cc")
	for _, p := range []string{old, young, orphan} {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hourAgo := time.Now().Add(-time.Hour)
	os.Chtimes(old, hourAgo, hourAgo)
	os.Chtimes(orphan, hourAgo, hourAgo)
	n, err := s.RemoveStaleTemp(ctx, 10*time.Minute)
	if err != nil || n != 2 {
		t.Fatalf("RemoveStaleTemp = %d, %v; want 2", n, err)
	}
	for p, want := range map[string]bool{old: false, orphan: false, young: true, filepath.Join(dir, "originals", "c1"): true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists = %v, want %v", p, err == nil, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "clips")); err == nil {
		t.Errorf("emptied directories were kept")
	}
}

// TestConcurrentPutAndPrune writes objects while siblings are deleted, so
// that Delete prunes directories a Put is creating: no Put may fail.
func TestConcurrentPutAndPrune(t *testing.T) {
	s := newStore(t, t.TempDir())
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := range 300 {
				key := fmt.Sprintf("c/%d/g/o%d", i%3, w)
				if err := s.Put(ctx, key, strings.NewReader("x"), 1, blob.PutOptions{}); err != nil {
					errs <- fmt.Errorf("put %s: %w", key, err)
					return
				}
				if err := s.Delete(ctx, key); err != nil {
					errs <- fmt.Errorf("delete %s: %w", key, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestLocalPath(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir)
	var _ blob.LocalFiler = s
	if err := s.Put(t.Context(), "originals/c1", strings.NewReader("bytes"), 5, blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := s.LocalPath("originals/c1")
	if err != nil || p != filepath.Join(dir, "originals", "c1") {
		t.Fatalf("LocalPath = %q, %v", p, err)
	}
	if b, _ := os.ReadFile(p); string(b) != "bytes" {
		t.Errorf("file holds %q", b)
	}
	for _, key := range []string{"originals/missing", "originals", "../etc/passwd"} {
		if _, err := s.LocalPath(key); err == nil {
			t.Errorf("LocalPath(%q) succeeded", key)
		}
	}
}
