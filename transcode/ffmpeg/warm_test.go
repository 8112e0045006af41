package ffmpeg

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip/transcode"
)

// minorFaults is the process's minor page faults so far.
func minorFaults(t *testing.T) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Minflt
}

// TestWarmMemory: memory warmed while a prestarted child waits is what its
// job's allocations then get, without faulting: in a fresh process with the
// child's environment (transcode.ChildEnvironment), 20 pictures of
// 1080x1920 (62 MB) allocated and written through after warming fault in
// a few pages, not the 15,000 they span — which they do without those
// malloc settings. And a warming told to stop does, early.
func TestWarmMemory(t *testing.T) {
	if os.Getenv(envWarmChild) != "" {
		warmChild(t)
		return
	}
	run := func(env []string) (faults int64) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestWarmMemory$")
		cmd.Env = append(slices.Clone(env), envWarmChild+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", env, err, out)
		}
		m := regexp.MustCompile(`faults (\d+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("%v: no count of faults in\n%s", env, out)
		}
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return n
	}
	with, without := run(transcode.ChildEnvironment), run(nil)
	t.Logf("62 MB of pictures after warming: %d page faults with the child's malloc settings, %d without", with, without)
	if with > 2000 {
		t.Errorf("with the child's malloc settings: %d page faults; want few", with)
	}
	if without < 5000 {
		t.Errorf("without them: %d page faults; the measure cannot tell (want about 15,000)", without)
	}
}

const envWarmChild = "SHOPCLIP_TEST_WARM_CHILD"

// warmChild is TestWarmMemory's fresh process: it warms 128 MiB, counts the
// faults of 20 pictures of 1080x1920 and prints them, then checks that a
// warming told to stop stops early.
func warmChild(t *testing.T) {
	w := warmMemory(128 << 20)
	for len(w.done) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if n := w.finish(time.Second); n != 128<<20 {
		t.Fatalf("warmed %d bytes, want %d", n, 128<<20)
	}
	before := minorFaults(t)
	var frames []*astiav.Frame
	for range 20 {
		f := astiav.AllocFrame()
		frames = append(frames, f)
		f.SetWidth(1080)
		f.SetHeight(1920)
		f.SetPixelFormat(astiav.PixelFormatYuv420P)
		if err := f.AllocBuffer(0); err != nil {
			t.Fatal(err)
		}
		if err := f.ImageFillBlack(); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf("faults %d\n", minorFaults(t)-before)
	for _, f := range frames {
		f.Free()
	}
	// 4 GiB would take seconds: stopped at once, it frees what it holds.
	w = warmMemory(4 << 30)
	time.Sleep(20 * time.Millisecond)
	if n := w.finish(2 * time.Second); n < 0 || n >= 4<<30 {
		t.Errorf("a stopped warming faulted in %d bytes; want it stopped early", n)
	}
}
