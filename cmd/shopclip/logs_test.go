package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shopclip/shopclip/configs"
	"github.com/shopclip/shopclip/internal/logctx"
	"github.com/shopclip/shopclip/internal/testenv"
)

// logLines parses JSON log lines, failing on any line that is not one.
func logLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

// clientFrom is an HTTP client whose connections come from the loopback
// address local (127.0.0.2 is this machine too, but not 127.0.0.1).
func clientFrom(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{DialContext: d.DialContext}}
}

// TestUploadFollowedInTheLogs uploads a real clip through the API of an
// in-process `shopclip up` logging JSON as serve and worker do, and greps
// its logs for the request ID the upload was answered with: the request's
// line, the clip recorded, the transcode enqueued, and the worker's
// transcode start and publish lines carry it, the worker's with the task
// and clip IDs. A client's own X-Request-Id is not taken; a trusted
// proxy's is.
func TestUploadFollowedInTheLogs(t *testing.T) {
	data := t.TempDir()
	cfg, err := configs.Load("", []string{"SHOPCLIP_DATA=" + data, "SHOPCLIP_ADDR=127.0.0.1:0",
		"SHOPCLIP_HTTP_TRUSTED_PROXIES=127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	var out testenv.SyncBuffer
	m := &Main{Config: cfg, Mode: ModeUp, Logger: newLogger(&out, "json", "info"), TranscodeCommand: []string{self(t), "transcode"}}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	creator := cli(t, "account", "create", "--role", "creator", "--name", "alice", "--data", data)

	// The upload, from a client (127.0.0.2: not the trusted proxy) that
	// sends an X-Request-Id of its own.
	f, err := os.Open(testenv.Media(t, "h264_noaudio_480x270_koala.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, _ := mw.CreateFormFile("file", "koala.mp4")
		io.Copy(fw, f)
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", m.URL()+"/v1/clips", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+creator)
	req.Header.Set("X-Request-Id", "chosen-by-the-client")
	resp, err := clientFrom("127.0.0.2").Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var clip struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&clip)
	resp.Body.Close()
	reqID := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != http.StatusAccepted || clip.ID == "" {
		t.Fatalf("upload: %d, clip %q", resp.StatusCode, clip.ID)
	}
	if !strings.HasPrefix(reqID, "req_") {
		t.Fatalf("X-Request-Id %q: want a new req_ ID, not the client's", reqID)
	}
	api := client{t, m.URL()}
	if got := api.waitClip(creator, clip.ID, 3*time.Minute); got.Status != "ready" {
		t.Fatalf("clip is %s: %+v", got.Status, got.Error)
	}
	// The worker logs the publication once the store has it: a poll can
	// see the clip ready a moment before the line is written.
	published := `"msg":"transcode: published"`
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), published) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}

	// One grep: the lines that carry the upload's request ID.
	var grep []map[string]any
	for _, l := range logLines(t, out.String()) {
		if l["request_id"] == reqID {
			grep = append(grep, l)
		}
	}
	has := func(msg string, want map[string]any) bool {
	next:
		for _, l := range grep {
			if l["msg"] != msg {
				continue
			}
			for k, v := range want {
				if l[k] != v {
					continue next
				}
			}
			return true
		}
		return false
	}
	task := "transcode:" + clip.ID
	for _, tc := range []struct {
		msg  string
		want map[string]any
	}{
		{"request", map[string]any{"route": "/v1/clips", "status": float64(202), "component": "api", "client": "127.0.0.2"}},
		{"upload: clip recorded", map[string]any{"clip_id": clip.ID}},
		{"task enqueued", map[string]any{"type": "clip:transcode", "task_id": task, "clip_id": clip.ID}},
		{"transcode: started", map[string]any{"task_id": task, "clip_id": clip.ID, "component": "worker"}},
		{"transcode done", map[string]any{"task_id": task, "clip_id": clip.ID, "component": "transcode"}},
		{"transcode: published", map[string]any{"task_id": task, "clip_id": clip.ID, "component": "worker"}},
	} {
		if !has(tc.msg, tc.want) {
			t.Errorf("grep %s finds no %q line with %v", reqID, tc.msg, tc.want)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", out.String())
	}
	var msgs []string
	for _, l := range grep {
		msgs = append(msgs, fmt.Sprint(l["msg"]))
	}
	t.Logf("grep %s: %d lines: %s", reqID, len(grep), strings.Join(msgs, "; "))
	// Every line the workers wrote about the clip carries the request ID.
	for _, l := range logLines(t, out.String()) {
		if l["clip_id"] == clip.ID && (l["component"] == "worker" || l["component"] == "transcode") && l["request_id"] != reqID {
			t.Errorf("worker line without the upload's request ID: %v", l)
		}
	}

	// Through the trusted proxy (127.0.0.1), its X-Request-Id is kept.
	const proxyID = "3f1e2d9c-8b7a-4c6d-9e5f-0a1b2c3d4e5f"
	for _, tc := range []struct {
		from string
		keep bool
	}{{"127.0.0.1", true}, {"127.0.0.2", false}} {
		req, _ := http.NewRequest("GET", m.URL()+"/v1/feed", nil)
		req.Header.Set("X-Request-Id", proxyID)
		resp, err := clientFrom(tc.from).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Request-Id"); (got == proxyID) != tc.keep {
			t.Errorf("from %s: X-Request-Id %q, kept %v, want %v", tc.from, got, got == proxyID, tc.keep)
		}
	}
}

// runProcess runs a shopclip server subcommand in-process until it has
// printed its URL, and returns the URL and a func that stops it and returns
// what it logged.
func runProcess(t *testing.T, args ...string) (url string, stop func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testenv.SyncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, strings.NewReader(""), &stdout, &stderr) }()
	stop = func() string {
		cancel()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatalf("shopclip %v did not stop", args)
		}
		return stderr.String()
	}
	re := regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)
	for deadline := time.Now().Add(time.Minute); ; {
		if u := re.FindString(stdout.String()); u != "" {
			return u, stop
		}
		select {
		case code := <-done:
			t.Fatalf("shopclip %v exited %d: %s", args, code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("shopclip %v printed no URL: %s", args, stdout.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLogFormats runs serve and up (stderr not a terminal: a buffer) and
// reads what they log about a request: JSON, unless log_format says text.
func TestLogFormats(t *testing.T) {
	addr, db := testenv.Redis(t)
	for _, tc := range []struct {
		name, mode, config string
		text               bool
	}{
		{"serve", "serve", fmt.Sprintf("redis:\n  url: redis://%s/%d\n", addr, db), false},
		{"up, not on a terminal", "up", "", false},
		{"up, log_format text", "up", "log_format: text\n", true},
		{"serve, log_format text", "serve", fmt.Sprintf("log_format: text\nredis:\n  url: redis://%s/%d\n", addr, db), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			config := filepath.Join(dir, "shopclip.yaml")
			if err := os.WriteFile(config, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			url, stop := runProcess(t, tc.mode, "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--config", config)
			resp, err := http.Get(url + "/v1/feed")
			if err != nil {
				stop()
				t.Fatal(err)
			}
			resp.Body.Close()
			id := resp.Header.Get("X-Request-Id")
			logged := stop()
			if id == "" || strings.TrimSpace(logged) == "" {
				t.Fatalf("request ID %q, logs %q", id, logged)
			}
			if tc.text {
				want := regexp.MustCompile(`(?m)^time=\S+ level=INFO msg=request .*route=/v1/feed .*request_id=` + id + `( |$)`)
				if !want.MatchString(logged) {
					t.Errorf("no text request line with request_id=%s in:\n%s", id, logged)
				}
				if strings.HasPrefix(strings.TrimSpace(logged), "{") {
					t.Errorf("text logs start with JSON:\n%s", logged)
				}
				return
			}
			found := false
			for _, l := range logLines(t, logged) { // fails on a line that is not JSON
				found = found || (l["msg"] == "request" && l["route"] == "/v1/feed" && l["request_id"] == id)
			}
			if !found {
				t.Errorf("no JSON request line with request_id %s in:\n%s", id, logged)
			}
		})
	}
}

// TestLogFormatOnATerminal: up writes text to a terminal (a pseudo-
// terminal here), JSON to anything else, and log_format decides when set.
func TestLogFormatOnATerminal(t *testing.T) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	devNull, err := os.Open(os.DevNull) // a character device, not a terminal
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	pipeR, pipeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pipeR.Close()
	defer pipeW.Close()
	for _, tc := range []struct {
		name   string
		mode   Mode
		format string
		stderr io.Writer
		want   string
	}{
		{"up on a terminal", ModeUp, "", tty, "text"},
		{"up to /dev/null", ModeUp, "", devNull, "json"},
		{"up to a pipe", ModeUp, "", pipeW, "json"},
		{"up on a terminal, json asked", ModeUp, "json", tty, "json"},
		{"serve on a terminal", ModeServe, "", tty, "json"},
		{"worker on a terminal", ModeWorker, "", tty, "json"},
		{"worker, text asked", ModeWorker, "text", pipeW, "text"},
	} {
		if got := logFormat(configs.Config{LogFormat: tc.format}, tc.mode, tc.stderr); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestJSONLogLines: the JSON logger writes durations as text does, and the
// IDs of the context.
func TestJSONLogLines(t *testing.T) {
	var buf strings.Builder
	ctx := logctx.WithTaskID(logctx.WithClipID(logctx.WithRequestID(context.Background(), "req_a"), "clp_b"), "transcode:clp_b")
	newLogger(&buf, "json", "info").InfoContext(ctx, "x", "retry_in", 1500*time.Millisecond)
	var got map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &got); err != nil {
		t.Fatal(err)
	}
	if got["retry_in"] != "1.5s" || got["request_id"] != "req_a" || got["clip_id"] != "clp_b" || got["task_id"] != "transcode:clp_b" {
		t.Errorf("line %s: want retry_in 1.5s and the three IDs", buf.String())
	}
}
