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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/configs"
	"github.com/shopclip/shopclip/internal/testenv"
)

// hookReceiver is a webhook receiver on 127.0.0.1 that checks every
// signature by the Standard Webhooks spec, its own way, and fails the first
// request with a 500.
type hookReceiver struct {
	t      *testing.T
	mu     sync.Mutex
	secret string
	got    []hookReceived
}

type hookReceived struct {
	ID, Type, ClipID, Code string
	Status                 int // what the receiver answered
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(h.secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), b)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !strings.Contains(" "+r.Header.Get("webhook-signature")+" ", " "+want+" ") {
		h.t.Errorf("receiver: signature %q does not verify (want %q)", r.Header.Get("webhook-signature"), want)
	}
	var body struct {
		Type string
		Data struct {
			ClipID string `json:"clip_id"`
			Code   string
		}
	}
	if err := json.Unmarshal(b, &body); err != nil {
		h.t.Errorf("receiver: body %s: %v", b, err)
	}
	status := http.StatusOK
	if len(h.got) == 0 {
		status = http.StatusInternalServerError
	}
	h.got = append(h.got, hookReceived{ID: r.Header.Get("webhook-id"), Type: body.Type, ClipID: body.Data.ClipID, Code: body.Data.Code, Status: status})
	w.WriteHeader(status)
}

func (h *hookReceiver) received() []hookReceived {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookReceived(nil), h.got...)
}

// An upload that becomes ready and one that fails reach a creator's webhook
// as clip.ready and clip.failed, signed; the first delivery, answered 500,
// comes again with the same webhook-id, and the API lists both attempts.
func TestWebhooksOfUploads(t *testing.T) {
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
	creator := cli(t, "account", "create", "--role", "creator", "--name", "alice", "--data", data)

	rcv := &hookReceiver{t: t}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	var hook struct{ ID, Secret string }
	api.json(creator, "POST", "/v1/webhooks", map[string]any{"url": srv.URL + "/in", "events": []string{"clip.ready", "clip.failed"}}, 201, &hook)
	rcv.mu.Lock()
	rcv.secret = hook.Secret
	rcv.mu.Unlock()

	good := api.upload(creator, testenv.Media(t, "h264_noaudio_480x270_koala.mp4"), "koala")
	bad := api.upload(creator, testenv.Media(t, "broken_moov_not_found_malformed_free_box.mp4"), "broken")
	api.waitClip(creator, good, 3*time.Minute)
	api.waitClip(creator, bad, 3*time.Minute)

	// Two events, the first answered 500 and retried 5 s later.
	waitFor(t, time.Minute, "three deliveries", func() bool { return len(rcv.received()) >= 3 })
	got := rcv.received()
	byType := map[string]hookReceived{}
	for _, g := range got[1:] {
		byType[g.Type] = g
	}
	if r := byType["clip.ready"]; r.ClipID != good {
		t.Errorf("clip.ready of %q, want %s (got %+v)", r.ClipID, good, got)
	}
	if r := byType["clip.failed"]; r.ClipID != bad || r.Code != shopclip.EMEDIAUNREADABLE {
		t.Errorf("clip.failed %+v, want %s with %s (got %+v)", r, bad, shopclip.EMEDIAUNREADABLE, got)
	}
	first := got[0]
	retried := false
	for _, g := range got[1:] {
		retried = retried || g.ID == first.ID && g.Type == first.Type
	}
	if first.Status != 500 || !retried || len(got) != 3 {
		t.Errorf("received %+v, want the first (answered 500) once more with its webhook-id, three in all", got)
	}

	var dl struct {
		Deliveries []struct {
			ID, Status string
			Attempts   []struct{ Status int }
		}
	}
	waitFor(t, 10*time.Second, "both deliveries recorded as delivered", func() bool {
		api.json(creator, "GET", "/v1/webhooks/"+hook.ID+"/deliveries", nil, 200, &dl)
		n := 0
		for _, d := range dl.Deliveries {
			if d.Status == "delivered" {
				n++
			}
		}
		return n == 2
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
		if fmt.Sprint(statuses) != fmt.Sprint(want) {
			t.Errorf("delivery %s attempts %v, want %v", d.ID, statuses, want)
		}
	}
}
