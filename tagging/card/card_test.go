package card

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

const testWidth = 600

// popup is an in-stock product on sale at -20% against a was-price.
func popup() shopclip.Popup {
	return shopclip.Popup{
		Product: shopclip.PopupProduct{
			Title:          "Linen shirt, relaxed fit, sand",
			Currency:       "USD",
			PriceMinor:     15920,
			SalePriceMinor: 12736,
			WasPriceMinor:  15920,
			InStock:        true,
		},
		Label: "-20%",
	}
}

func mustRender(t testing.TB, p shopclip.Popup, width int) *image.RGBA {
	t.Helper()
	img, err := Render(p, width)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return img
}

// needFallback returns the fonts, failing under CI=true and skipping
// elsewhere when there is no fallback font.
func needFallback(t *testing.T) *fontSet {
	t.Helper()
	fs, err := fonts()
	if err != nil {
		t.Fatalf("fonts: %v", err)
	}
	if fs.fallback == nil {
		msg := "no fallback font for CJK (install fonts-droid-fallback: scripts/deps.sh, or set " + FontEnv + ")"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return fs
}

// layout returns the card's regions for width.
type regions struct {
	tile, title, badge image.Rectangle
}

func layoutOf(width int) regions {
	u := float64(width) / 100
	pad, tile := int(padU*u), int(tileU*u)
	colX := int((padU + tileU + gutterU) * u)
	return regions{
		tile:  image.Rect(pad, pad, pad+tile, pad+tile),
		title: image.Rect(colX, pad, width-pad, pad+int(2*lineU*u)),
		badge: image.Rect(pad, pad, pad+tile, pad+int((pillHU+2)*u)),
	}
}

// diff counts the pixels of r that differ between a and b.
func diff(a, b *image.RGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.RGBAAt(x, y) != b.RGBAAt(x, y) {
				n++
			}
		}
	}
	return n
}

func TestRenderSize(t *testing.T) {
	tests := []struct {
		name         string
		width, wantW int
	}{
		{"typical", 600, 600},
		{"720p overlay", 432, 432},
		{"too narrow", 10, MinWidth},
		{"negative", -5, MinWidth},
		{"too wide", 5000, MaxWidth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := mustRender(t, popup(), tt.width)
			b := img.Bounds()
			if b.Min != (image.Point{}) || b.Dx() != tt.wantW {
				t.Fatalf("got bounds %v, want %d wide from 0,0", b, tt.wantW)
			}
			if lo, hi := 0.35*float64(tt.wantW), 0.5*float64(tt.wantW); float64(b.Dy()) < lo || float64(b.Dy()) > hi {
				t.Errorf("got height %d, want %.0f..%.0f", b.Dy(), lo, hi)
			}
		})
	}
}

func TestRenderPanel(t *testing.T) {
	img := mustRender(t, popup(), testWidth)
	b := img.Bounds()
	for _, pt := range []image.Point{{0, 0}, {b.Max.X - 1, 0}, {0, b.Max.Y - 1}, {b.Max.X - 1, b.Max.Y - 1}, {1, 1}, {b.Max.X - 2, b.Max.Y - 2}} {
		if a := img.RGBAAt(pt.X, pt.Y).A; a != 0 {
			t.Errorf("corner %v: got alpha %d, want 0 (outside the rounded panel)", pt, a)
		}
	}
	// Inside the corner radius the panel covers everything, translucent
	// white or opaque ink.
	r := radiusU * testWidth / 100
	inner := b.Inset(int(r))
	opaque, total := 0, 0
	for y := inner.Min.Y; y < inner.Max.Y; y++ {
		for x := inner.Min.X; x < inner.Max.X; x++ {
			total++
			if img.RGBAAt(x, y).A >= 200 {
				opaque++
			}
		}
	}
	if opaque != total {
		t.Errorf("got %d of %d panel pixels with alpha >= 200, want all", opaque, total)
	}
	// The edge midpoints are panel too.
	for _, pt := range []image.Point{{b.Max.X / 2, 0}, {0, b.Max.Y / 2}, {b.Max.X - 1, b.Max.Y / 2}, {b.Max.X / 2, b.Max.Y - 1}} {
		if a := img.RGBAAt(pt.X, pt.Y).A; a < 200 {
			t.Errorf("edge %v: got alpha %d, want >= 200", pt, a)
		}
	}
	// The panel is translucent, not opaque: the video shows through a bit.
	margin := image.Pt(10, b.Max.Y/2) // in the padding, left of the tile
	if a := img.RGBAAt(margin.X, margin.Y).A; a == 255 {
		t.Errorf("panel at %v: got alpha 255, want translucent", margin)
	}
}

func TestRenderDraws(t *testing.T) {
	reg := layoutOf(testWidth)
	base := popup()
	tests := []struct {
		name   string
		change func(p *shopclip.Popup)
		region image.Rectangle
	}{
		{"title", func(p *shopclip.Popup) { p.Product.Title = "Wool coat" }, reg.title},
		{"no label", func(p *shopclip.Popup) { p.Label = "" }, reg.badge},
		{"sold out", func(p *shopclip.Popup) { p.Product.InStock = false }, reg.badge},
		{"flash", func(p *shopclip.Popup) { p.Flash = true }, reg.tile},
		{"coupon", func(p *shopclip.Popup) { p.CouponCode = "SUMMER10" }, image.Rect(reg.title.Min.X, reg.title.Max.Y, testWidth, reg.tile.Max.Y)},
		{"price", func(p *shopclip.Popup) { p.Product.SalePriceMinor = 9900 }, image.Rect(reg.title.Min.X, reg.title.Max.Y, testWidth, reg.tile.Max.Y)},
	}
	a := mustRender(t, base, testWidth)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base
			tt.change(&p)
			b := mustRender(t, p, testWidth)
			if n := diff(a, b, tt.region); n < 50 {
				t.Errorf("got %d pixels changed in %v, want at least 50", n, tt.region)
			}
		})
	}
}

func TestSoldOutReplacesLabel(t *testing.T) {
	reg := layoutOf(testWidth)
	p := popup()
	p.Product.InStock = false
	withLabel := mustRender(t, p, testWidth)
	p.Label = ""
	noLabel := mustRender(t, p, testWidth)
	if n := diff(withLabel, noLabel, reg.badge); n != 0 {
		t.Errorf("sold out: got %d pixels changed by the label, want 0 (Sold out shows instead)", n)
	}
}

func TestStrikeThroughOnlyWithWasPrice(t *testing.T) {
	p := popup()
	p.Product.WasPriceMinor = 0
	noWas := mustRender(t, p, testWidth)
	p.Product.WasPriceMinor = 15920
	was := mustRender(t, p, testWidth)
	// The row right of the price paid holds the was-price only when set.
	reg := layoutOf(testWidth)
	row := image.Rect(reg.title.Min.X, reg.title.Max.Y, testWidth, reg.tile.Max.Y)
	if n := diff(noWas, was, row); n < 50 {
		t.Errorf("got %d pixels changed by the was-price, want at least 50", n)
	}
}

func TestCJKGlyph(t *testing.T) {
	fs := needFallback(t)
	f := fs.face(false, 64)
	if _, ok := f.main.GlyphAdvance('夏'); ok {
		t.Fatalf("Go Regular has 夏; this test needs a rune only the fallback has")
	}
	if _, ok := f.fallback.GlyphAdvance('夏'); !ok {
		t.Fatalf("fallback %s lacks 夏", fs.fallbackPath)
	}
	if got := f.pick('夏'); got != f.fallback {
		t.Errorf("pick(夏): got the main face, want the fallback")
	}

	draw := func(f *face) *image.RGBA {
		c := &canvas{dst: image.NewRGBA(image.Rect(0, 0, 96, 96))}
		c.text(f, "夏", 8, 76, 96, color.Black)
		return c.dst
	}
	glyph := draw(f)
	main := fs.face(false, 64)
	main.fallback = nil // the Go font alone draws the missing-glyph box
	notdef := draw(main)
	ink := func(img *image.RGBA) int {
		n := 0
		for i := 3; i < len(img.Pix); i += 4 {
			if img.Pix[i] > 128 {
				n++
			}
		}
		return n
	}
	if n := ink(glyph); n < 200 {
		t.Errorf("夏 with the fallback: got %d inked pixels, want at least 200", n)
	}
	if n := diff(glyph, notdef, glyph.Bounds()); n < 200 {
		t.Errorf("夏 with the fallback vs the missing-glyph box: got %d pixels different, want at least 200", n)
	}
}

func TestCJKTitle(t *testing.T) {
	fs := needFallback(t)
	p := popup()
	p.Product.Title = "夏季连衣裙 限时特惠"
	with := render(p, testWidth, fs)
	without := render(p, testWidth, &fontSet{regular: fs.regular, bold: fs.bold})
	reg := layoutOf(testWidth)
	if n := diff(with, without, reg.title); n < 200 {
		t.Errorf("CJK title with vs without the fallback: got %d pixels different, want at least 200", n)
	}
}

func TestWrap(t *testing.T) {
	fs, err := fonts()
	if err != nil {
		t.Fatal(err)
	}
	f := fs.face(false, 20)
	tests := []struct {
		name  string
		title string
		maxW  float64
		want  []string
	}{
		{"fits", "Linen shirt", 400, []string{"Linen shirt"}},
		{"words", "Linen shirt relaxed fit", 120, []string{"Linen shirt", "relaxed fit"}},
		{"ellipsis", "Linen shirt relaxed fit in sand", 120, []string{"Linen shirt", "relaxed fit…"}},
		{"long word", strings.Repeat("x", 40), 100, []string{strings.Repeat("x", 10), strings.Repeat("x", 8) + "…"}},
		{"spaces", "  Linen \t\n shirt  ", 400, []string{"Linen shirt"}},
		{"empty", " \x00\x01 ", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := f.wrap(clean(tt.title), tt.maxW, 2)
			if !equal(got, tt.want) {
				t.Errorf("wrap(%q): got %q, want %q", tt.title, got, tt.want)
			}
		})
	}
}

func TestWrapCJK(t *testing.T) {
	fs := needFallback(t)
	f := fs.face(false, 20)
	// Five characters a line; breaks fall between characters, never before
	// the closing 。, and the ellipsis takes a character's room.
	got := f.wrap(clean("夏季连衣裙。限时特惠"), 101, 2)
	want := []string{"夏季连衣", "裙。限时…"}
	if !equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Linen shirt", "Linen shirt"},
		{"controls", "Lin\x00en\x1b shirt\u0085", "Linen shirt"},
		{"invalid UTF-8", "Lin\xffen", "Linen"},
		{"replacement kept", "a\uFFFDb", "a\uFFFDb"},
		{"bidi override", "\u202Eabc\u202C", "abc"},
		{"emoji sequence", "👩\u200D💻\uFE0F", "👩💻"},
		{"long", strings.Repeat("a", 2*maxRunes), strings.Repeat("a", maxRunes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(clean(tt.in)); got != tt.want {
				t.Errorf("clean(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRenderDeterministic(t *testing.T) {
	p := popup()
	p.Product.Title = "夏季连衣裙 Linen shirt 👗"
	p.Flash = true
	p.CouponCode = "SUMMER10"
	var pngs [2]bytes.Buffer
	for i := range pngs {
		if err := EncodePNG(&pngs[i], mustRender(t, p, 500)); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(pngs[0].Bytes(), pngs[1].Bytes()) {
		t.Errorf("two renders of the same pop-up differ")
	}
}

func TestRenderHostile(t *testing.T) {
	tests := []struct {
		name string
		p    func(p *shopclip.Popup)
	}{
		{"very long title", func(p *shopclip.Popup) { p.Product.Title = strings.Repeat("Linen shirt ", 40) }},
		{"10k characters", func(p *shopclip.Popup) { p.Product.Title = strings.Repeat("夏a😀", 3400) }},
		{"only control characters", func(p *shopclip.Popup) { p.Product.Title = "\x00\x01\x02\t\n\r\x7f\u0085" }},
		{"invalid UTF-8", func(p *shopclip.Popup) { p.Product.Title = "\xff\xfe\xc3\x28 shirt \xed\xa0\x80" }},
		{"emoji", func(p *shopclip.Popup) { p.Product.Title = "👗✨🔥 Dress 👩‍👩‍👧‍👦🏳️‍🌈" }},
		{"Arabic", func(p *shopclip.Popup) { p.Product.Title = "فستان صيفي بأكمام قصيرة" }},
		{"mixed bidi", func(p *shopclip.Popup) { p.Product.Title = "\u202Eshirt\u202C قميص \u2067abc\u2069" }},
		{"combining marks", func(p *shopclip.Popup) {
			p.Product.Title = "Z\u0351\u0354a\u0352\u0353l\u0366g\u0367o" + strings.Repeat("\u0300", 300)
		}},
		{"empty", func(p *shopclip.Popup) { p.Product.Title = "" }},
		{"one wide word", func(p *shopclip.Popup) { p.Product.Title = strings.Repeat("W", 300) }},
		{"huge amounts", func(p *shopclip.Popup) {
			p.Product.PriceMinor, p.Product.SalePriceMinor, p.Product.WasPriceMinor = 1<<62, 1<<61, 1<<62
		}},
		{"negative amounts", func(p *shopclip.Popup) {
			p.Product.PriceMinor, p.Product.SalePriceMinor, p.Product.WasPriceMinor = -1, -5, -7
		}},
		{"odd currency", func(p *shopclip.Popup) { p.Product.Currency = "\x00ÜBERLONGCURRENCY\u202E" }},
		{"long label and coupon", func(p *shopclip.Popup) {
			p.Label = strings.Repeat("-99.999 KWD ", 20)
			p.CouponCode = strings.Repeat("夏CODE\x00", 100)
			p.Flash = true
		}},
		{"everything sold out", func(p *shopclip.Popup) {
			p.Product.InStock = false
			p.Flash = true
			p.CouponCode = "X"
			end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			p.SaleEndsAt = &end
		}},
	}
	for _, tt := range tests {
		for _, width := range []int{MinWidth, 431, MaxWidth} {
			p := popup()
			tt.p(&p)
			img := mustRender(t, p, width)
			if img.Bounds().Dx() != width {
				t.Errorf("%s at %d: got width %d, want %d", tt.name, width, img.Bounds().Dx(), width)
			}
		}
	}
}

// TestExamplePNG writes sample cards as PNG; set SHOPCLIP_CARD_DEBUG_DIR to
// keep them for eyeballing.
func TestExamplePNG(t *testing.T) {
	dir := t.TempDir()
	keep := os.Getenv("SHOPCLIP_CARD_DEBUG_DIR")
	if keep != "" {
		if err := os.MkdirAll(keep, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	end := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	samples := []struct {
		name string
		p    func(p *shopclip.Popup)
	}{
		{"latin-sale", func(p *shopclip.Popup) {}},
		{"cjk", func(p *shopclip.Popup) {
			p.Product.Title = "夏季连衣裙 限时特惠 法式复古碎花裙女 2026新款收腰显瘦"
			p.Product.Currency, p.Product.PriceMinor, p.Product.SalePriceMinor, p.Product.WasPriceMinor = "CNY", 29900, 19900, 29900
			p.Label = "-33%"
		}},
		{"sold-out", func(p *shopclip.Popup) {
			p.Product.InStock = false
			p.Product.Title = "Wool coat"
		}},
		{"flash-coupon", func(p *shopclip.Popup) {
			p.Product.Title = "Retro runner sneakers, white and green"
			p.Product.Currency, p.Product.PriceMinor, p.Product.SalePriceMinor, p.Product.WasPriceMinor = "JPY", 12800, 9800, 12800
			p.Label, p.Flash, p.CouponCode, p.SaleEndsAt = "-3000 JPY", true, "RUN3000", &end
		}},
		{"plain", func(p *shopclip.Popup) {
			p.Product.Title = "Ceramic mug"
			p.Product.SalePriceMinor, p.Product.PriceMinor, p.Product.WasPriceMinor, p.Label = 2400, 2400, 0, ""
		}},
	}
	for _, s := range samples {
		p := popup()
		s.p(&p)
		var buf bytes.Buffer
		if err := EncodePNG(&buf, mustRender(t, p, testWidth)); err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatalf("%s: the PNG does not decode: %v", s.name, err)
		}
		for _, d := range []string{dir, keep} {
			if d == "" {
				continue
			}
			if err := os.WriteFile(filepath.Join(d, s.name+".png"), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestRenderConcurrent(t *testing.T) {
	p := popup()
	p.Product.Title = "夏季连衣裙 Linen shirt"
	want := mustRender(t, p, 432)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got := mustRender(t, p, 432)
			if !bytes.Equal(got.Pix, want.Pix) {
				t.Errorf("a concurrent render differs")
			}
		})
	}
	wg.Wait()
}

func BenchmarkRender(b *testing.B) {
	p := popup()
	p.Flash, p.CouponCode = true, "SUMMER10"
	for b.Loop() {
		if _, err := Render(p, 720); err != nil {
			b.Fatal(err)
		}
	}
}
