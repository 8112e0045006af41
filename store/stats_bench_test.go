package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/store"
)

// EnvBenchEvents, when set to a number of events (10000000), runs
// BenchmarkStats: seeding that many takes minutes.
const EnvBenchEvents = "SHOPCLIP_BENCH_EVENTS"

// BenchmarkStats seeds SHOPCLIP_BENCH_EVENTS events over 30 days (4
// creators with 50 clips each, 3 active tags a clip of 50 products of 5
// brands) on SQLite and on PostgreSQL, and times the stats as they are
// read (from the rollups) against the same counts over the raw events:
//
//	SHOPCLIP_BENCH_EVENTS=10000000 go test ./store -run '^$' -bench Stats -benchtime 20x
func BenchmarkStats(b *testing.B) {
	n, err := strconv.Atoi(os.Getenv(EnvBenchEvents))
	if err != nil || n < 1 {
		b.Skipf("set %s to a number of events (10000000) to run", EnvBenchEvents)
	}
	for _, backend := range []struct {
		name string
		open func(b *testing.B) *store.DB
	}{
		{"SQLite", func(b *testing.B) *store.DB {
			db, err := store.Open(b.Context(), filepath.Join(b.TempDir(), "shopclip.db"))
			if err != nil {
				b.Fatal(err)
			}
			return db
		}},
		{"Postgres", func(b *testing.B) *store.DB {
			db, err := store.Open(b.Context(), testenv.Postgres(b))
			if err != nil {
				b.Fatal(err)
			}
			return db
		}},
	} {
		b.Run(backend.name, func(b *testing.B) {
			db := backend.open(b)
			defer db.Close()
			benchStats(b, db, n)
		})
	}
}

func benchStats(b *testing.B, db *store.DB, n int) {
	ctx := b.Context()
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	account := func(role shopclip.Role, name string) *shopclip.Account {
		a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: name, Role: role}
		must(db.CreateAccount(ctx, a))
		return a
	}
	var brands []*shopclip.Account
	var products []*shopclip.Product
	for i := range 5 {
		br := account(shopclip.RoleBrand, fmt.Sprintf("brand %d", i))
		brands = append(brands, br)
		for j := range 10 {
			p := &shopclip.Product{ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: br.ID, SKU: fmt.Sprintf("SKU-%d-%d", i, j),
				Title: "product", Currency: "USD", PriceMinor: 1999, URL: "https://shop.example/p", InStock: true}
			must(db.CreateProduct(ctx, p))
			products = append(products, p)
		}
	}
	var creators []*shopclip.Account
	var clips []*shopclip.Clip
	var tags []store.BenchTag
	for i := range 4 {
		cr := account(shopclip.RoleCreator, fmt.Sprintf("creator %d", i))
		creators = append(creators, cr)
		for j := range 50 {
			c := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: cr.ID, Title: fmt.Sprintf("clip %d", j),
				OriginalKey: fmt.Sprintf("originals/%d-%d", i, j), OriginalSize: 1234, OriginalSHA256: strings.Repeat("ab", 32)}
			must(db.CreateClip(ctx, c))
			clips = append(clips, c)
			for k := range 3 {
				p := products[(len(clips)*3+k)%len(products)]
				tg := &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: p.ID, BrandID: p.BrandID,
					StartMS: int64(k) * 3000, EndMS: int64(k)*3000 + 2000, X: 0.5, Y: 0.5, Status: shopclip.TagPending}
				must(db.CreateTag(ctx, tg))
				must(db.SetTagStatus(ctx, tg.ID, shopclip.TagActive))
				tags = append(tags, store.BenchTag{TagID: tg.ID, ClipID: c.ID, ProductID: p.ID, BrandID: p.BrandID, Currency: p.Currency})
			}
		}
	}
	end := time.Now().UTC().Truncate(24 * time.Hour)
	from := end.Add(-30 * 24 * time.Hour)
	t0 := time.Now()
	must(store.SeedEvents(ctx, db, n, tags, end, 30*24*time.Hour))
	raw, hourly, daily, err := store.CountEvents(ctx, db)
	must(err)
	b.Logf("%s: seeded %d events in %s", db.Dialect(), raw, time.Since(t0).Round(time.Second))
	if raw != int64(n) || hourly != int64(n) || daily != int64(n) {
		b.Fatalf("seeded %d events, %d rolled up by hour, %d by day; want %d", raw, hourly, daily, n)
	}

	clip, brand, creator := clips[7], brands[2], creators[1]
	// The rollups and the raw events agree before they are timed.
	ts, err := db.TagStats(ctx, clip.ID, "")
	must(err)
	rawImp, err := store.RawTagStats(ctx, db, clip.ID)
	must(err)
	var imp int64
	for _, s := range ts {
		imp += s.Impressions
	}
	if imp != rawImp || imp == 0 {
		b.Fatalf("impressions: %d from the rollups, %d from the events", imp, rawImp)
	}

	run := func(name string, f func() error) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	dailyOf := func(q shopclip.StatsQuery) func() error {
		q.From, q.To = from, end
		return func() error { _, err := db.DailyStats(ctx, q); return err }
	}
	run("TagStats/clip", func() error { _, err := db.TagStats(ctx, clip.ID, ""); return err })
	run("TagStats/product", func() error { _, err := db.TagStats(ctx, "", products[3].ID); return err })
	run("ClipViews", func() error { _, err := db.ClipViews(ctx, clip.ID); return err })
	run("DailyStats30d/clip", dailyOf(shopclip.StatsQuery{ClipID: clip.ID}))
	run("DailyStats30d/creator", dailyOf(shopclip.StatsQuery{CreatorID: creator.ID}))
	run("DailyStats30d/brand", dailyOf(shopclip.StatsQuery{BrandID: brand.ID}))
	run("DailyStats30d/product", dailyOf(shopclip.StatsQuery{ProductID: products[3].ID}))
	run("raw/TagStats/clip", func() error { _, err := store.RawTagStats(ctx, db, clip.ID); return err })
	run("raw/DailyStats30d/brand", func() error { _, err := store.RawBrandDays(ctx, db, brand.ID, from, end); return err })
}
