package storetest

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

func testPriceHistory(t *testing.T, e *env) {
	br := e.account(t, shopclip.RoleBrand, "brand")
	at0 := Start.Add(time.Hour)
	e.freeze(at0)
	p := e.product(t, br.ID, "lamp") // 19.99 USD
	at1 := at0.Add(24 * time.Hour)
	e.freeze(at1)
	p.Title = "Lamp, renamed" // not a price change
	ok(t, "rename", e.s.UpdateProduct(e.ctx, p))
	at2 := at1.Add(24 * time.Hour)
	e.freeze(at2)
	p.PriceMinor = 2499
	ok(t, "reprice", e.s.UpdateProduct(e.ctx, p))
	at3 := at2.Add(24 * time.Hour)
	e.freeze(at3)
	p.Currency, p.PriceMinor = "EUR", 2299
	ok(t, "change currency", e.s.UpdateProduct(e.ctx, p))
	e.tick()
	p.InStock = false // not a price change either
	ok(t, "out of stock", e.s.UpdateProduct(e.ctx, p))

	got, err := e.s.ProductPriceHistory(e.ctx, p.ID, time.Time{})
	ok(t, "history", err)
	want := []shopclip.PricePoint{
		{PriceMinor: 1999, Currency: "USD", StartsAt: stored(at0)},
		{PriceMinor: 2499, Currency: "USD", StartsAt: stored(at2)},
		{PriceMinor: 2299, Currency: "EUR", StartsAt: stored(at3)},
	}
	same(t, "price history", got, want)
	// Since a moment: the points from then on and the one in force then.
	for _, tt := range []struct {
		name  string
		since time.Time
		want  []shopclip.PricePoint
	}{
		{"before the first point", at0.Add(-time.Hour), want},
		{"at a point", stored(at2), want[1:]},
		{"between points", at2.Add(time.Hour), want[1:]},
		{"after the last point", at3.Add(time.Hour), want[2:]},
	} {
		got, err := e.s.ProductPriceHistory(e.ctx, p.ID, tt.since)
		ok(t, "history since "+tt.name, err)
		same(t, "price history since "+tt.name, got, tt.want)
	}
	other, err := e.s.ProductPriceHistory(e.ctx, shopclip.NewID(shopclip.PrefixProduct), time.Time{})
	ok(t, "history of an unknown product", err)
	if len(other) != 0 {
		t.Errorf("unknown product has %d price points", len(other))
	}
}

func testFlashDiscount(t *testing.T, e *env) {
	br := e.account(t, shopclip.RoleBrand, "brand")
	p := e.product(t, br.ID, "flash")
	d := &shopclip.Discount{ID: shopclip.NewID(shopclip.PrefixDiscount), ProductID: p.ID, Kind: shopclip.DiscountPercent,
		PercentOff: 30, StartsAt: Start, EndsAt: Start.Add(2 * time.Hour), Flash: true}
	ok(t, "create", e.s.CreateDiscount(e.ctx, d))
	ds, err := e.s.ProductDiscounts(e.ctx, p.ID)
	ok(t, "list", err)
	if len(ds) != 1 || !ds[0].Flash {
		t.Errorf("flash sale read back as %+v", ds)
	}
}

func testDiscountCap(t *testing.T, e *env) {
	br := e.account(t, shopclip.RoleBrand, "brand")
	p := e.product(t, br.ID, "capped")
	now := e.clock.Peek()
	discount := func(ends time.Time) *shopclip.Discount {
		return &shopclip.Discount{ID: shopclip.NewID(shopclip.PrefixDiscount), ProductID: p.ID, Kind: shopclip.DiscountPercent,
			PercentOff: 10, StartsAt: now.Add(-48 * time.Hour), EndsAt: ends}
	}
	// Ended discounts do not count.
	ok(t, "create an ended discount", e.s.CreateDiscount(e.ctx, discount(now.Add(-time.Hour))))
	for i := range shopclip.MaxOpenDiscounts {
		if err := e.s.CreateDiscount(e.ctx, discount(now.Add(time.Duration(i+1)*time.Hour))); err != nil {
			t.Fatalf("discount %d: %v", i, err)
		}
	}
	err := e.s.CreateDiscount(e.ctx, discount(now.Add(time.Hour)))
	wantCode(t, "one discount too many", err, shopclip.ECONFLICT)
	if !strings.Contains(shopclip.ErrorMessage(err), "100") {
		t.Errorf("message %q does not state the cap", shopclip.ErrorMessage(err))
	}
	// Once one ends, there is room again.
	e.freeze(now.Add(time.Hour))
	ok(t, "create after one ended", e.s.CreateDiscount(e.ctx, discount(now.Add(2*time.Hour))))
}

func testBrandApprovals(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	a := e.account(t, shopclip.RoleBrand, "a")
	b := e.account(t, shopclip.RoleBrand, "b")
	approved := func(brandID string) bool {
		t.Helper()
		ok, err := e.s.BrandApproved(e.ctx, cr.ID, brandID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if approved(a.ID) {
		t.Fatal("approved before approving")
	}
	ok(t, "approve a", e.s.ApproveBrand(e.ctx, cr.ID, a.ID))
	ok(t, "approve a again", e.s.ApproveBrand(e.ctx, cr.ID, a.ID))
	ok(t, "approve b", e.s.ApproveBrand(e.ctx, cr.ID, b.ID))
	if !approved(a.ID) || !approved(b.ID) {
		t.Error("approvals not recorded")
	}
	list, err := e.s.ApprovedBrands(e.ctx, cr.ID, shopclip.Page{})
	ok(t, "list", err)
	var brands []string
	for _, ap := range list {
		brands = append(brands, ap.BrandID)
	}
	if !slices.Equal(brands, []string{a.ID, b.ID}) {
		t.Errorf("approved brands = %v, want [a b] in order", brands)
	}
	ok(t, "revoke a", e.s.RevokeBrand(e.ctx, cr.ID, a.ID))
	ok(t, "revoke a again", e.s.RevokeBrand(e.ctx, cr.ID, a.ID))
	if approved(a.ID) || !approved(b.ID) {
		t.Error("revocation wrong")
	}
	wantCode(t, "approve an unknown brand", e.s.ApproveBrand(e.ctx, cr.ID, shopclip.NewID(shopclip.PrefixAccount)), shopclip.ENOTFOUND)
}

func testEvents(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	br := e.account(t, shopclip.RoleBrand, "brand")
	c := e.clip(t, cr.ID, "shoppable")
	p := e.product(t, br.ID, "p")
	t1 := e.tag(t, c.ID, p.ID, br.ID, 0)
	t2 := e.tag(t, c.ID, p.ID, br.ID, 5000)
	ev := func(typ shopclip.EventType, session, tagID string, at time.Time) *shopclip.Event {
		return &shopclip.Event{ID: shopclip.NewID("evt"), Type: typ, SessionID: session, ClipID: c.ID, TagID: tagID,
			ProductID: p.ID, BrandID: br.ID, At: at}
	}
	record := func(e0 *shopclip.Event, key string, wantNew bool) *shopclip.Event {
		t.Helper()
		got, created, err := e.s.RecordEvent(e.ctx, e0, key)
		ok(t, "record "+string(e0.Type), err)
		if created != wantNew {
			t.Errorf("%s %q: created = %v, want %v", e0.Type, key, created, wantNew)
		}
		return got
	}
	at := Start.Add(time.Hour)
	record(ev(shopclip.EventView, "s1", "", at), "view:s1", true)
	record(ev(shopclip.EventView, "s1", "", at), "view:s1", false)
	record(ev(shopclip.EventView, "s2", "", at), "view:s2", true)
	record(ev(shopclip.EventImpression, "s1", t1.ID, at), "imp:s1:t1", true)
	record(ev(shopclip.EventImpression, "s2", t1.ID, at), "imp:s2:t1", true)
	record(ev(shopclip.EventImpression, "s2", t2.ID, at), "imp:s2:t2", true)
	first := record(ev(shopclip.EventClick, "s1", t1.ID, at.Add(time.Minute)), "click:s1:t1", true)
	record(ev(shopclip.EventClick, "s1", t1.ID, at.Add(2*time.Minute)), "click:s1:t1", false)
	record(ev(shopclip.EventClick, "s2", t2.ID, at.Add(3*time.Minute)), "click:s2:t2", true)
	record(ev(shopclip.EventClick, "", t2.ID, at.Add(4*time.Minute)), "", true) // anonymous: never deduplicated
	record(ev(shopclip.EventClick, "", t2.ID, at.Add(4*time.Minute)), "", true)

	// The latest click of a session on the product, within the window.
	last, err := e.s.LastClick(e.ctx, "s1", p.ID, at, at.Add(time.Hour))
	ok(t, "last click", err)
	if last.ID != first.ID || last.TagID != t1.ID {
		t.Errorf("last click of s1 = %+v, want the first recorded", last)
	}
	_, err = e.s.LastClick(e.ctx, "s1", p.ID, at.Add(time.Hour), at.Add(2*time.Hour))
	wantCode(t, "no click since", err, shopclip.ENOTFOUND)
	_, err = e.s.LastClick(e.ctx, "s1", p.ID, at, at.Add(time.Minute-time.Microsecond))
	wantCode(t, "no click until", err, shopclip.ENOTFOUND)
	// A click after the purchase does not hide the one before it.
	later := record(ev(shopclip.EventClick, "s3", t2.ID, at.Add(time.Hour)), "click:s3:t2", true)
	before := record(ev(shopclip.EventClick, "s3", t1.ID, at), "click:s3:t1", true)
	last, err = e.s.LastClick(e.ctx, "s3", p.ID, at.Add(-time.Hour), at.Add(5*time.Minute))
	ok(t, "last click before a purchase", err)
	if last.ID != before.ID {
		t.Errorf("last click of s3 until the purchase = %+v, want %+v (not the later %s)", last, before, later.ID)
	}
	last, err = e.s.LastClick(e.ctx, "s3", p.ID, at.Add(-time.Hour), at.Add(time.Hour))
	ok(t, "last click at the purchase", err)
	if last.ID != later.ID {
		t.Errorf("last click of s3 until the later click = %+v, want it (the bound is inclusive)", last)
	}

	buy := &shopclip.Event{ID: shopclip.NewID("evt"), Type: shopclip.EventPurchase, SessionID: "s1", ClipID: c.ID, TagID: t1.ID,
		ProductID: p.ID, BrandID: br.ID, OrderID: "A-1", AmountMinor: 1999, Currency: "USD", At: at.Add(time.Hour)}
	stored1 := record(buy, "purchase:"+br.ID+":A-1", true)
	again := *buy
	again.ID = shopclip.NewID("evt")
	dup := record(&again, "purchase:"+br.ID+":A-1", false)
	same(t, "duplicate purchase returns the first", dup, stored1)
	// A purchase paid in another currency than the product's counts as a
	// purchase but is not summed into its revenue.
	euro := *buy
	euro.ID, euro.OrderID, euro.AmountMinor, euro.Currency = shopclip.NewID("evt"), "A-2", 5000, "EUR"
	record(&euro, "purchase:"+br.ID+":A-2", true)

	views, err := e.s.ClipViews(e.ctx, c.ID)
	ok(t, "views", err)
	if views != 2 {
		t.Errorf("views = %d, want 2 (deduplicated)", views)
	}
	stats, err := e.s.TagStats(e.ctx, c.ID, "")
	ok(t, "clip stats", err)
	want := []shopclip.TagStats{
		{TagID: t1.ID, ClipID: c.ID, ProductID: p.ID, BrandID: br.ID, Impressions: 2, Clicks: 2, CTR: 1, Purchases: 2, RevenueMinor: 1999, Currency: "USD"},
		{TagID: t2.ID, ClipID: c.ID, ProductID: p.ID, BrandID: br.ID, Impressions: 1, Clicks: 4, CTR: 4, Currency: "USD"},
	}
	same(t, "clip stats", stats, want)
	byProduct, err := e.s.TagStats(e.ctx, "", p.ID)
	ok(t, "product stats", err)
	same(t, "product stats", byProduct, want)

	// Concurrent duplicates: exactly one is recorded.
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for range 16 {
		wg.Go(func() {
			_, c0, err := e.s.RecordEvent(e.ctx, ev(shopclip.EventImpression, "s9", t2.ID, at), "imp:s9:t2")
			if err != nil {
				t.Error(err)
			}
			if c0 {
				mu.Lock()
				created++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if created != 1 {
		t.Errorf("%d of 16 concurrent duplicates recorded, want 1", created)
	}
	_, _, err = e.s.RecordEvent(e.ctx, &shopclip.Event{ID: shopclip.NewID("evt"), Type: "like"}, "")
	wantCode(t, "unknown type", err, shopclip.EINVALID)
}

func testClipShare(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	c := e.ready(t, cr.ID, "shared", Start.Add(time.Hour))
	ok(t, "set share", e.s.SetClipShare(e.ctx, c.ID, "clips/x/share-abc.mp4"))
	got := e.get(t, c.ID)
	if got.ShareKey != "clips/x/share-abc.mp4" || !got.UpdatedAt.Equal(c.UpdatedAt) {
		t.Errorf("share key %q, updated %v (was %v)", got.ShareKey, got.UpdatedAt, c.UpdatedAt)
	}
	wantCode(t, "share of a missing clip", e.s.SetClipShare(e.ctx, shopclip.NewID(shopclip.PrefixClip), "k"), shopclip.ENOTFOUND)
}
