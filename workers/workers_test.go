package workers_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/blob/local"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/store"
	"github.com/shopclip/shopclip/transcode"
	"github.com/shopclip/shopclip/workers"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(envHold); spec != "" {
		holdTask(spec)
		return
	}
	testenv.Main(m)
}

// scriptedTranscoder stands in for the FFmpeg child process in these tests
// of the handlers' bookkeeping: it writes a small output layout, or fails as
// its script says. The real transcoder is exercised by package transcode and
// by the end-to-end tests.
type scriptedTranscoder struct {
	calls atomic.Int32
	// fail returns the error of call n (1-based), or nil to succeed.
	fail       func(n int) error
	delay      time.Duration
	gate       chan struct{} // when set, every call waits for it
	noProgress bool          // never report progress (so only the publish fences)
	// progressive announces the first files and a playable stream, then
	// waits for afterPlayable before finishing.
	progressive   bool
	afterPlayable chan struct{}
	// mp4 also writes the progressive MP4.
	mp4 bool
}

func (s *scriptedTranscoder) Transcode(ctx context.Context, job workers.TranscodeJob) (*workers.TranscodeResult, error) {
	n := int(s.calls.Add(1))
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	if s.fail != nil {
		if err := s.fail(n); err != nil {
			return nil, err
		}
	}
	src, err := os.ReadFile(job.Input)
	if err != nil {
		return nil, err
	}
	if job.Progress != nil && !s.noProgress {
		job.Progress(0.5)
	}
	if s.progressive {
		first := map[string]string{
			"720p/init.mp4":      "init",
			"720p/seg_00000.m4s": "first",
			"720p/index.m3u8":    "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n",
			"master.m3u8":        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=3000\n720p/index.m3u8\n",
		}
		for _, name := range []string{"720p/init.mp4", "720p/seg_00000.m4s", "720p/index.m3u8"} {
			writeOut(job.OutDir, name, first[name])
			job.File(name, nil)
		}
		writeOut(job.OutDir, "master.m3u8", first["master.m3u8"])
		job.Playable(workers.Playable{DurationMS: 5000, Width: 720, Height: 1280,
			Renditions: []shopclip.Rendition{{Name: "720p", Width: 720, Height: 1280, Bandwidth: 3000}}})
		select {
		case <-s.afterPlayable:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	files := map[string]string{
		"master.m3u8":        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\n720p/index.m3u8\n",
		"720p/index.m3u8":    "#EXTM3U\n#EXT-X-ENDLIST\n",
		"720p/init.mp4":      "init",
		"720p/seg_00000.m4s": string(src), // proves the original reached the child
		shopclip.PosterFile:  "jpeg",
	}
	if s.mp4 {
		files[shopclip.MP4File] = "progressive " + string(src)
	}
	for name, body := range files {
		p := filepath.Join(job.OutDir, name)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			return nil, err
		}
	}
	return &workers.TranscodeResult{DurationMS: 5000, Width: 720, Height: 1280,
		Renditions: []shopclip.Rendition{{Name: "720p", Width: 720, Height: 1280, Bandwidth: 1000}}}, nil
}

func writeOut(dir, name, body string) {
	p := filepath.Join(dir, name)
	os.MkdirAll(filepath.Dir(p), 0o700)
	os.WriteFile(p, []byte(body), 0o600)
}

type harness struct {
	t       *testing.T
	store   *store.DB
	blobs   blob.Store
	queue   *workers.Client
	insp    *asynq.Inspector
	opt     asynq.RedisClientOpt
	tc      *scriptedTranscoder
	handle  *workers.Handlers
	creator *shopclip.Account
}

func newHarness(t *testing.T, tc *scriptedTranscoder) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := local.New(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	addr, n := testenv.Redis(t)
	opt := asynq.RedisClientOpt{Addr: addr, DB: n}
	h := &harness{t: t, store: db, blobs: blobs, opt: opt, tc: tc,
		queue: workers.NewClient(opt, workers.ClientConfig{MaxRetry: 5}), insp: asynq.NewInspector(opt)}
	t.Cleanup(func() { h.queue.Close(); h.insp.Close() })
	h.handle = &workers.Handlers{Store: db, Blobs: blobs, Transcoder: tc, Tags: h.queue, WorkDir: t.TempDir(), MaxCrashes: 3}
	h.creator = &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "alice", Role: shopclip.RoleCreator}
	if err := db.CreateAccount(ctx, h.creator); err != nil {
		t.Fatal(err)
	}
	return h
}

// newClip records an uploaded clip whose original is body.
func (h *harness) newClip(body string) *shopclip.Clip {
	h.t.Helper()
	ctx := context.Background()
	c := &shopclip.Clip{ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: h.creator.ID, Title: "t", OriginalSize: int64(len(body))}
	c.OriginalKey = shopclip.OriginalKey(c.ID)
	if err := h.blobs.Put(ctx, c.OriginalKey, strings.NewReader(body), int64(len(body)), blob.PutOptions{}); err != nil {
		h.t.Fatal(err)
	}
	if err := h.store.CreateClip(ctx, c); err != nil {
		h.t.Fatal(err)
	}
	return c
}

// serve runs a worker server until the test ends.
func (h *harness) serve(concurrency int) {
	srv := workers.NewServer(h.opt, workers.ServerConfig{Concurrency: concurrency, ShutdownTimeout: 2 * time.Second,
		RetryDelay: func(int, error, *asynq.Task) time.Duration { return 100 * time.Millisecond }}, h.handle)
	if err := srv.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(srv.Shutdown)
}

// waitTerminal polls the clip until it is ready or failed.
func (h *harness) waitTerminal(id string, timeout time.Duration) *shopclip.Clip {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := h.store.Clip(context.Background(), id)
		if err != nil {
			h.t.Fatal(err)
		}
		if c.Status.Terminal() {
			return c
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("clip %s still %s after %s", id, c.Status, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTranscodePublishes(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{})
	h.serve(2)
	c := h.newClip("original bytes")
	if err := h.queue.EnqueueTranscode(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	got := h.waitTerminal(c.ID, 30*time.Second)
	if got.Status != shopclip.ClipReady || got.DurationMS != 5000 || got.Width != 720 || !got.HasPoster || got.HasMP4 {
		t.Fatalf("clip = %+v", got)
	}
	body := readBlob(t, h.blobs, got.OutputPrefix+"720p/seg_00000.m4s")
	if body != "original bytes" {
		t.Errorf("segment = %q, want the original's bytes", body)
	}
	if !strings.HasPrefix(got.OutputPrefix, shopclip.ClipPrefix(c.ID)) || !strings.Contains(got.OutputPrefix, got.Generation) {
		t.Errorf("prefix %q does not scope generation %q", got.OutputPrefix, got.Generation)
	}
	// The work dir is cleaned up (right after the publish).
	for deadline := time.Now().Add(10 * time.Second); ; {
		entries, _ := os.ReadDir(h.handle.WorkDir)
		if len(entries) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("work dir holds %d entries", len(entries))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A tag task followed.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := h.blobs.Stat(context.Background(), shopclip.OverlaysKey(c.ID, "vtt")); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("no overlays stored: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDuplicateExecution runs the same task twice at once (asynq promises at
// least once): one generation is published, the other's outputs are removed.
func TestDuplicateExecution(t *testing.T) {
	for _, noProgress := range []bool{false, true} {
		t.Run(fmt.Sprintf("noProgress=%v", noProgress), func(t *testing.T) { testDuplicateExecution(t, noProgress) })
	}
}

func testDuplicateExecution(t *testing.T, noProgress bool) {
	gate := make(chan struct{})
	tc := &scriptedTranscoder{gate: gate, noProgress: noProgress}
	h := newHarness(t, tc)
	c := h.newClip("dup")
	task := asynq.NewTask(workers.TypeTranscode, []byte(fmt.Sprintf(`{"clip_id":%q}`, c.ID)))
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { errs[i] = h.handle.HandleTranscode(context.Background(), task) })
		// Let the first take ownership before the second does, as a
		// redelivery after a lost lease would.
		for tc.calls.Load() < int32(i+1) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("execution %d: %v", i, err)
		}
	}
	got, _ := h.store.Clip(context.Background(), c.ID)
	if got.Status != shopclip.ClipReady {
		t.Fatalf("status %s", got.Status)
	}
	objs, err := h.blobs.List(context.Background(), shopclip.ClipPrefix(c.ID))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if !strings.HasPrefix(o.Key, got.OutputPrefix) && !strings.Contains(o.Key, "overlays.") {
			t.Errorf("object %s outside the published generation %s", o.Key, got.OutputPrefix)
		}
	}
	// A third run, after publication, changes nothing.
	if err := h.handle.HandleTranscode(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	again, _ := h.store.Clip(context.Background(), c.ID)
	if again.Generation != got.Generation || tc.calls.Load() != 2 {
		t.Errorf("re-run: generation %s → %s, %d transcodes", got.Generation, again.Generation, tc.calls.Load())
	}
}

func TestMediaErrorFailsWithoutRetry(t *testing.T) {
	tc := &scriptedTranscoder{fail: func(int) error {
		return fmt.Errorf("probe: %w", shopclip.Errorf(shopclip.EMEDIANOVIDEO, "This file has no video stream."))
	}}
	h := newHarness(t, tc)
	h.serve(1)
	c := h.newClip("audio only")
	h.queue.EnqueueTranscode(context.Background(), c.ID)
	got := h.waitTerminal(c.ID, 30*time.Second)
	if got.Status != shopclip.ClipFailed || got.Error == nil || got.Error.Code != shopclip.EMEDIANOVIDEO || got.Error.Message != "This file has no video stream." {
		t.Errorf("clip = %+v (error %+v)", got, got.Error)
	}
	if n := tc.calls.Load(); n != 1 {
		t.Errorf("%d attempts, want 1 (no retry helps bad media)", n)
	}
	if objs, _ := h.blobs.List(context.Background(), shopclip.ClipPrefix(c.ID)); len(objs) != 0 {
		t.Errorf("failed clip left %d objects", len(objs))
	}
	if _, err := h.blobs.Stat(context.Background(), c.OriginalKey); err != nil {
		t.Errorf("the original must be kept: %v", err)
	}
}

func TestCrashesAreRetriedThenFail(t *testing.T) {
	tc := &scriptedTranscoder{fail: func(int) error {
		return shopclip.Errorf(shopclip.EMEDIACRASH, "The transcoder crashed (SIGSEGV).")
	}}
	h := newHarness(t, tc)
	h.serve(1)
	c := h.newClip("poison")
	h.queue.EnqueueTranscode(context.Background(), c.ID)
	got := h.waitTerminal(c.ID, 60*time.Second)
	if got.Status != shopclip.ClipFailed || got.Error.Code != shopclip.EMEDIACRASH {
		t.Errorf("clip = %+v (error %+v)", got, got.Error)
	}
	if n := tc.calls.Load(); n != 3 {
		t.Errorf("%d attempts, want MaxCrashes = 3", n)
	}
}

// TestProgressivePublishing: once the transcoder says the stream is
// playable, its files are in the store and the clip, still processing,
// names the generation; the rest follows and the clip becomes ready.
func TestProgressivePublishing(t *testing.T) {
	tc := &scriptedTranscoder{progressive: true, afterPlayable: make(chan struct{})}
	h := newHarness(t, tc)
	h.serve(1)
	c := h.newClip("progressive")
	h.queue.EnqueueTranscode(context.Background(), c.ID)
	deadline := time.Now().Add(30 * time.Second)
	var got *shopclip.Clip
	for {
		got, _ = h.store.Clip(context.Background(), c.ID)
		if got.Generation != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no generation published while processing: %+v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got.Status != shopclip.ClipProcessing || got.Width != 720 || len(got.Renditions) != 1 {
		t.Errorf("playable clip = %+v", got)
	}
	for key, want := range map[string]string{"master.m3u8": "#EXTM3U", "720p/seg_00000.m4s": "first", "720p/init.mp4": "init"} {
		if body := readBlob(t, h.blobs, got.OutputPrefix+key); !strings.HasPrefix(body, want) {
			t.Errorf("%s = %q while processing", key, body)
		}
	}
	close(tc.afterPlayable)
	final := h.waitTerminal(c.ID, 30*time.Second)
	if final.Status != shopclip.ClipReady || final.Generation != got.Generation {
		t.Fatalf("final clip = %+v", final)
	}
	if body := readBlob(t, h.blobs, final.OutputPrefix+"720p/index.m3u8"); !strings.Contains(body, "ENDLIST") {
		t.Errorf("final playlist = %q, want the VOD one", body)
	}
}

func TestCrashCountIsSeparateFromRetries(t *testing.T) {
	tc := &scriptedTranscoder{fail: func(n int) error {
		switch n {
		case 1, 2:
			return errors.New("object store timeout")
		case 3:
			return shopclip.Errorf(shopclip.EMEDIACRASH, "The transcoder crashed (SIGSEGV).")
		}
		return nil
	}}
	h := newHarness(t, tc)
	h.serve(1)
	c := h.newClip("mostly fine")
	h.queue.EnqueueTranscode(context.Background(), c.ID)
	got := h.waitTerminal(c.ID, 60*time.Second)
	if got.Status != shopclip.ClipReady || got.Crashes != 1 || got.Attempts != 4 {
		t.Errorf("clip = status %s, crashes %d, attempts %d; want ready after 1 crash in 4 attempts", got.Status, got.Crashes, got.Attempts)
	}
}

func TestTagTaskStoresTimelineAndSchedulesPriceChanges(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{})
	h.serve(1)
	ctx := context.Background()
	c := h.newClip("shoppable")
	h.queue.EnqueueTranscode(ctx, c.ID)
	h.waitTerminal(c.ID, 30*time.Second)
	// The publish enqueues the clip's tag task: let the worker run it
	// first, or its timeline (read before the tag below existed) may be
	// stored after this test's.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		info, err := h.insp.GetQueueInfo(workers.QueueTag)
		if err == nil && info.Processed > 0 && info.Pending+info.Active+info.Retry == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the publish's tag task did not run: %+v, %v", info, err)
		}
	}

	brand := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "acme", Role: shopclip.RoleBrand}
	h.store.CreateAccount(ctx, brand)
	p := &shopclip.Product{ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: brand.ID, SKU: "S", Title: "Lamp", Currency: "EUR", PriceMinor: 5000, URL: "https://s.example/l", InStock: true}
	h.store.CreateProduct(ctx, p)
	ends := time.Now().Add(time.Hour).Truncate(time.Second)
	h.store.CreateDiscount(ctx, &shopclip.Discount{ID: shopclip.NewID(shopclip.PrefixDiscount), ProductID: p.ID, Kind: shopclip.DiscountAmount, AmountOffMinor: 500, StartsAt: time.Now().Add(-time.Minute), EndsAt: ends})
	tag := &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: p.ID, BrandID: brand.ID, StartMS: 1000, EndMS: 2000, X: 0.5, Y: 0.5, Status: shopclip.TagActive}
	if err := h.store.CreateTag(ctx, tag); err != nil {
		t.Fatal(err)
	}
	task := asynq.NewTask(workers.TypeTag, []byte(fmt.Sprintf(`{"clip_id":%q}`, c.ID)))
	if err := h.handle.HandleTag(ctx, task); err != nil {
		t.Fatal(err)
	}
	vtt := readBlob(t, h.blobs, shopclip.OverlaysKey(c.ID, "vtt"))
	if !strings.Contains(vtt, "00:00:01.000 --> 00:00:02.000") || !strings.Contains(vtt, `"label":"-5.00 EUR"`) || !strings.Contains(vtt, `"sale_price_minor":4500`) {
		t.Errorf("overlays.vtt = %q", vtt)
	}
	js := readBlob(t, h.blobs, shopclip.OverlaysKey(c.ID, "json"))
	if !strings.Contains(js, tag.ID) {
		t.Errorf("overlays.json = %q", js)
	}
	scheduled, err := h.insp.ListScheduledTasks(workers.QueueTag)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ti := range scheduled {
		found = found || (strings.Contains(string(ti.Payload), c.ID) && ti.NextProcessAt.Equal(ends))
	}
	if !found {
		t.Errorf("no clip:tag scheduled at the sale's end %s: %+v", ends, scheduled)
	}
	// After the clip is deleted, a tag task removes what it would leave behind.
	h.store.DeleteClip(ctx, c.ID)
	h.blobs.Put(ctx, shopclip.OverlaysKey(c.ID, "vtt"), strings.NewReader("stale"), 5, blob.PutOptions{})
	if err := h.handle.HandleTag(ctx, task); err != nil {
		t.Fatal(err)
	}
	if _, err := h.blobs.Stat(ctx, shopclip.OverlaysKey(c.ID, "vtt")); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Errorf("overlays of a deleted clip: %v", err)
	}
}

func TestTransientErrorIsRetried(t *testing.T) {
	tc := &scriptedTranscoder{fail: func(n int) error {
		if n == 1 {
			return errors.New("disk hiccup")
		}
		return nil
	}}
	h := newHarness(t, tc)
	h.serve(1)
	c := h.newClip("flaky")
	h.queue.EnqueueTranscode(context.Background(), c.ID)
	got := h.waitTerminal(c.ID, 30*time.Second)
	if got.Status != shopclip.ClipReady || got.Attempts != 2 {
		t.Errorf("clip = status %s, attempts %d; want ready after 2", got.Status, got.Attempts)
	}
}

// TestOutageIsRetriedForTheWindow: failures that are not the file's (the
// store, the database, the queue down) are retried past the old five
// retries for as long as the retry window lasts, never counted as crashes,
// and the clip fails only when the window has passed, saying why.
func TestOutageIsRetriedForTheWindow(t *testing.T) {
	outage := errors.New("object store: connection refused")
	t.Run("shorter than the window", func(t *testing.T) {
		tc := &scriptedTranscoder{fail: func(n int) error {
			if n <= 8 {
				return outage
			}
			return nil
		}}
		h := newHarness(t, tc)
		h.queue = workers.NewClient(h.opt, workers.ClientConfig{}) // the default MaxRetry
		t.Cleanup(func() { h.queue.Close() })
		h.serve(1)
		c := h.newClip("fine, storage flaky")
		if err := h.queue.EnqueueTranscode(context.Background(), c.ID); err != nil {
			t.Fatal(err)
		}
		got := h.waitTerminal(c.ID, 60*time.Second)
		if got.Status != shopclip.ClipReady || got.Attempts != 9 || got.Crashes != 0 {
			t.Errorf("clip = status %s, attempts %d, crashes %d (error %+v); want ready after 9 attempts, no crash",
				got.Status, got.Attempts, got.Crashes, got.Error)
		}
	})
	t.Run("longer than the window", func(t *testing.T) {
		// The clock jumps two hours at the third failure.
		var skew atomic.Int64
		tc := &scriptedTranscoder{fail: func(n int) error {
			if n == 3 {
				skew.Store(int64(2 * time.Hour))
			}
			return outage
		}}
		h := newHarness(t, tc)
		h.queue = workers.NewClient(h.opt, workers.ClientConfig{})
		t.Cleanup(func() { h.queue.Close() })
		h.handle.RetryWindow = time.Hour
		h.handle.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		h.serve(1)
		c := h.newClip("fine, storage down")
		if err := h.queue.EnqueueTranscode(context.Background(), c.ID); err != nil {
			t.Fatal(err)
		}
		got := h.waitTerminal(c.ID, 60*time.Second)
		if got.Status != shopclip.ClipFailed || got.Error == nil || got.Error.Code != shopclip.EINTERNAL ||
			!strings.Contains(got.Error.Message, "problem on our side") || !strings.Contains(got.Error.Message, "3 attempts") {
			t.Errorf("clip = status %s (error %+v); want failed EINTERNAL after 3 attempts, saying it was ours", got.Status, got.Error)
		}
		if got.Crashes != 0 {
			t.Errorf("an outage counted %d crashes against the file", got.Crashes)
		}
		if _, err := h.blobs.Stat(context.Background(), c.OriginalKey); err != nil {
			t.Errorf("the original must be kept for a retry: %v", err)
		}
	})
}

// TestLimitUnderLoadIsRetried: a child stopped at its time limit, or killed
// by the kernel, may have been slow or picked because the machine was
// busy: it is retried like a crash (up to MaxCrashes) before the clip fails
// with the limit's reason.
func TestLimitUnderLoadIsRetried(t *testing.T) {
	limit := shopclip.Errorf(shopclip.EMEDIALIMIT, "Processing the video took longer than its time limit (10m) and was stopped.")
	for _, tt := range []struct {
		name      string
		failUntil int // calls that fail
		status    shopclip.ClipStatus
		calls     int32
	}{
		{"once, then fine", 1, shopclip.ClipReady, 2},
		{"every time", 100, shopclip.ClipFailed, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tc := &scriptedTranscoder{fail: func(n int) error {
				if n <= tt.failUntil {
					return fmt.Errorf("child: %w", transcode.Loaded(limit))
				}
				return nil
			}}
			h := newHarness(t, tc)
			h.serve(1)
			c := h.newClip("heavy")
			if err := h.queue.EnqueueTranscode(context.Background(), c.ID); err != nil {
				t.Fatal(err)
			}
			got := h.waitTerminal(c.ID, 60*time.Second)
			if got.Status != tt.status || tc.calls.Load() != tt.calls {
				t.Fatalf("clip = status %s after %d calls (error %+v); want %s after %d", got.Status, tc.calls.Load(), got.Error, tt.status, tt.calls)
			}
			if tt.status == shopclip.ClipFailed && (got.Error.Code != shopclip.EMEDIALIMIT || !strings.Contains(got.Error.Message, "time limit") || !strings.Contains(got.Error.Message, "3 times")) {
				t.Errorf("error = %+v; want the limit's reason, 3 times", got.Error)
			}
		})
	}
	// A limit that is the file's own (its size, its duration) is not retried.
	tc := &scriptedTranscoder{fail: func(int) error {
		return shopclip.Errorf(shopclip.EMEDIALIMIT, "This video is longer than 3 minutes.")
	}}
	h := newHarness(t, tc)
	h.serve(1)
	c := h.newClip("long")
	h.queue.EnqueueTranscode(context.Background(), c.ID)
	if got := h.waitTerminal(c.ID, 30*time.Second); got.Status != shopclip.ClipFailed || tc.calls.Load() != 1 {
		t.Errorf("a file's own limit: status %s after %d calls; want failed after 1", got.Status, tc.calls.Load())
	}
}

func TestCorruptOriginalIsNotPublished(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{})
	c := h.newClip("good bytes")
	// Storage corrupts the original after the upload was hashed.
	ctx := context.Background()
	if err := h.store.DeleteClip(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c2 := &shopclip.Clip{ID: c.ID, CreatorID: h.creator.ID, OriginalKey: c.OriginalKey, OriginalSize: 10, OriginalSHA256: strings.Repeat("0", 64)}
	if err := h.store.CreateClip(ctx, c2); err != nil {
		t.Fatal(err)
	}
	task := asynq.NewTask(workers.TypeTranscode, []byte(fmt.Sprintf(`{"clip_id":%q}`, c.ID)))
	err := h.handle.HandleTranscode(ctx, task)
	if err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("err = %v, want a hash mismatch", err)
	}
	got, _ := h.store.Clip(ctx, c.ID)
	if got.Status == shopclip.ClipReady {
		t.Errorf("published a corrupt original")
	}
}

func TestBadPayloadIsNotRetried(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{})
	for _, p := range []string{`{}`, `not json`, `{"clip_id":"../../etc"}`} {
		err := h.handle.HandleTranscode(context.Background(), asynq.NewTask(workers.TypeTranscode, []byte(p)))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("payload %s: err = %v, want SkipRetry", p, err)
		}
	}
}

func TestEnqueueIsIdempotent(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{})
	c := h.newClip("x")
	for range 3 {
		if err := h.queue.EnqueueTranscode(context.Background(), c.ID); err != nil {
			t.Fatal(err)
		}
	}
	tasks, err := h.insp.ListPendingTasks(workers.QueueTranscode)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 {
		t.Errorf("%d pending transcodes, want 1", len(tasks))
	}
}

func TestReconcilerReenqueuesStuckClips(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{})
	c := h.newClip("lost enqueue") // recorded, never enqueued
	rec := &workers.Reconciler{Store: h.store, Queue: h.queue, Inspector: h.insp, StaleAfter: time.Millisecond,
		Now: func() time.Time { return time.Now().Add(time.Minute) }}
	n, err := rec.ReconcileOnce(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("ReconcileOnce = %d, %v; want 1", n, err)
	}
	// A second pass sees the live task and does nothing.
	if n, err := rec.ReconcileOnce(context.Background()); err != nil || n != 0 {
		t.Errorf("second pass = %d, %v; want 0", n, err)
	}
	h.serve(1)
	if got := h.waitTerminal(c.ID, 30*time.Second); got.Status != shopclip.ClipReady {
		t.Errorf("status %s", got.Status)
	}
}

// TestReconcilerTakesUpLostUploadsSoon: a clip recorded while the queue
// was down is enqueued once it has been uploaded for UploadedAfter (10 s by
// default), long before a processing clip counts as stale (2 min).
func TestReconcilerTakesUpLostUploadsSoon(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{})
	c := h.newClip("recorded while Redis was down")
	var skew atomic.Int64
	rec := &workers.Reconciler{Store: h.store, Queue: h.queue, Inspector: h.insp,
		Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }}
	if n, err := rec.ReconcileOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("a fresh upload: ReconcileOnce = %d, %v; want 0 (the API is enqueuing it)", n, err)
	}
	skew.Store(int64(11 * time.Second))
	if n, err := rec.ReconcileOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("uploaded for 11 s: ReconcileOnce = %d, %v; want 1", n, err)
	}
	if _, err := h.insp.GetTaskInfo(workers.QueueTranscode, workers.TranscodeTaskID(c.ID)); err != nil {
		t.Errorf("no transcode task after the reconciler: %v", err)
	}
}

func readBlob(t *testing.T, b blob.Store, key string) string {
	t.Helper()
	o, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	data, err := io.ReadAll(o)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestPublishSweepsAbandonedGenerations: outputs an earlier attempt left
// behind (its worker was killed mid-upload) are removed when a later attempt
// publishes; the published generation and the overlays stay.
func TestPublishSweepsAbandonedGenerations(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{})
	ctx := context.Background()
	c := h.newClip("sweep")
	debris := shopclip.GenerationPrefix(c.ID, shopclip.NewID(shopclip.PrefixAttempt)) + "720p/seg_00000.m4s"
	h.blobs.Put(ctx, debris, strings.NewReader("half"), 4, blob.PutOptions{})
	h.serve(1)
	h.queue.EnqueueTranscode(ctx, c.ID)
	got := h.waitTerminal(c.ID, 30*time.Second)
	if got.Status != shopclip.ClipReady {
		t.Fatalf("status %s", got.Status)
	}
	// The sweep follows the publish.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := h.blobs.Stat(ctx, debris)
		if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("abandoned generation still stored: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := h.blobs.Stat(ctx, got.OutputPrefix+"master.m3u8"); err != nil {
		t.Errorf("published generation: %v", err)
	}
}
