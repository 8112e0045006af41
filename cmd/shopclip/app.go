package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/shopclip/shopclip/auth"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/blob/local"
	"github.com/shopclip/shopclip/blob/s3"
	"github.com/shopclip/shopclip/configs"
	"github.com/shopclip/shopclip/eventbatch"
	"github.com/shopclip/shopclip/janitor"
	"github.com/shopclip/shopclip/live"
	"github.com/shopclip/shopclip/localredis"
	"github.com/shopclip/shopclip/queueconsole"
	"github.com/shopclip/shopclip/respcache"
	"github.com/shopclip/shopclip/retention"
	"github.com/shopclip/shopclip/store"
	"github.com/shopclip/shopclip/storefront"
	"github.com/shopclip/shopclip/tagging/card"
	"github.com/shopclip/shopclip/upload"
	"github.com/shopclip/shopclip/web"
	"github.com/shopclip/shopclip/webhooks"
	"github.com/shopclip/shopclip/workers"
)

// Mode says which parts of shopclip a process runs.
type Mode string

// Modes.
const (
	ModeUp     Mode = "up"     // API + workers + embedded defaults
	ModeServe  Mode = "serve"  // API only
	ModeWorker Mode = "worker" // workers only
)

func (m Mode) api() bool     { return m == ModeUp || m == ModeServe }
func (m Mode) workers() bool { return m == ModeUp || m == ModeWorker }

// Main is one running shopclip process. Set the fields, call Run, then Close.
// End-to-end tests boot it in-process with Addr 127.0.0.1:0.
type Main struct {
	Config configs.Config
	Mode   Mode
	Logger *slog.Logger
	// TranscodeCommand is the argv prefix that starts a transcode child.
	// Default: this executable with the "transcode" subcommand.
	TranscodeCommand []string

	lock      *os.File
	redisd    *localredis.Server
	rdb       redis.UniversalClient
	store     *store.DB
	blobs     blob.Store
	queue     *workers.Client
	inspector *asynq.Inspector
	console   *queueconsole.Console
	worker    *workers.Server
	ln        net.Listener
	http      *http.Server
	cancel    context.CancelFunc

	// releaseWorkDir gives up this worker's share of the work directory.
	releaseWorkDir func() error
	telemetry      telemetry

	// Webhooks: recorded and queued by any process, delivered by workers.
	hookq      *asynq.Client
	hooks      *webhooks.Service
	hookServer *webhooks.Server

	wg        sync.WaitGroup
	closeOnce sync.Once
}

func (m *Main) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Run opens every component and starts serving in the background. On error
// it closes whatever it opened.
func (m *Main) Run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	cfg := m.Config
	log := m.logger()
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel

	if m.Mode == ModeUp {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
		if m.lock, err = lockDir(cfg.DataDir); err != nil {
			return err
		}
	}

	// Redis: the embedded child, or a shared server.
	redisURL := cfg.Redis.URL
	if redisURL == "" {
		if m.Mode != ModeUp {
			return fmt.Errorf("shopclip %s needs a shared Redis: set SHOPCLIP_REDIS_URL (redis://host:port/db)", m.Mode)
		}
		m.redisd = &localredis.Server{Dir: filepath.Join(cfg.DataDir, "redis"), Logger: log.With("component", "redis")}
		if err := m.redisd.Start(ctx); err != nil {
			return err
		}
		redisURL = m.redisd.URL()
	}
	redisOpt, err := parseRedisURL(redisURL)
	if err != nil {
		return err
	}
	m.rdb = redisOpt.MakeRedisClient().(redis.UniversalClient)
	// Services down at startup are waited for, up to startup_timeout.
	starting := newStartup(cfg.StartupWait(), log)
	if err := starting.wait(ctx, "redis", redactURL(redisURL), func(ctx context.Context) error {
		return checkRedisDurability(ctx, m.rdb, log)
	}); err != nil {
		return err
	}

	if m.Mode != ModeUp && (!cfg.UsesPostgres() || !cfg.Blob.S3.Enabled()) {
		log.Warn("shopclip "+string(m.Mode)+" is using a SQLite file or a local blob directory: every serve and worker process must then run on this machine with the same data directory; across machines use SHOPCLIP_DATABASE_URL (PostgreSQL) and SHOPCLIP_S3_* (MinIO/S3)",
			"database", redactURL(cfg.Database.URL), "s3", cfg.Blob.S3.Enabled())
	}

	// Metadata.
	openStore := func(ctx context.Context) (err error) {
		m.store, err = store.Open(ctx, cfg.Database.URL)
		return err
	}
	if cfg.UsesPostgres() {
		err = starting.wait(ctx, "database", redactURL(cfg.Database.URL), openStore)
	} else {
		err = openStore(ctx) // a SQLite file: nothing to wait for
	}
	if err != nil {
		return err
	}

	// Objects.
	if s := cfg.Blob.S3; s.Enabled() {
		st, err := s3.New(s3.Config{Endpoint: s.Endpoint, Region: s.Region, Bucket: s.Bucket, AccessKey: s.AccessKey, SecretKey: s.SecretKey, UseSSL: s.UseSSL})
		if err != nil {
			return err
		}
		if err := starting.wait(ctx, "object storage", s3Address(s.Endpoint, s.Bucket, s.UseSSL), st.EnsureBucket); err != nil {
			return err
		}
		m.blobs = st
	} else {
		st, err := local.New(cfg.Blob.Dir)
		if err != nil {
			return err
		}
		m.blobs = st
		// Uploads cut off by a crash leave temporary files; a Put in
		// progress is never an hour old.
		if n, err := st.RemoveStaleTemp(ctx, time.Hour); err != nil {
			log.Warn("blobs: remove stale temporary files", "err", err)
		} else if n > 0 {
			log.Info("blobs: removed temporary files of interrupted uploads", "files", n)
		}
	}

	m.queue = workers.NewClient(redisOpt, workers.ClientConfig{MaxRetry: cfg.Worker.MaxRetry, Logger: log.With("component", "queue")})
	m.inspector = asynq.NewInspector(redisOpt)
	m.hookq = asynq.NewClient(redisOpt)
	m.hooks = webhooks.NewService(webhooks.Config{Store: m.store, Catalog: m.store, Queue: webhooks.Enqueuer{Client: m.hookq},
		Client: webhooks.NewClient(webhooks.ClientConfig{AllowPrivate: cfg.Webhooks.AllowPrivate}),
		Logger: log.With("component", "webhooks")})
	m.instrument(cfg) // before m.blobs is handed out: it gets measured

	// Clip changes reach the studio's live status through Redis, from the
	// workers of every process.
	hub := live.New(m.rdb, log.With("component", "live"))
	notifying := &live.Store{Store: m.store, Hub: hub}

	if m.Mode.workers() {
		if err := os.MkdirAll(cfg.Worker.WorkDir, 0o700); err != nil {
			return fmt.Errorf("work dir: %w", err)
		}
		jan := &janitor.Janitor{Blobs: m.blobs, Clips: m.store, Grace: cfg.Janitor.Grace, WorkDir: cfg.Worker.WorkDir, Logger: log.With("component", "janitor")}
		// Before any task runs: the job directories killed workers left.
		n, release, err := jan.ClaimWorkDir(ctx)
		if release == nil {
			return err
		} else if err != nil {
			log.Warn("janitor: job directories", "err", err)
		}
		m.releaseWorkDir = release
		if n > 0 {
			log.Info("janitor: removed the job directories of killed workers", "dirs", n)
		}
		tc, err := m.transcoder()
		if err != nil {
			return err
		}
		// A transcode child waits, started, for the next upload; it is
		// ended once the workers are down.
		tc.r.Start()
		m.wg.Go(func() { <-bg.Done(); tc.r.Close() })
		if _, ok := card.FallbackFont(); !ok {
			log.Warn("no CJK font for the product cards of share MP4s; CJK titles will show as boxes (install fonts-droid-fallback)")
		}
		h := &workers.Handlers{
			Store:       notifying,
			Blobs:       m.blobs,
			Transcoder:  workers.ObserveTranscoder(tc, m.telemetry.tasks),
			Observer:    m.telemetry.tasks,
			Webhooks:    m.hooks,
			Tags:        m.queue,
			Sharer:      tc,
			Shares:      m.queue,
			WorkDir:     cfg.Worker.WorkDir,
			MaxCrashes:  cfg.Worker.MaxCrashes,
			RetryWindow: cfg.Transcode.RetryWindow,
			BuyURL:      func(id string) string { return publicURL(cfg, "/v1/buy/"+id) },
			Logger:      log.With("component", "worker"),
		}
		leases := &workers.Leases{Redis: m.rdb, Logger: log.With("component", "leases")}
		if m.redisd != nil {
			// This Redis is ours alone: its active tasks are those the last
			// run was stopped in the middle of. They resume now, not when
			// their leases lapse.
			if n, err := leases.ReleaseAll(ctx); err != nil {
				return err
			} else if n > 0 {
				log.Info("resuming the jobs the last run was stopped in", "tasks", n)
			}
			// Clips waiting or in progress with no task at all (a Redis
			// lost, a restored backup) are taken up now, not when they
			// look stale.
			now := &workers.Reconciler{Store: notifying, Queue: m.queue, Inspector: m.inspector,
				StaleAfter: time.Nanosecond, UploadedAfter: time.Nanosecond, Logger: log.With("component", "reconciler")}
			if n, err := now.ReconcileOnce(ctx); err != nil {
				log.Warn("reconcile at start", "err", err)
			} else if n > 0 {
				log.Info("took up clips that had no job", "clips", n)
			}
		}
		m.wg.Go(func() { leases.Run(bg, workers.LeaseRecoveryInterval) })
		m.worker = workers.NewServer(redisOpt, workers.ServerConfig{Concurrency: cfg.Worker.Concurrency, Logger: log}, h)
		if err := m.worker.Start(); err != nil {
			return err
		}
		m.hookServer = webhooks.NewServer(redisOpt, webhooks.ServerConfig{Concurrency: cfg.Webhooks.Concurrency, Logger: log}, m.hooks)
		if err := m.hookServer.Start(); err != nil {
			return err
		}
		// Deliveries whose task was lost are queued again, finished ones
		// older than 30 days deleted.
		m.wg.Go(func() { m.hooks.Run(bg, time.Minute) })
		rec := &workers.Reconciler{Store: notifying, Queue: m.queue, Inspector: m.inspector, Logger: log.With("component", "reconciler")}
		m.wg.Go(func() { rec.Run(bg, cfg.Worker.ReconcileInterval) })
		m.wg.Go(func() { jan.Run(bg, cfg.Janitor.Interval) })
		pruner := &retention.Pruner{Events: m.store, Retention: cfg.Events.Retention, Logger: log.With("component", "retention")}
		m.wg.Go(func() { pruner.Run(bg, cfg.Janitor.Interval) })
		if st, ok := blob.Unwrap(m.blobs).(*s3.Store); ok {
			m.wg.Go(func() { abortStaleUploads(bg, st, log) })
		}
		if m.Mode == ModeWorker {
			if err := m.serveWorkerMetrics(cfg, log); err != nil {
				return fmt.Errorf("worker.metrics_addr: %w", err)
			}
		}
	}

	if m.Mode.api() {
		signin := &auth.Service{
			Store:         m.store,
			Identity:      m.store,
			ClosedSignup:  !cfg.Auth.SignupOpen(),
			SecureCookies: strings.HasPrefix(cfg.PublicURL, "https://"),
			Logger:        log.With("component", "auth"),
		}
		signin.Init()
		// Viewers' hottest reads are answered from memory; invalidations
		// reach every API process through Redis.
		answers := respcache.New()
		answerBus := respcache.NewBus(answers, m.rdb, log.With("component", "respcache"))
		// Viewers' events are written in group commits, one batch at a
		// time: batches would only queue on the rollup rows they share.
		events := eventbatch.New(m.store, eventbatch.Config{Logger: log.With("component", "events")})
		api := &storefront.Server{
			Store:          m.store,
			Discovery:      m.store,
			Idempotency:    m.store,
			Reprocessing:   m.store,
			Analytics:      m.store,
			Webhooks:       m.hooks,
			Live:           hub,
			Answers:        answers,
			AnswerBus:      answerBus,
			Events:         events,
			Auth:           signin,
			Blobs:          m.blobs,
			Queue:          m.queue,
			Metrics:        m.telemetry.reg,
			MaxUploadBytes: cfg.Upload.MaxBytes,
			PublicURL:      cfg.PublicURL,
			SignedURLTTL:   cfg.Blob.S3.SignedURLTTL,
			Timeouts:       apiTimeouts(cfg.HTTP),
			Logger:         log.With("component", "api"),
			Checks: []storefront.Check{
				{Name: "database", Check: m.store.Ping},
				{Name: "blobs", Check: m.blobs.Ping},
				{Name: "redis", Check: func(ctx context.Context) error { return checkRedisDurability(ctx, m.rdb, nil) }},
			},
			Quotas:      m.store,
			UploadQuota: storefront.UploadQuota{MaxBytes: cfg.Upload.BytesPerAccount(), MaxPerDay: cfg.Upload.UploadsPerDay()},
			// Per process: n API processes admit n times as many at once.
			MaxConcurrentUploads:           cfg.Upload.MaxConcurrent,
			MaxConcurrentUploadsPerAccount: cfg.Upload.MaxConcurrentPerAccount,
		}
		backend, err := uploadBackend(cfg)
		if err != nil {
			return err
		}
		if api.Uploads, err = api.NewUploads(backend); err != nil {
			return err
		}
		m.wg.Go(func() { expireUploads(bg, backend, log) })
		m.wg.Go(func() { hub.Run(bg) })
		m.wg.Go(func() { answerBus.Run(bg) })
		m.wg.Go(func() { events.Run(bg) }) // after the API's shutdown: writes what it queued
		pages := &web.Server{
			Store:          m.store,
			Discovery:      m.store,
			Auth:           signin,
			PublicURL:      cfg.PublicURL,
			MediaOrigins:   mediaOrigins(cfg),
			FrameAncestors: cfg.Web.FrameAncestors,
			MaxUploadBytes: cfg.Upload.MaxBytes,
			Analytics:      m.store,
			Logger:         log.With("component", "web"),
		}
		ph, err := pages.Handler()
		if err != nil {
			return err
		}
		// The queue console (asynqmon) at /admin/queues, for admins.
		m.console, err = queueconsole.New(queueconsole.Config{Redis: redisOpt, Auth: signin, Write: cfg.Admin.QueueConsoleWrite,
			Logger: log.With("component", "queueconsole")})
		if err != nil {
			return err
		}
		handler := queueconsole.Mount(web.Mount(api.Handler(), ph), m.console)
		if m.ln, err = listen(cfg); err != nil {
			return err
		}
		m.http = newHTTPServer(cfg.HTTP, handler, log, bg)
		m.http.RegisterOnShutdown(hub.Close) // live streams end, not hold shutdown
		m.wg.Go(func() {
			if err := m.http.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("http server", "err", err)
			}
		})
	}
	return nil
}

// Addr is the address the API listens on, once Run has returned.
func (m *Main) Addr() string {
	if m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// URL is the API's base URL, once Run has returned.
func (m *Main) URL() string { return "http://" + m.Addr() }

// Close stops everything Run started, in reverse order: the API stops taking
// requests, the workers requeue what they cannot finish, then the stores and
// the embedded Redis close. It is safe to call more than once.
func (m *Main) Close() error {
	var errs []error
	m.closeOnce.Do(func() {
		// The API and the workers stop at the same time: the API finishes
		// its requests for up to 10 s (then they are cancelled and cut), the
		// workers requeue what they cannot finish within their shutdown
		// timeout.
		var wg sync.WaitGroup
		if m.http != nil {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := m.http.Shutdown(ctx); err != nil {
					m.cancel() // cancels the requests still running
					m.http.Close()
				}
			})
		}
		if m.worker != nil {
			wg.Go(m.worker.Shutdown)
		}
		if m.hookServer != nil {
			wg.Go(m.hookServer.Shutdown)
		}
		wg.Wait()
		m.closeTelemetry()
		if m.cancel != nil {
			m.cancel()
		}
		m.wg.Wait()
		if m.releaseWorkDir != nil {
			m.releaseWorkDir()
		}
		if m.inspector != nil {
			m.inspector.Close()
		}
		if m.console != nil {
			m.console.Close()
		}
		if m.queue != nil {
			m.queue.Close()
		}
		if m.hookq != nil {
			m.hookq.Close()
		}
		if m.rdb != nil {
			m.rdb.Close()
		}
		if m.store != nil {
			if err := m.store.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if c, ok := m.blobs.(io.Closer); ok {
			c.Close()
		}
		if m.redisd != nil {
			if err := m.redisd.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if m.lock != nil {
			m.lock.Close()
		}
	})
	return errors.Join(errs...)
}

// abortStaleUploads aborts, every hour, the S3 multipart uploads that
// processes killed mid-upload left behind (S3 keeps and bills them until
// aborted); no upload takes a day.
func abortStaleUploads(ctx context.Context, st *s3.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := st.AbortIncompleteUploads(ctx, 24*time.Hour); err != nil && ctx.Err() == nil {
			log.Warn("blobs: abort stale multipart uploads", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// uploadBackend is where resumable uploads are assembled: in the bucket
// when the blobs are in S3 (API servers share no disk), else in the data
// directory.
func uploadBackend(cfg configs.Config) (*upload.Backend, error) {
	if s := cfg.Blob.S3; s.Enabled() {
		return upload.S3(upload.S3Config{Endpoint: s.Endpoint, Region: s.Region, Bucket: s.Bucket,
			AccessKey: s.AccessKey, SecretKey: s.SecretKey, UseSSL: s.UseSSL})
	}
	return upload.Local(filepath.Join(cfg.DataDir, "uploads"))
}

// expireUploads drops, every hour, the resumable uploads untouched for a
// day, local or in S3 (objects and multipart upload): their clients gave
// up. (abortStaleUploads aborts every S3 multipart upload begun more than a
// day ago: it is the one to drop those of no resumable upload, such as a
// killed simple upload's.)
func expireUploads(ctx context.Context, b *upload.Backend, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := b.Expire(ctx, 24*time.Hour, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("uploads: expire", "err", err)
		} else if n > 0 {
			log.Info("uploads: dropped abandoned uploads", "uploads", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// parseRedisURL parses redis://, rediss://, redis-sentinel:// and unix://
// (or redis-socket://) URLs.
func parseRedisURL(u string) (asynq.RedisConnOpt, error) {
	if rest, ok := strings.CutPrefix(u, "unix://"); ok {
		u = "redis-socket://" + rest
	}
	opt, err := asynq.ParseRedisURI(u)
	if err != nil {
		return nil, fmt.Errorf("redis url %q: %w", u, err)
	}
	return opt, nil
}

// lockDir takes an exclusive lock on dir, so two `shopclip up` never share a
// data directory (and its Redis).
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "shopclip.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another shopclip is running with data dir %s (stop it, or pass --data DIR)", dir)
	}
	return f, nil
}

// checkRedisDurability refuses a Redis that may evict keys: asynq keeps task
// state and leases there, and an evicted lease leaves a task active forever
// (asynq #799, #1144). A Redis that hides CONFIG (some managed services) is
// given the benefit of the doubt, with a warning.
func checkRedisDurability(ctx context.Context, rdb redis.UniversalClient, log *slog.Logger) error {
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	res, err := rdb.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		if log != nil {
			log.Warn("redis: cannot read maxmemory-policy; make sure it is noeviction", "err", err)
		}
		return nil
	}
	if p := res["maxmemory-policy"]; p != "" && p != "noeviction" {
		return fmt.Errorf("redis: maxmemory-policy is %q; the job queue needs noeviction (a queue, not a cache)", p)
	}
	return nil
}

// mediaOrigins are where players fetch media from besides the server: the
// S3 endpoint that presigned playback URLs point at, path-style or, on a
// named host, virtual-hosted style (bucket.host, as minio-go signs for AWS
// and others), and the configured web.media_origins (a CDN).
func mediaOrigins(cfg configs.Config) []string {
	origins := cfg.Web.MediaOrigins
	s := cfg.Blob.S3
	if !s.Enabled() {
		return origins
	}
	scheme := "http://"
	if s.UseSSL {
		scheme = "https://"
	}
	origins = append(origins, scheme+s.Endpoint)
	host, _, err := net.SplitHostPort(s.Endpoint)
	if err != nil {
		host = s.Endpoint
	}
	if net.ParseIP(host) == nil && host != "localhost" && s.Bucket != "" {
		origins = append(origins, scheme+s.Bucket+"."+s.Endpoint)
	}
	return origins
}

// publicURL makes path absolute when a public URL is configured.
func publicURL(cfg configs.Config, path string) string {
	if cfg.PublicURL == "" {
		return path
	}
	return strings.TrimSuffix(cfg.PublicURL, "/") + path
}
