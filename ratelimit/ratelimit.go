// Package ratelimit bounds what one client can cost: a token bucket per key
// (a client's address, an account), with memory bounded however many keys
// come. The storefront limits anonymous beacons and buy clicks with it, and
// auth sign-in attempts.
package ratelimit

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/shopclip/shopclip/internal/clientip"
)

// Limiter is a token bucket per key: rate tokens a second up to burst.
// Buckets idle long enough to be full again are forgotten, so memory follows
// the number of active clients, up to maxBuckets: past that, new clients
// share one overflow bucket until idle ones are forgotten (a flood of fresh
// addresses costs no more memory, and the clients already known keep their
// own buckets).
type Limiter struct {
	// Now is the limiter's clock (time.Now by New); set it before use.
	Now func() time.Time

	rate  float64
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds a limiter's memory: about 100 bytes a bucket.
const maxBuckets = 1 << 16

// overflowKey is the bucket new clients share when the limiter is full.
const overflowKey = "overflow"

// New returns a Limiter of rate tokens a second up to burst.
func New(rate, burst float64) *Limiter {
	return &Limiter{rate: rate, burst: burst, Now: time.Now, buckets: map[string]*bucket{}}
}

// Allow takes a token for key; when there is none it reports how long until
// there is.
func (l *Limiter) Allow(key string) (bool, time.Duration) { return l.take(key, 1) }

// Peek reports whether key has a token, and if not how long until it has,
// without taking it (for limits that count only failures).
func (l *Limiter) Peek(key string) (bool, time.Duration) { return l.take(key, 0) }

func (l *Limiter) take(key string, n float64) (bool, time.Duration) {
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute || len(l.buckets) >= maxBuckets && now.Sub(l.swept) > time.Second {
		full := time.Duration(l.burst / l.rate * float64(time.Second))
		for k, b := range l.buckets {
			if now.Sub(b.last) > full {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil && len(l.buckets) >= maxBuckets {
		key = overflowKey
		b = l.buckets[key]
	}
	if b == nil {
		if n == 0 {
			return true, 0 // a full bucket, not worth keeping
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	}
	b.tokens -= n
	return true, 0
}

// ClientAddr is the address rate limits key on: the request's client
// (clientip: the connection's peer, or the client a trusted proxy names),
// and for IPv6 its /64 (one subscriber's network, whose addresses it may
// rotate at will).
func ClientAddr(r *http.Request) string {
	ip := clientip.Of(r)
	if !ip.IsValid() {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		return host
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
