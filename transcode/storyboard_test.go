package transcode

import (
	"path/filepath"
	"testing"
	"time"
)

func TestStoryboardVTT(t *testing.T) {
	sb := &StoryboardPlan{Image: StoryboardJPEG, Index: StoryboardVTT, IntervalMS: 2000, TileWidth: 160, TileHeight: 90, Columns: 10}
	for n, want := range map[int][2]int{1: {1, 1}, 10: {10, 1}, 11: {10, 2}, 90: {10, 9}, 0: {0, 0}} {
		if c, r := sb.Grid(n); c != want[0] || r != want[1] {
			t.Errorf("Grid(%d) = %d×%d, want %d×%d", n, c, r, want[0], want[1])
		}
	}
	vtt, err := sb.VTT(12, 23_500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "storyboard", "12_tiles.vtt"), vtt)
	if _, err := sb.VTT(0, time.Second); err == nil {
		t.Errorf("VTT of no thumbnails: want an error")
	}
	if got := vttTime(time.Hour + 2*time.Minute + 3*time.Second + 45*time.Millisecond); got != "01:02:03.045" {
		t.Errorf("vttTime = %q", got)
	}
}

func TestPlanStoryboardAndMP4(t *testing.T) {
	l, err := Plan(probeOf(10*60*1000/4, phone(1920, 1080, Rational{30, 1}), stereo()), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if l.MP4 == nil || l.MP4.Rung != "720p" {
		t.Errorf("MP4 plan %+v, want the 720p rung", l.MP4)
	}
	// 150 s at 2 s would be 75 tiles: kept.
	if sb := l.Storyboard; sb == nil || sb.IntervalMS != 2000 || sb.TileWidth != 160 || sb.TileHeight != 90 {
		t.Errorf("storyboard %+v", l.Storyboard)
	}
	c := Config{Limits: InputLimits{MaxDuration: 10 * time.Minute}}
	l, err = Plan(probeOf(9*60*1000, phone(480, 854, Rational{30, 1}), stereo()), c)
	if err != nil {
		t.Fatal(err)
	}
	// 540 s: at most 100 tiles, so 6 s apart; portrait tiles.
	if sb := l.Storyboard; sb.IntervalMS != 6000 || sb.TileWidth != 90 || sb.TileHeight != 160 {
		t.Errorf("storyboard %+v", sb)
	}
	if l.MP4.Rung != "480p" {
		t.Errorf("MP4 of a 480p-only ladder from rung %q", l.MP4.Rung)
	}
	l, err = Plan(probeOf(5000, phone(1280, 720, Rational{30, 1}), nil), Config{NoMP4: true, NoStoryboard: true})
	if err != nil {
		t.Fatal(err)
	}
	if l.MP4 != nil || l.Storyboard != nil || l.VideoFilter() != "[in]fps=fps=30/1:start_time=0,scale=w=1280:h=720,format=yuv420p,setsar=1,split=2[out0][c0];[c0]fps=fps=30/1:start_time=0,scale=w=854:h=480,format=yuv420p,setsar=1[out1]" {
		t.Errorf("NoMP4/NoStoryboard: %+v %+v %s", l.MP4, l.Storyboard, l.VideoFilter())
	}
}
