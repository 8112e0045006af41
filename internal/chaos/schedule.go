package chaos

import (
	"math/rand/v2"
	"sort"
	"time"
)

// FaultKind names a kind of fault the drill injects.
type FaultKind string

// The kinds of fault.
const (
	KillWorker    FaultKind = "kill -9 worker"
	KillServe     FaultKind = "kill -9 serve"
	StopWorker    FaultKind = "SIGSTOP worker > lease"
	KillRedis     FaultKind = "kill -9 redis"
	RestartPG     FaultKind = "restart postgres"
	MinIODown     FaultKind = "minio down"
	MinIODownLong FaultKind = "minio down 5 min"
	RedisLatency  FaultKind = "redis latency+jitter"
	RedisTimeout  FaultKind = "redis timeout"
	MinIOSlow     FaultKind = "minio bandwidth"
	MinIOReset    FaultKind = "minio reset_peer"
	DiskFull      FaultKind = "worker disk full"
)

// Kinds lists every kind of fault, in the order the report shows them.
var Kinds = []FaultKind{KillWorker, StopWorker, KillServe, KillRedis, RestartPG, MinIODown, MinIODownLong,
	RedisLatency, RedisTimeout, MinIOSlow, MinIOReset, DiskFull}

// Fault is one fault of the schedule: it starts At after the drill's start
// and lasts For (the pause before a restart, for kills).
type Fault struct {
	At     time.Duration
	For    time.Duration
	Kind   FaultKind
	Worker int // the worker it hits, for worker faults (0-based)
}

// longOutage is the 5-minute MinIO outage of the long drill.
const longOutage = 5 * time.Minute

// Schedule lays out the faults of a drill lasting d over workers workers,
// with rng choosing which worker each worker fault hits and the gaps
// between worker kills (20–40 s). Every kind happens at least once. The
// one-off faults fill a phase of the drill: all of it for a short drill
// (they end by 60% of it, leaving a quiet end to measure recovery in); in
// a drill long enough for it (8 min or more), the phase is what comes
// before the 5-minute MinIO outage, which ends a minute before the drill.
// Worker kills go on through the phase (and the long outage), skipping the
// worker that is stopped at the time.
func Schedule(d time.Duration, workers int, rng *rand.Rand) []Fault {
	phase := d * 6 / 10
	long := d >= 8*time.Minute
	if long {
		phase = d - longOutage - time.Minute
	}
	// scale maps a moment of the 72-second reference phase onto this one.
	scale := func(s float64) time.Duration { return time.Duration(s / 72 * float64(phase)) }
	// Durations grow with the phase, but the stop always outlasts the
	// 30-second task lease.
	span := func(s float64) time.Duration {
		return max(time.Duration(s*float64(time.Second)), scale(s))
	}
	stopped := rng.IntN(workers)
	stopAt, stopFor := scale(4), max(40*time.Second, min(scale(40), time.Minute))
	faults := []Fault{
		{At: stopAt, For: stopFor, Kind: StopWorker, Worker: stopped},
		{At: scale(14), For: span(8), Kind: RedisLatency},
		{At: scale(14), For: span(8), Kind: MinIOSlow},
		{At: scale(24), For: 3 * time.Second, Kind: KillServe},
		{At: scale(28), For: min(span(20), time.Minute), Kind: MinIODown},
		{At: scale(50), For: span(4), Kind: MinIOReset},
		{At: scale(50), For: span(4), Kind: RedisTimeout},
		{At: scale(56), For: span(12), Kind: DiskFull, Worker: (stopped + 1) % workers},
		{At: scale(60), For: 2 * time.Second, Kind: KillRedis},
		{At: scale(66), Kind: RestartPG},
	}
	if long {
		faults = append(faults, Fault{At: phase, For: longOutage, Kind: MinIODownLong})
	}
	end := phase
	if long {
		end = d - time.Minute
	}
	for at := scale(9); at < end; at += 20*time.Second + time.Duration(rng.Int64N(int64(20*time.Second))) {
		w := rng.IntN(workers)
		if at >= stopAt && at < stopAt+stopFor && w == stopped {
			w = (w + 1 + rng.IntN(workers-1)) % workers
		}
		faults = append(faults, Fault{At: at, For: 3*time.Second + time.Duration(rng.Int64N(int64(5*time.Second))), Kind: KillWorker, Worker: w})
	}
	sort.SliceStable(faults, func(i, j int) bool { return faults[i].At < faults[j].At })
	return faults
}
