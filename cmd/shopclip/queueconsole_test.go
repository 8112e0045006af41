package main

import (
	"context"
	"strings"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/configs"
	"github.com/shopclip/shopclip/queueconsole"
)

// TestQueueConsoleWiring: serve and up mount the queue console at
// /admin/queues for admins only, read-only unless
// admin.queue_console_write; the API and the pages are as they were.
func TestQueueConsoleWiring(t *testing.T) {
	for _, tc := range []struct {
		name  string
		boot  func(t *testing.T) *Main
		write bool
	}{
		{"serve", func(t *testing.T) *Main { return bootServe(t, func(*configs.Config) {}) }, false},
		{"serve with write", func(t *testing.T) *Main {
			return bootServe(t, func(c *configs.Config) { c.Admin.QueueConsoleWrite = true })
		}, true},
		{"up", func(t *testing.T) *Main { m, _ := bootUp(t); return m }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.boot(t)
			c := client{t, m.URL()}
			_, admin := addKey(t, m, "ops", shopclip.RoleAdmin)
			_, creator := addKey(t, m, "alice", shopclip.RoleCreator)
			_, brand := addKey(t, m, "acme", shopclip.RoleBrand)
			// A queue for the console to show (and to pause).
			if err := m.queue.EnqueueTag(context.Background(), shopclip.NewID(shopclip.PrefixClip)); err != nil {
				t.Fatal(err)
			}
			for _, r := range []struct {
				who, key string
				status   int
			}{{"anonymous", "", 401}, {"creator", creator, 403}, {"brand", brand, 403}, {"admin", admin, 200}} {
				status, _, body := c.do(r.key, "GET", queueconsole.Path+"/api/queues", nil)
				if status != r.status || (status == 200) != strings.Contains(string(body), `"queue":"tag"`) {
					t.Errorf("%s: GET the console's queues: %d %.200s, want %d", r.who, status, body, r.status)
				}
			}
			status, h, body := c.do(admin, "GET", queueconsole.Path, nil)
			if status != 200 || !strings.Contains(string(body), "FLAG_ROOT_PATH") || !strings.Contains(h.Get("Content-Security-Policy"), "'sha256-") {
				t.Errorf("admin: the console's page: %d %q %.200s", status, h.Get("Content-Security-Policy"), body)
			}
			want := 405
			if tc.write {
				want = 204
			}
			if status, _, body := c.do(admin, "POST", queueconsole.Path+"/api/queues/tag:pause", nil); status != want {
				t.Errorf("admin: pause a queue: %d %s, want %d", status, body, want)
			}
			if qi, err := m.inspector.GetQueueInfo("tag"); err != nil || qi.Paused != tc.write {
				t.Errorf("queue tag: %+v, %v; want paused %v", qi, err, tc.write)
			}
			// The API and the pages still answer beside it.
			if status, _, _ := c.do("", "GET", "/v1/feed", nil); status != 200 {
				t.Errorf("GET /v1/feed: %d", status)
			}
			if status, _, _ := c.do("", "GET", "/", nil); status != 200 {
				t.Errorf("GET /: %d", status)
			}
		})
	}
}
