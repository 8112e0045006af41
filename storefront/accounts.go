package storefront

import (
	"net/http"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/auth"
)

// signupInput is a POST /v1/auth/signup body.
type signupInput struct {
	Role     shopclip.Role `json:"role" openapi:"required"` // creator or brand (an invitation sets its own)
	Name     string        `json:"name" openapi:"required"`
	Email    string        `json:"email" openapi:"required"`
	Password string        `json:"password" openapi:"required"`
	Invite   string        `json:"invite"` // required while sign-up is closed
}

// loginInput is a POST /v1/auth/login body.
type loginInput struct {
	Email    string `json:"email" openapi:"required"`
	Password string `json:"password" openapi:"required"`
}

// logoutInput is the optional POST /v1/auth/logout body.
type logoutInput struct {
	Everywhere bool `json:"everywhere"` // end every session of the account
}

// signedIn is an account and the session a sign-in opened.
type signedIn struct {
	Account *shopclip.Account `json:"account"`
	Session *shopclip.Session `json:"session"`
}

// identityReady refuses the session routes when the server has no
// identity store.
func (s *Server) identityReady() error {
	if s.Auth.Identity == nil {
		return shopclip.Errorf(shopclip.EUNAVAILABLE, "Sign-in is not set up on this server.")
	}
	return nil
}

// signup creates a creator or brand account with an email and password,
// signs it in (the session cookie), and answers 201 with it.
func (s *Server) signup(w http.ResponseWriter, r *http.Request) error {
	if err := s.identityReady(); err != nil {
		return err
	}
	if err := s.Auth.CheckSameOrigin(r); err != nil {
		return err
	}
	var in signupInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	a, token, sess, err := s.Auth.SignUp(r.Context(), auth.Signup{Role: in.Role, Name: in.Name, Email: in.Email, Password: in.Password, Invite: in.Invite}, auth.ClientOf(r))
	if err != nil {
		return err
	}
	s.Auth.SetCookie(w, r, token, sess)
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, signedIn{Account: a, Session: sess})
}

// login checks an email and password and signs the browser in (401 when
// they are wrong).
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	if err := s.identityReady(); err != nil {
		return err
	}
	if err := s.Auth.CheckSameOrigin(r); err != nil {
		return err
	}
	var in loginInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	a, token, sess, err := s.Auth.LogIn(r.Context(), in.Email, in.Password, auth.ClientOf(r))
	if err != nil {
		return err
	}
	s.Auth.SetCookie(w, r, token, sess)
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, signedIn{Account: a, Session: sess})
}

// logout ends the caller's session (or, with {"everywhere": true}, every
// session of its account) and clears the cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.identityReady(); err != nil {
		return err
	}
	var in logoutInput
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
	}
	if err := s.Auth.LogOut(r.Context(), caller(r), in.Everywhere); err != nil {
		return err
	}
	s.Auth.ClearCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// keyInput is a POST /v1/me/keys body.
type keyInput struct {
	Name string `json:"name" openapi:"required"`
}

// newKeyJSON is a new API key: the key itself is shown this once.
type newKeyJSON struct {
	*shopclip.APIKey
	Key string `json:"key"`
}

// keyList is the caller's API keys.
type keyList struct {
	Keys []*shopclip.APIKey `json:"keys"`
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.identityReady(); err != nil {
		return err
	}
	var in keyInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	key, k, err := s.Auth.NewKey(r.Context(), account(r).ID, in.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, newKeyJSON{APIKey: k, Key: key})
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	if err := s.identityReady(); err != nil {
		return err
	}
	keys, err := s.Auth.Identity.AccountAPIKeys(r.Context(), account(r).ID)
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []*shopclip.APIKey{}
	}
	return writeJSON(w, http.StatusOK, keyList{Keys: keys})
}

// revokeKey revokes one of the caller's keys: it stops working at once.
func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.identityReady(); err != nil {
		return err
	}
	id, err := pathID(r, "id", shopclip.PrefixAPIKey, "API key")
	if err != nil {
		return err
	}
	if err := s.Auth.Identity.RevokeAPIKey(r.Context(), account(r).ID, id, s.now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sessionView is a session in the caller's list.
type sessionView struct {
	*shopclip.Session
	Current bool `json:"current"` // the session of this request
}

// sessionList is the caller's signed-in browsers.
type sessionList struct {
	Sessions []sessionView `json:"sessions"`
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	if err := s.identityReady(); err != nil {
		return err
	}
	c := caller(r)
	list, err := s.Auth.Identity.AccountSessions(r.Context(), c.Account.ID, s.now())
	if err != nil {
		return err
	}
	out := sessionList{Sessions: make([]sessionView, 0, len(list))}
	for _, sess := range list {
		out.Sessions = append(out.Sessions, sessionView{Session: sess, Current: c.Session != nil && c.Session.ID == sess.ID})
	}
	return writeJSON(w, http.StatusOK, out)
}

// endSession signs one of the caller's browsers out.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.identityReady(); err != nil {
		return err
	}
	id, err := pathID(r, "id", shopclip.PrefixSession, "Session")
	if err != nil {
		return err
	}
	if err := s.Auth.Identity.DeleteSession(r.Context(), account(r).ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
