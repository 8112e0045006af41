package web_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
)

// The product as a person runs it: the shopclip binary, built from this
// tree, started with `shopclip up` on its embedded defaults (SQLite, a blob
// directory, its own redis-server, transcodes in child processes).
var binary struct {
	once sync.Once
	path string
	err  error
}

func shopclipBinary(t *testing.T) string {
	t.Helper()
	goTool := testenv.Tool(t, "go")
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "shopclip-bin-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "shopclip")
		cmd := exec.Command(goTool, "build", "-o", binary.path, "github.com/shopclip/shopclip/cmd/shopclip")
		if out, err := cmd.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// running is a `shopclip up`.
type running struct {
	url  string // http://127.0.0.1:port
	data string // its data directory
}

func shopclipUp(t *testing.T) *running {
	t.Helper()
	bin := shopclipBinary(t)
	testenv.Tool(t, "redis-server")
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	r := &running{url: "http://127.0.0.1:" + strconv.Itoa(port), data: t.TempDir()}
	var logs testenv.SyncBuffer
	cmd := exec.Command(bin, "up", "--addr", "127.0.0.1:"+strconv.Itoa(port), "--data", r.data)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("shopclip up said:\n%s", logs.String())
		}
	})
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if res, err := http.Get(r.url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return r
			}
		}
		select {
		case <-exited:
			t.Fatalf("shopclip up exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("shopclip up not ready after 2 minutes:\n%s", logs.String())
		}
	}
}

// cutter forwards to a server, cutting the first upload PATCH after half
// its bytes (the connection closes, as on a train going into a tunnel),
// and counts what every PATCH carried.
type cutter struct {
	mu      sync.Mutex
	cutAt   int64 // bytes of the first PATCH to let through; 0: none cut
	patches []int64
}

func (c *cutter) handler(target string) http.Handler {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	rp.FlushInterval = -1 // server-sent events go through at once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			c.mu.Lock()
			c.patches = append(c.patches, 0)
			n := len(c.patches) - 1
			limit := int64(-1)
			if n == 0 && c.cutAt > 0 {
				limit = c.cutAt
			}
			c.mu.Unlock()
			r.Body = &countingBody{r: r.Body, c: c, i: n, limit: limit}
		}
		rp.ServeHTTP(w, r)
	})
}

type countingBody struct {
	r     io.ReadCloser
	c     *cutter
	i     int
	limit int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	b.c.mu.Lock()
	sent := b.c.patches[b.i]
	b.c.mu.Unlock()
	if b.limit >= 0 {
		if sent >= b.limit {
			return 0, errors.New("cut")
		}
		p = p[:min(int64(len(p)), b.limit-sent)]
	}
	n, err := b.r.Read(p)
	b.c.mu.Lock()
	b.c.patches[b.i] += int64(n)
	b.c.mu.Unlock()
	return n, err
}

func (b *countingBody) Close() error { return b.r.Close() }

// rect is an element's box in the viewport.
type rect struct{ X, Y, W, H float64 }

// It waits for the box to hold still (a smooth scroll, a late layout).
func (tb *tab) rect(sel string) rect {
	tb.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.scrollIntoView({block: 'center'});
		const r = e.getBoundingClientRect(); return {X: r.left, Y: r.top, W: r.width, H: r.height}; })()`, sel)
	last := eval[rect](tb, js)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(150 * time.Millisecond)
		r := eval[rect](tb, js)
		if r == last {
			return r
		}
		last = r
	}
	tb.t.Fatalf("%s did not hold still", sel)
	return last
}

// drag presses at (x0, y0), moves to (x1, y1) in steps and releases.
func (tb *tab) drag(x0, y0, x1, y1 float64) {
	tb.t.Helper()
	acts := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x0, y0, chromedp.ButtonLeft, chromedp.ClickCount(1))}
	for i := 1; i <= 8; i++ {
		f := float64(i) / 8
		acts = append(acts, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x0+(x1-x0)*f, y0+(y1-y0)*f, chromedp.ButtonLeft))
	}
	acts = append(acts, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x1, y1, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	tb.do(acts...)
}

// signUp signs a new account up in the studio's pages.
func (tb *tab) signUp(base string, role shopclip.Role, name, email string) {
	tb.t.Helper()
	tb.open(base + "/studio/signup?role=" + string(role))
	tb.do(
		chromedp.Click(chromedp.CSS(`input[name=role][value=`+string(role)+`]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), name),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "a long enough password"),
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
	)
	tb.waitJS("the studio", `location.pathname === '/studio'`, 15*time.Second)
}

// TestStudioEndToEnd is the whole job through the browser, on the real
// product: a creator signs up and uploads a clip through the page (the
// upload is cut half-way and resumes to a byte-identical original) and
// watches it become ready, live; a brand signs up, adds a product with a
// picture and a discount, and tags it by clicking the video at a known
// spot and dragging the time handles; the creator approves it on the
// consent page; a viewer then sees the card on /watch/{id}.
func TestStudioEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the product")
	}
	up := shopclipUp(t)
	cut := &cutter{}
	proxy := httptest.NewServer(cut.handler(up.url))
	t.Cleanup(proxy.Close)
	base := proxy.URL

	src := testenv.Media(t, "iphone_h264_aac_568x320_rotm90_gps.mov")
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	cut.mu.Lock()
	cut.cutAt = int64(len(raw)) / 2
	cut.mu.Unlock()

	// The creator, on a phone.
	creator := newTab(t, phone)
	creator.allowErrors("502 (Bad Gateway)") // the PATCH cut on purpose
	creator.signUp(base, shopclip.RoleCreator, "Mia <i>Makes</i>", "mia@example.com")
	creator.open(base + "/studio/clips")
	creator.waitJS("the live status", `document.querySelector('[data-studio-clips]').dataset.live === 'open'`, 15*time.Second)
	creator.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-pick]`), []string{src}))
	creator.waitJS("the upload in the queue", `document.querySelector('[data-queue] li')`, 10*time.Second)
	creator.screenshot("studio-clips-uploading")
	creator.waitJS("the upload done", `document.querySelector('[data-queue] li[data-state="done"]')`, time.Minute)
	clipID := eval[string](creator, `document.querySelector('[data-queue] li').dataset.clipId || ''`)
	if !strings.HasPrefix(clipID, shopclip.PrefixClip) {
		t.Fatalf("the finished upload names no clip: %q", clipID)
	}
	cut.mu.Lock()
	patches := append([]int64(nil), cut.patches...)
	cut.mu.Unlock()
	if len(patches) < 2 || patches[0] != int64(len(raw))/2 || sum(patches) >= int64(len(raw))+patches[0] {
		t.Errorf("PATCH bodies %v for a %d-byte file: want the first cut at half and the rest sent once", patches, len(raw))
	}
	orig, err := os.ReadFile(filepath.Join(up.data, "blobs", filepath.FromSlash(shopclip.OriginalKey(clipID))))
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(orig) != sha256.Sum256(raw) {
		t.Fatalf("the stored original (%d bytes) differs from the file (%d bytes)", len(orig), len(raw))
	}
	sel := fmt.Sprintf(`[data-clips] li[data-clip-id=%q]`, clipID)
	creator.waitJS("the clip ready, pushed live", `document.querySelector('`+sel+`[data-status="ready"]')`, 3*time.Minute)
	creator.screenshot("studio-clips-ready")

	// The brand, on a desktop: a product with a picture and a discount.
	brand := newTab(t, desktop)
	brand.signUp(base, shopclip.RoleBrand, "Acme", "shop@acme.example")
	brand.open(base + "/studio/catalog")
	brand.do(
		chromedp.SendKeys(chromedp.CSS(`[data-add-product] input[name=title]`), "Canvas tote"),
		chromedp.SendKeys(chromedp.CSS(`[data-add-product] input[name=sku]`), "TOTE-1"),
		chromedp.SendKeys(chromedp.CSS(`[data-add-product] input[name=price]`), "49.90"),
		chromedp.SendKeys(chromedp.CSS(`[data-add-product] input[name=url]`), "https://acme.example/tote"),
		chromedp.Click(chromedp.CSS(`[data-add-product] button[type=submit]`)),
	)
	brand.waitJS("the product listed", `document.querySelector('[data-product-id]')`, 15*time.Second)
	pic := filepath.Join(t.TempDir(), "tote.png")
	writePNG(t, pic, 800, 600)
	brand.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-image-file]`), []string{pic}))
	brand.waitJS("the picture shown", `document.querySelector('img[data-image]') && document.querySelector('img[data-image]').naturalWidth > 0`, 20*time.Second)
	if w := eval[int](brand, `document.querySelector('img[data-image]').naturalWidth`); w != 512 {
		t.Errorf("the product picture is %d px wide, want the 512-px square", w)
	}
	now := time.Now().UTC()
	eval[bool](brand, fmt.Sprintf(`(() => { const f = document.querySelector('[data-add-discount]'); f.closest('details').open = true;
		f.off.value = '20'; f.starts.value = %q; f.ends.value = %q; return true; })()`,
		now.Add(-time.Hour).Format("2006-01-02T15:04"), now.Add(24*time.Hour).Format("2006-01-02T15:04")))
	brand.do(chromedp.Click(chromedp.CSS(`[data-add-discount] button[type=submit]`)))
	brand.waitJS("the discount listed", `document.querySelector('[data-discount-id][data-state="live"]')`, 15*time.Second)
	if label := eval[string](brand, `(document.querySelector('.product .label') || {}).textContent || ''`); label != "-20%" {
		t.Errorf("the catalog's label %q, want -20%%", label)
	}
	brand.screenshot("studio-catalog")

	// Tagging: find the clip, click the picture, drag the handles.
	brand.open(base + "/studio/tagging")
	// The clip's title is the file's name: search it by that.
	brand.do(chromedp.SendKeys(chromedp.CSS(`[data-find] input[name=q]`), "iphone"))
	brand.do(chromedp.Click(chromedp.CSS(`[data-find] button[type=submit]`)))
	brand.waitJS("the clip found", fmt.Sprintf(`document.querySelector('[data-results] [data-clip-id=%q]')`, clipID), 15*time.Second)
	brand.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-results] [data-clip-id=%q]`, clipID))))
	brand.waitJS("the clip loaded", `document.querySelector('[data-video]').readyState >= 1 && document.querySelector('[data-video]').duration > 3`, 30*time.Second)
	stage := brand.rect(`[data-stage]`)
	const wantX, wantY = 0.3, 0.4
	brand.do(chromedp.MouseClickXY(stage.X+wantX*stage.W, stage.Y+wantY*stage.H))
	line := brand.rect(`[data-timeline]`)
	startH, endH := brand.rect(`[data-handle="start"]`), brand.rect(`[data-handle="end"]`)
	dur := eval[float64](brand, `document.querySelector('[data-video]').duration`)
	brand.drag(startH.X+startH.W/2, startH.Y+startH.H/2, line.X+line.W*1.0/dur, startH.Y+startH.H/2)
	brand.drag(endH.X+endH.W/2, endH.Y+endH.H/2, line.X+line.W*3.5/dur, endH.Y+endH.H/2)
	brand.waitJS("the card previewed", `(`+visibleJS+`)(document.querySelector('[data-layer] .popup'))`, 10*time.Second)
	brand.screenshot("studio-tagging")
	brand.do(chromedp.Click(chromedp.CSS(`[data-submit]`)))
	brand.waitJS("the tag proposed", `document.querySelector('[data-tags] li[data-status="pending"]')`, 15*time.Second)
	var tags struct{ Tags []shopclip.Tag }
	tags = eval[struct{ Tags []shopclip.Tag }](brand, fmt.Sprintf(`fetch('/v1/clips/%s/tags').then((r) => r.json())`, clipID))
	if len(tags.Tags) != 1 {
		t.Fatalf("tags %+v", tags)
	}
	tg := tags.Tags[0]
	if math.Abs(tg.X-wantX) > 0.02 || math.Abs(tg.Y-wantY) > 0.02 {
		t.Errorf("the tag is at %.3f, %.3f; clicked at %.2f, %.2f", tg.X, tg.Y, wantX, wantY)
	}
	if math.Abs(float64(tg.StartMS)-1000) > 150 || math.Abs(float64(tg.EndMS)-3500) > 150 {
		t.Errorf("the tag runs %d–%d ms; dragged to 1000–3500", tg.StartMS, tg.EndMS)
	}

	// The creator approves it, seeing the card on the clip.
	creator.open(base + "/studio/consent")
	creator.waitJS("the tag to review", fmt.Sprintf(`(`+visibleJS+`)(document.querySelector('[data-tag-id=%q] .popup'))`, tg.ID), 15*time.Second)
	creator.screenshot("studio-consent")
	creator.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-tag-id=%q] [data-act="approve"]`, tg.ID))))
	creator.waitJS("the tag active", fmt.Sprintf(`document.querySelector('[data-tag-id=%q]').dataset.status === 'active'`, tg.ID), 15*time.Second)
	brand.waitJS("the brand sees it active", `document.querySelector('[data-tags] li[data-status="active"]')`, 15*time.Second)

	// A viewer sees the card while the clip plays its moment.
	viewer := newTab(t, phone)
	viewer.open(base + "/watch/" + clipID)
	viewer.waitJS("the card on the clip", `[...document.querySelectorAll('.popup')].some((e) => (`+visibleJS+`)(e) && e.textContent.includes('Canvas tote') && e.textContent.includes('-20%'))`, 30*time.Second)
	viewer.screenshot("studio-e2e-watch")
	if src := eval[string](viewer, `(document.querySelector('.popup img') || {}).src || ''`); !strings.Contains(src, "/v1/products/") {
		t.Errorf("the card's picture %q is not the uploaded one", src)
	}
}

func sum(ns []int64) int64 {
	var s int64
	for _, n := range ns {
		s += n
	}
	return s
}

// writePNG writes a w×h picture with a gradient.
func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
