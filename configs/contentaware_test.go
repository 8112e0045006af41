package configs_test

import (
	"testing"

	"github.com/shopclip/shopclip/configs"
)

// TestTranscodeContentAware checks transcode.content_aware reaches the
// engine's config, and is off by default.
func TestTranscodeContentAware(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want bool
	}{
		{"default", "", false},
		{"on", "transcode:\n  content_aware: true\n", true},
		{"off", "transcode:\n  content_aware: false\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := configs.Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Transcode.Engine().ContentAware; got != tt.want {
				t.Errorf("Engine().ContentAware = %v, want %v", got, tt.want)
			}
		})
	}
}
