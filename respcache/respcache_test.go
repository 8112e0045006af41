package respcache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newTestCache() (*Cache, *clock) {
	clk := &clock{t: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)}
	c := New()
	c.Now = clk.Now
	return c, clk
}

// builder counts its builds and answers "<name> v<n>".
type builder struct {
	name    string
	builds  atomic.Int64
	expires time.Time
}

func (b *builder) build(context.Context) (*Answer, error) {
	n := b.builds.Add(1)
	return NewAnswer(fmt.Appendf(nil, "%s v%d", b.name, n), b.expires), nil
}

func get(t *testing.T, c *Cache, kind Kind, key string, b *builder) string {
	t.Helper()
	a, err := c.Get(context.Background(), kind, key, b.build)
	if err != nil {
		t.Fatal(err)
	}
	return string(a.Body)
}

func TestGetKeepsUntilExpiry(t *testing.T) {
	c, clk := newTestCache()
	b := &builder{name: "popups", expires: clk.Now().Add(10 * time.Second)}
	if got := get(t, c, Clip, "clp_1", b); got != "popups v1" {
		t.Fatalf("first Get = %q", got)
	}
	clk.Advance(9 * time.Second)
	if got := get(t, c, Clip, "clp_1", b); got != "popups v1" {
		t.Fatalf("Get before the answer's expiry = %q, want the kept v1", got)
	}
	clk.Advance(time.Second) // the sale ends: exactly at Expires the answer is gone
	if got := get(t, c, Clip, "clp_1", b); got != "popups v2" {
		t.Fatalf("Get at the answer's expiry = %q, want a new build", got)
	}
	if s := c.Stats(); s.Hits != 1 || s.Misses != 2 {
		t.Fatalf("stats %+v, want 1 hit and 2 misses", s)
	}
}

func TestMaxAges(t *testing.T) {
	c, clk := newTestCache()
	c.MaxAge, c.ListMaxAge = time.Minute, time.Second
	clip, list := &builder{name: "clip"}, &builder{name: "list"} // no expiry of their own
	get(t, c, Clip, "clp_1", clip)
	get(t, c, List, "feed", list)
	clk.Advance(999 * time.Millisecond)
	if get(t, c, Clip, "clp_1", clip) != "clip v1" || get(t, c, List, "feed", list) != "list v1" {
		t.Fatal("answers dropped before their max age")
	}
	clk.Advance(time.Millisecond)
	if got := get(t, c, List, "feed", list); got != "list v2" {
		t.Fatalf("list after ListMaxAge = %q", got)
	}
	if got := get(t, c, Clip, "clp_1", clip); got != "clip v1" {
		t.Fatalf("clip answer before MaxAge = %q", got)
	}
	clk.Advance(time.Minute)
	if got := get(t, c, Clip, "clp_1", clip); got != "clip v2" {
		t.Fatalf("clip answer after MaxAge = %q", got)
	}
}

func TestInvalidate(t *testing.T) {
	c, _ := newTestCache()
	one, two, feed := &builder{name: "one"}, &builder{name: "two"}, &builder{name: "feed"}
	get(t, c, Clip, "clp_1", one)
	get(t, c, Clip, "clp_2", two)
	get(t, c, List, "feed", feed)
	c.Invalidate("clp_1")
	if got := get(t, c, Clip, "clp_1", one); got != "one v2" {
		t.Fatalf("invalidated clip = %q", got)
	}
	if got := get(t, c, Clip, "clp_2", two); got != "two v1" {
		t.Fatalf("another clip = %q, want it kept", got)
	}
	if got := get(t, c, List, "feed", feed); got != "feed v2" {
		t.Fatalf("list after a clip's invalidation = %q, want it rebuilt", got)
	}
	c.InvalidateAll()
	if get(t, c, Clip, "clp_2", two) != "two v2" || get(t, c, List, "feed", feed) != "feed v3" {
		t.Fatal("InvalidateAll kept an answer")
	}
}

// An invalidation during a build: the build's answer goes to its callers
// but is not kept, and a caller arriving after the invalidation does not
// join the older build.
func TestInvalidationDuringBuild(t *testing.T) {
	c, _ := newTestCache()
	started, release := make(chan struct{}), make(chan struct{})
	var builds atomic.Int64
	slow := func(context.Context) (*Answer, error) {
		n := builds.Add(1)
		if n == 1 {
			close(started)
			<-release
		}
		return NewAnswer(fmt.Appendf(nil, "v%d", n), time.Time{}), nil
	}
	first := make(chan string)
	go func() {
		a, err := c.Get(context.Background(), Clip, "clp_1", slow)
		if err != nil {
			first <- err.Error()
			return
		}
		first <- string(a.Body)
	}()
	<-started
	c.Invalidate("clp_1") // the change commits while v1 is being built
	a, err := c.Get(context.Background(), Clip, "clp_1", slow)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Body) != "v2" {
		t.Fatalf("a caller after the invalidation got %q, want a build of its own (v2)", a.Body)
	}
	close(release)
	if got := <-first; got != "v1" {
		t.Fatalf("the first caller got %q", got)
	}
	a, err = c.Get(context.Background(), Clip, "clp_1", slow)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Body) != "v2" {
		t.Fatalf("kept answer = %q, want v2: the build that spanned the invalidation must not be kept", a.Body)
	}
}

func TestOneBuildForConcurrentCallers(t *testing.T) {
	c, _ := newTestCache()
	release := make(chan struct{})
	var builds atomic.Int64
	build := func(context.Context) (*Answer, error) {
		builds.Add(1)
		<-release
		return NewAnswer([]byte("x"), time.Time{}), nil
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := c.Get(context.Background(), Clip, "clp_1", build); err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let the callers pile up on the flight
	close(release)
	wg.Wait()
	if n := builds.Load(); n > 2 {
		t.Fatalf("%d builds for 50 concurrent callers", n)
	}
}

func TestErrorsAndCancellation(t *testing.T) {
	c, _ := newTestCache()
	boom := errors.New("database down")
	if _, err := c.Get(context.Background(), Clip, "clp_1", func(context.Context) (*Answer, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	// Errors are not kept.
	b := &builder{name: "ok"}
	if got := get(t, c, Clip, "clp_1", b); got != "ok v1" {
		t.Fatalf("after an error: %q", got)
	}
	// The build does not inherit the caller's cancellation: callers that
	// joined it must not fail because the first one hung up.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a, err := c.Get(ctx, Clip, "clp_2", func(ctx context.Context) (*Answer, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return NewAnswer([]byte("built"), time.Time{}), nil
	})
	if err != nil || string(a.Body) != "built" {
		t.Fatalf("build with a cancelled caller: %v %q", err, a)
	}
}

func TestLimits(t *testing.T) {
	c, clk := newTestCache()
	c.MaxLists = 2
	b := &builder{name: "search", expires: clk.Now().Add(500 * time.Millisecond)}
	get(t, c, List, "q=a", b)
	get(t, c, List, "q=b", b)
	get(t, c, List, "q=c", b) // full: served, not kept
	if s := c.Stats(); s.Lists != 2 {
		t.Fatalf("%d lists kept, limit 2", s.Lists)
	}
	clk.Advance(500 * time.Millisecond) // both kept ones expire: swept for the next
	get(t, c, List, "q=d", &builder{name: "later", expires: clk.Now().Add(time.Second)})
	if s := c.Stats(); s.Lists != 1 {
		t.Fatalf("%d lists kept after the sweep, want 1", s.Lists)
	}
	// An answer already expired when built is not kept.
	past := &builder{name: "past", expires: clk.Now().Add(-time.Second)}
	get(t, c, Clip, "clp_9", past)
	get(t, c, Clip, "clp_9", past)
	if n := past.builds.Load(); n != 2 {
		t.Fatalf("an expired answer was kept (%d builds)", n)
	}
}

func TestNilCacheBuildsEveryTime(t *testing.T) {
	var c *Cache
	b := &builder{name: "x"}
	get(t, c, Clip, "clp_1", b)
	get(t, c, Clip, "clp_1", b)
	c.Invalidate("clp_1")
	if n := b.builds.Load(); n != 2 {
		t.Fatalf("%d builds", n)
	}
}

// A clip's answers under several keys go together, and only they.
func TestClipKeys(t *testing.T) {
	c, _ := newTestCache()
	pops, media, other := &builder{name: "popups"}, &builder{name: "playlist"}, &builder{name: "other"}
	get(t, c, Clip, "clp_1/popups", pops)
	get(t, c, Clip, "clp_1/g1/720p/index.m3u8", media)
	get(t, c, Clip, "clp_2/popups", other)
	if s := c.Stats(); s.Clips != 3 {
		t.Fatalf("%d clip answers kept, want 3", s.Clips)
	}
	c.Invalidate("clp_1")
	if s := c.Stats(); s.Clips != 1 {
		t.Fatalf("%d clip answers kept after clp_1's invalidation, want 1", s.Clips)
	}
	if get(t, c, Clip, "clp_1/popups", pops) != "popups v2" || get(t, c, Clip, "clp_1/g1/720p/index.m3u8", media) != "playlist v2" {
		t.Error("an answer of the invalidated clip was kept")
	}
	if get(t, c, Clip, "clp_2/popups", other) != "other v1" {
		t.Error("another clip's answer was dropped")
	}
	// The bound counts every key.
	c.MaxClips = 3
	get(t, c, Clip, "clp_3", other)
	if s := c.Stats(); s.Clips != 3 {
		t.Fatalf("%d clip answers kept, limit 3", s.Clips)
	}
}

// Clip answers' bodies are bounded in bytes too.
func TestMaxBytes(t *testing.T) {
	c, _ := newTestCache()
	c.MaxBytes = 10
	build := func(body string) func(context.Context) (*Answer, error) {
		return func(context.Context) (*Answer, error) { return NewAnswer([]byte(body), time.Time{}), nil }
	}
	for _, k := range []string{"clp_1/a", "clp_1/b", "clp_2/a"} {
		if _, err := c.Get(context.Background(), Clip, k, build("1234")); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Stats(); s.Clips != 2 || s.ClipBytes != 8 {
		t.Fatalf("kept %d answers of %d bytes, want 2 of 8 (limit 10)", s.Clips, s.ClipBytes)
	}
	c.Invalidate("clp_1")
	if s := c.Stats(); s.Clips != 0 || s.ClipBytes != 0 {
		t.Fatalf("after the invalidation: %+v", s)
	}
}
