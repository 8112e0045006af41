package ffmpeg

/*
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

// shopclip_warm faults in up to n bytes of the heap, 8 MiB at a time, at
// the lowest priority (its thread's only: the thread ends after), then
// frees them, stopping early when *stop is set. It returns the bytes
// faulted in.
static size_t shopclip_warm(size_t n, volatile int *stop) {
	setpriority(PRIO_PROCESS, syscall(SYS_gettid), 19);
	enum { chunk = 8 << 20, most = 512 };
	void *held[most];
	size_t k = 0;
	long page = sysconf(_SC_PAGESIZE);
	while (k < most && (size_t)k * chunk < n && !*stop) {
		volatile char *p = malloc(chunk);
		if (p == NULL) break;
		for (size_t i = 0; i < chunk; i += page) p[i] = 0;
		held[k++] = (void *)p;
	}
	for (size_t i = 0; i < k; i++) free(held[i]);
	return k * chunk;
}
// shopclip_relax_memory gives back what a job's first segments left free
// (the first encoders, the warmed memory not used) once they are out, and
// from then on free memory beyond 64 MiB at the heap's top. Large
// allocations stay on the heap: from mmap, every one would fault its pages
// in again.
static void shopclip_relax_memory(void) {
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	malloc_trim(0);
}
*/
import "C"

import (
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"
)

// warming faults memory in for a prestarted child's job while it waits.
type warming struct {
	stop *C.int // C memory: the C loop reads it
	done chan int64
}

// warmMemory starts faulting in n bytes of heap, at the lowest priority,
// for the job to come: freed, they stay with the process for its job's
// allocations (transcode.ChildEnvironment's malloc settings). On this project's 2-core VM a fault with its zeroing
// costs about 10 µs a page, and a 1080x1920 clip's first segment allocates
// a few hundred MiB (three renditions' encoders twice, the decoder, the
// filters): faulted in ahead, the first segment is out 0.2 to 0.3 s sooner.
func warmMemory(n int64) *warming {
	w := &warming{stop: (*C.int)(C.calloc(1, C.size_t(unsafe.Sizeof(C.int(0))))), done: make(chan int64, 1)}
	go func() {
		// The thread's priority is lowered for this loop: the thread is
		// not handed back to the Go scheduler, so it ends with it.
		runtime.LockOSThread()
		w.done <- int64(C.shopclip_warm(C.size_t(n), w.stop))
	}()
	return w
}

// finish stops the warming as the job starts and waits (at most wait) for
// it to free what it holds, so the job's allocations reuse it. It returns
// the bytes faulted in, or -1 if the warming did not stop in time.
func (w *warming) finish(wait time.Duration) int64 {
	atomic.StoreInt32((*int32)(unsafe.Pointer(w.stop)), 1)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case n := <-w.done:
		C.free(unsafe.Pointer(w.stop))
		return n
	case <-t.C:
		return -1 // stop stays allocated: the loop still reads it
	}
}

// relaxMemory gives memory back once the job's first segments are out
// (see shopclip_relax_memory): keeping every freed byte would cost the rest
// of the transcode about 30% more peak memory.
func relaxMemory() { C.shopclip_relax_memory() }
