package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/transcode/ffmpeg"
)

// TestEndToEnd boots the product in-process on the embedded defaults (SQLite,
// a local blob directory, its own redis-server child), creates accounts with
// the CLI, uploads real clips, plays the published HLS back through the
// libraries, and runs the shoppable path: a discounted product tagged into a
// clip, approved by its creator, shown as a pop-up, bought through.
func TestEndToEnd(t *testing.T) {
	m, data := bootUp(t)
	ctx := context.Background()
	api := client{t, m.URL()}

	creator := cli(t, "account", "create", "--role", "creator", "--name", "alice", "--data", data)
	brand := cli(t, "account", "create", "--role", "brand", "--name", "acme", "--data", data)
	if !shopclip.LooksLikeAPIKey(creator) || !shopclip.LooksLikeAPIKey(brand) {
		t.Fatalf("account create printed %q and %q, want API keys", creator, brand)
	}

	cases := []struct {
		name, file    string
		width, height int // displayed
		audio         bool
		failCode      string // "" for a clip that must become ready
	}{
		{"vertical phone clip", "vertical_1080x1920_h264_aac_android_phone.mp4", 1080, 1920, true, ""},
		{"rotated iPhone clip", "iphone_h264_aac_568x320_rotm90_gps.mov", 320, 568, true, ""},
		{"clip without audio", "h264_noaudio_480x270_koala.mp4", 480, 270, false, ""},
		{"broken upload", "broken_moov_not_found_malformed_free_box.mp4", 0, 0, false, "media_unreadable"},
		{"audio only", "audio_only_alac_stereo.m4a", 0, 0, false, shopclip.EMEDIANOVIDEO},
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		ids[i] = api.upload(creator, testenv.Media(t, c.file), c.name)
	}
	ready := map[string]clipJSON{}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api := client{t, m.URL()}
			got := api.waitClip(creator, ids[i], 3*time.Minute)
			if c.failCode != "" {
				if got.Status != "failed" || got.Error == nil || got.Error.Code != c.failCode || got.Error.Message == "" {
					t.Fatalf("got status %s, error %+v; want failed with %s and a message", got.Status, got.Error, c.failCode)
				}
				return
			}
			if got.Status != "ready" {
				t.Fatalf("status %s, error %+v", got.Status, got.Error)
			}
			ready[c.name] = got
			if got.Width != c.width || got.Height != c.height || got.DurationMS <= 0 || len(got.Renditions) == 0 || got.Progress != 1 {
				t.Errorf("clip = %dx%d, %d ms, %d renditions, progress %v; want %dx%d displayed",
					got.Width, got.Height, got.DurationMS, len(got.Renditions), got.Progress, c.width, c.height)
			}
			variants, audio, master := api.fetchHLS(m.URL()+got.Playback.HLS, t.TempDir())
			if len(variants) != len(got.Renditions) {
				t.Errorf("master lists %d variants, the clip %d renditions", len(variants), len(got.Renditions))
			}
			if (audio != "") != c.audio {
				t.Errorf("audio rendition %q, want audio=%v", audio, c.audio)
			}
			for j, v := range variants {
				res, err := ffmpeg.VerifyHLS(ctx, v)
				if err != nil {
					t.Fatalf("play %s: %v", v, err)
				}
				want := master.Variants[j]
				if res.Frames == 0 || res.DecodeErrors != 0 || res.Width != want.Width || res.Height != want.Height || res.Codec != "h264" || res.PixFmt != "yuv420p" {
					t.Errorf("%s decoded as %+v; want %dx%d h264 yuv420p frames without errors", v, res, want.Width, want.Height)
				}
				// Upright: the rendition has the clip's displayed orientation.
				if (res.Width > res.Height) != (c.width > c.height) {
					t.Errorf("%s is %dx%d, not in the displayed orientation %dx%d", v, res.Width, res.Height, c.width, c.height)
				}
			}
			status, h, body := api.do("", "GET", got.Playback.Poster, nil)
			if status != 200 || h.Get("Content-Type") != "image/jpeg" || len(body) < 1000 || body[0] != 0xff || body[1] != 0xd8 {
				t.Errorf("poster: %d %q %d bytes", status, h.Get("Content-Type"), len(body))
			}
			// The progressive MP4 for sharing plays too.
			status, h, body = api.do("", "GET", got.Playback.MP4, nil)
			if status != 200 || h.Get("Content-Type") != "video/mp4" {
				t.Fatalf("mp4: %d %q", status, h.Get("Content-Type"))
			}
			mp4 := filepath.Join(t.TempDir(), "clip.mp4")
			os.WriteFile(mp4, body, 0o644)
			if res, err := ffmpeg.VerifyMP4(ctx, mp4); err != nil || res.Frames == 0 || res.DecodeErrors != 0 {
				t.Errorf("mp4 plays as %+v, %v", res, err)
			}
			// The storyboard index points into a sprite that is served.
			status, _, body = api.do("", "GET", got.Playback.Storyboard, nil)
			if status != 200 || !strings.HasPrefix(string(body), "WEBVTT") || !strings.Contains(string(body), "#xywh=") {
				t.Errorf("storyboard: %d %q", status, body)
			}
		})
	}
	clip, ok := ready["vertical phone clip"]
	if !ok {
		t.Fatal("the vertical clip is not ready; cannot run the shoppable path")
	}

	// The feed lists exactly the ready clips.
	var feed struct{ Clips []clipJSON }
	api.json("", "GET", "/v1/feed", nil, 200, &feed)
	if len(feed.Clips) != len(ready) {
		t.Errorf("feed has %d clips, want the %d ready ones", len(feed.Clips), len(ready))
	}

	// Brand: a product at 199.00 USD with 20% off now, tagged at 0.5–1.5 s.
	var product shopclip.Product
	api.json(brand, "POST", "/v1/products", map[string]any{
		"sku": "SNK-1", "title": "Runner sneaker 跑鞋", "currency": "USD", "price_minor": 19900,
		"url": "https://shop.example.com/snk-1", "image_url": "https://shop.example.com/snk-1.jpg",
	}, 201, &product)
	now := time.Now().UTC()
	api.json(brand, "POST", "/v1/products/"+product.ID+"/discounts", map[string]any{
		"kind": "percent", "percent_off": 20,
		"starts_at": now.Add(-time.Hour).Format(time.RFC3339), "ends_at": now.Add(24 * time.Hour).Format(time.RFC3339),
	}, 201, nil)
	var tag shopclip.Tag
	api.json(brand, "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{
		"product_id": product.ID, "start_ms": 500, "end_ms": 1500, "x": 0.5, "y": 0.8,
	}, 202, &tag)
	if tag.Status != shopclip.TagPending {
		t.Errorf("new tag is %s, want pending", tag.Status)
	}
	var pops struct {
		ClipID string `json:"clip_id"`
		Popups []shopclip.Popup
	}
	api.json("", "GET", "/v1/clips/"+clip.ID+"/popups", nil, 200, &pops)
	if len(pops.Popups) != 0 {
		t.Errorf("a pending tag shows: %+v", pops.Popups)
	}

	// Creator approves; the pop-up shows with its sale price and label.
	api.json(creator, "POST", fmt.Sprintf("/v1/clips/%s/tags/%s/approve", clip.ID, tag.ID), nil, 200, &tag)
	api.json("", "GET", "/v1/clips/"+clip.ID+"/popups", nil, 200, &pops)
	if pops.ClipID != clip.ID || len(pops.Popups) != 1 {
		t.Fatalf("pop-ups = %+v", pops)
	}
	p := pops.Popups[0]
	if p.TagID != tag.ID || p.StartMS != 500 || p.EndMS != 1500 || p.Product.PriceMinor != 19900 ||
		p.Product.SalePriceMinor != 15920 || p.Label != "-20%" || p.Product.Currency != "USD" || p.Product.Title != product.Title {
		t.Errorf("pop-up = %+v", p)
	}

	// Viewer taps: 302 to the brand's store, and the click is counted.
	status, h, _ := api.do("", "GET", p.BuyURL, nil)
	if status != http.StatusFound || h.Get("Location") != product.URL {
		t.Fatalf("buy: %d → %q, want 302 → %q", status, h.Get("Location"), product.URL)
	}
	var tags struct{ Tags []shopclip.Tag }
	api.json(creator, "GET", "/v1/clips/"+clip.ID+"/tags", nil, 200, &tags)
	if len(tags.Tags) != 1 || tags.Tags[0].Clicks != 1 {
		t.Errorf("tags after one click: %+v", tags.Tags)
	}

	// The clip:tag job stored the timeline next to the renditions.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, _, body := api.do("", "GET", "/v1/clips/"+clip.ID+"/overlays.vtt", nil)
		if st == 200 && strings.Contains(string(body), "00:00:00.500 --> 00:00:01.500") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("overlays.vtt: %d %q", st, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := m.blobs.Stat(ctx, shopclip.OverlaysKey(clip.ID, "json")); err != nil {
		t.Errorf("stored timeline: %v", err)
	}

	if st, _, body := api.do("", "GET", "/readyz", nil); st != 200 {
		t.Errorf("readyz: %d %s", st, body)
	}
}
