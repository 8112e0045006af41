package ffmpeg

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shopclip/shopclip/transcode"
)

// TestTranscodeSecondCodecs transcodes a short clip with AV1 and HEVC
// beside H.264 and checks, with FFmpeg's demuxers and decoders and ffprobe
// as the independent judges, that every second-codec variant decodes whole,
// has the H.264 variant's frames, keyframes and segments, and is listed in
// the master with the CODECS its stream really has.
func TestTranscodeSecondCodecs(t *testing.T) {
	c := transcode.Config{Codecs: []string{"h264", "av1", "hevc"}}
	out := filepath.Join(t.TempDir(), "out")
	var playable []string // the provisional master's variants, when EventPlayable came
	rep, err := Transcode(context.Background(), media(t, "vertical_1080x1920_h264_aac_android_phone.mp4"), out, c, func(ev transcode.Event) {
		if ev.Kind == transcode.EventPlayable {
			m, err := readMaster(out)
			if err != nil {
				t.Errorf("provisional master: %v", err)
				return
			}
			for _, v := range m.Variants {
				playable = append(playable, v.URI)
			}
		}
	})
	if err != nil {
		t.Fatalf("Transcode: %v", err)
	}
	var names []string
	for _, r := range rep.Renditions {
		names = append(names, r.Name)
	}
	want := []string{"1080p-av1", "720p-av1", "480p-av1", "1080p-hevc", "720p-hevc", "480p-hevc", "1080p", "720p", "480p"}
	if !slices.Equal(names, want) {
		t.Fatalf("renditions %q, want %q", names, want)
	}
	if len(playable) != len(want) {
		t.Errorf("the provisional master lists %q, want every variant", playable)
	}
	if _, err := transcode.CheckOutputs(out); err != nil {
		t.Fatalf("CheckOutputs: %v", err)
	}
	m, err := readMaster(out)
	if err != nil {
		t.Fatal(err)
	}
	h264 := map[string]transcode.Variant{}
	for _, v := range m.Variants {
		if name := filepath.Dir(v.URI); !strings.Contains(name, "-") {
			h264[name] = v
		}
	}
	for i, v := range m.Variants {
		r := rep.Renditions[i]
		name := filepath.Dir(v.URI)
		base, codec, alt := strings.Cut(name, "-")
		if name != r.Name || v.Codecs != r.Codecs {
			t.Errorf("master variant %d: %s %q, report %s %q", i, name, v.Codecs, r.Name, r.Codecs)
		}
		if !alt {
			continue
		}
		h := h264[base]
		if v.Width != h.Width || v.Height != h.Height || v.FrameRate != h.FrameRate || v.Audio != h.Audio {
			t.Errorf("%s: %dx%d %.3f fps audio %q; %s has %dx%d %.3f fps audio %q", name, v.Width, v.Height, v.FrameRate, v.Audio, base, h.Width, h.Height, h.FrameRate, h.Audio)
		}
		if v.AverageBandwidth >= h.AverageBandwidth {
			t.Errorf("%s: average bandwidth %d, not below %s's %d", name, v.AverageBandwidth, base, h.AverageBandwidth)
		}

		pl := filepath.Join(out, name, transcode.PlaylistName)
		got, err := VerifyHLS(context.Background(), pl)
		if err != nil {
			t.Fatalf("VerifyHLS %s: %v", name, err)
		}
		if got.Frames == 0 || got.Frames != rep.Frames[name] || got.Frames != rep.Frames[base] {
			t.Errorf("%s: decoded %d frames; the engine encoded %d, and %d for %s", name, got.Frames, rep.Frames[name], rep.Frames[base], base)
		}
		if got.Codec != codec || got.PixFmt != "yuv420p" || got.DecodeErrors != 0 || got.Width != v.Width || got.Height != v.Height || got.SizeChanges != 0 {
			t.Errorf("%s: decoded %+v, want %s yuv420p %dx%d without errors", name, got, codec, v.Width, v.Height)
		}

		// Segments: the same durations as the H.264 rendition's, and
		// keyframes at the same times.
		if a, b := segmentDurations(t, out, name), segmentDurations(t, out, base); !slices.Equal(a, b) {
			t.Errorf("%s: segments %v, %s has %v", name, a, base, b)
		}
		if a, b := keyframeTimes(t, pl), keyframeTimes(t, filepath.Join(out, base, transcode.PlaylistName)); a != b {
			t.Errorf("%s: keyframes at %s, %s has them at %s", name, a, base, b)
		}
		// Each segment decodes on its own, from its init segment.
		last := fmt.Sprintf(transcode.SegmentPattern, len(segmentDurations(t, out, name))-1)
		if err := decodeAlone(filepath.Join(out, name), last); err != nil {
			t.Errorf("%s/%s: %v", name, last, err)
		}

		// CODECS against what ffprobe and the mp4 muxer say of the stream.
		s := ffprobeStreams(t, pl)
		if len(s) != 1 || s[0]["codec_name"] != codec || s[0]["profile"] != "Main" {
			t.Fatalf("%s: ffprobe says %v", name, s)
		}
		level := int(s[0]["level"].(float64))
		video, audio, _ := strings.Cut(v.Codecs, ",")
		if audio != transcode.AACLCCodec {
			t.Errorf("%s: CODECS %q, want AAC-LC audio", name, v.Codecs)
		}
		init, err := os.ReadFile(filepath.Join(out, name, transcode.InitName))
		if err != nil {
			t.Fatal(err)
		}
		switch codec {
		case "av1":
			if want := fmt.Sprintf("av01.0.%02dM.08", level); video != want {
				t.Errorf("%s: CODECS %q, ffprobe says Main level %d: want %q", name, video, level, want)
			}
			if i := bytes.Index(init, []byte("av1C")); i < 0 || len(init) < i+8 {
				t.Errorf("%s: no av1C in the init segment", name)
			} else if fromBox, err := transcode.AV1Codec(init[i+4 : i+8]); err != nil || fromBox != video {
				t.Errorf("%s: CODECS %q, the muxer's av1C says %q (%v)", name, video, fromBox, err)
			}
		case "hevc":
			if want := fmt.Sprintf("hvc1.1.6.L%d.90", level); video != want {
				t.Errorf("%s: CODECS %q, ffprobe says Main level %d: want %q", name, video, level, want)
			}
			if s[0]["codec_tag_string"] != "hvc1" {
				t.Errorf("%s: sample entry %v, want hvc1 (Safari plays no hev1)", name, s[0]["codec_tag_string"])
			}
		}
	}
}

func readMaster(out string) (*transcode.MasterPlaylist, error) {
	b, err := os.ReadFile(filepath.Join(out, transcode.MasterName))
	if err != nil {
		return nil, err
	}
	return transcode.ParseMasterPlaylist(b)
}

func segmentDurations(t *testing.T, out, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, name, transcode.PlaylistName))
	if err != nil {
		t.Fatal(err)
	}
	p, err := transcode.ParseMediaPlaylist(b)
	if err != nil {
		t.Fatal(err)
	}
	var ds []string
	for _, s := range p.Segments {
		ds = append(ds, s.Duration.String())
	}
	return ds
}

// keyframeTimes returns ffprobe's keyframe times of a rendition (ms).
func keyframeTimes(t *testing.T, playlist string) string {
	t.Helper()
	b, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=pts_time,flags",
		"-of", "csv=p=0", playlist).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", playlist, err)
	}
	var keys []string
	for _, l := range strings.Fields(string(b)) {
		pts, flags, _ := strings.Cut(l, ",")
		if strings.HasPrefix(flags, "K") {
			keys = append(keys, pts)
		}
	}
	if len(keys) == 0 {
		t.Fatalf("%s: no keyframes", playlist)
	}
	return strings.Join(keys, " ")
}

// decodeAlone decodes init.mp4 followed by one media segment of dir with
// the ffmpeg command line: an error if anything fails to decode.
func decodeAlone(dir, seg string) error {
	init, err := os.ReadFile(filepath.Join(dir, transcode.InitName))
	if err != nil {
		return err
	}
	media, err := os.ReadFile(filepath.Join(dir, seg))
	if err != nil {
		return err
	}
	f := filepath.Join(dir, "alone.mp4")
	if err := os.WriteFile(f, append(init, media...), 0o644); err != nil {
		return err
	}
	defer os.Remove(f)
	b, err := exec.Command("ffmpeg", "-hide_banner", "-v", "error", "-xerror", "-i", f, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(b)) > 0 {
		return fmt.Errorf("ffmpeg: %v: %s", err, b)
	}
	return nil
}

func TestCheckEncoders(t *testing.T) {
	for _, codecs := range [][]string{nil, {"h264", "av1"}, {"h264", "hevc"}} {
		if err := CheckEncoders(transcode.Config{Codecs: codecs}); err != nil {
			t.Errorf("CheckEncoders(%q): %v (Debian's FFmpeg 5.1 has libsvtav1 and libx265)", codecs, err)
		}
	}
	if got := missingEncoders([]string{"libx264", "libnosuch", "libsvtav1"}); !slices.Equal(got, []string{"libnosuch"}) {
		t.Errorf("missingEncoders = %q, want [libnosuch]", got)
	}
}
