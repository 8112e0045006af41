package live_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/live"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func hub(t *testing.T, addr string, db int) *live.Hub {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	t.Cleanup(func() { rdb.Close() })
	h := live.New(rdb, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	wait, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := h.Ready(wait); err != nil {
		t.Fatal(err)
	}
	return h
}

func receive(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case id := <-ch:
		return id
	case <-time.After(5 * time.Second):
		t.Fatal("no notice within 5 s")
		return ""
	}
}

// TestNoticesReachEveryProcess: a change published by one process (a
// worker) reaches the watchers of its creator in another (an API server),
// and no one else's.
func TestNoticesReachEveryProcess(t *testing.T) {
	addr, db := testenv.Redis(t)
	worker, api := hub(t, addr, db), hub(t, addr, db)
	alice, stopAlice := api.Watch("acc_alice")
	alice2, stopAlice2 := api.Watch("acc_alice")
	bob, stopBob := api.Watch("acc_bob")
	defer stopBob()
	defer stopAlice2()

	worker.Notify(context.Background(), "acc_alice", "clp_1")
	if got := receive(t, alice); got != "clp_1" {
		t.Fatalf("alice got %q", got)
	}
	if got := receive(t, alice2); got != "clp_1" {
		t.Fatalf("alice's second tab got %q", got)
	}
	select {
	case id := <-bob:
		t.Fatalf("bob got alice's %q", id)
	case <-time.After(200 * time.Millisecond):
	}

	// A watcher that stopped gets nothing more; the others still do.
	stopAlice()
	stopAlice() // twice is fine
	worker.Notify(context.Background(), "acc_alice", "clp_2")
	if got := receive(t, alice2); got != "clp_2" {
		t.Fatalf("alice's second tab got %q", got)
	}
	select {
	case id := <-alice:
		t.Fatalf("a stopped watcher got %q", id)
	case <-time.After(200 * time.Millisecond):
	}

	// Close ends the streams.
	api.Close()
	select {
	case <-api.Done():
	default:
		t.Fatal("Done is open after Close")
	}
	var nilHub *live.Hub
	nilHub.Notify(context.Background(), "acc_alice", "clp_3") // a server without live status
}
