package configs_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shopclip/shopclip/configs"
)

func TestTranscodeCodecs(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want []string // Engine().Codecs
		err  string   // in Load's error, when it fails
	}{
		{name: "default", yaml: "addr: 127.0.0.1:0\n", want: []string{"h264"}},
		{name: "yaml", yaml: "transcode:\n  codecs: [h264, av1]\n", want: []string{"h264", "av1"}},
		{name: "env", yaml: "addr: 127.0.0.1:0\n", env: []string{"SHOPCLIP_TRANSCODE_CODECS=h264, hevc av1"}, want: []string{"h264", "hevc", "av1"}},
		{name: "env over yaml", yaml: "transcode:\n  codecs: [h264, av1]\n", env: []string{"SHOPCLIP_TRANSCODE_CODECS=h264"}, want: []string{"h264"}},
		{name: "no h264", yaml: "transcode:\n  codecs: [av1]\n", err: `the first must be "h264"`},
		{name: "unknown", yaml: "addr: 127.0.0.1:0\n", env: []string{"SHOPCLIP_TRANSCODE_CODECS=h264,vp9"}, err: `codec "vp9"`},
		{name: "empty list", yaml: "transcode:\n  codecs: []\n", err: `the first must be "h264"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := configs.Load(path, tt.env)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("Load error = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := c.Transcode.Engine().Codecs; !slices.Equal(got, tt.want) {
				t.Errorf("Engine().Codecs = %q, want %q", got, tt.want)
			}
		})
	}
}
