package storefront

import (
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// FuzzSniffContainer feeds arbitrary first bytes of uploads to the sniffer:
// it must never panic, and what it accepts must carry the signature it names.
func FuzzSniffContainer(f *testing.F) {
	for _, seed := range []string{
		"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "\x1a\x45\xdf\xa3\x01", "RIFF\x00\x00\x00\x00AVI LIST",
		"G", "#EXTM3U\n", "<html>", "",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		switch sniffContainer(b) {
		case "isobmff":
			if !isBMFFBox(b[4:8]) {
				t.Errorf("isobmff without a box type: %q", b)
			}
		case "matroska":
			if b[0] != 0x1a {
				t.Errorf("matroska without EBML magic: %q", b)
			}
		case "mpegts":
			if b[0] != 0x47 && b[4] != 0x47 {
				t.Errorf("mpegts without sync byte: %q", b)
			}
		}
	})
}

// FuzzDecodeCursor checks that any cursor string either decodes to one that
// re-encodes to the same position, or is refused with EINVALID.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(shopclip.FeedCursor{PublishedAt: time.Date(2026, 11, 21, 12, 0, 0, 123000, time.UTC), ID: shopclip.NewID(shopclip.PrefixClip)}))
	f.Add("")
	f.Add("!!")
	f.Add("Zm9v")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			if shopclip.ErrorCode(err) != shopclip.EINVALID {
				t.Fatalf("decodeCursor(%q) error code %q", s, shopclip.ErrorCode(err))
			}
			return
		}
		if s == "" {
			if !c.IsZero() {
				t.Fatalf("empty cursor decoded to %+v", c)
			}
			return
		}
		again, err := decodeCursor(encodeCursor(c))
		if err != nil || !again.PublishedAt.Equal(c.PublishedAt) || again.ID != c.ID {
			t.Fatalf("round trip of %q: %+v → %+v, %v", s, c, again, err)
		}
	})
}
