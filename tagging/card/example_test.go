package card_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/tagging/card"
)

func ExampleRender() {
	p := shopclip.Popup{
		Product: shopclip.PopupProduct{
			Title:          "Linen shirt",
			Currency:       "USD",
			PriceMinor:     15920,
			SalePriceMinor: 12736,
			WasPriceMinor:  15920,
			InStock:        true,
		},
		Label:      "-20%",
		CouponCode: "SUMMER10",
	}
	if _, ok := card.FallbackFont(); !ok {
		log.Print("card: no fallback font; CJK titles will show as boxes")
	}
	img, err := card.Render(p, 432)
	if err != nil {
		log.Fatal(err)
	}
	var png bytes.Buffer
	if err := card.EncodePNG(&png, img); err != nil {
		log.Fatal(err)
	}
	fmt.Println(img.Bounds().Dx(), "x", img.Bounds().Dy())
	// Output: 432 x 184
}
