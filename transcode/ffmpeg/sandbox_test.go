package ffmpeg

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/transcode"
)

// systemPaths are what any process of this binary opens besides its job:
// the dynamic loader's and libraries' files (libgcrypt, linked by
// libavformat's TLS support, reads its config when loaded), and what the Go
// runtime and libav read about the machine.
var systemPaths = []string{"/etc/ld.so.cache", "/etc/gcrypt/", "/lib/", "/lib64/", "/usr/lib/", "/proc/", "/sys/", "/dev/null"}

var openRE = regexp.MustCompile(`^\d+\s+(open|openat|connect)\((?:AT_FDCWD, )?(?:"([^"]*)")?`)

// TestChildReadsOnlyItsJobDir runs the sandboxed child under strace
// (RELIABILITY B1, B8): for a real clip and for an HLS playlist posing as an
// MP4 that names another tenant's file, and for an AVI carrying that
// playlist in a GAB2 subtitle, the child opens nothing outside its job dir
// but system files, never the other tenant's, and connects nowhere.
func TestChildReadsOnlyItsJobDir(t *testing.T) {
	testenv.Tool(t, "strace")
	root := t.TempDir()
	job, tenant := filepath.Join(root, "job1"), filepath.Join(root, "job2")
	for _, d := range []string{job, tenant} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := generate(t, "-f", "lavfi", "-i", "testsrc=s=64x64:d=1", "-c:v", "libx264", "-preset", "ultrafast", "-f", "mpegts", filepath.Join(tenant, "secret.ts"))
	clip, err := os.ReadFile(media(t, "h264_noaudio_480x270_koala.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	playlist := "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n" + secret + "\n#EXTINF:1,\n../job2/secret.ts\n#EXT-X-ENDLIST\n"
	inputs := map[string][]byte{
		"clip.mp4": clip,
		"evil.mp4": []byte(playlist),
		// An accepted AVI whose GAB2 subtitle holds the playlist: it
		// transcodes, and the playlist opens nothing (TestHostileAVIGAB2).
		"gab2.avi": buildAVI(t, aviFile{w: 64, h: 48, fps: 10, frames: 10, sub: gab2("English", []byte(playlist))}),
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			in := filepath.Join(job, name)
			if err := os.WriteFile(in, data, 0o644); err != nil {
				t.Fatal(err)
			}
			trace := filepath.Join(root, name+".strace")
			r := testRunner(t, "child")
			r.Command = []string{"strace", "-f", "-qq", "-e", "trace=open,openat,connect", "-o", trace, os.Args[0], "child"}
			_, err := r.Run(context.Background(), transcode.Job{Input: in, OutDir: filepath.Join(job, "out-"+name)})
			if name == "evil.mp4" {
				if shopclip.ErrorCode(err) != shopclip.EMEDIAFORMAT {
					t.Errorf("hostile input: %v, want %s", err, shopclip.EMEDIAFORMAT)
				}
			} else if err != nil {
				t.Fatalf("Run: %v", err)
			}
			f, err := os.Open(trace)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			opens := 0
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				m := openRE.FindStringSubmatch(sc.Text())
				if m == nil {
					continue
				}
				if m[1] == "connect" {
					t.Errorf("the child connected somewhere: %s", sc.Text())
					continue
				}
				path := m[2]
				opens++
				if strings.HasPrefix(path, tenant) || strings.Contains(path, "secret") {
					t.Errorf("the child opened another tenant's file: %s", sc.Text())
				}
				if !strings.HasPrefix(path, job+"/") && path != job && !hasPrefix(path, systemPaths) {
					t.Errorf("the child opened %q, outside its job dir", path)
				}
			}
			if opens == 0 {
				t.Fatalf("no opens traced: is strace working? %s", readHead(trace))
			}
		})
	}
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func readHead(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 500))
	return string(b)
}
