package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestHashingIsBounded: with every slot taken, a hash waits, and gives up
// when its context ends; once a slot frees, it runs.
func TestHashingIsBounded(t *testing.T) {
	h := Hasher{Params: Params{Memory: 64, Time: 1, Threads: 1}, Concurrent: 1}
	release, err := h.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "waits for a slot"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with every slot taken: %v, want the context's deadline", err)
	}
	release()
	if _, err := h.Hash(context.Background(), "a slot is free"); err != nil {
		t.Fatalf("Hash with a free slot: %v", err)
	}
}
