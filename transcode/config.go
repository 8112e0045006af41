package transcode

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Config holds the ladder and encoder settings of a transcode, plus the
// limits an input must fit. The zero value of every field means its
// documented default, so Config{} behaves exactly like DefaultConfig().
type Config struct {
	// Rungs are the renditions to make, by displayed short side, largest
	// first. nil means DefaultRungs: 1080, 720 and 480. Rungs larger than the
	// source are skipped (no upscaling); a source smaller than every rung
	// gets one rendition at its own size.
	Rungs []RungConfig `json:"rungs,omitempty"`

	// Codecs are the video codecs of the ladder: "h264" first (every
	// player can play it), then optionally "av1" (libsvtav1) and "hevc"
	// (libx265), each a second set of the same rungs, listed in the same
	// master playlist for the players that can decode it, at a lower bit
	// rate for the same quality. nil means ["h264"].
	Codecs []string `json:"codecs,omitempty"`

	// Preset is the libx264 preset. "" means "veryfast".
	Preset string `json:"preset,omitempty"`
	// CRF is the libx264 constant rate factor, 1..51. 0 means 23.
	CRF int `json:"crf,omitempty"`
	// KeyframeInterval is the time between forced keyframes, the same in
	// every rendition. 0 means 2 s.
	KeyframeInterval time.Duration `json:"keyframe_interval,omitempty"`
	// SegmentDuration is the HLS segment length, a multiple of
	// KeyframeInterval. 0 means 2 s.
	SegmentDuration time.Duration `json:"segment_duration,omitempty"`
	// FirstSegmentDuration is the length of each rendition's first
	// segment, at most SegmentDuration: a short first segment is ready
	// sooner, so the clip becomes playable sooner (see EventPlayable).
	// Keyframes are forced at 0 and every KeyframeInterval before it, at
	// FirstSegmentDuration, and every KeyframeInterval after it; segments
	// are cut at FirstSegmentDuration and every SegmentDuration after it
	// (see Schedule). 0 means 1 s, or SegmentDuration when that is shorter;
	// setting it to SegmentDuration gives segments of equal length.
	FirstSegmentDuration time.Duration `json:"first_segment_duration,omitempty"`
	// MaxFrameRate caps the output frame rate of every rung. A faster source
	// is decimated by an integer factor (90 fps → 45). 0 means 60.
	MaxFrameRate float64 `json:"max_frame_rate,omitempty"`

	// AudioBitrate is the AAC-LC bit rate in bits per second. 0 means 128000.
	AudioBitrate int64 `json:"audio_bitrate,omitempty"`
	// AudioSampleRate is the AAC sample rate in Hz. 0 means 48000.
	AudioSampleRate int `json:"audio_sample_rate,omitempty"`

	// PosterAt is how far into the clip the poster frame is taken; clips
	// shorter than twice that get their first frame. 0 means 1 s.
	PosterAt time.Duration `json:"poster_at,omitempty"`

	// NoMP4 turns off the progressive MP4 (clip.mp4, faststart) of the
	// 720p rung (or the largest rung, when smaller).
	NoMP4 bool `json:"no_mp4,omitempty"`
	// NoStoryboard turns off the storyboard: a sprite of thumbnails
	// (storyboard.jpg) and its WebVTT index (storyboard.vtt).
	NoStoryboard bool `json:"no_storyboard,omitempty"`
	// StoryboardInterval is the time between storyboard thumbnails; clips
	// longer than 100 intervals get longer intervals, so the sprite never
	// holds more than 100. 0 means 2 s.
	StoryboardInterval time.Duration `json:"storyboard_interval,omitempty"`

	// ContentAware turns on content-aware rungs: the first second of the
	// clip is analysed before encoding (see Complexity) and each rung's CRF
	// and VBV cap follow the content, and a top rung that adds no detail
	// over the rung below is not made (see Ladder.Adapt).
	ContentAware bool `json:"content_aware,omitempty"`

	// Threads tunes the engine's threads; the zero value is tuned for the
	// machine.
	Threads Threads `json:"threads,omitzero"`

	// Limits are what an input must fit to be transcoded at all.
	Limits InputLimits `json:"limits,omitzero"`
}

// RungConfig is one rung of the ladder.
type RungConfig struct {
	// ShortSide is the displayed short side in pixels (1080 for 1080p).
	ShortSide int `json:"short_side"`
	// MaxRate caps the video bit rate (VBV maxrate), in bits per second; the
	// VBV buffer is twice that.
	MaxRate int64 `json:"max_rate"`
	// MaxFrameRate caps this rung's frame rate below Config.MaxFrameRate; 0
	// means no extra cap.
	MaxFrameRate float64 `json:"max_frame_rate,omitempty"`
}

// Threads sets the threads of the engine's parts. 0 means tuned for the
// machine (see the engine's documentation); 1 disables threading of that
// part.
type Threads struct {
	Decoder int `json:"decoder,omitempty"` // video decoder threads
	Encoder int `json:"encoder,omitempty"` // threads of each libx264 encoder
	Filter  int `json:"filter,omitempty"`  // filter graph threads (scaling slices)
}

// InputLimits bound what an input may be. Every field's zero value means its
// default; see DefaultConfig.
type InputLimits struct {
	// MaxLongSide and MaxShortSide bound the displayed picture: 3840 and 2160
	// (4K in either orientation).
	MaxLongSide  int `json:"max_long_side,omitempty"`
	MaxShortSide int `json:"max_short_side,omitempty"`
	// MaxPixels bounds width × height; 8294400 (3840×2160). Decoders are
	// opened with max_pixels set to it.
	MaxPixels int `json:"max_pixels,omitempty"`
	// MinSide is the smallest accepted side: 16.
	MinSide int `json:"min_side,omitempty"`
	// MaxDuration is the longest accepted clip, by the container's word and
	// by the decoded timestamps: 3 min.
	MaxDuration time.Duration `json:"max_duration,omitempty"`
	// MaxFrameRate is the fastest accepted average frame rate: 120 fps.
	MaxFrameRate float64 `json:"max_frame_rate,omitempty"`
	// MaxStreams bounds the video, audio and subtitle streams (data tracks
	// such as GPS or timecode are not counted): 4. The demuxer itself stops
	// at 32 streams of any kind.
	MaxStreams int `json:"max_streams,omitempty"`
	// MaxChannels and MaxSampleRate bound the audio: 8 channels, 96 kHz.
	MaxChannels   int `json:"max_channels,omitempty"`
	MaxSampleRate int `json:"max_sample_rate,omitempty"`
	// ProbeSize and AnalyzeDuration bound how much FFmpeg reads to find the
	// streams: 5 MB and 5 s.
	ProbeSize       int64         `json:"probe_size,omitempty"`
	AnalyzeDuration time.Duration `json:"analyze_duration,omitempty"`
	// VideoCodecs and AudioCodecs are the accepted codecs, by FFmpeg codec
	// name. nil means DefaultVideoCodecs and DefaultAudioCodecs.
	VideoCodecs []string `json:"video_codecs,omitempty"`
	AudioCodecs []string `json:"audio_codecs,omitempty"`
}

// DefaultRungs is the default ladder: 1080p at up to 4.5 Mb/s, 720p at
// 2.5 Mb/s and 480p at 1 Mb/s and at most 30 fps.
var DefaultRungs = []RungConfig{
	{ShortSide: 1080, MaxRate: 4_500_000},
	{ShortSide: 720, MaxRate: 2_500_000},
	{ShortSide: 480, MaxRate: 1_000_000, MaxFrameRate: 30},
}

// DefaultVideoCodecs are the video codecs accepted by default: what phones,
// cameras, screen recorders and browsers produce, and what brands' ads come
// in from editing suites and older gear: ProRes and DNxHD/DNxHR (MOV
// masters), MPEG-2 and MPEG-1 (broadcast TS, DVD-style program streams) and
// Motion JPEG (camera AVIs). Other decoders (ffv1, snow, msmpeg4, …) are
// refused: each one is attack surface few creators need.
var DefaultVideoCodecs = []string{"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "h263",
	"prores", "dnxhd", "mpeg2video", "mpeg1video", "mjpeg"}

// DefaultAudioCodecs are the audio codecs accepted by default, including
// MPEG-1 Layer II (mp2, the sound of MPEG-2 streams) and the 16- and 24-bit
// PCM of camera AVIs and MOV masters, in either byte order.
var DefaultAudioCodecs = []string{"aac", "mp3", "opus", "vorbis", "ac3", "eac3", "alac", "flac", "mp2",
	"pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be"}

// DefaultConfig returns the default configuration with every field spelled
// out.
func DefaultConfig() Config {
	return Config{}.WithDefaults()
}

// WithDefaults returns c with every zero field replaced by its default.
func (c Config) WithDefaults() Config {
	if c.Rungs == nil {
		c.Rungs = slices.Clone(DefaultRungs)
	}
	if c.Codecs == nil {
		c.Codecs = []string{CodecH264}
	}
	c.Preset = cmp.Or(c.Preset, "veryfast")
	c.CRF = cmp.Or(c.CRF, 23)
	c.KeyframeInterval = cmp.Or(c.KeyframeInterval, 2*time.Second)
	c.SegmentDuration = cmp.Or(c.SegmentDuration, 2*time.Second)
	c.FirstSegmentDuration = cmp.Or(c.FirstSegmentDuration, min(time.Second, c.SegmentDuration))
	c.MaxFrameRate = cmp.Or(c.MaxFrameRate, 60)
	c.AudioBitrate = cmp.Or(c.AudioBitrate, 128_000)
	c.AudioSampleRate = cmp.Or(c.AudioSampleRate, 48_000)
	c.PosterAt = cmp.Or(c.PosterAt, time.Second)
	c.StoryboardInterval = cmp.Or(c.StoryboardInterval, 2*time.Second)
	c.Limits = c.Limits.WithDefaults()
	return c
}

// WithDefaults returns l with every zero field replaced by its default.
func (l InputLimits) WithDefaults() InputLimits {
	l.MaxLongSide = cmp.Or(l.MaxLongSide, 3840)
	l.MaxShortSide = cmp.Or(l.MaxShortSide, 2160)
	l.MaxPixels = cmp.Or(l.MaxPixels, 3840*2160)
	l.MinSide = cmp.Or(l.MinSide, 16)
	l.MaxDuration = cmp.Or(l.MaxDuration, 3*time.Minute)
	l.MaxFrameRate = cmp.Or(l.MaxFrameRate, 120)
	l.MaxStreams = cmp.Or(l.MaxStreams, 4)
	l.MaxChannels = cmp.Or(l.MaxChannels, 8)
	l.MaxSampleRate = cmp.Or(l.MaxSampleRate, 96_000)
	l.ProbeSize = cmp.Or(l.ProbeSize, 5_000_000)
	l.AnalyzeDuration = cmp.Or(l.AnalyzeDuration, 5*time.Second)
	if l.VideoCodecs == nil {
		l.VideoCodecs = slices.Clone(DefaultVideoCodecs)
	}
	if l.AudioCodecs == nil {
		l.AudioCodecs = slices.Clone(DefaultAudioCodecs)
	}
	return l
}

// Validate reports whether c (with defaults applied) is usable. Its errors
// are configuration mistakes, not media errors.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.Rungs) == 0 {
		bad("transcode: config: no rungs")
	}
	for i, r := range c.Rungs {
		if r.ShortSide < 16 || r.ShortSide > 4320 || r.ShortSide%2 != 0 {
			bad("transcode: config: rung %d: short side %d is not an even number in 16..4320", i, r.ShortSide)
		}
		if r.MaxRate < 64_000 {
			bad("transcode: config: rung %d: max rate %d is below 64 kb/s", i, r.MaxRate)
		}
		if r.MaxFrameRate < 0 || r.MaxFrameRate > 240 {
			bad("transcode: config: rung %d: max frame rate %g is outside 0..240", i, r.MaxFrameRate)
		}
		if i > 0 && r.ShortSide >= c.Rungs[i-1].ShortSide {
			bad("transcode: config: rungs must be sorted by short side, largest first (rung %d)", i)
		}
	}
	if len(c.Codecs) == 0 || c.Codecs[0] != CodecH264 {
		bad("transcode: config: codecs %q: the first must be %q, which every player can play", c.Codecs, CodecH264)
	}
	for i, name := range c.Codecs {
		if name != CodecH264 && AltCodec(name) == nil {
			bad("transcode: config: codec %q: want %s, %s or %s", name, CodecH264, CodecAV1, CodecHEVC)
		}
		if slices.Contains(c.Codecs[:i], name) {
			bad("transcode: config: codec %q listed twice", name)
		}
	}
	if !slices.Contains(x264Presets, c.Preset) {
		bad("transcode: config: unknown x264 preset %q", c.Preset)
	}
	if c.CRF < 1 || c.CRF > 51 {
		bad("transcode: config: crf %d is outside 1..51", c.CRF)
	}
	if c.KeyframeInterval < 100*time.Millisecond || c.KeyframeInterval > 20*time.Second {
		bad("transcode: config: keyframe interval %v is outside 100ms..20s", c.KeyframeInterval)
	}
	if c.KeyframeInterval%time.Millisecond != 0 {
		bad("transcode: config: keyframe interval %v is not a whole number of milliseconds", c.KeyframeInterval)
	}
	if c.SegmentDuration < c.KeyframeInterval || c.SegmentDuration%c.KeyframeInterval != 0 {
		bad("transcode: config: segment duration %v is not a multiple of the keyframe interval %v", c.SegmentDuration, c.KeyframeInterval)
	}
	if c.FirstSegmentDuration < 100*time.Millisecond || c.FirstSegmentDuration > c.SegmentDuration || c.FirstSegmentDuration%time.Millisecond != 0 {
		bad("transcode: config: first segment duration %v is not a whole number of milliseconds in 100ms..%v (the segment duration)", c.FirstSegmentDuration, c.SegmentDuration)
	}
	if c.MaxFrameRate < 1 || c.MaxFrameRate > 240 {
		bad("transcode: config: max frame rate %g is outside 1..240", c.MaxFrameRate)
	}
	if c.AudioBitrate < 16_000 || c.AudioBitrate > 512_000 {
		bad("transcode: config: audio bit rate %d is outside 16k..512k", c.AudioBitrate)
	}
	if !slices.Contains([]int{22050, 24000, 32000, 44100, 48000}, c.AudioSampleRate) {
		bad("transcode: config: audio sample rate %d is not one of 22050, 24000, 32000, 44100, 48000", c.AudioSampleRate)
	}
	if c.PosterAt < 0 {
		bad("transcode: config: negative poster time")
	}
	if c.StoryboardInterval < 100*time.Millisecond || c.StoryboardInterval%time.Millisecond != 0 {
		bad("transcode: config: storyboard interval %v is not a whole number of milliseconds of at least 100", c.StoryboardInterval)
	}
	if c.Threads.Decoder < 0 || c.Threads.Encoder < 0 || c.Threads.Filter < 0 || c.Threads.Decoder > 64 || c.Threads.Encoder > 64 || c.Threads.Filter > 64 {
		bad("transcode: config: thread counts must be in 0..64")
	}
	l := c.Limits
	if l.MinSide < 2 || l.MaxShortSide < l.MinSide || l.MaxLongSide < l.MaxShortSide || l.MaxPixels < l.MinSide*l.MinSide {
		bad("transcode: config: inconsistent picture size limits")
	}
	if l.MaxDuration < time.Second || l.MaxFrameRate < 1 || l.MaxStreams < 1 || l.MaxChannels < 1 || l.MaxSampleRate < 8000 {
		bad("transcode: config: limits too small to accept anything")
	}
	if l.ProbeSize < 32 || l.AnalyzeDuration < 0 {
		bad("transcode: config: bad probe size or analyze duration")
	}
	if len(l.VideoCodecs) == 0 {
		bad("transcode: config: no video codec accepted")
	}
	return errors.Join(errs...)
}

// x264Presets are libx264's presets, fastest first.
var x264Presets = []string{"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"}
