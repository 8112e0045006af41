package configs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopclip/shopclip/configs"
)

func TestWorkerMetricsAddr(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		env  []string
		want string
		bad  string // part of the validation error
	}{
		{name: "default", want: configs.DefaultWorkerMetricsAddr},
		{name: "set", yaml: "worker:\n  metrics_addr: 10.0.0.5:9100\n", want: "10.0.0.5:9100"},
		{name: "disabled in the file", yaml: "worker:\n  metrics_addr: \"\"\n", want: ""},
		{name: "env", yaml: "worker:\n  metrics_addr: 10.0.0.5:9100\n", env: []string{"SHOPCLIP_WORKER_METRICS_ADDR=127.0.0.1:9500"}, want: "127.0.0.1:9500"},
		{name: "disabled by env", env: []string{"SHOPCLIP_WORKER_METRICS_ADDR="}, want: ""},
		{name: "no port", env: []string{"SHOPCLIP_WORKER_METRICS_ADDR=localhost"}, bad: `worker.metrics_addr "localhost"`},
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
			if got := c.Worker.MetricsAddress(); got != tc.want {
				t.Errorf("metrics address %q, want %q", got, tc.want)
			}
		})
	}
}
