package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip/webhooks"
)

// verify is an independent reading of the Standard Webhooks spec: the
// signed content is "{msg_id}.{timestamp}.{payload}", the key the base64
// after "whsec_", the header space-separated "v1,<base64>" entries, any one
// of which may match.
func verify(secret, id, timestamp string, body []byte, header string) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", id, timestamp, body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(header) {
		version, b64, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no signature in %q matches", header)
}

// The spec's own example: secret, message and expected signature.
func TestSignSpecVector(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"test": 2432232314}`)
	got, err := webhooks.Sign([]string{secret}, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), body)
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func TestSignVerifies(t *testing.T) {
	oldS, newS, other := webhooks.NewSecret(), webhooks.NewSecret(), webhooks.NewSecret()
	ts := time.Unix(1764900000, 0)
	body := []byte(`{"type":"clip.ready","timestamp":"2025-12-05T00:00:00Z","data":{"clip_id":"clp_x"}}`)
	tests := []struct {
		name    string
		signers []string
		holder  string // the secret the receiver holds
		id, ts  string // what the receiver reads from the headers
		body    []byte
		ok      bool
	}{
		{"one secret", []string{newS}, newS, "msg_1", "1764900000", body, true},
		{"rotation, receiver holds the new", []string{newS, oldS}, newS, "msg_1", "1764900000", body, true},
		{"rotation, receiver holds the old", []string{newS, oldS}, oldS, "msg_1", "1764900000", body, true},
		{"another secret", []string{newS}, other, "msg_1", "1764900000", body, false},
		{"another id", []string{newS}, newS, "msg_2", "1764900000", body, false},
		{"another timestamp", []string{newS}, newS, "msg_1", "1764900001", body, false},
		{"another body", []string{newS}, newS, "msg_1", "1764900000", append([]byte(nil), body[:len(body)-1]...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, err := webhooks.Sign(tt.signers, "msg_1", ts, body)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(strings.Fields(header)); got != len(tt.signers) {
				t.Errorf("%d signatures in %q, want %d", got, header, len(tt.signers))
			}
			err = verify(tt.holder, tt.id, tt.ts, tt.body, header)
			if got := err == nil; got != tt.ok {
				t.Errorf("verified = %v (%v), want %v", got, err, tt.ok)
			}
		})
	}
}

func TestSignRefusesBadSecrets(t *testing.T) {
	for _, secrets := range [][]string{nil, {"abc"}, {"whsec_!!!"}, {"whsec_"}} {
		if _, err := webhooks.Sign(secrets, "m", time.Unix(1, 0), nil); err == nil {
			t.Errorf("Sign(%q) = nil error, want one", secrets)
		}
	}
}

func TestNewSecret(t *testing.T) {
	a, b := webhooks.NewSecret(), webhooks.NewSecret()
	if a == b {
		t.Errorf("two secrets are both %q", a)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if !strings.HasPrefix(a, "whsec_") || err != nil || len(key) < 24 || len(key) > 64 {
		t.Errorf("NewSecret = %q (key %d bytes, %v), want whsec_ and 24..64 bytes base64", a, len(key), err)
	}
}
