package storefront

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/respcache"
	"github.com/shopclip/shopclip/tagging"
)

type tagInput struct {
	ProductID string   `json:"product_id" openapi:"required"`
	StartMS   *int64   `json:"start_ms" openapi:"required"`
	EndMS     *int64   `json:"end_ms" openapi:"required"`
	X         *float64 `json:"x" openapi:"required"`
	Y         *float64 `json:"y" openapi:"required"`
}

// tagList is a page of a clip's tags.
type tagList struct {
	Tags       []*shopclip.Tag `json:"tags"`
	NextCursor *string         `json:"next_cursor"` // null on the last page
}

// approveInput is the optional body of an approval.
type approveInput struct {
	Always bool `json:"always"` // also approve the tag's brand for good
}

// popupList is a clip's pop-ups live now.
type popupList struct {
	ClipID string           `json:"clip_id"`
	Popups []shopclip.Popup `json:"popups"`
	// PricedAt is the moment the prices hold at: the server's clock, which a
	// player counts sales' ends by.
	PricedAt time.Time `json:"priced_at"`
	// NextChangeAt is when a sale of a product shown starts or ends next:
	// the pop-ups are priced differently from then on, so a player fetches
	// them again. Absent when none is scheduled.
	NextChangeAt *time.Time `json:"next_change_at,omitempty"`
}

// tagQuotaDoc documents the tag quotas in the route table.
var tagQuotaDoc = fmt.Sprintf("(409 over a tag quota: %d pending or active tags a clip, %d a brand on one clip, %d pending a brand)",
	shopclip.MaxTagsPerClip, shopclip.MaxTagsPerBrandClip, shopclip.MaxPendingTagsPerBrand)

// maxPopupsDoc is the most pop-ups a clip shows, for the route table.
var maxPopupsDoc = fmt.Sprint(shopclip.MaxTagsPerClip)

// createTag places one of the caller's products into a clip. A brand's tag on
// a creator's clip is pending until the creator approves it.
func (s *Server) createTag(w http.ResponseWriter, r *http.Request) error {
	clip, err := s.visibleClip(r)
	if err != nil {
		return err
	}
	var in tagInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.ProductID == "" || in.StartMS == nil || in.EndMS == nil || in.X == nil || in.Y == nil {
		return shopclip.Errorf(shopclip.EINVALID, "product_id, start_ms, end_ms, x and y are all required.")
	}
	if clip.Status != shopclip.ClipReady {
		return shopclip.Errorf(shopclip.ECONFLICT, "The clip is %s; tag it once it is ready.", clip.Status)
	}
	acct := account(r)
	p, err := s.Store.Product(r.Context(), in.ProductID)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND || (err == nil && acct.Role != shopclip.RoleAdmin && p.BrandID != acct.ID) {
		return shopclip.Errorf(shopclip.EINVALID, "product_id %q is not a product of yours.", in.ProductID)
	} else if err != nil {
		return err
	}
	t := &shopclip.Tag{
		ID:        shopclip.NewID(shopclip.PrefixTag),
		ClipID:    clip.ID,
		ProductID: p.ID,
		BrandID:   p.BrandID,
		StartMS:   *in.StartMS,
		EndMS:     *in.EndMS,
		X:         *in.X,
		Y:         *in.Y,
		Status:    shopclip.TagPending,
	}
	if err := t.Validate(clip); err != nil {
		return err
	}
	if p.BrandID == clip.CreatorID {
		t.Status = shopclip.TagActive // a creator tagging its own product consents by doing so
	} else if ok, err := s.Store.BrandApproved(r.Context(), clip.CreatorID, p.BrandID); err != nil {
		return err
	} else if ok {
		t.Status = shopclip.TagActive // the creator approved this brand for good
	}
	if err := s.Store.CreateTag(r.Context(), t); err != nil {
		return err
	}
	s.relabelClip(r, clip.ID)
	if t.Status == shopclip.TagPending {
		s.emitTag(r, shopclip.EventTagProposed, clip, t)
	} else {
		s.emitTag(r, shopclip.EventTagApproved, clip, t) // approved by the creator already
	}
	return writeJSON(w, http.StatusAccepted, t)
}

// listTags shows a page of a clip's tags in clip order (by start): all of
// them to its creator and admins, a brand's own to that brand.
func (s *Server) listTags(w http.ResponseWriter, r *http.Request) error {
	clip, err := s.visibleClip(r)
	if err != nil {
		return err
	}
	page, err := pageParam(r, shopclip.PrefixTag)
	if err != nil {
		return err
	}
	q := shopclip.TagQuery{Page: page}
	if acct := account(r); !canManageClip(acct, clip) {
		q.BrandID = acct.ID
	}
	tags, err := s.Store.ClipTags(r.Context(), clip.ID, q)
	if err != nil {
		return err
	}
	if tags == nil {
		tags = []*shopclip.Tag{}
	}
	return writeJSON(w, http.StatusOK, tagList{Tags: tags, NextCursor: nextCursor(page, tags, shopclip.TagCursor)})
}

// approveTag activates a tag; with {"always": true} the creator also
// approves the tag's brand for good, so its future tags are active at once.
func (s *Server) approveTag(w http.ResponseWriter, r *http.Request) error {
	var in approveInput
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
	}
	return s.setTagStatus(w, r, shopclip.TagActive, in.Always)
}

func (s *Server) rejectTag(w http.ResponseWriter, r *http.Request) error {
	return s.setTagStatus(w, r, shopclip.TagRejected, false)
}

// setTagStatus records the clip creator's consent decision on a tag, and
// with always a standing approval of the tag's brand.
func (s *Server) setTagStatus(w http.ResponseWriter, r *http.Request, status shopclip.TagStatus, always bool) error {
	clip, err := s.visibleClip(r)
	if err != nil {
		return err
	}
	if !canManageClip(account(r), clip) {
		return notFound("Clip", clip.ID)
	}
	tagID, err := pathID(r, "tag_id", shopclip.PrefixTag, "Tag")
	if err != nil {
		return err
	}
	t, err := s.Store.Tag(r.Context(), tagID)
	if err != nil {
		return err
	}
	if t.ClipID != clip.ID {
		return notFound("Tag", tagID)
	}
	if always {
		if err := s.Store.ApproveBrand(r.Context(), clip.CreatorID, t.BrandID); err != nil {
			return err
		}
	}
	if t.Status != status {
		if err := s.Store.SetTagStatus(r.Context(), t.ID, status); err != nil {
			return err
		}
		t.Status = status
		s.relabelClip(r, clip.ID)
		if status == shopclip.TagActive {
			s.emitTag(r, shopclip.EventTagApproved, clip, t)
		} else if status == shopclip.TagRejected {
			s.emitTag(r, shopclip.EventTagRejected, clip, t)
		}
	}
	return writeJSON(w, http.StatusOK, t)
}

// popups returns the clip's pop-ups priced now: only active tags, the
// discount valid at this moment, and buy URLs. Viewers' answers are kept in
// memory until a discount they show starts or ends, or something they show
// changes (invalidate); a signed-in caller — perhaps the creator
// previewing a clip still processing — gets one built for the request.
func (s *Server) popups(w http.ResponseWriter, r *http.Request) error {
	if account(r) != nil {
		clip, err := s.visibleClip(r)
		if err != nil {
			return err
		}
		a, err := s.buildPopups(r.Context(), clip)
		if err != nil {
			return err
		}
		return s.writeAnswer(w, r, a, popupsMaxAge)
	}
	id, err := pathID(r, "id", shopclip.PrefixClip, "Clip")
	if err != nil {
		return err
	}
	a, err := s.Answers.Get(r.Context(), respcache.Clip, id+"/popups", func(ctx context.Context) (*respcache.Answer, error) {
		clip, err := s.Store.Clip(ctx, id)
		if err != nil {
			return nil, err
		}
		if clip.Status != shopclip.ClipReady {
			return nil, notFound("Clip", id)
		}
		return s.buildPopups(ctx, clip)
	})
	if err != nil {
		return err
	}
	return s.writeAnswer(w, r, a, popupsMaxAge)
}

// buildPopups prices clip's pop-ups now, as an answer that expires when a
// discount they show starts or ends.
func (s *Server) buildPopups(ctx context.Context, clip *shopclip.Clip) (*respcache.Answer, error) {
	tl, err := tagging.BuildTimeline(ctx, s.Store, clip, s.now(), s.buyURL)
	if err != nil {
		return nil, err
	}
	out := popupList{ClipID: clip.ID, Popups: tl.Popups, PricedAt: tl.GeneratedAt}
	if !tl.NextChange.IsZero() {
		out.NextChangeAt = &tl.NextChange
	}
	return jsonAnswer(out, tl.NextChange)
}

func (s *Server) buyURL(t *shopclip.Tag) string { return s.url(shopclip.BuyPath(t.ID)) }

// overlaysVTT renders the pop-up timeline as a WebVTT metadata track, priced
// now like the pop-ups, so a player never shows a label that ended or a tag
// the creator rejected.
func (s *Server) overlaysVTT(w http.ResponseWriter, r *http.Request) error {
	clip, err := s.visibleClip(r)
	if err != nil {
		return err
	}
	tl, err := tagging.BuildTimeline(r.Context(), s.Store, clip, s.now(), s.buyURL)
	if err != nil {
		return err
	}
	body, err := tl.WebVTT()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	w.Header().Set("Content-Type", "text/vtt; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=5")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	return nil
}

// buy redirects a viewer to the product's store and counts the click. A
// player passes its session (?session=…) so the click can be deduplicated
// with the one it reports and a later purchase attributed to it.
//
// With a valid session, the redirect carries it to the brand's store as the
// query parameters sc_session (the session) and sc_tag (the tag clicked),
// added to the product URL's own query (its fragment is kept): the store
// keeps sc_session and reports the purchase with it as session_id. Without
// one, the redirect goes to the product URL unchanged.
func (s *Server) buy(w http.ResponseWriter, r *http.Request) error {
	if err := s.limit(w, r, s.buyLimiter); err != nil {
		return err
	}
	tagID, err := pathID(r, "tag_id", shopclip.PrefixTag, "Tag")
	if err != nil {
		return err
	}
	t, err := s.viewerTag(r.Context(), tagID)
	if err != nil {
		return err
	}
	if t.Status != shopclip.TagActive {
		return notFound("Tag", tagID)
	}
	p, err := s.viewerProduct(r.Context(), t.ProductID)
	if err != nil {
		return err
	}
	if err := shopclip.ValidateWebURL("url", p.URL, true); err != nil {
		// Checked when stored; a row written otherwise never sends a viewer
		// to a javascript: or data: URL.
		return shopclip.Errorf(shopclip.ENOTFOUND, "This product has no valid link.")
	}
	session := r.URL.Query().Get("session")
	if !shopclip.ValidSessionID(session) {
		session = ""
	}
	now := s.now()
	key := "" // without a session every click counts
	if session != "" {
		key = clickKey(session, t.ID, now)
	}
	click := &shopclip.Event{ID: shopclip.NewID(prefixEvent), Type: shopclip.EventClick, SessionID: session,
		ClipID: t.ClipID, TagID: t.ID, ProductID: t.ProductID, BrandID: t.BrandID, At: now}
	s.recordClick(r.Context(), click, key)
	s.metrics.BuyClicked()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "strict-origin-when-cross-origin")
	http.Redirect(w, r, storeURL(p.URL, session, t.ID), http.StatusFound)
	return nil
}

// storeURL is the product URL a buy redirect goes to: productURL with
// sc_session and sc_tag added to its query when there is a session.
func storeURL(productURL, session, tagID string) string {
	if session == "" {
		return productURL
	}
	u, err := url.Parse(productURL)
	if err != nil {
		return productURL // validated when stored; never expected
	}
	// Appended, so the store's own query stays byte for byte as it was.
	add := url.Values{"sc_session": {session}, "sc_tag": {tagID}}.Encode()
	if u.RawQuery != "" {
		add = u.RawQuery + "&" + add
	}
	u.RawQuery, u.ForceQuery = add, false
	return u.String()
}
