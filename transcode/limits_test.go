package transcode

import (
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

func TestCheckProbe(t *testing.T) {
	ok := func() Probe { return probeOf(10_000, phone(1080, 1920, Rational{30, 1}), stereo()) }
	with := func(f func(p *Probe)) Probe { p := ok(); f(&p); return p }
	tests := []struct {
		name     string
		probe    Probe
		code     string
		contains string // part of the message a person reads
	}{
		{"ok", ok(), "", ""},
		{"too many streams", with(func(p *Probe) {
			for i := range 4 {
				p.Streams = append(p.Streams, StreamInfo{Index: 2 + i, Kind: KindAudio, Codec: "aac"})
			}
		}), shopclip.EMEDIASTREAMS, "6 audio, video and subtitle tracks"},
		{"data tracks do not count", with(func(p *Probe) {
			for i := range 10 {
				p.Streams = append(p.Streams, StreamInfo{Index: 2 + i, Kind: KindData, Codec: "mebx"})
			}
		}), "", ""},
		{"audio only", with(func(p *Probe) { p.Video = nil; p.Streams = p.Streams[1:] }), shopclip.EMEDIANOVIDEO, "only sound"},
		{"nothing at all", Probe{}, shopclip.EMEDIANOVIDEO, "no video"},
		{"video codec", with(func(p *Probe) { p.Video.Codec = "ffv1" }), shopclip.EMEDIACODEC, "ffv1"},
		{"unknown size", with(func(p *Probe) { p.Video.Width, p.Video.Height = 0, 0 }), shopclip.EMEDIAUNREADABLE, "size"},
		{"too small", with(func(p *Probe) { p.Video.Width, p.Video.Height, p.Video.CodedWidth, p.Video.CodedHeight = 8, 8, 8, 8 }), shopclip.EMEDIADIMENSIONS, "at least 16"},
		{"8K", with(func(p *Probe) {
			p.Video.Width, p.Video.Height, p.Video.CodedWidth, p.Video.CodedHeight = 7680, 4320, 7680, 4320
		}), shopclip.EMEDIADIMENSIONS, "7680×4320"},
		{"4K portrait is fine", with(func(p *Probe) {
			p.Video.Width, p.Video.Height, p.Video.CodedWidth, p.Video.CodedHeight = 2160, 3840, 3840, 2160
		}), "", ""},
		{"too many pixels", with(func(p *Probe) {
			p.Video.Width, p.Video.Height, p.Video.CodedWidth, p.Video.CodedHeight = 3840, 2200, 3840, 2160
		}), shopclip.EMEDIADIMENSIONS, ""},
		{"240 fps", with(func(p *Probe) { p.Video.AvgFPS, p.Video.RFPS = Rational{240, 1}, Rational{240, 1} }), shopclip.EMEDIAFRAMERATE, "240 frames per second"},
		{"bogus mkv average is not a frame rate", with(func(p *Probe) { p.Video.AvgFPS, p.Video.RFPS = Rational{1000, 1}, Rational{60, 1} }), "", ""},
		{"duration bomb", with(func(p *Probe) { p.DurationMS = (20 * time.Minute).Milliseconds() }), shopclip.EMEDIADURATION, "20m long"},
		{"long video track", with(func(p *Probe) { p.Video.DurationMS = (4 * time.Minute).Milliseconds() }), shopclip.EMEDIADURATION, "4m"},
		{"audio codec", with(func(p *Probe) { p.Audio.Codec = "pcm_f32le" }), shopclip.EMEDIACODEC, "pcm_f32le"},
		// Editing-suite and older-gear formats.
		{"prores 10-bit 4:2:2 with 24-bit PCM", with(func(p *Probe) {
			p.Video.Codec, p.Video.PixFmt, p.Video.BitDepth, p.Audio.Codec = "prores", "yuv422p10le", 10, "pcm_s24le"
		}), "", ""},
		{"dnxhd with big-endian 24-bit PCM", with(func(p *Probe) { p.Video.Codec, p.Audio.Codec = "dnxhd", "pcm_s24be" }), "", ""},
		{"mpeg-2 with mp2", with(func(p *Probe) { p.Video.Codec, p.Audio.Codec = "mpeg2video", "mp2" }), "", ""},
		{"mpeg-1", with(func(p *Probe) { p.Video.Codec = "mpeg1video" }), "", ""},
		{"motion jpeg with 16-bit PCM", with(func(p *Probe) { p.Video.Codec, p.Audio.Codec = "mjpeg", "pcm_s16le" }), "", ""},
		{"16 channels", with(func(p *Probe) { p.Audio.Channels = 16 }), shopclip.EMEDIAAUDIO, "16 channels"},
		{"192 kHz", with(func(p *Probe) { p.Audio.SampleRate = 192_000 }), shopclip.EMEDIAAUDIO, "192000 Hz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckProbe(&tt.probe, InputLimits{})
			if got := shopclip.ErrorCode(err); got != tt.code {
				t.Fatalf("CheckProbe code = %q (%v), want %q", got, err, tt.code)
			}
			if msg := shopclip.ErrorMessage(err); !strings.Contains(msg, tt.contains) {
				t.Errorf("message %q does not mention %q", msg, tt.contains)
			}
		})
	}
}

func TestCheckProbeCustomLimits(t *testing.T) {
	p := probeOf(10_000, phone(1280, 720, Rational{30, 1}), stereo())
	l := InputLimits{MaxDuration: 5 * time.Second}
	if got := shopclip.ErrorCode(CheckProbe(&p, l)); got != shopclip.EMEDIADURATION {
		t.Errorf("10 s clip with a 5 s limit: code %q, want %q", got, shopclip.EMEDIADURATION)
	}
	l = InputLimits{VideoCodecs: []string{"vp9"}}
	if got := shopclip.ErrorCode(CheckProbe(&p, l)); got != shopclip.EMEDIACODEC {
		t.Errorf("h264 with only vp9 allowed: code %q, want %q", got, shopclip.EMEDIACODEC)
	}
}

// TestCodecMessages checks refusals name the codecs as people know them,
// each once.
func TestCodecMessages(t *testing.T) {
	p := probeOf(10_000, phone(1280, 720, Rational{30, 1}), stereo())
	p.Video.Codec = "ffv1"
	msg := shopclip.ErrorMessage(CheckProbe(&p, InputLimits{}))
	want := "The video is encoded as ffv1, which is not supported. Use H.264, HEVC, VP8, VP9, AV1, MPEG-4 Part 2, H.263, ProRes, DNxHD/DNxHR, MPEG-2, MPEG-1 or Motion JPEG."
	if msg != want {
		t.Errorf("video refusal:\n got %q\nwant %q", msg, want)
	}
	p = probeOf(10_000, phone(1280, 720, Rational{30, 1}), stereo())
	p.Audio.Codec = "pcm_f32le"
	msg = shopclip.ErrorMessage(CheckProbe(&p, InputLimits{}))
	want = "The sound is encoded as pcm_f32le, which is not supported. Use AAC, MP3, Opus, Vorbis, AC-3, E-AC-3, ALAC, FLAC, MP2, 16-bit PCM or 24-bit PCM."
	if msg != want {
		t.Errorf("audio refusal:\n got %q\nwant %q", msg, want)
	}
	if got := codecLabel("mpeg2video"); got != "MPEG-2" {
		t.Errorf("codecLabel(mpeg2video) = %q, want MPEG-2", got)
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		3 * time.Minute:                         "3m",
		20 * time.Minute:                        "20m",
		45 * time.Second:                        "45s",
		150 * time.Second:                       "2m30s",
		time.Hour + 20*time.Minute + 10e9:       "1h20m",
		6422*time.Second + 400*time.Millisecond: "1h47m",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	bad := []struct {
		name string
		c    Config
	}{
		{"odd rung", Config{Rungs: []RungConfig{{ShortSide: 721, MaxRate: 1e6}}}},
		{"unsorted rungs", Config{Rungs: []RungConfig{{ShortSide: 480, MaxRate: 1e6}, {ShortSide: 720, MaxRate: 1e6}}}},
		{"empty rungs", Config{Rungs: []RungConfig{}}},
		{"tiny max rate", Config{Rungs: []RungConfig{{ShortSide: 480, MaxRate: 10}}}},
		{"preset", Config{Preset: "warp"}},
		{"crf", Config{CRF: 60}},
		{"segment not a keyframe multiple", Config{KeyframeInterval: 2 * time.Second, SegmentDuration: 3 * time.Second}},
		{"keyframe interval sub-millisecond", Config{KeyframeInterval: 1500 * time.Microsecond}},
		{"first segment longer than the others", Config{FirstSegmentDuration: 3 * time.Second}},
		{"first segment sub-millisecond", Config{FirstSegmentDuration: 1500 * time.Microsecond}},
		{"first segment too short", Config{FirstSegmentDuration: 50 * time.Millisecond}},
		{"first segment negative", Config{FirstSegmentDuration: -time.Second}},
		{"audio rate", Config{AudioSampleRate: 12345}},
		{"threads", Config{Threads: Threads{Encoder: -1}}},
		{"limits", Config{Limits: InputLimits{MaxShortSide: 8, MinSide: 16}}},
	}
	for _, tt := range bad {
		if err := tt.c.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil, want an error", tt.name)
		}
	}
	d := DefaultConfig()
	if d.Preset != "veryfast" || d.CRF != 23 || d.KeyframeInterval != 2*time.Second || len(d.Rungs) != 3 || d.Limits.MaxDuration != 3*time.Minute {
		t.Errorf("DefaultConfig = %+v", d)
	}
	if d.FirstSegmentDuration != time.Second || d.SegmentDuration != 2*time.Second {
		t.Errorf("default segments: first %v, then %v; want 1s, then 2s", d.FirstSegmentDuration, d.SegmentDuration)
	}
	// Segments shorter than the default first one: the first is as long.
	short := Config{KeyframeInterval: 500 * time.Millisecond, SegmentDuration: 500 * time.Millisecond}
	if err := short.Validate(); err != nil {
		t.Errorf("500 ms segments: %v", err)
	}
	if got := short.WithDefaults().FirstSegmentDuration; got != 500*time.Millisecond {
		t.Errorf("500 ms segments: first segment %v, want 500ms", got)
	}
	// DefaultConfig must not share its slices with the package defaults.
	d.Rungs[0].ShortSide = 2
	if DefaultRungs[0].ShortSide != 1080 {
		t.Errorf("DefaultConfig aliases DefaultRungs")
	}
}
