package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/tagging"
)

//go:embed templates
var templateFS embed.FS

// pages holds one template set per page: the layout plus the page's file
// and the shared partials.
type pages struct {
	byName map[string]*template.Template
}

var pageNames = []string{"feed", "watch", "embed", "deals", "creator", "search", "error", "login", "signup", "studio",
	"studio-clips", "studio-consent", "studio-catalog", "studio-tagging", "studio-stats"}

func parsePages(a *assets) (*pages, error) {
	funcs := template.FuncMap{
		"asset":    a.URL,
		"preloads": a.Preloads,
		"money":    tagging.FormatMoney,
		// rowsOf hands a stats table its rows and what they are of.
		"rowsOf": func(of string, rows []statsRow) map[string]any {
			return map[string]any{"Of": strings.ToUpper(of[:1]) + of[1:], "Rows": rows}
		},
		// amount is money without its currency, for a form's price field.
		"amount": func(minor int64, currency string) string {
			return strings.TrimSuffix(tagging.FormatMoney(minor, currency), " "+currency)
		},
		"rfc3339": func(t time.Time) string {
			return t.UTC().Format(time.RFC3339)
		},
		"utc": func(t time.Time) string { return t.UTC().Format("Jan 2, 15:04 UTC") },
		// pct formats a fraction of the picture (0..1) as a CSS percentage.
		"pct": func(f float64) string { return strconv.FormatFloat(f*100, 'f', 2, 64) + "%" },
		"seconds": func(ms int64) string {
			return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)
		},
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		p.byName[name] = t
	}
	return p, nil
}

// pageData is what the layout renders around a page.
type pageData struct {
	Title       string
	Description string
	// Script is the page's ES module below static/js/; none when empty.
	Script string
	// Vendors are the classic scripts (below static/) the module needs,
	// loaded before it; nil means hls.js, which most pages play with.
	Vendors []string
	OG      *openGraph
	// Embed drops the site's header and footer (the player alone).
	Embed bool
	// Query fills the header's search box.
	Query string
	// Fetches are fetched ahead (<link rel=preload as=fetch>): the master
	// playlist hls.js asks for first.
	Fetches []string
	// Main is the page's own data, for its template.
	Main any
	// Now is when the page was made, by the server's clock (render sets
	// it): scripts count sales' ends from it.
	Now time.Time
}

// openGraph is what a link to a clip unfurls to in chats and social sites.
type openGraph struct {
	Title, Description, URL, Image string
	Video, VideoType               string
	Width, Height                  int
}

// render writes page name with status. A template error after headers went
// out can only be logged.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data *pageData) {
	data.Now = s.now()
	if data.Script != "" && data.Vendors == nil {
		data.Vendors = []string{"vendor/hls.min.js"}
	}
	var b bytes.Buffer
	if err := s.pages.byName[name].Execute(&b, data); err != nil {
		s.logger().ErrorContext(r.Context(), "web: render", "page", name, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

// clipCard is a clip as the lists of the feed, search, deals and creators'
// pages show it, and as the player starts it.
type clipCard struct {
	ID, Title              string
	CreatorID, CreatorName string
	HLS, Poster            string
	Width, Height          int
	DurationMS             int64
}

func (s *Server) cards(r *http.Request, clips []*shopclip.Clip) []clipCard {
	ids := make([]string, 0, len(clips))
	for _, c := range clips {
		ids = append(ids, c.CreatorID)
	}
	names := s.accountNames(r.Context(), ids...)
	out := make([]clipCard, 0, len(clips))
	for _, c := range clips {
		out = append(out, s.card(c, names[c.CreatorID]))
	}
	return out
}

func (s *Server) card(c *shopclip.Clip, creatorName string) clipCard {
	p := c.PlaybackPaths()
	return clipCard{ID: c.ID, Title: c.Title, CreatorID: c.CreatorID, CreatorName: creatorName,
		HLS: p.HLS, Poster: p.Poster, Width: c.Width, Height: c.Height, DurationMS: c.DurationMS}
}

// nextURL is the link to the page after clips (a full page, so it works
// without scripts; the feed's script fetches it for endless scrolling), or
// "" when clips did not fill a page.
func nextURL(path string, q url.Values, clips []*shopclip.Clip, pageSize int) string {
	if len(clips) < pageSize {
		return ""
	}
	v := url.Values{}
	for k, vs := range q {
		v[k] = vs
	}
	v.Set("cursor", shopclip.CursorAfter(clips[len(clips)-1]).String())
	return path + "?" + v.Encode()
}

// feedPage is the feed's data.
type feedPage struct {
	Clips    []clipCard
	Next     string
	Featured []creatorCard
}

// creatorCard is a creator in the featured row.
type creatorCard struct {
	ID, Name  string
	Purchases int64
}

func (s *Server) feed(w http.ResponseWriter, r *http.Request) error {
	cur, err := shopclip.ParseFeedCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	clips, err := s.Store.FeedClips(r.Context(), cur, feedPageSize)
	if err != nil {
		return err
	}
	data := feedPage{Clips: s.cards(r, clips), Next: nextURL("/", nil, clips, feedPageSize)}
	if cur.IsZero() {
		// The row is a nicety: without it the feed still shows.
		top, err := s.Discovery.FeaturedCreators(r.Context(), s.now().Add(-featuredWindow), featuredCreators)
		if err != nil && r.Context().Err() == nil {
			s.logger().WarnContext(r.Context(), "web: featured creators", "err", err)
		}
		for _, c := range top {
			data.Featured = append(data.Featured, creatorCard{ID: c.Creator.ID, Name: c.Creator.Name, Purchases: c.Purchases})
		}
	}
	s.render(w, r, http.StatusOK, "feed", &pageData{
		Title:       "shopclip",
		Description: "Short videos with the products in them: watch, tap, shop.",
		Script:      "js/feed.js",
		Main:        data,
	})
	return nil
}

// popupView is a pop-up with its prices formatted for the page.
type popupView struct {
	shopclip.Popup
	Price, SalePrice, WasPrice string
}

func viewPopups(ps []shopclip.Popup) []popupView {
	out := make([]popupView, 0, len(ps))
	for _, p := range ps {
		v := popupView{Popup: p,
			Price:     tagging.FormatMoney(p.Product.PriceMinor, p.Product.Currency),
			SalePrice: tagging.FormatMoney(p.Product.SalePriceMinor, p.Product.Currency)}
		if p.Product.WasPriceMinor > 0 {
			v.WasPrice = tagging.FormatMoney(p.Product.WasPriceMinor, p.Product.Currency)
		}
		out = append(out, v)
	}
	return out
}

// watchPage is the watch and embed pages' data.
type watchPage struct {
	Clip       clipCard
	MP4        string // the progressive MP4, played where HLS fails
	Storyboard string
	// Shop lists each product of the clip once, priced now, with the buy
	// URL of its first pop-up.
	Shop []popupView
}

// readyClip loads the clip named by the path, if viewers may watch it.
func (s *Server) readyClip(r *http.Request) (*shopclip.Clip, error) {
	id := r.PathValue("id")
	if !shopclip.ValidID(shopclip.PrefixClip, id) {
		return nil, shopclip.Errorf(shopclip.ENOTFOUND, "No clip %q.", id)
	}
	c, err := s.Store.Clip(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if c.Status != shopclip.ClipReady {
		return nil, shopclip.Errorf(shopclip.ENOTFOUND, "Clip %s is not ready.", id)
	}
	return c, nil
}

func (s *Server) watchData(r *http.Request) (*shopclip.Clip, *watchPage, error) {
	c, err := s.readyClip(r)
	if err != nil {
		return nil, nil, err
	}
	tl, err := tagging.BuildTimeline(r.Context(), s.Store, c, s.now(), func(t *shopclip.Tag) string { return shopclip.BuyPath(t.ID) })
	if err != nil {
		return nil, nil, err
	}
	names := s.accountNames(r.Context(), c.CreatorID)
	pb := c.PlaybackPaths()
	data := &watchPage{Clip: s.card(c, names[c.CreatorID]), MP4: pb.MP4, Storyboard: pb.Storyboard}
	seen := map[string]bool{}
	for _, p := range viewPopups(tl.Popups) {
		if !seen[p.Product.ID] {
			seen[p.Product.ID] = true
			data.Shop = append(data.Shop, p)
		}
	}
	return c, data, nil
}

func (s *Server) watch(w http.ResponseWriter, r *http.Request) error {
	c, data, err := s.watchData(r)
	if err != nil {
		return err
	}
	pb := c.PlaybackPaths()
	og := &openGraph{
		Title: c.Title, URL: s.absURL(r, "/watch/"+c.ID), Image: s.absURL(r, pb.Poster),
		Video: s.absURL(r, cmpOr(pb.Share, pb.MP4)), VideoType: "video/mp4",
		Width: c.Width, Height: c.Height,
	}
	desc := "Watch on shopclip"
	if data.Clip.CreatorName != "" {
		desc = "A clip by " + data.Clip.CreatorName + " on shopclip"
	}
	if n := len(data.Shop); n > 0 {
		desc += fmt.Sprintf(", with %d product", n)
		if n > 1 {
			desc += "s"
		}
	}
	og.Description = desc
	s.render(w, r, http.StatusOK, "watch", &pageData{Title: c.Title, Description: desc, Script: "js/watch.js", OG: og, Main: data, Fetches: []string{pb.HLS}})
	return nil
}

func (s *Server) embed(w http.ResponseWriter, r *http.Request) error {
	// Framed by the stores allowed, its error pages too.
	h := w.Header()
	h.Set("Content-Security-Policy", s.embedCSP)
	h.Del("X-Frame-Options") // frame-ancestors says who may frame it
	_, data, err := s.watchData(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "embed", &pageData{Title: data.Clip.Title, Script: "js/watch.js", Embed: true, Main: data, Fetches: []string{data.Clip.HLS}})
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// dealView is a clip with a live honest sale, on the deals page.
type dealView struct {
	Clip   clipCard
	Popups []popupView
	Flash  bool
	EndsAt time.Time
}

func (s *Server) deals(w http.ResponseWriter, r *http.Request) error {
	now := s.now()
	candidates, err := s.Discovery.DealClips(r.Context(), now, dealsLimit)
	if err != nil {
		return err
	}
	deals, err := tagging.Deals(r.Context(), s.Store, candidates, now, func(t *shopclip.Tag) string { return shopclip.BuyPath(t.ID) })
	if err != nil {
		return err
	}
	clips := make([]*shopclip.Clip, 0, len(deals))
	for _, d := range deals {
		clips = append(clips, d.Clip)
	}
	cards := s.cards(r, clips)
	views := make([]dealView, 0, len(deals))
	for i, d := range deals {
		views = append(views, dealView{Clip: cards[i], Popups: viewPopups(d.Popups), Flash: d.Flash, EndsAt: d.EndsAt})
	}
	s.render(w, r, http.StatusOK, "deals", &pageData{
		Title: "Deals · shopclip", Description: "Clips with a sale on now: flash sales first, the soonest ending first.",
		Script: "js/deals.js", Main: views,
	})
	return nil
}

// creatorPage is a creator's page: its clips and the products it carries.
type creatorPage struct {
	Creator  *shopclip.Account
	Clips    []clipCard
	Next     string
	Products []*shopclip.Product
}

func (s *Server) creator(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !shopclip.ValidID(shopclip.PrefixAccount, id) {
		return shopclip.Errorf(shopclip.ENOTFOUND, "No creator %q.", id)
	}
	a, err := s.Store.Account(r.Context(), id)
	if err != nil {
		return err
	}
	if a.Role != shopclip.RoleCreator {
		return shopclip.Errorf(shopclip.ENOTFOUND, "No creator %q.", id)
	}
	cur, err := shopclip.ParseFeedCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	clips, err := s.Discovery.CreatorFeed(r.Context(), a.ID, cur, creatorPageSize)
	if err != nil {
		return err
	}
	data := creatorPage{Creator: a, Next: nextURL("/creators/"+a.ID, nil, clips, creatorPageSize)}
	for _, c := range clips {
		data.Clips = append(data.Clips, s.card(c, a.Name))
	}
	if cur.IsZero() {
		if data.Products, err = s.Discovery.CreatorProducts(r.Context(), a.ID, creatorProducts); err != nil && r.Context().Err() == nil {
			s.logger().WarnContext(r.Context(), "web: creator products", "creator_id", a.ID, "err", err) // the clips still show
		}
	}
	s.render(w, r, http.StatusOK, "creator", &pageData{
		Title: a.Name + " · shopclip", Description: "Clips by " + a.Name + " and the products in them.",
		Script: "js/feed.js", Main: data,
	})
	return nil
}

// searchPage is the search results' data.
type searchPage struct {
	Query string
	Clips []clipCard
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) error {
	// The box counts characters, the API bytes: a long query is cut, at a
	// character boundary, rather than refused.
	q := strings.ToValidUTF8(r.URL.Query().Get("q"), "")
	for len(q) > shopclip.MaxSearchQuery {
		_, size := utf8.DecodeLastRuneInString(q)
		q = q[:len(q)-size]
	}
	data := searchPage{Query: q}
	if len(shopclip.SearchTerms(q)) > 0 {
		clips, err := s.Discovery.SearchClips(r.Context(), q, searchLimit)
		if err != nil {
			return err
		}
		data.Clips = s.cards(r, clips)
	}
	title := "Search · shopclip"
	if q != "" {
		title = q + " · search · shopclip"
	}
	s.render(w, r, http.StatusOK, "search", &pageData{Title: title, Script: "js/feed.js", Query: q, Main: data})
	return nil
}
