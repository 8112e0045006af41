// Package webhooks sends signed webhook deliveries: endpoints registered by
// creators and brands receive the events they asked for, signed per the
// Standard Webhooks specification (https://www.standardwebhooks.com/),
// through an HTTP client that refuses destinations inside the network it
// runs in.
package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/shopclip/shopclip"
)

// SecretPrefix starts every endpoint secret; the rest is the key, base64.
const SecretPrefix = "whsec_"

// secretBytes is the size of a new secret's key (the spec asks for 24 to 64).
const secretBytes = 32

// NewSecret returns a new random endpoint secret: "whsec_" and 32 random
// bytes, base64.
func NewSecret() string {
	var b [secretBytes]byte
	rand.Read(b[:]) // never returns an error (crypto/rand, Go ≥1.24)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// secretKey decodes the key of a "whsec_" secret.
func secretKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, shopclip.Errorf(shopclip.EINVALID, "A webhook secret starts with %q.", SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) == 0 {
		return nil, shopclip.Errorf(shopclip.EINVALID, "A webhook secret is %q and base64.", SecretPrefix)
	}
	return key, nil
}

// Sign returns the webhook-signature header value for one message: a
// "v1,<base64 HMAC-SHA256>" of "{id}.{timestamp}.{body}" per secret, space
// separated, so that during a rotation receivers holding either secret
// verify it.
func Sign(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	if len(secrets) == 0 {
		return "", shopclip.Errorf(shopclip.EINVALID, "No secret to sign with.")
	}
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			return "", err
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
		mac.Write([]byte{'.'})
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " "), nil
}
