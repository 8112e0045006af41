package web_test

import (
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

	"github.com/chromedp/chromedp"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/storefront"
)

// TestStudioUploadBusyAndQuota: the upload queue waits out a busy server's
// Retry-After (its first PATCH answered 503) and goes on by itself, and
// shows the quota's message when a file does not fit.
func TestStudioUploadBusyAndQuota(t *testing.T) {
	w := newWorld(t)
	w.api.Quotas = w.db
	w.api.UploadQuota = storefront.UploadQuota{MaxBytes: 4 << 20}
	creator := w.member(shopclip.RoleCreator, "Mia")
	target, _ := url.Parse(w.srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.FlushInterval = -1
	var mu sync.Mutex
	patches := 0
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			mu.Lock()
			patches++
			first := patches == 1
			mu.Unlock()
			if first {
				rw.Header().Set("Retry-After", "3")
				rw.Header().Set("Content-Type", "application/json")
				rw.WriteHeader(http.StatusServiceUnavailable)
				rw.Write([]byte(`{"error":{"code":"unavailable","message":"The server is receiving as many uploads as it can: retry in a few seconds."}}`))
				return
			}
		}
		rp.ServeHTTP(rw, r)
	}))
	t.Cleanup(proxy.Close)

	dir := t.TempDir()
	write := func(name string, size int) string {
		data := make([]byte, size)
		copy(data, "\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41")
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	small, big := write("small.mp4", 1<<20), write("big.mp4", 5<<20)

	tb := newTab(t, desktop)
	tb.allowErrors("status of 503", "status of 413") // the busy server and the quota, on purpose
	tb.signIn(proxy.URL, creator)
	tb.open(proxy.URL + "/studio/clips")
	tb.waitJS("the live status", `document.querySelector('[data-studio-clips]').dataset.live === 'open'`, 15*time.Second)

	tb.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-pick]`), []string{small}))
	item := `document.querySelector('[data-queue] li[data-upload="small.mp4"]')`
	tb.waitJS("the wait shown", item+` && `+item+`.querySelector('.when').textContent.includes('Going on in 3 s')`, 10*time.Second)
	tb.screenshot("studio-upload-busy")
	tb.waitJS("done after the wait", item+`.dataset.state === 'done'`, 30*time.Second)
	mu.Lock()
	if patches != 2 {
		t.Errorf("%d PATCHes, want the refused one and one more", patches)
	}
	mu.Unlock()

	tb.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-pick]`), []string{big}))
	item = `document.querySelector('[data-queue] li[data-upload="big.mp4"]')`
	tb.waitJS("the quota refusal", item+` && `+item+`.dataset.state === 'failed'`, 15*time.Second)
	reason := eval[string](tb, item+`.querySelector('.reason').textContent`)
	if !strings.Contains(reason, "does not fit your storage quota of 4 MiB") || !strings.Contains(reason, "use 1 MiB") {
		t.Errorf("the refusal reads %q", reason)
	}
	tb.screenshot("studio-upload-quota")
}
