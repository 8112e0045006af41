package respcache

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopclip/shopclip/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("after 5 s: %s", what)
}

// Two API processes on one Redis: an invalidation in one drops the answer
// in the other; Redis going away stops both keeping answers, and its
// return drops whatever they held and lets them keep again.
func TestBusAcrossProcessesAndOutages(t *testing.T) {
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	stop := testenv.StartRedis(t, addr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var caches [2]*Cache
	var buses [2]*Bus
	for i := range caches {
		rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
		t.Cleanup(func() { rdb.Close() })
		caches[i] = New()
		buses[i] = NewBus(caches[i], rdb, nil)
		if caches[i].Stats().Keeping {
			t.Fatal("a cache keeps answers before its bus has subscribed")
		}
		done := make(chan struct{})
		go func() { buses[i].Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done }) // Run ends with its context
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		if err := buses[i].Ready(rctx); err != nil {
			t.Fatal(err)
		}
		rcancel()
	}
	bs := [2]*builder{{name: "a"}, {name: "b"}}
	for i := range caches {
		get(t, caches[i], Clip, "clp_1", bs[i])
		get(t, caches[i], Clip, "clp_1", bs[i])
		if n := bs[i].builds.Load(); n != 1 {
			t.Fatalf("cache %d built %d times: not keeping", i, n)
		}
	}

	buses[0].Invalidate(ctx, "clp_1")
	if got := get(t, caches[0], Clip, "clp_1", bs[0]); got != "a v2" {
		t.Fatalf("the invalidating process still has %q", got)
	}
	eventually(t, "the other process drops the answer", func() bool {
		return get(t, caches[1], Clip, "clp_1", bs[1]) != "b v1"
	})

	stop() // Redis goes away
	for i := range caches {
		eventually(t, fmt.Sprintf("cache %d stops keeping", i), func() bool { return !caches[i].Stats().Keeping })
		n := bs[i].builds.Load()
		get(t, caches[i], Clip, "clp_1", bs[i])
		get(t, caches[i], Clip, "clp_1", bs[i])
		if got := bs[i].builds.Load(); got != n+2 {
			t.Fatalf("cache %d kept an answer while its bus was down", i)
		}
	}

	testenv.StartRedis(t, addr) // back, empty
	for i := range caches {
		eventually(t, fmt.Sprintf("cache %d keeps again", i), func() bool { return caches[i].Stats().Keeping })
	}
	get(t, caches[1], Clip, "clp_1", bs[1])
	buses[0].Invalidate(ctx, "")
	eventually(t, "an invalidate-all reaches the other process after the outage", func() bool {
		return caches[1].Stats().Clips == 0
	})
}
