package storetest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// RunEventRetention runs the conformance suite of shopclip.EventRetention,
// and of the stats it must leave alone (Store.TagStats, Store.ClipViews,
// shopclip.Analytics), as subtests of t. open must return a new, empty
// store for the subtest it is given, implementing the three interfaces and
// Clocked, and close it when the subtest ends.
func RunEventRetention(t *testing.T, open func(t *testing.T) (shopclip.Store, shopclip.Analytics, shopclip.EventRetention)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env, a shopclip.Analytics, r shopclip.EventRetention)
	}{
		{"StatsEqualRawCounts", testStatsEqualRawCounts},
		{"StatsSurvivePrune", testStatsSurvivePrune},
		{"AttributionWithinRetention", testAttributionWithinRetention},
		{"OldestFirstAndBounded", testPruneOldestFirst},
		{"Validation", testPruneValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, a, r := open(t)
			tt.fn(t, newEnv(t, s), a, r)
		})
	}
}

// funnelModel computes, from the events recorded, what the stats must say:
// direct counts over the raw events, with the rules of shopclip.TagStats,
// Store.ClipViews and shopclip.DayStats.
type funnelModel struct {
	w      *statsWorld
	events []shopclip.Event
}

func (m *funnelModel) tags() []*shopclip.Tag {
	return []*shopclip.Tag{m.w.aShoe, m.w.aTea, m.w.a2Shoe, m.w.bTea}
}

func (m *funnelModel) clips() []*shopclip.Clip {
	return []*shopclip.Clip{m.w.aliceClip, m.w.aliceClip2, m.w.bobClip}
}

func (m *funnelModel) product(id string) *shopclip.Product {
	if id == m.w.shoe.ID {
		return m.w.shoe
	}
	return m.w.tea
}

// tagStats is TagStats of the tags keep selects, in the store's order
// (clip ID, start, ID: every tag of the world starts at 0).
func (m *funnelModel) tagStats(keep func(*shopclip.Tag) bool) []shopclip.TagStats {
	var out []shopclip.TagStats
	var of []*shopclip.Tag
	for _, tg := range m.tags() {
		if keep(tg) {
			of = append(of, tg)
		}
	}
	slices.SortFunc(of, func(a, b *shopclip.Tag) int { return cmp.Or(cmp.Compare(a.ClipID, b.ClipID), cmp.Compare(a.ID, b.ID)) })
	for _, tg := range of {
		p := m.product(tg.ProductID)
		s := shopclip.TagStats{TagID: tg.ID, ClipID: tg.ClipID, ProductID: tg.ProductID, BrandID: tg.BrandID, Currency: p.Currency}
		for _, ev := range m.events {
			if ev.TagID != tg.ID {
				continue
			}
			switch ev.Type {
			case shopclip.EventImpression:
				s.Impressions++
			case shopclip.EventClick:
				s.Clicks++
			case shopclip.EventPurchase:
				s.Purchases++
				if ev.Currency == p.Currency {
					s.RevenueMinor += ev.AmountMinor
				}
			}
		}
		if s.Impressions > 0 {
			s.CTR = float64(s.Clicks) / float64(s.Impressions)
		}
		out = append(out, s)
	}
	return out
}

func (m *funnelModel) views(clipID string) int64 {
	var n int64
	for _, ev := range m.events {
		if ev.Type == shopclip.EventView && ev.ClipID == clipID {
			n++
		}
	}
	return n
}

// daily is DailyStats of the tags inScope selects and the views of the
// clips viewsOf selects, over days [0, n).
func (m *funnelModel) daily(n int, inScope func(*shopclip.Tag) bool, viewsOf func(clipID string) bool) []shopclip.DayStats {
	days := make([]shopclip.DayStats, n)
	for i := range days {
		days[i] = dayStats(i, 0, 0, 0, 0)
	}
	for _, ev := range m.events {
		i := int(ev.At.Sub(day(0)) / (24 * time.Hour))
		if ev.At.Before(day(0)) || i >= n {
			continue
		}
		s := &days[i]
		if ev.Type == shopclip.EventView {
			if viewsOf(ev.ClipID) {
				s.Views++
			}
			continue
		}
		var tg *shopclip.Tag
		for _, x := range m.tags() {
			if x.ID == ev.TagID && inScope(x) {
				tg = x
			}
		}
		if tg == nil {
			continue
		}
		switch ev.Type {
		case shopclip.EventImpression:
			s.Impressions++
		case shopclip.EventClick:
			s.Clicks++
		case shopclip.EventPurchase:
			s.Purchases++
			if p := m.product(tg.ProductID); ev.Currency == p.Currency {
				s.Revenue[p.Currency] += ev.AmountMinor
			}
		}
	}
	for i := range days {
		if s := &days[i]; s.Impressions > 0 {
			s.CTR = float64(s.Clicks) / float64(s.Impressions)
		}
	}
	return days
}

// check compares every stat of the store with the model's, over days
// [0, n).
func (m *funnelModel) check(t *testing.T, e *env, a shopclip.Analytics, n int, when string) {
	t.Helper()
	w := m.w
	for _, c := range m.clips() {
		got, err := e.s.TagStats(e.ctx, c.ID, "")
		ok(t, "tag stats", err)
		same(t, when+": tag stats of clip "+c.Title, got, m.tagStats(func(tg *shopclip.Tag) bool { return tg.ClipID == c.ID }))
		v, err := e.s.ClipViews(e.ctx, c.ID)
		ok(t, "clip views", err)
		same(t, when+": views of "+c.Title, v, m.views(c.ID))
	}
	for _, p := range []*shopclip.Product{w.shoe, w.tea} {
		got, err := e.s.TagStats(e.ctx, "", p.ID)
		ok(t, "tag stats", err)
		same(t, when+": tag stats of product "+p.Title, got, m.tagStats(func(tg *shopclip.Tag) bool { return tg.ProductID == p.ID }))
	}
	// activeOn reports whether brand or product id has an active tag on
	// the clip: whose views a brand or product scope counts.
	activeOn := func(match func(*shopclip.Tag) bool) func(string) bool {
		return func(clipID string) bool {
			for _, tg := range m.tags() {
				if tg.ClipID == clipID && match(tg) && tg.Status == shopclip.TagActive {
					return true
				}
			}
			return false
		}
	}
	creatorOf := map[string]string{w.aliceClip.ID: w.alice.ID, w.aliceClip2.ID: w.alice.ID, w.bobClip.ID: w.bob.ID}
	from, to := day(0), day(n)
	scopes := []struct {
		name    string
		q       shopclip.StatsQuery
		inScope func(*shopclip.Tag) bool
		viewsOf func(string) bool
	}{
		{"clip", shopclip.StatsQuery{ClipID: w.aliceClip.ID},
			func(tg *shopclip.Tag) bool { return tg.ClipID == w.aliceClip.ID },
			func(id string) bool { return id == w.aliceClip.ID }},
		{"creator", shopclip.StatsQuery{CreatorID: w.alice.ID},
			func(tg *shopclip.Tag) bool { return creatorOf[tg.ClipID] == w.alice.ID },
			func(id string) bool { return creatorOf[id] == w.alice.ID }},
		{"product", shopclip.StatsQuery{ProductID: w.shoe.ID},
			func(tg *shopclip.Tag) bool { return tg.ProductID == w.shoe.ID },
			activeOn(func(tg *shopclip.Tag) bool { return tg.ProductID == w.shoe.ID })},
		{"brand", shopclip.StatsQuery{BrandID: w.globex.ID},
			func(tg *shopclip.Tag) bool { return tg.BrandID == w.globex.ID },
			activeOn(func(tg *shopclip.Tag) bool { return tg.BrandID == w.globex.ID })},
		{"brand on clip", shopclip.StatsQuery{ClipID: w.aliceClip.ID, BrandID: w.acme.ID},
			func(tg *shopclip.Tag) bool { return tg.BrandID == w.acme.ID && tg.ClipID == w.aliceClip.ID },
			func(id string) bool {
				return id == w.aliceClip.ID && activeOn(func(tg *shopclip.Tag) bool { return tg.BrandID == w.acme.ID })(id)
			}},
	}
	for _, sc := range scopes {
		q := sc.q
		q.From, q.To = from, to
		same(t, when+": daily stats of the "+sc.name, daily(t, e, a, q), m.daily(n, sc.inScope, sc.viewsOf))
	}
}

// newRandomEvents records n random events of w over days [0, days): every
// type, tag and clip, at any microsecond; purchases in the product's
// currency or another, some unattributed; some reported twice with the
// same key (recorded once).
func newRandomEvents(t *testing.T, e *env, w *statsWorld, rng *rand.Rand, n, days int) *funnelModel {
	t.Helper()
	m := &funnelModel{w: w}
	tags := m.tags()
	for i := range n {
		at := day(0).Add(time.Duration(rng.Int64N(int64(days) * int64(24*time.Hour))))
		ev := &shopclip.Event{ID: shopclip.NewID("evt"), SessionID: fmt.Sprintf("session-%d", rng.IntN(5)), At: at}
		tg := tags[rng.IntN(len(tags))]
		switch rng.IntN(4) {
		case 0:
			ev.Type, ev.ClipID = shopclip.EventView, m.clips()[rng.IntN(3)].ID
		case 1:
			ev.Type, ev.ClipID, ev.TagID, ev.ProductID, ev.BrandID = shopclip.EventImpression, tg.ClipID, tg.ID, tg.ProductID, tg.BrandID
		case 2:
			ev.Type, ev.ClipID, ev.TagID, ev.ProductID, ev.BrandID = shopclip.EventClick, tg.ClipID, tg.ID, tg.ProductID, tg.BrandID
		default:
			p := m.product(tg.ProductID)
			ev.Type, ev.ProductID, ev.BrandID, ev.OrderID = shopclip.EventPurchase, p.ID, p.BrandID, fmt.Sprintf("order-%d", i)
			ev.AmountMinor, ev.Currency = 1+rng.Int64N(100_000), p.Currency
			if rng.IntN(4) == 0 {
				ev.Currency = "GBP"
			}
			if rng.IntN(5) > 0 { // attributed
				ev.ClipID, ev.TagID = tg.ClipID, tg.ID
			}
		}
		key := ""
		if rng.IntN(8) == 0 {
			key = "dup-" + ev.ID
		}
		stored, created, err := e.s.RecordEvent(e.ctx, ev, key)
		ok(t, "record event", err)
		if !created {
			t.Fatalf("event %s not recorded", ev.ID)
		}
		m.events = append(m.events, *stored)
		if key != "" {
			again := *ev
			again.ID = shopclip.NewID("evt")
			_, created, err := e.s.RecordEvent(e.ctx, &again, key)
			ok(t, "record a duplicate", err)
			if created {
				t.Fatalf("duplicate of %s recorded", ev.ID)
			}
		}
	}
	return m
}

// worldOnly makes the world of newStatsWorld without its events.
func worldOnly(t *testing.T, e *env) *statsWorld {
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
			tg.Status = status
		}
		return tg
	}
	w.aShoe, w.aTea = tag(w.aliceClip, w.shoe, shopclip.TagActive), tag(w.aliceClip, w.tea, shopclip.TagActive)
	w.a2Shoe, w.bTea = tag(w.aliceClip2, w.shoe, shopclip.TagPending), tag(w.bobClip, w.tea, shopclip.TagActive)
	return w
}

// testStatsEqualRawCounts: over random events, every stat equals a direct
// count over the events recorded, with and without a prune between.
func testStatsEqualRawCounts(t *testing.T, e *env, a shopclip.Analytics, r shopclip.EventRetention) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 12))
	const days = 6
	m := newRandomEvents(t, e, worldOnly(t, e), rng, 400, days)
	m.check(t, e, a, days+1, "recorded")

	before := day(2).Add(7*time.Hour + 13*time.Minute + 17*time.Microsecond) // inside an hour
	var want int64
	for _, ev := range m.events {
		if ev.At.Before(before) && ev.Type != shopclip.EventPurchase {
			want++
		}
	}
	n, err := r.PruneEvents(e.ctx, before, 1_000_000)
	ok(t, "prune", err)
	same(t, "events pruned", n, want)
	m.check(t, e, a, days+1, "after the prune")
}

// testStatsSurvivePrune: the suite's stats world, every event pruned: the
// stats are what they were.
func testStatsSurvivePrune(t *testing.T, e *env, a shopclip.Analytics, r shopclip.EventRetention) {
	w := newStatsWorld(t, e)
	type snapshot struct {
		Tags  [][]shopclip.TagStats
		Views []int64
		Days  [][]shopclip.DayStats
	}
	take := func() snapshot {
		var s snapshot
		for _, c := range []*shopclip.Clip{w.aliceClip, w.aliceClip2, w.bobClip} {
			ts, err := e.s.TagStats(e.ctx, c.ID, "")
			ok(t, "tag stats", err)
			v, err := e.s.ClipViews(e.ctx, c.ID)
			ok(t, "clip views", err)
			s.Tags, s.Views = append(s.Tags, ts), append(s.Views, v)
		}
		for _, p := range []*shopclip.Product{w.shoe, w.tea} {
			ts, err := e.s.TagStats(e.ctx, "", p.ID)
			ok(t, "tag stats", err)
			s.Tags = append(s.Tags, ts)
		}
		for _, q := range []shopclip.StatsQuery{{ClipID: w.aliceClip.ID}, {CreatorID: w.bob.ID}, {ProductID: w.shoe.ID},
			{BrandID: w.globex.ID}, {ClipID: w.aliceClip.ID, BrandID: w.acme.ID}} {
			q.From, q.To = day(0), day(3)
			s.Days = append(s.Days, daily(t, e, a, q))
		}
		return s
	}
	was := take()
	if was.Views[0] != 2 || was.Days[0][1].Purchases != 3 {
		t.Fatalf("stats before the prune = %+v, want the world's events in them", was)
	}
	n, err := r.PruneEvents(e.ctx, day(30), 1000)
	ok(t, "prune", err)
	same(t, "events pruned", n, int64(12)) // newStatsWorld's 17 on days 0 and 1 but its 5 purchases
	same(t, "stats after the prune", take(), was)
	n, err = r.PruneEvents(e.ctx, day(30), 1000)
	ok(t, "prune again", err)
	same(t, "events pruned again", n, int64(0))
	same(t, "stats after a prune of nothing", take(), was)
}

// testAttributionWithinRetention: a prune at the retention leaves the
// clicks a purchase can be attributed to, and removes the older ones.
func testAttributionWithinRetention(t *testing.T, e *env, a shopclip.Analytics, r shopclip.EventRetention) {
	w := worldOnly(t, e)
	now := day(60).Add(10 * time.Hour)
	click := func(at time.Time) *shopclip.Event {
		ev := &shopclip.Event{ID: shopclip.NewID("evt"), Type: shopclip.EventClick, SessionID: "session-9",
			ClipID: w.aShoe.ClipID, TagID: w.aShoe.ID, ProductID: w.shoe.ID, BrandID: w.acme.ID, At: at}
		_, _, err := e.s.RecordEvent(e.ctx, ev, "")
		ok(t, "record click", err)
		return ev
	}
	old := click(now.Add(-31 * 24 * time.Hour))
	recent := click(now.Add(-2 * time.Hour))
	n, err := r.PruneEvents(e.ctx, now.Add(-shopclip.DefaultEventRetention), 100)
	ok(t, "prune", err)
	same(t, "events pruned", n, int64(1))

	got, err := e.s.LastClick(e.ctx, "session-9", w.shoe.ID, now.Add(-shopclip.AttributionWindow), now)
	ok(t, "last click within the window", err)
	same(t, "click attributed", got.ID, recent.ID)
	_, err = e.s.LastClick(e.ctx, "session-9", w.shoe.ID, old.At.Add(-time.Hour), old.At.Add(time.Hour))
	wantCode(t, "the pruned click", err, shopclip.ENOTFOUND)

	// The purchase is attributed and counted after the prune, with the
	// pruned click still in the funnel.
	p := &shopclip.Event{ID: shopclip.NewID("evt"), Type: shopclip.EventPurchase, SessionID: "session-9", ProductID: w.shoe.ID,
		BrandID: w.acme.ID, OrderID: "order-1", AmountMinor: 1999, Currency: "USD", At: now, ClipID: got.ClipID, TagID: got.TagID}
	_, _, err = e.s.RecordEvent(e.ctx, p, "purchase:order-1")
	ok(t, "record purchase", err)
	ts, err := e.s.TagStats(e.ctx, w.aShoe.ClipID, "")
	ok(t, "tag stats", err)
	i := slices.IndexFunc(ts, func(s shopclip.TagStats) bool { return s.TagID == w.aShoe.ID })
	if i < 0 {
		t.Fatalf("tag stats of alice's clip = %+v, without aShoe", ts)
	}
	same(t, "aShoe's funnel", []int64{ts[i].Clicks, ts[i].Purchases, ts[i].RevenueMinor}, []int64{2, 1, 1999})
}

// testPruneOldestFirst: limit bounds a prune, the oldest go first, and an
// event at before itself stays.
func testPruneOldestFirst(t *testing.T, e *env, a shopclip.Analytics, r shopclip.EventRetention) {
	w := worldOnly(t, e)
	before := day(5)
	var clicks []*shopclip.Event
	for i := range 12 { // 10 before, one at before, one after
		at := before.Add(time.Duration(i-10) * time.Minute)
		ev := &shopclip.Event{ID: shopclip.NewID("evt"), Type: shopclip.EventClick, SessionID: "session-7",
			ClipID: w.bTea.ClipID, TagID: w.bTea.ID, ProductID: w.tea.ID, BrandID: w.globex.ID, At: at}
		_, _, err := e.s.RecordEvent(e.ctx, ev, "")
		ok(t, "record click", err)
		clicks = append(clicks, ev)
	}
	// left reports which clicks remain, by LastClick over each one's time.
	left := func() []bool {
		var out []bool
		for _, c := range clicks {
			_, err := e.s.LastClick(e.ctx, "session-7", w.tea.ID, c.At, c.At)
			if err != nil && shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
				t.Fatalf("last click: %v", err)
			}
			out = append(out, err == nil)
		}
		return out
	}
	keep := func(from int) []bool {
		out := make([]bool, len(clicks))
		for i := from; i < len(out); i++ {
			out[i] = true
		}
		return out
	}
	for _, step := range []struct {
		limit int
		want  int64
		from  int // the first click left
	}{{3, 3, 3}, {3, 3, 6}, {100, 4, 10}, {100, 0, 10}} {
		n, err := r.PruneEvents(e.ctx, before, step.limit)
		ok(t, "prune", err)
		same(t, fmt.Sprintf("pruned with limit %d", step.limit), n, step.want)
		same(t, "clicks left", left(), keep(step.from))
	}
	ts, err := e.s.TagStats(e.ctx, w.bTea.ClipID, "")
	ok(t, "tag stats", err)
	if len(ts) != 1 || ts[0].Clicks != 12 {
		t.Errorf("tag stats of bob's clip = %+v, want 12 clicks on bTea", ts)
	}
}

func testPruneValidation(t *testing.T, e *env, a shopclip.Analytics, r shopclip.EventRetention) {
	for _, limit := range []int{0, -1} {
		_, err := r.PruneEvents(e.ctx, day(0), limit)
		wantCode(t, fmt.Sprintf("limit %d", limit), err, shopclip.EINVALID)
	}
}
