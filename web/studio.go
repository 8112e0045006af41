package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
)

// The studio: where creators and brands sign up, sign in and keep their
// account (API keys, signed-in browsers). Forms post to the server, which
// answers with a page or a redirect (no script needed); every post is
// refused when a browser sends it from another site (auth's
// CheckSameOrigin), whatever the cookie's SameSite lets through.

// studioPatterns are the studio's routes.
var studioPatterns = map[string]func(*Server, http.ResponseWriter, *http.Request) error{
	"GET /studio":                    (*Server).studio,
	"GET /studio/login":              (*Server).loginPage,
	"POST /studio/login":             (*Server).loginPost,
	"GET /studio/signup":             (*Server).signupPage,
	"POST /studio/signup":            (*Server).signupPost,
	"POST /studio/logout":            (*Server).logoutPost,
	"POST /studio/keys":              (*Server).keyPost,
	"POST /studio/keys/{id}/revoke":  (*Server).keyRevokePost,
	"POST /studio/sessions/{id}/end": (*Server).sessionEndPost,
}

// maxForm bounds a studio form's body.
const maxForm = 64 << 10

// form parses a studio form post, refusing one sent from another site.
func (s *Server) form(w http.ResponseWriter, r *http.Request) error {
	if s.Auth == nil {
		return shopclip.Errorf(shopclip.EUNAVAILABLE, "Sign-in is not set up on this server.")
	}
	if err := s.Auth.CheckSameOrigin(r); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return shopclip.Errorf(shopclip.EINVALID, "The form could not be read.")
	}
	return nil
}

// caller is the signed-in account of r, or nil.
func (s *Server) caller(r *http.Request) (*auth.Caller, error) {
	if s.Auth == nil {
		return nil, nil
	}
	return s.Auth.Authenticate(r)
}

// nextPath is where to go after signing in: a path on this site only.
func nextPath(v string) string {
	if !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.HasPrefix(v, "/\\") || strings.ContainsAny(v, "\r\n") {
		return "/studio"
	}
	return v
}

// loginData is the sign-in page's.
type loginData struct {
	Email, Next, Error string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	s.private(w)
	if c, err := s.caller(r); err == nil && c != nil {
		http.Redirect(w, r, nextPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, "login", &pageData{Title: "Sign in · shopclip", Main: loginData{Next: nextPath(r.URL.Query().Get("next"))}})
	return nil
}

func (s *Server) loginPost(w http.ResponseWriter, r *http.Request) error {
	s.private(w)
	if err := s.form(w, r); err != nil {
		return err
	}
	email, next := r.PostForm.Get("email"), nextPath(r.PostForm.Get("next"))
	_, token, sess, err := s.Auth.LogIn(r.Context(), email, r.PostForm.Get("password"), auth.ClientOf(r))
	if err != nil {
		return s.formError(w, r, err, "login", "Sign in · shopclip", loginData{Email: email, Next: next, Error: shopclip.ErrorMessage(err)})
	}
	s.Auth.SetCookie(w, r, token, sess)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// formError shows a form again with what went wrong, or the error page for
// errors that are not about the form.
func (s *Server) formError(w http.ResponseWriter, r *http.Request, err error, page, title string, data any) error {
	var status int
	switch shopclip.ErrorCode(err) {
	case shopclip.EINVALID:
		status = http.StatusBadRequest
	case shopclip.EUNAUTHORIZED:
		status = http.StatusUnauthorized
	case shopclip.EFORBIDDEN:
		status = http.StatusForbidden
	case shopclip.ECONFLICT:
		status = http.StatusConflict
	case shopclip.ERATELIMITED:
		status = http.StatusTooManyRequests
		if wait, ok := auth.RetryAfter(err); ok {
			w.Header().Set("Retry-After", strings.TrimSuffix(wait.Round(1e9).String(), "s"))
		}
	default:
		return err
	}
	s.render(w, r, status, page, &pageData{Title: title, Main: data})
	return nil
}

// signupData is the sign-up page's.
type signupData struct {
	Role, Name, Email, Invite, Error string
	Closed                           bool // sign-up needs an invitation
}

func (s *Server) signupPage(w http.ResponseWriter, r *http.Request) error {
	s.private(w)
	if s.Auth == nil {
		return shopclip.Errorf(shopclip.EUNAVAILABLE, "Sign-in is not set up on this server.")
	}
	q := r.URL.Query()
	role := q.Get("role")
	if role != "brand" {
		role = "creator"
	}
	s.render(w, r, http.StatusOK, "signup", &pageData{Title: "Sign up · shopclip",
		Main: signupData{Role: role, Invite: q.Get("invite"), Closed: s.Auth.ClosedSignup && q.Get("invite") == ""}})
	return nil
}

func (s *Server) signupPost(w http.ResponseWriter, r *http.Request) error {
	s.private(w)
	if err := s.form(w, r); err != nil {
		return err
	}
	f := r.PostForm
	in := auth.Signup{Role: shopclip.Role(f.Get("role")), Name: f.Get("name"), Email: f.Get("email"), Password: f.Get("password"), Invite: f.Get("invite")}
	_, token, sess, err := s.Auth.SignUp(r.Context(), in, auth.ClientOf(r))
	if err != nil {
		return s.formError(w, r, err, "signup", "Sign up · shopclip", signupData{Role: string(in.Role), Name: in.Name, Email: in.Email, Invite: in.Invite,
			Error: shopclip.ErrorMessage(err), Closed: s.Auth.ClosedSignup && in.Invite == ""})
	}
	s.Auth.SetCookie(w, r, token, sess)
	http.Redirect(w, r, "/studio", http.StatusSeeOther)
	return nil
}

func (s *Server) logoutPost(w http.ResponseWriter, r *http.Request) error {
	s.private(w)
	if err := s.form(w, r); err != nil {
		return err
	}
	c, err := s.caller(r)
	if err != nil {
		return err
	}
	if err := s.Auth.LogOut(r.Context(), c, r.PostForm.Get("everywhere") != ""); err != nil {
		return err
	}
	s.Auth.ClearCookie(w, r)
	http.Redirect(w, r, "/studio/login", http.StatusSeeOther)
	return nil
}

// studioData is the studio's home.
type studioData struct {
	Account  *shopclip.Account
	Email    string
	Keys     []*shopclip.APIKey
	Sessions []*shopclip.Session
	Current  string // the session of this page
	// NewKey is a key just made, shown this once.
	NewKey, NewKeyName string
	Error              string
}

// Nav is the studio's tab bar on the account page.
func (d studioData) Nav() studioNav { return studioNav{d.Account, "account"} }

// signedIn returns r's caller, or redirects to the sign-in page.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request) (*auth.Caller, bool, error) {
	c, err := s.caller(r)
	if err != nil {
		return nil, false, err
	}
	if c == nil {
		next := r.URL.Path
		if r.Method != http.MethodGet {
			next = "/studio"
		}
		http.Redirect(w, r, "/studio/login?next="+url.QueryEscape(next), http.StatusSeeOther)
		return nil, false, nil
	}
	return c, true, nil
}

func (s *Server) studio(w http.ResponseWriter, r *http.Request) error {
	s.private(w)
	c, ok, err := s.signedIn(w, r)
	if !ok {
		return err
	}
	return s.renderStudio(w, r, c, studioData{})
}

func (s *Server) renderStudio(w http.ResponseWriter, r *http.Request, c *auth.Caller, data studioData) error {
	ctx := r.Context()
	data.Account = c.Account
	if l, err := s.Auth.Identity.LoginOf(ctx, c.Account.ID); err == nil {
		data.Email = l.Email
	} else if shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		return err
	}
	var err error
	if data.Keys, err = s.Auth.Identity.AccountAPIKeys(ctx, c.Account.ID); err != nil {
		return err
	}
	if data.Sessions, err = s.Auth.Identity.AccountSessions(ctx, c.Account.ID, s.now()); err != nil {
		return err
	}
	if c.Session != nil {
		data.Current = c.Session.ID
	}
	status := http.StatusOK
	if data.Error != "" {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "studio", &pageData{Title: "Studio · shopclip", Main: data})
	return nil
}

// accountPost reads a studio form of a signed-in account (or redirects to
// the sign-in page: ok false).
func (s *Server) accountPost(w http.ResponseWriter, r *http.Request) (c *auth.Caller, ok bool, err error) {
	s.private(w)
	if err := s.form(w, r); err != nil {
		return nil, false, err
	}
	return s.signedIn(w, r)
}

// keyPost makes an API key and shows it, this once.
func (s *Server) keyPost(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.accountPost(w, r)
	if !ok {
		return err
	}
	key, k, err := s.Auth.NewKey(r.Context(), c.Account.ID, r.PostForm.Get("name"))
	if shopclip.ErrorCode(err) == shopclip.EINVALID {
		return s.renderStudio(w, r, c, studioData{Error: shopclip.ErrorMessage(err)})
	} else if err != nil {
		return err
	}
	return s.renderStudio(w, r, c, studioData{NewKey: key, NewKeyName: k.Name})
}

func (s *Server) keyRevokePost(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.accountPost(w, r)
	if !ok {
		return err
	}
	if err := s.Auth.Identity.RevokeAPIKey(r.Context(), c.Account.ID, r.PathValue("id"), s.now()); err != nil {
		return err
	}
	http.Redirect(w, r, "/studio#keys", http.StatusSeeOther)
	return nil
}

func (s *Server) sessionEndPost(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.accountPost(w, r)
	if !ok {
		return err
	}
	id := r.PathValue("id")
	if err := s.Auth.Identity.DeleteSession(r.Context(), c.Account.ID, id); err != nil {
		return err
	}
	if c.Session != nil && c.Session.ID == id {
		s.Auth.ClearCookie(w, r)
		http.Redirect(w, r, "/studio/login", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/studio#sessions", http.StatusSeeOther)
	return nil
}

// private marks a studio answer as the account's own: never stored by a
// cache.
func (s *Server) private(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}
