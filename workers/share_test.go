package workers_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/productimage"
	"github.com/shopclip/shopclip/workers"
)

// recordingSharer stands in for the FFmpeg child in these tests of the share
// task's bookkeeping: it checks the job directory and writes the input and
// the overlays as the "render". The real renderer is tested in package
// transcode/ffmpeg and end to end.
type recordingSharer struct {
	t    *testing.T
	mu   sync.Mutex
	jobs []workers.ShareJob
	// cardWidths are the pixel widths of the cards of the last job, and
	// cards the cards.
	cardWidths []int
	cards      []image.Image
}

func (s *recordingSharer) Share(ctx context.Context, job workers.ShareJob) error {
	in, err := os.ReadFile(filepath.Join(job.Dir, job.Input))
	if err != nil {
		return err
	}
	var widths []int
	var cards []image.Image
	for _, o := range job.Overlays {
		f, err := os.Open(filepath.Join(job.Dir, o.Image))
		if err != nil {
			return err
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("card %s: %w", o.Image, err)
		}
		widths = append(widths, img.Bounds().Dx())
		cards = append(cards, img)
	}
	spec, _ := json.Marshal(job.Overlays)
	if err := os.WriteFile(filepath.Join(job.Dir, job.Output), append(append(in, '\n'), spec...), 0o600); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs = append(s.jobs, job)
	s.cardWidths, s.cards = widths, cards
	return nil
}

func (s *recordingSharer) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.jobs)
}

func TestShareTask(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{mp4: true})
	sharer := &recordingSharer{t: t}
	h.handle.Sharer, h.handle.Shares = sharer, h.queue
	now := time.Now()
	h.handle.Now = func() time.Time { return now }
	ctx := context.Background()
	c := h.newClip("shareable")
	// The handlers are called directly, with no server taking the tasks
	// they enqueue, so each render below is one the test asked for.
	if err := h.handle.HandleTranscode(ctx, asynq.NewTask(workers.TypeTranscode, []byte(fmt.Sprintf(`{"clip_id":%q}`, c.ID)))); err != nil {
		t.Fatal(err)
	}
	if c = h.waitTerminal(c.ID, time.Second); !c.HasMP4 {
		t.Fatalf("clip has no MP4: %+v", c)
	}
	task := asynq.NewTask(workers.TypeShare, []byte(fmt.Sprintf(`{"clip_id":%q}`, c.ID)))
	share := func() *shopclip.Clip {
		t.Helper()
		if err := h.handle.HandleShare(ctx, task); err != nil {
			t.Fatal(err)
		}
		got, err := h.store.Clip(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	// No pop-up: nothing to burn in.
	if got := share(); got.ShareKey != "" || sharer.calls() != 0 {
		t.Fatalf("share of a clip without tags: key %q, %d renders", got.ShareKey, sharer.calls())
	}

	brand := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "acme", Role: shopclip.RoleBrand}
	h.store.CreateAccount(ctx, brand)
	p := &shopclip.Product{ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: brand.ID, SKU: "S", Title: "台灯 Lamp", Currency: "EUR", PriceMinor: 5000, URL: "https://s.example/l", InStock: true}
	h.store.CreateProduct(ctx, p)
	tag := &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: p.ID, BrandID: brand.ID, StartMS: 1000, EndMS: 2500, X: 0.2, Y: 0.7, Status: shopclip.TagActive}
	if err := h.store.CreateTag(ctx, tag); err != nil {
		t.Fatal(err)
	}

	// The tag task enqueues the render once the timeline is stored.
	before, _ := h.insp.ListPendingTasks(workers.QueueShare)
	if err := h.handle.HandleTag(ctx, asynq.NewTask(workers.TypeTag, []byte(fmt.Sprintf(`{"clip_id":%q}`, c.ID)))); err != nil {
		t.Fatal(err)
	}
	if after, _ := h.insp.ListPendingTasks(workers.QueueShare); len(after) != len(before)+1 {
		t.Errorf("clip:share tasks %d → %d after a tag task, want one more", len(before), len(after))
	}

	first := share()
	if first.ShareKey == "" || !strings.HasPrefix(first.ShareKey, shopclip.ClipPrefix(c.ID)+"share-") || sharer.calls() != 1 {
		t.Fatalf("share: key %q after %d renders", first.ShareKey, sharer.calls())
	}
	job := sharer.jobs[0]
	want := workers.ShareOverlay{Image: job.Overlays[0].Image, X: 0.2, Y: 0.7, Width: 0.5, StartMS: 1000, EndMS: 2500}
	if len(job.Overlays) != 1 || job.Overlays[0] != want {
		t.Errorf("overlays %+v, want [%+v]", job.Overlays, want)
	}
	if len(sharer.cardWidths) != 1 || sharer.cardWidths[0] != 360 {
		t.Errorf("card widths %v, want half of the 720-wide MP4", sharer.cardWidths)
	}
	if body := readBlob(t, h.blobs, first.ShareKey); !strings.HasPrefix(body, "progressive shareable\n") {
		t.Errorf("stored share = %q", body)
	}

	// Nothing changed: no render.
	if got := share(); got.ShareKey != first.ShareKey || sharer.calls() != 1 {
		t.Errorf("unchanged clip re-rendered: key %q → %q, %d renders", first.ShareKey, got.ShareKey, sharer.calls())
	}

	// The timeline is stored but the share's enqueue was lost: the next tag
	// task sees the share is out of date and enqueues it again.
	tagTask := asynq.NewTask(workers.TypeTag, []byte(fmt.Sprintf(`{"clip_id":%q}`, c.ID)))
	h.store.SetClipShare(ctx, c.ID, "")
	before, _ = h.insp.ListPendingTasks(workers.QueueShare)
	if err := h.handle.HandleTag(ctx, tagTask); err != nil {
		t.Fatal(err)
	}
	if after, _ := h.insp.ListPendingTasks(workers.QueueShare); len(after) != len(before)+1 {
		t.Errorf("clip:share tasks %d → %d for an out-of-date share, want one more", len(before), len(after))
	}
	h.store.SetClipShare(ctx, c.ID, first.ShareKey)
	before, _ = h.insp.ListPendingTasks(workers.QueueShare)
	if err := h.handle.HandleTag(ctx, tagTask); err != nil {
		t.Fatal(err)
	}
	if after, _ := h.insp.ListPendingTasks(workers.QueueShare); len(after) != len(before) {
		t.Errorf("clip:share tasks %d → %d for an up-to-date share, want none", len(before), len(after))
	}

	// A discount changes the card: a new share under a new key; the old one
	// stays for viewers mid-download until its grace is over.
	h.store.CreateDiscount(ctx, &shopclip.Discount{ID: shopclip.NewID(shopclip.PrefixDiscount), ProductID: p.ID, Kind: shopclip.DiscountPercent, PercentOff: 20, StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour)})
	second := share()
	if second.ShareKey == first.ShareKey || sharer.calls() != 2 {
		t.Fatalf("after a discount: key %q → %q, %d renders", first.ShareKey, second.ShareKey, sharer.calls())
	}
	if _, err := h.blobs.Stat(ctx, first.ShareKey); err != nil {
		t.Errorf("the replaced share is gone at once: %v", err)
	}
	if sched, _ := h.insp.ListScheduledTasks(workers.QueueShare); len(sched) != 1 {
		t.Errorf("%d clip:share tasks scheduled to remove the old share, want 1", len(sched))
	}
	now = now.Add(15 * time.Minute)
	if got := share(); got.ShareKey != second.ShareKey || sharer.calls() != 2 {
		t.Errorf("after the grace: key %q, %d renders", got.ShareKey, sharer.calls())
	}
	if _, err := h.blobs.Stat(ctx, first.ShareKey); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Errorf("the replaced share outlived its grace: %v", err)
	}
	if _, err := h.blobs.Stat(ctx, second.ShareKey); err != nil {
		t.Errorf("the current share: %v", err)
	}

	// The creator withdraws the tag: no share.
	h.store.SetTagStatus(ctx, tag.ID, shopclip.TagRejected)
	if got := share(); got.ShareKey != "" {
		t.Errorf("share of a clip whose only tag is rejected: %q", got.ShareKey)
	}

	// A render that raced with the clip's deletion leaves nothing behind.
	stray := shopclip.ShareKey(c.ID, "0123456789abcdef0123")
	h.blobs.Put(ctx, stray, strings.NewReader("late"), 4, blob.PutOptions{})
	h.store.DeleteClip(ctx, c.ID)
	share0 := h.handle.HandleShare(ctx, task)
	if objs, _ := h.blobs.List(ctx, shopclip.ClipPrefix(c.ID)); share0 != nil || len(objs) != 0 {
		t.Errorf("after the clip's deletion: %v, %d objects left", share0, len(objs))
	}
}

// TestShareCardShowsProductImage checks that a product's uploaded picture
// is drawn in its card and names the share: a new picture renders the
// share again, the same one under another host does not, and a picture
// that cannot be loaded leaves the card without it.
func TestShareCardShowsProductImage(t *testing.T) {
	h := newHarness(t, &scriptedTranscoder{mp4: true})
	sharer := &recordingSharer{t: t}
	h.handle.Sharer, h.handle.Shares = sharer, h.queue
	ctx := context.Background()
	c := h.newClip("pictured")
	if err := h.handle.HandleTranscode(ctx, asynq.NewTask(workers.TypeTranscode, []byte(fmt.Sprintf(`{"clip_id":%q}`, c.ID)))); err != nil {
		t.Fatal(err)
	}
	h.waitTerminal(c.ID, time.Second)
	brand := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "acme", Role: shopclip.RoleBrand}
	h.store.CreateAccount(ctx, brand)
	p := &shopclip.Product{ID: shopclip.NewID(shopclip.PrefixProduct), BrandID: brand.ID, SKU: "S", Title: "Lamp", Currency: "EUR", PriceMinor: 5000,
		URL: "https://s.example/l", ImageURL: "https://cdn.example/lamp.jpg", InStock: true}
	h.store.CreateProduct(ctx, p)
	tag := &shopclip.Tag{ID: shopclip.NewID(shopclip.PrefixTag), ClipID: c.ID, ProductID: p.ID, BrandID: brand.ID, StartMS: 0, EndMS: 2000, X: 0.1, Y: 0.1, Status: shopclip.TagActive}
	if err := h.store.CreateTag(ctx, tag); err != nil {
		t.Fatal(err)
	}
	task := asynq.NewTask(workers.TypeShare, []byte(fmt.Sprintf(`{"clip_id":%q}`, c.ID)))
	share := func() string {
		t.Helper()
		if err := h.handle.HandleShare(ctx, task); err != nil {
			t.Fatal(err)
		}
		got, err := h.store.Clip(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.ShareKey
	}
	// upload stores a one-color picture as the storefront does and
	// returns its image_url path.
	upload := func(col color.Color) string {
		t.Helper()
		src := image.NewRGBA(image.Rect(0, 0, 600, 600))
		draw.Draw(src, src.Bounds(), image.NewUniform(col), image.Point{}, draw.Src)
		var pngBuf bytes.Buffer
		png.Encode(&pngBuf, src)
		jpg, err := productimage.Normalize(pngBuf.Bytes(), productimage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(jpg)
		file := shopclip.ProductImageFile(hex.EncodeToString(sum[:]))
		if err := h.blobs.Put(ctx, shopclip.ProductImageKey(p.ID, file), bytes.NewReader(jpg), int64(len(jpg)), blob.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		return shopclip.ProductImagePath(p.ID, file)
	}
	setImage := func(u string) {
		t.Helper()
		p.ImageURL = u
		if err := h.store.UpdateProduct(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// tileColor is the middle of the card's tile (its left third).
	tileColor := func() color.RGBA {
		t.Helper()
		if len(sharer.cards) != 1 {
			t.Fatalf("%d cards", len(sharer.cards))
		}
		b := sharer.cards[0].Bounds()
		x, y := b.Min.X+b.Dx()*21/100, b.Min.Y+b.Dy()*6/10
		return color.RGBAModel.Convert(sharer.cards[0].At(x, y)).(color.RGBA)
	}
	green := func(c color.RGBA) bool { return c.G > 150 && c.R < 60 && c.B < 60 }

	// A picture elsewhere is not fetched: the placeholder.
	external := share()
	if external == "" || sharer.calls() != 1 || green(tileColor()) {
		t.Fatalf("share with an external picture: key %q, %d renders, tile %v", external, sharer.calls(), tileColor())
	}

	greenPath := upload(color.RGBA{0, 200, 0, 255})
	setImage(greenPath)
	pictured := share()
	if pictured == external || sharer.calls() != 2 {
		t.Fatalf("an uploaded picture: key %q → %q, %d renders", external, pictured, sharer.calls())
	}
	if c := tileColor(); !green(c) {
		t.Errorf("tile %v, want the green picture", c)
	}

	// The same picture under the public URL: the same share.
	setImage("https://shopclip.example" + greenPath)
	if got := share(); got != pictured || sharer.calls() != 2 {
		t.Errorf("the same picture, absolute URL: key %q → %q, %d renders", pictured, got, sharer.calls())
	}

	// Another picture: another share.
	setImage(upload(color.RGBA{0, 0, 200, 255}))
	blue := share()
	if blue == pictured || sharer.calls() != 3 {
		t.Fatalf("a new picture: key %q → %q, %d renders", pictured, blue, sharer.calls())
	}
	if c := tileColor(); green(c) || c.B < 150 {
		t.Errorf("tile %v, want the blue picture", c)
	}

	// A picture that is gone: the card goes without it, the share is made.
	setImage(shopclip.ProductImagePath(p.ID, shopclip.ProductImageFile("0123456789abcdef0123")))
	if got := share(); got == blue || got == "" || sharer.calls() != 4 {
		t.Errorf("a missing picture: key %q, %d renders", got, sharer.calls())
	}
	if c := tileColor(); green(c) || c.B > 150 {
		t.Errorf("tile %v, want the placeholder", c)
	}

	// No picture: the share of the external one (only uploads count).
	setImage("")
	if got := share(); got != external {
		t.Errorf("no picture: key %q, want %q as with an external one", got, external)
	}
}
