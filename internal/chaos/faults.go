package chaos

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
)

func newInspector(addr string) *asynq.Inspector {
	return asynq.NewInspector(asynq.RedisClientOpt{Addr: addr})
}

// inject applies fault f, waits out its length and lifts it; the record
// goes to the ledger.
func (d *Drill) inject(ctx context.Context, f Fault) {
	rec := &FaultRecord{Kind: f.Kind, Worker: f.Worker, Start: time.Now()}
	defer func() {
		rec.End = time.Now()
		d.ledger.addFault(rec)
		d.logf("chaos: %s (worker %d) lifted after %s %s", f.Kind, f.Worker, rec.End.Sub(rec.Start).Round(100*time.Millisecond), rec.Err)
	}()
	d.logf("chaos: %s (worker %d) for %s", f.Kind, f.Worker, f.For)
	sleep := func(dur time.Duration) {
		select {
		case <-ctx.Done():
		case <-time.After(dur):
		}
	}
	fail := func(err error) {
		if err != nil {
			rec.Err = err.Error()
		}
	}
	switch f.Kind {
	case KillWorker:
		w := d.workers[f.Worker]
		w.stop(syscall.SIGKILL, 10*time.Second)
		sleep(f.For)
		fail(w.start())
	case StopWorker:
		w := d.workers[f.Worker]
		w.signal(syscall.SIGSTOP)
		sleep(f.For)
		w.signal(syscall.SIGCONT)
	case KillServe:
		d.serve.stop(syscall.SIGKILL, 10*time.Second)
		sleep(f.For)
		fail(d.serve.start())
		fail(d.waitServe(ctx))
	case KillRedis:
		d.redis.stop(syscall.SIGKILL, 10*time.Second)
		sleep(f.For)
		fail(d.redis.start())
		fail(d.redis.wait(ctx))
	case RestartPG:
		// pg_ctl restart -m fast: SIGINT, then start on the same data.
		d.pg.stop(syscall.SIGINT, 30*time.Second)
		fail(d.pg.start())
		fail(d.pg.wait(ctx))
	case MinIODown, MinIODownLong:
		d.minio.stop(syscall.SIGTERM, 10*time.Second)
		sleep(f.For)
		fail(d.minio.start())
		fail(d.minio.wait(ctx))
	case RedisLatency:
		fail(d.tox.add(d.tox.redis, "latency", "latency", "downstream", `{"latency":250,"jitter":150}`))
		sleep(f.For)
		d.tox.remove(d.tox.redis, "latency")
	case MinIOSlow:
		fail(d.tox.add(d.tox.minio, "bw_down", "bandwidth", "downstream", `{"rate":128}`))
		fail(d.tox.add(d.tox.minio, "bw_up", "bandwidth", "upstream", `{"rate":128}`))
		sleep(f.For)
		d.tox.remove(d.tox.minio, "bw_down")
		d.tox.remove(d.tox.minio, "bw_up")
	case MinIOReset:
		fail(d.tox.add(d.tox.minio, "reset", "reset_peer", "upstream", `{"timeout":300}`))
		sleep(f.For)
		d.tox.remove(d.tox.minio, "reset")
	case RedisTimeout:
		fail(d.tox.add(d.tox.redis, "timeout", "timeout", "upstream", `{"timeout":2000}`))
		sleep(f.For)
		d.tox.remove(d.tox.redis, "timeout")
	case DiskFull:
		if d.diskDir == "" {
			rec.Skipped = d.diskNote
			return
		}
		filler := filepath.Join(d.diskDir, "chaos-filler")
		fail(fill(filler))
		sleep(f.For)
		fail(os.Remove(filler))
	}
}

// fill writes zeros to path until the file system is full.
func fill(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for range 1 << 12 { // 4 GiB at most; the tmpfs holds 64 MiB
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return err
		}
	}
	return errors.New("chaos: the disk never filled")
}
