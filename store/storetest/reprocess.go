package storetest

import (
	"context"
	"testing"

	"github.com/shopclip/shopclip"
)

// RunReprocessing runs the conformance suite of shopclip.Reprocessing as
// subtests of t. open must return a new, empty store for the subtest it is
// given, implementing both interfaces and Clocked, and close it when the
// subtest ends.
func RunReprocessing(t *testing.T, open func(t *testing.T) (shopclip.Store, shopclip.Reprocessing)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env, r shopclip.Reprocessing)
	}{
		{"FailedClipStartsOver", testReprocessFailed},
		{"OnlyFailedClips", testReprocessOnlyFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, r := open(t)
			tt.fn(t, newEnv(t, s), r)
		})
	}
}

func testReprocessFailed(t *testing.T, e *env, r shopclip.Reprocessing) {
	ctx := context.Background()
	a := e.account(t, shopclip.RoleCreator, "alice")
	c := newUpload(a.ID, "flaky storage")
	if err := e.s.CreateClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	attempt := shopclip.NewID(shopclip.PrefixAttempt)
	if _, err := e.s.StartClipAttempt(ctx, c.ID, attempt); err != nil {
		t.Fatal(err)
	}
	if err := e.s.UpdateClipProgress(ctx, c.ID, attempt, 0.4, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.RecordClipCrash(ctx, c.ID, attempt); err != nil {
		t.Fatal(err)
	}
	if err := e.s.FailClip(ctx, c.ID, attempt, shopclip.Errorf(shopclip.EINTERNAL, "Storage was down.")); err != nil {
		t.Fatal(err)
	}
	got, err := r.ReprocessClip(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != shopclip.ClipUploaded || got.Error != nil || got.Progress != 0 || got.Attempts != 0 || got.Crashes != 0 || got.AttemptID != "" {
		t.Fatalf("reprocessed clip = %+v", got)
	}
	if again, _ := e.s.Clip(ctx, c.ID); again.Status != shopclip.ClipUploaded || again.OriginalKey != c.OriginalKey || again.Title != c.Title {
		t.Fatalf("stored clip = %+v", again)
	}
	// The old attempt owns nothing now; a new one starts.
	if err := e.s.UpdateClipProgress(ctx, c.ID, attempt, 0.5, nil); shopclip.ErrorCode(err) != shopclip.ECONFLICT {
		t.Fatalf("old attempt's progress: %v, want conflict", err)
	}
	if s, err := e.s.StartClipAttempt(ctx, c.ID, shopclip.NewID(shopclip.PrefixAttempt)); err != nil || s.Status != shopclip.ClipProcessing || s.Attempts != 1 {
		t.Fatalf("new attempt: %+v %v", s, err)
	}
}

func testReprocessOnlyFailed(t *testing.T, e *env, r shopclip.Reprocessing) {
	ctx := context.Background()
	a := e.account(t, shopclip.RoleCreator, "alice")
	c := newUpload(a.ID, "fine")
	if err := e.s.CreateClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReprocessClip(ctx, c.ID); shopclip.ErrorCode(err) != shopclip.ECONFLICT {
		t.Fatalf("reprocess an uploaded clip: %v, want conflict", err)
	}
	if _, err := r.ReprocessClip(ctx, shopclip.NewID(shopclip.PrefixClip)); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Fatalf("reprocess no clip: %v, want not found", err)
	}
}
