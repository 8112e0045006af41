package ffmpeg

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/shopclip/shopclip/transcode"
)

// TestChildOutlivesServiceSignals: a SIGTERM or SIGINT sent to every
// process of the service (systemd's default stop, Ctrl-C in a terminal)
// does not end a Runner's child as a failed job: its parent alone ends it,
// and requeues the job itself when it is shutting down.
func TestChildOutlivesServiceSignals(t *testing.T) {
	var once sync.Once
	signalled := 0
	out := filepath.Join(t.TempDir(), "out")
	rep, err := testRunner(t, "child").Run(context.Background(), transcode.Job{
		Input:  media(t, "webm_vp8_vorbis_720p_bbb_30s.webm"),
		OutDir: out,
		OnEvent: func(e transcode.Event) {
			if e.Kind != transcode.EventProgress {
				return
			}
			once.Do(func() {
				for _, pid := range descendants(os.Getpid()) {
					if syscall.Kill(pid, syscall.SIGTERM) == nil && syscall.Kill(pid, syscall.SIGINT) == nil {
						signalled++
					}
				}
			})
		},
	})
	if signalled == 0 {
		t.Fatal("no child process was found to signal")
	}
	if err != nil {
		t.Fatalf("Run after SIGTERM and SIGINT to %d processes: %v", signalled, err)
	}
	if len(rep.Renditions) == 0 {
		t.Errorf("report has no renditions")
	}
}

// descendants returns the pids of every process below pid.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at its ")".
		_, rest, ok := strings.Cut(string(stat), ") ")
		f := strings.Fields(rest)
		if !ok || len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], p)
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out = append(out, c)
			walk(c)
		}
	}
	walk(pid)
	return out
}
