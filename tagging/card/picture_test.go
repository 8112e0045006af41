package card

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/shopclip/shopclip"
)

// solid returns a w×h picture of one color.
func solid(w, h int, c color.Color) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

// product returns a 512×512 stand-in for a product photo: a warm
// gradient with a dark round "product" in the middle.
func product() *image.RGBA {
	const n = 512
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			t := float64(x+y) / (2 * n)
			c := color.RGBA{uint8(250 - 40*t), uint8(214 - 60*t), uint8(170 - 50*t), 255}
			if d := math.Hypot(float64(x-n/2), float64(y-n/2+20)); d < 150 {
				c = color.RGBA{0x2b, 0x4c, 0x7e, 255}
				if d < 60 {
					c = color.RGBA{0xf4, 0xf1, 0xea, 255}
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func mustRenderPic(t testing.TB, p shopclip.Popup, width int, pic image.Image) *image.RGBA {
	t.Helper()
	img, err := RenderWithImage(p, width, pic)
	if err != nil {
		t.Fatalf("RenderWithImage: %v", err)
	}
	return img
}

// near reports whether c is within tol of want on each channel.
func nearRGBA(c, want color.RGBA, tol int) bool {
	d := func(a, b uint8) bool { return math.Abs(float64(a)-float64(b)) <= float64(tol) }
	return d(c.R, want.R) && d(c.G, want.G) && d(c.B, want.B) && d(c.A, want.A)
}

// TestRenderWithoutImage checks that a nil or empty picture gives the card
// Render draws, pixel for pixel.
func TestRenderWithoutImage(t *testing.T) {
	end := shopclip.Popup{}.SaleEndsAt
	variants := map[string]func(p *shopclip.Popup){
		"sale":     func(p *shopclip.Popup) {},
		"sold out": func(p *shopclip.Popup) { p.Product.InStock = false },
		"flash":    func(p *shopclip.Popup) { p.Flash, p.CouponCode, p.SaleEndsAt = true, "RUN", end },
	}
	for name, change := range variants {
		t.Run(name, func(t *testing.T) {
			p := popup()
			change(&p)
			want := mustRender(t, p, testWidth)
			for _, pic := range []image.Image{nil, image.NewRGBA(image.Rectangle{})} {
				if got := mustRenderPic(t, p, testWidth, pic); !bytes.Equal(got.Pix, want.Pix) {
					t.Errorf("picture %v: the card differs from Render's", pic)
				}
			}
		})
	}
}

func TestRenderWithImage(t *testing.T) {
	reg := layoutOf(testWidth)
	green := color.RGBA{0, 200, 0, 255}
	p := popup()
	p.Label = ""
	plain := mustRender(t, p, testWidth)
	got := mustRenderPic(t, p, testWidth, solid(512, 512, green))
	// Only the tile changes.
	outside := 0
	b := got.Bounds()
	tile := reg.tile.Inset(-2)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if !image.Pt(x, y).In(tile) && got.RGBAAt(x, y) != plain.RGBAAt(x, y) {
				outside++
			}
		}
	}
	if outside != 0 {
		t.Errorf("%d pixels changed outside the tile %v", outside, reg.tile)
	}
	// The tile is the picture, corners and all but the very edge.
	inner := reg.tile.Inset(units(tileRadU))
	for _, pt := range []image.Point{inner.Min, {inner.Max.X - 1, inner.Min.Y}, {inner.Min.X, inner.Max.Y - 1}, inner.Max.Sub(image.Pt(1, 1)), center(reg.tile)} {
		if c := got.RGBAAt(pt.X, pt.Y); !nearRGBA(c, green, 2) {
			t.Errorf("tile pixel %v = %v, want the picture's %v", pt, c, green)
		}
	}
	// Its rounded corners are the panel's, not the picture's.
	if c := got.RGBAAt(reg.tile.Min.X, reg.tile.Min.Y); nearRGBA(c, green, 40) {
		t.Errorf("the tile's corner %v is the picture's color: not rounded", c)
	}
}

// units is v hundredths of testWidth, in whole pixels.
func units(v float64) int { return int(v * testWidth / 100) }

func center(r image.Rectangle) image.Point {
	return image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
}

// TestRenderWithImageCrop checks that a picture that is not square is
// cropped to its middle, not squeezed.
func TestRenderWithImageCrop(t *testing.T) {
	reg := layoutOf(testWidth)
	red, green, blue := color.RGBA{220, 0, 0, 255}, color.RGBA{0, 200, 0, 255}, color.RGBA{0, 0, 220, 255}
	stripes := func(w, h int, vertical bool) *image.RGBA {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				i := x * 3 / w
				if !vertical {
					i = y * 3 / h
				}
				img.SetRGBA(x, y, [3]color.RGBA{red, green, blue}[i])
			}
		}
		return img
	}
	p := popup()
	p.Label = ""
	inner := reg.tile.Inset(units(tileRadU) + 2)
	mid := center(inner)
	for name, pic := range map[string]image.Image{
		"landscape": stripes(900, 300, true),
		"portrait":  stripes(300, 900, false),
		"offset":    stripes(900, 300, true).SubImage(image.Rect(0, 0, 900, 300)),
	} {
		t.Run(name, func(t *testing.T) {
			got := mustRenderPic(t, p, testWidth, pic)
			for _, pt := range []image.Point{{inner.Min.X, mid.Y}, {inner.Max.X - 1, mid.Y}, {mid.X, inner.Min.Y}, {mid.X, inner.Max.Y - 1}} {
				if c := got.RGBAAt(pt.X, pt.Y); !nearRGBA(c, green, 6) {
					t.Errorf("tile pixel %v = %v, want the middle stripe's green", pt, c)
				}
			}
		})
	}
}

// TestRenderWithImageOverlays checks that the label, "Sold out" and the
// flash-sale banner are drawn over the picture as over the placeholder.
func TestRenderWithImageOverlays(t *testing.T) {
	reg := layoutOf(testWidth)
	pic := product()
	base := popup()
	base.Label = ""
	a := mustRenderPic(t, base, testWidth, pic)
	tests := []struct {
		name   string
		change func(p *shopclip.Popup)
		region image.Rectangle
	}{
		{"label", func(p *shopclip.Popup) { p.Label = "-20%" }, reg.badge},
		{"sold out", func(p *shopclip.Popup) { p.Product.InStock = false }, reg.tile},
		{"flash", func(p *shopclip.Popup) { p.Flash = true }, image.Rect(reg.tile.Min.X, reg.tile.Max.Y-units(bannerHU), reg.tile.Max.X, reg.tile.Max.Y)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base
			tt.change(&p)
			b := mustRenderPic(t, p, testWidth, pic)
			if n := diff(a, b, tt.region); n < 50 {
				t.Errorf("got %d pixels changed in %v, want at least 50", n, tt.region)
			}
		})
	}
}

// TestRenderWithTransparentImage checks that a picture's transparent parts
// show the placeholder's tint (and no letter).
func TestRenderWithTransparentImage(t *testing.T) {
	reg := layoutOf(testWidth)
	p := popup()
	p.Label = ""
	h := fnv.New32a()
	h.Write([]byte(string(clean(p.Product.Title))))
	tint := tileColors[h.Sum32()%uint32(len(tileColors))][0]
	got := mustRenderPic(t, p, testWidth, image.NewNRGBA(image.Rect(0, 0, 64, 64)))
	inner := reg.tile.Inset(units(tileRadU) + 2)
	for y := inner.Min.Y; y < inner.Max.Y; y++ {
		for x := inner.Min.X; x < inner.Max.X; x++ {
			if c := got.RGBAAt(x, y); c != tint {
				t.Fatalf("tile pixel %d,%d = %v, want the tint %v", x, y, c, tint)
			}
		}
	}
}

func TestRenderWithImageDeterministic(t *testing.T) {
	p := popup()
	p.Flash = true
	a := mustRenderPic(t, p, 432, product())
	b := mustRenderPic(t, p, 432, product())
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Errorf("two renders of the same card and picture differ")
	}
}

// TestExampleImagePNG writes sample cards with a picture as PNG; set
// SHOPCLIP_CARD_DEBUG_DIR to keep them for eyeballing.
func TestExampleImagePNG(t *testing.T) {
	keep := os.Getenv("SHOPCLIP_CARD_DEBUG_DIR")
	if keep == "" {
		keep = t.TempDir()
	} else if err := os.MkdirAll(keep, 0o755); err != nil {
		t.Fatal(err)
	}
	samples := map[string]func(p *shopclip.Popup){
		"image-sale": func(p *shopclip.Popup) {},
		"image-flash-coupon": func(p *shopclip.Popup) {
			p.Product.Title = "Retro runner sneakers, white and green"
			p.Flash, p.CouponCode = true, "RUN3000"
		},
		"image-sold-out": func(p *shopclip.Popup) { p.Product.InStock = false },
	}
	for name, change := range samples {
		p := popup()
		change(&p)
		var buf bytes.Buffer
		if err := EncodePNG(&buf, mustRenderPic(t, p, testWidth, product())); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(keep, name+".png"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
