package storetest

import (
	"sync"
	"testing"

	"github.com/shopclip/shopclip"
)

// RunIdempotency runs the conformance suite of shopclip.Idempotency as
// subtests of t. open must return a new, empty store for the subtest it is
// given, implementing both interfaces and Clocked, and close it when the
// subtest ends.
func RunIdempotency(t *testing.T, open func(t *testing.T) (shopclip.Store, shopclip.Idempotency)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env, id shopclip.Idempotency)
	}{
		{"FirstAndRepeat", testIdempotentRepeat},
		{"KeysPerCreator", testIdempotencyPerCreator},
		{"Race", testIdempotencyRace},
		{"BadKeys", testIdempotencyBadKeys},
		{"DeletedClip", testIdempotencyDeletedClip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, id := open(t)
			tt.fn(t, newEnv(t, s), id)
		})
	}
}

func newUpload(creatorID, title string) *shopclip.Clip {
	id := shopclip.NewID(shopclip.PrefixClip)
	return &shopclip.Clip{ID: id, CreatorID: creatorID, Title: title, OriginalKey: shopclip.OriginalKey(id), OriginalSize: 10}
}

func testIdempotentRepeat(t *testing.T, e *env, id shopclip.Idempotency) {
	a := e.account(t, shopclip.RoleCreator, "alice")
	first, created, err := id.CreateClipOnce(e.ctx, newUpload(a.ID, "first"), "key-1")
	ok(t, "first upload", err)
	if !created || first.Status != shopclip.ClipUploaded || first.CreatedAt.IsZero() {
		t.Fatalf("first upload: created %v, %+v", created, first)
	}
	got, err := e.s.Clip(e.ctx, first.ID)
	ok(t, "the clip", err)
	same(t, "the clip made", got, first)
	again, created, err := id.CreateClipOnce(e.ctx, newUpload(a.ID, "again"), "key-1")
	ok(t, "repeat", err)
	if created || again.ID != first.ID || again.Title != "first" {
		t.Fatalf("repeat: created %v, clip %s %q; want the first clip", created, again.ID, again.Title)
	}
	found, err := id.ClipByIdempotencyKey(e.ctx, a.ID, "key-1")
	ok(t, "find by key", err)
	if found.ID != first.ID {
		t.Errorf("ClipByIdempotencyKey = %s, want %s", found.ID, first.ID)
	}
	clips, err := e.s.CreatorClips(e.ctx, a.ID, shopclip.Page{Limit: 10})
	ok(t, "creator clips", err)
	if len(clips) != 1 {
		t.Errorf("%d clips after a repeat, want 1", len(clips))
	}
	other, created, err := id.CreateClipOnce(e.ctx, newUpload(a.ID, "other"), "key-2")
	ok(t, "another key", err)
	if !created || other.ID == first.ID {
		t.Errorf("another key: created %v, %s", created, other.ID)
	}
	_, err = id.ClipByIdempotencyKey(e.ctx, a.ID, "key-3")
	wantCode(t, "an unknown key", err, shopclip.ENOTFOUND)
}

func testIdempotencyPerCreator(t *testing.T, e *env, id shopclip.Idempotency) {
	a := e.account(t, shopclip.RoleCreator, "alice")
	b := e.account(t, shopclip.RoleCreator, "bob")
	ca, _, err := id.CreateClipOnce(e.ctx, newUpload(a.ID, "a"), "same-key")
	ok(t, "alice", err)
	cb, created, err := id.CreateClipOnce(e.ctx, newUpload(b.ID, "b"), "same-key")
	ok(t, "bob", err)
	if !created || cb.ID == ca.ID {
		t.Errorf("bob's upload with alice's key: created %v, %s", created, cb.ID)
	}
	_, err = id.ClipByIdempotencyKey(e.ctx, b.ID, "other")
	wantCode(t, "bob's unknown key", err, shopclip.ENOTFOUND)
}

func testIdempotencyRace(t *testing.T, e *env, id shopclip.Idempotency) {
	a := e.account(t, shopclip.RoleCreator, "alice")
	const n = 8
	var wg sync.WaitGroup
	ids := make([]string, n)
	made := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			c, created, err := id.CreateClipOnce(e.ctx, newUpload(a.ID, "racer"), "race-key")
			errs[i], made[i] = err, created
			if c != nil {
				ids[i] = c.ID
			}
		})
	}
	wg.Wait()
	creators := 0
	for i := range n {
		ok(t, "racing upload", errs[i])
		if made[i] {
			creators++
		}
		if ids[i] != ids[0] {
			t.Errorf("racing uploads got clips %s and %s", ids[0], ids[i])
		}
	}
	if creators != 1 {
		t.Errorf("%d racing uploads say they made the clip, want 1", creators)
	}
	clips, err := e.s.CreatorClips(e.ctx, a.ID, shopclip.Page{Limit: 100})
	ok(t, "creator clips", err)
	if len(clips) != 1 {
		t.Errorf("%d clips after %d racing uploads with one key, want 1", len(clips), n)
	}
}

func testIdempotencyBadKeys(t *testing.T, e *env, id shopclip.Idempotency) {
	a := e.account(t, shopclip.RoleCreator, "alice")
	long := make([]byte, shopclip.MaxIdempotencyKeyLen+1)
	for i := range long {
		long[i] = 'k'
	}
	for _, k := range []string{"", "has space", "tab\t", "naïve", string(long)} {
		_, _, err := id.CreateClipOnce(e.ctx, newUpload(a.ID, "x"), k)
		wantCode(t, "key "+k, err, shopclip.EINVALID)
	}
	clips, _ := e.s.CreatorClips(e.ctx, a.ID, shopclip.Page{Limit: 10})
	if len(clips) != 0 {
		t.Errorf("bad keys made %d clips", len(clips))
	}
}

func testIdempotencyDeletedClip(t *testing.T, e *env, id shopclip.Idempotency) {
	a := e.account(t, shopclip.RoleCreator, "alice")
	first, _, err := id.CreateClipOnce(e.ctx, newUpload(a.ID, "gone"), "k")
	ok(t, "first", err)
	ok(t, "delete", e.s.DeleteClip(e.ctx, first.ID))
	_, err = id.ClipByIdempotencyKey(e.ctx, a.ID, "k")
	wantCode(t, "the key of a deleted clip", err, shopclip.ENOTFOUND)
	again, created, err := id.CreateClipOnce(e.ctx, newUpload(a.ID, "back"), "k")
	ok(t, "the key again", err)
	if !created || again.ID == first.ID {
		t.Errorf("after the delete: created %v, %s", created, again.ID)
	}
}
