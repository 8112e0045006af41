package ffmpeg

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/transcode"
)

// Formats lists the demuxers allowed to open an upload (format_whitelist),
// by the names FFmpeg gives them:
//
//   - mov,mp4,m4a,3gp,3g2,mj2: the ISO-BMFF family, what phones and most
//     cameras write, and the MOV masters of editing suites (ProRes, DNxHD).
//   - matroska,webm: browser recordings (MediaRecorder), screen recorders,
//     desktop exports.
//   - mpegts: AVCHD cameras (.mts/.m2ts), HLS segments, broadcast MPEG-2
//     and some screen recorders. Its demuxer is heavily fuzzed and never
//     opens other files.
//   - mpeg: MPEG program streams (.mpg, .vob-style files from DVD
//     authoring and older cameras). It never opens other files either.
//   - avi: camera AVIs (Motion JPEG with PCM). Its GAB2 subtitle path runs
//     a nested demuxer over a subtitle packet's bytes (the vector of the
//     AVI+HLS playlist trick); libavformat lets only srt and ass run there,
//     and copies this allowlist into the nested context
//     (ff_copy_whiteblacklists), where neither is allowed, so no nested
//     demuxer opens at all. TestHostileAVIGAB2 holds both to account.
//
// Everything else is refused with EMEDIAFORMAT, notably the demuxers that
// open further URLs (hls, dash, concat, image2 sequences, vobsub, …), raw
// elementary streams, and legacy containers such as flv, nut, asf.
var Formats = []string{"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "mpegts", "mpeg", "avi"}

// mp4Formats are the names of FFmpeg's ISO-BMFF demuxer (mov,mp4,…), the
// only one allowed to open the engine's own MP4s (share render inputs).
var mp4Formats = []string{"mov", "mp4", "m4a", "3gp", "3g2", "mj2"}

// containers is a demuxer allowlist and what to tell a person whose file
// is outside it.
type containers struct {
	names []string
	hint  string
}

func uploadContainers() containers {
	return containers{Formats, "Upload an MP4, MOV, WebM, MKV, AVI, MPEG-TS or MPEG-PS (.mpg) video."}
}

// input is an opened, probed upload.
type input struct {
	fc          *astiav.FormatContext
	interrupter astiav.IOInterrupter
	probe       *transcode.Probe
	video       *astiav.Stream // nil when the file has no usable video
	audio       *astiav.Stream // nil when no audio is transcoded
	stop        func() bool    // stops the interrupter's context watch
}

func (in *input) Close() {
	if in.stop != nil {
		in.stop()
	}
	in.fc.CloseInput()
	in.fc.Free()
}

// openInput opens the upload at path (an absolute local path) with the
// allowlists and bounds of l, finds its streams and summarizes them. Errors
// about the file itself carry media codes.
func openInput(ctx context.Context, path string, l transcode.InputLimits) (*input, error) {
	return openInputOf(ctx, path, l, uploadContainers())
}

// openInputOf is openInput with the demuxers of cs allowed.
func openInputOf(ctx context.Context, path string, l transcode.InputLimits, cs containers) (*input, error) {
	url, err := transcode.InputURL(path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("ffmpeg: stat input: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, shopclip.Errorf(shopclip.EMEDIAUNREADABLE, "The upload is not a regular file.")
	}
	if fi.Size() == 0 {
		return nil, shopclip.Errorf(shopclip.EMEDIAEMPTY, "The uploaded file is empty.")
	}

	// Detect the container first so a refused one gets a precise reason; the
	// whitelist below enforces it again.
	name, err := probeFormat(url, l.ProbeSize)
	if err != nil {
		if errors.Is(err, errNoMem) {
			return nil, limitError(err)
		}
		return nil, shopclip.Errorf(shopclip.EMEDIAUNREADABLE, "The file could not be read as a video (%s).", err)
	}
	if name == "" {
		return nil, shopclip.Errorf(shopclip.EMEDIAUNREADABLE, "The file is not a video format we recognize.")
	}
	if !formatAllowed(cs.names, name) {
		return nil, shopclip.Errorf(shopclip.EMEDIAFORMAT,
			"The file is in the %s format, which is not accepted. %s", formatLabel(name), cs.hint)
	}

	fc := astiav.AllocFormatContext()
	if fc == nil {
		return nil, allocError("format context")
	}
	in := &input{fc: fc}
	in.interrupter = fc.SetInterruptCallback()
	in.stop = context.AfterFunc(ctx, in.interrupter.Interrupt)

	opts := astiav.NewDictionary()
	defer opts.Free()
	decoders := decoderWhitelist(l)
	for _, kv := range [][2]string{
		{"format_whitelist", strings.Join(cs.names, ",")},
		{"protocol_whitelist", "file"},
		{"codec_whitelist", decoders},
		{"probesize", strconv.FormatInt(l.ProbeSize, 10)},
		{"analyzeduration", strconv.FormatInt(l.AnalyzeDuration.Microseconds(), 10)},
		{"max_streams", "32"},
		{"max_probe_packets", "2500"},
	} {
		if err := opts.Set(kv[0], kv[1], 0); err != nil {
			fc.Free()
			in.stop()
			return nil, fmt.Errorf("ffmpeg: set input option %s: %w", kv[0], err)
		}
	}
	if err := fc.OpenInput(url, astiav.FindInputFormat(name), opts); err != nil {
		// avformat_open_input frees the context on failure.
		in.stop()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ffmpeg: open input: %w", ctx.Err())
		}
		return nil, openError(err)
	}
	if err := unusedOptions("open input", opts); err != nil {
		in.Close()
		return nil, err
	}
	if err := findStreamInfo(fc, l.MaxPixels); err != nil {
		in.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ffmpeg: find stream info: %w", ctx.Err())
		}
		return nil, openError(err)
	}
	in.probe, in.video, in.audio = summarize(fc)
	return in, nil
}

// unusedOptions fails when libav left options in d: a misspelt key
// (RELIABILITY B9) would otherwise silently not apply.
func unusedOptions(op string, d *astiav.Dictionary) error {
	var keys []string
	var prev *astiav.DictionaryEntry
	for {
		e := d.Get("", prev, astiav.NewDictionaryFlags(astiav.DictionaryFlagIgnoreSuffix))
		if e == nil {
			break
		}
		keys = append(keys, e.Key())
		prev = e
	}
	if len(keys) > 0 {
		return fmt.Errorf("ffmpeg: %s: options not recognized: %s", op, strings.Join(keys, ", "))
	}
	return nil
}

func formatAllowed(allowed []string, name string) bool {
	for _, part := range strings.Split(name, ",") {
		if slices.Contains(allowed, part) {
			return true
		}
	}
	return false
}

func formatLabel(name string) string {
	first, _, _ := strings.Cut(name, ",")
	switch first {
	case "hls":
		return "HLS playlist"
	case "concat":
		return "ffconcat playlist"
	case "mpegvideo":
		return "raw MPEG video stream"
	case "vobsub":
		return "VobSub subtitle index"
	}
	return strings.ToUpper(first)
}

// decoderWhitelist returns the codec_whitelist: the decoders FFmpeg uses for
// the allowed codecs.
func decoderWhitelist(l transcode.InputLimits) string {
	var names []string
	for _, c := range slices.Concat(l.VideoCodecs, l.AudioCodecs) {
		if d := decoderFor(c); d != "" && !slices.Contains(names, d) {
			names = append(names, d)
		}
	}
	return strings.Join(names, ",")
}

// openError maps an error from opening or probing an allowed container.
func openError(err error) error {
	switch {
	case errors.Is(err, errNoMem):
		return limitError(err)
	case errors.Is(err, astiav.ErrEof), errors.Is(err, astiav.ErrInvaliddata):
		return shopclip.Errorf(shopclip.EMEDIAUNREADABLE, "The file is damaged or incomplete and could not be read (%s).", err)
	}
	return shopclip.Errorf(shopclip.EMEDIAUNREADABLE, "The file could not be read (%s).", err)
}

// limitError maps an allocation failure (the child's RLIMIT_AS) to
// EMEDIALIMIT.
func limitError(err error) error {
	return fmt.Errorf("ffmpeg: %w: %w", shopclip.Errorf(shopclip.EMEDIALIMIT, "Processing the video needed more memory than allowed."), err)
}

var (
	errNoMem = astiav.Error(-int(syscall.ENOMEM))
	errFBig  = astiav.Error(-int(syscall.EFBIG))
)

// allocError is the error of a libav allocation that returned nothing:
// under the child's RLIMIT_AS, a memory limit.
func allocError(what string) error {
	return fmt.Errorf("ffmpeg: alloc %s: %w", what, errNoMem)
}

// isLimit reports whether err is an allocation or file-size failure that a
// child's rlimits cause.
func isLimit(err error) bool {
	if err == nil {
		return false
	}
	return errors.Is(err, errNoMem) || errors.Is(err, errFBig) || errors.Is(err, syscall.ENOMEM) || errors.Is(err, syscall.EFBIG)
}

// summarize builds the probe summary of an opened input and picks the video
// and audio streams to transcode.
func summarize(fc *astiav.FormatContext) (*transcode.Probe, *astiav.Stream, *astiav.Stream) {
	p := &transcode.Probe{Container: fc.InputFormat().Name(), BitRate: fc.BitRate()}
	if d := fc.Duration(); d > 0 && d != astiav.NoPtsValue {
		p.DurationMS = d / 1000
	}
	streams := fc.Streams()
	for _, s := range streams {
		cp := s.CodecParameters()
		info := transcode.StreamInfo{Index: s.Index(), Codec: codecName(cp.CodecID())}
		disp := disposition(s)
		info.Default = disp&dispositionDefault != 0
		switch cp.MediaType() {
		case astiav.MediaTypeVideo:
			info.Kind = transcode.KindVideo
			info.Width, info.Height = cp.Width(), cp.Height()
			info.AvgFPS = rational(s.AvgFrameRate())
			info.Frames = s.NbFrames()
			info.AttachedPic = disp&dispositionAttachedPic != 0
		case astiav.MediaTypeAudio:
			info.Kind = transcode.KindAudio
		case astiav.MediaTypeSubtitle:
			info.Kind = transcode.KindSubtitle
		default:
			info.Kind = transcode.KindData
		}
		p.Streams = append(p.Streams, info)
	}
	var video, audio *astiav.Stream
	if i := transcode.MainVideo(p.Streams); i >= 0 {
		video = streams[i]
		p.Video = videoInfo(fc, video)
	}
	if i := transcode.MainAudio(p.Streams); i >= 0 {
		audio = streams[i]
		cp := audio.CodecParameters()
		p.Audio = &transcode.AudioInfo{
			Index:      audio.Index(),
			Codec:      codecName(cp.CodecID()),
			Channels:   cp.ChannelLayout().NbChannels(),
			Layout:     cp.ChannelLayout().String(),
			SampleRate: cp.SampleRate(),
		}
	}
	return p, video, audio
}

func videoInfo(fc *astiav.FormatContext, s *astiav.Stream) *transcode.VideoInfo {
	cp := s.CodecParameters()
	v := &transcode.VideoInfo{
		Index:          s.Index(),
		Codec:          codecName(cp.CodecID()),
		Profile:        profileName(cp.CodecID(), cp.Profile()),
		CodedWidth:     cp.Width(),
		CodedHeight:    cp.Height(),
		AvgFPS:         rational(s.AvgFrameRate()),
		RFPS:           rational(s.RFrameRate()),
		ColorRange:     colorRangeName(cp.ColorRange()),
		ColorPrimaries: colorPrimariesName(cp.ColorPrimaries()),
		ColorTransfer:  colorTransferName(cp.ColorTransferCharacteristic()),
		ColorSpace:     colorSpaceName(cp.ColorSpace()),
		FieldOrder:     fieldOrder(s),
	}
	if pf := cp.PixelFormat(); pf != astiav.PixelFormatNone {
		v.PixFmt = pf.Name()
		v.BitDepth = pixFmtDepth(pf)
	}
	v.HDR = transcode.IsHDR(v.ColorTransfer)
	if sar := fc.GuessSampleAspectRatio(s, nil); sar.Num() > 0 && sar.Den() > 0 && sar.Num() != sar.Den() {
		v.SampleAspect = transcode.Rational{Num: sar.Num(), Den: sar.Den()}
	}
	if d := s.Duration(); d > 0 && d != astiav.NoPtsValue {
		v.DurationMS = astiav.RescaleQ(d, s.TimeBase(), astiav.NewRational(1, 1000))
	}
	if m := s.SideData(astiav.PacketSideDataTypeDisplaymatrix); len(m) >= 36 {
		v.DisplayMatrix = make([]int32, 9)
		for i := range v.DisplayMatrix {
			v.DisplayMatrix[i] = int32(binary.LittleEndian.Uint32(m[4*i:]))
		}
		v.Rotation = transcode.RotationFromMatrix(v.DisplayMatrix)
	}
	v.Width, v.Height = transcode.DisplaySize(v.CodedWidth, v.CodedHeight, v.SampleAspect,
		transcode.OrientationFromMatrix(v.DisplayMatrix).Swap)
	return v
}

func codecName(id astiav.CodecID) string {
	if id == astiav.CodecIDNone {
		return ""
	}
	return id.Name()
}

func rational(r astiav.Rational) transcode.Rational {
	if r.Num() <= 0 || r.Den() <= 0 {
		return transcode.Rational{}
	}
	return transcode.Rational{Num: r.Num(), Den: r.Den()}
}

// ProbeFile opens the file at path (an absolute local path) with the same
// allowlists and bounds as Transcode and returns its summary. Unreadable and
// refused files give media errors.
func ProbeFile(ctx context.Context, path string) (*transcode.Probe, error) {
	ensureLogging()
	in, err := openInput(ctx, path, transcode.DefaultConfig().Limits)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	return in.probe, nil
}
