package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
)

func TestPasswordHash(t *testing.T) {
	ctx := context.Background()
	var h auth.Hasher
	enc, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q: not argon2id with OWASP's costs", enc)
	}
	again, _ := h.Hash(ctx, "correct horse battery")
	if again == enc {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, tt := range []struct {
		password string
		ok       bool
	}{{"correct horse battery", true}, {"correct horse batterY", false}, {"", false}, {"correct horse battery ", false}} {
		ok, err := h.Verify(ctx, enc, tt.password)
		if err != nil || ok != tt.ok {
			t.Errorf("Verify(%q) = %v, %v; want %v", tt.password, ok, err, tt.ok)
		}
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=19456,t=2,p=1$!!$aGFzaA"} {
		if ok, err := h.Verify(ctx, bad, "x"); err == nil || ok {
			t.Errorf("Verify with the hash %q = %v, %v; want an error", bad, ok, err)
		}
	}
	cheap := auth.Hasher{Params: auth.Params{Memory: 64, Time: 1, Threads: 1}}
	old, _ := cheap.Hash(ctx, "correct horse battery")
	if ok, err := h.Verify(ctx, old, "correct horse battery"); !ok || err != nil {
		t.Errorf("a hash with other costs does not verify: %v %v", ok, err)
	}
	if !h.NeedsRehash(old) || h.NeedsRehash(enc) {
		t.Errorf("NeedsRehash: old %v, current %v", h.NeedsRehash(old), h.NeedsRehash(enc))
	}
}

func TestValidatePassword(t *testing.T) {
	for _, tt := range []struct {
		pw string
		ok bool
	}{
		{"short", false}, {"ninechars", false}, {"tenchars!!", true}, {"十个字的密码很安全的吧", true},
		{strings.Repeat("a", auth.MaxPasswordLen), true}, {strings.Repeat("a", auth.MaxPasswordLen+1), false}, {"bad\xffutf8-utf8", false},
	} {
		err := auth.ValidatePassword(tt.pw)
		if (err == nil) != tt.ok {
			t.Errorf("ValidatePassword(%q) = %v, want ok %v", tt.pw, err, tt.ok)
		} else if err != nil && shopclip.ErrorCode(err) != shopclip.EINVALID {
			t.Errorf("ValidatePassword(%q) code %q", tt.pw, shopclip.ErrorCode(err))
		}
	}
}
