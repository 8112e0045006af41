// Package chaos is shopclip's fault drill (`make chaos`): it runs the
// scale-out shape on one machine — one `shopclip serve`, three `shopclip
// worker` processes, PostgreSQL, MinIO and Redis, all its own and all on
// 127.0.0.1 — pushes a steady stream of uploads, tag, price and discount
// changes through it while killing, pausing and starving its parts, then
// reconciles a ledger of every request it made against the database, the
// queue and the bucket (RELIABILITY.md A2, A4, A9, A10, A14, D1, D3, D5,
// G3, G4, G6).
//
// The workers reach Redis and MinIO through Toxiproxy (in process), which
// adds latency, bandwidth limits, stalls and connection resets; a tmpfs
// mounted on one worker's work directory is filled to make its disk full.
// The drill is bounded: it injects faults for its duration, then waits at
// most its grace for every accepted clip to reach a terminal status.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/shopclip/shopclip/blob/s3"
	"github.com/shopclip/shopclip/janitor"
	"github.com/shopclip/shopclip/store"
)

// Config tunes a drill. Bin, MediaDir, Dir and the server binaries are
// required.
type Config struct {
	// Duration is how long load and faults go on.
	Duration time.Duration
	// Grace bounds the wait, after the faults, for every accepted clip to
	// reach a terminal status.
	Grace time.Duration
	// Seed makes the schedule and the upload mix reproducible.
	Seed int64
	// Workers is the number of `shopclip worker` processes. Default 3.
	Workers int

	Bin            string // the shopclip binary
	MediaDir       string // ../shared/media
	Dir            string // data and logs; kept for inspection
	RedisBin       string // redis-server
	PostgresBinDir string // holds initdb and postgres
	MinIOBin       string

	// Mix is the upload mix. Default DefaultMix.
	Mix []Media
	// UploadEvery is the pace of uploads. Default 3s.
	UploadEvery time.Duration
	// Logf reports progress.
	Logf func(format string, args ...any)
}

// Drill is one run of the drill.
type Drill struct {
	cfg    Config
	dir    string
	ledger *Ledger
	rng    *rand.Rand
	logf   func(string, ...any)

	redis   *redisServer
	pg      *postgresServer
	minio   *minioServer
	tox     *toxics
	serve   *proc
	workers []*proc
	s3      *minio.Client
	api     *api

	diskDir   string // the tmpfs mounted on a worker's work dir; "" when none
	diskNote  string // why the disk fault is skipped
	graceUsed time.Duration
	cleanups  []func()
}

// New returns a drill; Run runs it and Close removes what it started.
func New(cfg Config) *Drill {
	if cfg.Workers == 0 {
		cfg.Workers = 3
	}
	if cfg.Mix == nil {
		cfg.Mix = DefaultMix
	}
	if cfg.UploadEvery == 0 {
		cfg.UploadEvery = 3 * time.Second
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &Drill{cfg: cfg, dir: cfg.Dir, ledger: &Ledger{}, logf: logf,
		rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed))}
}

// Run sets everything up, runs the load and the faults, waits out the
// grace and reconciles. The ledger is written to Dir/ledger.json.
func (d *Drill) Run(ctx context.Context) (*Report, error) {
	if err := d.setUp(ctx); err != nil {
		return nil, err
	}
	l := &load{api: d.api, mediaDir: d.cfg.MediaDir, mix: d.cfg.Mix, ledger: d.ledger, logf: d.logf,
		rng: rand.New(rand.NewPCG(uint64(d.cfg.Seed), 0x10ad)), uploadEvery: d.cfg.UploadEvery,
		maxTagged: max(3, int(d.cfg.Duration/(30*time.Second)))}
	var err error
	if l.creator, err = d.account("creator"); err != nil {
		return nil, err
	}
	if l.brand, err = d.account("brand"); err != nil {
		return nil, err
	}
	products, err := l.createProducts(ctx, 2)
	if err != nil {
		return nil, err
	}

	start := time.Now()
	d.logf("chaos: load and faults for %s", d.cfg.Duration)
	loadCtx, stopLoad := context.WithTimeout(ctx, d.cfg.Duration)
	defer stopLoad()
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	var wg sync.WaitGroup
	wg.Go(func() { l.run(loadCtx, products) })
	polled := make(chan struct{})
	go func() { l.poll(pollCtx); close(polled) }()

	var faults sync.WaitGroup
	for _, f := range Schedule(d.cfg.Duration, d.cfg.Workers, d.rng) {
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(start.Add(f.At))):
		}
		if ctx.Err() != nil {
			break
		}
		faults.Go(func() { d.inject(ctx, f) })
	}
	<-loadCtx.Done()
	wg.Wait()
	faults.Wait()
	if err := d.allUp(ctx); err != nil {
		return nil, err
	}

	// The grace: no faults, everything up.
	graceStart := time.Now()
	d.logf("chaos: grace of at most %s for %d clips", d.cfg.Grace, len(d.ledger.pending()))
	for time.Since(graceStart) < d.cfg.Grace && ctx.Err() == nil {
		if len(d.ledger.pending()) == 0 && d.queuesIdle() {
			break
		}
		time.Sleep(time.Second)
	}
	d.graceUsed = time.Since(graceStart)
	stopPoll()
	<-polled
	if err := d.ledger.WriteFile(filepath.Join(d.dir, "ledger.json")); err != nil {
		return nil, err
	}
	swept, err := d.sweep(ctx)
	if err != nil {
		return nil, err
	}
	rep, err := d.reconcile(ctx)
	if rep != nil {
		rep.Swept = swept
	}
	return rep, err
}

// sweep runs one pass of the workers' janitor over the bucket as it will
// run once its grace has passed (the drill is shorter than the grace), so
// that the ledger counts what the janitors leave behind.
func (d *Drill) sweep(ctx context.Context) (janitor.Counts, error) {
	db, err := store.Open(ctx, d.pg.url)
	if err != nil {
		return janitor.Counts{}, fmt.Errorf("chaos: janitor: %w", err)
	}
	defer db.Close()
	blobs, err := s3.New(s3.Config{Endpoint: d.minio.addr, Region: "us-east-1", Bucket: d.minio.bucket, AccessKey: d.minio.access, SecretKey: d.minio.secret})
	if err != nil {
		return janitor.Counts{}, fmt.Errorf("chaos: janitor: %w", err)
	}
	logFile, err := os.Create(filepath.Join(d.dir, "janitor.log"))
	if err != nil {
		return janitor.Counts{}, err
	}
	defer logFile.Close()
	j := &janitor.Janitor{Blobs: blobs, Clips: db, Logger: slog.New(slog.NewTextHandler(logFile, nil)),
		Now: func() time.Time { return time.Now().Add(janitor.DefaultGrace + time.Minute) }}
	c, err := j.Pass(ctx)
	if err != nil {
		return c, fmt.Errorf("chaos: janitor: %w", err)
	}
	d.logf("chaos: the janitor (as past its grace) removed %d originals, %d deleted clips' prefixes, %d generations, %d share MP4s",
		c.Originals, c.DeletedClip, c.Generations, c.Shares)
	return c, nil
}

// setUp starts the services, Toxiproxy, serve and the workers.
func (d *Drill) setUp(ctx context.Context) (err error) {
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return err
	}
	d.logf("chaos: starting redis, postgres, minio in %s", d.dir)
	if d.redis, err = d.startRedis(ctx); err != nil {
		return err
	}
	if d.pg, err = d.startPostgres(ctx); err != nil {
		return err
	}
	if d.minio, err = d.startMinIO(ctx); err != nil {
		return err
	}
	if d.tox, err = newToxics(d.redis.addr, d.minio.addr); err != nil {
		return err
	}
	if d.s3, err = minio.New(d.minio.addr, &minio.Options{Creds: credentials.NewStaticV4(d.minio.access, d.minio.secret, "")}); err != nil {
		return err
	}

	// A small ladder and a fast preset keep three workers within two
	// cores; the reconciler runs often, so lost tasks come back within
	// the drill.
	config := filepath.Join(d.dir, "shopclip.yaml")
	if err := os.WriteFile(config, []byte(`# written by the chaos drill
transcode:
  preset: superfast
  rungs:
    - short_side: 240
      max_rate: 400000
      max_frame_rate: 30
worker:
  concurrency: 1
  reconcile_interval: 10s
`), 0o644); err != nil {
		return err
	}
	common := []string{
		"SHOPCLIP_CONFIG=" + config,
		"SHOPCLIP_DATABASE_URL=" + d.pg.url,
		"SHOPCLIP_S3_BUCKET=" + d.minio.bucket,
		"SHOPCLIP_S3_ACCESS_KEY=" + d.minio.access,
		"SHOPCLIP_S3_SECRET_KEY=" + d.minio.secret,
		"SHOPCLIP_LOG_FORMAT=text", // publishedCounts reads the workers' lines as text
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	serveEnv := append(environ(), common...)
	serveEnv = append(serveEnv,
		"SHOPCLIP_REDIS_URL=redis://"+d.redis.addr+"/0",
		"SHOPCLIP_S3_ENDPOINT="+d.minio.addr,
		"SHOPCLIP_DATA="+filepath.Join(d.dir, "serve"))
	d.serve = &proc{name: "serve", logPath: filepath.Join(d.dir, "serve.log"), supervise: true, logf: d.logf,
		newCmd: func() *exec.Cmd {
			cmd := exec.Command(d.cfg.Bin, "serve", "--addr", addr)
			cmd.Env = serveEnv
			return cmd
		}}
	d.api = &api{base: "http://" + addr, hc: &http.Client{Timeout: time.Minute}}
	if err := d.serve.start(); err != nil {
		return err
	}
	if err := d.waitServe(ctx); err != nil {
		return err
	}
	for i := range d.cfg.Workers {
		work := filepath.Join(d.dir, fmt.Sprintf("work%d", i))
		if err := os.MkdirAll(work, 0o700); err != nil {
			return err
		}
		if i == d.cfg.Workers-1 {
			d.mountDisk(work)
		}
		env := append(environ(), common...)
		env = append(env,
			"SHOPCLIP_REDIS_URL=redis://"+d.tox.redis.Listen+"/0",
			"SHOPCLIP_S3_ENDPOINT="+d.tox.minio.Listen,
			"SHOPCLIP_DATA="+filepath.Join(d.dir, fmt.Sprintf("data%d", i)),
			"SHOPCLIP_WORKER_WORK_DIR="+work)
		w := &proc{name: fmt.Sprintf("worker%d", i), logPath: filepath.Join(d.dir, fmt.Sprintf("worker%d.log", i)),
			supervise: true, logf: d.logf, newCmd: func() *exec.Cmd {
				cmd := exec.Command(d.cfg.Bin, "worker")
				cmd.Env = env
				return cmd
			}}
		if err := w.start(); err != nil {
			return err
		}
		d.workers = append(d.workers, w)
	}
	return nil
}

// environ is the drill's environment without SHOPCLIP_ variables (the
// drill sets its own).
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SHOPCLIP_") {
			env = append(env, kv)
		}
	}
	return env
}

// mountDisk mounts a 64 MiB tmpfs on dir, the work dir of the worker whose
// disk the drill fills. It needs root; without it the disk fault is
// skipped (and the report says so).
func (d *Drill) mountDisk(dir string) {
	if os.Getuid() != 0 {
		d.diskNote = "not root: no tmpfs to fill"
		return
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64m,mode=0700"); err != nil {
		d.diskNote = "mount tmpfs: " + err.Error()
		return
	}
	d.diskDir = dir
	d.cleanups = append(d.cleanups, func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
}

// account creates an account of role with the CLI and returns its API key.
func (d *Drill) account(role string) (string, error) {
	cmd := exec.Command(d.cfg.Bin, "account", "create", "--role", role, "--name", "chaos-"+role)
	cmd.Env = append(environ(), "SHOPCLIP_DATABASE_URL="+d.pg.url, "SHOPCLIP_DATA="+filepath.Join(d.dir, "cli"))
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("chaos: account create: %v: %s", err, ee.Stderr)
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

func (d *Drill) waitServe(ctx context.Context) error {
	return waitFor(ctx, 90*time.Second, func() error {
		resp, err := d.api.hc.Get(d.api.base + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("readyz: %s", resp.Status)
		}
		return nil
	})
}

// allUp makes sure every part runs again after the faults.
func (d *Drill) allUp(ctx context.Context) error {
	for _, p := range []*proc{d.redis.proc, d.pg.proc, d.minio.proc, d.serve} {
		if !p.running() {
			d.logf("chaos: %s is down after the faults; starting it", p.name)
			if err := p.start(); err != nil {
				return err
			}
		}
	}
	for _, w := range d.workers {
		w.signal(syscall.SIGCONT)
		if !w.running() {
			if err := w.start(); err != nil {
				return err
			}
		}
	}
	if err := d.redis.wait(ctx); err != nil {
		return err
	}
	if err := d.pg.wait(ctx); err != nil {
		return err
	}
	if err := d.minio.wait(ctx); err != nil {
		return err
	}
	return d.waitServe(ctx)
}

// queuesIdle reports whether no task is pending, active, scheduled soon
// or waiting to retry in the transcode and share queues (tag tasks
// scheduled for a discount's end are expected).
func (d *Drill) queuesIdle() bool {
	insp := newInspector(d.redis.addr)
	defer insp.Close()
	for _, q := range []string{"transcode", "share", "tag"} {
		info, err := insp.GetQueueInfo(q)
		if err != nil {
			continue // a queue never used
		}
		if info.Pending+info.Active+info.Retry > 0 {
			return false
		}
	}
	return true
}

func (d *Drill) allProcs() []*proc {
	return append([]*proc{d.redis.proc, d.pg.proc, d.minio.proc, d.serve}, d.workers...)
}

// Close stops every process the drill started and undoes its mounts.
func (d *Drill) Close() {
	var wg sync.WaitGroup
	for _, p := range append([]*proc{d.serve}, d.workers...) {
		if p != nil {
			wg.Go(p.close)
		}
	}
	wg.Wait()
	if d.tox != nil {
		d.tox.close()
	}
	if d.minio != nil {
		d.minio.close()
	}
	if d.redis != nil {
		d.redis.close()
	}
	if d.pg != nil {
		d.pg.stop(syscall.SIGINT, 30*time.Second)
		d.pg.close()
	}
	for i := len(d.cleanups) - 1; i >= 0; i-- {
		d.cleanups[i]()
	}
}
