package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
)

// RunIdentity runs the conformance suite of shopclip.Identity as subtests of
// t. open must return a new, empty store for the subtest it is given,
// implementing Clocked, and the Identity over that store's data (for
// *store.DB, the same value twice), and close them when that subtest ends
// (t.Cleanup). The suite makes accounts and keys through shopclip.Store and
// the rest through Identity. Subtests run in parallel.
//
// The suite checks round-trips of every field (times in UTC, to the
// microsecond), the error codes of the contract, that a sign-up is one
// transaction (an invitation is used once, also by concurrent sign-ups, and
// a failed sign-up records nothing), session liveness at its exact
// boundaries, that a disabled account signs in with neither sessions nor
// keys, and that nothing of one account can be listed, ended or revoked
// through another.
func RunIdentity(t *testing.T, open func(t *testing.T) (shopclip.Store, shopclip.Identity)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *identityEnv)
	}{
		{"AccountLoginRoundTrip", testAccountLoginRoundTrip},
		{"AccountLoginErrors", testAccountLoginErrors},
		{"SetLogin", testSetLogin},
		{"Invites", testInvites},
		{"SignUpWithInvite", testSignUpWithInvite},
		{"InviteSingleUseConcurrent", testInviteConcurrent},
		{"Sessions", testSessions},
		{"SessionLiveness", testSessionLiveness},
		{"TouchSession", testTouchSession},
		{"AccountSessions", testAccountSessions},
		{"DeleteSessions", testDeleteSessions},
		{"DisableAccount", testDisableAccount},
		{"AccountAPIKeys", testAccountAPIKeys},
		{"RevokeAPIKey", testRevokeAPIKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, id := open(t)
			tt.fn(t, &identityEnv{env: newEnv(t, s), id: id})
		})
	}
}

// identityEnv is env with the Identity under test.
type identityEnv struct {
	*env
	id shopclip.Identity
}

// passwordHash is a PHC string like the ones package auth stores.
const passwordHash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"

// now is the time the suite passes as "now" to Identity: the store's clock
// reading, which is independent of it.
func (e *identityEnv) now() time.Time { return e.clock.Peek() }

// signUp makes an account of role with a password login for email.
func (e *identityEnv) signUp(t *testing.T, role shopclip.Role, email string) (*shopclip.Account, *shopclip.Login) {
	t.Helper()
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "user " + email, Role: role}
	l := &shopclip.Login{Email: email, PasswordHash: passwordHash}
	ok(t, "sign up "+email, e.id.CreateAccountLogin(e.ctx, a, l, "", e.now()))
	return a, l
}

// session starts a session of an account, signed in at created.
func (e *identityEnv) session(t *testing.T, accountID string, created time.Time) *shopclip.Session {
	t.Helper()
	_, hash := shopclip.NewToken(shopclip.SessionTokenPrefix)
	s := &shopclip.Session{
		ID: shopclip.NewID(shopclip.PrefixSession), AccountID: accountID, Hash: hash,
		CreatedAt: created, LastSeenAt: created, ExpiresAt: created.Add(shopclip.SessionLifetime),
		UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)", IP: "203.0.113.7",
	}
	ok(t, "create session", e.id.CreateSession(e.ctx, s))
	return s
}

// invite makes an invitation for role (and email, when not empty) expiring
// at expires; it returns the invitation and its hash.
func (e *identityEnv) invite(t *testing.T, role shopclip.Role, email string, expires time.Time) *shopclip.Invite {
	t.Helper()
	_, hash := shopclip.NewToken(shopclip.InviteTokenPrefix)
	inv := &shopclip.Invite{ID: shopclip.NewID(shopclip.PrefixInvite), Hash: hash, Role: role, Email: email, ExpiresAt: expires}
	ok(t, "create invite", e.id.CreateInvite(e.ctx, inv))
	return inv
}

// key makes an API key of an account named name.
func (e *identityEnv) key(t *testing.T, accountID, name string) *shopclip.APIKey {
	t.Helper()
	_, hash := shopclip.NewToken("sck_")
	k := &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: accountID, Name: name, Hash: hash}
	ok(t, "create key", e.s.CreateAPIKey(e.ctx, k))
	return k
}

// noAccount fails t unless account id does not exist.
func (e *identityEnv) noAccount(t *testing.T, what, id string) {
	t.Helper()
	_, err := e.s.Account(e.ctx, id)
	if shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Errorf("%s: account %s exists (err %v); want it not recorded", what, id, err)
	}
}

// emailFree fails t unless no login has email.
func (e *identityEnv) emailFree(t *testing.T, what, email string) {
	t.Helper()
	if l, err := e.id.LoginByEmail(e.ctx, email); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Errorf("%s: login by %s = %+v, %v; want ENOTFOUND", what, email, l, err)
	}
}

// live reports whether a session with hash authenticates at now, checking
// that the store and Session.Live agree.
func (e *identityEnv) live(t *testing.T, hash string, now time.Time) bool {
	t.Helper()
	s, a, err := e.id.SessionByHash(e.ctx, hash, now)
	switch shopclip.ErrorCode(err) {
	case "":
		if !s.Live(now) {
			t.Errorf("SessionByHash at %v returned a session that is not Live then: %+v", now, s)
		}
		if a == nil || a.ID != s.AccountID {
			t.Errorf("SessionByHash returned account %+v for session of %s", a, s.AccountID)
		}
		return true
	case shopclip.ENOTFOUND:
		return false
	}
	t.Fatalf("session by hash: %v", err)
	return false
}

func sessionIDs(ss []*shopclip.Session) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}

func keyIDs(ks []*shopclip.APIKey) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.ID
	}
	return out
}

// ---- accounts and logins ----------------------------------------------------

func testAccountLoginRoundTrip(t *testing.T, e *identityEnv) {
	at := Start.Add(3 * time.Hour)
	e.freeze(at)
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "小红书 Brand 🎬", Role: shopclip.RoleBrand}
	l := &shopclip.Login{Email: "  Mei.Ling+shop@Example.COM ", PasswordHash: passwordHash}
	ok(t, "create account login", e.id.CreateAccountLogin(e.ctx, a, l, "", Start))
	wantA := &shopclip.Account{ID: a.ID, Name: a.Name, Role: shopclip.RoleBrand, CreatedAt: stored(at)}
	wantL := &shopclip.Login{AccountID: a.ID, Email: "mei.ling+shop@example.com", PasswordHash: passwordHash, UpdatedAt: stored(at)}
	same(t, "created account", a, wantA)
	same(t, "created login", l, wantL)
	e.tick()

	got, err := e.s.Account(e.ctx, a.ID)
	ok(t, "account", err)
	same(t, "account", got, wantA)
	for _, email := range []string{"mei.ling+shop@example.com", "MEI.LING+SHOP@EXAMPLE.COM", " mei.ling+shop@example.com"} {
		gl, err := e.id.LoginByEmail(e.ctx, email)
		ok(t, "login by email "+email, err)
		same(t, "login by email "+email, gl, wantL)
	}
	gl, err := e.id.LoginOf(e.ctx, a.ID)
	ok(t, "login of", err)
	same(t, "login of", gl, wantL)

	// A login of l.AccountID already set to the account is accepted.
	b := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "b", Role: shopclip.RoleAdmin}
	ok(t, "create with login account ID set", e.id.CreateAccountLogin(e.ctx, b,
		&shopclip.Login{AccountID: b.ID, Email: "b@example.com", PasswordHash: passwordHash}, "", Start))

	// An account made without a login has none.
	bare := e.account(t, shopclip.RoleCreator, "cli account")
	_, err = e.id.LoginOf(e.ctx, bare.ID)
	wantCode(t, "login of account without one", err, shopclip.ENOTFOUND)
	_, err = e.id.LoginOf(e.ctx, shopclip.NewID(shopclip.PrefixAccount))
	wantCode(t, "login of unknown account", err, shopclip.ENOTFOUND)
	for _, email := range []string{"nobody@example.com", "not an email", ""} {
		_, err = e.id.LoginByEmail(e.ctx, email)
		wantCode(t, fmt.Sprintf("login by email %q", email), err, shopclip.ENOTFOUND)
	}
}

func testAccountLoginErrors(t *testing.T, e *identityEnv) {
	taken, _ := e.signUp(t, shopclip.RoleCreator, "taken@example.com")
	newAccount := func() *shopclip.Account {
		return &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "new", Role: shopclip.RoleCreator}
	}
	tests := []struct {
		name    string
		account *shopclip.Account
		login   shopclip.Login
		want    string
	}{
		{"taken email", newAccount(), shopclip.Login{Email: "taken@example.com", PasswordHash: passwordHash}, shopclip.ECONFLICT},
		{"taken email in other case", newAccount(), shopclip.Login{Email: "Taken@Example.com", PasswordHash: passwordHash}, shopclip.ECONFLICT},
		{"taken account ID", &shopclip.Account{ID: taken.ID, Name: "again", Role: shopclip.RoleBrand},
			shopclip.Login{Email: "again@example.com", PasswordHash: passwordHash}, shopclip.ECONFLICT},
		{"no account ID", &shopclip.Account{Name: "x", Role: shopclip.RoleCreator}, shopclip.Login{Email: "x1@example.com", PasswordHash: passwordHash}, shopclip.EINVALID},
		{"unknown role", &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "x", Role: "root"},
			shopclip.Login{Email: "x2@example.com", PasswordHash: passwordHash}, shopclip.EINVALID},
		{"no name", &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Role: shopclip.RoleCreator},
			shopclip.Login{Email: "x3@example.com", PasswordHash: passwordHash}, shopclip.EINVALID},
		{"no email", newAccount(), shopclip.Login{PasswordHash: passwordHash}, shopclip.EINVALID},
		{"not an email", newAccount(), shopclip.Login{Email: "x4 at example.com", PasswordHash: passwordHash}, shopclip.EINVALID},
		{"no password hash", newAccount(), shopclip.Login{Email: "x5@example.com"}, shopclip.EINVALID},
		{"login of another account", newAccount(), shopclip.Login{AccountID: taken.ID, Email: "x6@example.com", PasswordHash: passwordHash}, shopclip.EINVALID},
	}
	for _, tt := range tests {
		l := tt.login
		err := e.id.CreateAccountLogin(e.ctx, tt.account, &l, "", e.now())
		wantCode(t, tt.name, err, tt.want)
		if tt.account.ID != "" && tt.account.ID != taken.ID {
			e.noAccount(t, tt.name, tt.account.ID)
		}
		if email, err := shopclip.NormalizeEmail(tt.login.Email); err == nil && email != "taken@example.com" {
			e.emailFree(t, tt.name, email)
		}
	}
	// The taken account is as it was.
	got, err := e.s.Account(e.ctx, taken.ID)
	ok(t, "taken account", err)
	same(t, "taken account after refused sign-ups", got, taken)
	gl, err := e.id.LoginByEmail(e.ctx, "taken@example.com")
	ok(t, "taken login", err)
	if gl.AccountID != taken.ID {
		t.Errorf("taken@example.com belongs to %s, want %s", gl.AccountID, taken.ID)
	}
}

func testSetLogin(t *testing.T, e *identityEnv) {
	a := e.account(t, shopclip.RoleCreator, "cli account")
	other, _ := e.signUp(t, shopclip.RoleBrand, "other@example.com")

	// Creating the login of an account that has none.
	at := Start.Add(time.Hour)
	e.freeze(at)
	l := &shopclip.Login{AccountID: a.ID, Email: "First@Example.com", PasswordHash: passwordHash}
	ok(t, "set login", e.id.SetLogin(e.ctx, l))
	want := &shopclip.Login{AccountID: a.ID, Email: "first@example.com", PasswordHash: passwordHash, UpdatedAt: stored(at)}
	same(t, "set login", l, want)
	got, err := e.id.LoginOf(e.ctx, a.ID)
	ok(t, "login of", err)
	same(t, "login after set", got, want)

	// Replacing it: the old email is free again.
	at = Start.Add(2 * time.Hour)
	e.freeze(at)
	l = &shopclip.Login{AccountID: a.ID, Email: "second@example.com", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$bmV3$bmV3"}
	ok(t, "replace login", e.id.SetLogin(e.ctx, l))
	want = &shopclip.Login{AccountID: a.ID, Email: "second@example.com", PasswordHash: l.PasswordHash, UpdatedAt: stored(at)}
	got, err = e.id.LoginByEmail(e.ctx, "second@example.com")
	ok(t, "login by new email", err)
	same(t, "replaced login", got, want)
	e.emailFree(t, "after the email changed", "first@example.com")
	// Keeping one's own email is no conflict.
	ok(t, "set same email", e.id.SetLogin(e.ctx, &shopclip.Login{AccountID: a.ID, Email: "Second@example.com", PasswordHash: passwordHash}))
	e.tick()

	tests := []struct {
		name  string
		login shopclip.Login
		want  string
	}{
		{"email of another account", shopclip.Login{AccountID: a.ID, Email: "other@example.com", PasswordHash: passwordHash}, shopclip.ECONFLICT},
		{"email of another account in other case", shopclip.Login{AccountID: a.ID, Email: "OTHER@example.com", PasswordHash: passwordHash}, shopclip.ECONFLICT},
		{"unknown account", shopclip.Login{AccountID: shopclip.NewID(shopclip.PrefixAccount), Email: "ghost@example.com", PasswordHash: passwordHash}, shopclip.ENOTFOUND},
		{"no account", shopclip.Login{Email: "ghost@example.com", PasswordHash: passwordHash}, shopclip.EINVALID},
		{"not an email", shopclip.Login{AccountID: a.ID, Email: "nope", PasswordHash: passwordHash}, shopclip.EINVALID},
		{"no password hash", shopclip.Login{AccountID: a.ID, Email: "third@example.com"}, shopclip.EINVALID},
	}
	for _, tt := range tests {
		l := tt.login
		wantCode(t, tt.name, e.id.SetLogin(e.ctx, &l), tt.want)
	}
	e.emailFree(t, "after refused changes", "ghost@example.com")
	e.emailFree(t, "after refused changes", "third@example.com")
	got, err = e.id.LoginOf(e.ctx, a.ID)
	ok(t, "login of", err)
	if got.Email != "second@example.com" || got.PasswordHash != passwordHash {
		t.Errorf("login after refused changes = %+v, want second@example.com with the first hash", got)
	}
	got, err = e.id.LoginOf(e.ctx, other.ID)
	ok(t, "login of other", err)
	if got.Email != "other@example.com" {
		t.Errorf("other account's email = %q, want other@example.com", got.Email)
	}
}

// ---- invitations ---------------------------------------------------------------

func testInvites(t *testing.T, e *identityEnv) {
	at := Start.Add(time.Hour)
	e.freeze(at)
	expires := Start.Add(time.Hour + shopclip.InviteLifetime + 789*time.Nanosecond)
	_, hash := shopclip.NewToken(shopclip.InviteTokenPrefix)
	inv := &shopclip.Invite{ID: shopclip.NewID(shopclip.PrefixInvite), Hash: hash, Role: shopclip.RoleBrand,
		Email: " Buyer@Brand.Example ", ExpiresAt: expires}
	ok(t, "create invite", e.id.CreateInvite(e.ctx, inv))
	want := &shopclip.Invite{ID: inv.ID, Hash: hash, Role: shopclip.RoleBrand, Email: "buyer@brand.example",
		CreatedAt: stored(at), ExpiresAt: stored(expires)}
	same(t, "created invite", inv, want)
	e.tick()

	end := stored(expires)
	for _, tt := range []struct {
		name string
		now  time.Time
		want string
	}{
		{"at creation", at, ""},
		{"just before it expires", end.Add(-time.Microsecond), ""},
		{"when it expires", end, shopclip.ENOTFOUND},
		{"after it expired", end.Add(time.Hour), shopclip.ENOTFOUND},
	} {
		got, err := e.id.InviteByHash(e.ctx, hash, tt.now)
		wantCode(t, "invite by hash "+tt.name, err, tt.want)
		if tt.want == "" {
			same(t, "invite by hash "+tt.name, got, want)
		}
	}
	_, err := e.id.InviteByHash(e.ctx, strings.Repeat("ab", 32), at)
	wantCode(t, "unknown invite", err, shopclip.ENOTFOUND)

	// Defaults: no email admits any; no expiry is InviteLifetime.
	e.freeze(at)
	open := &shopclip.Invite{ID: shopclip.NewID(shopclip.PrefixInvite), Hash: strings.Repeat("cd", 32), Role: shopclip.RoleAdmin}
	ok(t, "create open invite", e.id.CreateInvite(e.ctx, open))
	wantOpen := &shopclip.Invite{ID: open.ID, Hash: open.Hash, Role: shopclip.RoleAdmin, CreatedAt: stored(at),
		ExpiresAt: stored(at).Add(shopclip.InviteLifetime)}
	same(t, "created open invite", open, wantOpen)
	got, err := e.id.InviteByHash(e.ctx, open.Hash, at)
	ok(t, "open invite by hash", err)
	same(t, "open invite by hash", got, wantOpen)
	e.tick()

	// A used one is recorded as such, and found no more.
	used := Start
	u := &shopclip.Invite{ID: shopclip.NewID(shopclip.PrefixInvite), Hash: strings.Repeat("ef", 32), Role: shopclip.RoleCreator,
		ExpiresAt: Start.Add(shopclip.InviteLifetime), UsedAt: &used}
	ok(t, "create used invite", e.id.CreateInvite(e.ctx, u))
	if u.UsedAt == nil || !u.UsedAt.Equal(stored(used)) {
		t.Errorf("used invite UsedAt = %v, want %v", u.UsedAt, stored(used))
	}
	_, err = e.id.InviteByHash(e.ctx, u.Hash, Start.Add(-time.Hour))
	wantCode(t, "used invite by hash", err, shopclip.ENOTFOUND)

	for _, tt := range []struct {
		name string
		inv  shopclip.Invite
		want string
	}{
		{"duplicate hash", shopclip.Invite{ID: shopclip.NewID(shopclip.PrefixInvite), Hash: hash, Role: shopclip.RoleBrand}, shopclip.ECONFLICT},
		{"duplicate ID", shopclip.Invite{ID: inv.ID, Hash: strings.Repeat("01", 32), Role: shopclip.RoleBrand}, shopclip.ECONFLICT},
		{"no ID", shopclip.Invite{Hash: strings.Repeat("02", 32), Role: shopclip.RoleBrand}, shopclip.EINVALID},
		{"no hash", shopclip.Invite{ID: shopclip.NewID(shopclip.PrefixInvite), Role: shopclip.RoleBrand}, shopclip.EINVALID},
		{"no role", shopclip.Invite{ID: shopclip.NewID(shopclip.PrefixInvite), Hash: strings.Repeat("03", 32)}, shopclip.EINVALID},
		{"unknown role", shopclip.Invite{ID: shopclip.NewID(shopclip.PrefixInvite), Hash: strings.Repeat("04", 32), Role: "root"}, shopclip.EINVALID},
		{"bad email", shopclip.Invite{ID: shopclip.NewID(shopclip.PrefixInvite), Hash: strings.Repeat("05", 32), Role: shopclip.RoleBrand, Email: "brand"}, shopclip.EINVALID},
	} {
		wantCode(t, tt.name, e.id.CreateInvite(e.ctx, &tt.inv), tt.want)
	}
}

func testSignUpWithInvite(t *testing.T, e *identityEnv) {
	now := Start.Add(time.Hour)
	signUp := func(inv *shopclip.Invite, role shopclip.Role, email string, at time.Time) (*shopclip.Account, error) {
		a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "invited " + email, Role: role}
		return a, e.id.CreateAccountLogin(e.ctx, a, &shopclip.Login{Email: email, PasswordHash: passwordHash}, inv.Hash, at)
	}
	e.signUp(t, shopclip.RoleCreator, "taken@example.com")

	inv := e.invite(t, shopclip.RoleBrand, "", now.Add(time.Hour))
	// Sign-ups that fail leave the invitation unused.
	for _, tt := range []struct {
		name, email string
		role        shopclip.Role
		want        string
	}{
		{"taken email", "taken@example.com", shopclip.RoleBrand, shopclip.ECONFLICT},
		{"another role than the invitation's", "brand@example.com", shopclip.RoleAdmin, shopclip.EINVALID},
		{"not an email", "brand", shopclip.RoleBrand, shopclip.EINVALID},
	} {
		a, err := signUp(inv, tt.role, tt.email, now)
		wantCode(t, tt.name, err, tt.want)
		e.noAccount(t, tt.name, a.ID)
		if _, err := e.id.InviteByHash(e.ctx, inv.Hash, now); err != nil {
			t.Errorf("after the sign-up refused for %s the invitation is gone: %v", tt.name, err)
		}
	}

	// The sign-up that uses it.
	a, err := signUp(inv, shopclip.RoleBrand, "brand@example.com", now)
	ok(t, "sign up with invite", err)
	if got, err := e.s.Account(e.ctx, a.ID); err != nil || got.Role != shopclip.RoleBrand {
		t.Errorf("invited account = %+v, %v", got, err)
	}
	_, err = e.id.InviteByHash(e.ctx, inv.Hash, now)
	wantCode(t, "used invite by hash", err, shopclip.ENOTFOUND)

	// A used, expired or unknown invitation records nothing.
	expired := e.invite(t, shopclip.RoleCreator, "", now)
	unknown := &shopclip.Invite{Hash: strings.Repeat("77", 32), Role: shopclip.RoleCreator}
	for _, tt := range []struct {
		name string
		inv  *shopclip.Invite
		at   time.Time
	}{
		{"used invite", inv, now},
		{"invite when it expires", expired, now},
		{"invite after it expired", expired, now.Add(time.Second)},
		{"unknown invite", unknown, now},
	} {
		email := strings.ReplaceAll(tt.name, " ", "-") + "@example.com"
		a, err := signUp(tt.inv, tt.inv.Role, email, tt.at)
		wantCode(t, "sign up with "+tt.name, err, shopclip.ENOTFOUND)
		e.noAccount(t, "sign up with "+tt.name, a.ID)
		e.emailFree(t, "sign up with "+tt.name, email)
	}
	// Just before it expires it is usable.
	_, err = signUp(expired, shopclip.RoleCreator, "late@example.com", now.Add(-time.Microsecond))
	ok(t, "sign up just before the invite expires", err)

	// An invitation naming an email admits that email only, in any case.
	named := e.invite(t, shopclip.RoleCreator, "Named@Example.com", now.Add(time.Hour))
	a, err = signUp(named, shopclip.RoleCreator, "someone.else@example.com", now)
	wantCode(t, "sign up with another email", err, shopclip.EINVALID)
	e.noAccount(t, "sign up with another email", a.ID)
	_, err = signUp(named, shopclip.RoleCreator, "NAMED@example.com", now)
	ok(t, "sign up with the named email", err)
	if l, err := e.id.LoginByEmail(e.ctx, "named@example.com"); err != nil || l.Email != "named@example.com" {
		t.Errorf("login of the named email = %+v, %v", l, err)
	}
}

func testInviteConcurrent(t *testing.T, e *identityEnv) {
	now := Start.Add(time.Hour)
	inv := e.invite(t, shopclip.RoleCreator, "", now.Add(time.Hour))
	const n = 8
	accounts := make([]*shopclip.Account, n)
	errs := make([]error, n)
	start := make(chan struct{}) // the sign-ups start together
	var wg sync.WaitGroup
	for i := range n {
		accounts[i] = &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: fmt.Sprint("racer ", i), Role: shopclip.RoleCreator}
		l := &shopclip.Login{Email: fmt.Sprintf("racer%d@example.com", i), PasswordHash: passwordHash}
		wg.Go(func() {
			<-start
			errs[i] = e.id.CreateAccountLogin(e.ctx, accounts[i], l, inv.Hash, now)
		})
	}
	close(start)
	wg.Wait()
	winners := 0
	for i, err := range errs {
		switch shopclip.ErrorCode(err) {
		case "":
			winners++
			if _, err := e.s.Account(e.ctx, accounts[i].ID); err != nil {
				t.Errorf("winner %d has no account: %v", i, err)
			}
		case shopclip.ENOTFOUND:
			e.noAccount(t, fmt.Sprint("loser ", i), accounts[i].ID)
			e.emailFree(t, fmt.Sprint("loser ", i), fmt.Sprintf("racer%d@example.com", i))
		default:
			t.Errorf("sign-up %d: %v, want success or ENOTFOUND", i, err)
		}
	}
	if winners != 1 {
		t.Errorf("%d of %d concurrent sign-ups used one invitation, want exactly 1", winners, n)
	}
	_, err := e.id.InviteByHash(e.ctx, inv.Hash, now)
	wantCode(t, "invite after the race", err, shopclip.ENOTFOUND)
}

// ---- sessions --------------------------------------------------------------------

func testSessions(t *testing.T, e *identityEnv) {
	a, _ := e.signUp(t, shopclip.RoleCreator, "mei@example.com")
	created := Start.Add(90 * time.Minute) // CST, with nanoseconds
	seen := created.Add(10*time.Minute + 555*time.Nanosecond)
	expires := created.Add(shopclip.SessionLifetime)
	_, hash := shopclip.NewToken(shopclip.SessionTokenPrefix)
	s := &shopclip.Session{ID: shopclip.NewID(shopclip.PrefixSession), AccountID: a.ID, Hash: hash,
		CreatedAt: created, LastSeenAt: seen, ExpiresAt: expires,
		UserAgent: "Mozilla/5.0 (Linux; Android 15) 小红书/8.0 🎬", IP: "2001:db8::1"}
	ok(t, "create session", e.id.CreateSession(e.ctx, s))
	want := &shopclip.Session{ID: s.ID, AccountID: a.ID, Hash: hash, CreatedAt: stored(created), LastSeenAt: stored(seen),
		ExpiresAt: stored(expires), UserAgent: s.UserAgent, IP: "2001:db8::1"}
	same(t, "created session", s, want)

	gs, ga, err := e.id.SessionByHash(e.ctx, hash, seen.Add(time.Minute))
	ok(t, "session by hash", err)
	same(t, "session by hash", gs, want)
	same(t, "account of session", ga, a)
	ss, err := e.id.AccountSessions(e.ctx, a.ID, seen.Add(time.Minute))
	ok(t, "account sessions", err)
	same(t, "account sessions", ss, []*shopclip.Session{want})
	_, _, err = e.id.SessionByHash(e.ctx, strings.Repeat("00", 32), seen)
	wantCode(t, "unknown session", err, shopclip.ENOTFOUND)

	// Empty optional fields stay empty.
	bare := &shopclip.Session{ID: shopclip.NewID(shopclip.PrefixSession), AccountID: a.ID, Hash: strings.Repeat("b0", 32),
		CreatedAt: created, LastSeenAt: created, ExpiresAt: expires}
	ok(t, "create bare session", e.id.CreateSession(e.ctx, bare))
	gs, _, err = e.id.SessionByHash(e.ctx, bare.Hash, created)
	ok(t, "bare session by hash", err)
	same(t, "bare session", gs, &shopclip.Session{ID: bare.ID, AccountID: a.ID, Hash: bare.Hash,
		CreatedAt: stored(created), LastSeenAt: stored(created), ExpiresAt: stored(expires)})

	for _, tt := range []struct {
		name string
		s    shopclip.Session
		want string
	}{
		{"duplicate hash", shopclip.Session{ID: shopclip.NewID(shopclip.PrefixSession), AccountID: a.ID, Hash: hash, CreatedAt: created, LastSeenAt: created, ExpiresAt: expires}, shopclip.ECONFLICT},
		{"duplicate ID", shopclip.Session{ID: s.ID, AccountID: a.ID, Hash: strings.Repeat("b1", 32), CreatedAt: created, LastSeenAt: created, ExpiresAt: expires}, shopclip.ECONFLICT},
		{"unknown account", shopclip.Session{ID: shopclip.NewID(shopclip.PrefixSession), AccountID: shopclip.NewID(shopclip.PrefixAccount), Hash: strings.Repeat("b2", 32), CreatedAt: created, LastSeenAt: created, ExpiresAt: expires}, shopclip.ENOTFOUND},
		{"no ID", shopclip.Session{AccountID: a.ID, Hash: strings.Repeat("b3", 32), CreatedAt: created, LastSeenAt: created, ExpiresAt: expires}, shopclip.EINVALID},
		{"no account", shopclip.Session{ID: shopclip.NewID(shopclip.PrefixSession), Hash: strings.Repeat("b4", 32), CreatedAt: created, LastSeenAt: created, ExpiresAt: expires}, shopclip.EINVALID},
		{"no hash", shopclip.Session{ID: shopclip.NewID(shopclip.PrefixSession), AccountID: a.ID, CreatedAt: created, LastSeenAt: created, ExpiresAt: expires}, shopclip.EINVALID},
	} {
		wantCode(t, tt.name, e.id.CreateSession(e.ctx, &tt.s), tt.want)
	}
	ss, err = e.id.AccountSessions(e.ctx, a.ID, created)
	ok(t, "account sessions", err)
	if len(ss) != 2 {
		t.Errorf("account has %d sessions after refused ones, want 2", len(ss))
	}
}

func testSessionLiveness(t *testing.T, e *identityEnv) {
	a, _ := e.signUp(t, shopclip.RoleCreator, "mei@example.com")
	created := stored(Start)
	tests := []struct {
		name     string
		lastSeen time.Duration // after created
		expires  time.Duration // after created
		now      time.Duration // after created
		live     bool
	}{
		{"just signed in", 0, shopclip.SessionLifetime, 0, true},
		{"a microsecond before it expires", shopclip.SessionLifetime - time.Hour, shopclip.SessionLifetime, shopclip.SessionLifetime - time.Microsecond, true},
		{"when it expires", shopclip.SessionLifetime - time.Hour, shopclip.SessionLifetime, shopclip.SessionLifetime, false},
		{"after it expired", shopclip.SessionLifetime - time.Hour, shopclip.SessionLifetime, shopclip.SessionLifetime + time.Hour, false},
		{"a microsecond before it idles out", time.Hour, shopclip.SessionLifetime, time.Hour + shopclip.SessionIdle - time.Microsecond, true},
		{"when it idles out", time.Hour, shopclip.SessionLifetime, time.Hour + shopclip.SessionIdle, false},
		{"after it idled out", 0, shopclip.SessionLifetime, shopclip.SessionIdle + time.Hour, false},
		{"expiry before idling", 0, time.Hour, time.Hour, false},
	}
	for _, tt := range tests {
		_, hash := shopclip.NewToken(shopclip.SessionTokenPrefix)
		s := &shopclip.Session{ID: shopclip.NewID(shopclip.PrefixSession), AccountID: a.ID, Hash: hash,
			CreatedAt: created, LastSeenAt: created.Add(tt.lastSeen), ExpiresAt: created.Add(tt.expires)}
		ok(t, "create session", e.id.CreateSession(e.ctx, s))
		now := created.Add(tt.now)
		if got := s.Live(now); got != tt.live {
			t.Fatalf("%s: the test is wrong: Session.Live = %v, want %v", tt.name, got, tt.live)
		}
		if got := e.live(t, hash, now); got != tt.live {
			t.Errorf("%s: SessionByHash finds it: %v, want %v", tt.name, got, tt.live)
		}
		ss, err := e.id.AccountSessions(e.ctx, a.ID, now)
		ok(t, "account sessions", err)
		if got := slices.Contains(sessionIDs(ss), s.ID); got != tt.live {
			t.Errorf("%s: AccountSessions lists it: %v, want %v", tt.name, got, tt.live)
		}
		ok(t, "delete session", e.id.DeleteSession(e.ctx, a.ID, s.ID))
	}
}

func testTouchSession(t *testing.T, e *identityEnv) {
	a, _ := e.signUp(t, shopclip.RoleCreator, "mei@example.com")
	created := stored(Start)
	s := e.session(t, a.ID, created)
	idleEnd := created.Add(shopclip.SessionIdle)
	if e.live(t, s.Hash, idleEnd) {
		t.Fatal("session live when it idles out before any touch")
	}

	seen := Start.Add(2*time.Hour + 999*time.Nanosecond) // CST, with nanoseconds
	ok(t, "touch", e.id.TouchSession(e.ctx, s.ID, seen))
	got, _, err := e.id.SessionByHash(e.ctx, s.Hash, seen)
	ok(t, "session by hash after touch", err)
	want := *s
	want.LastSeenAt = stored(seen)
	same(t, "session after touch", got, &want)
	if !e.live(t, s.Hash, idleEnd) {
		t.Error("touched session not live when the untouched one would have idled out")
	}
	if e.live(t, s.Hash, stored(seen).Add(shopclip.SessionIdle)) {
		t.Error("touched session live SessionIdle after the touch")
	}
	// A touch does not outlive ExpiresAt.
	ok(t, "touch late", e.id.TouchSession(e.ctx, s.ID, s.ExpiresAt.Add(-time.Minute)))
	if e.live(t, s.Hash, s.ExpiresAt) {
		t.Error("touched session live at ExpiresAt")
	}

	// A touch with an earlier time (requests finishing out of order) does
	// not move LastSeenAt back.
	ok(t, "touch earlier", e.id.TouchSession(e.ctx, s.ID, seen))
	got, _, err = e.id.SessionByHash(e.ctx, s.Hash, s.ExpiresAt.Add(-time.Minute))
	ok(t, "session by hash after the earlier touch", err)
	if !got.LastSeenAt.Equal(s.ExpiresAt.Add(-time.Minute)) {
		t.Errorf("LastSeenAt after an earlier touch = %v, want %v (kept)", got.LastSeenAt, s.ExpiresAt.Add(-time.Minute))
	}

	wantCode(t, "touch unknown session", e.id.TouchSession(e.ctx, shopclip.NewID(shopclip.PrefixSession), seen), shopclip.ENOTFOUND)
}

func testAccountSessions(t *testing.T, e *identityEnv) {
	a, _ := e.signUp(t, shopclip.RoleCreator, "a@example.com")
	b, _ := e.signUp(t, shopclip.RoleBrand, "b@example.com")
	base := stored(Start)
	now := base.Add(shopclip.SessionIdle + 10*time.Hour)
	var want []string
	// Seen 3h, 1h, 2h before now, one of them twice at the same time: most
	// recently seen first, then by ID, descending.
	s3 := e.session(t, a.ID, now.Add(-3*time.Hour))
	s1 := e.session(t, a.ID, now.Add(-time.Hour))
	s2 := e.session(t, a.ID, now.Add(-5*time.Hour))
	ok(t, "touch", e.id.TouchSession(e.ctx, s2.ID, now.Add(-2*time.Hour)))
	s1b := e.session(t, a.ID, now.Add(-time.Hour))
	first, second := s1, s1b
	if first.ID < second.ID {
		first, second = second, first
	}
	want = []string{first.ID, second.ID, s2.ID, s3.ID}
	// Not listed: idled out, expired, another account's.
	e.session(t, a.ID, base)
	expired := &shopclip.Session{ID: shopclip.NewID(shopclip.PrefixSession), AccountID: a.ID, Hash: strings.Repeat("e0", 32),
		CreatedAt: now.Add(-2 * time.Hour), LastSeenAt: now.Add(-time.Minute), ExpiresAt: now}
	ok(t, "create expired session", e.id.CreateSession(e.ctx, expired))
	e.session(t, b.ID, now.Add(-time.Minute))

	ss, err := e.id.AccountSessions(e.ctx, a.ID, now)
	ok(t, "account sessions", err)
	if got := sessionIDs(ss); !slices.Equal(got, want) {
		t.Errorf("account sessions = %v, want %v (most recently seen first)", got, want)
	}
	ss, err = e.id.AccountSessions(e.ctx, shopclip.NewID(shopclip.PrefixAccount), now)
	ok(t, "sessions of unknown account", err)
	if len(ss) != 0 {
		t.Errorf("unknown account has %d sessions", len(ss))
	}
}

func testDeleteSessions(t *testing.T, e *identityEnv) {
	a, _ := e.signUp(t, shopclip.RoleCreator, "a@example.com")
	b, _ := e.signUp(t, shopclip.RoleBrand, "b@example.com")
	now := stored(Start)
	list := func(accountID string) []string {
		t.Helper()
		ss, err := e.id.AccountSessions(e.ctx, accountID, now)
		ok(t, "account sessions", err)
		ids := sessionIDs(ss)
		slices.Sort(ids)
		return ids
	}
	a1, a2, a3, a4 := e.session(t, a.ID, now), e.session(t, a.ID, now), e.session(t, a.ID, now), e.session(t, a.ID, now)
	b1 := e.session(t, b.ID, now)

	ok(t, "delete own session", e.id.DeleteSession(e.ctx, a.ID, a1.ID))
	if e.live(t, a1.Hash, now) {
		t.Error("deleted session still authenticates")
	}
	wantCode(t, "delete it again", e.id.DeleteSession(e.ctx, a.ID, a1.ID), shopclip.ENOTFOUND)
	wantCode(t, "delete another account's session", e.id.DeleteSession(e.ctx, a.ID, b1.ID), shopclip.ENOTFOUND)
	if !e.live(t, b1.Hash, now) {
		t.Error("another account's session was deleted")
	}
	wantCode(t, "delete unknown session", e.id.DeleteSession(e.ctx, a.ID, shopclip.NewID(shopclip.PrefixSession)), shopclip.ENOTFOUND)

	ok(t, "delete all but one", e.id.DeleteAccountSessions(e.ctx, a.ID, a3.ID))
	if got, want := list(a.ID), []string{a3.ID}; !slices.Equal(got, want) {
		t.Errorf("sessions after deleting all but %s = %v, want %v", a3.ID, got, want)
	}
	for _, s := range []*shopclip.Session{a2, a4} {
		if e.live(t, s.Hash, now) {
			t.Errorf("session %s still authenticates", s.ID)
		}
	}
	// except names another account's session: it is not a way to keep (or
	// delete) anything of that account.
	e.session(t, a.ID, now)
	ok(t, "delete all but another account's session", e.id.DeleteAccountSessions(e.ctx, a.ID, b1.ID))
	if got := list(a.ID); len(got) != 0 {
		t.Errorf("sessions after deleting all (except another account's) = %v, want none", got)
	}
	if got, want := list(b.ID), []string{b1.ID}; !slices.Equal(got, want) {
		t.Errorf("other account's sessions = %v, want %v", got, want)
	}
	e.session(t, a.ID, now)
	ok(t, "delete all", e.id.DeleteAccountSessions(e.ctx, a.ID, ""))
	if got := list(a.ID); len(got) != 0 {
		t.Errorf("sessions after deleting all = %v, want none", got)
	}
	ok(t, "delete all of an account without sessions", e.id.DeleteAccountSessions(e.ctx, a.ID, ""))
	if got, want := list(b.ID), []string{b1.ID}; !slices.Equal(got, want) {
		t.Errorf("other account's sessions = %v, want %v", got, want)
	}
}

// ---- disabled accounts ---------------------------------------------------------

func testDisableAccount(t *testing.T, e *identityEnv) {
	a, _ := e.signUp(t, shopclip.RoleCreator, "mei@example.com")
	other, _ := e.signUp(t, shopclip.RoleBrand, "other@example.com")
	k := e.key(t, a.ID, "upload script")
	otherKey := e.key(t, other.ID, "other")
	now := stored(Start)
	s1, s2 := e.session(t, a.ID, now), e.session(t, a.ID, now)
	otherSession := e.session(t, other.ID, now)

	ok(t, "disable", e.id.SetAccountDisabled(e.ctx, a.ID, true))
	got, err := e.s.Account(e.ctx, a.ID)
	ok(t, "account", err)
	want := *a
	want.Disabled = true
	same(t, "disabled account", got, &want)
	_, err = e.s.AccountByKeyHash(e.ctx, k.Hash)
	wantCode(t, "key of disabled account", err, shopclip.ENOTFOUND)
	for _, s := range []*shopclip.Session{s1, s2} {
		if e.live(t, s.Hash, now) {
			t.Errorf("session %s of a disabled account authenticates", s.ID)
		}
	}
	ss, err := e.id.AccountSessions(e.ctx, a.ID, now)
	ok(t, "account sessions", err)
	if len(ss) != 0 {
		t.Errorf("disabled account has %d sessions, want none", len(ss))
	}
	// Its login is still there (to tell its owner why it cannot sign in).
	if l, err := e.id.LoginByEmail(e.ctx, "mei@example.com"); err != nil || l.AccountID != a.ID {
		t.Errorf("login of disabled account = %+v, %v", l, err)
	}
	ok(t, "disable again", e.id.SetAccountDisabled(e.ctx, a.ID, true))
	// A session made for a disabled account (a sign-in racing the
	// disabling) does not authenticate, now or once the account is enabled
	// again, whether or not it is recorded.
	_, hash := shopclip.NewToken(shopclip.SessionTokenPrefix)
	late := &shopclip.Session{ID: shopclip.NewID(shopclip.PrefixSession), AccountID: a.ID, Hash: hash,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(shopclip.SessionLifetime)}
	if err := e.id.CreateSession(e.ctx, late); err == nil && e.live(t, hash, now) {
		t.Error("a session created for a disabled account authenticates")
	}
	// The other account is untouched.
	if got, err := e.s.AccountByKeyHash(e.ctx, otherKey.Hash); err != nil || got.ID != other.ID || got.Disabled {
		t.Errorf("other account's key = %+v, %v", got, err)
	}
	if !e.live(t, otherSession.Hash, now) {
		t.Error("other account's session was deleted")
	}

	ok(t, "enable", e.id.SetAccountDisabled(e.ctx, a.ID, false))
	got, err = e.s.Account(e.ctx, a.ID)
	ok(t, "account", err)
	same(t, "enabled account", got, a)
	// Keys work again; sessions stay ended.
	got, err = e.s.AccountByKeyHash(e.ctx, k.Hash)
	ok(t, "key of enabled account", err)
	same(t, "account by key after enabling", got, a)
	for _, s := range []*shopclip.Session{s1, s2, late} {
		if e.live(t, s.Hash, now) {
			t.Errorf("session %s from before the disabling authenticates again", s.ID)
		}
	}
	s3 := e.session(t, a.ID, now)
	if !e.live(t, s3.Hash, now) {
		t.Error("new session of the enabled account does not authenticate")
	}
	ok(t, "enable again", e.id.SetAccountDisabled(e.ctx, a.ID, false))

	for _, disabled := range []bool{true, false} {
		wantCode(t, fmt.Sprintf("set unknown account disabled %v", disabled),
			e.id.SetAccountDisabled(e.ctx, shopclip.NewID(shopclip.PrefixAccount), disabled), shopclip.ENOTFOUND)
	}

	// An account created disabled is.
	d := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "created disabled", Role: shopclip.RoleCreator, Disabled: true}
	ok(t, "create disabled account", e.s.CreateAccount(e.ctx, d))
	got, err = e.s.Account(e.ctx, d.ID)
	ok(t, "account", err)
	same(t, "account created disabled", got, d)
	dk := e.key(t, d.ID, "k")
	_, err = e.s.AccountByKeyHash(e.ctx, dk.Hash)
	wantCode(t, "key of account created disabled", err, shopclip.ENOTFOUND)
}

// ---- API keys ------------------------------------------------------------------

func testAccountAPIKeys(t *testing.T, e *identityEnv) {
	a := e.account(t, shopclip.RoleBrand, "brand")
	b := e.account(t, shopclip.RoleCreator, "creator")
	var want []*shopclip.APIKey
	for i, name := range []string{"CI upload script", "", "导入 🛍️", "same second"} {
		at := Start.Add(time.Duration(i) * time.Hour)
		if i == 3 {
			at = Start.Add(2 * time.Hour) // the same CreatedAt as the one before
		}
		e.freeze(at)
		k := e.key(t, a.ID, name)
		same(t, "created key", k, &shopclip.APIKey{ID: k.ID, AccountID: a.ID, Name: name, Hash: k.Hash, CreatedAt: stored(at)})
		want = append(want, k)
	}
	e.tick()
	revokedAt := Start.Add(30*time.Hour + 123*time.Nanosecond)
	rk := &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: a.ID, Name: "old", Hash: strings.Repeat("5a", 32), RevokedAt: &revokedAt}
	e.freeze(Start.Add(-time.Hour))
	ok(t, "create revoked key", e.s.CreateAPIKey(e.ctx, rk))
	e.tick()
	want = append([]*shopclip.APIKey{rk}, want...)
	e.key(t, b.ID, "another account's")

	// Newest first, then by ID, descending; revoked ones too.
	slices.SortStableFunc(want, func(x, y *shopclip.APIKey) int {
		if c := y.CreatedAt.Compare(x.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(y.ID, x.ID)
	})
	got, err := e.id.AccountAPIKeys(e.ctx, a.ID)
	ok(t, "account api keys", err)
	same(t, "account api keys", got, want)
	if rk := got[len(got)-1]; rk.RevokedAt == nil || !rk.RevokedAt.Equal(stored(revokedAt)) {
		t.Errorf("revoked key RevokedAt = %v, want %v", rk.RevokedAt, stored(revokedAt))
	}

	got, err = e.id.AccountAPIKeys(e.ctx, shopclip.NewID(shopclip.PrefixAccount))
	ok(t, "keys of unknown account", err)
	if len(got) != 0 {
		t.Errorf("unknown account has %d keys", len(got))
	}
	err = e.s.CreateAPIKey(e.ctx, &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: a.ID,
		Name: strings.Repeat("n", shopclip.MaxKeyNameLen+1), Hash: strings.Repeat("5b", 32)})
	wantCode(t, "key name too long", err, shopclip.EINVALID)
	ok(t, "key name at the limit", e.s.CreateAPIKey(e.ctx, &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: a.ID,
		Name: strings.Repeat("n", shopclip.MaxKeyNameLen), Hash: strings.Repeat("5c", 32)}))
}

func testRevokeAPIKey(t *testing.T, e *identityEnv) {
	a := e.account(t, shopclip.RoleBrand, "brand")
	b := e.account(t, shopclip.RoleCreator, "creator")
	k, keep := e.key(t, a.ID, "revoke me"), e.key(t, a.ID, "keep me")
	bk := e.key(t, b.ID, "not yours")

	wantCode(t, "revoke another account's key", e.id.RevokeAPIKey(e.ctx, a.ID, bk.ID, Start), shopclip.ENOTFOUND)
	if got, err := e.s.AccountByKeyHash(e.ctx, bk.Hash); err != nil || got.ID != b.ID {
		t.Errorf("other account's key after a refused revocation = %+v, %v", got, err)
	}
	wantCode(t, "revoke unknown key", e.id.RevokeAPIKey(e.ctx, a.ID, shopclip.NewID(shopclip.PrefixAPIKey), Start), shopclip.ENOTFOUND)

	at := Start.Add(time.Hour + 999*time.Nanosecond)
	ok(t, "revoke", e.id.RevokeAPIKey(e.ctx, a.ID, k.ID, at))
	_, err := e.s.AccountByKeyHash(e.ctx, k.Hash)
	wantCode(t, "revoked key", err, shopclip.ENOTFOUND)
	if got, err := e.s.AccountByKeyHash(e.ctx, keep.Hash); err != nil || got.ID != a.ID {
		t.Errorf("the account's other key after a revocation = %+v, %v", got, err)
	}
	// Revoking again changes nothing: the first time is kept.
	ok(t, "revoke again", e.id.RevokeAPIKey(e.ctx, a.ID, k.ID, at.Add(time.Hour)))
	ks, err := e.id.AccountAPIKeys(e.ctx, a.ID)
	ok(t, "account api keys", err)
	for _, got := range ks {
		switch got.ID {
		case k.ID:
			want := *k
			r := stored(at)
			want.RevokedAt = &r
			same(t, "revoked key", got, &want)
		case keep.ID:
			same(t, "kept key", got, keep)
		default:
			t.Errorf("account lists key %s, not its own", got.ID)
		}
	}
	if len(ks) != 2 {
		t.Errorf("account lists %v, want 2 keys", keyIDs(ks))
	}
}
