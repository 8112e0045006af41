package storefront

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/shopclip/shopclip"
)

// limiter is a token bucket per key (a client address): rate tokens a second
// up to burst. It bounds what one client can cost the anonymous routes
// (analytics beacons, buy clicks). Buckets idle long enough to be full again
// are forgotten, so memory follows the number of active clients, up to
// maxBuckets: past that, new clients share one overflow bucket until idle
// ones are forgotten (a flood of fresh addresses costs no more memory, and
// the clients already known keep their own buckets).
type limiter struct {
	rate  float64
	burst float64
	now   func() time.Time

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

func newLimiter(rate, burst float64) *limiter {
	return &limiter{rate: rate, burst: burst, now: time.Now, buckets: map[string]*bucket{}}
}

// allow takes a token for key; when there is none it reports how long until
// there is.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.now()
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
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// limit refuses r with 429 and Retry-After when its client is over l.
func (s *Server) limit(w http.ResponseWriter, r *http.Request, l *limiter) error {
	ok, wait := l.allow(clientAddr(r))
	if ok {
		return nil
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
	return shopclip.Errorf(shopclip.ERATELIMITED, "Too many requests from this address; retry in a moment.")
}

// clientAddr is the address rate limits key on: the connection's peer, and
// for IPv6 its /64 (one subscriber's network, whose addresses it may rotate
// at will). A deployment behind a proxy should rate-limit there too.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
