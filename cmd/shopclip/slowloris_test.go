package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/configs"
	"github.com/shopclip/shopclip/internal/testenv"
)

// bootServe runs `shopclip serve` in-process (no workers: nothing is
// transcoded) on a SQLite file, a local blob directory and a test Redis,
// with cfg adjusted by tune.
func bootServe(t *testing.T, tune func(*configs.Config)) *Main {
	t.Helper()
	addr, db := testenv.Redis(t)
	cfg, err := configs.Load("", []string{"SHOPCLIP_DATA=" + t.TempDir(), "SHOPCLIP_ADDR=127.0.0.1:0",
		fmt.Sprintf("SHOPCLIP_REDIS_URL=redis://%s/%d", addr, db)})
	if err != nil {
		t.Fatal(err)
	}
	tune(&cfg)
	m := &Main{Config: cfg, Mode: ModeServe, Logger: testLogger(t)}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// addKey makes an account of role and returns its API key.
func addKey(t *testing.T, m *Main, name string, role shopclip.Role) (*shopclip.Account, string) {
	t.Helper()
	ctx := context.Background()
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: name, Role: role}
	if err := m.store.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	key, hash := shopclip.NewAPIKey()
	if err := m.store.CreateAPIKey(ctx, &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: a.ID, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	return a, key
}

// bigClip publishes a ready clip of creator's, straight through the store,
// with one segment of size bytes, and returns the segment's path.
func bigClip(t *testing.T, m *Main, creator string, size int64) string {
	t.Helper()
	ctx := context.Background()
	c := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: creator, Title: "big", OriginalKey: "originals/big.mp4", OriginalSize: 1}
	if err := m.store.CreateClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	attempt := shopclip.NewID(shopclip.PrefixAttempt)
	if _, err := m.store.StartClipAttempt(ctx, c.ID, attempt); err != nil {
		t.Fatal(err)
	}
	prefix := shopclip.GenerationPrefix(c.ID, attempt)
	if err := m.blobs.Put(ctx, prefix+"720p/seg_00000.m4s", io.LimitReader(zeros{}, size), size, blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	pub := &shopclip.Publication{Generation: attempt, OutputPrefix: prefix, DurationMS: 10_000, Width: 720, Height: 1280,
		Renditions: []shopclip.Rendition{{Name: "720p", Width: 720, Height: 1280, Bandwidth: 1_000_000}}}
	if err := m.store.PublishClip(ctx, c.ID, attempt, pub); err != nil {
		t.Fatal(err)
	}
	return "/v1/clips/" + c.ID + "/media/" + attempt + "/720p/seg_00000.m4s"
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// serving counts the connections this process's HTTP servers hold: the
// goroutines serving one each.
func serving() int {
	var b bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&b, 2)
	return strings.Count(b.String(), "net/http.(*conn).serve(")
}

// waitServing waits until the servers hold n connections, for at most a
// minute (the deadlines under test are a second or two).
func waitServing(t *testing.T, n int) {
	t.Helper()
	for i := 0; serving() != n; i++ {
		if i == 600 {
			t.Fatalf("the server holds %d connections, want %d", serving(), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// drip writes b one byte every interval until a write fails or stop
// closes.
func drip(conn net.Conn, b []byte, interval time.Duration, stop <-chan struct{}) {
	for _, c := range b {
		if _, err := conn.Write([]byte{c}); err != nil {
			return
		}
		select {
		case <-stop:
			return
		case <-time.After(interval):
		}
	}
}

// TestSlowClients: a client that sends its headers, a JSON body or an
// upload too slowly, or does not take a large response, has its
// connection closed by the server at the deadline configured for it, and
// no goroutine is left behind; the live stream, which writes nothing for
// longer than the write deadline, is not cut.
func TestSlowClients(t *testing.T) {
	m := bootServe(t, func(c *configs.Config) {
		c.HTTP.ReadHeaderTimeout = time.Second
		c.HTTP.BodyTimeout = time.Second
		c.HTTP.IdleReadTimeout = time.Second
		c.HTTP.IdleWriteTimeout = time.Second
		c.Upload.MaxBytes = 8 << 20
	})
	api := client{t, m.URL()}
	alice, aliceKey := addKey(t, m, "alice", shopclip.RoleCreator)
	_, acmeKey := addKey(t, m, "acme", shopclip.RoleBrand)
	const segSize = 64 << 20
	segment := bigClip(t, m, alice.ID, segSize)
	// A tus upload to stall in.
	status, h, b := api.do(aliceKey, "POST", "/v1/uploads/", nil, "Tus-Resumable", "1.0.0", "Upload-Length", "1000000",
		"Upload-Metadata", "filename Y2xpcC5tcDQ=,filetype dmlkZW8vbXA0")
	if status != http.StatusCreated {
		t.Fatalf("create upload: %d %s", status, b)
	}
	uploadPath := h.Get("Location")
	if i := strings.Index(uploadPath, "/v1/uploads/"); i >= 0 {
		uploadPath = uploadPath[i:]
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	waitServing(t, 0)

	stop := make(chan struct{})
	defer close(stop)
	dial := func() net.Conn {
		t.Helper()
		d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			// A small receive window: the server's writes block soon.
			return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}}
		conn, err := d.Dial("tcp", m.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	cases := []struct {
		name string
		send func(conn net.Conn)
	}{
		{"headers a byte at a time", func(conn net.Conn) {
			go drip(conn, []byte("GET /healthz HTTP/1.1\r\nHost: shopclip\r\nUser-Agent: slow\r\n\r\n"), 300*time.Millisecond, stop)
		}},
		{"a JSON body a byte at a time", func(conn net.Conn) {
			body := `{"sku":"S1","title":"Slow","currency":"USD","price_minor":100,"url":"https://shop.example.com/p"}`
			fmt.Fprintf(conn, "POST /v1/products HTTP/1.1\r\nHost: shopclip\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", acmeKey, len(body))
			go drip(conn, []byte(body), 300*time.Millisecond, stop)
		}},
		{"a tus PATCH that stalls", func(conn net.Conn) {
			fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: shopclip\r\nAuthorization: Bearer %s\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: 1000000\r\n\r\n", uploadPath, aliceKey)
			conn.Write(make([]byte, 1000))
		}},
		{"a multipart upload that stalls", func(conn net.Conn) {
			fmt.Fprintf(conn, "POST /v1/clips HTTP/1.1\r\nHost: shopclip\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n", aliceKey)
			fmt.Fprint(conn, "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.mp4\"\r\n\r\n\x00\x00\x00\x20ftypisom")
		}},
		{"a media response not taken", func(conn net.Conn) {
			fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: shopclip\r\n\r\n", segment)
		}},
	}
	conns := make([]net.Conn, len(cases))
	for i, tc := range cases {
		conns[i] = dial()
		tc.send(conns[i])
	}
	// The live stream: quiet for longer than the write deadline.
	req, _ := http.NewRequest("GET", m.URL()+"/v1/clips/live", nil)
	req.Header.Set("Authorization", "Bearer "+aliceKey)
	live, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Body.Close()
	events := bufio.NewReader(live.Body)
	readEvent := func(what string) string {
		t.Helper()
		for {
			line, err := events.ReadString('\n')
			if err != nil {
				t.Fatalf("live stream, waiting for %s: %v", what, err)
			}
			if strings.HasPrefix(line, "event: ") {
				return strings.TrimSpace(strings.TrimPrefix(line, "event: "))
			}
		}
	}
	if got := readEvent("the big clip"); got != "clip" {
		t.Fatalf("live stream: first event %q, want clip", got)
	}

	// Every slow connection is closed: only the live stream is left.
	waitServing(t, 1)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := conns[i]
			conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // closed already: ends at once
			got, err := io.ReadAll(conn)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the connection is still open after %d bytes", len(got))
			}
			if bytes.HasPrefix(got, []byte("HTTP/1.1 2")) && len(got) < 200 {
				t.Errorf("a slow request succeeded: %q", got)
			}
			if len(got) >= segSize {
				t.Errorf("read %d bytes, the whole segment: want the response cut", len(got))
			}
		})
	}
	// What the stalled PATCH sent is kept: the upload goes on from there.
	status, h, _ = api.do(aliceKey, "HEAD", uploadPath, nil, "Tus-Resumable", "1.0.0")
	if status != http.StatusOK || h.Get("Upload-Offset") != "1000" {
		t.Errorf("HEAD after the stall: %d, Upload-Offset %q, want 200 and 1000", status, h.Get("Upload-Offset"))
	}

	// The live stream outlived several write deadlines: a change still
	// reaches it.
	f, err := os.CreateTemp(t.TempDir(), "*.mp4")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(append([]byte("\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"), make([]byte, 4096)...))
	f.Close()
	api.upload(aliceKey, f.Name(), "after the quiet")
	if got := readEvent("the new clip"); got != "clip" {
		t.Errorf("live stream: event %q after an upload, want clip", got)
	}
}

// TestConnectionCap: past http.max_connections a new connection waits to
// be accepted, and is served once another closes.
func TestConnectionCap(t *testing.T) {
	const max = 3
	m := bootServe(t, func(c *configs.Config) { c.HTTP.MaxConnections = max })
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	waitServing(t, 0)
	var held []net.Conn
	for range max {
		conn, err := net.Dial("tcp", m.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: shopclip\r\n") // headers not finished: held
		held = append(held, conn)
	}
	waitServing(t, max)

	extra, err := net.Dial("tcp", m.Addr()) // the kernel's backlog takes it
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	fmt.Fprint(extra, "GET /healthz HTTP/1.1\r\nHost: shopclip\r\nConnection: close\r\n\r\n")
	answered := make(chan string, 1)
	go func() {
		extra.SetReadDeadline(time.Now().Add(time.Minute))
		b, _ := io.ReadAll(extra)
		answered <- string(b)
	}()
	select {
	case got := <-answered:
		t.Fatalf("connection %d was served while %d were held: %q", max+1, max, got)
	case <-time.After(500 * time.Millisecond):
	}
	if got := serving(); got != max {
		t.Errorf("the server holds %d connections, want %d", got, max)
	}
	held[0].Close()
	if got := <-answered; !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Errorf("once one closed, connection %d got %q, want 200", max+1, got)
	}
}
