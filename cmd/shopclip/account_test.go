package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
	"github.com/shopclip/shopclip/store"
)

// account runs `shopclip account ARGS… --data data` with stdin and returns
// its stdout, stderr and exit code.
func account(t *testing.T, data, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(append([]string{"account"}, args...), "--data", data)
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return strings.TrimSpace(out.String()), errb.String(), code
}

func TestAccountCommands(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	must := func(stdout, stderr string, code int) string {
		t.Helper()
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		return stdout
	}
	key := must(account(t, data, "a long enough password\n", "create", "--role", "creator", "--name", "Kim", "--email", "Kim@Example.com", "--password-stdin"))
	db, err := store.Open(ctx, filepath.Join(data, "shopclip.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := db.AccountByKeyHash(ctx, shopclip.HashAPIKey(key))
	if err != nil || a.Name != "Kim" {
		t.Fatalf("the printed key: %v %v", a, err)
	}
	h := &auth.Hasher{}
	checkPassword := func(password string) {
		t.Helper()
		l, err := db.LoginByEmail(ctx, "kim@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := h.Verify(ctx, l.PasswordHash, password); !ok || err != nil {
			t.Errorf("the password %q does not sign in: %v", password, err)
		}
	}
	checkPassword("a long enough password")

	// A new password (made up and printed) ends every session.
	now := time.Now()
	if err := db.CreateSession(ctx, &shopclip.Session{ID: shopclip.NewID(shopclip.PrefixSession), AccountID: a.ID, Hash: "h1", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	password := must(account(t, data, "", "reset-password", "--email", "kim@example.com"))
	checkPassword(password)
	if ss, _ := db.AccountSessions(ctx, a.ID, time.Now()); len(ss) != 0 {
		t.Errorf("%d sessions after a password reset", len(ss))
	}
	must(account(t, data, "another long password\n", "reset-password", "--id", a.ID, "--password-stdin"))
	checkPassword("another long password")
	if _, stderr, code := account(t, data, "short\n", "reset-password", "--id", a.ID, "--password-stdin"); code == 0 || !strings.Contains(stderr, "at least 10") {
		t.Errorf("a short password: exit %d %s", code, stderr)
	}

	// Disabled: the key stops working; enabled: it works again.
	must(account(t, data, "", "disable", "--email", "kim@example.com"))
	if _, err := db.AccountByKeyHash(ctx, shopclip.HashAPIKey(key)); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Errorf("the disabled account's key: %v", err)
	}
	must(account(t, data, "", "enable", "--id", a.ID))
	if _, err := db.AccountByKeyHash(ctx, shopclip.HashAPIKey(key)); err != nil {
		t.Errorf("the enabled account's key: %v", err)
	}

	// Keys: create, rotate (the old one revoked), revoke.
	k2 := must(account(t, data, "", "key", "create", "--id", a.ID, "--name", "laptop"))
	keys, _ := db.AccountAPIKeys(ctx, a.ID)
	var laptop *shopclip.APIKey
	for _, k := range keys {
		if k.Name == "laptop" {
			laptop = k
		}
	}
	if laptop == nil {
		t.Fatalf("no key named laptop in %+v", keys)
	}
	k3 := must(account(t, data, "", "key", "rotate", "--id", a.ID, "--key", laptop.ID))
	if _, err := db.AccountByKeyHash(ctx, shopclip.HashAPIKey(k2)); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Errorf("the rotated-out key still works: %v", err)
	}
	if _, err := db.AccountByKeyHash(ctx, shopclip.HashAPIKey(k3)); err != nil {
		t.Errorf("the rotated-in key: %v", err)
	}
	keys, _ = db.AccountAPIKeys(ctx, a.ID)
	for _, k := range keys {
		if k.RevokedAt == nil {
			must(account(t, data, "", "key", "revoke", "--id", a.ID, "--key", k.ID))
		}
	}
	for _, k := range []string{key, k3} {
		if _, err := db.AccountByKeyHash(ctx, shopclip.HashAPIKey(k)); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
			t.Errorf("a revoked key still works: %v", err)
		}
	}

	// An invitation.
	code := must(account(t, data, "", "invite", "--role", "brand", "--email", "Ivy@example.com"))
	inv, err := db.InviteByHash(ctx, shopclip.HashAPIKey(code), time.Now())
	if err != nil || inv.Role != shopclip.RoleBrand || inv.Email != "ivy@example.com" {
		t.Errorf("the invitation: %+v %v", inv, err)
	}

	// Mistakes get a clear word and a non-zero exit.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"reset-password", "--email", "nobody@example.com"}, "no account signs in with nobody@example.com"},
		{[]string{"disable"}, "name the account"},
		{[]string{"key", "revoke", "--id", a.ID, "--key", "key_aaaaaaaaaaaaaaaaaaaaaaaaaa"}, "has no API key"},
		{[]string{"invite", "--role", "viewer"}, "--role must be"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"create", "--role", "creator", "--name", "Dup", "--email", "kim@example.com", "--password-stdin"}, "exists"},
	} {
		_, stderr, code := account(t, data, "a long enough password\n", tt.args...)
		if code == 0 || !strings.Contains(stderr, tt.want) {
			t.Errorf("account %v: exit %d, stderr %q; want a failure saying %q", tt.args, code, stderr, tt.want)
		}
	}
}
