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
			got := tagging.PriceAt(tt.product, tt.discounts, tt.now)
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
