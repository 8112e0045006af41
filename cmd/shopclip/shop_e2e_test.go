package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/transcode/ffmpeg"
)

// TestShoppableEndToEnd runs the shoppable layer through the booted product
// and its HTTP API: consent (a pending tag shows nowhere, another brand's
// rejected tag never shows), the share MP4 with the card burned in inside
// the tag's window and absent outside it, re-labelling after a price change
// without touching a video segment, and stats with attribution.
func TestShoppableEndToEnd(t *testing.T) {
	testenv.Tool(t, "ffmpeg")
	m, data := bootUp(t)
	ctx := context.Background()
	api := client{t, m.URL()}
	creator := cli(t, "account", "create", "--role", "creator", "--name", "alice", "--data", data)
	brand := cli(t, "account", "create", "--role", "brand", "--name", "acme", "--data", data)
	other := cli(t, "account", "create", "--role", "brand", "--name", "globex", "--data", data)

	id := api.upload(creator, testenv.Media(t, "vertical_1080x1920_h264_aac_android_phone.mp4"), "keyboard")
	clip := api.waitClip(creator, id, 3*time.Minute)
	if clip.Status != "ready" {
		t.Fatalf("clip: %s %+v", clip.Status, clip.Error)
	}
	segments := videoSegments(t, m, id)

	// A CJK product at 199.00 USD, 20% off now, tagged at 0.5–1.5 s.
	var product shopclip.Product
	api.json(brand, "POST", "/v1/products", map[string]any{
		"sku": "DRS-1", "title": "夏季连衣裙 Summer dress", "currency": "USD", "price_minor": 19900,
		"url": "https://shop.example.com/drs-1",
	}, 201, &product)
	now := time.Now().UTC()
	api.json(brand, "POST", "/v1/products/"+product.ID+"/discounts", map[string]any{
		"kind": "percent", "percent_off": 20,
		"starts_at": now.Add(-time.Hour).Format(time.RFC3339), "ends_at": now.Add(24 * time.Hour).Format(time.RFC3339),
	}, 201, nil)
	var tag shopclip.Tag
	api.json(brand, "POST", "/v1/clips/"+id+"/tags", map[string]any{
		"product_id": product.ID, "start_ms": 500, "end_ms": 1500, "x": 0.1, "y": 0.6,
	}, 202, &tag)

	// Consent: the brand cannot approve its own tag, another brand cannot
	// tag someone else's product, and its own tag, rejected, never shows.
	if st, _, body := api.do(brand, "POST", fmt.Sprintf("/v1/clips/%s/tags/%s/approve", id, tag.ID), nil); st != 403 {
		t.Errorf("brand approving its own tag: %d %s", st, body)
	}
	if st, _, body := api.do(other, "POST", "/v1/clips/"+id+"/tags", map[string]any{
		"product_id": product.ID, "start_ms": 0, "end_ms": 1000, "x": 0.5, "y": 0.5,
	}); st < 400 || st >= 500 {
		t.Errorf("tagging another brand's product: %d %s", st, body)
	}
	var otherProduct shopclip.Product
	api.json(other, "POST", "/v1/products", map[string]any{
		"sku": "X-1", "title": "Rival", "currency": "USD", "price_minor": 500, "url": "https://rival.example.com/x",
	}, 201, &otherProduct)
	var rival shopclip.Tag
	api.json(other, "POST", "/v1/clips/"+id+"/tags", map[string]any{
		"product_id": otherProduct.ID, "start_ms": 0, "end_ms": 2000, "x": 0.5, "y": 0.1,
	}, 202, &rival)
	api.json(creator, "POST", fmt.Sprintf("/v1/clips/%s/tags/%s/reject", id, rival.ID), nil, 200, nil)
	if pops := popupsOf(api, id); len(pops) != 0 {
		t.Fatalf("pending and rejected tags show: %+v", pops)
	}
	api.json(creator, "POST", fmt.Sprintf("/v1/clips/%s/tags/%s/approve", id, tag.ID), nil, 200, nil)
	pops := popupsOf(api, id)
	if len(pops) != 1 || pops[0].TagID != tag.ID || pops[0].Product.SalePriceMinor != 15920 || pops[0].Label != "-20%" {
		t.Fatalf("pop-ups after approval: %+v", pops)
	}

	// The share MP4: the card is in the frame inside the tag's window only.
	share1 := waitShare(t, api, id, "")
	dir := t.TempDir()
	plain := filepath.Join(dir, "clip.mp4")
	shared := filepath.Join(dir, "share.mp4")
	download(t, api, clip.Playback.MP4, plain)
	download(t, api, share1, shared)
	if res, err := ffmpeg.VerifyMP4(ctx, shared); err != nil || res.Frames == 0 || res.DecodeErrors != 0 {
		t.Fatalf("share MP4 plays as %+v, %v", res, err)
	}
	w, h := mp4Dims(t, plain)
	// The card's top-left is at (0.1, 0.6) of the frame, half its width wide.
	region := [4]int{w/10 + 8, h*6/10 + 8, w/10 + w/2 - 8, h*6/10 + w/8}
	for _, at := range []struct {
		sec  float64
		card bool
	}{{0.2, false}, {1.0, true}, {1.9, false}} {
		d := regionDiff(t, plain, shared, at.sec, w, h, region)
		t.Logf("at %.1fs the card region differs by %.1f", at.sec, d)
		if at.card && d < 40 {
			t.Errorf("at %.1fs, inside the tag's window, the card region differs by %.1f from the clip: no card", at.sec, d)
		} else if !at.card && d > 8 {
			t.Errorf("at %.1fs, outside the tag's window, the card region differs by %.1f from the clip", at.sec, d)
		}
	}

	// A price change re-labels the clip within seconds, re-renders the
	// share and re-encodes no segment.
	api.json(brand, "PATCH", "/v1/products/"+product.ID, map[string]any{"price_minor": 24900}, 200, nil)
	pops = popupsOf(api, id)
	if len(pops) != 1 || pops[0].Product.SalePriceMinor != 19920 {
		t.Errorf("pop-ups after the price change: %+v", pops)
	}
	waitFor(t, 30*time.Second, "the stored timeline to show the new price", func() bool {
		obj, err := m.blobs.Open(ctx, shopclip.OverlaysKey(id, "vtt"))
		if err != nil {
			return false
		}
		defer obj.Close()
		var b bytes.Buffer
		b.ReadFrom(obj)
		return strings.Contains(b.String(), `"sale_price_minor":19920`)
	})
	share2 := waitShare(t, api, id, share1)
	download(t, api, share2, shared)
	if d := regionDiff(t, plain, shared, 1.0, w, h, region); d < 40 {
		t.Errorf("the re-rendered share has no card (diff %.1f)", d)
	}
	if after := videoSegments(t, m, id); !equalMaps(segments, after) {
		t.Errorf("re-labelling touched the renditions: %d files before, %d after", len(segments), len(after))
	}

	// Stats and attribution: a session views, sees, taps and buys.
	const session = "e2e-session-0001"
	for _, ev := range []map[string]any{
		{"type": "view", "session_id": session, "clip_id": id},
		{"type": "popup_impression", "session_id": session, "tag_id": tag.ID},
	} {
		api.json("", "POST", "/v1/events", ev, 202, nil)
	}
	if st, _, _ := api.do("", "GET", pops[0].BuyURL+"?session="+session, nil); st != 302 {
		t.Fatalf("buy: %d", st)
	}
	purchase := map[string]any{"type": "purchase", "session_id": session, "product_id": product.ID,
		"order_id": "ORD-E2E-1", "amount_minor": 19920, "currency": "USD"}
	api.json(brand, "POST", "/v1/events", purchase, 201, nil)
	api.json(brand, "POST", "/v1/events", purchase, 200, nil) // a retry: the same order, once
	var stats struct {
		Views  int64
		Tags   []shopclip.TagStats
		Totals struct {
			Purchases int64
			Revenue   map[string]int64 `json:"revenue_minor"`
		}
	}
	api.json(creator, "GET", "/v1/clips/"+id+"/stats", nil, 200, &stats)
	if stats.Views != 1 || len(stats.Tags) != 2 {
		t.Fatalf("creator's stats: %+v", stats)
	}
	for _, ts := range stats.Tags {
		want := shopclip.TagStats{TagID: tag.ID, Impressions: 1, Clicks: 1, Purchases: 1, RevenueMinor: 19920}
		if ts.TagID == rival.ID {
			want = shopclip.TagStats{TagID: rival.ID}
		}
		if ts.TagID != want.TagID || ts.Impressions != want.Impressions || ts.Clicks != want.Clicks ||
			ts.Purchases != want.Purchases || ts.RevenueMinor != want.RevenueMinor {
			t.Errorf("tag stats %+v, want %+v", ts, want)
		}
	}
	if stats.Totals.Purchases != 1 || stats.Totals.Revenue["USD"] != 19920 {
		t.Errorf("totals: %+v", stats.Totals)
	}
	api.json(other, "GET", "/v1/clips/"+id+"/stats", nil, 200, &stats)
	if len(stats.Tags) != 1 || stats.Tags[0].TagID != rival.ID {
		t.Errorf("another brand sees %+v, want its own tag only", stats.Tags)
	}
}

func popupsOf(api client, clipID string) []shopclip.Popup {
	var pops struct{ Popups []shopclip.Popup }
	api.json("", "GET", "/v1/clips/"+clipID+"/popups", nil, 200, &pops)
	return pops.Popups
}

// waitShare waits for the clip's playback.share URL to be set and differ
// from old.
func waitShare(t *testing.T, api client, clipID, old string) string {
	t.Helper()
	var url string
	waitFor(t, 2*time.Minute, "the share MP4", func() bool {
		var c struct{ Playback struct{ Share string } }
		api.json("", "GET", "/v1/clips/"+clipID, nil, 200, &c)
		url = c.Playback.Share
		return url != "" && url != old
	})
	return url
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func download(t *testing.T, api client, url, dst string) {
	t.Helper()
	st, h, body := api.do("", "GET", url, nil)
	if st != 200 || h.Get("Content-Type") != "video/mp4" {
		t.Fatalf("GET %s: %d %q", url, st, h.Get("Content-Type"))
	}
	if err := os.WriteFile(dst, body, 0o644); err != nil {
		t.Fatal(err)
	}
}

// videoSegments hashes every file of the clip's published renditions.
func videoSegments(t *testing.T, m *Main, clipID string) map[string][32]byte {
	t.Helper()
	ctx := context.Background()
	c, err := m.store.Clip(ctx, clipID)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := m.blobs.List(ctx, c.OutputPrefix)
	if err != nil || len(objs) == 0 {
		t.Fatalf("list %s: %d objects, %v", c.OutputPrefix, len(objs), err)
	}
	out := map[string][32]byte{}
	for _, o := range objs {
		obj, err := m.blobs.Open(ctx, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(obj)
		obj.Close()
		out[o.Key] = sha256.Sum256(b.Bytes())
	}
	return out
}

func equalMaps[K, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// mp4Dims reads a video's frame size with ffprobe.
func mp4Dims(t *testing.T, file string) (w, h int) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height", "-of", "csv=p=0:s=x", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "%dx%d", &w, &h); err != nil {
		t.Fatalf("ffprobe %s: %q", file, out)
	}
	return w, h
}

// frameAt decodes the frame shown at sec as packed RGB.
func frameAt(t *testing.T, file string, sec float64, w, h int) []byte {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-ss", fmt.Sprintf("%.3f", sec), "-i", file,
		"-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-").Output()
	if err != nil || len(out) != w*h*3 {
		t.Fatalf("frame of %s at %.1fs: %d bytes, %v", file, sec, len(out), err)
	}
	return out
}

// regionDiff is the mean absolute difference of the RGB values inside
// region (x0, y0, x1, y1) between two videos' frames at sec.
func regionDiff(t *testing.T, a, b string, sec float64, w, h int, region [4]int) float64 {
	t.Helper()
	fa, fb := frameAt(t, a, sec, w, h), frameAt(t, b, sec, w, h)
	var sum, n float64
	for y := region[1]; y < region[3]; y++ {
		for x := region[0]; x < region[2]; x++ {
			for c := range 3 {
				i := (y*w+x)*3 + c
				d := float64(fa[i]) - float64(fb[i])
				if d < 0 {
					d = -d
				}
				sum += d
				n++
			}
		}
	}
	return sum / n
}
