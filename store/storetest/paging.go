package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// Paged lists (CreatorClips, BrandProducts, ClipTags) and tag quotas.

// walk reads a paged list to its end with pages of size, calling between(i)
// after page i, and returns every item's ID in order. It fails t when a page
// is longer than size or the walk does not end within maxPages.
func walk[T any](t *testing.T, what string, size, maxPages int, next func(shopclip.Page) ([]T, error),
	id func(T) string, cursor func(T) shopclip.Cursor, between func(page int)) []string {
	t.Helper()
	var got []string
	p := shopclip.Page{Limit: size}
	for i := range maxPages {
		items, err := next(p)
		ok(t, fmt.Sprintf("%s page %d", what, i), err)
		if len(items) > size {
			t.Fatalf("%s page %d has %d items, more than the limit %d", what, i, len(items), size)
		}
		for _, it := range items {
			got = append(got, id(it))
		}
		if len(items) < size {
			return got
		}
		p.After = cursor(items[len(items)-1])
		if between != nil {
			between(i)
		}
	}
	t.Fatalf("%s: no end after %d pages", what, maxPages)
	return nil
}

// testCreatorClipsPages walks 250 clips (some created in the same
// microsecond, so the ID breaks ties) in pages of 40 while new clips arrive:
// every clip that existed before the walk is listed exactly once, newest
// first, and the new ones (newer than the cursor) are not.
func testCreatorClipsPages(t *testing.T, e *env) {
	a := e.account(t, shopclip.RoleCreator, "a")
	other := e.account(t, shopclip.RoleCreator, "other")
	var want []*shopclip.Clip
	for i := range 250 {
		if i%10 == 0 {
			e.freeze(Start.Add(time.Duration(i) * time.Minute)) // ten clips a moment
		}
		want = append(want, e.clip(t, a.ID, fmt.Sprintf("c%d", i)))
		if i%50 == 0 {
			e.clip(t, other.ID, "not a's")
		}
	}
	// Newest first: by CreatedAt descending, then ID descending.
	slices.SortFunc(want, func(x, y *shopclip.Clip) int {
		if c := y.CreatedAt.Compare(x.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(y.ID, x.ID)
	})
	e.freeze(Start.Add(time.Hour * 24))
	got := walk(t, "creator clips", 40, 20,
		func(p shopclip.Page) ([]*shopclip.Clip, error) { return e.s.CreatorClips(e.ctx, a.ID, p) },
		func(c *shopclip.Clip) string { return c.ID },
		func(c *shopclip.Clip) shopclip.Cursor { return shopclip.TimeCursor(c.CreatedAt, c.ID) },
		func(int) { e.clip(t, a.ID, "arrived during the walk") })
	if !slices.Equal(got, ids(want)) {
		t.Errorf("walked %d clips, want the %d that existed, each once, newest first", len(got), len(want))
		reportDiff(t, got, ids(want))
	}
	first, err := e.s.CreatorClips(e.ctx, a.ID, shopclip.Page{})
	ok(t, "creator clips without a limit", err)
	if len(first) != shopclip.MaxPageSize {
		t.Errorf("a page without a limit has %d clips, want %d", len(first), shopclip.MaxPageSize)
	}
	big, err := e.s.CreatorClips(e.ctx, a.ID, shopclip.Page{Limit: 1000})
	ok(t, "creator clips over the limit", err)
	if len(big) != shopclip.MaxPageSize {
		t.Errorf("a page asking 1000 has %d clips, want %d", len(big), shopclip.MaxPageSize)
	}
}

// testBrandProductsPages is testCreatorClipsPages for a brand's catalog.
func testBrandProductsPages(t *testing.T, e *env) {
	a := e.account(t, shopclip.RoleBrand, "a")
	other := e.account(t, shopclip.RoleBrand, "other")
	var want []*shopclip.Product
	for i := range 250 {
		if i%7 == 0 {
			e.freeze(Start.Add(time.Duration(i) * time.Minute))
		}
		want = append(want, e.product(t, a.ID, fmt.Sprintf("p%d", i)))
		if i%50 == 0 {
			e.product(t, other.ID, "not a's")
		}
	}
	slices.SortFunc(want, func(x, y *shopclip.Product) int {
		if c := y.CreatedAt.Compare(x.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(y.ID, x.ID)
	})
	var wantIDs []string
	for _, p := range want {
		wantIDs = append(wantIDs, p.ID)
	}
	e.freeze(Start.Add(time.Hour * 24))
	got := walk(t, "brand products", 33, 20,
		func(p shopclip.Page) ([]*shopclip.Product, error) { return e.s.BrandProducts(e.ctx, a.ID, p) },
		func(p *shopclip.Product) string { return p.ID },
		func(p *shopclip.Product) shopclip.Cursor { return shopclip.TimeCursor(p.CreatedAt, p.ID) },
		func(int) { e.product(t, a.ID, "arrived during the walk") })
	if !slices.Equal(got, wantIDs) {
		t.Errorf("walked %d products, want the %d that existed, each once, newest first", len(got), len(wantIDs))
		reportDiff(t, got, wantIDs)
	}
}

// testApprovedBrandsPages walks 250 standing approvals (several in one
// moment) in pages of 40: each once, in the order of approval, then by
// brand ID; another creator's are not listed.
func testApprovedBrandsPages(t *testing.T, e *env) {
	cr, other := e.account(t, shopclip.RoleCreator, "creator"), e.account(t, shopclip.RoleCreator, "other")
	type approval struct {
		id string
		at time.Time
	}
	var want []approval
	for i := range 250 {
		if i%6 == 0 {
			e.freeze(Start.Add(time.Duration(i) * time.Minute))
		}
		b := e.account(t, shopclip.RoleBrand, fmt.Sprint("b", i))
		at := e.clock.Peek()
		ok(t, "approve", e.s.ApproveBrand(e.ctx, cr.ID, b.ID))
		want = append(want, approval{b.ID, at})
		if i%50 == 0 {
			ok(t, "another's approval", e.s.ApproveBrand(e.ctx, other.ID, b.ID))
		}
	}
	slices.SortFunc(want, func(x, y approval) int {
		if c := x.at.Compare(y.at); c != 0 {
			return c
		}
		return strings.Compare(x.id, y.id)
	})
	var wantIDs []string
	for _, a := range want {
		wantIDs = append(wantIDs, a.id)
	}
	got := walk(t, "approved brands", 40, 20,
		func(p shopclip.Page) ([]shopclip.BrandApproval, error) { return e.s.ApprovedBrands(e.ctx, cr.ID, p) },
		func(a shopclip.BrandApproval) string { return a.BrandID },
		shopclip.BrandApproval.Cursor, nil)
	if !slices.Equal(got, wantIDs) {
		t.Errorf("walked %d approvals, want %d, each once, in the order of approval", len(got), len(wantIDs))
		reportDiff(t, got, wantIDs)
	}
}

// testClipTagsQuery: filters by status and brand happen in the query, and
// pages by (StartMS, ID) list each tag once.
func testClipTagsQuery(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	b1 := e.account(t, shopclip.RoleBrand, "b1")
	b2 := e.account(t, shopclip.RoleBrand, "b2")
	c := e.ready(t, cr.ID, "tagged", Start)
	elsewhere := e.ready(t, cr.ID, "another clip", Start)
	p1, p2 := e.product(t, b1.ID, "lamp"), e.product(t, b2.ID, "chair")
	var all, active, ofB2 []*shopclip.Tag
	for i := range 36 {
		br, p := b1, p1
		if i%2 == 1 {
			br, p = b2, p2
		}
		tg := e.tag(t, c.ID, p.ID, br.ID, int64(i/3)*1000) // three tags a start
		switch i % 3 {
		case 1:
			ok(t, "approve", e.s.SetTagStatus(e.ctx, tg.ID, shopclip.TagActive))
			tg.Status = shopclip.TagActive
			active = append(active, tg)
		case 2:
			ok(t, "reject", e.s.SetTagStatus(e.ctx, tg.ID, shopclip.TagRejected))
			tg.Status = shopclip.TagRejected
		}
		all = append(all, tg)
		if br == b2 {
			ofB2 = append(ofB2, tg)
		}
	}
	e.tag(t, elsewhere.ID, p1.ID, b1.ID, 0)
	order := func(ts []*shopclip.Tag) []string {
		ts = slices.Clone(ts)
		slices.SortFunc(ts, func(x, y *shopclip.Tag) int {
			if x.StartMS != y.StartMS {
				return int(x.StartMS - y.StartMS)
			}
			return strings.Compare(x.ID, y.ID)
		})
		return tagIDs(ts)
	}
	tests := []struct {
		name string
		q    shopclip.TagQuery
		want []string
	}{
		{"all", shopclip.TagQuery{}, order(all)},
		{"active", shopclip.TagQuery{Statuses: []shopclip.TagStatus{shopclip.TagActive}}, order(active)},
		{"of b2", shopclip.TagQuery{BrandID: b2.ID}, order(ofB2)},
		{"none of a stranger", shopclip.TagQuery{BrandID: cr.ID}, nil},
	}
	for _, tt := range tests {
		for _, size := range []int{1, 5, 100} {
			got := walk(t, tt.name, size, 100,
				func(p shopclip.Page) ([]*shopclip.Tag, error) {
					q := tt.q
					q.Page = p
					return e.s.ClipTags(e.ctx, c.ID, q)
				},
				func(tg *shopclip.Tag) string { return tg.ID }, shopclip.TagCursor, nil)
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s in pages of %d:", tt.name, size)
				reportDiff(t, got, tt.want)
			}
		}
	}
	got, err := e.s.ClipTags(e.ctx, c.ID, shopclip.TagQuery{Statuses: []shopclip.TagStatus{shopclip.TagPending, shopclip.TagRejected}, Page: shopclip.Page{Limit: 3}})
	ok(t, "pending or rejected", err)
	for _, tg := range got {
		if tg.Status == shopclip.TagActive || tg.ClipID != c.ID {
			t.Errorf("pending or rejected listed %+v", tg)
		}
	}
	if len(got) != 3 {
		t.Errorf("pending or rejected, limit 3: %d tags", len(got))
	}
}

// testTagQuotas: each quota refuses the tag over it with ECONFLICT; a
// rejected tag frees its place and cannot come back over a quota.
func testTagQuotas(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	c := e.ready(t, cr.ID, "popular", Start)
	brands := make([]*shopclip.Account, 3)
	products := make([]*shopclip.Product, 3)
	for i := range brands {
		brands[i] = e.account(t, shopclip.RoleBrand, fmt.Sprintf("b%d", i))
		products[i] = e.product(t, brands[i].ID, "thing")
	}
	create := func(b int, status shopclip.TagStatus) (*shopclip.Tag, error) {
		tg := &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: products[b].ID, BrandID: brands[b].ID,
			StartMS: 0, EndMS: 1000, X: 0.5, Y: 0.5, Status: status}
		return tg, e.s.CreateTag(e.ctx, tg)
	}
	// One brand: MaxTagsPerBrandClip on the clip, pending and active alike.
	var first []*shopclip.Tag
	for i := range shopclip.MaxTagsPerBrandClip {
		status := shopclip.TagPending
		if i%2 == 0 {
			status = shopclip.TagActive
		}
		tg, err := create(0, status)
		ok(t, fmt.Sprintf("tag %d of b0", i), err)
		first = append(first, tg)
	}
	_, err := create(0, shopclip.TagPending)
	wantCode(t, "one tag over the brand's quota on the clip", err, shopclip.ECONFLICT)
	_, err = create(0, shopclip.TagActive)
	wantCode(t, "one active tag over the brand's quota on the clip", err, shopclip.ECONFLICT)
	_, err = create(0, shopclip.TagRejected)
	ok(t, "a rejected tag takes no place", err)
	// Rejecting frees a place; the rejected tag cannot come back over it.
	ok(t, "reject", e.s.SetTagStatus(e.ctx, first[1].ID, shopclip.TagRejected))
	_, err = create(0, shopclip.TagPending)
	ok(t, "tag in the freed place", err)
	wantCode(t, "approving a rejected tag over the quota", e.s.SetTagStatus(e.ctx, first[1].ID, shopclip.TagActive), shopclip.ECONFLICT)
	ok(t, "approving a pending tag", e.s.SetTagStatus(e.ctx, first[3].ID, shopclip.TagActive))

	// All brands: MaxTagsPerClip on the clip.
	for i := shopclip.MaxTagsPerBrandClip; i < shopclip.MaxTagsPerClip; i++ {
		_, err := create(1+i%2, shopclip.TagPending)
		ok(t, fmt.Sprintf("tag %d of the clip", i), err)
	}
	_, err = create(2, shopclip.TagPending)
	wantCode(t, "one tag over the clip's quota", err, shopclip.ECONFLICT)
	live, err := e.s.ClipTags(e.ctx, c.ID, shopclip.TagQuery{Statuses: []shopclip.TagStatus{shopclip.TagPending, shopclip.TagActive}})
	ok(t, "live tags", err)
	if len(live) != shopclip.MaxTagsPerClip {
		t.Errorf("the clip holds %d pending or active tags, want %d", len(live), shopclip.MaxTagsPerClip)
	}
	_, err = e.s.ClipTags(e.ctx, c.ID, shopclip.TagQuery{})
	ok(t, "all tags", err)
}

// testPendingTagQuota: a brand holds at most MaxPendingTagsPerBrand pending
// tags over all clips; an active one does not count, and a decision frees a
// place.
func testPendingTagQuota(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	br := e.account(t, shopclip.RoleBrand, "brand")
	p := e.product(t, br.ID, "thing")
	perClip := shopclip.MaxTagsPerBrandClip
	clips := (shopclip.MaxPendingTagsPerBrand + perClip - 1) / perClip
	var last *shopclip.Tag
	n := 0
	for i := range clips + 1 {
		c := e.clip(t, cr.ID, fmt.Sprintf("c%d", i))
		for range perClip {
			if n == shopclip.MaxPendingTagsPerBrand {
				break
			}
			last = e.tag(t, c.ID, p.ID, br.ID, 0)
			n++
		}
	}
	spare := e.clip(t, cr.ID, "spare")
	tg := &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: spare.ID, ProductID: p.ID, BrandID: br.ID, EndMS: 1000, Status: shopclip.TagPending}
	wantCode(t, "one pending tag over the brand's quota", e.s.CreateTag(e.ctx, tg), shopclip.ECONFLICT)
	active := &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: spare.ID, ProductID: p.ID, BrandID: br.ID, EndMS: 1000, Status: shopclip.TagActive}
	ok(t, "an active tag is not pending", e.s.CreateTag(e.ctx, active))
	wantCode(t, "making an active tag pending over the quota", e.s.SetTagStatus(e.ctx, active.ID, shopclip.TagPending), shopclip.ECONFLICT)
	ok(t, "approve one", e.s.SetTagStatus(e.ctx, last.ID, shopclip.TagActive))
	ok(t, "pending tag in the freed place", e.s.CreateTag(e.ctx, tg))
}

// testConcurrentTagQuota: concurrent creations on one clip by one brand
// cannot both take the last place: exactly MaxTagsPerBrandClip succeed.
func testConcurrentTagQuota(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	br := e.account(t, shopclip.RoleBrand, "brand")
	c := e.ready(t, cr.ID, "contested", Start)
	p := e.product(t, br.ID, "thing")
	const tries = 3 * shopclip.MaxTagsPerBrandClip
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	start := make(chan struct{})
	for range tries {
		wg.Go(func() {
			<-start
			err := e.s.CreateTag(e.ctx, &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: p.ID,
				BrandID: br.ID, EndMS: 1000, Status: shopclip.TagPending})
			mu.Lock()
			codes[shopclip.ErrorCode(err)]++
			mu.Unlock()
			if err != nil && shopclip.ErrorCode(err) != shopclip.ECONFLICT {
				t.Errorf("concurrent create tag: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if codes[""] != shopclip.MaxTagsPerBrandClip || codes[shopclip.ECONFLICT] != tries-shopclip.MaxTagsPerBrandClip {
		t.Errorf("of %d concurrent creations: %d succeeded and %d conflicted, want %d and %d (codes %v)",
			tries, codes[""], codes[shopclip.ECONFLICT], shopclip.MaxTagsPerBrandClip, tries-shopclip.MaxTagsPerBrandClip, codes)
	}
	got, err := e.s.ClipTags(e.ctx, c.ID, shopclip.TagQuery{})
	ok(t, "clip tags", err)
	if len(got) != shopclip.MaxTagsPerBrandClip {
		t.Errorf("the clip holds %d tags, want %d", len(got), shopclip.MaxTagsPerBrandClip)
	}
}

// reportDiff says how got differs from want: IDs missing, IDs listed more
// than once, IDs not wanted, or only the order.
func reportDiff(t *testing.T, got, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, id := range got {
		count[id]++
	}
	missing, repeated, extra := 0, 0, 0
	for _, id := range want {
		if count[id] == 0 {
			missing++
		}
	}
	for id, n := range count {
		if n > 1 {
			repeated++
		}
		if !slices.Contains(want, id) {
			extra++
		}
	}
	t.Errorf("\tgot %d, want %d: %d missing, %d listed more than once, %d not wanted (else the order differs)",
		len(got), len(want), missing, repeated, extra)
}
