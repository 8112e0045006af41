package localredis_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/localredis"
)

func newServer(t *testing.T) *localredis.Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		testenv.Unavailable(t, "redis-server: %v", err)
	}
	s := &localredis.Server{Dir: filepath.Join(t.TempDir(), "redis")}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func redisCLI(t *testing.T, s *localredis.Server, args ...string) string {
	t.Helper()
	out, err := exec.Command("redis-cli", append([]string{"-s", s.SocketPath()}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestDurableConfiguration(t *testing.T) {
	s := newServer(t)
	for _, tt := range []struct{ key, want string }{
		{"appendonly", "yes"},
		{"maxmemory-policy", "noeviction"},
		{"port", "0"},
	} {
		got := redisCLI(t, s, "CONFIG", "GET", tt.key)
		if lines := strings.Split(got, "\n"); len(lines) != 2 || lines[1] != tt.want {
			t.Errorf("CONFIG GET %s = %q, want %q", tt.key, got, tt.want)
		}
	}
	if fi, err := os.Stat(s.SocketPath()); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("socket %s: %v, mode %v; want private", s.SocketPath(), err, fi.Mode())
	}
}

func TestDataSurvivesRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "redis")
	start := func() *localredis.Server {
		s := &localredis.Server{Dir: dir}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := start()
	redisCLI(t, s, "SET", "k", "kept")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Fatal("server still answers after Close")
	}
	s = start()
	defer s.Close()
	if got := redisCLI(t, s, "GET", "k"); got != "kept" {
		t.Errorf("after restart GET k = %q, want kept", got)
	}
}

func TestRestartsAfterCrash(t *testing.T) {
	s := newServer(t)
	redisCLI(t, s, "SET", "k", "v")
	time.Sleep(1100 * time.Millisecond) // appendfsync everysec
	old := s.PID()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.PID() == old || s.Ping(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis was not restarted after SIGKILL")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := redisCLI(t, s, "GET", "k"); got != "v" {
		t.Errorf("after crash GET k = %q, want v (AOF)", got)
	}
}

func TestLongDirUsesShortSocket(t *testing.T) {
	s := &localredis.Server{Dir: filepath.Join(t.TempDir(), strings.Repeat("d", 120))}
	if p := s.SocketPath(); len(p) > 100 {
		t.Errorf("SocketPath() = %q (%d bytes), want at most 100", p, len(p))
	}
}

// TestCloseDuringRestart kills redis-server and closes the supervisor at
// once, many times: Close must return and leave no redis-server behind,
// whether it lands before, during or after the supervisor's restart.
func TestCloseDuringRestart(t *testing.T) {
	// The supervisor restarts 200 ms after a crash: aim Close all around it.
	delays := []time.Duration{0, 50 * time.Millisecond, 400 * time.Millisecond}
	for d := 190 * time.Millisecond; d < 230*time.Millisecond; d += 5 * time.Millisecond {
		delays = append(delays, d)
	}
	for i, delay := range delays {
		s := newServer(t)
		old := s.PID()
		syscall.Kill(old, syscall.SIGKILL)
		time.Sleep(delay)
		done := make(chan struct{})
		go func() { s.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: Close did not return", i)
		}
		if pid := s.PID(); pid != 0 && alive(pid) {
			t.Fatalf("round %d: redis-server %d still running after Close", i, pid)
		}
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}
