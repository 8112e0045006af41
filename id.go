package shopclip

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// ID prefixes say what an ID names, so a mixed-up ID fails clearly.
const (
	PrefixAccount  = "acc"
	PrefixAPIKey   = "key"
	PrefixClip     = "clp"
	PrefixProduct  = "prd"
	PrefixDiscount = "dsc"
	PrefixTag      = "tag"
	PrefixAttempt  = "att"
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a random, unguessable ID: prefix, an underscore and 26
// lower-case base32 characters (128 bits).
func NewID(prefix string) string {
	var b [16]byte
	rand.Read(b[:]) // never returns an error (crypto/rand, Go ≥1.24)
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// ValidID reports whether id looks like an ID made by NewID with prefix. It
// keeps junk out of queries and blob keys.
func ValidID(prefix, id string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"_")
	if !ok || len(rest) != 26 {
		return false
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
