package storefront_test

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/workers"
)

func TestUploadEnqueuesTranscode(t *testing.T) {
	e := newEnv(t)
	resp := e.upload("alice", "My first clip 第一", fakeMP4(100_000))
	if resp.Status != http.StatusAccepted {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	var c struct {
		ID, Title, Status string
		Playback          any
	}
	resp.json(t, &c)
	if c.Status != "uploaded" || c.Title != "My first clip 第一" || c.Playback != nil {
		t.Errorf("clip = %+v", c)
	}
	stored, err := e.store.Clip(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.OriginalSize != 100_000 || len(stored.OriginalSHA256) != 64 || stored.CreatorID != e.accounts["alice"].ID {
		t.Errorf("stored clip = %+v", stored)
	}
	info, err := e.blobs.Stat(context.Background(), stored.OriginalKey)
	if err != nil || info.Size != 100_000 {
		t.Errorf("original: %+v, %v", info, err)
	}
	task, err := e.inspector.GetTaskInfo(workers.QueueTranscode, workers.TranscodeTaskID(c.ID))
	if err != nil {
		t.Fatalf("transcode task: %v", err)
	}
	if task.Type != workers.TypeTranscode || !strings.Contains(string(task.Payload), c.ID) {
		t.Errorf("task = %+v", task)
	}
	// The creator sees the clip; viewers and other creators do not, until it is ready.
	if got := e.do("alice", "GET", "/v1/clips/"+c.ID, nil); got.Status != http.StatusOK {
		t.Errorf("owner GET: %d", got.Status)
	}
	for _, who := range []string{"", "bob", "acme"} {
		if got := e.do(who, "GET", "/v1/clips/"+c.ID, nil); got.Status != http.StatusNotFound {
			t.Errorf("%q GET unready clip: %d, want 404", who, got.Status)
		}
	}
}

func TestUploadRefusals(t *testing.T) {
	e := newEnv(t)
	html := []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")
	tests := []struct {
		name       string
		send       func() response
		wantStatus int
		wantCode   string
	}{
		{"too large", func() response { return e.upload("alice", "big", fakeMP4(3<<20)) }, 413, shopclip.ETOOLARGE},
		{"empty file", func() response { return e.upload("alice", "empty", nil) }, 400, shopclip.EINVALID},
		{"html", func() response { return e.upload("alice", "page", html) }, 415, shopclip.EUNSUPPORTED},
		{"flv", func() response {
			return e.upload("alice", "flv", []byte("FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00"))
		}, 415, shopclip.EUNSUPPORTED},
		{"not multipart", func() response { return e.do("alice", "POST", "/v1/clips", `{"file":"x"}`) }, 415, shopclip.EUNSUPPORTED},
		{"no file", func() response {
			return e.do("alice", "POST", "/v1/clips", strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhi\r\n--b--\r\n"), "Content-Type", "multipart/form-data; boundary=b")
		}, 400, shopclip.EINVALID},
		{"control chars in title", func() response { return e.upload("alice", "a\x00b", fakeMP4(2000)) }, 400, shopclip.EINVALID},
		{"truncated multipart", func() response {
			return e.do("alice", "POST", "/v1/clips", strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.mp4\"\r\n\r\n\x00\x00\x00\x20ftypisom aaaaaaaaaaaaaaaa"), "Content-Type", "multipart/form-data; boundary=b")
		}, 400, shopclip.EINVALID},
		{"brand cannot upload", func() response { return e.upload("acme", "x", fakeMP4(2000)) }, 403, shopclip.EFORBIDDEN},
		{"viewer cannot upload", func() response { return e.upload("", "x", fakeMP4(2000)) }, 401, shopclip.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tt.send()
			if resp.Status != tt.wantStatus || resp.errCode() != tt.wantCode {
				t.Errorf("got %d %q, want %d %q: %s", resp.Status, resp.errCode(), tt.wantStatus, tt.wantCode, resp.Body)
			}
			if resp.errMessage() == "" {
				t.Errorf("no error message: %s", resp.Body)
			}
		})
	}
	// Nothing of the refused uploads was kept.
	objs, err := e.blobs.List(context.Background(), "originals/")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 0 {
		t.Errorf("refused uploads left %d originals: %+v", len(objs), objs)
	}
	clips, _ := e.store.CreatorClips(context.Background(), e.accounts["alice"].ID, shopclip.Page{})
	if len(clips) != 0 {
		t.Errorf("refused uploads left %d clips", len(clips))
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, header string
	}{
		{"no scheme", e.keys["alice"]},
		{"basic", "Basic " + e.keys["alice"]},
		{"unknown key", "Bearer sc_" + strings.Repeat("a", 52)},
		{"truncated", "Bearer " + e.keys["alice"][:20]},
		{"garbage", "Bearer <script>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do("", "GET", "/v1/me", nil, "Authorization", tt.header)
			if resp.Status != http.StatusUnauthorized || resp.errCode() != shopclip.EUNAUTHORIZED {
				t.Errorf("got %d %s", resp.Status, resp.Body)
			}
		})
	}
	var me shopclip.Account
	resp := e.do("alice", "GET", "/v1/me", nil)
	resp.json(t, &me)
	if resp.Status != 200 || me.Name != "alice" || me.Role != shopclip.RoleCreator {
		t.Errorf("me = %d %+v", resp.Status, me)
	}
}

// TestRouteRoles walks the route table: anonymous callers get 401 on every
// route that needs a key, and accounts of a role a route does not admit get
// 403, before any handler runs.
func TestRouteRoles(t *testing.T) {
	e := newEnv(t)
	ids := map[string]string{
		"{id}": shopclip.NewID(shopclip.PrefixClip), "{tag_id}": shopclip.NewID(shopclip.PrefixTag),
		"{gen}": "g", "{file...}": "master.m3u8", "{$}": "",
	}
	routes := e.api.Routes()
	if len(routes) < 20 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, rt := range routes {
		path := rt.Pattern
		for k, v := range ids {
			path = strings.ReplaceAll(path, k, v)
		}
		if strings.HasPrefix(rt.Pattern, "/v1/products/") {
			path = strings.ReplaceAll(rt.Pattern, "{id}", shopclip.NewID(shopclip.PrefixProduct))
		}
		name := rt.Method + " " + rt.Pattern
		if rt.Roles == nil {
			continue
		}
		if status := e.status("", rt.Method, path); status != http.StatusUnauthorized {
			t.Errorf("%s anonymous: %d, want 401", name, status)
		}
		for _, user := range []string{"alice", "acme"} {
			role := e.accounts[user].Role
			admitted := false
			for _, r := range rt.Roles {
				admitted = admitted || r == role
			}
			status := e.status(user, rt.Method, path)
			if !admitted && status != http.StatusForbidden {
				t.Errorf("%s as %s: %d, want 403", name, role, status)
			}
			if admitted && (status == http.StatusForbidden || status == http.StatusUnauthorized) {
				t.Errorf("%s as %s: %d, want the route to admit it", name, role, status)
			}
		}
	}
}

func TestProductValidationOverHTTP(t *testing.T) {
	e := newEnv(t)
	base := func() map[string]any {
		return map[string]any{"sku": "S1", "title": "T", "currency": "USD", "price_minor": 1000, "url": "https://s.example/p"}
	}
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		status int
		code   string
	}{
		{"valid", func(m map[string]any) {}, 201, ""},
		{"negative price", func(m map[string]any) { m["price_minor"] = -5 }, 400, shopclip.EINVALID},
		{"string price", func(m map[string]any) { m["price_minor"] = "10" }, 400, shopclip.EINVALID},
		{"unknown currency", func(m map[string]any) { m["currency"] = "ABC" }, 400, shopclip.EINVALID},
		{"javascript url", func(m map[string]any) { m["url"] = "javascript:alert(1)" }, 400, shopclip.EINVALID},
		{"mass assignment", func(m map[string]any) { m["brand_id"] = e.accounts["globex"].ID }, 400, shopclip.EINVALID},
		{"id smuggling", func(m map[string]any) { m["id"] = "prd_x" }, 400, shopclip.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.mutate(m)
			resp := e.do("acme", "POST", "/v1/products", m)
			if resp.Status != tt.status || resp.errCode() != tt.code {
				t.Errorf("got %d %q, want %d %q: %s", resp.Status, resp.errCode(), tt.status, tt.code, resp.Body)
			}
		})
	}
	if resp := e.do("acme", "POST", "/v1/products", "{not json"); resp.Status != 400 {
		t.Errorf("malformed JSON: %d", resp.Status)
	}
	if resp := e.do("acme", "POST", "/v1/products", `{"sku":"a"} {"sku":"b"}`); resp.Status != 400 {
		t.Errorf("two objects: %d", resp.Status)
	}
}

// TestShoppablePath is the brand and creator path: a discounted product is
// tagged into a ready clip, stays invisible while pending, shows with its sale
// price and label once the creator approves, and its buy URL redirects and
// counts the click.
func TestShoppablePath(t *testing.T) {
	e := newEnv(t)
	clip := e.readyClip("alice")
	p := e.product("acme", 19900)

	start := e.now.Add(-time.Hour).Format(time.RFC3339)
	end := e.now.Add(24 * time.Hour).Format(time.RFC3339)
	resp := e.do("acme", "POST", "/v1/products/"+p.ID+"/discounts", map[string]any{"kind": "percent", "percent_off": 20, "starts_at": start, "ends_at": end})
	if resp.Status != http.StatusCreated {
		t.Fatalf("discount: %d %s", resp.Status, resp.Body)
	}
	resp = e.do("acme", "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 3000, "end_ms": 6000, "x": 0.5, "y": 0.8})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("tag: %d %s", resp.Status, resp.Body)
	}
	var tag shopclip.Tag
	resp.json(t, &tag)
	if tag.Status != shopclip.TagPending {
		t.Errorf("tag status = %s, want pending", tag.Status)
	}
	if n := popupCount(t, e, clip.ID); n != 0 {
		t.Errorf("pending tag shows %d pop-ups", n)
	}
	if resp := e.do("", "GET", shopclip.BuyPath(tag.ID), nil); resp.Status != http.StatusNotFound {
		t.Errorf("buy on a pending tag: %d", resp.Status)
	}
	// Only the clip's creator approves.
	for _, who := range []string{"acme", "bob", "globex"} {
		resp := e.do(who, "POST", "/v1/clips/"+clip.ID+"/tags/"+tag.ID+"/approve", nil)
		if resp.Status != http.StatusForbidden && resp.Status != http.StatusNotFound {
			t.Errorf("%s approves: %d", who, resp.Status)
		}
	}
	resp = e.do("alice", "POST", "/v1/clips/"+clip.ID+"/tags/"+tag.ID+"/approve", nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("approve: %d %s", resp.Status, resp.Body)
	}
	var pops struct {
		ClipID string           `json:"clip_id"`
		Popups []shopclip.Popup `json:"popups"`
	}
	resp = e.do("", "GET", "/v1/clips/"+clip.ID+"/popups", nil)
	resp.json(t, &pops)
	if len(pops.Popups) != 1 {
		t.Fatalf("popups = %s", resp.Body)
	}
	pp := pops.Popups[0]
	if pp.Product.PriceMinor != 19900 || pp.Product.SalePriceMinor != 15920 || pp.Label != "-20%" || pp.StartMS != 3000 || pp.EndMS != 6000 {
		t.Errorf("pop-up = %+v", pp)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("public route without CORS header")
	}
	// After the sale ends the label goes.
	e.now = e.now.Add(25 * time.Hour)
	var after struct{ Popups []shopclip.Popup }
	e.do("", "GET", "/v1/clips/"+clip.ID+"/popups", nil).json(t, &after)
	if len(after.Popups) != 1 || after.Popups[0].Label != "" || after.Popups[0].Product.SalePriceMinor != 19900 {
		t.Errorf("after the sale: %+v", after.Popups)
	}

	for i := range 3 {
		resp = e.do("", "GET", pp.BuyURL, nil)
		if resp.Status != http.StatusFound || resp.Header.Get("Location") != p.URL {
			t.Fatalf("buy %d: %d %s", i, resp.Status, resp.Header.Get("Location"))
		}
	}
	got, err := e.store.Tag(context.Background(), tag.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Clicks != 3 {
		t.Errorf("clicks = %d, want 3", got.Clicks)
	}
	// The changes enqueued a clip:tag task, which they share while it
	// waits (no worker runs here).
	tasks, err := e.inspector.ListPendingTasks(workers.QueueTag)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].ID != workers.TagTaskID(clip.ID) {
		t.Errorf("%d clip:tag tasks pending, want the clip's one", len(tasks))
	}
	// Rejected tags never show.
	e.do("alice", "POST", "/v1/clips/"+clip.ID+"/tags/"+tag.ID+"/reject", nil)
	if n := popupCount(t, e, clip.ID); n != 0 {
		t.Errorf("rejected tag shows %d pop-ups", n)
	}
}

func popupCount(t *testing.T, e *env, clipID string) int {
	t.Helper()
	var pops struct{ Popups []shopclip.Popup }
	resp := e.do("", "GET", "/v1/clips/"+clipID+"/popups", nil)
	if resp.Status != 200 {
		t.Fatalf("popups: %d %s", resp.Status, resp.Body)
	}
	resp.json(t, &pops)
	return len(pops.Popups)
}

func TestTagValidationAndOwnership(t *testing.T) {
	e := newEnv(t)
	clip := e.readyClip("alice")
	mine := e.product("acme", 1000)
	theirs := e.product("globex", 1000)
	tests := []struct {
		name string
		body map[string]any
		code string
	}{
		{"another brand's product", map[string]any{"product_id": theirs.ID, "start_ms": 0, "end_ms": 1000, "x": 0.5, "y": 0.5}, shopclip.EINVALID},
		{"past the end", map[string]any{"product_id": mine.ID, "start_ms": 9000, "end_ms": 11000, "x": 0.5, "y": 0.5}, shopclip.EINVALID},
		{"reversed", map[string]any{"product_id": mine.ID, "start_ms": 5000, "end_ms": 4000, "x": 0.5, "y": 0.5}, shopclip.EINVALID},
		{"off screen", map[string]any{"product_id": mine.ID, "start_ms": 0, "end_ms": 1000, "x": 1.5, "y": 0.5}, shopclip.EINVALID},
		{"missing position", map[string]any{"product_id": mine.ID, "start_ms": 0, "end_ms": 1000}, shopclip.EINVALID},
		{"status smuggling", map[string]any{"product_id": mine.ID, "start_ms": 0, "end_ms": 1000, "x": 0.5, "y": 0.5, "status": "active"}, shopclip.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do("acme", "POST", "/v1/clips/"+clip.ID+"/tags", tt.body)
			if resp.Status != 400 || resp.errCode() != tt.code {
				t.Errorf("got %d %s", resp.Status, resp.Body)
			}
		})
	}
}

// TestObjectAuthorization checks that accounts cannot act on one another's
// objects (OWASP API1): they get 404, as if the object did not exist.
func TestObjectAuthorization(t *testing.T) {
	e := newEnv(t)
	clip := e.readyClip("alice")
	p := e.product("acme", 1000)
	resp := e.do("acme", "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 0, "end_ms": 1000, "x": 0.1, "y": 0.1})
	var tag shopclip.Tag
	resp.json(t, &tag)
	disc := map[string]any{"kind": "percent", "percent_off": 10, "starts_at": e.now.Format(time.RFC3339), "ends_at": e.now.Add(time.Hour).Format(time.RFC3339)}
	// A ready clip is public, so a stranger may learn it exists: 403.
	if resp := e.do("bob", "DELETE", "/v1/clips/"+clip.ID, nil); resp.Status != http.StatusForbidden {
		t.Errorf("bob DELETE alice's clip: %d, want 403", resp.Status)
	}
	tests := []struct {
		user, method, path string
		body               any
	}{
		{"bob", "POST", "/v1/clips/" + clip.ID + "/tags/" + tag.ID + "/approve", nil},
		{"bob", "POST", "/v1/clips/" + clip.ID + "/tags/" + tag.ID + "/reject", nil},
		{"globex", "GET", "/v1/products/" + p.ID, nil},
		{"globex", "PATCH", "/v1/products/" + p.ID, map[string]any{"price_minor": 1}},
		{"globex", "POST", "/v1/products/" + p.ID + "/discounts", disc},
		{"globex", "GET", "/v1/products/" + p.ID + "/discounts", nil},
		{"globex", "GET", "/v1/products/" + p.ID + "/stats", nil},
		{"globex", "GET", "/v1/clips/" + clip.ID + "/stats", nil}, // not tagged in it
		{"bob", "GET", "/v1/clips/" + clip.ID + "/stats", nil},
	}
	for _, tt := range tests {
		resp := e.do(tt.user, tt.method, tt.path, tt.body)
		if resp.Status != http.StatusNotFound {
			t.Errorf("%s %s %s: %d, want 404: %s", tt.user, tt.method, tt.path, resp.Status, resp.Body)
		}
	}
	// Nothing changed.
	got, _ := e.store.Product(context.Background(), p.ID)
	if got.PriceMinor != 1000 {
		t.Errorf("price changed to %d", got.PriceMinor)
	}
	if c, err := e.store.Clip(context.Background(), clip.ID); err != nil || c.Status != shopclip.ClipReady {
		t.Errorf("clip after attempts: %v %v", c, err)
	}
	// A brand sees only its own tags; the creator sees all.
	var tags struct{ Tags []shopclip.Tag }
	e.do("globex", "GET", "/v1/clips/"+clip.ID+"/tags", nil).json(t, &tags)
	if len(tags.Tags) != 0 {
		t.Errorf("globex sees %d tags of acme", len(tags.Tags))
	}
	e.do("alice", "GET", "/v1/clips/"+clip.ID+"/tags", nil).json(t, &tags)
	if len(tags.Tags) != 1 {
		t.Errorf("alice sees %d tags", len(tags.Tags))
	}
	// Admins may.
	if resp := e.do("root", "GET", "/v1/products/"+p.ID, nil); resp.Status != 200 {
		t.Errorf("admin GET product: %d", resp.Status)
	}
	// The owner may delete; then the clip is gone for everyone, with its files.
	if resp := e.do("alice", "DELETE", "/v1/clips/"+clip.ID, nil); resp.Status != http.StatusNoContent {
		t.Errorf("owner DELETE: %d %s", resp.Status, resp.Body)
	}
	if resp := e.do("alice", "GET", "/v1/clips/"+clip.ID, nil); resp.Status != http.StatusNotFound {
		t.Errorf("GET deleted clip: %d", resp.Status)
	}
	if objs, _ := e.blobs.List(context.Background(), shopclip.ClipPrefix(clip.ID)); len(objs) != 0 {
		t.Errorf("deleted clip left %d objects", len(objs))
	}
}

func TestPatchProductRelabels(t *testing.T) {
	e := newEnv(t)
	clip := e.readyClip("alice")
	p := e.product("acme", 19900)
	var tag shopclip.Tag
	e.do("acme", "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 0, "end_ms": 1000, "x": 0.1, "y": 0.1}).json(t, &tag)
	e.do("alice", "POST", "/v1/clips/"+clip.ID+"/tags/"+tag.ID+"/approve", nil)
	// The tag's changes share one waiting task; without it, the patch must
	// enqueue one.
	if err := e.inspector.DeleteTask(workers.QueueTag, workers.TagTaskID(clip.ID)); err != nil {
		t.Fatal(err)
	}

	resp := e.do("acme", "PATCH", "/v1/products/"+p.ID, map[string]any{"price_minor": 9900, "in_stock": false})
	if resp.Status != 200 {
		t.Fatalf("patch: %d %s", resp.Status, resp.Body)
	}
	var pops struct{ Popups []shopclip.Popup }
	e.do("", "GET", "/v1/clips/"+clip.ID+"/popups", nil).json(t, &pops)
	if len(pops.Popups) != 1 || pops.Popups[0].Product.PriceMinor != 9900 || pops.Popups[0].Product.InStock {
		t.Errorf("after patch: %+v", pops.Popups)
	}
	if info, err := e.inspector.GetTaskInfo(workers.QueueTag, workers.TagTaskID(clip.ID)); err != nil || info.State != asynq.TaskStatePending {
		t.Errorf("after the patch, the clip's clip:tag task: %v %v, want one pending", info, err)
	}
	if resp := e.do("acme", "PATCH", "/v1/products/"+p.ID, map[string]any{"brand_id": "x"}); resp.Status != 400 {
		t.Errorf("patch brand_id: %d", resp.Status)
	}
	if resp := e.do("acme", "PATCH", "/v1/products/"+p.ID, map[string]any{"url": "ftp://x"}); resp.Status != 400 {
		t.Errorf("patch ftp url: %d", resp.Status)
	}
}

func TestServeMedia(t *testing.T) {
	e := newEnv(t)
	clip := e.readyClip("alice")
	var got struct {
		Playback struct{ HLS string }
	}
	e.do("", "GET", "/v1/clips/"+clip.ID, nil).json(t, &got)
	want := "/v1/clips/" + clip.ID + "/media/" + clip.Generation + "/master.m3u8"
	if got.Playback.HLS != want {
		t.Fatalf("playback.hls = %q, want %q", got.Playback.HLS, want)
	}
	resp := e.do("", "GET", got.Playback.HLS, nil)
	if resp.Status != 200 || resp.Header.Get("Content-Type") != "application/vnd.apple.mpegurl" || !strings.HasPrefix(string(resp.Body), "#EXTM3U") {
		t.Errorf("master: %d %q %q", resp.Status, resp.Header.Get("Content-Type"), resp.Body)
	}
	seg := "/v1/clips/" + clip.ID + "/media/" + clip.Generation + "/720p/seg_00000.m4s"
	resp = e.do("", "GET", seg, nil, "Range", "bytes=10-19")
	if resp.Status != http.StatusPartialContent || len(resp.Body) != 10 || resp.Header.Get("Content-Range") != "bytes 10-19/1000" {
		t.Errorf("range: %d %q %q", resp.Status, resp.Header.Get("Content-Range"), resp.Body)
	}
	if resp.Header.Get("Content-Type") != "video/iso.segment" {
		t.Errorf("segment content type %q", resp.Header.Get("Content-Type"))
	}
	for _, path := range []string{
		"/v1/clips/" + clip.ID + "/media/att_wrong/master.m3u8",
		"/v1/clips/" + clip.ID + "/media/" + clip.Generation + "/../../originals/" + clip.ID,
		"/v1/clips/" + clip.ID + "/media/" + clip.Generation + "/nope.m3u8",
		"/v1/clips/clp_bad/media/x/master.m3u8",
	} {
		// ServeMux answers dot-dot paths with a redirect to the cleaned
		// path, which names no media either.
		if resp := e.do("", "GET", path, nil); resp.Status != http.StatusNotFound && resp.Status != http.StatusTemporaryRedirect {
			t.Errorf("GET %s: %d, want 404", path, resp.Status)
		} else if resp.Status == http.StatusTemporaryRedirect {
			if next := e.do("", "GET", resp.Header.Get("Location"), nil); next.Status != http.StatusNotFound {
				t.Errorf("GET %s → %s: %d, want 404", path, resp.Header.Get("Location"), next.Status)
			}
		}
	}
}

// TestMediaOfUnfinishedClips: the outputs of a clip still processing
// (playable early) are its creator's to preview, no one else's, as the
// clip itself is.
func TestMediaOfUnfinishedClips(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var c shopclip.Clip
	e.upload("alice", "early", fakeMP4(4096)).json(t, &c)
	attempt := shopclip.NewID(shopclip.PrefixAttempt)
	if _, err := e.store.StartClipAttempt(ctx, c.ID, attempt); err != nil {
		t.Fatal(err)
	}
	prefix := shopclip.GenerationPrefix(c.ID, attempt)
	body := "#EXTM3U\n"
	if err := e.blobs.Put(ctx, prefix+"master.m3u8", strings.NewReader(body), int64(len(body)), blobOpts); err != nil {
		t.Fatal(err)
	}
	pub := &shopclip.Publication{Generation: attempt, OutputPrefix: prefix, Width: 720, Height: 1280,
		Renditions: []shopclip.Rendition{{Name: "720p", Width: 720, Height: 1280, Bandwidth: 1_000_000}}}
	if err := e.store.UpdateClipProgress(ctx, c.ID, attempt, 0.3, pub); err != nil {
		t.Fatal(err)
	}
	path := "/v1/clips/" + c.ID + "/media/" + attempt + "/master.m3u8"
	if r := e.do("alice", "GET", path, nil); r.Status != http.StatusOK {
		t.Fatalf("its creator previews: %d %s", r.Status, r.Body)
	}
	for _, who := range []string{"", "bob", "acme"} {
		if r := e.do(who, "GET", path, nil); r.Status != http.StatusNotFound {
			t.Errorf("%q reads a processing clip's media: %d, want 404", who, r.Status)
		}
	}
}

func TestFeedPagination(t *testing.T) {
	e := newEnv(t)
	want := map[string]bool{}
	for range 5 {
		want[e.readyClip("alice").ID] = true
	}
	e.upload("bob", "not ready", fakeMP4(2000)) // never listed
	seen := map[string]bool{}
	cursor := ""
	for page := 0; page < 10; page++ {
		var f struct {
			Clips      []struct{ ID, Status string }
			NextCursor string `json:"next_cursor"`
		}
		resp := e.do("", "GET", "/v1/feed?limit=2&cursor="+cursor, nil)
		if resp.Status != 200 {
			t.Fatalf("feed: %d %s", resp.Status, resp.Body)
		}
		resp.json(t, &f)
		for _, c := range f.Clips {
			if seen[c.ID] || !want[c.ID] || c.Status != "ready" {
				t.Errorf("page %d: unexpected clip %+v", page, c)
			}
			seen[c.ID] = true
		}
		if f.NextCursor == "" {
			break
		}
		cursor = f.NextCursor
	}
	if len(seen) != len(want) {
		t.Errorf("saw %d clips, want %d", len(seen), len(want))
	}
	for _, bad := range []string{"?cursor=!!", "?limit=0", "?limit=1000", fmt.Sprintf("?cursor=%s", "Zm9v")} {
		if resp := e.do("", "GET", "/v1/feed"+bad, nil); resp.Status != 400 {
			t.Errorf("feed%s: %d, want 400", bad, resp.Status)
		}
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t)
	if resp := e.do("", "GET", "/healthz", nil); resp.Status != 200 {
		t.Errorf("healthz: %d", resp.Status)
	}
	if resp := e.do("", "GET", "/readyz", nil); resp.Status != 200 {
		t.Errorf("readyz: %d %s", resp.Status, resp.Body)
	}
	e.store.Close()
	if resp := e.do("", "GET", "/readyz", nil); resp.Status != http.StatusServiceUnavailable || !strings.Contains(string(resp.Body), `"database": "error"`) {
		t.Errorf("readyz with the database closed: %d %s", resp.Status, resp.Body)
	}
	resp := e.do("", "GET", "/metrics", nil)
	if resp.Status != 200 || !strings.Contains(string(resp.Body), `shopclip_http_requests_total{code="200",route="GET /healthz"} 1`) {
		t.Errorf("metrics: %s", resp.Body)
	}
}

func TestUnmatchedRoutes(t *testing.T) {
	e := newEnv(t)
	resp := e.do("", "PUT", "/v1/feed", nil)
	if resp.Status != http.StatusMethodNotAllowed || resp.errCode() != shopclip.EMETHOD || !strings.Contains(resp.Header.Get("Allow"), "GET") {
		t.Errorf("PUT /v1/feed: %d %q allow=%q", resp.Status, resp.errCode(), resp.Header.Get("Allow"))
	}
	resp = e.do("", "GET", "/v2/nothing", nil)
	if resp.Status != http.StatusNotFound || resp.errCode() != shopclip.ENOTFOUND {
		t.Errorf("GET /v2/nothing: %d %s", resp.Status, resp.Body)
	}
}

func TestMetricsAreNotPublic(t *testing.T) {
	e := newEnv(t)
	proxied := []string{"X-Forwarded-For", "203.0.113.7"}
	if resp := e.do("", "GET", "/metrics", nil, proxied...); resp.Status != http.StatusNotFound {
		t.Errorf("remote anonymous /metrics: %d, want 404", resp.Status)
	}
	if resp := e.do("alice", "GET", "/metrics", nil, proxied...); resp.Status != http.StatusNotFound {
		t.Errorf("remote creator /metrics: %d, want 404", resp.Status)
	}
	if resp := e.do("root", "GET", "/metrics", nil, proxied...); resp.Status != http.StatusOK {
		t.Errorf("remote admin /metrics: %d, want 200", resp.Status)
	}
}

func TestChunkedUploadTooLarge(t *testing.T) {
	e := newEnv(t)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, _ := mw.CreateFormFile("file", "big.mp4")
		fw.Write(fakeMP4(1 << 20))
		for range 8 { // 9 MiB in all, against a 2 MiB limit, with no Content-Length
			if _, err := fw.Write(make([]byte, 1<<20)); err != nil {
				break
			}
		}
		mw.Close()
		pw.Close()
	}()
	resp := e.do("alice", "POST", "/v1/clips", pr, "Content-Type", mw.FormDataContentType())
	pr.Close()
	if resp.Status != http.StatusRequestEntityTooLarge || resp.errCode() != shopclip.ETOOLARGE {
		t.Errorf("got %d %s", resp.Status, resp.Body)
	}
	if objs, _ := e.blobs.List(context.Background(), "originals/"); len(objs) != 0 {
		t.Errorf("left %d originals", len(objs))
	}
}

func TestOverlaysVTTFollowsConsentAndClock(t *testing.T) {
	e := newEnv(t)
	clip := e.readyClip("alice")
	p := e.product("acme", 1000)
	e.do("acme", "POST", "/v1/products/"+p.ID+"/discounts", map[string]any{"kind": "percent", "percent_off": 20,
		"starts_at": e.now.Format(time.RFC3339), "ends_at": e.now.Add(time.Hour).Format(time.RFC3339)})
	var tag shopclip.Tag
	e.do("acme", "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 3000, "end_ms": 6000, "x": 0.5, "y": 0.5}).json(t, &tag)
	e.do("alice", "POST", "/v1/clips/"+clip.ID+"/tags/"+tag.ID+"/approve", nil)

	vtt := e.do("", "GET", "/v1/clips/"+clip.ID+"/overlays.vtt", nil)
	if vtt.Status != 200 || vtt.Header.Get("Content-Type") != "text/vtt; charset=utf-8" ||
		!strings.Contains(string(vtt.Body), "00:00:03.000 --> 00:00:06.000") || !strings.Contains(string(vtt.Body), `"label":"-20%"`) {
		t.Fatalf("vtt: %d %q", vtt.Status, vtt.Body)
	}
	etag := vtt.Header.Get("ETag")
	if resp := e.do("", "GET", "/v1/clips/"+clip.ID+"/overlays.vtt", nil, "If-None-Match", etag); resp.Status != http.StatusNotModified {
		t.Errorf("unchanged timeline: %d, want 304", resp.Status)
	}
	e.now = e.now.Add(2 * time.Hour) // the sale is over
	resp := e.do("", "GET", "/v1/clips/"+clip.ID+"/overlays.vtt", nil, "If-None-Match", etag)
	if resp.Status != 200 || strings.Contains(string(resp.Body), "-20%") {
		t.Errorf("after the sale: %d %q", resp.Status, resp.Body)
	}
	e.do("alice", "POST", "/v1/clips/"+clip.ID+"/tags/"+tag.ID+"/reject", nil)
	resp = e.do("", "GET", "/v1/clips/"+clip.ID+"/overlays.vtt", nil)
	if strings.Contains(string(resp.Body), "-->") {
		t.Errorf("rejected tag still in the track: %q", resp.Body)
	}
}
