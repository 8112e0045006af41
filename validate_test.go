package shopclip_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

func TestProductValidate(t *testing.T) {
	valid := func() *shopclip.Product {
		return &shopclip.Product{SKU: "SKU-1", Title: "Sneaker 运动鞋", Currency: "USD", PriceMinor: 19900, URL: "https://shop.example.com/p/1"}
	}
	tests := []struct {
		name   string
		mutate func(p *shopclip.Product)
		want   string // substring of the message; "" means valid
	}{
		{"valid", func(p *shopclip.Product) {}, ""},
		{"valid with image", func(p *shopclip.Product) { p.ImageURL = "http://cdn.example.com/i.jpg" }, ""},
		{"no sku", func(p *shopclip.Product) { p.SKU = "" }, "sku is required"},
		{"blank title", func(p *shopclip.Product) { p.Title = "  " }, "title is required"},
		{"control chars", func(p *shopclip.Product) { p.Title = "a\nb" }, "printable"},
		{"bad utf8", func(p *shopclip.Product) { p.Title = "\xff" }, "printable"},
		{"unknown currency", func(p *shopclip.Product) { p.Currency = "XYZ" }, "ISO-4217"},
		{"lower-case currency", func(p *shopclip.Product) { p.Currency = "usd" }, "ISO-4217"},
		{"negative price", func(p *shopclip.Product) { p.PriceMinor = -1 }, "positive"},
		{"zero price", func(p *shopclip.Product) { p.PriceMinor = 0 }, "positive"},
		{"javascript url", func(p *shopclip.Product) { p.URL = "javascript:alert(1)" }, "http"},
		{"relative url", func(p *shopclip.Product) { p.URL = "/p/1" }, "http"},
		{"data image", func(p *shopclip.Product) { p.ImageURL = "data:image/png;base64,AAAA" }, "image_url"},
		{"credentials in url", func(p *shopclip.Product) { p.URL = "https://user:pw@shop.example.com/" }, "http"},
		{"long title", func(p *shopclip.Product) { p.Title = strings.Repeat("x", 501) }, "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.mutate(p)
			err := p.Validate()
			checkValidation(t, err, tt.want)
		})
	}
}

func TestDiscountValidate(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	p := &shopclip.Product{Currency: "USD", PriceMinor: 1000}
	valid := func() *shopclip.Discount {
		return &shopclip.Discount{Kind: shopclip.DiscountPercent, PercentOff: 20, StartsAt: now, EndsAt: now.Add(time.Hour)}
	}
	tests := []struct {
		name   string
		mutate func(d *shopclip.Discount)
		want   string
	}{
		{"valid percent", func(d *shopclip.Discount) {}, ""},
		{"valid amount", func(d *shopclip.Discount) { d.Kind, d.PercentOff, d.AmountOffMinor = shopclip.DiscountAmount, 0, 999 }, ""},
		{"valid coupon", func(d *shopclip.Discount) { d.CouponCode = "BLACK-FRIDAY_26" }, ""},
		{"started in the past", func(d *shopclip.Discount) { d.StartsAt = now.Add(-24 * time.Hour) }, ""},
		{"zero percent", func(d *shopclip.Discount) { d.PercentOff = 0 }, "between 1 and 99"},
		{"100 percent", func(d *shopclip.Discount) { d.PercentOff = 100 }, "between 1 and 99"},
		{"amount equal to price", func(d *shopclip.Discount) { d.Kind, d.PercentOff, d.AmountOffMinor = shopclip.DiscountAmount, 0, 1000 }, "less than the price"},
		{"negative amount", func(d *shopclip.Discount) { d.Kind, d.PercentOff, d.AmountOffMinor = shopclip.DiscountAmount, 0, -5 }, "positive"},
		{"both set", func(d *shopclip.Discount) { d.AmountOffMinor = 5 }, "must not be set"},
		{"unknown kind", func(d *shopclip.Discount) { d.Kind = "bogo" }, "kind must be"},
		{"ends before it starts", func(d *shopclip.Discount) { d.EndsAt = now.Add(-time.Minute) }, "must be after"},
		{"already over", func(d *shopclip.Discount) { d.StartsAt, d.EndsAt = now.Add(-2*time.Hour), now.Add(-time.Hour) }, "in the past"},
		{"no window", func(d *shopclip.Discount) { d.StartsAt = time.Time{} }, "required"},
		{"coupon with spaces", func(d *shopclip.Discount) { d.CouponCode = "a b" }, "coupon_code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid()
			tt.mutate(d)
			checkValidation(t, d.Validate(p, now), tt.want)
		})
	}
}

func TestTagValidate(t *testing.T) {
	clip := &shopclip.Clip{DurationMS: 10_000}
	tests := []struct {
		name string
		tag  shopclip.Tag
		want string
	}{
		{"valid", shopclip.Tag{StartMS: 3000, EndMS: 6000, X: 0.5, Y: 0.5}, ""},
		{"whole clip at the corners", shopclip.Tag{StartMS: 0, EndMS: 10_000, X: 0, Y: 1}, ""},
		{"negative start", shopclip.Tag{StartMS: -1, EndMS: 6000}, "0 or more"},
		{"end before start", shopclip.Tag{StartMS: 5000, EndMS: 4000}, "after start_ms"},
		{"too short", shopclip.Tag{StartMS: 5000, EndMS: 5050}, "at least"},
		{"past the end", shopclip.Tag{StartMS: 5000, EndMS: 10_001}, "past the end"},
		{"x out of range", shopclip.Tag{StartMS: 0, EndMS: 1000, X: 1.5}, "between 0 and 1"},
		{"y negative", shopclip.Tag{StartMS: 0, EndMS: 1000, Y: -0.1}, "between 0 and 1"},
		{"NaN", shopclip.Tag{StartMS: 0, EndMS: 1000, X: math.NaN()}, "between 0 and 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValidation(t, tt.tag.Validate(clip), tt.want)
		})
	}
}

func checkValidation(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	if code := shopclip.ErrorCode(err); code != shopclip.EINVALID {
		t.Errorf("code = %q, want %q", code, shopclip.EINVALID)
	}
	if msg := shopclip.ErrorMessage(err); !strings.Contains(msg, want) {
		t.Errorf("message = %q, want it to contain %q", msg, want)
	}
}

func TestIDs(t *testing.T) {
	id := shopclip.NewID(shopclip.PrefixClip)
	if !shopclip.ValidID(shopclip.PrefixClip, id) {
		t.Errorf("ValidID(%q) = false", id)
	}
	if id == shopclip.NewID(shopclip.PrefixClip) {
		t.Errorf("two IDs are equal")
	}
	for _, bad := range []string{"", "clp_", "prd_" + id[4:], id + "a", "clp_../../../etc/passwd/aaaaa", strings.ToUpper(id)} {
		if shopclip.ValidID(shopclip.PrefixClip, bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestAPIKey(t *testing.T) {
	key, hash := shopclip.NewAPIKey()
	if !shopclip.LooksLikeAPIKey(key) {
		t.Errorf("LooksLikeAPIKey(%q) = false", key)
	}
	if shopclip.HashAPIKey(key) != hash || len(hash) != 64 {
		t.Errorf("hash mismatch: %q", hash)
	}
	key2, hash2 := shopclip.NewAPIKey()
	if key2 == key || hash2 == hash {
		t.Errorf("two keys are equal")
	}
	for _, bad := range []string{"", "sc_", key[:len(key)-1], "Bearer " + key, strings.ToUpper(key)} {
		if shopclip.LooksLikeAPIKey(bad) {
			t.Errorf("LooksLikeAPIKey(%q) = true", bad)
		}
	}
}

func TestTitleFromFilename(t *testing.T) {
	tests := []struct{ in, want string }{
		{"clip.mp4", "clip"},
		{"My trip 旅行.MOV", "My trip 旅行"},
		{"a\x00b\u202e.mp4", "ab"},
		{"bad\xffutf8.webm", "badutf8"},
		{strings.Repeat("é", 200) + ".mp4", strings.Repeat("é", 150)},
		{"", ""},
	}
	for _, tt := range tests {
		got := shopclip.TitleFromFilename(tt.in)
		if got != tt.want {
			t.Errorf("TitleFromFilename(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if err := shopclip.ValidateTitle(got); err != nil {
			t.Errorf("TitleFromFilename(%q) = %q, which ValidateTitle refuses: %v", tt.in, got, err)
		}
	}
	for _, bad := range []string{"a\nb", "x\u2028y", "\xff", strings.Repeat("x", 301)} {
		if shopclip.ValidateTitle(bad) == nil {
			t.Errorf("ValidateTitle(%q) accepted", bad)
		}
	}
}
