package productimage

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/shopclip/shopclip"
)

var (
	red    = color.NRGBA{255, 0, 0, 255}
	green  = color.NRGBA{0, 255, 0, 255}
	blue   = color.NRGBA{0, 0, 255, 255}
	yellow = color.NRGBA{255, 255, 0, 255}
	whiteC = color.NRGBA{255, 255, 255, 255}
)

// stripes returns a w×h picture of vertical stripes of equal width, one per
// color.
func stripes(w, h int, cols ...color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, cols[x*len(cols)/w])
		}
	}
	return img
}

// quadrants returns an n×n picture: red, green on top; blue, yellow below.
func quadrants(n int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	cols := [2][2]color.NRGBA{{red, green}, {blue, yellow}}
	for y := range n {
		for x := range n {
			img.SetNRGBA(x, y, cols[y*2/n][x*2/n])
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeGIF(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// normalize runs Normalize with the defaults and decodes its JPEG.
func normalize(t *testing.T, data []byte) image.Image {
	t.Helper()
	out, err := Normalize(data, Options{})
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if Sniff(out) != JPEG {
		t.Fatalf("Normalize wrote %q, want a JPEG", out[:min(len(out), 8)])
	}
	img, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("decode the result: %v", err)
	}
	return img
}

// near reports whether c is within tol of want on each channel (JPEG is
// lossy).
func near(c color.Color, want color.NRGBA, tol int) bool {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	d := func(a, b uint8) bool { return abs(int(a)-int(b)) <= tol }
	return d(n.R, want.R) && d(n.G, want.G) && d(n.B, want.B) && n.A == 255
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"jpeg", encodeJPEG(t, quadrants(8)), JPEG},
		{"png", encodePNG(t, quadrants(8)), PNG},
		{"gif", encodeGIF(t, quadrants(8)), GIF},
		{"gif87a", []byte("GIF87a\x01\x00\x01\x00"), GIF},
		{"webp lossy", fixture(t, "halves-lossy.webp"), WebP},
		{"webp lossless", fixture(t, "halves-alpha-lossless.webp"), WebP},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), ""},
		{"svg with xml prolog", []byte(`<?xml version="1.0"?><svg/>`), ""},
		{"html", []byte("<!doctype html><img src=x onerror=alert(1)>"), ""},
		{"text", []byte("just some text"), ""},
		{"bmp", []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), ""},
		{"riff that is not webp", []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00"), ""},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff(tt.data); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNormalizeSizes(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		wantSide int
	}{
		{"large landscape png", encodePNG(t, stripes(1200, 800, red)), 512},
		{"large portrait jpeg", encodeJPEG(t, stripes(600, 900, red)), 512},
		{"exact square gif", encodeGIF(t, stripes(512, 512, red)), 512},
		{"small portrait jpeg: never upscaled", encodeJPEG(t, stripes(300, 500, red)), 300},
		{"thin banner png", encodePNG(t, stripes(2000, 100, red)), 100},
		{"tiny png", encodePNG(t, stripes(3, 2, red)), 2},
		{"webp", fixture(t, "halves-lossy.webp"), 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := normalize(t, tt.data)
			if got := img.Bounds(); got != image.Rect(0, 0, tt.wantSide, tt.wantSide) {
				t.Errorf("got bounds %v, want %d×%d", got, tt.wantSide, tt.wantSide)
			}
		})
	}
}

// TestNormalizeCrop checks that the square is the center of the picture,
// with and without scaling.
func TestNormalizeCrop(t *testing.T) {
	tests := []struct {
		name string
		src  image.Image
	}{
		{"landscape, unscaled", stripes(300, 100, red, green, blue)},
		{"landscape, scaled", stripes(1800, 600, red, green, blue)},
		{"portrait, scaled", rotate90(stripes(1800, 600, red, green, blue))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := normalize(t, encodePNG(t, tt.src))
			b := img.Bounds()
			for _, pt := range []image.Point{{1, 1}, {b.Dx() - 2, 1}, {1, b.Dy() - 2}, {b.Dx() - 2, b.Dy() - 2}, {b.Dx() / 2, b.Dy() / 2}} {
				if c := img.At(pt.X, pt.Y); !near(c, green, 24) {
					t.Errorf("pixel %v = %v, want the middle stripe's green", pt, c)
				}
			}
		})
	}
}

// rotate90 turns img a quarter, so stripes become bands.
func rotate90(img *image.NRGBA) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.SetNRGBA(y, x, img.NRGBAAt(x, y))
		}
	}
	return out
}

// withEXIF inserts an APP1 segment with an EXIF orientation tag after the
// JPEG's SOI marker, in the byte order bo.
func withEXIF(jpg []byte, orientation uint16, bo binary.ByteOrder) []byte {
	tiff := make([]byte, 8+2+12+4)
	if bo == binary.LittleEndian {
		copy(tiff, "II")
	} else {
		copy(tiff, "MM")
	}
	bo.PutUint16(tiff[2:], 42)
	bo.PutUint32(tiff[4:], 8) // the first IFD
	bo.PutUint16(tiff[8:], 1) // one entry
	e := tiff[10:]
	bo.PutUint16(e[0:], 0x0112)
	bo.PutUint16(e[2:], 3) // SHORT
	bo.PutUint32(e[4:], 1) // one value
	bo.PutUint16(e[8:], orientation)
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

func TestNormalizeOrientation(t *testing.T) {
	// What is seen at the top left, top right, bottom left and bottom right
	// of the quadrants picture stored with each EXIF orientation.
	tests := []struct {
		orientation uint16
		want        [4]color.NRGBA
	}{
		{1, [4]color.NRGBA{red, green, blue, yellow}},
		{2, [4]color.NRGBA{green, red, yellow, blue}},
		{3, [4]color.NRGBA{yellow, blue, green, red}},
		{4, [4]color.NRGBA{blue, yellow, red, green}},
		{5, [4]color.NRGBA{red, blue, green, yellow}},
		{6, [4]color.NRGBA{blue, red, yellow, green}},
		{7, [4]color.NRGBA{yellow, green, blue, red}},
		{8, [4]color.NRGBA{green, yellow, red, blue}},
		{0, [4]color.NRGBA{red, green, blue, yellow}}, // out of range: as stored
		{9, [4]color.NRGBA{red, green, blue, yellow}},
	}
	src := encodeJPEG(t, quadrants(640))
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, tt := range tests {
			t.Run(bo.String()+" "+string(rune('0'+tt.orientation)), func(t *testing.T) {
				img := normalize(t, withEXIF(src, tt.orientation, bo))
				n := img.Bounds().Dx()
				at := []image.Point{{n / 4, n / 4}, {3 * n / 4, n / 4}, {n / 4, 3 * n / 4}, {3 * n / 4, 3 * n / 4}}
				for i, pt := range at {
					if c := img.At(pt.X, pt.Y); !near(c, tt.want[i], 40) {
						t.Errorf("pixel %v = %v, want %v", pt, c, tt.want[i])
					}
				}
			})
		}
	}
	// Orientation is EXIF's, so JPEG's: a PNG is taken as stored.
	if got := jpegOrientation(encodePNG(t, quadrants(8))); got != 1 {
		t.Errorf("orientation of a PNG: %d", got)
	}
}

func TestNormalizeTransparency(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 600, 600))
	for y := range 600 {
		for x := range 600 {
			switch {
			case x < 200:
				img.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 0}) // transparent (black underneath)
			case x < 400:
				img.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 128}) // half red
			default:
				img.SetNRGBA(x, y, blue)
			}
		}
	}
	pal := image.NewPaletted(image.Rect(0, 0, 40, 40), color.Palette{color.NRGBA{0, 0, 0, 0}, blue})
	for y := range 40 {
		for x := 20; x < 40; x++ {
			pal.SetColorIndex(x, y, 1)
		}
	}
	tests := []struct {
		name       string
		data       []byte
		left, righ color.NRGBA
		mid        *color.NRGBA
	}{
		{"png", encodePNG(t, img), whiteC, blue, &color.NRGBA{255, 127, 127, 255}},
		{"gif with a transparent index", encodeGIF(t, pal), whiteC, blue, nil},
		{"webp with alpha", fixture(t, "halves-alpha-lossless.webp"), red, whiteC, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := normalize(t, tt.data)
			n := out.Bounds().Dx()
			if c := out.At(n/10, n/2); !near(c, tt.left, 24) {
				t.Errorf("left = %v, want %v", c, tt.left)
			}
			if c := out.At(n-n/10, n/2); !near(c, tt.righ, 24) {
				t.Errorf("right = %v, want %v", c, tt.righ)
			}
			if tt.mid != nil {
				if c := out.At(n/2, n/2); !near(c, *tt.mid, 24) {
					t.Errorf("middle = %v, want %v", c, *tt.mid)
				}
			}
		})
	}
}

func TestNormalizeWebP(t *testing.T) {
	out := normalize(t, fixture(t, "halves-lossy.webp"))
	// 96×64 cropped to its middle 64×64: red on the left, blue on the right.
	if c := out.At(8, 32); !near(c, red, 40) {
		t.Errorf("left = %v, want red", c)
	}
	if c := out.At(56, 32); !near(c, blue, 40) {
		t.Errorf("right = %v, want blue", c)
	}
}

// pngHeader is a PNG signature and IHDR chunk declaring a w×h 8-bit RGBA
// picture, with no picture data: what a decompression bomb starts with.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8 bits, RGBA
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(ihdr)))
	chunk = append(chunk, "IHDR"...)
	chunk = append(chunk, ihdr...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	return append([]byte("\x89PNG\r\n\x1a\n"), chunk...)
}

// jpegDeclaring returns a real JPEG whose frame header is patched to
// declare w×h.
func jpegDeclaring(t *testing.T, w, h uint16) []byte {
	b := encodeJPEG(t, quadrants(16))
	i := bytes.Index(b, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0 in the encoded JPEG")
	}
	binary.BigEndian.PutUint16(b[i+5:], h)
	binary.BigEndian.PutUint16(b[i+7:], w)
	return b
}

func TestNormalizeRefuses(t *testing.T) {
	gifBomb := encodeGIF(t, quadrants(8))
	binary.LittleEndian.PutUint16(gifBomb[6:], 65535) // the logical screen
	binary.LittleEndian.PutUint16(gifBomb[8:], 65535)
	truncated := encodePNG(t, quadrants(64))
	truncated = truncated[:len(truncated)/2]
	tests := []struct {
		name     string
		data     []byte
		wantCode string
	}{
		{"png bomb 100000×100000", pngHeader(100000, 100000), shopclip.ETOOLARGE},
		{"png just over 40 MP", pngHeader(8000, 5001), shopclip.ETOOLARGE},
		{"jpeg bomb 60000×60000", jpegDeclaring(t, 60000, 60000), shopclip.ETOOLARGE},
		{"gif screen 65535×65535", gifBomb, shopclip.ETOOLARGE},
		{"png 0×0", pngHeader(0, 0), shopclip.EINVALID},
		{"truncated png", truncated, shopclip.EINVALID},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), shopclip.EUNSUPPORTED},
		{"text", []byte("hello"), shopclip.EUNSUPPORTED},
		{"bmp", []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), shopclip.EUNSUPPORTED},
		{"empty", nil, shopclip.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Normalize(tt.data, Options{})
			if got := shopclip.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("got code %q (%v, %d bytes), want %q", got, err, len(out), tt.wantCode)
			}
			if msg := shopclip.ErrorMessage(err); msg == "" {
				t.Errorf("no message")
			}
		})
	}
	// The unsupported-format message names what is accepted.
	_, err := Normalize([]byte("hello"), Options{})
	if msg := shopclip.ErrorMessage(err); !bytes.Contains([]byte(msg), []byte(Accepted)) {
		t.Errorf("message %q does not name %q", msg, Accepted)
	}
	// The bound is the caller's to set.
	if _, err := Normalize(encodePNG(t, stripes(100, 100, red)), Options{MaxPixels: 9999}); shopclip.ErrorCode(err) != shopclip.ETOOLARGE {
		t.Errorf("100×100 with MaxPixels 9999: %v", err)
	}
}

func TestNormalizeOptions(t *testing.T) {
	src := encodePNG(t, stripes(400, 400, red))
	small, err := Normalize(src, Options{Side: 64, Quality: 50})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(small))
	if err != nil || cfg.Width != 64 || cfg.Height != 64 {
		t.Errorf("Side 64: %dx%d, %v", cfg.Width, cfg.Height, err)
	}
	a, _ := Normalize(src, Options{})
	b, _ := Normalize(src, Options{})
	if !bytes.Equal(a, b) {
		t.Errorf("two runs differ: content-addressed keys need the same bytes")
	}
}

// FuzzNormalize feeds Normalize damaged pictures: it must refuse them with
// an application error or return a JPEG of at most DefaultSide a side.
func FuzzNormalize(f *testing.F) {
	f.Add(encodePNG(f, quadrants(16)))
	f.Add(encodeGIF(f, quadrants(16)))
	f.Add(withEXIF(encodeJPEG(f, quadrants(16)), 6, binary.BigEndian))
	f.Add(fixture(f, "halves-lossy.webp"))
	f.Add(fixture(f, "halves-alpha-lossless.webp"))
	f.Add(pngHeader(100000, 100000))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Normalize(data, Options{MaxPixels: 1 << 20})
		if err != nil {
			if shopclip.ErrorCode(err) == shopclip.EINTERNAL {
				t.Fatalf("not an application error: %v", err)
			}
			return
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(out))
		if err != nil || cfg.Width != cfg.Height || cfg.Width > DefaultSide || cfg.Width == 0 {
			t.Fatalf("result %dx%d, %v", cfg.Width, cfg.Height, err)
		}
	})
}

// FuzzJPEGOrientation checks that the EXIF reader never fails on untrusted
// segments and answers 1 to 8.
func FuzzJPEGOrientation(f *testing.F) {
	jpg := encodeJPEG(f, quadrants(8))
	f.Add(jpg)
	f.Add(withEXIF(jpg, 6, binary.LittleEndian))
	f.Add(withEXIF(jpg, 8, binary.BigEndian))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x10Exif\x00\x00MM\x00\x2a\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := jpegOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
