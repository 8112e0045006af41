package ffmpeg

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/transcode"
)

// TestRunnerPrestart runs jobs in prestarted children, in their sandbox
// (no job's file bound in it: the input and the out dir are handed over
// open): each job's outputs check out and its events come in order. The first job may find its child still starting; the second
// finds one waiting (the first's run is long enough).
func TestRunnerPrestart(t *testing.T) {
	r := testRunner(t, "child")
	var logs testenv.SyncBuffer
	r.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.Prestart = true
	r.Start()
	defer r.Close()
	for _, name := range []string{"h264_noaudio_480x270_koala.mp4", "mkv_h264_ac3_srt_1080x720.mkv"} {
		out := filepath.Join(t.TempDir(), "out")
		rec := newEventRecorder(out, false)
		rep, err := r.Run(context.Background(), transcode.Job{Input: media(t, name), OutDir: out, OnEvent: rec.onEvent})
		if err != nil {
			t.Fatalf("%s: Run: %v\n%s", name, err, logs.String())
		}
		checkOutputs(t, rep, out)
		rec.mu.Lock()
		for _, e := range rec.errs { // a file announced before it was complete
			t.Errorf("%s: %v", name, e)
		}
		if n := len(rec.events); n < 2 || rec.events[0].Kind != transcode.EventProbe || rec.events[n-1].Kind != transcode.EventProgress {
			t.Errorf("%s: events %+v, want probe first and progress last", name, rec.events)
		}
		rec.mu.Unlock()
	}
	if n := strings.Count(logs.String(), "prestarted=true"); n < 1 {
		t.Errorf("no job ran in a prestarted child:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `msg="transcode child: running"`) {
		t.Errorf("the child did not say when it ran:\n%s", logs.String())
	}
}
