package transcode

import (
	"os"
	"strings"
	"testing"
)

// TestBenchScriptsUseTheChildEnvironment: the transcode benchmark runs the
// engine with the environment a worker gives its child, so it measures what
// workers run.
func TestBenchScriptsUseTheChildEnvironment(t *testing.T) {
	b, err := os.ReadFile("../scripts/bench-transcode.sh")
	if err != nil {
		t.Fatal(err)
	}
	want := `env -i "` + strings.Join(ChildEnvironment, `" "`) + `"`
	if !strings.Contains(string(b), want) {
		t.Errorf("scripts/bench-transcode.sh does not run shopclip with %s", want)
	}
}
