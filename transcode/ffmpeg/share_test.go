package ffmpeg

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/transcode"
)

// shareCard is the test's overlay: a 400×250 card at (0.1, 0.6), half the
// frame wide, shown from 1 s to 3 s.
var shareCard = transcode.Overlay{Image: "card.png", X: 0.1, Y: 0.6, Width: 0.5, StartMS: 1000, EndMS: 3000}

// shareInputs makes the share render inputs the way production gets them:
// a 5 s 720×1280 clip (with a 440 Hz tone, or silent) transcoded by the
// engine with a 720p rung, whose clip.mp4 is the input; and the card, a
// solid magenta PNG, in the same job dir.
func shareInputs(t *testing.T, audio bool) (jobDir, clip string) {
	t.Helper()
	jobDir = t.TempDir()
	args := []string{"-f", "lavfi", "-i", "testsrc2=size=720x1280:rate=30:duration=5"}
	if audio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=5", "-c:a", "aac", "-shortest")
	}
	args = append(args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", filepath.Join(jobDir, "source.mp4"))
	src := generate(t, args...)
	out := filepath.Join(jobDir, "out")
	cfg := transcode.Config{Rungs: []transcode.RungConfig{{ShortSide: 720, MaxRate: 2_500_000}}, NoStoryboard: true}
	rep, err := Transcode(context.Background(), src, out, cfg, nil)
	if err != nil {
		t.Fatalf("Transcode: %v", err)
	}
	clip = filepath.Join(jobDir, "clip.mp4")
	if err := os.Rename(filepath.Join(out, rep.MP4), clip); err != nil {
		t.Fatal(err)
	}
	writePNG(t, filepath.Join(jobDir, shareCard.Image), solid(400, 250, color.NRGBA{R: 255, B: 255, A: 255}))
	return jobDir, clip
}

func solid(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// loaderIn loads overlay images from dir as the child does.
func loaderIn(t *testing.T, dir string) func(string) (image.Image, error) {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return func(name string) (image.Image, error) { return transcode.LoadCard(root, name) }
}

// TestBurnIn renders the card into clips with and without sound, in this
// process, and checks the result frame by frame against the input.
func TestBurnIn(t *testing.T) {
	for _, audio := range []bool{true, false} {
		name := map[bool]string{true: "with audio", false: "silent"}[audio]
		t.Run(name, func(t *testing.T) {
			dir, clip := shareInputs(t, audio)
			out := filepath.Join(dir, "share.mp4")
			var events []transcode.Event
			spec := transcode.ShareSpec{Overlays: []transcode.Overlay{shareCard}}
			rep, err := BurnIn(context.Background(), clip, out, spec, loaderIn(t, dir), BurnInOptions{OnEvent: func(ev transcode.Event) { events = append(events, ev) }})
			if err != nil {
				t.Fatalf("BurnIn: %v", err)
			}
			t.Logf("report %+v", rep)
			if len(events) < 2 || events[0].Kind != transcode.EventProbe || events[0].DurationMS < 4900 || events[len(events)-1].Progress != 1 {
				t.Errorf("events %+v: want the probe with the duration first, progress 1 last", events)
			}
			checkShare(t, clip, out, rep, audio)
			leftovers(t, dir, "card.png", "clip.mp4", "out", "share.mp4", "source.mp4")
		})
	}
}

// TestRunnerShare renders through the child process, as the worker does.
func TestRunnerShare(t *testing.T) {
	dir, clip := shareInputs(t, true)
	spec := transcode.ShareSpec{Overlays: []transcode.Overlay{shareCard}}
	rep, err := testRunner(t, "child").Share(context.Background(), dir, "clip.mp4", "share.mp4", spec)
	if err != nil {
		t.Fatalf("Share: %v", err)
	}
	checkShare(t, clip, filepath.Join(dir, "share.mp4"), rep, true)
	leftovers(t, dir, "card.png", "clip.mp4", "out", "share.mp4", "source.mp4")
}

// leftovers fails when dir holds anything but want: no temporary output,
// no spec file.
func leftovers(t *testing.T, dir string, want ...string) {
	t.Helper()
	if got := dirNames(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("job dir holds %q, want %q", got, want)
	}
}

// dirNames lists dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// checkShare checks a share render out of in: a clean faststart H.264
// MP4 of the same size and duration, the input's audio packets copied
// byte for byte, and the card in its window only.
func checkShare(t *testing.T, in, out string, rep *transcode.ShareReport, audio bool) {
	t.Helper()
	ctx := context.Background()
	vin, err := VerifyMP4(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	vout, err := VerifyMP4(ctx, out)
	if err != nil {
		t.Fatalf("the render does not decode: %v", err)
	}
	if vout.Codec != "h264" || vout.PixFmt != "yuv420p" || vout.DecodeErrors != 0 || vout.SizeChanges != 0 {
		t.Errorf("render: %+v, want clean h264 yuv420p", vout)
	}
	if vout.Width != vin.Width || vout.Height != vin.Height || rep.Width != vin.Width || rep.Height != vin.Height {
		t.Errorf("render %dx%d (report %dx%d), input %dx%d", vout.Width, vout.Height, rep.Width, rep.Height, vin.Width, vin.Height)
	}
	if vout.Frames != vin.Frames || rep.Frames != vin.Frames {
		t.Errorf("render has %d frames (report %d), input %d", vout.Frames, rep.Frames, vin.Frames)
	}
	if d := vout.Duration - vin.Duration; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("render lasts %v, input %v", vout.Duration, vin.Duration)
	}
	fi, err := os.Stat(out)
	if err != nil || rep.Bytes != fi.Size() || fi.Mode().Perm() != 0o644 {
		t.Fatalf("report says %d bytes; the file: %v (%v), want that size and mode 0644", rep.Bytes, fi, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if boxes := mp4TopBoxes(b); len(boxes) < 3 || boxes[0] != "ftyp" || boxes[1] != "moov" {
		t.Errorf("top-level boxes %v: want ftyp, moov first (faststart)", boxes)
	}
	s := ffprobeStreams(t, out)
	if len(s) == 0 || s[0]["profile"] != "High" || s[0]["codec_name"] != "h264" {
		t.Errorf("ffprobe: %v, want H.264 High first", s)
	}
	if sin := ffprobeStreams(t, in); len(sin) == 0 || len(s) == 0 || sin[0]["start_time"] != s[0]["start_time"] || sin[0]["duration"] != s[0]["duration"] {
		t.Errorf("video track starts at %v and lasts %v, the input's at %v and %v", s[0]["start_time"], s[0]["duration"], sin[0]["start_time"], sin[0]["duration"])
	}
	if audio != (len(s) == 2) || audio != rep.Audio {
		t.Errorf("ffprobe sees %d streams, report says audio %v; the input has audio: %v", len(s), rep.Audio, audio)
	}

	// The sound is the input's, packet for packet.
	ain, aout := audioPackets(t, in), audioPackets(t, out)
	if audio && len(ain) == 0 {
		t.Fatal("the input has no audio packets")
	}
	if len(ain) != len(aout) {
		t.Errorf("%d audio packets in the render, %d in the input", len(aout), len(ain))
	}
	for i := range min(len(ain), len(aout)) {
		if !bytes.Equal(ain[i].data, aout[i].data) || math.Abs(ain[i].sec-aout[i].sec) > 1e-6 {
			t.Errorf("audio packet %d differs (%d bytes at %.6f s, input %d bytes at %.6f s)", i, len(aout[i].data), aout[i].sec, len(ain[i].data), ain[i].sec)
			break
		}
	}

	// The card: (0.1, 0.6) of 720×1280 is (72, 768); half the width is
	// 360 pixels, and 250/400 of that 225, an even 224. Look inside it,
	// away from the edges, and just left of it. The frames looked at are
	// the ones shown at these times, among them the last before and the
	// first after each end of the window: whether the card shows depends on
	// the frame's own presentation time t, 1 s ≤ t < 3 s.
	card := image.Rect(72, 768, 72+360, 768+224).Inset(8)
	beside := image.Rect(40, 800, 64, 960)
	var edges [4]bool // a frame seen just before and just after 1 s and 3 s
	for _, sec := range []float64{0.5, 0.9999, 1.04, 2, 2.9999, 3.04, 4} {
		fin, tin := frameAt(t, in, sec)
		fout, tout := frameAt(t, out, sec)
		if tin != tout {
			t.Errorf("at %.3f s the input shows its frame at %.6f s, the render its frame at %.6f s", sec, tin, tout)
		}
		want := tout >= float64(shareCard.StartMS)/1000 && tout < float64(shareCard.EndMS)/1000
		for i, edge := range []float64{1, 3} {
			if math.Abs(tout-edge) < 0.034 {
				edges[2*i+map[bool]int{false: 0, true: 1}[tout >= edge]] = true
			}
		}
		y, cb, cr := meanYCbCr(fout, card)
		diff := meanDiff(fin, fout, card)
		t.Logf("frame at %.6f s: card area Y %.0f Cb %.0f Cr %.0f, differs from the input by %.1f", tout, y, cb, cr, diff)
		// Magenta in limited-range BT.601: Y 106, Cb 202, Cr 222.
		magenta := math.Abs(y-106) < 12 && math.Abs(cb-202) < 12 && math.Abs(cr-222) < 12
		if want && (!magenta || diff < 30) {
			t.Errorf("frame at %.6f s: the card area is not magenta (Y %.0f Cb %.0f Cr %.0f, %.1f from the input)", tout, y, cb, cr, diff)
		}
		if !want && (magenta || diff > 4) {
			t.Errorf("frame at %.6f s: the card area differs from the input by %.1f (Y %.0f Cb %.0f Cr %.0f); the card should be absent", tout, diff, y, cb, cr)
		}
		if d := meanDiff(fin, fout, beside); d > 4 {
			t.Errorf("frame at %.6f s: left of the card the render differs from the input by %.1f", tout, d)
		}
	}
	if edges != [4]bool{true, true, true, true} {
		t.Errorf("frames next to the window's ends seen (before/after 1 s, before/after 3 s): %v; the test looks at the wrong times", edges)
	}
}

// mp4TopBoxes lists the types of an MP4's top-level boxes.
func mp4TopBoxes(b []byte) []string {
	var boxes []string
	for off := 0; off+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[off:]))
		boxes = append(boxes, string(b[off+4:off+8]))
		if size < 8 {
			break
		}
		off += size
	}
	return boxes
}

type audioPacket struct {
	data []byte
	sec  float64
}

// openTestMP4 opens an MP4 for the test's own reading (mov demuxer, file
// protocol only).
func openTestMP4(t *testing.T, path string) *astiav.FormatContext {
	t.Helper()
	fc := astiav.AllocFormatContext()
	d := astiav.NewDictionary()
	defer d.Free()
	if err := setAll(d, map[string]string{"format_whitelist": "mov,mp4,m4a,3gp,3g2,mj2", "protocol_whitelist": "file"}); err != nil {
		t.Fatal(err)
	}
	if err := fc.OpenInput("file:"+path, astiav.FindInputFormat("mov"), d); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { fc.CloseInput() })
	if err := findStreamInfo(fc, 1<<30); err != nil {
		t.Fatal(err)
	}
	return fc
}

// audioPackets returns the bytes and presentation times of every packet of
// the first audio stream of the MP4 at path.
func audioPackets(t *testing.T, path string) []audioPacket {
	t.Helper()
	fc := openTestMP4(t, path)
	idx := -1
	var tb astiav.Rational
	for _, s := range fc.Streams() {
		if s.CodecParameters().MediaType() == astiav.MediaTypeAudio && idx < 0 {
			idx, tb = s.Index(), s.TimeBase()
		}
	}
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	var out []audioPacket
	for {
		if err := fc.ReadFrame(pkt); err != nil {
			if !errors.Is(err, astiav.ErrEof) {
				t.Fatal(err)
			}
			return out
		}
		if pkt.StreamIndex() == idx {
			out = append(out, audioPacket{data: bytes.Clone(pkt.Data()), sec: float64(pkt.Pts()) * tb.Float64()})
		}
		pkt.Unref()
	}
}

// frameAt decodes the MP4 at path with the libraries and returns the
// picture shown at sec, the last frame whose presentation time is at most
// sec, and that time.
func frameAt(t *testing.T, path string, sec float64) (*image.YCbCr, float64) {
	t.Helper()
	fc := openTestMP4(t, path)
	var st *astiav.Stream
	for _, s := range fc.Streams() {
		if s.CodecParameters().MediaType() == astiav.MediaTypeVideo && st == nil {
			st = s
		}
	}
	dec, err := openVideoDecoder(st, transcode.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Free()
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	frame := astiav.AllocFrame()
	defer frame.Free()
	var shown *image.YCbCr
	var shownAt float64
	var errs int
	keep := func(f *astiav.Frame) error {
		at := float64(bestEffortTimestamp(f)) * st.TimeBase().Float64()
		if at > sec {
			return nil
		}
		img := &image.YCbCr{}
		if err := f.Data().ToImage(img); err != nil {
			return err
		}
		shown, shownAt = img, at
		return nil
	}
	for {
		err := fc.ReadFrame(pkt)
		if errors.Is(err, astiav.ErrEof) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if pkt.StreamIndex() == st.Index() {
			err = decodePacket(dec, pkt, frame, &errs, keep)
		}
		pkt.Unref()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := decodePacket(dec, nil, frame, &errs, keep); err != nil || errs > 0 || shown == nil {
		t.Fatalf("no frame at %.3f s in %s (%v, %d decode errors)", sec, path, err, errs)
	}
	return shown, shownAt
}

// meanYCbCr returns the mean Y, Cb and Cr of img over r.
func meanYCbCr(img *image.YCbCr, r image.Rectangle) (y, cb, cr float64) {
	n := 0
	for py := r.Min.Y; py < r.Max.Y; py++ {
		for px := r.Min.X; px < r.Max.X; px++ {
			c := img.YCbCrAt(px, py)
			y, cb, cr = y+float64(c.Y), cb+float64(c.Cb), cr+float64(c.Cr)
			n++
		}
	}
	return y / float64(n), cb / float64(n), cr / float64(n)
}

// meanDiff returns the mean absolute difference of a and b over r, their
// three components together.
func meanDiff(a, b *image.YCbCr, r image.Rectangle) float64 {
	var s float64
	n := 0
	for py := r.Min.Y; py < r.Max.Y; py++ {
		for px := r.Min.X; px < r.Max.X; px++ {
			ca, cb := a.YCbCrAt(px, py), b.YCbCrAt(px, py)
			s += math.Abs(float64(ca.Y)-float64(cb.Y)) + math.Abs(float64(ca.Cb)-float64(cb.Cb)) + math.Abs(float64(ca.Cr)-float64(cb.Cr))
			n += 3
		}
	}
	return s / float64(n)
}

// TestBurnInHostile runs bad specs, images and inputs through BurnIn and
// Runner.Share: each gets a clear error with its code, and no output file
// (or temporary one) is left.
func TestBurnInHostile(t *testing.T) {
	dir, clip := shareInputs(t, true)
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(t.TempDir(), "secret.png")
	writePNG(t, secret, solid(8, 8, color.NRGBA{A: 255}))
	if err := os.Symlink(secret, filepath.Join(dir, "escape.png")); err != nil {
		t.Fatal(err)
	}
	var good bytes.Buffer
	if err := png.Encode(&good, solid(64, 64, color.NRGBA{G: 255, A: 255})); err != nil {
		t.Fatal(err)
	}
	write("truncated.png", good.Bytes()[:40]) // signature and IHDR: the header reads, the pixels do not
	write("text.png", []byte("not a picture"))
	write("huge.png", hugePNG(t))
	write("playlist.mp4", []byte("#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\n"+filepath.Join(dir, "clip.mp4")+"\n#EXT-X-ENDLIST\n"))
	write("text.mp4", []byte(strings.Repeat("not a video at all\n", 500)))
	for name, file := range map[string]string{"clip.webm.mp4": "webm_vp8_vorbis_720p_bbb_30s.webm", "pcm.mov": "mov_h264_1080p50_pcm_s16le.mov"} {
		b, err := os.ReadFile(media(t, file))
		if err != nil {
			t.Fatal(err)
		}
		write(name, b)
	}

	with := func(mod func(*transcode.Overlay)) transcode.ShareSpec {
		o := shareCard
		mod(&o)
		return transcode.ShareSpec{Overlays: []transcode.Overlay{o}}
	}
	many := transcode.ShareSpec{}
	for range 1000 {
		many.Overlays = append(many.Overlays, shareCard)
	}
	card := transcode.ShareSpec{Overlays: []transcode.Overlay{shareCard}}
	tests := []struct {
		name  string
		input string
		spec  transcode.ShareSpec
		code  string
		says  string // in the error's message
	}{
		{"path in image name", "clip.mp4", with(func(o *transcode.Overlay) { o.Image = "../x.png" }), shopclip.EINVALID, "not a plain file name"},
		{"absolute image name", "clip.mp4", with(func(o *transcode.Overlay) { o.Image = "/etc/passwd" }), shopclip.EINVALID, "not a plain file name"},
		{"NaN position", "clip.mp4", with(func(o *transcode.Overlay) { o.X = math.NaN() }), shopclip.EINVALID, "position"},
		{"infinite width", "clip.mp4", with(func(o *transcode.Overlay) { o.Width = math.Inf(1) }), shopclip.EINVALID, "width"},
		{"empty window", "clip.mp4", with(func(o *transcode.Overlay) { o.EndMS = o.StartMS }), shopclip.EINVALID, "time window"},
		{"1000 overlays", "clip.mp4", many, shopclip.EINVALID, "at most 64"},
		{"missing image", "clip.mp4", with(func(o *transcode.Overlay) { o.Image = "gone.png" }), shopclip.EINVALID, "not in the job dir"},
		{"symlink out of the job dir", "clip.mp4", with(func(o *transcode.Overlay) { o.Image = "escape.png" }), shopclip.EINVALID, "cannot be opened"},
		{"not a PNG", "clip.mp4", with(func(o *transcode.Overlay) { o.Image = "text.png" }), shopclip.EINVALID, "not a PNG"},
		{"truncated PNG", "clip.mp4", with(func(o *transcode.Overlay) { o.Image = "truncated.png" }), shopclip.EINVALID, "not a readable PNG"},
		{"huge PNG", "clip.mp4", with(func(o *transcode.Overlay) { o.Image = "huge.png" }), shopclip.EINVALID, "at most 2048"},
		{"WebM input", "clip.webm.mp4", card, shopclip.EMEDIAFORMAT, "MATROSKA"},
		{"HLS playlist input", "playlist.mp4", card, shopclip.EMEDIAFORMAT, "HLS"},
		{"text input", "text.mp4", card, shopclip.EMEDIAUNREADABLE, "could not be read"},
		{"PCM sound", "pcm.mov", card, shopclip.EMEDIACODEC, "pcm_s16le"},
		{"missing input", "nothing.mp4", card, shopclip.EINTERNAL, ""},
	}
	names := dirNames(t, dir)
	check := func(t *testing.T, err error, code, says string) {
		t.Helper()
		if got := shopclip.ErrorCode(err); got != code {
			t.Errorf("code %q (%v), want %q", got, err, code)
		}
		if !strings.Contains(err.Error(), says) {
			t.Errorf("error %q does not say %q", err, says)
		}
		leftovers(t, dir, names...)
	}
	load := loaderIn(t, dir)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := BurnIn(context.Background(), filepath.Join(dir, tt.input), filepath.Join(dir, "share.mp4"), tt.spec, load, BurnInOptions{})
			if err == nil {
				t.Fatalf("BurnIn succeeded: %+v", rep)
			}
			if rep == nil || rep.Error == nil || rep.Error.Code != shopclip.ErrorCode(err) {
				t.Errorf("report %+v: want the error in it", rep)
			}
			check(t, err, tt.code, tt.says)
		})
		t.Run(tt.name+" through the child", func(t *testing.T) {
			_, err := testRunner(t, "child").Share(context.Background(), dir, tt.input, "share.mp4", tt.spec)
			if err == nil {
				t.Fatal("Share succeeded")
			}
			check(t, err, tt.code, tt.says)
		})
	}
	t.Run("crash in FFmpeg", func(t *testing.T) {
		_, err := testRunner(t, "crashchild").Share(context.Background(), dir, "clip.mp4", "share.mp4", card)
		if got := shopclip.ErrorCode(err); got != shopclip.EMEDIACRASH {
			t.Errorf("code %q (%v), want %q", got, err, shopclip.EMEDIACRASH)
		}
		leftovers(t, dir, names...)
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := BurnIn(ctx, clip, filepath.Join(dir, "share.mp4"), card, load, BurnInOptions{})
		if !errors.Is(err, context.Canceled) || shopclip.IsMediaError(shopclip.ErrorCode(err)) {
			t.Errorf("error %v, want context.Canceled and no media error", err)
		}
		leftovers(t, dir, names...)
	})
}

// hugePNG is a valid PNG header claiming 5000×10 pixels (with its pixels:
// small, they compress well).
func hugePNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 5000, 10))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// BenchmarkRunnerShare times a share render of the benchmark's reference
// clip (30 s, made 720×1280 by the engine first, as production's clip.mp4)
// with three cards, through the child process:
//
//	go test -run '^$' -bench RunnerShare -benchtime 3x ./transcode/ffmpeg
func BenchmarkRunnerShare(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(testenv.BenchDir(b), "bbb_vertical_1080x1920_30s.mp4")
	cfg := transcode.Config{Rungs: []transcode.RungConfig{{ShortSide: 720, MaxRate: 2_500_000}}, NoStoryboard: true}
	rep, err := Transcode(context.Background(), src, filepath.Join(dir, "out"), cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "out", rep.MP4), filepath.Join(dir, "clip.mp4")); err != nil {
		b.Fatal(err)
	}
	var png1, png2 bytes.Buffer
	if err := png.Encode(&png1, solid(600, 360, color.NRGBA{R: 255, B: 255, A: 230})); err != nil {
		b.Fatal(err)
	}
	if err := png.Encode(&png2, solid(300, 300, color.NRGBA{G: 200, B: 255, A: 255})); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "card.png"), png1.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "card2.png"), png2.Bytes(), 0o644)
	spec := transcode.ShareSpec{Overlays: []transcode.Overlay{
		{Image: "card.png", X: 0.1, Y: 0.6, Width: 0.5, StartMS: 1000, EndMS: 8000},
		{Image: "card2.png", X: 0.6, Y: 0.1, Width: 0.3, StartMS: 5000, EndMS: 20000},
		{Image: "card.png", X: 0.2, Y: 0.3, Width: 0.6, StartMS: 15000, EndMS: 29000},
	}}
	r := &transcode.Runner{Command: []string{os.Args[0], "child"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	b.ResetTimer()
	for range b.N {
		rep, err := r.Share(context.Background(), dir, "clip.mp4", "share.mp4", spec)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(rep.Timings["render"]), "render-ms")
	}
}
