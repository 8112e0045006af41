package shopclip

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Lists that can grow without bound (a brand's catalog, a creator's clips, a
// clip's tags) are read a page at a time, in a stable keyset order: a page
// holds the items strictly after a Cursor, so items added while a client
// walks the pages never shift what it has not read yet, and the database
// seeks straight to the page's start (no OFFSET).

// MaxPageSize bounds the items of one page of any list; DefaultPageSize is
// what the API answers when the client names no limit.
const (
	MaxPageSize     = 100
	DefaultPageSize = 20
)

// Page asks for one page of a list.
type Page struct {
	// After is where the page starts: the items strictly after it in the
	// list's order. The zero Cursor is the start of the list.
	After Cursor
	// Limit is the most items to return, 1..MaxPageSize; 0 (or anything
	// out of range) means MaxPageSize.
	Limit int
}

// Size returns p's limit brought into 1..MaxPageSize.
func (p Page) Size() int {
	if p.Limit < 1 || p.Limit > MaxPageSize {
		return MaxPageSize
	}
	return p.Limit
}

// Cursor marks a position in a list: the key of the last item read and its
// ID, which breaks ties between items with the same key. Lists ordered by a
// time (newest first) use At; lists ordered by a number (a clip's tags by
// start) use Pos. The zero value is the start of the list.
type Cursor struct {
	At  time.Time
	Pos int64
	ID  string
}

// IsZero reports whether c is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == "" }

// String encodes c as an opaque cursor (the next_cursor of a page); "" for
// the start of the list.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	var at string
	if !c.At.IsZero() {
		at = c.At.UTC().Format(time.RFC3339Nano)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(at + "|" + strconv.FormatInt(c.Pos, 10) + "|" + c.ID))
}

// ParseCursor decodes a cursor made by Cursor.String for a list of objects
// whose IDs have prefix; "" is the start of the list. Anything else is an
// EINVALID error.
func ParseCursor(s, prefix string) (Cursor, error) {
	var c Cursor
	if s == "" {
		return c, nil
	}
	bad := Errorf(EINVALID, "Invalid cursor: pass back next_cursor exactly as the previous page gave it.")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, bad
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != 3 || !ValidID(prefix, parts[2]) {
		return c, bad
	}
	if parts[0] != "" {
		if c.At, err = time.Parse(time.RFC3339Nano, parts[0]); err != nil {
			return Cursor{}, bad
		}
	}
	if c.Pos, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
		return Cursor{}, bad
	}
	c.ID = parts[2]
	return c, nil
}

// TimeCursor is the position just after an item listed by (at, id).
func TimeCursor(at time.Time, id string) Cursor { return Cursor{At: at, ID: id} }

// TagCursor is the position just after tag t in a clip's tags, which are
// ordered by start, then ID.
func TagCursor(t *Tag) Cursor { return Cursor{Pos: t.StartMS, ID: t.ID} }

// TagQuery selects a page of a clip's tags, ordered by StartMS, then ID.
type TagQuery struct {
	// Statuses keeps the tags in one of them; none means every status.
	Statuses []TagStatus
	// BrandID, when set, keeps that brand's tags only.
	BrandID string
	// After and Limit are the page (After.Pos is a StartMS).
	Page
}

// AllPages reads a whole list a page at a time with next, which returns the
// page after a cursor, and cursor, which gives the position after an item;
// it stops at the first page shorter than size, or after maxItems items
// (more is an ECONFLICT, so a caller never silently shows part of a list).
func AllPages[T any](ctx context.Context, size, maxItems int, next func(ctx context.Context, p Page) ([]T, error), cursor func(T) Cursor) ([]T, error) {
	var all []T
	p := Page{Limit: size}
	for len(all) <= maxItems {
		items, err := next(ctx, p)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if len(items) < p.Size() {
			return all, nil
		}
		p.After = cursor(items[len(items)-1])
	}
	return nil, Errorf(ECONFLICT, "The list holds more than %d items, too many to show at once.", maxItems)
}
