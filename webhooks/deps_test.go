package webhooks_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Package webhooks speaks HTTP and asynq: no cgo (FFmpeg stays in
// transcode/ffmpeg) and no sibling adapter; it builds with CGO_ENABLED=0.
func TestDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	cmd := exec.Command(goBin, "list", "-deps", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list with CGO_ENABLED=0: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/asticode", "github.com/shopclip/shopclip/transcode", "github.com/shopclip/shopclip/storefront",
		"github.com/shopclip/shopclip/workers", "github.com/shopclip/shopclip/store", "github.com/shopclip/shopclip/web",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("webhooks depends on %s", dep)
			}
		}
	}
}
