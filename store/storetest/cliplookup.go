package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// RunClipLookup runs the conformance suite of shopclip.ClipLookup as
// subtests of t. open must return a new, empty store for the subtest it is
// given, implementing both interfaces and Clocked, and close it when the
// subtest ends.
func RunClipLookup(t *testing.T, open func(t *testing.T) (shopclip.Store, shopclip.ClipLookup)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env, l shopclip.ClipLookup)
	}{
		{"RefsFollowTheClip", testClipRefsLifecycle},
		{"MissingAndMalformed", testClipRefsMissing},
		{"Bounded", testClipRefsBounded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, l := open(t)
			tt.fn(t, newEnv(t, s), l)
		})
	}
}

// refOf looks one clip up.
func refOf(t *testing.T, e *env, l shopclip.ClipLookup, id string) (shopclip.ClipRef, bool) {
	t.Helper()
	refs, err := l.ClipRefs(e.ctx, []string{id})
	ok(t, "clip refs", err)
	r, found := refs[id]
	return r, found
}

// testClipRefsLifecycle follows one clip through upload, processing, a
// takeover, publishing, a share and deletion: each step shows in its
// references, with the time the store stamped.
func testClipRefsLifecycle(t *testing.T, e *env, l shopclip.ClipLookup) {
	a := e.account(t, shopclip.RoleCreator, "alice")
	c := newUpload(a.ID, "lamp")
	att1, att2 := shopclip.NewID(shopclip.PrefixAttempt), shopclip.NewID(shopclip.PrefixAttempt)
	share := shopclip.ShareKey(c.ID, "0123abcd")
	steps := []struct {
		name    string
		do      func()
		want    shopclip.ClipRef
		stamped bool // the step sets UpdatedAt
	}{
		{"uploaded", func() { ok(t, "create", e.s.CreateClip(e.ctx, c)) },
			shopclip.ClipRef{Status: shopclip.ClipUploaded, OriginalKey: c.OriginalKey}, true},
		{"processing", func() {
			_, err := e.s.StartClipAttempt(e.ctx, c.ID, att1)
			ok(t, "start", err)
		}, shopclip.ClipRef{Status: shopclip.ClipProcessing, OriginalKey: c.OriginalKey, AttemptID: att1}, true},
		{"taken over and published", func() {
			_, err := e.s.StartClipAttempt(e.ctx, c.ID, att2)
			ok(t, "start again", err)
			ok(t, "publish", e.s.PublishClip(e.ctx, c.ID, att2, pub(att2)))
		}, shopclip.ClipRef{Status: shopclip.ClipReady, OriginalKey: c.OriginalKey, AttemptID: att2, Generation: att2}, true},
		{"shared", func() { ok(t, "set share", e.s.SetClipShare(e.ctx, c.ID, share)) },
			shopclip.ClipRef{Status: shopclip.ClipReady, OriginalKey: c.OriginalKey, AttemptID: att2, Generation: att2, ShareKey: share}, false},
	}
	var last time.Time
	for _, st := range steps {
		at := e.clock.Peek().Add(time.Minute)
		e.freeze(at)
		st.do()
		e.tick()
		got, found := refOf(t, e, l, c.ID)
		if !found {
			t.Fatalf("%s: clip %s not found", st.name, c.ID)
		}
		want := st.want
		if want.UpdatedAt = last; st.stamped {
			want.UpdatedAt = stored(at)
		}
		last = want.UpdatedAt
		if got != want || got.UpdatedAt.Location() != time.UTC {
			t.Errorf("%s: refs = %+v, want %+v (UTC)", st.name, got, want)
		}
	}
	ok(t, "delete", e.s.DeleteClip(e.ctx, c.ID))
	if got, found := refOf(t, e, l, c.ID); found {
		t.Errorf("deleted clip: refs = %+v, want none", got)
	}
}

// testClipRefsMissing asks for a mix: existing clips (twice), a clip ID
// with no clip, malformed IDs and another kind of ID.
func testClipRefsMissing(t *testing.T, e *env, l shopclip.ClipLookup) {
	a := e.account(t, shopclip.RoleCreator, "alice")
	c1, c2 := e.clip(t, a.ID, "one"), e.clip(t, a.ID, "two")
	refs, err := l.ClipRefs(e.ctx, []string{c1.ID, shopclip.NewID(shopclip.PrefixClip), "x' OR '1'='1", c2.ID, c1.ID, a.ID, ""})
	ok(t, "clip refs", err)
	if len(refs) != 2 || refs[c1.ID].OriginalKey != c1.OriginalKey || refs[c2.ID].OriginalKey != c2.OriginalKey {
		t.Errorf("refs = %+v, want %s and %s only", refs, c1.ID, c2.ID)
	}
	for _, ids := range [][]string{nil, {}, {"nothing"}} {
		refs, err := l.ClipRefs(e.ctx, ids)
		ok(t, fmt.Sprintf("clip refs of %q", ids), err)
		if refs == nil || len(refs) != 0 {
			t.Errorf("clip refs of %q = %#v, want an empty map", ids, refs)
		}
	}
}

// testClipRefsBounded looks up MaxClipLookup IDs at once and refuses one
// more.
func testClipRefsBounded(t *testing.T, e *env, l shopclip.ClipLookup) {
	a := e.account(t, shopclip.RoleCreator, "alice")
	c := e.clip(t, a.ID, "one")
	ids := []string{c.ID}
	for len(ids) < shopclip.MaxClipLookup {
		ids = append(ids, shopclip.NewID(shopclip.PrefixClip))
	}
	refs, err := l.ClipRefs(e.ctx, ids)
	ok(t, "clip refs of the most IDs", err)
	if _, found := refs[c.ID]; !found || len(refs) != 1 {
		t.Errorf("refs of %d IDs: %d found, want 1 (%s)", len(ids), len(refs), c.ID)
	}
	_, err = l.ClipRefs(e.ctx, append(ids, c.ID))
	wantCode(t, "clip refs of one ID too many", err, shopclip.EINVALID)
}
