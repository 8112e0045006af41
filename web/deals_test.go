package web_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// TestDeals checks /deals and GET /v1/deals: a clip with a live, honest
// discount is listed (a flash sale first), a clip without one is not, and
// when the sale ends the open page drops the clip by itself.
func TestDeals(t *testing.T) {
	w := newWorld(t)
	shop := newShop(t)
	creator := w.account(shopclip.RoleCreator, "alice")
	brand := w.account(shopclip.RoleBrand, "acme")
	ending := w.clip(creator, "Ends soon")
	flash := w.clip(creator, "Flash")
	plain := w.clip(creator, "No sale")
	// The browsers are up before the sale's clock starts.
	tabs := map[string]*tab{}
	for _, vp := range sizes {
		tabs[vp.name] = newTab(t, vp)
		tabs[vp.name].open("about:blank")
	}
	now := time.Now()
	p1 := w.product(brand, "Mug", 1500, shop.URL+"/mug", "")
	p2 := w.product(brand, "Kettle", 4900, shop.URL+"/kettle", "")
	p3 := w.product(brand, "Spoon", 300, shop.URL+"/spoon", "")
	w.discount(brand, p1, 10, now.Add(-time.Minute), now.Add(15*time.Second), false, "")
	w.discount(brand, p2, 25, now.Add(-time.Minute), now.Add(3*time.Hour), true, "FLASH25")
	w.tag(brand, ending, p1, 0, 2000, 0.5, 0.5)
	w.tag(brand, flash, p2, 0, 2000, 0.5, 0.5)
	w.tag(brand, plain, p3, 0, 2000, 0.5, 0.5)

	var api struct {
		Deals []struct {
			Clip struct {
				ID string `json:"id"`
			} `json:"clip"`
			Flash  bool             `json:"flash"`
			Popups []shopclip.Popup `json:"popups"`
		} `json:"deals"`
	}
	w.call("", "GET", "/v1/deals", nil, 200, &api)
	var got []string
	for _, d := range api.Deals {
		got = append(got, d.Clip.ID)
	}
	if want := []string{flash.ID, ending.ID}; !slices.Equal(got, want) {
		t.Fatalf("GET /v1/deals lists %v, want %v (flash first, no clip without a sale)", got, want)
	}
	if !api.Deals[0].Flash || api.Deals[0].Popups[0].Label != "-25%" || api.Deals[0].Popups[0].CouponCode != "FLASH25" {
		t.Errorf("the flash deal: %+v", api.Deals[0])
	}

	for i, vp := range sizes {
		t.Run(vp.name, func(t *testing.T) {
			tb := tabs[vp.name]
			tb.t = t
			tb.open(w.srv.URL + "/deals")
			listed := eval[[]string](tb, `[...document.querySelectorAll('[data-deals] [data-clip-id]')].map(e => e.dataset.clipId)`)
			if i == 0 {
				if want := []string{flash.ID, ending.ID}; !slices.Equal(listed, want) {
					t.Fatalf("/deals lists %v, want %v", listed, want)
				}
				if txt := eval[string](tb, fmt.Sprintf(`document.querySelector('[data-clip-id=%q]').textContent`, flash.ID)); !containsAll(txt, "36.75 USD", "49.00 USD", "-25%", "FLASH25") || !regexp.MustCompile(`ends in (2:5\d|3:00):\d\d`).MatchString(txt) {
					t.Errorf("the flash deal reads %q", txt)
				}
				tb.screenshot("deals")
				// The sale ends: the page drops the clip without a reload.
				tb.waitJS("the ended deal to leave the page", fmt.Sprintf(`!document.querySelector('[data-clip-id=%q]') && !!document.querySelector('[data-clip-id=%q]')`, ending.ID, flash.ID), 40*time.Second)
				if n := eval[int](tb, `performance.getEntriesByType('navigation').length`); n != 1 {
					t.Errorf("the page navigated %d times", n)
				}
			} else {
				if slices.Contains(listed, plain.ID) || !slices.Contains(listed, flash.ID) {
					t.Errorf("/deals lists %v", listed)
				}
				tb.screenshot("deals")
			}
		})
	}
	w.call("", "GET", "/v1/deals", nil, 200, &api)
	if len(api.Deals) != 1 || api.Deals[0].Clip.ID != flash.ID {
		t.Errorf("after the sale ended GET /v1/deals lists %+v, want the flash sale only", api.Deals)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
