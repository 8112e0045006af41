// Package blobtest is the conformance suite of blob.Store: one set of tests
// that every backend (blob/local, blob/s3 against a real MinIO) runs, so
// that the rest of shopclip can rely on the contract and not on a backend.
//
// A backend's test calls Run with a function that returns a fresh, empty
// Store for each subtest:
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
//	}
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
)

// LargeSize is the size of the object the suite streams with an unknown
// size (-1): larger than one S3 multipart part, so that path is exercised.
const LargeSize = 20 << 20

// Run runs the conformance suite. newStore returns a new, empty Store for
// each subtest and arranges its cleanup with t.Cleanup.
//
// Beyond the blob.Store contract the suite holds backends to: List and
// DeletePrefix refuse prefixes blob.ValidListPrefix (or blob.ValidPrefix)
// refuses, with EINVALID; without PutOptions.ContentType, Stat reports
// blob.ContentTypeByKey; a canceled context fails every call with an error
// wrapping context.Canceled, and a passed deadline with one wrapping
// context.DeadlineExceeded and coded EUNAVAILABLE; a Put of unknown size
// allocates less than LargeSize for a LargeSize object (a backend that
// buffers parts must use parts well under LargeSize in its test).
// An open object read while its key is overwritten yields the version
// opened or fails with ECONFLICT, never a mix.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutOpenRead", testPutOpenRead},
		{"ZeroLength", testZeroLength},
		{"ReaderShapes", testReaderShapes},
		{"Seek", testSeek},
		{"RangeRead", testRangeRead},
		{"Stat", testStat},
		{"ContentTypeByKey", testContentTypeByKey},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"List", testList},
		{"ListInvalidPrefix", testListInvalidPrefix},
		{"ListPage", testListPage},
		{"ListPageInvalid", testListPageInvalid},
		{"DeletePrefix", testDeletePrefix},
		{"DeletePrefixInvalid", testDeletePrefixInvalid},
		{"IfNotExists", testIfNotExists},
		{"IfNotExistsConcurrent", testIfNotExistsConcurrent},
		{"InvalidKeys", testInvalidKeys},
		{"SizeMismatch", testSizeMismatch},
		{"ReaderError", testReaderError},
		{"CanceledContext", testCanceledContext},
		{"CancelDuringPut", testCancelDuringPut},
		{"LargeStreamed", testLargeStreamed},
		{"ConcurrentReadersWriters", testConcurrentReadersWriters},
		{"Ping", testPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// ---- helpers ---------------------------------------------------------------

// pattern returns n deterministic bytes that differ with seed and position,
// so that misplaced ranges show.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7+i/251) ^ seed
	}
	return b
}

func put(t *testing.T, s blob.Store, key string, data []byte, opts blob.PutOptions) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), opts); err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(data), err)
	}
}

func read(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	o, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b
}

func wantData(t *testing.T, s blob.Store, key string, want []byte) {
	t.Helper()
	if got := read(t, s, key); !bytes.Equal(got, want) {
		t.Fatalf("content of %q: got %d bytes %s, want %d bytes %s", key, len(got), short(got), len(want), short(want))
	}
}

func short(b []byte) string {
	if len(b) > 16 {
		return fmt.Sprintf("%x…", b[:16])
	}
	return fmt.Sprintf("%x", b)
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := shopclip.ErrorCode(err); got != code {
		t.Fatalf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}

func wantMissing(t *testing.T, s blob.Store, key string) {
	t.Helper()
	_, err := s.Stat(t.Context(), key)
	wantCode(t, fmt.Sprintf("Stat(%q)", key), err, shopclip.ENOTFOUND)
}

func keys(infos []blob.Info) []string {
	ks := []string{}
	for _, i := range infos {
		ks = append(ks, i.Key)
	}
	return ks
}

// genReader yields size deterministic bytes without holding them: the
// large-object tests must not measure their own buffers.
type genReader struct {
	size, off int64
	seed      byte
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	if rest := g.size - g.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	for i := range p {
		o := g.off + int64(i)
		p[i] = byte(o*13+o/4093) ^ g.seed
	}
	g.off += int64(len(p))
	return len(p), nil
}

// hookReader yields size bytes of genReader content and calls hook once,
// when at least after bytes have been read.
type hookReader struct {
	genReader
	after int64
	hook  func() error
	done  bool
}

func (h *hookReader) Read(p []byte) (int, error) {
	if !h.done && h.off >= h.after {
		h.done = true
		if err := h.hook(); err != nil {
			return 0, err
		}
	}
	if !h.done && int64(len(p)) > h.after-h.off {
		p = p[:h.after-h.off]
	}
	return h.genReader.Read(p)
}

// NewHookReader returns a reader of size deterministic bytes that calls hook
// once it has yielded after bytes, before yielding more; if hook returns an
// error, Read returns it. Backend tests use it to act in the middle of a Put
// (cancel its context, look for its multipart upload).
func NewHookReader(size, after int64, hook func() error) io.Reader {
	return &hookReader{genReader: genReader{size: size}, after: after, hook: hook}
}

// ---- tests -----------------------------------------------------------------

func testPutOpenRead(t *testing.T, s blob.Store) {
	data := pattern(100_000, 1)
	put(t, s, "clips/c1/original.mp4", data, blob.PutOptions{ContentType: "video/mp4"})
	o, err := s.Open(t.Context(), "clips/c1/original.mp4")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer o.Close()
	info := o.Info()
	if info.Key != "clips/c1/original.mp4" || info.Size != int64(len(data)) {
		t.Errorf("Info(): got key %q size %d, want %q %d", info.Key, info.Size, "clips/c1/original.mp4", len(data))
	}
	got, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("content: got %d bytes %s, want %d bytes %s", len(got), short(got), len(data), short(data))
	}
	if err := o.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}

	// Every character keys allow.
	k := "A-Z_a-z.0-9/..x/-/_/.hidden/z.m3u8"
	put(t, s, k, []byte("x"), blob.PutOptions{})
	wantData(t, s, k, []byte("x"))
}

func testZeroLength(t *testing.T, s blob.Store) {
	for _, size := range []int64{0, -1} {
		key := fmt.Sprintf("empty/size%d", size)
		if err := s.Put(t.Context(), key, bytes.NewReader(nil), size, blob.PutOptions{}); err != nil {
			t.Fatalf("Put(%q, size %d): %v", key, size, err)
		}
		info, err := s.Stat(t.Context(), key)
		if err != nil {
			t.Fatalf("Stat(%q): %v", key, err)
		}
		if info.Size != 0 {
			t.Errorf("Stat(%q).Size: got %d, want 0", key, info.Size)
		}
		wantData(t, s, key, []byte{})
	}
}

// testReaderShapes puts through readers that return data in odd ways: a
// byte at a time, the last bytes together with io.EOF, half a buffer.
func testReaderShapes(t *testing.T, s blob.Store) {
	data := pattern(70_000, 8)
	shapes := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"one byte", iotest.OneByteReader},
		{"data with EOF", iotest.DataErrReader},
		{"half", iotest.HalfReader},
	}
	for _, sh := range shapes {
		for _, size := range []int64{int64(len(data)), -1} {
			key := fmt.Sprintf("shapes/%s/%d", strings.ReplaceAll(sh.name, " ", "-"), size)
			if err := s.Put(t.Context(), key, sh.wrap(bytes.NewReader(data)), size, blob.PutOptions{}); err != nil {
				t.Fatalf("Put(%q) from a %q reader, size %d: %v", key, sh.name, size, err)
			}
			wantData(t, s, key, data)
		}
		err := s.Put(t.Context(), "shapes/short", sh.wrap(bytes.NewReader(data)), int64(len(data))+1, blob.PutOptions{})
		wantCode(t, fmt.Sprintf("Put from a %q reader one byte short", sh.name), err, shopclip.EINVALID)
		err = s.Put(t.Context(), "shapes/long", sh.wrap(bytes.NewReader(data)), int64(len(data))-1, blob.PutOptions{})
		wantCode(t, fmt.Sprintf("Put from a %q reader one byte long", sh.name), err, shopclip.EINVALID)
	}
	wantMissing(t, s, "shapes/short")
	wantMissing(t, s, "shapes/long")
}

func testSeek(t *testing.T, s blob.Store) {
	data := pattern(300_000, 2)
	size := int64(len(data))
	put(t, s, "seek/obj", data, blob.PutOptions{})
	o, err := s.Open(t.Context(), "seek/obj")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer o.Close()

	steps := []struct {
		name    string
		offset  int64
		whence  int
		wantPos int64
		n       int // bytes to read after seeking; -1 reads to the end
	}{
		{"start", 100, io.SeekStart, 100, 50},
		{"current", 10, io.SeekCurrent, 160, 40},
		{"end", -30, io.SeekEnd, size - 30, -1},
		{"back to start", 0, io.SeekStart, 0, 1000},
		{"far into the object", 200_000, io.SeekStart, 200_000, 65_536},
		{"backwards from current", -100_000, io.SeekCurrent, 165_536, 10},
		{"whole", 0, io.SeekStart, 0, -1},
	}
	for _, st := range steps {
		pos, err := o.Seek(st.offset, st.whence)
		if err != nil {
			t.Fatalf("%s: Seek(%d, %d): %v", st.name, st.offset, st.whence, err)
		}
		if pos != st.wantPos {
			t.Fatalf("%s: Seek(%d, %d): got position %d, want %d", st.name, st.offset, st.whence, pos, st.wantPos)
		}
		var got []byte
		if st.n < 0 {
			got, err = io.ReadAll(o)
		} else {
			got = make([]byte, st.n)
			_, err = io.ReadFull(o, got)
		}
		if err != nil {
			t.Fatalf("%s: read: %v", st.name, err)
		}
		end := st.wantPos + int64(len(got))
		if st.n < 0 && end != size {
			t.Fatalf("%s: read to the end: got %d bytes, want %d", st.name, len(got), size-st.wantPos)
		}
		if !bytes.Equal(got, data[st.wantPos:end]) {
			t.Fatalf("%s: got %s, want %s", st.name, short(got), short(data[st.wantPos:end]))
		}
	}

	// At the end, a read yields io.EOF.
	if _, err := o.Seek(size, io.SeekStart); err != nil {
		t.Fatalf("Seek to the end: %v", err)
	}
	if n, err := o.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read at the end: got %d, %v, want 0, io.EOF", n, err)
	}
	if _, err := o.Seek(-1, io.SeekStart); err == nil {
		t.Errorf("Seek(-1, io.SeekStart): got no error, want one")
	}
}

func testRangeRead(t *testing.T, s blob.Store) {
	data := pattern(1<<20+17, 3)
	put(t, s, "range/obj", data, blob.PutOptions{})
	ranges := []struct {
		name     string
		off, len int64
	}{
		{"first byte", 0, 1},
		{"head", 0, 4096},
		{"middle", 512 << 10, 100_000},
		{"unaligned", 12_345, 67_891},
		{"last byte", int64(len(data)) - 1, 1},
		{"tail", int64(len(data)) - 4096, 4096},
	}
	for _, r := range ranges {
		t.Run(r.name, func(t *testing.T) {
			o, err := s.Open(t.Context(), "range/obj")
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer o.Close()
			if _, err := o.Seek(r.off, io.SeekStart); err != nil {
				t.Fatalf("Seek(%d): %v", r.off, err)
			}
			got := make([]byte, r.len)
			if _, err := io.ReadFull(o, got); err != nil {
				t.Fatalf("ReadFull: %v", err)
			}
			if want := data[r.off : r.off+r.len]; !bytes.Equal(got, want) {
				t.Fatalf("got %s, want %s", short(got), short(want))
			}
			if ra, ok := o.(io.ReaderAt); ok {
				got := make([]byte, r.len)
				if _, err := ra.ReadAt(got, r.off); err != nil && !(err == io.EOF && r.off+r.len == int64(len(data))) {
					t.Fatalf("ReadAt(%d): %v", r.off, err)
				}
				if want := data[r.off : r.off+r.len]; !bytes.Equal(got, want) {
					t.Fatalf("ReadAt: got %s, want %s", short(got), short(want))
				}
			}
		})
	}
}

func testStat(t *testing.T, s blob.Store) {
	before := time.Now()
	data := pattern(4242, 4)
	const key = "clips/c1/hls/720p/index.m3u8"
	const ct = "application/vnd.apple.mpegurl"
	put(t, s, key, data, blob.PutOptions{ContentType: ct})
	info, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Key != key {
		t.Errorf("Key: got %q, want %q", info.Key, key)
	}
	if info.Size != int64(len(data)) {
		t.Errorf("Size: got %d, want %d", info.Size, len(data))
	}
	if info.ContentType != ct {
		t.Errorf("ContentType: got %q, want %q", info.ContentType, ct)
	}
	// Clocks (ours, the server's) and timestamp precision differ: only
	// check that ModTime is set and plausible, not an exact value.
	if info.ModTime.IsZero() || info.ModTime.Before(before.Add(-time.Hour)) || info.ModTime.After(time.Now().Add(time.Hour)) {
		t.Errorf("ModTime: got %v, want about %v", info.ModTime, before)
	}

	o, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer o.Close()
	if got := o.Info(); got.Key != info.Key || got.Size != info.Size || got.ContentType != info.ContentType || !got.ModTime.Equal(info.ModTime) {
		t.Errorf("Open(%q).Info(): got %+v, want %+v", key, got, info)
	}
}

// testContentTypeByKey checks that, without PutOptions.ContentType, every
// backend reports the type blob.ContentTypeByKey derives from the key.
func testContentTypeByKey(t *testing.T, s blob.Store) {
	for _, key := range []string{"t/master.m3u8", "t/seg_00001.m4s", "t/init.mp4", "t/poster.jpg", "t/captions.vtt", "t/overlays.json", "t/label.webp", "t/label.png", "t/blob.bin", "t/noext"} {
		put(t, s, key, []byte("x"), blob.PutOptions{})
		info, err := s.Stat(t.Context(), key)
		if err != nil {
			t.Fatalf("Stat(%q): %v", key, err)
		}
		if want := blob.ContentTypeByKey(key); info.ContentType != want {
			t.Errorf("Stat(%q).ContentType: got %q, want %q", key, info.ContentType, want)
		}
	}
}

func testOverwrite(t *testing.T, s blob.Store) {
	v1, v2 := pattern(50_000, 5), pattern(1234, 6)
	put(t, s, "ow/obj", v1, blob.PutOptions{})
	put(t, s, "ow/obj", v2, blob.PutOptions{})
	wantData(t, s, "ow/obj", v2)
	info, err := s.Stat(t.Context(), "ow/obj")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Size != int64(len(v2)) {
		t.Errorf("Size after overwrite: got %d, want %d", info.Size, len(v2))
	}
	infos, err := s.List(t.Context(), "ow/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if got := keys(infos); !slices.Equal(got, []string{"ow/obj"}) {
		t.Errorf("List after overwrite: got %q, want one object", got)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	put(t, s, "del/a/b/obj", []byte("x"), blob.PutOptions{})
	put(t, s, "del/keep", []byte("y"), blob.PutOptions{})
	if err := s.Delete(t.Context(), "del/a/b/obj"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMissing(t, s, "del/a/b/obj")
	_, err := s.Open(t.Context(), "del/a/b/obj")
	wantCode(t, "Open after Delete", err, shopclip.ENOTFOUND)
	if err := s.Delete(t.Context(), "del/a/b/obj"); err != nil {
		t.Errorf("Delete of a deleted key: got %v, want nil", err)
	}
	if err := s.Delete(t.Context(), "never/was/here"); err != nil {
		t.Errorf("Delete of a missing key: got %v, want nil", err)
	}
	// "del/a" is only a prefix of other objects, not an object.
	put(t, s, "del/a/other", []byte("z"), blob.PutOptions{})
	if err := s.Delete(t.Context(), "del/a"); err != nil {
		t.Errorf("Delete of a prefix as a key: got %v, want nil", err)
	}
	wantData(t, s, "del/a/other", []byte("z"))
	wantData(t, s, "del/keep", []byte("y"))
	// The key can be used again.
	put(t, s, "del/a/b/obj", []byte("again"), blob.PutOptions{})
	wantData(t, s, "del/a/b/obj", []byte("again"))
}

func testNotFound(t *testing.T, s blob.Store) {
	put(t, s, "nf/dir/obj", []byte("x"), blob.PutOptions{})
	for _, key := range []string{"missing", "nf/missing", "nf/dir", "nf/dir/obj/deeper", "nf/dir/ob"} {
		_, err := s.Open(t.Context(), key)
		wantCode(t, fmt.Sprintf("Open(%q)", key), err, shopclip.ENOTFOUND)
		_, err = s.Stat(t.Context(), key)
		wantCode(t, fmt.Sprintf("Stat(%q)", key), err, shopclip.ENOTFOUND)
	}
}

func testList(t *testing.T, s blob.Store) {
	all := []string{"a.x", "a/b", "a/c/d", "ab", "clips/abc/x.m4s", "clips/abd", "clips/b/y", "z"}
	sizes := map[string]int64{}
	for i, k := range all {
		data := pattern(10+i*100, byte(i))
		put(t, s, k, data, blob.PutOptions{})
		sizes[k] = int64(len(data))
	}
	cases := []struct {
		prefix string
		want   []string
	}{
		{"", all},
		{"clips/", []string{"clips/abc/x.m4s", "clips/abd", "clips/b/y"}},
		{"clips/a", []string{"clips/abc/x.m4s", "clips/abd"}},
		{"clips/abc/", []string{"clips/abc/x.m4s"}},
		{"clips/abd", []string{"clips/abd"}},
		{"a", []string{"a.x", "a/b", "a/c/d", "ab"}},
		{"a/", []string{"a/b", "a/c/d"}},
		{"a/c", []string{"a/c/d"}},
		{"a/b/", []string{}},
		{"nothing/", []string{}},
		{"clips/q", []string{}},
		{"zz", []string{}},
	}
	for _, c := range cases {
		infos, err := s.List(t.Context(), c.prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", c.prefix, err)
		}
		if got := keys(infos); !slices.Equal(got, c.want) {
			t.Errorf("List(%q): got %q, want %q", c.prefix, got, c.want)
			continue
		}
		for _, info := range infos {
			if info.Size != sizes[info.Key] {
				t.Errorf("List(%q): %q has size %d, want %d", c.prefix, info.Key, info.Size, sizes[info.Key])
			}
			if info.ModTime.IsZero() {
				t.Errorf("List(%q): %q has no ModTime", c.prefix, info.Key)
			}
		}
	}
}

func testListInvalidPrefix(t *testing.T, s blob.Store) {
	for _, p := range []string{"../", "/x", "a//", "a/../", "./", "a\\b", "a b", strings.Repeat("a", 513)} {
		_, err := s.List(t.Context(), p)
		wantCode(t, fmt.Sprintf("List(%q)", p), err, shopclip.EINVALID)
	}
}

// testListPage walks List's cases a page at a time, with every page size
// up to past the whole listing, and starts from keys between and inside
// "directories": the pages together must be List, in order.
func testListPage(t *testing.T, s blob.Store) {
	all := []string{"a.x", "a/b", "a/c/d", "a/c/e", "ab", "clips/abc/x.m4s", "clips/abd", "clips/b/y", "z"}
	for i, k := range all {
		put(t, s, k, pattern(10+i, byte(i)), blob.PutOptions{})
	}
	for _, prefix := range []string{"", "a", "a/", "a/c/", "clips/", "clips/a", "nothing/", "zz"} {
		want, err := s.List(t.Context(), prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		for limit := 1; limit <= len(all)+1; limit++ {
			got := []string{}
			after := ""
			for range len(all) + 2 { // bounded: one page more than keys
				page, err := s.ListPage(t.Context(), prefix, after, limit)
				if err != nil {
					t.Fatalf("ListPage(%q, %q, %d): %v", prefix, after, limit, err)
				}
				if len(page) > limit {
					t.Fatalf("ListPage(%q, %q, %d): %d objects", prefix, after, limit, len(page))
				}
				if len(page) == 0 {
					break
				}
				for _, info := range page {
					if info.ModTime.IsZero() || info.Size == 0 {
						t.Errorf("ListPage(%q, %q, %d): %+v lacks its size or ModTime", prefix, after, limit, info)
					}
				}
				got = append(got, keys(page)...)
				after = page[len(page)-1].Key
			}
			if !slices.Equal(got, keys(want)) {
				t.Errorf("ListPage(%q) by %d: got %q, want %q", prefix, limit, got, keys(want))
			}
		}
	}
	for _, c := range []struct {
		prefix, after string
		want          []string
	}{
		{"", "a", []string{"a.x", "a/b", "a/c/d"}},
		{"", "a/", []string{"a/b", "a/c/d", "a/c/e"}},
		{"", "a/c", []string{"a/c/d", "a/c/e", "ab"}},
		{"", "a/c/d", []string{"a/c/e", "ab", "clips/abc/x.m4s"}},
		{"", "a/zz", []string{"ab", "clips/abc/x.m4s", "clips/abd"}},
		{"", "a0", []string{"ab", "clips/abc/x.m4s", "clips/abd"}},
		{"clips/", "clips/abc/", []string{"clips/abc/x.m4s", "clips/abd", "clips/b/y"}},
		{"clips/", "clips/abc/x.m4s", []string{"clips/abd", "clips/b/y"}},
		{"clips/", "y", []string{}},
		{"a/", "", []string{"a/b", "a/c/d", "a/c/e"}},
	} {
		page, err := s.ListPage(t.Context(), c.prefix, c.after, 3)
		if err != nil {
			t.Fatalf("ListPage(%q, %q, 3): %v", c.prefix, c.after, err)
		}
		if got := keys(page); !slices.Equal(got, c.want) {
			t.Errorf("ListPage(%q, %q, 3): got %q, want %q", c.prefix, c.after, got, c.want)
		}
	}
	// A limit past MaxListPage is clamped, not refused.
	page, err := s.ListPage(t.Context(), "", "", blob.MaxListPage+1)
	if err != nil || len(page) != len(all) {
		t.Errorf("ListPage with limit %d: %d objects, %v; want %d", blob.MaxListPage+1, len(page), err, len(all))
	}
}

func testListPageInvalid(t *testing.T, s blob.Store) {
	for _, p := range []string{"../", "/x", "a//", "a b", strings.Repeat("a", 513)} {
		_, err := s.ListPage(t.Context(), p, "", 10)
		wantCode(t, fmt.Sprintf("ListPage(%q)", p), err, shopclip.EINVALID)
	}
	for _, limit := range []int{0, -1} {
		_, err := s.ListPage(t.Context(), "", "", limit)
		wantCode(t, fmt.Sprintf("ListPage limit %d", limit), err, shopclip.EINVALID)
	}
}

func testDeletePrefix(t *testing.T, s blob.Store) {
	gone := []string{"a/b/1", "a/b/c/2", "a/b/c/d/3"}
	kept := []string{"a/b.txt", "a/b2", "a/bc/x", "ab", "b/1"}
	for _, k := range append(slices.Clone(gone), kept...) {
		put(t, s, k, []byte(k), blob.PutOptions{})
	}
	if err := s.DeletePrefix(t.Context(), "a/b/"); err != nil {
		t.Fatalf("DeletePrefix: %v", err)
	}
	for _, k := range gone {
		wantMissing(t, s, k)
	}
	for _, k := range kept {
		wantData(t, s, k, []byte(k))
	}
	infos, err := s.List(t.Context(), "")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if got := keys(infos); !slices.Equal(got, kept) {
		t.Errorf("List after DeletePrefix: got %q, want %q", got, kept)
	}
	if err := s.DeletePrefix(t.Context(), "nothing/here/"); err != nil {
		t.Errorf("DeletePrefix of an empty prefix: got %v, want nil", err)
	}
	put(t, s, "a/b/again", []byte("x"), blob.PutOptions{})
	wantData(t, s, "a/b/again", []byte("x"))
}

func testDeletePrefixInvalid(t *testing.T, s blob.Store) {
	put(t, s, "a/b", []byte("x"), blob.PutOptions{})
	for _, p := range []string{"", "a", "a/b", "/", "../", "/a/", "a//", "a/./"} {
		err := s.DeletePrefix(t.Context(), p)
		wantCode(t, fmt.Sprintf("DeletePrefix(%q)", p), err, shopclip.EINVALID)
	}
	wantData(t, s, "a/b", []byte("x"))
}

func testIfNotExists(t *testing.T, s blob.Store) {
	for _, size := range []int64{3, -1} {
		key := fmt.Sprintf("once/size%d", size)
		opts := blob.PutOptions{IfNotExists: true}
		if err := s.Put(t.Context(), key, strings.NewReader("one"), size, opts); err != nil {
			t.Fatalf("first Put(%q, IfNotExists): %v", key, err)
		}
		err := s.Put(t.Context(), key, strings.NewReader("two"), size, opts)
		wantCode(t, fmt.Sprintf("second Put(%q, IfNotExists)", key), err, shopclip.ECONFLICT)
		wantData(t, s, key, []byte("one"))
		// Without the option, Put replaces.
		if err := s.Put(t.Context(), key, strings.NewReader("three"), int64(len("three")), blob.PutOptions{}); err != nil {
			t.Fatalf("Put(%q): %v", key, err)
		}
		wantData(t, s, key, []byte("three"))
	}
}

func testIfNotExistsConcurrent(t *testing.T, s blob.Store) {
	const n = 8
	for round := range 3 {
		key := fmt.Sprintf("race/obj%d", round)
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				data := pattern(64<<10, byte(i))
				errs[i] = s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), blob.PutOptions{IfNotExists: true})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch code := shopclip.ErrorCode(err); code {
			case "":
				if winner >= 0 {
					t.Fatalf("round %d: creators %d and %d both won", round, winner, i)
				}
				winner = i
			case shopclip.ECONFLICT:
			default:
				t.Fatalf("round %d: creator %d: got error %v (code %q), want nil or %q", round, i, err, code, shopclip.ECONFLICT)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no creator won: %v", round, errs)
		}
		wantData(t, s, key, pattern(64<<10, byte(winner)))
	}
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	bad := []string{"", "../x", "/x", "x/", "a//b", "a/./b", "a/../b", ".", "..", "a b", "a\\b", "é", "a\x00b", "a~b", strings.Repeat("k", 513)}
	ctx := t.Context()
	for _, key := range bad {
		what := func(op string) string { return fmt.Sprintf("%s(%q)", op, key) }
		wantCode(t, what("Put"), s.Put(ctx, key, strings.NewReader("x"), 1, blob.PutOptions{}), shopclip.EINVALID)
		wantCode(t, what("Put IfNotExists"), s.Put(ctx, key, strings.NewReader("x"), 1, blob.PutOptions{IfNotExists: true}), shopclip.EINVALID)
		_, err := s.Open(ctx, key)
		wantCode(t, what("Open"), err, shopclip.EINVALID)
		_, err = s.Stat(ctx, key)
		wantCode(t, what("Stat"), err, shopclip.EINVALID)
		wantCode(t, what("Delete"), s.Delete(ctx, key), shopclip.EINVALID)
	}
	infos, err := s.List(ctx, "")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(infos) != 0 {
		t.Errorf("List after refused Puts: got %q, want nothing", keys(infos))
	}
}

func testSizeMismatch(t *testing.T, s blob.Store) {
	old := []byte("old content")
	cases := []struct {
		name     string
		data     []byte
		declared int64
	}{
		{"shorter", pattern(5, 1), 10},
		{"longer", pattern(10, 1), 5},
		{"empty declared", pattern(1, 1), 0},
		{"empty given", nil, 3},
		{"large shorter", pattern(1<<20, 1), 1<<20 + 1},
		{"large longer", pattern(1<<20+1, 1), 1 << 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Put(t.Context(), "mismatch/new", bytes.NewReader(c.data), c.declared, blob.PutOptions{})
			wantCode(t, "Put to a new key", err, shopclip.EINVALID)
			wantMissing(t, s, "mismatch/new")

			put(t, s, "mismatch/old", old, blob.PutOptions{})
			err = s.Put(t.Context(), "mismatch/old", bytes.NewReader(c.data), c.declared, blob.PutOptions{})
			wantCode(t, "Put over an object", err, shopclip.EINVALID)
			wantData(t, s, "mismatch/old", old)

			err = s.Put(t.Context(), "mismatch/once", bytes.NewReader(c.data), c.declared, blob.PutOptions{IfNotExists: true})
			wantCode(t, "Put IfNotExists", err, shopclip.EINVALID)
			wantMissing(t, s, "mismatch/once")
		})
	}
}

var errReader = errors.New("blobtest: reader failed")

func testReaderError(t *testing.T, s blob.Store) {
	for _, size := range []int64{3 << 20, -1} {
		fail := func() error { return errReader }
		err := s.Put(t.Context(), "rerr/obj", NewHookReader(3<<20, 1<<20, fail), size, blob.PutOptions{})
		if !errors.Is(err, errReader) {
			t.Errorf("Put (size %d) from a failing reader: got %v, want it to wrap %v", size, err, errReader)
		}
		wantMissing(t, s, "rerr/obj")
	}
}

func testCanceledContext(t *testing.T, s blob.Store) {
	put(t, s, "ctx/existing", []byte("x"), blob.PutOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	wantCanceled := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: got %v, want context.Canceled", what, err)
		}
	}
	wantCanceled("Put", s.Put(ctx, "ctx/new", strings.NewReader("x"), 1, blob.PutOptions{}))
	wantCanceled("Put size -1", s.Put(ctx, "ctx/new", strings.NewReader("x"), -1, blob.PutOptions{}))
	_, err := s.Open(ctx, "ctx/existing")
	wantCanceled("Open", err)
	_, err = s.Stat(ctx, "ctx/existing")
	wantCanceled("Stat", err)
	_, err = s.List(ctx, "ctx/")
	wantCanceled("List", err)
	wantCanceled("Delete", s.Delete(ctx, "ctx/existing"))
	wantCanceled("DeletePrefix", s.DeletePrefix(ctx, "ctx/"))
	wantCanceled("Ping", s.Ping(ctx))
	wantMissing(t, s, "ctx/new")
	wantData(t, s, "ctx/existing", []byte("x"))

	// A deadline that passed is an unavailable backend, and still the
	// context's error.
	dctx, dcancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer dcancel()
	_, err = s.Stat(dctx, "ctx/existing")
	if !errors.Is(err, context.DeadlineExceeded) || shopclip.ErrorCode(err) != shopclip.EUNAVAILABLE {
		t.Errorf("Stat with an expired deadline: got %v (code %q), want context.DeadlineExceeded with code %q", err, shopclip.ErrorCode(err), shopclip.EUNAVAILABLE)
	}
}

// testCancelDuringPut cancels the context in the middle of a Put: the Put
// fails and stores nothing, whether the size is known or not.
func testCancelDuringPut(t *testing.T, s blob.Store) {
	const size = 12 << 20
	for _, declared := range []int64{size, -1} {
		key := fmt.Sprintf("cancel/size%d", declared)
		ctx, cancel := context.WithCancel(t.Context())
		r := NewHookReader(size, 6<<20, func() error { cancel(); return nil })
		err := s.Put(ctx, key, r, declared, blob.PutOptions{})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put (size %d) canceled midway: got %v, want context.Canceled", declared, err)
		}
		wantMissing(t, s, key)
	}
}

// testLargeStreamed streams an object larger than one multipart part with
// an unknown size and checks it whole. It also checks that the Put did not
// allocate the object's size in memory (it streams, it does not buffer).
func testLargeStreamed(t *testing.T, s blob.Store) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := s.Put(t.Context(), "large/obj", &genReader{size: LargeSize, seed: 9}, -1, blob.PutOptions{}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("Put of %d MiB allocated %.1f MiB", LargeSize>>20, float64(allocated)/(1<<20))
	if allocated >= LargeSize {
		t.Errorf("Put of %d bytes allocated %d bytes: it buffers the object", LargeSize, allocated)
	}

	info, err := s.Stat(t.Context(), "large/obj")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Size != LargeSize {
		t.Errorf("Size: got %d, want %d", info.Size, LargeSize)
	}
	o, err := s.Open(t.Context(), "large/obj")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer o.Close()
	got, want := sha256.New(), sha256.New()
	n, err := io.Copy(got, o)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	io.Copy(want, &genReader{size: LargeSize, seed: 9})
	if n != LargeSize || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("read back %d bytes with SHA-256 %x, want %d bytes with %x", n, got.Sum(nil), LargeSize, want.Sum(nil))
	}
	// A range near the end, across the first part boundaries.
	if _, err := o.Seek(LargeSize-(5<<20)-10, io.SeekStart); err != nil {
		t.Fatalf("Seek: %v", err)
	}
	tail := make([]byte, 20)
	if _, err := io.ReadFull(o, tail); err != nil {
		t.Fatalf("ReadFull: %v", err)
	}
	g := &genReader{size: LargeSize, seed: 9, off: LargeSize - (5 << 20) - 10}
	wantTail := make([]byte, 20)
	g.Read(wantTail)
	if !bytes.Equal(tail, wantTail) {
		t.Errorf("range near the end: got %x, want %x", tail, wantTail)
	}
}

// testConcurrentReadersWriters overwrites keys while others read and list
// them: every read sees one whole version, never a mix or a part. A read of
// an object replaced since Open may instead fail cleanly with ECONFLICT (S3
// keeps no old version to read on). Run it under -race.
func testConcurrentReadersWriters(t *testing.T, s blob.Store) {
	const (
		writers = 4
		rounds  = 4
		readers = 4
		reads   = 12
		size    = 128 << 10
	)
	versions := map[[sha256.Size]byte]bool{}
	for w := range writers {
		for r := range rounds {
			versions[sha256.Sum256(pattern(size, byte(w*rounds+r)))] = true
		}
	}
	keysUsed := []string{"cc/shared", "cc/other"}
	for _, k := range keysUsed {
		put(t, s, k, pattern(size, 0), blob.PutOptions{})
	}
	ctx := t.Context()
	var wg sync.WaitGroup
	var replaced atomic.Int64
	var mu sync.Mutex
	var failures []error
	fail := func(err error) {
		mu.Lock()
		failures = append(failures, err)
		mu.Unlock()
	}
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				data := pattern(size, byte(w*rounds+r))
				key := keysUsed[(w+r)%len(keysUsed)]
				if err := s.Put(ctx, key, bytes.NewReader(data), size, blob.PutOptions{}); err != nil {
					fail(fmt.Errorf("writer %d: Put(%q): %w", w, key, err))
				}
				own := fmt.Sprintf("cc/w%d/r%d", w, r)
				if err := s.Put(ctx, own, bytes.NewReader(data), size, blob.PutOptions{}); err != nil {
					fail(fmt.Errorf("writer %d: Put(%q): %w", w, own, err))
				}
			}
		})
	}
	for rd := range readers {
		wg.Go(func() {
			for i := range reads {
				key := keysUsed[(rd+i)%len(keysUsed)]
				o, err := s.Open(ctx, key)
				if err != nil {
					fail(fmt.Errorf("reader %d: Open(%q): %w", rd, key, err))
					continue
				}
				b, err := io.ReadAll(o)
				o.Close()
				if shopclip.ErrorCode(err) == shopclip.ECONFLICT {
					replaced.Add(1)
				} else if err != nil {
					fail(fmt.Errorf("reader %d: read %q: %w", rd, key, err))
				}
				if err != nil {
					continue
				}
				if len(b) != size || !versions[sha256.Sum256(b)] && !bytes.Equal(b, pattern(size, 0)) {
					fail(fmt.Errorf("reader %d: %q has %d bytes that are no version written", rd, key, len(b)))
				}
				infos, err := s.List(ctx, "cc/")
				if err != nil {
					fail(fmt.Errorf("reader %d: List: %w", rd, err))
					continue
				}
				for _, info := range infos {
					if info.Size != size {
						fail(fmt.Errorf("reader %d: List shows %q with size %d, want %d", rd, info.Key, info.Size, size))
					}
				}
			}
		})
	}
	wg.Wait()
	for _, err := range failures {
		t.Error(err)
	}
	t.Logf("%d of %d reads failed as their object was replaced", replaced.Load(), readers*reads)
	infos, err := s.List(ctx, "cc/w")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(infos) != writers*rounds {
		t.Errorf("List(%q): got %d objects, want %d", "cc/w", len(infos), writers*rounds)
	}
}

func testPing(t *testing.T, s blob.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
