package ffmpeg

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip/transcode"
)

// TestFirstSegmentHandOver feeds a rung's encoder pictures one at a time
// and notes how many it had been fed when its first segment was published.
// With the hand-over (openRung), the first segment is out once the picture
// that starts the second arrives: its encoder is flushed there. Without it
// (the same rung, its second encoder dropped) libx264 keeps the segment
// until its lookahead holds the next segment's pictures. Either way the
// rendition decodes to every picture, without errors, its keyframes where
// the schedule puts them.
func TestFirstSegmentHandOver(t *testing.T) {
	ensureLogging()
	const (
		fps        = 30
		frames     = 3 * fps // three seconds
		firstMS    = 500     // the first segment: 15 pictures
		firstCount = 15      //
		keyMS      = 1000    // keyframes and segments every second after it
	)
	l := &transcode.Ladder{
		Codec: "libx264", Preset: "veryfast", Profile: "high", CRF: 23, PixFmt: "yuv420p",
		Color:              transcode.ColorTags{Range: "tv"},
		Rungs:              []transcode.Rung{{Name: "480p", Width: 480, Height: 854, FrameRate: transcode.Rational{Num: fps, Den: 1}, MaxRate: 1_500_000, BufSize: 3_000_000}},
		KeyframeIntervalMS: keyMS,
		SegmentDurationMS:  keyMS,
		FirstSegmentMS:     firstMS,
	}
	for _, handOver := range []bool{true, false} {
		dir := t.TempDir()
		fed, firstAt := 0, -1
		p := &pipeline{outDir: dir, l: l, log: logger()}
		p.pub = transcode.NewPublisher(dir, l, func(ev transcode.Event) {
			if ev.Kind == transcode.EventFile && ev.Path == "480p/seg_00000.m4s" {
				firstAt = fed
			}
		})
		// Two frame threads, as the top rung gets: libx264 adds a sync
		// lookahead to its delay.
		p.cfg.Threads.Encoder = 2
		r, err := p.openRung(0, l.Rungs[0], astiav.NewRational(1, fps))
		if err != nil {
			p.close()
			t.Fatal(err)
		}
		if r.next == nil {
			p.close()
			t.Fatal("no second encoder: the two wrote different parameter sets")
		}
		if !handOver {
			r.next.Free()
			r.next = nil
		}
		f := astiav.AllocFrame()
		pkt := astiav.AllocPacket()
		f.SetWidth(480)
		f.SetHeight(854)
		f.SetPixelFormat(astiav.PixelFormatYuv420P)
		if err := f.AllocBuffer(0); err != nil {
			t.Fatal(err)
		}
		if err := f.ImageFillBlack(); err != nil {
			t.Fatal(err)
		}
		for i := range frames {
			f.SetPts(int64(i))
			fed++
			if err := r.encode(f, pkt); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.encode(nil, pkt); err != nil {
			t.Fatal(err)
		}
		if err := r.seg.finish(); err != nil {
			t.Fatal(err)
		}
		f.Free()
		pkt.Free()
		p.close()

		switch {
		case handOver && firstAt != firstCount+1:
			t.Errorf("with the hand-over, the first segment came after %d pictures, want %d (its own and the next one's first)", firstAt, firstCount+1)
		case !handOver && firstAt < firstCount+10:
			t.Errorf("without the hand-over, the first segment came after %d pictures: libx264's lookahead holds 10 or more (the comparison means nothing)", firstAt)
		}
		t.Logf("hand-over %v: the first segment after %d pictures", handOver, firstAt)

		// The playlist as written while encoding, closed: every picture,
		// no decode error, keyframes where the schedule puts them.
		pl, err := os.ReadFile(filepath.Join(dir, "480p", transcode.PlaylistName))
		if err != nil {
			t.Fatal(err)
		}
		final := filepath.Join(dir, "480p", "final.m3u8")
		if err := os.WriteFile(final, append(pl, "#EXT-X-ENDLIST\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		v, err := VerifyHLS(t.Context(), final)
		if err != nil {
			t.Fatal(err)
		}
		if v.Frames != frames || v.DecodeErrors != 0 {
			t.Errorf("hand-over %v: %d pictures decoded with %d errors, want %d without", handOver, v.Frames, v.DecodeErrors, frames)
		}
		var keys []float64
		for _, k := range strings.Fields(keyframeTimes(t, final)) {
			f, err := strconv.ParseFloat(k, 64)
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, f)
		}
		want := []float64{0, 0.5, 1.5, 2.5}
		if len(keys) != len(want) {
			t.Fatalf("hand-over %v: keyframes at %v, want %v", handOver, keys, want)
		}
		for i := range want {
			if d := keys[i] - keys[0] - want[i]; d < -0.001 || d > 0.001 {
				t.Errorf("hand-over %v: keyframes at %v, want %v from the first", handOver, keys, want)
				break
			}
		}
	}
}

// TestFirstSegmentsWait: a rung whose first segment is out waits for the
// others' before encoding on, and goes on once the last is out; a rung
// that says so twice counts once; a cancelled job does not wait.
func TestFirstSegmentsWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := newFirstSegments(3)
	rungs := make([]*rungEncoder, 3)
	for i := range rungs {
		rungs[i] = &rungEncoder{ctx: ctx, first: first}
	}
	waited := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		rungs[0].firstOut()
		rungs[0].waitFirst()
		waited <- time.Since(start)
	}()
	rungs[1].firstOut()
	rungs[1].firstOut() // again: still one
	select {
	case <-waited:
		t.Fatal("a rung went on with one first segment still to come")
	case <-time.After(100 * time.Millisecond):
	}
	rungs[2].firstOut()
	select {
	case d := <-waited:
		if d >= firstSegmentWait {
			t.Errorf("waited %s: the wait's bound, not the last first segment", d)
		}
	case <-time.After(time.Second):
		t.Fatal("still waiting once every first segment was out")
	}

	// Cancelled: no wait, even with first segments to come.
	other := &rungEncoder{ctx: ctx, first: newFirstSegments(2)}
	cancel()
	done := make(chan struct{})
	go func() { other.firstOut(); other.waitFirst(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("a cancelled job's rung waited for the others")
	}
}
