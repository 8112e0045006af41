package storefront

import (
	"net/http"

	"github.com/shopclip/shopclip"
)

// brandRef is a brand as a creator's approval list shows it.
type brandRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// brandList is a page of the brands a creator approved for good.
type brandList struct {
	Brands     []brandRef `json:"brands"`
	NextCursor *string    `json:"next_cursor"` // null on the last page
}

// brandApproval is a POST /v1/me/approved-brands body.
type brandApproval struct {
	BrandID string `json:"brand_id" openapi:"required"`
}

// listApprovedBrands lists a page of the brands the caller approved for
// good, in the order of approval.
func (s *Server) listApprovedBrands(w http.ResponseWriter, r *http.Request) error {
	page, err := pageParam(r, shopclip.PrefixAccount)
	if err != nil {
		return err
	}
	approvals, err := s.Store.ApprovedBrands(r.Context(), account(r).ID, page)
	if err != nil {
		return err
	}
	out := []brandRef{}
	for _, ap := range approvals {
		a, err := s.Store.Account(r.Context(), ap.BrandID)
		if err != nil {
			return err
		}
		out = append(out, brandRef{a.ID, a.Name})
	}
	return writeJSON(w, http.StatusOK, brandList{Brands: out, NextCursor: nextCursor(page, approvals, shopclip.BrandApproval.Cursor)})
}

// approveBrand makes the caller's approval of a brand standing: the brand's
// future tags on the caller's clips are active at once.
func (s *Server) approveBrand(w http.ResponseWriter, r *http.Request) error {
	var in brandApproval
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	b, err := s.Store.Account(r.Context(), in.BrandID)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND || err == nil && b.Role != shopclip.RoleBrand {
		return shopclip.Errorf(shopclip.EINVALID, "brand_id %q is not a brand account.", in.BrandID)
	} else if err != nil {
		return err
	}
	if err := s.Store.ApproveBrand(r.Context(), account(r).ID, b.ID); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, brandRef{b.ID, b.Name})
}

// revokeBrand withdraws a standing approval; tags already active stay so.
func (s *Server) revokeBrand(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "brand_id", shopclip.PrefixAccount, "Brand")
	if err != nil {
		return err
	}
	if err := s.Store.RevokeBrand(r.Context(), account(r).ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
