package chaos

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestSchedule checks the fault schedule of short and long drills: every
// kind at least once (the 5-minute outage only in long ones), every fault
// over before the drill ends, worker kills 20–40 s apart and never on the
// worker that is stopped, the stop longer than the 30-second task lease.
func TestSchedule(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    time.Duration
		long bool
	}{
		{"short", 2 * time.Minute, false},
		{"medium", 5 * time.Minute, false},
		{"long", 10 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(20) {
				faults := Schedule(tc.d, 3, rand.New(rand.NewPCG(seed, 1)))
				count := map[FaultKind]int{}
				var stop Fault
				var lastKill time.Duration = -1
				for _, f := range faults {
					count[f.Kind]++
					if end := f.At + f.For; end > tc.d {
						t.Errorf("seed %d: %s ends at %s, after the drill (%s)", seed, f.Kind, end, tc.d)
					}
					switch f.Kind {
					case StopWorker:
						stop = f
						if f.For <= 30*time.Second {
							t.Errorf("seed %d: the stop lasts %s, not longer than the lease", seed, f.For)
						}
					case KillWorker:
						if lastKill >= 0 {
							if gap := f.At - lastKill; gap < 20*time.Second || gap > 40*time.Second {
								t.Errorf("seed %d: kills %s apart", seed, gap)
							}
						}
						lastKill = f.At
					}
				}
				for _, f := range faults {
					if f.Kind == KillWorker && f.Worker == stop.Worker && f.At >= stop.At && f.At < stop.At+stop.For {
						t.Errorf("seed %d: worker %d killed at %s while stopped", seed, f.Worker, f.At)
					}
				}
				for _, k := range Kinds {
					want := k != MinIODownLong || tc.long
					if got := count[k] > 0; got != want {
						t.Errorf("seed %d: %s scheduled %d times", seed, k, count[k])
					}
				}
				if count[KillServe] != 1 {
					t.Errorf("seed %d: serve killed %d times, want once", seed, count[KillServe])
				}
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	s := func(n ...int) []time.Duration {
		var ds []time.Duration
		for _, x := range n {
			ds = append(ds, time.Duration(x)*time.Second)
		}
		return ds
	}
	for _, tc := range []struct {
		name string
		ds   []time.Duration
		p    int
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", s(7), 99, 7 * time.Second},
		{"median of odd", s(5, 1, 3), 50, 3 * time.Second},
		{"p99 of 100 is the 99th", s(rangeN(100)...), 99, 99 * time.Second},
		{"max", s(4, 9, 2), 100, 9 * time.Second},
	} {
		if got := percentile(tc.ds, tc.p); got != tc.want {
			t.Errorf("%s: percentile(%d) = %s, want %s", tc.name, tc.p, got, tc.want)
		}
	}
}

func rangeN(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// TestRecoveries checks the recovery measure: the time from a fault's end
// until the uploads accepted before it are terminal (never, when one is
// not), and until the first upload accepted after it is ready.
func TestRecoveries(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	ready := func(s int) *row { p := at(s); return &row{Status: "ready", Published: &p, Updated: p} }
	l := &Ledger{
		Uploads: []*Upload{
			{ClipID: "a", Answered: at(1)},
			{ClipID: "b", Answered: at(5)},
			{ClipID: "c", Answered: at(12)},
			{ClipID: "d", Answered: at(30)},
		},
		Faults: []*FaultRecord{
			{Kind: KillWorker, Start: at(2), End: at(10)},
			{Kind: KillRedis, Start: at(20), End: at(25)},
		},
	}
	rows := map[string]*row{"a": ready(4), "b": ready(40), "c": ready(15), "d": {Status: "processing"}}
	got := map[FaultKind]Recovery{}
	for _, r := range recoveries(l, rows) {
		got[r.Kind] = r
	}
	if r := got[KillWorker]; r.Count != 1 || r.Drain != 30*time.Second || r.NextReady != 5*time.Second {
		t.Errorf("kill worker: %+v, want drained after 30s, next ready after 5s", r)
	}
	if r := got[KillRedis]; r.Drain != 15*time.Second || r.NextReady != -1 {
		t.Errorf("kill redis: %+v, want drained after 15s, no next ready", r)
	}
	rows["a"] = &row{Status: "uploaded"}
	for _, r := range recoveries(l, rows) {
		if r.Drain != -1 {
			t.Errorf("%s: drained after %s with a clip accepted before it still uploaded", r.Kind, r.Drain)
		}
	}
}

func TestGenerationOf(t *testing.T) {
	for in, want := range map[string]string{
		"/v1/clips/clp_1/media/att_2/master.m3u8": "att_2",
		"":                            "",
		"/v1/clips/clp_1/share/x.mp4": "",
	} {
		if got := generationOf(in); got != want {
			t.Errorf("generationOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestGoals checks that each count off its goal is reported.
func TestGoals(t *testing.T) {
	ok := Report{Accepted: 3, Ready: 2, GoodReady: 2, goodAcc: 2, FailedMedia: 1}
	if miss := ok.Goals(); len(miss) != 0 {
		t.Errorf("a clean report misses %v", miss)
	}
	for name, breakIt := range map[string]func(*Report){
		"lost":            func(r *Report) { r.Lost = 1 },
		"published twice": func(r *Report) { r.PublishedTwice = 1 },
		"orphaned":        func(r *Report) { r.Orphaned = 2 },
		"stale outputs":   func(r *Report) { r.StaleOutputs = 1 },
		"missing":         func(r *Report) { r.MissingObjects = 1 },
		"stuck":           func(r *Report) { r.StuckActive = 1 },
		"wrong outcome":   func(r *Report) { r.WrongOutcome = 1 },
		"good not ready":  func(r *Report) { r.goodAcc = 3 },
		"tag lost":        func(r *Report) { r.TagsLost = 1 },
		"price lost":      func(r *Report) { r.PricesLost = 1 },
		"stale timeline":  func(r *Report) { r.StaleTimelines = 1 },
		"nothing accepted": func(r *Report) {
			r.Accepted, r.Ready, r.GoodReady, r.goodAcc = 0, 0, 0, 0
		},
	} {
		r := ok
		breakIt(&r)
		if miss := r.Goals(); len(miss) != 1 {
			t.Errorf("%s: goals missed %v, want one", name, miss)
		}
	}
}
