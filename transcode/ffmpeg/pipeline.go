package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/transcode"
)

// Queue depths between the decoding goroutine and the others. They bound
// memory (frames in flight) while letting the encoders run ahead or behind
// by a few frames.
const (
	videoQueue = 8
	audioQueue = 64
)

// pipeline is one transcode's decode → filter → encode → mux machinery.
//
// Goroutines: the caller's goroutine demuxes, decodes the video and runs the
// filter graph; each rung's encoder and muxer run in a goroutine of their
// own; the audio is decoded, resampled, encoded and muxed in another. Frames
// and packets are handed over by reference through channels, from fixed
// pools allocated up front: a rung's frame goes pool → filled by the graph →
// queue → encoded, unreferenced → pool.
type pipeline struct {
	log     *slog.Logger
	cfg     transcode.Config
	l       *transcode.Ladder
	in      *input
	outDir  string
	onEvent func(transcode.Event)
	pub     *transcode.Publisher // announces segments and playlists as they are made

	closers []func()

	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup

	vdec       *astiav.CodecContext
	clock      frameClock // the decoded frames' timestamps, less the clip's start
	graph      *astiav.FilterGraph
	src        *astiav.FilterContext
	sinks      []*astiav.FilterContext
	rungs      []*rungEncoder
	alts       [][]*rungEncoder // alts[i]: the second codecs' encoders of rung i, fed its frames
	aud        *audioPipe
	decoded    int64
	decodeErrs int

	poster      *astiav.Frame
	posterTaken bool
	posterFinal bool

	sbSink  *astiav.FilterContext // storyboard thumbnails, nil when none
	sbSpare *astiav.Frame         // receives the next thumbnail
	thumbs  []*astiav.Frame

	lastProgress time.Time

	// outOffset (µs) is added to every output timestamp, the same in every
	// rendition (see outputOffset).
	outOffset int64
}

// outputOffset returns the constant (µs) added to every output timestamp.
// Each rendition has its own muxer, and a muxer shifts a stream that starts
// with a negative decoding timestamp (B-frame reordering, AAC priming) by
// its own amount, which would put audio and video out of sync. Shifting
// everything by the largest delay any encoder adds (two frames for libx264's
// B-pyramid, at the slowest rung's rate; 1024 samples of AAC priming) keeps
// every timestamp non-negative, so no muxer shifts anything.
func outputOffset(l *transcode.Ladder) int64 {
	off := int64(1024 * 1_000_000 / 48_000)
	for _, r := range l.Rungs {
		off = max(off, int64(math.Ceil(2*1e6/r.FrameRate.Float())))
	}
	return off
}

// result is what a finished pipeline reports.
type result struct {
	codecs       []string // RFC 6381 video codec per rung
	frames       map[string]int64
	decodeErrors int
	audio        bool // the audio rendition has sound
	poster       bool
	posterMS     int64
	thumbs       int // storyboard thumbnails written, 0 for none
}

// onClose registers a free to run when the pipeline ends (in reverse order).
func (p *pipeline) onClose(f func()) { p.closers = append(p.closers, f) }

func (p *pipeline) close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
	p.closers = nil
}

// fail records the first error of any goroutine and stops the others.
func (p *pipeline) fail(err error) {
	if err != nil {
		p.cancel(err)
	}
}

// err returns the first recorded failure, or the caller's context error.
func (p *pipeline) err() error {
	if cause := context.Cause(p.ctx); cause != nil {
		return cause
	}
	return nil
}

func (p *pipeline) run(parent context.Context) (res *result, err error) {
	p.ctx, p.cancel = context.WithCancelCause(parent)
	defer p.cancel(nil)
	defer p.close()
	defer func() {
		// Always wait for the goroutines before the frees run.
		p.cancelOnError(err)
		p.wg.Wait()
		if err == nil {
			err = p.err()
		}
		if err != nil {
			res = nil
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("ffmpeg: transcode: %w", err)
			}
		}
	}()

	p.outOffset = outputOffset(p.l)
	p.pub = transcode.NewPublisher(p.outDir, p.l, p.onEvent)
	if err := p.openVideoDecoder(); err != nil {
		return nil, err
	}
	p.poster = astiav.AllocFrame()
	p.onClose(p.poster.Free)
	if p.l.Audio != nil {
		a, err := p.openAudio()
		if err != nil {
			return nil, err
		}
		p.aud = a
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.fail(a.run(p.ctx))
		}()
	}

	if err := p.demux(); err != nil {
		return nil, err
	}
	if err := p.flushVideo(); err != nil {
		return nil, err
	}
	if p.aud != nil {
		close(p.aud.packets)
	}
	p.wg.Wait()
	if err := p.err(); err != nil {
		return nil, err
	}
	if p.decoded == 0 || len(p.rungs) == 0 {
		return nil, shopclip.Errorf(shopclip.EMEDIADECODE, "No picture in the video could be decoded; the file is damaged or uses an unsupported variant of its codec.")
	}

	res = &result{frames: map[string]int64{}, decodeErrors: p.decodeErrs}
	// In the order of Ladder.VideoRungs: the second codecs', then H.264's.
	var encoders []*rungEncoder
	for j := range p.l.Alt {
		for i := range p.rungs {
			encoders = append(encoders, p.alts[i][j])
		}
	}
	for _, r := range append(encoders, p.rungs...) {
		if r.count == 0 {
			return nil, shopclip.Errorf(shopclip.EMEDIADECODE, "The video yielded no frames for the %s rendition.", r.rung.Name)
		}
		res.frames[r.rung.Name] = r.count
		res.codecs = append(res.codecs, r.codec)
	}
	res.audio = p.aud != nil && p.aud.encoded > 0
	if p.posterTaken {
		t := time.Now()
		if err := writeJPEG(p.poster, filepath.Join(p.outDir, transcode.PosterName)); err != nil {
			return nil, err
		}
		res.poster = true
		res.posterMS = time.Since(t).Milliseconds()
	}
	if sb := p.l.Storyboard; sb != nil && len(p.thumbs) > 0 {
		if err := writeStoryboard(p.thumbs, sb, filepath.Join(p.outDir, sb.Image)); err != nil {
			return nil, err
		}
		res.thumbs = len(p.thumbs)
	}
	return res, nil
}

// cancelOnError stops the goroutines when run returns early with an error.
func (p *pipeline) cancelOnError(err error) {
	if err != nil {
		p.cancel(err)
	}
}

func (p *pipeline) openVideoDecoder() error {
	st := p.in.video
	dec, err := openVideoDecoder(st, p.cfg)
	if err != nil {
		return err
	}
	p.onClose(dec.Free)
	p.vdec = dec
	p.clock = newFrameClock(st, astiav.RescaleQ(startTime(p.in), astiav.NewRational(1, 1_000_000), st.TimeBase()), p.l.MaxDurationMS)
	return nil
}

// openVideoDecoder opens a decoder for the video stream st, allowed to
// decode that codec only, with cfg's pixel limit and threads. The caller
// frees it.
func openVideoDecoder(st *astiav.Stream, cfg transcode.Config) (*astiav.CodecContext, error) {
	cp := st.CodecParameters()
	codec := astiav.FindDecoder(cp.CodecID())
	if codec == nil {
		return nil, shopclip.Errorf(shopclip.EMEDIACODEC, "The video codec %s cannot be decoded here.", codecName(cp.CodecID()))
	}
	dec := astiav.AllocCodecContext(codec)
	if dec == nil {
		return nil, allocError("video decoder")
	}
	ok := false
	defer func() {
		if !ok {
			dec.Free()
		}
	}()
	if err := cp.ToCodecContext(dec); err != nil {
		return nil, fmt.Errorf("ffmpeg: video decoder parameters: %w", err)
	}
	opts := astiav.NewDictionary()
	defer opts.Free()
	// One frame thread per core: libavcodec's default (cores + 1) decodes
	// no faster here, since the encoders keep every core busy, and holds
	// more frames in memory.
	threads := strconv.Itoa(runtime.NumCPU())
	if n := cfg.Threads.Decoder; n > 0 {
		threads = strconv.Itoa(n)
	}
	if err := setAll(opts, map[string]string{
		"codec_whitelist": codec.Name(),
		"max_pixels":      strconv.Itoa(cfg.Limits.MaxPixels),
		"threads":         threads,
	}); err != nil {
		return nil, err
	}
	if err := dec.Open(codec, opts); err != nil {
		if isLimit(err) || errors.Is(err, astiav.ErrEagain) { // EAGAIN: no room for a thread
			return nil, limitError(err)
		}
		return nil, shopclip.Errorf(shopclip.EMEDIACODEC, "The video decoder (%s) refused the stream: %s.", codec.Name(), err)
	}
	if err := unusedOptions("open video decoder", opts); err != nil {
		return nil, err
	}
	ok = true
	return dec, nil
}

// nominalFrameDuration returns the duration of one frame of st at its
// average frame rate (30 fps when unknown), in its time base.
func nominalFrameDuration(st *astiav.Stream) int64 {
	if fr := st.AvgFrameRate(); fr.Num() > 0 && fr.Den() > 0 {
		return max(1, astiav.RescaleQ(1, astiav.NewRational(fr.Den(), fr.Num()), st.TimeBase()))
	}
	return max(1, astiav.RescaleQ(1, astiav.NewRational(1, 30), st.TimeBase()))
}

// startTime returns where the clip starts, in microseconds: the earlier of
// the video and audio streams' start times. Both outputs are shifted by it,
// so they start at 0 and stay in sync.
func startTime(in *input) int64 {
	var t int64 = astiav.NoPtsValue
	for _, s := range []*astiav.Stream{in.video, in.audio} {
		if s == nil || s.StartTime() == astiav.NoPtsValue {
			continue
		}
		st := astiav.RescaleQ(s.StartTime(), s.TimeBase(), astiav.NewRational(1, 1_000_000))
		if t == astiav.NoPtsValue || st < t {
			t = st
		}
	}
	if t == astiav.NoPtsValue {
		return 0
	}
	return t
}

// demux reads every packet: video packets are decoded here, audio packets go
// to the audio goroutine.
func (p *pipeline) demux() error {
	frame := astiav.AllocFrame()
	defer frame.Free()
	vidx := p.in.video.Index()
	aidx := -1
	if p.aud != nil {
		aidx = p.in.audio.Index()
	}
	return readPackets(p.ctx, p.in.fc, p.log, p.err, func(pkt *astiav.Packet) error {
		switch pkt.StreamIndex() {
		case vidx:
			err := p.decodeVideo(pkt, frame)
			pkt.Unref()
			return err
		case aidx:
			if err := p.aud.send(p.ctx, pkt); err != nil {
				pkt.Unref()
				return p.err()
			}
		default:
			pkt.Unref()
		}
		return nil
	})
}

// readPackets reads every packet of fc and hands it to each, which must
// unreference it. It stops at the end of the input; at a read error,
// taken for the end of a damaged or truncated file (what was read is
// kept); when ctx ends, returning stopped(); or at each's first error.
func readPackets(ctx context.Context, fc *astiav.FormatContext, log *slog.Logger, stopped func() error, each func(*astiav.Packet) error) error {
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	for {
		if ctx.Err() != nil {
			return stopped()
		}
		if err := fc.ReadFrame(pkt); err != nil {
			if errors.Is(err, astiav.ErrEof) {
				return nil
			}
			if ctx.Err() != nil {
				return stopped()
			}
			if isLimit(err) {
				return limitError(err)
			}
			log.Warn("ffmpeg: read error; treating it as the end of the input", "error", err)
			return nil
		}
		if err := each(pkt); err != nil {
			return err
		}
	}
}

// decodeVideo sends one packet (nil to flush) to the video decoder and
// feeds every frame it returns to the filter graph.
func (p *pipeline) decodeVideo(pkt *astiav.Packet, frame *astiav.Frame) error {
	return decodePacket(p.vdec, pkt, frame, &p.decodeErrs, p.filterFrame)
}

// decodePacket sends pkt (nil to flush) to dec and calls each with every
// frame dec returns, unreferencing it after. Packets and frames the decoder
// rejects are counted in *errs (a damaged file loses a few pictures).
func decodePacket(dec *astiav.CodecContext, pkt *astiav.Packet, frame *astiav.Frame, errs *int, each func(*astiav.Frame) error) error {
	if err := dec.SendPacket(pkt); err != nil && !errors.Is(err, astiav.ErrEagain) && !errors.Is(err, astiav.ErrEof) {
		if isLimit(err) {
			return limitError(err)
		}
		*errs++
	}
	for {
		err := dec.ReceiveFrame(frame)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			if isLimit(err) {
				return limitError(err)
			}
			*errs++
			continue
		}
		err = each(frame)
		frame.Unref()
		if err != nil {
			return err
		}
	}
}

// filterFrame timestamps a decoded frame, pushes it into the filter graph
// (built from the first frame) and delivers what comes out.
func (p *pipeline) filterFrame(f *astiav.Frame) error {
	if err := p.clock.stamp(f); err != nil {
		return err
	}
	p.decoded++
	if p.graph == nil {
		if err := p.buildGraph(f); err != nil {
			return err
		}
	}
	if err := pushFrame(p.src, f); err != nil {
		return err
	}
	return p.pull()
}

// frameClock timestamps decoded video frames: the best-effort timestamp
// (the previous one plus a frame when the decoder gives none) less offset,
// in the stream's time base; it keeps where the last frame ends.
type frameClock struct {
	tb       astiav.Rational
	offset   int64 // subtracted from every timestamp
	frameDur int64 // nominal, for frames that state no duration
	maxMS    int64 // a frame past this + 1 s means the file is too long
	last     int64 // the last frame's timestamp before the offset
	end      int64 // where the last frame ends, offset applied
}

func newFrameClock(st *astiav.Stream, offset, maxMS int64) frameClock {
	return frameClock{tb: st.TimeBase(), offset: offset, frameDur: nominalFrameDuration(st), maxMS: maxMS, last: astiav.NoPtsValue}
}

// stamp sets f's timestamp and clears its picture type. A frame beyond
// the longest accepted duration gives EMEDIADURATION.
func (c *frameClock) stamp(f *astiav.Frame) error {
	pts := bestEffortTimestamp(f)
	if pts == astiav.NoPtsValue {
		if c.last == astiav.NoPtsValue {
			pts = c.offset
		} else {
			pts = c.last + max(frameDuration(f), c.frameDur)
		}
	}
	c.last = pts
	pts -= c.offset
	if ms := astiav.RescaleQ(pts, c.tb, astiav.NewRational(1, 1000)); ms > c.maxMS+1000 {
		return shopclip.Errorf(shopclip.EMEDIADURATION,
			"The video runs past the longest accepted duration (%s).", time.Duration(c.maxMS)*time.Millisecond)
	}
	f.SetPts(pts)
	f.SetPictureType(astiav.PictureTypeNone)
	dur := frameDuration(f)
	if dur <= 0 {
		dur = c.frameDur
	}
	c.end = max(c.end, pts+dur)
	return nil
}

// pushFrame adds a decoded frame to the filter graph's buffer source.
func pushFrame(src *astiav.FilterContext, f *astiav.Frame) error {
	if err := src.BuffersrcAddFrame(f, astiav.NewBuffersrcFlags(astiav.BuffersrcFlagKeepRef)); err != nil {
		if isLimit(err) {
			return limitError(err)
		}
		return shopclip.Errorf(shopclip.EMEDIADECODE, "The video changes its picture format mid-stream in a way that cannot be processed (%s).", err)
	}
	return nil
}

// flushVideo drains the decoder and the filter graph at the end of input.
func (p *pipeline) flushVideo() error {
	frame := astiav.AllocFrame()
	defer frame.Free()
	if err := p.decodeVideo(nil, frame); err != nil {
		return err
	}
	if p.graph == nil {
		return nil // no frame was decoded; run reports it
	}
	if err := closeBufferSource(p.src, p.clock.end); err != nil {
		return fmt.Errorf("ffmpeg: flush filter graph: %w", err)
	}
	if err := p.pull(); err != nil {
		return err
	}
	for i, r := range p.rungs {
		close(r.frames)
		for _, a := range p.alts[i] {
			close(a.frames)
		}
	}
	return nil
}

// pull takes every frame the graph has ready from each rung's sink and hands
// it to the rung's encoder.
func (p *pipeline) pull() error {
	for i, sink := range p.sinks {
		r := p.rungs[i]
		for {
			var f *astiav.Frame
			select {
			case f = <-r.pool:
			case <-p.ctx.Done():
				return p.err()
			}
			err := sink.BuffersinkGetFrame(f, astiav.NewBuffersinkFlags())
			if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
				r.pool <- f
				break
			}
			if err != nil {
				r.pool <- f
				if isLimit(err) {
					return limitError(err)
				}
				return fmt.Errorf("ffmpeg: filter graph output %d: %w", i, err)
			}
			if i == 0 {
				p.observe(r, f)
			}
			if err := p.feedAlts(i, f); err != nil {
				f.Unref()
				r.pool <- f
				return err
			}
			select {
			case r.frames <- f:
			case <-p.ctx.Done():
				return p.err()
			}
		}
	}
	return p.pullThumbs()
}

// maxThumbs bounds the storyboard thumbnails kept in memory (a clip of the
// longest accepted duration needs at most 100).
const maxThumbs = 400

// pullThumbs keeps the storyboard thumbnails the graph has ready.
func (p *pipeline) pullThumbs() error {
	if p.sbSink == nil {
		return nil
	}
	for {
		if p.sbSpare == nil {
			p.sbSpare = astiav.AllocFrame()
			if p.sbSpare == nil {
				return allocError("frame")
			}
			p.onClose(p.sbSpare.Free)
		}
		err := p.sbSink.BuffersinkGetFrame(p.sbSpare, astiav.NewBuffersinkFlags())
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ffmpeg: storyboard output: %w", err)
		}
		if len(p.thumbs) < maxThumbs {
			p.thumbs = append(p.thumbs, p.sbSpare)
			p.sbSpare = nil
		} else {
			p.sbSpare.Unref()
		}
	}
}

// observe takes the poster and reports progress from the largest rung's
// frames.
func (p *pipeline) observe(r *rungEncoder, f *astiav.Frame) {
	ms := astiav.RescaleQ(f.Pts(), r.tb, astiav.NewRational(1, 1000))
	if !p.posterFinal && (!p.posterTaken || ms >= p.l.PosterAtMS) {
		p.poster.Unref()
		if err := p.poster.Ref(f); err == nil {
			p.posterTaken = true
			p.posterFinal = ms >= p.l.PosterAtMS
		}
	}
	if time.Since(p.lastProgress) >= 250*time.Millisecond {
		p.lastProgress = time.Now()
		ev := transcode.Event{Kind: transcode.EventProgress, OutTimeMS: ms}
		if dur := p.in.probe.DurationMS; dur > 0 {
			// Without a stated duration, progress stays 0 until the end.
			ev.Progress, ev.DurationMS = min(0.99, float64(ms)/float64(dur)), dur
		}
		p.onEvent(ev)
	}
}

// buildGraph creates the filter graph for frames like f and the rung
// encoders fed by it.
func (p *pipeline) buildGraph(f *astiav.Frame) error {
	g := astiav.AllocFilterGraph()
	if g == nil {
		return allocError("filter graph")
	}
	p.onClose(g.Free)
	if n := p.cfg.Threads.Filter; n > 0 {
		g.SetThreadCount(n)
	}
	src, err := newBufferSource(g, "src", f, p.clock.tb)
	if err != nil {
		return err
	}
	var sinks []graphPad
	for i := range p.l.Rungs {
		sink, err := g.NewFilterContext(astiav.FindFilterByName("buffersink"), transcode.FilterOut(i), nil)
		if err != nil {
			return fmt.Errorf("ffmpeg: create buffer sink: %w", err)
		}
		p.sinks = append(p.sinks, sink)
		sinks = append(sinks, graphPad{transcode.FilterOut(i), sink})
	}
	if p.l.Storyboard != nil {
		sink, err := g.NewFilterContext(astiav.FindFilterByName("buffersink"), transcode.FilterStoryboard, nil)
		if err != nil {
			return fmt.Errorf("ffmpeg: create buffer sink: %w", err)
		}
		p.sbSink = sink
		sinks = append(sinks, graphPad{transcode.FilterStoryboard, sink})
	}
	if err := configureGraph(g, p.l.VideoFilter(), []graphPad{{transcode.FilterIn, src}}, sinks); err != nil {
		return err
	}
	p.graph, p.src = g, src
	first := newFirstSegments(len(p.l.Rungs))
	for i, rung := range p.l.Rungs {
		r, err := p.openRung(i, rung, p.sinks[i].Inputs()[0].TimeBase())
		if err != nil {
			return err
		}
		r.first = first
		p.rungs = append(p.rungs, r)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.fail(r.run())
		}()
		var alts []*rungEncoder
		for _, a := range p.l.Alt {
			ar, err := p.openAltRung(a, rung, r.tb, p.cfg.Threads.Encoder)
			if err != nil {
				return err
			}
			alts = append(alts, ar)
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.fail(ar.run())
			}()
		}
		p.alts = append(p.alts, alts)
	}
	return nil
}

// feedAlts hands a new reference to rung i's frame f (its buffers shared,
// not copied) to each of the rung's second-codec encoders.
func (p *pipeline) feedAlts(i int, f *astiav.Frame) error {
	for _, a := range p.alts[i] {
		var g *astiav.Frame
		select {
		case g = <-a.pool:
		case <-p.ctx.Done():
			return p.err()
		}
		if err := g.Ref(f); err != nil {
			a.pool <- g
			return limitError(err)
		}
		select {
		case a.frames <- g:
		case <-p.ctx.Done():
			g.Unref()
			a.pool <- g
			return p.err()
		}
	}
	return nil
}

// newBufferSource adds a buffer source called name to g for frames like f
// in time base tb.
func newBufferSource(g *astiav.FilterGraph, name string, f *astiav.Frame, tb astiav.Rational) (*astiav.FilterContext, error) {
	sar := f.SampleAspectRatio()
	if sar.Num() <= 0 || sar.Den() <= 0 {
		sar = astiav.NewRational(1, 1)
	}
	src, err := g.NewFilterContext(astiav.FindFilterByName("buffer"), name, astiav.FilterArgs{
		"video_size":   fmt.Sprintf("%dx%d", f.Width(), f.Height()),
		"pix_fmt":      strconv.Itoa(int(f.PixelFormat())),
		"time_base":    tb.String(),
		"pixel_aspect": sar.String(),
	})
	if err != nil {
		return nil, fmt.Errorf("ffmpeg: create buffer source %s: %w", name, err)
	}
	return src, nil
}

// graphPad is one of our filter contexts at an open end of a filter graph
// description, named by the description's pad label.
type graphPad struct {
	name string
	ctx  *astiav.FilterContext
}

// configureGraph parses desc into g, its open inputs fed by our sources
// and its open outputs feeding our sinks (pad 0 of each), and configures
// it. desc holds only numbers and fixed names (transcode's VideoFilter
// methods): it is quoted in errors as is.
func configureGraph(g *astiav.FilterGraph, desc string, sources, sinks []graphPad) error {
	outputs := inOutList(sources) // the graph's open outputs are our sources'
	defer outputs.Free()
	inputs := inOutList(sinks)
	defer inputs.Free()
	if err := g.Parse(desc, inputs, outputs); err != nil {
		return fmt.Errorf("ffmpeg: parse filter graph %q: %w", desc, err)
	}
	if err := g.Configure(); err != nil {
		if isLimit(err) {
			return limitError(err)
		}
		return fmt.Errorf("ffmpeg: configure filter graph %q: %w", desc, err)
	}
	return nil
}

// inOutList links one FilterInOut per pad; freeing the first frees them
// all.
func inOutList(pads []graphPad) *astiav.FilterInOut {
	var head, last *astiav.FilterInOut
	for _, pad := range pads {
		io := astiav.AllocFilterInOut() // freed with the list's head
		io.SetName(pad.name)
		io.SetFilterContext(pad.ctx)
		io.SetPadIdx(0)
		io.SetNext(nil)
		if last == nil {
			head = io
		} else {
			last.SetNext(io)
		}
		last = io
	}
	return head
}

// setAll sets every key of kv in d.
func setAll(d *astiav.Dictionary, kv map[string]string) error {
	for k, v := range kv {
		if err := d.Set(k, v, astiav.NewDictionaryFlags()); err != nil {
			return fmt.Errorf("ffmpeg: set option %s: %w", k, err)
		}
	}
	return nil
}
