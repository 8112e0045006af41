package main

import (
	"context"

	"github.com/shopclip/shopclip/transcode"
	"github.com/shopclip/shopclip/workers"
)

// runnerTranscoder adapts transcode.Runner, which runs each transcode in a
// sandboxed child process, to the workers' Transcoder.
type runnerTranscoder struct{ r *transcode.Runner }

func (t runnerTranscoder) Transcode(ctx context.Context, job workers.TranscodeJob) (*workers.TranscodeResult, error) {
	rep, err := t.r.Run(ctx, transcode.Job{
		Input:  job.Input,
		OutDir: job.OutDir,
		OnEvent: func(e transcode.Event) {
			if e.Kind == transcode.EventProgress && job.Progress != nil {
				job.Progress(e.Progress)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	return &workers.TranscodeResult{DurationMS: rep.DurationMS, Width: rep.Width, Height: rep.Height, Renditions: rep.Renditions}, nil
}

// transcoder builds the workers' transcoder from the configuration.
func (m *Main) transcoder() (workers.Transcoder, error) {
	cfg := m.Config.Transcode.Engine()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return runnerTranscoder{&transcode.Runner{
		Command: m.TranscodeCommand,
		Config:  cfg,
		Logger:  m.logger().With("component", "transcode"),
	}}, nil
}
