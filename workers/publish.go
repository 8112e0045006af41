package workers

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"github.com/shopclip/shopclip"
)

// Playable describes a transcode's outputs once they make a playable stream:
// the master playlist in the out dir lists every variant, and each has its
// first segment.
type Playable struct {
	DurationMS int64
	Width      int // displayed
	Height     int // displayed
	Renditions []shopclip.Rendition
}

// publisher uploads a running transcode's files to the attempt's generation
// prefix in the order the transcoder announces them, so a playlist never
// reaches the store before the segments it lists. When the stream becomes
// playable it uploads the master playlist and records the generation on the
// clip, which stays processing: viewers of the clip can start playing while
// the rest of the ladder is still being made.
//
// Its callbacks never block the transcoder: announcements queue up and one
// goroutine uploads them.
type publisher struct {
	h               *Handlers
	clipID, attempt string
	prefix, outDir  string
	log             *slog.Logger
	// ready is called before the stream is made public; it reports whether
	// the original checked out (its hash), so nothing is published from a
	// corrupt upload.
	ready  func() error
	cancel context.CancelCauseFunc
	// clip is announced to webhooks (clip.playable) when its stream
	// first plays; nil: not announced.
	clip *shopclip.Clip

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []announcement
	closed   bool
	uploaded map[string]bool // immutable files already in the store
	progress float64
	err      error
	done     chan struct{}
}

type announcement struct {
	rel      string
	body     []byte // the content to publish; nil: read the file
	playable *Playable
}

func newPublisher(ctx context.Context, h *Handlers, clipID, attempt, prefix, outDir string, ready func() error, cancel context.CancelCauseFunc, log *slog.Logger) *publisher {
	p := &publisher{h: h, clipID: clipID, attempt: attempt, prefix: prefix, outDir: outDir, ready: ready, cancel: cancel, log: log,
		uploaded: map[string]bool{}, done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	go p.run(ctx)
	return p
}

// file announces a complete output file (relative to the out dir), with
// its content when the transcoder took a snapshot of it.
func (p *publisher) file(rel string, body []byte) { p.push(announcement{rel: rel, body: body}) }

// playable announces that the outputs so far make a playable stream.
func (p *publisher) playable(info Playable) {
	p.push(announcement{rel: shopclip.MasterPlaylist, playable: &info})
}

// setProgress remembers the latest progress, recorded with the publication.
func (p *publisher) setProgress(f float64) {
	p.mu.Lock()
	p.progress = f
	p.mu.Unlock()
}

func (p *publisher) push(a announcement) {
	p.mu.Lock()
	if !p.closed {
		p.queue = append(p.queue, a)
		p.cond.Signal()
	}
	p.mu.Unlock()
}

// finish waits until every announced file is uploaded and returns the first
// error, if any.
func (p *publisher) finish() error {
	p.mu.Lock()
	p.closed = true
	p.cond.Signal()
	p.mu.Unlock()
	<-p.done
	return p.err
}

func (p *publisher) run(ctx context.Context) {
	defer close(p.done)
	for {
		p.mu.Lock()
		for len(p.queue) == 0 && !p.closed {
			p.cond.Wait()
		}
		if len(p.queue) == 0 {
			p.mu.Unlock()
			return
		}
		a := p.queue[0]
		p.queue = p.queue[1:]
		failed := p.err != nil
		p.mu.Unlock()
		if failed {
			continue // drain: the transcode is being cancelled
		}
		if err := p.publish(ctx, a); err != nil {
			p.mu.Lock()
			p.err = err
			p.mu.Unlock()
			p.cancel(err)
		}
	}
}

func (p *publisher) publish(ctx context.Context, a announcement) error {
	if !filepath.IsLocal(a.rel) {
		return fmt.Errorf("workers: transcoder announced %q, outside its out dir", a.rel)
	}
	if a.playable != nil {
		if err := p.ready(); err != nil {
			return err
		}
	}
	var err error
	if a.body != nil {
		err = p.h.putBytes(ctx, a.body, p.prefix+a.rel)
	} else {
		err = p.h.putFile(ctx, p.outDir, a.rel, p.prefix+a.rel)
	}
	if err != nil {
		return err
	}
	if !strings.HasSuffix(a.rel, ".m3u8") {
		p.mu.Lock()
		p.uploaded[a.rel] = true
		p.mu.Unlock()
	}
	if a.playable == nil {
		return nil
	}
	p.mu.Lock()
	progress := p.progress
	p.mu.Unlock()
	pub := &shopclip.Publication{
		Generation:   p.attempt,
		OutputPrefix: p.prefix,
		DurationMS:   a.playable.DurationMS,
		Width:        a.playable.Width,
		Height:       a.playable.Height,
		Renditions:   a.playable.Renditions,
	}
	err = p.h.Store.UpdateClipProgress(ctx, p.clipID, p.attempt, progress, pub)
	if code := shopclip.ErrorCode(err); code == shopclip.ECONFLICT || code == shopclip.ENOTFOUND {
		return errLostOwnership
	} else if err != nil {
		return fmt.Errorf("workers: record playable stream: %w", err)
	}
	p.log.Info("transcode: playable", "renditions", len(pub.Renditions))
	if p.clip != nil {
		p.h.emit(ctx, shopclip.EventClipPlayable, p.clip, map[string]any{
			"duration_ms": pub.DurationMS, "width": pub.Width, "height": pub.Height, "generation": pub.Generation,
		}, p.log)
	}
	return nil
}

// isUploaded reports whether rel is an immutable file already uploaded.
func (p *publisher) isUploaded(rel string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.uploaded[rel]
}
