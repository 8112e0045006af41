package storetest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// RunDiscovery runs the conformance suite of shopclip.Discovery as subtests
// of t. open must return a new, empty store for the subtest it is given,
// implementing Clocked, and the Discovery over that store's data (for
// *store.DB, the same value twice), and close them when that subtest ends
// (t.Cleanup). The suite fills the store through shopclip.Store and reads it
// back through Discovery. Subtests run in parallel.
//
// The suite checks what both SQL dialects agree on: which clips a search
// finds (words and word starts, case-insensitive, CJK, through active tags
// only, ready clips only), that no query syntax of either full-text engine
// leaks through, ranking where bm25 and ts_rank agree, and the order and
// filters of the deal, creator and featured-creator lists.
func RunDiscovery(t *testing.T, open func(t *testing.T) (shopclip.Store, shopclip.Discovery)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *discoveryEnv)
	}{
		{"Search", testSearch},
		{"SearchHostileQueries", testSearchHostile},
		{"SearchRanking", testSearchRanking},
		{"SearchLimit", testSearchLimit},
		{"SearchFollowsChanges", testSearchFollowsChanges},
		{"DealClips", testDealClips},
		{"CreatorFeed", testCreatorFeed},
		{"CreatorProducts", testCreatorProducts},
		{"FeaturedCreators", testFeaturedCreators},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, d := open(t)
			tt.fn(t, &discoveryEnv{env: newEnv(t, s), d: d})
		})
	}
}

// discoveryEnv is env with the Discovery under test.
type discoveryEnv struct {
	*env
	d shopclip.Discovery
}

// tagWith makes a tag of a product in a clip with status s.
func (e *env) tagWith(t *testing.T, clipID string, p *shopclip.Product, s shopclip.TagStatus) *shopclip.Tag {
	t.Helper()
	tg := e.tag(t, clipID, p.ID, p.BrandID, 0)
	if s != shopclip.TagPending {
		ok(t, "set tag status", e.s.SetTagStatus(e.ctx, tg.ID, s))
		tg.Status = s
	}
	return tg
}

// unready makes a clip in every status but ready (uploaded, processing,
// failed), titled title plus the status in parentheses.
func (e *env) unready(t *testing.T, creatorID, title string) []*shopclip.Clip {
	t.Helper()
	up := e.clip(t, creatorID, title+" (uploaded)")
	proc := e.clip(t, creatorID, title+" (processing)")
	_, err := e.s.StartClipAttempt(e.ctx, proc.ID, shopclip.NewID(shopclip.PrefixAttempt))
	ok(t, "start", err)
	failed := e.clip(t, creatorID, title+" (failed)")
	att := shopclip.NewID(shopclip.PrefixAttempt)
	_, err = e.s.StartClipAttempt(e.ctx, failed.ID, att)
	ok(t, "start", err)
	ok(t, "fail", e.s.FailClip(e.ctx, failed.ID, att, shopclip.Errorf(shopclip.EMEDIAEMPTY, "empty")))
	return []*shopclip.Clip{up, proc, failed}
}

// discount gives a product a 10% discount from starts until ends.
func (e *env) discount(t *testing.T, productID string, starts, ends time.Time) {
	t.Helper()
	ok(t, "create discount", e.s.CreateDiscount(e.ctx, &shopclip.Discount{ID: shopclip.NewID(shopclip.PrefixDiscount),
		ProductID: productID, Kind: shopclip.DiscountPercent, PercentOff: 10, StartsAt: starts, EndsAt: ends}))
}

// event records an event of type typ on a clip ("" for none) at a time.
func (e *env) event(t *testing.T, typ shopclip.EventType, clipID string, at time.Time) {
	t.Helper()
	_, _, err := e.s.RecordEvent(e.ctx, &shopclip.Event{ID: shopclip.NewID("evt"), Type: typ, SessionID: "s", ClipID: clipID,
		OrderID: "o", AmountMinor: 100, Currency: "USD", At: at}, "")
	ok(t, "record "+string(typ), err)
}

// search returns the titles of the clips a search finds, in order.
func (e *discoveryEnv) search(t *testing.T, query string, limit int) []string {
	t.Helper()
	cs, err := e.d.SearchClips(e.ctx, query, limit)
	ok(t, fmt.Sprintf("search %q", query), err)
	return titles(cs)
}

func titles(cs []*shopclip.Clip) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Title
	}
	return out
}

// sameSet fails t (without stopping it) unless got and want hold the same
// strings, in any order.
func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s = %q, want %q (in any order)", what, got, want)
	}
}

// ---- search ----------------------------------------------------------------

// searchFixture fills a store for the search tests: ready clips with these
// titles (published a minute apart, in order), clips in the other statuses,
// and the product "Leather handbag" tagged into clips with every status.
func searchFixture(t *testing.T, e *discoveryEnv) {
	t.Helper()
	cr := e.account(t, shopclip.RoleCreator, "creator")
	br := e.account(t, shopclip.RoleBrand, "brand")
	clips := map[string]*shopclip.Clip{}
	for i, title := range []string{
		"Summer dress haul", "Summer linen shirts", "夏季连衣裙 Summer dress", "WINTER COAT try-on", "Café crème",
		"Morning routine", "Evening routine", "Night routine", "Handbag haul",
	} {
		clips[title] = e.ready(t, cr.ID, title, Start.Add(time.Duration(i)*time.Minute))
	}
	e.unready(t, cr.ID, "Summer dress")
	failed := e.unready(t, cr.ID, "Routine")[2]

	bag := e.product(t, br.ID, "Leather handbag")
	e.tagWith(t, clips["Morning routine"].ID, bag, shopclip.TagActive)
	e.tagWith(t, clips["Evening routine"].ID, bag, shopclip.TagPending)
	e.tagWith(t, clips["Night routine"].ID, bag, shopclip.TagRejected)
	e.tagWith(t, failed.ID, bag, shopclip.TagActive)
	// Found by its title and by two tags of the product: listed once.
	e.tagWith(t, clips["Handbag haul"].ID, bag, shopclip.TagActive)
	e.tagWith(t, clips["Handbag haul"].ID, bag, shopclip.TagActive)
}

func testSearch(t *testing.T, e *discoveryEnv) {
	searchFixture(t, e)
	summer := []string{"Summer dress haul", "Summer linen shirts", "夏季连衣裙 Summer dress"}
	tests := []struct {
		name, query string
		want        []string
	}{
		{"title word", "linen", []string{"Summer linen shirts"}},
		{"every clip with the word, only ready ones", "summer", summer},
		{"word start", "summ", summer},
		{"case-insensitive query", "sUmMeR DRESS", []string{"Summer dress haul", "夏季连衣裙 Summer dress"}},
		{"case-insensitive title", "winter coat", []string{"WINTER COAT try-on"}},
		{"terms are ANDed", "summer haul", []string{"Summer dress haul"}},
		{"terms in any order", "haul summer", []string{"Summer dress haul"}},
		{"no clip has every term", "winter dress", nil},
		{"inside a word does not match", "inen", nil},
		{"longer than the word", "summers", nil},
		{"CJK by its leading characters", "夏季", []string{"夏季连衣裙 Summer dress"}},
		{"CJK whole word", "夏季连衣裙", []string{"夏季连衣裙 Summer dress"}},
		{"accented", "café", []string{"Café crème"}},
		{"a title with every status", "routine", []string{"Morning routine", "Evening routine", "Night routine"}},
		{"product title through active tags only", "leather", []string{"Morning routine", "Handbag haul"}},
		{"clip or product title, each clip once", "handbag", []string{"Morning routine", "Handbag haul"}},
		{"product terms are ANDed", "leather handbag", []string{"Morning routine", "Handbag haul"}},
		{"product word start", "hand leath", []string{"Morning routine", "Handbag haul"}},
		{"terms are not mixed across clip and product", "morning leather", nil},
	}
	for _, tt := range tests {
		sameSet(t, fmt.Sprintf("%s: search %q", tt.name, tt.query), e.search(t, tt.query, 100), tt.want)
	}

	// Found clips are whole.
	cs, err := e.d.SearchClips(e.ctx, "linen", 10)
	ok(t, "search", err)
	if len(cs) != 1 {
		t.Fatalf("search linen found %d clips, want 1", len(cs))
	}
	same(t, "found clip", cs[0], e.get(t, cs[0].ID))
}

func testSearchHostile(t *testing.T, e *discoveryEnv) {
	searchFixture(t, e)
	summer := []string{"Summer dress haul", "Summer linen shirts", "夏季连衣裙 Summer dress"}
	dress := []string{"Summer dress haul", "夏季连衣裙 Summer dress"}
	// Syntax of FTS5 and of to_tsquery is only a separator: every query
	// means its words, ANDed. None fails.
	tests := []struct {
		query string
		want  []string
	}{
		{`"summer" OR "linen"`, nil}, // summer AND or AND linen
		{`summer | linen`, []string{"Summer linen shirts"}},
		{`summer -dress`, dress},
		{`summer NOT dress`, nil},
		{`summer & !dress`, dress},
		{`summer <-> dress`, dress},
		{`summer:* & dress:*`, dress},
		{`summer AND`, nil},
		{`+summer +dress`, dress},
		{`title:linen`, nil},
		{`title : linen`, nil},
		{`{title}: linen`, nil},
		{`clip_id:clp`, nil},
		{`NEAR(summer dress, 2)`, nil},
		{`summer*`, summer},
		{`^summer`, summer},
		{`(summer`, summer},
		{`summer)`, summer},
		{`"summer`, summer},
		{`summer'`, summer},
		{`summer\`, summer},
		{`\\summer\\dress\\`, dress},
		{`\'summer\'`, summer},
		{"summer\x00dress", dress},
		{"\x00summer", summer},
		{"\xffsumm\xfeer\xc3", nil}, // invalid bytes separate: summ AND er
		{"\xffsummer\xfe", summer},
		{`' OR 1=1 --`, nil},
		{`'); DROP TABLE clips; --`, nil},
		{`summer%`, summer},
		{`%_`, nil},
		{strings.Repeat("summer ", 2000), summer},
		{strings.Repeat("a", 1000), nil},
		{strings.Repeat("(\"'*:", 500), nil},
		{"", nil},
		{"   ", nil},
		{`"`, nil},
		{`'`, nil},
		{`*`, nil},
		{`:*&|!<->()"'\-^{}[],.;`, nil},
		{"\x00\x00", nil},
		{"\xff\xfe", nil},
		{"\u0301", nil}, // a combining mark alone
	}
	for _, tt := range tests {
		sameSet(t, fmt.Sprintf("search %q", tt.query), e.search(t, tt.query, 100), tt.want)
	}
	// Nothing was dropped.
	sameSet(t, "search summer after the hostile queries", e.search(t, "summer", 100), summer)
}

func testSearchRanking(t *testing.T, e *discoveryEnv) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	br := e.account(t, shopclip.RoleBrand, "brand")
	// Each clip is newer than the one that should rank before it, so that
	// publication order alone would get the ranking backwards.
	e.ready(t, cr.ID, "red red red", Start)
	e.ready(t, cr.ID, "red blue green", Start.Add(time.Hour))
	viaProduct := e.ready(t, cr.ID, "Autumn picks", Start.Add(2*time.Hour))
	e.tagWith(t, viaProduct.ID, e.product(t, br.ID, "red red scarf"), shopclip.TagActive)
	// A clip's own title outranks a product's, even a better scored one.
	if got, want := e.search(t, "red", 10), []string{"red red red", "red blue green", "Autumn picks"}; !slices.Equal(got, want) {
		t.Errorf("search red = %q, want %q (more occurrences first, then through a product)", got, want)
	}

	// Equal scores: newest first, then by ID, descending.
	older := e.ready(t, cr.ID, "blue sky", Start)
	newer1 := e.ready(t, cr.ID, "blue sky", Start.Add(time.Hour))
	newer2 := e.ready(t, cr.ID, "blue sky", Start.Add(time.Hour))
	if newer1.ID < newer2.ID {
		newer1, newer2 = newer2, newer1
	}
	cs, err := e.d.SearchClips(e.ctx, "sky", 10)
	ok(t, "search sky", err)
	if got, want := ids(cs), []string{newer1.ID, newer2.ID, older.ID}; !slices.Equal(got, want) {
		t.Errorf("search sky = %v, want %v (newest, then greater ID)", got, want)
	}
}

func testSearchLimit(t *testing.T, e *discoveryEnv) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	for i := range 5 {
		e.ready(t, cr.ID, fmt.Sprintf("look %d", i), Start.Add(time.Duration(i)*time.Minute))
	}
	for _, tt := range []struct{ limit, want int }{{2, 2}, {5, 5}, {100, 5}, {1000, 5}, {1, 1}, {0, 1}, {-3, 1}} {
		if got := e.search(t, "look", tt.limit); len(got) != tt.want {
			t.Errorf("search with limit %d found %d clips, want %d", tt.limit, len(got), tt.want)
		}
	}
	// Equal scores: the limit keeps the newest.
	if got, want := e.search(t, "look", 2), []string{"look 4", "look 3"}; !slices.Equal(got, want) {
		t.Errorf("search with limit 2 = %q, want %q", got, want)
	}
}

// testSearchFollowsChanges checks that search sees writes at once, and that
// a removed or changed title no longer matches (a full-text index kept
// beside the tables must follow them).
func testSearchFollowsChanges(t *testing.T, e *discoveryEnv) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	br := e.account(t, shopclip.RoleBrand, "brand")
	morning := e.ready(t, cr.ID, "Morning routine", Start)
	evening := e.ready(t, cr.ID, "Evening routine", Start.Add(time.Minute))
	bag := e.product(t, br.ID, "Leather handbag")
	e.tagWith(t, morning.ID, bag, shopclip.TagActive)
	pending := e.tagWith(t, evening.ID, bag, shopclip.TagPending)
	sameSet(t, "search handbag", e.search(t, "handbag", 10), []string{"Morning routine"})

	// A renamed product is found by its new title only.
	bag.Title = "Canvas tote"
	ok(t, "rename product", e.s.UpdateProduct(e.ctx, bag))
	sameSet(t, "search handbag after the rename", e.search(t, "handbag", 10), nil)
	sameSet(t, "search tote after the rename", e.search(t, "canvas tote", 10), []string{"Morning routine"})
	// Other updates keep it found.
	bag.PriceMinor = 999
	ok(t, "reprice product", e.s.UpdateProduct(e.ctx, bag))
	sameSet(t, "search tote after the repricing", e.search(t, "tote", 10), []string{"Morning routine"})

	// Tags count from when they are active until they are not.
	ok(t, "approve", e.s.SetTagStatus(e.ctx, pending.ID, shopclip.TagActive))
	sameSet(t, "search tote after approval", e.search(t, "tote", 10), []string{"Morning routine", "Evening routine"})
	ok(t, "reject", e.s.SetTagStatus(e.ctx, pending.ID, shopclip.TagRejected))
	sameSet(t, "search tote after rejection", e.search(t, "tote", 10), []string{"Morning routine"})

	// A clip is found once it is ready.
	spring := e.clip(t, cr.ID, "Spring look")
	sameSet(t, "search spring before publication", e.search(t, "spring", 10), nil)
	att := shopclip.NewID(shopclip.PrefixAttempt)
	_, err := e.s.StartClipAttempt(e.ctx, spring.ID, att)
	ok(t, "start", err)
	ok(t, "publish", e.s.PublishClip(e.ctx, spring.ID, att, pub("g1")))
	sameSet(t, "search spring after publication", e.search(t, "spring", 10), []string{"Spring look"})

	// A deleted clip is gone, and its title does not come back with a new
	// clip of the same ID.
	ok(t, "delete", e.s.DeleteClip(e.ctx, spring.ID))
	sameSet(t, "search spring after the delete", e.search(t, "spring", 10), nil)
	again := &shopclip.Clip{ID: spring.ID, CreatorID: cr.ID, Title: "Autumn look", OriginalKey: "originals/again"}
	ok(t, "create clip again", e.s.CreateClip(e.ctx, again))
	att = shopclip.NewID(shopclip.PrefixAttempt)
	_, err = e.s.StartClipAttempt(e.ctx, again.ID, att)
	ok(t, "start", err)
	ok(t, "publish", e.s.PublishClip(e.ctx, again.ID, att, pub("g1")))
	sameSet(t, "search spring after the ID is reused", e.search(t, "spring", 10), nil)
	sameSet(t, "search autumn after the ID is reused", e.search(t, "autumn", 10), []string{"Autumn look"})
	sameSet(t, "search look after the ID is reused", e.search(t, "look", 10), []string{"Autumn look"})

	// Deleting a clip with an active tag drops the tag from search too.
	ok(t, "delete morning", e.s.DeleteClip(e.ctx, morning.ID))
	sameSet(t, "search tote after deleting a tagged clip", e.search(t, "tote", 10), nil)
}

// ---- lists -----------------------------------------------------------------

func testDealClips(t *testing.T, e *discoveryEnv) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	br := e.account(t, shopclip.RoleBrand, "brand")
	// now is outside UTC with nanoseconds: the store converts and rounds it.
	now := Start.Add(10*24*time.Hour + 7*time.Nanosecond)
	product := func(title string, starts, ends time.Duration) *shopclip.Product {
		p := e.product(t, br.ID, title)
		e.discount(t, p.ID, now.Add(starts), now.Add(ends))
		return p
	}
	soon := product("ends in 1h", -time.Hour, time.Hour)
	mid := product("ends in 2h", -24*time.Hour, 2*time.Hour)
	late := product("ends in 3h", -time.Minute, 3*time.Hour)
	startsNow := product("starts now", 0, 5*time.Hour)
	future := product("starts in 1h", time.Hour, 6*time.Hour)
	endsNow := product("ends now", -time.Hour, 0)
	ended := product("ended", -48*time.Hour, -24*time.Hour)
	none := e.product(t, br.ID, "no discount")
	// A product with an ended and a later discount is on sale until the
	// later one ends.
	twice := product("ended, then 4h", -48*time.Hour, -24*time.Hour)
	e.discount(t, twice.ID, now.Add(-time.Hour), now.Add(4*time.Hour))

	clip := func(title string, at time.Duration, ps ...*shopclip.Product) *shopclip.Clip {
		c := e.ready(t, cr.ID, title, Start.Add(at))
		for _, p := range ps {
			e.tagWith(t, c.ID, p, shopclip.TagActive)
		}
		return c
	}
	two := clip("two sales", 0, late, soon) // once, at its soonest end
	one := clip("one sale", time.Minute, mid)
	tie := clip("one sale, newer", 2*time.Minute, mid) // same end: newest first
	clip("starts now", 3*time.Minute, startsNow)
	clip("later discount", 4*time.Minute, twice)
	clip("not started", 5*time.Minute, future)
	clip("ends now", 6*time.Minute, endsNow)
	clip("ended", 7*time.Minute, ended)
	clip("no discount", 8*time.Minute, none)
	clip("no tags", 9*time.Minute)
	for _, s := range []shopclip.TagStatus{shopclip.TagPending, shopclip.TagRejected} {
		c := clip("tag "+string(s), 10*time.Minute)
		e.tagWith(t, c.ID, soon, s)
	}
	for _, c := range e.unready(t, cr.ID, "on sale") {
		e.tagWith(t, c.ID, soon, shopclip.TagActive)
	}

	cs, err := e.d.DealClips(e.ctx, now, 100)
	ok(t, "deal clips", err)
	want := []string{"two sales", "one sale, newer", "one sale", "later discount", "starts now"}
	if got := titles(cs); !slices.Equal(got, want) {
		t.Errorf("deal clips = %q, want %q (soonest-ending sale first)", got, want)
	}
	if len(cs) == len(want) {
		same(t, "deal clip", cs[0], e.get(t, two.ID))
		if cs[1].ID != tie.ID || cs[2].ID != one.ID {
			t.Errorf("equal ends: %s before %s, want the newer %s first", cs[1].ID, cs[2].ID, tie.ID)
		}
	}

	cs, err = e.d.DealClips(e.ctx, now, 2)
	ok(t, "deal clips", err)
	if got, want := titles(cs), want[:2]; !slices.Equal(got, want) {
		t.Errorf("deal clips with limit 2 = %q, want %q", got, want)
	}
	cs, err = e.d.DealClips(e.ctx, now, 0)
	ok(t, "deal clips", err)
	if got, want := titles(cs), want[:1]; !slices.Equal(got, want) {
		t.Errorf("deal clips with limit 0 = %q, want %q", got, want)
	}

	// Later, other sales are on.
	cs, err = e.d.DealClips(e.ctx, now.Add(150*time.Minute), 100)
	ok(t, "deal clips later", err)
	if got, want := titles(cs), []string{"two sales", "later discount", "starts now", "not started"}; !slices.Equal(got, want) {
		t.Errorf("deal clips 2.5 hours later = %q, want %q", got, want)
	}
	cs, err = e.d.DealClips(e.ctx, now.Add(-72*time.Hour), 100)
	ok(t, "deal clips before every sale", err)
	if len(cs) != 0 {
		t.Errorf("deal clips before every sale = %q, want none", titles(cs))
	}
}

func testCreatorFeed(t *testing.T, e *discoveryEnv) {
	a := e.account(t, shopclip.RoleCreator, "a")
	b := e.account(t, shopclip.RoleCreator, "b")
	var mine []*shopclip.Clip
	for i := range 7 {
		// Pairs share a publication time, so pages split them and the ID
		// tie-break matters; b's clips are interleaved with a's.
		at := Start.Add(time.Duration(i/2) * time.Minute)
		mine = append(mine, e.ready(t, a.ID, fmt.Sprintf("a %d", i), at))
		e.ready(t, b.ID, fmt.Sprintf("b %d", i), at)
	}
	e.unready(t, a.ID, "a draft")
	want := slices.Clone(mine)
	sort.Slice(want, func(i, j int) bool {
		x, y := want[i], want[j]
		if !x.PublishedAt.Equal(*y.PublishedAt) {
			return x.PublishedAt.After(*y.PublishedAt)
		}
		return x.ID > y.ID
	})

	got, sizes := pageThrough(t, "creator feed", func(c shopclip.FeedCursor) ([]*shopclip.Clip, error) { return e.d.CreatorFeed(e.ctx, a.ID, c, 3) })
	if !slices.Equal(sizes, []int{3, 3, 1, 0}) {
		t.Errorf("page sizes = %v, want [3 3 1 0]", sizes)
	}
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("creator feed:\n got %v\nwant %v", ids(got), ids(want))
	}
	for i := range got {
		same(t, "creator feed clip "+got[i].ID, got[i], want[i])
	}

	// A cursor is strictly exclusive, also between clips of one time.
	mid := want[2]
	cs, err := e.d.CreatorFeed(e.ctx, a.ID, shopclip.FeedCursor{PublishedAt: *mid.PublishedAt, ID: mid.ID}, 2)
	ok(t, "creator feed after mid", err)
	if !slices.Equal(ids(cs), ids(want[3:5])) {
		t.Errorf("creator feed after %s = %v, want %v", mid.ID, ids(cs), ids(want[3:5]))
	}
	for _, limit := range []int{0, -1} {
		cs, err := e.d.CreatorFeed(e.ctx, a.ID, shopclip.FeedCursor{}, limit)
		ok(t, "creator feed", err)
		if !slices.Equal(ids(cs), ids(want[:1])) {
			t.Errorf("creator feed with limit %d = %v, want %v", limit, ids(cs), ids(want[:1]))
		}
	}
	cs, err = e.d.CreatorFeed(e.ctx, shopclip.NewID(shopclip.PrefixAccount), shopclip.FeedCursor{}, 10)
	ok(t, "feed of an unknown creator", err)
	if len(cs) != 0 {
		t.Errorf("feed of an unknown creator = %v, want none", ids(cs))
	}
}

func testCreatorProducts(t *testing.T, e *discoveryEnv) {
	a := e.account(t, shopclip.RoleCreator, "a")
	b := e.account(t, shopclip.RoleCreator, "b")
	br := e.account(t, shopclip.RoleBrand, "brand")
	r1 := e.ready(t, a.ID, "r1", Start)
	r2 := e.ready(t, a.ID, "r2", Start)
	draft := e.unready(t, a.ID, "draft")
	other := e.ready(t, b.ID, "b's", Start)
	ps := map[string]*shopclip.Product{}
	for _, name := range []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7"} {
		ps[name] = e.product(t, br.ID, name)
	}
	t1, t2, t3 := Start.Add(time.Hour), Start.Add(2*time.Hour), Start.Add(3*time.Hour)
	tagAt := func(at time.Time, c *shopclip.Clip, p string, s shopclip.TagStatus) {
		e.freeze(at)
		e.tagWith(t, c.ID, ps[p], s)
		e.tick()
	}
	tagAt(t1, r1, "p1", shopclip.TagActive)
	tagAt(t2, r1, "p2", shopclip.TagActive)
	tagAt(t3, r1, "p3", shopclip.TagPending)
	tagAt(t3, r1, "p4", shopclip.TagRejected)
	tagAt(t3, r2, "p1", shopclip.TagActive) // p1 again, later: listed once, at t3
	tagAt(t3, r2, "p5", shopclip.TagActive)
	tagAt(t1, r2, "p2", shopclip.TagActive)
	for _, c := range draft {
		tagAt(t3.Add(time.Hour), c, "p6", shopclip.TagActive)
	}
	tagAt(t3.Add(time.Hour), other, "p7", shopclip.TagActive)

	// p1 and p5 were last tagged at once: by ID.
	first, second := ps["p1"], ps["p5"]
	if second.ID < first.ID {
		first, second = second, first
	}
	want := []*shopclip.Product{e.reread(t, first), e.reread(t, second), e.reread(t, ps["p2"])}
	got, err := e.d.CreatorProducts(e.ctx, a.ID, 10)
	ok(t, "creator products", err)
	same(t, "creator products (latest tagged first, then by ID)", got, want)
	got, err = e.d.CreatorProducts(e.ctx, a.ID, 2)
	ok(t, "creator products", err)
	same(t, "creator products with limit 2", got, want[:2])
	got, err = e.d.CreatorProducts(e.ctx, a.ID, 0)
	ok(t, "creator products", err)
	same(t, "creator products with limit 0", got, want[:1])

	got, err = e.d.CreatorProducts(e.ctx, b.ID, 10)
	ok(t, "creator products of b", err)
	same(t, "creator products of b", got, []*shopclip.Product{e.reread(t, ps["p7"])})
	got, err = e.d.CreatorProducts(e.ctx, br.ID, 10)
	ok(t, "creator products of a brand", err)
	if len(got) != 0 {
		t.Errorf("creator products of a brand = %d products, want none", len(got))
	}
}

// reread returns the product as the store has it.
func (e *env) reread(t *testing.T, p *shopclip.Product) *shopclip.Product {
	t.Helper()
	got, err := e.s.Product(e.ctx, p.ID)
	ok(t, "product", err)
	return got
}

func testFeaturedCreators(t *testing.T, e *discoveryEnv) {
	// since is outside UTC with nanoseconds: the store converts and rounds
	// it.
	since := Start.Add(30*24*time.Hour + 999*time.Nanosecond)
	creator := func(name string) *shopclip.Account { return e.account(t, shopclip.RoleCreator, name) }
	purchases := func(c *shopclip.Clip, n int, at time.Time) {
		for range n {
			e.event(t, shopclip.EventPurchase, c.ID, at)
		}
	}
	// a and b sell as much since the time; b published last.
	a := creator("a")
	a1 := e.ready(t, a.ID, "a1", Start)
	a2 := e.ready(t, a.ID, "a2", Start.Add(time.Hour))
	purchases(a1, 1, since) // at since: counted
	purchases(a2, 2, since.Add(time.Hour))
	purchases(a1, 5, since.Add(-time.Microsecond)) // before: not counted
	b := creator("b")
	b1 := e.ready(t, b.ID, "b1", Start.Add(2*time.Hour))
	purchases(b1, 3, since.Add(time.Minute))
	// c sells once; unattributed purchases and other events count for no
	// one.
	c := creator("c")
	c1 := e.ready(t, c.ID, "c1", Start)
	purchases(c1, 1, since.Add(time.Minute))
	for range 10 {
		e.event(t, shopclip.EventPurchase, "", since.Add(time.Minute))
	}
	for _, typ := range []shopclip.EventType{shopclip.EventView, shopclip.EventImpression, shopclip.EventClick} {
		for range 4 {
			e.event(t, typ, c1.ID, since.Add(time.Minute))
		}
	}
	// d and e sell nothing; d published last.
	d := creator("d")
	e.ready(t, d.ID, "d1", Start.Add(5*time.Hour))
	e2 := creator("e")
	e.ready(t, e2.ID, "e1", Start.Add(4*time.Hour))
	e.ready(t, e2.ID, "e2", Start.Add(3*time.Hour))
	// f has no ready clip: absent, though its drafts sold.
	f := creator("f")
	for _, dc := range e.unready(t, f.ID, "f draft") {
		purchases(dc, 10, since.Add(time.Minute))
	}
	// g has no clip at all; an admin's ready clip does not make it a
	// creator.
	creator("g")
	admin := e.account(t, shopclip.RoleAdmin, "admin")
	purchases(e.ready(t, admin.ID, "admin's", Start), 10, since.Add(time.Minute))

	got, err := e.d.FeaturedCreators(e.ctx, since, 100)
	ok(t, "featured creators", err)
	want := []shopclip.CreatorSales{
		{Creator: b, Purchases: 3}, {Creator: a, Purchases: 3}, {Creator: c, Purchases: 1},
		{Creator: d, Purchases: 0}, {Creator: e2, Purchases: 0},
	}
	same(t, "featured creators", got, want)
	got, err = e.d.FeaturedCreators(e.ctx, since, 2)
	ok(t, "featured creators", err)
	same(t, "featured creators with limit 2", got, want[:2])
	got, err = e.d.FeaturedCreators(e.ctx, since, 0)
	ok(t, "featured creators", err)
	same(t, "featured creators with limit 0", got, want[:1])

	// Since an earlier time, a's older purchases count.
	got, err = e.d.FeaturedCreators(e.ctx, since.Add(-time.Hour), 3)
	ok(t, "featured creators since earlier", err)
	same(t, "featured creators since an hour earlier", got, []shopclip.CreatorSales{
		{Creator: a, Purchases: 8}, {Creator: b, Purchases: 3}, {Creator: c, Purchases: 1},
	})
	// Since after every purchase, by latest publication alone.
	got, err = e.d.FeaturedCreators(e.ctx, since.Add(24*time.Hour), 100)
	ok(t, "featured creators since later", err)
	same(t, "featured creators since a day later", got, []shopclip.CreatorSales{
		{Creator: d}, {Creator: e2}, {Creator: b}, {Creator: a}, {Creator: c},
	})
}
