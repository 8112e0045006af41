package transcode

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Ladder is the plan for one input: what to make and how. Plan computes it
// from a Probe; the engine follows it; the Report carries it.
type Ladder struct {
	// Width and Height are the source as displayed (rotation applied, square
	// pixels).
	Width  int `json:"width"`
	Height int `json:"height"`
	// Orientation turns the stored picture upright. The outputs carry no
	// rotation metadata.
	Orientation Orientation `json:"orientation,omitzero"`
	// ToneMap is "pq" or "hlg" when an HDR source is tone-mapped to SDR
	// BT.709; "" otherwise.
	ToneMap string `json:"tone_map,omitempty"`
	// FullRange is true when the source uses full-range (JPEG) levels, which
	// are converted to limited range.
	FullRange bool `json:"full_range,omitempty"`
	// Deinterlace is true when the source is interlaced: the frames it
	// marks interlaced are deinterlaced (bwdif, one frame per frame) before
	// anything else, since scaling or rotating mixes the fields.
	Deinterlace bool `json:"deinterlace,omitempty"`
	// FrameRate is the constant frame rate made from the source's, before
	// per-rung caps; VFR says the source's rate was variable.
	FrameRate Rational `json:"frame_rate"`
	VFR       bool     `json:"vfr,omitempty"`
	// Prescale, when set, is the size the source is scaled to (in its stored
	// orientation) before tone-mapping and rotation, so they work on fewer
	// pixels.
	Prescale *Size `json:"prescale,omitempty"`

	Rungs []Rung     `json:"rungs"`
	Audio *AudioPlan `json:"audio,omitempty"`
	// Alt are the ladders of the second codecs (Config.Codecs after
	// "h264"), made from the same frames as Rungs; nil for H.264 only.
	Alt []AltLadder `json:"alt,omitempty"`

	// Encoder settings shared by the rungs.
	Codec   string    `json:"codec"`   // "libx264"
	Profile string    `json:"profile"` // "high"
	PixFmt  string    `json:"pix_fmt"` // "yuv420p"
	Preset  string    `json:"preset"`
	CRF     int       `json:"crf"`
	Color   ColorTags `json:"color"`

	// KeyframeIntervalMS, SegmentDurationMS and FirstSegmentMS place the
	// forced keyframes and the segment cuts (see Schedule).
	KeyframeIntervalMS int64 `json:"keyframe_interval_ms"`
	SegmentDurationMS  int64 `json:"segment_duration_ms"`
	FirstSegmentMS     int64 `json:"first_segment_ms"`
	// PosterAtMS is the time of the poster frame; the first frame at or
	// after it is used (or the first frame, for short clips).
	PosterAtMS int64 `json:"poster_at_ms"`
	// MP4 is the progressive MP4 to make, nil when none.
	MP4 *MP4Plan `json:"mp4,omitempty"`
	// Storyboard is the thumbnail sprite to make, nil when none.
	Storyboard *StoryboardPlan `json:"storyboard,omitempty"`
	// MaxDurationMS is where decoding stops with EMEDIADURATION: decoded
	// timestamps past it mean the file is longer than the limit.
	MaxDurationMS int64 `json:"max_duration_ms"`
	// Complexity is what the content-aware analysis measured (see
	// Ladder.Adapt), nil when Config.ContentAware is off.
	Complexity *Complexity `json:"complexity,omitempty"`
}

// Size is a picture size in pixels.
type Size struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Rung is one video rendition.
type Rung struct {
	// Name is the rendition's name and its directory in the out dir, such as
	// "720p" (the short side).
	Name      string   `json:"name"`
	Width     int      `json:"width"`
	Height    int      `json:"height"`
	FrameRate Rational `json:"frame_rate"`
	MaxRate   int64    `json:"max_rate"` // bits per second
	BufSize   int64    `json:"buf_size"` // bits
	// CRF, when set, is this rung's own CRF (content-aware rungs); 0
	// means the ladder's.
	CRF int `json:"crf,omitempty"`
}

// MP4Plan is the progressive MP4: one rung's video and the audio remuxed
// (not re-encoded) with the index at the front, for download and sharing.
type MP4Plan struct {
	Name string `json:"name"` // "clip.mp4"
	Rung string `json:"rung"` // the rung whose video it holds, e.g. "720p"
}

// StoryboardPlan is the storyboard: a thumbnail every IntervalMS, each
// TileWidth × TileHeight, laid out in rows of Columns in one JPEG sprite,
// indexed by a WebVTT file whose cues point at regions of the sprite
// (media fragment "#xywh=x,y,w,h").
type StoryboardPlan struct {
	Image      string `json:"image"` // "storyboard.jpg"
	Index      string `json:"index"` // "storyboard.vtt"
	IntervalMS int64  `json:"interval_ms"`
	TileWidth  int    `json:"tile_width"`
	TileHeight int    `json:"tile_height"`
	Columns    int    `json:"columns"`
}

// AudioPlan is the audio rendition.
type AudioPlan struct {
	Name       string `json:"name"`  // directory, "audio"
	Group      string `json:"group"` // HLS GROUP-ID, "aud"
	Codec      string `json:"codec"` // "aac" (AAC-LC)
	Bitrate    int64  `json:"bitrate"`
	SampleRate int    `json:"sample_rate"`
	Channels   int    `json:"channels"` // 2: mono is duplicated, surround downmixed
}

// ColorTags are the colour description written into the encoded streams,
// with FFmpeg's names; "" leaves a field unspecified.
type ColorTags struct {
	Primaries string `json:"primaries,omitempty"`
	Transfer  string `json:"transfer,omitempty"`
	Space     string `json:"space,omitempty"`
	Range     string `json:"range"` // always "tv" (limited)
}

// Names of the fixed parts of the output layout (see the package doc).
const (
	MasterName     = "master.m3u8"
	PlaylistName   = "index.m3u8"
	InitName       = "init.mp4"
	SegmentPattern = "seg_%05d.m4s" // printf pattern of media segment names
	PosterName     = "poster.jpg"
	MP4Name        = "clip.mp4"
	StoryboardJPEG = "storyboard.jpg"
	StoryboardVTT  = "storyboard.vtt"
	AudioName      = "audio"
	AudioGroup     = "aud"
)

// Filter graph pad names used by Ladder.VideoFilter.
const (
	FilterIn         = "in"
	FilterStoryboard = "sb" // storyboard thumbnails, when planned
)

// Storyboard layout limits.
const (
	storyboardTiles     = 100 // at most this many thumbnails
	storyboardShortSide = 90  // thumbnail short side, pixels
	storyboardColumns   = 10
)

// FilterOut returns the name of the filter graph output pad of rung i.
func FilterOut(i int) string { return fmt.Sprintf("out%d", i) }

// Plan computes the ladder for a probed input. It returns a media error
// (CheckProbe) when the input is outside c.Limits, and a plain error when c
// is invalid.
func Plan(p Probe, c Config) (*Ladder, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.WithDefaults()
	if err := CheckProbe(&p, c.Limits); err != nil {
		return nil, err
	}
	v := p.Video
	l := &Ladder{
		Width:              v.Width,
		Height:             v.Height,
		Codec:              "libx264",
		Profile:            "high",
		PixFmt:             "yuv420p",
		Preset:             c.Preset,
		CRF:                c.CRF,
		KeyframeIntervalMS: c.KeyframeInterval.Milliseconds(),
		SegmentDurationMS:  c.SegmentDuration.Milliseconds(),
		FirstSegmentMS:     c.FirstSegmentDuration.Milliseconds(),
		MaxDurationMS:      c.Limits.MaxDuration.Milliseconds(),
	}
	if len(v.DisplayMatrix) == 9 {
		l.Orientation = OrientationFromMatrix(v.DisplayMatrix)
	} else {
		l.Orientation = OrientationFromRotation(v.Rotation)
	}
	switch v.ColorTransfer {
	case "smpte2084":
		l.ToneMap = "pq"
	case "arib-std-b67":
		l.ToneMap = "hlg"
	}
	l.FullRange = v.ColorRange == "pc" || strings.HasPrefix(v.PixFmt, "yuvj")
	l.Deinterlace = v.Interlaced()
	l.Color = ColorTags{Range: "tv"}
	if l.ToneMap != "" {
		l.Color = ColorTags{Primaries: "bt709", Transfer: "bt709", Space: "bt709", Range: "tv"}
	} else {
		l.Color.Primaries = knownName(v.ColorPrimaries, sdrPrimaries)
		l.Color.Transfer = knownName(v.ColorTransfer, sdrTransfers)
		l.Color.Space = knownName(v.ColorSpace, sdrSpaces)
	}
	l.FrameRate, l.VFR = SourceFrameRate(v.AvgFPS, v.RFPS)

	// Rungs by the displayed short side; never upscale.
	srcShort, srcLong := min(v.Width, v.Height), max(v.Width, v.Height)
	portrait := v.Height > v.Width
	add := func(short int, rc RungConfig) {
		long := evenRound(float64(srcLong) * float64(short) / float64(srcShort))
		r := Rung{
			Name:    fmt.Sprintf("%dp", short),
			MaxRate: rc.MaxRate,
			BufSize: 2 * rc.MaxRate,
		}
		if portrait {
			r.Width, r.Height = short, long
		} else {
			r.Width, r.Height = long, short
		}
		limit := c.MaxFrameRate
		if rc.MaxFrameRate > 0 && rc.MaxFrameRate < limit {
			limit = rc.MaxFrameRate
		}
		r.FrameRate = capFrameRate(l.FrameRate, limit)
		if n := len(l.Rungs); n > 0 && r.FrameRate.Float() > l.Rungs[n-1].FrameRate.Float() {
			// Each rung is made from the one above it (VideoFilter).
			r.FrameRate = l.Rungs[n-1].FrameRate
		}
		l.Rungs = append(l.Rungs, r)
	}
	for _, rc := range c.Rungs {
		if rc.ShortSide <= srcShort {
			add(rc.ShortSide, rc)
		}
	}
	if len(l.Rungs) == 0 {
		// Smaller than every rung: one rendition at the source's own size
		// (even), with the smallest rung's caps.
		add(srcShort&^1, c.Rungs[len(c.Rungs)-1])
	}

	l.setPrescale(v.Width, v.Height)

	if p.Audio != nil {
		l.Audio = &AudioPlan{
			Name:       AudioName,
			Group:      AudioGroup,
			Codec:      "aac",
			Bitrate:    c.AudioBitrate,
			SampleRate: c.AudioSampleRate,
			Channels:   2,
		}
	}

	if !c.NoMP4 {
		m := &MP4Plan{Name: MP4Name, Rung: l.Rungs[0].Name}
		for _, r := range l.Rungs {
			if min(r.Width, r.Height) <= 720 {
				m.Rung = r.Name
				break
			}
		}
		l.MP4 = m
	}
	dur := time.Duration(p.DurationMS) * time.Millisecond
	if !c.NoStoryboard {
		interval := c.StoryboardInterval
		if dur > storyboardTiles*interval {
			// Round up to whole seconds so cue times stay readable.
			interval = (dur/storyboardTiles + time.Second - 1) / time.Second * time.Second
		}
		last := l.Rungs[len(l.Rungs)-1]
		short := min(storyboardShortSide, last.Width, last.Height) &^ 1
		long := evenRound(float64(max(last.Width, last.Height)) * float64(short) / float64(min(last.Width, last.Height)))
		sb := &StoryboardPlan{Image: StoryboardJPEG, Index: StoryboardVTT, IntervalMS: interval.Milliseconds(), Columns: storyboardColumns}
		if last.Height > last.Width {
			sb.TileWidth, sb.TileHeight = short, long
		} else {
			sb.TileWidth, sb.TileHeight = long, short
		}
		l.Storyboard = sb
	}
	if p.DurationMS > 0 && dur < 2*c.PosterAt {
		l.PosterAtMS = 0
	} else {
		l.PosterAtMS = c.PosterAt.Milliseconds()
	}
	l.planAlt(c)
	return l, nil
}

// setPrescale sets Prescale for a source of w × h pixels: the top rung's
// size (stored orientation) when tone-mapping or rotation would otherwise
// work on more pixels than the top rung has; nil when neither is done.
func (l *Ladder) setPrescale(w, h int) {
	l.Prescale = nil
	top := l.Rungs[0]
	if (l.ToneMap != "" || len(l.Orientation.Filters) > 0) && top.Width*top.Height < w*h {
		s := Size{Width: top.Width, Height: top.Height}
		if l.Orientation.Swap {
			s.Width, s.Height = s.Height, s.Width
		}
		l.Prescale = &s
	}
}

// evenRound rounds x to the nearest even integer (at least 2).
func evenRound(x float64) int {
	n := int(math.Round(x/2)) * 2
	return max(n, 2)
}

// Standard frame rates that source rates are snapped to.
var standardRates = []Rational{
	{15, 1}, {24000, 1001}, {24, 1}, {25, 1}, {30000, 1001}, {30, 1},
	{48, 1}, {50, 1}, {60000, 1001}, {60, 1}, {90, 1}, {100, 1}, {120000, 1001}, {120, 1},
}

// vfrRates are the rates a variable-frame-rate source is resampled to: the
// smallest one at or above its average rate.
var vfrRates = []Rational{{15, 1}, {24, 1}, {25, 1}, {30, 1}, {50, 1}, {60, 1}}

// SourceFrameRate chooses the constant frame rate to make from a source's
// average (avg) and base (r) frame rates, and reports whether the source is
// variable-frame-rate.
//
//   - Constant rate (avg and r within 2%): r, snapped to a standard rate
//     within 0.5% (30.02 → 30).
//   - Variable rate: the standard rate nearest avg within 0.5% (a constant
//     rate in a coarse timebase); else r when it is a standard rate at most
//     1.5× avg (a phone's 29.97 with dropped frames); else the smallest of
//     15, 24, 25, 30, 50, 60 at or above avg (within 3%).
//   - Nothing known: 30.
//
// An average above the base rate is an artefact and is replaced by the base
// rate first.
func SourceFrameRate(avg, r Rational) (Rational, bool) {
	if !avg.Valid() && !r.Valid() {
		return Rational{30, 1}, true
	}
	if !avg.Valid() {
		return snapRate(r), false
	}
	if r.Valid() && avg.Float() > 1.02*r.Float() {
		// An average faster than the base rate is a container artefact
		// (Matroska's 1 ms default durations): trust the base rate.
		avg = r
	}
	a := avg.Float()
	if r.Valid() && math.Abs(a-r.Float()) <= 0.02*r.Float() {
		return snapRate(r), false
	}
	if s, ok := nearStandard(a); ok {
		return s, true
	}
	if r.Valid() && r.Float() <= 1.5*a {
		if s, ok := nearStandard(r.Float()); ok {
			return s, true
		}
	}
	for _, s := range vfrRates {
		if s.Float() >= a*0.97 {
			return s, true
		}
	}
	return vfrRates[len(vfrRates)-1], true
}

// nearStandard returns the standard rate closest to f, if one is within
// 0.5%.
func nearStandard(f float64) (Rational, bool) {
	best, bestDiff := Rational{}, math.Inf(1)
	for _, s := range standardRates {
		if d := math.Abs(f - s.Float()); d <= 0.005*s.Float() && d < bestDiff {
			best, bestDiff = s, d
		}
	}
	return best, bestDiff < math.Inf(1)
}

func snapRate(r Rational) Rational {
	if s, ok := nearStandard(r.Float()); ok {
		return s
	}
	return r.reduce()
}

// capFrameRate divides fps by the smallest integer that brings it to at
// most limit (60 → 30, 50 → 25, 90 → 45 for a 60 cap).
func capFrameRate(fps Rational, limit float64) Rational {
	f := fps.Float()
	if f <= limit {
		return fps
	}
	n := int(math.Ceil(f/limit - 1e-9))
	return Rational{fps.Num, fps.Den * n}.reduce()
}

var (
	sdrPrimaries = []string{"bt709", "bt470m", "bt470bg", "smpte170m", "smpte240m", "film", "bt2020"}
	sdrTransfers = []string{"bt709", "gamma22", "gamma28", "smpte170m", "smpte240m", "iec61966-2-1", "iec61966-2-4", "bt2020-10", "bt2020-12"}
	sdrSpaces    = []string{"bt709", "fcc", "bt470bg", "smpte170m", "smpte240m", "bt2020nc"}
)

func knownName(name string, known []string) string {
	for _, k := range known {
		if k == name {
			return name
		}
	}
	return ""
}

// VideoFilter returns the FFmpeg filter graph description that turns decoded
// source frames (pad FilterIn) into each rung's frames (pad FilterOut(i)):
// optional deinterlacing, prescale, HDR→SDR tone-mapping and rotation,
// then a cascade: the largest rung is made from the source (constant frame
// rate, scale, limited range, yuv420p, square pixels) and each smaller rung
// from the one above it, which scales far fewer pixels than scaling every
// rung from the source.
// It holds only numbers and fixed names: nothing from the input file is
// interpolated.
func (l *Ladder) VideoFilter() string {
	chain := l.uprightChain()

	var b strings.Builder
	in := FilterIn
	fullRange := l.limitRange()
	for i, r := range l.Rungs {
		if i > 0 {
			b.WriteString(";")
			chain = nil
		}
		chain = append(chain, fmt.Sprintf("fps=fps=%s:start_time=0", r.FrameRate))
		scale := fmt.Sprintf("scale=w=%d:h=%d", r.Width, r.Height)
		if fullRange && i == 0 {
			scale += ":out_range=tv"
		}
		chain = append(chain, scale, "format="+l.PixFmt, "setsar=1")
		fmt.Fprintf(&b, "[%s]%s", in, strings.Join(chain, ","))
		if i == len(l.Rungs)-1 && l.Storyboard != nil {
			// Thumbnails from the smallest rung: the cheapest to scale down.
			// eof_action=pass keeps the last frame, so a clip shorter than
			// half an interval still gets its thumbnail.
			sb := l.Storyboard
			fmt.Fprintf(&b, ",split=2[%s][sbin];[sbin]fps=fps=%s:start_time=0:eof_action=pass,scale=w=%d:h=%d[%s]",
				FilterOut(i), Rational{1000, int(sb.IntervalMS)}.reduce(), sb.TileWidth, sb.TileHeight, FilterStoryboard)
		} else if i == len(l.Rungs)-1 {
			fmt.Fprintf(&b, "[%s]", FilterOut(i))
		} else {
			in = fmt.Sprintf("c%d", i)
			fmt.Fprintf(&b, ",split=2[%s][%s]", FilterOut(i), in)
		}
	}
	return b.String()
}

// uprightChain returns the filters that come before any scaling to a
// rung: the optional deinterlacing, prescale, HDR→SDR tone-mapping and
// rotation.
func (l *Ladder) uprightChain() []string {
	var chain []string
	if l.Deinterlace {
		// send_frame keeps the frame rate (25i gives 25p, which the plan's
		// rates assume); deint=interlaced leaves frames marked progressive
		// alone, so mixed material is not softened.
		chain = append(chain, "bwdif=mode=send_frame:parity=auto:deint=interlaced")
	}
	if l.Prescale != nil {
		chain = append(chain, fmt.Sprintf("scale=w=%d:h=%d", l.Prescale.Width, l.Prescale.Height))
	}
	if l.ToneMap != "" {
		tin := "smpte2084"
		if l.ToneMap == "hlg" {
			tin = "arib-std-b67"
		}
		rin := "limited"
		if l.FullRange {
			rin = "full"
		}
		chain = append(chain,
			fmt.Sprintf("zscale=tin=%s:min=2020_ncl:pin=2020:rin=%s:t=linear:npl=100", tin, rin),
			"format=gbrpf32le",
			"zscale=p=709",
			"tonemap=tonemap=hable:desat=0",
			"zscale=t=709:m=709:r=limited",
			"format=yuv420p",
		)
	}
	return append(chain, l.Orientation.Filters...)
}

// limitRange reports whether the first scale must convert full-range
// levels to limited range (the tone-mapping chain already outputs limited
// range).
func (l *Ladder) limitRange() bool { return l.FullRange && l.ToneMap == "" }
