// Package apibench is `make bench-api`: it measures the storefront's hot
// paths — pop-ups, feed, deals, search, an HLS playlist and segment, viewer
// events and the buy redirect — of `shopclip serve` as a user runs it (the
// real binary, its config file, SQLite or PostgreSQL, Redis, a local blob
// directory, seeded through the API and the CLI), against a floor: a bare
// net/http server in a process of its own answering every path with the
// very status, Content-Type and body bytes captured from shopclip, from
// memory.
//
// The load (github.com/tsenart/vegeta as a library) is first closed-loop:
// a fixed number of workers, each with one keep-alive connection, sending
// as fast as answers come, for a fixed time, on loopback — the most each
// server pushes through. At saturation a request's latency is the queue
// in front of it (connections over throughput, on the floor too), so the
// latency goal is measured as well at a paced rate — half of the floor's
// most, as many connections at most — where latency is the service's own.
// The floor and shopclip alternate per cell (a target at one load). Requests carry an
// X-Forwarded-For from a large pool of addresses, as from a CDN that
// shopclip trusts, so per-address rate limits stay on and are not the
// bottleneck; every answer that is not 2xx or 3xx (429s apart) is counted
// and printed, never as throughput.
package apibench

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Target is one request the benchmark repeats.
type Target struct {
	// Name labels the target in the tables ("GET /v1/feed").
	Name   string
	Method string
	// Path is the request's path and query.
	Path string
	// Body, when set, makes the body of the nth request (events: each
	// with a session of its own).
	Body func(n uint64) []byte
	// Read marks a read path, held to the goal (>= half the floor's
	// throughput, p99 under 10 ms at 100 connections).
	Read bool
	// Events marks POST /v1/events: answers are read to count the events
	// recorded.
	Events bool
}

// Load is how a cell sends: Conns workers, each with one keep-alive
// connection, for Length; as fast as they are answered (closed loop), or,
// when Rate is set, Rate requests a second spread evenly over time (a
// request waits for a free worker only when all Conns are busy).
type Load struct {
	Conns  int
	Rate   float64 // requests a second; 0: closed loop
	Length time.Duration
}

// Cell is one target at one load against one server.
type Cell struct {
	Target string
	Server string // "floor" or "shopclip"
	Conns  int
	// Asked is the paced rate asked for (0: closed loop).
	Asked float64

	OK       int           // answers 2xx or 3xx
	Limited  int           // 429s
	Errors   int           // other statuses and failed requests
	Elapsed  time.Duration // from the first request to the last answer
	P50, P99 time.Duration // over the 2xx/3xx answers
	P999     time.Duration
	// FirstError is one failure's description, to say what went wrong.
	FirstError string

	lat []time.Duration // the 2xx/3xx answers' latencies, sorted
}

// Merge adds up cells of the same target, concurrency and server (rounds):
// answers and time are summed, quantiles taken over every answer.
func Merge(cells ...Cell) Cell {
	if len(cells) == 1 {
		return cells[0]
	}
	var m Cell
	for _, c := range cells {
		m.Target, m.Server, m.Conns, m.Asked = c.Target, c.Server, c.Conns, c.Asked
		m.OK += c.OK
		m.Limited += c.Limited
		m.Errors += c.Errors
		m.Elapsed += c.Elapsed
		if m.FirstError == "" {
			m.FirstError = c.FirstError
		}
		m.lat = append(m.lat, c.lat...)
	}
	slices.Sort(m.lat)
	m.P50, m.P99, m.P999 = quantile(m.lat, 0.50), quantile(m.lat, 0.99), quantile(m.lat, 0.999)
	return m
}

// Rate is the answers 2xx or 3xx a second.
func (c Cell) Rate() float64 {
	if c.Elapsed <= 0 {
		return 0
	}
	return float64(c.OK) / c.Elapsed.Seconds()
}

// Kept says whether a paced cell got the rate it asked for (within 2%):
// when it did not, the server fell behind and requests waited for a free
// worker before being timed, so its latencies understate the wait.
func (c Cell) Kept() bool {
	return c.Asked > 0 && c.Rate() >= 0.98*c.Asked
}

// Addresses is a pool of client addresses handed out in turn for
// X-Forwarded-For: 16,384 of 10.64.0.0/10 — enough that, at tens of
// thousands of requests a second, none exceeds the per-address limits
// (20 events and 5 buys a second), and few enough that the limiters'
// buckets (at most 65,536) never overflow into a shared one.
type Addresses struct{ n atomic.Uint64 }

// addressPool is the pool's size.
const addressPool = 1 << 14

// Next returns the next address of the pool.
func (a *Addresses) Next() string {
	i := a.n.Add(1) % addressPool
	return netip.AddrFrom4([4]byte{10, 64 + byte(i>>8), byte(i), 1}).String()
}

// Attack runs one cell: t sent to base (http://host:port) as load says.
// Redirects are answers, not followed. count, when set, reads the body of
// each answer (events); it is called from one goroutine.
func Attack(ctx context.Context, base string, t Target, load Load, addrs *Addresses, count func(status int, body []byte)) Cell {
	conns := load.Conns
	tr := &http.Transport{
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	maxBody := int64(0) // bodies are drained, not kept
	if count != nil {
		maxBody = 64 << 10
	}
	atk := vegeta.NewAttacker(vegeta.Client(hc), vegeta.Workers(uint64(conns)), vegeta.MaxWorkers(uint64(conns)),
		vegeta.MaxBody(maxBody))
	var seq atomic.Uint64
	url := base + t.Path
	targeter := func(tgt *vegeta.Target) error {
		n := seq.Add(1)
		tgt.Method, tgt.URL = t.Method, url
		tgt.Header = http.Header{"X-Forwarded-For": {addrs.Next()}}
		if t.Body != nil {
			tgt.Body = t.Body(n)
			tgt.Header.Set("Content-Type", "application/json")
		}
		return nil
	}
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()

	c := Cell{Target: t.Name, Conns: conns, Asked: load.Rate}
	rate := vegeta.Rate{Freq: 0} // as fast as answered
	if load.Rate > 0 {
		// Per request, in nanoseconds: vegeta spreads the requests evenly.
		rate = vegeta.Rate{Freq: 1, Per: time.Duration(float64(time.Second) / load.Rate)}
	}
	lat := make([]time.Duration, 0, 1<<16)
	start := time.Now()
	var last time.Time
	for res := range atk.Attack(targeter, rate, load.Length, t.Name) {
		last = time.Now()
		switch {
		case res.Code == http.StatusTooManyRequests:
			c.Limited++
		case res.Code >= 200 && res.Code < 400 && res.Error == "":
			c.OK++
			lat = append(lat, res.Latency)
		default:
			c.Errors++
			if c.FirstError == "" {
				c.FirstError = fmt.Sprintf("%d %s", res.Code, res.Error)
			}
		}
		if count != nil && res.Code != 0 {
			count(int(res.Code), res.Body)
		}
	}
	if !last.IsZero() {
		c.Elapsed = last.Sub(start)
	}
	slices.Sort(lat)
	c.P50, c.P99, c.P999 = quantile(lat, 0.50), quantile(lat, 0.99), quantile(lat, 0.999)
	c.lat = lat
	return c
}

// quantile is the q-quantile of sorted (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
