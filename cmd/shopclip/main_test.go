package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/configs"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/transcode"
)

// TestMain lets the test binary stand in for the shopclip binary: the
// transcode children and the scale-out processes the tests start re-execute
// it with a subcommand, exactly as the real binary re-executes itself.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "up", "serve", "worker", "account", "transcode":
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
			stop()
			os.Exit(code)
		}
	}
	testenv.Main(m)
}

// self is the argv prefix that runs this test binary as shopclip.
func self(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// testLogger sends logs to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tlogWriter struct{ t *testing.T }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// bootUp runs `shopclip up` in-process on the embedded defaults in a new
// data directory, until the test ends.
func bootUp(t *testing.T) (*Main, string) {
	t.Helper()
	data := t.TempDir()
	cfg, err := configs.Load("", []string{"SHOPCLIP_DATA=" + data, "SHOPCLIP_ADDR=127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg, Mode: ModeUp, Logger: testLogger(t), TranscodeCommand: []string{self(t), "transcode"}}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, data
}

// cli runs a shopclip subcommand in-process and returns its stdout.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("shopclip %v: exit %d: %s", args, code, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// client talks to a running shopclip over HTTP.
type client struct {
	t    *testing.T
	base string
}

func (c client) do(key, method, p string, body any, header ...string) (int, http.Header, []byte) {
	c.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	default:
		js, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(js), "application/json"
	}
	url := p
	if strings.HasPrefix(p, "/") {
		url = c.base + p
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	hc := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func (c client) json(key, method, p string, body any, wantStatus int, v any) {
	c.t.Helper()
	status, _, b := c.do(key, method, p, body)
	if status != wantStatus {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, p, status, wantStatus, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, p, b, err)
		}
	}
}

// upload posts a media file as a clip.
func (c client) upload(key, file, title string) string {
	c.t.Helper()
	f, err := os.Open(file)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("title", title)
		fw, _ := mw.CreateFormFile("file", filepath.Base(file))
		io.Copy(fw, f)
		mw.Close()
		pw.Close()
	}()
	var clip struct{ ID, Status string }
	status, _, b := c.do(key, "POST", "/v1/clips", pr, "Content-Type", mw.FormDataContentType())
	if status != http.StatusAccepted {
		c.t.Fatalf("upload %s: %d %s", file, status, b)
	}
	json.Unmarshal(b, &clip)
	if clip.Status != "uploaded" {
		c.t.Errorf("upload %s: status %q", file, clip.Status)
	}
	return clip.ID
}

// clipJSON is a clip as the API shows it.
type clipJSON struct {
	ID         string
	Status     string
	Progress   float64
	Error      *shopclip.Error
	DurationMS int64 `json:"duration_ms"`
	Width      int
	Height     int
	Renditions []shopclip.Rendition
	Playback   struct{ HLS, MP4, Poster, Storyboard string }
}

// waitClip polls a clip until it is ready or failed.
func (c client) waitClip(key, id string, timeout time.Duration) clipJSON {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var got clipJSON
		c.json(key, "GET", "/v1/clips/"+id, nil, 200, &got)
		if got.Status == "ready" || got.Status == "failed" {
			return got
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("clip %s still %s after %s", id, got.Status, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fetchHLS downloads a clip's master playlist and everything it references
// into dir, mirroring the URL layout, and returns the local path of each
// variant's media playlist (and the audio one, if any).
func (c client) fetchHLS(masterURL, dir string) (variants []string, audio string, master *transcode.MasterPlaylist) {
	return c.fetchHLSWith(masterURL, dir, false)
}

// fetchHLSWith is fetchHLS; with presigned, every segment, init segment and
// poster must answer 302 to a presigned object-store URL, which is followed.
func (c client) fetchHLSWith(masterURL, dir string, presigned bool) (variants []string, audio string, master *transcode.MasterPlaylist) {
	c.t.Helper()
	base := masterURL[:strings.LastIndex(masterURL, "/")+1]
	get := func(rel string) []byte {
		status, h, b := c.do("", "GET", base+rel, nil)
		if presigned && !strings.HasSuffix(rel, ".m3u8") {
			loc := h.Get("Location")
			if status != http.StatusFound || !strings.Contains(loc, "X-Amz-Signature=") {
				c.t.Fatalf("GET %s: %d → %q, want a redirect to a presigned URL", base+rel, status, loc)
			}
			status, h, b = c.do("", "GET", loc, nil)
		}
		if status != 200 {
			c.t.Fatalf("GET %s: %d", base+rel, status)
		}
		if strings.HasSuffix(rel, ".m3u8") && h.Get("Content-Type") != "application/vnd.apple.mpegurl" {
			c.t.Errorf("%s: content type %q", rel, h.Get("Content-Type"))
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			c.t.Fatal(err)
		}
		return b
	}
	m, err := transcode.ParseMasterPlaylist(get("master.m3u8"))
	if err != nil {
		c.t.Fatalf("master playlist: %v", err)
	}
	fetchMedia := func(uri string) string {
		mp, err := transcode.ParseMediaPlaylist(get(uri))
		if err != nil {
			c.t.Fatalf("%s: %v", uri, err)
		}
		if !mp.EndList || mp.PlaylistType != "VOD" {
			c.t.Errorf("%s: not a finished VOD playlist", uri)
		}
		d := path.Dir(uri)
		get(path.Join(d, mp.Map))
		for _, s := range mp.Segments {
			get(path.Join(d, s.URI))
		}
		return filepath.Join(dir, filepath.FromSlash(uri))
	}
	for _, v := range m.Variants {
		variants = append(variants, fetchMedia(v.URI))
	}
	for _, r := range m.Media {
		if r.Type == "AUDIO" && r.URI != "" {
			audio = fetchMedia(r.URI)
		}
	}
	return variants, audio, m
}
