package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/transcode"
)

// BurnInOptions are BurnIn's optional settings.
type BurnInOptions struct {
	// Config gives the encoder settings (preset, CRF, the rungs' rate caps,
	// keyframe interval, threads) and the limits the input must fit; the
	// zero value means the defaults.
	Config transcode.Config
	// OnEvent, when not nil, receives the probe event (the input's
	// duration, which sizes Runner's deadline) and progress events, from
	// BurnIn's goroutine.
	OnEvent func(transcode.Event)
}

// BurnIn makes a share render (see transcode.ShareSpec) in this process: it
// opens in (an absolute path to the clip's MP4; only FFmpeg's mov/mp4
// demuxer and the file protocol are allowed, with every upload allowlist
// and limit), loads each overlay's image with loadImage (called once per
// distinct name), decodes the video through one filter graph that overlays
// the cards (transcode.SharePlan.VideoFilter), encodes it with libx264 with
// the ladder's settings for the input's size (transcode.PlanShare),
// keeping the frames' timestamps, copies the audio packets unchanged, and
// writes a faststart MP4 at out (an absolute path) with the input's
// displayed size.
//
// The MP4 is written under a temporary name beside out and renamed when
// complete: a failed render leaves no out file. ctx is watched between
// packets and inside FFmpeg's I/O. Like Transcode it is meant for the child
// process (ChildMain with --share): a crash in FFmpeg kills the calling
// process. On failure it returns the report with Error set and an error
// that carries a media code when the input is to blame, EINVALID when the
// spec or an image is.
func BurnIn(ctx context.Context, in, out string, spec transcode.ShareSpec, loadImage func(name string) (image.Image, error), opts BurnInOptions) (*transcode.ShareReport, error) {
	start := time.Now()
	rep := &transcode.ShareReport{Timings: map[string]int64{}}
	fail := func(err error) (*transcode.ShareReport, error) {
		err = engineError(err)
		rep.Timings["total"] = time.Since(start).Milliseconds()
		rep.Error = reportError(err)
		return rep, err
	}
	if err := spec.Validate(); err != nil {
		return fail(err)
	}
	c := opts.Config
	if err := c.Validate(); err != nil {
		return fail(err)
	}
	c = c.WithDefaults()
	if !filepath.IsAbs(out) {
		return fail(fmt.Errorf("ffmpeg: share: output %q is not an absolute path", out))
	}
	onEvent := opts.OnEvent
	if onEvent == nil {
		onEvent = func(transcode.Event) {}
	}
	ensureLogging()

	src, err := openInputOf(ctx, in, c.Limits, containers{mp4Formats, "A share render is made from the clip's MP4."})
	if err != nil {
		return fail(err)
	}
	defer src.Close()
	cards, freeCards, err := loadCards(spec, loadImage)
	if err != nil {
		return fail(err)
	}
	defer freeCards()
	sizes := make([]transcode.Size, len(cards))
	for i, f := range cards {
		sizes[i] = transcode.Size{Width: f.Width(), Height: f.Height()}
	}
	plan, err := transcode.PlanShare(*src.probe, spec, sizes, c)
	if err != nil {
		return fail(err)
	}
	rung := plan.Ladder.Rungs[0]
	rep.Width, rep.Height = rung.Width, rung.Height
	rep.Timings["open"] = time.Since(start).Milliseconds()
	onEvent(transcode.Event{Kind: transcode.EventProbe, DurationMS: src.probe.DurationMS, Probe: src.probe})

	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.part")
	if err != nil {
		return fail(fmt.Errorf("ffmpeg: share: create output: %w", err))
	}
	tmp.Close()
	if err := os.Chmod(tmp.Name(), 0o644); err != nil { // as the engine's other outputs
		os.Remove(tmp.Name())
		return fail(fmt.Errorf("ffmpeg: share: %w", err))
	}
	renamed := false
	defer func() {
		if !renamed {
			os.Remove(tmp.Name())
		}
	}()
	t := time.Now()
	b := &burner{log: logger(), cfg: c, plan: plan, in: src, cards: cards, onEvent: onEvent}
	err = b.run(ctx, tmp.Name())
	rep.Timings["render"] = time.Since(t).Milliseconds()
	if err != nil {
		if ctx.Err() != nil && !shopclip.IsMediaError(shopclip.ErrorCode(err)) {
			err = fmt.Errorf("ffmpeg: share: %w", ctx.Err())
		}
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fail(fmt.Errorf("ffmpeg: share: %w", err))
	}
	renamed = true
	fi, err := os.Stat(out)
	if err != nil {
		return fail(fmt.Errorf("ffmpeg: share: %w", err))
	}
	rep.Bytes = fi.Size()
	rep.Frames = b.frames
	rep.Audio = b.audioPackets > 0
	rep.DurationMS = astiav.RescaleQ(b.clock.end, b.clock.tb, astiav.NewRational(1, 1000))
	rep.Timings["total"] = time.Since(start).Milliseconds()
	onEvent(transcode.Event{Kind: transcode.EventProgress, Progress: 1, OutTimeMS: rep.DurationMS, DurationMS: rep.DurationMS})
	return rep, nil
}

// burnInChild runs BurnIn for the child process: the spec and the overlay
// images come from the spec file's directory (the job dir), the images
// through an os.Root, so no name can reach outside it.
func burnInChild(ctx context.Context, req transcode.ChildRequest, onEvent func(transcode.Event)) (*transcode.ShareReport, error) {
	spec, err := transcode.ReadShareSpec(req.Share)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(filepath.Dir(req.Share))
	if err != nil {
		return nil, fmt.Errorf("ffmpeg: share: open job dir: %w", err)
	}
	defer root.Close()
	load := func(name string) (image.Image, error) { return transcode.LoadCard(root, name) }
	return BurnIn(ctx, req.Input, req.Output, spec, load, BurnInOptions{Config: req.Config, OnEvent: onEvent})
}

// loadCards loads each overlay's image into an RGBA frame (one frame per
// distinct name, shared by the overlays that name it) and returns the
// frames in the spec's order and their free.
func loadCards(spec transcode.ShareSpec, loadImage func(string) (image.Image, error)) ([]*astiav.Frame, func(), error) {
	byName := map[string]*astiav.Frame{}
	free := func() {
		for _, f := range byName {
			f.Free()
		}
	}
	cards := make([]*astiav.Frame, len(spec.Overlays))
	for i, o := range spec.Overlays {
		if f, ok := byName[o.Image]; ok {
			cards[i] = f
			continue
		}
		img, err := loadImage(o.Image)
		if err != nil {
			free()
			var e *shopclip.Error
			if errors.As(err, &e) {
				return nil, nil, err
			}
			return nil, nil, fmt.Errorf("ffmpeg: share: overlay image %q: %w", o.Image, err)
		}
		f, err := cardFrame(img)
		if err != nil {
			free()
			return nil, nil, err
		}
		byName[o.Image] = f
		cards[i] = f
	}
	return cards, free, nil
}

// mp4AudioCodecs are the audio codecs FFmpeg 5.1's mp4 muxer takes without
// "experimental" flags: the ones a share render can copy (the engine's own
// MP4s hold AAC).
var mp4AudioCodecs = []string{"aac", "mp3", "alac", "ac3", "eac3", "opus"}

// burner is one share render's decode → filter → encode → mux machinery,
// all in the caller's goroutine.
type burner struct {
	log     *slog.Logger
	cfg     transcode.Config // with defaults
	plan    *transcode.SharePlan
	in      *input
	cards   []*astiav.Frame // per overlay
	onEvent func(transcode.Event)
	frees   []func()

	dec        *astiav.CodecContext
	clock      frameClock // the input's own timestamps: no offset
	decodeErrs int
	graph      *astiav.FilterGraph
	src        *astiav.FilterContext
	sink       *astiav.FilterContext
	sinkTB     astiav.Rational
	filtered   *astiav.Frame // receives the graph's output

	enc     *astiav.CodecContext
	pkt     *astiav.Packet // receives the encoder's packets
	nextKey int64          // ms of the next forced keyframe
	lastPTS int64          // of the last frame encoded
	frames  int64

	mp4          *mp4File
	vst, ast     *astiav.Stream
	audioPackets int64

	lastProgress time.Time
}

// free registers f to run when the render ends (in reverse order).
func (b *burner) free(f func()) { b.frees = append(b.frees, f) }

// run renders into the file at path.
func (b *burner) run(ctx context.Context, path string) error {
	defer func() {
		for i := len(b.frees) - 1; i >= 0; i-- {
			b.frees[i]()
		}
	}()
	l := b.plan.Ladder
	st := b.in.video
	dec, err := openVideoDecoder(st, b.cfg)
	if err != nil {
		return err
	}
	b.free(dec.Free)
	b.dec = dec
	b.clock = newFrameClock(st, 0, l.MaxDurationMS)
	// The graph keeps the stream's time base (every source uses it), so
	// the encoder takes the frames' timestamps as they are.
	enc, err := openVideoEncoder(l, l.Rungs[0], st.TimeBase(), b.cfg.Threads.Encoder)
	if err != nil {
		return err
	}
	b.free(enc.Free)
	b.enc = enc
	b.lastPTS = astiav.NoPtsValue

	m, err := newMP4File(path)
	if err != nil {
		return err
	}
	b.free(m.close)
	b.mp4 = m
	if b.vst, err = m.addStream(enc.TimeBase(), func(cp *astiav.CodecParameters) error { return cp.FromCodecContext(enc) }); err != nil {
		return err
	}
	if a := b.in.audio; a != nil {
		if c := codecName(a.CodecParameters().CodecID()); !slices.Contains(mp4AudioCodecs, c) {
			return shopclip.Errorf(shopclip.EMEDIACODEC, "The sound is encoded as %s, which cannot be copied into an MP4.", c)
		}
		if b.ast, err = m.addStream(a.TimeBase(), a.CodecParameters().Copy); err != nil {
			return err
		}
	}
	if err := m.open(); err != nil {
		return err
	}

	b.pkt = astiav.AllocPacket()
	b.free(b.pkt.Free)
	b.filtered = astiav.AllocFrame()
	b.free(b.filtered.Free)
	frame := astiav.AllocFrame()
	defer frame.Free()
	if err := b.demux(ctx, frame); err != nil {
		return err
	}
	if err := decodePacket(b.dec, nil, frame, &b.decodeErrs, b.filter); err != nil {
		return err
	}
	if b.graph == nil {
		return shopclip.Errorf(shopclip.EMEDIADECODE, "No picture in the video could be decoded; the file is damaged or uses an unsupported variant of its codec.")
	}
	if err := closeBufferSource(b.src, b.clock.end); err != nil {
		return fmt.Errorf("ffmpeg: share: flush filter graph: %w", err)
	}
	if err := b.pull(); err != nil {
		return err
	}
	if err := b.encode(nil); err != nil {
		return err
	}
	if b.frames == 0 {
		return shopclip.Errorf(shopclip.EMEDIADECODE, "The video yielded no frames.")
	}
	if b.decodeErrs > 0 {
		b.log.Warn("ffmpeg: share: the decoder rejected some of the video", "decode_errors", b.decodeErrs)
	}
	return m.finish()
}

// demux reads every packet: video packets are decoded and rendered, audio
// packets copied to the output.
func (b *burner) demux(ctx context.Context, frame *astiav.Frame) error {
	vidx, aidx := b.in.video.Index(), -1
	if b.in.audio != nil {
		aidx = b.in.audio.Index()
	}
	return readPackets(ctx, b.in.fc, b.log, ctx.Err, func(pkt *astiav.Packet) error {
		switch pkt.StreamIndex() {
		case vidx:
			err := decodePacket(b.dec, pkt, frame, &b.decodeErrs, b.filter)
			pkt.Unref()
			return err
		case aidx:
			// Copied as is: the same bytes, the same timestamps.
			pkt.SetStreamIndex(b.ast.Index())
			pkt.RescaleTs(b.in.audio.TimeBase(), b.ast.TimeBase())
			if err := b.mp4.write(pkt); err != nil {
				return err
			}
			b.audioPackets++
		default:
			pkt.Unref()
		}
		return nil
	})
}

// filter timestamps a decoded frame, pushes it into the filter graph
// (built from the first frame) and encodes what comes out.
func (b *burner) filter(f *astiav.Frame) error {
	if err := b.clock.stamp(f); err != nil {
		return err
	}
	if b.graph == nil {
		if err := b.buildGraph(f); err != nil {
			return err
		}
	}
	if err := pushFrame(b.src, f); err != nil {
		return err
	}
	return b.pull()
}

// buildGraph creates the filter graph for video frames like f, with one
// more source per card, each fed its single picture and closed.
func (b *burner) buildGraph(f *astiav.Frame) error {
	g := astiav.AllocFilterGraph()
	if g == nil {
		return allocError("filter graph")
	}
	b.free(g.Free)
	if n := b.cfg.Threads.Filter; n > 0 {
		g.SetThreadCount(n)
	}
	tb := b.clock.tb
	src, err := newBufferSource(g, transcode.FilterIn, f, tb)
	if err != nil {
		return err
	}
	sources := []graphPad{{transcode.FilterIn, src}}
	for i, card := range b.cards {
		cs, err := newBufferSource(g, transcode.ShareCardPad(i), card, tb)
		if err != nil {
			return err
		}
		sources = append(sources, graphPad{transcode.ShareCardPad(i), cs})
	}
	sink, err := g.NewFilterContext(astiav.FindFilterByName("buffersink"), transcode.FilterOut(0), nil)
	if err != nil {
		return fmt.Errorf("ffmpeg: share: create buffer sink: %w", err)
	}
	if err := configureGraph(g, b.plan.VideoFilter(), sources, []graphPad{{transcode.FilterOut(0), sink}}); err != nil {
		return err
	}
	for i, card := range b.cards {
		card.SetPts(0)
		cs := sources[i+1].ctx
		if err := cs.BuffersrcAddFrame(card, astiav.NewBuffersrcFlags(astiav.BuffersrcFlagKeepRef)); err != nil {
			return engineError(fmt.Errorf("ffmpeg: share: card %d: %w", i, err))
		}
		if err := closeBufferSource(cs, 0); err != nil {
			return engineError(fmt.Errorf("ffmpeg: share: card %d: %w", i, err))
		}
	}
	b.graph, b.src, b.sink = g, src, sink
	b.sinkTB = sink.Inputs()[0].TimeBase()
	return nil
}

// pull encodes every frame the graph has ready.
func (b *burner) pull() error {
	for {
		err := b.sink.BuffersinkGetFrame(b.filtered, astiav.NewBuffersinkFlags())
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			return engineError(fmt.Errorf("ffmpeg: share: filter graph output: %w", err))
		}
		err = b.encode(b.filtered)
		b.filtered.Unref()
		if err != nil {
			return err
		}
	}
}

// encode sends f (nil to flush) to the encoder, forcing a keyframe every
// keyframe interval of presentation time, and muxes the packets it returns.
// A frame whose timestamp does not increase (a damaged file) is dropped:
// the encoder would refuse it.
func (b *burner) encode(f *astiav.Frame) error {
	tb := b.clock.tb
	if f != nil {
		pts := f.Pts()
		if b.sinkTB != tb {
			pts = astiav.RescaleQ(pts, b.sinkTB, tb)
		}
		if b.lastPTS != astiav.NoPtsValue && pts <= b.lastPTS {
			return nil
		}
		b.lastPTS = pts
		f.SetPts(pts)
		ms := astiav.RescaleQ(pts, tb, astiav.NewRational(1, 1000))
		if interval := b.plan.Ladder.KeyframeIntervalMS; ms >= b.nextKey {
			f.SetPictureType(astiav.PictureTypeI)
			b.nextKey = (max(ms, 0)/interval + 1) * interval
		} else {
			f.SetPictureType(astiav.PictureTypeNone)
		}
		dropDisplayMatrix(f)
		b.frames++
		b.progress(ms)
	}
	if err := b.enc.SendFrame(f); err != nil {
		return engineError(fmt.Errorf("ffmpeg: share: encoder: send frame: %w", err))
	}
	for {
		err := b.enc.ReceivePacket(b.pkt)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ffmpeg: share: encoder: receive packet: %w", err)
		}
		if b.pkt.Duration() <= 0 {
			// The muxer ends the track with its last packet's duration.
			b.pkt.SetDuration(b.clock.frameDur)
		}
		b.pkt.SetStreamIndex(b.vst.Index())
		b.pkt.RescaleTs(tb, b.vst.TimeBase())
		if err := b.mp4.write(b.pkt); err != nil {
			return err
		}
	}
}

// progress sends a progress event at most four times a second.
func (b *burner) progress(ms int64) {
	if time.Since(b.lastProgress) < 250*time.Millisecond {
		return
	}
	b.lastProgress = time.Now()
	ev := transcode.Event{Kind: transcode.EventProgress, OutTimeMS: ms}
	if dur := b.in.probe.DurationMS; dur > 0 {
		ev.Progress, ev.DurationMS = min(0.99, max(0, float64(ms)/float64(dur))), dur
	}
	b.onEvent(ev)
}

// engineError maps an allocation or file-size failure that is not already
// a media error (the child's rlimits) to EMEDIALIMIT.
func engineError(err error) error {
	if err != nil && !shopclip.IsMediaError(shopclip.ErrorCode(err)) && isLimit(err) {
		return limitError(err)
	}
	return err
}
