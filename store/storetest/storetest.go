// Package storetest is the conformance suite of shopclip.Store. Every store
// backend (package store on SQLite and on PostgreSQL) runs the same suite, so
// the dialects cannot drift apart:
//
//	func TestSQLite(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) shopclip.Store { … })
//	}
//
// The suite checks round-trips of every field, the error codes of the
// contract, the clip attempt state machine (compare-and-set ownership,
// including under concurrency), feed pagination and counters.
package storetest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// Clocked is what a store under test implements so that the suite controls
// the time it stamps on CreatedAt, UpdatedAt and PublishedAt. *store.DB does.
type Clocked interface {
	SetNow(now func() time.Time)
}

// Start is the suite's clock start: a time outside UTC with nanoseconds, so
// that stores must convert to UTC and round to microseconds.
var Start = time.Date(2025, 6, 18, 20, 30, 15, 123456789, time.FixedZone("CST", 8*3600))

// Run runs the conformance suite as subtests of t. open must return a new,
// empty store for the subtest it is given, implementing Clocked, and close it
// when that subtest ends (t.Cleanup). Subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) shopclip.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"Ping", testPing},
		{"Accounts", testAccounts},
		{"APIKeys", testAPIKeys},
		{"ClipRoundTrip", testClipRoundTrip},
		{"ClipCreateErrors", testClipCreateErrors},
		{"AttemptTakeover", testAttemptTakeover},
		{"ProgressRange", testProgressRange},
		{"PublishRoundTrip", testPublishRoundTrip},
		{"PublishRequiresPublication", testPublishRequiresPublication},
		{"PublishRetrySameAttempt", testPublishRetry},
		{"FailClip", testFailClip},
		{"RecordClipCrash", testRecordClipCrash},
		{"ReadyClipStartUnchanged", testReadyStartUnchanged},
		{"ConcurrentPublishSameOwner", testConcurrentPublish},
		{"ConcurrentAttempts", testConcurrentAttempts},
		{"FeedPagination", testFeedPagination},
		{"FeedLimit", testFeedLimit},
		{"CreatorClips", testCreatorClips},
		{"StaleClips", testStaleClips},
		{"DeleteClipCascadesTags", testDeleteClip},
		{"Products", testProducts},
		{"BrandProducts", testBrandProducts},
		{"CreatorClipsPages", testCreatorClipsPages},
		{"BrandProductsPages", testBrandProductsPages},
		{"ClipTagsQuery", testClipTagsQuery},
		{"ApprovedBrandsPages", testApprovedBrandsPages},
		{"TagQuotas", testTagQuotas},
		{"PendingTagQuota", testPendingTagQuota},
		{"ConcurrentTagQuota", testConcurrentTagQuota},
		{"Discounts", testDiscounts},
		{"Tags", testTags},
		{"TagStatus", testTagStatus},
		{"ProductClipIDs", testProductClipIDs},
		{"ConcurrentTagClicks", testConcurrentTagClicks},
		{"ConcurrentMixedWrites", testConcurrentMixed},
		{"PriceHistory", testPriceHistory},
		{"FlashDiscount", testFlashDiscount},
		{"DiscountCap", testDiscountCap},
		{"BrandApprovals", testBrandApprovals},
		{"Events", testEvents},
		{"ClipShare", testClipShare},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			tt.fn(t, newEnv(t, s))
		})
	}
}

// newEnv is a subtest's env on s, the store's clock set to the suite's.
func newEnv(t *testing.T, s shopclip.Store) *env {
	t.Helper()
	c, isClocked := s.(Clocked)
	if !isClocked {
		t.Fatalf("store %T does not implement storetest.Clocked", s)
	}
	e := &env{s: s, clock: NewClock(Start, time.Second+333), ctx: t.Context()}
	c.SetNow(e.clock.Now)
	return e
}

// env is one subtest's store and clock, with fixture makers.
type env struct {
	s     shopclip.Store
	clock *Clock
	ctx   context.Context
}

// freeze stops the clock at t.
func (e *env) freeze(t time.Time) { e.clock.Set(t, 0) }

// tick restarts the clock after a freeze.
func (e *env) tick() { e.clock.Set(e.clock.Peek().Add(time.Second), time.Second+333) }

func (e *env) account(t *testing.T, role shopclip.Role, name string) *shopclip.Account {
	t.Helper()
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: name, Role: role}
	ok(t, "create account", e.s.CreateAccount(e.ctx, a))
	return a
}

func (e *env) clip(t *testing.T, creatorID, title string) *shopclip.Clip {
	t.Helper()
	c := &shopclip.Clip{
		ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: creatorID, Title: title,
		OriginalKey: "originals/" + title, OriginalSize: 1234, OriginalSHA256: strings.Repeat("ab", 32),
	}
	ok(t, "create clip", e.s.CreateClip(e.ctx, c))
	return c
}

func pub(gen string) *shopclip.Publication {
	return &shopclip.Publication{
		Generation: gen, OutputPrefix: "clips/x/" + gen + "/", DurationMS: 15_000, Width: 720, Height: 1280,
		Renditions: []shopclip.Rendition{
			{Name: "720p", Width: 720, Height: 1280, Bandwidth: 2_800_000, Codecs: "avc1.64001f,mp4a.40.2"},
			{Name: "360p", Width: 360, Height: 640, Bandwidth: 800_000},
		},
		HasMP4: true, HasPoster: true, HasStoryboard: true,
	}
}

// ready makes a clip and publishes it at time at.
func (e *env) ready(t *testing.T, creatorID, title string, at time.Time) *shopclip.Clip {
	t.Helper()
	c := e.clip(t, creatorID, title)
	att := shopclip.NewID(shopclip.PrefixAttempt)
	_, err := e.s.StartClipAttempt(e.ctx, c.ID, att)
	ok(t, "start attempt", err)
	prev := e.clock.Peek()
	e.freeze(at)
	ok(t, "publish", e.s.PublishClip(e.ctx, c.ID, att, pub("g1")))
	e.clock.Set(prev, time.Second+333)
	got, err := e.s.Clip(e.ctx, c.ID)
	ok(t, "get clip", err)
	return got
}

func (e *env) product(t *testing.T, brandID, title string) *shopclip.Product {
	t.Helper()
	p := &shopclip.Product{
		ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: brandID, SKU: "SKU-" + title, Title: title,
		Currency: "USD", PriceMinor: 1999, URL: "https://shop.example/p/1", InStock: true,
	}
	ok(t, "create product", e.s.CreateProduct(e.ctx, p))
	return p
}

func (e *env) tag(t *testing.T, clipID, productID, brandID string, startMS int64) *shopclip.Tag {
	t.Helper()
	tg := &shopclip.Tag{
		ID: shopclip.NewID(shopclip.PrefixTag), ClipID: clipID, ProductID: productID, BrandID: brandID,
		StartMS: startMS, EndMS: startMS + 2000, X: 0.25, Y: 0.75, Status: shopclip.TagPending,
	}
	ok(t, "create tag", e.s.CreateTag(e.ctx, tg))
	return tg
}

func (e *env) get(t *testing.T, id string) *shopclip.Clip {
	t.Helper()
	c, err := e.s.Clip(e.ctx, id)
	ok(t, "get clip "+id, err)
	return c
}

// ---- accounts and keys ----------------------------------------------------

func testPing(t *testing.T, e *env) {
	ok(t, "ping", e.s.Ping(e.ctx))
}

func testAccounts(t *testing.T, e *env) {
	for _, role := range []shopclip.Role{shopclip.RoleCreator, shopclip.RoleBrand, shopclip.RoleAdmin} {
		at := Start.Add(time.Duration(len(role)) * time.Hour)
		e.freeze(at)
		a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "小红书 " + string(role) + " 🎬", Role: role}
		ok(t, "create account", e.s.CreateAccount(e.ctx, a))
		want := &shopclip.Account{ID: a.ID, Name: a.Name, Role: role, CreatedAt: stored(at)}
		same(t, "created account", a, want)
		got, err := e.s.Account(e.ctx, a.ID)
		ok(t, "account", err)
		same(t, "account", got, want)
	}

	a := e.account(t, shopclip.RoleCreator, "dup")
	err := e.s.CreateAccount(e.ctx, &shopclip.Account{ID: a.ID, Name: "other", Role: shopclip.RoleBrand})
	wantCode(t, "duplicate account ID", err, shopclip.ECONFLICT)
	err = e.s.CreateAccount(e.ctx, &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "x", Role: "superuser"})
	wantCode(t, "unknown role", err, shopclip.EINVALID)
	_, err = e.s.Account(e.ctx, shopclip.NewID(shopclip.PrefixAccount))
	wantCode(t, "missing account", err, shopclip.ENOTFOUND)
}

func testAPIKeys(t *testing.T, e *env) {
	a := e.account(t, shopclip.RoleBrand, "Brand ☕")
	b := e.account(t, shopclip.RoleCreator, "creator")
	k := &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: a.ID, Hash: strings.Repeat("1f", 32)}
	at := e.clock.Peek()
	e.freeze(at)
	ok(t, "create key", e.s.CreateAPIKey(e.ctx, k))
	if !k.CreatedAt.Equal(stored(at)) {
		t.Errorf("key CreatedAt = %v, want %v", k.CreatedAt, stored(at))
	}
	e.tick()
	got, err := e.s.AccountByKeyHash(e.ctx, k.Hash)
	ok(t, "account by key", err)
	same(t, "account by key", got, a)

	revokedAt := Start.Add(-time.Hour)
	rk := &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: b.ID, Hash: strings.Repeat("2e", 32), RevokedAt: &revokedAt}
	ok(t, "create revoked key", e.s.CreateAPIKey(e.ctx, rk))
	_, err = e.s.AccountByKeyHash(e.ctx, rk.Hash)
	wantCode(t, "revoked key", err, shopclip.ENOTFOUND)
	_, err = e.s.AccountByKeyHash(e.ctx, strings.Repeat("00", 32))
	wantCode(t, "unknown key", err, shopclip.ENOTFOUND)

	err = e.s.CreateAPIKey(e.ctx, &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: b.ID, Hash: k.Hash})
	wantCode(t, "duplicate key hash", err, shopclip.ECONFLICT)
	err = e.s.CreateAPIKey(e.ctx, &shopclip.APIKey{ID: k.ID, AccountID: b.ID, Hash: strings.Repeat("3d", 32)})
	wantCode(t, "duplicate key ID", err, shopclip.ECONFLICT)
	err = e.s.CreateAPIKey(e.ctx, &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: shopclip.NewID(shopclip.PrefixAccount), Hash: strings.Repeat("4c", 32)})
	wantCode(t, "key of unknown account", err, shopclip.ENOTFOUND)
	err = e.s.CreateAPIKey(e.ctx, &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: b.ID})
	wantCode(t, "key without hash", err, shopclip.EINVALID)

	// The first key still authenticates its own account.
	got, err = e.s.AccountByKeyHash(e.ctx, k.Hash)
	ok(t, "account by key again", err)
	if got.ID != a.ID {
		t.Errorf("key authenticates %s, want %s", got.ID, a.ID)
	}
}

// ---- clips -----------------------------------------------------------------

func testClipRoundTrip(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	at := Start.Add(7 * time.Minute)
	e.freeze(at)
	c := &shopclip.Clip{
		ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: cr.ID, Title: "夏日穿搭 ☀️👗 — «été»",
		OriginalKey: "originals/clp/upload.mp4", OriginalSize: 987_654_321, OriginalSHA256: strings.Repeat("c0", 32),
		// Pipeline fields a caller might leave set: the store records a
		// fresh upload regardless.
		Status: shopclip.ClipReady, Progress: 0.5, Attempts: 3, AttemptID: "att_x", Generation: "g9",
	}
	ok(t, "create clip", e.s.CreateClip(e.ctx, c))
	want := &shopclip.Clip{
		ID: c.ID, CreatorID: cr.ID, Title: "夏日穿搭 ☀️👗 — «été»", Status: shopclip.ClipUploaded,
		OriginalKey: "originals/clp/upload.mp4", OriginalSize: 987_654_321, OriginalSHA256: strings.Repeat("c0", 32),
		CreatedAt: stored(at), UpdatedAt: stored(at),
	}
	same(t, "created clip", c, want)
	same(t, "clip", e.get(t, c.ID), want)

	// Empty optional fields stay empty.
	bare := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: cr.ID, OriginalKey: "originals/bare"}
	ok(t, "create bare clip", e.s.CreateClip(e.ctx, bare))
	got := e.get(t, bare.ID)
	same(t, "bare clip", got, &shopclip.Clip{ID: bare.ID, CreatorID: cr.ID, OriginalKey: "originals/bare",
		Status: shopclip.ClipUploaded, CreatedAt: stored(at), UpdatedAt: stored(at)})
	if got.Error != nil || got.PublishedAt != nil || got.Renditions != nil {
		t.Errorf("bare clip has Error %v, PublishedAt %v, Renditions %v; want all nil", got.Error, got.PublishedAt, got.Renditions)
	}

	_, err := e.s.Clip(e.ctx, shopclip.NewID(shopclip.PrefixClip))
	wantCode(t, "missing clip", err, shopclip.ENOTFOUND)
}

func testClipCreateErrors(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	c := e.clip(t, cr.ID, "one")
	tests := []struct {
		name string
		clip shopclip.Clip
		want string
	}{
		{"duplicate ID", shopclip.Clip{ID: c.ID, CreatorID: cr.ID, OriginalKey: "k"}, shopclip.ECONFLICT},
		{"unknown creator", shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: shopclip.NewID(shopclip.PrefixAccount), OriginalKey: "k"}, shopclip.ENOTFOUND},
		{"no ID", shopclip.Clip{CreatorID: cr.ID, OriginalKey: "k"}, shopclip.EINVALID},
		{"no creator", shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), OriginalKey: "k"}, shopclip.EINVALID},
		{"no original key", shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: cr.ID}, shopclip.EINVALID},
		{"title too long", shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: cr.ID, OriginalKey: "k", Title: strings.Repeat("长", shopclip.MaxTitleLen)}, shopclip.EINVALID},
	}
	for _, tt := range tests {
		wantCode(t, tt.name, e.s.CreateClip(e.ctx, &tt.clip), tt.want)
	}
	// The first clip is untouched by the failed duplicate.
	if got := e.get(t, c.ID); got.OriginalKey != c.OriginalKey {
		t.Errorf("duplicate create changed the clip: OriginalKey = %q, want %q", got.OriginalKey, c.OriginalKey)
	}
}

func testAttemptTakeover(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	c := e.clip(t, cr.ID, "takeover")
	attA, attB := shopclip.NewID(shopclip.PrefixAttempt), shopclip.NewID(shopclip.PrefixAttempt)

	// A takes the uploaded clip.
	at := e.clock.Peek()
	e.freeze(at)
	gotA, err := e.s.StartClipAttempt(e.ctx, c.ID, attA)
	ok(t, "start A", err)
	wantA := *c
	wantA.Status, wantA.AttemptID, wantA.Attempts, wantA.UpdatedAt = shopclip.ClipProcessing, attA, 1, stored(at)
	same(t, "clip returned to A", gotA, &wantA)
	same(t, "clip after A started", e.get(t, c.ID), &wantA)
	e.tick()

	// A publishes progressively, then pauses.
	ok(t, "A progress", e.s.UpdateClipProgress(e.ctx, c.ID, attA, 0.25, nil))
	ok(t, "A progress with publication", e.s.UpdateClipProgress(e.ctx, c.ID, attA, 0.5, pub("gA")))
	mid := e.get(t, c.ID)
	if mid.Progress != 0.5 || mid.Generation != "gA" || mid.OutputPrefix != pub("gA").OutputPrefix || len(mid.Renditions) != 2 ||
		mid.DurationMS != 15_000 || mid.Width != 720 || mid.Height != 1280 || !mid.HasMP4 || !mid.HasPoster {
		t.Errorf("after A's progressive publication: %+v", mid)
	}
	if mid.Status != shopclip.ClipProcessing || mid.PublishedAt != nil {
		t.Errorf("progressive publication changed status to %s / PublishedAt %v", mid.Status, mid.PublishedAt)
	}

	// B takes over the processing clip: a new owner, a clean slate.
	at = e.clock.Peek()
	e.freeze(at)
	gotB, err := e.s.StartClipAttempt(e.ctx, c.ID, attB)
	ok(t, "start B", err)
	wantB := *c
	wantB.Status, wantB.AttemptID, wantB.Attempts, wantB.UpdatedAt = shopclip.ClipProcessing, attB, 2, stored(at)
	same(t, "clip returned to B", gotB, &wantB)
	same(t, "clip after B took over", e.get(t, c.ID), &wantB)
	e.tick()

	// A wakes up: every write it tries is refused and changes nothing.
	wantCode(t, "A progress after takeover", e.s.UpdateClipProgress(e.ctx, c.ID, attA, 0.9, nil), shopclip.ECONFLICT)
	wantCode(t, "A progressive publication after takeover", e.s.UpdateClipProgress(e.ctx, c.ID, attA, 0.9, pub("gA")), shopclip.ECONFLICT)
	wantCode(t, "A publish after takeover", e.s.PublishClip(e.ctx, c.ID, attA, pub("gA")), shopclip.ECONFLICT)
	wantCode(t, "A fail after takeover", e.s.FailClip(e.ctx, c.ID, attA, shopclip.Errorf(shopclip.EMEDIACRASH, "crashed")), shopclip.ECONFLICT)
	same(t, "clip after A's refused writes", e.get(t, c.ID), &wantB)

	// B finishes.
	ok(t, "B progress", e.s.UpdateClipProgress(e.ctx, c.ID, attB, 0.7, nil))
	ok(t, "B publish", e.s.PublishClip(e.ctx, c.ID, attB, pub("gB")))
	done := e.get(t, c.ID)
	if done.Status != shopclip.ClipReady || done.Generation != "gB" || done.AttemptID != attB || done.Attempts != 2 || done.Progress != 1 {
		t.Errorf("after B published: status %s generation %q attempt %q attempts %d progress %v",
			done.Status, done.Generation, done.AttemptID, done.Attempts, done.Progress)
	}
	wantCode(t, "A publish after B published", e.s.PublishClip(e.ctx, c.ID, attA, pub("gA")), shopclip.ECONFLICT)
	wantCode(t, "B progress after ready", e.s.UpdateClipProgress(e.ctx, c.ID, attB, 0.5, nil), shopclip.ECONFLICT)
	wantCode(t, "B fail after ready", e.s.FailClip(e.ctx, c.ID, attB, shopclip.Errorf(shopclip.EMEDIACRASH, "late")), shopclip.ECONFLICT)
	same(t, "ready clip after refused writes", e.get(t, c.ID), done)

	// Unknown clips.
	missing := shopclip.NewID(shopclip.PrefixClip)
	_, err = e.s.StartClipAttempt(e.ctx, missing, attA)
	wantCode(t, "start missing", err, shopclip.ENOTFOUND)
	wantCode(t, "progress missing", e.s.UpdateClipProgress(e.ctx, missing, attA, 0.5, nil), shopclip.ENOTFOUND)
	wantCode(t, "publish missing", e.s.PublishClip(e.ctx, missing, attA, pub("g")), shopclip.ENOTFOUND)
	wantCode(t, "fail missing", e.s.FailClip(e.ctx, missing, attA, shopclip.Errorf(shopclip.EMEDIACRASH, "x")), shopclip.ENOTFOUND)
	// An uploaded clip has no owner: nobody may write it.
	up := e.clip(t, cr.ID, "unowned")
	wantCode(t, "progress on unowned clip", e.s.UpdateClipProgress(e.ctx, up.ID, attA, 0.5, nil), shopclip.ECONFLICT)
	wantCode(t, "publish unowned clip", e.s.PublishClip(e.ctx, up.ID, attA, pub("g")), shopclip.ECONFLICT)
	_, err = e.s.StartClipAttempt(e.ctx, up.ID, "")
	wantCode(t, "start without attempt ID", err, shopclip.EINVALID)
}

func testProgressRange(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	c := e.clip(t, cr.ID, "progress")
	att := shopclip.NewID(shopclip.PrefixAttempt)
	_, err := e.s.StartClipAttempt(e.ctx, c.ID, att)
	ok(t, "start", err)
	tests := []struct {
		progress float64
		want     string
	}{
		{0, ""}, {0.333, ""}, {1, ""},
		{-0.01, shopclip.EINVALID}, {1.0001, shopclip.EINVALID},
		{math.NaN(), shopclip.EINVALID}, {math.Inf(1), shopclip.EINVALID}, {math.Inf(-1), shopclip.EINVALID},
	}
	for _, tt := range tests {
		err := e.s.UpdateClipProgress(e.ctx, c.ID, att, tt.progress, nil)
		wantCode(t, fmt.Sprintf("progress %v", tt.progress), err, tt.want)
		if tt.want == "" {
			if got := e.get(t, c.ID).Progress; got != tt.progress {
				t.Errorf("progress = %v, want %v", got, tt.progress)
			}
		}
	}
	if got := e.get(t, c.ID).Progress; got != 1 {
		t.Errorf("progress after refused updates = %v, want 1 (the last accepted)", got)
	}
}

func testPublishRoundTrip(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	c := e.clip(t, cr.ID, "直播回放 🛍️")
	att := shopclip.NewID(shopclip.PrefixAttempt)
	_, err := e.s.StartClipAttempt(e.ctx, c.ID, att)
	ok(t, "start", err)
	at := Start.Add(42*time.Hour + 999*time.Nanosecond)
	e.freeze(at)
	p := pub("g-0001")
	ok(t, "publish", e.s.PublishClip(e.ctx, c.ID, att, p))
	pubAt := stored(at)
	want := &shopclip.Clip{
		ID: c.ID, CreatorID: cr.ID, Title: "直播回放 🛍️", Status: shopclip.ClipReady, Progress: 1,
		DurationMS: p.DurationMS, Width: p.Width, Height: p.Height, Renditions: p.Renditions,
		OriginalKey: c.OriginalKey, OriginalSize: c.OriginalSize, OriginalSHA256: c.OriginalSHA256,
		Generation: p.Generation, OutputPrefix: p.OutputPrefix, HasMP4: true, HasPoster: true, HasStoryboard: true,
		Attempts: 1, AttemptID: att, CreatedAt: c.CreatedAt, UpdatedAt: pubAt, PublishedAt: &pubAt,
	}
	same(t, "published clip", e.get(t, c.ID), want)

	// No renditions and no optional outputs round-trip as such.
	c2 := e.clip(t, cr.ID, "plain")
	att2 := shopclip.NewID(shopclip.PrefixAttempt)
	_, err = e.s.StartClipAttempt(e.ctx, c2.ID, att2)
	ok(t, "start 2", err)
	plain := &shopclip.Publication{Generation: "g2", OutputPrefix: "clips/c2/g2/"}
	ok(t, "publish plain", e.s.PublishClip(e.ctx, c2.ID, att2, plain))
	got := e.get(t, c2.ID)
	if got.Renditions != nil || got.HasMP4 || got.HasPoster || got.HasStoryboard || got.DurationMS != 0 || got.Width != 0 {
		t.Errorf("plain publication: renditions %v mp4 %v poster %v duration %d width %d; want none",
			got.Renditions, got.HasMP4, got.HasPoster, got.DurationMS, got.Width)
	}
}

func testPublishRequiresPublication(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	c := e.clip(t, cr.ID, "needs pub")
	att := shopclip.NewID(shopclip.PrefixAttempt)
	_, err := e.s.StartClipAttempt(e.ctx, c.ID, att)
	ok(t, "start", err)
	wantCode(t, "publish nil", e.s.PublishClip(e.ctx, c.ID, att, nil), shopclip.EINVALID)
	wantCode(t, "publish without generation", e.s.PublishClip(e.ctx, c.ID, att, &shopclip.Publication{OutputPrefix: "p/"}), shopclip.EINVALID)
	wantCode(t, "publish without prefix", e.s.PublishClip(e.ctx, c.ID, att, &shopclip.Publication{Generation: "g"}), shopclip.EINVALID)
	wantCode(t, "fail without error", e.s.FailClip(e.ctx, c.ID, att, nil), shopclip.EINVALID)
	wantCode(t, "fail without code", e.s.FailClip(e.ctx, c.ID, att, &shopclip.Error{Message: "?"}), shopclip.EINVALID)
	if got := e.get(t, c.ID); got.Status != shopclip.ClipProcessing {
		t.Errorf("status after refused writes = %s, want processing", got.Status)
	}
}

func testPublishRetry(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	c := e.clip(t, cr.ID, "retry")
	att := shopclip.NewID(shopclip.PrefixAttempt)
	_, err := e.s.StartClipAttempt(e.ctx, c.ID, att)
	ok(t, "start", err)
	ok(t, "publish", e.s.PublishClip(e.ctx, c.ID, att, pub("g1")))
	before := e.get(t, c.ID)
	// A retried call of the same publish (say its answer was lost) succeeds
	// and changes nothing; the same attempt publishing something else is a
	// conflict.
	ok(t, "publish again", e.s.PublishClip(e.ctx, c.ID, att, pub("g1")))
	same(t, "clip after repeated publish", e.get(t, c.ID), before)
	wantCode(t, "publish another generation", e.s.PublishClip(e.ctx, c.ID, att, pub("g2")), shopclip.ECONFLICT)
	same(t, "clip after refused publish", e.get(t, c.ID), before)
}

func testFailClip(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	c := e.clip(t, cr.ID, "broken")
	att := shopclip.NewID(shopclip.PrefixAttempt)
	_, err := e.s.StartClipAttempt(e.ctx, c.ID, att)
	ok(t, "start", err)
	ok(t, "progress", e.s.UpdateClipProgress(e.ctx, c.ID, att, 0.4, nil))
	at := e.clock.Peek()
	e.freeze(at)
	failure := shopclip.Errorf(shopclip.EMEDIADECODE, "视频无法解码 (the video stream yields no frames) 😢")
	ok(t, "fail", e.s.FailClip(e.ctx, c.ID, att, failure))
	got := e.get(t, c.ID)
	want := *c
	want.Status, want.AttemptID, want.Attempts, want.Progress, want.UpdatedAt = shopclip.ClipFailed, att, 1, 0.4, stored(at)
	want.Error = &shopclip.Error{Code: shopclip.EMEDIADECODE, Message: failure.Message}
	same(t, "failed clip", got, &want)
	e.tick()

	// Failed is terminal: no new owner, no publish, the failure stays.
	again, err := e.s.StartClipAttempt(e.ctx, c.ID, shopclip.NewID(shopclip.PrefixAttempt))
	ok(t, "start failed clip", err)
	same(t, "start on failed clip returns it unchanged", again, &want)
	wantCode(t, "publish after fail", e.s.PublishClip(e.ctx, c.ID, att, pub("g1")), shopclip.ECONFLICT)
	wantCode(t, "progress after fail", e.s.UpdateClipProgress(e.ctx, c.ID, att, 0.5, nil), shopclip.ECONFLICT)
	wantCode(t, "fail with another code", e.s.FailClip(e.ctx, c.ID, att, shopclip.Errorf(shopclip.EMEDIACRASH, "x")), shopclip.ECONFLICT)
	ok(t, "repeat the same fail", e.s.FailClip(e.ctx, c.ID, att, failure))
	same(t, "failed clip after refused writes", e.get(t, c.ID), &want)
}

func testRecordClipCrash(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	c := e.clip(t, cr.ID, "poison")
	for want := 1; want <= 3; want++ {
		att := shopclip.NewID(shopclip.PrefixAttempt)
		_, err := e.s.StartClipAttempt(e.ctx, c.ID, att)
		ok(t, "start", err)
		n, err := e.s.RecordClipCrash(e.ctx, c.ID, att)
		ok(t, "record crash", err)
		if n != want {
			t.Errorf("crash %d: RecordClipCrash = %d", want, n)
		}
		if got := e.get(t, c.ID); got.Crashes != want || got.Attempts != want {
			t.Errorf("after crash %d: Crashes = %d, Attempts = %d", want, got.Crashes, got.Attempts)
		}
	}
	_, err := e.s.RecordClipCrash(e.ctx, c.ID, shopclip.NewID(shopclip.PrefixAttempt))
	wantCode(t, "crash of a stale attempt", err, shopclip.ECONFLICT)
	_, err = e.s.RecordClipCrash(e.ctx, shopclip.NewID(shopclip.PrefixClip), shopclip.NewID(shopclip.PrefixAttempt))
	wantCode(t, "crash of a missing clip", err, shopclip.ENOTFOUND)
	if got := e.get(t, c.ID); got.Crashes != 3 {
		t.Errorf("refused crashes counted: %d", got.Crashes)
	}
}

func testReadyStartUnchanged(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	c := e.ready(t, cr.ID, "done", Start.Add(time.Hour))
	got, err := e.s.StartClipAttempt(e.ctx, c.ID, shopclip.NewID(shopclip.PrefixAttempt))
	ok(t, "start on ready clip", err)
	same(t, "start on ready clip returns it unchanged", got, c)
	same(t, "ready clip after start", e.get(t, c.ID), c)
	if c.Attempts != 1 {
		t.Errorf("Attempts = %d, want 1", c.Attempts)
	}
}

func testConcurrentPublish(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	c := e.clip(t, cr.ID, "race")
	att := shopclip.NewID(shopclip.PrefixAttempt)
	_, err := e.s.StartClipAttempt(e.ctx, c.ID, att)
	ok(t, "start", err)
	// Two executions of one task (the same owner) publish at once: one
	// publish happens, the other finds it done.
	const n = 2
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = e.s.PublishClip(e.ctx, c.ID, att, pub("g1")) })
	}
	wg.Wait()
	for i, err := range errs {
		ok(t, fmt.Sprintf("publish %d", i), err)
	}
	got := e.get(t, c.ID)
	if got.Status != shopclip.ClipReady || got.Generation != "g1" || got.Attempts != 1 || got.Progress != 1 {
		t.Fatalf("after concurrent publish: status %s generation %q attempts %d progress %v", got.Status, got.Generation, got.Attempts, got.Progress)
	}
	// One logical publish: the clock ticks on every reading, so two
	// publishes would leave UpdatedAt after PublishedAt.
	if got.PublishedAt == nil || !got.PublishedAt.Equal(got.UpdatedAt) {
		t.Errorf("PublishedAt %v, UpdatedAt %v: want one publish stamping both", got.PublishedAt, got.UpdatedAt)
	}
}

func testConcurrentAttempts(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	c := e.clip(t, cr.ID, "many workers")
	const n = 10
	atts := make([]string, n)
	for i := range atts {
		atts[i] = shopclip.NewID(shopclip.PrefixAttempt)
	}
	got := make([]*shopclip.Clip, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = e.s.StartClipAttempt(e.ctx, c.ID, atts[i]) })
	}
	wg.Wait()
	// Every start is atomic: each saw a distinct Attempts count, and the
	// last one owns the clip.
	var counts []int
	owner := ""
	for i := range n {
		ok(t, "start", errs[i])
		counts = append(counts, got[i].Attempts)
		if got[i].AttemptID != atts[i] {
			t.Errorf("start %d returned owner %s", i, got[i].AttemptID)
		}
		if got[i].Attempts == n {
			owner = atts[i]
		}
	}
	sort.Ints(counts)
	for i, a := range counts {
		if a != i+1 {
			t.Fatalf("Attempts seen by the starts = %v, want 1..%d each once", counts, n)
		}
	}
	if cur := e.get(t, c.ID); cur.AttemptID != owner || cur.Attempts != n {
		t.Fatalf("owner %s with %d attempts, want %s with %d", cur.AttemptID, cur.Attempts, owner, n)
	}

	// All of them try to publish at once: only the owner can.
	for i := range n {
		wg.Go(func() { errs[i] = e.s.PublishClip(e.ctx, c.ID, atts[i], pub("g-"+atts[i])) })
	}
	wg.Wait()
	for i := range n {
		want := shopclip.ECONFLICT
		if atts[i] == owner {
			want = ""
		}
		wantCode(t, fmt.Sprintf("publish by attempt %d", i), errs[i], want)
	}
	if cur := e.get(t, c.ID); cur.Status != shopclip.ClipReady || cur.Generation != "g-"+owner {
		t.Errorf("published generation %q (status %s), want %q", cur.Generation, cur.Status, "g-"+owner)
	}
}

// ---- lists -----------------------------------------------------------------

func testFeedPagination(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	const n = 25
	var all []*shopclip.Clip
	for i := range n {
		// Groups of three clips share a publication time, so pages split
		// groups and the ID tie-break matters.
		at := Start.Add(time.Duration(i/3) * time.Minute)
		all = append(all, e.ready(t, cr.ID, fmt.Sprintf("clip %d", i), at))
	}
	// Clips that are not ready stay out of the feed.
	e.clip(t, cr.ID, "uploaded")
	proc := e.clip(t, cr.ID, "processing")
	_, err := e.s.StartClipAttempt(e.ctx, proc.ID, shopclip.NewID(shopclip.PrefixAttempt))
	ok(t, "start", err)
	failed := e.clip(t, cr.ID, "failed")
	att := shopclip.NewID(shopclip.PrefixAttempt)
	_, err = e.s.StartClipAttempt(e.ctx, failed.ID, att)
	ok(t, "start", err)
	ok(t, "fail", e.s.FailClip(e.ctx, failed.ID, att, shopclip.Errorf(shopclip.EMEDIAEMPTY, "empty")))

	want := slices.Clone(all)
	sort.Slice(want, func(i, j int) bool {
		a, b := want[i], want[j]
		if !a.PublishedAt.Equal(*b.PublishedAt) {
			return a.PublishedAt.After(*b.PublishedAt)
		}
		return a.ID > b.ID
	})

	got, sizes := pageThrough(t, "feed", func(c shopclip.FeedCursor) ([]*shopclip.Clip, error) { return e.s.FeedClips(e.ctx, c, 10) })
	if !slices.Equal(sizes, []int{10, 10, 5, 0}) {
		t.Errorf("page sizes = %v, want [10 10 5 0]", sizes)
	}
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("feed order:\n got %v\nwant %v", ids(got), ids(want))
	}
	for i := range got {
		same(t, "feed clip "+got[i].ID, got[i], want[i])
	}

	// A cursor is strictly exclusive, also inside a group of equal times.
	mid := want[4]
	cs, err := e.s.FeedClips(e.ctx, shopclip.FeedCursor{PublishedAt: *mid.PublishedAt, ID: mid.ID}, 3)
	ok(t, "feed after mid", err)
	if !slices.Equal(ids(cs), ids(want[5:8])) {
		t.Errorf("feed after %s = %v, want %v", mid.ID, ids(cs), ids(want[5:8]))
	}
	// Limits are clamped to at least one.
	for _, limit := range []int{0, -5} {
		cs, err := e.s.FeedClips(e.ctx, shopclip.FeedCursor{}, limit)
		ok(t, "feed", err)
		if len(cs) != 1 || cs[0].ID != want[0].ID {
			t.Errorf("feed with limit %d = %v, want [%s]", limit, ids(cs), want[0].ID)
		}
	}
}

func testFeedLimit(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	for i := range 101 {
		e.ready(t, cr.ID, fmt.Sprint(i), Start.Add(time.Duration(i)*time.Second))
	}
	cs, err := e.s.FeedClips(e.ctx, shopclip.FeedCursor{}, 1000)
	ok(t, "feed", err)
	if len(cs) != 100 {
		t.Errorf("feed with limit 1000 returned %d clips, want 100", len(cs))
	}
}

func testCreatorClips(t *testing.T, e *env) {
	a := e.account(t, shopclip.RoleCreator, "a")
	b := e.account(t, shopclip.RoleCreator, "b")
	a1 := e.clip(t, a.ID, "a1")
	b1 := e.clip(t, b.ID, "b1")
	a2 := e.ready(t, a.ID, "a2", Start)
	a3 := e.clip(t, a.ID, "a3")
	got, err := e.s.CreatorClips(e.ctx, a.ID, shopclip.Page{Limit: 10})
	ok(t, "creator clips", err)
	if want := []string{a3.ID, a2.ID, a1.ID}; !slices.Equal(ids(got), want) {
		t.Errorf("creator clips = %v, want %v (newest first)", ids(got), want)
	}
	same(t, "creator clip", got[1], a2)
	got, err = e.s.CreatorClips(e.ctx, a.ID, shopclip.Page{Limit: 2})
	ok(t, "creator clips", err)
	if want := []string{a3.ID, a2.ID}; !slices.Equal(ids(got), want) {
		t.Errorf("creator clips limit 2 = %v, want %v", ids(got), want)
	}
	got, err = e.s.CreatorClips(e.ctx, b.ID, shopclip.Page{Limit: 10})
	ok(t, "creator clips", err)
	if want := []string{b1.ID}; !slices.Equal(ids(got), want) {
		t.Errorf("creator clips of b = %v, want %v", ids(got), want)
	}
	got, err = e.s.CreatorClips(e.ctx, shopclip.NewID(shopclip.PrefixAccount), shopclip.Page{Limit: 10})
	ok(t, "creator clips", err)
	if len(got) != 0 {
		t.Errorf("clips of an unknown creator = %v, want none", ids(got))
	}
}

func testStaleClips(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	t1, t2, t3, t4 := Start, Start.Add(time.Minute), Start.Add(2*time.Minute), Start.Add(3*time.Minute)
	e.freeze(t1)
	a := e.clip(t, cr.ID, "a")
	e.freeze(t2)
	b := e.clip(t, cr.ID, "b")
	c := e.clip(t, cr.ID, "c")
	e.freeze(t3)
	att := shopclip.NewID(shopclip.PrefixAttempt)
	_, err := e.s.StartClipAttempt(e.ctx, c.ID, att)
	ok(t, "start", err)
	e.freeze(t4)
	d := e.ready(t, cr.ID, "d", t4)

	up := []shopclip.ClipStatus{shopclip.ClipUploaded, shopclip.ClipProcessing}
	tests := []struct {
		name     string
		statuses []shopclip.ClipStatus
		before   time.Time
		limit    int
		want     []string
	}{
		{"before t3", up, t3, 10, []string{a.ID, b.ID}},
		{"just after t3", up, t3.Add(time.Microsecond), 10, []string{a.ID, b.ID, c.ID}},
		{"limit 1", up, t4, 1, []string{a.ID}},
		{"processing only", []shopclip.ClipStatus{shopclip.ClipProcessing}, t4, 10, []string{c.ID}},
		{"before everything", up, t1, 10, nil},
		{"no statuses", nil, t4.Add(time.Hour), 10, nil},
		{"ready", []shopclip.ClipStatus{shopclip.ClipReady}, t4.Add(time.Hour), 10, []string{d.ID}},
	}
	for _, tt := range tests {
		got, err := e.s.StaleClips(e.ctx, tt.statuses, tt.before, tt.limit)
		ok(t, tt.name, err)
		if !slices.Equal(ids(got), tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("%s: stale clips = %v, want %v", tt.name, ids(got), tt.want)
		}
	}
	// Progress is a heartbeat: a clip that moves is not stale.
	e.freeze(t4.Add(time.Hour))
	ok(t, "progress", e.s.UpdateClipProgress(e.ctx, c.ID, att, 0.5, nil))
	got, err := e.s.StaleClips(e.ctx, []shopclip.ClipStatus{shopclip.ClipProcessing}, t4.Add(time.Minute), 10)
	ok(t, "stale after progress", err)
	if len(got) != 0 {
		t.Errorf("stale after progress = %v, want none", ids(got))
	}
	_, err = e.s.StaleClips(e.ctx, []shopclip.ClipStatus{"stuck"}, t4, 10)
	wantCode(t, "unknown status", err, shopclip.EINVALID)
}

func testDeleteClip(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	br := e.account(t, shopclip.RoleBrand, "brand")
	p := e.product(t, br.ID, "mug")
	doomed := e.ready(t, cr.ID, "doomed", Start)
	kept := e.ready(t, cr.ID, "kept", Start)
	t1 := e.tag(t, doomed.ID, p.ID, br.ID, 0)
	t2 := e.tag(t, doomed.ID, p.ID, br.ID, 3000)
	t3 := e.tag(t, kept.ID, p.ID, br.ID, 0)

	ok(t, "delete", e.s.DeleteClip(e.ctx, doomed.ID))
	_, err := e.s.Clip(e.ctx, doomed.ID)
	wantCode(t, "deleted clip", err, shopclip.ENOTFOUND)
	for _, id := range []string{t1.ID, t2.ID} {
		_, err := e.s.Tag(e.ctx, id)
		wantCode(t, "tag of deleted clip", err, shopclip.ENOTFOUND)
	}
	tags, err := e.s.ClipTags(e.ctx, doomed.ID, shopclip.TagQuery{})
	ok(t, "clip tags", err)
	if len(tags) != 0 {
		t.Errorf("tags of deleted clip = %v", tagIDs(tags))
	}
	clipIDs, err := e.s.ProductClipIDs(e.ctx, p.ID)
	ok(t, "product clip ids", err)
	if !slices.Equal(clipIDs, []string{kept.ID}) {
		t.Errorf("product clips after delete = %v, want [%s]", clipIDs, kept.ID)
	}
	// Everything else stays.
	_, err = e.s.Product(e.ctx, p.ID)
	ok(t, "product after delete", err)
	_, err = e.s.Tag(e.ctx, t3.ID)
	ok(t, "other clip's tag", err)
	same(t, "other clip", e.get(t, kept.ID), kept)

	wantCode(t, "delete again", e.s.DeleteClip(e.ctx, doomed.ID), shopclip.ENOTFOUND)
}

// ---- products --------------------------------------------------------------

func testProducts(t *testing.T, e *env) {
	br := e.account(t, shopclip.RoleBrand, "brand")
	at := Start.Add(time.Hour)
	e.freeze(at)
	p := &shopclip.Product{
		ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: br.ID, SKU: "TEA-龙井-01", Title: "西湖龙井 Dragon Well 🍵",
		Currency: "CNY", PriceMinor: 12_800, URL: "https://shop.example/tea?id=1&ref=clip", ImageURL: "https://cdn.example/tea.jpg",
		InStock: true,
	}
	ok(t, "create product", e.s.CreateProduct(e.ctx, p))
	want := *p
	want.CreatedAt, want.UpdatedAt = stored(at), stored(at)
	same(t, "created product", p, &want)
	got, err := e.s.Product(e.ctx, p.ID)
	ok(t, "product", err)
	same(t, "product", got, &want)

	// Update replaces the mutable fields; the brand and CreatedAt stay.
	later := at.Add(time.Hour)
	e.freeze(later)
	upd := &shopclip.Product{ID: p.ID, SKU: "TEA-02", Title: "Oolong", Currency: "JPY", PriceMinor: 1500,
		URL: "https://shop.example/oolong", ImageURL: "", InStock: false}
	ok(t, "update product", e.s.UpdateProduct(e.ctx, upd))
	want2 := *upd
	want2.BrandID, want2.CreatedAt, want2.UpdatedAt = br.ID, stored(at), stored(later)
	same(t, "updated product", upd, &want2)
	got, err = e.s.Product(e.ctx, p.ID)
	ok(t, "product", err)
	same(t, "product after update", got, &want2)

	wantCode(t, "update missing", e.s.UpdateProduct(e.ctx, &shopclip.Product{ID: shopclip.NewID(shopclip.PrefixProduct), Title: "x"}), shopclip.ENOTFOUND)
	_, err = e.s.Product(e.ctx, shopclip.NewID(shopclip.PrefixProduct))
	wantCode(t, "missing product", err, shopclip.ENOTFOUND)
	err = e.s.CreateProduct(e.ctx, &shopclip.Product{ID: p.ID, BrandID: br.ID, Title: "dup"})
	wantCode(t, "duplicate product", err, shopclip.ECONFLICT)
	err = e.s.CreateProduct(e.ctx, &shopclip.Product{ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: shopclip.NewID(shopclip.PrefixAccount), Title: "orphan"})
	wantCode(t, "product of unknown brand", err, shopclip.ENOTFOUND)
	err = e.s.CreateProduct(e.ctx, &shopclip.Product{BrandID: br.ID, Title: "no id"})
	wantCode(t, "product without ID", err, shopclip.EINVALID)
}

func testBrandProducts(t *testing.T, e *env) {
	a := e.account(t, shopclip.RoleBrand, "a")
	b := e.account(t, shopclip.RoleBrand, "b")
	p1 := e.product(t, a.ID, "p1")
	q1 := e.product(t, b.ID, "q1")
	p2 := e.product(t, a.ID, "p2")
	p3 := e.product(t, a.ID, "p3")
	got, err := e.s.BrandProducts(e.ctx, a.ID, shopclip.Page{Limit: 10})
	ok(t, "brand products", err)
	var gotIDs []string
	for _, p := range got {
		gotIDs = append(gotIDs, p.ID)
	}
	if want := []string{p3.ID, p2.ID, p1.ID}; !slices.Equal(gotIDs, want) {
		t.Errorf("brand products = %v, want %v (newest first)", gotIDs, want)
	}
	same(t, "listed product", got[0], p3)
	got, err = e.s.BrandProducts(e.ctx, a.ID, shopclip.Page{Limit: 1})
	ok(t, "brand products", err)
	if len(got) != 1 || got[0].ID != p3.ID {
		t.Errorf("brand products with limit 1: %d products", len(got))
	}
	got, err = e.s.BrandProducts(e.ctx, b.ID, shopclip.Page{Limit: 10})
	ok(t, "brand products", err)
	if len(got) != 1 || got[0].ID != q1.ID {
		t.Errorf("products of b: %d products", len(got))
	}
}

func testDiscounts(t *testing.T, e *env) {
	br := e.account(t, shopclip.RoleBrand, "brand")
	p := e.product(t, br.ID, "shoes")
	other := e.product(t, br.ID, "socks")
	starts := time.Date(2025, 11, 11, 0, 0, 0, 500, time.FixedZone("CST", 8*3600))
	ends := starts.Add(24*time.Hour + 1234567*time.Nanosecond)

	at1 := Start.Add(time.Hour)
	e.freeze(at1)
	d1 := &shopclip.Discount{ID: shopclip.NewID(shopclip.PrefixDiscount), ProductID: p.ID, Kind: shopclip.DiscountPercent,
		PercentOff: 20, StartsAt: starts, EndsAt: ends}
	ok(t, "create d1", e.s.CreateDiscount(e.ctx, d1))
	at2 := at1.Add(time.Minute)
	e.freeze(at2)
	d2 := &shopclip.Discount{ID: shopclip.NewID(shopclip.PrefixDiscount), ProductID: p.ID, Kind: shopclip.DiscountAmount,
		AmountOffMinor: 500, StartsAt: starts.Add(time.Hour), EndsAt: ends, CouponCode: "DOUBLE11-折扣"}
	ok(t, "create d2", e.s.CreateDiscount(e.ctx, d2))
	e.tick()
	ok(t, "create other", e.s.CreateDiscount(e.ctx, &shopclip.Discount{ID: shopclip.NewID(shopclip.PrefixDiscount),
		ProductID: other.ID, Kind: shopclip.DiscountPercent, PercentOff: 5, StartsAt: starts, EndsAt: ends}))

	want := []*shopclip.Discount{
		{ID: d1.ID, ProductID: p.ID, Kind: shopclip.DiscountPercent, PercentOff: 20, StartsAt: stored(starts), EndsAt: stored(ends), CreatedAt: stored(at1)},
		{ID: d2.ID, ProductID: p.ID, Kind: shopclip.DiscountAmount, AmountOffMinor: 500, StartsAt: stored(starts.Add(time.Hour)), EndsAt: stored(ends),
			CouponCode: "DOUBLE11-折扣", CreatedAt: stored(at2)},
	}
	same(t, "created d1", d1, want[0])
	same(t, "created d2", d2, want[1])
	got, err := e.s.ProductDiscounts(e.ctx, p.ID)
	ok(t, "product discounts", err)
	same(t, "product discounts (oldest first)", got, want)

	got, err = e.s.ProductDiscounts(e.ctx, shopclip.NewID(shopclip.PrefixProduct))
	ok(t, "discounts of unknown product", err)
	if len(got) != 0 {
		t.Errorf("discounts of unknown product: %d", len(got))
	}
	err = e.s.CreateDiscount(e.ctx, &shopclip.Discount{ID: shopclip.NewID(shopclip.PrefixDiscount), ProductID: shopclip.NewID(shopclip.PrefixProduct),
		Kind: shopclip.DiscountPercent, PercentOff: 10, StartsAt: starts, EndsAt: ends})
	wantCode(t, "discount of unknown product", err, shopclip.ENOTFOUND)
	err = e.s.CreateDiscount(e.ctx, &shopclip.Discount{ID: d1.ID, ProductID: p.ID, Kind: shopclip.DiscountPercent, PercentOff: 10, StartsAt: starts, EndsAt: ends})
	wantCode(t, "duplicate discount", err, shopclip.ECONFLICT)
	err = e.s.CreateDiscount(e.ctx, &shopclip.Discount{ID: shopclip.NewID(shopclip.PrefixDiscount), ProductID: p.ID, Kind: "bogo", StartsAt: starts, EndsAt: ends})
	wantCode(t, "unknown kind", err, shopclip.EINVALID)
}

// ---- tags ------------------------------------------------------------------

func testTags(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	br := e.account(t, shopclip.RoleBrand, "brand")
	c := e.ready(t, cr.ID, "tagged", Start)
	p := e.product(t, br.ID, "lamp")

	at := Start.Add(5 * time.Hour)
	e.freeze(at)
	tg := &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: p.ID, BrandID: br.ID,
		StartMS: 5000, EndMS: 7500, X: 0.125, Y: 1, Status: shopclip.TagActive, Clicks: 42}
	ok(t, "create tag", e.s.CreateTag(e.ctx, tg))
	want := &shopclip.Tag{ID: tg.ID, ClipID: c.ID, ProductID: p.ID, BrandID: br.ID, StartMS: 5000, EndMS: 7500,
		X: 0.125, Y: 1, Status: shopclip.TagActive, Clicks: 0, CreatedAt: stored(at), UpdatedAt: stored(at)}
	same(t, "created tag", tg, want)
	got, err := e.s.Tag(e.ctx, tg.ID)
	ok(t, "tag", err)
	same(t, "tag", got, want)
	e.tick()

	// Ordered by start, then ID.
	t2 := e.tag(t, c.ID, p.ID, br.ID, 1000)
	t3 := e.tag(t, c.ID, p.ID, br.ID, 1000)
	t4 := e.tag(t, c.ID, p.ID, br.ID, 0)
	first, second := t2.ID, t3.ID
	if second < first {
		first, second = second, first
	}
	list, err := e.s.ClipTags(e.ctx, c.ID, shopclip.TagQuery{})
	ok(t, "clip tags", err)
	if want := []string{t4.ID, first, second, tg.ID}; !slices.Equal(tagIDs(list), want) {
		t.Errorf("clip tags = %v, want %v", tagIDs(list), want)
	}
	same(t, "listed tag", list[3], want)

	tests := []struct {
		name string
		tag  shopclip.Tag
		want string
	}{
		{"duplicate ID", shopclip.Tag{ID: tg.ID, ClipID: c.ID, ProductID: p.ID, BrandID: br.ID, StartMS: 0, EndMS: 100, Status: shopclip.TagPending}, shopclip.ECONFLICT},
		{"unknown clip", shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: shopclip.NewID(shopclip.PrefixClip), ProductID: p.ID, BrandID: br.ID, EndMS: 100, Status: shopclip.TagPending}, shopclip.ENOTFOUND},
		{"unknown product", shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: shopclip.NewID(shopclip.PrefixProduct), BrandID: br.ID, EndMS: 100, Status: shopclip.TagPending}, shopclip.ENOTFOUND},
		{"unknown brand", shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: p.ID, BrandID: shopclip.NewID(shopclip.PrefixAccount), EndMS: 100, Status: shopclip.TagPending}, shopclip.ENOTFOUND},
		{"unknown status", shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: p.ID, BrandID: br.ID, EndMS: 100, Status: "live"}, shopclip.EINVALID},
		{"empty window", shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: p.ID, BrandID: br.ID, StartMS: 100, EndMS: 100, Status: shopclip.TagPending}, shopclip.EINVALID},
		{"off screen", shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: p.ID, BrandID: br.ID, EndMS: 100, X: 1.5, Status: shopclip.TagPending}, shopclip.EINVALID},
		{"no clip", shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ProductID: p.ID, BrandID: br.ID, EndMS: 100, Status: shopclip.TagPending}, shopclip.EINVALID},
	}
	for _, tt := range tests {
		wantCode(t, tt.name, e.s.CreateTag(e.ctx, &tt.tag), tt.want)
	}
	_, err = e.s.Tag(e.ctx, shopclip.NewID(shopclip.PrefixTag))
	wantCode(t, "missing tag", err, shopclip.ENOTFOUND)
	list, err = e.s.ClipTags(e.ctx, shopclip.NewID(shopclip.PrefixClip), shopclip.TagQuery{})
	ok(t, "tags of unknown clip", err)
	if len(list) != 0 {
		t.Errorf("tags of unknown clip: %v", tagIDs(list))
	}
}

func testTagStatus(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	br := e.account(t, shopclip.RoleBrand, "brand")
	c := e.ready(t, cr.ID, "tagged", Start)
	p := e.product(t, br.ID, "lamp")
	tg := e.tag(t, c.ID, p.ID, br.ID, 0)
	for _, s := range []shopclip.TagStatus{shopclip.TagActive, shopclip.TagRejected, shopclip.TagPending} {
		at := e.clock.Peek()
		e.freeze(at)
		ok(t, "set status "+string(s), e.s.SetTagStatus(e.ctx, tg.ID, s))
		e.tick()
		got, err := e.s.Tag(e.ctx, tg.ID)
		ok(t, "tag", err)
		want := *tg
		want.Status, want.UpdatedAt = s, stored(at)
		same(t, "tag after "+string(s), got, &want)
	}
	wantCode(t, "unknown status", e.s.SetTagStatus(e.ctx, tg.ID, "approved"), shopclip.EINVALID)
	wantCode(t, "missing tag", e.s.SetTagStatus(e.ctx, shopclip.NewID(shopclip.PrefixTag), shopclip.TagActive), shopclip.ENOTFOUND)
}

func testProductClipIDs(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	br := e.account(t, shopclip.RoleBrand, "brand")
	c1 := e.ready(t, cr.ID, "c1", Start)
	c2 := e.ready(t, cr.ID, "c2", Start)
	c3 := e.ready(t, cr.ID, "c3", Start)
	p := e.product(t, br.ID, "p")
	q := e.product(t, br.ID, "q")
	e.tag(t, c1.ID, p.ID, br.ID, 0)
	e.tag(t, c1.ID, p.ID, br.ID, 5000)
	rejected := e.tag(t, c2.ID, p.ID, br.ID, 0)
	ok(t, "reject", e.s.SetTagStatus(e.ctx, rejected.ID, shopclip.TagRejected))
	e.tag(t, c3.ID, q.ID, br.ID, 0)

	got, err := e.s.ProductClipIDs(e.ctx, p.ID)
	ok(t, "product clip ids", err)
	want := []string{c1.ID, c2.ID}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("clips of p = %v, want %v (each once)", got, want)
	}
	got, err = e.s.ProductClipIDs(e.ctx, q.ID)
	ok(t, "product clip ids", err)
	if !slices.Equal(got, []string{c3.ID}) {
		t.Errorf("clips of q = %v, want [%s]", got, c3.ID)
	}
	got, err = e.s.ProductClipIDs(e.ctx, shopclip.NewID(shopclip.PrefixProduct))
	ok(t, "product clip ids", err)
	if len(got) != 0 {
		t.Errorf("clips of unknown product = %v", got)
	}
}

func testConcurrentTagClicks(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	br := e.account(t, shopclip.RoleBrand, "brand")
	c := e.ready(t, cr.ID, "popular", Start)
	p := e.product(t, br.ID, "p")
	tg := e.tag(t, c.ID, p.ID, br.ID, 0)
	other := e.tag(t, c.ID, p.ID, br.ID, 3000)
	const n = 100
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = e.s.AddTagClick(e.ctx, tg.ID) })
	}
	wg.Wait()
	for i, err := range errs {
		ok(t, fmt.Sprintf("click %d", i), err)
	}
	got, err := e.s.Tag(e.ctx, tg.ID)
	ok(t, "tag", err)
	if got.Clicks != n {
		t.Errorf("Clicks = %d, want %d", got.Clicks, n)
	}
	if !got.UpdatedAt.Equal(tg.UpdatedAt) {
		t.Errorf("clicks changed UpdatedAt from %v to %v", tg.UpdatedAt, got.UpdatedAt)
	}
	if o, err := e.s.Tag(e.ctx, other.ID); err != nil || o.Clicks != 0 {
		t.Errorf("other tag: clicks %v, err %v; want 0", o, err)
	}
	wantCode(t, "click on missing tag", e.s.AddTagClick(e.ctx, shopclip.NewID(shopclip.PrefixTag)), shopclip.ENOTFOUND)
}

// testConcurrentMixed runs many goroutines writing and reading at once, as
// an API server and workers sharing one store do: none may fail (on SQLite:
// no "database is locked").
func testConcurrentMixed(t *testing.T, e *env) {
	cr := e.account(t, shopclip.RoleCreator, "creator")
	br := e.account(t, shopclip.RoleBrand, "brand")
	p := e.product(t, br.ID, "p")
	shared := e.ready(t, cr.ID, "shared", Start)
	sharedTag := e.tag(t, shared.ID, p.ID, br.ID, 0)

	const workers, rounds = 50, 4
	errs := make(chan error, workers*rounds*12)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			check := func(what string, err error) bool {
				if err != nil {
					errs <- fmt.Errorf("worker %d: %s: %w", w, what, err)
					return false
				}
				return true
			}
			for r := range rounds {
				c := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: cr.ID, Title: fmt.Sprintf("w%d r%d", w, r), OriginalKey: "k"}
				if !check("create clip", e.s.CreateClip(e.ctx, c)) {
					return
				}
				att := shopclip.NewID(shopclip.PrefixAttempt)
				_, err := e.s.StartClipAttempt(e.ctx, c.ID, att)
				check("start", err)
				check("progress", e.s.UpdateClipProgress(e.ctx, c.ID, att, 0.5, nil))
				_, err = e.s.Clip(e.ctx, c.ID)
				check("get clip", err)
				if r%2 == 0 {
					check("publish", e.s.PublishClip(e.ctx, c.ID, att, pub("g")))
				} else {
					check("fail", e.s.FailClip(e.ctx, c.ID, att, shopclip.Errorf(shopclip.EMEDIACODEC, "codec")))
				}
				check("click", e.s.AddTagClick(e.ctx, sharedTag.ID))
				tg := &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: p.ID, BrandID: br.ID, EndMS: 1000, Status: shopclip.TagPending}
				check("create tag", e.s.CreateTag(e.ctx, tg))
				check("tag status", e.s.SetTagStatus(e.ctx, tg.ID, shopclip.TagActive))
				_, err = e.s.FeedClips(e.ctx, shopclip.FeedCursor{}, 20)
				check("feed", err)
				_, err = e.s.ClipTags(e.ctx, shared.ID, shopclip.TagQuery{})
				check("clip tags", err)
				_, err = e.s.StaleClips(e.ctx, []shopclip.ClipStatus{shopclip.ClipProcessing}, time.Now(), 10)
				check("stale", err)
			}
		})
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 10 {
			t.Error(err)
		}
	}
	if n > 10 {
		t.Errorf("… %d errors in all", n)
	}
	got, err := e.s.Tag(e.ctx, sharedTag.ID)
	ok(t, "shared tag", err)
	if got.Clicks != workers*rounds {
		t.Errorf("shared tag clicks = %d, want %d", got.Clicks, workers*rounds)
	}
	clips, err := e.s.CreatorClips(e.ctx, cr.ID, shopclip.Page{Limit: 100})
	ok(t, "creator clips", err)
	if len(clips) != 100 {
		t.Errorf("creator has %d clips listed, want 100 (the limit)", len(clips))
	}
	stale, err := e.s.StaleClips(e.ctx, []shopclip.ClipStatus{shopclip.ClipReady, shopclip.ClipFailed}, Start.Add(1000*time.Hour), 1000)
	ok(t, "stale", err)
	if want := workers*rounds + 1; len(stale) != want {
		t.Errorf("%d terminal clips, want %d", len(stale), want)
	}
}

// pageThrough reads a cursor-paged list of clips to its end (an empty
// page), and returns the clips and the size of each page.
func pageThrough(t *testing.T, what string, page func(shopclip.FeedCursor) ([]*shopclip.Clip, error)) ([]*shopclip.Clip, []int) {
	t.Helper()
	var got []*shopclip.Clip
	var cursor shopclip.FeedCursor
	var sizes []int
	for range 6 {
		cs, err := page(cursor)
		ok(t, what, err)
		sizes = append(sizes, len(cs))
		if len(cs) == 0 {
			return got, sizes
		}
		got = append(got, cs...)
		cursor = shopclip.CursorAfter(cs[len(cs)-1])
	}
	t.Fatalf("%s does not end: pages %v", what, sizes)
	return nil, nil
}
