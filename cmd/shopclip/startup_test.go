package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/internal/testenv"
)

// redisErr stands for an error reply from Redis (go-redis's redis.Error).
type redisErr string

func (e redisErr) Error() string { return string(e) }
func (redisErr) RedisError()     {}

func TestUnreachable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", fmt.Errorf("redis: %w", refused), true},
		{"refused, unwrapped", syscall.ECONNREFUSED, true},
		{"name not found yet", &net.DNSError{Err: "no such host", Name: "db.internal", IsNotFound: true}, true},
		{"timed out", fmt.Errorf("s3: %w", context.DeadlineExceeded), true},
		{"closed mid-handshake", io.ErrUnexpectedEOF, true},
		{"redis loading its data", redisErr("LOADING Redis is loading the dataset in memory"), true},
		{"redis password refused", fmt.Errorf("redis: %w", redisErr("WRONGPASS invalid username-password pair or user is disabled.")), false},
		{"postgres starting up", &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}, true},
		{"postgres password refused", &pgconn.PgError{Code: "28P01", Message: "password authentication failed"}, false},
		{"no such database", fmt.Errorf("store: %w", &pgconn.PgError{Code: "3D000"}), false},
		{"refused on one address, password on the other", errors.Join(refused, &pgconn.PgError{Code: "28P01"}), false},
		{"S3 not initialised", blob.Coded(shopclip.EUNAVAILABLE, "object storage unavailable", errors.New("Server not initialized, please try again.")), true},
		{"S3 key refused", errors.New("The Access Key Id you provided does not exist in our records."), false},
		{"certificate refused", blob.Coded(shopclip.EUNAVAILABLE, "object storage unavailable",
			&url.Error{Op: "Get", URL: "https://minio.internal/b", Err: x509.UnknownAuthorityError{}}), false},
		{"TLS alert", &net.OpError{Op: "remote error", Err: tls.AlertError(42)}, false},
		{"malformed URL", shopclip.Errorf(shopclip.EINVALID, "The PostgreSQL URL is not valid."), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unreachable(tt.err); got != tt.want {
				t.Errorf("unreachable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
		{"redis://:s3cret@redis.internal:6379/0", "redis://:xxxxx@redis.internal:6379/0"},
		{"postgres://shopclip:s3cret@db:5432/shopclip?sslmode=require", "postgres://shopclip:xxxxx@db:5432/shopclip?sslmode=require"},
		{"postgres://shopclip@db/shopclip?password=s3cret&sslmode=disable", "postgres://shopclip@db/shopclip?password=xxxxx&sslmode=disable"},
		{"postgres://shopclip:s3cret@db:notaport/shopclip", "postgres://xxxxx@db:notaport/shopclip"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want || strings.Contains(got, "s3cret") {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStartupWait(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name      string
		timeout   time.Duration
		connect   func(ctx context.Context, call int, stop context.CancelFunc) error
		wantErr   []string // in the error; none: success
		stopped   bool     // the error is errStopped
		wantCalls int
		wantLog   []string
	}{
		{
			name: "reachable after two refusals", timeout: time.Minute,
			connect: func(_ context.Context, call int, _ context.CancelFunc) error {
				if call <= 2 {
					return refused
				}
				return nil
			},
			wantCalls: 3,
			wantLog: []string{`msg="startup: waiting for redis" service=redis addr=redis://127.0.0.1:1/0 err="dial tcp: connect: connection refused" attempt=1 retry_in=500ms`,
				`attempt=2 retry_in=1s`, `msg="startup: redis is reachable"`},
		},
		{
			name: "misconfiguration fails at once", timeout: time.Minute,
			connect: func(context.Context, int, context.CancelFunc) error {
				return redisErr("WRONGPASS invalid username-password pair")
			},
			wantErr: []string{"redis at redis://127.0.0.1:1/0: WRONGPASS"}, wantCalls: 1,
		},
		{
			// The second attempt hangs until the deadline: the error given
			// is the refusal before it, not the deadline's.
			name: "gives up at the startup timeout", timeout: time.Second,
			connect: func(ctx context.Context, call int, _ context.CancelFunc) error {
				if call == 1 {
					return refused
				}
				<-ctx.Done()
				return ctx.Err()
			},
			wantErr:   []string{"still unreachable after 1s (startup_timeout", "connection refused"},
			wantCalls: 2,
		},
		{
			name: "a signal ends the wait", timeout: 0,
			connect: func(_ context.Context, call int, stop context.CancelFunc) error {
				stop()
				return refused
			},
			stopped: true, wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs testenv.SyncBuffer
			s := newStartup(tt.timeout, slog.New(slog.NewTextHandler(&logs, nil)))
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			calls := 0
			err := s.wait(ctx, "redis", "redis://127.0.0.1:1/0", func(ctx context.Context) error {
				calls++
				return tt.connect(ctx, calls, stop)
			})
			t.Logf("err: %v\nlog:\n%s", err, logs.String())
			switch {
			case tt.stopped:
				if !errors.Is(err, errStopped) {
					t.Errorf("err = %v, want errStopped", err)
				}
			case len(tt.wantErr) == 0 && err != nil:
				t.Errorf("err = %v, want nil", err)
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want one containing %q", err, w)
				}
			}
			if calls != tt.wantCalls {
				t.Errorf("connect called %d times, want %d", calls, tt.wantCalls)
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("log lacks %q", w)
				}
			}
		})
	}
}

// daemon is a shopclip serve or worker process whose output a test reads.
type daemon struct {
	name string
	cmd  *exec.Cmd
	out  *testenv.SyncBuffer
	done chan struct{}
}

func startDaemon(t *testing.T, env []string, args ...string) *daemon {
	t.Helper()
	d := &daemon{name: args[0], out: &testenv.SyncBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(self(t), args...)
	// waitLine reads text lines (serve and worker log JSON by default).
	d.cmd.Env = append(append(os.Environ(), "SHOPCLIP_LOG_FORMAT=text"), env...)
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
		if t.Failed() {
			t.Logf("[%s] output:\n%s", d.name, d.out)
		}
	})
	return d
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// waitLine waits for a line of output holding every one of parts, while
// the process runs.
func (d *daemon) waitLine(t *testing.T, timeout time.Duration, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for l := range strings.Lines(d.out.String()) {
			if containsAll(l, parts) {
				return l
			}
		}
		if d.exited() {
			t.Fatalf("%s exited (%v) before logging %q", d.name, d.cmd.ProcessState, parts)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s logged no line with %q within %s", d.name, parts, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends sig and waits for the exit, up to a minute.
func (d *daemon) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	syscall.Kill(-d.cmd.Process.Pid, sig)
	select {
	case <-d.done:
	case <-time.After(time.Minute):
		t.Fatalf("%s still running a minute after %v", d.name, sig)
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func freeAddr(t *testing.T) string {
	t.Helper()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// forward makes target reachable at addr from now on: it listens there and
// pipes every connection through, until the test ends.
func forward(t *testing.T, addr, target string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				u, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer u.Close()
				go func() { io.Copy(u, c); u.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, u)
			}()
		}
	}()
}

// TestServeAndWorkerWaitForServices starts `shopclip serve` and `shopclip
// worker` while Redis, PostgreSQL and MinIO are all down: both stay up,
// saying which service they wait for, where and why, and start once the
// services come up one by one (a clip then goes through). Later Redis and
// MinIO go down and come back while both run: neither exits, and a second
// clip goes through.
func TestServeAndWorkerWaitForServices(t *testing.T) {
	pg := testenv.Postgres(t)
	redisAddr, pgAddr, apiAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	pgURL, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	pgTarget := pgURL.Host
	pgURL.Host = pgAddr // nothing listens there yet
	s3c := testenv.S3{Endpoint: freeAddr(t), AccessKey: "shopclipadmin", SecretKey: "shopclipsecret" + testenv.RandomName(""), Bucket: testenv.RandomName("test-")}
	minioDir := t.TempDir()
	env := []string{
		"SHOPCLIP_DATABASE_URL=" + pgURL.String(),
		"SHOPCLIP_REDIS_URL=redis://" + redisAddr + "/0",
		"SHOPCLIP_S3_ENDPOINT=" + s3c.Endpoint, "SHOPCLIP_S3_BUCKET=" + s3c.Bucket,
		"SHOPCLIP_S3_ACCESS_KEY=" + s3c.AccessKey, "SHOPCLIP_S3_SECRET_KEY=" + s3c.SecretKey,
		"SHOPCLIP_DATA=" + t.TempDir(),
		"SHOPCLIP_WORKER_WORK_DIR=" + t.TempDir(),
		"SHOPCLIP_STARTUP_TIMEOUT=10m",
	}
	api := startDaemon(t, env, "serve", "--addr", apiAddr)
	worker := startDaemon(t, env, "worker")
	both := []*daemon{api, worker}

	// Each service in turn: both processes wait for it, retrying, and go on
	// once it answers.
	for _, p := range both {
		p.waitLine(t, time.Minute, `msg="startup: waiting for redis"`, "addr=redis://"+redisAddr+"/0", "connection refused", "attempt=3")
	}
	stopRedis := testenv.StartRedis(t, redisAddr)
	for _, p := range both {
		p.waitLine(t, time.Minute, `msg="startup: redis is reachable"`)
		p.waitLine(t, time.Minute, `msg="startup: waiting for database"`, pgURL.Redacted(), "connection refused", "attempt=2")
	}
	forward(t, pgAddr, pgTarget)
	for _, p := range both {
		p.waitLine(t, time.Minute, `msg="startup: database is reachable"`)
		p.waitLine(t, time.Minute, `msg="startup: waiting for object storage"`, "addr=http://"+s3c.Endpoint+"/"+s3c.Bucket, "connection refused", "attempt=2")
	}
	stopMinIO := testenv.StartMinIO(t, s3c, minioDir)
	for _, p := range both {
		p.waitLine(t, 2*time.Minute, `msg="startup: object storage is reachable"`)
	}
	waitHTTP(t, "http://"+apiAddr+"/readyz", time.Minute)

	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	creator := cli(t, "account", "create", "--role", "creator", "--name", "alice")
	c := client{t, "http://" + apiAddr}
	clip := func(title string) {
		t.Helper()
		id := c.upload(creator, testenv.Media(t, "h264_noaudio_480x270_koala.mp4"), title)
		if got := c.waitClip(creator, id, 3*time.Minute); got.Status != "ready" {
			t.Fatalf("clip %s: %+v", title, got)
		}
	}
	clip("after a late start")

	// Redis and MinIO go away while both run, and come back on the same
	// addresses (MinIO with its data).
	stopRedis()
	stopMinIO()
	waitStatus(t, "http://"+apiAddr+"/readyz", http.StatusServiceUnavailable, time.Minute)
	for _, p := range both {
		if p.exited() {
			t.Fatalf("%s exited when Redis and MinIO went down: %v", p.name, p.cmd.ProcessState)
		}
	}
	testenv.StartRedis(t, redisAddr)
	testenv.StartMinIO(t, s3c, minioDir)
	waitHTTP(t, "http://"+apiAddr+"/readyz", 2*time.Minute)
	clip("after an outage")

	for _, p := range both {
		p.stop(t, syscall.SIGTERM)
		if !p.cmd.ProcessState.Success() {
			t.Errorf("%s: exit %v after SIGTERM", p.name, p.cmd.ProcessState)
		}
	}
}

// waitStatus polls url until it answers status.
func waitStatus(t *testing.T, url string, status int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == status {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %d within %s (last: %v)", url, status, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runToExit runs shopclip with env and args until it exits, for at most a
// minute, and returns its exit code and output.
func runToExit(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, self(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("shopclip %v still running after a minute: it waited instead of failing\n%s", args, out)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// TestStartupMisconfigurationFailsAtOnce: what waiting cannot mend (a
// malformed URL, refused credentials, a missing database) ends the process
// at once, saying which service and why, with no password in the output,
// although the startup timeout is long.
func TestStartupMisconfigurationFailsAtOnce(t *testing.T) {
	redisAddr, redisDB := testenv.Redis(t)
	redisURL := fmt.Sprintf("redis://%s/%d", redisAddr, redisDB)
	pg, err := url.Parse(testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	pg.Path = "/shopclip_no_such_db"
	s3c := testenv.MinIO(t)
	const secret = "s3cretpw"
	lockedRedis := freeAddr(t)
	testenv.StartRedis(t, lockedRedis, "--requirepass", "the-right-one")
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"redis password refused", []string{"SHOPCLIP_REDIS_URL=redis://:" + secret + "@" + lockedRedis + "/0"},
			[]string{"redis at redis://:xxxxx@" + lockedRedis + "/0", "WRONGPASS"}},
		{"malformed redis URL", []string{"SHOPCLIP_REDIS_URL=redis://:" + secret + "@127.0.0.1:notaport/0"},
			[]string{"redis.url", `invalid port ":notaport"`}},
		{"malformed database URL", []string{"SHOPCLIP_REDIS_URL=" + redisURL, "SHOPCLIP_DATABASE_URL=postgres://shopclip:" + secret + "@127.0.0.1:notaport/x"},
			[]string{"database at postgres://xxxxx@127.0.0.1:notaport/x", "URL is not valid"}},
		{"no such database", []string{"SHOPCLIP_REDIS_URL=" + redisURL, "SHOPCLIP_DATABASE_URL=" + pg.String()},
			[]string{"database at " + pg.Redacted(), "does not exist"}},
		{"object storage secret refused", []string{"SHOPCLIP_REDIS_URL=" + redisURL, "SHOPCLIP_S3_ENDPOINT=" + s3c.Endpoint,
			"SHOPCLIP_S3_BUCKET=" + s3c.Bucket, "SHOPCLIP_S3_ACCESS_KEY=" + s3c.AccessKey, "SHOPCLIP_S3_SECRET_KEY=" + secret},
			[]string{"object storage at http://" + s3c.Endpoint + "/" + s3c.Bucket, "signature"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"SHOPCLIP_DATA=" + t.TempDir(), "SHOPCLIP_STARTUP_TIMEOUT=10m"}, tt.env...)
			code, out := runToExit(t, env, "worker")
			t.Logf("exit %d:\n%s", code, out)
			if code == 0 {
				t.Errorf("exit 0, want a failure")
			}
			if !containsAll(out, tt.want) {
				t.Errorf("output lacks %q", tt.want)
			}
			if strings.Contains(out, "waiting for") {
				t.Errorf("it waited, and should not have")
			}
			if strings.Contains(out, secret) {
				t.Errorf("output shows the password %q", secret)
			}
		})
	}
}

// TestStartupTimeout: a service still down when startup_timeout passes ends
// the process with a failure that says which, where and why.
func TestStartupTimeout(t *testing.T) {
	redisAddr := freeAddr(t) // nothing listens
	env := []string{"SHOPCLIP_DATA=" + t.TempDir(), "SHOPCLIP_REDIS_URL=redis://" + redisAddr + "/0", "SHOPCLIP_STARTUP_TIMEOUT=2s"}
	code, out := runToExit(t, env, "worker")
	t.Logf("exit %d:\n%s", code, out)
	if code == 0 {
		t.Errorf("exit 0, want a failure")
	}
	want := []string{"shopclip: redis at redis://" + redisAddr + "/0 still unreachable after 2s (startup_timeout", "connection refused"}
	if !containsAll(out, want) {
		t.Errorf("output lacks %q", want)
	}
}

// TestStartupStopsOnSignal: SIGTERM while a process waits for a service
// stops it at once, cleanly.
func TestStartupStopsOnSignal(t *testing.T) {
	for _, mode := range []string{"serve", "worker"} {
		t.Run(mode, func(t *testing.T) {
			redisAddr := freeAddr(t) // nothing listens
			env := []string{"SHOPCLIP_DATA=" + t.TempDir(), "SHOPCLIP_REDIS_URL=redis://" + redisAddr + "/0", "SHOPCLIP_STARTUP_TIMEOUT=0s"}
			p := startDaemon(t, env, mode, "--addr", freeAddr(t))
			p.waitLine(t, time.Minute, `msg="startup: waiting for redis"`, "startup_timeout=none")
			p.stop(t, syscall.SIGTERM)
			if !p.cmd.ProcessState.Success() {
				t.Errorf("exit %v after SIGTERM, want 0", p.cmd.ProcessState)
			}
			if want := "shopclip: stopped while waiting for redis at redis://" + redisAddr + "/0"; !strings.Contains(p.out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, p.out)
			}
		})
	}
}
