package card

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"os"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// FontEnv names the environment variable holding the path of a fallback font
// (TTF, OTF or TTC) to try before the system fonts of FallbackPaths.
const FontEnv = "SHOPCLIP_CARD_FONT"

// FallbackPaths are the system fonts tried, in order, for the runes the Go
// fonts lack (CJK above all). Debian's fonts-droid-fallback provides the
// first; scripts/deps.sh installs it.
var FallbackPaths = []string{
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
}

// fontSet is the parsed fonts a card is drawn with. Parsed fonts are safe for
// concurrent use; the faces made from them are not, so each Render makes its
// own.
type fontSet struct {
	regular, bold *opentype.Font
	fallback      *opentype.Font // nil when no fallback font was found
	fallbackPath  string
}

var (
	loadOnce sync.Once
	loaded   *fontSet
	loadErr  error
)

// fonts parses the Go fonts and finds the fallback font, once.
func fonts() (*fontSet, error) {
	loadOnce.Do(func() {
		fs := &fontSet{}
		if fs.regular, loadErr = opentype.Parse(goregular.TTF); loadErr != nil {
			loadErr = fmt.Errorf("card: parse Go Regular: %w", loadErr)
			return
		}
		if fs.bold, loadErr = opentype.Parse(gobold.TTF); loadErr != nil {
			loadErr = fmt.Errorf("card: parse Go Bold: %w", loadErr)
			return
		}
		paths := FallbackPaths
		if p := os.Getenv(FontEnv); p != "" {
			paths = append([]string{p}, paths...)
		}
		for _, p := range paths {
			if f, err := loadFont(p); err == nil {
				fs.fallback, fs.fallbackPath = f, p
				break
			}
		}
		loaded = fs
	})
	return loaded, loadErr
}

// loadFont parses the font file at path; of a collection it takes the first
// font.
func loadFont(path string) (*opentype.Font, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(b, []byte("ttcf")) {
		c, err := opentype.ParseCollection(b)
		if err != nil {
			return nil, err
		}
		return c.Font(0)
	}
	return opentype.Parse(b)
}

// FallbackFont returns the path of the font that draws the runes the Go fonts
// lack, and false when there is none: cards then show those runes (CJK titles,
// for one) as boxes. Callers log a warning on false; it loads the fonts on
// first use, like Render.
func FallbackFont() (path string, ok bool) {
	fs, err := fonts()
	if err != nil || fs.fallback == nil {
		return "", false
	}
	return fs.fallbackPath, true
}

// face draws text in one style: each rune with the main face when it has the
// glyph, else with the fallback face when that has it, else as the main
// face's missing-glyph box.
type face struct {
	main, fallback font.Face // fallback may be nil
	size           float64
}

func (fs *fontSet) face(bold bool, size float64) *face {
	f := fs.regular
	if bold {
		f = fs.bold
	}
	opts := &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone}
	// NewFace fails on nothing but is documented to return an error.
	fc := &face{size: size}
	fc.main, _ = opentype.NewFace(f, opts)
	if fs.fallback != nil {
		fc.fallback, _ = opentype.NewFace(fs.fallback, opts)
	}
	return fc
}

// pick returns the face that draws r.
func (f *face) pick(r rune) font.Face {
	if _, ok := f.main.GlyphAdvance(r); ok || f.fallback == nil {
		return f.main
	}
	if _, ok := f.fallback.GlyphAdvance(r); ok {
		return f.fallback
	}
	return f.main
}

// has reports whether f draws r with a real glyph.
func (f *face) has(r rune) bool {
	_, ok := f.pick(r).GlyphAdvance(r)
	return ok
}

// glyph is a rune placed in a line: kern is the space before it (kerning
// against the previous rune of the same face), adv its advance.
type glyph struct {
	r         rune
	f         font.Face
	kern, adv fixed.Int26_6
}

func (f *face) shape(rs []rune) []glyph {
	gs := make([]glyph, len(rs))
	for i, r := range rs {
		g := glyph{r: r, f: f.pick(r)}
		g.adv, _ = g.f.GlyphAdvance(r)
		if i > 0 && gs[i-1].f == g.f {
			g.kern = g.f.Kern(gs[i-1].r, r)
		}
		gs[i] = g
	}
	return gs
}

// width is the advance of gs drawn as one line.
func width(gs []glyph) fixed.Int26_6 {
	var w fixed.Int26_6
	for i, g := range gs {
		if i > 0 {
			w += g.kern
		}
		w += g.adv
	}
	return w
}

func (f *face) measure(s string) float64 {
	return toFloat(width(f.shape([]rune(s))))
}

// capHeight is the height of capitals above the baseline.
func (f *face) capHeight() float64 {
	if c := toFloat(f.main.Metrics().CapHeight); c > 0 {
		return c
	}
	return 0.7 * f.size
}

// text draws s with its baseline's left end at (x, y), leaving out the glyphs
// that would end past maxX, and returns where the next glyph would go.
func (c *canvas) text(f *face, s string, x, y, maxX float64, col color.Color) float64 {
	return c.glyphs(f.shape([]rune(s)), x, y, maxX, col)
}

func (c *canvas) glyphs(gs []glyph, x, y, maxX float64, col color.Color) float64 {
	src := image.NewUniform(col)
	dot := fixed.Point26_6{X: toFixed(x), Y: toFixed(y)}
	limit := toFixed(maxX)
	for i, g := range gs {
		if i > 0 {
			dot.X += g.kern
		}
		if dot.X+g.adv > limit+fixed.I(1)/4 {
			break
		}
		dr, mask, mp, _, _ := g.f.Glyph(dot, g.r)
		if mask != nil && !dr.Empty() {
			draw.DrawMask(c.dst, dr, src, image.Point{}, mask, mp, draw.Over)
		}
		dot.X += g.adv
	}
	return toFloat(dot.X)
}

func toFixed(v float64) fixed.Int26_6 {
	return fixed.Int26_6(math.Round(v * 64))
}

func toFloat(v fixed.Int26_6) float64 {
	return float64(v) / 64
}
