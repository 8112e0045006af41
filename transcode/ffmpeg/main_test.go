package ffmpeg

import (
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/transcode"
)

// TestMain doubles as the transcode child process (the helper-process
// pattern): Runner tests start this test binary with "child" or
// "crashchild" before the protocol flags.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "child":
			os.Exit(ChildMain(context.Background(), os.Args[2:], os.Stdout, os.Stderr))
		case "crashchild":
			// A NULL dereference inside FFmpeg's C code, after the rlimits
			// are applied, as a hostile file might cause.
			testHookBeforeTranscode = func(transcode.ChildRequest) { _ = new(astiav.FilterGraph).Configure() }
			os.Exit(ChildMain(context.Background(), os.Args[2:], os.Stdout, os.Stderr))
		case "probechild", "floodchild", "startchild":
			// The sandbox's tests: escape attempts from inside (sandbox_test.go).
			testHookBeforeTranscode = sandboxProbe(os.Args[1])
			os.Exit(ChildMain(context.Background(), os.Args[2:], os.Stdout, os.Stderr))
		}
	}
	// FFmpeg's complaints about the broken files would drown the output;
	// the tests check outcomes.
	SetLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}

// media returns the path of a file of the shared media corpus (see
// testenv.MediaDir), skipping the test when the corpus is missing (failing
// under CI=true).
func media(t testing.TB, name string) string {
	t.Helper()
	return testenv.Media(t, name)
}

// ffprobeStreams runs ffprobe (the independent checker) on path.
func ffprobeStreams(t *testing.T, path string, extra ...string) []map[string]any {
	t.Helper()
	testenv.Tool(t, "ffprobe")
	args := append([]string{"-v", "error", "-show_streams", "-of", "json"}, extra...)
	out, err := exec.Command("ffprobe", append(args, path)...).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var v struct {
		Streams []map[string]any `json:"streams"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	return v.Streams
}

// checkOutputs verifies a successful report against the out dir with the
// engine's own checker, VerifyHLS and ffprobe.
func checkOutputs(t *testing.T, rep *transcode.Report, outDir string) {
	t.Helper()
	playlists, err := transcode.CheckOutputs(outDir)
	if err != nil {
		t.Fatalf("CheckOutputs: %v", err)
	}
	if len(rep.Renditions) == 0 {
		t.Fatal("no renditions")
	}
	for _, r := range rep.Renditions {
		pl := filepath.Join(outDir, r.Name, transcode.PlaylistName)
		v, err := VerifyHLS(context.Background(), pl)
		if err != nil {
			t.Fatalf("VerifyHLS %s: %v", r.Name, err)
		}
		if v.Frames == 0 || v.Frames != rep.Frames[r.Name] {
			t.Errorf("%s: decoded %d frames, the engine encoded %d", r.Name, v.Frames, rep.Frames[r.Name])
		}
		if v.Width != r.Width || v.Height != r.Height || v.SizeChanges != 0 {
			t.Errorf("%s: decoded %dx%d (%d size changes), want %dx%d", r.Name, v.Width, v.Height, v.SizeChanges, r.Width, r.Height)
		}
		if v.PixFmt != "yuv420p" || v.Codec != "h264" || v.DecodeErrors != 0 {
			t.Errorf("%s: %s %s with %d decode errors, want h264 yuv420p without errors", r.Name, v.Codec, v.PixFmt, v.DecodeErrors)
		}
		if want := playlists[r.Name+"/"+transcode.PlaylistName].Duration(); math.Abs(float64(v.Duration-want)) > float64(150*time.Millisecond) {
			t.Errorf("%s: decoded duration %v, the playlist says %v", r.Name, v.Duration, want)
		}
		if v.Duration.Milliseconds() > rep.DurationMS+50 {
			t.Errorf("%s: decoded duration %v exceeds the report's %d ms", r.Name, v.Duration, rep.DurationMS)
		}
		s := ffprobeStreams(t, pl)
		if len(s) != 1 {
			t.Fatalf("%s: ffprobe sees %d streams", r.Name, len(s))
		}
		st := s[0]
		if st["codec_name"] != "h264" || st["pix_fmt"] != "yuv420p" ||
			int(st["width"].(float64)) != r.Width || int(st["height"].(float64)) != r.Height {
			t.Errorf("%s: ffprobe says %v %v %v %vx%v", r.Name, st["codec_name"], st["profile"], st["pix_fmt"], st["width"], st["height"])
		}
		if st["color_range"] == "pc" || st["color_transfer"] == "smpte2084" || st["color_transfer"] == "arib-std-b67" {
			t.Errorf("%s: output is not SDR limited range: %v %v", r.Name, st["color_range"], st["color_transfer"])
		}
		if sd, ok := st["side_data_list"]; ok {
			t.Errorf("%s: output carries side data (rotation?): %v", r.Name, sd)
		}
		// CODECS must name the profile and level the stream really has.
		video, _, _ := strings.Cut(r.Codecs, ",")
		profiles := map[string]string{"42": "Constrained Baseline", "4d": "Main", "64": "High"}
		if lvl, _ := st["level"].(float64); len(video) != 11 || profiles[video[5:7]] != st["profile"] || video[9:] != fmt.Sprintf("%02x", int(lvl)) {
			t.Errorf("%s: CODECS %q does not match ffprobe's %v@%v", r.Name, r.Codecs, st["profile"], st["level"])
		}
	}
	if rep.Ladder.Audio != nil {
		a, err := VerifyHLS(context.Background(), filepath.Join(outDir, transcode.AudioName, transcode.PlaylistName))
		if err != nil || a.AudioPackets == 0 {
			t.Errorf("audio rendition: %+v, %v", a, err)
		}
		s := ffprobeStreams(t, filepath.Join(outDir, transcode.AudioName, transcode.PlaylistName))
		if len(s) != 1 || s[0]["codec_name"] != "aac" || s[0]["sample_rate"] != "48000" || int(s[0]["channels"].(float64)) != 2 {
			t.Errorf("audio rendition: ffprobe says %v", s)
		}
	} else if _, err := os.Stat(filepath.Join(outDir, transcode.AudioName)); err == nil {
		t.Errorf("no audio planned, but an audio dir exists")
	}
	if rep.MP4 != "" {
		checkMP4(t, rep, filepath.Join(outDir, rep.MP4))
	} else if rep.Ladder.MP4 != nil {
		t.Errorf("an MP4 was planned, none reported")
	}
	if rep.Storyboard != "" {
		checkStoryboard(t, rep, outDir)
	} else if rep.Ladder.Storyboard != nil && rep.DurationMS > 0 {
		t.Errorf("a storyboard was planned, none reported")
	}
	if rep.Poster != "" {
		f, err := os.Open(filepath.Join(outDir, rep.Poster))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cfg, err := jpeg.DecodeConfig(f)
		if err != nil {
			t.Fatalf("poster: %v", err)
		}
		if top := rep.Renditions[0]; cfg.Width != top.Width || cfg.Height != top.Height {
			t.Errorf("poster %dx%d, want the largest rung's %dx%d", cfg.Width, cfg.Height, top.Width, top.Height)
		}
	}
}

// checkMP4 checks the progressive MP4: the planned rung's video and the
// audio, the index (moov) before the media data (faststart).
func checkMP4(t *testing.T, rep *transcode.Report, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	boxes := mp4TopBoxes(b)
	if len(boxes) < 3 || boxes[0] != "ftyp" || boxes[1] != "moov" {
		t.Errorf("clip.mp4 top-level boxes %v: want ftyp, moov first (faststart)", boxes)
	}
	var rung shopclip.Rendition
	for _, r := range rep.Renditions {
		if r.Name == rep.Ladder.MP4.Rung {
			rung = r
		}
	}
	s := ffprobeStreams(t, path)
	wantStreams := 1
	if rep.Ladder.Audio != nil {
		wantStreams = 2
	}
	if len(s) != wantStreams || s[0]["codec_name"] != "h264" || int(s[0]["width"].(float64)) != rung.Width || int(s[0]["height"].(float64)) != rung.Height {
		t.Errorf("clip.mp4: ffprobe says %v, want %s %dx%d and audio %v", s, rung.Name, rung.Width, rung.Height, rep.Ladder.Audio != nil)
	}
	if wantStreams == 2 && s[1]["codec_name"] != "aac" {
		t.Errorf("clip.mp4: second stream %v, want aac", s[1]["codec_name"])
	}
	v, err := VerifyMP4(context.Background(), path)
	if err != nil || v.Frames != rep.Frames[rung.Name] || v.DecodeErrors != 0 {
		t.Errorf("clip.mp4 decodes %+v, %v; want %d clean frames", v, err, rep.Frames[rung.Name])
	}
}

// checkStoryboard checks the sprite's size fits its grid and every cue of
// the WebVTT index points inside it.
func checkStoryboard(t *testing.T, rep *transcode.Report, outDir string) {
	t.Helper()
	sb := rep.Ladder.Storyboard
	vtt, err := os.ReadFile(filepath.Join(outDir, rep.Storyboard))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(vtt), "WEBVTT\n") {
		t.Errorf("storyboard.vtt does not start with WEBVTT")
	}
	f, err := os.Open(filepath.Join(outDir, sb.Image))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.DecodeConfig(f)
	if err != nil {
		t.Fatalf("storyboard.jpg: %v", err)
	}
	cues := strings.Count(string(vtt), "#xywh=")
	cols, rows := sb.Grid(cues)
	if img.Width != cols*sb.TileWidth || img.Height != rows*sb.TileHeight {
		t.Errorf("sprite %dx%d, want %d×%d tiles of %dx%d", img.Width, img.Height, cols, rows, sb.TileWidth, sb.TileHeight)
	}
	if want := int((rep.DurationMS + sb.IntervalMS - 1) / sb.IntervalMS); cues < want-1 || cues > want {
		t.Errorf("%d storyboard cues for %d ms at one per %d ms", cues, rep.DurationMS, sb.IntervalMS)
	}
	for _, line := range strings.Split(string(vtt), "\n") {
		_, frag, ok := strings.Cut(line, "#xywh=")
		if !ok {
			continue
		}
		var x, y, w, h int
		if _, err := fmt.Sscanf(frag, "%d,%d,%d,%d", &x, &y, &w, &h); err != nil || x+w > img.Width || y+h > img.Height {
			t.Errorf("cue %q points outside the %dx%d sprite", line, img.Width, img.Height)
		}
	}
}
