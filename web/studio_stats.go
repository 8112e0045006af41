package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/tagging"
)

// The studio's stats: a creator's over its clips (/studio/stats), a brand's
// over its products (/studio/sales), or one clip's or product's, per day
// (charts) and per clip or product (tables with bars).

func init() {
	studioPatterns["GET /studio/stats"] = (*Server).studioStats
	studioPatterns["GET /studio/sales"] = (*Server).studioSales
}

// funnel is the sums of a stretch of days, or of a clip or product.
type funnel struct {
	Views, Impressions, Clicks, Purchases int64
	Revenue                               map[string]int64
}

// CTR is clicks per impression, as a percentage.
func (f funnel) CTR() string {
	if f.Impressions == 0 {
		return "–"
	}
	return strconv.FormatFloat(100*float64(f.Clicks)/float64(f.Impressions), 'f', 1, 64) + "%"
}

// RevenueText writes the revenue in every currency.
func (f funnel) RevenueText() string {
	if len(f.Revenue) == 0 {
		return "–"
	}
	var cs []string
	for c := range f.Revenue {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	out := ""
	for i, c := range cs {
		if i > 0 {
			out += ", "
		}
		out += tagging.FormatMoney(f.Revenue[c], c)
	}
	return out
}

func (f *funnel) addTags(ts []shopclip.TagStats) {
	for _, t := range ts {
		f.Impressions += t.Impressions
		f.Clicks += t.Clicks
		f.Purchases += t.Purchases
		if t.RevenueMinor > 0 {
			if f.Revenue == nil {
				f.Revenue = map[string]int64{}
			}
			f.Revenue[t.Currency] += t.RevenueMinor
		}
	}
}

// statsRow is a clip or product with its funnel, and its share of the
// largest one's impressions (for a bar).
type statsRow struct {
	Name, Link string
	Funnel     funnel
	Bar        int // percent
}

// statsData is a stats page's.
type statsData struct {
	Nav     studioNav
	Days    int
	Ranges  []int
	Base    string // the page's path and scope query, without days
	Scope   string // what the charts are of: "all your clips", a clip's title
	Back    string // the link back to everything, when the scope is one
	Totals  funnel
	Charts  []chart
	Rows    []statsRow // per clip (creator) or per product (brand)
	RowsOf  string     // "clip" or "product"
	ByClip  []statsRow // the brand's per clip
	Missing bool       // the server keeps no daily stats
}

var statsRanges = []int{7, 30, 90}

// narrow makes data the stats of one clip or product (param names it on
// page): its title, the links back to everything and to other ranges.
func (d *statsData) narrow(page, param, id, title string) {
	d.Scope = "“" + title + "”"
	d.Back = page + "?days=" + strconv.Itoa(d.Days)
	d.Base = page + "?" + param + "=" + url.QueryEscape(id) + "&"
}

// ownedBy is the error of reading the caller's own clip or product (what):
// none when read and owned, not found when missing or another's, and
// other errors as they are.
func ownedBy(err error, owned bool, what string) error {
	switch {
	case err != nil && shopclip.ErrorCode(err) != shopclip.ENOTFOUND:
		return err
	case err != nil || !owned:
		return shopclip.Errorf(shopclip.ENOTFOUND, "No such %s of yours.", what)
	}
	return nil
}

// statsRange reads ?days= (7, 30 or 90; default 30) and returns the days
// ending today.
func (s *Server) statsRange(r *http.Request) (days int, from, to time.Time) {
	days = 30
	if d, err := strconv.Atoi(r.URL.Query().Get("days")); err == nil && slices.Contains(statsRanges, d) {
		days = d
	}
	to = s.now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	return days, to.AddDate(0, 0, -days), to
}

// daily fills data's totals and charts from q.
func (s *Server) daily(ctx context.Context, q shopclip.StatsQuery, data *statsData) error {
	if s.Analytics == nil {
		data.Missing = true
		return nil
	}
	ds, err := s.Analytics.DailyStats(ctx, q)
	if err != nil {
		return err
	}
	var days []string
	views, imps, clicks, buys := make([]float64, len(ds)), make([]float64, len(ds)), make([]float64, len(ds)), make([]float64, len(ds))
	revenue := map[string][]float64{}
	for i, d := range ds {
		days = append(days, d.Day)
		views[i], imps[i], clicks[i], buys[i] = float64(d.Views), float64(d.Impressions), float64(d.Clicks), float64(d.Purchases)
		data.Totals.Views += d.Views
		data.Totals.Impressions += d.Impressions
		data.Totals.Clicks += d.Clicks
		data.Totals.Purchases += d.Purchases
		for c, m := range d.Revenue {
			if revenue[c] == nil {
				revenue[c] = make([]float64, len(ds))
			}
			revenue[c][i] = float64(m)
			if data.Totals.Revenue == nil {
				data.Totals.Revenue = map[string]int64{}
			}
			data.Totals.Revenue[c] += m
		}
	}
	data.Charts = []chart{
		{Title: "Views", Days: days, Series: []series{{"Views", "s-views", views}}},
		{Title: "Impressions and clicks", Days: days, Series: []series{{"Card impressions", "s-imps", imps}, {"Clicks", "s-clicks", clicks}}},
		{Title: "Purchases", Days: days, Series: []series{{"Purchases", "s-buys", buys}}},
	}
	var currencies []string
	for c := range revenue {
		currencies = append(currencies, c)
	}
	slices.Sort(currencies)
	for _, c := range currencies {
		data.Charts = append(data.Charts, chart{Title: "Revenue in " + c, Days: days, Series: []series{{"Revenue", "s-revenue", revenue[c]}},
			Format: func(v float64) string { return tagging.FormatMoney(int64(v), c) }})
	}
	return nil
}

// bars sets each row's bar against the most impressions.
func bars(rows []statsRow) {
	top := int64(0)
	for _, r := range rows {
		top = max(top, r.Funnel.Impressions)
	}
	for i := range rows {
		if top > 0 {
			rows[i].Bar = int(100 * rows[i].Funnel.Impressions / top)
		}
	}
	slices.SortStableFunc(rows, func(a, b statsRow) int { return int(b.Funnel.Impressions - a.Funnel.Impressions) })
}

func (s *Server) studioStats(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.studioPage(w, r, shopclip.RoleCreator)
	if !ok {
		return err
	}
	ctx := r.Context()
	days, from, to := s.statsRange(r)
	data := statsData{Nav: studioNav{c.Account, "stats"}, Days: days, Ranges: statsRanges, Base: "/studio/stats?", Scope: "all your clips", RowsOf: "clip"}
	q := shopclip.StatsQuery{CreatorID: c.Account.ID, From: from, To: to}
	if id := r.URL.Query().Get("clip"); id != "" {
		cl, err := s.Store.Clip(ctx, id)
		if err := ownedBy(err, cl != nil && cl.CreatorID == c.Account.ID, "clip"); err != nil {
			return err
		}
		q = shopclip.StatsQuery{ClipID: cl.ID, From: from, To: to}
		data.narrow("/studio/stats", "clip", cl.ID, cl.Title)
	}
	if err := s.daily(ctx, q, &data); err != nil {
		return err
	}
	clips, err := s.allClips(ctx, c.Account.ID)
	if err != nil {
		return err
	}
	for _, cl := range clips {
		if cl.Status != shopclip.ClipReady {
			continue
		}
		row := statsRow{Name: cl.Title, Link: "/studio/stats?clip=" + url.QueryEscape(cl.ID) + "&days=" + strconv.Itoa(days)}
		if row.Funnel.Views, err = s.Store.ClipViews(ctx, cl.ID); err != nil {
			return err
		}
		ts, err := s.Store.TagStats(ctx, cl.ID, "")
		if err != nil {
			return err
		}
		row.Funnel.addTags(ts)
		data.Rows = append(data.Rows, row)
	}
	bars(data.Rows)
	s.render(w, r, http.StatusOK, "studio-stats", &pageData{Title: "Stats · Studio · shopclip", Main: data})
	return nil
}

func (s *Server) studioSales(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.studioPage(w, r, shopclip.RoleBrand)
	if !ok {
		return err
	}
	ctx := r.Context()
	days, from, to := s.statsRange(r)
	data := statsData{Nav: studioNav{c.Account, "sales"}, Days: days, Ranges: statsRanges, Base: "/studio/sales?", Scope: "all your products", RowsOf: "product"}
	q := shopclip.StatsQuery{BrandID: c.Account.ID, From: from, To: to}
	if id := r.URL.Query().Get("product"); id != "" {
		p, err := s.Store.Product(ctx, id)
		if err := ownedBy(err, p != nil && p.BrandID == c.Account.ID, "product"); err != nil {
			return err
		}
		q = shopclip.StatsQuery{ProductID: p.ID, From: from, To: to}
		data.narrow("/studio/sales", "product", p.ID, p.Title)
	}
	if err := s.daily(ctx, q, &data); err != nil {
		return err
	}
	ps, err := s.allProducts(ctx, c.Account.ID)
	if err != nil {
		return err
	}
	perClip := map[string]*funnel{}
	for _, p := range ps {
		ts, err := s.Store.TagStats(ctx, "", p.ID)
		if err != nil {
			return err
		}
		row := statsRow{Name: p.Title, Link: "/studio/sales?product=" + url.QueryEscape(p.ID) + "&days=" + strconv.Itoa(days)}
		row.Funnel.addTags(ts)
		data.Rows = append(data.Rows, row)
		for _, t := range ts {
			if perClip[t.ClipID] == nil {
				perClip[t.ClipID] = &funnel{}
			}
			perClip[t.ClipID].addTags([]shopclip.TagStats{t})
		}
	}
	for id, f := range perClip {
		title := id
		if cl, err := s.Store.Clip(ctx, id); err == nil {
			title = cl.Title
		}
		data.ByClip = append(data.ByClip, statsRow{Name: title, Link: "/watch/" + url.PathEscape(id), Funnel: *f})
	}
	slices.SortFunc(data.ByClip, func(a, b statsRow) int { return strings.Compare(a.Name, b.Name) })
	bars(data.Rows)
	bars(data.ByClip)
	s.render(w, r, http.StatusOK, "studio-stats", &pageData{Title: "Sales · Studio · shopclip", Main: data})
	return nil
}
