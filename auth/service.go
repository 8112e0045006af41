package auth

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/ratelimit"
)

// CookieName is the session cookie.
const CookieName = "shopclip_session"

// Service signs accounts up and in, and tells who a request comes from. Set
// the fields, then use it from any number of goroutines.
type Service struct {
	Store    shopclip.Store
	Identity shopclip.Identity
	// ClosedSignup refuses sign-up without an invitation (auth.open_signup:
	// false).
	ClosedSignup bool
	// SecureCookies marks the session cookie Secure (shopclip is served
	// over TLS, such as behind a proxy on https://).
	SecureCookies bool
	// Hasher hashes passwords; its zero value is Argon2id with OWASP's
	// costs.
	Hasher *Hasher
	// LoginRate bounds sign-in attempts a minute per client address (a
	// burst of half of it) and, at a fifth of it, failed ones per account
	// (a burst of a quarter). Default 20.
	LoginRate float64
	Now       func() time.Time
	Logger    *slog.Logger

	perAddr, perAccount *ratelimit.Limiter
	cop                 *http.CrossOriginProtection
}

// Init readies s after its fields are set. Call it once.
func (s *Service) Init() {
	s.Hasher = cmp.Or(s.Hasher, &Hasher{})
	s.LoginRate = cmp.Or(s.LoginRate, 20)
	perMinute := s.LoginRate / 60
	s.perAddr = ratelimit.New(perMinute, s.LoginRate/2)
	s.perAccount = ratelimit.New(perMinute/5, s.LoginRate/4)
	s.perAddr.Now, s.perAccount.Now = s.now, s.now
	s.cop = http.NewCrossOriginProtection()
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Caller is who a request comes from: an account, and the session when it
// came with the session cookie (nil with an API key).
type Caller struct {
	Account *shopclip.Account
	Session *shopclip.Session
}

// Authenticate finds the caller of r: an API key in "Authorization: Bearer",
// or else the session cookie. A request with neither is anonymous (nil,
// nil). A bad key is EUNAUTHORIZED; a cookie that names no live session is
// ignored (the browser is signed out). A state-changing request that rides
// the cookie from another site is EFORBIDDEN.
func (s *Service) Authenticate(r *http.Request) (*Caller, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		key, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || !shopclip.LooksLikeAPIKey(key) {
			return nil, shopclip.Errorf(shopclip.EUNAUTHORIZED, "Malformed Authorization header: want \"Bearer sc_…\".")
		}
		a, err := s.Store.AccountByKeyHash(r.Context(), shopclip.HashAPIKey(key))
		if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
			return nil, shopclip.Errorf(shopclip.EUNAUTHORIZED, "Unknown or revoked API key.")
		} else if err != nil {
			return nil, err
		}
		return &Caller{Account: a}, nil
	}
	c, err := r.Cookie(CookieName)
	if err != nil || s.Identity == nil || !strings.HasPrefix(c.Value, shopclip.SessionTokenPrefix) || len(c.Value) > 100 {
		return nil, nil
	}
	now := s.now()
	sess, a, err := s.Identity.SessionByHash(r.Context(), shopclip.HashAPIKey(c.Value), now)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if err := s.CheckSameOrigin(r); err != nil {
		return nil, err
	}
	if now.Sub(sess.LastSeenAt) > time.Minute {
		if err := s.Identity.TouchSession(r.Context(), sess.ID, now); err != nil && r.Context().Err() == nil && shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
			s.logger().WarnContext(r.Context(), "auth: touch session", "err", err)
		}
		sess.LastSeenAt = now
	}
	return &Caller{Account: a, Session: sess}, nil
}

// CheckSameOrigin refuses a state-changing request a browser sends from
// another site (Sec-Fetch-Site, or else Origin against Host): the defence
// of everything a session cookie can do. Safe methods and clients that are
// not browsers (no such headers) pass.
func (s *Service) CheckSameOrigin(r *http.Request) error {
	if err := s.cop.Check(r); err != nil {
		return shopclip.Errorf(shopclip.EFORBIDDEN, "Cross-site requests cannot use your shopclip session.")
	}
	return nil
}

// Signup is what a new account gives.
type Signup struct {
	Role     shopclip.Role
	Name     string
	Email    string
	Password string
	// Invite is an invitation's code; required while sign-up is closed.
	Invite string
}

// Client says where a sign-in comes from, for the session list and the
// rate limits.
type Client struct {
	Addr      string // ratelimit.ClientAddr
	UserAgent string
}

// ClientOf returns r's client.
func ClientOf(r *http.Request) Client {
	ua := r.UserAgent()
	for len(ua) > 256 {
		_, size := utf8.DecodeLastRuneInString(ua)
		ua = ua[:len(ua)-size]
	}
	return Client{Addr: ratelimit.ClientAddr(r), UserAgent: strings.ToValidUTF8(ua, "")}
}

// SignUp creates a creator or brand account with a password, and a
// session for it. Admins are made on the command line, or by invitation.
func (s *Service) SignUp(ctx context.Context, in Signup, c Client) (*shopclip.Account, string, *shopclip.Session, error) {
	if err := s.rateLimit(s.perAddr, "signup:"+c.Addr); err != nil {
		return nil, "", nil, err
	}
	email, err := shopclip.NormalizeEmail(in.Email)
	if err != nil {
		return nil, "", nil, err
	}
	if err := ValidatePassword(in.Password); err != nil {
		return nil, "", nil, err
	}
	now := s.now()
	var inviteHash string
	if in.Invite != "" || s.ClosedSignup {
		if in.Invite == "" {
			return nil, "", nil, shopclip.Errorf(shopclip.EFORBIDDEN, "Sign-up is by invitation on this shopclip: ask its operator for an invitation.")
		}
		inviteHash = shopclip.HashAPIKey(in.Invite)
		inv, err := s.Identity.InviteByHash(ctx, inviteHash, now)
		if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
			return nil, "", nil, shopclip.Errorf(shopclip.EFORBIDDEN, "This invitation is unknown, used or expired.")
		} else if err != nil {
			return nil, "", nil, err
		}
		if inv.Email != "" && inv.Email != email {
			return nil, "", nil, shopclip.Errorf(shopclip.EFORBIDDEN, "This invitation is for another email address.")
		}
		in.Role = inv.Role
	} else if in.Role != shopclip.RoleCreator && in.Role != shopclip.RoleBrand {
		return nil, "", nil, shopclip.Errorf(shopclip.EINVALID, "role must be creator or brand, not %q.", in.Role)
	}
	a := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: strings.TrimSpace(in.Name), Role: in.Role}
	if err := a.Validate(); err != nil {
		return nil, "", nil, err
	}
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, "", nil, err
	}
	err = s.Identity.CreateAccountLogin(ctx, a, &shopclip.Login{AccountID: a.ID, Email: email, PasswordHash: hash}, inviteHash, now)
	switch shopclip.ErrorCode(err) {
	case "":
	case shopclip.ECONFLICT:
		return nil, "", nil, shopclip.Errorf(shopclip.ECONFLICT, "An account with this email exists: sign in instead.")
	case shopclip.ENOTFOUND:
		return nil, "", nil, shopclip.Errorf(shopclip.EFORBIDDEN, "This invitation is unknown, used or expired.")
	default:
		return nil, "", nil, err
	}
	token, sess, err := s.newSession(ctx, a, c)
	return a, token, sess, err
}

// LogIn checks an email and password and opens a session. Wrong ones are
// EUNAUTHORIZED (the same answer for an unknown email), and attempts are
// rate limited per client address and per account (ERATELIMITED, with the
// wait in the error's RetryAfter).
func (s *Service) LogIn(ctx context.Context, email, password string, c Client) (*shopclip.Account, string, *shopclip.Session, error) {
	wrong := shopclip.Errorf(shopclip.EUNAUTHORIZED, "Wrong email or password.")
	if err := s.rateLimit(s.perAddr, "login:"+c.Addr); err != nil {
		return nil, "", nil, err
	}
	e, err := shopclip.NormalizeEmail(email)
	if err != nil {
		return nil, "", nil, wrong
	}
	// Only failures count against an account: its owner signing in from
	// a few devices is no attack.
	if ok, wait := s.perAccount.Peek(e); !ok {
		return nil, "", nil, limited(wait)
	}
	failed := func() { s.perAccount.Allow(e) }
	if len(password) > MaxPasswordLen {
		failed()
		return nil, "", nil, wrong
	}
	l, err := s.Identity.LoginByEmail(ctx, e)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		// The same work as for a known email, so timing tells nothing.
		s.Hasher.Verify(ctx, dummyHash, password)
		failed()
		return nil, "", nil, wrong
	} else if err != nil {
		return nil, "", nil, err
	}
	ok, err := s.Hasher.Verify(ctx, l.PasswordHash, password)
	if err != nil {
		return nil, "", nil, err
	}
	if !ok {
		failed()
		return nil, "", nil, wrong
	}
	a, err := s.Store.Account(ctx, l.AccountID)
	if err != nil {
		return nil, "", nil, err
	}
	if a.Disabled {
		return nil, "", nil, shopclip.Errorf(shopclip.EUNAUTHORIZED, "This account is disabled: ask the operator of this shopclip.")
	}
	if s.Hasher.NeedsRehash(l.PasswordHash) {
		if h, err := s.Hasher.Hash(ctx, password); err == nil {
			l.PasswordHash = h
			if err := s.Identity.SetLogin(ctx, l); err != nil {
				s.logger().WarnContext(ctx, "auth: rehash password", "account_id", a.ID, "err", err)
			}
		}
	}
	token, sess, err := s.newSession(ctx, a, c)
	return a, token, sess, err
}

// dummyHash is verified for unknown emails.
var dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c2hvcGNsaXBkdW1teQ$N2QxZTljNDYxNjBiZjRmYjk0Y2M4OGI2NmJhNDNlZjY"

func (s *Service) newSession(ctx context.Context, a *shopclip.Account, c Client) (string, *shopclip.Session, error) {
	token, hash := shopclip.NewToken(shopclip.SessionTokenPrefix)
	now := s.now()
	sess := &shopclip.Session{ID: shopclip.NewID(shopclip.PrefixSession), AccountID: a.ID, Hash: hash, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(shopclip.SessionLifetime), UserAgent: c.UserAgent, IP: c.Addr}
	if err := s.Identity.CreateSession(ctx, sess); err != nil {
		return "", nil, err
	}
	return token, sess, nil
}

// LogOut ends the caller's session; with everywhere, every session of its
// account. An API-key caller has no session: everywhere still ends its
// account's sessions.
func (s *Service) LogOut(ctx context.Context, c *Caller, everywhere bool) error {
	if c == nil {
		return nil
	}
	if everywhere {
		return s.Identity.DeleteAccountSessions(ctx, c.Account.ID, "")
	}
	if c.Session == nil {
		return nil
	}
	err := s.Identity.DeleteSession(ctx, c.Account.ID, c.Session.ID)
	if shopclip.ErrorCode(err) == shopclip.ENOTFOUND {
		return nil
	}
	return err
}

// SetCookie gives the browser its session token, HttpOnly and SameSite=Lax
// (Secure over TLS), until the session's end.
func (s *Service) SetCookie(w http.ResponseWriter, r *http.Request, token string, sess *shopclip.Session) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", Expires: sess.ExpiresAt, HttpOnly: true,
		Secure: s.SecureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// ClearCookie removes the session cookie from the browser.
func (s *Service) ClearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.SecureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// RetryAfter is how long a rate-limited caller should wait, when err says
// so.
func RetryAfter(err error) (time.Duration, bool) {
	var rl *rateLimited
	if errors.As(err, &rl) {
		return rl.wait, true
	}
	return 0, false
}

// rateLimited is an ERATELIMITED error with the wait.
type rateLimited struct {
	err  *shopclip.Error
	wait time.Duration
}

func (e *rateLimited) Error() string { return e.err.Error() }
func (e *rateLimited) Unwrap() error { return e.err }

func (s *Service) rateLimit(l *ratelimit.Limiter, key string) error {
	if ok, wait := l.Allow(key); !ok {
		return limited(wait)
	}
	return nil
}

func limited(wait time.Duration) error {
	secs := int(wait/time.Second) + 1
	return &rateLimited{err: shopclip.Errorf(shopclip.ERATELIMITED, "Too many sign-in attempts; try again in %s seconds.", strconv.Itoa(secs)), wait: wait}
}

// NewKey makes an API key named name for an account and returns it (shown
// to its owner once; only its hash is kept). A name is required: up to
// shopclip.MaxKeyNameLen bytes of printable text.
func (s *Service) NewKey(ctx context.Context, accountID, name string) (string, *shopclip.APIKey, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > shopclip.MaxKeyNameLen || !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", nil, shopclip.Errorf(shopclip.EINVALID, "Give the key a name, up to %d bytes of text, saying what it is for.", shopclip.MaxKeyNameLen)
	}
	key, hash := shopclip.NewAPIKey()
	k := &shopclip.APIKey{ID: shopclip.NewID(shopclip.PrefixAPIKey), AccountID: accountID, Name: name, Hash: hash}
	if err := s.Store.CreateAPIKey(ctx, k); err != nil {
		return "", nil, err
	}
	return key, k, nil
}
