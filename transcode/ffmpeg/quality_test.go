package ffmpeg

import (
	"math"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/transcode"
)

// small is a one-rung ladder for tests about the picture, not the ladder.
var small = transcode.Config{
	Rungs:  []transcode.RungConfig{{ShortSide: 360, MaxRate: 800_000}},
	Preset: "superfast",
}

// TestToneMapHDR checks HDR sources (PQ and HLG; the 4K PQ sample is black,
// the sweep covers it) come out SDR BT.709 8-bit,
// tagged so, and looking like FFmpeg's own zscale/tonemap rendering of the
// source rather than like the HDR signal shown as if it were SDR.
func TestToneMapHDR(t *testing.T) {
	tests := []struct {
		file string
		at   float64
	}{
		{"iphone_hevc_main10_hlg_1080p_rotm90_editlist.mp4", 1.0},
		{"iphone_hevc_main10_hlg_1080p60_rotm90.mov", 0.03},
		{"av1_main10_hdr10_1080p60_aac.mp4", 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rep, out, err := transcodeFile(t, tt.file, small)
			if err != nil {
				t.Fatalf("Transcode: %v", err)
			}
			if rep.Ladder.ToneMap == "" {
				t.Fatalf("no tone-mapping planned for %s", tt.file)
			}
			checkOutputs(t, rep, out)
			r := rep.Renditions[0]
			pl := filepath.Join(out, r.Name, transcode.PlaylistName)
			st := ffprobeStreams(t, pl)[0]
			if st["color_transfer"] != "bt709" || st["color_primaries"] != "bt709" || st["color_space"] != "bt709" || st["color_range"] != "tv" {
				t.Errorf("output tagged %v/%v/%v/%v, want bt709 limited", st["color_transfer"], st["color_primaries"], st["color_space"], st["color_range"])
			}
			w, h := r.Width/2, r.Height/2
			got := grayFrame(t, pl, tt.at, w, h, "", false)
			ref := grayFrame(t, media(t, tt.file), tt.at, w, h,
				"zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=709,tonemap=tonemap=hable:desat=0,zscale=t=709:m=709:r=tv,format=yuv420p", false)
			naive := grayFrame(t, media(t, tt.file), tt.at, w, h, "format=yuv420p", false)
			dRef, dNaive := meanAbsDiff(got, ref), meanAbsDiff(ref, naive)
			t.Logf("mean abs difference to the tone-mapped reference %.1f; the reference differs from the untone-mapped picture by %.1f", dRef, dNaive)
			if dRef > 6 {
				t.Errorf("output differs from the tone-mapped reference by %.1f", dRef)
			}
			if dNaive > 3*dRef && meanAbsDiff(got, naive) < dNaive/2 {
				t.Errorf("output looks like the untone-mapped HDR signal")
			}
		})
	}
}

// TestVFRToCFR checks variable-frame-rate sources come out at a constant
// rate (every frame lasting the same), with the clip's full duration.
func TestVFRToCFR(t *testing.T) {
	tests := []struct {
		file string
		fps  float64
	}{
		{"android_h264_aac_720p_rot180_vfr.mp4", 15},     // avg 10.5, base 90000
		{"screenrec_h264_3026x1386_vfr_noaudio.mp4", 15}, // avg 7.2, a long last frame
		{"iphone_hevc_main10_hlg_1080p_rotm90_editlist.mp4", 30000.0 / 1001},
		{"pixel_motionphoto_hevc_2tracks_rotm90_vfr.mp4", 30},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rep, out, err := transcodeFile(t, tt.file, small)
			if err != nil {
				t.Fatalf("Transcode: %v", err)
			}
			if !rep.Ladder.VFR {
				t.Errorf("source not seen as variable frame rate")
			}
			r := rep.Renditions[0]
			b, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=pts_time",
				"-of", "csv=p=0", filepath.Join(out, r.Name, transcode.PlaylistName)).Output()
			if err != nil {
				t.Fatal(err)
			}
			var pts []float64
			for _, l := range strings.Fields(string(b)) {
				f, err := strconv.ParseFloat(strings.TrimSuffix(l, ","), 64)
				if err == nil {
					pts = append(pts, f)
				}
			}
			sort.Float64s(pts)
			for i := 1; i < len(pts); i++ {
				if d := pts[i] - pts[i-1]; math.Abs(d-1/tt.fps) > 0.002 {
					t.Fatalf("frame %d lasts %.4f s, want %.4f (constant %g fps)", i-1, d, 1/tt.fps, tt.fps)
				}
			}
			if want := float64(rep.Probe.DurationMS) / 1000; math.Abs(float64(rep.DurationMS)/1000-want) > 0.15 {
				t.Errorf("output lasts %d ms, the source %d ms", rep.DurationMS, rep.Probe.DurationMS)
			}
			checkOutputs(t, rep, out)
		})
	}
}

// TestDecodedDurationLimit feeds a file whose container states no duration
// (35 s of screen recording in Matroska) under a 10 s limit: decoding stops
// at the limit with EMEDIADURATION, since the container cannot say.
func TestDecodedDurationLimit(t *testing.T) {
	c := small
	c.Limits.MaxDuration = 10 * time.Second
	_, out, err := transcodeFile(t, "mkv_h264_screenrec_1080p_noduration.mkv", c)
	if got := shopclip.ErrorCode(err); got != shopclip.EMEDIADURATION {
		t.Fatalf("code %q (%v), want %q", got, err, shopclip.EMEDIADURATION)
	}
	if _, err := transcode.CheckOutputs(out); err == nil {
		t.Errorf("outputs left behind")
	}
}
