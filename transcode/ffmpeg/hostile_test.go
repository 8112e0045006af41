package ffmpeg

import (
	"bytes"
	"context"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/transcode"
)

// generate makes a test input with the ffmpeg command line (Debian's, the
// same libraries): args are ffmpeg's, the output file last.
func generate(t testing.TB, args ...string) string {
	t.Helper()
	testenv.Tool(t, "ffmpeg")
	out := args[len(args)-1]
	cmd := exec.Command("ffmpeg", append([]string{"-v", "error", "-y"}, args...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	return out
}

// canary is a loopback HTTP server standing for an internal service; it
// counts the requests it receives (RELIABILITY E2).
func canary(t *testing.T) (url string, hits *atomic.Int64) {
	t.Helper()
	hits = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("#EXTM3U\n"))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, hits
}

// TestHostileUploads runs crafted inputs, generated here, through the
// engine (RELIABILITY B1, B2, B4, B5): each is refused with its precise
// code before any transcoding, leaves nothing behind, and never reaches the
// network.
func TestHostileUploads(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	write := func(name, content string) string {
		if err := os.WriteFile(p(name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p(name)
	}
	// Another tenant's segment, which an HLS playlist tries to pull in (E1).
	tenant := filepath.Join(t.TempDir(), "tenant")
	if err := os.MkdirAll(tenant, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := generate(t, "-f", "lavfi", "-i", "testsrc=s=64x64:d=1", "-c:v", "libx264", "-preset", "ultrafast", "-f", "mpegts", filepath.Join(tenant, "secret.ts"))
	url, hits := canary(t)
	rnd := make([]byte, 64<<10)
	rand.New(rand.NewSource(1)).Read(rnd)
	if err := os.WriteFile(p("random.mp4"), rnd, 0o644); err != nil {
		t.Fatal(err)
	}
	tiny := []string{"-f", "lavfi", "-i", "testsrc=s=64x64:r=10:d=1"}
	sound := []string{"-f", "lavfi", "-i", "sine=d=1"}

	tests := []struct {
		name string
		path string
		code string
	}{
		{"hls playlist named .mp4, local segment", write("local.mp4",
			"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n"+secret+"\n#EXTINF:1,\n../"+filepath.Base(filepath.Dir(tenant))+"/tenant/secret.ts\n#EXT-X-ENDLIST\n"),
			shopclip.EMEDIAFORMAT},
		{"hls playlist named .mp4, loopback URL", write("ssrf.mp4",
			"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n"+url+"/internal-admin/evil.ts\n#EXT-X-ENDLIST\n"),
			shopclip.EMEDIAFORMAT},
		{"ffconcat script", write("concat.mp4", "ffconcat version 1.0\nfile '/etc/passwd'\nfile '"+secret+"'\n"), shopclip.EMEDIAFORMAT},
		{"asf", generate(t, append(tiny, "-c:v", "libx264", "-f", "asf", p("x.asf"))...), shopclip.EMEDIAFORMAT},
		{"flv", generate(t, append(tiny, "-c:v", "libx264", "-f", "flv", p("x.flv"))...), shopclip.EMEDIAFORMAT},
		{"nut", generate(t, append(tiny, "-c:v", "libx264", "-f", "nut", p("x.nut"))...), shopclip.EMEDIAFORMAT},
		{"ffv1", generate(t, append(tiny, "-c:v", "ffv1", p("ffv1.mkv"))...), shopclip.EMEDIACODEC},
		{"snow", generate(t, append(tiny, "-c:v", "snow", p("snow.mkv"))...), shopclip.EMEDIACODEC},
		{"msmpeg4v3", generate(t, append(tiny, "-c:v", "msmpeg4v3", p("msmpeg4.mkv"))...), shopclip.EMEDIACODEC},
		{"pcm_f32le sound", generate(t, append(append(tiny, sound...), "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "pcm_f32le", p("f32.mkv"))...), shopclip.EMEDIACODEC},
		{"duration bomb: 20 min of 16x16 at 1 fps", generate(t, "-f", "lavfi", "-i", "color=c=red:s=16x16:r=1:d=1200", "-c:v", "libx264", "-preset", "ultrafast", p("bomb.mp4")), shopclip.EMEDIADURATION},
		{"240 fps", generate(t, "-f", "lavfi", "-i", "testsrc=s=64x64:r=240:d=0.5", "-c:v", "libx264", "-preset", "ultrafast", p("240.mp4")), shopclip.EMEDIAFRAMERATE},
		{"16 channels", generate(t, append(append(tiny, "-f", "lavfi", "-i", "anullsrc=channel_layout=hexadecagonal:sample_rate=48000"),
			"-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "pcm_s16le", p("ch16.mkv"))...), shopclip.EMEDIAAUDIO},
		{"5 streams", generate(t, append(append(tiny, sound...), "-map", "0:v", "-map", "1:a", "-map", "1:a", "-map", "1:a", "-map", "1:a",
			"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", p("streams.mkv"))...), shopclip.EMEDIASTREAMS},
		{"random bytes", p("random.mp4"), shopclip.EMEDIAUNREADABLE},
		{"empty", write("empty.mp4", ""), shopclip.EMEDIAEMPTY},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			rep, err := Transcode(context.Background(), tt.path, out, transcode.Config{}, nil)
			if got := shopclip.ErrorCode(err); got != tt.code {
				t.Fatalf("code %q (%v), want %q", got, err, tt.code)
			}
			if rep.Error == nil || strings.Contains(rep.Error.Message, "ffmpeg:") {
				t.Errorf("error %+v: want a message for people", rep.Error)
			}
			if left, _ := os.ReadDir(out); len(left) != 0 {
				t.Errorf("left files behind: %v", left)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback canary received %d requests, want 0", n)
	}
}

// TestHostileUploadThroughRunner repeats the SSRF case through the sandboxed
// child (its own network namespace): refused, and the canary hears nothing.
func TestHostileUploadThroughRunner(t *testing.T) {
	url, hits := canary(t)
	in := filepath.Join(t.TempDir(), "upload.mp4")
	if err := os.WriteFile(in, []byte("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n"+url+"/evil.ts\n#EXT-X-ENDLIST\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := testRunner(t, "child").Run(context.Background(), transcode.Job{Input: in, OutDir: t.TempDir()})
	if got := shopclip.ErrorCode(err); got != shopclip.EMEDIAFORMAT {
		t.Fatalf("code %q (%v), want %q", got, err, shopclip.EMEDIAFORMAT)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback canary received %d requests, want 0", n)
	}
}

// TestHostileAVIGAB2 settles the AVI demuxer's nested one (RELIABILITY B1):
// a GAB2 subtitle chunk holds a whole subtitle file, which libavformat
// probes and opens with a second demuxer, the way the AVI+HLS playlist
// trick reached other files and URLs. Two layers stop it, each checked
// here against the linked libraries: libavformat only nests srt and ass
// (an HLS or ffconcat playlist is not opened even without allowlists), and
// it copies the format allowlist into the nested context
// (ff_copy_whiteblacklists), which allows neither, so under the engine's
// options not even an srt file is opened (the control case shows the
// nested demuxer does run without them). The AVI itself transcodes, its
// subtitle ignored, and nothing reaches the network.
func TestHostileAVIGAB2(t *testing.T) {
	tenant := t.TempDir()
	secret := generate(t, "-f", "lavfi", "-i", "testsrc=s=64x64:d=1", "-c:v", "libx264", "-preset", "ultrafast", "-f", "mpegts", filepath.Join(tenant, "secret.ts"))
	url, hits := canary(t)
	tests := []struct {
		name string
		sub  string
		// plain is the subtitle codec ffprobe finds with no allowlists:
		// "subrip" when the nested demuxer ran.
		plain string
	}{
		{"hls playlist", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n" + secret + "\n#EXTINF:1,\n" + url + "/internal-admin/evil.ts\n#EXT-X-ENDLIST\n", ""},
		{"ffconcat script", "ffconcat version 1.0\nfile '" + secret + "'\nfile '/etc/passwd'\n", ""},
		{"srt file (control)", "1\n00:00:00,000 --> 00:00:01,000\nSale ends Sunday\n\n", "subrip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := filepath.Join(t.TempDir(), "upload.avi")
			if err := os.WriteFile(in, buildAVI(t, aviFile{w: 64, h: 48, fps: 10, frames: 10, sub: gab2("English", []byte(tt.sub))}), 0o644); err != nil {
				t.Fatal(err)
			}
			s := ffprobeStreams(t, in)
			if len(s) != 2 || s[1]["codec_type"] != "subtitle" {
				t.Fatalf("ffprobe sees %v: want video and a subtitle stream", s)
			}
			if got, _ := s[1]["codec_name"].(string); got != tt.plain {
				t.Fatalf("without allowlists the subtitle stream is %q, want %q", got, tt.plain)
			}

			// The format allowlist alone, on the command line, stops the
			// nested demuxer, and libav says so.
			b, err := exec.Command("ffprobe", "-v", "error", "-format_whitelist", strings.Join(Formats, ","),
				"-show_entries", "stream=codec_name", "-of", "csv=p=0", in).CombinedOutput()
			if err != nil {
				t.Fatalf("ffprobe -format_whitelist: %v\n%s", err, b)
			}
			if strings.Contains(string(b), "subrip") || (tt.plain != "" && !strings.Contains(string(b), "Format not on whitelist")) {
				t.Errorf("with the format allowlist ffprobe says:\n%s\nwant the nested demuxer refused", b)
			}

			p, err := ProbeFile(context.Background(), in)
			if err != nil {
				t.Fatalf("ProbeFile: %v", err)
			}
			if len(p.Streams) != 2 || p.Streams[1].Kind != transcode.KindSubtitle || p.Streams[1].Codec != "" {
				t.Errorf("engine probe streams %+v: want the subtitle stream with no codec (no nested demuxer)", p.Streams)
			}

			out := filepath.Join(t.TempDir(), "out")
			rep, err := Transcode(context.Background(), in, out, transcode.Config{}, nil)
			if err != nil {
				t.Fatalf("Transcode: %v", err)
			}
			checkOutputs(t, rep, out)
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback canary received %d requests, want 0", n)
	}
}

// TestHostileEditingFormats runs damaged and crafted files in the
// containers and codecs admitted for editing-suite and older-gear sources
// (MPEG-PS, AVI, ProRes and DNxHD MOVs, MPEG-2 TS), generated here and then
// truncated, corrupted or made to declare huge pictures, plus the formats
// next to them that stay refused. Each is refused with its precise code and
// a message for people, leaving nothing behind, or, where the damage
// leaves something to show (the demuxers are lenient and the decoders read
// the true picture size from the frames), transcoded to clean outputs at
// the true size.
func TestHostileEditingFormats(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write := func(name string, b []byte) string {
		if err := os.WriteFile(p(name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p(name)
	}
	tiny := []string{"-f", "lavfi", "-i", "testsrc=s=64x64:r=25:d=1", "-f", "lavfi", "-i", "sine=d=1"}
	ps := read(generate(t, append(tiny, "-c:v", "mpeg2video", "-c:a", "mp2", "-f", "vob", p("x.mpg"))...))
	ts := read(generate(t, append(tiny, "-c:v", "mpeg2video", "-c:a", "mp2", "-f", "mpegts", p("x.ts"))...))
	avi := read(generate(t, append(tiny, "-c:v", "mjpeg", "-c:a", "pcm_s16le", p("x.avi"))...))
	prores := read(generate(t, append(tiny, "-c:v", "prores_ks", "-profile:v", "2", "-pix_fmt", "yuv422p10le", "-c:a", "pcm_s24le", p("x.mov"))...))
	dnxhr := read(generate(t, "-f", "lavfi", "-i", "testsrc=s=256x144:r=25:d=1", "-c:v", "dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p", p("dnxhr.mov")))
	m2v := read(generate(t, "-f", "lavfi", "-i", "testsrc=s=64x64:r=25:d=1", "-c:v", "mpeg2video", "-f", "mpeg2video", p("raw.m2v")))
	huge := []byte{0x20, 0x00, 0x20, 0x00} // 8192, 8192 as two big-endian 16-bit sizes

	tests := []struct {
		name string
		path string
		code string // "" when it must transcode cleanly, w×h
		w, h int
	}{
		// Refused formats next to the admitted ones.
		{"raw mpeg-2 video named .mpg", write("raw.mpg", m2v), shopclip.EMEDIAFORMAT, 0, 0},
		{"vobsub index named .mpg", write("sub.mpg", []byte("# VobSub index file, v7 (do not modify this line!)\nsize: 720x576\nid: en, index: 0\ntimestamp: 00:00:00:000, filepos: 000000000\n")), shopclip.EMEDIAFORMAT, 0, 0},
		// MPEG program stream.
		{"mpeg-ps truncated to a third", write("third.mpg", ps[:len(ps)/3]), "", 64, 64},
		{"mpeg-ps with every pack header overwritten", write("packs.mpg", patchEvery(t, ps, []byte{0, 0, 1, 0xba}, 4, bytes.Repeat([]byte{0xff}, 10))), "", 64, 64},
		{"mpeg-ps declaring 4095x4095", write("big.mpg", patchEvery(t, ps, []byte{0, 0, 1, 0xb3}, 4, []byte{0xff, 0xff, 0xff})), shopclip.EMEDIADIMENSIONS, 0, 0},
		{"mpeg-ps declaring 12287x4095 with the extension bits", write("bigger.mpg",
			patchEvery(t, patchEvery(t, ps, []byte{0, 0, 1, 0xb3}, 4, []byte{0xff, 0xff, 0xff}), []byte{0, 0, 1, 0xb5, 0x14}, 5, []byte{0x8f})), shopclip.EMEDIADIMENSIONS, 0, 0},
		{"mpeg-ps with 5 streams", generate(t, append(tiny, "-map", "0:v", "-map", "1:a", "-map", "1:a", "-map", "1:a", "-map", "1:a",
			"-c:v", "mpeg2video", "-c:a", "mp2", "-f", "vob", p("streams.mpg"))...), shopclip.EMEDIASTREAMS, 0, 0},
		{"mpeg-ps duration bomb: 20 min of 16x16", generate(t, "-f", "lavfi", "-i", "color=c=red:s=16x16:r=24:d=1200", "-c:v", "mpeg2video", "-g", "1000", "-f", "vob", p("bomb.mpg")), shopclip.EMEDIADURATION, 0, 0},
		// MPEG-2 in MPEG-TS.
		{"mpeg-2 ts declaring 4095x4095", write("big.ts", patchEvery(t, ts, []byte{0, 0, 1, 0xb3}, 4, []byte{0xff, 0xff, 0xff})), shopclip.EMEDIAUNREADABLE, 0, 0},
		// AVI.
		{"avi truncated in half", write("half.avi", avi[:len(avi)/2]), "", 64, 64},
		{"avi with its main header zeroed", write("avih.avi", patchEvery(t, avi, []byte("avih"), 8, make([]byte, 48))), "", 64, 64},
		{"avi declaring 30000x30000 in its headers", write("decl.avi", patchEvery(t, patchEvery(t, avi,
			[]byte("avih"), 8+32, []byte{0x30, 0x75, 0, 0, 0x30, 0x75, 0, 0}), []byte("strf"), 8+4, []byte{0x30, 0x75, 0, 0, 0x30, 0x75, 0, 0})), "", 64, 64},
		{"avi with jpeg frames declaring 8192x8192", write("sof.avi", patchEvery(t, avi, []byte{0xff, 0xc0, 0x00, 0x11, 0x08}, 5, huge)), shopclip.EMEDIADECODE, 0, 0},
		{"avi at 240 fps", generate(t, "-f", "lavfi", "-i", "testsrc=s=64x64:r=240:d=0.5", "-c:v", "mjpeg", p("240.avi")), shopclip.EMEDIAFRAMERATE, 0, 0},
		{"avi duration bomb: 20 min of 16x16 at 1 fps", generate(t, "-f", "lavfi", "-i", "color=c=red:s=16x16:r=1:d=1200", "-c:v", "mjpeg", p("bomb.avi")), shopclip.EMEDIADURATION, 0, 0},
		{"avi with 16 channels", generate(t, "-f", "lavfi", "-i", "testsrc=s=64x64:r=25:d=1", "-f", "lavfi", "-i", "anullsrc=channel_layout=hexadecagonal:sample_rate=48000",
			"-t", "1", "-c:v", "mjpeg", "-c:a", "pcm_s16le", p("ch16.avi")), shopclip.EMEDIAAUDIO, 0, 0},
		// ProRes and DNxHR in MOV.
		{"prores mov truncated in half (no moov)", write("half.mov", prores[:len(prores)/2]), shopclip.EMEDIAUNREADABLE, 0, 0},
		{"prores frames declaring 8192x8192", write("frames.mov", patchEvery(t, prores, []byte("icpf"), 12, huge)), shopclip.EMEDIAUNREADABLE, 0, 0},
		{"prores sample entry declaring 8192x8192", write("stsd.mov", patchEvery(t, prores, []byte("apcn"), 28, huge)), "", 64, 64},
		{"dnxhr frames declaring 8192x8192", write("dnxhr8k.mov", patchEvery(t, dnxhr, []byte{0x00, 0x00, 0x02, 0x80, 0x03}, 0x18, huge)), shopclip.EMEDIAUNREADABLE, 0, 0},
		{"prores with 192 kHz sound", generate(t, "-f", "lavfi", "-i", "testsrc=s=64x64:r=25:d=1", "-f", "lavfi", "-i", "sine=d=1:sample_rate=192000",
			"-c:v", "prores_ks", "-c:a", "pcm_s24le", p("192k.mov")), shopclip.EMEDIAAUDIO, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			rep, err := Transcode(context.Background(), tt.path, out, transcode.Config{}, nil)
			if got := shopclip.ErrorCode(err); got != tt.code {
				t.Fatalf("code %q (%v), want %q", got, err, tt.code)
			}
			if tt.code == "" {
				if rep.Width != tt.w || rep.Height != tt.h {
					t.Errorf("transcoded at %dx%d, want the true %dx%d", rep.Width, rep.Height, tt.w, tt.h)
				}
				checkOutputs(t, rep, out)
				return
			}
			if rep.Error == nil || strings.Contains(rep.Error.Message, "ffmpeg:") {
				t.Errorf("error %+v: want a message for people", rep.Error)
			}
			if left, _ := os.ReadDir(out); len(left) != 0 {
				t.Errorf("left files behind: %v", left)
			}
		})
	}
}

// patchEvery returns a copy of b with val written at off bytes from the
// start of every occurrence of marker; it fails the test when there is
// none, so a case cannot pass by damaging nothing.
func patchEvery(t *testing.T, b, marker []byte, off int, val []byte) []byte {
	t.Helper()
	b = bytes.Clone(b)
	n := 0
	for i := 0; ; n++ {
		j := bytes.Index(b[i:], marker)
		if j < 0 || i+j+off+len(val) > len(b) {
			break
		}
		copy(b[i+j+off:], val)
		i += j + len(marker)
	}
	if n == 0 {
		t.Fatalf("no %x to patch", marker)
	}
	return b
}
