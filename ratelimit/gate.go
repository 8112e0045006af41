package ratelimit

import (
	"errors"
	"sync"
)

// Gate bounds work in flight (uploads receiving bytes): at most PerKey at
// once for one key (an account), and at most Total overall. It never
// queues: Enter refuses at once when either bound is reached, so that a
// caller can answer "retry later" instead of holding a connection. Memory
// follows the keys with work in flight. It bounds one process.
type Gate struct {
	perKey, total int

	mu   sync.Mutex
	n    int
	keys map[string]int
}

// Errors of Enter.
var (
	ErrKeyBusy = errors.New("ratelimit: too much in flight for this key")
	ErrFull    = errors.New("ratelimit: too much in flight")
)

// NewGate returns a gate admitting perKey at once per key and total
// overall; 0 or less means no bound.
func NewGate(perKey, total int) *Gate {
	return &Gate{perKey: perKey, total: total, keys: map[string]int{}}
}

// Enter takes a place for key. It returns the function that gives it back
// (safe to call more than once), or ErrFull or ErrKeyBusy. A full gate is
// reported before a busy key.
func (g *Gate) Enter(key string) (leave func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.total > 0 && g.n >= g.total {
		return nil, ErrFull
	}
	if g.perKey > 0 && g.keys[key] >= g.perKey {
		return nil, ErrKeyBusy
	}
	g.n++
	g.keys[key]++
	var once sync.Once
	return func() { once.Do(func() { g.leave(key) }) }, nil
}

func (g *Gate) leave(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.keys[key]--; g.keys[key] <= 0 {
		delete(g.keys, key)
	}
}

// InFlight returns how many places are taken overall and by key.
func (g *Gate) InFlight(key string) (total, forKey int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n, g.keys[key]
}
