package webhooks_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/webhooks"
)

// A discount's start and end, scheduled through asynq on a real Redis, are
// announced at their moments to the product's brand and to the creator of a
// clip that tags it; another creator hears nothing.
func TestSaleAnnounced(t *testing.T) {
	addr, n := testenv.Redis(t)
	opt := asynq.RedisClientOpt{Addr: addr, DB: n}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	db := openStore(t)
	svc := webhooks.NewService(webhooks.Config{Store: db, Catalog: db, Queue: webhooks.Enqueuer{Client: client},
		Client: webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: true})})
	srv := webhooks.NewServer(opt, webhooks.ServerConfig{}, svc)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	ctx := t.Context()

	creator := account(t, db, shopclip.RoleCreator)
	bystander := account(t, db, shopclip.RoleCreator)
	brand := account(t, db, shopclip.RoleBrand)
	p := &shopclip.Product{ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: brand.ID, SKU: "S-1", Title: "Scarf",
		Currency: "USD", PriceMinor: 1999, URL: "https://shop.example/p/1", InStock: true}
	if err := db.CreateProduct(ctx, p); err != nil {
		t.Fatal(err)
	}
	c := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: creator.ID, Title: "c",
		OriginalKey: "originals/c", OriginalSize: 1, OriginalSHA256: strings.Repeat("ab", 32)}
	if err := db.CreateClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateTag(ctx, &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: p.ID,
		BrandID: brand.ID, StartMS: 0, EndMS: 1000, X: 0.5, Y: 0.5, Status: shopclip.TagActive}); err != nil {
		t.Fatal(err)
	}
	rcv := newReceiver(t)
	secrets := map[string]string{}
	for _, acc := range []*shopclip.Account{creator, bystander, brand} {
		e, err := svc.Create(ctx, acc.ID, rcv.srv.URL+"/"+acc.ID, []string{shopclip.EventSaleStarted, shopclip.EventSaleEnded})
		if err != nil {
			t.Fatal(err)
		}
		secrets[acc.ID] = e.Secret
	}
	// One receiver, three secrets: each endpoint's URL path picks its own.
	rcv.mu.Lock()
	rcv.secretFor = func(path string) string { return secrets[strings.TrimPrefix(path, "/")] }
	rcv.mu.Unlock()

	now := time.Now().UTC().Truncate(time.Second)
	d := &shopclip.Discount{ID: shopclip.NewID(shopclip.PrefixDiscount), ProductID: p.ID, Kind: shopclip.DiscountPercent,
		PercentOff: 10, StartsAt: now.Add(-time.Minute), EndsAt: now.Add(2 * time.Second)}
	if err := db.CreateDiscount(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := svc.ScheduleSale(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := svc.ScheduleSale(ctx, d); err != nil { // scheduled once, however often asked
		t.Fatal(err)
	}
	rcv.wait(4)
	got := rcv.received()
	count := map[string]int{}
	for _, g := range got {
		var data struct {
			ProductID string `json:"product_id"`
			Discount  struct{ ID string }
		}
		json.Unmarshal(g.Data, &data)
		if data.ProductID != p.ID || data.Discount.ID != d.ID || !g.Verified {
			t.Errorf("received %+v, want a verified announcement of %s", g, d.ID)
		}
		count[g.Path+" "+g.Type]++
	}
	for _, acc := range []string{creator.ID, brand.ID} {
		for _, ev := range []string{shopclip.EventSaleStarted, shopclip.EventSaleEnded} {
			if k := "/" + acc + " " + ev; count[k] != 1 {
				t.Errorf("%s heard %d times, want once (heard %v)", k, count[k], count)
			}
		}
	}
	if len(got) != 4 {
		t.Errorf("received %d announcements, want 4 (the bystander none): %v", len(got), count)
	}
}
