// Package testenv finds or starts the real services that integration tests
// need: Redis, PostgreSQL and a MinIO server, all on 127.0.0.1.
//
// `make test` starts one PostgreSQL and one MinIO (scripts/services.sh) and
// exports their addresses in SHOPCLIP_TEST_* variables; tests then share
// them, each with its own database or bucket. Without those variables a test
// package starts its own servers from the binaries on the machine, and stops
// them when the package's tests end (call Main from TestMain). Every test
// that needs Redis gets a private redis-server. When a service can be
// neither found nor started, the test is skipped, except under CI=true, where
// it fails: CI never silently skips.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables set by scripts/services.sh.
const (
	EnvRedisAddr   = "SHOPCLIP_TEST_REDIS_ADDR"   // host:port of a Redis server
	EnvDatabaseURL = "SHOPCLIP_TEST_DATABASE_URL" // postgres:// URL of a superuser connection
	EnvS3Endpoint  = "SHOPCLIP_TEST_S3_ENDPOINT"  // host:port of a MinIO server
	EnvS3AccessKey = "SHOPCLIP_TEST_S3_ACCESS_KEY"
	EnvS3SecretKey = "SHOPCLIP_TEST_S3_SECRET_KEY"
)

// Main runs the tests of a package and then stops the servers this package
// started itself. Use it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run is Main for a TestMain with cleanup of its own: it runs the tests,
// stops the servers the package started, and returns the exit code.
func Run(m *testing.M) int {
	code := m.Run()
	stopAll()
	return code
}

// Unavailable skips t, or fails it under CI=true, because a service is
// missing.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("required service unavailable under CI=true: %s", msg)
	}
	t.Skipf("service unavailable (run `make test` to start it): %s", msg)
}

var (
	mu      sync.Mutex
	started []*exec.Cmd
	exited  = map[*exec.Cmd]chan struct{}{} // closed when the process has been waited for
	shared  = map[string]any{}              // service name → its shared instance (or error)
)

func stopAll() {
	mu.Lock()
	cmds := started
	started = nil
	mu.Unlock()
	for _, cmd := range cmds {
		stopProcess(cmd)
	}
}

func stopProcess(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	mu.Lock()
	done := exited[cmd]
	mu.Unlock()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// startProcess starts cmd in its own process group, killed with the test
// process, and records it for stopAll.
func startProcess(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	mu.Lock()
	started = append(started, cmd)
	exited[cmd] = done
	mu.Unlock()
	return nil
}

// hasExited reports whether a process startProcess started has ended.
func hasExited(cmd *exec.Cmd) bool {
	mu.Lock()
	done := exited[cmd]
	mu.Unlock()
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitTCP waits until addr accepts connections, cmd exits, or timeout.
func waitTCP(addr string, cmd *exec.Cmd, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if cmd != nil && hasExited(cmd) {
			return fmt.Errorf("%s exited: %s", cmd.Path, cmd.ProcessState)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not listen within %s", addr, timeout)
}

// RandomName returns a short random name for a database or bucket.
func RandomName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// sharedDir is a directory for servers this process starts; it is removed
// by the OS's tmp cleanup, not by tests, because servers outlive single tests.
func sharedDir(name string) (string, error) {
	return os.MkdirTemp("", "shopclip-test-"+name+"-")
}

// ---- Redis ----------------------------------------------------------------

// Redis returns the address (host:port) of an empty Redis server of t's
// own, and the database to use. Each call starts a private redis-server
// (a few milliseconds), stopped when t ends: asynq's keys cannot be
// namespaced, and test packages run in parallel processes, so sharing one
// server would let tests flush each other's queues. Only when no
// redis-server binary exists does it fall back to the shared server of
// SHOPCLIP_TEST_REDIS_ADDR, handing out databases 1..15 in turn.
func Redis(t testing.TB) (addr string, db int) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if addr := os.Getenv(EnvRedisAddr); addr != "" {
			return addr, nextRedisDB(t)
		}
		Unavailable(t, "redis-server not found: %v", err)
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	startRedis(t, bin, addr)
	return addr, 0
}

// StartRedis starts a private, empty redis-server on addr (127.0.0.1:port),
// with more command-line options if given ("--requirepass", "pw"), and
// returns a function that stops it, called also when t ends. Tests use it
// to start Redis late, on a port a process under test already waits for,
// and to stop and start it again there.
func StartRedis(t testing.TB, addr string, options ...string) (stop func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		Unavailable(t, "redis-server not found: %v", err)
	}
	return startRedis(t, bin, addr, options...)
}

func startRedis(t testing.TB, bin, addr string, options ...string) (stop func()) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--port", port, "--bind", host,
		"--dir", t.TempDir(), "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction",
		"--databases", "16"}, options...)
	cmd := exec.Command(bin, args...)
	if err := startProcess(cmd); err != nil {
		Unavailable(t, "start redis-server: %v", err)
	}
	stop = func() { stopProcess(cmd) }
	t.Cleanup(stop)
	if err := waitTCP(addr, cmd, 10*time.Second); err != nil {
		t.Fatalf("redis-server: %v", err)
	}
	return stop
}

var redisDB struct {
	sync.Mutex
	next int
}

// nextRedisDB hands out Redis DB numbers 1..15 in turn and flushes the one it
// hands out; DB 0 stays untouched for interactive use of the shared server.
func nextRedisDB(t testing.TB) int {
	redisDB.Lock()
	db := redisDB.next%15 + 1
	redisDB.next++
	redisDB.Unlock()
	addr := os.Getenv(EnvRedisAddr)
	if err := redisCommand(addr, db, "FLUSHDB"); err != nil {
		Unavailable(t, "redis at %s: %v", addr, err)
	}
	return db
}

// redisCommand runs one inline command on a Redis server (no client library,
// so testenv stays dependency-free).
func redisCommand(addr string, db int, command string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "SELECT %d\r\n%s\r\n", db, command); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if n == 0 || buf[0] == '-' {
		return fmt.Errorf("redis: %q", buf[:n])
	}
	return nil
}

// ---- PostgreSQL -----------------------------------------------------------

type pgServer struct {
	url string // superuser URL to database "postgres"
	err error
}

// Postgres returns the URL of a new, empty PostgreSQL database for t, dropped
// when t ends.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvDatabaseURL)
	if admin == "" {
		s := sharedPostgres()
		if s.err != nil {
			Unavailable(t, "postgresql: %v", s.err)
		}
		admin = s.url
	}
	name := RandomName("shopclip_test_")
	if err := psql(admin, "CREATE DATABASE "+name); err != nil {
		Unavailable(t, "create database at %s: %v", admin, err)
	}
	t.Cleanup(func() {
		if err := psql(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	return withDatabase(admin, name)
}

func sharedPostgres() *pgServer {
	mu.Lock()
	if s, ok := shared["postgres"].(*pgServer); ok {
		mu.Unlock()
		return s
	}
	mu.Unlock()
	s := &pgServer{}
	s.url, s.err = startPostgres()
	mu.Lock()
	shared["postgres"] = s
	mu.Unlock()
	return s
}

// PostgresBinDir finds the directory holding initdb and postgres.
func PostgresBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", fmt.Errorf("initdb not found (apt-get install postgresql)")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

func startPostgres() (string, error) {
	bin, err := PostgresBinDir()
	if err != nil {
		return "", err
	}
	dir, err := sharedDir("pg")
	if err != nil {
		return "", err
	}
	// PostgreSQL refuses to run as root: run it as the postgres user.
	var cred *syscall.Credential
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", fmt.Errorf("running as root and no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := startProcess(cmd); err != nil {
		return "", err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := waitTCP(addr, cmd, 30*time.Second); err != nil {
		return "", err
	}
	url := fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", addr)
	// The port answers before the server accepts queries; wait for that too.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := psql(url, "SELECT 1")
		if err == nil {
			return url, nil
		} else if time.Now().After(deadline) {
			return "", err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// psql runs one statement with the psql client.
func psql(url, stmt string) error {
	bin, err := exec.LookPath("psql")
	if err != nil {
		return fmt.Errorf("psql not found (apt-get install postgresql-client): %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", stmt).CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql %q: %v: %s", stmt, err, out)
	}
	return nil
}

// withDatabase returns url with its database path replaced by name.
func withDatabase(url, name string) string {
	// url is postgres://user@host:port/db?query
	i := len("postgres://")
	for ; i < len(url) && url[i] != '/'; i++ {
	}
	j := i + 1
	for ; j < len(url) && url[j] != '?'; j++ {
	}
	return url[:i] + "/" + name + url[j:]
}

// ---- MinIO ----------------------------------------------------------------

// S3 is a MinIO server and a bucket reserved for one test.
type S3 struct {
	Endpoint  string // host:port, plain HTTP
	AccessKey string
	SecretKey string
	Bucket    string // created by the test (its name is free), unique per call
}

type minioServer struct {
	endpoint, access, secret string
	err                      error
}

// MinIOBinary finds the MinIO server binary: $SHOPCLIP_TEST_MINIO, minio on
// PATH, or the copy scripts/deps.sh builds into ~/.cache/shopclip/bin.
func MinIOBinary() (string, error) {
	if p := os.Getenv("SHOPCLIP_TEST_MINIO"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache", "shopclip", "bin", "minio")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("minio server binary not found (scripts/deps.sh builds it): %w", err)
	}
	return p, nil
}

// MinIO returns a MinIO server and a fresh bucket name for t. The bucket is
// not created: the code under test creates it.
func MinIO(t testing.TB) S3 {
	t.Helper()
	if ep := os.Getenv(EnvS3Endpoint); ep != "" {
		return S3{Endpoint: ep, AccessKey: os.Getenv(EnvS3AccessKey), SecretKey: os.Getenv(EnvS3SecretKey), Bucket: RandomName("test-")}
	}
	mu.Lock()
	s, ok := shared["minio"].(*minioServer)
	mu.Unlock()
	if !ok {
		s = &minioServer{access: "shopclipadmin", secret: "shopclipsecret" + RandomName("")}
		s.endpoint, s.err = startMinIO(s.access, s.secret)
		mu.Lock()
		shared["minio"] = s
		mu.Unlock()
	}
	if s.err != nil {
		Unavailable(t, "minio: %v", s.err)
	}
	return S3{Endpoint: s.endpoint, AccessKey: s.access, SecretKey: s.secret, Bucket: RandomName("test-")}
}

func startMinIO(access, secret string) (string, error) {
	dir, err := sharedDir("minio")
	if err != nil {
		return "", err
	}
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	_, err = runMinIO(addr, dir, access, secret)
	return addr, err
}

// StartMinIO starts a private MinIO server at s.Endpoint (127.0.0.1:port)
// with s's credentials, keeping its objects in dir, and returns a function
// that stops it, called also when t ends. Tests use it to start MinIO late,
// on a port a process under test already waits for, and to stop and start
// it again there (with the same dir, its buckets and objects remain).
func StartMinIO(t testing.TB, s S3, dir string) (stop func()) {
	t.Helper()
	cmd, err := runMinIO(s.Endpoint, dir, s.AccessKey, s.SecretKey)
	if cmd != nil {
		stop = func() { stopProcess(cmd) }
		t.Cleanup(stop)
	}
	if err != nil {
		Unavailable(t, "minio: %v", err)
	}
	return stop
}

// runMinIO starts a MinIO server on addr and waits until it serves.
func runMinIO(addr, dir, access, secret string) (*exec.Cmd, error) {
	bin, err := MinIOBinary()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "server", "--quiet", "--address", addr, dir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+access, "MINIO_ROOT_PASSWORD="+secret,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	if err := startProcess(cmd); err != nil {
		return nil, err
	}
	if err := waitTCP(addr, cmd, 60*time.Second); err != nil {
		return cmd, err
	}
	// MinIO listens before it serves: wait for its readiness probe.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/minio/health/cluster")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, nil
			}
		}
		if time.Now().After(deadline) {
			return cmd, fmt.Errorf("minio at %s not ready: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Tool returns the path of the command-line tool name, which `make test`
// installs; when it is missing the test is skipped, or fails under CI=true.
func Tool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s is not installed (make test-deps installs it)", name)
	}
	return path
}
