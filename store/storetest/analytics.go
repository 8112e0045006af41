package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// RunAnalytics runs the conformance suite of shopclip.Analytics as subtests
// of t. open must return a new, empty store for the subtest it is given,
// implementing both interfaces and Clocked, and close it when the subtest
// ends.
func RunAnalytics(t *testing.T, open func(t *testing.T) (shopclip.Store, shopclip.Analytics)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env, a shopclip.Analytics)
	}{
		{"NoEvents", testDailyNoEvents},
		{"UTCDays", testDailyUTCDays},
		{"Scopes", testDailyScopes},
		{"SumsMatchTagStats", testDailySumsMatchTagStats},
		{"Validation", testDailyValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, a := open(t)
			tt.fn(t, newEnv(t, s), a)
		})
	}
}

// statsDay0 is the first day of the suite's ranges.
var statsDay0 = time.Date(2025, 6, 16, 0, 0, 0, 0, time.UTC)

// day returns the midnight UTC that starts day i of the suite's ranges.
func day(i int) time.Time { return statsDay0.AddDate(0, 0, i) }

// dayStats is a want: a day's funnel, its CTR computed, revenue by
// currency from pairs ("USD", 1999, …).
func dayStats(i int, views, impressions, clicks, purchases int64, revenue ...any) shopclip.DayStats {
	s := shopclip.DayStats{Day: day(i).Format(time.DateOnly), Views: views, Impressions: impressions, Clicks: clicks,
		Purchases: purchases, Revenue: map[string]int64{}}
	if impressions > 0 {
		s.CTR = float64(clicks) / float64(impressions)
	}
	for j := 0; j+1 < len(revenue); j += 2 {
		s.Revenue[revenue[j].(string)] = int64(revenue[j+1].(int))
	}
	return s
}

func daily(t *testing.T, e *env, a shopclip.Analytics, q shopclip.StatsQuery) []shopclip.DayStats {
	t.Helper()
	days, err := a.DailyStats(e.ctx, q)
	ok(t, fmt.Sprintf("daily stats %+v", q), err)
	return days
}

// statsWorld is two creators' clips with two brands' products tagged in
// them, and a few days of events.
type statsWorld struct {
	alice, bob, acme, globex *shopclip.Account
	// aliceClip tags shoe (acme, USD) and tea (globex, EUR), both active;
	// aliceClip2 tags shoe, pending; bobClip tags tea, active.
	aliceClip, aliceClip2, bobClip *shopclip.Clip
	shoe, tea                      *shopclip.Product
	aShoe, aTea, a2Shoe, bTea      *shopclip.Tag
}

// newStatsWorld makes the world and records its events, on day(0) and
// day(1):
//
//	day 0: aliceClip 2 views; aShoe 2 impressions, 1 click; aTea 1 impression;
//	       bobClip 1 view; bTea 1 impression
//	day 1: aliceClip2 1 view; a2Shoe 1 impression; aShoe purchases of
//	       19.99 USD and 50.00 EUR (not the shoe's currency); an
//	       unattributed shoe purchase; aTea a purchase of 7.00 EUR;
//	       bobClip 1 view; bTea 1 click, a purchase of 3.00 EUR
func newStatsWorld(t *testing.T, e *env) *statsWorld {
	t.Helper()
	w := &statsWorld{
		alice: e.account(t, shopclip.RoleCreator, "alice"), bob: e.account(t, shopclip.RoleCreator, "bob"),
		acme: e.account(t, shopclip.RoleBrand, "acme"), globex: e.account(t, shopclip.RoleBrand, "globex"),
	}
	w.aliceClip, w.aliceClip2 = e.clip(t, w.alice.ID, "alice 1"), e.clip(t, w.alice.ID, "alice 2")
	w.bobClip = e.clip(t, w.bob.ID, "bob 1")
	w.shoe = e.product(t, w.acme.ID, "shoe")
	w.tea = &shopclip.Product{ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: w.globex.ID, SKU: "TEA", Title: "tea",
		Currency: "EUR", PriceMinor: 900, URL: "https://shop.example/tea", InStock: true}
	ok(t, "create product", e.s.CreateProduct(e.ctx, w.tea))
	tag := func(c *shopclip.Clip, p *shopclip.Product, status shopclip.TagStatus) *shopclip.Tag {
		tg := e.tag(t, c.ID, p.ID, p.BrandID, 0)
		if status != tg.Status {
			ok(t, "set tag status", e.s.SetTagStatus(e.ctx, tg.ID, status))
		}
		return tg
	}
	w.aShoe, w.aTea = tag(w.aliceClip, w.shoe, shopclip.TagActive), tag(w.aliceClip, w.tea, shopclip.TagActive)
	w.a2Shoe, w.bTea = tag(w.aliceClip2, w.shoe, shopclip.TagPending), tag(w.bobClip, w.tea, shopclip.TagActive)

	d0, d1 := day(0).Add(9*time.Hour), day(1).Add(15*time.Hour)
	for range 2 {
		recordView(t, e, w.aliceClip, d0)
		recordTagEvent(t, e, shopclip.EventImpression, w.aShoe, d0)
	}
	recordTagEvent(t, e, shopclip.EventClick, w.aShoe, d0)
	recordTagEvent(t, e, shopclip.EventImpression, w.aTea, d0)
	recordView(t, e, w.bobClip, d0)
	recordTagEvent(t, e, shopclip.EventImpression, w.bTea, d0)

	recordView(t, e, w.aliceClip2, d1)
	recordTagEvent(t, e, shopclip.EventImpression, w.a2Shoe, d1)
	recordPurchase(t, e, w.shoe, w.aShoe, 1999, "USD", d1)
	recordPurchase(t, e, w.shoe, w.aShoe, 5000, "EUR", d1)
	recordPurchase(t, e, w.shoe, nil, 4200, "USD", d1)
	recordPurchase(t, e, w.tea, w.aTea, 700, "EUR", d1)
	recordView(t, e, w.bobClip, d1)
	recordTagEvent(t, e, shopclip.EventClick, w.bTea, d1)
	recordPurchase(t, e, w.tea, w.bTea, 300, "EUR", d1)
	return w
}

func recordEvent(t *testing.T, e *env, ev *shopclip.Event) {
	t.Helper()
	ev.ID = shopclip.NewID("evt")
	_, _, err := e.s.RecordEvent(e.ctx, ev, "")
	ok(t, "record "+string(ev.Type), err)
}

func recordView(t *testing.T, e *env, c *shopclip.Clip, at time.Time) {
	t.Helper()
	recordEvent(t, e, &shopclip.Event{Type: shopclip.EventView, SessionID: "session-1", ClipID: c.ID, At: at})
}

func recordTagEvent(t *testing.T, e *env, typ shopclip.EventType, tg *shopclip.Tag, at time.Time) {
	t.Helper()
	recordEvent(t, e, &shopclip.Event{Type: typ, SessionID: "session-1", ClipID: tg.ClipID, TagID: tg.ID,
		ProductID: tg.ProductID, BrandID: tg.BrandID, At: at})
}

// recordPurchase records a purchase of p attributed to tg (none when nil).
func recordPurchase(t *testing.T, e *env, p *shopclip.Product, tg *shopclip.Tag, amount int64, currency string, at time.Time) {
	t.Helper()
	ev := &shopclip.Event{Type: shopclip.EventPurchase, SessionID: "session-1", ProductID: p.ID, BrandID: p.BrandID,
		OrderID: shopclip.NewID("ord"), AmountMinor: amount, Currency: currency, At: at}
	if tg != nil {
		ev.ClipID, ev.TagID = tg.ClipID, tg.ID
	}
	recordEvent(t, e, ev)
}

func testDailyNoEvents(t *testing.T, e *env, a shopclip.Analytics) {
	cr := e.account(t, shopclip.RoleCreator, "alice")
	c := e.clip(t, cr.ID, "quiet")
	got := daily(t, e, a, shopclip.StatsQuery{ClipID: c.ID, From: day(0), To: day(3)})
	same(t, "days without events", got, []shopclip.DayStats{dayStats(0, 0, 0, 0, 0), dayStats(1, 0, 0, 0, 0), dayStats(2, 0, 0, 0, 0)})
	got = daily(t, e, a, shopclip.StatsQuery{ClipID: c.ID, From: day(1), To: day(1)})
	same(t, "no days", got, []shopclip.DayStats{})
	// Nothing there at all is zeros too.
	got = daily(t, e, a, shopclip.StatsQuery{BrandID: shopclip.NewID(shopclip.PrefixAccount), From: day(0), To: day(1)})
	same(t, "days of an unknown brand", got, []shopclip.DayStats{dayStats(0, 0, 0, 0, 0)})
}

func testDailyUTCDays(t *testing.T, e *env, a shopclip.Analytics) {
	cr := e.account(t, shopclip.RoleCreator, "alice")
	br := e.account(t, shopclip.RoleBrand, "acme")
	c := e.clip(t, cr.ID, "midnight")
	tg := e.tag(t, c.ID, e.product(t, br.ID, "shoe").ID, br.ID, 0)
	recordView(t, e, c, day(0).Add(-time.Microsecond)) // before the range
	recordView(t, e, c, day(1).Add(-time.Microsecond)) // 23:59:59.999999 on day 0
	recordView(t, e, c, day(1))                        // 00:00:00 on day 1
	recordTagEvent(t, e, shopclip.EventImpression, tg, day(2).Add(-time.Second))
	recordTagEvent(t, e, shopclip.EventImpression, tg, day(2))
	// 07:30 at UTC+8 on day 2 is 23:30 UTC on day 1.
	recordTagEvent(t, e, shopclip.EventClick, tg, time.Date(2025, 6, 18, 7, 30, 0, 0, time.FixedZone("CST", 8*3600)))
	recordView(t, e, c, day(3)) // the range's end, excluded
	want := []shopclip.DayStats{dayStats(0, 1, 0, 0, 0), dayStats(1, 1, 1, 1, 0), dayStats(2, 0, 1, 0, 0)}
	same(t, "days", daily(t, e, a, shopclip.StatsQuery{ClipID: c.ID, From: day(0), To: day(3)}), want)
	// The bounds may be given in any location: the days are UTC's.
	cst := time.FixedZone("CST", 8*3600)
	same(t, "days from bounds outside UTC", daily(t, e, a, shopclip.StatsQuery{ClipID: c.ID, From: day(0).In(cst), To: day(3).In(cst)}), want)
	same(t, "one day", daily(t, e, a, shopclip.StatsQuery{ClipID: c.ID, From: day(1), To: day(2)}), want[1:2])
}

func testDailyScopes(t *testing.T, e *env, a shopclip.Analytics) {
	w := newStatsWorld(t, e)
	q := func(q shopclip.StatsQuery) shopclip.StatsQuery {
		q.From, q.To = day(0), day(2)
		return q
	}
	tests := []struct {
		name string
		q    shopclip.StatsQuery
		want []shopclip.DayStats
	}{
		{"clip", q(shopclip.StatsQuery{ClipID: w.aliceClip.ID}), []shopclip.DayStats{
			dayStats(0, 2, 3, 1, 0), dayStats(1, 0, 0, 0, 3, "USD", 1999, "EUR", 700)}},
		{"clip of a brand", q(shopclip.StatsQuery{ClipID: w.aliceClip.ID, BrandID: w.acme.ID}), []shopclip.DayStats{
			dayStats(0, 2, 2, 1, 0), dayStats(1, 0, 0, 0, 2, "USD", 1999)}},
		{"clip of the other brand", q(shopclip.StatsQuery{ClipID: w.aliceClip.ID, BrandID: w.globex.ID}), []shopclip.DayStats{
			dayStats(0, 2, 1, 0, 0), dayStats(1, 0, 0, 0, 1, "EUR", 700)}},
		// The brand's tag is pending: its funnel, not the clip's views.
		{"clip of a brand not shown yet", q(shopclip.StatsQuery{ClipID: w.aliceClip2.ID, BrandID: w.acme.ID}), []shopclip.DayStats{
			dayStats(0, 0, 0, 0, 0), dayStats(1, 0, 1, 0, 0)}},
		{"clip of a brand not in it", q(shopclip.StatsQuery{ClipID: w.bobClip.ID, BrandID: w.acme.ID}), []shopclip.DayStats{
			dayStats(0, 0, 0, 0, 0), dayStats(1, 0, 0, 0, 0)}},
		{"creator", q(shopclip.StatsQuery{CreatorID: w.alice.ID}), []shopclip.DayStats{
			dayStats(0, 2, 3, 1, 0), dayStats(1, 1, 1, 0, 3, "USD", 1999, "EUR", 700)}},
		{"other creator", q(shopclip.StatsQuery{CreatorID: w.bob.ID}), []shopclip.DayStats{
			dayStats(0, 1, 1, 0, 0), dayStats(1, 1, 0, 1, 1, "EUR", 300)}},
		{"product", q(shopclip.StatsQuery{ProductID: w.shoe.ID}), []shopclip.DayStats{
			dayStats(0, 2, 2, 1, 0), dayStats(1, 0, 1, 0, 2, "USD", 1999)}},
		{"product on two creators' clips", q(shopclip.StatsQuery{ProductID: w.tea.ID}), []shopclip.DayStats{
			dayStats(0, 3, 2, 0, 0), dayStats(1, 1, 0, 1, 2, "EUR", 1000)}},
		{"brand", q(shopclip.StatsQuery{BrandID: w.acme.ID}), []shopclip.DayStats{
			dayStats(0, 2, 2, 1, 0), dayStats(1, 0, 1, 0, 2, "USD", 1999)}},
		{"other brand", q(shopclip.StatsQuery{BrandID: w.globex.ID}), []shopclip.DayStats{
			dayStats(0, 3, 2, 0, 0), dayStats(1, 1, 0, 1, 2, "EUR", 1000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			same(t, "days", daily(t, e, a, tt.q), tt.want)
		})
	}
}

// funnelSums is what the days of a scope and the TagStats of its tags must
// agree on.
type funnelSums struct {
	Impressions, Clicks, Purchases int64
	Revenue                        map[string]int64
}

func sumTags(ts []shopclip.TagStats) funnelSums {
	s := funnelSums{Revenue: map[string]int64{}}
	for _, t := range ts {
		s.Impressions += t.Impressions
		s.Clicks += t.Clicks
		s.Purchases += t.Purchases
		if t.RevenueMinor > 0 {
			s.Revenue[t.Currency] += t.RevenueMinor
		}
	}
	return s
}

func sumDays(ds []shopclip.DayStats) (views int64, s funnelSums) {
	s.Revenue = map[string]int64{}
	for _, d := range ds {
		views += d.Views
		s.Impressions += d.Impressions
		s.Clicks += d.Clicks
		s.Purchases += d.Purchases
		for c, v := range d.Revenue {
			s.Revenue[c] += v
		}
	}
	return views, s
}

func testDailySumsMatchTagStats(t *testing.T, e *env, a shopclip.Analytics) {
	w := newStatsWorld(t, e)
	// More of the same on other days, so that the sums are over several.
	for i := 2; i < 9; i++ {
		at := day(i).Add(time.Duration(i) * time.Hour)
		recordView(t, e, w.aliceClip, at)
		recordTagEvent(t, e, shopclip.EventImpression, w.aShoe, at)
		recordTagEvent(t, e, shopclip.EventImpression, w.bTea, at)
		if i%2 == 0 {
			recordTagEvent(t, e, shopclip.EventClick, w.aShoe, at)
			recordPurchase(t, e, w.shoe, w.aShoe, int64(100*i), "USD", at.Add(time.Minute))
		}
		if i%3 == 0 {
			recordTagEvent(t, e, shopclip.EventClick, w.bTea, at)
			recordPurchase(t, e, w.tea, w.bTea, int64(10*i), "EUR", at.Add(time.Minute))
		}
	}
	tagStats := func(clipID, productID string) []shopclip.TagStats {
		t.Helper()
		ts, err := e.s.TagStats(e.ctx, clipID, productID)
		ok(t, "tag stats", err)
		return ts
	}
	views := func(clips ...*shopclip.Clip) int64 {
		t.Helper()
		var n int64
		for _, c := range clips {
			v, err := e.s.ClipViews(e.ctx, c.ID)
			ok(t, "clip views", err)
			n += v
		}
		return n
	}
	ofBrand := func(brandID string, ts ...[]shopclip.TagStats) []shopclip.TagStats {
		var out []shopclip.TagStats
		for _, l := range ts {
			for _, s := range l {
				if s.BrandID == brandID {
					out = append(out, s)
				}
			}
		}
		return out
	}
	alice1, alice2, bob1 := tagStats(w.aliceClip.ID, ""), tagStats(w.aliceClip2.ID, ""), tagStats(w.bobClip.ID, "")
	tests := []struct {
		name  string
		q     shopclip.StatsQuery
		tags  []shopclip.TagStats
		views int64
	}{
		{"clip", shopclip.StatsQuery{ClipID: w.aliceClip.ID}, alice1, views(w.aliceClip)},
		{"clip of a brand", shopclip.StatsQuery{ClipID: w.aliceClip.ID, BrandID: w.acme.ID}, ofBrand(w.acme.ID, alice1), views(w.aliceClip)},
		{"creator", shopclip.StatsQuery{CreatorID: w.alice.ID}, append(append([]shopclip.TagStats{}, alice1...), alice2...), views(w.aliceClip, w.aliceClip2)},
		{"product", shopclip.StatsQuery{ProductID: w.shoe.ID}, tagStats("", w.shoe.ID), views(w.aliceClip)},
		{"product on two creators' clips", shopclip.StatsQuery{ProductID: w.tea.ID}, tagStats("", w.tea.ID), views(w.aliceClip, w.bobClip)},
		{"brand", shopclip.StatsQuery{BrandID: w.globex.ID}, ofBrand(w.globex.ID, alice1, alice2, bob1), views(w.aliceClip, w.bobClip)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.From, tt.q.To = day(0), day(10)
			days := daily(t, e, a, tt.q)
			if len(days) != 10 {
				t.Fatalf("%d days, want 10", len(days))
			}
			gotViews, got := sumDays(days)
			same(t, "days' sums against TagStats", got, sumTags(tt.tags))
			if gotViews != tt.views {
				t.Errorf("days' views = %d, want %d", gotViews, tt.views)
			}
			if got.Impressions == 0 || got.Purchases == 0 {
				t.Errorf("sums %+v: the scope should have impressions and purchases", got)
			}
		})
	}
}

func testDailyValidation(t *testing.T, e *env, a shopclip.Analytics) {
	id := func(prefix string) string { return shopclip.NewID(prefix) }
	clip, creator, product, brand := id(shopclip.PrefixClip), id(shopclip.PrefixAccount), id(shopclip.PrefixProduct), id(shopclip.PrefixAccount)
	tests := []struct {
		name     string
		q        shopclip.StatsQuery
		wantCode string
		wantDays int
	}{
		{"no scope", shopclip.StatsQuery{From: day(0), To: day(1)}, shopclip.EINVALID, 0},
		{"clip and product", shopclip.StatsQuery{ClipID: clip, ProductID: product, From: day(0), To: day(1)}, shopclip.EINVALID, 0},
		{"creator and brand", shopclip.StatsQuery{CreatorID: creator, BrandID: brand, From: day(0), To: day(1)}, shopclip.EINVALID, 0},
		{"product and brand", shopclip.StatsQuery{ProductID: product, BrandID: brand, From: day(0), To: day(1)}, shopclip.EINVALID, 0},
		{"clip, brand and creator", shopclip.StatsQuery{ClipID: clip, BrandID: brand, CreatorID: creator, From: day(0), To: day(1)}, shopclip.EINVALID, 0},
		{"no from", shopclip.StatsQuery{ClipID: clip, To: day(1)}, shopclip.EINVALID, 0},
		{"no to", shopclip.StatsQuery{ClipID: clip, From: day(0)}, shopclip.EINVALID, 0},
		{"from not a midnight", shopclip.StatsQuery{ClipID: clip, From: day(0).Add(time.Hour), To: day(1)}, shopclip.EINVALID, 0},
		{"to not a midnight", shopclip.StatsQuery{ClipID: clip, From: day(0), To: day(1).Add(-time.Nanosecond)}, shopclip.EINVALID, 0},
		{"midnight elsewhere", shopclip.StatsQuery{ClipID: clip, From: time.Date(2025, 6, 16, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)), To: day(1)}, shopclip.EINVALID, 0},
		{"backwards", shopclip.StatsQuery{ClipID: clip, From: day(1), To: day(0)}, shopclip.EINVALID, 0},
		{"too long", shopclip.StatsQuery{ClipID: clip, From: day(0), To: day(shopclip.MaxStatsDays + 1)}, shopclip.EINVALID, 0},
		{"longest", shopclip.StatsQuery{ClipID: clip, From: day(0), To: day(shopclip.MaxStatsDays)}, "", shopclip.MaxStatsDays},
		{"clip of a brand", shopclip.StatsQuery{ClipID: clip, BrandID: brand, From: day(0), To: day(2)}, "", 2},
		{"creator", shopclip.StatsQuery{CreatorID: creator, From: day(0), To: day(2)}, "", 2},
		{"product", shopclip.StatsQuery{ProductID: product, From: day(0), To: day(2)}, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.q.Validate(); shopclip.ErrorCode(err) != tt.wantCode {
				t.Errorf("Validate: %v, want code %q", err, tt.wantCode)
			}
			days, err := a.DailyStats(e.ctx, tt.q)
			wantCode(t, "daily stats", err, tt.wantCode)
			if len(days) != tt.wantDays {
				t.Errorf("%d days, want %d", len(days), tt.wantDays)
			}
		})
	}
}
