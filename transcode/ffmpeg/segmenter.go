package ffmpeg

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip/transcode"
)

// segmenter muxes one rendition into HLS fMP4 files in its dir: the init
// segment (transcode.InitName) and the media segments
// (transcode.SegmentPattern, numbered from 0). It does what FFmpeg's hls
// muxer does for fMP4 — the same inner mp4 muxer with the same flags
// (frag_custom+dash+delay_moov, no automatic bitstream filters) writing into
// a memory buffer, a fragment flushed at each cut, the same styp box before
// each segment, the same EXTINF arithmetic — so it writes the same bytes,
// but the caller says where each segment ends, and each segment is handed
// to the rendition's publisher as soon as its file is written.
//
// (FFmpeg 5.1's hls muxer cannot cut a short first segment followed by
// regular ones: its hls_init_time applies to every segment of a playlist
// that keeps all its segments, as VOD and EVENT playlists do, and the audio
// rendition, which it cuts by time alone, has no keyframes to hold the cuts
// back.)
//
// A segmenter is used from one goroutine.
type segmenter struct {
	name string // the rendition, e.g. "720p"
	dir  string
	oc   *astiav.FormatContext
	st   *astiav.Stream
	pub  *transcode.RenditionPublisher

	packets  int64 // written in all
	inSeg    int64 // written into the current segment
	segments int   // closed
	initDone bool

	// EXTINF bookkeeping, as the hls muxer keeps it: a segment closed by a
	// cut lasts from its first packet's pts to the next one's; the last
	// segment, the sum of its packets' durations but the first, plus the
	// duration of the very first packet. In seconds, in float64, summed in
	// the same order, so the durations round to the same microseconds.
	startPTS int64
	segPTS   int64
	dur      float64
	firstDur float64
}

// styp is the segment type box the hls muxer writes at the start of each
// fMP4 media segment: major brand msdh, minor version 0, compatible brands
// msdh and msix.
var styp = []byte{0, 0, 0, 24, 's', 't', 'y', 'p', 'm', 's', 'd', 'h', 0, 0, 0, 0, 'm', 's', 'd', 'h', 'm', 's', 'i', 'x'}

// openSegmenter creates the segmenter of the rendition called name, in
// outDir/name, with one stream taking enc's packets, and writes its header
// (into memory: nothing is written to disk before the first cut). codec is
// the rendition's RFC 6381 video codec, "" for audio.
func (p *pipeline) openSegmenter(name string, enc *astiav.CodecContext, codec string) (*segmenter, error) {
	dir := filepath.Join(p.outDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ffmpeg: create %s: %w", name, err)
	}
	oc, err := astiav.AllocOutputFormatContext(nil, "mp4", "")
	if err != nil {
		return nil, fmt.Errorf("ffmpeg: alloc %s muxer: %w", name, err)
	}
	p.onClose(oc.Free)
	st := oc.NewStream(nil)
	if st == nil {
		return nil, fmt.Errorf("ffmpeg: %s muxer: new stream", name)
	}
	if err := st.CodecParameters().FromCodecContext(enc); err != nil {
		return nil, fmt.Errorf("ffmpeg: %s muxer: stream parameters: %w", name, err)
	}
	if enc.CodecID() == astiav.CodecIDHevc {
		// hvc1, not the muxer's default hev1: parameter sets only in the
		// sample entry, as Apple's players require.
		st.CodecParameters().SetCodecTag(astiav.CodecTag('h' | 'v'<<8 | 'c'<<16 | '1'<<24))
	}
	st.SetTimeBase(enc.TimeBase())
	if err := openDynBuf(oc); err != nil {
		return nil, limitError(err)
	}
	// Runs before oc.Free (closers run in reverse).
	p.onClose(func() {
		if hasOutput(oc) {
			_, _ = takeDynBuf(oc)
		}
	})
	opts := astiav.NewDictionary()
	defer opts.Free()
	if err := setAll(opts, map[string]string{
		"movflags": "+frag_custom+dash+delay_moov",
		"fflags":   "-autobsf",
	}); err != nil {
		return nil, err
	}
	if err := oc.WriteHeader(opts); err != nil {
		if isLimit(err) {
			return nil, limitError(err)
		}
		return nil, fmt.Errorf("ffmpeg: %s muxer: write header: %w", name, err)
	}
	if err := unusedOptions(name+" muxer", opts); err != nil {
		return nil, err
	}
	return &segmenter{name: name, dir: dir, oc: oc, st: st, pub: p.pub.Rendition(name, codec)}, nil
}

// seconds returns ts (the stream's time base) in seconds, computed as the
// hls muxer computes it.
func (s *segmenter) seconds(ts int64) float64 {
	tb := s.st.TimeBase()
	return float64(ts) * float64(tb.Num()) / float64(tb.Den())
}

// sinceStartMS returns the time of a packet's pts since the first packet's,
// in whole milliseconds rounded down; 0 before the first packet.
func (s *segmenter) sinceStartMS(pts int64) int64 {
	if s.packets == 0 {
		return 0
	}
	return astiav.RescaleQRnd(pts-s.startPTS, s.st.TimeBase(), astiav.NewRational(1, 1000), astiav.RoundingDown)
}

// write muxes pkt (timestamps in the stream's time base), first closing the
// current segment when cut is set and it holds packets: pkt then starts the
// next one (for video, it must be a keyframe).
func (s *segmenter) write(pkt *astiav.Packet, cut bool) error {
	switch {
	case s.packets == 0:
		s.startPTS, s.segPTS, s.firstDur = pkt.Pts(), pkt.Pts(), s.seconds(pkt.Duration())
	case s.inSeg == 0:
		// The first packet of a segment closeAt closed the one before:
		// its duration is not counted, as after a cut.
	case pkt.Duration() != 0:
		s.dur += s.seconds(pkt.Duration())
	default:
		s.dur = s.seconds(pkt.Pts() - s.segPTS)
	}
	if cut {
		if err := s.closeAt(pkt.Pts()); err != nil {
			return err
		}
	}
	if err := s.oc.WriteFrame(pkt); err != nil {
		if isLimit(err) {
			return limitError(err)
		}
		return fmt.Errorf("ffmpeg: %s muxer: write packet: %w", s.name, err)
	}
	s.packets++
	s.inSeg++
	return nil
}

// closeAt closes the current segment, if it holds packets, as ending where
// the next starts, at pts (the stream's time base).
func (s *segmenter) closeAt(pts int64) error {
	if s.inSeg == 0 {
		return nil
	}
	if err := s.cut(s.seconds(pts - s.segPTS)); err != nil {
		return err
	}
	s.segPTS, s.dur, s.inSeg = pts, 0, 0
	return nil
}

// cut closes the current segment, which lasted dur seconds: it writes the
// init segment first if it is not written yet, then the segment, and
// publishes them.
func (s *segmenter) cut(dur float64) error {
	if err := s.flush(); err != nil { // the fragment, or the first time the moov
		return err
	}
	if err := s.writeInit(); err != nil {
		return err
	}
	if err := s.writeSegment(); err != nil {
		return err
	}
	return s.publish(dur)
}

// finish closes the last segment (the first, if no cut came) and the muxer.
// A rendition that got no packet at all writes nothing.
func (s *segmenter) finish() error {
	if s.packets == 0 {
		return nil
	}
	if !s.initDone {
		if err := s.flush(); err != nil {
			return err
		}
		if err := s.writeInit(); err != nil {
			return err
		}
	}
	if err := s.writeSegment(); err != nil {
		return err
	}
	// The trailer goes into the buffer, which is dropped: a fragmented
	// stream's trailer (mfra) is not part of an HLS rendition.
	if err := s.oc.WriteTrailer(); err != nil {
		if isLimit(err) {
			return limitError(err)
		}
		return fmt.Errorf("ffmpeg: %s muxer: write trailer: %w", s.name, err)
	}
	if _, err := takeDynBuf(s.oc); err != nil {
		return fmt.Errorf("ffmpeg: %s muxer: %w", s.name, err)
	}
	return s.publish(s.dur + s.firstDur)
}

// flush has the muxer write what it holds (a fragment) into the buffer.
func (s *segmenter) flush() error {
	if err := s.oc.WriteFrame(nil); err != nil {
		if isLimit(err) {
			return limitError(err)
		}
		return fmt.Errorf("ffmpeg: %s muxer: flush: %w", s.name, err)
	}
	return nil
}

// take returns the buffer's bytes and gives the muxer a fresh buffer.
func (s *segmenter) take() ([]byte, error) {
	b, err := takeDynBuf(s.oc)
	if err == nil {
		err = openDynBuf(s.oc)
	}
	if err != nil {
		return nil, limitError(err)
	}
	return b, nil
}

// writeInit writes the init segment (ftyp and moov, which the muxer writes
// at its first flush) unless it is written already.
func (s *segmenter) writeInit() error {
	if s.initDone {
		return nil
	}
	b, err := s.take()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.dir, transcode.InitName), b, 0o644); err != nil {
		return fmt.Errorf("ffmpeg: write %s/%s: %w", s.name, transcode.InitName, err)
	}
	s.initDone = true
	return nil
}

// writeSegment flushes the muxer and writes the buffer as the next media
// segment file.
func (s *segmenter) writeSegment() error {
	if err := s.flush(); err != nil {
		return err
	}
	b, err := s.take()
	if err != nil {
		return err
	}
	name := fmt.Sprintf(transcode.SegmentPattern, s.segments)
	if err := os.WriteFile(filepath.Join(s.dir, name), append(styp[:len(styp):len(styp)], b...), 0o644); err != nil {
		return fmt.Errorf("ffmpeg: write %s/%s: %w", s.name, name, err)
	}
	return nil
}

// publish hands the segment just written to the publisher.
func (s *segmenter) publish(dur float64) error {
	name := fmt.Sprintf(transcode.SegmentPattern, s.segments)
	s.segments++
	d, err := extinf(dur)
	if err != nil {
		return fmt.Errorf("ffmpeg: %s/%s: %w", s.name, name, err)
	}
	return s.pub.Segment(transcode.Segment{URI: name, Duration: d})
}

// extinf returns seconds as the hls muxer writes it into EXTINF ("%f":
// rounded to 6 decimals) and a playlist parser reads it back.
func extinf(seconds float64) (time.Duration, error) {
	s := strconv.FormatFloat(seconds, 'f', 6, 64)
	whole, frac, _ := strings.Cut(s, ".")
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || strings.HasPrefix(s, "-") || w > 1e6 {
		return 0, fmt.Errorf("segment duration %s s", s)
	}
	return time.Duration(w)*time.Second + time.Duration(f)*time.Microsecond, nil
}
