package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"syscall"
	"time"
)

// A prestarted child (Runner.Prestart) is started with --job-fd instead of
// --in and --out: its sandbox holds none of a job's files, and it waits on
// a unix socket (SOCK_SEQPACKET) for its job, one message carrying the
// input file and the out dir as open files (SCM_RIGHTS). It reaches them
// through /proc/self/fd, which its sandbox's /proc holds, and works in the
// out dir as its cwd, as a child started with its job does. The socket
// closed without a message (Runner.Close) ends it (ExitOK, no report).

// jobFD is the fd a prestarted child gets its job socket as: after the
// events pipe (3).
const jobFD = 4

// ReceiveJob waits on fd, a prestarted child's job socket, for its job and
// returns the input's and the out dir's paths (under /proc/self/fd), with
// the out dir made the cwd. It returns io.EOF when the socket closed with no
// job.
func ReceiveJob(fd int) (input, outDir string, err error) {
	buf := make([]byte, 1)
	oob := make([]byte, syscall.CmsgSpace(2*4))
	var n, oobn int
	for {
		n, oobn, _, _, err = syscall.Recvmsg(fd, buf, oob, syscall.MSG_CMSG_CLOEXEC)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	syscall.Close(fd)
	if err != nil {
		return "", "", fmt.Errorf("transcode: receive the job: %w", err)
	}
	if n == 0 && oobn == 0 {
		return "", "", io.EOF
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return "", "", fmt.Errorf("transcode: receive the job: %d control messages (%v)", len(msgs), err)
	}
	fds, err := syscall.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 2 {
		return "", "", fmt.Errorf("transcode: receive the job: %d files, want 2 (%v)", len(fds), err)
	}
	if err := syscall.Fchdir(fds[1]); err != nil {
		return "", "", fmt.Errorf("transcode: receive the job: enter the out dir: %w", err)
	}
	return "/proc/self/fd/" + strconv.Itoa(fds[0]), "/proc/self/fd/" + strconv.Itoa(fds[1]), nil
}

// Start starts a child ahead of the first job when Prestart is set; it
// returns at once (the child starts in the background).
func (r *Runner) Start() {
	if r.Prestart {
		go r.prestart()
	}
}

// Close ends the prestarted child waiting for a job, if any, and keeps the
// Runner from starting another. Jobs still running are not affected.
func (r *Runner) Close() error {
	r.pre.mu.Lock()
	c := r.pre.child
	r.pre.child, r.pre.closed = nil, true
	r.pre.mu.Unlock()
	if c != nil {
		c.abandon()
	}
	return nil
}

// takePrestarted returns the child waiting for a job, if any, and starts
// the next one; nil when Prestart is off or none is ready.
func (r *Runner) takePrestarted() *child {
	if !r.Prestart {
		return nil
	}
	r.pre.mu.Lock()
	c := r.pre.child
	r.pre.child = nil
	r.pre.mu.Unlock()
	go r.prestart()
	return c
}

// prestart starts a child to wait for the next job, unless one waits or is
// being started, or the Runner is closed.
func (r *Runner) prestart() {
	r.pre.mu.Lock()
	if r.pre.closed || r.pre.child != nil || r.pre.starting {
		r.pre.mu.Unlock()
		return
	}
	r.pre.starting = true
	r.pre.mu.Unlock()
	c, err := r.startPrestarted()
	r.pre.mu.Lock()
	r.pre.starting = false
	closed := r.pre.closed
	if err == nil && !closed {
		r.pre.child = c
	}
	r.pre.mu.Unlock()
	switch {
	case err != nil:
		r.logger().Warn("transcode: prestart a child", "error", err)
	case closed:
		c.abandon()
	}
}

// startPrestarted starts a child that waits for its job on a socket.
func (r *Runner) startPrestarted() (*child, error) {
	if err := r.Config.Validate(); err != nil {
		return nil, err
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("transcode: job socket: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "jobs"), os.NewFile(uintptr(fds[1]), "jobs")
	defer theirs.Close() // the child holds its own copy
	req := ChildRequest{JobFD: jobFD, EventsFD: 3, Config: r.Config, Rlimits: r.Limits.WithDefaults().rlimits(),
		WarmMemory: r.WarmMemory, LogLevel: r.childLogLevel(context.Background())}
	args, err := req.Args()
	if err != nil {
		ours.Close()
		return nil, err
	}
	c, err := r.startChild(r.logger(), args, "/", mounts{}, theirs)
	if err != nil {
		ours.Close()
		return nil, err
	}
	c.jobs = ours
	return c, nil
}

// giveJob hands c, a prestarted child, its job (the files m for the
// sandbox's uid, the input and the out dir) and supervises it as runChild
// does. handed is false when the child could not take the job (it died
// waiting): c is then reaped, and the caller starts another.
func (r *Runner) giveJob(ctx context.Context, log *slog.Logger, c *child, in, out string, m mounts, perSecond float64, onEvent func(Event)) (run *finishedChild, handed bool, err error) {
	if err := r.Sandbox.grantJob(m); err != nil {
		c.abandon()
		return nil, true, err
	}
	inF, err := os.Open(in)
	if err != nil {
		c.abandon()
		return nil, true, fmt.Errorf("transcode: open input: %w", err)
	}
	defer inF.Close()
	outF, err := os.Open(out)
	if err != nil {
		c.abandon()
		return nil, true, fmt.Errorf("transcode: open out dir: %w", err)
	}
	defer outF.Close()
	// The job's lines from here on, before the child can write any.
	c.log = log.With("child_pid", c.cmd.Process.Pid)
	c.stderr.retarget(ctx, c.log)
	c.start = time.Now()
	c.log.DebugContext(ctx, "transcode child started", "argv0", c.cmd.Path, "prestarted", true)
	err = syscall.Sendmsg(int(c.jobs.Fd()), []byte{1}, syscall.UnixRights(int(inF.Fd()), int(outF.Fd())), nil, syscall.MSG_NOSIGNAL)
	c.jobs.Close()
	if err != nil {
		c.abandon()
		return nil, false, fmt.Errorf("transcode: hand the job to child %d: %w", c.cmd.Process.Pid, err)
	}
	run, err = r.superviseChild(ctx, c, out, perSecond, onEvent)
	return run, true, err
}

// abandon ends a child that has no job, or will not do it, and reaps it.
func (c *child) abandon() {
	if c.jobs != nil {
		c.jobs.Close()
	}
	killGroup(c.cmd.Process.Pid)
	_ = c.cmd.Wait()
	c.evR.Close()
}
