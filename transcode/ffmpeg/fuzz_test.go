package ffmpeg

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/transcode"
)

// fuzzConfig keeps each fuzzed transcode short: one tiny rung, the fastest
// preset, no MP4 or storyboard, at most 10 s of input.
var fuzzConfig = transcode.Config{
	Rungs:        []transcode.RungConfig{{ShortSide: 32, MaxRate: 200_000}},
	Preset:       "ultrafast",
	NoMP4:        true,
	NoStoryboard: true,
	Limits:       transcode.InputLimits{MaxDuration: 10 * time.Second},
}

// fuzzSeeds generates tiny valid files, a few frames each, in every
// accepted container, with the codecs admitted for editing-suite and
// older-gear sources and the usual phone ones, into dir.
func fuzzSeeds(f *testing.F, dir string) []string {
	p := func(name string) string { return filepath.Join(dir, name) }
	tiny := []string{"-f", "lavfi", "-i", "testsrc=s=32x32:r=25:d=0.2", "-f", "lavfi", "-i", "sine=d=0.2:sample_rate=48000"}
	paths := []string{
		generate(f, append(tiny, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", p("h264.mp4"))...),
		generate(f, append(tiny, "-c:v", "libvpx-vp9", "-deadline", "realtime", "-c:a", "libopus", p("vp9.webm"))...),
		generate(f, append(tiny, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", p("h264.ts"))...),
		generate(f, append(tiny, "-c:v", "prores_ks", "-profile:v", "2", "-pix_fmt", "yuv422p10le", "-c:a", "pcm_s24le", p("prores.mov"))...),
		generate(f, "-f", "lavfi", "-i", "testsrc=s=256x120:r=25:d=0.04", "-f", "lavfi", "-i", "sine=d=0.04",
			"-c:v", "dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p", "-c:a", "pcm_s16be", p("dnxhr.mov")),
		generate(f, append(tiny, "-c:v", "mpeg2video", "-flags", "+ildct+ilme", "-top", "1", "-c:a", "mp2", "-f", "mpegts", p("mpeg2.ts"))...),
		generate(f, append(tiny, "-c:v", "mpeg2video", "-c:a", "mp2", "-f", "vob", p("mpeg2.mpg"))...),
		generate(f, append(tiny, "-c:v", "mpeg1video", "-c:a", "mp2", "-f", "mpeg", p("mpeg1.mpg"))...),
		generate(f, append(tiny, "-c:v", "mjpeg", "-pix_fmt", "yuvj422p", "-c:a", "pcm_s16le", p("mjpeg.avi"))...),
	}
	gab2AVI := p("gab2.avi")
	srt := "1\n00:00:00,000 --> 00:00:01,000\nSale ends Sunday\n\n"
	if err := os.WriteFile(gab2AVI, buildAVI(f, aviFile{w: 32, h: 32, fps: 10, frames: 3, sub: gab2("English", []byte(srt))}), 0o644); err != nil {
		f.Fatal(err)
	}
	return append(paths, gab2AVI)
}

// FuzzTranscode mutates tiny valid files of every accepted container and
// codec family (fuzzSeeds) and runs each through the engine (RELIABILITY
// B12): it must not panic, crash or hang; a refusal must be a media error
// with a message for people that leaves nothing behind; a success must
// leave clean outputs. It runs the engine in this process, so a crash in
// libav fails the fuzzer with the input, where the sandboxed child would
// have turned it into EMEDIACRASH.
//
// Every execution is a real transcode, so keep minimization short (each
// new input is otherwise minimized for up to a minute, which looks like a
// stall):
//
//	go test ./transcode/ffmpeg -run '^$' -fuzz FuzzTranscode -fuzztime 30s -fuzzminimizetime 20x
func FuzzTranscode(f *testing.F) {
	for _, path := range fuzzSeeds(f, f.TempDir()) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := filepath.Join(t.TempDir(), "upload")
		if err := os.WriteFile(in, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "out")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		rep, err := Transcode(ctx, in, out, fuzzConfig, nil)
		if ctx.Err() != nil {
			t.Fatalf("the transcode hung: %v", err)
		}
		if err != nil {
			if code := shopclip.ErrorCode(err); code == "" || code == shopclip.EINTERNAL {
				t.Fatalf("not a media error: %v", err)
			}
			if rep.Error == nil || rep.Error.Message == "" || strings.Contains(rep.Error.Message, "ffmpeg:") {
				t.Errorf("error %+v: want a message for people", rep.Error)
			}
			if left, _ := os.ReadDir(out); len(left) != 0 {
				t.Errorf("left files behind: %v", left)
			}
			return
		}
		if _, err := transcode.CheckOutputs(out); err != nil {
			t.Errorf("CheckOutputs: %v", err)
		}
	})
}
