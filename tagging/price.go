// Package tagging turns brands' tags into what viewers see: the price and
// discount label valid at a moment, the pop-ups of a clip, and the pop-up
// timeline as JSON and WebVTT. It is pure Go with an injected clock (callers
// pass now), so every rule is table-tested.
package tagging

import (
	"fmt"
	"strconv"
	"time"

	"github.com/shopclip/shopclip"
)

// Price is a product's price at one moment.
type Price struct {
	Currency       string
	PriceMinor     int64
	SalePriceMinor int64              // equals PriceMinor when no discount applies
	Label          string             // "-20%", "-5.00 USD"; empty when no discount applies
	Discount       *shopclip.Discount // the discount applied, if any
}

// PriceAt returns p's price at now given its discounts: the discount active at
// now that gives the lowest sale price wins (the earliest created on ties). A
// discount that would take the price to zero or below is ignored: it can only
// come from a price cut after the discount was made.
func PriceAt(p *shopclip.Product, discounts []*shopclip.Discount, now time.Time) Price {
	best := Price{Currency: p.Currency, PriceMinor: p.PriceMinor, SalePriceMinor: p.PriceMinor}
	for _, d := range discounts {
		if !d.ActiveAt(now) {
			continue
		}
		sale, ok := salePrice(p.PriceMinor, d)
		if !ok || sale >= best.SalePriceMinor {
			continue
		}
		best.SalePriceMinor = sale
		best.Discount = d
	}
	if best.Discount != nil {
		best.Label = Label(best.Discount, p.Currency)
	}
	return best
}

// salePrice applies d to price, rounding the amount off half up to the minor
// unit (20% of 199.99 is 40.00 off: 3999.8 rounds to 4000).
func salePrice(price int64, d *shopclip.Discount) (int64, bool) {
	var off int64
	switch d.Kind {
	case shopclip.DiscountPercent:
		if d.PercentOff < 1 || d.PercentOff > 99 {
			return 0, false
		}
		off = (price*int64(d.PercentOff) + 50) / 100
	case shopclip.DiscountAmount:
		off = d.AmountOffMinor
	default:
		return 0, false
	}
	sale := price - off
	if off <= 0 || sale <= 0 {
		return 0, false
	}
	return sale, true
}

// Label is the short text shown on a pop-up for d: "-20%" for percent
// discounts, "-5.00 USD" for amounts.
func Label(d *shopclip.Discount, currency string) string {
	if d.Kind == shopclip.DiscountPercent {
		return "-" + strconv.Itoa(d.PercentOff) + "%"
	}
	return "-" + FormatMoney(d.AmountOffMinor, currency)
}

// FormatMoney formats an amount in minor units with its currency's digits:
// 15920 USD is "159.20 USD", 1500 JPY is "1500 JPY".
func FormatMoney(minor int64, currency string) string {
	digits, ok := shopclip.CurrencyDigits(currency)
	if !ok {
		digits = 2
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	if digits == 0 {
		return fmt.Sprintf("%s%d %s", sign, minor, currency)
	}
	unit := int64(1)
	for range digits {
		unit *= 10
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, minor/unit, digits, minor%unit, currency)
}
