package configs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip/configs"
)

func TestJanitor(t *testing.T) {
	for _, tc := range []struct {
		name            string
		yaml            string
		env             []string
		grace, interval time.Duration
		bad             string // part of the validation error
	}{
		{name: "defaults", grace: time.Hour, interval: 10 * time.Minute},
		{name: "set", yaml: "janitor:\n  grace: 3h\n  interval: 30m\n", grace: 3 * time.Hour, interval: 30 * time.Minute},
		{name: "env", yaml: "janitor:\n  grace: 3h\n", env: []string{"SHOPCLIP_JANITOR_GRACE=20m", "SHOPCLIP_JANITOR_INTERVAL=1m"},
			grace: 20 * time.Minute, interval: time.Minute},
		{name: "grace too short", yaml: "janitor:\n  grace: 5m\n", bad: "janitor.grace 5m0s"},
		{name: "grace too long", env: []string{"SHOPCLIP_JANITOR_GRACE=1000h"}, bad: "janitor.grace 1000h0m0s"},
		{name: "interval too long", yaml: "janitor:\n  interval: 48h\n", bad: "janitor.interval 48h0m0s"},
		{name: "not a duration", env: []string{"SHOPCLIP_JANITOR_INTERVAL=often"}, bad: "SHOPCLIP_JANITOR_INTERVAL"},
		{name: "unknown key", yaml: "janitor:\n  grace_period: 1h\n", bad: "grace_period"},
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
			if c.Janitor.Grace != tc.grace || c.Janitor.Interval != tc.interval {
				t.Errorf("janitor = %+v, want grace %s, interval %s", c.Janitor, tc.grace, tc.interval)
			}
		})
	}
}
