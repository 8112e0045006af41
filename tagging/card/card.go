// Package card renders a pop-up's product card to an image, in pure Go, for
// the share MP4: the video engine overlays the PNG on the frames with
// FFmpeg's overlay filter, so no user text ever goes into a filter string.
//
// Text is drawn with the embedded Go fonts; the runes they lack (CJK above
// all) come from a system fallback font, see FallbackFont.
package card

import (
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strings"
	"unicode"

	"golang.org/x/image/draw"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/tagging"
)

// Card widths Render accepts; others are clamped to them.
const (
	MinWidth = 160
	MaxWidth = 1200
)

// Colors of the card.
var (
	panelColor  = color.NRGBA{255, 255, 255, 235} // slightly translucent white
	inkColor    = color.RGBA{0x16, 0x18, 0x23, 0xff}
	mutedColor  = color.RGBA{0x8a, 0x8b, 0x91, 0xff}
	saleColor   = color.RGBA{0xfe, 0x2c, 0x55, 0xff}
	flashColor  = color.RGBA{0xff, 0x7a, 0x00, 0xff}
	couponTint  = color.RGBA{0xff, 0xed, 0xf1, 0xff}
	couponInk   = color.RGBA{0xe0, 0x1e, 0x48, 0xff}
	soldOutFill = color.NRGBA{0x16, 0x18, 0x23, 0xe0}
	soldOutDim  = color.NRGBA{0xff, 0xff, 0xff, 0x80}
	ctaMuted    = color.RGBA{0xe6, 0xe6, 0xe9, 0xff}
	white       = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// tileColors are the placeholder tile's backgrounds and letter colors; the
// title picks one.
var tileColors = [][2]color.RGBA{
	{{0xf1, 0xec, 0xe4, 0xff}, {0x8c, 0x7a, 0x66, 0xff}},
	{{0xe6, 0xed, 0xf6, 0xff}, {0x56, 0x6d, 0x8e, 0xff}},
	{{0xe6, 0xf1, 0xe9, 0xff}, {0x58, 0x80, 0x64, 0xff}},
	{{0xf6, 0xe9, 0xed, 0xff}, {0x97, 0x5c, 0x6d, 0xff}},
	{{0xed, 0xe9, 0xf6, 0xff}, {0x6c, 0x5e, 0x97, 0xff}},
	{{0xf5, 0xef, 0xdd, 0xff}, {0x8a, 0x76, 0x40, 0xff}},
}

// Texts of the card.
const (
	ctaText     = "Tap to shop"
	ctaSoldOut  = "Tap to view"
	soldOutText = "Sold out"
	flashText   = "Flash sale"
	couponText  = "Code: "
)

// Render draws the card of p, width pixels wide (clamped to [MinWidth,
// MaxWidth]) and about 0.42×width high, on a transparent background: a
// rounded, slightly translucent white panel with a placeholder tile (see
// RenderWithImage for the product's picture there) carrying the discount
// label or "Sold out" and a flash-sale banner, the title on up to two lines, the price (struck
// through was-price when p has one), the coupon code and a call to action.
//
// The image is alpha-premultiplied, as image.RGBA is; EncodePNG writes the
// straight alpha FFmpeg's overlay filter expects by default. The same p and
// width give the same pixels (for a given build), so callers may hash them.
// Render is safe for concurrent use; it fails only if the fonts do not load.
func Render(p shopclip.Popup, width int) (*image.RGBA, error) {
	return RenderWithImage(p, width, nil)
}

// RenderWithImage is Render with the product's picture in the tile instead
// of the placeholder letter: pic is cropped to a centered square (any
// aspect ratio is accepted), scaled to the tile and clipped to its rounded
// corners, with the label or "Sold out" pill and the flash-sale banner
// drawn over it, as on the placeholder. Transparent parts of pic show the
// placeholder's tint. With a nil or empty pic the card is the one Render
// draws, pixel for pixel. The same p, width and pic give the same pixels.
func RenderWithImage(p shopclip.Popup, width int, pic image.Image) (*image.RGBA, error) {
	fs, err := fonts()
	if err != nil {
		return nil, err
	}
	if pic != nil && pic.Bounds().Empty() {
		pic = nil
	}
	return renderCard(p, width, fs, pic), nil
}

// EncodePNG writes img to w as PNG.
func EncodePNG(w io.Writer, img image.Image) error {
	return png.Encode(w, img)
}

// layout is the card's geometry, in units of a hundredth of its width.
const (
	padU      = 3.6  // panel padding
	radiusU   = 4.0  // panel corners
	tileU     = 35.4 // tile side; the card is padU+tileU+padU high
	tileRadU  = 2.8
	gutterU   = 3.4 // between tile and text column
	titleU    = 4.9 // title size
	lineU     = 6.3 // title line height
	priceU    = 7.6 // price size
	currencyU = 3.9 // currency code after the price
	wasU      = 3.7 // struck-through price
	pillU     = 3.4 // text in the tile's pills and the coupon chip
	pillHU    = 5.6 // height of the tile's pills
	ctaU      = 3.8 // call-to-action text
	ctaHU     = 7.0 // call-to-action button height
	bannerHU  = 6.6 // flash-sale banner height
	gapU      = 2.0 // between the rows below the title
)

// render draws the card of p without a picture.
func render(p shopclip.Popup, width int, fs *fontSet) *image.RGBA {
	return renderCard(p, width, fs, nil)
}

// renderCard draws the card of p with pic in its tile (nil: the
// placeholder).
func renderCard(p shopclip.Popup, width int, fs *fontSet, pic image.Image) *image.RGBA {
	w := float64(min(max(width, MinWidth), MaxWidth))
	u := w / 100
	h := int(2*padU*u + tileU*u + 0.5)
	c := &canvas{dst: image.NewRGBA(image.Rect(0, 0, int(w), h))}

	c.roundRect(rect{0, 0, w, float64(h)}, radiusU*u, panelColor)

	tile := rect{padU * u, padU * u, tileU * u, tileU * u}
	title := clean(p.Product.Title)
	c.tile(fs, tile, u, title, p, pic)

	col := rect{x: tile.x + tile.w + gutterU*u, y: tile.y, h: tile.h}
	col.w = w - padU*u - col.x

	tf := fs.face(false, titleU*u)
	for i, line := range tf.wrap(title, col.w, 2) {
		c.text(tf, line, col.x, col.y+0.76*tf.size+float64(i)*lineU*u, col.x+col.w, inkColor)
	}

	cta := rect{col.x, col.y + col.h - ctaHU*u, col.w, ctaHU * u}
	c.cta(fs, cta, u, p.Product.InStock)
	priceY := cta.y - gapU*u
	c.price(fs, col.x, priceY, col.w, u, p.Product)
	if p.CouponCode != "" {
		chip := rect{col.x, priceY - priceU*u*0.72 - 0.8*gapU*u - pillHU*u, col.w, pillHU * u}
		c.coupon(fs, chip, u, p.CouponCode)
	}
	return c.dst
}

// tile draws the product's picture, or without one (pic nil) a placeholder:
// a tinted square with the title's first letter; then the label (or "Sold
// out") pill at its top and the flash-sale banner at its bottom.
func (c *canvas) tile(fs *fontSet, r rect, u float64, title []rune, p shopclip.Popup, pic image.Image) {
	hash := fnv.New32a()
	hash.Write([]byte(string(title)))
	colors := tileColors[hash.Sum32()%uint32(len(tileColors))]
	c.roundRect(r, tileRadU*u, colors[0])

	if pic != nil {
		c.picture(r, tileRadU*u, pic)
	} else {
		c.letter(fs, r, u, title, colors[1], p.Flash)
	}

	if !p.Product.InStock {
		c.roundRect(r, tileRadU*u, soldOutDim)
	}
	if p.Flash {
		b := rect{r.x, r.y + r.h - bannerHU*u, r.w, bannerHU * u}
		rad := tileRadU * u
		c.roundRectCorners(b, [4]float64{0, 0, rad, rad}, gradient{b.x, b.x + b.w, flashColor, saleColor})
		f := fs.face(true, pillU*u)
		icon := f.capHeight() * 1.25
		tw := f.measure(flashText)
		x := b.x + (b.w-icon*0.8-0.8*u-tw)/2
		base := b.y + (b.h+f.capHeight())/2
		c.polygon(rect{x, base - icon*0.9, icon * 0.8, icon}, bolt, white)
		c.text(f, flashText, x+icon*0.8+0.8*u, base, b.x+b.w, white)
	}

	switch {
	case !p.Product.InStock:
		c.pill(fs, r, u, soldOutText, soldOutFill)
	case p.Label != "":
		c.pill(fs, r, u, p.Label, saleColor)
	}
}

// letter draws the placeholder's mark in r: the title's first letter or
// digit, centered (raised above the flash-sale banner), when the fonts
// have it.
func (c *canvas) letter(fs *fontSet, r rect, u float64, title []rune, ink color.RGBA, flash bool) {
	lf := fs.face(true, 0.42*r.w)
	for _, ch := range title {
		if !unicode.IsLetter(ch) && !unicode.IsNumber(ch) {
			continue
		}
		ch = unicode.ToUpper(ch)
		if !lf.has(ch) {
			break
		}
		s := string(ch)
		x := r.x + (r.w-lf.measure(s))/2
		y := r.y + (r.h+lf.capHeight())/2
		if flash {
			y -= bannerHU * u / 2
		}
		c.text(lf, s, x, y, r.x+r.w, ink)
		break
	}
}

// picture fills r, with corners of radius rad, with the centered square
// of pic (or the crop of pic with r's aspect ratio), scaled with
// Catmull-Rom.
func (c *canvas) picture(r rect, rad float64, pic image.Image) {
	box := image.Rect(
		int(math.Floor(r.x)), int(math.Floor(r.y)),
		int(math.Ceil(r.x+r.w)), int(math.Ceil(r.y+r.h)),
	).Intersect(c.dst.Bounds())
	if box.Empty() {
		return
	}
	b := pic.Bounds()
	var crop image.Rectangle
	if b.Dx()*box.Dy() > b.Dy()*box.Dx() { // wider than the tile
		w := max(1, b.Dy()*box.Dx()/box.Dy())
		crop = image.Rect(0, 0, w, b.Dy()).Add(image.Pt(b.Min.X+(b.Dx()-w)/2, b.Min.Y))
	} else {
		h := max(1, b.Dx()*box.Dy()/box.Dx())
		crop = image.Rect(0, 0, b.Dx(), h).Add(image.Pt(b.Min.X, b.Min.Y+(b.Dy()-h)/2))
	}
	scaled := image.NewRGBA(box) // in the canvas's coordinates, as fill samples it
	draw.CatmullRom.Scale(scaled, box, pic, crop, draw.Src, nil)
	c.roundRectCorners(r, [4]float64{rad, rad, rad, rad}, scaled)
}

// pill draws text in white on a rounded fill at the top left of tile.
func (c *canvas) pill(fs *fontSet, tile rect, u float64, text string, fill color.Color) {
	f := fs.face(true, pillU*u)
	padX := 1.6 * u
	inset := 1.6 * u
	text = f.fit(string(clean(text)), tile.w-2*inset-2*padX)
	r := rect{tile.x + inset, tile.y + inset, f.measure(text) + 2*padX, pillHU * u}
	c.roundRect(r, r.h/2, fill)
	c.text(f, text, r.x+padX, r.y+(r.h+f.capHeight())/2, r.x+r.w, white)
}

// coupon draws the coupon chip at the left of r, at most r.w wide.
func (c *canvas) coupon(fs *fontSet, r rect, u float64, code string) {
	f := fs.face(true, pillU*u)
	padX := 1.6 * u
	text := f.fit(couponText+string(clean(code)), r.w-2*padX)
	r.w = f.measure(text) + 2*padX
	c.roundRect(r, 1.2*u, couponInk)
	c.roundRect(r.inset(0.25*u, 0.25*u), 0.95*u, couponTint)
	c.text(f, text, r.x+padX, r.y+(r.h+f.capHeight())/2, r.x+r.w, couponInk)
}

// cta draws the call-to-action button filling r.
func (c *canvas) cta(fs *fontSet, r rect, u float64, inStock bool) {
	fill, ink, text := color.Color(saleColor), color.Color(white), ctaText
	if !inStock {
		fill, ink, text = ctaMuted, mutedColor, ctaSoldOut
	}
	c.roundRect(r, r.h/2, fill)
	f := fs.face(true, ctaU*u)
	text = f.fit(text, r.w-2*u)
	chev := f.capHeight() * 0.75
	gap := 1.1 * u
	tw := f.measure(text)
	if tw+gap+chev*0.6 > r.w-2*u {
		chev = 0
	}
	x := r.x + (r.w-tw-gap-chev*0.6)/2
	base := r.y + (r.h+f.capHeight())/2
	x = c.text(f, text, x, base, r.x+r.w, ink)
	if chev > 0 {
		c.polygon(rect{x + gap, base - f.capHeight()/2 - chev/2, chev * 0.6, chev}, chevron, ink)
	}
}

// price draws the price row with its baseline at y: the price paid, large,
// with its currency code, then the struck-through was-price if any. The row
// shrinks to fit maxW; the was-price goes first if that is not enough.
func (c *canvas) price(fs *fontSet, x, y, maxW, u float64, pp shopclip.PopupProduct) {
	paid := pp.SalePriceMinor
	if paid <= 0 {
		paid = pp.PriceMinor
	}
	amount, code := splitMoney(tagging.FormatMoney(paid, pp.Currency))
	was := ""
	if pp.WasPriceMinor > 0 {
		// The currency code shows once, after the price paid.
		was, _ = splitMoney(tagging.FormatMoney(pp.WasPriceMinor, pp.Currency))
	}
	ink := color.Color(inkColor)
	switch {
	case !pp.InStock:
		ink = mutedColor
	case was != "" || paid < pp.PriceMinor:
		ink = saleColor
	}

	type row struct {
		big, small, struck *face
		codeGap, wasGap    float64
	}
	at := func(scale float64) row {
		return row{
			fs.face(true, priceU*u*scale), fs.face(true, currencyU*u*scale), fs.face(false, wasU*u*scale),
			0.25 * currencyU * u * scale, 1.8 * u * scale,
		}
	}
	widthOf := func(r row, was string) float64 {
		w := r.big.measure(amount) + r.codeGap + r.small.measure(code)
		if was != "" {
			w += r.wasGap + r.struck.measure(was)
		}
		return w
	}
	const minScale = 0.72
	r := at(1)
	if full := widthOf(r, was); full > maxW {
		if was != "" && maxW/full < minScale {
			was = ""
		}
		r = at(max(minScale, min(1, maxW/widthOf(r, was))*0.995))
	}

	end := x + maxW
	cx := c.text(r.big, amount, x, y, end, ink)
	if code != "" {
		cx = c.text(r.small, code, cx+r.codeGap, y, end, ink)
	}
	if was != "" && cx+r.wasGap < end {
		wx := cx + r.wasGap
		wend := c.text(r.struck, was, wx, y, end, mutedColor)
		thick := max(1, 0.09*r.struck.size)
		mid := y - r.struck.capHeight()*0.45
		c.roundRect(rect{wx - 0.2*u, mid - thick/2, wend - wx + 0.4*u, thick}, 0, mutedColor)
	}
}

// splitMoney splits "159.20 USD" into the amount and the currency code.
func splitMoney(s string) (amount, code string) {
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		return s[:i], string(clean(s[i+1:]))
	}
	return s, ""
}
