package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/configs"
	"github.com/shopclip/shopclip/internal/testenv"
)

// hookReceiver receives webhooks on 127.0.0.1 for several accounts (the
// URL path names the account), checks every signature by the Standard
// Webhooks spec its own way, and fails the first request of "fail" with a
// 500.
type hookReceiver struct {
	t       *testing.T
	fail    string
	mu      sync.Mutex
	secrets map[string]string
	got     []hookReceived
}

type hookReceived struct {
	Who, ID, Type  string
	ClipID, TagID  string
	Code           string
	Status         int // what the receiver answered
	SignatureOK    bool
	TimestampFresh bool
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	who := strings.TrimPrefix(r.URL.Path, "/")
	h.mu.Lock()
	defer h.mu.Unlock()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(h.secrets[who], "whsec_"))
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), b)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	var ts int64
	fmt.Sscan(r.Header.Get("webhook-timestamp"), &ts)
	var body struct {
		Type string
		Data struct {
			ClipID    string `json:"clip_id"`
			TagID     string `json:"tag_id"`
			ProductID string `json:"product_id"`
			ID        string
			Code      string
		}
	}
	if err := json.Unmarshal(b, &body); err != nil {
		h.t.Errorf("receiver: body %s: %v", b, err)
	}
	if strings.HasPrefix(body.Type, "tag.") {
		body.Data.TagID = body.Data.ID
	}
	if strings.HasPrefix(body.Type, "sale.") {
		body.Data.ClipID = body.Data.ProductID
	}
	status := http.StatusOK
	if who == h.fail && !slices.ContainsFunc(h.got, func(g hookReceived) bool { return g.Who == who }) {
		status = http.StatusInternalServerError
	}
	h.got = append(h.got, hookReceived{Who: who, ID: r.Header.Get("webhook-id"), Type: body.Type,
		ClipID: body.Data.ClipID, TagID: body.Data.TagID, Code: body.Data.Code, Status: status,
		SignatureOK:    slices.Contains(strings.Fields(r.Header.Get("webhook-signature")), want),
		TimestampFresh: time.Since(time.Unix(ts, 0)).Abs() < 5*time.Minute})
	w.WriteHeader(status)
}

func (h *hookReceiver) received() []hookReceived {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

// A full flow under shopclip up (an upload that plays and becomes ready, one
// that fails, a brand's tag, its approval, a click, a purchase and a sale) reaches
// the creator's and the brand's webhooks as every event it makes, each
// signed; the creator's first delivery, answered 500, comes again with the
// same webhook-id, and the API lists its two attempts.
func TestWebhooksFullFlow(t *testing.T) {
	data := t.TempDir()
	cfg, err := configs.Load("", []string{"SHOPCLIP_DATA=" + data, "SHOPCLIP_ADDR=127.0.0.1:0", "SHOPCLIP_WEBHOOKS_ALLOW_PRIVATE=true"})
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg, Mode: ModeUp, Logger: testLogger(t), TranscodeCommand: []string{self(t), "transcode"}}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	api := client{t, m.URL()}
	keys := map[string]string{
		"alice": cli(t, "account", "create", "--role", "creator", "--name", "alice", "--data", data),
		"acme":  cli(t, "account", "create", "--role", "brand", "--name", "acme", "--data", data),
	}

	rcv := &hookReceiver{t: t, fail: "alice", secrets: map[string]string{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	hookIDs := map[string]string{}
	for who, key := range keys {
		var hook struct{ ID, Secret string }
		api.json(key, "POST", "/v1/webhooks", map[string]any{"url": srv.URL + "/" + who, "events": shopclip.WebhookEvents}, 201, &hook)
		rcv.mu.Lock()
		rcv.secrets[who] = hook.Secret
		rcv.mu.Unlock()
		hookIDs[who] = hook.ID
	}

	good := api.upload(keys["alice"], testenv.Media(t, "h264_noaudio_480x270_koala.mp4"), "koala")
	bad := api.upload(keys["alice"], testenv.Media(t, "broken_moov_not_found_malformed_free_box.mp4"), "broken")
	if c := api.waitClip(keys["alice"], good, 3*time.Minute); c.Status != "ready" {
		t.Fatalf("clip %s: %s %+v", good, c.Status, c.Error)
	}
	api.waitClip(keys["alice"], bad, 3*time.Minute)
	var product shopclip.Product
	api.json(keys["acme"], "POST", "/v1/products", map[string]any{
		"sku": "K-1", "title": "Koala plush", "currency": "USD", "price_minor": 2500, "url": "https://shop.example.com/k-1",
	}, 201, &product)
	var tag shopclip.Tag
	api.json(keys["acme"], "POST", "/v1/clips/"+good+"/tags", map[string]any{
		"product_id": product.ID, "start_ms": 0, "end_ms": 1000, "x": 0.5, "y": 0.5,
	}, 202, &tag)
	api.json(keys["alice"], "POST", fmt.Sprintf("/v1/clips/%s/tags/%s/approve", good, tag.ID), nil, 200, nil)
	session := "session-webhooks-1"
	api.json("", "POST", "/v1/events", map[string]any{"type": "popup_click", "session_id": session, "tag_id": tag.ID}, 202, nil)
	api.json(keys["acme"], "POST", "/v1/events", map[string]any{"type": "purchase", "session_id": session,
		"product_id": product.ID, "order_id": "order-1", "amount_minor": 2500, "currency": "USD"}, 201, nil)
	now := time.Now().UTC()
	api.json(keys["acme"], "POST", "/v1/products/"+product.ID+"/discounts", map[string]any{"kind": "percent", "percent_off": 10,
		"starts_at": now.Add(-time.Minute).Format(time.RFC3339), "ends_at": now.Add(time.Hour).Format(time.RFC3339)}, 201, nil)

	type heard struct{ Who, Type, Subject string }
	want := map[heard]bool{
		{"alice", "clip.playable", good}: true, {"alice", "clip.ready", good}: true, {"alice", "clip.failed", bad}: true,
		{"alice", "tag.proposed", tag.ID}: true, {"acme", "tag.proposed", tag.ID}: true,
		{"alice", "tag.approved", tag.ID}: true, {"acme", "tag.approved", tag.ID}: true,
		{"alice", "purchase.attributed", tag.ID}: true, {"acme", "purchase.attributed", tag.ID}: true,
		{"alice", "sale.started", product.ID}: true, {"acme", "sale.started", product.ID}: true,
	}
	// Every event, and the retry of the first (5 s after it).
	waitFor(t, time.Minute, "every event and a retry", func() bool { return len(rcv.received()) >= len(want)+1 })
	got := rcv.received()
	seen := map[heard]int{}
	for _, g := range got {
		subject := g.ClipID
		if strings.HasPrefix(g.Type, "tag.") || g.Type == "purchase.attributed" {
			subject = g.TagID
		}
		seen[heard{g.Who, g.Type, subject}]++
		if !g.SignatureOK || !g.TimestampFresh {
			t.Errorf("%+v: signature verified %v, timestamp fresh %v", g, g.SignatureOK, g.TimestampFresh)
		}
	}
	for w := range want {
		if seen[w] == 0 {
			t.Errorf("never heard %+v", w)
		}
	}
	for s := range seen {
		if !want[s] {
			t.Errorf("heard %+v, not an event of this flow", s)
		}
	}
	first := got[slices.IndexFunc(got, func(g hookReceived) bool { return g.Who == "alice" })]
	again := slices.IndexFunc(got, func(g hookReceived) bool { return g.ID == first.ID && g.Status == 200 })
	if first.Status != 500 || again < 0 || len(got) != len(want)+1 {
		t.Errorf("alice's first delivery %+v; want it answered 500 and delivered again with its webhook-id, %d requests in all, got %d", first, len(want)+1, len(got))
	}

	var dl struct {
		Deliveries []struct {
			ID, Status string
			Attempts   []struct{ Status int }
		}
	}
	waitFor(t, 10*time.Second, "alice's deliveries all delivered", func() bool {
		api.json(keys["alice"], "GET", "/v1/webhooks/"+hookIDs["alice"]+"/deliveries", nil, 200, &dl)
		return len(dl.Deliveries) == 7 && !slices.ContainsFunc(dl.Deliveries, func(d struct {
			ID, Status string
			Attempts   []struct{ Status int }
		}) bool {
			return d.Status != "delivered"
		})
	})
	for _, d := range dl.Deliveries {
		want := []int{200}
		if d.ID == first.ID {
			want = []int{500, 200}
		}
		var statuses []int
		for _, a := range d.Attempts {
			statuses = append(statuses, a.Status)
		}
		if !slices.Equal(statuses, want) {
			t.Errorf("delivery %s attempts %v, want %v", d.ID, statuses, want)
		}
	}
}
