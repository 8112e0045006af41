package storefront

import (
	"net/http"
	"strconv"

	"github.com/shopclip/shopclip"
)

// Lists that grow without bound answer a page at a time: ?limit= (1 to
// shopclip.MaxPageSize, default shopclip.DefaultPageSize) and ?cursor= (the
// next_cursor of the previous page, opaque). A full page carries next_cursor;
// a shorter one (possibly empty, after a full last page) has none: the end.

// pageQuery documents the paging parameters in the OpenAPI document.
func pageQuery(items string) []param {
	return []param{
		{Name: "cursor", Type: "", Doc: "next_cursor of the previous page, as given; none for the first page"},
		{Name: "limit", Type: 0, Doc: items + " per page, 1 to " + strconv.Itoa(shopclip.MaxPageSize) + " (default " + strconv.Itoa(shopclip.DefaultPageSize) + ")"},
	}
}

// pageParam reads ?limit= and ?cursor= for a list of objects whose IDs have
// prefix. A bad value of either is an EINVALID (400).
func pageParam(r *http.Request, prefix string) (shopclip.Page, error) {
	limit, err := limitParam(r, shopclip.DefaultPageSize, shopclip.MaxPageSize)
	if err != nil {
		return shopclip.Page{}, err
	}
	after, err := shopclip.ParseCursor(r.URL.Query().Get("cursor"), prefix)
	if err != nil {
		return shopclip.Page{}, err
	}
	return shopclip.Page{After: after, Limit: limit}, nil
}

// nextCursor is a page's next_cursor: the position after its last item when
// the page is full, nil (the end) otherwise.
func nextCursor[T any](p shopclip.Page, items []T, cursor func(T) shopclip.Cursor) *string {
	if len(items) == 0 || len(items) < p.Size() {
		return nil
	}
	next := cursor(items[len(items)-1]).String()
	return &next
}

func clipCursor(c *shopclip.Clip) shopclip.Cursor { return shopclip.TimeCursor(c.CreatedAt, c.ID) }

func productCursor(p *shopclip.Product) shopclip.Cursor {
	return shopclip.TimeCursor(p.CreatedAt, p.ID)
}
