package workers_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/workers"
)

// envHold makes this test binary a worker that takes one task and holds
// it until it is killed (see holdTask), for the tests below to kill.
const envHold = "SHOPCLIP_TEST_HOLD_TASK"

// holdTask runs an asynq server on the Redis addr/db in spec that takes
// a task of the transcode queue, prints "holding <id>" and never finishes.
func holdTask(spec string) {
	addr, db, _ := strings.Cut(spec, "/")
	n, _ := strconv.Atoi(db)
	srv := asynq.NewServer(asynq.RedisClientOpt{Addr: addr, DB: n}, asynq.Config{
		Concurrency: 1, Queues: map[string]int{workers.QueueTranscode: 1},
		Logger: quietLogger{}, LogLevel: asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(workers.TypeTranscode, func(ctx context.Context, t *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		fmt.Println("holding", id)
		select {}
	})
	if err := srv.Run(mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type quietLogger struct{}

func (quietLogger) Debug(...any) {}
func (quietLogger) Info(...any)  {}
func (quietLogger) Warn(...any)  {}
func (quietLogger) Error(...any) {}
func (quietLogger) Fatal(...any) {}

// leaseRig is a Redis with one transcode task taken by a worker process
// that was then killed with SIGKILL: the task is active, its lease left to
// lapse, as a worker killed mid-transcode leaves it.
type leaseRig struct {
	opt    asynq.RedisClientOpt
	rdb    *redis.Client
	insp   *asynq.Inspector
	taskID string
	killed time.Time
}

func newLeaseRig(t *testing.T) *leaseRig {
	t.Helper()
	addr, db := testenv.Redis(t)
	r := &leaseRig{opt: asynq.RedisClientOpt{Addr: addr, DB: db}}
	r.rdb = redis.NewClient(&redis.Options{Addr: addr, DB: db})
	r.insp = asynq.NewInspector(r.opt)
	q := workers.NewClient(r.opt, workers.ClientConfig{})
	t.Cleanup(func() { q.Close(); r.insp.Close(); r.rdb.Close() })
	clipID := "clp_" + strings.Repeat("a", 22)
	if err := q.EnqueueTranscode(context.Background(), clipID); err != nil {
		t.Fatal(err)
	}
	r.taskID = workers.TranscodeTaskID(clipID)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envHold+"="+addr+"/"+strconv.Itoa(db))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	held := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "holding "); ok {
				held <- id
				return
			}
		}
		close(held)
	}()
	select {
	case id := <-held:
		if id != r.taskID {
			t.Fatalf("the worker holds %q, want %q", id, r.taskID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker took no task in 30 s")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	r.killed = time.Now()
	r.wantState(t, asynq.TaskStateActive)
	return r
}

func (r *leaseRig) wantState(t *testing.T, want asynq.TaskState) *asynq.TaskInfo {
	t.Helper()
	info, err := r.insp.GetTaskInfo(workers.QueueTranscode, r.taskID)
	if err != nil {
		t.Fatal(err)
	}
	if info.State != want {
		t.Fatalf("task %s is %s, want %s", r.taskID, info.State, want)
	}
	return info
}

// runsAgain serves the queue with a real worker and reports whether the
// task ran to its end.
func (r *leaseRig) runsAgain(t *testing.T) {
	t.Helper()
	var ran atomic.Bool
	srv := asynq.NewServer(r.opt, asynq.Config{Concurrency: 1, Queues: map[string]int{workers.QueueTranscode: 1},
		Logger: quietLogger{}, LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc(workers.TypeTranscode, func(context.Context, *asynq.Task) error { ran.Store(true); return nil })
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	for deadline := time.Now().Add(30 * time.Second); !ran.Load(); {
		if time.Now().After(deadline) {
			t.Fatal("the requeued task did not run in 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLeasesRecoverAKilledWorkersTask: the task of a worker killed with
// SIGKILL stays active while its lease could still be a live worker's,
// and is back in the queue on the first pass after the lease and its
// grace have lapsed (not asynq's minute and more), without a retry used.
func TestLeasesRecoverAKilledWorkersTask(t *testing.T) {
	r := newLeaseRig(t)
	var skew atomic.Int64
	l := &workers.Leases{Redis: r.rdb, Grace: 10 * time.Second,
		Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }}
	ctx := context.Background()
	if n, err := l.RecoverOnce(ctx); err != nil || n != 0 {
		t.Fatalf("RecoverOnce with a lease that may be live = %d, %v; want 0 requeued", n, err)
	}
	r.wantState(t, asynq.TaskStateActive)

	// The lease (30 s from the last extension) and the grace have passed.
	skew.Store(int64(41 * time.Second))
	if n, err := l.RecoverOnce(ctx); err != nil || n != 1 {
		t.Fatalf("RecoverOnce past the lease = %d, %v; want 1 requeued", n, err)
	}
	if info := r.wantState(t, asynq.TaskStatePending); info.Retried != 0 {
		t.Errorf("the requeue used %d retries, want 0", info.Retried)
	}
	if n, err := l.RecoverOnce(ctx); err != nil || n != 0 {
		t.Errorf("a second pass = %d, %v; want nothing more to do", n, err)
	}
	r.runsAgain(t)
}

// TestLeasesRecoverAnActiveTaskWithoutLease: an active task whose lease
// entry is gone (hibiken/asynq#1144: asynq's recoverer never sees it) is
// requeued on the second pass that finds it so.
func TestLeasesRecoverAnActiveTaskWithoutLease(t *testing.T) {
	r := newLeaseRig(t)
	ctx := context.Background()
	if err := r.rdb.ZRem(ctx, "asynq:{"+workers.QueueTranscode+"}:lease", r.taskID).Err(); err != nil {
		t.Fatal(err)
	}
	l := &workers.Leases{Redis: r.rdb}
	if n, err := l.RecoverOnce(ctx); err != nil || n != 0 {
		t.Fatalf("first pass = %d, %v; want 0 (look twice)", n, err)
	}
	r.wantState(t, asynq.TaskStateActive)
	if n, err := l.RecoverOnce(ctx); err != nil || n != 1 {
		t.Fatalf("second pass = %d, %v; want 1 requeued", n, err)
	}
	r.wantState(t, asynq.TaskStatePending)
	r.runsAgain(t)
}

// TestLeasesBoundRequeues: a task requeued MaxRequeues times is left to
// asynq's recoverer, which counts its retries; one without a lease gets
// an expired lease for that recoverer to find.
func TestLeasesBoundRequeues(t *testing.T) {
	r := newLeaseRig(t)
	ctx := context.Background()
	task := "asynq:{" + workers.QueueTranscode + "}:t:" + r.taskID
	lease := "asynq:{" + workers.QueueTranscode + "}:lease"
	if err := r.rdb.HSet(ctx, task, "shopclip_requeues", 3).Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.rdb.ZRem(ctx, lease, r.taskID).Err(); err != nil {
		t.Fatal(err)
	}
	l := &workers.Leases{Redis: r.rdb, MaxRequeues: 3}
	for pass := range 2 {
		if n, err := l.RecoverOnce(ctx); err != nil || n != 0 {
			t.Fatalf("pass %d = %d, %v; want 0 requeued past MaxRequeues", pass, n, err)
		}
	}
	r.wantState(t, asynq.TaskStateActive)
	if _, err := r.rdb.ZScore(ctx, lease, r.taskID).Result(); err != nil {
		t.Errorf("the unleased task got no lease for asynq's recoverer: %v", err)
	}
}

// TestLeasesReleaseAll: `shopclip up` owns its Redis, so at its start every
// active task is its previous run's: all go back to pending at once.
func TestLeasesReleaseAll(t *testing.T) {
	r := newLeaseRig(t)
	l := &workers.Leases{Redis: r.rdb}
	if n, err := l.ReleaseAll(context.Background()); err != nil || n != 1 {
		t.Fatalf("ReleaseAll = %d, %v; want 1", n, err)
	}
	r.wantState(t, asynq.TaskStatePending)
	r.runsAgain(t)
}
