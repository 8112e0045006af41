package workers

import (
	"context"
	"log/slog"

	"github.com/shopclip/shopclip"
)

// emit tells the webhooks of clip's creator of event, with data and the
// clip's ID. A failure is logged, never returned: the clip's work is done.
func (h *Handlers) emit(ctx context.Context, event string, clip *shopclip.Clip, data map[string]any, log *slog.Logger) {
	if h.Webhooks == nil {
		return
	}
	data["clip_id"] = clip.ID
	if err := h.Webhooks.Emit(context.WithoutCancel(ctx), event, []string{clip.CreatorID}, data); err != nil {
		log.Warn("webhooks: emit", "event", event, "err", err)
	}
}

// emitReady announces a published clip (clip.ready).
func (h *Handlers) emitReady(ctx context.Context, clip *shopclip.Clip, pub *shopclip.Publication, log *slog.Logger) {
	h.emit(ctx, shopclip.EventClipReady, clip, map[string]any{
		"title": clip.Title, "duration_ms": pub.DurationMS, "width": pub.Width, "height": pub.Height,
		"generation": pub.Generation,
	}, log)
}
