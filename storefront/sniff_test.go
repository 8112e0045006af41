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

func TestSniffRefuses(t *testing.T) {
	tests := map[string]string{
		"html":     "<!DOCTYPE html><html><script>alert(1)</script>",
		"playlist": "#EXTM3U\n#EXTINF:1,\n/etc/passwd\n",
		"ffconcat": "ffconcat version 1.0\nfile /etc/passwd\n",
		"png":      "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
		"empty":    "",
		"one sync": "G",
		"text":     "hello world, this is not a video file at all",
	}
	for name, body := range tests {
		if got := sniffContainer([]byte(body)); got != "" {
			t.Errorf("%s: sniffed as %q, want refused", name, got)
		}
	}
}
