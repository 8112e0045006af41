package ffmpeg

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shopclip/shopclip/transcode"
)

// TestContentAware transcodes, with content-aware rungs on, a flat still
// picture and a busy one (moving test pattern under temporal noise), both
// 720x1280, made here with the ffmpeg command line. The flat one must
// measure as such (no detail above 480p, no edges, no motion) and get the
// coarser CRF, the tighter caps and no 720p rung; the busy one must
// measure as busy and keep both rungs at the configured CRF and caps. The
// renditions made are the ladder's, and the ladder is in the report.
func TestContentAware(t *testing.T) {
	dir := t.TempDir()
	flat := generate(t, "-f", "lavfi", "-i", "color=c=0x6080a0:s=720x1280:r=30:d=1", "-c:v", "libx264", "-preset", "ultrafast", filepath.Join(dir, "flat.mp4"))
	busy := generate(t, "-f", "lavfi", "-i", "testsrc2=s=720x1280:r=30:d=1,noise=alls=40:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10", filepath.Join(dir, "busy.mp4"))
	c := transcode.Config{Preset: "superfast", ContentAware: true, NoMP4: true, NoStoryboard: true}
	fixed := transcode.DefaultConfig()

	run := func(t *testing.T, in string) *transcode.Report {
		t.Helper()
		out := filepath.Join(t.TempDir(), "out")
		rep, err := Transcode(context.Background(), in, out, c, nil)
		if err != nil {
			t.Fatalf("Transcode: %v", err)
		}
		checkOutputs(t, rep, out)
		var made, planned []string
		for _, r := range rep.Renditions {
			made = append(made, r.Name)
		}
		for _, r := range rep.Ladder.Rungs {
			planned = append(planned, r.Name)
		}
		if !slices.Equal(made, planned) {
			t.Errorf("renditions %v, ladder %v", made, planned)
		}
		cx := rep.Ladder.Complexity
		if cx == nil || cx.Frames < transcode.ComplexityMinFrames {
			t.Fatalf("complexity %+v, want at least %d frames analysed", cx, transcode.ComplexityMinFrames)
		}
		t.Logf("complexity %+v; rungs %+v", *cx, rep.Ladder.Rungs)
		return rep
	}

	fl := run(t, flat)
	bu := run(t, busy)
	fcx, bcx := fl.Ladder.Complexity, bu.Ladder.Complexity

	// The measures themselves.
	if len(fcx.Detail) != 1 || fcx.Detail[0] < transcode.DropDetail {
		t.Errorf("flat picture: detail %v, want one figure of at least %g", fcx.Detail, transcode.DropDetail)
	}
	if len(bcx.Detail) != 1 || bcx.Detail[0] >= transcode.DropDetail {
		t.Errorf("busy picture: detail %v, want one figure under %g", bcx.Detail, transcode.DropDetail)
	}
	if !(fcx.SI < bcx.SI && fcx.TI < bcx.TI) {
		t.Errorf("flat SI/TI %.1f/%.1f not below busy %.1f/%.1f", fcx.SI, fcx.TI, bcx.SI, bcx.TI)
	}

	// What they chose: the flat clip has no 720p, the busy one has both.
	names := func(rep *transcode.Report) []string {
		var n []string
		for _, r := range rep.Ladder.Rungs {
			n = append(n, r.Name)
		}
		return n
	}
	if got := names(fl); !slices.Equal(got, []string{"480p"}) {
		t.Errorf("flat picture: rungs %v, want [480p]", got)
	}
	if got := names(bu); !slices.Equal(got, []string{"720p", "480p"}) {
		t.Errorf("busy picture: rungs %v, want [720p 480p]", got)
	}
	// The same 480p rung: lower cap and coarser CRF for the flat one; the
	// configured ones for the busy one.
	f480, b480 := fl.Ladder.Rungs[len(fl.Ladder.Rungs)-1], bu.Ladder.Rungs[len(bu.Ladder.Rungs)-1]
	want480 := fixed.Rungs[len(fixed.Rungs)-1].MaxRate
	if !(f480.MaxRate < b480.MaxRate) || b480.MaxRate != want480 {
		t.Errorf("480p caps: flat %d, busy %d; want flat below busy, busy %d", f480.MaxRate, b480.MaxRate, want480)
	}
	if !(f480.CRF > b480.CRF) || b480.CRF != fixed.CRF {
		t.Errorf("480p CRF: flat %d, busy %d; want flat above busy, busy %d", f480.CRF, b480.CRF, fixed.CRF)
	}
}

// TestContentAwareOff checks the fixed ladder is untouched without
// Config.ContentAware: no analysis, no complexity in the report.
func TestContentAwareOff(t *testing.T) {
	rep, _, err := transcodeFile(t, "h264_noaudio_480x270_koala.mp4", small)
	if err != nil {
		t.Fatalf("Transcode: %v", err)
	}
	if rep.Ladder.Complexity != nil {
		t.Errorf("complexity %+v without content_aware", rep.Ladder.Complexity)
	}
	if _, ok := rep.Timings["analyze"]; ok {
		t.Errorf("an analysis ran without content_aware")
	}
	for _, r := range rep.Ladder.Rungs {
		if r.CRF != 0 {
			t.Errorf("%s: crf %d set without content_aware", r.Name, r.CRF)
		}
	}
}
