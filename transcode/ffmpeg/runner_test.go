package ffmpeg

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/transcode"
)

// testRunner runs jobs in this test binary as the child (see TestMain), in
// its sandbox; on a machine without the namespaces it needs, with the
// sandbox off (but never under CI=true: there the jobs fail).
func testRunner(t *testing.T, mode string) *transcode.Runner {
	t.Helper()
	r := &transcode.Runner{
		Command: []string{os.Args[0], mode},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if err := sandboxCheck(); err != nil && os.Getenv("CI") != "true" {
		t.Logf("running the child without its sandbox: %v", err)
		r.Sandbox.Off = true
	}
	return r
}

// TestRunnerVerticalPhone runs a transcode through the child process and
// checks its events arrive in order, the files they announce complete.
func TestRunnerVerticalPhone(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	rec := newEventRecorder(out, false)
	rep, err := testRunner(t, "child").Run(context.Background(), transcode.Job{
		Input:   media(t, "vertical_1080x1920_h264_aac_android_phone.mp4"),
		OutDir:  out,
		OnEvent: rec.onEvent,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(rep.Renditions) != 3 || rep.Width != 1080 || rep.Height != 1920 {
		t.Errorf("report: %dx%d %+v", rep.Width, rep.Height, rep.Renditions)
	}
	rec.mu.Lock()
	events := rec.events
	if len(events) < 2 || events[0].Kind != transcode.EventProbe || events[len(events)-1].Kind != transcode.EventProgress {
		t.Errorf("events %+v, want probe first and progress last", events)
	}
	rec.mu.Unlock()
	rec.check(t, rep, transcode.DefaultConfig())
	checkOutputs(t, rep, out)
}

func TestRunnerMediaErrors(t *testing.T) {
	tests := []struct {
		file string
		code string
	}{
		{"audio_only_opus_5.1.mka", shopclip.EMEDIANOVIDEO},
		{"broken_vp9_invalid_bitstream.webm", shopclip.EMEDIADECODE},
		{"broken_truncated_audiobook_aac_claims_6422s.m4b", shopclip.EMEDIANOVIDEO},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rep, err := testRunner(t, "child").Run(context.Background(), transcode.Job{Input: media(t, tt.file), OutDir: t.TempDir()})
			if got := shopclip.ErrorCode(err); got != tt.code {
				t.Fatalf("code %q (%v), want %q", got, err, tt.code)
			}
			if rep == nil || rep.Error == nil || rep.Probe == nil {
				t.Errorf("report %+v: want the probe and the error", rep)
			}
		})
	}
}

// TestRunnerCrash runs three jobs at once, one of which crashes inside
// FFmpeg's C code: the crash is reported as EMEDIACRASH, the other two
// complete, and this process (the "worker") lives on with its memory
// unchanged (RELIABILITY B6, B7).
func TestRunnerCrash(t *testing.T) {
	src := media(t, "h264_noaudio_480x270_koala.mp4")
	rssBefore := rss(t)
	defer func() {
		if d := rss(t) - rssBefore; d > 50<<20 || d < -50<<20 {
			t.Errorf("this process's RSS changed by %d MiB across the jobs", d>>20)
		}
	}()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, mode := range []string{"child", "crashchild", "child"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = testRunner(t, mode).Run(context.Background(), transcode.Job{Input: src, OutDir: filepath.Join(t.TempDir(), "out")})
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("the jobs beside the crash failed: %v, %v", errs[0], errs[2])
	}
	if got := shopclip.ErrorCode(errs[1]); got != shopclip.EMEDIACRASH {
		t.Errorf("crashing job: code %q (%v), want %q", got, errs[1], shopclip.EMEDIACRASH)
	}
}

// TestRunnerCPULimit gives a long clip one CPU second: the child gets
// SIGXCPU and reports EMEDIALIMIT.
func TestRunnerCPULimit(t *testing.T) {
	r := testRunner(t, "child")
	r.Limits.CPUTime = time.Second
	out := filepath.Join(t.TempDir(), "out")
	_, err := r.Run(context.Background(), transcode.Job{Input: media(t, "webm_vp8_vorbis_720p_bbb_30s.webm"), OutDir: out})
	if got := shopclip.ErrorCode(err); got != shopclip.EMEDIALIMIT {
		t.Fatalf("code %q (%v), want %q", got, err, shopclip.EMEDIALIMIT)
	}
	if !strings.Contains(shopclip.ErrorMessage(err), "CPU") {
		t.Errorf("message %q does not name the CPU limit", shopclip.ErrorMessage(err))
	}
}

// TestRunnerDeadline sizes the deadline at 1 s + 0.01 s per second of media:
// the 30 s clip cannot finish in 1.3 s; the child is killed, EMEDIALIMIT.
func TestRunnerDeadline(t *testing.T) {
	r := testRunner(t, "child")
	r.Limits.WallFloor = time.Second
	r.Limits.WallPerSecond = 0.01
	_, err := r.Run(context.Background(), transcode.Job{Input: media(t, "webm_vp8_vorbis_720p_bbb_30s.webm"), OutDir: t.TempDir()})
	if got := shopclip.ErrorCode(err); got != shopclip.EMEDIALIMIT {
		t.Fatalf("code %q (%v), want %q", got, err, shopclip.EMEDIALIMIT)
	}
}

// TestRunnerMemoryLimit gives the child 1.5 GiB of address space for a 4K
// HDR clip that needs about 3.4 GiB: it fails with EMEDIALIMIT, cleanly.
func TestRunnerMemoryLimit(t *testing.T) {
	r := testRunner(t, "child")
	r.Limits.AddressSpace = 1536 << 20
	_, err := r.Run(context.Background(), transcode.Job{Input: media(t, "hevc_main10_hdr10_pq_2160p60_eac3.mp4"), OutDir: t.TempDir()})
	if got := shopclip.ErrorCode(err); got != shopclip.EMEDIALIMIT {
		t.Fatalf("code %q (%v), want %q", got, err, shopclip.EMEDIALIMIT)
	}
}

func TestChildMainUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := ChildMain(context.Background(), []string{"--out", "/tmp/x"}, &stdout, &stderr); code != transcode.ExitInternal {
		t.Errorf("exit code %d, want %d", code, transcode.ExitInternal)
	}
	if !strings.Contains(stdout.String(), `"error":{"code":"internal"`) {
		t.Errorf("stdout %q: want one JSON error document", stdout.String())
	}
	if !strings.Contains(stderr.String(), "usage:") {
		t.Errorf("stderr %q: want the usage", stderr.String())
	}
}

// rss returns this process's resident set size in bytes.
func rss(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			if _, err := fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb); err == nil {
				return kb << 10
			}
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}
