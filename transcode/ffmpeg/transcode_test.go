package ffmpeg

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/transcode"
)

func transcodeFile(t *testing.T, name string, c transcode.Config) (*transcode.Report, string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	rep, err := Transcode(context.Background(), media(t, name), out, c, nil)
	return rep, out, err
}

func TestTranscodeVerticalPhone(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	rec := newEventRecorder(out, true)
	rep, err := Transcode(context.Background(), media(t, "vertical_1080x1920_h264_aac_android_phone.mp4"), out, transcode.Config{}, rec.onEvent)
	if err != nil {
		t.Fatalf("Transcode: %v", err)
	}
	var names []string
	for _, r := range rep.Renditions {
		names = append(names, r.Name+"="+strconv.Itoa(r.Width)+"x"+strconv.Itoa(r.Height))
	}
	if got, want := strings.Join(names, " "), "1080p=1080x1920 720p=720x1280 480p=480x854"; got != want {
		t.Errorf("renditions %s, want %s", got, want)
	}
	for _, r := range rep.Renditions {
		if !strings.HasPrefix(r.Codecs, "avc1.64") || !strings.HasSuffix(r.Codecs, ",mp4a.40.2") {
			t.Errorf("%s: CODECS %q, want H.264 High and AAC-LC", r.Name, r.Codecs)
		}
	}
	if rep.Width != 1080 || rep.Height != 1920 || rep.DurationMS < 2000 || rep.DurationMS > 2300 {
		t.Errorf("report %dx%d %d ms, want 1080x1920 about 2166 ms", rep.Width, rep.Height, rep.DurationMS)
	}
	if rep.Error != nil || rep.Master != transcode.MasterName || rep.Poster != transcode.PosterName {
		t.Errorf("report error %v master %q poster %q", rep.Error, rep.Master, rep.Poster)
	}
	if rep.Outputs[len(rep.Outputs)-1].Path != transcode.MasterName {
		t.Errorf("outputs do not end with the master: %v", rep.Outputs)
	}
	for _, o := range rep.Outputs {
		if strings.HasSuffix(o.Path, ".tmp") {
			t.Errorf("a temporary file is left: %s", o.Path)
		}
	}
	for _, k := range []string{"probe", "transcode", "playlists", "total"} {
		if _, ok := rep.Timings[k]; !ok {
			t.Errorf("no %q timing in %v", k, rep.Timings)
		}
	}
	events := rec.events
	if len(events) < 2 || events[0].Kind != transcode.EventProbe || events[len(events)-1].Progress != 1 {
		t.Errorf("events: %+v", events)
	}
	rec.check(t, rep, transcode.DefaultConfig())
	checkOutputs(t, rep, out)
	checkKeyframesAligned(t, rep, out)
}

// checkKeyframesAligned checks with ffprobe that every rendition has its
// keyframes where the ladder's schedule puts them (at 0, 1 s, 3 s, 5 s, …
// with the defaults), within a frame, and only there, so segments line up.
func checkKeyframesAligned(t *testing.T, rep *transcode.Report, out string) {
	t.Helper()
	want := rep.Ladder.Schedule().Keyframes(rep.DurationMS)
	var first []string
	for i, r := range rep.Renditions {
		b, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v", "-skip_frame", "nokey",
			"-show_entries", "frame=pts_time", "-of", "csv=p=0", filepath.Join(out, r.Name, transcode.PlaylistName)).Output()
		if err != nil {
			t.Fatalf("ffprobe keyframes: %v", err)
		}
		var keys []float64
		var rounded []string
		for _, l := range strings.Fields(string(b)) {
			f, _ := strconv.ParseFloat(strings.TrimSuffix(l, ","), 64)
			keys = append(keys, f)
			rounded = append(rounded, strconv.FormatFloat(f, 'f', 1, 64))
		}
		if len(keys) != len(want) {
			t.Errorf("%s: keyframes at %v, want %d (at %v ms)", r.Name, keys, len(want), want)
			continue
		}
		frame := 1 / rep.Ladder.Rungs[i].FrameRate.Float()
		for k := range keys {
			if d := keys[k] - keys[0] - float64(want[k])/1000; d < -0.001 || d > frame+0.001 {
				t.Errorf("%s: keyframe %d at %.3f s from the first, want %d ms", r.Name, k, keys[k]-keys[0], want[k])
			}
		}
		if i == 0 {
			first = rounded
		} else if strings.Join(rounded, " ") != strings.Join(first, " ") {
			t.Errorf("%s: keyframes at %v, %s has them at %v", r.Name, rounded, rep.Renditions[0].Name, first)
		}
	}
}

// grayFrame decodes the first frame at or after sec with the ffmpeg command
// line (which applies the display matrix itself unless noAutorotate), with
// the pre filters first, scaled to w×h 8-bit gray. It selects the frame
// instead of seeking: FFmpeg 5.1's hls demuxer mis-parses fMP4 H.264 after
// a seek (the baseline ladder's output too).
func grayFrame(t *testing.T, path string, sec float64, w, h int, pre string, noAutorotate bool) []byte {
	t.Helper()
	return rawFrame(t, path, sec, w, h, pre, "gray", 1, noAutorotate)
}

// rgbFrame is grayFrame in 8-bit RGB (3 bytes a pixel), for tests about
// colour.
func rgbFrame(t *testing.T, path string, sec float64, w, h int, pre string) []byte {
	t.Helper()
	return rawFrame(t, path, sec, w, h, pre, "rgb24", 3, false)
}

// rawFrame is grayFrame in pixel format pixFmt of bpp bytes a pixel.
func rawFrame(t *testing.T, path string, sec float64, w, h int, pre, pixFmt string, bpp int, noAutorotate bool) []byte {
	t.Helper()
	vf := "select=gte(t\\," + strconv.FormatFloat(sec, 'f', 3, 64) + "),scale=" + strconv.Itoa(w) + ":" + strconv.Itoa(h) + ",format=" + pixFmt
	if pre != "" {
		vf = pre + "," + vf
	}
	args := []string{"-v", "error"}
	if noAutorotate {
		args = append(args, "-noautorotate")
	}
	args = append(args, "-i", path, "-frames:v", "1", "-vf", vf, "-f", "rawvideo", "-")
	b, err := exec.Command("ffmpeg", args...).Output()
	if err != nil || len(b) != w*h*bpp {
		t.Fatalf("ffmpeg frame of %s: %v (%d bytes)", path, err, len(b))
	}
	return b
}

func meanAbsDiff(a, b []byte) float64 {
	var s int
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		s += d
	}
	return float64(s) / float64(len(a))
}

// checkUpright compares a frame of the output with the same frame of the
// source as the ffmpeg command line displays it (autorotated) and as a
// wrong orientation would show it: the output must match the former.
func checkUpright(t *testing.T, src, playlist string, sec float64, w, h int, wrong string) {
	t.Helper()
	testenv.Tool(t, "ffmpeg")
	got := grayFrame(t, playlist, sec, w, h, "", false)
	ref := grayFrame(t, src, sec, w, h, "", false)
	bad := grayFrame(t, src, sec, w, h, wrong, true)
	dRef, dBad := meanAbsDiff(got, ref), meanAbsDiff(got, bad)
	t.Logf("mean abs difference to the upright source %.1f, to the %q one %.1f", dRef, wrong, dBad)
	if dRef > 12 || dRef*2 > dBad {
		t.Errorf("output frame differs from the upright source by %.1f and from the %q one by %.1f: not upright", dRef, wrong, dBad)
	}
}

func TestTranscodeRotated(t *testing.T) {
	tests := []struct {
		file  string
		w, h  int
		rungs string
		wrong string // a wrong orientation of the stored picture
	}{
		{"iphone_h264_aac_568x320_rotm90_gps.mov", 320, 568, "320p", "transpose=cclock"},
		{"android_h264_aac_720p_rot180_vfr.mp4", 1280, 720, "720p 480p", "null"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rep, out, err := transcodeFile(t, tt.file, transcode.Config{})
			if err != nil {
				t.Fatalf("Transcode: %v", err)
			}
			if rep.Width != tt.w || rep.Height != tt.h {
				t.Errorf("displayed size %dx%d, want %dx%d", rep.Width, rep.Height, tt.w, tt.h)
			}
			var names []string
			for _, r := range rep.Renditions {
				names = append(names, r.Name)
			}
			if strings.Join(names, " ") != tt.rungs {
				t.Errorf("rungs %v, want %s", names, tt.rungs)
			}
			checkOutputs(t, rep, out)
			top := rep.Renditions[0]
			checkUpright(t, media(t, tt.file), filepath.Join(out, top.Name, transcode.PlaylistName), 1.0, top.Width/8*2, top.Height/8*2, tt.wrong)
		})
	}
}

func TestTranscodeNoAudio(t *testing.T) {
	rep, out, err := transcodeFile(t, "h264_noaudio_480x270_koala.mp4", transcode.Config{})
	if err != nil {
		t.Fatalf("Transcode: %v", err)
	}
	if rep.Ladder.Audio != nil || len(rep.Renditions) != 1 || rep.Renditions[0].Name != "270p" {
		t.Fatalf("ladder audio %v renditions %+v", rep.Ladder.Audio, rep.Renditions)
	}
	if c := rep.Renditions[0].Codecs; strings.Contains(c, "mp4a") {
		t.Errorf("CODECS %q names audio", c)
	}
	master, err := os.ReadFile(filepath.Join(out, transcode.MasterName))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(master), "AUDIO") {
		t.Errorf("master of a silent clip names audio:\n%s", master)
	}
	checkOutputs(t, rep, out)
}

func TestTranscodeRejects(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.mp4")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		code string
	}{
		{empty, shopclip.EMEDIAEMPTY},
		{media(t, "audio_only_alac_stereo.m4a"), shopclip.EMEDIANOVIDEO},
		{media(t, "broken_vp9_invalid_bitstream.webm"), shopclip.EMEDIADECODE},
		{media(t, "broken_moov_not_found_malformed_free_box.mp4"), shopclip.EMEDIAUNREADABLE},
		{media(t, "phone_hevc_aac_8k24_7680x4320.mp4"), shopclip.EMEDIADIMENSIONS},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			rep, err := Transcode(context.Background(), tt.path, out, transcode.Config{}, nil)
			if got := shopclip.ErrorCode(err); got != tt.code {
				t.Fatalf("code %q (%v), want %q", got, err, tt.code)
			}
			if rep == nil || rep.Error == nil || rep.Error.Code != tt.code || rep.Error.Message == "" {
				t.Errorf("report %+v does not carry the error", rep)
			}
			left, _ := os.ReadDir(out)
			if len(left) != 0 {
				t.Errorf("a failed transcode left files: %v", left)
			}
		})
	}
}

func TestTranscodeNeedsAbsolutePaths(t *testing.T) {
	src := media(t, "h264_noaudio_480x270_koala.mp4")
	rel, err := filepath.Rel(mustGetwd(t), src)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Transcode(context.Background(), rel, t.TempDir(), transcode.Config{}, nil)
	if err == nil || shopclip.IsMediaError(shopclip.ErrorCode(err)) {
		t.Errorf("relative input: %v, want a plain (not media) error", err)
	}
	_, err = Transcode(context.Background(), src, "relative/out", transcode.Config{}, nil)
	if err == nil {
		t.Errorf("relative out dir accepted")
	}
}

func mustGetwd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func TestTranscodeCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	events := 0
	_, err := Transcode(ctx, media(t, "webm_vp8_vorbis_720p_bbb_30s.webm"), filepath.Join(t.TempDir(), "out"), transcode.Config{},
		func(ev transcode.Event) {
			if ev.Kind == transcode.EventProgress {
				events++
				cancel()
			}
		})
	if err == nil || shopclip.IsMediaError(shopclip.ErrorCode(err)) || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("cancelled transcode: %v, want a context error", err)
	}
	if events == 0 {
		t.Errorf("no progress before the cancel")
	}
}
