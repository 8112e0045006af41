package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob/s3"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/store"
	"github.com/shopclip/shopclip/transcode/ffmpeg"
)

// proc is a shopclip subprocess (this test binary run as shopclip).
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	out  *strings.Builder // what it printed so far
}

// output returns what the process printed so far.
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func startProc(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(self(t), args...)
	// The tests read the processes' lines as text (serve and worker log
	// JSON by default; TestLogFormats covers that); env may say otherwise.
	cmd.Env = append(append(os.Environ(), "SHOPCLIP_LOG_FORMAT=text"), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out := &strings.Builder{}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	p := &proc{t: t, cmd: cmd, done: make(chan struct{}), out: out}
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() {
		for l := range lines {
			t.Logf("[%s] %s", args[0], l)
			p.mu.Lock()
			p.out.WriteString(l + "\n")
			p.mu.Unlock()
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(syscall.SIGKILL) })
	return p
}

// stop signals the process group and waits for the process.
func (p *proc) stop(sig syscall.Signal) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%v did not stop within 30s of %v", p.cmd.Args, sig)
	}
	if !p.cmd.ProcessState.Success() {
		return fmt.Errorf("%v exited: %v", p.cmd.Args, p.cmd.ProcessState)
	}
	return nil
}

func waitHTTP(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %s: %v", url, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestScaleOut runs the API and the workers as separate processes, `shopclip
// serve` and `shopclip worker`, against shared PostgreSQL, MinIO and Redis,
// and takes a clip through upload, transcode, tagging and a pop-up.
func TestScaleOut(t *testing.T) {
	pg := testenv.Postgres(t)
	redisAddr, redisDB := testenv.Redis(t)
	s3c := testenv.MinIO(t)
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	env := []string{
		"SHOPCLIP_DATABASE_URL=" + pg,
		fmt.Sprintf("SHOPCLIP_REDIS_URL=redis://%s/%d", redisAddr, redisDB),
		"SHOPCLIP_S3_ENDPOINT=" + s3c.Endpoint, "SHOPCLIP_S3_BUCKET=" + s3c.Bucket,
		"SHOPCLIP_S3_ACCESS_KEY=" + s3c.AccessKey, "SHOPCLIP_S3_SECRET_KEY=" + s3c.SecretKey,
		"SHOPCLIP_DATA=" + t.TempDir(), // neither process may use it for state
		"SHOPCLIP_WORKER_WORK_DIR=" + t.TempDir(),
	}
	api := startProc(t, env, "serve", "--addr", addr)
	waitHTTP(t, "http://"+addr+"/readyz", 60*time.Second)
	worker := startProc(t, env, "worker")

	// Accounts go straight to the shared PostgreSQL.
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	creator := cli(t, "account", "create", "--role", "creator", "--name", "alice")
	brand := cli(t, "account", "create", "--role", "brand", "--name", "acme")

	c := client{t, "http://" + addr}
	id := c.upload(creator, testenv.Media(t, "iphone_h264_aac_568x320_rotm90_gps.mov"), "scale-out")
	got := c.waitClip(creator, id, 3*time.Minute)
	if got.Status != "ready" || got.Width != 320 || got.Height != 568 {
		t.Fatalf("clip = %+v", got)
	}

	// Playback: playlists come from the API, segments by redirect to
	// presigned MinIO URLs.
	variants, _, _ := c.fetchHLSWith("http://"+addr+got.Playback.HLS, t.TempDir(), true)
	if len(variants) == 0 {
		t.Fatal("no variants")
	}
	for _, v := range variants {
		res, err := ffmpeg.VerifyHLS(context.Background(), v)
		if err != nil || res.Frames == 0 || res.DecodeErrors != 0 || res.Width != 320 || res.Height != 568 {
			t.Errorf("play %s: %+v, %v", v, res, err)
		}
	}
	// The outputs live in MinIO, under the published generation.
	bs, err := s3.New(s3.Config{Endpoint: s3c.Endpoint, Bucket: s3c.Bucket, AccessKey: s3c.AccessKey, SecretKey: s3c.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := bs.List(context.Background(), shopclip.ClipPrefix(id))
	if err != nil || len(objs) < 4 {
		t.Fatalf("MinIO holds %d objects for the clip: %v", len(objs), err)
	}
	// And the metadata in PostgreSQL.
	db, err := store.Open(context.Background(), pg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if sc, err := db.Clip(context.Background(), id); err != nil || sc.Status != shopclip.ClipReady {
		t.Fatalf("PostgreSQL clip: %+v %v", sc, err)
	}

	var product shopclip.Product
	c.json(brand, "POST", "/v1/products", map[string]any{"sku": "S", "title": "Lamp", "currency": "EUR", "price_minor": 5000, "url": "https://shop.example.com/lamp"}, 201, &product)
	c.json(brand, "POST", "/v1/products/"+product.ID+"/discounts", map[string]any{"kind": "amount", "amount_off_minor": 1000,
		"starts_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "ends_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, 201, nil)
	var tag shopclip.Tag
	c.json(brand, "POST", "/v1/clips/"+id+"/tags", map[string]any{"product_id": product.ID, "start_ms": 0, "end_ms": 1000, "x": 0.1, "y": 0.9}, 202, &tag)
	c.json(creator, "POST", "/v1/clips/"+id+"/tags/"+tag.ID+"/approve", nil, 200, nil)
	var pops struct{ Popups []shopclip.Popup }
	c.json("", "GET", "/v1/clips/"+id+"/popups", nil, 200, &pops)
	if len(pops.Popups) != 1 || pops.Popups[0].Product.SalePriceMinor != 4000 || pops.Popups[0].Label != "-10.00 EUR" {
		t.Errorf("pop-ups = %+v", pops.Popups)
	}
	// The worker process stored the timeline in MinIO.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := bs.Stat(context.Background(), shopclip.OverlaysKey(id, "vtt")); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("no timeline in MinIO: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	for _, p := range []*proc{worker, api} {
		if err := p.stop(syscall.SIGTERM); err != nil {
			t.Error(err)
		}
	}
}

// TestUpStopsCleanlyAndKeepsClips runs `shopclip up` as a process: Ctrl-C
// (SIGINT) stops it and its redis-server child, and a restart on the same data
// directory still has the clip.
func TestUpStopsCleanlyAndKeepsClips(t *testing.T) {
	data := t.TempDir()
	port, _ := testenv.FreePort()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	up := startProc(t, nil, "up", "--addr", addr, "--data", data)
	waitHTTP(t, "http://"+addr+"/readyz", 60*time.Second)
	redisPID := pidOf(t, filepath.Join(data, "redis"))
	key := cli(t, "account", "create", "--role", "creator", "--name", "alice", "--data", data)
	c := client{t, "http://" + addr}
	id := c.upload(key, testenv.Media(t, "h264_noaudio_480x270_koala.mp4"), "keep me")
	c.waitClip(key, id, 2*time.Minute)

	// A second `up` on the same data directory is refused.
	var out, errb strings.Builder
	if code := run(context.Background(), []string{"up", "--addr", "127.0.0.1:0", "--data", data}, nil, &out, &errb); code == 0 || !strings.Contains(errb.String(), "another shopclip") {
		t.Errorf("second up: exit %d, %q", code, errb.String())
	}

	if err := up.stop(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if running(redisPID) {
		t.Errorf("redis-server (pid %d) still running after Ctrl-C", redisPID)
	}

	up2 := startProc(t, nil, "up", "--addr", addr, "--data", data)
	waitHTTP(t, "http://"+addr+"/readyz", 60*time.Second)
	var got clipJSON
	c.json(key, "GET", "/v1/clips/"+id, nil, 200, &got)
	if got.Status != "ready" {
		t.Errorf("after restart the clip is %s", got.Status)
	}
	if err := up2.stop(syscall.SIGINT); err != nil {
		t.Error(err)
	}
}

// TestUpResumesAfterKill: `shopclip up` killed with SIGKILL in the middle
// of a transcode resumes it as soon as it is started again: its Redis is its
// own, so the interrupted task is given back at start rather than after its
// lease lapses (about a minute and a half with asynq alone). The figure is
// logged, not asserted.
func TestUpResumesAfterKill(t *testing.T) {
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
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var got clipJSON
		c.json(key, "GET", "/v1/clips/"+id, nil, 200, &got)
		if got.Status == "processing" {
			break
		} else if got.Status != "uploaded" || time.Now().After(deadline) {
			t.Fatalf("clip %s is %s; want it processing", id, got.Status)
		}
	}
	time.Sleep(2 * time.Second) // into the transcode
	up.stop(syscall.SIGKILL)

	restart := time.Now()
	up2 := startProc(t, nil, "up", "--addr", addr, "--data", data)
	waitHTTP(t, "http://"+addr+"/readyz", 60*time.Second)
	got := c.waitClip(key, id, 5*time.Minute)
	t.Logf("ready %.1f s after the restart", time.Since(restart).Seconds())
	if got.Status != "ready" {
		t.Errorf("after the restart the clip is %s (%+v)", got.Status, got.Error)
	}
	if out := up2.output(); !strings.Contains(out, "resuming the jobs the last run was stopped in") {
		t.Errorf("the restarted up did not take back the interrupted task at start:\n%s", out)
	}
	if err := up2.stop(syscall.SIGINT); err != nil {
		t.Error(err)
	}
}

// running reports whether pid is a live process (a zombie is not).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

// pidOf returns the pid of the redis-server whose files are in dir.
func pidOf(t *testing.T, dir string) int {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmdline), "redis-server") && strings.Contains(string(cmdline), dir) {
			return pid
		}
	}
	t.Fatalf("no redis-server for %s", dir)
	return 0
}
