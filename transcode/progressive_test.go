package transcode

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// eventLog records events, safe for concurrent use.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (e *eventLog) add(ev Event) {
	e.mu.Lock()
	e.events = append(e.events, ev)
	e.mu.Unlock()
}

func (e *eventLog) lines() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events {
		out = append(out, ev.Kind+" "+ev.Path)
	}
	return out
}

// publishSegment writes a rendition's files the way the engine does (the
// init segment before the first media segment) and publishes the segment.
func publishSegment(dir string, r *RenditionPublisher, i int, d time.Duration) error {
	if i == 0 {
		if err := os.WriteFile(filepath.Join(dir, r.name, InitName), make([]byte, 800), 0o644); err != nil {
			return err
		}
	}
	name := fmt.Sprintf(SegmentPattern, i)
	if err := os.WriteFile(filepath.Join(dir, r.name, name), make([]byte, 10_000), 0o644); err != nil {
		return err
	}
	if err := r.Segment(Segment{URI: name, Duration: d}); err != nil {
		return fmt.Errorf("%s: Segment %d: %w", r.name, i, err)
	}
	return nil
}

func mkdirs(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.MkdirAll(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPublisherSequence(t *testing.T) {
	l, err := Plan(probeOf(4500, phone(1080, 1920, Rational{30, 1}), stereo()), Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mkdirs(t, dir, "1080p", "720p", "480p", "audio")
	var log eventLog
	pub := NewPublisher(dir, l, log.add)
	r1080 := pub.Rendition("1080p", "avc1.640028")
	r720 := pub.Rendition("720p", "avc1.64001f")
	r480 := pub.Rendition("480p", "avc1.64001e")
	audio := pub.Rendition("audio", "")

	if err := publishSegment(dir, audio, 0, 1002667*time.Microsecond); err != nil {
		t.Fatal(err)
	}
	if err := publishSegment(dir, r480, 0, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := publishSegment(dir, r720, 0, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := publishSegment(dir, audio, 1, 2005333*time.Microsecond); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, MasterName)); err == nil || pub.Playable() {
		t.Fatalf("master written before the 1080p rung had a segment")
	}
	if err := publishSegment(dir, r1080, 0, time.Second); err != nil {
		t.Fatal(err)
	}
	if !pub.Playable() {
		t.Fatalf("not playable after every rendition's first segment")
	}
	if err := publishSegment(dir, r1080, 1, 2*time.Second); err != nil {
		t.Fatal(err)
	}

	want := []string{
		"file audio/init.mp4", "file audio/seg_00000.m4s", "file audio/index.m3u8",
		"file 480p/init.mp4", "file 480p/seg_00000.m4s", "file 480p/index.m3u8",
		"file 720p/init.mp4", "file 720p/seg_00000.m4s", "file 720p/index.m3u8",
		"file audio/seg_00001.m4s", "file audio/index.m3u8",
		"file 1080p/init.mp4", "file 1080p/seg_00000.m4s", "file 1080p/index.m3u8",
		"playable master.m3u8",
		"file 1080p/seg_00001.m4s", "file 1080p/index.m3u8",
	}
	if got := log.lines(); !slices.Equal(got, want) {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, ev := range log.events {
		if ev.Kind == EventFile && ev.Rendition != path.Dir(ev.Path) {
			t.Errorf("event %+v: rendition does not match the path", ev)
		}
	}

	segs := map[string][]string{"audio": {"seg_00000.m4s", "seg_00001.m4s"}, "1080p": {"seg_00000.m4s", "seg_00001.m4s"}, "720p": {"seg_00000.m4s"}}
	for name, want := range segs {
		p := readEventPlaylist(t, dir, name)
		var got []string
		for _, s := range p.Segments {
			got = append(got, s.URI)
		}
		if !slices.Equal(got, want) || p.Map != InitName || p.TargetDuration != 2 {
			t.Errorf("%s playlist: segments %v map %q target %d, want %v init.mp4 2", name, got, p.Map, p.TargetDuration, want)
		}
	}

	b, err := os.ReadFile(filepath.Join(dir, MasterName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMasterPlaylist(b)
	if err != nil {
		t.Fatalf("provisional master: %v\n%s", err, b)
	}
	if err := m.Validate(); err != nil {
		t.Errorf("provisional master: %v", err)
	}
	if len(m.Media) != 1 || m.Media[0].URI != "audio/index.m3u8" || m.Media[0].GroupID != AudioGroup {
		t.Errorf("provisional master media %+v", m.Media)
	}
	wantVariants := []struct {
		uri, codecs string
		w, h        int
	}{
		{"1080p/index.m3u8", "avc1.640028,mp4a.40.2", 1080, 1920},
		{"720p/index.m3u8", "avc1.64001f,mp4a.40.2", 720, 1280},
		{"480p/index.m3u8", "avc1.64001e,mp4a.40.2", 480, 854},
	}
	if len(m.Variants) != len(wantVariants) {
		t.Fatalf("provisional master lists %d variants, want 3:\n%s", len(m.Variants), b)
	}
	for i, v := range m.Variants {
		w := wantVariants[i]
		if v.URI != w.uri || v.Codecs != w.codecs || v.Width != w.w || v.Height != w.h || v.FrameRate != 30 || v.Audio != AudioGroup {
			t.Errorf("variant %d: %+v, want %+v at 30 fps with audio", i, v, w)
		}
		if v.Bandwidth != l.BandwidthBound(i) || v.AverageBandwidth != 0 {
			t.Errorf("variant %d: BANDWIDTH %d AVERAGE-BANDWIDTH %d, want the bound %d and none", i, v.Bandwidth, v.AverageBandwidth, l.BandwidthBound(i))
		}
	}
}

func readEventPlaylist(t *testing.T, dir, rendition string) *MediaPlaylist {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, rendition, PlaylistName))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseMediaPlaylist(b)
	if err != nil {
		t.Fatalf("%s playlist: %v\n%s", rendition, err, b)
	}
	if err := p.ValidateEvent(); err != nil {
		t.Errorf("%s playlist: %v", rendition, err)
	}
	return p
}

// TestPublisherConcurrent publishes every rendition from its own goroutine,
// as the engine does: each rendition's events keep their order, and the one
// playable event comes after every rendition's first playlist.
func TestPublisherConcurrent(t *testing.T) {
	tests := []struct {
		name  string
		probe Probe
	}{
		{"three rungs and audio", probeOf(12_000, phone(1080, 1920, Rational{30, 1}), stereo())},
		{"one rung, no audio", probeOf(12_000, phone(480, 270, Rational{30, 1}), nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Plan(tt.probe, Config{})
			if err != nil {
				t.Fatal(err)
			}
			names := []string{}
			for _, r := range l.Rungs {
				names = append(names, r.Name)
			}
			if l.Audio != nil {
				names = append(names, l.Audio.Name)
			}
			dir := t.TempDir()
			mkdirs(t, dir, names...)
			var log eventLog
			pub := NewPublisher(dir, l, log.add)
			rs := make([]*RenditionPublisher, len(names))
			for i, n := range names {
				codec := ""
				if i < len(l.Rungs) {
					codec = "avc1.64001f"
				}
				rs[i] = pub.Rendition(n, codec)
			}
			const segments = 6
			var wg sync.WaitGroup
			for _, r := range rs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range segments {
						if err := publishSegment(dir, r, i, 2*time.Second); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()

			lines := log.lines()
			playable := slices.Index(lines, "playable "+MasterName)
			if playable < 0 || slices.Index(lines[playable+1:], "playable "+MasterName) >= 0 {
				t.Fatalf("want exactly one playable event:\n%s", strings.Join(lines, "\n"))
			}
			for _, n := range names {
				var got []string
				for _, line := range lines {
					if strings.HasPrefix(line, "file "+n+"/") {
						got = append(got, strings.TrimPrefix(line, "file "+n+"/"))
					}
				}
				want := []string{InitName}
				for i := range segments {
					want = append(want, fmt.Sprintf(SegmentPattern, i), PlaylistName)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s events %v, want %v", n, got, want)
				}
				if first := slices.Index(lines, "file "+n+"/"+PlaylistName); first > playable {
					t.Errorf("%s: first playlist (event %d) after the playable event (%d)", n, first, playable)
				}
				if p := readEventPlaylist(t, dir, n); len(p.Segments) != segments {
					t.Errorf("%s playlist lists %d segments, want %d", n, len(p.Segments), segments)
				}
			}
		})
	}
}

// TestBandwidthBound feeds PeakBitrate the worst a rung's VBV allows — the
// buffer's whole content and the full rate in the first, 1 s, segment, the
// full rate after — with audio well over its nominal rate: the measured
// peak stays within the bound the provisional master announces.
func TestBandwidthBound(t *testing.T) {
	l, err := Plan(probeOf(9500, phone(1080, 1920, Rational{30, 1}), stereo()), Config{})
	if err != nil {
		t.Fatal(err)
	}
	target := time.Duration(l.SegmentDurationMS) * time.Millisecond
	seg := func(d time.Duration, bitsPerSecond, extraBits float64) SegmentSize {
		return SegmentSize{Duration: d, Bytes: int64((bitsPerSecond*d.Seconds() + extraBits) / 8)}
	}
	ab := float64(l.Audio.Bitrate) * 1.15
	audio := []SegmentSize{seg(time.Second, ab, 0), seg(2*time.Second, ab, 0), seg(2*time.Second, ab, 0), seg(2*time.Second, ab, 0), seg(2*time.Second, ab, 0), seg(500*time.Millisecond, ab, 0)}
	for i, r := range l.Rungs {
		m, b := float64(r.MaxRate), float64(r.BufSize)
		video := []SegmentSize{seg(time.Second, m, b), seg(2*time.Second, m, 0), seg(2*time.Second, m, 0), seg(2*time.Second, m, b/4), seg(2*time.Second, m, 0), seg(500*time.Millisecond, m, 0)}
		peak := PeakBitrate(video, target) + PeakBitrate(audio, target)
		if bound := l.BandwidthBound(i); peak > bound {
			t.Errorf("%s: worst-case peak %d exceeds the bound %d", r.Name, peak, bound)
		} else if float64(bound) > 1.2*float64(peak) {
			t.Errorf("%s: bound %d is more than 20%% over the worst case %d", r.Name, bound, peak)
		}
	}
}
