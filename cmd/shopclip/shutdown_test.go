package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/blob/local"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/store"
	"github.com/shopclip/shopclip/workers"
)

// shutdownBound is how long a worker may take to exit after SIGTERM or
// SIGINT (RELIABILITY A5): its shutdown timeout, then the interrupted
// tasks are requeued and their children killed, plus 5 s.
const shutdownBound = workers.DefaultShutdownTimeout + 5*time.Second

// TestWorkerTermMidTranscode is a deploy restarting `shopclip worker`
// (SIGTERM) in the middle of a transcode that has already made the clip
// playable, against shared PostgreSQL, MinIO and Redis (RELIABILITY A5):
// the worker exits 0 within its shutdown timeout (+5 s), leaving no
// transcode child running; the task is pending again with its retry count
// unchanged (asynq requeues, it does not retry, what its shutdown timeout
// interrupts); the clip is not published (still processing) and the
// interrupted attempt cleaned up before the exit (its generation deleted
// from the bucket, its job directory removed); the next worker makes it
// ready with one generation in the bucket, whose master lists files that
// all exist.
func TestWorkerTermMidTranscode(t *testing.T) {
	if testing.Short() {
		t.Skip("transcodes the 30 s reference clip")
	}
	e := newCrashEnv(t, true)
	key := cli(t, "account", "create", "--role", "creator", "--name", "alice")
	_, base := e.serve(t)
	worker := startProc(t, e.env, "worker")
	c := client{t, base}
	id := c.upload(key, filepath.Join(testenv.BenchDir(t), "bbb_vertical_1080x1920_30s.mp4"), "deployed")

	insp := inspector(t, e.env)
	taskID := workers.TranscodeTaskID(id)
	children, attempt := waitTranscoding(t, e.db, id, worker.cmd.Process.Pid)
	before, err := insp.GetTaskInfo(workers.QueueTranscode, taskID)
	if err != nil || before.State != asynq.TaskStateActive {
		t.Fatalf("before the signal: task %+v, %v; want it active", before, err)
	}

	elapsed := signalAndWait(t, worker, syscall.SIGTERM)
	t.Logf("worker exited %.1f s after SIGTERM (shutdown timeout %s)", elapsed.Seconds(), workers.DefaultShutdownTimeout)
	checkNoChildren(t, children, e.workDir)

	after, err := insp.GetTaskInfo(workers.QueueTranscode, taskID)
	if err != nil {
		t.Fatalf("after the shutdown: %v", err)
	}
	if after.State != asynq.TaskStatePending || after.Retried != before.Retried {
		t.Errorf("after the shutdown: task %s, retried %d; want pending, retried %d", after.State, after.Retried, before.Retried)
	}
	checkUnpublished(t, e.db, e.blobs, e.workDir, id, attempt)

	restart := time.Now()
	next := startProc(t, e.env, "worker")
	got := c.waitClip(key, id, 5*time.Minute)
	t.Logf("ready %.1f s after the restart", time.Since(restart).Seconds())
	if got.Status != "ready" {
		t.Fatalf("after the restart the clip is %s (%+v)", got.Status, got.Error)
	}
	checkOneGeneration(t, e.db, e.blobs, id, attempt)
	variants, _, _ := c.fetchHLSWith(base+got.Playback.HLS, t.TempDir(), true) // every file it lists exists
	if len(variants) == 0 {
		t.Error("the published master lists no variant")
	}
	if err := next.stop(syscall.SIGTERM); err != nil {
		t.Error(err)
	}
}

// TestUpInterruptMidTranscode is Ctrl-C (SIGINT to the process group) on
// `shopclip up` in the middle of a transcode: it exits 0 within its
// workers' shutdown timeout (+5 s) with no transcode child left, the clip
// unpublished, and once started again the clip becomes ready with one
// generation.
func TestUpInterruptMidTranscode(t *testing.T) {
	if testing.Short() {
		t.Skip("transcodes the 30 s reference clip")
	}
	data := t.TempDir()
	port, _ := testenv.FreePort()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	up := startProc(t, nil, "up", "--addr", addr, "--data", data)
	waitHTTP(t, "http://"+addr+"/readyz", 60*time.Second)
	key := cli(t, "account", "create", "--role", "creator", "--name", "alice", "--data", data)
	c := client{t, "http://" + addr}
	id := c.upload(key, filepath.Join(testenv.BenchDir(t), "bbb_vertical_1080x1920_30s.mp4"), "interrupted")

	db, err := store.Open(t.Context(), filepath.Join(data, "shopclip.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs, err := local.New(filepath.Join(data, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer blobs.Close()
	children, attempt := waitTranscoding(t, db, id, up.cmd.Process.Pid)

	elapsed := signalAndWait(t, up, syscall.SIGINT)
	t.Logf("up exited %.1f s after SIGINT (shutdown timeout %s)", elapsed.Seconds(), workers.DefaultShutdownTimeout)
	checkNoChildren(t, children, filepath.Join(data, "work"))
	checkUnpublished(t, db, blobs, filepath.Join(data, "work"), id, attempt)

	restart := time.Now()
	up2 := startProc(t, nil, "up", "--addr", addr, "--data", data)
	waitHTTP(t, "http://"+addr+"/readyz", 60*time.Second)
	got := c.waitClip(key, id, 5*time.Minute)
	t.Logf("ready %.1f s after the restart", time.Since(restart).Seconds())
	if got.Status != "ready" {
		t.Fatalf("after the restart the clip is %s (%+v)", got.Status, got.Error)
	}
	checkOneGeneration(t, db, blobs, id, attempt)
	if variants, _, _ := c.fetchHLS(c.base+got.Playback.HLS, t.TempDir()); len(variants) == 0 {
		t.Error("the published master lists no variant")
	}
	if err := up2.stop(syscall.SIGINT); err != nil {
		t.Error(err)
	}
}

// inspector returns an asynq inspector on the Redis of env.
func inspector(t *testing.T, env []string) *asynq.Inspector {
	t.Helper()
	for _, kv := range env {
		if u, ok := strings.CutPrefix(kv, "SHOPCLIP_REDIS_URL="); ok {
			opt, err := parseRedisURL(u)
			if err != nil {
				t.Fatal(err)
			}
			insp := asynq.NewInspector(opt)
			t.Cleanup(func() { insp.Close() })
			return insp
		}
	}
	t.Fatal("no SHOPCLIP_REDIS_URL")
	return nil
}

// waitTranscoding waits until the clip is processing under an attempt whose
// transcode has made it playable (part of its generation is in the blob
// store) and a transcode child of the process pid runs, and returns the
// child's processes and the attempt.
func waitTranscoding(t *testing.T, db *store.DB, id string, pid int) (children []int, attempt string) {
	t.Helper()
	var clip *shopclip.Clip
	poll(t, "the clip playable while a transcode child runs", 3*time.Minute, func() bool {
		var err error
		if clip, err = db.Clip(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		switch clip.Status {
		case shopclip.ClipUploaded, shopclip.ClipProcessing:
		default:
			t.Fatalf("clip %s is %s before the signal", id, clip.Status)
		}
		children = transcodeChildren(pid)
		return clip.Status == shopclip.ClipProcessing && clip.Generation != "" && len(children) > 0
	})
	t.Logf("signal at %.0f%% of the transcode, children %v", 100*clip.Progress, children)
	return children, clip.AttemptID
}

// signalAndWait sends sig to p's process group, as a terminal's Ctrl-C or
// an orchestrator's stop does (transcode children have their own groups),
// and waits for it to exit. It fails the test when p does not exit 0
// within shutdownBound, and returns how long the exit took.
func signalAndWait(t *testing.T, p *proc, sig syscall.Signal) time.Duration {
	t.Helper()
	start := time.Now()
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(shutdownBound):
		t.Fatalf("%v still running %s after %v", p.cmd.Args[1:], shutdownBound, sig)
	}
	elapsed := time.Since(start)
	if !p.cmd.ProcessState.Success() {
		t.Fatalf("%v after %v: %v", p.cmd.Args[1:], sig, p.cmd.ProcessState)
	}
	return elapsed
}

// transcodeChildren returns the transcode children of pid (the binary
// re-executed with the transcode subcommand) and their descendants (the
// sandbox's init forks the real child).
func transcodeChildren(pid int) []int {
	procs := processes()
	var out []int
	for p, info := range procs {
		if info.ppid == pid && len(info.args) > 1 && info.args[1] == "transcode" {
			out = append(out, p)
		}
	}
	for i := 0; i < len(out); i++ {
		for p, info := range procs {
			if info.ppid == out[i] && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// checkNoChildren fails the test when any of the children still runs, or
// any other process runs a transcode with files in workDir (an orphan
// adopted by init). A process killed as its parent exits may take a moment
// to go: it is given one second.
func checkNoChildren(t *testing.T, children []int, workDir string) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(time.Second); ; time.Sleep(20 * time.Millisecond) {
		left = left[:0]
		for p, info := range processes() {
			if slices.Contains(children, p) || slices.Contains(info.args, "transcode") && strings.Contains(strings.Join(info.args, " "), workDir) {
				left = append(left, fmt.Sprintf("pid %d (parent %d): %.200s", p, info.ppid, strings.Join(info.args, " ")))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("transcode processes left running after the exit:\n%s", strings.Join(left, "\n"))
		for _, p := range children {
			syscall.Kill(p, syscall.SIGKILL)
		}
	}
}

// checkUnpublished checks the interrupted clip is not published (still
// processing, or back to uploaded) and its attempt cleaned up before the
// process exited: its job directory removed and its generation, made
// playable before the signal, deleted from the blob store (not left for
// the janitor).
func checkUnpublished(t *testing.T, db *store.DB, blobs blob.Store, workDir, id, attempt string) {
	t.Helper()
	clip, err := db.Clip(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if clip.Status != shopclip.ClipProcessing && clip.Status != shopclip.ClipUploaded || clip.PublishedAt != nil {
		t.Errorf("after the shutdown the clip is %s (published %v); want it processing, unpublished", clip.Status, clip.PublishedAt)
	}
	if keys := listKeys(t, blobs, shopclip.GenerationPrefix(id, attempt)); len(keys) > 0 {
		t.Errorf("after the shutdown the interrupted attempt's generation holds %d objects: %q", len(keys), keys)
	}
	if _, err := os.Stat(filepath.Join(workDir, id+"-"+attempt)); !os.IsNotExist(err) {
		t.Errorf("after the shutdown the interrupted attempt's job directory is left (%v)", err)
	}
}

// checkOneGeneration checks the ready clip was published by an attempt
// other than the interrupted one, and the blob store holds that generation
// only.
func checkOneGeneration(t *testing.T, db *store.DB, blobs blob.Store, id, interrupted string) {
	t.Helper()
	clip, err := db.Clip(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if clip.Generation == "" || clip.Generation == interrupted {
		t.Errorf("published generation %q; want a new attempt's (the interrupted one was %s)", clip.Generation, interrupted)
	}
	gens := map[string]bool{}
	for _, k := range listKeys(t, blobs, shopclip.ClipPrefix(id)) {
		if gen, _, nested := strings.Cut(strings.TrimPrefix(k, shopclip.ClipPrefix(id)), "/"); nested && strings.HasPrefix(gen, shopclip.PrefixAttempt+"_") {
			gens[gen] = true
		}
	}
	if len(gens) != 1 || !gens[clip.Generation] {
		t.Errorf("generations in the blob store: %v; want only %s", gens, clip.Generation)
	}
}

type procInfo struct {
	ppid int
	args []string
}

// processes returns the live processes (zombies excluded) by pid.
func processes() map[int]procInfo {
	procs := map[int]procInfo{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(stat), ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		procs[pid] = procInfo{ppid: ppid, args: strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")}
	}
	return procs
}
