package configs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopclip/shopclip/configs"
)

func TestUploadLimits(t *testing.T) {
	for _, tc := range []struct {
		name                string
		yaml                string
		env                 []string
		perAccount, process int
		bytes               int64
		perDay              int
		bad                 string // part of the validation error
	}{
		{name: "defaults", perAccount: 4, process: 64, bytes: 50 << 30, perDay: 200},
		{name: "set", yaml: "upload:\n  max_concurrent: 10\n  max_concurrent_per_account: 2\n  max_bytes_per_account: 1048576\n  max_uploads_per_day: 3\n",
			perAccount: 2, process: 10, bytes: 1 << 20, perDay: 3},
		{name: "zero quotas are no bound", yaml: "upload:\n  max_bytes_per_account: 0\n  max_uploads_per_day: 0\n",
			perAccount: 4, process: 64, bytes: 0, perDay: 0},
		{name: "env", env: []string{"SHOPCLIP_UPLOAD_MAX_CONCURRENT=8", "SHOPCLIP_UPLOAD_MAX_CONCURRENT_PER_ACCOUNT=1",
			"SHOPCLIP_UPLOAD_MAX_BYTES_PER_ACCOUNT=0", "SHOPCLIP_UPLOAD_MAX_UPLOADS_PER_DAY=7"},
			perAccount: 1, process: 8, bytes: 0, perDay: 7},
		{name: "per account above the process", yaml: "upload:\n  max_concurrent: 2\n  max_concurrent_per_account: 3\n", bad: "max_concurrent_per_account 3"},
		{name: "negative quota", yaml: "upload:\n  max_bytes_per_account: -1\n", bad: "max_bytes_per_account -1"},
		{name: "negative per day", env: []string{"SHOPCLIP_UPLOAD_MAX_UPLOADS_PER_DAY=-2"}, bad: "max_uploads_per_day -2"},
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
			u := c.Upload
			if u.MaxConcurrentPerAccount != tc.perAccount || u.MaxConcurrent != tc.process || u.BytesPerAccount() != tc.bytes || u.UploadsPerDay() != tc.perDay {
				t.Errorf("got %d per account, %d per process, %d bytes, %d a day; want %d, %d, %d, %d",
					u.MaxConcurrentPerAccount, u.MaxConcurrent, u.BytesPerAccount(), u.UploadsPerDay(),
					tc.perAccount, tc.process, tc.bytes, tc.perDay)
			}
		})
	}
}
