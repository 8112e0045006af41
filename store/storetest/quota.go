package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// RunUploadQuotas runs the conformance suite of shopclip.UploadQuotas as
// subtests of t. open must return a new, empty store for the subtest it is
// given, implementing both interfaces and Clocked, and close it when the
// subtest ends.
func RunUploadQuotas(t *testing.T, open func(t *testing.T) (shopclip.Store, shopclip.UploadQuotas)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env, q shopclip.UploadQuotas)
	}{
		{"UsageCountsClips", testUsageCountsClips},
		{"HoldsCountUntilReleased", testHoldsCount},
		{"HoldsRefusedOverLimits", testHoldsRefused},
		{"StaleHoldsIgnoredAndSwept", testStaleHolds},
		{"ConcurrentHoldsFitOnce", testConcurrentHolds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, q := open(t)
			tt.fn(t, newEnv(t, s), q)
		})
	}
}

// quotaClip records a clip of creator with an original of size bytes.
func quotaClip(t *testing.T, e *env, creatorID string, size int64) *shopclip.Clip {
	t.Helper()
	c := newUpload(creatorID, "clip")
	c.OriginalSize = size
	ok(t, "create clip", e.s.CreateClip(e.ctx, c))
	return c
}

func usage(t *testing.T, e *env, q shopclip.UploadQuotas, accountID string, l shopclip.UploadLimits) shopclip.UploadUsage {
	t.Helper()
	u, err := q.UploadUsage(e.ctx, accountID, l)
	ok(t, "usage", err)
	return u
}

func testUsageCountsClips(t *testing.T, e *env, q shopclip.UploadQuotas) {
	alice := e.account(t, shopclip.RoleCreator, "alice")
	bob := e.account(t, shopclip.RoleCreator, "bob")
	l := shopclip.UploadLimits{Day: Start.Add(-time.Hour), HoldsSince: Start.Add(-time.Hour)}
	if got := usage(t, e, q, alice.ID, l); got != (shopclip.UploadUsage{}) {
		t.Fatalf("usage of no clips = %+v", got)
	}
	quotaClip(t, e, alice.ID, 1000)
	yesterday := e.clock.Peek()
	quotaClip(t, e, alice.ID, 2000)
	gone := quotaClip(t, e, alice.ID, 4000)
	quotaClip(t, e, bob.ID, 8000)
	ok(t, "delete clip", e.s.DeleteClip(e.ctx, gone.ID))

	if got, want := usage(t, e, q, alice.ID, l), (shopclip.UploadUsage{StoredBytes: 3000, Uploads: 2}); got != want {
		t.Errorf("alice's usage = %+v, want %+v (a deleted clip counts for nothing)", got, want)
	}
	// A new day counts the clips made since, and every byte.
	l.Day = yesterday
	if got, want := usage(t, e, q, alice.ID, l), (shopclip.UploadUsage{StoredBytes: 3000, Uploads: 1}); got != want {
		t.Errorf("alice's usage from the second clip on = %+v, want %+v", got, want)
	}
	if got, want := usage(t, e, q, bob.ID, l), (shopclip.UploadUsage{StoredBytes: 8000, Uploads: 1}); got != want {
		t.Errorf("bob's usage = %+v, want %+v", got, want)
	}
}

func testHoldsCount(t *testing.T, e *env, q shopclip.UploadQuotas) {
	alice := e.account(t, shopclip.RoleCreator, "alice")
	quotaClip(t, e, alice.ID, 1000)
	l := shopclip.UploadLimits{MaxBytes: 10_000, MaxUploads: 5, Day: Start.Add(-time.Hour), HoldsSince: Start.Add(-time.Hour)}
	h := &shopclip.UploadHold{ID: shopclip.NewID(shopclip.PrefixHold), AccountID: alice.ID, Size: 5000}
	before, fits, err := q.HoldUpload(e.ctx, h, l)
	ok(t, "hold", err)
	if !fits || before != (shopclip.UploadUsage{StoredBytes: 1000, Uploads: 1}) || h.CreatedAt.IsZero() {
		t.Fatalf("hold: fits %v, usage before %+v, created %v", fits, before, h.CreatedAt)
	}
	if got, want := usage(t, e, q, alice.ID, l), (shopclip.UploadUsage{StoredBytes: 1000, HeldBytes: 5000, Uploads: 2}); got != want {
		t.Fatalf("usage with a hold = %+v, want %+v", got, want)
	}
	if got := before.Bytes(); got != 1000 {
		t.Errorf("Bytes() = %d", got)
	}
	ok(t, "release", q.ReleaseUpload(e.ctx, h.ID))
	ok(t, "release again", q.ReleaseUpload(e.ctx, h.ID))
	if got, want := usage(t, e, q, alice.ID, l), (shopclip.UploadUsage{StoredBytes: 1000, Uploads: 1}); got != want {
		t.Fatalf("usage after the release = %+v, want %+v", got, want)
	}
	// An account that is not there holds nothing.
	_, _, err = q.HoldUpload(e.ctx, &shopclip.UploadHold{ID: shopclip.NewID(shopclip.PrefixHold), AccountID: shopclip.NewID(shopclip.PrefixAccount), Size: 1}, l)
	wantCode(t, "hold for no account", err, shopclip.ENOTFOUND)
	_, _, err = q.HoldUpload(e.ctx, &shopclip.UploadHold{AccountID: alice.ID, Size: 1}, l)
	wantCode(t, "hold without an ID", err, shopclip.EINVALID)
}

func testHoldsRefused(t *testing.T, e *env, q shopclip.UploadQuotas) {
	alice := e.account(t, shopclip.RoleCreator, "alice")
	bob := e.account(t, shopclip.RoleCreator, "bob")
	quotaClip(t, e, alice.ID, 6000)
	since := Start.Add(-time.Hour)
	hold := func(acct string, size int64, l shopclip.UploadLimits) (shopclip.UploadUsage, bool) {
		t.Helper()
		u, fits, err := q.HoldUpload(e.ctx, &shopclip.UploadHold{ID: shopclip.NewID(shopclip.PrefixHold), AccountID: acct, Size: size}, l)
		ok(t, "hold", err)
		return u, fits
	}
	bytes := shopclip.UploadLimits{MaxBytes: 10_000, Day: since, HoldsSince: since}
	for _, tc := range []struct {
		name string
		acct string
		size int64
		fits bool
	}{
		{"over the storage quota", alice.ID, 4001, false},
		{"exactly the room left", alice.ID, 4000, true},
		{"no room left", alice.ID, 1, false},
		{"an empty upload in a full quota", alice.ID, 0, true},
		{"another account's room", bob.ID, 10_000, true},
	} {
		if _, fits := hold(tc.acct, tc.size, bytes); fits != tc.fits {
			t.Errorf("%s: fits %v, want %v", tc.name, fits, tc.fits)
		}
	}
	if got, want := usage(t, e, q, alice.ID, bytes), (shopclip.UploadUsage{StoredBytes: 6000, HeldBytes: 4000, Uploads: 3}); got != want {
		t.Errorf("refused holds were recorded: usage %+v, want %+v", got, want)
	}
	// Uploads a day: alice made 3 (a clip and two holds); bob 1.
	daily := shopclip.UploadLimits{MaxUploads: 3, Day: since, HoldsSince: since}
	if u, fits := hold(alice.ID, 1, daily); fits || u.Uploads != 3 {
		t.Errorf("a fourth upload of the day: fits %v, usage %+v", fits, u)
	}
	if _, fits := hold(bob.ID, 1, daily); !fits {
		t.Error("bob's second upload of the day was refused")
	}
	// Unbounded limits refuse nothing.
	if _, fits := hold(alice.ID, 1<<40, shopclip.UploadLimits{Day: since, HoldsSince: since}); !fits {
		t.Error("no limits refused a hold")
	}
}

func testStaleHolds(t *testing.T, e *env, q shopclip.UploadQuotas) {
	alice := e.account(t, shopclip.RoleCreator, "alice")
	since := Start.Add(-time.Hour)
	l := shopclip.UploadLimits{MaxBytes: 10_000, Day: since, HoldsSince: since}
	old := &shopclip.UploadHold{ID: shopclip.NewID(shopclip.PrefixHold), AccountID: alice.ID, Size: 9000}
	if _, fits, err := q.HoldUpload(e.ctx, old, l); err != nil || !fits {
		t.Fatalf("hold: %v %v", fits, err)
	}
	// Two days on, the abandoned upload's hold no longer counts, and a new
	// hold sweeps it.
	e.clock.Set(Start.Add(48*time.Hour), time.Second)
	later := shopclip.UploadLimits{MaxBytes: 10_000, Day: Start.Add(47 * time.Hour), HoldsSince: Start.Add(24 * time.Hour)}
	if got := usage(t, e, q, alice.ID, later); got != (shopclip.UploadUsage{}) {
		t.Errorf("usage with a stale hold = %+v, want none", got)
	}
	if _, fits, err := q.HoldUpload(e.ctx, &shopclip.UploadHold{ID: shopclip.NewID(shopclip.PrefixHold), AccountID: alice.ID, Size: 9000}, later); err != nil || !fits {
		t.Fatalf("hold after the stale one: %v %v", fits, err)
	}
	// Counted from long ago, the swept hold is gone: only the new one is.
	if got, want := usage(t, e, q, alice.ID, l), (shopclip.UploadUsage{HeldBytes: 9000, Uploads: 1}); got != want {
		t.Errorf("usage after the sweep = %+v, want %+v", got, want)
	}
}

// testConcurrentHolds races holds of one account: exactly as many fit as
// the quota has room for.
func testConcurrentHolds(t *testing.T, e *env, q shopclip.UploadQuotas) {
	alice := e.account(t, shopclip.RoleCreator, "alice")
	since := Start.Add(-time.Hour)
	l := shopclip.UploadLimits{MaxBytes: 3000, Day: since, HoldsSince: since}
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	fitted, failed := 0, 0
	for range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
			defer cancel()
			_, fits, err := q.HoldUpload(ctx, &shopclip.UploadHold{ID: shopclip.NewID(shopclip.PrefixHold), AccountID: alice.ID, Size: 1000}, l)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("hold: %v", err)
				failed++
			} else if fits {
				fitted++
			}
		})
	}
	wg.Wait()
	if fitted != 3 || failed != 0 {
		t.Fatalf("%d of %d concurrent holds of 1000 bytes fit a quota of 3000 (%d failed), want 3", fitted, n, failed)
	}
	if got := usage(t, e, q, alice.ID, l); got.HeldBytes != 3000 {
		t.Fatalf("usage = %+v, want 3000 bytes held", got)
	}
}
