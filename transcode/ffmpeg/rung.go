package ffmpeg

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip/transcode"
)

// rungEncoder encodes one rendition with libx264 and muxes it, in its own
// goroutine.
type rungEncoder struct {
	ctx  context.Context
	rung transcode.Rung
	enc  *astiav.CodecContext
	// next, when set, takes over from enc at the first segment's end: enc
	// encodes the first segment alone and is flushed there (see openRung).
	next    *astiav.CodecContext
	seg     *segmenter
	tb      astiav.Rational    // the frames' and the encoder's time base
	sched   transcode.Schedule // where keyframes are forced and segments cut
	nextKey int64              // ms of the next forced keyframe
	segment int                // the schedule's index of the segment being muxed
	frames  chan *astiav.Frame
	pool    chan *astiav.Frame
	count   int64
	codec   string // RFC 6381, from the encoder's SPS
	offset  int64  // added to output timestamps, µs (pipeline.outOffset)
	// first, when set, is the ladder's first segments: this rung says when
	// its own is out and waits for the others' before going on.
	first     *firstSegments
	firstOnce sync.Once
}

// firstSegments holds every rung back at the end of its first segment
// until all rungs have theirs. The first segments are what a viewer waits
// for: until they are out, the rungs that finished first would otherwise
// take CPU for the following segments from those still on theirs (on two
// cores the last first segment came 0.1 to 0.2 s later).
type firstSegments struct {
	mu   sync.Mutex
	left int
	done chan struct{}
}

func newFirstSegments(rungs int) *firstSegments {
	f := &firstSegments{left: rungs, done: make(chan struct{})}
	if rungs == 0 {
		close(f.done)
	}
	return f
}

// out says one rung's first segment is out.
func (f *firstSegments) out() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.left--; f.left == 0 {
		close(f.done)
		go relaxMemory()
	}
}

// firstSegmentWait bounds the wait for the other rungs' first segments: a
// safety net, as a rung waiting holds up none of the frames the others
// need (each has been handed every frame up to the one that ended its
// first segment before the pipeline can block on this rung's queue).
const firstSegmentWait = 2 * time.Second

// firstOut says r's first segment is out (once; also when the rung ends
// before it has a second).
func (r *rungEncoder) firstOut() {
	if r.first != nil {
		r.firstOnce.Do(r.first.out)
	}
}

// waitFirst waits until every rung's first segment is out.
func (r *rungEncoder) waitFirst() {
	if r.first == nil {
		return
	}
	t := time.NewTimer(firstSegmentWait)
	defer t.Stop()
	select {
	case <-r.first.done:
	case <-r.ctx.Done():
	case <-t.C:
	}
}

// openRung opens rung i's encoder (frames arrive in time base tb) and muxer
// and fills its frame pool.
func (p *pipeline) openRung(i int, rung transcode.Rung, tb astiav.Rational) (*rungEncoder, error) {
	threads := p.cfg.Threads.Encoder
	if threads == 0 {
		threads = encoderThreads(p.l.Rungs, i, runtime.NumCPU())
	}
	enc, err := openVideoEncoder(p.l, rung, tb, threads)
	if err != nil {
		return nil, err
	}
	p.onClose(enc.Free)
	codecStr, err := transcode.AVCCodec(enc.ExtraData())
	if err != nil {
		return nil, fmt.Errorf("ffmpeg: %s: %w", rung.Name, err)
	}
	r, err := p.newRungEncoder(rung, enc, codecStr, tb)
	if err != nil {
		return nil, err
	}
	// The first segment is what a viewer waits for. libx264 holds back
	// every frame until its lookahead (and, with frame threads, its sync
	// lookahead) holds the frames after it, so the segment would close
	// only once the encoder had taken in the next segment's first 11 to 16
	// frames as well. Instead one encoder makes the first segment and is
	// flushed at its end, which returns its frames at once, and a second,
	// opened with the same settings and so writing the same parameter sets
	// (checked here: the init segment holds the first's), makes the rest,
	// from the IDR frame that starts the second segment. On the 30 s
	// 1080x1920 reference clip the first segment of every rung is out
	// 0.2 to 0.3 s sooner (TestFirstSegmentHandOver: after 16 pictures,
	// not 32).
	if next, err := openVideoEncoder(p.l, rung, tb, threads); err != nil {
		return nil, err
	} else if p.onClose(next.Free); bytes.Equal(next.ExtraData(), enc.ExtraData()) {
		r.next = next
	} else {
		p.log.Warn("ffmpeg: a second encoder wrote other parameter sets; the first segment waits for the lookahead", "rendition", rung.Name)
		next.Free()
	}
	return r, nil
}

// newRungEncoder opens the muxer of rung, encoded by enc (whose RFC 6381
// codec is codecStr) from frames in time base tb, and fills its frame pool.
func (p *pipeline) newRungEncoder(rung transcode.Rung, enc *astiav.CodecContext, codecStr string, tb astiav.Rational) (*rungEncoder, error) {
	seg, err := p.openSegmenter(rung.Name, enc, codecStr)
	if err != nil {
		return nil, err
	}
	r := &rungEncoder{
		ctx:    p.ctx,
		rung:   rung,
		enc:    enc,
		seg:    seg,
		tb:     tb,
		sched:  p.l.Schedule(),
		frames: make(chan *astiav.Frame, videoQueue),
		pool:   make(chan *astiav.Frame, videoQueue+2),
		codec:  codecStr,
		offset: p.outOffset,
	}
	for range cap(r.pool) {
		f := astiav.AllocFrame()
		p.onClose(f.Free)
		r.pool <- f
	}
	return r, nil
}

// openVideoEncoder opens l's encoder (libx264 with the ladder's preset,
// profile, CRF and colour tags) for rung (its size, frame rate and VBV
// caps), taking frames in time base tb, with threads threads (0: the
// encoder's default). Keyframes are to be forced by the caller, by time
// (like -force_key_frames "expr:gte(t,n_forced*2)" for the classic grid),
// with scene cuts off; the GOP cap only has to stay out of their way. The
// caller frees it.
func openVideoEncoder(l *transcode.Ladder, rung transcode.Rung, tb astiav.Rational, threads int) (*astiav.CodecContext, error) {
	codec := astiav.FindEncoderByName(l.Codec)
	if codec == nil {
		return nil, fmt.Errorf("ffmpeg: encoder %s not found", l.Codec)
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
	enc.SetPixelFormat(astiav.FindPixelFormatByName(l.PixFmt))
	enc.SetSampleAspectRatio(astiav.NewRational(1, 1))
	enc.SetTimeBase(tb)
	enc.SetFramerate(astiav.NewRational(rung.FrameRate.Num, rung.FrameRate.Den))
	enc.SetFlags(enc.Flags().Add(astiav.CodecContextFlagGlobalHeader))

	perInterval := int(float64(l.KeyframeIntervalMS) / 1000 * rung.FrameRate.Float())
	opts := map[string]string{
		"preset":       l.Preset,
		"profile":      l.Profile,
		"crf":          strconv.Itoa(cmp.Or(rung.CRF, l.CRF)),
		"maxrate":      strconv.FormatInt(rung.MaxRate, 10),
		"bufsize":      strconv.FormatInt(rung.BufSize, 10),
		"forced-idr":   "1",
		"sc_threshold": "0",
		"g":            strconv.Itoa(max(250, 2*perInterval+1)),
		"color_range":  l.Color.Range,
	}
	if threads > 0 {
		opts["threads"] = strconv.Itoa(threads)
	}
	for k, v := range map[string]string{"color_primaries": l.Color.Primaries, "color_trc": l.Color.Transfer, "colorspace": l.Color.Space} {
		if v != "" {
			opts[k] = v
		}
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
		return nil, fmt.Errorf("ffmpeg: open %s encoder for %s: %w", l.Codec, rung.Name, err)
	}
	if err := unusedOptions("open "+rung.Name+" encoder", d); err != nil {
		return nil, err
	}
	ok = true
	return enc, nil
}

// encoderThreads returns the libx264 thread count of rung i when the config
// leaves it to the engine. The rungs encode concurrently, so giving each
// libx264's default (1.5 × cores frame threads plus lookahead) oversubscribes
// the machine; instead each rung gets threads in proportion to its share of
// the pixels per second to encode, at least one, about 1.5 × cores in all
// (on 2 cores and the default ladder: 2, 1, 1). Measured on the benchmark
// clip (scripts/bench-transcode.sh) this is about 3% faster than libx264's
// default with the same output size and quality.
func encoderThreads(rungs []transcode.Rung, i, cores int) int {
	var total float64
	for _, r := range rungs {
		total += float64(r.Width*r.Height) * r.FrameRate.Float()
	}
	r := rungs[i]
	share := float64(r.Width*r.Height) * r.FrameRate.Float() / total
	return max(1, int(math.Round(share*1.5*float64(cores))))
}

// run encodes frames until the queue is closed, then flushes the encoder
// and finishes the muxer.
func (r *rungEncoder) run() error {
	defer r.firstOut()
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	for {
		var f *astiav.Frame
		var ok bool
		select {
		case f, ok = <-r.frames:
		case <-r.ctx.Done():
			return nil // the pipeline records why
		}
		if !ok {
			break
		}
		err := r.encode(f, pkt)
		f.Unref()
		r.pool <- f
		if err != nil {
			return err
		}
	}
	if err := r.encode(nil, pkt); err != nil {
		return err
	}
	return r.seg.finish()
}

// encode sends f (nil to flush) to the encoder and muxes the packets it
// returns, cutting a segment before each keyframe of a new segment of the
// schedule.
func (r *rungEncoder) encode(f *astiav.Frame, pkt *astiav.Packet) error {
	if f != nil {
		ms := astiav.RescaleQ(f.Pts(), r.tb, astiav.NewRational(1, 1000))
		if r.next != nil && ms >= r.nextKey && r.sched.Segment(ms) > r.segment {
			if err := r.handOver(f, pkt); err != nil {
				return err
			}
		}
		if ms >= r.nextKey {
			f.SetPictureType(astiav.PictureTypeI)
			r.nextKey = r.sched.NextKeyframe(ms)
		} else {
			f.SetPictureType(astiav.PictureTypeNone)
		}
		dropDisplayMatrix(f)
		r.count++
	}
	if err := r.enc.SendFrame(f); err != nil {
		if isLimit(err) {
			return limitError(err)
		}
		return fmt.Errorf("ffmpeg: %s encoder: send frame: %w", r.rung.Name, err)
	}
	for {
		err := r.enc.ReceivePacket(pkt)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ffmpeg: %s encoder: receive packet: %w", r.rung.Name, err)
		}
		// The packet's time, computed from its pts exactly as the frame's
		// was when its keyframe was forced: the first keyframe in a new
		// segment of the schedule starts that segment.
		cut := false
		if pkt.Flags().Has(astiav.PacketFlagKey) {
			ms := astiav.RescaleQ(pkt.Pts(), r.tb, astiav.NewRational(1, 1000))
			if i := r.sched.Segment(ms); i > r.segment {
				cut, r.segment = true, i
				r.firstOut()
			}
		}
		pkt.SetStreamIndex(r.seg.st.Index())
		if pkt.Duration() <= 0 {
			pkt.SetDuration(1)
		}
		pkt.RescaleTs(r.tb, r.seg.st.TimeBase())
		shift(pkt, r.offset, r.seg.st.TimeBase())
		err = r.seg.write(pkt, cut)
		pkt.Unref()
		if err != nil {
			return err
		}
	}
}

// handOver ends the first segment before f, the frame that starts the
// next: it flushes the first segment's encoder, closes the segment and
// hands the rest of the rendition to the next encoder.
func (r *rungEncoder) handOver(f *astiav.Frame, pkt *astiav.Packet) error {
	if err := r.encode(nil, pkt); err != nil {
		return err
	}
	first := r.enc
	r.enc, r.next = r.next, nil
	first.Free() // its frames and lookahead, now; freeing again at close is a no-op
	next := astiav.RescaleQ(f.Pts(), r.tb, r.seg.st.TimeBase())
	next += astiav.RescaleQ(r.offset, astiav.NewRational(1, 1_000_000), r.seg.st.TimeBase())
	if err := r.seg.closeAt(next); err != nil {
		return err
	}
	r.firstOut()
	r.waitFirst()
	return nil
}

// shift adds offset µs to a packet's timestamps (in time base tb).
func shift(pkt *astiav.Packet, offset int64, tb astiav.Rational) {
	d := astiav.RescaleQ(offset, astiav.NewRational(1, 1_000_000), tb)
	if pkt.Pts() != astiav.NoPtsValue {
		pkt.SetPts(pkt.Pts() + d)
	}
	if pkt.Dts() != astiav.NoPtsValue {
		pkt.SetDts(pkt.Dts() + d)
	}
}
