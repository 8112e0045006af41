package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/store"
	"github.com/shopclip/shopclip/webhooks"
)

// receiver is a real HTTP receiver on 127.0.0.1 that verifies every
// delivery with the independent verifier and answers from a script.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	answer []int // status per request, then 200
	// secretFor, when set, picks the secret by the request's path.
	secretFor func(path string) string
	got       []received
	seen      chan struct{}
}

type received struct {
	ID, Type, Path string
	Verified       bool
	Data           json.RawMessage
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	r := &receiver{t: t, answer: answers, seen: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	secret := r.secret
	if r.secretFor != nil {
		secret = r.secretFor(req.URL.Path)
	}
	err := verify(secret, req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), b, req.Header.Get("webhook-signature"))
	if err != nil {
		r.t.Errorf("receiver: %v", err)
	}
	var body struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &body); err != nil || body.Timestamp.IsZero() {
		r.t.Errorf("receiver: body %s: %v", b, err)
	}
	r.got = append(r.got, received{ID: req.Header.Get("webhook-id"), Type: body.Type, Path: req.URL.Path, Verified: err == nil, Data: body.Data})
	status := http.StatusOK
	if len(r.answer) > 0 {
		status, r.answer = r.answer[0], r.answer[1:]
	}
	r.mu.Unlock()
	w.WriteHeader(status)
	io.WriteString(w, "answer "+http.StatusText(status))
	r.seen <- struct{}{}
}

func (r *receiver) setSecret(s string) { r.mu.Lock(); r.secret = s; r.mu.Unlock() }

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// wait waits for n more requests, at most a minute.
func (r *receiver) wait(n int) {
	r.t.Helper()
	timeout := time.After(time.Minute)
	for range n {
		select {
		case <-r.seen:
		case <-timeout:
			r.t.Fatalf("receiver: timed out waiting; got %+v", r.received())
		}
	}
}

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "shopclip.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func account(t *testing.T, db *store.DB, role shopclip.Role) *shopclip.Account {
	t.Helper()
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: string(role), Role: role}
	if err := db.CreateAccount(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

// queueFunc adapts a function to webhooks.Queue.
type queueFunc func(ctx context.Context, id string, replay bool) error

func (f queueFunc) EnqueueDelivery(ctx context.Context, id string, replay bool) error {
	return f(ctx, id, replay)
}

func (f queueFunc) EnqueueSale(context.Context, *shopclip.Discount, string, time.Time) error {
	return nil
}

// Through asynq on a real Redis: the first attempt gets a 500, the retry the
// same webhook-id and body, and a valid signature each time; both attempts
// are recorded. A replay sends the same webhook-id once more.
func TestDeliveryRetriedWithTheSameID(t *testing.T) {
	addr, n := testenv.Redis(t)
	opt := asynq.RedisClientOpt{Addr: addr, DB: n}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	db := openStore(t)
	svc := webhooks.NewService(webhooks.Config{Store: db, Queue: webhooks.Enqueuer{Client: client},
		Client: webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: true})})
	srv := webhooks.NewServer(opt, webhooks.ServerConfig{RetryDelay: func(int, error, *asynq.Task) time.Duration { return time.Second }}, svc)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)

	creator := account(t, db, shopclip.RoleCreator)
	other := account(t, db, shopclip.RoleCreator)
	rcv := newReceiver(t, http.StatusInternalServerError)
	e, err := svc.Create(t.Context(), creator.ID, rcv.srv.URL+"/hook", []string{shopclip.EventClipReady})
	if err != nil {
		t.Fatal(err)
	}
	rcv.setSecret(e.Secret)
	// Not subscribed, and another account's: neither reaches the receiver.
	if err := svc.Emit(t.Context(), shopclip.EventClipFailed, []string{creator.ID}, map[string]string{"clip_id": "x"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Emit(t.Context(), shopclip.EventClipReady, []string{other.ID}, map[string]string{"clip_id": "x"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Emit(t.Context(), shopclip.EventClipReady, []string{creator.ID}, map[string]string{"clip_id": "clp_1"}); err != nil {
		t.Fatal(err)
	}
	rcv.wait(2)
	got := rcv.received()
	if len(got) != 2 || got[0].ID != got[1].ID || !strings.HasPrefix(got[0].ID, "msg_") {
		t.Fatalf("received %+v, want two of one webhook-id", got)
	}
	for _, g := range got {
		if g.Type != shopclip.EventClipReady || string(g.Data) != `{"clip_id":"clp_1"}` || !g.Verified {
			t.Errorf("received %+v, want a verified clip.ready of clp_1", g)
		}
	}
	ds, attempts, err := svc.Deliveries(t.Context(), creator.ID, e.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].ID != got[0].ID {
		t.Fatalf("deliveries %+v, want one, %s", ds, got[0].ID)
	}
	// The attempt is recorded just after the answer: poll briefly.
	for range 100 {
		if d, _ := db.Delivery(t.Context(), ds[0].ID); d.Status == shopclip.DeliveryDelivered {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, attempts, _ = svc.Deliveries(t.Context(), creator.ID, e.ID, 10)
	as := attempts[ds[0].ID]
	if len(as) != 2 || as[0].Status != 500 || as[1].Status != 200 || as[0].Excerpt != "answer Internal Server Error" || as[1].Latency <= 0 {
		t.Errorf("attempts %+v, want 500 then 200 with excerpts and latencies", as)
	}
	if d, _ := db.Delivery(t.Context(), ds[0].ID); d.Status != shopclip.DeliveryDelivered || d.Attempts != 2 {
		t.Errorf("delivery %+v, want delivered after 2 attempts", d)
	}
	// A failed then successful attempt leaves the endpoint healthy.
	if w, _ := db.Webhook(t.Context(), e.ID); !w.FailingSince.IsZero() {
		t.Errorf("FailingSince = %v after a success, want zero", w.FailingSince)
	}

	// Queued again as a first attempt (a sweep racing the emit): asynq
	// already has that task, and that is no error.
	if err := (webhooks.Enqueuer{Client: client}).EnqueueDelivery(t.Context(), ds[0].ID, false); err != nil {
		t.Errorf("queueing a delivery queued before: %v, want nil", err)
	}

	// Replay: the same webhook-id again, signed by the rotated secret too.
	rotated, err := svc.Rotate(t.Context(), creator.ID, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	rcv.setSecret(rotated.Secret)
	if _, err := svc.Replay(t.Context(), creator.ID, e.ID, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	rcv.wait(1)
	got = rcv.received()
	if len(got) != 3 || got[2].ID != got[0].ID || !got[2].Verified {
		t.Errorf("after a replay received %+v, want the same webhook-id, verified with the new secret", got)
	}
	if _, err := svc.Replay(t.Context(), other.ID, e.ID, ds[0].ID); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Errorf("another account's replay: %v, want not found", err)
	}
}

// clock is a settable fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// An endpoint failing every delivery for DisableAfter is disabled with the
// reason; later events are not delivered to it and pending ones give up.
func TestFailingEndpointDisabled(t *testing.T) {
	db := openStore(t)
	clk := &clock{now: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	var queued []string
	svc := webhooks.NewService(webhooks.Config{Store: db, Now: clk.Now,
		Client: webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: true}),
		Queue:  queueFunc(func(_ context.Context, id string, _ bool) error { queued = append(queued, id); return nil })})
	acc := account(t, db, shopclip.RoleBrand)
	rcv := newReceiver(t, 503, 503, 503, 503)
	e, err := svc.Create(t.Context(), acc.ID, rcv.srv.URL, []string{shopclip.EventTagProposed, shopclip.EventPurchaseAttributed})
	if err != nil {
		t.Fatal(err)
	}
	rcv.setSecret(e.Secret)
	emit := func() string {
		t.Helper()
		n := len(queued)
		if err := svc.Emit(t.Context(), shopclip.EventTagProposed, []string{acc.ID}, map[string]string{"tag_id": "t"}); err != nil {
			t.Fatal(err)
		}
		if len(queued) != n+1 {
			t.Fatalf("queued %d deliveries, want %d", len(queued), n+1)
		}
		return queued[n]
	}
	steps := []struct {
		after    time.Duration
		outcome  webhooks.Outcome
		disabled bool
	}{
		{0, webhooks.Retry, false},
		{48 * time.Hour, webhooks.Retry, false},
		{72*time.Hour - time.Second, webhooks.Retry, false}, // just short of five days
		{time.Second, webhooks.Retry, true},                 // five days: disabled
	}
	start := clk.Now()
	for i, s := range steps {
		clk.add(s.after)
		out, err := svc.Deliver(t.Context(), emit(), false)
		if err != nil || out != s.outcome {
			t.Fatalf("step %d: Deliver = %v, %v; want %v", i, out, err, s.outcome)
		}
		w, err := db.Webhook(t.Context(), e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !w.FailingSince.Equal(start) {
			t.Errorf("step %d: FailingSince = %v, want the first failure %v", i, w.FailingSince, start)
		}
		if got := !w.DisabledAt.IsZero(); got != s.disabled {
			t.Errorf("step %d: disabled = %v (%q), want %v", i, got, w.DisabledReason, s.disabled)
		}
		if s.disabled && (!strings.Contains(w.DisabledReason, "HTTP 503") || !strings.Contains(w.DisabledReason, "2026-12-01T08:00:00Z")) {
			t.Errorf("reason %q, want the first failure's time and the last answer", w.DisabledReason)
		}
	}
	pending := queued[0]
	n := len(queued)
	if err := svc.Emit(t.Context(), shopclip.EventTagProposed, []string{acc.ID}, nil); err != nil || len(queued) != n {
		t.Errorf("Emit to a disabled endpoint queued %d (%v), want none", len(queued)-n, err)
	}
	out, err := svc.Deliver(t.Context(), pending, false)
	if err != nil || out != webhooks.GiveUp {
		t.Errorf("Deliver of a disabled endpoint's delivery = %v, %v; want GiveUp", out, err)
	}
	if d, _ := db.Delivery(t.Context(), pending); d.Status != shopclip.DeliveryFailed {
		t.Errorf("its status %q, want failed", d.Status)
	}
	if got := len(rcv.received()); got != 4 {
		t.Errorf("receiver got %d requests, want 4 (none once disabled)", got)
	}
	if _, err := svc.Replay(t.Context(), acc.ID, e.ID, pending); shopclip.ErrorCode(err) != shopclip.ECONFLICT {
		t.Errorf("Replay on a disabled endpoint: %v, want conflict", err)
	}
	// Its owner fixed the receiver and enables it: replays go out again.
	other := account(t, db, shopclip.RoleBrand)
	if _, err := svc.Enable(t.Context(), other.ID, e.ID); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Errorf("another account's Enable: %v, want not found", err)
	}
	en, err := svc.Enable(t.Context(), acc.ID, e.ID)
	if err != nil || !en.DisabledAt.IsZero() || en.DisabledReason != "" || !en.FailingSince.IsZero() {
		t.Fatalf("Enable = %+v, %v; want enabled and healthy", en, err)
	}
	n = len(queued)
	if _, err := svc.Replay(t.Context(), acc.ID, e.ID, pending); err != nil || len(queued) != n+1 {
		t.Fatalf("Replay after Enable: %v", err)
	}
	if out, err := svc.Deliver(t.Context(), pending, false); out != webhooks.Delivered || err != nil {
		t.Errorf("Deliver after Enable: %v, %v; want delivered", out, err)
	}
}

// A destination the guard refuses is given up at once, and the last
// attempt of a failing one too.
func TestDeliveryGivesUp(t *testing.T) {
	db := openStore(t)
	acc := account(t, db, shopclip.RoleCreator)
	rcv := newReceiver(t, 500)
	var queued []string
	q := queueFunc(func(_ context.Context, id string, _ bool) error { queued = append(queued, id); return nil })
	open := webhooks.NewService(webhooks.Config{Store: db, Queue: q, Client: webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: true})})
	e, err := open.Create(t.Context(), acc.ID, rcv.srv.URL, []string{shopclip.EventClipReady})
	if err != nil {
		t.Fatal(err)
	}
	rcv.setSecret(e.Secret)
	if err := open.Emit(t.Context(), shopclip.EventClipReady, []string{acc.ID}, nil); err != nil {
		t.Fatal(err)
	}
	if out, err := open.Deliver(t.Context(), queued[0], true); out != webhooks.GiveUp || err != nil {
		t.Errorf("last attempt of a 500: %v, %v; want GiveUp", out, err)
	}
	guarded := webhooks.NewService(webhooks.Config{Store: db, Queue: q})
	if err := open.Emit(t.Context(), shopclip.EventClipReady, []string{acc.ID}, nil); err != nil {
		t.Fatal(err)
	}
	if out, err := guarded.Deliver(t.Context(), queued[1], false); out != webhooks.GiveUp || err != nil {
		t.Errorf("refused destination: %v, %v; want GiveUp", out, err)
	}
	as, _ := db.Attempts(t.Context(), queued[1])
	if len(as) != 1 || !strings.Contains(as[0].Error, "refused") {
		t.Errorf("attempts %+v, want one refused", as)
	}
	if got := len(rcv.received()); got != 1 {
		t.Errorf("receiver got %d requests, want 1", got)
	}
	if _, err := guarded.Create(t.Context(), acc.ID, "http://127.0.0.1:1/", []string{shopclip.EventClipReady}); shopclip.ErrorCode(err) != shopclip.EINVALID {
		t.Errorf("Create with a loopback URL: %v, want invalid", err)
	}
	if _, err := guarded.Create(t.Context(), acc.ID, "https://example.com/", []string{"clip.exploded"}); shopclip.ErrorCode(err) != shopclip.EINVALID {
		t.Errorf("Create with an unknown event: %v, want invalid", err)
	}
}

// A delivery recorded while the queue was down is queued by the next sweep;
// finished deliveries past the keep are deleted, pending ones kept.
func TestSweep(t *testing.T) {
	db := openStore(t)
	clk := &clock{now: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	db.SetNow(clk.Now)
	down := true
	var queued []string
	q := queueFunc(func(_ context.Context, id string, _ bool) error {
		if down {
			return shopclip.Errorf(shopclip.EUNAVAILABLE, "queue down")
		}
		queued = append(queued, id)
		return nil
	})
	svc := webhooks.NewService(webhooks.Config{Store: db, Queue: q, Now: clk.Now,
		Client: webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: true})})
	acc := account(t, db, shopclip.RoleCreator)
	rcv := newReceiver(t)
	e, err := svc.Create(t.Context(), acc.ID, rcv.srv.URL, []string{shopclip.EventClipReady})
	if err != nil {
		t.Fatal(err)
	}
	rcv.setSecret(e.Secret)
	if err := svc.Emit(t.Context(), shopclip.EventClipReady, []string{acc.ID}, nil); shopclip.ErrorCode(err) != shopclip.EUNAVAILABLE {
		t.Fatalf("Emit with the queue down: %v, want unavailable", err)
	}
	down = false
	if n, _, err := svc.Sweep(t.Context(), 0); err != nil || n != 0 {
		t.Errorf("sweep at once: queued %d (%v), want 0: the delivery may still be on its way", n, err)
	}
	clk.add(2 * time.Minute)
	if n, _, err := svc.Sweep(t.Context(), 0); err != nil || n != 1 || len(queued) != 1 {
		t.Fatalf("sweep: queued %d (%v), want the unsent delivery", n, err)
	}
	if out, err := svc.Deliver(t.Context(), queued[0], false); out != webhooks.Delivered || err != nil {
		t.Fatalf("deliver: %v, %v", out, err)
	}
	if n, _, _ := svc.Sweep(t.Context(), 0); n != 0 {
		t.Errorf("sweep after delivery queued %d, want 0", n)
	}
	// One more, left pending with a failed attempt: never pruned.
	if err := svc.Emit(t.Context(), shopclip.EventClipReady, []string{acc.ID}, nil); err != nil {
		t.Fatal(err)
	}
	pending := queued[len(queued)-1]
	if err := db.RecordAttempt(t.Context(), &shopclip.WebhookAttempt{DeliveryID: pending, Status: 500}, shopclip.DeliveryPending); err != nil {
		t.Fatal(err)
	}
	clk.add(webhooks.DefaultKeepDeliveries - time.Hour)
	if _, n, err := svc.Sweep(t.Context(), 0); err != nil || n != 0 {
		t.Errorf("sweep before the keep: deleted %d (%v), want 0", n, err)
	}
	clk.add(2 * time.Hour)
	if _, n, err := svc.Sweep(t.Context(), 0); err != nil || n != 1 {
		t.Errorf("sweep past the keep: deleted %d (%v), want 1", n, err)
	}
	if _, err := db.Delivery(t.Context(), queued[0]); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Errorf("the old delivered one: %v, want deleted", err)
	}
	if _, err := db.Delivery(t.Context(), pending); err != nil {
		t.Errorf("the pending one: %v, want kept", err)
	}
}
