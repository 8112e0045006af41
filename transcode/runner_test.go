package transcode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
)

// TestMain doubles as the fake child process: Runner tests start this test
// binary with "fakechild MODE" before the protocol flags. The real child
// (ffmpeg.ChildMain) is tested in transcode/ffmpeg.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "fakechild" {
		os.Exit(fakeChild(os.Args[2], os.Args[3:]))
	}
	os.Exit(m.Run())
}

// childFacts is what the fake child observed about its own process.
type childFacts struct {
	Env        []string `json:"env"`
	Pid        int      `json:"pid"`      // in the child's PID namespace
	HostPid    int      `json:"host_pid"` // in the test's
	Pgid       int      `json:"pgid"`
	Cwd        string   `json:"cwd"`
	Interfaces []string `json:"interfaces"`
	RlimitAS   uint64   `json:"rlimit_as"`
	RlimitCore uint64   `json:"rlimit_core"`
	DialErr    string   `json:"dial_err"`
	Args       []string `json:"args"`
	// HostPPid is its parent's pid in the test's PID namespace (its
	// sandbox's init, the Runner's child); Input what it read of its input.
	HostPPid int    `json:"host_ppid"`
	Input    string `json:"input"`
	// CwdIno is the inode of its cwd (a prestarted child's is out of reach
	// of its root: getcwd fails).
	CwdIno uint64 `json:"cwd_ino"`
}

func fakeChild(mode string, args []string) int {
	if os.Getpid() == 1 {
		return fakeInit()
	}
	mode, dial, _ := strings.Cut(mode, "@")
	req, err := ParseChildArgs(args, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake child:", err)
		return ExitInternal
	}
	if req.JobFD > 0 {
		in, out, err := ReceiveJob(req.JobFD)
		if errors.Is(err, io.EOF) {
			return ExitOK
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "fake child:", err)
			return ExitInternal
		}
		req.Input, req.OutDir = in, out
	}
	if err := req.Rlimits.Apply(); err != nil {
		fmt.Fprintln(os.Stderr, "fake child:", err)
		return ExitInternal
	}
	events := os.NewFile(uintptr(req.EventsFD), "events")
	send := func(ev Event) {
		b, _ := json.Marshal(ev)
		events.Write(append(b, '\n'))
	}
	report := func(r Report) { json.NewEncoder(os.Stdout).Encode(r) }
	switch mode {
	case "ok":
		facts := childFacts{Env: os.Environ(), Pid: os.Getpid(), HostPid: hostPid(), Args: args, HostPPid: hostPPid()}
		if b, err := os.ReadFile(req.Input); err == nil {
			facts.Input = string(b)
		}
		facts.Pgid, _ = syscall.Getpgid(0)
		facts.Cwd, _ = os.Getwd()
		var st syscall.Stat_t
		if syscall.Stat(".", &st) == nil {
			facts.CwdIno = st.Ino
		}
		ifs, _ := net.Interfaces()
		for _, i := range ifs {
			facts.Interfaces = append(facts.Interfaces, i.Name)
		}
		var rl syscall.Rlimit
		syscall.Getrlimit(syscall.RLIMIT_AS, &rl)
		facts.RlimitAS = rl.Cur
		syscall.Getrlimit(syscall.RLIMIT_CORE, &rl)
		facts.RlimitCore = rl.Cur
		if dial != "" {
			if c, err := net.DialTimeout("tcp", dial, 2*time.Second); err != nil {
				facts.DialErr = err.Error()
			} else {
				c.Close()
			}
		}
		b, _ := json.Marshal(facts)
		os.WriteFile(filepath.Join(req.OutDir, "facts.json"), b, 0o644)
		send(Event{Kind: EventProbe, DurationMS: 1000})
		send(Event{Kind: EventProgress, Progress: 0.5, OutTimeMS: 500, DurationMS: 1000})
		fmt.Fprintln(os.Stderr, `{"level":"WARN","msg":"a child warning","k":"v"}`)
		report(Report{Input: req.Input, Master: MasterName, DurationMS: 1000, Width: 1080, Height: 1920,
			Renditions: []shopclip.Rendition{{Name: "1080p", Width: 1080, Height: 1920, Bandwidth: 1}}})
		return ExitOK
	case "media":
		report(Report{Error: shopclip.Errorf(shopclip.EMEDIADECODE, "No picture could be decoded.")})
		return ExitMedia
	case "media-exit1":
		report(Report{Error: shopclip.Errorf(shopclip.EMEDIADECODE, "inconsistent")})
		return ExitInternal
	case "internal":
		report(Report{Error: &shopclip.Error{Code: shopclip.EINTERNAL, Message: "ffmpeg: out dir not writable"}})
		return ExitInternal
	case "garbage":
		fmt.Println("this is not JSON")
		return ExitOK
	case "two-docs":
		report(Report{})
		report(Report{})
		return ExitOK
	case "crash":
		// A Go panic with traceback "crash" aborts the process by a signal,
		// like a fault inside FFmpeg does in the real child.
		debug.SetTraceback("crash")
		var p *int
		*p = 1
		return ExitOK
	case "oom":
		debug.SetTraceback("crash")
		fmt.Fprintln(os.Stderr, "fatal error: runtime: out of memory")
		syscall.Kill(os.Getpid(), syscall.SIGABRT)
		time.Sleep(time.Minute)
	case "oom-long":
		// The cause first, then more stack dump than the tail keeps.
		debug.SetTraceback("crash")
		fmt.Fprintln(os.Stderr, "runtime/cgo: pthread_create failed: Resource temporarily unavailable")
		for range 2000 {
			fmt.Fprintln(os.Stderr, "00007f93f139db40: 2c303030 30253030  30303030 25303030  00%0000,000%0000")
		}
		syscall.Kill(os.Getpid(), syscall.SIGABRT)
		time.Sleep(time.Minute)
	case "sigkill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	case "sleep":
		time.Sleep(time.Minute)
	case "grandchild":
		cmd := exec.Command("/bin/sleep", "60") // no PATH: the environment is empty
		if err := cmd.Start(); err != nil {
			return ExitInternal
		}
		os.WriteFile(filepath.Join(req.OutDir, "grandchild.pid"), []byte(strconv.Itoa(hostChild())), 0o644)
		time.Sleep(time.Minute)
	case "files":
		// Two files announced, then a symbolic link out of the out dir
		// announced as a segment, then one more file.
		dir := filepath.Join(req.OutDir, "720p")
		os.MkdirAll(dir, 0o755)
		for _, n := range []string{"init.mp4", "seg_00000.m4s"} {
			os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
			send(Event{Kind: EventFile, Rendition: "720p", Path: "720p/" + n})
		}
		os.Symlink("/etc/hostname", filepath.Join(dir, "seg_00001.m4s"))
		send(Event{Kind: EventFile, Rendition: "720p", Path: "720p/seg_00001.m4s"})
		os.WriteFile(filepath.Join(dir, "seg_00002.m4s"), []byte("x"), 0o644)
		send(Event{Kind: EventFile, Rendition: "720p", Path: "720p/seg_00002.m4s"})
		send(Event{Kind: EventProgress, Progress: 1})
		report(Report{Master: MasterName})
		return ExitOK
	case "playable":
		// The way to a playable stream: the probe, a rendition's first
		// segment (its init segment first), its playlist, the master. The
		// log level the child was given goes into the report's Input.
		dir := filepath.Join(req.OutDir, "720p")
		os.MkdirAll(dir, 0o755)
		send(Event{Kind: EventProbe, DurationMS: 1000})
		for _, n := range []string{"init.mp4", "seg_00000.m4s", "index.m3u8", "seg_00001.m4s"} {
			os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
			send(Event{Kind: EventFile, Rendition: "720p", Path: "720p/" + n})
		}
		os.WriteFile(filepath.Join(req.OutDir, MasterName), []byte("x"), 0o644)
		send(Event{Kind: EventPlayable, Path: MasterName})
		report(Report{Input: req.LogLevel, Master: MasterName})
		return ExitOK
	case "share":
		// A share render: echo what the child was given into the output.
		spec, err := ReadShareSpec(req.Share)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake child:", err)
			return ExitInternal
		}
		cwd, _ := os.Getwd()
		b, _ := json.Marshal(map[string]any{"spec": spec, "cwd": cwd, "spec_dir": filepath.Dir(req.Share), "out_dir": req.OutDir, "input": req.Input})
		os.WriteFile(req.Output, b, 0o644)
		send(Event{Kind: EventProbe, DurationMS: 1000})
		json.NewEncoder(os.Stdout).Encode(ShareReport{DurationMS: 1000, Width: 720, Height: 1280, Bytes: int64(len(b))})
		return ExitOK
	case "share-invalid":
		json.NewEncoder(os.Stdout).Encode(ShareReport{Error: shopclip.Errorf(shopclip.EINVALID, "The overlay image \"c.png\" is not a readable PNG.")})
		return ExitInternal
	case "slow-probe":
		send(Event{Kind: EventProbe, DurationMS: 1000})
		time.Sleep(3 * time.Second)
		report(Report{Master: MasterName})
		return ExitOK
	}
	return ExitInternal
}

func fakeRunner(t *testing.T, mode string, logs io.Writer) *Runner {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	return &Runner{
		Command: []string{os.Args[0], "fakechild", mode},
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Limits:  Limits{WallFloor: 20 * time.Second},
	}
}

func TestRunnerSuccess(t *testing.T) {
	t.Setenv("SHOPCLIP_TEST_SECRET", "hunter2")
	t.Setenv("MINIO_SECRET_KEY", "hunter2")
	// A loopback service the child must not reach (RELIABILITY B2, B8).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	var logs testenv.SyncBuffer
	r := fakeRunner(t, "ok@"+ln.Addr().String(), &logs)
	out := filepath.Join(t.TempDir(), "job", "out") // created by Run
	var events []Event
	var mu sync.Mutex
	rep, err := r.Run(context.Background(), Job{Input: "/jobs/j1/input.mp4", OutDir: out, OnEvent: func(ev Event) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Input != "/jobs/j1/input.mp4" || len(rep.Renditions) != 1 || rep.Width != 1080 {
		t.Errorf("report = %+v", rep)
	}
	mu.Lock()
	if len(events) != 2 || events[0].Kind != EventProbe || events[1].Kind != EventProgress || events[1].Progress != 0.5 {
		t.Errorf("events = %+v, want probe then progress", events)
	}
	mu.Unlock()
	if !strings.Contains(logs.String(), "a child warning") || !strings.Contains(logs.String(), "k=v") {
		t.Errorf("child's log line not forwarded with its attributes:\n%s", logs.String())
	}

	var facts childFacts
	b, err := os.ReadFile(filepath.Join(out, "facts.json"))
	if err != nil {
		t.Fatalf("child facts: %v", err)
	}
	if err := json.Unmarshal(b, &facts); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(facts.Env, ChildEnvironment) {
		t.Errorf("child environment = %q, want only %q", facts.Env, ChildEnvironment)
	}
	if facts.Pid == facts.HostPid || facts.Pid > 100 {
		t.Errorf("child pid %d in its namespace, %d on the host: not in a PID namespace of its own", facts.Pid, facts.HostPid)
	}
	if facts.Pgid != 1 {
		t.Errorf("child pgid %d, want 1: not in the process group of its namespace's init, which the Runner kills", facts.Pgid)
	}
	if facts.Cwd != out {
		t.Errorf("child cwd = %q, want the out dir %q", facts.Cwd, out)
	}
	if facts.RlimitAS != 6<<30 || facts.RlimitCore != 0 {
		t.Errorf("child rlimits AS=%d core=%d, want %d and 0", facts.RlimitAS, facts.RlimitCore, 6<<30)
	}
	if len(facts.Interfaces) != 1 || facts.Interfaces[0] != "lo" {
		t.Errorf("child network interfaces = %v, want only lo (own network namespace)", facts.Interfaces)
	}
	if !strings.Contains(facts.DialErr, "network is unreachable") {
		t.Errorf("child dialing a loopback service: %q, want network is unreachable", facts.DialErr)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the loopback service accepted %d connections from the child", n)
	}
	assertReaped(t, facts.HostPid)
}

// TestRunnerLogsTheWayToPlayable: with a logger taking debug lines, the
// child is asked for its debug lines and the Runner logs the events that
// mark the way to a playable stream (scripts/bench-ttfp.sh reads them), a
// rendition's first segment once; at info level, neither.
func TestRunnerLogsTheWayToPlayable(t *testing.T) {
	// Each mark: the parts of its line.
	marks := [][]string{
		{`msg="transcode child probed"`, "duration_ms=1000"},
		{`msg="transcode child made a first segment"`, "rendition=720p"},
		{`msg="transcode child playable"`},
	}
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		t.Run(level.String(), func(t *testing.T) {
			var logs testenv.SyncBuffer
			r := fakeRunner(t, "playable", nil)
			r.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))
			rep, err := r.Run(context.Background(), Job{Input: "/in.mp4", OutDir: filepath.Join(t.TempDir(), "out")})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			debug := level == slog.LevelDebug
			if want := map[bool]string{true: "debug", false: "info"}[debug]; rep.Input != want {
				t.Errorf("the child's log level = %q, want %q", rep.Input, want)
			}
			for _, m := range marks {
				got := 0
				for line := range strings.Lines(logs.String()) {
					if !slices.ContainsFunc(m, func(part string) bool { return !strings.Contains(line, part) }) {
						got++
					}
				}
				if debug && got != 1 || !debug && got != 0 {
					t.Errorf("%q logged %d times at level %s:\n%s", m, got, level, logs.String())
				}
			}
		})
	}
}

// fakeInit stands for the real child's init (transcode/ffmpeg's sandbox):
// PID 1 of the child's namespace cannot die of a signal it raises itself,
// so it runs the fake child as its own child and exits with its status, or
// 128+N when a signal N killed it.
func fakeInit() int {
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{os.NewFile(3, "events")}
	if slices.Contains(os.Args, "--job-fd") {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(4, "jobs"))
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "fake init:", err)
		return ExitInternal
	}
	for _, f := range cmd.ExtraFiles {
		f.Close()
	}
	cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return cmd.ProcessState.ExitCode()
}

// hostPid returns the fake child's pid in the test's PID namespace: the
// fake child does not build the sandbox's root, so /proc is the host's.
func hostPid() int {
	s, _ := os.Readlink("/proc/self")
	pid, _ := strconv.Atoi(s)
	return pid
}

// hostPPid returns the fake child's parent's pid in the test's PID
// namespace.
func hostPPid() int {
	b, _ := os.ReadFile("/proc/self/stat")
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // state, ppid, …
	if len(f) < 2 {
		return 0
	}
	pid, _ := strconv.Atoi(f[1])
	return pid
}

// hostChild returns the pid of the fake child's first child process in the
// test's PID namespace, 0 if there is none.
func hostChild() int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", hostPid()))
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		if f := strings.Fields(string(b)); len(f) > 0 {
			pid, _ := strconv.Atoi(f[0])
			return pid
		}
	}
	return 0
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// assertReaped fails if pid is still a process (a zombie included).
func assertReaped(t *testing.T, pid int) {
	t.Helper()
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		fields := strings.Fields(string(b))
		if len(fields) > 3 && fields[3] == strconv.Itoa(os.Getpid()) {
			t.Errorf("child %d still exists (state %s)", pid, fields[2])
		}
	}
}

func TestRunnerOutcomes(t *testing.T) {
	tests := []struct {
		mode     string
		code     string // shopclip.ErrorCode of the error
		contains string
		report   bool // a report comes back with the error
		// underLoad: the verdict may be the machine's fault (UnderLoad).
		underLoad bool
	}{
		{"media", shopclip.EMEDIADECODE, "No picture", true, false},
		{"internal", shopclip.EINTERNAL, "out dir not writable", true, false},
		{"media-exit1", shopclip.EINTERNAL, "inconsistent", true, false},
		{"garbage", shopclip.EINTERNAL, "no report", false, false},
		{"two-docs", shopclip.EINTERNAL, "more than one", false, false},
		{"crash", shopclip.EMEDIACRASH, "crashed", false, false},
		{"oom", shopclip.EMEDIALIMIT, "memory", false, false},
		{"oom-long", shopclip.EMEDIALIMIT, "memory", false, false},
		// Killed by something other than its own limits: the kernel's OOM
		// killer on a machine short of memory.
		{"sigkill", shopclip.EMEDIALIMIT, "limit", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			rep, err := fakeRunner(t, tt.mode, nil).Run(context.Background(), Job{Input: "/x.mp4", OutDir: t.TempDir()})
			if err == nil {
				t.Fatalf("Run succeeded: %+v", rep)
			}
			if got := shopclip.ErrorCode(err); got != tt.code {
				t.Errorf("code = %q (%v), want %q", got, err, tt.code)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not mention %q", err, tt.contains)
			}
			if (rep != nil) != tt.report {
				t.Errorf("report = %+v, want one: %v", rep, tt.report)
			}
			if got := UnderLoad(err); got != tt.underLoad {
				t.Errorf("UnderLoad(%v) = %v, want %v", err, got, tt.underLoad)
			}
		})
	}
}

// TestRunnerEventFiles checks Run forwards the child's file events in order
// and stops at one that would make the parent publish a file outside the
// out dir.
func TestRunnerEventFiles(t *testing.T) {
	var logs testenv.SyncBuffer
	var log eventLog
	_, err := fakeRunner(t, "files", &logs).Run(context.Background(), Job{Input: "/x.mp4", OutDir: t.TempDir(), OnEvent: log.add})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []string{"file 720p/init.mp4", "file 720p/seg_00000.m4s"}
	if got := log.lines(); !slices.Equal(got, want) {
		t.Errorf("forwarded events %v, want %v", got, want)
	}
	if !strings.Contains(logs.String(), "forwarding no more events") || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("the bad event was not logged as an error:\n%s", logs.String())
	}
}

func TestCheckEventPath(t *testing.T) {
	dir := t.TempDir()
	mkdirs(t, dir, "720p")
	for _, n := range []string{"720p/init.mp4", MasterName} {
		write(t, filepath.Join(dir, n), 10)
	}
	if err := os.Symlink(filepath.Join(dir, "720p"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/hostname", filepath.Join(dir, "720p", "evil.m4s")); err != nil {
		t.Fatal(err)
	}
	file := func(p string) Event { return Event{Kind: EventFile, Path: p} }
	good := []Event{file("720p/init.mp4"), {Kind: EventPlayable, Path: MasterName}, {Kind: EventProgress}, {Kind: EventProbe}}
	for _, ev := range good {
		if err := checkEventPath(dir, ev); err != nil {
			t.Errorf("%+v: %v", ev, err)
		}
	}
	bad := map[string]Event{
		"parent":           file("../x"),
		"absolute":         file("/etc/passwd"),
		"unclean":          file("720p/../720p/init.mp4"),
		"backslash":        file(`720p\init.mp4`),
		"no path":          file(""),
		"playable no path": {Kind: EventPlayable},
		"directory":        file("720p"),
		"linked directory": file("link/init.mp4"),
		"linked file":      file("720p/evil.m4s"),
		"missing":          file("720p/seg_00000.m4s"),
	}
	for name, ev := range bad {
		err := checkEventPath(dir, ev)
		if err == nil {
			t.Errorf("%s: %+v accepted", name, ev)
		}
		if gone := errors.Is(err, fs.ErrNotExist); gone != (name == "missing") {
			t.Errorf("%s: %v: not-exist %v", name, err, gone)
		}
	}
}

func TestRunnerDeadlineKillsGroup(t *testing.T) {
	r := fakeRunner(t, "grandchild", nil)
	r.Limits.WallFloor = 1500 * time.Millisecond
	out := t.TempDir()
	_, err := r.Run(context.Background(), Job{Input: "/x.mp4", OutDir: out})
	if got := shopclip.ErrorCode(err); got != shopclip.EMEDIALIMIT {
		t.Fatalf("code = %q (%v), want %q", got, err, shopclip.EMEDIALIMIT)
	}
	if !strings.Contains(shopclip.ErrorMessage(err), "time limit") {
		t.Errorf("message %q does not say it took too long", shopclip.ErrorMessage(err))
	}
	if !UnderLoad(err) {
		t.Errorf("a wall-clock deadline is not a verdict on the file alone: UnderLoad(%v) = false", err)
	}
	b, err := os.ReadFile(filepath.Join(out, "grandchild.pid"))
	if err != nil {
		t.Fatalf("the child did not start its grandchild: %v", err)
	}
	pid, _ := strconv.Atoi(string(b))
	// The grandchild was killed with the group; once init reaps it, it is
	// gone. Wait for that, boundedly.
	for i := 0; ; i++ {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			break
		}
		if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); strings.Contains(string(st), ") Z ") {
			break // killed, waiting for its reaper
		}
		if i == 100 {
			t.Fatalf("grandchild %d survived the group kill", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRunnerProbeExtendsDeadline(t *testing.T) {
	r := fakeRunner(t, "slow-probe", nil)
	// Floor alone (1 s) would kill the child's 3 s; the probe event's 1 s
	// duration extends the deadline to 1 + 20 × 1 = 21 s.
	r.Limits.WallFloor = time.Second
	r.Limits.WallPerSecond = 20
	if _, err := r.Run(context.Background(), Job{Input: "/x.mp4", OutDir: t.TempDir()}); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestRunnerContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	_, err := fakeRunner(t, "sleep", nil).Run(ctx, Job{Input: "/x.mp4", OutDir: t.TempDir()})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want context.Canceled", err)
	}
	if shopclip.IsMediaError(shopclip.ErrorCode(err)) {
		t.Errorf("a cancelled job must not be a media error: %v", err)
	}
}

func TestRunnerCannotStart(t *testing.T) {
	r := &Runner{Command: []string{"/nonexistent/shopclip", "transcode"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	_, err := r.Run(context.Background(), Job{Input: "/x.mp4", OutDir: t.TempDir()})
	if err == nil || shopclip.ErrorCode(err) != shopclip.EINTERNAL {
		t.Fatalf("Run with a missing binary: %v, want an internal error", err)
	}
}

func TestRunnerOutDirNotWritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := fakeRunner(t, "ok", nil).Run(context.Background(), Job{Input: "/x.mp4", OutDir: filepath.Join(file, "out")})
	if err == nil || shopclip.ErrorCode(err) != shopclip.EINTERNAL {
		t.Fatalf("Run with an out dir under a file: %v, want an internal error", err)
	}
}

// prestartedChild waits (bounded) for r's prestarted child and returns it.
func prestartedChild(t *testing.T, r *Runner) *child {
	t.Helper()
	for range 1000 {
		r.pre.mu.Lock()
		c := r.pre.child
		r.pre.mu.Unlock()
		if c != nil {
			return c
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no child was prestarted in 10 s")
	return nil
}

// TestRunnerPrestart: with Prestart, a job runs in a child started before
// it (its input and out dir handed over, its cwd the out dir, its events
// forwarded), the next one is started for the next job, and Close ends the
// one waiting.
func TestRunnerPrestart(t *testing.T) {
	var logs testenv.SyncBuffer
	r := fakeRunner(t, "ok", &logs)
	r.Prestart = true
	r.Start()
	defer r.Close()
	first := prestartedChild(t, r)
	for i, want := range []string{"the first job's input", "the second job's input"} {
		dir := t.TempDir()
		in, out := filepath.Join(dir, "source"), filepath.Join(dir, "out")
		if err := os.WriteFile(in, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		waiting := prestartedChild(t, r)
		if i == 1 && waiting == first {
			t.Fatal("the first job's child is waiting for the second job")
		}
		var events []Event
		var mu sync.Mutex
		rep, err := r.Run(context.Background(), Job{Input: in, OutDir: out, OnEvent: func(ev Event) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		}})
		if err != nil {
			t.Fatalf("job %d: Run: %v", i, err)
		}
		if !strings.HasPrefix(rep.Input, "/proc/self/fd/") {
			t.Errorf("job %d: the child's input is %q, want a file handed over", i, rep.Input)
		}
		var facts childFacts
		b, err := os.ReadFile(filepath.Join(out, "facts.json"))
		if err != nil {
			t.Fatalf("job %d: the child wrote nothing in the out dir: %v", i, err)
		}
		if err := json.Unmarshal(b, &facts); err != nil {
			t.Fatal(err)
		}
		if facts.HostPPid != waiting.cmd.Process.Pid {
			t.Errorf("job %d: ran under pid %d, not in the child prestarted before it (%d)", i, facts.HostPPid, waiting.cmd.Process.Pid)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(out, &st); err != nil {
			t.Fatal(err)
		}
		if facts.Input != want || facts.CwdIno != st.Ino || !slices.Equal(facts.Env, ChildEnvironment) {
			t.Errorf("job %d: the child read %q, worked in inode %d with environment %q; want %q in the out dir (%d) and %q", i, facts.Input, facts.CwdIno, facts.Env, want, st.Ino, ChildEnvironment)
		}
		mu.Lock()
		if len(events) != 2 || events[0].Kind != EventProbe {
			t.Errorf("job %d: events = %+v, want probe then progress", i, events)
		}
		mu.Unlock()
		assertReaped(t, waiting.cmd.Process.Pid)
	}
	if got := strings.Count(logs.String(), "prestarted=true"); got != 2 {
		t.Errorf("%d jobs logged as run in a prestarted child, want 2:\n%s", got, logs.String())
	}
	last := prestartedChild(t, r)
	r.Close()
	assertReaped(t, last.cmd.Process.Pid)
	if _, err := r.Run(context.Background(), Job{Input: "/in.mp4", OutDir: filepath.Join(t.TempDir(), "out")}); err != nil {
		t.Errorf("Run after Close (a child started for the job): %v", err)
	}
}

// TestRunnerPrestartedChildDied: a prestarted child that died waiting is
// reaped, and the job runs in a child started for it.
func TestRunnerPrestartedChildDied(t *testing.T) {
	var logs testenv.SyncBuffer
	r := fakeRunner(t, "ok", &logs)
	r.Prestart = true
	r.Start()
	defer r.Close()
	dead := prestartedChild(t, r)
	pid := dead.cmd.Process.Pid
	killGroup(pid)
	for range 1000 { // until it is a zombie: its socket is closed
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Fields(string(b))[2] == "Z" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "source"), filepath.Join(dir, "out")
	os.WriteFile(in, []byte("input"), 0o644)
	if _, err := r.Run(context.Background(), Job{Input: in, OutDir: out}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "facts.json")); err != nil || !strings.Contains(string(b), `"input":"input"`) {
		t.Errorf("the job's facts: %s (%v)", b, err)
	}
	if !strings.Contains(logs.String(), "took no job") {
		t.Errorf("the dead prestarted child not logged:\n%s", logs.String())
	}
	assertReaped(t, pid)
}
