package storefront

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopclip/shopclip/internal/testenv"
)

func TestSniffMediaCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testenv.MediaDir(t), "*.*"))
	if len(files) < 30 {
		t.Fatalf("media corpus has %d files, want the whole corpus", len(files))
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".md") {
			continue
		}
		b := make([]byte, 1024)
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := fh.Read(b)
		fh.Close()
		if got := sniffContainer(b[:n]); got == "" {
			t.Errorf("%s: not recognized as a container", filepath.Base(f))
		}
	}
}

// TestSniffContainers checks the first bytes of files made by the ffmpeg
// command line in each accepted container family, e.g.
// `ffmpeg -f lavfi -i testsrc -t 1 -c:v mpeg2video -f vob x.mpg`.
func TestSniffContainers(t *testing.T) {
	tests := []struct {
		name string
		head string
		want string
	}{
		{"mp4", "\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2", "isobmff"},
		{"mov (prores)", "\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "isobmff"},
		{"mkv", "\x1a\x45\xdf\xa3\x01\x00\x00\x00", "matroska"},
		{"mpeg-ts", "\x47\x40\x11\x10" + strings.Repeat("\xff", 184) + "\x47\x40\x00\x10", "mpegts"},
		{"avi (mjpeg)", "RIFFzn\x00\x00AVI LIST", "avi"},
		{"mpeg-2 program stream (-f vob)", "\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01\x43\x43\x5b\xf8", "mpegps"},
		{"mpeg-1 system stream (-f mpeg)", "\x00\x00\x01\xba\x21\x00\x01\x00\x01\xc3\x33\x67\x00\x00\x01\xbb", "mpegps"},
	}
	for _, tt := range tests {
		if got := sniffContainer([]byte(tt.head)); got != tt.want {
			t.Errorf("%s: sniffed as %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSniffRefuses(t *testing.T) {
	tests := map[string]string{
		"raw mpeg video":            "\x00\x00\x01\xb3\x04\x00\x40\x13\xff\xff\xe0\x18",
		"pack code, no marker bits": "\x00\x00\x01\xba\x00\x00\x00\x00",
		"pack code alone":           "\x00\x00\x01\xba",
		"wav":                       "RIFF\x24\x00\x00\x00WAVEfmt ",
		"html":                      "<!DOCTYPE html><html><script>alert(1)</script>",
		"playlist":                  "#EXTM3U\n#EXTINF:1,\n/etc/passwd\n",
		"ffconcat":                  "ffconcat version 1.0\nfile /etc/passwd\n",
		"png":                       "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
		"empty":                     "",
		"one sync":                  "G",
		"text":                      "hello world, this is not a video file at all",
	}
	for name, body := range tests {
		if got := sniffContainer([]byte(body)); got != "" {
			t.Errorf("%s: sniffed as %q, want refused", name, got)
		}
	}
}
