package ffmpeg

/*
#include <stdint.h>
#include <string.h>
#include <libavutil/frame.h>

// shopclip_fill_plane copies rows rows of row_bytes bytes each, stride
// bytes apart in src, into plane 0 of f (whose linesize the caller checked).
static void shopclip_fill_plane(AVFrame *f, const uint8_t *src, int stride, int row_bytes, int rows) {
	for (int y = 0; y < rows; y++)
		memcpy(f->data[0] + (ptrdiff_t)y * f->linesize[0], src + (ptrdiff_t)y * stride, row_bytes);
}
*/
import "C"

import (
	"fmt"
	"image"
	"image/draw"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/transcode"
)

// cardFrame returns an RGBA frame (straight alpha, as PNG has it) holding
// img, which must be at most transcode.MaxCardSide pixels each way. The
// caller frees it.
func cardFrame(img image.Image) (*astiav.Frame, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 || w > transcode.MaxCardSide || h > transcode.MaxCardSide {
		return nil, shopclip.Errorf(shopclip.EINVALID, "An overlay image is %d×%d pixels; at most %d×%d are accepted.",
			w, h, transcode.MaxCardSide, transcode.MaxCardSide)
	}
	pic, ok := img.(*image.NRGBA)
	if !ok || pic.Rect.Min != (image.Point{}) {
		pic = image.NewNRGBA(image.Rect(0, 0, w, h))
		draw.Draw(pic, pic.Rect, img, b.Min, draw.Src)
	}
	f := astiav.AllocFrame()
	if f == nil {
		return nil, allocError("card frame")
	}
	f.SetWidth(w)
	f.SetHeight(h)
	f.SetPixelFormat(astiav.PixelFormatRgba)
	f.SetSampleAspectRatio(astiav.NewRational(1, 1))
	if err := f.AllocBuffer(0); err != nil {
		f.Free()
		return nil, fmt.Errorf("ffmpeg: card frame buffer: %w", err)
	}
	if f.Linesize()[0] < 4*w || pic.Stride < 4*w || len(pic.Pix) < (h-1)*pic.Stride+4*w {
		f.Free()
		return nil, fmt.Errorf("ffmpeg: card frame: line sizes %d and %d for %d pixels", f.Linesize()[0], pic.Stride, w)
	}
	C.shopclip_fill_plane(cFrame(f), (*C.uint8_t)(unsafe.Pointer(&pic.Pix[0])), C.int(pic.Stride), C.int(4*w), C.int(h))
	return f, nil
}
