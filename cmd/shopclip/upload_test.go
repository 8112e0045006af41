package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
)

// cutProxy forwards to a server and counts the bytes of PATCH bodies; while
// cutAt is set, a PATCH is cut once that many bytes have gone through, and
// onCut runs (the test's Ctrl-C).
type cutProxy struct {
	mu      sync.Mutex
	patched int64
	cutAt   int64
	onCut   func()
}

func (p *cutProxy) handler(target string) http.Handler {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0) // the cuts are on purpose
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			r.Body = &cutReader{r: r.Body, p: p}
		}
		rp.ServeHTTP(w, r)
	})
}

type cutReader struct {
	r io.ReadCloser
	p *cutProxy
}

func (c *cutReader) Read(b []byte) (int, error) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	if c.p.cutAt > 0 {
		if room := c.p.cutAt - c.p.patched; room <= 0 {
			c.p.onCut()
			return 0, errors.New("cut")
		} else if int64(len(b)) > room {
			b = b[:room]
		}
	}
	n, err := c.r.Read(b)
	c.p.patched += int64(n)
	return n, err
}

func (c *cutReader) Close() error { return c.r.Close() }

// TestUploadCommandResumes interrupts `shopclip upload` half-way (Ctrl-C);
// the second run sends only the rest, the clip is byte-identical to the
// file, becomes ready, and its watch URL is printed.
func TestUploadCommandResumes(t *testing.T) {
	m, data := bootUp(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	key := cli(t, "account", "create", "--role", "creator", "--name", "alice", "--data", data)
	file := testenv.Media(t, "iphone_h264_aac_568x320_rotm90_gps.mov")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(raw))

	ctx, interrupt := context.WithCancel(context.Background())
	p := &cutProxy{cutAt: size / 2, onCut: interrupt}
	proxy := httptest.NewServer(p.handler(m.URL()))
	t.Cleanup(proxy.Close)

	var out, errb bytes.Buffer
	code := run(ctx, []string{"upload", file, "--server", proxy.URL, "--key", key, "--title", "Ferry at dusk"}, strings.NewReader(""), &out, &errb)
	if code == 0 || !strings.Contains(errb.String(), "run the same command again") {
		t.Fatalf("interrupted upload: exit %d\n%s", code, errb.String())
	}
	p.mu.Lock()
	first := p.patched
	p.cutAt = 0
	p.mu.Unlock()
	if first == 0 || first > size/2 {
		t.Fatalf("the first run sent %d bytes before the cut at %d", first, size/2)
	}

	// The server goes on with what arrived after the client left; a HEAD
	// before it is done would stop it early (tusd's lock release) and
	// the second run would rightly send more. Wait for the bytes to land.
	settle(t, filepath.Join(data, "uploads"))

	// The second run: the rest only, then the clip is followed to ready.
	out.Reset()
	errb.Reset()
	ctx2, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if code := run(ctx2, []string{"upload", "--server", proxy.URL, file, "--title", "Ferry at dusk"}, strings.NewReader(""), &out, &errb); code == 0 {
		t.Fatal("an upload without a key succeeded")
	}
	t.Setenv("SHOPCLIP_KEY", key)
	if code := run(ctx2, []string{"upload", "--server", proxy.URL, file, "--title", "Ferry at dusk"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("resumed upload: exit %d\n%s", code, errb.String())
	}
	t.Logf("stderr:\n%s", errb.String())
	p.mu.Lock()
	second := p.patched - first
	p.mu.Unlock()
	if !strings.Contains(errb.String(), "resuming") || second >= size || first+second < size {
		t.Errorf("the runs sent %d then %d bytes of %d: want the second to send only what the first did not", first, second, size)
	}
	fields := strings.Fields(out.String())
	if len(fields) != 2 || !strings.HasPrefix(fields[0], shopclip.PrefixClip) || fields[1] != proxy.URL+"/watch/"+fields[0] {
		t.Fatalf("stdout %q, want the clip's ID and watch URL", out.String())
	}
	clip, err := m.store.Clip(context.Background(), fields[0])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if clip.Status != shopclip.ClipReady || clip.Title != "Ferry at dusk" || clip.OriginalSHA256 != hex.EncodeToString(sum[:]) || clip.OriginalSize != size {
		t.Fatalf("clip %+v: want ready, titled, and the file byte for byte", clip)
	}
	for _, want := range []string{"100%", "ready"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
}

// settle waits until the one upload in dir has bytes and stops growing.
func settle(t *testing.T, dir string) {
	t.Helper()
	last := int64(-1)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.info"))
		if len(files) != 1 {
			continue
		}
		st, err := os.Stat(strings.TrimSuffix(files[0], ".info"))
		if err == nil && st.Size() > 0 && st.Size() == last {
			return
		}
		if err == nil {
			last = st.Size()
		}
	}
	t.Fatalf("the cut upload did not settle in %s (%d bytes)", dir, last)
}
