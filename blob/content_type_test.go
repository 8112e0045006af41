package blob_test

import (
	"strings"
	"testing"

	"github.com/shopclip/shopclip/blob"
)

func TestContentTypeByKey(t *testing.T) {
	cases := []struct{ key, want string }{
		{"clips/c1/g1/master.m3u8", "application/vnd.apple.mpegurl"},
		{"clips/c1/g1/720p/seg_00001.m4s", "video/iso.segment"},
		{"clips/c1/g1/720p/init.mp4", "video/mp4"},
		{"clips/c1/share.MP4", "video/mp4"},
		{"clips/c1/seg.ts", "video/mp2t"},
		{"clips/c1/poster.jpg", "image/jpeg"},
		{"clips/c1/poster.jpeg", "image/jpeg"},
		{"labels/l1.png", "image/png"},
		{"labels/l1.webp", "image/webp"},
		{"clips/c1/overlays.vtt", "text/vtt; charset=utf-8"},
		{"clips/c1/overlays.json", "application/json"},
		{"uploads/u1/original", "application/octet-stream"},
		{"uploads/u1/original.mov", "application/octet-stream"},
		{"a.m3u8/b", "application/octet-stream"},
		{"", "application/octet-stream"},
	}
	for _, c := range cases {
		if got := blob.ContentTypeByKey(c.key); got != c.want {
			t.Errorf("ContentTypeByKey(%q): got %q, want %q", c.key, got, c.want)
		}
	}
}

func TestValidListPrefix(t *testing.T) {
	cases := []struct {
		prefix string
		want   bool
	}{
		{"", true},
		{"clips/", true},
		{"clips/a", true},
		{"clips/abc/", true},
		{"a", true},
		{".", true},  // the start of ".x"
		{"..", true}, // the start of "..x"
		{"a/.", true},
		{"../", false},
		{"./", false},
		{"/", false},
		{"/x", false},
		{"a//", false},
		{"a//b", false},
		{"a/../", false},
		{"a/./b", false},
		{"a b", false},
		{"a\\b", false},
		{"é", false},
		{"a~", false},
		{strings.Repeat("a", 512), true},
		{strings.Repeat("a", 513), false},
	}
	for _, c := range cases {
		if got := blob.ValidListPrefix(c.prefix); got != c.want {
			t.Errorf("ValidListPrefix(%q): got %v, want %v", c.prefix, got, c.want)
		}
	}
}

// FuzzValidListPrefix checks that every valid list prefix is a prefix of
// some valid key (it can match something) and never climbs out of its
// directory.
func FuzzValidListPrefix(f *testing.F) {
	for _, s := range []string{"", "clips/", "clips/a", "..", "../", "a//", "a/.", "/x", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, prefix string) {
		if !blob.ValidListPrefix(prefix) {
			return
		}
		dir := ""
		if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
			dir = prefix[:i]
		}
		if dir != "" && !blob.ValidKey(dir) {
			t.Fatalf("ValidListPrefix(%q) with an invalid directory %q", prefix, dir)
		}
		if len(prefix) < 512 && !blob.ValidKey(prefix+"x") {
			t.Fatalf("ValidListPrefix(%q), but %q is no valid key", prefix, prefix+"x")
		}
	})
}
