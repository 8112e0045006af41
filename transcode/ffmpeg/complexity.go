package ffmpeg

/*
#include <stdlib.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>

static const char *shopclip_frame_meta(AVFrame *f, const char *key) {
	AVDictionaryEntry *e = av_dict_get(f->metadata, key, NULL, 0);
	return e ? e->value : NULL;
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip/transcode"
)

// frameMeta returns the value of f's metadata entry key (a filter's
// figures, such as "lavfi.ssim.All").
func frameMeta(f *astiav.Frame, key string) (float64, bool) {
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	v := C.shopclip_frame_meta(cFrame(f), ck)
	if v == nil {
		return 0, false
	}
	x, err := strconv.ParseFloat(C.GoString(v), 64)
	return x, err == nil
}

// adaptLadder makes l content-aware (Config.ContentAware): it analyses the
// start of the input at path and adapts l to it (Ladder.Adapt), recording
// the time taken in rep's "analyze" timing. An analysis that fails for
// any reason but ctx's end is logged and leaves the fixed ladder (l.Adapt
// of nothing, so the report still says the analysis ran and saw nothing).
func adaptLadder(ctx context.Context, path string, l *transcode.Ladder, c transcode.Config, rep *transcode.Report, log *slog.Logger) error {
	t := time.Now()
	cx, err := analyzeComplexity(ctx, path, l, c)
	rep.Timings["analyze"] = time.Since(t).Milliseconds()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("ffmpeg: transcode: %w", ctx.Err())
		}
		log.Warn("ffmpeg: complexity analysis failed; the fixed ladder is used", "error", err)
		cx = transcode.Complexity{}
	}
	l.Adapt(cx)
	return nil
}

// errWindowDone stops the analysis's packet loop once its window is full.
var errWindowDone = errors.New("ffmpeg: complexity window done")

// analyzeComplexity measures the content of the first second of the input
// at path (at most transcode.ComplexityFrames frames) for content-aware
// rungs: it opens the input a second time, decodes the video from the
// start and runs the frames through l's analysis graph
// (Ladder.ComplexityFilter). It touches nothing of the transcode's own
// input, decoder or graph. A zero Complexity with an error means the
// analysis failed; the caller transcodes with the fixed ladder then.
func analyzeComplexity(ctx context.Context, path string, l *transcode.Ladder, c transcode.Config) (transcode.Complexity, error) {
	var cx transcode.Complexity
	in, err := openInput(ctx, path, c.Limits)
	if err != nil {
		return cx, err
	}
	defer in.Close()
	dec, err := openVideoDecoder(in.video, c)
	if err != nil {
		return cx, err
	}
	defer dec.Free()

	a := &analysis{l: l, cfg: c, tb: in.video.TimeBase(), first: astiav.NoPtsValue}
	defer a.free()
	frame := astiav.AllocFrame()
	if frame == nil {
		return cx, allocError("frame")
	}
	defer frame.Free()
	var decodeErrs int
	vidx := in.video.Index()
	err = readPackets(ctx, in.fc, logger(), ctx.Err, func(pkt *astiav.Packet) error {
		defer pkt.Unref()
		if pkt.StreamIndex() != vidx {
			return nil
		}
		return decodePacket(dec, pkt, frame, &decodeErrs, a.push)
	})
	if err == nil {
		err = decodePacket(dec, nil, frame, &decodeErrs, a.push)
	}
	if err != nil && !errors.Is(err, errWindowDone) {
		return transcode.Complexity{}, err
	}
	if err := a.finish(); err != nil {
		return transcode.Complexity{}, err
	}
	return a.result(), nil
}

// analysis is the state of one complexity analysis: its graph (built at
// the first frame) and the sums of the figures it reads.
type analysis struct {
	l     *transcode.Ladder
	cfg   transcode.Config
	tb    astiav.Rational
	first int64 // the first frame's timestamp
	n     int64 // frames pushed

	graph *astiav.FilterGraph
	src   *astiav.FilterContext
	siti  *astiav.FilterContext
	ssim  []*astiav.FilterContext
	out   *astiav.Frame

	si, ti           float64
	siCount, tiCount int
	detail           []float64
	detailCount      []int
}

func (a *analysis) free() {
	if a.out != nil {
		a.out.Free()
	}
	if a.graph != nil {
		a.graph.Free()
	}
}

// push takes one decoded frame into the analysis, and ends it with
// errWindowDone when the window is full.
func (a *analysis) push(f *astiav.Frame) error {
	pts := bestEffortTimestamp(f)
	if pts != astiav.NoPtsValue && a.first == astiav.NoPtsValue {
		a.first = pts
	}
	if pts != astiav.NoPtsValue {
		ms := astiav.RescaleQ(pts-a.first, a.tb, astiav.NewRational(1, 1000))
		if ms >= transcode.ComplexityMaxMS || ms >= transcode.ComplexityWindowMS && a.n >= transcode.ComplexityMinFrames {
			return errWindowDone
		}
	}
	if a.graph == nil {
		if err := a.build(f); err != nil {
			return err
		}
	}
	// The graph's figures need frames in order, not their times.
	f.SetPts(a.n)
	a.n++
	if err := pushFrame(a.src, f); err != nil {
		return err
	}
	if err := a.pull(); err != nil {
		return err
	}
	if a.n >= transcode.ComplexityFrames {
		return errWindowDone
	}
	return nil
}

// build creates the analysis graph for frames like f.
func (a *analysis) build(f *astiav.Frame) error {
	g := astiav.AllocFilterGraph()
	if g == nil {
		return allocError("filter graph")
	}
	a.graph = g
	if n := a.cfg.Threads.Filter; n > 0 {
		g.SetThreadCount(n)
	}
	src, err := newBufferSource(g, "src", f, astiav.NewRational(1, 30))
	if err != nil {
		return err
	}
	sink := func(name string) (*astiav.FilterContext, error) {
		s, err := g.NewFilterContext(astiav.FindFilterByName("buffersink"), name, nil)
		if err != nil {
			return nil, fmt.Errorf("ffmpeg: create buffer sink: %w", err)
		}
		return s, nil
	}
	if a.siti, err = sink(transcode.ComplexitySITI); err != nil {
		return err
	}
	pads := []graphPad{{transcode.ComplexitySITI, a.siti}}
	for i := range len(a.l.Rungs) - 1 {
		s, err := sink(transcode.ComplexityDetail(i))
		if err != nil {
			return err
		}
		a.ssim = append(a.ssim, s)
		pads = append(pads, graphPad{transcode.ComplexityDetail(i), s})
	}
	a.detail = make([]float64, len(a.ssim))
	a.detailCount = make([]int, len(a.ssim))
	if err := configureGraph(g, a.l.ComplexityFilter(), []graphPad{{transcode.FilterIn, src}}, pads); err != nil {
		return err
	}
	a.src = src
	if a.out = astiav.AllocFrame(); a.out == nil {
		return allocError("frame")
	}
	return nil
}

// pull reads the figures of every frame the graph has ready.
func (a *analysis) pull() error {
	read := func(sink *astiav.FilterContext, each func()) error {
		for {
			err := sink.BuffersinkGetFrame(a.out, astiav.NewBuffersinkFlags())
			if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
				return nil
			}
			if err != nil {
				if isLimit(err) {
					return limitError(err)
				}
				return fmt.Errorf("ffmpeg: complexity graph output: %w", err)
			}
			each()
			a.out.Unref()
		}
	}
	err := read(a.siti, func() {
		if v, ok := frameMeta(a.out, "lavfi.siti.si"); ok {
			a.si += v
			a.siCount++
		}
		// The first frame has no predecessor: its TI is 0 by definition.
		if v, ok := frameMeta(a.out, "lavfi.siti.ti"); ok && a.siCount > 1 {
			a.ti += v
			a.tiCount++
		}
	})
	if err != nil {
		return err
	}
	for i, s := range a.ssim {
		if err := read(s, func() {
			if v, ok := frameMeta(a.out, "lavfi.ssim.All"); ok {
				a.detail[i] += v
				a.detailCount[i]++
			}
		}); err != nil {
			return err
		}
	}
	return nil
}

// finish drains the graph.
func (a *analysis) finish() error {
	if a.graph == nil {
		return nil
	}
	if err := closeBufferSource(a.src, a.n); err != nil {
		return fmt.Errorf("ffmpeg: flush complexity graph: %w", err)
	}
	return a.pull()
}

// result returns the means of what the graph measured.
func (a *analysis) result() transcode.Complexity {
	cx := transcode.Complexity{Frames: a.siCount}
	if a.siCount > 0 {
		cx.SI = a.si / float64(a.siCount)
	}
	if a.tiCount > 0 {
		cx.TI = a.ti / float64(a.tiCount)
	}
	for i := range a.detail {
		if a.detailCount[i] == 0 {
			// A pair with no figure cannot justify dropping a rung.
			return transcode.Complexity{Frames: cx.Frames, SI: cx.SI, TI: cx.TI}
		}
		cx.Detail = append(cx.Detail, a.detail[i]/float64(a.detailCount[i]))
	}
	return cx
}
