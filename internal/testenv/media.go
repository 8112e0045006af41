package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvMedia overrides where the shared media corpus is.
const EnvMedia = "SHOPCLIP_TEST_MEDIA"

// MediaDir returns the directory of the shared media corpus (real clips with
// a MANIFEST.md): $SHOPCLIP_TEST_MEDIA, or shared/media beside the
// repository (../shared/media from its root), found by walking up from the
// test's working directory, or /work/shared/media where the development
// machines keep it.
func MediaDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(EnvMedia); d != "" {
		return d
	}
	if d := findUp(filepath.Join("shared", "media", "MANIFEST.md")); d != "" {
		return filepath.Dir(d)
	}
	if _, err := os.Stat("/work/shared/media/MANIFEST.md"); err == nil {
		return "/work/shared/media"
	}
	Unavailable(t, "media corpus not found: set %s or put it at ../shared/media", EnvMedia)
	return ""
}

// BenchDir returns the directory of the transcode benchmark's reference clip
// (shared/bench beside the repository).
func BenchDir(t testing.TB) string {
	t.Helper()
	if d := findUp(filepath.Join("shared", "bench", "README.md")); d != "" {
		return filepath.Dir(d)
	}
	if _, err := os.Stat("/work/shared/bench/README.md"); err == nil {
		return "/work/shared/bench"
	}
	Unavailable(t, "benchmark clip not found at ../shared/bench")
	return ""
}

// Media returns the path of one file of the media corpus.
func Media(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(MediaDir(t), name)
	if _, err := os.Stat(p); err != nil {
		Unavailable(t, "media file: %v", err)
	}
	return p
}

func findUp(rel string) string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
