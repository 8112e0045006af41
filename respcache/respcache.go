// Package respcache holds the answers of the storefront's hottest public
// reads in memory — a clip's pop-ups, the feed, the deals, a search — so
// that a viewer's request costs a map lookup, not a dozen queries.
//
// An answer is built by the same code that answers without a cache (one
// source of truth), once however many viewers ask at the same moment, and
// kept until the first of: its own expiry (for pop-ups, the next moment a
// discount they show starts or ends, so no price outlives its sale), the
// cache's MaxAge, or an invalidation. Invalidations come from the paths that
// change what answers show (a tag approved or changed, a product or
// discount edited, a clip deleted): in this process at once, and in every
// other API process through a Bus. An answer built while an invalidation
// happened is served to its requests but not kept, so a change committed
// during a build is never hidden behind the build's older view.
//
// Pop-up answers are kept per clip and dropped by that clip's invalidation;
// list answers (feed, deals, search) are dropped by any invalidation and
// kept at most ListMaxAge, for the clips they list change without one (a
// clip becoming ready in a worker).
package respcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Answer is a built answer: its body and entity tag, and when it stops
// being true.
type Answer struct {
	Body []byte
	// Value is what the answer holds when it is not a body to send: an
	// object read from the store (a clip, a tag), shared by every caller:
	// read it, never change it.
	Value any
	// ETag is a strong entity tag of Body, quoted.
	ETag string
	// Expires is when the answer may no longer hold; zero: no expiry of
	// its own (the cache's MaxAge still applies).
	Expires time.Time
}

// NewAnswer returns the answer with body, expiring at expires, with its
// ETag computed.
func NewAnswer(body []byte, expires time.Time) *Answer {
	sum := sha256.Sum256(body)
	return &Answer{Body: body, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, Expires: expires}
}

// Kind says which invalidations drop an answer.
type Kind int

const (
	// Clip answers (a clip's pop-ups, its playlists, the clip itself) are
	// dropped by their clip's invalidation and by InvalidateAll. Their key
	// is the clip's ID, or the ID, "/" and more ("clp_…/popups").
	Clip Kind = iota
	// List answers (feed, deals, search) are dropped by every
	// invalidation.
	List
)

// Defaults of a Cache's limits.
const (
	DefaultMaxAge      = time.Minute
	DefaultListMaxAge  = time.Second
	DefaultMaxClips    = 50_000
	DefaultMaxLists    = 20_000
	DefaultMaxBytes    = 128 << 20
	defaultBuildTimout = 10 * time.Second
)

// Cache holds answers. The zero value is not usable: call New.
type Cache struct {
	// MaxAge bounds how long a clip answer is kept; ListMaxAge a list
	// answer's.
	MaxAge, ListMaxAge time.Duration
	// MaxClips and MaxLists bound the answers kept of each kind, MaxBytes
	// the bytes of the clip answers' bodies; past them, expired answers are
	// swept, and new ones served but not kept.
	MaxClips, MaxLists int
	MaxBytes           int64
	// Now is the clock. Default time.Now.
	Now func() time.Time

	mu     sync.RWMutex
	clips  map[string]map[string]*entry // clip ID → key → answer
	nclips int
	bytes  int64 // of the clip answers' bodies
	lists  map[string]*entry
	// epoch counts invalidations: a build that saw another epoch at its end
	// than at its start is not kept.
	epoch atomic.Uint64
	// keep is false while invalidations may be missed (the bus is down):
	// answers are then built for each request, as without a cache.
	keep   atomic.Bool
	flight singleflight.Group

	hits, misses atomic.Uint64
}

type entry struct {
	answer  *Answer
	expires time.Time
}

// New returns an empty cache with the default limits that keeps answers.
// A cache shared by several processes gets its bus's Run to clear keep
// while the bus is down.
func New() *Cache {
	c := &Cache{MaxAge: DefaultMaxAge, ListMaxAge: DefaultListMaxAge, MaxClips: DefaultMaxClips, MaxLists: DefaultMaxLists, MaxBytes: DefaultMaxBytes,
		clips: map[string]map[string]*entry{}, lists: map[string]*entry{}}
	c.keep.Store(true)
	return c
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Get returns the answer kept under key of kind, or builds it with build
// (once for all the callers asking at the same time) and keeps it. build
// runs with ctx's values but not its cancellation (other callers may wait
// on it), bounded to 10 s. A nil Cache builds every time.
func (c *Cache) Get(ctx context.Context, kind Kind, key string, build func(context.Context) (*Answer, error)) (*Answer, error) {
	if c == nil {
		return build(ctx)
	}
	now := c.now()
	c.mu.RLock()
	e := c.lookup(kind, key)
	c.mu.RUnlock()
	if e != nil && now.Before(e.expires) {
		c.hits.Add(1)
		return e.answer, nil
	}
	c.misses.Add(1)
	// Callers that came after an invalidation never join a build that
	// began before it: the epoch is part of the flight's key.
	epoch := c.epoch.Load()
	flightKey := strconv.FormatUint(epoch, 10) + "/" + strconv.Itoa(int(kind)) + "/" + key
	v, err, _ := c.flight.Do(flightKey, func() (any, error) {
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), defaultBuildTimout)
		defer cancel()
		a, err := build(bctx)
		if err != nil {
			return nil, err
		}
		c.store(kind, key, a, epoch)
		return a, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Answer), nil
}

// store keeps a, built in epoch, unless an invalidation came since, the
// answer has expired already, or the table is full.
func (c *Cache) store(kind Kind, key string, a *Answer, epoch uint64) {
	if !c.keep.Load() {
		return
	}
	now := c.now()
	maxAge, limit := c.MaxAge, c.MaxClips
	if kind == List {
		maxAge, limit = c.ListMaxAge, c.MaxLists
	}
	expires := now.Add(maxAge)
	if !a.Expires.IsZero() && a.Expires.Before(expires) {
		expires = a.Expires
	}
	if !now.Before(expires) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	e := &entry{answer: a, expires: expires}
	if kind == List {
		if _, ok := c.lists[key]; !ok && len(c.lists) >= limit {
			for k, e := range c.lists {
				if !now.Before(e.expires) {
					delete(c.lists, k)
				}
			}
			if len(c.lists) >= limit {
				return
			}
		}
		c.lists[key] = e
		return
	}
	id := clipOf(key)
	size := int64(len(a.Body))
	full := func() bool { return c.nclips >= limit || c.bytes+size > c.MaxBytes }
	if _, ok := c.clips[id][key]; !ok && full() {
		for id, t := range c.clips {
			for k, e := range t {
				if !now.Before(e.expires) {
					c.drop(t, k)
				}
			}
			if len(t) == 0 {
				delete(c.clips, id)
			}
		}
		if full() {
			return
		}
	}
	t := c.clips[id]
	if t == nil {
		t = map[string]*entry{}
		c.clips[id] = t
	}
	if _, ok := t[key]; ok {
		c.drop(t, key)
	}
	t[key] = e
	c.nclips++
	c.bytes += size
}

// drop removes key from a clip's table t, keeping the counts; c.mu is held.
func (c *Cache) drop(t map[string]*entry, key string) {
	c.nclips--
	c.bytes -= int64(len(t[key].answer.Body))
	delete(t, key)
}

// lookup returns the entry of key, or nil; c.mu is held.
func (c *Cache) lookup(kind Kind, key string) *entry {
	if kind == List {
		return c.lists[key]
	}
	return c.clips[clipOf(key)][key]
}

// clipOf returns the clip ID a Clip answer's key starts with.
func clipOf(key string) string {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i]
	}
	return key
}

// Invalidate drops the answers of clipID and every list answer. It is safe
// on a nil Cache.
func (c *Cache) Invalidate(clipID string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.epoch.Add(1)
	for k := range c.clips[clipID] {
		c.drop(c.clips[clipID], k)
	}
	delete(c.clips, clipID)
	clear(c.lists)
	c.mu.Unlock()
}

// InvalidateAll drops every answer.
func (c *Cache) InvalidateAll() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.epoch.Add(1)
	clear(c.clips)
	c.nclips, c.bytes = 0, 0
	clear(c.lists)
	c.mu.Unlock()
}

// setKeeping turns keeping answers on or off; off drops them all.
func (c *Cache) setKeeping(on bool) {
	if !on {
		c.keep.Store(false)
		c.InvalidateAll()
		return
	}
	c.InvalidateAll()
	c.keep.Store(true)
}

// Stats are a cache's counters.
type Stats struct {
	Hits, Misses uint64
	Clips, Lists int
	ClipBytes    int64
	Keeping      bool
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Clips: c.nclips, ClipBytes: c.bytes, Lists: len(c.lists), Keeping: c.keep.Load()}
}
