package storefront_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// tagged makes a ready clip of alice with an approved tag of an acme product
// (199.00 USD) at 3–6 s.
func (e *env) tagged() (*shopclip.Clip, *shopclip.Product, *shopclip.Tag) {
	e.t.Helper()
	clip := e.readyClip("alice")
	p := e.product("acme", 19900)
	var tag shopclip.Tag
	resp := e.do("acme", "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 3000, "end_ms": 6000, "x": 0.5, "y": 0.8})
	resp.json(e.t, &tag)
	if resp := e.do("alice", "POST", "/v1/clips/"+clip.ID+"/tags/"+tag.ID+"/approve", nil); resp.Status != 200 {
		e.t.Fatalf("approve: %d %s", resp.Status, resp.Body)
	}
	return clip, p, &tag
}

func (e *env) discount(brand, productID string, body map[string]any) response {
	e.t.Helper()
	if _, ok := body["starts_at"]; !ok {
		body["starts_at"] = e.now.Add(-time.Hour).Format(time.RFC3339)
	}
	if _, ok := body["ends_at"]; !ok {
		body["ends_at"] = e.now.Add(time.Hour).Format(time.RFC3339)
	}
	return e.do(brand, "POST", "/v1/products/"+productID+"/discounts", body)
}

func (e *env) popups(clipID string) []shopclip.Popup {
	e.t.Helper()
	var out struct{ Popups []shopclip.Popup }
	resp := e.do("", "GET", "/v1/clips/"+clipID+"/popups", nil)
	if resp.Status != 200 {
		e.t.Fatalf("popups: %d %s", resp.Status, resp.Body)
	}
	resp.json(e.t, &out)
	return out.Popups
}

func TestDiscountKindsOverHTTP(t *testing.T) {
	e := newEnv(t)
	clip, p, _ := e.tagged()
	tests := []struct {
		name   string
		body   map[string]any
		status int
	}{
		{"flash sale", map[string]any{"kind": "percent", "percent_off": 30, "flash": true, "ends_at": e.now.Add(2 * time.Hour).Format(time.RFC3339)}, 201},
		{"flash sale too long", map[string]any{"kind": "percent", "percent_off": 30, "flash": true, "ends_at": e.now.Add(48 * time.Hour).Format(time.RFC3339)}, 400},
		{"amount in another currency", map[string]any{"kind": "amount", "amount_off_minor": 500, "currency": "EUR"}, 400},
		{"amount in the product's currency", map[string]any{"kind": "amount", "amount_off_minor": 500, "currency": "USD", "coupon_code": "SPRING-26", "ends_at": e.now.Add(5 * time.Hour).Format(time.RFC3339)}, 201},
		{"ends before it starts", map[string]any{"kind": "percent", "percent_off": 10, "starts_at": e.now.Format(time.RFC3339), "ends_at": e.now.Add(-time.Hour).Format(time.RFC3339)}, 400},
		{"not a time", map[string]any{"kind": "percent", "percent_off": 10, "starts_at": "tomorrow"}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp := e.discount("acme", p.ID, tt.body); resp.Status != tt.status {
				t.Errorf("got %d, want %d: %s", resp.Status, tt.status, resp.Body)
			}
		})
	}
	// The flash sale (30% off) is the best price: the pop-up counts down to its end.
	pp := e.popups(clip.ID)[0]
	if pp.Product.SalePriceMinor != 13930 || pp.Label != "-30%" || !pp.Flash || pp.SaleEndsAt == nil ||
		!pp.SaleEndsAt.Equal(e.now.Add(2*time.Hour)) || pp.Product.WasPriceMinor != 19900 {
		t.Errorf("pop-up = %+v (ends %v)", pp, pp.SaleEndsAt)
	}
	// After the flash sale, the coupon offer is what remains.
	e.now = e.now.Add(150 * time.Minute)
	pp = e.popups(clip.ID)[0]
	if pp.Product.SalePriceMinor != 19400 || pp.Label != "-5.00 USD" || pp.Flash || pp.CouponCode != "SPRING-26" {
		t.Errorf("pop-up after the flash sale = %+v", pp)
	}
}

// TestPriceHonestyOverHTTP: a brand that raises its price and then puts the
// product on sale gets the sale price shown but no label and no "was" price.
func TestPriceHonestyOverHTTP(t *testing.T) {
	e := newEnv(t)
	clip, p, _ := e.tagged()
	e.now = e.now.Add(10 * 24 * time.Hour)
	if resp := e.do("acme", "PATCH", "/v1/products/"+p.ID, map[string]any{"price_minor": 29900}); resp.Status != 200 {
		t.Fatalf("raise: %d %s", resp.Status, resp.Body)
	}
	e.now = e.now.Add(time.Hour)
	e.discount("acme", p.ID, map[string]any{"kind": "percent", "percent_off": 25})
	pp := e.popups(clip.ID)[0]
	// 25% off 299.00 is 224.25: more than the 199.00 it sold at last week.
	if pp.Product.PriceMinor != 29900 || pp.Product.SalePriceMinor != 22425 || pp.Label != "" || pp.Product.WasPriceMinor != 0 {
		t.Errorf("pop-up = %+v, want the sale price without a label", pp)
	}
	// 40% off is a real reduction against 199.00: labelled against it.
	e.discount("acme", p.ID, map[string]any{"kind": "percent", "percent_off": 40})
	pp = e.popups(clip.ID)[0]
	if pp.Product.SalePriceMinor != 17940 || pp.Product.WasPriceMinor != 19900 || pp.Label != "-9%" {
		t.Errorf("pop-up = %+v, want 179.40 was 199.00 (-9%%)", pp)
	}
	// Out of stock says so.
	e.do("acme", "PATCH", "/v1/products/"+p.ID, map[string]any{"in_stock": false})
	if pp := e.popups(clip.ID)[0]; pp.Product.InStock {
		t.Errorf("out-of-stock product shows as in stock")
	}
}

func TestStandingBrandApproval(t *testing.T) {
	e := newEnv(t)
	clip := e.readyClip("alice")
	p := e.product("acme", 1000)
	tag := func() shopclip.Tag {
		var tg shopclip.Tag
		resp := e.do("acme", "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 0, "end_ms": 1000, "x": 0.1, "y": 0.1})
		if resp.Status != 202 {
			t.Fatalf("tag: %d %s", resp.Status, resp.Body)
		}
		resp.json(t, &tg)
		return tg
	}
	first := tag()
	if first.Status != shopclip.TagPending {
		t.Fatalf("first tag is %s", first.Status)
	}
	// Approving with always approves the brand for good.
	if resp := e.do("alice", "POST", "/v1/clips/"+clip.ID+"/tags/"+first.ID+"/approve", map[string]any{"always": true}); resp.Status != 200 {
		t.Fatalf("approve always: %d %s", resp.Status, resp.Body)
	}
	if second := tag(); second.Status != shopclip.TagActive {
		t.Errorf("after a standing approval, a new tag is %s", second.Status)
	}
	var list struct{ Brands []struct{ ID, Name string } }
	e.do("alice", "GET", "/v1/me/approved-brands", nil).json(t, &list)
	if len(list.Brands) != 1 || list.Brands[0].ID != e.accounts["acme"].ID || list.Brands[0].Name != "acme" {
		t.Errorf("approved brands = %+v", list.Brands)
	}
	// Another creator's approval does not carry over; brands cannot approve themselves.
	if resp := e.do("acme", "POST", "/v1/me/approved-brands", map[string]any{"brand_id": e.accounts["acme"].ID}); resp.Status != 403 {
		t.Errorf("brand approving itself: %d", resp.Status)
	}
	if resp := e.do("alice", "POST", "/v1/me/approved-brands", map[string]any{"brand_id": e.accounts["bob"].ID}); resp.Status != 400 {
		t.Errorf("approving a creator as a brand: %d", resp.Status)
	}
	if resp := e.do("alice", "DELETE", "/v1/me/approved-brands/"+e.accounts["acme"].ID, nil); resp.Status != 204 {
		t.Errorf("revoke: %d", resp.Status)
	}
	if third := tag(); third.Status != shopclip.TagPending {
		t.Errorf("after revoking, a new tag is %s", third.Status)
	}
	// A standing approval from globex's point of view: only alice's clips.
	e.do("bob", "POST", "/v1/me/approved-brands", map[string]any{"brand_id": e.accounts["acme"].ID})
	if fourth := tag(); fourth.Status != shopclip.TagPending {
		t.Errorf("bob's approval made a tag on alice's clip %s", fourth.Status)
	}
}

func event(body map[string]any) map[string]any { return body }

func TestEventsAndAttribution(t *testing.T) {
	e := newEnv(t)
	clip, p, tag := e.tagged()
	post := func(user string, body map[string]any) response {
		t.Helper()
		return e.do(user, "POST", "/v1/events", body)
	}
	recorded := func(resp response) bool {
		t.Helper()
		var r struct{ Recorded bool }
		resp.json(t, &r)
		return r.Recorded
	}
	s1, s2 := "session-one-1", "session-two-2"
	for i, tt := range []struct {
		body map[string]any
		want bool
	}{
		{event(map[string]any{"type": "view", "session_id": s1, "clip_id": clip.ID}), true},
		{event(map[string]any{"type": "view", "session_id": s1, "clip_id": clip.ID}), false},
		{event(map[string]any{"type": "view", "session_id": s2, "clip_id": clip.ID}), true},
		{event(map[string]any{"type": "popup_impression", "session_id": s1, "tag_id": tag.ID}), true},
		{event(map[string]any{"type": "popup_impression", "session_id": s2, "tag_id": tag.ID, "clip_id": clip.ID}), true},
		{event(map[string]any{"type": "popup_impression", "session_id": s2, "tag_id": tag.ID}), false},
		{event(map[string]any{"type": "popup_click", "session_id": s1, "tag_id": tag.ID}), true},
	} {
		resp := post("", tt.body)
		if resp.Status != 202 || recorded(resp) != tt.want {
			t.Errorf("event %d: %d %s, want recorded=%v", i, resp.Status, resp.Body, tt.want)
		}
	}
	// The buy redirect with the same session is the same click.
	if resp := e.do("", "GET", shopclip.BuyPath(tag.ID)+"?session="+s1, nil); resp.Status != 302 {
		t.Fatalf("buy: %d", resp.Status)
	}
	for _, bad := range []map[string]any{
		{"type": "like", "session_id": s1, "clip_id": clip.ID},
		{"type": "view", "session_id": "short", "clip_id": clip.ID},
		{"type": "view", "session_id": s1, "clip_id": shopclip.NewID(shopclip.PrefixClip)},
		{"type": "popup_click", "session_id": s1, "tag_id": tag.ID, "clip_id": shopclip.NewID(shopclip.PrefixClip)},
		{"type": "view", "session_id": s1, "clip_id": clip.ID, "amount_minor": 5},
		{"type": "view", "session_id": s1, "clip_id": clip.ID, "extra": 1},
	} {
		if resp := post("", bad); resp.Status != 400 {
			t.Errorf("bad event %v: %d %s", bad, resp.Status, resp.Body)
		}
	}

	// Purchases: brands only, once per order, attributed to the session's click.
	purchase := map[string]any{"type": "purchase", "session_id": s1, "product_id": p.ID, "order_id": "ORD-1", "amount_minor": 15920, "currency": "USD"}
	if resp := post("", purchase); resp.Status != 401 {
		t.Errorf("anonymous purchase: %d", resp.Status)
	}
	if resp := post("alice", purchase); resp.Status != 403 {
		t.Errorf("creator purchase: %d", resp.Status)
	}
	if resp := post("globex", purchase); resp.Status != 400 {
		t.Errorf("purchase of another brand's product: %d", resp.Status)
	}
	e.now = e.now.Add(2 * time.Hour)
	resp := post("acme", purchase)
	var got struct {
		Recorded bool
		Event    shopclip.Event
	}
	resp.json(t, &got)
	if resp.Status != 201 || !got.Recorded || got.Event.TagID != tag.ID || got.Event.ClipID != clip.ID {
		t.Fatalf("purchase: %d %s", resp.Status, resp.Body)
	}
	if resp := post("acme", purchase); resp.Status != 200 || recorded(resp) {
		t.Errorf("repeated purchase: %d %s", resp.Status, resp.Body)
	}
	changed := map[string]any{"type": "purchase", "session_id": s1, "product_id": p.ID, "order_id": "ORD-1", "amount_minor": 100, "currency": "USD"}
	if resp := post("acme", changed); resp.Status != 409 {
		t.Errorf("same order, other amount: %d", resp.Status)
	}
	// A purchase more than 24 h after the click is not attributed.
	e.now = e.now.Add(30 * time.Hour)
	late := map[string]any{"type": "purchase", "session_id": s1, "product_id": p.ID, "order_id": "ORD-2", "amount_minor": 19900, "currency": "USD"}
	resp = post("acme", late)
	got.Event = shopclip.Event{}
	resp.json(t, &got)
	if resp.Status != 201 || got.Event.TagID != "" {
		t.Errorf("late purchase attributed: %s", resp.Body)
	}
	if resp := post("acme", map[string]any{"type": "purchase", "product_id": p.ID, "order_id": "ORD-3", "amount_minor": 100, "currency": "EUR"}); resp.Status != 400 {
		t.Errorf("purchase in another currency: %d", resp.Status)
	}

	// Stats: the creator and the tagged brand see the tag; another brand does not.
	var stats struct {
		Views  int64
		Tags   []shopclip.TagStats
		Totals struct {
			Impressions, Clicks, Purchases int64
			Revenue                        map[string]int64 `json:"revenue_minor"`
		}
	}
	for _, who := range []string{"alice", "acme"} {
		resp := e.do(who, "GET", "/v1/clips/"+clip.ID+"/stats", nil)
		resp.json(t, &stats)
		if resp.Status != 200 || stats.Views != 2 || len(stats.Tags) != 1 {
			t.Fatalf("%s stats: %d %s", who, resp.Status, resp.Body)
		}
		st := stats.Tags[0]
		if st.Impressions != 2 || st.Clicks != 1 || st.CTR != 0.5 || st.Purchases != 1 || st.RevenueMinor != 15920 || stats.Totals.Revenue["USD"] != 15920 {
			t.Errorf("%s sees %+v / %+v", who, st, stats.Totals)
		}
	}
	if resp := e.do("globex", "GET", "/v1/clips/"+clip.ID+"/stats", nil); resp.Status != 404 {
		t.Errorf("an untagged brand's clip stats: %d", resp.Status)
	}
	// A brand whose tag is only pending sees its tag, not the clip's audience.
	gp := e.product("globex", 500)
	if resp := e.do("globex", "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": gp.ID, "start_ms": 0, "end_ms": 1000, "x": 0.1, "y": 0.1}); resp.Status != 202 {
		t.Fatalf("globex tag: %d %s", resp.Status, resp.Body)
	}
	resp = e.do("globex", "GET", "/v1/clips/"+clip.ID+"/stats", nil)
	resp.json(t, &stats)
	if resp.Status != 200 || stats.Views != 0 || len(stats.Tags) != 1 || stats.Tags[0].ProductID != gp.ID {
		t.Errorf("a brand with a pending tag sees %d %s", resp.Status, resp.Body)
	}
	resp = e.do("acme", "GET", "/v1/products/"+p.ID+"/stats", nil)
	resp.json(t, &stats)
	if resp.Status != 200 || len(stats.Tags) != 1 || stats.Totals.Purchases != 1 {
		t.Errorf("product stats: %d %s", resp.Status, resp.Body)
	}
	if resp := e.do("globex", "GET", "/v1/products/"+p.ID+"/stats", nil); resp.Status != 404 {
		t.Errorf("another brand's product stats: %d", resp.Status)
	}
}

func TestEventsAreRateLimited(t *testing.T) {
	e := newEnv(t)
	clip := e.readyClip("alice")
	limited := 0
	for i := range 150 { // the default allows a burst of 100
		resp := e.do("", "POST", "/v1/events", map[string]any{"type": "view", "session_id": fmt.Sprintf("session-%04d", i), "clip_id": clip.ID})
		if resp.Status == http.StatusTooManyRequests {
			limited++
			if resp.Header.Get("Retry-After") == "" || resp.errCode() != shopclip.ERATELIMITED {
				t.Fatalf("429 without Retry-After or code: %v %s", resp.Header, resp.Body)
			}
		} else if resp.Status != 202 {
			t.Fatalf("event %d: %d %s", i, resp.Status, resp.Body)
		}
	}
	// 150 requests against a burst of 100 at 20/s: about 50 refused, fewer
	// if the requests were slow enough to earn tokens back.
	if limited == 0 || limited > 50 {
		t.Errorf("%d of 150 refused, want some and at most 50", limited)
	}
	views, _ := e.store.ClipViews(context.Background(), clip.ID)
	if views != int64(150-limited) {
		t.Errorf("views = %d, want the %d accepted", views, 150-limited)
	}
	_ = strings.TrimSpace
}

// TestPurchaseAttributionAndOrderLines: a purchase is attributed to the last
// click before it, an order records one purchase per product, and amounts
// are capped.
func TestPurchaseAttributionAndOrderLines(t *testing.T) {
	e := newEnv(t)
	clip, p, tag := e.tagged()
	var tag2 shopclip.Tag
	e.do("acme", "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 7000, "end_ms": 9000, "x": 0.2, "y": 0.2}).json(t, &tag2)
	if resp := e.do("alice", "POST", "/v1/clips/"+clip.ID+"/tags/"+tag2.ID+"/approve", nil); resp.Status != 200 {
		t.Fatalf("approve: %d %s", resp.Status, resp.Body)
	}
	var p2 shopclip.Product
	resp := e.do("acme", "POST", "/v1/products", map[string]any{"sku": "SKU-2", "title": "Sock", "currency": "USD", "price_minor": 900,
		"url": "https://shop.example.com/p/2"})
	if resp.Status != 201 {
		t.Fatalf("create product: %d %s", resp.Status, resp.Body)
	}
	resp.json(t, &p2)
	session := "session-attr-1"
	purchase := func(order, productID string, amount int64, at time.Time) (response, shopclip.Event) {
		t.Helper()
		resp := e.do("acme", "POST", "/v1/events", map[string]any{"type": "purchase", "session_id": session, "product_id": productID,
			"order_id": order, "amount_minor": amount, "currency": "USD", "at": at.Format(time.RFC3339)})
		var got struct{ Event shopclip.Event }
		if resp.Status < 300 {
			resp.json(t, &got)
		}
		return resp, got.Event
	}

	// Click at 10:00, purchase at 10:05 reported after a click at 11:00.
	start := e.now
	if resp := e.do("", "GET", shopclip.BuyPath(tag.ID)+"?session="+session, nil); resp.Status != 302 {
		t.Fatalf("buy: %d", resp.Status)
	}
	e.now = start.Add(time.Hour)
	if resp := e.do("", "GET", shopclip.BuyPath(tag2.ID)+"?session="+session, nil); resp.Status != 302 {
		t.Fatalf("buy: %d", resp.Status)
	}
	e.now = start.Add(90 * time.Minute)
	resp, ev := purchase("ORD-1", p.ID, 19900, start.Add(5*time.Minute))
	if resp.Status != 201 || ev.TagID != tag.ID {
		t.Errorf("purchase at 10:05: %d, attributed to %q, want %q (the 10:00 click): %s", resp.Status, ev.TagID, tag.ID, resp.Body)
	}

	// One order, two of the brand's products: two lines.
	if resp, _ := purchase("ORD-1", p2.ID, 900, start.Add(5*time.Minute)); resp.Status != 201 {
		t.Errorf("second line of the order: %d %s", resp.Status, resp.Body)
	}
	if resp, _ := purchase("ORD-1", p2.ID, 900, start.Add(5*time.Minute)); resp.Status != 200 {
		t.Errorf("replayed line: %d %s", resp.Status, resp.Body)
	}
	if resp, _ := purchase("ORD-1", p2.ID, 1800, start.Add(5*time.Minute)); resp.Status != 409 {
		t.Errorf("same line, other amount: %d %s", resp.Status, resp.Body)
	}

	// Amounts: up to shopclip.MaxPurchaseMinor.
	for _, tt := range []struct {
		name   string
		amount int64
		status int
	}{
		{"at the cap", shopclip.MaxPurchaseMinor, 201},
		{"above the cap", shopclip.MaxPurchaseMinor + 1, 400},
		{"near overflow", math.MaxInt64, 400},
		{"zero", 0, 400},
	} {
		if resp, _ := purchase("ORD-"+strings.ReplaceAll(tt.name, " ", "-"), p.ID, tt.amount, e.now); resp.Status != tt.status {
			t.Errorf("%s: %d, want %d: %s", tt.name, resp.Status, tt.status, resp.Body)
		}
	}
}

// TestBuyCarriesSession: with a session, the buy redirect hands it (and the
// tag) to the brand's store; without one the product URL is unchanged.
func TestBuyCarriesSession(t *testing.T) {
	e := newEnv(t)
	_, p, tag := e.tagged()
	const productURL = "https://shop.example.com/p/1?color=red&size=42#reviews"
	if resp := e.do("acme", "PATCH", "/v1/products/"+p.ID, map[string]any{"url": productURL}); resp.Status != 200 {
		t.Fatalf("patch: %d %s", resp.Status, resp.Body)
	}
	for _, tt := range []struct {
		name, query, want string
	}{
		{"no session", "", productURL},
		{"invalid session", "?session=x", productURL},
		{"session", "?session=sess-1234_AB", "https://shop.example.com/p/1?color=red&size=42&sc_session=sess-1234_AB&sc_tag=" + tag.ID + "#reviews"},
	} {
		resp := e.do("", "GET", shopclip.BuyPath(tag.ID)+tt.query, nil)
		if got := resp.Header.Get("Location"); resp.Status != 302 || got != tt.want {
			t.Errorf("%s: %d Location %q, want %q", tt.name, resp.Status, got, tt.want)
		}
	}
}

// TestDiscountCapOverHTTP: a product holds at most MaxOpenDiscounts
// discounts that have not ended.
func TestDiscountCapOverHTTP(t *testing.T) {
	e := newEnv(t)
	_, p, _ := e.tagged()
	for i := range shopclip.MaxOpenDiscounts {
		if resp := e.discount("acme", p.ID, map[string]any{"kind": "percent", "percent_off": 10}); resp.Status != 201 {
			t.Fatalf("discount %d: %d %s", i, resp.Status, resp.Body)
		}
	}
	resp := e.discount("acme", p.ID, map[string]any{"kind": "percent", "percent_off": 10})
	var body struct {
		Error struct{ Code, Message string }
	}
	resp.json(t, &body)
	if resp.Status != 409 || body.Error.Code != shopclip.ECONFLICT || !strings.Contains(body.Error.Message, "100") {
		t.Errorf("one discount too many: %d %s", resp.Status, resp.Body)
	}
}
