package transcode

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Probe is the summary of an input file that planning needs, as found by
// the engine's probe (ffmpeg.ProbeFile). It is JSON-able and part of the
// Report.
type Probe struct {
	// Container is the demuxer's name, e.g. "mov,mp4,m4a,3gp,3g2,mj2".
	Container string `json:"container"`
	// DurationMS is the container's duration; 0 when it states none.
	DurationMS int64 `json:"duration_ms"`
	// BitRate is the container's overall bit rate, 0 when unknown.
	BitRate int64 `json:"bit_rate,omitempty"`
	// Streams lists every stream of the file.
	Streams []StreamInfo `json:"streams"`
	// Video is the main video stream (see MainVideo); nil when there is none.
	Video *VideoInfo `json:"video,omitempty"`
	// Audio is the audio stream that will be transcoded; nil when none.
	Audio *AudioInfo `json:"audio,omitempty"`
}

// Stream kinds, as in StreamInfo.Kind.
const (
	KindVideo    = "video"
	KindAudio    = "audio"
	KindSubtitle = "subtitle"
	KindData     = "data" // data, attachment and unknown streams
)

// StreamInfo summarizes one stream of the input.
type StreamInfo struct {
	Index int    `json:"index"`
	Kind  string `json:"kind"`
	Codec string `json:"codec"` // FFmpeg codec name, "" when unknown
	// Video only.
	Width       int      `json:"width,omitempty"`
	Height      int      `json:"height,omitempty"`
	AvgFPS      Rational `json:"avg_fps,omitzero"`
	Frames      int64    `json:"frames,omitempty"` // as the container states; 0 when unknown
	AttachedPic bool     `json:"attached_pic,omitempty"`
	// Default is the container's default-track flag.
	Default bool `json:"default,omitempty"`
}

// DisplaySize returns the size a coded picture is shown at: pixels made
// square by stretching the width by the sample aspect ratio, then width and
// height swapped when the orientation turns the picture by 90°. A sample
// aspect within 1% of square (404:405 and the like, left by someone's
// scaler) is treated as square: the difference cannot be seen, and keeping
// it would drop a 1080-wide clip below the 1080p rung.
func DisplaySize(codedW, codedH int, sar Rational, swap bool) (w, h int) {
	w, h = codedW, codedH
	if f := sar.Float(); sar.Valid() && math.Abs(f-1) > 0.01 {
		w = int(math.Round(float64(w) * f))
	}
	if swap {
		w, h = h, w
	}
	return w, h
}

// FrameRate returns the stream's average frame rate as checked against the
// limits: AvgFPS, or RFPS when AvgFPS is unknown or faster than RFPS (an
// average above the base rate is a container artefact, such as Matroska's
// 1 ms default durations).
func (v *VideoInfo) FrameRate() float64 {
	avg, r := v.AvgFPS.Float(), v.RFPS.Float()
	if avg == 0 || (r > 0 && avg > 1.02*r) {
		return r
	}
	return avg
}

// VideoInfo describes the main video stream.
type VideoInfo struct {
	Index   int    `json:"index"`
	Codec   string `json:"codec"`
	Profile string `json:"profile,omitempty"`
	// CodedWidth and CodedHeight are the picture as stored.
	CodedWidth  int `json:"coded_width"`
	CodedHeight int `json:"coded_height"`
	// SampleAspect is the pixel aspect ratio; zero or 1:1 means square.
	SampleAspect Rational `json:"sample_aspect,omitzero"`
	// Rotation is the clockwise rotation in degrees (0, 90, 180 or 270) that
	// makes the picture upright, from the display matrix.
	Rotation int `json:"rotation"`
	// DisplayMatrix is the raw display matrix (9 × 16.16/2.30 fixed point)
	// when the stream has one; it also says whether the picture is mirrored.
	DisplayMatrix []int32 `json:"display_matrix,omitempty"`
	// Width and Height are the picture as displayed: rotation applied and
	// pixels made square.
	Width  int `json:"width"`
	Height int `json:"height"`
	// AvgFPS is the average frame rate, RFPS the container's base rate
	// (r_frame_rate); for variable-frame-rate files they differ.
	AvgFPS Rational `json:"avg_fps,omitzero"`
	RFPS   Rational `json:"r_fps,omitzero"`
	// PixFmt is the decoder's pixel format, e.g. "yuv420p10le"; BitDepth its
	// bits per luma sample.
	PixFmt   string `json:"pix_fmt"`
	BitDepth int    `json:"bit_depth"`
	// Colour description, with FFmpeg's names ("bt709", "smpte2084",
	// "arib-std-b67", "tv", "pc", …; "" when unspecified).
	ColorRange     string `json:"color_range,omitempty"`
	ColorPrimaries string `json:"color_primaries,omitempty"`
	ColorTransfer  string `json:"color_transfer,omitempty"`
	ColorSpace     string `json:"color_space,omitempty"`
	// HDR is true for PQ (smpte2084) and HLG (arib-std-b67) transfer.
	HDR bool `json:"hdr"`
	// FieldOrder is how the pictures are scanned, with FFmpeg's names:
	// "progressive", or "tt", "bb", "tb", "bt" for interlaced video (top or
	// bottom field coded and shown first); "" when unknown.
	FieldOrder string `json:"field_order,omitempty"`
	// DurationMS is the stream's own duration, 0 when unknown.
	DurationMS int64 `json:"duration_ms,omitempty"`
}

// Interlaced reports whether the stream says its pictures are interlaced
// (broadcast MPEG-2, 1080i camera files).
func (v *VideoInfo) Interlaced() bool {
	switch v.FieldOrder {
	case "tt", "bb", "tb", "bt":
		return true
	}
	return false
}

// AudioInfo describes the audio stream that is transcoded.
type AudioInfo struct {
	Index      int    `json:"index"`
	Codec      string `json:"codec"`
	Channels   int    `json:"channels"`
	Layout     string `json:"layout,omitempty"`
	SampleRate int    `json:"sample_rate"`
}

// Rational is a fraction such as a frame rate (30000/1001). The zero value
// means unknown. It marshals to JSON as "num/den".
type Rational struct {
	Num, Den int
}

// Float returns r as a float64, 0 when unknown.
func (r Rational) Float() float64 {
	if !r.Valid() {
		return 0
	}
	return float64(r.Num) / float64(r.Den)
}

// Valid reports whether r is a positive, finite fraction.
func (r Rational) Valid() bool { return r.Num > 0 && r.Den > 0 }

// String formats r as "num/den".
func (r Rational) String() string { return strconv.Itoa(r.Num) + "/" + strconv.Itoa(r.Den) }

// MarshalText implements encoding.TextMarshaler.
func (r Rational) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Rational) UnmarshalText(b []byte) error {
	n, d, ok := strings.Cut(string(b), "/")
	if !ok {
		return fmt.Errorf("transcode: rational %q: want num/den", b)
	}
	num, err1 := strconv.Atoi(n)
	den, err2 := strconv.Atoi(d)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("transcode: rational %q: want num/den", b)
	}
	*r = Rational{num, den}
	return nil
}

// reduce returns r in lowest terms.
func (r Rational) reduce() Rational {
	if !r.Valid() {
		return r
	}
	g := gcd(r.Num, r.Den)
	return Rational{r.Num / g, r.Den / g}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// IsHDR reports whether a transfer characteristic (FFmpeg name) is an HDR
// one that must be tone-mapped to SDR.
func IsHDR(transfer string) bool {
	return transfer == "smpte2084" || transfer == "arib-std-b67"
}

// MainVideo picks the main video stream from streams and returns its index
// in the slice, or -1 when there is none. It skips attached pictures (cover
// art) and prefers, in order: the container's default track, the stream with
// the most frames (a motion photo's video over its stills track), the
// highest average frame rate, the first.
func MainVideo(streams []StreamInfo) int {
	best := -1
	for i, s := range streams {
		if s.Kind != KindVideo || s.AttachedPic {
			continue
		}
		if best < 0 || betterVideo(s, streams[best]) {
			best = i
		}
	}
	return best
}

func betterVideo(a, b StreamInfo) bool {
	if a.Default != b.Default {
		return a.Default
	}
	if a.Frames != b.Frames && a.Frames > 0 && b.Frames > 0 {
		return a.Frames > b.Frames
	}
	return a.AvgFPS.Float() > b.AvgFPS.Float()
}

// MainAudio picks the audio stream to transcode and returns its index in the
// slice, or -1: the default track if one is marked, else the first.
func MainAudio(streams []StreamInfo) int {
	best := -1
	for i, s := range streams {
		if s.Kind != KindAudio {
			continue
		}
		if best < 0 || (s.Default && !streams[best].Default) {
			best = i
		}
	}
	return best
}

// Orientation is how to turn a stored picture upright: the FFmpeg filters to
// apply, in order, and whether they swap width and height.
type Orientation struct {
	Filters []string `json:"filters,omitempty"` // e.g. ["transpose=clock"]; empty when upright
	Swap    bool     `json:"swap,omitempty"`
}

// OrientationFromMatrix returns the orientation a display matrix asks for
// (the same rules as the ffmpeg command line's autorotate, mirrors
// included). Angles that are not multiples of 90° are rounded to the
// nearest.
func OrientationFromMatrix(m []int32) Orientation {
	if len(m) != 9 {
		return Orientation{}
	}
	conv := func(v int32) float64 { return float64(v) / (1 << 16) }
	theta := rotationFromMatrix(m)
	switch theta {
	case 90:
		if conv(m[3]) > 0 {
			return Orientation{Filters: []string{"transpose=cclock_flip"}, Swap: true}
		}
		return Orientation{Filters: []string{"transpose=clock"}, Swap: true}
	case 180:
		var f []string
		if conv(m[0]) < 0 {
			f = append(f, "hflip")
		}
		if conv(m[4]) < 0 {
			f = append(f, "vflip")
		}
		return Orientation{Filters: f}
	case 270:
		if conv(m[3]) < 0 {
			return Orientation{Filters: []string{"transpose=clock_flip"}, Swap: true}
		}
		return Orientation{Filters: []string{"transpose=cclock"}, Swap: true}
	default:
		if conv(m[4]) < 0 {
			return Orientation{Filters: []string{"vflip"}}
		}
		return Orientation{}
	}
}

// OrientationFromRotation returns the orientation for a plain clockwise
// rotation in degrees (rounded to a multiple of 90).
func OrientationFromRotation(deg int) Orientation {
	switch normalizeRotation(float64(deg)) {
	case 90:
		return Orientation{Filters: []string{"transpose=clock"}, Swap: true}
	case 180:
		return Orientation{Filters: []string{"hflip", "vflip"}}
	case 270:
		return Orientation{Filters: []string{"transpose=cclock"}, Swap: true}
	}
	return Orientation{}
}

// RotationFromMatrix returns the clockwise rotation (0, 90, 180 or 270) that
// a display matrix asks for; 0 for a malformed matrix.
func RotationFromMatrix(m []int32) int {
	if len(m) != 9 {
		return 0
	}
	return rotationFromMatrix(m)
}

func rotationFromMatrix(m []int32) int {
	// av_display_rotation_get returns the counter-clockwise angle
	// -atan2(b, a); the ffmpeg command line rotates clockwise by its
	// negation.
	a, b := float64(m[0])/(1<<16), float64(m[1])/(1<<16)
	c, d := float64(m[3])/(1<<16), float64(m[4])/(1<<16)
	sa, sb := math.Hypot(a, c), math.Hypot(b, d)
	if sa == 0 || sb == 0 {
		return 0
	}
	theta := math.Atan2(b/sb, a/sa) * 180 / math.Pi
	return normalizeRotation(theta)
}

func normalizeRotation(theta float64) int {
	r := int(math.Round(theta/90)) * 90
	r %= 360
	if r < 0 {
		r += 360
	}
	return r
}
