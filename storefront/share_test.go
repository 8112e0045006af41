package storefront_test

import (
	"context"
	"path"
	"strings"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
)

// TestShareServing checks that a clip's share MP4 is served by its name —
// the current one, and a replaced one until the worker deletes it — and
// that no other name under the clip reaches the blob store.
func TestShareServing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	clip := e.readyClip("alice")
	old := shopclip.ShareKey(clip.ID, "00000000000000000001")
	cur := shopclip.ShareKey(clip.ID, "00000000000000000002")
	for _, k := range []string{old, cur} {
		body := "mp4 " + k
		if err := e.blobs.Put(ctx, k, strings.NewReader(body), int64(len(body)), blob.PutOptions{ContentType: "video/mp4"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.store.SetClipShare(ctx, clip.ID, cur); err != nil {
		t.Fatal(err)
	}
	var got struct{ Playback struct{ Share string } }
	e.do("", "GET", "/v1/clips/"+clip.ID, nil).json(t, &got)
	if !strings.HasSuffix(got.Playback.Share, "/v1/clips/"+clip.ID+"/share/"+path.Base(cur)) {
		t.Errorf("playback.share = %q", got.Playback.Share)
	}
	base := "/v1/clips/" + clip.ID + "/share/"
	for _, tt := range []struct {
		name   string
		status int
	}{
		{path.Base(cur), 200},
		{path.Base(old), 200}, // replaced, still within its grace
		{"share-00000000000000000003.mp4", 404},
		{"overlays.json", 404},
		{"share-XYZ.mp4", 404},
		{"share-.mp4", 404},
	} {
		resp := e.do("", "GET", base+tt.name, nil)
		if resp.Status != tt.status {
			t.Errorf("GET %s: %d, want %d", tt.name, resp.Status, tt.status)
		}
		if tt.status == 200 && string(resp.Body) != "mp4 "+shopclip.ClipPrefix(clip.ID)+tt.name {
			t.Errorf("GET %s: body %q", tt.name, resp.Body)
		}
	}
	e.blobs.Delete(ctx, old)
	if resp := e.do("", "GET", base+path.Base(old), nil); resp.Status != 404 {
		t.Errorf("GET a deleted share: %d", resp.Status)
	}
}
