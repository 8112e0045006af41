package workers

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/hibiken/asynq"
	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/internal/logctx"
	"github.com/shopclip/shopclip/tagging"
)

// HandleTag runs a clip:tag task: it recomputes the clip's pop-up timeline
// from the database (active tags, products, the discounts valid now) and
// stores it next to the renditions as overlays.json and overlays.vtt, then
// enqueues a clip:share task to render the share MP4 with the new labels.
//
// Tag tasks may run concurrently and out of order, so after storing, the
// handler recomputes and rewrites until what is stored matches the database:
// the last write always reflects the latest change. It then schedules itself
// again for the next moment a discount of the clip's products starts or ends,
// so the stored timeline never keeps a label past its sale.
func (h *Handlers) HandleTag(ctx context.Context, t *asynq.Task) error {
	p, err := parsePayload(t)
	if err != nil {
		return err
	}
	ctx = taskContext(ctx, p)
	log := logctx.Logger(ctx, h.logger())
	// What is stored already: when it matches the database, the task has
	// nothing to write (tasks come in bursts, several per change).
	stored := h.readOverlay(ctx, p.ClipID)
	for range 5 {
		clip, err := h.Store.Clip(ctx, p.ClipID)
		if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
			h.deleteOverlays(ctx, p.ClipID) // in case an earlier pass wrote after a delete
			return nil
		} else if err != nil {
			return fmt.Errorf("workers: tag: %w", err)
		}
		now := h.now()
		tl, err := tagging.BuildTimeline(ctx, h.Store, clip, now, h.buyURL)
		if err != nil {
			return fmt.Errorf("workers: tag: %w", err)
		}
		vtt, err := tl.WebVTT()
		if err != nil {
			return fmt.Errorf("workers: tag: %w", err)
		}
		if stored != nil && bytes.Equal(vtt, stored) {
			if err := h.scheduleNextBoundary(ctx, clip, tl); err != nil {
				log.Warn("tag: schedule next price change", "err", err)
			}
			log.Info("tag: timeline stored", "popups", len(tl.Popups))
			// The share is out of date when it was made from other
			// pop-ups (its key names what it shows).
			stale := planShare(clip, tl.Popups).key != clip.ShareKey
			if h.Shares != nil && h.Sharer != nil && clip.HasMP4 && clip.Status == shopclip.ClipReady && stale {
				if err := h.Shares.EnqueueShare(ctx, clip.ID, 0); err != nil {
					// The pop-ups are right; the share MP4 catches up
					// with the next change.
					log.Warn("tag: enqueue share render", "err", err)
				}
			}
			return nil
		}
		js, err := tl.JSON()
		if err != nil {
			return fmt.Errorf("workers: tag: %w", err)
		}
		if err := h.putOverlay(ctx, clip.ID, "json", js); err != nil {
			return err
		}
		if err := h.putOverlay(ctx, clip.ID, "vtt", vtt); err != nil {
			return err
		}
		stored = vtt
	}
	return fmt.Errorf("workers: tag: clip %s keeps changing; will retry", p.ClipID)
}

// readOverlay returns the clip's stored WebVTT timeline, or nil.
func (h *Handlers) readOverlay(ctx context.Context, clipID string) []byte {
	obj, err := h.Blobs.Open(ctx, shopclip.OverlaysKey(clipID, "vtt"))
	if err != nil {
		return nil
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, 8<<20))
	if err != nil {
		return nil
	}
	return b
}

func (h *Handlers) putOverlay(ctx context.Context, clipID, ext string, body []byte) error {
	key := shopclip.OverlaysKey(clipID, ext)
	err := h.Blobs.Put(ctx, key, bytes.NewReader(body), int64(len(body)), blob.PutOptions{ContentType: blob.ContentTypeByKey(key)})
	if err != nil {
		return fmt.Errorf("workers: tag: store %s: %w", key, err)
	}
	return nil
}

func (h *Handlers) deleteOverlays(ctx context.Context, clipID string) {
	for _, ext := range []string{"json", "vtt"} {
		if err := h.Blobs.Delete(ctx, shopclip.OverlaysKey(clipID, ext)); err != nil {
			logctx.Logger(ctx, h.logger()).Warn("tag: delete overlays of a deleted clip", "err", err)
		}
	}
}

// scheduleNextBoundary enqueues a clip:tag task for tl.NextChange, the next
// time a discount of a product the clip shows starts or ends.
func (h *Handlers) scheduleNextBoundary(ctx context.Context, clip *shopclip.Clip, tl *tagging.Timeline) error {
	if h.Tags == nil || tl.NextChange.IsZero() {
		return nil
	}
	return h.Tags.EnqueueTagAt(ctx, clip.ID, tl.NextChange)
}

func (h *Handlers) buyURL(t *shopclip.Tag) string {
	if h.BuyURL != nil {
		return h.BuyURL(t.ID)
	}
	return shopclip.BuyPath(t.ID)
}
