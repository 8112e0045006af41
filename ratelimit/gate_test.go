package ratelimit

import (
	"errors"
	"sync"
	"testing"
)

func TestGate(t *testing.T) {
	g := NewGate(2, 3)
	var leaves []func()
	for _, step := range []struct {
		key  string
		want error
	}{
		{"alice", nil},
		{"alice", nil},
		{"alice", ErrKeyBusy}, // alice's two places are taken
		{"bob", nil},
		{"carol", ErrFull}, // three overall
		{"alice", ErrFull}, // full is told first
	} {
		leave, err := g.Enter(step.key)
		if !errors.Is(err, step.want) {
			t.Fatalf("Enter(%q) = %v, want %v", step.key, err, step.want)
		}
		if err == nil {
			leaves = append(leaves, leave)
		}
	}
	if total, alice := g.InFlight("alice"); total != 3 || alice != 2 {
		t.Fatalf("in flight %d, alice %d; want 3 and 2", total, alice)
	}
	leaves[0]()
	leaves[0]() // a second leave gives nothing back twice
	if total, alice := g.InFlight("alice"); total != 2 || alice != 1 {
		t.Fatalf("after one leave: in flight %d, alice %d; want 2 and 1", total, alice)
	}
	if _, err := g.Enter("carol"); err != nil {
		t.Fatalf("carol after a leave: %v", err)
	}
	for _, leave := range leaves {
		leave()
	}
	if total, _ := g.InFlight("alice"); total != 1 || len(g.keys) != 1 {
		t.Fatalf("after every leave but carol's: in flight %d, keys %v", total, g.keys)
	}
}

func TestGateUnbounded(t *testing.T) {
	g := NewGate(0, 0)
	for range 100 {
		if _, err := g.Enter("alice"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGateConcurrent(t *testing.T) {
	g := NewGate(4, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	var leaves []func()
	for range 50 {
		wg.Go(func() {
			if leave, err := g.Enter("alice"); err == nil {
				mu.Lock()
				admitted++
				leaves = append(leaves, leave)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if admitted != 4 {
		t.Fatalf("%d of 50 admitted at once, want 4", admitted)
	}
	for _, leave := range leaves {
		leave()
	}
	if total, alice := g.InFlight("alice"); total != 0 || alice != 0 || len(g.keys) != 0 {
		t.Fatalf("after leaving: %d, %d, keys %v", total, alice, g.keys)
	}
}
