package web_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/transcode"
	"github.com/shopclip/shopclip/transcode/ffmpeg"
)

// The test clip transcoded with a second ladder in AV1
// (transcode.codecs: [h264, av1]), once per test run.
var av1Media struct {
	once sync.Once
	dir  string
	rep  *transcode.Report
	err  error
}

func transcodedAV1(t testing.TB) (string, *transcode.Report) {
	t.Helper()
	transcoded(t) // makes the source clip
	av1Media.once.Do(func() {
		av1Media.dir = filepath.Join(filepath.Dir(media.dir), "out-av1") // removed with media's
		av1Media.rep, av1Media.err = ffmpeg.Transcode(context.Background(), media.src, av1Media.dir,
			transcode.Config{Codecs: []string{transcode.CodecH264, transcode.CodecAV1}}, nil)
	})
	if av1Media.err != nil {
		t.Fatalf("AV1 test clip: %v", av1Media.err)
	}
	return av1Media.dir, av1Media.rep
}

// TestWatchPlaysAV1 plays a clip with H.264 and AV1 ladders on the watch
// page, at phone and desktop size: Chromium decodes AV1 through Media Source
// Extensions, so hls.js must choose the AV1 variants, fetch their segments
// and not H.264's, and show moving pictures.
func TestWatchPlaysAV1(t *testing.T) {
	for _, vp := range sizes {
		t.Run(vp.name, func(t *testing.T) { testWatchPlaysAV1(t, vp) })
	}
}

func testWatchPlaysAV1(t *testing.T, vp viewport) {
	dir, rep := transcodedAV1(t)
	var av1, h264 []string
	for _, r := range rep.Renditions {
		if r.Width == 0 {
			continue // audio
		}
		if strings.HasSuffix(r.Name, "-"+transcode.CodecAV1) {
			av1 = append(av1, r.Name)
		} else {
			h264 = append(h264, r.Name)
		}
	}
	if len(av1) == 0 || len(av1) != len(h264) {
		t.Fatalf("renditions %v and %v: want an AV1 one for each H.264 one", av1, h264)
	}
	w := newWorld(t)
	creator := w.account(shopclip.RoleCreator, "alice")
	clip := w.publish(creator, "Two codecs", dir, rep)

	tb := newTab(t, vp)
	tb.open(w.srv.URL + "/watch/" + clip.ID)
	if !eval[bool](tb, `MediaSource.isTypeSupported('video/mp4; codecs="av01.0.08M.08"')`) {
		t.Fatal("this Chromium does not decode AV1 through MSE: the test cannot tell hls.js's choice")
	}
	tb.waitJS("playback", `document.querySelector('video').currentTime > 1.5`, 30*time.Second)

	fetched := eval[[]string](tb, `performance.getEntriesByType('resource').map(e => new URL(e.name).pathname).filter(p => p.includes('/media/') && p.endsWith('.m4s'))`)
	var gotAV1, gotH264 []string
	for _, p := range fetched {
		for _, n := range av1 {
			if strings.Contains(p, "/"+n+"/") {
				gotAV1 = append(gotAV1, p)
			}
		}
		for _, n := range h264 {
			if strings.Contains(p, "/"+n+"/") {
				gotH264 = append(gotH264, p)
			}
		}
	}
	if len(gotAV1) == 0 || len(gotH264) > 0 {
		t.Errorf("segments fetched: %d AV1 (%v), %d H.264 (%v); want AV1 only", len(gotAV1), gotAV1, len(gotH264), gotH264)
	}

	// Pictures, not a blank: the frame drawn on a canvas has the test
	// pattern's range of brightness, and frames were decoded.
	spread := eval[float64](tb, `(() => {
  const v = document.querySelector('video');
  const c = document.createElement('canvas');
  c.width = 36; c.height = 64;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0, c.width, c.height);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let lo = 255, hi = 0;
  for (let i = 0; i < d.length; i += 4) {
    const y = (d[i] + d[i + 1] + d[i + 2]) / 3;
    lo = Math.min(lo, y); hi = Math.max(hi, y);
  }
  return hi - lo;
})()`)
	if spread < 60 {
		t.Errorf("the video's picture spans %.0f levels of brightness: blank or undecoded", spread)
	}
	if n := eval[int](tb, `document.querySelector('video').getVideoPlaybackQuality().totalVideoFrames`); n < 20 {
		t.Errorf("%d frames decoded after 1.5 s of playback", n)
	}
	tb.screenshot("watch-av1")
}
