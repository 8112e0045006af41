package web

import (
	"context"

	"github.com/shopclip/shopclip"
)

// The studio's pages show a creator's or a brand's whole list (the live
// clip list, the consent queue, the catalog, the stats tables), read from the
// store a page at a time, up to maxStudioList items: a list longer than
// that is an error page, never a silently shortened one.
const maxStudioList = 10_000

// allClips returns every clip of a creator, newest first.
func (s *Server) allClips(ctx context.Context, creatorID string) ([]*shopclip.Clip, error) {
	return shopclip.AllPages(ctx, shopclip.MaxPageSize, maxStudioList,
		func(ctx context.Context, p shopclip.Page) ([]*shopclip.Clip, error) {
			return s.Store.CreatorClips(ctx, creatorID, p)
		},
		func(c *shopclip.Clip) shopclip.Cursor { return shopclip.TimeCursor(c.CreatedAt, c.ID) })
}

// allProducts returns every product of a brand, newest first.
func (s *Server) allProducts(ctx context.Context, brandID string) ([]*shopclip.Product, error) {
	return shopclip.AllPages(ctx, shopclip.MaxPageSize, maxStudioList,
		func(ctx context.Context, p shopclip.Page) ([]*shopclip.Product, error) {
			return s.Store.BrandProducts(ctx, brandID, p)
		},
		func(p *shopclip.Product) shopclip.Cursor { return shopclip.TimeCursor(p.CreatedAt, p.ID) })
}

// allTags returns every tag of a clip, in any status, in clip order.
func (s *Server) allTags(ctx context.Context, clipID string) ([]*shopclip.Tag, error) {
	return shopclip.AllPages(ctx, shopclip.MaxPageSize, maxStudioList,
		func(ctx context.Context, p shopclip.Page) ([]*shopclip.Tag, error) {
			return s.Store.ClipTags(ctx, clipID, shopclip.TagQuery{Page: p})
		},
		shopclip.TagCursor)
}

// approvedBrands returns the IDs of every brand a creator approved for good,
// in the order of approval.
func (s *Server) approvedBrands(ctx context.Context, creatorID string) ([]string, error) {
	as, err := shopclip.AllPages(ctx, shopclip.MaxPageSize, maxStudioList,
		func(ctx context.Context, p shopclip.Page) ([]shopclip.BrandApproval, error) {
			return s.Store.ApprovedBrands(ctx, creatorID, p)
		},
		shopclip.BrandApproval.Cursor)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(as))
	for _, a := range as {
		ids = append(ids, a.BrandID)
	}
	return ids, nil
}
