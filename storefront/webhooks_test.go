package storefront_test

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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/webhooks"
)

// verifyWebhook checks a Standard Webhooks signature header independently:
// any "v1,<base64 HMAC-SHA256 of id.timestamp.body>" entry made with the
// base64 key after "whsec_".
func verifyWebhook(secret string, h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", h.Get("webhook-id"), h.Get("webhook-timestamp"), body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if b64, ok := strings.CutPrefix(sig, "v1,"); ok {
			if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}

type hookQueue struct {
	mu    sync.Mutex
	ids   []string
	sales []sale
}

func (q *hookQueue) EnqueueDelivery(_ context.Context, id string, _ bool) error {
	q.mu.Lock()
	q.ids = append(q.ids, id)
	q.mu.Unlock()
	return nil
}

// sale is an announcement scheduled.
type sale struct {
	DiscountID, Event string
	When              time.Time
}

func (q *hookQueue) EnqueueSale(_ context.Context, d *shopclip.Discount, event string, when time.Time) error {
	q.mu.Lock()
	q.sales = append(q.sales, sale{d.ID, event, when})
	q.mu.Unlock()
	return nil
}

func (q *hookQueue) last() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ids[len(q.ids)-1]
}

type webhookOut struct {
	ID                    string     `json:"id"`
	URL                   string     `json:"url"`
	Events                []string   `json:"events"`
	Secret                string     `json:"secret"`
	PreviousSecretExpires *time.Time `json:"previous_secret_expires"`
	Disabled              bool       `json:"disabled"`
}

func TestWebhookRoutes(t *testing.T) {
	e := newEnv(t)
	if got := e.do("alice", "GET", "/v1/webhooks", nil); got.Status != http.StatusServiceUnavailable {
		t.Errorf("without webhooks set up: %d, want 503", got.Status)
	}
	q := &hookQueue{}
	svc := webhooks.NewService(webhooks.Config{Store: e.store, Queue: q, Now: func() time.Time { return e.now },
		Client: webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: true})})
	e.api.Webhooks = svc

	var mu sync.Mutex
	var bodies [][]byte
	var headers []http.Header
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies, headers = append(bodies, b), append(headers, r.Header.Clone())
		mu.Unlock()
		io.WriteString(w, "thanks")
	}))
	defer rcv.Close()

	for _, tt := range []struct {
		name string
		body any
	}{
		{"no URL", map[string]any{"events": []string{"clip.ready"}}},
		{"ftp URL", map[string]any{"url": "ftp://example.com/", "events": []string{"clip.ready"}}},
		{"no events", map[string]any{"url": "https://example.com/"}},
		{"unknown event", map[string]any{"url": "https://example.com/", "events": []string{"clip.exploded"}}},
	} {
		if got := e.do("alice", "POST", "/v1/webhooks", tt.body); got.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", tt.name, got.Status, got.Body)
		}
	}

	r := e.do("alice", "POST", "/v1/webhooks", map[string]any{"url": rcv.URL + "/hook", "events": []string{"tag.proposed", "clip.ready"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var created webhookOut
	r.json(t, &created)
	if !strings.HasPrefix(created.Secret, "whsec_") || created.URL != rcv.URL+"/hook" || len(created.Events) != 2 {
		t.Errorf("created %+v, want the URL, both events and a whsec_ secret", created)
	}
	// The secret is shown once.
	var list struct{ Webhooks []webhookOut }
	e.do("alice", "GET", "/v1/webhooks", nil).json(t, &list)
	if len(list.Webhooks) != 1 || list.Webhooks[0].ID != created.ID || list.Webhooks[0].Secret != "" {
		t.Errorf("alice's list %+v, want her endpoint without its secret", list)
	}
	e.do("acme", "GET", "/v1/webhooks", nil).json(t, &list)
	if len(list.Webhooks) != 0 {
		t.Errorf("acme's list %+v, want none", list)
	}
	for _, path := range []string{"/v1/webhooks/" + created.ID, "/v1/webhooks/" + created.ID + "/deliveries"} {
		if got := e.do("acme", "GET", path, nil); got.Status != http.StatusNotFound {
			t.Errorf("acme GET %s: %d, want 404", path, got.Status)
		}
	}
	if got := e.do("", "GET", "/v1/webhooks", nil); got.Status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", got.Status)
	}

	// An event reaches the receiver signed with the secret shown.
	if err := svc.Emit(t.Context(), shopclip.EventTagProposed, []string{e.accounts["alice"].ID}, map[string]string{"tag_id": "tag_1"}); err != nil {
		t.Fatal(err)
	}
	first := q.last()
	if out, err := svc.Deliver(t.Context(), first, false); out != webhooks.Delivered || err != nil {
		t.Fatalf("deliver: %v, %v", out, err)
	}
	mu.Lock()
	if len(bodies) != 1 || !verifyWebhook(created.Secret, headers[0], bodies[0]) || headers[0].Get("webhook-id") != first {
		t.Errorf("receiver got %d deliveries; want one with webhook-id %s verified by the secret shown", len(bodies), first)
	}
	mu.Unlock()

	var dl struct {
		Deliveries []struct {
			ID, Type, Status string
			AttemptCount     int `json:"attempt_count"`
			Attempts         []struct {
				Status    int
				LatencyMS float64 `json:"latency_ms"`
				Response  string
			}
		}
	}
	e.do("alice", "GET", "/v1/webhooks/"+created.ID+"/deliveries", nil).json(t, &dl)
	if len(dl.Deliveries) != 1 || dl.Deliveries[0].ID != first || dl.Deliveries[0].Status != "delivered" ||
		dl.Deliveries[0].AttemptCount != 1 || len(dl.Deliveries[0].Attempts) != 1 ||
		dl.Deliveries[0].Attempts[0].Status != 200 || dl.Deliveries[0].Attempts[0].Response != "thanks" {
		t.Errorf("deliveries %+v, want the one delivered with its attempt", dl)
	}

	// Rotation: a new secret; both sign for 24 hours.
	var rotated webhookOut
	r = e.do("alice", "POST", "/v1/webhooks/"+created.ID+"/rotate", nil)
	r.json(t, &rotated)
	if r.Status != http.StatusOK || !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == created.Secret ||
		rotated.PreviousSecretExpires == nil || !rotated.PreviousSecretExpires.Equal(e.now.Add(24*time.Hour)) {
		t.Errorf("rotate: %d %+v; want a new secret, the old one expiring in 24 h", r.Status, rotated)
	}
	r = e.do("alice", "POST", "/v1/webhooks/"+created.ID+"/deliveries/"+first+"/replay", nil)
	if r.Status != http.StatusAccepted || q.last() != first {
		t.Fatalf("replay: %d %s, queued %s; want 202 and the same delivery queued", r.Status, r.Body, q.last())
	}
	if out, err := svc.Deliver(t.Context(), first, false); out != webhooks.Delivered || err != nil {
		t.Fatalf("deliver the replay: %v, %v", out, err)
	}
	mu.Lock()
	if len(bodies) != 2 || headers[1].Get("webhook-id") != first ||
		!verifyWebhook(rotated.Secret, headers[1], bodies[1]) || !verifyWebhook(created.Secret, headers[1], bodies[1]) {
		t.Errorf("the replay: want the same webhook-id verified by the new and the old secret")
	}
	mu.Unlock()
	if got := e.do("acme", "POST", "/v1/webhooks/"+created.ID+"/deliveries/"+first+"/replay", nil); got.Status != http.StatusNotFound {
		t.Errorf("acme's replay: %d, want 404", got.Status)
	}
	if got := e.do("acme", "POST", "/v1/webhooks/"+created.ID+"/enable", nil); got.Status != http.StatusNotFound {
		t.Errorf("acme's enable: %d, want 404", got.Status)
	}
	var enabled webhookOut
	if got := e.do("alice", "POST", "/v1/webhooks/"+created.ID+"/enable", nil); got.Status != http.StatusOK {
		t.Errorf("enable: %d %s, want 200", got.Status, got.Body)
	} else if got.json(t, &enabled); enabled.Disabled || enabled.Secret != "" {
		t.Errorf("enabled %+v, want enabled, no secret shown", enabled)
	}
	if got := e.do("acme", "DELETE", "/v1/webhooks/"+created.ID, nil); got.Status != http.StatusNotFound {
		t.Errorf("acme's delete: %d, want 404", got.Status)
	}
	if got := e.do("alice", "DELETE", "/v1/webhooks/"+created.ID, nil); got.Status != http.StatusNoContent {
		t.Errorf("delete: %d %s, want 204", got.Status, got.Body)
	}
	if got := e.do("alice", "GET", "/v1/webhooks/"+created.ID, nil); got.Status != http.StatusNotFound {
		t.Errorf("after delete: %d, want 404", got.Status)
	}
	// A brand registers too.
	if got := e.do("acme", "POST", "/v1/webhooks", map[string]any{"url": "https://example.com/h", "events": []string{"purchase.attributed"}}); got.Status != http.StatusCreated {
		t.Errorf("brand create: %d %s, want 201", got.Status, got.Body)
	}
}

// A brand's tag on a creator's clip is announced to both as tag.proposed,
// the creator's decision as tag.approved or tag.rejected, a purchase
// attributed to the approved tag as purchase.attributed (once, though
// reported twice); a bystander's webhook hears nothing.
func TestTagWebhooks(t *testing.T) {
	e := newEnv(t)
	q := &hookQueue{}
	svc := webhooks.NewService(webhooks.Config{Store: e.store, Queue: q, Now: func() time.Time { return e.now },
		Client: webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: true})})
	e.api.Webhooks = svc

	type heard struct{ Who, Type, TagID string }
	var mu sync.Mutex
	var got []heard
	secrets := map[string]string{}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		who := strings.TrimPrefix(r.URL.Path, "/")
		var body struct {
			Type string
			Data struct {
				ID    string
				TagID string `json:"tag_id"`
			}
		}
		json.Unmarshal(b, &body)
		if body.Type == "purchase.attributed" {
			body.Data.ID = body.Data.TagID
		}
		mu.Lock()
		defer mu.Unlock()
		if !verifyWebhook(secrets[who], r.Header, b) {
			t.Errorf("%s's receiver: signature does not verify", who)
		}
		got = append(got, heard{who, body.Type, body.Data.ID})
	}))
	defer rcv.Close()
	events := []string{"tag.proposed", "tag.approved", "tag.rejected", "purchase.attributed"}
	for _, who := range []string{"alice", "acme", "bob"} {
		var h webhookOut
		r := e.do(who, "POST", "/v1/webhooks", map[string]any{"url": rcv.URL + "/" + who, "events": events})
		r.json(t, &h)
		mu.Lock()
		secrets[who] = h.Secret
		mu.Unlock()
	}
	deliverAll := func() {
		t.Helper()
		q.mu.Lock()
		ids := q.ids
		q.ids = nil
		q.mu.Unlock()
		for _, id := range ids {
			if out, err := svc.Deliver(t.Context(), id, false); out != webhooks.Delivered || err != nil {
				t.Fatalf("deliver %s: %v, %v", id, out, err)
			}
		}
	}
	clip := e.readyClip("alice")
	p := e.product("acme", 1000)
	tag := func() string {
		var tg shopclip.Tag
		r := e.do("acme", "POST", "/v1/clips/"+clip.ID+"/tags", map[string]any{"product_id": p.ID, "start_ms": 0, "end_ms": 1000, "x": 0.5, "y": 0.5})
		if r.Status != http.StatusAccepted {
			t.Fatalf("tag: %d %s", r.Status, r.Body)
		}
		r.json(t, &tg)
		return tg.ID
	}
	t1, t2 := tag(), tag()
	if r := e.do("alice", "POST", "/v1/clips/"+clip.ID+"/tags/"+t1+"/approve", nil); r.Status != http.StatusOK {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	if r := e.do("alice", "POST", "/v1/clips/"+clip.ID+"/tags/"+t2+"/reject", nil); r.Status != http.StatusOK {
		t.Fatalf("reject: %d %s", r.Status, r.Body)
	}
	session := "session-hook-1"
	if r := e.do("", "POST", "/v1/events", map[string]any{"type": "popup_click", "session_id": session, "tag_id": t1}); r.Status != http.StatusAccepted {
		t.Fatalf("click: %d %s", r.Status, r.Body)
	}
	e.now = e.now.Add(time.Minute)
	for _, want := range []int{http.StatusCreated, http.StatusOK} { // reported twice: recorded once
		r := e.do("acme", "POST", "/v1/events", map[string]any{"type": "purchase", "session_id": session, "product_id": p.ID,
			"order_id": "o-1", "amount_minor": 1000, "currency": "USD"})
		if r.Status != want {
			t.Fatalf("purchase: %d %s, want %d", r.Status, r.Body, want)
		}
	}
	deliverAll()
	mu.Lock()
	defer mu.Unlock()
	count := map[heard]int{}
	for _, h := range got {
		count[h]++
	}
	want := []heard{
		{"alice", "tag.proposed", t1}, {"acme", "tag.proposed", t1},
		{"alice", "tag.proposed", t2}, {"acme", "tag.proposed", t2},
		{"alice", "tag.approved", t1}, {"acme", "tag.approved", t1},
		{"alice", "tag.rejected", t2}, {"acme", "tag.rejected", t2},
		{"alice", "purchase.attributed", t1}, {"acme", "purchase.attributed", t1},
	}
	for _, w := range want {
		if count[w] != 1 {
			t.Errorf("%+v heard %d times, want once", w, count[w])
		}
	}
	if len(got) != len(want) {
		t.Errorf("heard %d deliveries (%+v), want %d: bob hears nothing", len(got), got, len(want))
	}

	// A discount schedules the announcements of its start and end.
	starts, ends := e.now.Add(time.Hour), e.now.Add(3*time.Hour)
	var d shopclip.Discount
	r := e.do("acme", "POST", "/v1/products/"+p.ID+"/discounts", map[string]any{"kind": "percent", "percent_off": 10,
		"starts_at": starts.Format(time.RFC3339), "ends_at": ends.Format(time.RFC3339)})
	if r.Status != http.StatusCreated {
		t.Fatalf("discount: %d %s", r.Status, r.Body)
	}
	r.json(t, &d)
	q.mu.Lock()
	defer q.mu.Unlock()
	wantSales := []sale{{d.ID, "sale.started", starts}, {d.ID, "sale.ended", ends}}
	if len(q.sales) != 2 || q.sales[0] != wantSales[0] || q.sales[1] != wantSales[1] {
		t.Errorf("scheduled %+v, want %+v", q.sales, wantSales)
	}
}
