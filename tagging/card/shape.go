package card

import (
	"image"
	"image/color"
	"math"

	"golang.org/x/image/vector"
)

// canvas draws anti-aliased shapes and text on an image.
type canvas struct {
	dst *image.RGBA
	r   vector.Rasterizer
}

// rect is a rectangle in pixels, with fractional edges.
type rect struct{ x, y, w, h float64 }

func (r rect) inset(dx, dy float64) rect {
	return rect{r.x + dx, r.y + dy, r.w - 2*dx, r.h - 2*dy}
}

// pen builds a path relative to the rasterized box.
type pen struct {
	r      *vector.Rasterizer
	ox, oy float64
}

func (p pen) moveTo(x, y float64) { p.r.MoveTo(float32(x-p.ox), float32(y-p.oy)) }
func (p pen) lineTo(x, y float64) { p.r.LineTo(float32(x-p.ox), float32(y-p.oy)) }
func (p pen) cubeTo(x1, y1, x2, y2, x, y float64) {
	p.r.CubeTo(float32(x1-p.ox), float32(y1-p.oy), float32(x2-p.ox), float32(y2-p.oy), float32(x-p.ox), float32(y-p.oy))
}

// fill fills the closed path that draw makes inside box with src, which is
// sampled in canvas coordinates.
func (c *canvas) fill(box rect, src image.Image, draw func(p pen)) {
	b := image.Rect(
		int(math.Floor(box.x)), int(math.Floor(box.y)),
		int(math.Ceil(box.x+box.w)), int(math.Ceil(box.y+box.h)),
	).Intersect(c.dst.Bounds())
	if b.Empty() {
		return
	}
	c.r.Reset(b.Dx(), b.Dy())
	draw(pen{&c.r, float64(b.Min.X), float64(b.Min.Y)})
	c.r.ClosePath()
	c.r.Draw(c.dst, b, src, b.Min)
}

// kappa places the control points of a cubic Bézier that approximates a
// quarter circle.
const kappa = 0.5522847498

// roundRect fills r with corners of radius rad (clamped to half the shorter
// side) with col.
func (c *canvas) roundRect(r rect, rad float64, col color.Color) {
	c.roundRectCorners(r, [4]float64{rad, rad, rad, rad}, image.NewUniform(col))
}

// roundRectCorners fills r with src, with the corner radii top-left,
// top-right, bottom-right and bottom-left.
func (c *canvas) roundRectCorners(r rect, rad [4]float64, src image.Image) {
	if r.w <= 0 || r.h <= 0 {
		return
	}
	for i := range rad {
		rad[i] = max(0, min(rad[i], r.w/2, r.h/2))
	}
	x0, y0, x1, y1 := r.x, r.y, r.x+r.w, r.y+r.h
	c.fill(r, src, func(p pen) {
		tl, tr, br, bl := rad[0], rad[1], rad[2], rad[3]
		p.moveTo(x0+tl, y0)
		p.lineTo(x1-tr, y0)
		p.cubeTo(x1-tr+tr*kappa, y0, x1, y0+tr-tr*kappa, x1, y0+tr)
		p.lineTo(x1, y1-br)
		p.cubeTo(x1, y1-br+br*kappa, x1-br+br*kappa, y1, x1-br, y1)
		p.lineTo(x0+bl, y1)
		p.cubeTo(x0+bl-bl*kappa, y1, x0, y1-bl+bl*kappa, x0, y1-bl)
		p.lineTo(x0, y0+tl)
		p.cubeTo(x0, y0+tl-tl*kappa, x0+tl-tl*kappa, y0, x0+tl, y0)
	})
}

// polygon fills the polygon of pts, given in the unit square, scaled to box.
func (c *canvas) polygon(box rect, pts [][2]float64, col color.Color) {
	c.fill(box, image.NewUniform(col), func(p pen) {
		for i, pt := range pts {
			x, y := box.x+pt[0]*box.w, box.y+pt[1]*box.h
			if i == 0 {
				p.moveTo(x, y)
			} else {
				p.lineTo(x, y)
			}
		}
	})
}

// bolt is a lightning bolt in the unit square, the flash-sale mark.
var bolt = [][2]float64{{0.62, 0}, {0.12, 0.58}, {0.46, 0.58}, {0.36, 1}, {0.88, 0.40}, {0.54, 0.40}}

// chevron is a right-pointing chevron in the unit square.
var chevron = [][2]float64{{0, 0}, {0.45, 0}, {1, 0.5}, {0.45, 1}, {0, 1}, {0.55, 0.5}}

// gradient is a horizontal linear gradient from c0 at x0 to c1 at x1, for
// opaque colors.
type gradient struct {
	x0, x1 float64
	c0, c1 color.RGBA
}

func (g gradient) ColorModel() color.Model { return color.RGBAModel }
func (g gradient) Bounds() image.Rectangle {
	return image.Rect(-1e9, -1e9, 1e9, 1e9)
}

func (g gradient) At(x, _ int) color.Color {
	t := (float64(x) + 0.5 - g.x0) / (g.x1 - g.x0)
	t = max(0, min(1, t))
	mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a) + t*(float64(b)-float64(a)))) }
	return color.RGBA{mix(g.c0.R, g.c1.R), mix(g.c0.G, g.c1.G), mix(g.c0.B, g.c1.B), mix(g.c0.A, g.c1.A)}
}
