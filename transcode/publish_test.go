package transcode

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPeakAndAverageBitrate(t *testing.T) {
	s := func(ms int, bytes int64) SegmentSize {
		return SegmentSize{Duration: time.Duration(ms) * time.Millisecond, Bytes: bytes}
	}
	tests := []struct {
		name     string
		segs     []SegmentSize
		peak     int64
		avg      int64
		targetMS int
	}{
		{"uniform", []SegmentSize{s(2000, 250_000), s(2000, 250_000)}, 1_000_000, 1_000_000, 2000},
		{"one big segment", []SegmentSize{s(2000, 250_000), s(2000, 500_000), s(2000, 250_000)}, 2_000_000, 1_333_334, 2000},
		// A tiny last segment (moof overhead over 45 ms) must not count alone:
		// windows shorter than half the target are ignored (alone it would be
		// 3.6 Mb/s).
		{"tiny tail", []SegmentSize{s(2000, 250_000), s(45, 20_000)}, 1_056_235, 1_056_235, 2000},
		// Shorter than half a target: the average.
		{"short clip", []SegmentSize{s(400, 50_000)}, 1_000_000, 1_000_000, 2000},
		// Dense short first and last segments (a 600 ms first segment): every
		// run of 1 to 3 s is sparser than the whole clip; BANDWIDTH is never
		// below AVERAGE-BANDWIDTH.
		{"dense ends", []SegmentSize{s(600, 100_000), s(2000, 100_000), s(600, 100_000)}, 750_000, 750_000, 2000},
		{"empty", nil, 0, 0, 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := time.Duration(tt.targetMS) * time.Millisecond
			if got := PeakBitrate(tt.segs, target); got != tt.peak {
				t.Errorf("PeakBitrate = %d, want %d", got, tt.peak)
			}
			if got := AverageBitrate(tt.segs); got != tt.avg {
				t.Errorf("AverageBitrate = %d, want %d", got, tt.avg)
			}
		})
	}
}

// fakeOutDir writes what the engine's muxers leave in an out dir: per
// rendition an init segment, media segments of the given sizes and a
// muxer-style playlist.
func fakeOutDir(t *testing.T, l *Ladder, sizes map[string][]int64, durMS []int) string {
	t.Helper()
	dir := t.TempDir()
	names := []string{}
	for _, r := range l.VideoRungs() {
		names = append(names, r.Name)
	}
	if l.Audio != nil {
		names = append(names, l.Audio.Name)
	}
	for _, n := range names {
		if err := os.MkdirAll(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
		var pl strings.Builder
		pl.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init.mp4\"\n")
		write(t, filepath.Join(dir, n, InitName), 800)
		for i, size := range sizes[n] {
			seg := fmt.Sprintf(SegmentPattern, i)
			write(t, filepath.Join(dir, n, seg), size)
			fmt.Fprintf(&pl, "#EXTINF:%d.%03d000,\n%s\n", durMS[i]/1000, durMS[i]%1000, seg)
		}
		pl.WriteString("#EXT-X-ENDLIST\n")
		if err := os.WriteFile(filepath.Join(dir, n, PlaylistName), []byte(pl.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func write(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWritePlaylists(t *testing.T) {
	l, err := Plan(probeOf(4500, phone(1080, 1920, Rational{30, 1}), stereo()), Config{})
	if err != nil {
		t.Fatal(err)
	}
	durs := []int{2000, 2000, 500}
	dir := fakeOutDir(t, l, map[string][]int64{
		"1080p": {1_000_000, 750_000, 100_000},
		"720p":  {500_000, 400_000, 50_000},
		"480p":  {200_000, 150_000, 20_000},
		"audio": {32_000, 32_000, 8_000},
	}, durs)
	rends, dur, err := WritePlaylists(dir, l, []string{"avc1.640028", "avc1.64001f", "avc1.64001e"})
	if err != nil {
		t.Fatalf("WritePlaylists: %v", err)
	}
	if dur != 4500*time.Millisecond {
		t.Errorf("duration = %v, want 4.5s", dur)
	}
	if len(rends) != 3 || rends[0].Name != "1080p" || rends[0].Codecs != "avc1.640028,mp4a.40.2" {
		t.Fatalf("renditions = %+v", rends)
	}
	// 1080p peak: the first segment alone, 4 Mb/s, plus the audio's 128 kb/s.
	if got, want := rends[0].Bandwidth, int64(4_000_000+128_000); got != want {
		t.Errorf("1080p bandwidth = %d, want %d", got, want)
	}
	master, err := os.ReadFile(filepath.Join(dir, MasterName))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "publish", "master.golden"), master)
	media, err := os.ReadFile(filepath.Join(dir, "720p", PlaylistName))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "publish", "720p.golden"), media)

	playlists, err := CheckOutputs(dir)
	if err != nil {
		t.Fatalf("CheckOutputs on what WritePlaylists made: %v", err)
	}
	if len(playlists) != 4 {
		t.Errorf("CheckOutputs found %d media playlists, want 4", len(playlists))
	}
	outs, err := ListOutputs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if last := outs[len(outs)-1].Path; last != MasterName {
		t.Errorf("last output %q, want %s (uploaded last)", last, MasterName)
	}
	if outs[0].Path != "1080p/index.m3u8" || outs[0].Bytes == 0 {
		t.Errorf("first output %+v", outs[0])
	}

	// A missing segment is found.
	if err := os.Remove(filepath.Join(dir, "480p", "seg_00001.m4s")); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckOutputs(dir); err == nil || !strings.Contains(err.Error(), "seg_00001.m4s") {
		t.Errorf("CheckOutputs with a missing segment: %v", err)
	}
}

func TestWritePlaylistsRejects(t *testing.T) {
	l, err := Plan(probeOf(4000, phone(480, 270, Rational{30, 1}), nil), Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := fakeOutDir(t, l, map[string][]int64{"270p": {1000, 1000}}, []int{2000, 2000})
	pl := filepath.Join(dir, "270p", PlaylistName)
	data, _ := os.ReadFile(pl)
	escape := strings.Replace(string(data), "seg_00001.m4s", "../../../etc/passwd", 1)
	if err := os.WriteFile(pl, []byte(escape), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := WritePlaylists(dir, l, []string{"avc1.64001e"}); err == nil {
		t.Errorf("a playlist naming a file outside the out dir was accepted")
	}
	if _, _, err := WritePlaylists(dir, l, nil); err == nil {
		t.Errorf("missing codecs accepted")
	}
}
