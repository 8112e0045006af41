package chaos

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// proc is one process the drill owns: started in its own process group
// (killed with the drill's process too), its output appended to a log file
// across restarts. A supervised proc is restarted when it exits without the
// drill having stopped it, as systemd's Restart=always would (shopclip
// waits for services down at its start, so an exit by itself is a defect
// the report counts).
type proc struct {
	name      string
	newCmd    func() *exec.Cmd
	logPath   string
	supervise bool
	logf      func(string, ...any)

	mu         sync.Mutex
	cmd        *exec.Cmd
	done       chan struct{}
	held       bool // stopped by the drill: do not restart
	starts     int
	unexpected int // exits the drill did not cause
	closed     bool
}

// start starts the process (again).
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.startLocked()
}

func (p *proc) startLocked() error {
	if p.closed {
		return fmt.Errorf("chaos: %s: closed", p.name)
	}
	if p.cmd != nil && !isDone(p.done) {
		return nil // running
	}
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := p.newCmd()
	cmd.Stdout, cmd.Stderr = log, log
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	fmt.Fprintf(log, "---- chaos: start %s at %s\n", p.name, time.Now().Format(time.RFC3339Nano))
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("chaos: start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.held = cmd, done, false
	p.starts++
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(log, "---- chaos: %s exited at %s: %v\n", p.name, time.Now().Format(time.RFC3339Nano), err)
		log.Close()
		close(done)
		p.exited(cmd)
	}()
	return nil
}

// exited restarts a supervised process the drill did not stop, after a
// pause.
func (p *proc) exited(cmd *exec.Cmd) {
	p.mu.Lock()
	if p.cmd != cmd || p.held || p.closed || !p.supervise {
		p.mu.Unlock()
		return
	}
	p.unexpected++
	p.mu.Unlock()
	if p.logf != nil {
		p.logf("chaos: %s exited by itself (%v); restarting in 2s", p.name, cmd.ProcessState)
	}
	time.Sleep(2 * time.Second)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != cmd || p.held || p.closed {
		return
	}
	if err := p.startLocked(); err != nil && p.logf != nil {
		p.logf("chaos: restart %s: %v", p.name, err)
	}
}

// signal sends sig to the process group.
func (p *proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil && !isDone(p.done) {
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// stop holds the process down: sig to its group, then SIGKILL after
// timeout; it returns once the process has exited.
func (p *proc) stop(sig syscall.Signal, timeout time.Duration) {
	p.mu.Lock()
	p.held = true
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	pid := cmd.Process.Pid
	_ = syscall.Kill(-pid, sig)
	_ = syscall.Kill(-pid, syscall.SIGCONT) // a stopped process must run to die
	select {
	case <-done:
	case <-time.After(timeout):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-done
	}
	// The group may outlive its leader (a transcoder child): end it too.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// close stops the process for good.
func (p *proc) close() {
	p.stop(syscall.SIGTERM, 10*time.Second)
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
}

// running reports whether the process is up.
func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && !isDone(p.done)
}

// pid is the process's ID, 0 when it is not running.
func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || isDone(p.done) {
		return 0
	}
	return p.cmd.Process.Pid
}

// unexpectedExits counts the exits the drill did not cause.
func (p *proc) unexpectedExits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.unexpected
}

func isDone(c chan struct{}) bool {
	if c == nil {
		return true
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitFor polls ok every 100ms until it returns nil, ctx ends or timeout
// passes; it returns ok's last error.
func waitFor(ctx context.Context, timeout time.Duration, ok func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ok()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// dialable reports whether addr accepts TCP connections.
func dialable(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	return c.Close()
}
