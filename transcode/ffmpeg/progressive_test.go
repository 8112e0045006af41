package ffmpeg

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip/transcode"
)

// eventRecorder records a transcode's events and, as each arrives, what
// the out dir holds: the bytes of the file it announces and, for a
// playlist, of every file the playlist names. check then compares that
// with the finished outputs.
type eventRecorder struct {
	outDir string
	// inOrder says events are delivered as the engine sends them (in
	// process): a playlist may only name files announced before it.
	// Through the child process they arrive later, when the playlist may
	// already list the next segment, complete on disk but announced after.
	inOrder bool

	mu        sync.Mutex
	events    []transcode.Event
	snaps     map[int]map[string][]byte // event index → path → bytes at that moment
	announced map[string]int            // path → index of its first file event
	master    []byte                    // master.m3u8 at the playable event
	errs      []string
}

func newEventRecorder(outDir string, inOrder bool) *eventRecorder {
	return &eventRecorder{outDir: outDir, inOrder: inOrder, snaps: map[int]map[string][]byte{}, announced: map[string]int{}}
}

func (r *eventRecorder) errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *eventRecorder) read(rel string) ([]byte, error) {
	return os.ReadFile(filepath.Join(r.outDir, filepath.FromSlash(rel)))
}

func (r *eventRecorder) onEvent(ev transcode.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := len(r.events)
	r.events = append(r.events, ev)
	switch ev.Kind {
	case transcode.EventPlayable:
		b, err := r.read(ev.Path)
		if err != nil {
			r.errorf("playable: %v", err)
		}
		r.master = b
	case transcode.EventFile:
		b, err := r.read(ev.Path)
		if err != nil || len(b) == 0 {
			r.errorf("event %d %s: the file is not there (%d bytes, %v)", i, ev.Path, len(b), err)
			return
		}
		snap := map[string][]byte{ev.Path: b}
		r.snaps[i] = snap
		if _, ok := r.announced[ev.Path]; !ok {
			r.announced[ev.Path] = i
		}
		if !strings.HasSuffix(ev.Path, ".m3u8") {
			return
		}
		p, err := transcode.ParseMediaPlaylist(b)
		if err == nil {
			err = p.ValidateEvent()
		}
		if err != nil {
			r.errorf("event %d %s: not a valid EVENT playlist: %v\n%s", i, ev.Path, err, b)
			return
		}
		for _, uri := range append([]string{p.Map}, segmentURIs(p)...) {
			rel, err := transcode.ResolveURI(ev.Path, uri)
			if err != nil {
				r.errorf("event %d %s: %v", i, ev.Path, err)
				continue
			}
			if j, ok := r.announced[rel]; r.inOrder && (!ok || j > i) {
				r.errorf("event %d %s names %s, not announced before it", i, ev.Path, rel)
			}
			if snap[rel], err = r.read(rel); err != nil {
				r.errorf("event %d %s names %s: %v", i, ev.Path, rel, err)
			}
		}
	}
}

func segmentURIs(p *transcode.MediaPlaylist) []string {
	var uris []string
	for _, s := range p.Segments {
		uris = append(uris, s.URI)
	}
	return uris
}

// check compares the recorded events with the finished transcode rep in
// outDir: every file announced was complete when announced; every
// rendition announced its init segment, then each segment followed by its
// playlist; the playable event came after every rendition's first
// playlist and before the last segment, with a master listing the final
// variants at no less than their measured BANDWIDTH; and the segments last
// the configured lengths (c with defaults applied).
func (r *eventRecorder) check(t *testing.T, rep *transcode.Report, c transcode.Config) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.errs {
		t.Error(e)
	}
	// Announced bytes are the final bytes: segments and init segments never
	// change once announced.
	for i, snap := range r.snaps {
		for rel, b := range snap {
			if strings.HasSuffix(rel, ".m3u8") {
				continue
			}
			final, err := r.read(rel)
			if err != nil || !bytes.Equal(b, final) {
				t.Errorf("event %d: %s had %d bytes, %d at the end (%v): it was not complete", i, rel, len(b), len(final), err)
			}
		}
	}
	for rel := range r.announcedRefs() {
		if _, ok := r.announced[rel]; !ok {
			t.Errorf("a playlist names %s, which was never announced", rel)
		}
	}

	playable, lastSegment := -1, -1
	for i, ev := range r.events {
		switch {
		case ev.Kind == transcode.EventPlayable:
			if playable >= 0 {
				t.Errorf("a second playable event (%d, %d)", playable, i)
			}
			playable = i
		case ev.Kind == transcode.EventFile && strings.HasSuffix(ev.Path, ".m4s"):
			lastSegment = i
		}
	}
	if playable < 0 {
		t.Fatalf("no playable event")
	}
	if playable > lastSegment {
		t.Errorf("playable (event %d) after the last segment (event %d): not progressive", playable, lastSegment)
	}

	names := []string{}
	for _, rung := range rep.Ladder.Rungs {
		names = append(names, rung.Name)
	}
	if rep.Ladder.Audio != nil {
		names = append(names, rep.Ladder.Audio.Name)
	}
	sched := rep.Ladder.Schedule()
	for _, name := range names {
		var got []string
		firstPlaylist := -1
		for i, ev := range r.events {
			if ev.Kind != transcode.EventFile || path.Dir(ev.Path) != name {
				continue
			}
			if ev.Rendition != name {
				t.Errorf("event %d: rendition %q for %s", i, ev.Rendition, ev.Path)
			}
			if firstPlaylist < 0 && path.Base(ev.Path) == transcode.PlaylistName {
				firstPlaylist = i
			}
			got = append(got, path.Base(ev.Path))
		}
		b, err := r.read(path.Join(name, transcode.PlaylistName))
		if err != nil {
			t.Fatal(err)
		}
		final, err := transcode.ParseMediaPlaylist(b)
		if err != nil {
			t.Fatalf("%s: final playlist: %v", name, err)
		}
		want := []string{transcode.InitName}
		for _, s := range final.Segments {
			want = append(want, s.URI, transcode.PlaylistName)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: events for %v, want %v", name, got, want)
		}
		if firstPlaylist < 0 || firstPlaylist > playable {
			t.Errorf("%s: first playlist (event %d) not before playable (event %d)", name, firstPlaylist, playable)
		}
		if final.TargetDuration != sched.TargetDuration(final.Segments) || final.TargetDuration < int(math.Round(c.SegmentDuration.Seconds())) {
			t.Errorf("%s: target duration %d", name, final.TargetDuration)
		}
		checkSegmentDurations(t, name, final.Segments, rep.Ladder, c)
	}

	m, err := transcode.ParseMasterPlaylist(r.master)
	if err == nil {
		err = m.Validate()
	}
	if err != nil {
		t.Fatalf("master at the playable event: %v\n%s", err, r.master)
	}
	b, err := r.read(transcode.MasterName)
	if err != nil {
		t.Fatal(err)
	}
	final, err := transcode.ParseMasterPlaylist(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Variants) != len(final.Variants) || len(m.Media) != len(final.Media) {
		t.Fatalf("master at the playable event:\n%s\nfinal:\n%s", r.master, b)
	}
	for i, v := range m.Variants {
		f := final.Variants[i]
		if v.URI != f.URI || v.Codecs != f.Codecs || v.Width != f.Width || v.Height != f.Height || v.FrameRate != f.FrameRate || v.Audio != f.Audio {
			t.Errorf("variant %d at the playable event %+v, final %+v", i, v, f)
		}
		if v.Bandwidth < f.Bandwidth {
			t.Errorf("%s: BANDWIDTH %d at the playable event, below the measured %d", v.URI, v.Bandwidth, f.Bandwidth)
		}
		t.Logf("%s: BANDWIDTH %d at the playable event, measured %d", v.URI, v.Bandwidth, f.Bandwidth)
	}
}

// announcedRefs returns every file a playlist snapshot named.
func (r *eventRecorder) announcedRefs() map[string]bool {
	refs := map[string]bool{}
	for _, snap := range r.snaps {
		for rel := range snap {
			refs[rel] = true
		}
	}
	return refs
}

// checkSegmentDurations checks a rendition's segments: the first lasts
// about the first segment duration, the next ones (but the last) about the
// segment duration, the last no more — within a frame, or an AAC packet
// for the audio.
func checkSegmentDurations(t *testing.T, name string, segs []transcode.Segment, l *transcode.Ladder, c transcode.Config) {
	t.Helper()
	slack := 1024 * time.Second / 48000 // an AAC packet
	for _, r := range l.Rungs {
		if r.Name == name {
			slack = time.Duration(float64(time.Second) / r.FrameRate.Float())
		}
	}
	slack += time.Millisecond
	var durs []string
	for _, s := range segs {
		durs = append(durs, s.Duration.String())
	}
	for i, s := range segs {
		want := c.SegmentDuration
		if i == 0 {
			want = c.FirstSegmentDuration
		}
		last := i == len(segs)-1
		if d := s.Duration - want; d > slack || (!last && d < -slack) {
			t.Errorf("%s: segment %d lasts %v, want %v (segments %v)", name, i, s.Duration, want, durs)
		}
	}
	t.Logf("%s: segments %v", name, durs)
}

// TestTranscodeProgressive transcodes a clip of several segments in process
// and checks the files are announced complete and in order, the stream
// becomes playable early, and the segments are 1 s, then 2 s.
func TestTranscodeProgressive(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	rec := newEventRecorder(out, true)
	rep, err := Transcode(context.Background(), media(t, "phone_h264_aac_720p_geese.mp4"), out, transcode.Config{}, rec.onEvent)
	if err != nil {
		t.Fatalf("Transcode: %v", err)
	}
	if len(rep.Renditions) != 2 || rep.Ladder.Audio == nil || rep.DurationMS < 3000 {
		t.Fatalf("report: %+v, want two rungs with audio, over 3 s", rep.Renditions)
	}
	rec.check(t, rep, transcode.DefaultConfig())
	checkOutputs(t, rep, out)
	checkKeyframesAligned(t, rep, out)
}
