package transcode

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestConfigCodecs(t *testing.T) {
	good := []struct {
		name   string
		codecs []string
		want   []string // Encoders
	}{
		{"default", nil, []string{"libx264"}},
		{"h264", []string{"h264"}, []string{"libx264"}},
		{"av1", []string{"h264", "av1"}, []string{"libx264", "libsvtav1"}},
		{"hevc and av1", []string{"h264", "hevc", "av1"}, []string{"libx264", "libx265", "libsvtav1"}},
	}
	for _, tt := range good {
		c := Config{Codecs: tt.codecs}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
		}
		if got := c.Encoders(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Encoders() = %q, want %q", tt.name, got, tt.want)
		}
	}
	bad := []struct {
		name   string
		codecs []string
		want   string // in the error
	}{
		{"empty", []string{}, `the first must be "h264"`},
		{"no h264", []string{"av1"}, `the first must be "h264"`},
		{"h264 second", []string{"av1", "h264"}, `the first must be "h264"`},
		{"unknown", []string{"h264", "vp9"}, `codec "vp9": want h264, av1 or hevc`},
		{"encoder name", []string{"h264", "libsvtav1"}, `codec "libsvtav1"`},
		{"twice", []string{"h264", "av1", "av1"}, `codec "av1" listed twice`},
	}
	for _, tt := range bad {
		err := Config{Codecs: tt.codecs}.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestPlanAltLadder(t *testing.T) {
	p := probeOf(30000, phone(1080, 1920, Rational{60, 1}), stereo())
	def, err := Plan(p, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if def.Alt != nil || len(def.VideoRungs()) != len(def.Rungs) {
		t.Fatalf("default plan has second codecs: %+v", def.Alt)
	}
	l, err := Plan(p, Config{Codecs: []string{"h264", "av1", "hevc"}})
	if err != nil {
		t.Fatal(err)
	}
	// The H.264 ladder is the default one.
	if !slices.Equal(l.Rungs, def.Rungs) || l.VideoFilter() != def.VideoFilter() {
		t.Errorf("H.264 rungs with second codecs = %+v, want %+v", l.Rungs, def.Rungs)
	}
	if len(l.Alt) != 2 || l.Alt[0].Codec != "av1" || l.Alt[0].Encoder != "libsvtav1" || l.Alt[1].Codec != "hevc" || l.Alt[1].Encoder != "libx265" {
		t.Fatalf("Alt = %+v", l.Alt)
	}
	for j, a := range l.Alt {
		s := AltCodec(a.Codec)
		for i, h := range l.Rungs {
			r := l.VideoRungs()[j*len(l.Rungs)+i]
			if r != a.Rung(h) {
				t.Errorf("VideoRungs()[%d] = %+v, want %+v", j*len(l.Rungs)+i, r, a.Rung(h))
			}
			if r.Name != h.Name+"-"+a.Codec || r.Width != h.Width || r.Height != h.Height || r.FrameRate != h.FrameRate {
				t.Errorf("%s rung %d = %+v, want the size and rate of %+v", a.Codec, i, r, h)
			}
			if want := int64(float64(h.MaxRate) * s.RateFactor); r.MaxRate != want || r.BufSize != 2*want || r.MaxRate >= h.MaxRate {
				t.Errorf("%s: max rate %d, buffer %d; want %d, %d", r.Name, r.MaxRate, r.BufSize, want, 2*want)
			}
		}
	}
	var names []string
	for _, r := range l.VideoRungs() {
		names = append(names, r.Name)
	}
	want := []string{"1080p-av1", "720p-av1", "480p-av1", "1080p-hevc", "720p-hevc", "480p-hevc", "1080p", "720p", "480p"}
	if !slices.Equal(names, want) {
		t.Errorf("VideoRungs = %q, want %q", names, want)
	}
}

func TestWritePlaylistsAltCodec(t *testing.T) {
	l, err := Plan(probeOf(4500, phone(1080, 1920, Rational{30, 1}), stereo()), Config{Codecs: []string{"h264", "av1"}})
	if err != nil {
		t.Fatal(err)
	}
	durs := []int{2000, 2000, 500}
	dir := fakeOutDir(t, l, map[string][]int64{
		"1080p-av1": {600_000, 450_000, 60_000},
		"720p-av1":  {300_000, 240_000, 30_000},
		"480p-av1":  {120_000, 90_000, 12_000},
		"1080p":     {1_000_000, 750_000, 100_000},
		"720p":      {500_000, 400_000, 50_000},
		"480p":      {200_000, 150_000, 20_000},
		"audio":     {32_000, 32_000, 8_000},
	}, durs)
	codecs := []string{"av01.0.09M.08", "av01.0.08M.08", "av01.0.04M.08", "avc1.640028", "avc1.64001f", "avc1.64001e"}
	if _, _, err := WritePlaylists(dir, l, codecs[3:]); err == nil {
		t.Errorf("WritePlaylists with the H.264 codecs only: want an error")
	}
	rends, _, err := WritePlaylists(dir, l, codecs)
	if err != nil {
		t.Fatalf("WritePlaylists: %v", err)
	}
	if len(rends) != 6 || rends[0].Name != "1080p-av1" || rends[0].Codecs != "av01.0.09M.08,mp4a.40.2" || rends[3].Name != "1080p" {
		t.Fatalf("renditions = %+v", rends)
	}
	// 1080p-av1 peak: the first segment alone, 2.4 Mb/s, plus the audio.
	if got, want := rends[0].Bandwidth, int64(2_400_000+128_000); got != want {
		t.Errorf("1080p-av1 bandwidth = %d, want %d", got, want)
	}
	master, err := os.ReadFile(filepath.Join(dir, MasterName))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "publish", "master-av1.golden"), master)
	if playlists, err := CheckOutputs(dir); err != nil || len(playlists) != 7 {
		t.Errorf("CheckOutputs: %d playlists, %v; want 7", len(playlists), err)
	}

	m, err := l.ProvisionalMaster(codecs)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range m.Variants {
		if want := l.VideoRungs()[i].Name + "/" + PlaylistName; v.URI != want || v.Codecs != codecs[i]+","+AACLCCodec || v.Bandwidth != l.BandwidthBound(i) {
			t.Errorf("provisional variant %d = %+v, want %s with %s", i, v, want, codecs[i])
		}
		if v.Bandwidth < rends[i].Bandwidth {
			t.Errorf("provisional %s bandwidth %d below the measured %d", v.URI, v.Bandwidth, rends[i].Bandwidth)
		}
	}
}
