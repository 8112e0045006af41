package transcode

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleMedia() *MediaPlaylist {
	return &MediaPlaylist{
		Version:             7,
		TargetDuration:      2,
		PlaylistType:        "VOD",
		IndependentSegments: true,
		Map:                 "init.mp4",
		Segments: []Segment{
			{URI: "seg_00000.m4s", Duration: 2002 * time.Millisecond},
			{URI: "seg_00001.m4s", Duration: 2 * time.Second},
			{URI: "seg_00002.m4s", Duration: 133467 * time.Microsecond},
		},
		EndList: true,
	}
}

func sampleMaster() *MasterPlaylist {
	return &MasterPlaylist{
		Version:             7,
		IndependentSegments: true,
		Media: []MediaRendition{{
			Type: "AUDIO", GroupID: "aud", Name: "Audio", Default: true, AutoSelect: true, Channels: "2", URI: "audio/index.m3u8",
		}},
		Variants: []Variant{
			{Bandwidth: 3034937, AverageBandwidth: 2900000, Width: 1080, Height: 1920, Codecs: "avc1.640028,mp4a.40.2", FrameRate: 29.97, Audio: "aud", URI: "1080p/index.m3u8"},
			{Bandwidth: 793805, AverageBandwidth: 700000, Width: 480, Height: 854, Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 30, Audio: "aud", URI: "480p/index.m3u8"},
		},
	}
}

func TestMediaPlaylistGolden(t *testing.T) {
	b, err := sampleMedia().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "hls", "media.golden"), b)
	p, err := ParseMediaPlaylist(b)
	if err != nil {
		t.Fatalf("parse what Marshal wrote: %v", err)
	}
	if !reflect.DeepEqual(p, sampleMedia()) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", p, sampleMedia())
	}
	if err := p.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if got, want := p.Duration(), 4135467*time.Microsecond; got != want {
		t.Errorf("Duration = %v, want %v", got, want)
	}
}

func TestMasterPlaylistGolden(t *testing.T) {
	b, err := sampleMaster().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "hls", "master.golden"), b)
	m, err := ParseMasterPlaylist(b)
	if err != nil {
		t.Fatalf("parse what Marshal wrote: %v", err)
	}
	if !reflect.DeepEqual(m, sampleMaster()) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", m, sampleMaster())
	}
	if err := m.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// TestParseFFmpegPlaylists parses what FFmpeg 5.1's hls muxer writes (the
// baseline ladder in shared/bench), which the engine rewrites.
func TestParseFFmpegPlaylists(t *testing.T) {
	for _, name := range []string{"ffmpeg_media.m3u8", "ffmpeg_audio.m3u8"} {
		data, err := os.ReadFile(filepath.Join("testdata", "hls", name))
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParseMediaPlaylist(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: Validate: %v", name, err)
		}
		if len(p.Segments) < 15 || !p.EndList || p.PlaylistType != "VOD" || !strings.HasPrefix(p.Map, "init_") {
			t.Errorf("%s: parsed %d segments, end %v, type %q, map %q", name, len(p.Segments), p.EndList, p.PlaylistType, p.Map)
		}
		if d := p.Duration(); d < 29*time.Second || d > 31*time.Second {
			t.Errorf("%s: duration %v, want about 30 s", name, d)
		}
	}
}

func TestParseMediaPlaylistRejects(t *testing.T) {
	head := "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
	tests := map[string]string{
		"no header":            "#EXT-X-TARGETDURATION:2\n",
		"empty":                "",
		"uri without extinf":   head + "seg.m4s\n",
		"extinf without uri":   head + "#EXTINF:2.0,\n",
		"extinf then tag":      head + "#EXTINF:2.0,\n#EXT-X-ENDLIST\n",
		"title":                head + "#EXTINF:2.0,title\nseg.m4s\n",
		"negative duration":    head + "#EXTINF:-2.0,\nseg.m4s\n",
		"exponent":             head + "#EXTINF:2e3,\nseg.m4s\n",
		"7 decimals":           head + "#EXTINF:2.0000001,\nseg.m4s\n",
		"unknown tag":          head + "#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n",
		"duplicate target":     head + "#EXT-X-TARGETDURATION:3\n",
		"no target":            "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n",
		"map after segment":    head + "#EXTINF:2.0,\nseg.m4s\n#EXT-X-MAP:URI=\"init.mp4\"\n",
		"map without uri":      head + "#EXT-X-MAP:BYTERANGE=\"1@0\"\n",
		"unterminated quote":   head + "#EXT-X-MAP:URI=\"init.mp4\n",
		"after endlist":        head + "#EXT-X-ENDLIST\n#EXTINF:2.0,\nseg.m4s\n",
		"control character":    head + "#EXTINF:2.0,\nseg\x01.m4s\n",
		"invalid utf-8":        head + "#EXTINF:2.0,\nseg\xff.m4s\n",
		"leading zero number":  "#EXTM3U\n#EXT-X-TARGETDURATION:02\n#EXT-X-MEDIA-SEQUENCE:0\n",
		"playlist type":        head + "#EXT-X-PLAYLIST-TYPE:LIVE\n",
		"trailing space":       head + "#EXTINF:2.0,\nseg.m4s \n",
		"independent w/ value": head + "#EXT-X-INDEPENDENT-SEGMENTS:YES\n",
	}
	for name, in := range tests {
		if p, err := ParseMediaPlaylist([]byte(in)); err == nil {
			t.Errorf("%s: parsed %+v, want an error", name, p)
		}
	}
}

// TestEventPlaylistGolden checks the in-progress playlist the engine
// publishes after a rendition's second segment: EVENT, no end tag, and the
// target duration of the segments to come, not of the short first one.
func TestEventPlaylistGolden(t *testing.T) {
	s := Schedule{FirstMS: 1000, KeyframeMS: 2000, SegmentMS: 2000}
	p := s.MediaPlaylist(InitName, []Segment{
		{URI: "seg_00000.m4s", Duration: 1001 * time.Millisecond},
		{URI: "seg_00001.m4s", Duration: 2002 * time.Millisecond},
	}, false)
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "hls", "event.golden"), b)
	q, err := ParseMediaPlaylist(b)
	if err != nil {
		t.Fatalf("parse what Marshal wrote: %v", err)
	}
	if !reflect.DeepEqual(q, p) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", q, p)
	}
	if err := q.ValidateEvent(); err != nil {
		t.Errorf("ValidateEvent: %v", err)
	}
	if err := q.Validate(); err == nil {
		t.Errorf("Validate (VOD) accepted an EVENT playlist")
	}
	// The final version of the same playlist differs only in its type and
	// end tag.
	final, err := s.MediaPlaylist(InitName, p.Segments, true).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(string(b), "#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-PLAYLIST-TYPE:VOD", 1) + "#EXT-X-ENDLIST\n"
	if string(final) != want {
		t.Errorf("final playlist:\n%s\nwant:\n%s", final, want)
	}
}

func TestMediaPlaylistValidateEvent(t *testing.T) {
	event := func() *MediaPlaylist {
		p := sampleMedia()
		p.PlaylistType, p.EndList = "EVENT", false
		return p
	}
	if err := event().ValidateEvent(); err != nil {
		t.Fatalf("ValidateEvent: %v", err)
	}
	tests := map[string]func(p *MediaPlaylist){
		"end list":         func(p *MediaPlaylist) { p.EndList = true },
		"vod":              func(p *MediaPlaylist) { p.PlaylistType = "VOD" },
		"no type":          func(p *MediaPlaylist) { p.PlaylistType = "" },
		"no map":           func(p *MediaPlaylist) { p.Map = "" },
		"target too small": func(p *MediaPlaylist) { p.Segments[1].Duration = 2600 * time.Millisecond },
		"no segments":      func(p *MediaPlaylist) { p.Segments = nil },
	}
	for name, mutate := range tests {
		p := event()
		mutate(p)
		if err := p.ValidateEvent(); err == nil {
			t.Errorf("%s: ValidateEvent() = nil, want an error", name)
		}
	}
}

func TestMediaPlaylistValidate(t *testing.T) {
	tests := map[string]func(p *MediaPlaylist){
		"no endlist":       func(p *MediaPlaylist) { p.EndList = false },
		"not vod":          func(p *MediaPlaylist) { p.PlaylistType = "" },
		"no map":           func(p *MediaPlaylist) { p.Map = "" },
		"old version":      func(p *MediaPlaylist) { p.Version = 3 },
		"target too small": func(p *MediaPlaylist) { p.Segments[1].Duration = 2600 * time.Millisecond },
		"no segments":      func(p *MediaPlaylist) { p.Segments = nil },
		"zero duration":    func(p *MediaPlaylist) { p.Segments[2].Duration = 0 },
	}
	for name, mutate := range tests {
		p := sampleMedia()
		mutate(p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil, want an error", name)
		}
	}
}

func TestMarshalRejectsUnwritable(t *testing.T) {
	p := sampleMedia()
	p.Segments[0].URI = "a\nb"
	if _, err := p.Marshal(); err == nil {
		t.Errorf("media playlist with a newline in a URI: want an error")
	}
	p = sampleMedia()
	p.Map = `in"it.mp4`
	if _, err := p.Marshal(); err == nil {
		t.Errorf("media playlist with a quote in the map URI: want an error")
	}
	p = sampleMedia()
	p.Segments[0].Duration = 1500 * time.Nanosecond
	if _, err := p.Marshal(); err == nil {
		t.Errorf("duration finer than a microsecond: want an error")
	}
	m := sampleMaster()
	m.Variants[0].Codecs = `avc1"`
	if _, err := m.Marshal(); err == nil {
		t.Errorf("master with a quote in CODECS: want an error")
	}
	m = sampleMaster()
	m.Variants[0].FrameRate = 29.97003
	if _, err := m.Marshal(); err == nil {
		t.Errorf("frame rate with more than 3 decimals: want an error")
	}
	m = sampleMaster()
	m.Variants[0].Audio = "other"
	if err := m.Validate(); err == nil {
		t.Errorf("variant naming an undefined audio group: want an error")
	}
}

func TestTargetDurationFor(t *testing.T) {
	seg := func(ds ...time.Duration) []Segment {
		var ss []Segment
		for _, d := range ds {
			ss = append(ss, Segment{URI: "s", Duration: d})
		}
		return ss
	}
	tests := []struct {
		segs []Segment
		want int
	}{
		{seg(2 * time.Second), 2},
		{seg(2002*time.Millisecond, 2*time.Second, 133*time.Millisecond), 2},
		{seg(2499 * time.Millisecond), 2},
		{seg(2500 * time.Millisecond), 3},
		{seg(100 * time.Millisecond), 1},
		{nil, 1},
		{seg(2*time.Second, 4200*time.Millisecond), 4},
	}
	for _, tt := range tests {
		got := TargetDurationFor(tt.segs)
		if got != tt.want {
			t.Errorf("TargetDurationFor(%v) = %d, want %d", tt.segs, got, tt.want)
		}
		p := &MediaPlaylist{Version: 7, TargetDuration: got, PlaylistType: "VOD", Map: "i", Segments: tt.segs, EndList: true}
		if len(tt.segs) > 0 {
			if err := p.Validate(); err != nil {
				t.Errorf("a playlist with the computed target fails Validate: %v", err)
			}
		}
	}
}

func TestResolveURI(t *testing.T) {
	good := map[[2]string]string{
		{"720p/index.m3u8", "seg_00000.m4s"}: "720p/seg_00000.m4s",
		{"master.m3u8", "720p/index.m3u8"}:   "720p/index.m3u8",
		{"720p/index.m3u8", "../poster.jpg"}: "poster.jpg",
	}
	for in, want := range good {
		got, err := ResolveURI(in[0], in[1])
		if err != nil || got != want {
			t.Errorf("ResolveURI(%q, %q) = %q, %v; want %q", in[0], in[1], got, err, want)
		}
	}
	for _, uri := range []string{"../../etc/passwd", "/etc/passwd", "http://127.0.0.1/x.ts", "file:///etc/passwd", "a?b", `a\b`, "../../x"} {
		if got, err := ResolveURI("720p/index.m3u8", uri); err == nil {
			t.Errorf("ResolveURI(%q) = %q, want an error", uri, got)
		}
	}
}

// FuzzMediaPlaylist checks the parser never panics and that whatever it
// accepts, Marshal writes back and ParseMediaPlaylist reads again to the same
// value and the same bytes (RELIABILITY B12).
func FuzzMediaPlaylist(f *testing.F) {
	seedFiles(f, "ffmpeg_media.m3u8", "ffmpeg_audio.m3u8", "media.golden", "event.golden")
	b, _ := sampleMedia().Marshal()
	f.Add(b)
	f.Add([]byte("#EXTM3U\n#EXT-X-TARGETDURATION:0\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:0,\na b\n"))
	f.Add([]byte("#EXTM3U\r\n# comment\r\n#EXT-X-TARGETDURATION:1\r\n#EXT-X-MEDIA-SEQUENCE:7\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseMediaPlaylist(data)
		if err != nil {
			return
		}
		b1, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed playlist: %v\ninput: %q", err, data)
		}
		p2, err := ParseMediaPlaylist(b1)
		if err != nil {
			t.Fatalf("parse of Marshal output: %v\noutput: %q", err, b1)
		}
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip changed the playlist:\n%+v\n%+v", p, p2)
		}
		b2, err := p2.Marshal()
		if err != nil || string(b1) != string(b2) {
			t.Fatalf("Marshal not stable: %v\n%q\n%q", err, b1, b2)
		}
	})
}

// FuzzMasterPlaylist is FuzzMediaPlaylist for master playlists.
func FuzzMasterPlaylist(f *testing.F) {
	seedFiles(f, "master.golden")
	b, _ := sampleMaster().Marshal()
	f.Add(b)
	f.Add([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"a,b\"\nx\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMasterPlaylist(data)
		if err != nil {
			return
		}
		b1, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed playlist: %v\ninput: %q", err, data)
		}
		m2, err := ParseMasterPlaylist(b1)
		if err != nil {
			t.Fatalf("parse of Marshal output: %v\noutput: %q", err, b1)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the playlist:\n%+v\n%+v", m, m2)
		}
		b2, err := m2.Marshal()
		if err != nil || string(b1) != string(b2) {
			t.Fatalf("Marshal not stable: %v\n%q\n%q", err, b1, b2)
		}
	})
}

func seedFiles(f *testing.F, names ...string) {
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("testdata", "hls", n))
		if err != nil {
			f.Fatalf("seed %s: %v", n, err)
		}
		f.Add(data)
	}
}
