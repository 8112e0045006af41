package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/shopclip/shopclip"
)

// Params are Argon2id's costs: Memory in KiB, Time passes, Threads lanes.
type Params struct {
	Memory  uint32
	Time    uint32
	Threads uint8
}

// DefaultParams are OWASP's recommended Argon2id settings (19 MiB, 2
// passes, 1 lane): about 30 ms a hash on one core of the development
// machine.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// Password limits.
const (
	MinPasswordLen = 10  // characters
	MaxPasswordLen = 256 // bytes: longer ones only cost hashing time
)

// Hasher hashes and verifies passwords with Argon2id. Each hash takes
// Params.Memory of memory, so at most a few run at once (the rest wait):
// a burst of sign-ins cannot exhaust the server's memory. The zero value
// uses DefaultParams and 2×GOMAXPROCS hashes at once.
type Hasher struct {
	Params     Params
	Concurrent int

	once sync.Once
	sem  chan struct{}
}

func (h *Hasher) params() Params {
	if h.Params == (Params{}) {
		return DefaultParams
	}
	return h.Params
}

// acquire waits for a hashing slot, or for ctx.
func (h *Hasher) acquire(ctx context.Context) (func(), error) {
	h.once.Do(func() {
		n := h.Concurrent
		if n <= 0 {
			n = 2 * runtime.GOMAXPROCS(0)
		}
		h.sem = make(chan struct{}, n)
	})
	select {
	case h.sem <- struct{}{}:
		return func() { <-h.sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ValidatePassword says whether password is acceptable: MinPasswordLen
// characters or more, at most MaxPasswordLen bytes of UTF-8.
func ValidatePassword(password string) error {
	switch {
	case !utf8.ValidString(password):
		return shopclip.Errorf(shopclip.EINVALID, "The password must be UTF-8 text.")
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return shopclip.Errorf(shopclip.EINVALID, "The password must be at least %d characters long.", MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return shopclip.Errorf(shopclip.EINVALID, "The password must be at most %d bytes long.", MaxPasswordLen)
	}
	return nil
}

// Hash returns password's Argon2id hash in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), with a random 16-byte salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	p := h.params()
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded, a hash made by Hash
// (with any costs within bounds). A malformed hash is an error.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	p, salt, key, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with other costs than h's,
// so that a successful sign-in can store a fresh hash.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := parsePHC(encoded)
	return err != nil || p != h.params()
}

// parsePHC reads an Argon2id PHC string, refusing costs no hash of ours
// would have (a stored hash must not make a sign-in take gigabytes).
func parsePHC(encoded string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, fmt.Errorf("auth: not an argon2id hash")
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil {
		return p, nil, nil, fmt.Errorf("auth: argon2id parameters %q: %w", parts[3], err)
	}
	if p.Memory < 8 || p.Memory > 1<<20 || p.Time < 1 || p.Time > 16 || threads < 1 || threads > 16 {
		return p, nil, nil, fmt.Errorf("auth: argon2id parameters %q out of bounds", parts[3])
	}
	p.Threads = uint8(threads)
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("auth: argon2id salt")
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, fmt.Errorf("auth: argon2id hash")
	}
	return p, salt, key, nil
}
