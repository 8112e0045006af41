package tagging_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/store"
	"github.com/shopclip/shopclip/tagging"
)

// dealWorld is a SQLite store whose clock the test sets, with a creator and
// a brand.
type dealWorld struct {
	t       *testing.T
	db      *store.DB
	now     time.Time
	creator *shopclip.Account
	brand   *shopclip.Account
}

func newDealWorld(t *testing.T) *dealWorld {
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "shopclip.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := &dealWorld{t: t, db: db, now: t0.Add(-60 * 24 * time.Hour)}
	db.SetNow(func() time.Time { return w.now })
	w.creator = w.account(shopclip.RoleCreator)
	w.brand = w.account(shopclip.RoleBrand)
	return w
}

func (w *dealWorld) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *dealWorld) account(role shopclip.Role) *shopclip.Account {
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: string(role), Role: role}
	w.must(w.db.CreateAccount(w.t.Context(), a))
	return a
}

// clipWith makes a ready clip with an active tag on a new product priced
// price, and returns both.
func (w *dealWorld) clipWith(title string, price int64) (*shopclip.Clip, *shopclip.Product) {
	w.t.Helper()
	ctx := w.t.Context()
	c := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: w.creator.ID, Title: title, OriginalKey: "originals/" + title}
	w.must(w.db.CreateClip(ctx, c))
	att := shopclip.NewID(shopclip.PrefixAttempt)
	_, err := w.db.StartClipAttempt(ctx, c.ID, att)
	w.must(err)
	w.must(w.db.PublishClip(ctx, c.ID, att, &shopclip.Publication{Generation: "g1", OutputPrefix: "clips/" + c.ID + "/g1/", DurationMS: 10_000}))
	c, err = w.db.Clip(ctx, c.ID)
	w.must(err)
	p := &shopclip.Product{ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: w.brand.ID, SKU: title, Title: title,
		Currency: "USD", PriceMinor: price, URL: "https://shop.example/" + title, InStock: true}
	w.must(w.db.CreateProduct(ctx, p))
	tag := &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: p.ID, BrandID: w.brand.ID,
		StartMS: 1000, EndMS: 3000, X: 0.5, Y: 0.5, Status: shopclip.TagActive}
	w.must(w.db.CreateTag(ctx, tag))
	return c, p
}

func (w *dealWorld) discount(p *shopclip.Product, pct int, from, to time.Time, flash bool) {
	w.t.Helper()
	d := &shopclip.Discount{ID: shopclip.NewID(shopclip.PrefixDiscount), ProductID: p.ID, Kind: shopclip.DiscountPercent,
		PercentOff: pct, StartsAt: from, EndsAt: to, Flash: flash}
	w.must(w.db.CreateDiscount(w.t.Context(), d))
}

func TestDeals(t *testing.T) {
	w := newDealWorld(t)
	hour := time.Hour
	plain, plainP := w.clipWith("plain", 10000)
	flash, flashP := w.clipWith("flash", 10000)
	soon, soonP := w.clipWith("soon", 10000)
	raised, raisedP := w.clipWith("raised", 5000)
	later, laterP := w.clipWith("later", 10000)
	none, _ := w.clipWith("none", 10000)

	// The brand raises "raised" to 100.00 an hour before its sale: the sale
	// price (80.00) is above its 30-day low (50.00), so no honest label.
	w.now = t0.Add(-2 * hour)
	raisedP.PriceMinor = 10000
	w.must(w.db.UpdateProduct(t.Context(), raisedP))
	w.now = t0.Add(-hour)
	w.discount(plainP, 20, t0.Add(-hour), t0.Add(10*hour), false)
	w.discount(flashP, 30, t0.Add(-hour), t0.Add(12*hour), true)
	w.discount(soonP, 10, t0.Add(-hour), t0.Add(2*hour), false)
	w.discount(raisedP, 20, t0.Add(-hour), t0.Add(10*hour), false)
	w.discount(laterP, 20, t0.Add(3*hour), t0.Add(10*hour), false) // not started at t0

	candidates := []*shopclip.Clip{plain, flash, soon, raised, later, none}
	got, err := tagging.Deals(t.Context(), w.db, candidates, t0, buyPath)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, d := range got {
		order = append(order, d.Clip.Title)
		if len(d.Popups) != 1 || d.Popups[0].Label == "" {
			t.Errorf("deal %s: pop-ups %+v, want one labelled", d.Clip.Title, d.Popups)
		}
	}
	want := []string{"flash", "soon", "plain"} // flash first, then ending soonest
	if len(order) != len(want) {
		t.Fatalf("deals = %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("deals = %v, want %v", order, want)
		}
	}
	if !got[0].Flash || !got[0].EndsAt.Equal(t0.Add(12*hour)) {
		t.Errorf("flash deal: flash %v ends %v", got[0].Flash, got[0].EndsAt)
	}

	// After "soon" ends it is no deal any more.
	got, err = tagging.Deals(t.Context(), w.db, candidates, t0.Add(2*hour), buyPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range got {
		if d.Clip.ID == soon.ID {
			t.Errorf("a deal whose sale ended is listed: %+v", d)
		}
	}
}

func TestTimelineNextChange(t *testing.T) {
	w := newDealWorld(t)
	hour := time.Hour
	c, p := w.clipWith("clip", 10000)
	w.now = t0.Add(-hour)
	w.discount(p, 20, t0.Add(-hour), t0.Add(5*hour), false)
	w.discount(p, 30, t0.Add(2*hour), t0.Add(3*hour), true)
	for _, tt := range []struct {
		at   time.Time
		want time.Time
	}{
		{t0, t0.Add(2 * hour)},
		{t0.Add(2 * hour), t0.Add(3 * hour)},
		{t0.Add(4 * hour), t0.Add(5 * hour)},
		{t0.Add(5 * hour), time.Time{}},
	} {
		tl, err := tagging.BuildTimeline(t.Context(), w.db, c, tt.at, func(tg *shopclip.Tag) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		if !tl.NextChange.Equal(tt.want) {
			t.Errorf("at %v: NextChange = %v, want %v", tt.at, tl.NextChange, tt.want)
		}
	}
}

func buyPath(t *shopclip.Tag) string { return shopclip.BuyPath(t.ID) }
