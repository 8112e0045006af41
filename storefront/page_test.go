package storefront_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/store"
	"github.com/shopclip/shopclip/storefront"
)

// page is the part of every paged list answer the walk reads: the items'
// IDs under the list's key and next_cursor.
type page struct {
	Clips      []struct{ ID string } `json:"clips"`
	Products   []struct{ ID string } `json:"products"`
	Tags       []struct{ ID string } `json:"tags"`
	Brands     []struct{ ID string } `json:"brands"`
	NextCursor *string               `json:"next_cursor"`
}

func (p page) ids() []string {
	var out []string
	for _, l := range [][]struct{ ID string }{p.Clips, p.Products, p.Tags, p.Brands} {
		for _, it := range l {
			out = append(out, it.ID)
		}
	}
	return out
}

// walkPages GETs path page by page as user, with limit, calling between
// after each page, and returns every ID listed, in order. It fails when a
// page is longer than limit or the walk does not end within maxPages.
func (e *env) walkPages(user, path string, limit, maxPages int, between func()) []string {
	e.t.Helper()
	var got []string
	cursor := ""
	for i := range maxPages {
		q := url.Values{"limit": {fmt.Sprint(limit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		resp := e.do(user, "GET", path+"?"+q.Encode(), nil)
		if resp.Status != http.StatusOK {
			e.t.Fatalf("GET %s page %d: %d %s", path, i, resp.Status, resp.Body)
		}
		var p page
		resp.json(e.t, &p)
		ids := p.ids()
		if len(ids) > limit {
			e.t.Fatalf("GET %s page %d: %d items, more than the limit %d", path, i, len(ids), limit)
		}
		got = append(got, ids...)
		if p.NextCursor == nil {
			return got
		}
		if len(ids) < limit {
			e.t.Errorf("GET %s page %d: a short page (%d) with a next_cursor", path, i, len(ids))
		}
		cursor = *p.NextCursor
		if between != nil {
			between()
		}
	}
	e.t.Fatalf("GET %s: no end after %d pages", path, maxPages)
	return nil
}

// onceEach fails t unless got lists every ID of want exactly once (and
// nothing else but IDs in extra, each at most once).
func onceEach(t *testing.T, what string, got, want, extra []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("%s: %s listed %d times, want once", what, id, seen[id])
		}
		delete(seen, id)
	}
	for id, n := range seen {
		if !slices.Contains(extra, id) || n > 1 {
			t.Errorf("%s: %s listed %d times, want never", what, id, n)
		}
	}
}

// TestListsPaginate walks the lists that grow without bound (a brand's
// products, a creator's clips, a clip's tags), 250 items each, in pages,
// while new items arrive between pages: every item that was there when the
// walk began is listed exactly once, newest first, and no page is longer
// than asked.
func TestListsPaginate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = 250
	tick := func() { e.now = e.now.Add(time.Millisecond) }

	var products []string
	for i := range n {
		if i%5 == 0 {
			tick() // five a moment: the ID breaks the ties
		}
		p := &shopclip.Product{ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: e.accounts["acme"].ID, Title: fmt.Sprint("p", i),
			Currency: "USD", PriceMinor: 100, URL: "https://shop.example.com/p"}
		if err := e.store.CreateProduct(ctx, p); err != nil {
			t.Fatal(err)
		}
		products = append(products, p.ID)
	}
	e.product("globex", 100) // another brand's
	var clips []string
	for i := range n {
		if i%5 == 0 {
			tick()
		}
		c := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: e.accounts["alice"].ID, Title: fmt.Sprint("c", i), OriginalKey: "k"}
		if err := e.store.CreateClip(ctx, c); err != nil {
			t.Fatal(err)
		}
		clips = append(clips, c.ID)
	}
	e.readyClip("bob") // another creator's

	var arrived []string
	t.Run("products", func(t *testing.T) {
		tick()
		got := e.walkPages("acme", "/v1/products", 37, 20, func() {
			tick()
			arrived = append(arrived, e.product("acme", 100).ID)
		})
		onceEach(t, "products", got, products, arrived)
		if want := newestFirst(products, 5); !slices.Equal(got, want) {
			t.Errorf("products not newest first (%d listed, want %d)", len(got), len(want))
		}
	})
	t.Run("clips", func(t *testing.T) {
		tick()
		got := e.walkPages("alice", "/v1/clips", 37, 20, func() {
			tick()
			resp := e.upload("alice", "arrived", fakeMP4(4096))
			if resp.Status != http.StatusAccepted {
				t.Fatalf("upload: %d %s", resp.Status, resp.Body)
			}
		})
		onceEach(t, "clips", got, clips, nil)
		if want := newestFirst(clips, 5); !slices.Equal(got, want) {
			t.Errorf("clips not newest first (%d listed, want %d)", len(got), len(want))
		}
	})
	t.Run("approved brands", func(t *testing.T) {
		var approved []string
		for i := range n {
			if i%5 == 0 {
				tick()
			}
			b := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: fmt.Sprint("brand ", i), Role: shopclip.RoleBrand}
			if err := e.store.CreateAccount(ctx, b); err != nil {
				t.Fatal(err)
			}
			if err := e.store.ApproveBrand(ctx, e.accounts["bob"].ID, b.ID); err != nil {
				t.Fatal(err)
			}
			approved = append(approved, b.ID)
		}
		got := e.walkPages("bob", "/v1/me/approved-brands", 37, 20, nil)
		// Oldest first: the earlier group first, by ID within a group.
		want := slices.Clone(approved)
		for i := 0; i < len(want); i += 5 {
			slices.Sort(want[i:min(i+5, len(want))])
		}
		if !slices.Equal(got, want) {
			onceEach(t, "approved brands", got, want, nil)
			t.Errorf("approved brands not in the order of approval (%d listed, want %d)", len(got), len(want))
		}
	})
	t.Run("tags", func(t *testing.T) {
		// 250 tags on one clip, most of them rejected (the quotas bound
		// the others); acme's are a third of them.
		clip := e.readyClip("alice")
		acme, globex := e.product("acme", 100), e.product("globex", 100)
		var all, ofAcme []string
		for i := range n {
			p, brand := globex, e.accounts["globex"]
			if i%3 == 0 {
				p, brand = acme, e.accounts["acme"]
			}
			status := shopclip.TagRejected
			if i%5 == 0 && i < 100 {
				status = shopclip.TagPending // within the quotas
			}
			tg := &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: clip.ID, ProductID: p.ID, BrandID: brand.ID,
				StartMS: int64(i % 7 * 1000), EndMS: 9000, X: 0.5, Y: 0.5, Status: status}
			if err := e.store.CreateTag(ctx, tg); err != nil {
				t.Fatal(err)
			}
			all = append(all, tg.ID)
			if brand == e.accounts["acme"] {
				ofAcme = append(ofAcme, tg.ID)
			}
		}
		got := e.walkPages("alice", "/v1/clips/"+clip.ID+"/tags", 23, 20, nil)
		onceEach(t, "the creator's walk of the clip's tags", got, all, nil)
		got = e.walkPages("acme", "/v1/clips/"+clip.ID+"/tags", 23, 20, nil)
		onceEach(t, "a brand's walk of the clip's tags", got, ofAcme, nil)
	})
}

// newestFirst orders ids, made in groups of size sharing a moment, newest
// first: the later group first, by ID descending within a group.
func newestFirst(ids []string, size int) []string {
	var out []string
	for end := len(ids); end > 0; end -= size {
		group := slices.Clone(ids[max(0, end-size):end])
		slices.Sort(group)
		slices.Reverse(group)
		out = append(out, group...)
	}
	return out
}

// TestPageParameters: a bad limit or cursor is a 400 that says what is
// wrong, a cursor of one list is not taken by another, and a list without a
// limit answers DefaultPageSize items.
func TestPageParameters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range shopclip.DefaultPageSize + 1 {
		p := &shopclip.Product{ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: e.accounts["acme"].ID, Title: fmt.Sprint("p", i),
			Currency: "USD", PriceMinor: 100, URL: "https://shop.example.com/p"}
		if err := e.store.CreateProduct(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	resp := e.do("acme", "GET", "/v1/products", nil)
	var first page
	resp.json(t, &first)
	if len(first.Products) != shopclip.DefaultPageSize || first.NextCursor == nil {
		t.Fatalf("first page: %d products, next_cursor %v; want %d and a cursor", len(first.Products), first.NextCursor, shopclip.DefaultPageSize)
	}
	clip := e.readyClip("alice")
	tests := []struct {
		name, user, path, mention string
	}{
		{"limit 0", "acme", "/v1/products?limit=0", "limit"},
		{"limit over the most", "acme", "/v1/products?limit=101", "limit"},
		{"limit not a number", "alice", "/v1/clips?limit=ten", "limit"},
		{"cursor not base64", "acme", "/v1/products?cursor=%21%21", "cursor"},
		{"cursor of garbage", "alice", "/v1/clips?cursor=" + url.QueryEscape(shopclip.TimeCursor(e.now, "clp_nope").String()), "cursor"},
		{"a products cursor on clips", "alice", "/v1/clips?cursor=" + url.QueryEscape(*first.NextCursor), "cursor"},
		{"a products cursor on tags", "alice", "/v1/clips/" + clip.ID + "/tags?cursor=" + url.QueryEscape(*first.NextCursor), "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do(tt.user, "GET", tt.path, nil)
			if resp.Status != http.StatusBadRequest || resp.errCode() != shopclip.EINVALID || !strings.Contains(resp.errMessage(), tt.mention) {
				t.Errorf("GET %s: %d %s, want 400 invalid naming %s", tt.path, resp.Status, resp.Body, tt.mention)
			}
		})
	}
	resp = e.do("acme", "GET", "/v1/products?cursor="+url.QueryEscape(*first.NextCursor), nil)
	var second page
	resp.json(t, &second)
	if len(second.Products) != 1 || second.NextCursor != nil {
		t.Errorf("last page: %d products, next_cursor %v; want 1 and none", len(second.Products), second.NextCursor)
	}
}

// TestTagQuotaOverHTTP: concurrent tag requests of one brand on one clip
// cannot overshoot MaxTagsPerBrandClip; the ones over it are 409 with a
// message naming the quota; the creator cannot bring a rejected tag back
// over it.
func TestTagQuotaOverHTTP(t *testing.T) {
	e := newEnv(t)
	clip := e.readyClip("alice")
	p := e.product("acme", 1000)
	const tries = shopclip.MaxTagsPerBrandClip + 10
	var mu sync.Mutex
	statuses := map[int]int{}
	var accepted []string
	var messages []string
	var wg sync.WaitGroup
	for range tries {
		wg.Go(func() {
			resp := e.do("acme", "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 0, "end_ms": 1000, "x": 0.5, "y": 0.5})
			mu.Lock()
			defer mu.Unlock()
			statuses[resp.Status]++
			switch resp.Status {
			case http.StatusAccepted:
				var tg shopclip.Tag
				resp.json(t, &tg)
				accepted = append(accepted, tg.ID)
			case http.StatusConflict:
				messages = append(messages, resp.errMessage())
			}
		})
	}
	wg.Wait()
	if statuses[http.StatusAccepted] != shopclip.MaxTagsPerBrandClip || statuses[http.StatusConflict] != tries-shopclip.MaxTagsPerBrandClip {
		t.Fatalf("%d concurrent tag requests: statuses %v, want %d × 202 and %d × 409", tries, statuses, shopclip.MaxTagsPerBrandClip, tries-shopclip.MaxTagsPerBrandClip)
	}
	for _, m := range messages {
		if !strings.Contains(m, fmt.Sprint(shopclip.MaxTagsPerBrandClip)) || !strings.Contains(m, "one brand") {
			t.Errorf("409 message %q does not say which quota", m)
		}
	}
	// Rejecting frees a place, which another tag takes; the rejected tag
	// cannot come back over the quota.
	tagPath := "/v1/clips/" + clip.ID + "/tags/"
	if resp := e.do("alice", "POST", tagPath+accepted[0]+"/reject", nil); resp.Status != http.StatusOK {
		t.Fatalf("reject: %d %s", resp.Status, resp.Body)
	}
	if resp := e.do("acme", "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 0, "end_ms": 1000, "x": 0.5, "y": 0.5}); resp.Status != http.StatusAccepted {
		t.Fatalf("tag in the freed place: %d %s", resp.Status, resp.Body)
	}
	if resp := e.do("alice", "POST", tagPath+accepted[0]+"/approve", nil); resp.Status != http.StatusConflict || resp.errCode() != shopclip.ECONFLICT {
		t.Errorf("approve a rejected tag over the quota: %d %s, want 409", resp.Status, resp.Body)
	}
}

// tagRecorder is the store with a record of every ClipTags query and of the
// tags it handed out.
type tagRecorder struct {
	*store.DB
	mu      sync.Mutex
	queries []shopclip.TagQuery
	handed  []*shopclip.Tag
}

func (s *tagRecorder) ClipTags(ctx context.Context, clipID string, q shopclip.TagQuery) ([]*shopclip.Tag, error) {
	ts, err := s.DB.ClipTags(ctx, clipID, q)
	s.mu.Lock()
	s.queries, s.handed = append(s.queries, q), append(s.handed, ts...)
	s.mu.Unlock()
	return ts, err
}

func (s *tagRecorder) reset() {
	s.mu.Lock()
	s.queries, s.handed = nil, nil
	s.mu.Unlock()
}

// TestPopupsReadOnlyActiveTags: the anonymous pop-up routes ask the store
// for the clip's active tags only, at most MaxTagsPerClip, in one query:
// pending and rejected tags, however many, and another clip's tags never
// leave the database, let alone reach a viewer.
func TestPopupsReadOnlyActiveTags(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := &tagRecorder{DB: e.store}
	api := &storefront.Server{Store: rec, Discovery: e.store, Blobs: e.blobs, Now: func() time.Time { return e.now }}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)

	clip, other := e.readyClip("alice"), e.readyClip("alice")
	acme, globex := e.product("acme", 1000), e.product("globex", 2000)
	add := func(c *shopclip.Clip, p *shopclip.Product, start int64, status shopclip.TagStatus) *shopclip.Tag {
		tg := &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: p.ID, BrandID: p.BrandID,
			StartMS: start, EndMS: start + 500, X: 0.5, Y: 0.5, Status: status}
		if err := e.store.CreateTag(ctx, tg); err != nil {
			t.Fatal(err)
		}
		return tg
	}
	var active []string
	for i := range 2 * shopclip.MaxTagsPerBrandClip {
		p, status := acme, shopclip.TagPending
		if i%2 == 0 {
			p, status = globex, shopclip.TagActive
		}
		tg := add(clip, p, int64(i*100), status)
		if status == shopclip.TagActive {
			active = append(active, tg.ID)
		}
	}
	for i := range 200 {
		add(clip, acme, int64(i*10), shopclip.TagRejected)
	}
	add(other, acme, 0, shopclip.TagActive)

	for _, path := range []string{"/popups", "/overlays.vtt"} {
		rec.reset()
		resp, err := http.Get(srv.URL + "/v1/clips/" + clip.ID + path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		body := string(b)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		rec.mu.Lock()
		queries, handed := rec.queries, rec.handed
		rec.mu.Unlock()
		if len(queries) != 1 {
			t.Errorf("GET %s: %d ClipTags queries, want 1", path, len(queries))
		}
		for _, q := range queries {
			if !slices.Equal(q.Statuses, []shopclip.TagStatus{shopclip.TagActive}) || q.Size() > shopclip.MaxTagsPerClip || !q.After.IsZero() {
				t.Errorf("GET %s asked the store for %+v, want the active tags, at most %d", path, q, shopclip.MaxTagsPerClip)
			}
		}
		var got []string
		for _, tg := range handed {
			if tg.Status != shopclip.TagActive || tg.ClipID != clip.ID {
				t.Errorf("GET %s: the store handed out %s (%s, clip %s)", path, tg.ID, tg.Status, tg.ClipID)
			}
			got = append(got, tg.ID)
		}
		if !slices.Equal(got, active) {
			t.Errorf("GET %s read %d tags, want the %d active ones in clip order", path, len(got), len(active))
		}
		for _, id := range active {
			if !strings.Contains(body, id) {
				t.Errorf("GET %s does not show active tag %s", path, id)
			}
		}
		if n := strings.Count(body, `"tag_id":"`) + strings.Count(body, `"tag_id": "`); path == "/popups" && n != len(active) {
			t.Errorf("GET %s shows %d pop-ups, want %d", path, n, len(active))
		}
	}
}
