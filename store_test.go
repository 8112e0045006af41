package shopclip_test

import (
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// FuzzParseFeedCursor checks that any cursor string either decodes to one that
// re-encodes to the same position, or is refused with EINVALID.
func FuzzParseFeedCursor(f *testing.F) {
	f.Add(shopclip.FeedCursor{PublishedAt: time.Date(2026, 11, 21, 12, 0, 0, 123000, time.UTC), ID: shopclip.NewID(shopclip.PrefixClip)}.String())
	f.Add("")
	f.Add("!!")
	f.Add("Zm9v")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := shopclip.ParseFeedCursor(s)
		if err != nil {
			if shopclip.ErrorCode(err) != shopclip.EINVALID {
				t.Fatalf("ParseFeedCursor(%q) error code %q", s, shopclip.ErrorCode(err))
			}
			return
		}
		if s == "" {
			if !c.IsZero() {
				t.Fatalf("empty cursor decoded to %+v", c)
			}
			return
		}
		again, err := shopclip.ParseFeedCursor(c.String())
		if err != nil || !again.PublishedAt.Equal(c.PublishedAt) || again.ID != c.ID {
			t.Fatalf("round trip of %q: %+v → %+v, %v", s, c, again, err)
		}
	})
}
