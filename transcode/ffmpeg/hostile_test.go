package ffmpeg

import (
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
func generate(t *testing.T, args ...string) string {
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
		{"avi", generate(t, append(tiny, "-c:v", "libx264", "-f", "avi", p("x.avi"))...), shopclip.EMEDIAFORMAT},
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
