package transcode

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpenOutputRefusesWhatTheChildPlanted: what a hostile child can leave
// in its out dir — links to secrets, a linked directory, a FIFO that would
// block the reader, paths that climb out — never makes the parent read
// anything but a regular file inside the out dir.
func TestOpenOutputRefusesWhatTheChildPlanted(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(root, "out")
	secretDir := filepath.Join(root, "secrets")
	for _, d := range []string{filepath.Join(out, "720p"), secretDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(secretDir, "environ")
	must(t, os.WriteFile(secret, []byte("S3_SECRET=hunter2"), 0o600))
	must(t, os.WriteFile(filepath.Join(out, "720p", "seg_00000.m4s"), []byte("segment"), 0o600))
	must(t, os.Symlink(secret, filepath.Join(out, "master.m3u8")))
	must(t, os.Symlink(secretDir, filepath.Join(out, "1080p")))
	must(t, os.Symlink("seg_00000.m4s", filepath.Join(out, "720p", "seg_00001.m4s")))
	must(t, syscall.Mkfifo(filepath.Join(out, "720p", "index.m3u8"), 0o600))
	must(t, os.Mkdir(filepath.Join(out, "poster.jpg"), 0o700))

	if b, err := ReadOutput(out, "720p/seg_00000.m4s"); err != nil || string(b) != "segment" {
		t.Fatalf("a regular file: %q, %v", b, err)
	}
	for _, rel := range []string{
		"master.m3u8",         // a link to a secret
		"1080p/environ",       // through a linked directory
		"720p/seg_00001.m4s",  // a link even to a file inside
		"720p/index.m3u8",     // a FIFO: must not block
		"poster.jpg",          // a directory
		"../secrets/environ",  // climbing out
		"/etc/passwd",         // absolute
		"720p/../master.m3u8", // not clean
		"",
	} {
		b, err := ReadOutput(out, rel)
		if err == nil {
			t.Errorf("ReadOutput(%q) = %q, want an error", rel, b)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
