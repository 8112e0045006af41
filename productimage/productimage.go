// Package productimage turns a picture a brand uploads for a product into
// the one shopclip keeps and serves: it recognizes the format by its bytes
// (JPEG, PNG, WebP or GIF, whatever the request said), refuses pictures
// whose declared size would take too much memory to decode before decoding
// them (decompression bombs), crops the picture to a centered square, scales
// it down to at most 512 pixels a side (never up), turns it upright (a
// JPEG's EXIF orientation), lays transparency on white and encodes the
// result as a JPEG. Pop-up cards in players and the share MP4's burned-in
// cards show it.
//
// It is pure Go (image, golang.org/x/image); errors are *shopclip.Error
// with the codes the storefront maps to HTTP statuses.
package productimage

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/shopclip/shopclip"
)

// Defaults of Options.
const (
	DefaultSide      = 512
	DefaultQuality   = 85
	DefaultMaxPixels = 40_000_000
)

// MaxBytes bounds an upload: no product picture needs more.
const MaxBytes = 10 << 20

// Accepted lists the media types Normalize accepts, for messages and
// documentation.
const Accepted = "image/jpeg, image/png, image/webp, image/gif"

// Media types of the accepted formats, as Sniff returns them.
const (
	JPEG = "image/jpeg"
	PNG  = "image/png"
	WebP = "image/webp"
	GIF  = "image/gif"
)

// Options tune Normalize. Zero values mean the defaults.
type Options struct {
	// Side is the largest side of the square result. Default 512.
	Side int
	// Quality is the JPEG quality, 1 to 100. Default 85.
	Quality int
	// MaxPixels bounds the width×height a picture declares; larger ones
	// are refused before they are decoded. Default 40 megapixels.
	MaxPixels int64
}

func (o Options) withDefaults() Options {
	if o.Side <= 0 {
		o.Side = DefaultSide
	}
	if o.Quality <= 0 || o.Quality > 100 {
		o.Quality = DefaultQuality
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	return o
}

// Sniff returns the media type of the accepted format data is in, judged by
// its first bytes, or "" when it is in none of them (SVG, HTML, text and
// other image formats included).
func Sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return JPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return GIF
	case len(data) >= 16 && string(data[:4]) == "RIFF" && string(data[8:15]) == "WEBPVP8":
		return WebP
	}
	return ""
}

// codec is the decoder of one format.
type codec struct {
	name         string
	decodeConfig func([]byte) (image.Config, error)
	decode       func([]byte) (image.Image, error)
}

var codecs = map[string]codec{
	JPEG: {"JPEG", func(b []byte) (image.Config, error) { return jpeg.DecodeConfig(bytes.NewReader(b)) }, func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }},
	PNG:  {"PNG", func(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) }, func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }},
	GIF:  {"GIF", func(b []byte) (image.Config, error) { return gif.DecodeConfig(bytes.NewReader(b)) }, func(b []byte) (image.Image, error) { return gif.Decode(bytes.NewReader(b)) }}, // the first frame
	WebP: {"WebP", func(b []byte) (image.Config, error) { return webp.DecodeConfig(bytes.NewReader(b)) }, func(b []byte) (image.Image, error) { return webp.Decode(bytes.NewReader(b)) }},
}

// Decode decodes data, a picture in one of the accepted formats, after
// checking from its header that it declares at most maxPixels pixels
// (DefaultMaxPixels when maxPixels <= 0). It returns the picture as stored,
// without applying any orientation, and its media type.
func Decode(data []byte, maxPixels int64) (image.Image, string, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if len(data) == 0 {
		return nil, "", shopclip.Errorf(shopclip.EINVALID, "The image is empty.")
	}
	mt := Sniff(data)
	c, ok := codecs[mt]
	if !ok {
		return nil, "", shopclip.Errorf(shopclip.EUNSUPPORTED, "This is not an image in an accepted format: send %s.", Accepted)
	}
	cfg, err := c.decodeConfig(data)
	if err != nil {
		return nil, "", decodeError(c.name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, "", shopclip.Errorf(shopclip.EINVALID, "The %s image is %d×%d pixels: it has no picture.", c.name, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return nil, "", shopclip.Errorf(shopclip.ETOOLARGE, "The %s image is %d×%d pixels (%.1f megapixels); at most %.0f megapixels are accepted.",
			c.name, cfg.Width, cfg.Height, float64(px)/1e6, float64(maxPixels)/1e6)
	}
	img, err := c.decode(data)
	if err != nil {
		return nil, "", decodeError(c.name, err)
	}
	if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) > maxPixels || b.Empty() {
		// The header said otherwise (a GIF frame may differ from its screen).
		return nil, "", shopclip.Errorf(shopclip.EINVALID, "The %s image's picture does not match its header.", c.name)
	}
	return img, mt, nil
}

// decodeError says why a picture of format name could not be read: a
// feature the decoder lacks, or corrupt data.
func decodeError(name string, err error) error {
	var (
		ju jpeg.UnsupportedError
		pu png.UnsupportedError
	)
	if errors.As(err, &ju) || errors.As(err, &pu) {
		return shopclip.Errorf(shopclip.EUNSUPPORTED, "This %s image uses a feature that is not supported (%v): save it again as a plain JPEG or PNG.", name, err)
	}
	return shopclip.Errorf(shopclip.EINVALID, "The %s image could not be read; it may be damaged (%v).", name, err)
}

// Normalize turns data, an uploaded picture, into the product image
// shopclip keeps: a JPEG of the centered square crop, at most opts.Side
// pixels a side (a smaller picture keeps its short side's size), upright,
// transparency laid on white. The errors are *shopclip.Error: EUNSUPPORTED
// when data is not in an accepted format (see Accepted) or uses a feature
// the decoders lack, ETOOLARGE when the picture has more than
// opts.MaxPixels pixels, EINVALID when it is empty or damaged.
//
// Decoding allocates about 4 bytes a pixel of the source, and scaling
// about 32 bytes per pixel of the result's width times the crop's height:
// with the defaults, at most some 260 MB. Callers bound how many run at
// once.
func Normalize(data []byte, opts Options) ([]byte, error) {
	opts = opts.withDefaults()
	src, mt, err := Decode(data, opts.MaxPixels)
	if err != nil {
		return nil, err
	}
	dst := square(src, opts.Side)
	if mt == JPEG {
		dst = orient(dst, jpegOrientation(data))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: opts.Quality}); err != nil {
		return nil, fmt.Errorf("productimage: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// square returns the centered square crop of src, scaled down to at most
// side pixels a side with Catmull-Rom, over opaque white.
func square(src image.Image, side int) *image.RGBA {
	b := src.Bounds()
	s := min(b.Dx(), b.Dy())
	crop := image.Rect(0, 0, s, s).Add(b.Min).Add(image.Pt((b.Dx()-s)/2, (b.Dy()-s)/2))
	n := min(side, s)
	dst := image.NewRGBA(image.Rect(0, 0, n, n))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	if n == s {
		draw.Draw(dst, dst.Bounds(), src, crop.Min, draw.Over)
	} else {
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, crop, draw.Over, nil)
	}
	return dst
}
