package configs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopclip/shopclip/configs"
)

func TestAdmin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		yaml  string
		env   []string
		write bool
		bad   string // part of the validation error
	}{
		{name: "default read-only"},
		{name: "write", yaml: "admin:\n  queue_console_write: true\n", write: true},
		{name: "env", env: []string{"SHOPCLIP_ADMIN_QUEUE_CONSOLE_WRITE=true"}, write: true},
		{name: "env over yaml", yaml: "admin:\n  queue_console_write: true\n", env: []string{"SHOPCLIP_ADMIN_QUEUE_CONSOLE_WRITE=false"}},
		{name: "write behind https", yaml: "public_url: https://clips.example.com\nadmin:\n  queue_console_write: true\n", write: true},
		{name: "write on this machine", yaml: "public_url: http://127.0.0.1:8080\nadmin:\n  queue_console_write: true\n", write: true},
		{name: "write on localhost", yaml: "public_url: http://localhost:8080\nadmin:\n  queue_console_write: true\n", write: true},
		{name: "read-only over plain http", yaml: "public_url: http://clips.example.com\n"},
		{name: "write over plain http", yaml: "public_url: http://clips.example.com\nadmin:\n  queue_console_write: true\n", bad: "admin.queue_console_write"},
		{name: "not a bool", env: []string{"SHOPCLIP_ADMIN_QUEUE_CONSOLE_WRITE=please"}, bad: "SHOPCLIP_ADMIN_QUEUE_CONSOLE_WRITE"},
		{name: "not a bool in yaml", yaml: "admin:\n  queue_console_write: please\n", bad: "please"},
		{name: "unknown key", yaml: "admin:\n  queue_console: true\n", bad: "queue_console"},
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
			if c.Admin.QueueConsoleWrite != tc.write {
				t.Errorf("admin.queue_console_write = %v, want %v", c.Admin.QueueConsoleWrite, tc.write)
			}
		})
	}
}
