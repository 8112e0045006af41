package transcode

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

var update = flag.Bool("update", false, "rewrite golden files")

// rotationMatrix returns a pure-rotation display matrix (16.16 fixed
// point) that ffprobe reports as "rotation" ffprobeRot (what
// av_display_rotation_get returns, -atan2(m[1], m[0])). A portrait iPhone
// clip has -90: [0, 1, 0; -1, 0, 0; 0, 0, 1].
func rotationMatrix(ffprobeRot int) []int32 {
	r := -float64(ffprobeRot) * math.Pi / 180
	c, s := int32(math.Round(math.Cos(r))), int32(math.Round(math.Sin(r)))
	return []int32{c << 16, s << 16, 0, -s << 16, c << 16, 0, 0, 0, 1 << 30}
}

func phone(w, h int, fps Rational) *VideoInfo {
	return &VideoInfo{Codec: "h264", CodedWidth: w, CodedHeight: h, Width: w, Height: h, AvgFPS: fps, RFPS: fps,
		PixFmt: "yuv420p", BitDepth: 8, ColorRange: "tv", ColorPrimaries: "bt709", ColorTransfer: "bt709", ColorSpace: "bt709"}
}

func stereo() *AudioInfo { return &AudioInfo{Index: 1, Codec: "aac", Channels: 2, SampleRate: 48000} }

func streamsOf(v *VideoInfo, a *AudioInfo) []StreamInfo {
	var ss []StreamInfo
	if v != nil {
		ss = append(ss, StreamInfo{Index: v.Index, Kind: KindVideo, Codec: v.Codec, Width: v.CodedWidth, Height: v.CodedHeight, AvgFPS: v.AvgFPS})
	}
	if a != nil {
		ss = append(ss, StreamInfo{Index: a.Index, Kind: KindAudio, Codec: a.Codec})
	}
	return ss
}

func probeOf(durMS int64, v *VideoInfo, a *AudioInfo) Probe {
	return Probe{Container: "mov,mp4,m4a,3gp,3g2,mj2", DurationMS: durMS, Streams: streamsOf(v, a), Video: v, Audio: a}
}

// planCases are real-world shapes (see shared/media/MANIFEST.md) and edge
// cases. Their ladders are golden files in testdata/plan.
func planCases() []struct {
	name  string
	probe Probe
} {
	rot := func(v *VideoInfo, ccw int) *VideoInfo {
		v.DisplayMatrix = rotationMatrix(ccw)
		v.Rotation = RotationFromMatrix(v.DisplayMatrix)
		v.Width, v.Height = DisplaySize(v.CodedWidth, v.CodedHeight, v.SampleAspect, OrientationFromMatrix(v.DisplayMatrix).Swap)
		return v
	}
	hdr := func(v *VideoInfo, trc string) *VideoInfo {
		v.PixFmt, v.BitDepth, v.ColorTransfer, v.ColorPrimaries, v.ColorSpace, v.HDR = "yuv420p10le", 10, trc, "bt2020", "bt2020nc", true
		return v
	}
	full := func(v *VideoInfo, pixFmt string) *VideoInfo { v.PixFmt, v.ColorRange = pixFmt, "pc"; return v }
	interlaced := func(v *VideoInfo, order string) *VideoInfo { v.FieldOrder = order; return v }
	depth10 := func(v *VideoInfo, pixFmt string) *VideoInfo { v.PixFmt, v.BitDepth = pixFmt, 10; return v }
	sar := func(v *VideoInfo, num, den int) *VideoInfo {
		v.SampleAspect = Rational{num, den}
		v.Width, v.Height = DisplaySize(v.CodedWidth, v.CodedHeight, v.SampleAspect, false)
		return v
	}
	vfr := func(v *VideoInfo, avg, r Rational) *VideoInfo { v.AvgFPS, v.RFPS = avg, r; return v }
	return []struct {
		name  string
		probe Probe
	}{
		{"vertical_1080x1920_30", probeOf(2166, phone(1080, 1920, Rational{45000, 1499}), stereo())},
		{"bench_sar_404_405", probeOf(30000, sar(phone(1080, 1920, Rational{30, 1}), 404, 405), stereo())},
		{"landscape_720p_geese", probeOf(3635, phone(1280, 720, Rational{30000, 1001}), stereo())},
		{"iphone_rotm90_568x320", probeOf(4000, rot(phone(568, 320, Rational{29988, 1000}), -90), stereo())},
		{"android_rot180_vfr", probeOf(2380, rot(vfr(phone(1280, 720, Rational{}), Rational{10505, 1000}, Rational{90000, 1}), 180), stereo())},
		{"rot90_ccw", probeOf(1000, rot(phone(1920, 1080, Rational{30, 1}), 90), stereo())},
		{"phone_4k60_rotm90_fullrange", probeOf(312, rot(full(phone(3840, 2160, Rational{60, 1}), "yuvj420p"), -90), stereo())},
		{"hdr10_pq_2160p60", probeOf(3008, hdr(phone(3840, 2160, Rational{60000, 1001}), "smpte2084"), &AudioInfo{Index: 1, Codec: "eac3", Channels: 6, SampleRate: 48000})},
		{"iphone_hlg_1080p_rotm90_vfr", probeOf(2548, rot(hdr(vfr(phone(1920, 1080, Rational{}), Rational{28028, 1000}, Rational{30000, 1001}), "arib-std-b67"), -90), stereo())},
		{"spatial_90fps", probeOf(55, phone(1934, 2160, Rational{90, 1}), nil)},
		{"screenrec_3026x1386_vfr", probeOf(8725, vfr(phone(3026, 1386, Rational{}), Rational{722, 100}, Rational{57600, 1}), nil)},
		{"flir_1080x1440_vfr", probeOf(11353, vfr(phone(1080, 1440, Rational{}), Rational{7399, 1000}, Rational{600, 1}), &AudioInfo{Index: 1, Codec: "aac", Channels: 1, SampleRate: 44100})},
		{"koala_480x270_noaudio", probeOf(3367, phone(480, 270, Rational{30, 1}), nil)},
		{"odd_161x121", probeOf(1001, phone(161, 121, Rational{30000, 1001}), nil)},
		{"3gp_cif_sar_12_11", probeOf(5128, sar(vfr(phone(352, 288, Rational{}), Rational{14143, 1000}, Rational{30000, 1001}), 12, 11), &AudioInfo{Index: 1, Codec: "aac", Channels: 1, SampleRate: 8000})},
		{"mkv_avg_1000_r_60", probeOf(1234, vfr(phone(1080, 720, Rational{}), Rational{1000, 1}, Rational{60, 1}), stereo())},
		{"mpegts_no_avg", probeOf(2500, vfr(phone(640, 360, Rational{}), Rational{}, Rational{24, 1}), stereo())},
		{"1080p50", probeOf(2000, phone(1920, 1080, Rational{50, 1}), stereo())},
		{"short_clip_poster_first_frame", probeOf(900, phone(720, 1280, Rational{30, 1}), stereo())},
		// Editing-suite and older-gear sources.
		{"mpeg2_576i_16x9_mp2", probeOf(2000, interlaced(sar(phone(720, 576, Rational{25, 1}), 64, 45), "tt"),
			&AudioInfo{Index: 1, Codec: "mp2", Channels: 2, SampleRate: 48000})},
		{"prores_422_10bit_1080p", probeOf(2000, depth10(phone(1920, 1080, Rational{24000, 1001}), "yuv422p10le"),
			&AudioInfo{Index: 1, Codec: "pcm_s24le", Channels: 2, SampleRate: 48000})},
		{"mjpeg_avi_422_full_range", probeOf(2600, full(phone(640, 480, Rational{30, 1}), "yuvj422p"),
			&AudioInfo{Index: 1, Codec: "pcm_s16le", Channels: 1, SampleRate: 44100})},
	}
}

func TestPlanGolden(t *testing.T) {
	for _, tc := range planCases() {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Plan(tc.probe, Config{})
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			got, err := json.MarshalIndent(struct {
				Ladder *Ladder `json:"ladder"`
				Filter string  `json:"filter"`
			}{l, l.VideoFilter()}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "plan", tc.name+".json"), append(got, '\n'))
		})
	}
}

// golden compares got with the file at path, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run with -update if the change is intended):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestPlanInvariants checks properties every ladder must have, over the
// golden cases.
func TestPlanInvariants(t *testing.T) {
	for _, tc := range planCases() {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Plan(tc.probe, Config{})
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			srcShort := min(l.Width, l.Height)
			for i, r := range l.Rungs {
				if r.Width%2 != 0 || r.Height%2 != 0 {
					t.Errorf("rung %s: %dx%d is not even", r.Name, r.Width, r.Height)
				}
				if short := min(r.Width, r.Height); short > srcShort {
					t.Errorf("rung %s: short side %d upscales the source's %d", r.Name, short, srcShort)
				}
				if (r.Height > r.Width) != (l.Height > l.Width) && r.Width != r.Height {
					t.Errorf("rung %s: %dx%d does not keep the source's orientation %dx%d", r.Name, r.Width, r.Height, l.Width, l.Height)
				}
				srcAspect := float64(l.Width) / float64(l.Height)
				if a := float64(r.Width) / float64(r.Height); a/srcAspect > 1.02 || a/srcAspect < 0.98 {
					t.Errorf("rung %s: aspect %.3f, source %.3f", r.Name, a, srcAspect)
				}
				if fps := r.FrameRate.Float(); fps <= 0 || fps > 60.001 || (r.Name == "480p" && fps > 30.001) {
					t.Errorf("rung %s: frame rate %v", r.Name, r.FrameRate)
				}
				if i > 0 && r.Width*r.Height >= l.Rungs[i-1].Width*l.Rungs[i-1].Height {
					t.Errorf("rung %s is not smaller than the one before", r.Name)
				}
			}
			if (l.Audio != nil) != (tc.probe.Audio != nil) {
				t.Errorf("audio plan %v for probe audio %v", l.Audio, tc.probe.Audio)
			}
			if tc.probe.Video.HDR && l.Color.Transfer != "bt709" {
				t.Errorf("HDR source: output transfer %q, want bt709", l.Color.Transfer)
			}
		})
	}
}

func TestPlanRungChoice(t *testing.T) {
	tests := []struct {
		name       string
		w, h       int
		wantRungs  []string
		wantFirstW int
		wantFirstH int
	}{
		{"1080p portrait", 1080, 1920, []string{"1080p", "720p", "480p"}, 1080, 1920},
		{"4K landscape", 3840, 2160, []string{"1080p", "720p", "480p"}, 1920, 1080},
		{"just under 1080", 1000, 1778, []string{"720p", "480p"}, 720, 1280},
		{"exactly 480", 854, 480, []string{"480p"}, 854, 480},
		{"under 480", 640, 360, []string{"360p"}, 640, 360},
		{"odd tiny", 161, 121, []string{"120p"}, 160, 120},
		{"square", 1080, 1080, []string{"1080p", "720p", "480p"}, 1080, 1080},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Plan(probeOf(5000, phone(tt.w, tt.h, Rational{30, 1}), nil), Config{})
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			var got []string
			for _, r := range l.Rungs {
				got = append(got, r.Name)
			}
			if !equalStrings(got, tt.wantRungs) {
				t.Errorf("rungs = %v, want %v", got, tt.wantRungs)
			}
			if l.Rungs[0].Width != tt.wantFirstW || l.Rungs[0].Height != tt.wantFirstH {
				t.Errorf("first rung %dx%d, want %dx%d", l.Rungs[0].Width, l.Rungs[0].Height, tt.wantFirstW, tt.wantFirstH)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPlanCustomConfig(t *testing.T) {
	c := Config{
		Rungs:            []RungConfig{{ShortSide: 360, MaxRate: 600_000, MaxFrameRate: 25}},
		Preset:           "ultrafast",
		CRF:              28,
		KeyframeInterval: time.Second,
		SegmentDuration:  4 * time.Second,
	}
	l, err := Plan(probeOf(10_000, phone(1920, 1080, Rational{50, 1}), stereo()), c)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if len(l.Rungs) != 1 || l.Rungs[0].Width != 640 || l.Rungs[0].Height != 360 {
		t.Fatalf("rungs = %+v, want one 640x360", l.Rungs)
	}
	if got, want := l.Rungs[0].FrameRate, (Rational{25, 1}); got != want {
		t.Errorf("frame rate = %v, want %v", got, want)
	}
	if l.Preset != "ultrafast" || l.CRF != 28 || l.KeyframeIntervalMS != 1000 || l.SegmentDurationMS != 4000 {
		t.Errorf("encoder settings not taken from config: %+v", l)
	}
	if l.Rungs[0].BufSize != 1_200_000 {
		t.Errorf("bufsize = %d, want twice the max rate", l.Rungs[0].BufSize)
	}
}

func TestPlanRejects(t *testing.T) {
	tests := []struct {
		name  string
		probe Probe
		code  string
	}{
		{"audio only", Probe{Streams: streamsOf(nil, stereo()), Audio: stereo()}, shopclip.EMEDIANOVIDEO},
		{"8K", probeOf(300, phone(7680, 4320, Rational{24, 1}), stereo()), shopclip.EMEDIADIMENSIONS},
		{"240 fps", probeOf(1000, phone(1280, 720, Rational{240, 1}), nil), shopclip.EMEDIAFRAMERATE},
		{"20 min", probeOf(20*60*1000, phone(16, 16, Rational{1, 1}), nil), shopclip.EMEDIADURATION},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Plan(tt.probe, Config{})
			if got := shopclip.ErrorCode(err); got != tt.code {
				t.Fatalf("Plan error code = %q (%v), want %q", got, err, tt.code)
			}
			if l != nil {
				t.Errorf("Plan returned a ladder with an error")
			}
		})
	}
	if _, err := Plan(probeOf(1000, phone(1280, 720, Rational{30, 1}), nil), Config{CRF: 99}); err == nil || shopclip.IsMediaError(shopclip.ErrorCode(err)) {
		t.Errorf("Plan with a bad config: err = %v, want a plain config error", err)
	}
}

func TestSourceFrameRate(t *testing.T) {
	tests := []struct {
		name     string
		avg, r   Rational
		want     Rational
		wantVFR  bool
		capTo    float64
		wantCaps Rational
	}{
		{"30 exact", Rational{30, 1}, Rational{30, 1}, Rational{30, 1}, false, 30, Rational{30, 1}},
		{"29.97", Rational{30000, 1001}, Rational{30000, 1001}, Rational{30000, 1001}, false, 30, Rational{30000, 1001}},
		{"30.02 snaps to 30", Rational{45000, 1499}, Rational{45000, 1499}, Rational{30, 1}, false, 30, Rational{30, 1}},
		{"iphone 29.988 vs 29.97", Rational{29988, 1000}, Rational{30000, 1001}, Rational{30000, 1001}, false, 30, Rational{30000, 1001}},
		{"60 capped to 30", Rational{60, 1}, Rational{60, 1}, Rational{60, 1}, false, 30, Rational{30, 1}},
		{"59.94 capped to 29.97", Rational{60000, 1001}, Rational{60000, 1001}, Rational{60000, 1001}, false, 30, Rational{30000, 1001}},
		{"50 capped to 25", Rational{50, 1}, Rational{50, 1}, Rational{50, 1}, false, 30, Rational{25, 1}},
		{"90 capped to 45 at 60", Rational{90, 1}, Rational{90, 1}, Rational{90, 1}, false, 60, Rational{45, 1}},
		{"fireplace vfr 10.5", Rational{10505, 1000}, Rational{90000, 1}, Rational{15, 1}, true, 30, Rational{15, 1}},
		{"hlg vfr 28 with r 29.97", Rational{28028, 1000}, Rational{30000, 1001}, Rational{30000, 1001}, true, 30, Rational{30000, 1001}},
		{"motion photo 27.6 with r 120", Rational{2761, 100}, Rational{120, 1}, Rational{30, 1}, true, 30, Rational{30, 1}},
		{"webm 14.985", Rational{14985, 1000}, Rational{1000, 1}, Rational{15, 1}, true, 30, Rational{15, 1}},
		{"mkv avg above r", Rational{1000, 1}, Rational{60, 1}, Rational{60, 1}, false, 60, Rational{60, 1}},
		{"ts without avg", Rational{}, Rational{24, 1}, Rational{24, 1}, false, 30, Rational{24, 1}},
		{"nothing known", Rational{}, Rational{}, Rational{30, 1}, true, 30, Rational{30, 1}},
		{"1 fps slideshow", Rational{1, 1}, Rational{1, 1}, Rational{1, 1}, false, 30, Rational{1, 1}},
		{"12.5 kept", Rational{25, 2}, Rational{25, 2}, Rational{25, 2}, false, 30, Rational{25, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, vfr := SourceFrameRate(tt.avg, tt.r)
			if got != tt.want || vfr != tt.wantVFR {
				t.Errorf("SourceFrameRate(%v, %v) = %v, %v; want %v, %v", tt.avg, tt.r, got, vfr, tt.want, tt.wantVFR)
			}
			if c := capFrameRate(got, tt.capTo); c != tt.wantCaps {
				t.Errorf("capFrameRate(%v, %g) = %v, want %v", got, tt.capTo, c, tt.wantCaps)
			}
		})
	}
}

func TestOrientation(t *testing.T) {
	tests := []struct {
		name     string
		m        []int32
		wantRot  int
		wantFilt []string
		wantSwap bool
	}{
		{"none", rotationMatrix(0), 0, nil, false},
		{"ffprobe -90 (portrait phone)", rotationMatrix(-90), 90, []string{"transpose=clock"}, true},
		{"ffprobe 90", rotationMatrix(90), 270, []string{"transpose=cclock"}, true},
		{"ffprobe 180", rotationMatrix(180), 180, []string{"hflip", "vflip"}, false},
		{"horizontal mirror", []int32{-1 << 16, 0, 0, 0, 1 << 16, 0, 0, 0, 1 << 30}, 180, []string{"hflip"}, false},
		{"vertical mirror", []int32{1 << 16, 0, 0, 0, -1 << 16, 0, 0, 0, 1 << 30}, 0, []string{"vflip"}, false},
		{"rotate 90 and mirror", []int32{0, 1 << 16, 0, 1 << 16, 0, 0, 0, 0, 1 << 30}, 90, []string{"transpose=cclock_flip"}, true},
		{"zero matrix", make([]int32, 9), 0, nil, false},
		{"short matrix", []int32{1, 2}, 0, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RotationFromMatrix(tt.m); got != tt.wantRot {
				t.Errorf("RotationFromMatrix = %d, want %d", got, tt.wantRot)
			}
			o := OrientationFromMatrix(tt.m)
			if !equalStrings(o.Filters, tt.wantFilt) || o.Swap != tt.wantSwap {
				t.Errorf("OrientationFromMatrix = %+v, want filters %v swap %v", o, tt.wantFilt, tt.wantSwap)
			}
		})
	}
	for deg, want := range map[int][]string{0: nil, 90: {"transpose=clock"}, 180: {"hflip", "vflip"}, 270: {"transpose=cclock"}, -90: {"transpose=cclock"}, 450: {"transpose=clock"}} {
		if got := OrientationFromRotation(deg).Filters; !equalStrings(got, want) {
			t.Errorf("OrientationFromRotation(%d) = %v, want %v", deg, got, want)
		}
	}
}

func TestDisplaySize(t *testing.T) {
	tests := []struct {
		w, h       int
		sar        Rational
		swap       bool
		wantW, wnH int
	}{
		{1080, 1920, Rational{}, false, 1080, 1920},
		{1080, 1920, Rational{404, 405}, false, 1080, 1920},
		{352, 288, Rational{12, 11}, false, 384, 288},
		{1440, 1080, Rational{4, 3}, false, 1920, 1080},
		{568, 320, Rational{}, true, 320, 568},
		{720, 480, Rational{8, 9}, true, 480, 640},
	}
	for _, tt := range tests {
		w, h := DisplaySize(tt.w, tt.h, tt.sar, tt.swap)
		if w != tt.wantW || h != tt.wnH {
			t.Errorf("DisplaySize(%d, %d, %v, %v) = %dx%d, want %dx%d", tt.w, tt.h, tt.sar, tt.swap, w, h, tt.wantW, tt.wnH)
		}
	}
}

func TestMainVideoAndAudio(t *testing.T) {
	streams := []StreamInfo{
		{Index: 0, Kind: KindData, Codec: "mett"},
		{Index: 1, Kind: KindVideo, Codec: "mjpeg", AttachedPic: true, Default: true},
		{Index: 2, Kind: KindVideo, Codec: "hevc", Frames: 4, AvgFPS: Rational{2, 1}},
		{Index: 3, Kind: KindVideo, Codec: "hevc", Frames: 58, AvgFPS: Rational{27, 1}},
		{Index: 4, Kind: KindAudio, Codec: "aac"},
		{Index: 5, Kind: KindAudio, Codec: "ac3", Default: true},
	}
	if got := MainVideo(streams); got != 3 {
		t.Errorf("MainVideo = %d, want 3 (the motion track, not the stills or the cover)", got)
	}
	streams[2].Default = true
	if got := MainVideo(streams); got != 2 {
		t.Errorf("MainVideo = %d, want 2 (the default track)", got)
	}
	if got := MainAudio(streams); got != 5 {
		t.Errorf("MainAudio = %d, want 5 (the default track)", got)
	}
	if got := MainVideo(streams[:1]); got != -1 {
		t.Errorf("MainVideo of data only = %d, want -1", got)
	}
}
