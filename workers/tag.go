package workers

import (
	"bytes"
	"context"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/tagging"
)

// HandleTag runs a clip:tag task: it recomputes the clip's pop-up timeline
// from the database (active tags, products, discounts valid now) and stores it
// next to the renditions as overlays.json and overlays.vtt. Running it twice
// gives the same objects.
func (h *Handlers) HandleTag(ctx context.Context, t *asynq.Task) error {
	p, err := parsePayload(t)
	if err != nil {
		return err
	}
	clip, err := h.Store.Clip(ctx, p.ClipID)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		return nil
	} else if err != nil {
		return fmt.Errorf("workers: tag: %w", err)
	}
	tl, err := tagging.BuildTimeline(ctx, h.Store, clip, h.now(), h.buyURL)
	if err != nil {
		return fmt.Errorf("workers: tag: %w", err)
	}
	js, err := tl.JSON()
	if err != nil {
		return fmt.Errorf("workers: tag: %w", err)
	}
	vtt, err := tl.WebVTT()
	if err != nil {
		return fmt.Errorf("workers: tag: %w", err)
	}
	for _, o := range []struct {
		ext  string
		body []byte
	}{{"json", js}, {"vtt", vtt}} {
		key := shopclip.OverlaysKey(clip.ID, o.ext)
		err := h.Blobs.Put(ctx, key, bytes.NewReader(o.body), int64(len(o.body)), blob.PutOptions{ContentType: blob.ContentTypeByKey(key)})
		if err != nil {
			return fmt.Errorf("workers: tag: store %s: %w", key, err)
		}
	}
	h.logger().Info("tag: timeline stored", "clip_id", clip.ID, "popups", len(tl.Popups))
	return nil
}

func (h *Handlers) buyURL(t *shopclip.Tag) string {
	if h.BuyURL != nil {
		return h.BuyURL(t.ID)
	}
	return shopclip.BuyPath(t.ID)
}
