package transcode

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shopclip/shopclip"
)

// Runner runs transcodes, each in a child process: the same binary
// re-executed (`shopclip transcode`), so a crash inside FFmpeg ends that job
// and never the caller. The child gets an empty environment, the out dir as
// cwd, its own process group (killed as a whole on cancel or deadline), its
// sandbox (see Sandbox: namespaces, a root holding only the job's files, no
// capabilities, seccomp) and rlimits it applies to itself before it opens
// the input. See ChildRequest for the protocol. A Runner is safe for
// concurrent use; its fields must not change while jobs run.
type Runner struct {
	// Command is the argv prefix of the child; the protocol flags are
	// appended. nil means [os.Executable(), "transcode"].
	Command []string
	// Config is passed to the child.
	Config Config
	// Logger receives the Runner's and the child's log lines; nil means
	// slog.Default().
	Logger *slog.Logger
	// Limits bound each child.
	Limits Limits
	// Sandbox isolates each child; the zero value is the full sandbox.
	Sandbox Sandbox
	// Prestart keeps a transcode child started ahead of the next job:
	// loaded, its sandbox set up, waiting (see ChildRequest.JobFD), so a
	// job starts without the child's start-up (tens to hundreds of
	// milliseconds: the loader, the sandbox, the Go runtime). Run takes it
	// and starts the next one; Start starts the first; Close ends the one
	// waiting. Share renders start their own.
	Prestart bool
	// WarmMemory is how many bytes of heap the prestarted child faults in
	// while it waits (ChildRequest.WarmMemory): a fresh page costs its
	// job a fault and its zeroing. 0: none.
	WarmMemory int64

	pre prestarted
}

// The Runner's prestarted child (Prestart), guarded by mu.
type prestarted struct {
	mu       sync.Mutex
	child    *child // waiting for a job; nil when none
	starting bool   // one is being started
	closed   bool
}

// Limits bound a child process. Zero fields mean their defaults, sized for a
// 2-core, 24 GB machine running a couple of transcodes at once.
type Limits struct {
	// AddressSpace is RLIMIT_AS in bytes: 6 GiB (a 4K HEVC source, its
	// decoder's frame threads and three x264 encoders fit with room to
	// spare). -1 means unlimited.
	AddressSpace int64
	// CPUTime is RLIMIT_CPU: 30 min. -1 means unlimited.
	CPUTime time.Duration
	// FileSize is RLIMIT_FSIZE, the largest file the child may write:
	// 2 GiB. -1 means unlimited.
	FileSize int64
	// OpenFiles is RLIMIT_NOFILE: 256.
	OpenFiles int64
	// Processes is RLIMIT_NPROC, the threads and processes the child may
	// have at once, counted in its own user namespace: 256 (a transcode
	// peaks near 40: the Go runtime's threads, the decoder's and three
	// x264 encoders' pools). -1 means unlimited (only with the sandbox
	// off, the count is otherwise the worker's uid's).
	Processes int64
	// WallFloor and WallPerSecond size the wall-clock deadline: WallFloor
	// until the child reports the clip's duration, then WallFloor +
	// WallPerSecond × duration (the longest accepted duration when the file
	// states none). Defaults: 60 s and 10 (a 30 s clip may take 6 min). The
	// context's deadline also applies.
	WallFloor     time.Duration
	WallPerSecond float64
}

// WithDefaults returns l with every zero field replaced by its default.
func (l Limits) WithDefaults() Limits {
	l.AddressSpace = cmp.Or(l.AddressSpace, 6<<30)
	l.CPUTime = cmp.Or(l.CPUTime, 30*time.Minute)
	l.FileSize = cmp.Or(l.FileSize, 2<<30)
	l.OpenFiles = cmp.Or(l.OpenFiles, 256)
	l.Processes = cmp.Or(l.Processes, 256)
	l.WallFloor = cmp.Or(l.WallFloor, 60*time.Second)
	l.WallPerSecond = cmp.Or(l.WallPerSecond, 10)
	return l
}

func (l Limits) rlimits() Rlimits {
	pos := func(v int64) int64 { return max(v, 0) }
	return Rlimits{
		AddressSpace: pos(l.AddressSpace),
		CPUSeconds:   pos(seconds(l.CPUTime)),
		FileSize:     pos(l.FileSize),
		OpenFiles:    pos(l.OpenFiles),
		Processes:    pos(l.Processes),
	}
}

// Job is one transcode: Input (a local file) into OutDir (created if
// missing). OnEvent, when not nil, receives the child's events in order,
// from another goroutine; it must not block for long (the child queues what
// the parent has not read, up to a bound past which it stops sending
// events). Run passes on an event announcing a file only when its Path is
// a relative path naming a regular file inside OutDir, through no symbolic
// link; after one that is not, it forwards no more events.
type Job struct {
	Input   string
	OutDir  string
	OnEvent func(Event)
}

// Run transcodes one job in a child process and waits for it.
//
// Outcomes:
//   - success: the Report, nil.
//   - the input is unusable: an error carrying the media code
//     (shopclip.ErrorCode(err) is one of shopclip.EMEDIA*) and the Report
//     when the child printed one (probe summary, Error).
//   - the child hit an rlimit or its wall-clock deadline: EMEDIALIMIT.
//   - the child crashed (killed by a signal, no report): EMEDIACRASH; the
//     caller decides how often to retry.
//   - ctx was cancelled (or its deadline passed): the child is killed and
//     the error wraps ctx.Err(); it is not a media error.
//   - anything else (the binary cannot start, a bad report, an unwritable
//     out dir): a plain error (shopclip.EINTERNAL).
//
// The child is always waited for: no zombies are left.
func (r *Runner) Run(ctx context.Context, job Job) (*Report, error) {
	limits := r.Limits.WithDefaults()
	log := r.logger().With("input", filepath.Base(job.Input))
	if err := r.Config.Validate(); err != nil {
		return nil, err
	}
	in, err := filepath.Abs(job.Input)
	if err != nil {
		return nil, fmt.Errorf("transcode: input %q: %w", job.Input, err)
	}
	out, err := filepath.Abs(job.OutDir)
	if err != nil {
		return nil, fmt.Errorf("transcode: out dir %q: %w", job.OutDir, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("transcode: create out dir: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}

	req := ChildRequest{Input: in, OutDir: out, EventsFD: 3, Config: r.Config, Rlimits: limits.rlimits(), LogLevel: r.childLogLevel(ctx)}
	args, err := req.Args()
	if err != nil {
		return nil, err
	}
	m := mounts{rw: []string{out}, ro: []string{in}}
	var run *finishedChild
	if c := r.takePrestarted(); c != nil {
		var handed bool
		run, handed, err = r.giveJob(ctx, log, c, in, out, m, limits.WallPerSecond, job.OnEvent)
		if !handed {
			log.WarnContext(ctx, "transcode: the prestarted child took no job; starting one", "error", err)
			run, err = r.runChild(ctx, log, args, out, m, limits.WallPerSecond, job.OnEvent)
		}
	} else {
		run, err = r.runChild(ctx, log, args, out, m, limits.WallPerSecond, job.OnEvent)
	}
	if err != nil {
		return nil, err
	}
	rep, err := interpret(run.state, run.stdout, run.stderrTail)
	if err != nil {
		run.logFailure(ctx, log, "transcode failed", err)
		return rep, err
	}
	log.InfoContext(ctx, "transcode done", "elapsed", run.elapsed, "renditions", len(rep.Renditions), "bytes", rep.TotalBytes())
	return rep, nil
}

// finishedChild is a child process that ran to its end.
type finishedChild struct {
	state      *os.ProcessState
	stdout     []byte
	stderrTail string
	elapsed    time.Duration
}

// logFailure logs a failed child's error: media errors at info level,
// anything else (crashes included, with their last words) at error level.
func (c *finishedChild) logFailure(ctx context.Context, log *slog.Logger, msg string, err error) {
	level := slog.LevelInfo
	if !shopclip.IsMediaError(shopclip.ErrorCode(err)) {
		level = slog.LevelError
	}
	attrs := []any{"error", err, "code", shopclip.ErrorCode(err), "elapsed", c.elapsed}
	var crash *crashError
	if errors.As(err, &crash) {
		level = slog.LevelError
		attrs = append(attrs, "signal", crash.signal, "stderr_tail", lastLines(crash.stderr, 40))
	}
	log.Log(ctx, level, msg, attrs...)
}

// runChild starts the child with the protocol flags args, dir as its cwd
// and the job's files m (when sandboxed), forwards its events to onEvent (which may be nil; see Job.OnEvent for
// the checks), and waits for it. The wall-clock deadline is
// Limits.WallFloor until the child's probe event, then WallFloor +
// perSecond × the duration it states. When the child is killed at its
// deadline (EMEDIALIMIT) or because ctx ended (wrapping ctx.Err()), or it
// cannot be started or waited for, runChild returns an error; otherwise the
// finished child, whatever its exit status.
func (r *Runner) runChild(ctx context.Context, log *slog.Logger, args []string, dir string, m mounts, perSecond float64, onEvent func(Event)) (*finishedChild, error) {
	c, err := r.startChild(log, args, dir, m, nil)
	if err != nil {
		return nil, err
	}
	c.stderr.retarget(ctx, c.log)
	c.log.DebugContext(ctx, "transcode child started", "argv0", c.cmd.Path)
	return r.superviseChild(ctx, c, dir, perSecond, onEvent)
}

// child is a started child process.
type child struct {
	cmd    *exec.Cmd
	log    *slog.Logger // with its pid
	evR    *os.File     // the read end of its events pipe
	stdout *boundedBuffer
	stderr *childLog
	start  time.Time // when it was started, or given its job
	// jobs is the parent's end of a prestarted child's job socket (see
	// ChildRequest.JobFD); nil for a child started with its job.
	jobs *os.File
}

// startChild starts the child with the protocol flags args, dir as its cwd
// and the job's files m bound in its sandbox. jobs, when not nil, is the
// child's end of its job socket, passed as fd 4.
func (r *Runner) startChild(log *slog.Logger, args []string, dir string, m mounts, jobs *os.File) (*child, error) {
	argv, err := r.command()
	if err != nil {
		return nil, err
	}
	sandbox, err := r.Sandbox.sandboxArgs(m)
	if err != nil {
		return nil, err
	}
	args = append(args[:len(args):len(args)], sandbox...)
	evR, evW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("transcode: events pipe: %w", err)
	}
	c := &child{evR: evR, stdout: &boundedBuffer{max: 16 << 20}, stderr: &childLog{log: log, ctx: context.Background(), maxLines: 300}}
	extra := []*os.File{evW}
	if jobs != nil {
		extra = append(extra, jobs)
	}
	c.start = time.Now()
	c.cmd, err = r.start(argv, args, dir, c.stdout, c.stderr, extra)
	evW.Close() // the child holds its own copy
	if err != nil {
		evR.Close()
		return nil, err
	}
	c.log = log.With("child_pid", c.cmd.Process.Pid)
	return c, nil
}

// superviseChild forwards the events of c, a child working on a job in
// dir, to onEvent and waits for it, as runChild says.
func (r *Runner) superviseChild(ctx context.Context, c *child, dir string, perSecond float64, onEvent func(Event)) (*finishedChild, error) {
	limits := r.Limits.WithDefaults()
	log, evR, stderr, start := c.log, c.evR, c.stderr, c.start
	defer evR.Close()
	pid := c.cmd.Process.Pid
	cmd := c.cmd

	// Events: forward them, and size the deadline from the probe event.
	deadlines := make(chan time.Duration, 1)
	eventsDone := make(chan struct{})
	go func() {
		defer close(eventsDone)
		sc := bufio.NewScanner(evR)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		stopped := false
		for sc.Scan() {
			var ev Event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				log.WarnContext(ctx, "transcode child sent a bad event", "error", err)
				continue
			}
			if stopped {
				continue
			}
			if err := checkEventPath(dir, ev); err != nil {
				// The child runs FFmpeg on hostile input: never let it point
				// the parent at a file outside its out dir. Stop forwarding
				// (the parent sees a prefix of the events, without a gap).
				// A file that is gone was removed by a failing child: the
				// job's error tells the rest.
				level := slog.LevelError
				if errors.Is(err, fs.ErrNotExist) {
					level = slog.LevelInfo
				}
				log.Log(ctx, level, "transcode child announced a file that cannot be published; forwarding no more events", "error", err)
				stopped = true
				continue
			}
			logEvent(ctx, log, ev)
			if ev.Kind == EventProbe {
				d := time.Duration(ev.DurationMS) * time.Millisecond
				if d <= 0 {
					d = r.Config.WithDefaults().Limits.MaxDuration
				}
				select {
				case deadlines <- limits.WallFloor + time.Duration(perSecond*float64(d)):
				default:
				}
			}
			if onEvent != nil {
				onEvent(ev)
			}
		}
		// Drain whatever is left so a chatty child never blocks on the pipe.
		_, _ = io.Copy(io.Discard, evR)
	}()

	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	timer := time.NewTimer(limits.WallFloor)
	defer timer.Stop()
	deadline := limits.WallFloor
	var killedFor string // "deadline" or "context"
	var waitErr error
	done := ctx.Done()
wait:
	for {
		select {
		case waitErr = <-waited:
			break wait
		case d := <-deadlines:
			deadline = d
			timer.Reset(time.Until(start.Add(d)))
		case <-timer.C:
			if killedFor == "" {
				killedFor = "deadline"
				killGroup(pid)
			}
		case <-done:
			done = nil // closed for good: do not spin on it
			if killedFor == "" {
				killedFor = "context"
				killGroup(pid)
			}
		}
	}
	select {
	case <-eventsDone:
	case <-time.After(2 * time.Second):
		// A descendant still holds the pipe; stop reading.
		evR.Close()
		<-eventsDone
	}
	stderr.flush()
	elapsed := time.Since(start)

	state := cmd.ProcessState
	switch killedFor {
	case "context":
		return nil, fmt.Errorf("transcode: child stopped: %w", ctx.Err())
	case "deadline":
		log.WarnContext(ctx, "transcode child killed at its deadline", "deadline", deadline, "elapsed", elapsed)
		return nil, Loaded(shopclip.Errorf(shopclip.EMEDIALIMIT,
			"Processing the video took longer than its time limit (%s) and was stopped.", humanDuration(deadline)))
	}
	if state == nil {
		return nil, fmt.Errorf("transcode: wait for child: %w", waitErr)
	}
	return &finishedChild{state: state, stdout: c.stdout.Bytes(), stderrTail: stderr.tail(), elapsed: elapsed}, nil
}

// checkEventPath checks the Path of an event announcing a file: a clean,
// slash-separated relative path inside outDir, naming a regular file
// reached through real directories (no symbolic link anywhere).
func checkEventPath(outDir string, ev Event) error {
	if ev.Path == "" {
		if ev.Kind == EventFile || ev.Kind == EventPlayable {
			return fmt.Errorf("transcode: %s event without a path", ev.Kind)
		}
		return nil
	}
	p := ev.Path
	if strings.Contains(p, `\`) || path.Clean(p) != p || !filepath.IsLocal(filepath.FromSlash(p)) {
		return fmt.Errorf("transcode: %s event: %q is not a relative path inside the out dir", ev.Kind, p)
	}
	dir := outDir
	parts := strings.Split(p, "/")
	for i, part := range parts {
		dir = filepath.Join(dir, part)
		fi, err := os.Lstat(dir)
		if err != nil {
			return fmt.Errorf("transcode: %s event: %w", ev.Kind, err)
		}
		last := i == len(parts)-1
		if (last && !fi.Mode().IsRegular()) || (!last && !fi.IsDir()) {
			return fmt.Errorf("transcode: %s event: %q is not a regular file in a directory of the out dir", ev.Kind, p)
		}
	}
	return nil
}

// ChildEnvironment is a child's whole environment: nothing of the parent's
// (credentials, service addresses) reaches it. It holds glibc's malloc
// settings alone, read as the child starts, before any of its threads
// exists: one arena for every thread, allocations up to 32 MiB from the
// heap rather than mmap, and no trimming. Memory the child frees — and the
// memory a prestarted child warms while it waits (WarmMemory) — is then
// what its next allocations get, without faulting the pages in and zeroing
// them again (about 10 µs a page on the development VM). A child lives for
// one job, so nothing is held longer.
var ChildEnvironment = []string{
	"GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296",
}

// start starts the child in its sandbox (see Sandbox) with
// ChildEnvironment. When the kernel refuses the sandbox's namespaces the error
// says so; there is no fallback.
func (r *Runner) start(argv, args []string, dir string, stdout, stderr io.Writer, extra []*os.File) (*exec.Cmd, error) {
	cmd := exec.Command(argv[0], append(argv[1:len(argv):len(argv)], args...)...)
	cmd.Env = slices.Clone(ChildEnvironment)
	cmd.Dir = dir
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.ExtraFiles = extra // fd 3, 4…
	// Stop waiting for the child's output 5 s after it exits, in case a
	// descendant of it still holds a pipe open.
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = r.Sandbox.sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, r.Sandbox.startError(argv[0], err)
	}
	return cmd, nil
}

// interpret maps a finished transcode child to a report or an error.
func interpret(state *os.ProcessState, stdout []byte, stderrTail string) (*Report, error) {
	return decodeChild(state, stdout, stderrTail, func(r *Report) *shopclip.Error { return r.Error })
}

// decodeChild maps a finished child to its JSON report (a Report or a
// ShareReport, whose error errorOf returns) or an error.
func decodeChild[T any](state *os.ProcessState, stdout []byte, stderrTail string, errorOf func(*T) *shopclip.Error) (*T, error) {
	if sig, ok := childSignal(state); ok {
		switch sig {
		case syscall.SIGXCPU:
			return nil, shopclip.Errorf(shopclip.EMEDIALIMIT, "Processing the video used more CPU time than allowed and was stopped.")
		case syscall.SIGXFSZ:
			return nil, shopclip.Errorf(shopclip.EMEDIALIMIT, "Processing the video wrote a file larger than allowed and was stopped.")
		case syscall.SIGKILL:
			// Not ours (we return earlier when we kill): the hard CPU limit or
			// the kernel's OOM killer, which may have picked the child because
			// the machine ran short, not because of the file.
			return nil, Loaded(shopclip.Errorf(shopclip.EMEDIALIMIT, "Processing the video hit a CPU or memory limit and was stopped."))
		default:
			if outOfMemory(stderrTail) {
				return nil, shopclip.Errorf(shopclip.EMEDIALIMIT, "Processing the video needed more memory than allowed and was stopped.")
			}
			return nil, &crashError{
				err:    shopclip.Errorf(shopclip.EMEDIACRASH, "The video processor crashed on this file."),
				signal: sig.String(),
				stderr: stderrTail,
			}
		}
	}
	rep := new(T)
	dec := json.NewDecoder(bytes.NewReader(stdout))
	if err := dec.Decode(rep); err != nil {
		if outOfMemory(stderrTail) {
			// Died of its address-space limit before it could report (the Go
			// runtime or a sanitizer failing an allocation).
			return nil, shopclip.Errorf(shopclip.EMEDIALIMIT, "Processing the video needed more memory than allowed and was stopped.")
		}
		return nil, fmt.Errorf("transcode: child exited with status %d and no report (%v): %s", state.ExitCode(), err, lastLines(stderrTail, 5))
	}
	if dec.More() {
		return nil, fmt.Errorf("transcode: child printed more than one JSON document")
	}
	switch repErr, code := errorOf(rep), state.ExitCode(); {
	case code == ExitOK && repErr == nil:
		return rep, nil
	case code == ExitMedia && repErr != nil && shopclip.IsMediaError(repErr.Code):
		return rep, fmt.Errorf("transcode: %w", repErr)
	case code == ExitInternal && repErr != nil && repErr.Code == shopclip.EINVALID:
		// The request itself was refused (a share spec's overlay image
		// that does not decode): the caller's mistake, not the video's.
		return rep, fmt.Errorf("transcode: child: %w", repErr)
	case code == ExitInternal && repErr != nil:
		return rep, fmt.Errorf("transcode: child: %s", repErr.Message)
	default:
		return nil, fmt.Errorf("transcode: child exited with status %d and an inconsistent report (error %v)", code, repErr)
	}
}

// outOfMemory reports whether a child's last words say an allocation failed.
func outOfMemory(stderrTail string) bool {
	s := strings.ToLower(stderrTail)
	for _, sign := range []string{
		"out of memory", "cannot allocate memory", "cannot map pages",
		"pthread_create failed", "failed to create new os thread", // thread stacks no longer fit the address space
	} {
		if strings.Contains(s, sign) {
			return true
		}
	}
	return false
}

// crashError is an EMEDIACRASH error that keeps the child's last words for
// the logs (they never reach users).
type crashError struct {
	err    *shopclip.Error
	signal string
	stderr string
}

func (e *crashError) Error() string {
	return "transcode: child killed by " + e.signal + ": " + e.err.Error()
}
func (e *crashError) Unwrap() error { return e.err }

func (r *Runner) command() ([]string, error) {
	if len(r.Command) > 0 {
		return r.Command, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("transcode: find own executable: %w", err)
	}
	return []string{exe, "transcode"}, nil
}

// childLogLevel is the child's log level: debug when the Runner's logger
// takes debug lines (the child then says when it runs, after its sandbox is
// set up), info otherwise.
func (r *Runner) childLogLevel(ctx context.Context) string {
	if r.logger().Enabled(ctx, slog.LevelDebug) {
		return "debug"
	}
	return "info"
}

// logEvent logs, at debug level, the events that mark the way to a
// playable stream: the probe, each rendition's first segment (announced
// with its init segment) and the stream becoming playable. Together with
// the worker's lines they tell where an upload's time to first playable
// goes (scripts/bench-ttfp.sh).
func logEvent(ctx context.Context, log *slog.Logger, ev Event) {
	if !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	switch {
	case ev.Kind == EventProbe:
		log.DebugContext(ctx, "transcode child probed", "duration_ms", ev.DurationMS)
	case ev.Kind == EventFile && path.Base(ev.Path) == InitName:
		log.DebugContext(ctx, "transcode child made a first segment", "rendition", ev.Rendition)
	case ev.Kind == EventPlayable:
		log.DebugContext(ctx, "transcode child playable")
	}
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// killGroup kills the child's whole process group.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// boundedBuffer keeps the first max bytes written and discards the rest.
type boundedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *boundedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Bytes()
}

// retarget sends the lines to come to log, in ctx (a prestarted child's,
// once it has its job).
func (c *childLog) retarget(ctx context.Context, log *slog.Logger) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ctx, c.log = ctx, log
}

// childLog forwards the child's stderr: JSON slog lines are re-logged at
// their level with their attributes (at most maxLines per job), anything
// else (a Go crash trace) is kept in a tail for the crash report.
type childLog struct {
	log      *slog.Logger
	ctx      context.Context
	maxLines int

	mu      sync.Mutex
	partial []byte
	lines   int
	tailBuf []byte
	// raw holds the first lines that are not JSON log records: where a Go
	// crash report starts with its cause ("runtime/cgo: pthread_create
	// failed", "fatal error: …"), before stack dumps push it out of the
	// tail.
	raw []byte
}

const childTailMax = 16 << 10

func (c *childLog) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tailBuf = append(c.tailBuf, p...)
	if over := len(c.tailBuf) - childTailMax; over > 0 {
		c.tailBuf = append(c.tailBuf[:0], c.tailBuf[over:]...)
	}
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		c.line(c.partial[:i])
		c.partial = c.partial[i+1:]
	}
	if len(c.partial) > 64<<10 {
		c.line(c.partial)
		c.partial = c.partial[:0]
	}
	return len(p), nil
}

func (c *childLog) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.partial) > 0 {
		c.line(c.partial)
		c.partial = nil
	}
}

func (c *childLog) line(b []byte) {
	if len(bytes.TrimSpace(b)) == 0 {
		return
	}
	c.lines++
	if c.lines > c.maxLines {
		if c.lines == c.maxLines+1 {
			c.log.WarnContext(c.ctx, "transcode child: too many log lines; dropping the rest")
		}
		return
	}
	var rec map[string]any
	if err := json.Unmarshal(b, &rec); err != nil {
		if len(c.raw) < childTailMax/4 {
			c.raw = append(append(c.raw, b...), '\n')
		}
		c.log.WarnContext(c.ctx, "transcode child", "stderr", string(b))
		return
	}
	level := slog.LevelInfo
	if s, ok := rec["level"].(string); ok {
		_ = level.UnmarshalText([]byte(s))
	}
	msg, _ := rec["msg"].(string)
	delete(rec, "time")
	delete(rec, "level")
	delete(rec, "msg")
	attrs := make([]any, 0, 2*len(rec))
	for k, v := range rec {
		attrs = append(attrs, slog.Any(k, v))
	}
	c.log.Log(c.ctx, level, "transcode child: "+msg, attrs...)
}

// tail returns the first raw lines and the last bytes of the child's
// stderr.
func (c *childLog) tail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.raw) + "\n…\n" + string(c.tailBuf)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
