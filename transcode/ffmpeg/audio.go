package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/transcode"
)

// audioPipe decodes the audio stream, resamples it to 48 kHz stereo fltp
// (downmixing surround, duplicating mono) in frames of 1024 samples,
// encodes AAC-LC and muxes the audio rendition, in its own goroutine.
type audioPipe struct {
	plan      *transcode.AudioPlan
	maxMS     int64
	dec       *astiav.CodecContext
	enc       *astiav.CodecContext
	seg       *segmenter
	sched     transcode.Schedule
	segment   int // the schedule's index of the segment being muxed
	src       *astiav.FilterContext
	sink      *astiav.FilterContext
	inTB      astiav.Rational
	offset    int64 // subtracted from input timestamps (input time base)
	outTB     astiav.Rational
	packets   chan *astiav.Packet
	pool      chan *astiav.Packet
	encoded   int64
	outOffset int64 // added to output timestamps, µs (pipeline.outOffset)
}

func (p *pipeline) openAudio() (*audioPipe, error) {
	ist := p.in.audio
	cp := ist.CodecParameters()
	a := &audioPipe{plan: p.l.Audio, maxMS: p.l.MaxDurationMS, inTB: ist.TimeBase(), outOffset: p.outOffset, sched: p.l.Schedule()}
	a.offset = astiav.RescaleQ(startTime(p.in), astiav.NewRational(1, 1_000_000), a.inTB)

	codec := astiav.FindDecoder(cp.CodecID())
	if codec == nil {
		return nil, shopclip.Errorf(shopclip.EMEDIACODEC, "The sound codec %s cannot be decoded here.", codecName(cp.CodecID()))
	}
	a.dec = astiav.AllocCodecContext(codec)
	if a.dec == nil {
		return nil, allocError("audio decoder")
	}
	p.onClose(a.dec.Free)
	if err := cp.ToCodecContext(a.dec); err != nil {
		return nil, fmt.Errorf("ffmpeg: audio decoder parameters: %w", err)
	}
	d := astiav.NewDictionary()
	defer d.Free()
	if err := setAll(d, map[string]string{"codec_whitelist": codec.Name(), "threads": "1"}); err != nil {
		return nil, err
	}
	if err := a.dec.Open(codec, d); err != nil {
		if isLimit(err) || errors.Is(err, astiav.ErrEagain) {
			return nil, limitError(err)
		}
		return nil, shopclip.Errorf(shopclip.EMEDIAAUDIO, "The sound decoder (%s) refused the stream: %s.", codec.Name(), err)
	}
	if err := unusedOptions("open audio decoder", d); err != nil {
		return nil, err
	}

	if err := a.openGraph(p); err != nil {
		return nil, err
	}

	enc := astiav.FindEncoderByName(a.plan.Codec)
	if enc == nil {
		return nil, fmt.Errorf("ffmpeg: encoder %s not found", a.plan.Codec)
	}
	a.enc = astiav.AllocCodecContext(enc)
	if a.enc == nil {
		return nil, allocError("audio encoder")
	}
	p.onClose(a.enc.Free)
	a.enc.SetSampleFormat(astiav.SampleFormatFltp)
	a.enc.SetSampleRate(a.plan.SampleRate)
	a.enc.SetChannelLayout(astiav.ChannelLayoutStereo)
	a.enc.SetBitRate(a.plan.Bitrate)
	a.enc.SetTimeBase(a.outTB)
	a.enc.SetFlags(a.enc.Flags().Add(astiav.CodecContextFlagGlobalHeader))
	ed := astiav.NewDictionary()
	defer ed.Free()
	if err := setAll(ed, map[string]string{"profile": "aac_low"}); err != nil {
		return nil, err
	}
	if err := a.enc.Open(enc, ed); err != nil {
		return nil, fmt.Errorf("ffmpeg: open audio encoder: %w", err)
	}
	if err := unusedOptions("open audio encoder", ed); err != nil {
		return nil, err
	}
	seg, err := p.openSegmenter(a.plan.Name, a.enc, "")
	if err != nil {
		return nil, err
	}
	a.seg = seg

	a.packets = make(chan *astiav.Packet, audioQueue)
	a.pool = make(chan *astiav.Packet, audioQueue+1)
	for range cap(a.pool) {
		pkt := astiav.AllocPacket()
		p.onClose(pkt.Free)
		a.pool <- pkt
	}
	return a, nil
}

// openGraph builds abuffer → aresample → aformat → asetnsamples → sink.
func (a *audioPipe) openGraph(p *pipeline) error {
	g := astiav.AllocFilterGraph()
	if g == nil {
		return allocError("audio filter graph")
	}
	p.onClose(g.Free)
	layout, err := layoutDescribe(a.dec)
	if err != nil {
		return fmt.Errorf("ffmpeg: audio channel layout: %w", err)
	}
	sr := a.dec.SampleRate()
	src, err := g.NewFilterContext(astiav.FindFilterByName("abuffer"), "src", astiav.FilterArgs{
		"time_base":      a.inTB.String(),
		"sample_rate":    strconv.Itoa(sr),
		"sample_fmt":     a.dec.SampleFormat().Name(),
		"channel_layout": layout,
	})
	if err != nil {
		return shopclip.Errorf(shopclip.EMEDIAAUDIO, "The sound format (%d Hz, %s, %s) cannot be processed: %s.", sr, a.dec.SampleFormat().Name(), layout, err)
	}
	sink, err := g.NewFilterContext(astiav.FindFilterByName("abuffersink"), "sink", nil)
	if err != nil {
		return fmt.Errorf("ffmpeg: create audio sink: %w", err)
	}
	outputs := astiav.AllocFilterInOut()
	defer outputs.Free()
	outputs.SetName("in")
	outputs.SetFilterContext(src)
	outputs.SetPadIdx(0)
	outputs.SetNext(nil)
	inputs := astiav.AllocFilterInOut()
	defer inputs.Free()
	inputs.SetName("out")
	inputs.SetFilterContext(sink)
	inputs.SetPadIdx(0)
	inputs.SetNext(nil)
	desc := fmt.Sprintf("[in]aresample=%d:async=1:first_pts=0,aformat=sample_fmts=fltp:sample_rates=%d:channel_layouts=stereo,asetnsamples=n=1024:p=0[out]",
		a.plan.SampleRate, a.plan.SampleRate)
	if err := g.Parse(desc, inputs, outputs); err != nil {
		return fmt.Errorf("ffmpeg: parse audio filter graph %q: %w", desc, err)
	}
	if err := g.Configure(); err != nil {
		return fmt.Errorf("ffmpeg: configure audio filter graph %q: %w", desc, err)
	}
	a.src, a.sink = src, sink
	a.outTB = sink.Inputs()[0].TimeBase()
	return nil
}

// send hands a copy of pkt (by reference) to the audio goroutine and
// unreferences pkt.
func (a *audioPipe) send(ctx context.Context, pkt *astiav.Packet) error {
	var q *astiav.Packet
	select {
	case q = <-a.pool:
	case <-ctx.Done():
		return ctx.Err()
	}
	q.MoveRef(pkt)
	select {
	case a.packets <- q:
		return nil
	case <-ctx.Done():
		q.Unref()
		a.pool <- q
		return ctx.Err()
	}
}

func (a *audioPipe) run(ctx context.Context) error {
	frame := astiav.AllocFrame()
	defer frame.Free()
	filtered := astiav.AllocFrame()
	defer filtered.Free()
	out := astiav.AllocPacket()
	defer out.Free()
	for {
		var pkt *astiav.Packet
		var ok bool
		select {
		case pkt, ok = <-a.packets:
		case <-ctx.Done():
			return nil // the pipeline records why
		}
		if !ok {
			break
		}
		err := a.decode(pkt, frame, filtered, out)
		pkt.Unref()
		a.pool <- pkt
		if err != nil {
			return err
		}
	}
	if err := a.decode(nil, frame, filtered, out); err != nil {
		return err
	}
	if err := a.src.BuffersrcAddFrame(nil, astiav.NewBuffersrcFlags()); err != nil {
		return fmt.Errorf("ffmpeg: flush audio filter graph: %w", err)
	}
	if err := a.drain(filtered, out); err != nil {
		return err
	}
	if err := a.encode(nil, out); err != nil {
		return err
	}
	return a.seg.finish()
}

// decode sends pkt (nil to flush) to the decoder and filters what it
// returns. Undecodable audio packets are skipped: a glitch in the sound must
// not sink the clip.
func (a *audioPipe) decode(pkt *astiav.Packet, frame, filtered *astiav.Frame, out *astiav.Packet) error {
	var skipped int
	return decodePacket(a.dec, pkt, frame, &skipped, func(frame *astiav.Frame) error {
		pts := bestEffortTimestamp(frame)
		if pts != astiav.NoPtsValue {
			pts -= a.offset
			if ms := astiav.RescaleQ(pts, a.inTB, astiav.NewRational(1, 1000)); ms > a.maxMS+1000 {
				return shopclip.Errorf(shopclip.EMEDIADURATION,
					"The sound runs past the longest accepted duration (%s).", time.Duration(a.maxMS)*time.Millisecond)
			}
		}
		frame.SetPts(pts)
		if err := a.src.BuffersrcAddFrame(frame, astiav.NewBuffersrcFlags(astiav.BuffersrcFlagKeepRef)); err != nil {
			if isLimit(err) {
				return limitError(err)
			}
			return shopclip.Errorf(shopclip.EMEDIAAUDIO, "The sound changes its format mid-stream in a way that cannot be processed (%s).", err)
		}
		return a.drain(filtered, out)
	})
}

// drain encodes every frame the audio graph has ready.
func (a *audioPipe) drain(filtered *astiav.Frame, out *astiav.Packet) error {
	for {
		err := a.sink.BuffersinkGetFrame(filtered, astiav.NewBuffersinkFlags())
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ffmpeg: audio filter graph: %w", err)
		}
		err = a.encode(filtered, out)
		filtered.Unref()
		if err != nil {
			return err
		}
	}
}

func (a *audioPipe) encode(f *astiav.Frame, pkt *astiav.Packet) error {
	if err := a.enc.SendFrame(f); err != nil {
		if isLimit(err) {
			return limitError(err)
		}
		return fmt.Errorf("ffmpeg: audio encoder: send frame: %w", err)
	}
	if f != nil {
		a.encoded++
	}
	for {
		err := a.enc.ReceivePacket(pkt)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ffmpeg: audio encoder: receive packet: %w", err)
		}
		pkt.SetStreamIndex(a.seg.st.Index())
		pkt.RescaleTs(a.outTB, a.seg.st.TimeBase())
		shift(pkt, a.outOffset, a.seg.st.TimeBase())
		// Audio is cut at the first packet of a new segment of the
		// schedule, by its time since the first packet (as the hls muxer
		// cuts it): within a packet (21 ms) of the video's cuts.
		cut := false
		if i := a.sched.Segment(a.seg.sinceStartMS(pkt.Pts())); i > a.segment {
			cut, a.segment = true, i
		}
		err = a.seg.write(pkt, cut)
		pkt.Unref()
		if err != nil {
			return err
		}
	}
}
