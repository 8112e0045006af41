// Package localredis runs the embedded default's Redis: a redis-server child
// process that `shopclip up` starts, supervises and stops itself. It listens
// only on a unix socket in the data directory, persists with AOF (fsync every
// second), never evicts keys (asynq needs a database, not a cache), and is
// restarted if it dies.
package localredis

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server is a supervised redis-server child process.
type Server struct {
	// Dir holds the AOF files, the log and (when the path is short enough)
	// the socket.
	Dir string
	// Binary is the redis-server executable. Default: redis-server on PATH.
	Binary string
	Logger *slog.Logger

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	closing bool
	done    chan struct{} // closed when supervision ends
	socket  string
}

// SocketPath is the unix socket the server listens on.
func (s *Server) SocketPath() string {
	if s.socket != "" {
		return s.socket
	}
	p := filepath.Join(s.Dir, "redis.sock")
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if len(p) > 100 { // sun_path holds 108 bytes
		// A private directory of this user's, so no one else can take the
		// name first.
		sum := sha256.Sum256([]byte(p))
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("shopclip-%d", os.Getuid()))
		_ = os.Mkdir(dir, 0o700)
		p = filepath.Join(dir, "redis-"+hex.EncodeToString(sum[:6])+".sock")
	}
	s.socket = p
	return p
}

// URL is the server's address for asynq and go-redis.
func (s *Server) URL() string { return "unix://" + s.SocketPath() }

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Start starts redis-server and waits until it answers PING (after loading
// its AOF). It then supervises the process: an unexpected exit is logged and
// followed by a restart, with backoff.
func (s *Server) Start(ctx context.Context) error {
	bin := s.Binary
	if bin == "" {
		p, err := exec.LookPath("redis-server")
		if err != nil {
			return fmt.Errorf("localredis: redis-server not found: install it (apt-get install redis-server, or run `make up`), or set SHOPCLIP_REDIS_URL to use an existing Redis: %w", err)
		}
		bin = p
	}
	s.Binary = bin
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("localredis: %w", err)
	}
	if err := s.spawn(); err != nil {
		return err
	}
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.Close()
		return err
	}
	s.mu.Lock()
	s.done = make(chan struct{})
	s.mu.Unlock()
	go s.supervise()
	return nil
}

func (s *Server) spawn() error {
	sock := s.SocketPath()
	cmd := exec.Command(s.Binary,
		"--port", "0",
		"--unixsocket", sock,
		"--unixsocketperm", "700",
		"--dir", s.Dir,
		"--appendonly", "yes",
		"--appendfsync", "everysec",
		"--save", "",
		"--maxmemory-policy", "noeviction",
		"--daemonize", "no",
		"--logfile", filepath.Join(s.Dir, "redis.log"),
		"--databases", "1",
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	// Start under the lock, after checking closing, so Close never misses a
	// process the supervisor starts.
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return errClosing
	}
	// A socket left by a killed predecessor would make redis-server fail;
	// the caller holds the data directory's lock, so it is stale.
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("localredis: remove stale socket: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("localredis: start %s: %w", s.Binary, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	s.logger().Info("redis started", "pid", cmd.Process.Pid, "socket", sock)
	return nil
}

var errClosing = errors.New("localredis: closing")

// waitReady polls PING until redis-server answers PONG.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		s.mu.Lock()
		exited := s.exited
		s.mu.Unlock()
		select {
		case <-exited:
			return fmt.Errorf("localredis: redis-server exited at start; see %s", filepath.Join(s.Dir, "redis.log"))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if last = s.Ping(ctx); last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("localredis: redis-server not ready after %s: %w", timeout, last)
}

// Ping checks that the server answers PONG.
func (s *Server) Ping(ctx context.Context) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "unix", s.SocketPath())
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("redis answered %q", strings.TrimSpace(line))
	}
	return nil
}

// supervise restarts redis-server when it exits unexpectedly, giving up after
// five restarts in a minute (shopclip's /readyz then reports Redis down).
func (s *Server) supervise() {
	defer close(s.done)
	var restarts []time.Time
	for {
		s.mu.Lock()
		exited := s.exited
		s.mu.Unlock()
		<-exited
		s.mu.Lock()
		closing := s.closing
		state := s.cmd.ProcessState
		s.mu.Unlock()
		if closing {
			return
		}
		s.logger().Error("redis exited unexpectedly; restarting", "state", state.String(), "log", filepath.Join(s.Dir, "redis.log"))
		now := time.Now()
		for len(restarts) > 0 && now.Sub(restarts[0]) > time.Minute {
			restarts = restarts[1:]
		}
		if len(restarts) >= 5 {
			s.logger().Error("redis keeps exiting; giving up")
			return
		}
		restarts = append(restarts, now)
		time.Sleep(time.Duration(len(restarts)) * 200 * time.Millisecond)
		s.mu.Lock()
		closing = s.closing
		s.mu.Unlock()
		if closing {
			return
		}
		if err := s.spawn(); errors.Is(err, errClosing) {
			return
		} else if err != nil {
			s.logger().Error("redis restart failed", "err", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		if err := s.waitReady(ctx, 60*time.Second); err != nil {
			s.logger().Error("redis restart not ready", "err", err)
		}
		cancel()
	}
}

// Close stops redis-server: SIGTERM (it fsyncs the AOF and exits), then
// SIGKILL after 10 seconds. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done != nil {
		<-done
	}
	// The supervisor may have started one last process before it saw
	// closing; spawn refuses after that, so this is the final one.
	s.mu.Lock()
	last, lastExited := s.cmd, s.exited
	s.mu.Unlock()
	if last != cmd {
		_ = last.Process.Signal(syscall.SIGTERM)
		select {
		case <-lastExited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-last.Process.Pid, syscall.SIGKILL)
			<-lastExited
		}
	}
	_ = os.Remove(s.SocketPath())
	return nil
}

// PID returns the process ID of the running redis-server, or 0.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}
