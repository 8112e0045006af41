package ffmpeg

/*
#cgo pkg-config: libavformat libavcodec libavfilter libavutil
#include <stdlib.h>
#include <libavformat/avformat.h>
#include <libavformat/version.h>
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>

extern void shopclipGoLog(int level, char *line);

// The log callback formats each message with a bounded buffer before it
// reaches Go. (go-astiav v0.16.0's own callback uses vsprintf into a
// 1024-byte stack buffer, which a long message from a hostile file could
// overflow; it is never installed here.)
static void shopclip_log_callback(void *avcl, int level, const char *fmt, va_list vl) {
	if (level > AV_LOG_WARNING) return;
	char line[1024];
	int print_prefix = 1;
	av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &print_prefix);
	shopclipGoLog(level, line);
}

static void shopclip_install_log_callback(void) {
	av_log_set_level(AV_LOG_WARNING);
	av_log_set_callback(shopclip_log_callback);
}

// shopclip_probe_format detects the container of the file at url the way
// avformat_open_input would (av_probe_input_buffer2 over the first bytes),
// without opening a demuxer. It returns the probe score or an AVERROR, and
// the demuxer's name in *name (static storage, or NULL).
static int shopclip_probe_format(const char *url, unsigned probesize, const char **name) {
	AVIOContext *pb = NULL;
	AVDictionary *o = NULL;
	*name = NULL;
	av_dict_set(&o, "protocol_whitelist", "file", 0);
	int ret = avio_open2(&pb, url, AVIO_FLAG_READ, NULL, &o);
	av_dict_free(&o);
	if (ret < 0) return ret;
	const AVInputFormat *fmt = NULL;
	ret = av_probe_input_buffer2(pb, &fmt, url, NULL, 0, probesize);
	if (fmt) *name = fmt->name;
	avio_closep(&pb);
	return ret;
}

// shopclip_find_stream_info calls avformat_find_stream_info with one option
// dictionary per stream (the API wants an array; go-astiav v0.16.0 passes a
// single dictionary, which is read out of bounds with more than one stream),
// so the decoders it opens get max_pixels.
static int shopclip_find_stream_info(AVFormatContext *fc, const char *max_pixels) {
	unsigned n = fc->nb_streams;
	AVDictionary **opts = av_calloc(n ? n : 1, sizeof(*opts));
	if (!opts) return AVERROR(ENOMEM);
	for (unsigned i = 0; i < n; i++)
		av_dict_set(&opts[i], "max_pixels", max_pixels, 0);
	int ret = avformat_find_stream_info(fc, opts);
	for (unsigned i = 0; i < n; i++)
		av_dict_free(&opts[i]);
	av_free(opts);
	return ret;
}

static int shopclip_disposition(AVStream *st) { return st->disposition; }
static int shopclip_field_order(AVStream *st) { return st->codecpar->field_order; }
static int64_t shopclip_best_effort_timestamp(AVFrame *f) { return f->best_effort_timestamp; }
static int64_t shopclip_frame_duration(AVFrame *f) { return f->pkt_duration; }
static int shopclip_decode_error_flags(AVFrame *f) { return f->decode_error_flags; }
static void shopclip_frame_clear_side_data(AVFrame *f) {
	av_frame_remove_side_data(f, AV_FRAME_DATA_DISPLAYMATRIX);
}

static int shopclip_pix_fmt_depth(int fmt) {
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
	return d ? d->comp[0].depth : 0;
}

static const char *shopclip_profile_name(int codec_id, int profile) {
	return avcodec_profile_name(codec_id, profile);
}

// shopclip_decoder_for returns the name of the decoder FFmpeg picks for a
// codec name (e.g. "av1" → "libdav1d", "mp3" → "mp3float"), or NULL.
static const char *shopclip_decoder_for(const char *codec_name) {
	const AVCodecDescriptor *d = avcodec_descriptor_get_by_name(codec_name);
	if (!d) return NULL;
	const AVCodec *c = avcodec_find_decoder(d->id);
	return c ? c->name : NULL;
}

// shopclip_layout_describe writes the channel layout of a decoder, or the
// default layout for its channel count when its order is unspecified.
static int shopclip_layout_describe(AVCodecContext *cc, char *buf, size_t size) {
	if (cc->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
		AVChannelLayout l;
		av_channel_layout_default(&l, cc->ch_layout.nb_channels);
		int ret = av_channel_layout_describe(&l, buf, size);
		av_channel_layout_uninit(&l);
		return ret;
	}
	return av_channel_layout_describe(&cc->ch_layout, buf, size);
}

static int shopclip_buffersrc_close(AVFilterContext *ctx, int64_t pts) {
	return av_buffersrc_close(ctx, pts, AV_BUFFERSRC_FLAG_PUSH);
}

// The segmenter's muxer writes into a dynamic buffer, as FFmpeg's hls
// muxer has its inner mp4 muxer do; the buffer's bytes are taken at each
// segment cut.
static int shopclip_dynbuf_open(AVFormatContext *oc) { return avio_open_dyn_buf(&oc->pb); }
static int shopclip_dynbuf_close(AVFormatContext *oc, uint8_t **buf) {
	*buf = NULL;
	if (!oc->pb) return AVERROR(EINVAL);
	int n = avio_close_dyn_buf(oc->pb, buf);
	oc->pb = NULL;
	return n;
}
static int shopclip_has_pb(AVFormatContext *oc) { return oc->pb != NULL; }

static unsigned shopclip_compiled_avformat(void) { return LIBAVFORMAT_VERSION_INT; }
static unsigned shopclip_compiled_avcodec(void) { return LIBAVCODEC_VERSION_INT; }
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/asticode/go-astiav"
)

// cptr returns the C pointer a go-astiav v0.16.0 wrapper (FormatContext,
// CodecContext, Stream, Frame, …) holds as its first field. go-astiav
// v0.16.0 exposes UnsafePointer only on Frame; the layout is pinned with the
// module version and checked by TestCPointers.
func cptr[T any](v *T) unsafe.Pointer {
	if v == nil {
		return nil
	}
	return *(*unsafe.Pointer)(unsafe.Pointer(v))
}

func cFormat(fc *astiav.FormatContext) *C.AVFormatContext {
	return (*C.AVFormatContext)(cptr(fc))
}

func cStream(s *astiav.Stream) *C.AVStream { return (*C.AVStream)(cptr(s)) }

func cCodecCtx(cc *astiav.CodecContext) *C.AVCodecContext {
	return (*C.AVCodecContext)(cptr(cc))
}

func cFrame(f *astiav.Frame) *C.AVFrame { return (*C.AVFrame)(f.UnsafePointer()) }

func installLogCallback() { C.shopclip_install_log_callback() }

// Stream disposition flags (libavformat/avformat.h).
const (
	dispositionDefault     = 0x0001
	dispositionAttachedPic = 0x0400
)

func disposition(s *astiav.Stream) int { return int(C.shopclip_disposition(cStream(s))) }

// fieldOrder returns how the pictures of the video stream s are scanned,
// with the names ffprobe prints: "" when unknown.
func fieldOrder(s *astiav.Stream) string {
	switch C.shopclip_field_order(cStream(s)) {
	case C.AV_FIELD_PROGRESSIVE:
		return "progressive"
	case C.AV_FIELD_TT:
		return "tt"
	case C.AV_FIELD_BB:
		return "bb"
	case C.AV_FIELD_TB:
		return "tb"
	case C.AV_FIELD_BT:
		return "bt"
	}
	return ""
}

func bestEffortTimestamp(f *astiav.Frame) int64 {
	return int64(C.shopclip_best_effort_timestamp(cFrame(f)))
}

func frameDuration(f *astiav.Frame) int64 { return int64(C.shopclip_frame_duration(cFrame(f))) }

func decodeErrorFlags(f *astiav.Frame) int { return int(C.shopclip_decode_error_flags(cFrame(f))) }

// closeBufferSource ends a buffer source's stream at pts (its time base):
// unlike adding a nil frame, it tells the filters when the last frame ends,
// so the fps filter holds a long last frame (a paused screen recording) to
// the true end.
func closeBufferSource(src *astiav.FilterContext, pts int64) error {
	if ret := C.shopclip_buffersrc_close((*C.AVFilterContext)(cptr(src)), C.int64_t(pts)); ret < 0 {
		return astiav.Error(ret)
	}
	return nil
}

// dropDisplayMatrix removes a frame's display matrix side data, so no
// rotation metadata reaches the encoders (the filter graph already turned
// the picture upright).
func dropDisplayMatrix(f *astiav.Frame) { C.shopclip_frame_clear_side_data(cFrame(f)) }

func pixFmtDepth(pf astiav.PixelFormat) int { return int(C.shopclip_pix_fmt_depth(C.int(pf))) }

func profileName(id astiav.CodecID, profile astiav.Profile) string {
	p := C.shopclip_profile_name(C.int(id), C.int(profile))
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

func colorRangeName(v astiav.ColorRange) string {
	return unspecified(C.av_color_range_name(C.enum_AVColorRange(v)))
}

func colorPrimariesName(v astiav.ColorPrimaries) string {
	return unspecified(C.av_color_primaries_name(C.enum_AVColorPrimaries(v)))
}

func colorTransferName(v astiav.ColorTransferCharacteristic) string {
	return unspecified(C.av_color_transfer_name(C.enum_AVColorTransferCharacteristic(v)))
}

func colorSpaceName(v astiav.ColorSpace) string {
	return unspecified(C.av_color_space_name(C.enum_AVColorSpace(v)))
}

// unspecified returns a colour name, or "" for unknown and "unspecified".
func unspecified(p *C.char) string {
	if p == nil {
		return ""
	}
	s := C.GoString(p)
	if s == "unknown" || s == "unspecified" || s == "reserved" {
		return ""
	}
	return s
}

// decoderFor returns the name of the decoder FFmpeg uses for a codec, "" if
// it has none.
func decoderFor(codec string) string {
	cs := C.CString(codec)
	defer C.free(unsafe.Pointer(cs))
	p := C.shopclip_decoder_for(cs)
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

func layoutDescribe(cc *astiav.CodecContext) (string, error) {
	buf := make([]byte, 256)
	ret := C.shopclip_layout_describe(cCodecCtx(cc), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	if ret < 0 {
		return "", astiav.Error(ret)
	}
	n := 0
	for n < len(buf) && buf[n] != 0 {
		n++
	}
	return string(buf[:n]), nil
}

// probeFormat returns the name of the demuxer FFmpeg would pick for url, ""
// when none recognizes it.
func probeFormat(url string, probeSize int64) (string, error) {
	cu := C.CString(url)
	defer C.free(unsafe.Pointer(cu))
	var name *C.char
	ret := C.shopclip_probe_format(cu, C.unsigned(min(probeSize, 1<<30)), &name)
	if name != nil {
		return C.GoString(name), nil
	}
	if ret < 0 {
		return "", astiav.Error(ret)
	}
	return "", nil
}

func findStreamInfo(fc *astiav.FormatContext, maxPixels int) error {
	mp := C.CString(fmt.Sprint(maxPixels))
	defer C.free(unsafe.Pointer(mp))
	if ret := C.shopclip_find_stream_info(cFormat(fc), mp); ret < 0 {
		return astiav.Error(ret)
	}
	return nil
}

// openDynBuf gives oc a fresh dynamic (in-memory) output buffer.
func openDynBuf(oc *astiav.FormatContext) error {
	if ret := C.shopclip_dynbuf_open(cFormat(oc)); ret < 0 {
		return astiav.Error(ret)
	}
	return nil
}

// takeDynBuf closes oc's dynamic buffer and returns what was written to it;
// oc is left without an output buffer.
func takeDynBuf(oc *astiav.FormatContext) ([]byte, error) {
	var buf *C.uint8_t
	n := C.shopclip_dynbuf_close(cFormat(oc), &buf)
	defer C.av_free(unsafe.Pointer(buf))
	if n < 0 {
		return nil, astiav.Error(n)
	}
	return C.GoBytes(unsafe.Pointer(buf), n), nil
}

// hasOutput reports whether oc has an output buffer.
func hasOutput(oc *astiav.FormatContext) bool { return C.shopclip_has_pb(cFormat(oc)) != 0 }

// CheckLibraries compares the libavformat and libavcodec this binary was
// compiled against with the ones it runs with (RELIABILITY B3/B10): a
// different major version or an older minor means the pinned go-astiav
// v0.16.0 / FFmpeg 5.1 pairing is broken.
func CheckLibraries() error {
	check := func(name string, compiled, running C.unsigned) error {
		cMaj, rMaj := compiled>>16, running>>16
		cMin, rMin := (compiled>>8)&0xff, (running>>8)&0xff
		if cMaj != rMaj || rMin < cMin {
			return fmt.Errorf("ffmpeg: %s runs as %d.%d but was compiled against %d.%d", name, rMaj, rMin, cMaj, cMin)
		}
		return nil
	}
	if err := check("libavformat", C.shopclip_compiled_avformat(), C.avformat_version()); err != nil {
		return err
	}
	if err := check("libavcodec", C.shopclip_compiled_avcodec(), C.avcodec_version()); err != nil {
		return err
	}
	if C.avformat_version()>>16 != 59 {
		return fmt.Errorf("ffmpeg: libavformat major %d, want 59 (FFmpeg 5.1)", C.avformat_version()>>16)
	}
	return nil
}
