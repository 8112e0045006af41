package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip/transcode"
)

// rungEncoder encodes one rendition with libx264 and muxes it, in its own
// goroutine.
type rungEncoder struct {
	ctx      context.Context
	rung     transcode.Rung
	enc      *astiav.CodecContext
	oc       *astiav.FormatContext
	st       *astiav.Stream
	tb       astiav.Rational // the frames' and the encoder's time base
	interval int64           // forced keyframe interval, ms
	nextKey  int64           // ms of the next forced keyframe
	frames   chan *astiav.Frame
	pool     chan *astiav.Frame
	count    int64
	codec    string // RFC 6381, from the encoder's SPS
	offset   int64  // added to output timestamps, µs (pipeline.outOffset)
}

// openRung opens rung i's encoder (frames arrive in time base tb) and muxer
// and fills its frame pool.
func (p *pipeline) openRung(i int, rung transcode.Rung, tb astiav.Rational) (*rungEncoder, error) {
	codec := astiav.FindEncoderByName(p.l.Codec)
	if codec == nil {
		return nil, fmt.Errorf("ffmpeg: encoder %s not found", p.l.Codec)
	}
	enc := astiav.AllocCodecContext(codec)
	if enc == nil {
		return nil, allocError("encoder")
	}
	p.onClose(enc.Free)
	enc.SetWidth(rung.Width)
	enc.SetHeight(rung.Height)
	enc.SetPixelFormat(astiav.FindPixelFormatByName(p.l.PixFmt))
	enc.SetSampleAspectRatio(astiav.NewRational(1, 1))
	enc.SetTimeBase(tb)
	enc.SetFramerate(astiav.NewRational(rung.FrameRate.Num, rung.FrameRate.Den))
	enc.SetFlags(enc.Flags().Add(astiav.CodecContextFlagGlobalHeader))

	// Keyframes are forced by time (like -force_key_frames
	// "expr:gte(t,n_forced*2)") with scene cuts off; the GOP cap only has to
	// stay out of their way.
	perInterval := int(float64(p.l.KeyframeIntervalMS) / 1000 * rung.FrameRate.Float())
	opts := map[string]string{
		"preset":       p.l.Preset,
		"profile":      p.l.Profile,
		"crf":          strconv.Itoa(p.l.CRF),
		"maxrate":      strconv.FormatInt(rung.MaxRate, 10),
		"bufsize":      strconv.FormatInt(rung.BufSize, 10),
		"forced-idr":   "1",
		"sc_threshold": "0",
		"g":            strconv.Itoa(max(250, 2*perInterval+1)),
		"color_range":  p.l.Color.Range,
	}
	if n := p.cfg.Threads.Encoder; n > 0 {
		opts["threads"] = strconv.Itoa(n)
	} else if n := encoderThreads(p.l.Rungs, i, runtime.NumCPU()); n > 0 {
		opts["threads"] = strconv.Itoa(n)
	}
	for k, v := range map[string]string{"color_primaries": p.l.Color.Primaries, "color_trc": p.l.Color.Transfer, "colorspace": p.l.Color.Space} {
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
		return nil, fmt.Errorf("ffmpeg: open %s encoder for %s: %w", p.l.Codec, rung.Name, err)
	}
	if err := unusedOptions("open "+rung.Name+" encoder", d); err != nil {
		return nil, err
	}
	codecStr, err := transcode.AVCCodec(enc.ExtraData())
	if err != nil {
		return nil, fmt.Errorf("ffmpeg: %s: %w", rung.Name, err)
	}
	oc, st, err := p.openMuxer(rung.Name, enc)
	if err != nil {
		return nil, err
	}
	r := &rungEncoder{
		ctx:      p.ctx,
		rung:     rung,
		enc:      enc,
		oc:       oc,
		st:       st,
		tb:       tb,
		interval: p.l.KeyframeIntervalMS,
		frames:   make(chan *astiav.Frame, videoQueue),
		pool:     make(chan *astiav.Frame, videoQueue+2),
		codec:    codecStr,
		offset:   p.outOffset,
	}
	for range cap(r.pool) {
		f := astiav.AllocFrame()
		p.onClose(f.Free)
		r.pool <- f
	}
	return r, nil
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
	if err := r.oc.WriteTrailer(); err != nil {
		if isLimit(err) {
			return limitError(err)
		}
		return fmt.Errorf("ffmpeg: %s muxer: write trailer: %w", r.rung.Name, err)
	}
	return nil
}

// encode sends f (nil to flush) to the encoder and muxes the packets it
// returns.
func (r *rungEncoder) encode(f *astiav.Frame, pkt *astiav.Packet) error {
	if f != nil {
		ms := astiav.RescaleQ(f.Pts(), r.tb, astiav.NewRational(1, 1000))
		if ms >= r.nextKey {
			f.SetPictureType(astiav.PictureTypeI)
			r.nextKey = (ms/r.interval + 1) * r.interval
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
		pkt.SetStreamIndex(r.st.Index())
		if pkt.Duration() <= 0 {
			pkt.SetDuration(1)
		}
		pkt.RescaleTs(r.tb, r.st.TimeBase())
		shift(pkt, r.offset, r.st.TimeBase())
		if err := r.oc.WriteInterleavedFrame(pkt); err != nil {
			pkt.Unref()
			if isLimit(err) {
				return limitError(err)
			}
			return fmt.Errorf("ffmpeg: %s muxer: write packet: %w", r.rung.Name, err)
		}
	}
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
