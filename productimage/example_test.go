package productimage_test

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"log"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/productimage"
)

func ExampleNormalize() {
	// A 1200×800 PNG, as a brand might upload it.
	src := image.NewNRGBA(image.Rect(0, 0, 1200, 800))
	for i := range src.Pix {
		src.Pix[i] = 0xc0
	}
	var upload bytes.Buffer
	png.Encode(&upload, src)

	out, err := productimage.Normalize(upload.Bytes(), productimage.Options{})
	if err != nil {
		log.Fatal(err)
	}
	cfg, _ := jpeg.DecodeConfig(bytes.NewReader(out))
	fmt.Println(productimage.Sniff(out), cfg.Width, "x", cfg.Height)

	// An SVG is not a picture it accepts (it can carry script).
	_, err = productimage.Normalize([]byte("<svg/>"), productimage.Options{})
	fmt.Println(shopclip.ErrorCode(err))
	// Output:
	// image/jpeg 512 x 512
	// unsupported
}
