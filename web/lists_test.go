package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
)

// TestStudioListsShowEverything: the studio's pages list a creator's every
// clip and a brand's every product, more than one page of the store's
// (shopclip.MaxPageSize), each once.
func TestStudioListsShowEverything(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	creator, brand := w.member(shopclip.RoleCreator, "c"), w.member(shopclip.RoleBrand, "b")
	const n = shopclip.MaxPageSize + 30
	var clips, products []string
	for i := range n {
		c := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: creator.ID, Title: fmt.Sprint("clip ", i), OriginalKey: "k"}
		if err := w.db.CreateClip(ctx, c); err != nil {
			t.Fatal(err)
		}
		p := &shopclip.Product{ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: brand.ID, Title: fmt.Sprint("product ", i),
			Currency: "USD", PriceMinor: 100, URL: "https://shop.example.com/p"}
		if err := w.db.CreateProduct(ctx, p); err != nil {
			t.Fatal(err)
		}
		clips, products = append(clips, c.ID), append(products, p.ID)
	}
	tests := []struct {
		page   string
		as     member
		ids    []string
		marker string // how the page marks each item
	}{
		{"/studio/clips", creator, clips, `data-clip-id="%s"`},
		{"/studio/catalog", brand, products, `data-product-id="%s"`},
		{"/studio/tagging", brand, products, `<option value="%s"`},
	}
	for _, tt := range tests {
		t.Run(tt.page, func(t *testing.T) {
			body := w.bodyAs(tt.as, tt.page)
			for _, id := range tt.ids {
				if got := strings.Count(body, fmt.Sprintf(tt.marker, id)); got != 1 {
					t.Errorf("%s lists %s %d times, want once", tt.page, id, got)
				}
			}
		})
	}
}

// bodyAs fetches path with m's session cookie and returns the body of a 200.
func (w *world) bodyAs(m member, path string) string {
	w.t.Helper()
	req, _ := http.NewRequest("GET", w.srv.URL+path, nil)
	req.AddCookie(&http.Cookie{Name: auth.CookieName, Value: m.token})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		w.t.Fatalf("GET %s: %d %v %.300s", path, res.StatusCode, err, b)
	}
	return string(b)
}
