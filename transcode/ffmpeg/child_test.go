package ffmpeg

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/transcode"
)

// readEvents reads JSON-line events from r until EOF, in the background.
func readEvents(t *testing.T, r *os.File) func() []transcode.Event {
	t.Helper()
	var events []transcode.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var ev transcode.Event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Errorf("bad event line %q: %v", sc.Text(), err)
				continue
			}
			events = append(events, ev)
		}
	}()
	return func() []transcode.Event { <-done; return events }
}

// checkPrefix checks events are the progress events 0, 1, 2, … in order.
func checkPrefix(t *testing.T, events []transcode.Event) {
	t.Helper()
	for i, ev := range events {
		if ev.OutTimeMS != int64(i) {
			t.Fatalf("event %d carries %d: events were lost or reordered", i, ev.OutTimeMS)
		}
	}
}

func TestEventWriterDelivers(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	events := readEvents(t, r)
	e := newEventWriter(w, slog.New(slog.DiscardHandler))
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range 4 { // senders from several goroutines, serialized as the engine's are
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next == 2000 {
					mu.Unlock()
					return
				}
				e.send(transcode.Event{Kind: transcode.EventProgress, OutTimeMS: int64(next)})
				next++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	e.close(time.Minute)
	w.Close()
	got := events()
	if len(got) != 2000 {
		t.Errorf("%d events delivered, want 2000", len(got))
	}
	checkPrefix(t, got)
	e.send(transcode.Event{Kind: transcode.EventProgress}) // after close: dropped, no panic
}

// TestEventWriterParentNotReading: a parent that stops reading never holds
// up the sender; past the queue's bound the writer stops for good, and the
// parent gets a prefix of the events, without a gap.
func TestEventWriterParentNotReading(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var logs testenv.SyncBuffer
	e := newEventWriter(w, slog.New(slog.NewTextHandler(&logs, nil)))
	const n = 200_000 // about 8 MB of events: twice the queue's bound
	for i := range n {
		e.send(transcode.Event{Kind: transcode.EventProgress, OutTimeMS: int64(i)})
	}
	e.close(10 * time.Millisecond) // the writer is stuck on the full pipe
	if !strings.Contains(logs.String(), "does not read events") {
		t.Errorf("no warning about the parent:\n%s", logs.String())
	}
	events := readEvents(t, r) // the parent wakes up
	<-e.done                   // the write in flight completes; the writer stops
	w.Close()
	got := events()
	if len(got) >= n {
		t.Errorf("all %d events delivered through a pipe nobody read, want a prefix", n)
	}
	t.Logf("%d of %d events delivered", len(got), n)
	checkPrefix(t, got)
}

// TestEventWriterParentGone: a closed pipe stops the writer; sending goes
// on without error and close does not wait.
func TestEventWriterParentGone(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	var logs testenv.SyncBuffer
	e := newEventWriter(w, slog.New(slog.NewTextHandler(&logs, nil)))
	e.send(transcode.Event{Kind: transcode.EventProbe})
	<-e.done // the write failed: the writer stopped
	for range 1000 {
		e.send(transcode.Event{Kind: transcode.EventProgress})
	}
	e.close(time.Minute) // returns at once: nothing to wait for
	if !strings.Contains(logs.String(), "events pipe closed") {
		t.Errorf("no warning about the closed pipe:\n%s", logs.String())
	}
}
