package storefront

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/shopclip/shopclip"
)

// heartbeat is how often an idle event stream sends a comment, so proxies
// keep it open and a dead client is found.
const heartbeat = 20 * time.Second

// maxLiveClips bounds the snapshot GET /v1/clips/live starts with, read a
// page at a time; a creator with more is told to page GET /v1/clips.
const maxLiveClips = 10_000

// clipsLive streams the caller's clips as server-sent events: every clip
// at once ("clip" events), then each clip again whenever it changes, and
// "deleted" for one that is gone. A reconnecting client (EventSource does
// so by itself) gets everything again.
func (s *Server) clipsLive(w http.ResponseWriter, r *http.Request) error {
	if s.Live == nil {
		return shopclip.Errorf(shopclip.EUNAVAILABLE, "Live status is not set up on this server: poll GET /v1/clips.")
	}
	creator := account(r).ID
	changed, stop := s.Live.Watch(creator) // before the snapshot: no change falls between
	defer stop()
	clips, err := shopclip.AllPages(r.Context(), shopclip.MaxPageSize, maxLiveClips,
		func(ctx context.Context, p shopclip.Page) ([]*shopclip.Clip, error) {
			return s.Store.CreatorClips(ctx, creator, p)
		},
		clipCursor)
	if shopclip.ErrorCode(err) == shopclip.ECONFLICT {
		return shopclip.Errorf(shopclip.ECONFLICT, "You have more than %d clips, too many to follow live: page through GET /v1/clips instead.", maxLiveClips)
	} else if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	for _, c := range clips {
		s.sendClip(w, c)
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.Live.Done():
			return nil
		case <-tick.C:
			fmt.Fprint(w, ": ping\n\n")
		case id := <-changed:
			c, err := s.Store.Clip(r.Context(), id)
			switch {
			case shopclip.ErrorCode(err) == shopclip.ENOTFOUND:
				b, _ := json.Marshal(map[string]string{"id": id})
				fmt.Fprintf(w, "event: deleted\ndata: %s\n\n", b)
			case err != nil:
				s.logger().WarnContext(r.Context(), "clips live: load clip", "clip_id", id, "err", err)
				continue
			case c.CreatorID == creator:
				s.sendClip(w, c)
			}
		}
		if err := rc.Flush(); err != nil {
			return nil // the client went away
		}
	}
}

// sendClip writes a "clip" event.
func (s *Server) sendClip(w http.ResponseWriter, c *shopclip.Clip) {
	b, _ := json.Marshal(s.clipJSON(c))
	fmt.Fprintf(w, "event: clip\nid: %s\ndata: %s\n\n", c.ID, b)
}

// notify tells the watchers of a creator's clips that one changed.
func (s *Server) notify(r *http.Request, c *shopclip.Clip) {
	s.Live.Notify(r.Context(), c.CreatorID, c.ID)
}

// retryClip sends a clip that failed, for a reason that was not the
// file's, through the transcoder again.
func (s *Server) retryClip(w http.ResponseWriter, r *http.Request) error {
	c, err := s.visibleClip(r)
	if err != nil {
		return err
	}
	if !canManageClip(account(r), c) {
		return shopclip.Errorf(shopclip.EFORBIDDEN, "Only the clip's creator can reprocess it.")
	}
	if s.Reprocessing == nil {
		return shopclip.Errorf(shopclip.EUNAVAILABLE, "Reprocessing is not set up on this server.")
	}
	switch {
	case c.Status != shopclip.ClipFailed:
		return shopclip.Errorf(shopclip.ECONFLICT, "Only a failed clip can be processed again; this one is %s.", c.Status)
	case !shopclip.Reprocessable(c.Error):
		return shopclip.Errorf(shopclip.ECONFLICT, "Processing again would fail the same way, for the file itself is the problem: %s Upload a fixed file instead.", c.Error.Message)
	}
	c, err = s.Reprocessing.ReprocessClip(r.Context(), c.ID)
	if err != nil {
		return err
	}
	if err := s.Queue.RetryTranscode(r.Context(), c.ID); err != nil {
		// Recorded as uploaded: the reconciler enqueues it later.
		s.logger().WarnContext(r.Context(), "retry: enqueue transcode", "clip_id", c.ID, "err", err)
	}
	s.notify(r, c)
	return writeJSON(w, http.StatusAccepted, s.clipJSON(c))
}
