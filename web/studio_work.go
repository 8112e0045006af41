package web

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
	"github.com/shopclip/shopclip/tagging"
)

// The studio's working pages: creators upload and follow their clips,
// decide on the tags brands propose and read their stats; brands keep their
// catalog, tag products into clips and read their sales. The pages are
// rendered with what the store holds now; their scripts act through the API
// (/v1/...) with the session cookie, as any client does, and keep the page
// live (the clips' status comes from GET /v1/clips/live).

func init() {
	studioPatterns["GET /studio/clips"] = (*Server).studioClips
	studioPatterns["GET /studio/consent"] = (*Server).studioConsent
	studioPatterns["GET /studio/catalog"] = (*Server).studioCatalog
	studioPatterns["GET /studio/tagging"] = (*Server).studioTagging
}

// studioNav is what the studio's tab bar needs.
type studioNav struct {
	Account *shopclip.Account
	Tab     string
}

// studioPage opens a working page for role (admins may open every one):
// signed in, or redirected to sign in; of another role, refused.
func (s *Server) studioPage(w http.ResponseWriter, r *http.Request, role shopclip.Role) (*auth.Caller, bool, error) {
	s.private(w)
	c, ok, err := s.signedIn(w, r)
	if !ok {
		return nil, false, err
	}
	if a := c.Account; a.Role != role && a.Role != shopclip.RoleAdmin {
		return nil, false, shopclip.Errorf(shopclip.EFORBIDDEN, "This page is for %s accounts; yours is a %s account.", role, a.Role)
	}
	return c, true, nil
}

// clipRow is a clip in the creator's list, as GET /v1/clips/live sends
// it too.
type clipRow struct {
	ID, Title   string
	Status      shopclip.ClipStatus
	Progress    int // percent
	Error       *shopclip.Error
	Retry       bool // failed for a reason not the file's
	Poster, MP4 string
}

// clipsData is the creator's clips page's.
type clipsData struct {
	Nav       studioNav
	Clips     []clipRow
	MaxUpload string
	Accept    string
}

// uploadAccept is the file picker's filter: every container the transcoder
// opens, by type and by extension (phones' .mov is video/quicktime).
const uploadAccept = "video/*,.mp4,.m4v,.mov,.webm,.mkv,.avi,.ts,.mts,.m2ts,.mpg,.mpeg,.vob,.3gp"

func (s *Server) studioClips(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.studioPage(w, r, shopclip.RoleCreator)
	if !ok {
		return err
	}
	clips, err := s.allClips(r.Context(), c.Account.ID)
	if err != nil {
		return err
	}
	data := clipsData{Nav: studioNav{c.Account, "clips"}, MaxUpload: humanSize(s.maxUpload()), Accept: uploadAccept}
	for _, cl := range clips {
		row := clipRow{ID: cl.ID, Title: cl.Title, Status: cl.Status, Progress: int(cl.Progress * 100), Error: cl.Error,
			Retry: cl.Status == shopclip.ClipFailed && shopclip.Reprocessable(cl.Error)}
		if p := cl.PlaybackPaths(); p.HLS != "" {
			row.Poster, row.MP4 = p.Poster, p.MP4
		}
		data.Clips = append(data.Clips, row)
	}
	s.render(w, r, http.StatusOK, "studio-clips", &pageData{Title: "Clips · Studio · shopclip", Script: "js/studio-clips.js",
		Vendors: []string{"vendor/tus.min.js"}, Main: data})
	return nil
}

func (s *Server) maxUpload() int64 {
	if s.MaxUploadBytes > 0 {
		return s.MaxUploadBytes
	}
	return 1 << 30
}

// humanSize says n bytes in GiB or MiB.
func humanSize(n int64) string {
	if n >= 1<<30 && n%(1<<30) == 0 {
		return strconv.FormatInt(n>>30, 10) + " GiB"
	}
	return strconv.FormatInt(n>>20, 10) + " MiB"
}

// tagPreview is a tag shown on its clip at its moment and place, with the
// card viewers will see.
type tagPreview struct {
	Tag        *shopclip.Tag
	ClipTitle  string
	BrandID    string
	BrandName  string
	MP4        string // the clip's MP4, started at the tag's moment
	Poster     string
	Width      int
	Height     int
	PopupJSON  string // the card, as GET /v1/clips/{id}/popups would give it
	ClipReady  bool
	BrandTrust bool // the brand is approved for good
}

// consentData is the consent page's.
type consentData struct {
	Nav     studioNav
	Pending []tagPreview
	Decided []tagPreview // the latest decisions, newest first
	Brands  []brandRef   // approved for good
}

type brandRef struct{ ID, Name string }

func (s *Server) studioConsent(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.studioPage(w, r, shopclip.RoleCreator)
	if !ok {
		return err
	}
	ctx := r.Context()
	clips, err := s.allClips(ctx, c.Account.ID)
	if err != nil {
		return err
	}
	approved, err := s.approvedBrands(ctx, c.Account.ID)
	if err != nil {
		return err
	}
	var tags []*shopclip.Tag
	clipOf := map[string]*shopclip.Clip{}
	for _, cl := range clips {
		ts, err := s.allTags(ctx, cl.ID)
		if err != nil {
			return err
		}
		for _, t := range ts {
			tags = append(tags, t)
			clipOf[t.ID] = cl
		}
	}
	var productIDs, brandIDs []string
	for _, t := range tags {
		productIDs, brandIDs = append(productIDs, t.ProductID), append(brandIDs, t.BrandID)
	}
	now := s.now()
	cat, err := tagging.LoadCatalog(ctx, s.Store, productIDs, now)
	if err != nil {
		return err
	}
	names := s.accountNames(ctx, slices.Concat(brandIDs, approved)...)
	data := consentData{Nav: studioNav{c.Account, "consent"}}
	for _, t := range tags {
		pv, ok := s.preview(t, clipOf[t.ID], cat, now)
		if !ok {
			continue
		}
		pv.BrandName, pv.BrandTrust = names[t.BrandID], slices.Contains(approved, t.BrandID)
		if t.Status == shopclip.TagPending {
			data.Pending = append(data.Pending, pv)
		} else {
			data.Decided = append(data.Decided, pv)
		}
	}
	slices.SortFunc(data.Decided, func(a, b tagPreview) int { return b.Tag.UpdatedAt.Compare(a.Tag.UpdatedAt) })
	data.Decided = data.Decided[:min(len(data.Decided), 20)]
	for _, id := range approved {
		data.Brands = append(data.Brands, brandRef{id, names[id]})
	}
	s.render(w, r, http.StatusOK, "studio-consent", &pageData{Title: "Tags to review · Studio · shopclip", Script: "js/studio-consent.js",
		Vendors: []string{}, Main: data})
	return nil
}

// preview makes the preview of tag t on clip cl.
func (s *Server) preview(t *shopclip.Tag, cl *shopclip.Clip, cat tagging.Catalog, now time.Time) (tagPreview, bool) {
	p, ok := tagging.Preview(t, cat, now, func(*shopclip.Tag) string { return "" })
	if !ok {
		return tagPreview{}, false
	}
	b, _ := json.Marshal(p)
	pv := tagPreview{Tag: t, ClipTitle: cl.Title, BrandID: t.BrandID, Width: cl.Width, Height: cl.Height, PopupJSON: string(b),
		ClipReady: cl.Status == shopclip.ClipReady}
	if pb := cl.PlaybackPaths(); pb.HLS != "" {
		pv.MP4, pv.Poster = pb.MP4, pb.Poster
	}
	return pv, true
}

// productRow is a product in the brand's catalog, priced now, with why a
// discount shows no label when it does not.
type productRow struct {
	Product   *shopclip.Product
	Price     tagging.Price
	Discounts []discountRow
}

type discountRow struct {
	Discount *shopclip.Discount
	State    string // "upcoming", "live", "ended"
	// Honesty explains, for a live discount that applies without a label,
	// why viewers see no reduction; empty otherwise.
	Honesty string
}

// catalogData is the catalog page's.
type catalogData struct {
	Nav      studioNav
	Products []productRow
}

// brandCatalog reads a brand's products with what prices them at now.
func (s *Server) brandCatalog(ctx context.Context, brandID string, now time.Time) ([]*shopclip.Product, tagging.Catalog, error) {
	ps, err := s.allProducts(ctx, brandID)
	if err != nil {
		return nil, tagging.Catalog{}, err
	}
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	cat, err := tagging.LoadCatalog(ctx, s.Store, ids, now)
	return ps, cat, err
}

func (s *Server) studioCatalog(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.studioPage(w, r, shopclip.RoleBrand)
	if !ok {
		return err
	}
	now := s.now()
	ps, cat, err := s.brandCatalog(r.Context(), c.Account.ID, now)
	if err != nil {
		return err
	}
	data := catalogData{Nav: studioNav{c.Account, "catalog"}}
	for _, p := range ps {
		price := tagging.PriceAt(p, cat.Discounts[p.ID], cat.History[p.ID], now)
		row := productRow{Product: p, Price: price}
		for _, d := range cat.Discounts[p.ID] {
			dr := discountRow{Discount: d, State: "live"}
			switch {
			case now.Before(d.StartsAt):
				dr.State = "upcoming"
			case !now.Before(d.EndsAt):
				dr.State = "ended"
			case price.Discount != nil && price.Discount.ID == d.ID && price.Label == "":
				dr.Honesty = "Buyers pay " + tagging.FormatMoney(price.SalePriceMinor, p.Currency) +
					", but the card shows no reduction and no countdown: a reduction is measured against the lowest price the product sold at in the 30 days before the sale, and this sale is not below it (a price raised before a sale does not make one)."
			case price.Discount == nil:
				dr.Honesty = "This discount would take the price to zero or below, so it does not apply."
			case price.Discount.ID != d.ID:
				dr.Honesty = "Another discount gives a lower price now; this one does not apply."
			}
			row.Discounts = append(row.Discounts, dr)
		}
		data.Products = append(data.Products, row)
	}
	s.render(w, r, http.StatusOK, "studio-catalog", &pageData{Title: "Catalog · Studio · shopclip", Script: "js/studio-catalog.js",
		Vendors: []string{}, Main: data})
	return nil
}

// taggingData is the tagging page's.
type taggingData struct {
	Nav      studioNav
	Products []taggable
}

// taggable is a product the brand can tag, with its card priced now.
type taggable struct {
	Product   *shopclip.Product
	PopupJSON string
}

func (s *Server) studioTagging(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.studioPage(w, r, shopclip.RoleBrand)
	if !ok {
		return err
	}
	now := s.now()
	ps, cat, err := s.brandCatalog(r.Context(), c.Account.ID, now)
	if err != nil {
		return err
	}
	data := taggingData{Nav: studioNav{c.Account, "tagging"}}
	for _, p := range ps {
		pop, _ := tagging.Preview(&shopclip.Tag{ProductID: p.ID}, cat, now, func(*shopclip.Tag) string { return "" })
		b, _ := json.Marshal(pop)
		data.Products = append(data.Products, taggable{p, string(b)})
	}
	s.render(w, r, http.StatusOK, "studio-tagging", &pageData{Title: "Tag a clip · Studio · shopclip", Script: "js/studio-tagging.js", Main: data})
	return nil
}
