package ffmpeg

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/shopclip/shopclip/transcode"
)

// TestTranscodeEditingFormats transcodes what brands' ads come in from
// editing suites and older gear, generated here with the ffmpeg command
// line: a ProRes 422 10-bit MOV with 24-bit PCM, a DNxHD MOV with
// big-endian PCM, interlaced MPEG-2 with MP2 in MPEG-TS, MPEG-2 with MP2 in
// an MPEG program stream (.mpg), MPEG-1 in an MPEG-1 system stream, and a
// Motion JPEG AVI with PCM. Each must
// come out as the usual H.264 yuv420p ladder (checkOutputs), looking like
// FFmpeg's own rendering of the source (10-bit 4:2:2 and full-range
// 4:2:2 converted, not misread), sounding as loud as the source (no byte
// order or sample format mix-up), and deinterlaced when interlaced.
func TestTranscodeEditingFormats(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	// Stereo sound, so the volumes compare without a channel mix.
	sound := []string{"-f", "lavfi", "-i", "sine=f=440:d=1:sample_rate=48000", "-ac", "2"}
	picture := func(size string) []string {
		return append([]string{"-f", "lavfi", "-i", "testsrc2=s=" + size + ":r=25:d=1"}, sound...)
	}
	// 50 pictures a second woven into 25 interlaced frames: each frame's
	// fields show different moments, so a frame left interlaced combs.
	woven := append([]string{"-f", "lavfi", "-i", "testsrc2=s=320x240:r=50:d=1"}, sound...)
	woven = append(woven, "-vf", "tinterlace=mode=interleave_top", "-flags", "+ildct+ilme", "-top", "1")

	tests := []struct {
		name       string
		args       []string // ffmpeg's, the output last
		container  string
		video      string
		pixFmt     string
		audio      string
		interlaced bool
	}{
		{"prores 422 10-bit, pcm_s24le, mov",
			append(picture("320x240"), "-c:v", "prores_ks", "-profile:v", "2", "-pix_fmt", "yuv422p10le", "-c:a", "pcm_s24le", p("prores.mov")),
			"mov,mp4,m4a,3gp,3g2,mj2", "prores", "yuv422p10le", "pcm_s24le", false},
		{"dnxhd 720p, pcm_s16be, mov",
			append(picture("1280x720"), "-c:v", "dnxhd", "-b:v", "60M", "-pix_fmt", "yuv422p", "-c:a", "pcm_s16be", p("dnxhd.mov")),
			"mov,mp4,m4a,3gp,3g2,mj2", "dnxhd", "yuv422p", "pcm_s16be", false},
		{"interlaced mpeg-2, mp2, mpeg-ts",
			append(woven, "-c:v", "mpeg2video", "-q:v", "3", "-c:a", "mp2", "-f", "mpegts", p("mpeg2.ts")),
			"mpegts", "mpeg2video", "yuv420p", "mp2", true},
		{"mpeg-2, mp2, mpeg-ps",
			append(picture("320x240"), "-c:v", "mpeg2video", "-q:v", "3", "-c:a", "mp2", "-f", "vob", p("mpeg2.mpg")),
			"mpeg", "mpeg2video", "yuv420p", "mp2", false},
		{"mpeg-1, mp2, mpeg-1 system stream",
			append(picture("320x240"), "-c:v", "mpeg1video", "-q:v", "3", "-c:a", "mp2", "-f", "mpeg", p("mpeg1.mpg")),
			"mpeg", "mpeg1video", "yuv420p", "mp2", false},
		{"mjpeg 4:2:2, pcm_s16le, avi",
			append(picture("320x240"), "-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj422p", "-c:a", "pcm_s16le", p("mjpeg.avi")),
			"avi", "mjpeg", "yuvj422p", "pcm_s16le", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := generate(t, tt.args...)
			out := filepath.Join(t.TempDir(), "out")
			rep, err := Transcode(context.Background(), src, out, small, nil)
			if err != nil {
				t.Fatalf("Transcode: %v", err)
			}
			pr := rep.Probe
			if pr.Container != tt.container || pr.Video.Codec != tt.video || pr.Video.PixFmt != tt.pixFmt || pr.Audio == nil || pr.Audio.Codec != tt.audio {
				t.Errorf("probed %s: %s %s, audio %+v; want %s: %s %s, %s", pr.Container, pr.Video.Codec, pr.Video.PixFmt, pr.Audio,
					tt.container, tt.video, tt.pixFmt, tt.audio)
			}
			if rep.Ladder.Deinterlace != tt.interlaced {
				t.Errorf("deinterlace %v (field order %q), want %v", rep.Ladder.Deinterlace, pr.Video.FieldOrder, tt.interlaced)
			}
			if rep.Ladder.Audio == nil {
				t.Fatalf("no audio rendition")
			}
			checkOutputs(t, rep, out)

			// The first picture against FFmpeg's own rendering of the
			// source (deinterlaced the same way when interlaced), in RGB so
			// chroma mistakes count too.
			top := rep.Renditions[0]
			pl := filepath.Join(out, top.Name, transcode.PlaylistName)
			w, h := top.Width/4*2, top.Height/4*2
			pre := ""
			if tt.interlaced {
				pre = "bwdif=mode=send_frame:deint=interlaced"
			}
			if d := meanAbsDiff(rgbFrame(t, pl, 0, w, h, ""), rgbFrame(t, src, 0, w, h, pre)); d > 6 {
				t.Errorf("the first picture differs from the source's by %.1f on average (of 255)", d)
			} else {
				t.Logf("the first picture differs from the source's by %.1f on average (of 255)", d)
			}

			if got, want := meanVolume(t, filepath.Join(out, transcode.AudioName, transcode.PlaylistName)), meanVolume(t, src); math.Abs(got-want) > 1.5 {
				t.Errorf("output sound at %.1f dB, the source at %.1f dB", got, want)
			}

			if tt.interlaced {
				tff, bff, prog := interlaceDetect(t, src)
				if tff+bff < 4*prog {
					t.Fatalf("idet sees the source as %d TFF, %d BFF, %d progressive frames: not interlaced enough to test", tff, bff, prog)
				}
				tff, bff, prog = interlaceDetect(t, pl)
				if prog < 4*(tff+bff) {
					t.Errorf("idet sees the output as %d TFF, %d BFF, %d progressive frames: still interlaced", tff, bff, prog)
				}
			}
		})
	}
}

var meanVolumeRE = regexp.MustCompile(`mean_volume: (-?[0-9.]+) dB`)

// meanVolume returns the mean volume (dBFS) of path's first audio stream,
// measured by the ffmpeg command line's volumedetect.
func meanVolume(t *testing.T, path string) float64 {
	t.Helper()
	b, err := exec.Command("ffmpeg", "-nostats", "-i", path, "-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-").CombinedOutput()
	m := meanVolumeRE.FindSubmatch(b)
	if err != nil || m == nil {
		t.Fatalf("volumedetect %s: %v\n%s", path, err, b)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

var idetRE = regexp.MustCompile(`Multi frame detection: TFF: *(\d+) BFF: *(\d+) Progressive: *(\d+)`)

// interlaceDetect counts the frames of path's video that the ffmpeg command
// line's idet filter finds top field first, bottom field first and
// progressive, by their content (combing), whatever they are flagged.
func interlaceDetect(t *testing.T, path string) (tff, bff, progressive int) {
	t.Helper()
	b, err := exec.Command("ffmpeg", "-nostats", "-i", path, "-map", "0:v:0", "-vf", "idet", "-f", "null", "-").CombinedOutput()
	m := idetRE.FindSubmatch(b)
	if err != nil || m == nil {
		t.Fatalf("idet %s: %v\n%s", path, err, b)
	}
	tff, _ = strconv.Atoi(string(m[1]))
	bff, _ = strconv.Atoi(string(m[2]))
	progressive, _ = strconv.Atoi(string(m[3]))
	return tff, bff, progressive
}
