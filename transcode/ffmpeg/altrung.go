package ffmpeg

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip/transcode"
)

// CheckEncoders reports whether this FFmpeg build has every encoder a
// transcode with c needs (transcode.Config.Encoders), so that a config
// naming a codec whose encoder is missing fails when the process starts,
// not on every clip.
func CheckEncoders(c transcode.Config) error {
	if missing := missingEncoders(c.Encoders()); len(missing) > 0 {
		return fmt.Errorf("transcode: config: codecs %q need the encoders %s, which this FFmpeg build lacks",
			c.WithDefaults().Codecs, strings.Join(missing, ", "))
	}
	return nil
}

// missingEncoders returns the encoders of names this FFmpeg build lacks.
func missingEncoders(names []string) []string {
	var missing []string
	for _, name := range names {
		if astiav.FindEncoderByName(name) == nil {
			missing = append(missing, name)
		}
	}
	return missing
}

// openAltRung opens the encoder and muxer of second codec a's rung made
// from the frames of H.264 rung h (frames in time base tb).
func (p *pipeline) openAltRung(a transcode.AltLadder, h transcode.Rung, tb astiav.Rational, threads int) (*rungEncoder, error) {
	rung := a.Rung(h)
	enc, err := openAltEncoder(p.l, a, rung, tb, threads)
	if err != nil {
		return nil, err
	}
	p.onClose(enc.Free)
	var codecStr string
	switch a.Codec {
	case transcode.CodecAV1:
		codecStr, err = transcode.AV1Codec(enc.ExtraData())
	case transcode.CodecHEVC:
		codecStr, err = transcode.HEVCCodec(enc.ExtraData())
	default:
		err = fmt.Errorf("unknown codec %q", a.Codec)
	}
	if err != nil {
		return nil, fmt.Errorf("ffmpeg: %s: %w", rung.Name, err)
	}
	return p.newRungEncoder(rung, enc, codecStr, tb)
}

// svtLogOnce quiets SVT-AV1, which prints its configuration to stderr
// itself (not through libav's log) unless SVT_LOG says otherwise: warnings
// and errors only.
var svtLogOnce sync.Once

// openAltEncoder opens a second codec's encoder for rung: a's encoder,
// preset and CRF, the rung's size, frame rate and VBV caps, the ladder's
// colour tags, taking frames in time base tb. Keyframes are forced by the
// caller on the same schedule as the H.264 rungs' (a frame of picture type
// I), so segments line up across codecs: libsvtav1 needs
// enable-force-key-frames for that (SVT-AV1 1.4 ignores the picture type
// otherwise), libx265 forced-idr. threads bounds SVT-AV1's logical
// processors (lp; 0 means 1) and x265's thread pool (0: its default).
func openAltEncoder(l *transcode.Ladder, a transcode.AltLadder, rung transcode.Rung, tb astiav.Rational, threads int) (*astiav.CodecContext, error) {
	codec := astiav.FindEncoderByName(a.Encoder)
	if codec == nil {
		return nil, fmt.Errorf("ffmpeg: encoder %s not found", a.Encoder)
	}
	enc := astiav.AllocCodecContext(codec)
	if enc == nil {
		return nil, allocError("encoder")
	}
	ok := false
	defer func() {
		if !ok {
			enc.Free()
		}
	}()
	enc.SetWidth(rung.Width)
	enc.SetHeight(rung.Height)
	enc.SetPixelFormat(astiav.FindPixelFormatByName(a.PixFmt))
	enc.SetSampleAspectRatio(astiav.NewRational(1, 1))
	enc.SetTimeBase(tb)
	enc.SetFramerate(astiav.NewRational(rung.FrameRate.Num, rung.FrameRate.Den))
	enc.SetFlags(enc.Flags().Add(astiav.CodecContextFlagGlobalHeader))

	perInterval := int(float64(l.KeyframeIntervalMS) / 1000 * rung.FrameRate.Float())
	opts := map[string]string{
		"preset":      a.Preset,
		"crf":         strconv.Itoa(a.CRF),
		"maxrate":     strconv.FormatInt(rung.MaxRate, 10),
		"bufsize":     strconv.FormatInt(rung.BufSize, 10),
		"g":           strconv.Itoa(max(250, 2*perInterval+1)),
		"color_range": l.Color.Range,
	}
	for k, v := range map[string]string{"color_primaries": l.Color.Primaries, "color_trc": l.Color.Transfer, "colorspace": l.Color.Space} {
		if v != "" {
			opts[k] = v
		}
	}
	switch a.Codec {
	case transcode.CodecAV1:
		svtLogOnce.Do(func() {
			if os.Getenv("SVT_LOG") == "" {
				_ = os.Setenv("SVT_LOG", "2")
			}
		})
		// irefresh-type=2: key frames are closed-GOP (IDR-like), so each
		// segment decodes on its own.
		// lp=1 unless told otherwise: SVT-AV1's default (every core) starts
		// about 100 threads and reserves about 2 GiB of address space per
		// encoder, which three rungs take past the child's RLIMIT_NPROC
		// (256) and RLIMIT_AS (6 GiB); the rungs' encoders run side by
		// side, so the cores stay busy anyway.
		params := "enable-force-key-frames=1:irefresh-type=2:lp=" + strconv.Itoa(max(threads, 1))
		opts["svtav1-params"] = params
	case transcode.CodecHEVC:
		opts["forced-idr"] = "1"
		params := "scenecut=0:log-level=error"
		if threads > 0 {
			params += ":pools=" + strconv.Itoa(threads)
		}
		opts["x265-params"] = params
	}
	d := astiav.NewDictionary()
	defer d.Free()
	if err := setAll(d, opts); err != nil {
		return nil, err
	}
	if err := enc.Open(codec, d); err != nil {
		if isLimit(err) || errors.Is(err, astiav.ErrEagain) {
			return nil, limitError(err)
		}
		return nil, fmt.Errorf("ffmpeg: open %s encoder for %s: %w", a.Encoder, rung.Name, err)
	}
	if err := unusedOptions("open "+rung.Name+" encoder", d); err != nil {
		return nil, err
	}
	ok = true
	return enc, nil
}
