// Package tagging turns brands' tags into what viewers see: the price and
// discount label valid at a moment, the pop-ups of a clip, and the pop-up
// timeline as JSON and WebVTT. It is pure Go with an injected clock (callers
// pass now), so every rule is table-tested.
package tagging

import (
	"fmt"
	"slices"
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
// sold at in the 30 days before the sale's anchor (list prices from the
// history, less the discounts then in effect). The anchor is the latest of
// the sale's start, its creation and the last change of the list price (see
// HonestyAnchor), so neither a backdated start nor a raise during a long
// sale makes a label. A brand that raises its price before a sale gets the
// sale price applied but no label.
//
// history needs only the points from HistorySince on (the one in force then
// and those after); older points do not change the result.
func PriceAt(p *shopclip.Product, discounts []*shopclip.Discount, history []shopclip.PricePoint, now time.Time) Price {
	price := Price{Currency: p.Currency, PriceMinor: p.PriceMinor, SalePriceMinor: p.PriceMinor}
	d, sale := bestDiscount(p.PriceMinor, discounts, now)
	if d == nil {
		return price
	}
	price.SalePriceMinor, price.Discount = sale, d
	ref := referencePrice(p, discounts, history, d, now)
	if sale < ref {
		price.WasPriceMinor = ref
		price.Label = honestLabel(d, ref, sale, p.Currency)
	}
	return price
}

// bestDiscount returns the discount active at t that gives list the lowest
// price, and that price.
func bestDiscount(list int64, discounts []*shopclip.Discount, t time.Time) (*shopclip.Discount, int64) {
	var best *shopclip.Discount
	bestSale := list
	for _, d := range discounts {
		if !d.ActiveAt(t) {
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
// before the anchor of d (see HonestyAnchor): list prices from history (in
// p's current currency), less the best discount in effect at each moment.
//
// A discount counts from when it was really in effect, the later of its
// StartsAt and its CreatedAt: a backdated discount never lowered a price in
// the past. d itself counts too: when the anchor is a list-price change
// during d, the buyers of the window paid d's price.
//
// Cost: O(H + D + I log I + I·A) for H history points, D discounts, I sampled
// instants (at most H + 2D) and A discounts overlapping the window.
func referencePrice(p *shopclip.Product, discounts []*shopclip.Discount, history []shopclip.PricePoint, d *shopclip.Discount, now time.Time) int64 {
	to := HonestyAnchor(d, history, now)
	from := to.Add(-shopclip.HonestyWindow)
	// Only discounts in effect at some moment of [from, to) matter.
	var live []*shopclip.Discount
	for _, o := range discounts {
		if effectiveStart(o).Before(to) && o.EndsAt.After(from) {
			live = append(live, o)
		}
	}
	// The effective price only changes when a list price or a discount
	// starts or ends: sample the window's start and those moments.
	instants := []time.Time{from}
	for _, h := range history {
		if h.StartsAt.After(from) && h.StartsAt.Before(to) {
			instants = append(instants, h.StartsAt)
		}
	}
	for _, o := range live {
		for _, t := range []time.Time{effectiveStart(o), o.EndsAt} {
			if t.After(from) && t.Before(to) {
				instants = append(instants, t)
			}
		}
	}
	slices.SortFunc(instants, time.Time.Compare)
	ref := int64(-1)
	i := 0 // history[i] is the list price at the current instant
	for _, t := range instants {
		for i+1 < len(history) && !history[i+1].StartsAt.After(t) {
			i++
		}
		list, currency := p.PriceMinor, p.Currency
		if len(history) > 0 {
			// Before the first point, the first point's price is taken: it
			// is what the product was listed at.
			list, currency = history[i].PriceMinor, history[i].Currency
		}
		if currency != p.Currency {
			continue // incomparable
		}
		eff := list
		listed := len(history) == 0 || !t.Before(history[0].StartsAt)
		for _, o := range live {
			if !listed {
				break // no discount applied before the product was listed
			}
			if !t.Before(effectiveStart(o)) && t.Before(o.EndsAt) {
				if sale, ok := salePrice(list, o); ok && sale < eff {
					eff = sale
				}
			}
		}
		if ref < 0 || eff < ref {
			ref = eff
		}
	}
	if ref < 0 {
		return p.PriceMinor
	}
	return ref
}

// HistorySince is how far back PriceAt needs p's price history at now: the
// last point starting at or before the returned time and the points after
// it. recent must hold at least the last point at or before now (the
// store's history since now gives it). The zero time means no history is needed:
// no discount applies.
func HistorySince(p *shopclip.Product, discounts []*shopclip.Discount, recent []shopclip.PricePoint, now time.Time) time.Time {
	d, _ := bestDiscount(p.PriceMinor, discounts, now)
	if d == nil {
		return time.Time{}
	}
	return HonestyAnchor(d, recent, now).Add(-shopclip.HonestyWindow)
}

// HonestyAnchor is the moment whose preceding HonestyWindow gives d's
// reference price: the latest of d's StartsAt, its CreatedAt (a brand may
// backdate StartsAt) and the time the list price in force at now took effect
// (a sale whose list price was raised later is judged against the prices
// before the raise). history is oldest first.
func HonestyAnchor(d *shopclip.Discount, history []shopclip.PricePoint, now time.Time) time.Time {
	anchor := effectiveStart(d)
	for i := len(history) - 1; i >= 0; i-- {
		if !history[i].StartsAt.After(now) {
			if history[i].StartsAt.After(anchor) {
				anchor = history[i].StartsAt
			}
			break
		}
	}
	return anchor
}

// effectiveStart is when d really took effect: the later of its StartsAt and
// its CreatedAt (zero when unknown).
func effectiveStart(d *shopclip.Discount) time.Time {
	if d.CreatedAt.After(d.StartsAt) {
		return d.CreatedAt
	}
	return d.StartsAt
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
