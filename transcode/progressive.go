package transcode

import (
	"path"
	"sync"
)

// Publisher announces a running transcode's outputs as the engine makes
// them, so that the worker can upload them while the rest of the ladder is
// still being made and the clip becomes playable long before it is done
// (see EventFile and EventPlayable).
//
// The engine calls Rendition once per rendition of the ladder, when it
// opens the rendition's muxer, then RenditionPublisher.Segment for each
// media segment it closes, in order, from the rendition's own goroutine.
// Different renditions may call concurrently; the events of one rendition
// are sent in the order of its calls.
type Publisher struct {
	outDir  string
	l       *Ladder
	sched   Schedule
	onEvent func(Event)

	mu       sync.Mutex
	codecs   map[string]string // rung name → RFC 6381 video codec
	ready    map[string]bool   // renditions that announced their first segment
	playable bool
}

// NewPublisher returns the publisher of a transcode of l into outDir that
// sends its events to onEvent.
func NewPublisher(outDir string, l *Ladder, onEvent func(Event)) *Publisher {
	return &Publisher{
		outDir:  outDir,
		l:       l,
		sched:   l.Schedule(),
		onEvent: onEvent,
		codecs:  map[string]string{},
		ready:   map[string]bool{},
	}
}

// Rendition returns the publisher of the rendition called name (a rung or
// the audio), which writes into outDir/name. codec is a rung's RFC 6381
// video codec (for the master playlist), "" for the audio.
func (p *Publisher) Rendition(name, codec string) *RenditionPublisher {
	p.mu.Lock()
	defer p.mu.Unlock()
	if codec != "" {
		p.codecs[name] = codec
	}
	return &RenditionPublisher{p: p, name: name}
}

// Playable reports whether EventPlayable was sent.
func (p *Publisher) Playable() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.playable
}

// RenditionPublisher publishes one rendition's segments; see
// Publisher.Rendition.
type RenditionPublisher struct {
	p    *Publisher
	name string
	segs []Segment
}

// Segment publishes the rendition's next media segment (its URI, relative
// to the rendition's dir, and its EXTINF duration), which the engine has
// just closed for good:
//
//  1. with the first segment, the init segment (InitName), which must be
//     complete by then, is announced;
//  2. the segment is announced;
//  3. the rendition's media playlist is rewritten atomically as an EVENT
//     playlist that lists every segment announced so far, and announced;
//  4. when this was the first segment of the last rendition to get one,
//     the provisional master playlist (Ladder.ProvisionalMaster) is written
//     atomically and EventPlayable is sent.
//
// It fails only when a playlist cannot be written.
func (r *RenditionPublisher) Segment(seg Segment) error {
	p := r.p
	first := len(r.segs) == 0
	if first {
		p.file(r.name, InitName)
	}
	p.file(r.name, seg.URI)
	r.segs = append(r.segs, seg)
	rel := path.Join(r.name, PlaylistName)
	if err := writePlaylist(p.outDir, rel, p.sched.MediaPlaylist(InitName, r.segs, false)); err != nil {
		return err
	}
	p.file(r.name, PlaylistName)
	if first {
		return p.markReady(r.name)
	}
	return nil
}

func (p *Publisher) file(rendition, name string) {
	p.onEvent(Event{Kind: EventFile, Rendition: rendition, Path: path.Join(rendition, name)})
}

// markReady records that rendition announced its first segment and
// playlist, and sends EventPlayable once every rendition of the ladder has.
func (p *Publisher) markReady(rendition string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ready[rendition] = true
	if p.playable {
		return nil
	}
	if p.l.Audio != nil && !p.ready[p.l.Audio.Name] {
		return nil
	}
	rungs := p.l.VideoRungs()
	codecs := make([]string, len(rungs))
	for i, r := range rungs {
		if !p.ready[r.Name] {
			return nil
		}
		codecs[i] = p.codecs[r.Name]
	}
	m, err := p.l.ProvisionalMaster(codecs)
	if err != nil {
		return err
	}
	if err := writeMaster(p.outDir, m); err != nil {
		return err
	}
	p.playable = true
	p.onEvent(Event{Kind: EventPlayable, Path: MasterName})
	return nil
}
