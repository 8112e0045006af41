package blob

import (
	"strings"

	"github.com/shopclip/shopclip"
)

// ValidListPrefix reports whether prefix is acceptable to Store.List. Unlike
// ValidPrefix it may end in the middle of a key segment ("clips/a" lists
// "clips/abc/x" too): it is "", or a valid key followed by "/", optionally
// followed by the start of a segment (characters allowed in keys, at most 512
// bytes in all).
func ValidListPrefix(prefix string) bool {
	if len(prefix) > 512 {
		return false
	}
	dir, part := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir, part = prefix[:i], prefix[i+1:]
		if !ValidKey(dir) {
			return false
		}
	}
	for _, c := range part {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// PageLimit checks and clamps ListPage's limit: EINVALID below 1,
// MaxListPage above it.
func PageLimit(limit int) (int, error) {
	if limit < 1 {
		return 0, shopclip.Errorf(shopclip.EINVALID, "blob: list page limit %d: want at least 1", limit)
	}
	return min(limit, MaxListPage), nil
}
