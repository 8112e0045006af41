package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/transcode"
)

// Transcode runs the whole engine in this process: it probes in (an
// absolute local path), plans the ladder, decodes the video once through one
// filter graph (orientation, tone-mapping, constant frame rate, a split into
// per-rung scale + yuv420p), encodes the rungs with libx264 concurrently (a
// goroutine each), encodes the audio to AAC, muxes each rendition to HLS
// fMP4 in outDir, takes the poster, and writes the playlists (see the
// transcode package for the layout).
//
// onEvent, which may be nil, receives the events (transcode.Event): the
// probe, progress, and the files of each rendition as they are made, so
// they can be published before the ladder is done. It is called from the
// engine's goroutines, one call at a time, in the order the events happen;
// it must not block for long, since it holds up the rendition that made the
// event. When it is called for a file, the file is complete on disk.
//
// It is meant for the child process (ChildMain): a crash in FFmpeg kills the
// calling process. On failure it returns the report so far with Error set,
// and an error that carries a media code (shopclip.ErrorCode) when the input
// is to blame; the files it made are removed.
func Transcode(ctx context.Context, in, outDir string, c transcode.Config, onEvent func(transcode.Event)) (*transcode.Report, error) {
	start := time.Now()
	rep := &transcode.Report{Input: in, Timings: map[string]int64{}}
	fail := func(err error) (*transcode.Report, error) {
		err = engineError(err) // an allocation failed: the child's memory limit
		rep.Timings["total"] = time.Since(start).Milliseconds()
		rep.Error = reportError(err)
		return rep, err
	}
	if err := c.Validate(); err != nil {
		return fail(err)
	}
	if err := CheckEncoders(c); err != nil {
		return fail(err)
	}
	c = c.WithDefaults()
	if onEvent == nil {
		onEvent = func(transcode.Event) {}
	}
	var eventMu sync.Mutex
	send := onEvent
	onEvent = func(ev transcode.Event) {
		eventMu.Lock()
		defer eventMu.Unlock()
		send(ev)
	}
	if !filepath.IsAbs(outDir) {
		return fail(fmt.Errorf("ffmpeg: out dir %q is not an absolute path", outDir))
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fail(fmt.Errorf("ffmpeg: create out dir: %w", err))
	}
	ensureLogging()
	log := logger()

	in0, err := openInput(ctx, in, c.Limits)
	if err != nil {
		return fail(err)
	}
	defer in0.Close()
	rep.Probe = in0.probe
	ladder, err := transcode.Plan(*in0.probe, c)
	if err != nil {
		return fail(err)
	}
	rep.Ladder = ladder
	rep.Width, rep.Height = ladder.Width, ladder.Height
	rep.Timings["probe"] = time.Since(start).Milliseconds()
	onEvent(transcode.Event{Kind: transcode.EventProbe, DurationMS: in0.probe.DurationMS, Probe: in0.probe})

	if err := removeOutputs(outDir, ladder); err != nil {
		return fail(err)
	}
	if c.ContentAware {
		if err := adaptLadder(ctx, in, ladder, c, rep, log); err != nil {
			return fail(err)
		}
	}
	t := time.Now()
	p := &pipeline{
		log:     log,
		cfg:     c,
		l:       ladder,
		in:      in0,
		outDir:  outDir,
		onEvent: onEvent,
	}
	res, err := p.run(ctx)
	rep.Timings["transcode"] = time.Since(t).Milliseconds()
	if err != nil {
		if rmErr := removeOutputs(outDir, ladder); rmErr != nil {
			log.Warn("ffmpeg: remove partial outputs", "error", rmErr)
		}
		return fail(err)
	}
	rep.Frames = res.frames
	rep.DecodeErrors = res.decodeErrors
	if !res.audio && ladder.Audio != nil {
		log.Warn("ffmpeg: the audio track yielded no sound; the clip is published without audio")
		ladder.Audio = nil
		_ = os.RemoveAll(filepath.Join(outDir, transcode.AudioName))
	}

	t = time.Now()
	if res.poster {
		rep.Poster = transcode.PosterName
	}
	rep.Timings["poster"] = res.posterMS

	renditions, dur, err := transcode.WritePlaylists(outDir, ladder, res.codecs)
	if err != nil {
		_ = removeOutputs(outDir, ladder)
		return fail(err)
	}
	rep.Renditions = renditions
	rep.DurationMS = dur.Milliseconds()
	rep.Master = transcode.MasterName
	rep.Timings["playlists"] = time.Since(t).Milliseconds()

	if sb := ladder.Storyboard; sb != nil && res.thumbs > 0 {
		vtt, err := sb.VTT(res.thumbs, dur)
		if err == nil {
			err = os.WriteFile(filepath.Join(outDir, sb.Index), vtt, 0o644)
		}
		if err != nil {
			_ = removeOutputs(outDir, ladder)
			return fail(fmt.Errorf("ffmpeg: storyboard index: %w", err))
		}
		rep.Storyboard = sb.Index
	}
	if ladder.MP4 != nil {
		t = time.Now()
		if err := writeMP4(ctx, outDir, ladder); err != nil {
			_ = removeOutputs(outDir, ladder)
			return fail(err)
		}
		rep.MP4 = ladder.MP4.Name
		rep.Timings["mp4"] = time.Since(t).Milliseconds()
	}
	if rep.Outputs, err = transcode.ListOutputs(outDir); err != nil {
		return fail(err)
	}
	rep.Timings["total"] = time.Since(start).Milliseconds()
	onEvent(transcode.Event{Kind: transcode.EventProgress, Progress: 1, OutTimeMS: rep.DurationMS, DurationMS: rep.DurationMS})
	return rep, nil
}

// reportError turns err into the report's error: the media error it
// carries, or EINTERNAL with err's text (the report goes to the parent
// process, not to users).
func reportError(err error) *shopclip.Error {
	var e *shopclip.Error
	if errors.As(err, &e) {
		return e
	}
	return &shopclip.Error{Code: shopclip.EINTERNAL, Message: err.Error()}
}

// removeOutputs deletes what a transcode of l writes into outDir, so a retry
// starts clean and a failure leaves nothing half-made. Other files are left
// alone.
func removeOutputs(outDir string, l *transcode.Ladder) error {
	names := []string{transcode.MasterName, transcode.PosterName, transcode.AudioName,
		transcode.MP4Name, transcode.StoryboardJPEG, transcode.StoryboardVTT}
	for _, r := range l.VideoRungs() {
		names = append(names, r.Name)
	}
	var errs []error
	for _, n := range names {
		if err := os.RemoveAll(filepath.Join(outDir, n)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ffmpeg: clean out dir: %w", err)
	}
	return nil
}

// ensureLogging routes libav's messages to slog.Default() unless SetLogger
// chose a logger already.
func ensureLogging() {
	avlog.mu.Lock()
	set := avlog.logger != nil
	avlog.mu.Unlock()
	if !set {
		SetLogger(slog.Default())
	}
}

func logger() *slog.Logger {
	avlog.mu.Lock()
	defer avlog.mu.Unlock()
	if avlog.logger != nil {
		return avlog.logger
	}
	return slog.Default()
}
