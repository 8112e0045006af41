package main

import (
	"context"
	"path"
	"strings"

	"github.com/shopclip/shopclip"

	"github.com/shopclip/shopclip/transcode"
	"github.com/shopclip/shopclip/transcode/ffmpeg"
	"github.com/shopclip/shopclip/workers"
)

// runnerTranscoder adapts transcode.Runner, which runs each transcode in a
// sandboxed child process, to the workers' Transcoder.
type runnerTranscoder struct{ r *transcode.Runner }

func (t runnerTranscoder) Transcode(ctx context.Context, job workers.TranscodeJob) (*workers.TranscodeResult, error) {
	var probe *transcode.Probe
	announced := map[string]bool{} // files announced so far (events come in order)
	rep, err := t.r.Run(ctx, transcode.Job{
		Input:  job.Input,
		OutDir: job.OutDir,
		OnEvent: func(e transcode.Event) {
			switch e.Kind {
			case transcode.EventProbe:
				probe = e.Probe
			case transcode.EventProgress:
				if job.Progress != nil {
					job.Progress(e.Progress)
				}
			case transcode.EventFile:
				if job.File == nil {
					return
				}
				if !strings.HasSuffix(e.Path, ".m3u8") {
					announced[e.Path] = true
					job.File(e.Path, nil)
					return
				}
				body, err := playlistSnapshot(job.OutDir, e.Path, announced)
				if err != nil {
					t.r.Logger.WarnContext(ctx, "transcode: read an in-progress playlist", "path", e.Path, "err", err)
					return
				}
				job.File(e.Path, body)
			case transcode.EventPlayable:
				if job.Playable == nil {
					return
				}
				p, err := playable(job.OutDir, e.Path, probe)
				if err != nil {
					t.r.Logger.WarnContext(ctx, "transcode: read the provisional master playlist", "err", err)
					return
				}
				job.Playable(p)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	return &workers.TranscodeResult{DurationMS: rep.DurationMS, Width: rep.Width, Height: rep.Height, Renditions: rep.Renditions}, nil
}

// playlistSnapshot reads the in-progress media playlist rel and trims it to
// the segments already announced: the child may have rewritten it to list a
// segment whose own event is still in the pipe, and a playlist must never be
// published ahead of its segments.
func playlistSnapshot(outDir, rel string, announced map[string]bool) ([]byte, error) {
	b, err := transcode.ReadOutput(outDir, rel)
	if err != nil {
		return nil, err
	}
	pl, err := transcode.ParseMediaPlaylist(b)
	if err != nil {
		return nil, err
	}
	dir := path.Dir(rel)
	n := 0
	for _, seg := range pl.Segments {
		if !announced[path.Join(dir, seg.URI)] {
			break
		}
		n++
	}
	if n == len(pl.Segments) {
		return b, nil
	}
	pl.Segments = pl.Segments[:n]
	return pl.Marshal()
}

// playable describes the stream the provisional master playlist (rel, in
// outDir) announces.
func playable(outDir, rel string, probe *transcode.Probe) (workers.Playable, error) {
	var p workers.Playable
	b, err := transcode.ReadOutput(outDir, rel)
	if err != nil {
		return p, err
	}
	m, err := transcode.ParseMasterPlaylist(b)
	if err != nil {
		return p, err
	}
	for _, v := range m.Variants {
		p.Renditions = append(p.Renditions, shopclip.Rendition{
			Name: path.Dir(v.URI), Width: v.Width, Height: v.Height, Bandwidth: v.Bandwidth, Codecs: v.Codecs,
		})
	}
	if probe != nil {
		p.DurationMS = probe.DurationMS
		if probe.Video != nil {
			p.Width, p.Height = probe.Video.Width, probe.Video.Height
		}
	}
	return p, nil
}

// Share runs a share render in a sandboxed child process too.
func (t runnerTranscoder) Share(ctx context.Context, job workers.ShareJob) error {
	spec := transcode.ShareSpec{Overlays: make([]transcode.Overlay, len(job.Overlays))}
	for i, o := range job.Overlays {
		spec.Overlays[i] = transcode.Overlay{Image: o.Image, X: o.X, Y: o.Y, Width: o.Width, StartMS: o.StartMS, EndMS: o.EndMS}
	}
	_, err := t.r.Share(ctx, job.Dir, job.Input, job.Output, spec)
	return err
}

// transcoder builds the workers' transcoder, which also renders share
// MP4s, from the configuration.
func (m *Main) transcoder() (runnerTranscoder, error) {
	cfg := m.Config.Transcode.Engine()
	if err := cfg.Validate(); err != nil {
		return runnerTranscoder{}, err
	}
	// A codec whose encoder this FFmpeg build lacks fails here, at start,
	// not on every clip.
	if err := ffmpeg.CheckEncoders(cfg); err != nil {
		return runnerTranscoder{}, err
	}
	return runnerTranscoder{&transcode.Runner{
		Command: m.TranscodeCommand,
		Config:  cfg,
		Logger:  m.logger().With("component", "transcode"),
		Sandbox: m.Config.Transcode.Isolation(),
		// The child's start-up (loading FFmpeg's libraries, the sandbox)
		// is off an upload's way to playable: one child waits for it.
		Prestart: true,
		// And the memory its job will first allocate is faulted in while
		// it waits.
		WarmMemory: m.Config.Transcode.WarmMemory(),
	}}, nil
}
