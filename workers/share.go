package workers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/hibiken/asynq"
	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/internal/logctx"
	"github.com/shopclip/shopclip/productimage"
	"github.com/shopclip/shopclip/tagging"
	"github.com/shopclip/shopclip/tagging/card"
)

// Sharer renders share MP4s: a clip's progressive MP4 with images burned in.
// Like Transcoder, it returns errors carrying shopclip media codes when the
// input is unusable.
type Sharer interface {
	Share(ctx context.Context, job ShareJob) error
}

// ShareJob is one share render in a job directory.
type ShareJob struct {
	// Dir holds Input and the overlays' images; Output is written there.
	Dir           string
	Input, Output string // plain names in Dir
	Overlays      []ShareOverlay
}

// ShareOverlay is one card burned into a share render: Image (a PNG in the
// job directory) with its top-left corner at (X, Y) as fractions of the frame,
// kept inside the frame, Width a fraction of the frame's width, shown for
// StartMS <= t < EndMS.
type ShareOverlay struct {
	Image          string
	X, Y, Width    float64
	StartMS, EndMS int64
}

// ShareEnqueuer enqueues clip:share tasks.
type ShareEnqueuer interface {
	EnqueueShare(ctx context.Context, clipID string, delay time.Duration) error
}

// shareVersion changes whenever the way a share is rendered changes, so
// that every clip is rendered again.
const shareVersion = "1"

// shareGrace is how long a replaced share MP4 stays downloadable, for
// viewers who loaded its URL just before the change.
const shareGrace = 10 * time.Minute

// maxShareCards bounds the cards of one share render (the renderer takes
// at most 64 overlays).
const maxShareCards = 64

// Card widths, as fractions of the frame's width.
const (
	cardWidthPortrait  = 0.5
	cardWidthLandscape = 0.3
)

// HandleShare runs a clip:share task: it renders the clip's share MP4 — the
// progressive MP4 with each live pop-up's product card, labelled with the
// price valid now, burned in at the tag's time and place — and records it
// on the clip. The video segments of the HLS ladder are never touched.
//
// The share's blob key is named by what it shows (the generation and each
// card's content, place and window; see planShare), so a task whose content
// is already published is a cheap no-op, the clip:tag task can tell when the
// share is out of date, and concurrent or repeated tasks converge: a render
// is checked against the database again before the task ends. The task
// also deletes replaced shares once their grace is over.
func (h *Handlers) HandleShare(ctx context.Context, t *asynq.Task) error {
	p, err := parsePayload(t)
	if err != nil {
		return err
	}
	ctx = taskContext(ctx, p)
	log := logctx.Logger(ctx, h.logger())
	for range 3 {
		clip, err := h.Store.Clip(ctx, p.ClipID)
		if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
			// A render that raced with the deletion may have uploaded
			// after the clip's files were deleted.
			if err := h.Blobs.DeletePrefix(ctx, shopclip.ClipPrefix(p.ClipID)); err != nil {
				return fmt.Errorf("workers: share: clean up a deleted clip: %w", err)
			}
			return nil
		} else if err != nil {
			return fmt.Errorf("workers: share: %w", err)
		}
		if clip.Status != shopclip.ClipReady || !clip.HasMP4 || h.Sharer == nil {
			return nil
		}
		tl, err := tagging.BuildTimeline(ctx, h.Store, clip, h.now(), h.buyURL)
		if err != nil {
			return fmt.Errorf("workers: share: %w", err)
		}
		plan := planShare(clip, tl.Popups)
		if plan.key == clip.ShareKey {
			h.sweepShares(ctx, clip.ID, plan.key, log)
			return nil
		}
		start := time.Now()
		if plan.key != "" {
			if err := h.renderShare(ctx, clip, plan, log); err != nil {
				return err
			}
		}
		if err := h.Store.SetClipShare(ctx, clip.ID, plan.key); err != nil {
			return fmt.Errorf("workers: share: %w", err)
		}
		log.Info("share: updated", "key", plan.key, "cards", len(plan.popups), "seconds", time.Since(start).Seconds())
		if h.Shares != nil && clip.ShareKey != "" {
			// Come back to delete the replaced share once its grace is over.
			if err := h.Shares.EnqueueShare(ctx, clip.ID, shareGrace+time.Minute); err != nil {
				log.Warn("share: schedule the removal of the old share", "err", err)
			}
		}
	}
	return fmt.Errorf("workers: share: clip %s keeps changing; will retry", p.ClipID)
}

// sharePlan is what a share render of a clip burns in.
type sharePlan struct {
	key      string // "" when there is nothing to burn in
	popups   []shopclip.Popup
	overlays []ShareOverlay
	// images are the blob keys of the products' uploaded pictures, one
	// per pop-up ("" for none, or a picture elsewhere, which is not
	// fetched).
	images []string
	cardPx int // the cards' width in pixels
}

// planShare plans the share of clip showing popups and names it by its
// inputs (never by rendered pixels, which depend on the fonts a worker
// has): the render version, the generation, and each card's content, place
// and window, and the key of its product's picture (named by its content,
// so a new picture makes a new share).
func planShare(clip *shopclip.Clip, popups []shopclip.Popup) *sharePlan {
	if len(popups) == 0 {
		return &sharePlan{}
	}
	if len(popups) > maxShareCards {
		popups = popups[:maxShareCards] // the earliest-tagged ones
	}
	frameW, frameH := mp4Size(clip)
	frac := cardWidthPortrait
	if frameW > frameH {
		frac = cardWidthLandscape
	}
	plan := &sharePlan{popups: popups, cardPx: max(int(math.Round(frac*float64(frameW))), 1)}
	sum := sha256.New()
	fmt.Fprintf(sum, "shopclip share %s\n%s\n%d\n", shareVersion, clip.Generation, plan.cardPx)
	for i, p := range popups {
		o := ShareOverlay{
			Image: fmt.Sprintf("card-%03d.png", i),
			X:     p.X, Y: p.Y, Width: frac,
			StartMS: p.StartMS, EndMS: p.EndMS,
		}
		plan.overlays = append(plan.overlays, o)
		img, _ := shopclip.ProductImageKeyOf(p.Product.ID, p.Product.ImageURL)
		plan.images = append(plan.images, img)
		// What the card shows: not the links, nor the countdown's end;
		// the picture by its key (the URL's host may change, not it).
		p.BuyURL, p.SaleEndsAt, p.Product.ImageURL = "", nil, ""
		line, _ := json.Marshal(struct {
			O     ShareOverlay
			P     shopclip.Popup
			Image string `json:",omitempty"` // omitted: cards without one keep their keys
		}{o, p, img})
		sum.Write(append(line, '\n'))
	}
	plan.key = shopclip.ShareKey(clip.ID, hex.EncodeToString(sum.Sum(nil))[:20])
	return plan
}

// mp4Size is the frame size of the clip's progressive MP4: the rendition
// with the largest short side up to 720 (as package transcode picks it), or
// the clip's own size when the renditions do not say.
func mp4Size(clip *shopclip.Clip) (w, h int) {
	best := -1
	for _, r := range clip.Renditions {
		s := min(r.Width, r.Height)
		if r.Width > 0 && r.Height > 0 && s <= 720 && s > best {
			best, w, h = s, r.Width, r.Height
		}
	}
	if best < 0 {
		w, h = clip.Width, clip.Height
	}
	if w <= 0 || h <= 0 {
		w, h = 720, 1280
	}
	return w, h
}

// renderShare renders plan from the clip's MP4 and uploads it under
// plan.key.
func (h *Handlers) renderShare(ctx context.Context, clip *shopclip.Clip, plan *sharePlan, log *slog.Logger) error {
	if err := os.MkdirAll(h.WorkDir, 0o700); err != nil {
		return fmt.Errorf("workers: share: work dir: %w", err)
	}
	dir, err := os.MkdirTemp(h.WorkDir, "share-"+clip.ID+"-")
	if err != nil {
		return fmt.Errorf("workers: share: job dir: %w", err)
	}
	defer os.RemoveAll(dir)
	const in, out = "clip.mp4", "share.mp4"
	if err := h.fetchBlob(ctx, clip.OutputPrefix+shopclip.MP4File, filepath.Join(dir, in)); err != nil {
		return err
	}
	pics := map[string]image.Image{}
	for i, p := range plan.popups {
		key := plan.images[i]
		pic, ok := pics[key]
		if !ok && key != "" {
			var err error
			if pic, err = h.productImage(ctx, key); err != nil {
				// The card shows the placeholder instead; the share is
				// not held up by a picture.
				log.Warn("share: product picture; the card goes without it", "product_id", p.Product.ID, "key", key, "err", err)
			}
			pics[key] = pic
		}
		if err := writeCard(filepath.Join(dir, plan.overlays[i].Image), p, plan.cardPx, pic); err != nil {
			return err
		}
	}
	err = h.Sharer.Share(ctx, ShareJob{Dir: dir, Input: in, Output: out, Overlays: plan.overlays})
	if err != nil {
		return fmt.Errorf("workers: share: render: %w", err)
	}
	return h.putFile(ctx, dir, out, plan.key)
}

// maxCardPicturePixels bounds a product picture read for a card: the
// storefront stores them at most DefaultSide pixels a side.
const maxCardPicturePixels = 4 * productimage.DefaultSide * productimage.DefaultSide

// productImage loads and decodes the uploaded product picture under key.
func (h *Handlers) productImage(ctx context.Context, key string) (image.Image, error) {
	obj, err := h.Blobs.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("workers: open %s: %w", key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(ctxReader{ctx, obj}, productimage.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("workers: read %s: %w", key, err)
	} else if len(b) > productimage.MaxBytes {
		return nil, fmt.Errorf("workers: %s is larger than %d bytes", key, productimage.MaxBytes)
	}
	img, _, err := productimage.Decode(b, maxCardPicturePixels)
	if err != nil {
		return nil, fmt.Errorf("workers: decode %s: %w", key, err)
	}
	return img, nil
}

// writeCard renders the card of p, px wide, with the product's picture pic
// (nil: none), as a PNG file.
func writeCard(path string, p shopclip.Popup, px int, pic image.Image) error {
	img, err := card.RenderWithImage(p, px, pic)
	if err != nil {
		return fmt.Errorf("workers: share: card of tag %s: %w", p.TagID, err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("workers: share: encode card: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("workers: share: write card: %w", err)
	}
	return nil
}

// fetchBlob copies the object under key to the new file at dst: a hard link
// when the blob store is a local directory on the same file system.
func (h *Handlers) fetchBlob(ctx context.Context, key, dst string) error {
	if lf, ok := h.Blobs.(blob.LocalFiler); ok {
		if src, err := lf.LocalPath(key); err == nil && os.Link(src, dst) == nil {
			return nil
		}
	}
	_, err := h.download(ctx, key, dst, io.Discard)
	return err
}

// download copies the object under key to the new file at dst, and to w.
func (h *Handlers) download(ctx context.Context, key, dst string, w io.Writer) (int64, error) {
	obj, err := h.Blobs.Open(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("workers: open %s: %w", key, err)
	}
	defer obj.Close()
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("workers: download %s: %w", key, err)
	}
	defer f.Close()
	n, err := io.Copy(io.MultiWriter(f, w), ctxReader{ctx, obj})
	if err != nil {
		return 0, fmt.Errorf("workers: download %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("workers: download %s: %w", key, err)
	}
	return n, nil
}

// sweepShares deletes the clip's share MP4s other than keep once they have
// been replaced for shareGrace, so that a viewer mid-download of a replaced
// share is not cut off. A share older than keep was replaced when keep was
// uploaded; one newer than keep (a concurrent render about to record it, or
// one whose recording was lost) is left alone until it is shareGrace old.
func (h *Handlers) sweepShares(ctx context.Context, clipID, keep string, log *slog.Logger) {
	// Only the shares: not the generation's segments.
	objs, err := h.Blobs.List(ctx, shopclip.ClipPrefix(clipID)+"share-")
	if err != nil {
		log.Warn("share: list old shares", "err", err)
		return
	}
	var replacedAt time.Time // when keep was uploaded; zero without keep
	for _, o := range objs {
		if o.Key == keep {
			replacedAt = o.ModTime
		}
	}
	now := h.now()
	for _, o := range objs {
		if o.Key == keep || !shopclip.IsShareKey(clipID, o.Key) {
			continue
		}
		since := o.ModTime
		if !replacedAt.IsZero() && !o.ModTime.After(replacedAt) {
			since = replacedAt
		}
		if now.Sub(since) < shareGrace {
			continue
		}
		if err := h.Blobs.Delete(ctx, o.Key); err != nil {
			log.Warn("share: delete old share", "key", o.Key, "err", err)
		}
	}
}
