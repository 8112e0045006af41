package configs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip/configs"
)

func TestEventsRetention(t *testing.T) {
	for _, tc := range []struct {
		name      string
		yaml      string
		env       []string
		retention time.Duration
		bad       string // part of the validation error
	}{
		{name: "default", retention: 720 * time.Hour},
		{name: "set", yaml: "events:\n  retention: 2160h\n", retention: 2160 * time.Hour},
		{name: "env", yaml: "events:\n  retention: 2160h\n", env: []string{"SHOPCLIP_EVENTS_RETENTION=48h"}, retention: 48 * time.Hour},
		{name: "the attribution window", env: []string{"SHOPCLIP_EVENTS_RETENTION=24h"}, retention: 24 * time.Hour},
		{name: "shorter than attribution", yaml: "events:\n  retention: 23h\n", bad: "events.retention 23h0m0s"},
		{name: "negative", env: []string{"SHOPCLIP_EVENTS_RETENTION=-1h"}, bad: "events.retention -1h0m0s"},
		{name: "not a duration", env: []string{"SHOPCLIP_EVENTS_RETENTION=month"}, bad: "SHOPCLIP_EVENTS_RETENTION"},
		{name: "unknown key", yaml: "events:\n  keep: 1h\n", bad: "keep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "shopclip.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := configs.Load(path, append([]string{"SHOPCLIP_DATA=/tmp/x"}, tc.env...))
			if tc.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("error %v, want one about %q", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Events.Retention != tc.retention {
				t.Errorf("events.retention = %s, want %s", c.Events.Retention, tc.retention)
			}
		})
	}
}
