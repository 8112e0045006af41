// Package auth is who a request comes from: passwords (Argon2id), browser
// sessions kept on the server behind an HttpOnly cookie, and API keys, with
// one Authenticator that yields the caller's account to the API and the
// pages alike. State-changing requests that ride a session cookie are
// refused when they come from another site (net/http's
// CrossOriginProtection), and sign-in attempts are rate limited per address
// and per account.
package auth
