package configs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopclip/shopclip/configs"
)

func TestLogFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		env  []string
		want string // "" is the default: json, text for up on a terminal
		bad  string // part of the validation error
	}{
		{name: "default", want: ""},
		{name: "file", yaml: "log_format: text\n", want: "text"},
		{name: "env over file", yaml: "log_format: text\n", env: []string{"SHOPCLIP_LOG_FORMAT=json"}, want: "json"},
		{name: "unknown", env: []string{"SHOPCLIP_LOG_FORMAT=logfmt"}, bad: `log_format "logfmt"`},
		{name: "upper case", yaml: "log_format: JSON\n", bad: `log_format "JSON"`},
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
			if c.LogFormat != tc.want {
				t.Errorf("log_format = %q, want %q", c.LogFormat, tc.want)
			}
		})
	}
}
