package tagging_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/tagging"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func percent(pct int, from, to time.Time) *shopclip.Discount {
	return &shopclip.Discount{ID: "dsc_" + strings.Repeat("a", 26), Kind: shopclip.DiscountPercent, PercentOff: pct, StartsAt: from, EndsAt: to}
}

func amount(minor int64, from, to time.Time) *shopclip.Discount {
	return &shopclip.Discount{ID: "dsc_" + strings.Repeat("b", 26), Kind: shopclip.DiscountAmount, AmountOffMinor: minor, StartsAt: from, EndsAt: to}
}

func TestPriceAt(t *testing.T) {
	hour := time.Hour
	usd := &shopclip.Product{Currency: "USD", PriceMinor: 19900}
	jpy := &shopclip.Product{Currency: "JPY", PriceMinor: 1500}
	odd := &shopclip.Product{Currency: "USD", PriceMinor: 19999}
	cheap := &shopclip.Product{Currency: "USD", PriceMinor: 400}
	tests := []struct {
		name      string
		product   *shopclip.Product
		discounts []*shopclip.Discount
		now       time.Time
		wantSale  int64
		wantLabel string
	}{
		{"no discount", usd, nil, t0, 19900, ""},
		{"20 percent of 199.00", usd, []*shopclip.Discount{percent(20, t0.Add(-hour), t0.Add(hour))}, t0, 15920, "-20%"},
		{"before the sale starts", usd, []*shopclip.Discount{percent(20, t0.Add(hour), t0.Add(2*hour))}, t0, 19900, ""},
		{"at the first instant", usd, []*shopclip.Discount{percent(20, t0, t0.Add(hour))}, t0, 15920, "-20%"},
		{"at the end instant", usd, []*shopclip.Discount{percent(20, t0.Add(-hour), t0)}, t0, 19900, ""},
		{"after the sale ends", usd, []*shopclip.Discount{percent(20, t0.Add(-2*hour), t0.Add(-hour))}, t0, 19900, ""},
		{"percent rounds half up", odd, []*shopclip.Discount{percent(20, t0.Add(-hour), t0.Add(hour))}, t0, 15999, "-20%"},
		{"amount off", usd, []*shopclip.Discount{amount(500, t0.Add(-hour), t0.Add(hour))}, t0, 19400, "-5.00 USD"},
		{"amount in a zero-digit currency", jpy, []*shopclip.Discount{amount(300, t0.Add(-hour), t0.Add(hour))}, t0, 1200, "-300 JPY"},
		{"best of two active discounts", usd, []*shopclip.Discount{
			percent(10, t0.Add(-hour), t0.Add(hour)),
			amount(5000, t0.Add(-hour), t0.Add(hour)),
			percent(20, t0.Add(-hour), t0.Add(hour)),
		}, t0, 14900, "-50.00 USD"},
		{"an expired better discount is ignored", usd, []*shopclip.Discount{
			percent(50, t0.Add(-1000*hour), t0.Add(-900*hour)), // before the honesty window, so the label stays
			percent(10, t0.Add(-hour), t0.Add(hour)),
		}, t0, 17910, "-10%"},
		{"amount above a since-lowered price is ignored", cheap, []*shopclip.Discount{amount(500, t0.Add(-hour), t0.Add(hour))}, t0, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tagging.PriceAt(tt.product, tt.discounts, nil, tt.now)
			if got.SalePriceMinor != tt.wantSale || got.Label != tt.wantLabel {
				t.Errorf("PriceAt = sale %d label %q, want sale %d label %q", got.SalePriceMinor, got.Label, tt.wantSale, tt.wantLabel)
			}
			if got.PriceMinor != tt.product.PriceMinor {
				t.Errorf("PriceMinor = %d, want %d", got.PriceMinor, tt.product.PriceMinor)
			}
			if (got.Discount != nil) != (tt.wantLabel != "") {
				t.Errorf("Discount = %v, want one iff a label", got.Discount)
			}
		})
	}
}

// TestPriceHonesty: a sale is labelled, with a "was" price, only as the
// reduction against the lowest price of the 30 days before it started.
func TestPriceHonesty(t *testing.T) {
	day := 24 * time.Hour
	usd := func(minor int64) *shopclip.Product { return &shopclip.Product{Currency: "USD", PriceMinor: minor} }
	point := func(minor int64, currency string, at time.Time) shopclip.PricePoint {
		return shopclip.PricePoint{PriceMinor: minor, Currency: currency, StartsAt: at}
	}
	sale := percent(20, t0.Add(-time.Hour), t0.Add(day))
	sale.ID = "dsc_sale"
	earlier := percent(10, t0.Add(-10*day), t0.Add(-5*day))
	earlier.ID = "dsc_earlier"
	old := percent(50, t0.Add(-60*day), t0.Add(-40*day))
	old.ID = "dsc_old"
	flat := amount(3000, t0.Add(-time.Hour), t0.Add(day))
	flat.ID = "dsc_flat"
	// Created now with a start 41 days back: backdated.
	backdated := percent(50, t0.Add(-41*day), t0.Add(day))
	backdated.ID, backdated.CreatedAt = "dsc_backdated", t0
	// Running for 60 days, made when it started.
	long := percent(50, t0.Add(-60*day), t0.Add(30*day))
	long.ID, long.CreatedAt = "dsc_long", t0.Add(-60*day)
	long20 := percent(20, t0.Add(-60*day), t0.Add(30*day))
	long20.ID, long20.CreatedAt = "dsc_long20", t0.Add(-60*day)
	tests := []struct {
		name      string
		product   *shopclip.Product
		discounts []*shopclip.Discount
		history   []shopclip.PricePoint
		wantSale  int64
		wantWas   int64
		wantLabel string
	}{
		{"steady price", usd(19900), []*shopclip.Discount{sale},
			[]shopclip.PricePoint{point(19900, "USD", t0.Add(-90*day))}, 15920, 19900, "-20%"},
		{"a new product's first price is its reference", usd(19900), []*shopclip.Discount{sale},
			[]shopclip.PricePoint{point(19900, "USD", t0)}, 15920, 19900, "-20%"},
		{"price raised just before the sale: no label", usd(19900), []*shopclip.Discount{sale},
			[]shopclip.PricePoint{point(15000, "USD", t0.Add(-40*day)), point(19900, "USD", t0.Add(-2*day))}, 15920, 0, ""},
		{"raised more than 30 days before: honest", usd(19900), []*shopclip.Discount{sale},
			[]shopclip.PricePoint{point(15000, "USD", t0.Add(-80*day)), point(19900, "USD", t0.Add(-31*day))}, 15920, 19900, "-20%"},
		{"an earlier sale in the window lowers the reference", usd(19900), []*shopclip.Discount{earlier, sale},
			[]shopclip.PricePoint{point(19900, "USD", t0.Add(-90*day))}, 15920, 17910, "-11%"},
		{"a sale older than the window does not", usd(19900), []*shopclip.Discount{old, sale},
			[]shopclip.PricePoint{point(19900, "USD", t0.Add(-90*day))}, 15920, 19900, "-20%"},
		{"a price cut in the window that the sale does not beat", usd(19900), []*shopclip.Discount{sale},
			[]shopclip.PricePoint{point(19900, "USD", t0.Add(-90*day)), point(12000, "USD", t0.Add(-20*day)), point(19900, "USD", t0.Add(-3*day))}, 15920, 0, ""},
		{"prices in another currency are not compared", usd(19900), []*shopclip.Discount{sale},
			[]shopclip.PricePoint{point(100, "EUR", t0.Add(-60*day)), point(19900, "USD", t0.Add(-10*day))}, 15920, 19900, "-20%"},
		{"an amount is stated against the reference", usd(19900), []*shopclip.Discount{earlier, flat},
			[]shopclip.PricePoint{point(19900, "USD", t0.Add(-90*day))}, 16900, 17910, "-10.10 USD"},
		{"no history: the current price", usd(19900), []*shopclip.Discount{sale}, nil, 15920, 19900, "-20%"},
		{"a backdated start does not reach past the price raised now", usd(20000), []*shopclip.Discount{backdated},
			[]shopclip.PricePoint{point(20000, "USD", t0.Add(-90*day)), point(10000, "USD", t0.Add(-40*day)), point(20000, "USD", t0)}, 10000, 0, ""},
		{"a backdated start counts from its creation", usd(20000), []*shopclip.Discount{backdated},
			[]shopclip.PricePoint{point(20000, "USD", t0.Add(-90*day))}, 10000, 20000, "-50%"},
		{"a long sale keeps its label", usd(19900), []*shopclip.Discount{long20},
			[]shopclip.PricePoint{point(19900, "USD", t0.Add(-90*day))}, 15920, 19900, "-20%"},
		{"a list price raised during a long sale: no label", usd(30000), []*shopclip.Discount{long},
			[]shopclip.PricePoint{point(20000, "USD", t0.Add(-90*day)), point(30000, "USD", t0.Add(-10*day))}, 15000, 0, ""},
		{"a list price cut during a long sale: against the sale price", usd(18000), []*shopclip.Discount{long},
			[]shopclip.PricePoint{point(20000, "USD", t0.Add(-90*day)), point(18000, "USD", t0.Add(-10*day))}, 9000, 10000, "-10%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tagging.PriceAt(tt.product, tt.discounts, tt.history, t0)
			if got.SalePriceMinor != tt.wantSale || got.WasPriceMinor != tt.wantWas || got.Label != tt.wantLabel {
				t.Errorf("PriceAt = sale %d was %d label %q, want sale %d was %d label %q",
					got.SalePriceMinor, got.WasPriceMinor, got.Label, tt.wantSale, tt.wantWas, tt.wantLabel)
			}
		})
	}
}

func TestFormatMoney(t *testing.T) {
	tests := []struct {
		minor    int64
		currency string
		want     string
	}{
		{15920, "USD", "159.20 USD"},
		{5, "EUR", "0.05 EUR"},
		{1500, "JPY", "1500 JPY"},
		{1234, "KWD", "1.234 KWD"},
		{-250, "USD", "-2.50 USD"},
	}
	for _, tt := range tests {
		if got := tagging.FormatMoney(tt.minor, tt.currency); got != tt.want {
			t.Errorf("FormatMoney(%d, %s) = %q, want %q", tt.minor, tt.currency, got, tt.want)
		}
	}
}

func TestPopupsOnlyActiveTags(t *testing.T) {
	p := &shopclip.Product{ID: "prd_1", Title: "Sneaker 运动鞋", Currency: "USD", PriceMinor: 19900, InStock: true}
	tags := []*shopclip.Tag{
		{ID: "tag_a", ProductID: "prd_1", StartMS: 3000, EndMS: 6000, X: 0.5, Y: 0.8, Status: shopclip.TagActive},
		{ID: "tag_p", ProductID: "prd_1", StartMS: 0, EndMS: 1000, Status: shopclip.TagPending},
		{ID: "tag_r", ProductID: "prd_1", StartMS: 0, EndMS: 1000, Status: shopclip.TagRejected},
		{ID: "tag_m", ProductID: "prd_missing", StartMS: 0, EndMS: 1000, Status: shopclip.TagActive},
	}
	cat := tagging.Catalog{
		Products:  map[string]*shopclip.Product{"prd_1": p},
		Discounts: map[string][]*shopclip.Discount{"prd_1": {percent(20, t0.Add(-time.Hour), t0.Add(time.Hour))}},
	}
	got := tagging.Popups(tags, cat, t0, func(t *shopclip.Tag) string { return "/buy/" + t.ID })
	if len(got) != 1 {
		t.Fatalf("got %d pop-ups, want 1: %+v", len(got), got)
	}
	pp := got[0]
	if pp.TagID != "tag_a" || pp.Product.SalePriceMinor != 15920 || pp.Label != "-20%" || pp.BuyURL != "/buy/tag_a" || pp.Product.Title != p.Title {
		t.Errorf("pop-up = %+v", pp)
	}
}

func TestTimelineWebVTT(t *testing.T) {
	tl := &tagging.Timeline{ClipID: "clp_x", Popups: []shopclip.Popup{{
		TagID: "tag_a", StartMS: 3000, EndMS: 3_725_250,
		Product: shopclip.PopupProduct{Title: "evil --> title\n\nWEBVTT <b>"},
	}}}
	b, err := tl.WebVTT()
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasPrefix(s, "WEBVTT\n\n") {
		t.Errorf("missing header: %q", s)
	}
	if !strings.Contains(s, "00:00:03.000 --> 01:02:05.250\n") {
		t.Errorf("missing cue timing: %q", s)
	}
	if strings.Count(s, "-->") != 1 {
		t.Errorf("payload leaked a cue arrow: %q", s)
	}
	if strings.Count(s, "\n\n") != 2 {
		t.Errorf("payload broke the cue structure: %q", s)
	}
}

// TestPopupUrgencyOnlyWhenHonest: a sale without an honest label shows its
// price and coupon but no countdown and no flash badge.
func TestPopupUrgencyOnlyWhenHonest(t *testing.T) {
	day := 24 * time.Hour
	flash := percent(20, t0.Add(-time.Hour), t0.Add(time.Hour))
	flash.Flash, flash.CouponCode = true, "FLASH20"
	p := &shopclip.Product{ID: "prd_1", Currency: "USD", PriceMinor: 19900}
	tags := []*shopclip.Tag{{ID: "tag_a", ProductID: "prd_1", Status: shopclip.TagActive}}
	tests := []struct {
		name      string
		history   []shopclip.PricePoint
		wantLabel string
		wantFlash bool
		wantEnds  bool
	}{
		{"honest", []shopclip.PricePoint{{PriceMinor: 19900, Currency: "USD", StartsAt: t0.Add(-90 * day)}}, "-20%", true, true},
		{"raised before the sale", []shopclip.PricePoint{
			{PriceMinor: 15000, Currency: "USD", StartsAt: t0.Add(-40 * day)},
			{PriceMinor: 19900, Currency: "USD", StartsAt: t0.Add(-2 * day)},
		}, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := tagging.Catalog{
				Products:  map[string]*shopclip.Product{"prd_1": p},
				Discounts: map[string][]*shopclip.Discount{"prd_1": {flash}},
				History:   map[string][]shopclip.PricePoint{"prd_1": tt.history},
			}
			got := tagging.Popups(tags, cat, t0, func(*shopclip.Tag) string { return "" })[0]
			if got.Label != tt.wantLabel || got.Flash != tt.wantFlash || (got.SaleEndsAt != nil) != tt.wantEnds {
				t.Errorf("pop-up label %q flash %v ends %v, want label %q flash %v ends set %v",
					got.Label, got.Flash, got.SaleEndsAt, tt.wantLabel, tt.wantFlash, tt.wantEnds)
			}
			// The sale price applies either way, and so does its coupon.
			if got.Product.SalePriceMinor != 15920 || got.CouponCode != "FLASH20" {
				t.Errorf("pop-up sale %d coupon %q, want 15920 FLASH20", got.Product.SalePriceMinor, got.CouponCode)
			}
		})
	}
}

// historyStore serves one product with a long price history, counting the
// history points it hands out.
type historyStore struct {
	shopclip.Store // unused methods panic
	product        *shopclip.Product
	discounts      []*shopclip.Discount
	history        []shopclip.PricePoint
	loaded         int
}

func (s *historyStore) ClipTags(context.Context, string, shopclip.TagQuery) ([]*shopclip.Tag, error) {
	return []*shopclip.Tag{{ID: "tag_a", ClipID: "clp_x", ProductID: s.product.ID, Status: shopclip.TagActive}}, nil
}

func (s *historyStore) Product(context.Context, string) (*shopclip.Product, error) {
	return s.product, nil
}

func (s *historyStore) ProductDiscounts(context.Context, string) ([]*shopclip.Discount, error) {
	return s.discounts, nil
}

// ProductPriceHistory follows the store contract: the last point at or
// before since and those after.
func (s *historyStore) ProductPriceHistory(_ context.Context, _ string, since time.Time) ([]shopclip.PricePoint, error) {
	first := 0
	for i, h := range s.history {
		if !h.StartsAt.After(since) {
			first = i
		}
	}
	out := s.history[first:]
	s.loaded += len(out)
	return out, nil
}

// TestBuildTimelineLoadsBoundedHistory: a product with many discounts and
// thousands of price changes is priced from the last HonestyWindow of its
// history only, with the price the whole history gives.
func TestBuildTimelineLoadsBoundedHistory(t *testing.T) {
	day := 24 * time.Hour
	st := &historyStore{product: &shopclip.Product{ID: "prd_1", Currency: "USD", PriceMinor: 20000}}
	// 5000 hourly price changes, the last two days ago at the current price.
	last := t0.Add(-2 * day)
	for i := range 5000 {
		st.history = append(st.history, shopclip.PricePoint{PriceMinor: 20000 + int64(i%7)*100, Currency: "USD",
			StartsAt: last.Add(-time.Duration(4999-i) * time.Hour)})
	}
	st.history[4999].PriceMinor = 20000
	for i := range shopclip.MaxOpenDiscounts {
		d := percent(1+i%30, t0.Add(-time.Duration(300-i)*day), t0.Add(time.Duration(i+1)*day))
		d.ID, d.CreatedAt = fmt.Sprintf("dsc_%03d", i), d.StartsAt
		st.discounts = append(st.discounts, d)
	}
	tl, err := tagging.BuildTimeline(t.Context(), st, &shopclip.Clip{ID: "clp_x"}, t0, func(*shopclip.Tag) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	// The point in force at the anchor (the last change) less 30 days, the
	// hourly points of those 30 days, and the last point loaded once more to
	// find the anchor.
	if want := int(shopclip.HonestyWindow/time.Hour) + 2; st.loaded > want {
		t.Errorf("loaded %d price points, want at most %d", st.loaded, want)
	}
	want := tagging.PriceAt(st.product, st.discounts, st.history, t0)
	got := tl.Popups[0]
	if got.Product.SalePriceMinor != want.SalePriceMinor || got.Product.WasPriceMinor != want.WasPriceMinor || got.Label != want.Label {
		t.Errorf("pop-up sale %d was %d label %q, want %+v (from the whole history)",
			got.Product.SalePriceMinor, got.Product.WasPriceMinor, got.Label, want)
	}
}
