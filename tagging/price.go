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
	PriceMinor     int64 // the list price
	SalePriceMinor int64 // what a buyer pays; the list price when no discount applies
	// WasPriceMinor and Label are set only when the sale is an honest
	// reduction (see PriceAt): the reference price struck through, and the
	// reduction against it ("-20%", "-5.00 USD").
	WasPriceMinor int64
	Label         string
	Discount      *shopclip.Discount // the discount applied, if any
}

// PriceAt returns p's price at now given its discounts and its list-price
// history (oldest first; nil means the current price always held).
//
// The discount active at now that gives the lowest price applies (the
// earliest listed wins ties). A discount that would take the price to zero or
// below is ignored: it can only come from a price cut after it was made.
//
// Price honesty: a sale is labelled, and a "was" price shown, only when its
// price is below the reference price: the lowest price the product actually
// sold at in the 30 days before the sale started (list prices from the
// history, less the discounts then active). A brand that raises its price
// before a sale gets the sale price applied but no label.
func PriceAt(p *shopclip.Product, discounts []*shopclip.Discount, history []shopclip.PricePoint, now time.Time) Price {
	price := Price{Currency: p.Currency, PriceMinor: p.PriceMinor, SalePriceMinor: p.PriceMinor}
	d, sale := bestDiscount(p.PriceMinor, discounts, now, "")
	if d == nil {
		return price
	}
	price.SalePriceMinor, price.Discount = sale, d
	ref := referencePrice(p, discounts, history, d)
	if sale < ref {
		price.WasPriceMinor = ref
		price.Label = honestLabel(d, ref, sale, p.Currency)
	}
	return price
}

// bestDiscount returns the discount active at t (other than the one with ID
// skip) that gives list the lowest price, and that price.
func bestDiscount(list int64, discounts []*shopclip.Discount, t time.Time, skip string) (*shopclip.Discount, int64) {
	var best *shopclip.Discount
	bestSale := list
	for _, d := range discounts {
		if d.ID == skip && skip != "" || !d.ActiveAt(t) {
			continue
		}
		sale, ok := salePrice(list, d)
		if ok && sale < bestSale {
			best, bestSale = d, sale
		}
	}
	return best, bestSale
}

// referencePrice is the lowest price p sold at during the HonestyWindow
// before d started: list prices from history (in p's current currency), less
// the best other discount active at each moment.
func referencePrice(p *shopclip.Product, discounts []*shopclip.Discount, history []shopclip.PricePoint, d *shopclip.Discount) int64 {
	from, to := d.StartsAt.Add(-shopclip.HonestyWindow), d.StartsAt
	// The effective price only changes when a list price or a discount
	// starts or ends: sample the window's start and those moments.
	instants := []time.Time{from}
	for _, h := range history {
		if h.StartsAt.After(from) && h.StartsAt.Before(to) {
			instants = append(instants, h.StartsAt)
		}
	}
	for _, o := range discounts {
		for _, t := range []time.Time{o.StartsAt, o.EndsAt} {
			if t.After(from) && t.Before(to) {
				instants = append(instants, t)
			}
		}
	}
	ref := int64(-1)
	for _, t := range instants {
		list, ok := listPriceAt(p, history, t)
		if !ok {
			continue
		}
		_, eff := bestDiscount(list, discounts, t, d.ID)
		if ref < 0 || eff < ref {
			ref = eff
		}
	}
	if ref < 0 {
		return p.PriceMinor
	}
	return ref
}

// listPriceAt returns the list price at t from history, false when it was in
// another currency than p's (incomparable). Before the first point, the
// first point's price is taken: it is what the product was listed at.
func listPriceAt(p *shopclip.Product, history []shopclip.PricePoint, t time.Time) (int64, bool) {
	if len(history) == 0 {
		return p.PriceMinor, true
	}
	pt := history[0]
	for _, h := range history {
		if h.StartsAt.After(t) {
			break
		}
		pt = h
	}
	return pt.PriceMinor, pt.Currency == p.Currency
}

// honestLabel states the reduction from ref to sale in the discount's own
// terms: a percentage (rounded down, never overstated) or an amount.
func honestLabel(d *shopclip.Discount, ref, sale int64, currency string) string {
	if d.Kind == shopclip.DiscountPercent {
		pct := (ref - sale) * 100 / ref
		if pct < 1 {
			return ""
		}
		return "-" + strconv.FormatInt(pct, 10) + "%"
	}
	return "-" + FormatMoney(ref-sale, currency)
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

// Label is the nominal label of d: "-20%" for percent discounts, "-5.00 USD"
// for amounts. Pop-ups show the honest label of PriceAt instead.
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
