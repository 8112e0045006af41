package tagging_test

import (
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
			percent(50, t0.Add(-2*hour), t0.Add(-hour)),
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
