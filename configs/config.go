// Package configs is shopclip's typed configuration: the schema, its
// defaults, strict decoding of YAML files (unknown keys are errors),
// SHOPCLIP_* environment overrides and validation. Example files sit next to
// this package (shopclip.example.yaml, scale-out.example.yaml).
package configs

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/clientip"
	"github.com/shopclip/shopclip/transcode"
)

// Config is everything shopclip reads at startup. The zero value of each field
// means its documented default; Default returns a Config with those filled in.
type Config struct {
	// Addr is where the HTTP API listens. Default 127.0.0.1:8080.
	Addr string `yaml:"addr"`
	// DataDir holds the embedded defaults' files: the SQLite database, the
	// local blob directory, the embedded Redis and transcode work dirs.
	// Default $XDG_DATA_HOME/shopclip (~/.local/share/shopclip).
	DataDir string `yaml:"data_dir"`
	// PublicURL, when set, makes playback and buy URLs absolute
	// (https://clips.example.com); otherwise they are relative to the server.
	PublicURL string `yaml:"public_url"`
	// LogLevel is debug, info, warn or error. Default info.
	LogLevel string `yaml:"log_level"`
	// LogFormat is how log lines are written: json (one JSON object a
	// line) or text (key=value). Default json, except under `shopclip up`
	// with stderr on a terminal: text.
	LogFormat string `yaml:"log_format"`
	// StartupTimeout bounds how long a process waits at startup for a
	// PostgreSQL, Redis or object store it cannot reach yet (refused,
	// timed out, name not found): it retries with backoff, logging what it
	// waits for, and past the timeout exits non-zero. Default 5m; 0s waits
	// for ever. Misconfiguration (a malformed URL, bad credentials) fails
	// at once.
	StartupTimeout *time.Duration `yaml:"startup_timeout"`

	Database  Database  `yaml:"database"`
	Redis     Redis     `yaml:"redis"`
	Blob      Blob      `yaml:"blob"`
	Upload    Upload    `yaml:"upload"`
	Worker    Worker    `yaml:"worker"`
	Transcode Transcode `yaml:"transcode"`
	Web       Web       `yaml:"web"`
	Auth      Auth      `yaml:"auth"`
	HTTP      HTTP      `yaml:"http"`
	Janitor   Janitor   `yaml:"janitor"`
	Events    Events    `yaml:"events"`
	Admin     Admin     `yaml:"admin"`
	Webhooks  Webhooks  `yaml:"webhooks"`
}

// Webhooks configures the delivery of signed webhooks (package webhooks).
type Webhooks struct {
	// AllowPrivate lets webhook endpoints reach loopback, private and
	// link-local addresses. Default false: deliveries go to public
	// addresses only (tests set it, for receivers on 127.0.0.1).
	AllowPrivate bool `yaml:"allow_private"`
	// Concurrency is how many deliveries a worker process makes at once.
	// Default 4.
	Concurrency int `yaml:"concurrency"`
}

// Events says how long viewer events are kept.
type Events struct {
	// Retention is how long raw events (views, impressions, clicks,
	// purchases) are kept; older ones are deleted in batches by the
	// workers. Stats read hourly rollups and do not change when events
	// go. Default 720h (30 days); at least shopclip.AttributionWindow
	// (24h), which attributing a purchase to a click reads back.
	Retention time.Duration `yaml:"retention"`
}

// Admin configures the operators' tools.
type Admin struct {
	// QueueConsoleWrite lets admins change the queues from the queue
	// console at /admin/queues: pause and resume queues; run, archive,
	// cancel and delete tasks. Default false: the console only shows
	// them.
	QueueConsoleWrite bool `yaml:"queue_console_write"`
}

// Janitor tunes the removal of orphans (package janitor), run by every
// worker process.
type Janitor struct {
	// Grace is how old an orphan must be before it is removed: an
	// original with no clip, a deleted clip's outputs, a generation never
	// published, a replaced share, a dead worker's job directory. Default
	// 1h; at least 10m (no upload, publish or share download takes longer
	// to be recorded or finished).
	Grace time.Duration `yaml:"grace"`
	// Interval is how often the janitor passes. Default 10m.
	Interval time.Duration `yaml:"interval"`
}

// HTTP guards the listener against slow and hostile clients, and says which
// proxies stand in front of it.
type HTTP struct {
	// TrustedProxies are the reverse proxies and load balancers in front
	// of shopclip, as IP addresses or CIDRs (127.0.0.1, 10.0.0.0/8): from
	// them, and only them, X-Forwarded-For names the client for rate
	// limits, sign-in throttling and /metrics. Never list clients'
	// networks. Default none: the peer is the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// MaxConnections caps open connections; more wait to be accepted.
	// Default 4096.
	MaxConnections int `yaml:"max_connections"`
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// BodyTimeout bounds reading a small (JSON, form) body whole, and any
	// request outside the API. Default 30s.
	BodyTimeout time.Duration `yaml:"body_timeout"`
	// IdleReadTimeout bounds the wait for an upload's next bytes; the
	// whole upload may take as long as its bytes keep coming. Default 1m.
	IdleReadTimeout time.Duration `yaml:"idle_read_timeout"`
	// IdleWriteTimeout bounds each write of a response (a segment, an MP4,
	// the live stream) to a client that stops reading. Default 1m.
	IdleWriteTimeout time.Duration `yaml:"idle_write_timeout"`
	// IdleTimeout closes keep-alive connections idle this long. Default 2m.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
}

// Proxies returns the trusted proxies parsed (Validate has checked them).
func (h HTTP) Proxies() []netip.Prefix {
	p, _ := clientip.ParsePrefixes(h.TrustedProxies)
	return p
}

// Auth configures sign-up and sign-in.
type Auth struct {
	// OpenSignup lets anyone sign up as a creator or a brand (default
	// true); when false, sign-up needs an invitation (shopclip account
	// invite).
	OpenSignup *bool `yaml:"open_signup"`
}

// SignupOpen reports whether anyone may sign up.
func (a Auth) SignupOpen() bool { return a.OpenSignup == nil || *a.OpenSignup }

// Web configures the viewers' pages.
type Web struct {
	// FrameAncestors are the origins (https://shop.example.com) whose pages
	// may show a clip's player, /embed/{id}, in an iframe, besides the
	// server's own. Every other page refuses to be framed.
	FrameAncestors []string `yaml:"frame_ancestors"`
	// MediaOrigins are origins other than shopclip's own and the S3
	// endpoint's that players may fetch media from (a CDN in front of the
	// bucket), for the pages' Content-Security-Policy.
	MediaOrigins []string `yaml:"media_origins"`
}

// Transcode tunes the ladder and the encoders. Zero values mean the
// engine's defaults (package transcode): 1080/720/480 by the displayed short
// side, libx264 veryfast CRF 23, 2 s segments (but FirstSegment), AAC 128 kb/s.
type Transcode struct {
	Rungs        []Rung        `yaml:"rungs"`
	Preset       string        `yaml:"preset"`
	CRF          int           `yaml:"crf"`
	MaxFrameRate float64       `yaml:"max_frame_rate"`
	AudioBitrate int64         `yaml:"audio_bitrate"`
	MaxDuration  time.Duration `yaml:"max_duration"`
	// Codecs are the video codecs of the ladder: [h264] (the default), or
	// h264 then av1 and/or hevc: the same rungs a second time in a more
	// efficient codec, in the same master playlist, for the players that
	// can decode it (see transcode.Config.Codecs). Each costs CPU.
	Codecs []string `yaml:"codecs"`
	// ContentAware turns on content-aware rungs: the first second of each
	// clip is analysed before encoding, each rung's CRF and bit rate cap
	// follow the content, and a top rung that shows no more detail than
	// the rung below is not made. Default off.
	ContentAware bool `yaml:"content_aware"`
	// FirstSegment is the length of each rendition's first segment (the
	// others last 2 s): a clip can be played once every rendition has its
	// first, so a short one makes it playable sooner. Default 500ms;
	// 100ms to 2s, in whole milliseconds.
	FirstSegment time.Duration `yaml:"first_segment"`
	// WarmMemoryMiB is how much memory (MiB) the FFmpeg child a worker
	// keeps waiting for the next job faults in ahead of it, at the lowest
	// priority: a fresh page costs a fault and its zeroing, and a 1080p
	// clip's first segment allocates a few hundred MiB. It is held while
	// the child waits. Default 256; 0 turns it off; at most 4096.
	WarmMemoryMiB *int `yaml:"warm_memory_mib"`
	// RetryWindow is how long a clip's transcode keeps retrying failures
	// that are not the file's (storage, database or queue down, a full
	// disk) before the clip fails; the creator can retry it then. Default
	// 1h.
	RetryWindow time.Duration `yaml:"retry_window"`
	// Sandbox is "on" (the default) or "off". Off runs the transcode
	// child without its sandbox (namespaces, a root holding only the
	// job's files, seccomp): for development only, on a machine without
	// user namespaces. Never in production: the child decodes untrusted
	// files.
	Sandbox string `yaml:"sandbox"`
	// SandboxUID and SandboxGID are the host ids the child runs as when
	// the worker runs as root. Default 65534 (nobody); better a uid
	// nothing else uses.
	SandboxUID int `yaml:"sandbox_uid"`
	SandboxGID int `yaml:"sandbox_gid"`
}

// Isolation returns the transcode child's sandbox settings.
func (t Transcode) Isolation() transcode.Sandbox {
	return transcode.Sandbox{Off: t.Sandbox == "off", UID: t.SandboxUID, GID: t.SandboxGID}
}

// DefaultWarmMemoryMiB is WarmMemoryMiB's default.
const DefaultWarmMemoryMiB = 256

// WarmMemory returns the bytes the waiting transcode child faults in.
func (t Transcode) WarmMemory() int64 {
	if t.WarmMemoryMiB == nil {
		return DefaultWarmMemoryMiB << 20
	}
	return int64(*t.WarmMemoryMiB) << 20
}

// Rung is one rendition of the ladder.
type Rung struct {
	ShortSide    int     `yaml:"short_side"`     // displayed short side, e.g. 720
	MaxRate      int64   `yaml:"max_rate"`       // bits per second
	MaxFrameRate float64 `yaml:"max_frame_rate"` // 0: no cap of its own
}

// Engine returns the transcode engine's configuration.
func (t Transcode) Engine() transcode.Config {
	c := transcode.Config{Preset: t.Preset, CRF: t.CRF, MaxFrameRate: t.MaxFrameRate, AudioBitrate: t.AudioBitrate}
	c.Limits.MaxDuration = t.MaxDuration
	c.Codecs = t.Codecs
	c.ContentAware = t.ContentAware
	c.FirstSegmentDuration = t.FirstSegment
	for _, r := range t.Rungs {
		c.Rungs = append(c.Rungs, transcode.RungConfig{ShortSide: r.ShortSide, MaxRate: r.MaxRate, MaxFrameRate: r.MaxFrameRate})
	}
	return c.WithDefaults()
}

// Database selects the metadata store.
type Database struct {
	// URL is postgres://… for PostgreSQL, or a SQLite file path. Default
	// DataDir/shopclip.db.
	URL string `yaml:"url"`
}

// Redis selects the job queue's Redis.
type Redis struct {
	// URL is redis://[:password@]host:port/db, rediss://… or unix:///path.sock.
	// Empty means: `shopclip up` starts its own redis-server child (unix
	// socket, AOF on, files in DataDir/redis); serve and worker require a URL.
	URL string `yaml:"url"`
}

// Blob selects object storage: S3 when S3.Endpoint is set, else a directory.
type Blob struct {
	// Dir is the local blob directory. Default DataDir/blobs.
	Dir string `yaml:"dir"`
	S3  S3     `yaml:"s3"`
}

// S3 configures MinIO or any S3-compatible store.
type S3 struct {
	Endpoint  string `yaml:"endpoint"` // host:port, no scheme
	Region    string `yaml:"region"`
	Bucket    string `yaml:"bucket"`
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	UseSSL    bool   `yaml:"use_ssl"`
	// SignedURLTTL is how long presigned playback URLs live. Default 1h.
	SignedURLTTL time.Duration `yaml:"signed_url_ttl"`
}

// Enabled reports whether S3 is configured.
func (s S3) Enabled() bool { return s.Endpoint != "" }

// Upload bounds uploads.
type Upload struct {
	// MaxBytes is the largest accepted upload. Default 1 GiB.
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxConcurrent bounds the uploads receiving bytes at once in one API
	// process (simple upload bodies and resumable PATCHes); past it, 503
	// with Retry-After. Default 64.
	MaxConcurrent int `yaml:"max_concurrent"`
	// MaxConcurrentPerAccount bounds one account's uploads receiving bytes
	// at once in one API process; past it, 429 with Retry-After. Default 4.
	MaxConcurrentPerAccount int `yaml:"max_concurrent_per_account"`
	// MaxBytesPerAccount bounds the bytes an account's uploads hold (the
	// originals of its clips and its unfinished uploads); past it, 413.
	// Default 50 GiB; 0 means no bound.
	MaxBytesPerAccount *int64 `yaml:"max_bytes_per_account"`
	// MaxUploadsPerDay bounds the uploads an account starts in a UTC day;
	// past it, 429 until midnight UTC. Default 200; 0 means no bound.
	MaxUploadsPerDay *int `yaml:"max_uploads_per_day"`
}

// Quota defaults.
const (
	DefaultMaxBytesPerAccount = 50 << 30
	DefaultMaxUploadsPerDay   = 200
)

// BytesPerAccount is MaxBytesPerAccount with its default; 0 is no bound.
func (u Upload) BytesPerAccount() int64 {
	if u.MaxBytesPerAccount == nil {
		return DefaultMaxBytesPerAccount
	}
	return *u.MaxBytesPerAccount
}

// UploadsPerDay is MaxUploadsPerDay with its default; 0 is no bound.
func (u Upload) UploadsPerDay() int {
	if u.MaxUploadsPerDay == nil {
		return DefaultMaxUploadsPerDay
	}
	return *u.MaxUploadsPerDay
}

// Worker tunes the transcode and tag workers.
type Worker struct {
	// Concurrency is how many tasks one worker process runs at once.
	// Default 2 (transcodes use every core on their own).
	Concurrency int `yaml:"concurrency"`
	// MaxRetry caps the retries of one transcode task. Default 100: the
	// retry window (transcode.retry_window) usually ends them first. At
	// least 3 (a worker crash uses up a retry, asynq #1015).
	MaxRetry int `yaml:"max_retry"`
	// MaxCrashes is how many crashes of the transcoder on one clip end it as
	// failed for good. Default 3.
	MaxCrashes int `yaml:"max_crashes"`
	// ReconcileInterval is how often stuck clips are re-enqueued. Default
	// 15s: an upload recorded while the queue was down waits no longer.
	ReconcileInterval time.Duration `yaml:"reconcile_interval"`
	// WorkDir holds transcode job directories. Default DataDir/work.
	WorkDir string `yaml:"work_dir"`
	// MetricsAddr is where `shopclip worker` serves GET /metrics
	// (host:port) to Prometheus, to anyone who reaches it: keep it on
	// loopback or a private network. Default DefaultWorkerMetricsAddr;
	// empty: no metrics listener. `up` and `serve` serve /metrics on
	// their API address instead. Read it with MetricsAddress.
	MetricsAddr *string `yaml:"metrics_addr"`
}

// DefaultWorkerMetricsAddr is worker.metrics_addr's default.
const DefaultWorkerMetricsAddr = "127.0.0.1:9464"

// MetricsAddress is MetricsAddr with its default; "" disables the
// listener.
func (w Worker) MetricsAddress() string {
	if w.MetricsAddr == nil {
		return DefaultWorkerMetricsAddr
	}
	return *w.MetricsAddr
}

// Default returns the configuration with every default filled in.
func Default() Config {
	var c Config
	c.applyDefaults()
	return c
}

// DefaultDataDir is $XDG_DATA_HOME/shopclip, or ~/.local/share/shopclip.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "shopclip")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "shopclip-data"
	}
	return filepath.Join(home, ".local", "share", "shopclip")
}

func (c *Config) applyDefaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir()
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.Database.URL == "" {
		c.Database.URL = filepath.Join(c.DataDir, "shopclip.db")
	}
	if c.Blob.Dir == "" {
		c.Blob.Dir = filepath.Join(c.DataDir, "blobs")
	}
	c.Blob.S3.SignedURLTTL = cmp.Or(c.Blob.S3.SignedURLTTL, time.Hour)
	if c.Blob.S3.Region == "" {
		c.Blob.S3.Region = "us-east-1"
	}
	c.Upload.MaxBytes = cmp.Or(c.Upload.MaxBytes, 1<<30)
	c.Upload.MaxConcurrent = cmp.Or(c.Upload.MaxConcurrent, 64)
	c.Upload.MaxConcurrentPerAccount = cmp.Or(c.Upload.MaxConcurrentPerAccount, 4)
	c.Worker.Concurrency = cmp.Or(c.Worker.Concurrency, 2)
	c.Webhooks.Concurrency = cmp.Or(c.Webhooks.Concurrency, 4)
	c.Worker.MaxRetry = cmp.Or(c.Worker.MaxRetry, 100)
	c.Transcode.RetryWindow = cmp.Or(c.Transcode.RetryWindow, time.Hour)
	c.Transcode.FirstSegment = cmp.Or(c.Transcode.FirstSegment, 500*time.Millisecond)
	c.Worker.MaxCrashes = cmp.Or(c.Worker.MaxCrashes, 3)
	c.Worker.ReconcileInterval = cmp.Or(c.Worker.ReconcileInterval, 15*time.Second)
	c.Janitor.Grace = cmp.Or(c.Janitor.Grace, time.Hour)
	c.Janitor.Interval = cmp.Or(c.Janitor.Interval, 10*time.Minute)
	c.Events.Retention = cmp.Or(c.Events.Retention, shopclip.DefaultEventRetention)
	c.HTTP.MaxConnections = cmp.Or(c.HTTP.MaxConnections, 4096)
	c.HTTP.ReadHeaderTimeout = cmp.Or(c.HTTP.ReadHeaderTimeout, 10*time.Second)
	c.HTTP.BodyTimeout = cmp.Or(c.HTTP.BodyTimeout, 30*time.Second)
	c.HTTP.IdleReadTimeout = cmp.Or(c.HTTP.IdleReadTimeout, time.Minute)
	c.HTTP.IdleWriteTimeout = cmp.Or(c.HTTP.IdleWriteTimeout, time.Minute)
	c.HTTP.IdleTimeout = cmp.Or(c.HTTP.IdleTimeout, 2*time.Minute)
	if c.Worker.WorkDir == "" {
		c.Worker.WorkDir = filepath.Join(c.DataDir, "work")
	}
}

// Load builds the configuration: the YAML file at path (if path is not
// empty), then SHOPCLIP_* variables from env (os.Environ() form), then
// defaults, then Validate.
func Load(path string, env []string) (Config, error) {
	var c Config
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		if c, err = Parse(b); err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := c.ApplyEnv(env); err != nil {
		return c, err
	}
	c.applyDefaults()
	return c, c.Validate()
}

// Parse decodes YAML strictly: unknown keys and trailing documents are errors.
func Parse(b []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // an empty file is an empty config
		return c, err
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		return c, fmt.Errorf("more than one YAML document")
	}
	return c, nil
}

// DefaultStartupTimeout is StartupTimeout's default.
const DefaultStartupTimeout = 5 * time.Minute

// StartupWait is StartupTimeout with its default; 0 is no bound.
func (c *Config) StartupWait() time.Duration {
	if c.StartupTimeout == nil {
		return DefaultStartupTimeout
	}
	return *c.StartupTimeout
}

// Env lists the environment variables ApplyEnv reads, with what they set.
var Env = []struct{ Name, Sets string }{
	{"SHOPCLIP_ADDR", "addr"},
	{"SHOPCLIP_DATA", "data_dir"},
	{"SHOPCLIP_PUBLIC_URL", "public_url"},
	{"SHOPCLIP_LOG_LEVEL", "log_level"},
	{"SHOPCLIP_LOG_FORMAT", "log_format (json or text)"},
	{"SHOPCLIP_STARTUP_TIMEOUT", "startup_timeout (0s: wait for ever)"},
	{"SHOPCLIP_DATABASE_URL", "database.url"},
	{"SHOPCLIP_REDIS_URL", "redis.url"},
	{"SHOPCLIP_BLOB_DIR", "blob.dir"},
	{"SHOPCLIP_S3_ENDPOINT", "blob.s3.endpoint"},
	{"SHOPCLIP_S3_REGION", "blob.s3.region"},
	{"SHOPCLIP_S3_BUCKET", "blob.s3.bucket"},
	{"SHOPCLIP_S3_ACCESS_KEY", "blob.s3.access_key"},
	{"SHOPCLIP_S3_SECRET_KEY", "blob.s3.secret_key"},
	{"SHOPCLIP_S3_USE_SSL", "blob.s3.use_ssl"},
	{"SHOPCLIP_S3_SIGNED_URL_TTL", "blob.s3.signed_url_ttl"},
	{"SHOPCLIP_UPLOAD_MAX_BYTES", "upload.max_bytes"},
	{"SHOPCLIP_UPLOAD_MAX_CONCURRENT", "upload.max_concurrent"},
	{"SHOPCLIP_UPLOAD_MAX_CONCURRENT_PER_ACCOUNT", "upload.max_concurrent_per_account"},
	{"SHOPCLIP_UPLOAD_MAX_BYTES_PER_ACCOUNT", "upload.max_bytes_per_account"},
	{"SHOPCLIP_UPLOAD_MAX_UPLOADS_PER_DAY", "upload.max_uploads_per_day"},
	{"SHOPCLIP_WORKER_CONCURRENCY", "worker.concurrency"},
	{"SHOPCLIP_WORKER_MAX_RETRY", "worker.max_retry"},
	{"SHOPCLIP_WORKER_MAX_CRASHES", "worker.max_crashes"},
	{"SHOPCLIP_WORKER_RECONCILE_INTERVAL", "worker.reconcile_interval"},
	{"SHOPCLIP_TRANSCODE_RETRY_WINDOW", "transcode.retry_window"},
	{"SHOPCLIP_TRANSCODE_FIRST_SEGMENT", "transcode.first_segment"},
	{"SHOPCLIP_TRANSCODE_WARM_MEMORY_MIB", "transcode.warm_memory_mib"},
	{"SHOPCLIP_TRANSCODE_CODECS", "transcode.codecs (comma- or space-separated, e.g. h264,av1)"},
	{"SHOPCLIP_WORKER_WORK_DIR", "worker.work_dir"},
	{"SHOPCLIP_WORKER_METRICS_ADDR", "worker.metrics_addr (empty: no metrics listener)"},
	{"SHOPCLIP_JANITOR_GRACE", "janitor.grace"},
	{"SHOPCLIP_JANITOR_INTERVAL", "janitor.interval"},
	{"SHOPCLIP_EVENTS_RETENTION", "events.retention"},
	{"SHOPCLIP_ADMIN_QUEUE_CONSOLE_WRITE", "admin.queue_console_write"},
	{"SHOPCLIP_WEBHOOKS_ALLOW_PRIVATE", "webhooks.allow_private"},
	{"SHOPCLIP_WEB_FRAME_ANCESTORS", "web.frame_ancestors (space-separated origins)"},
	{"SHOPCLIP_WEB_MEDIA_ORIGINS", "web.media_origins (space-separated origins)"},
	{"SHOPCLIP_AUTH_OPEN_SIGNUP", "auth.open_signup"},
	{"SHOPCLIP_HTTP_TRUSTED_PROXIES", "http.trusted_proxies (space-separated addresses or CIDRs)"},
	{"SHOPCLIP_HTTP_MAX_CONNECTIONS", "http.max_connections"},
}

// ApplyEnv overrides c with the SHOPCLIP_* variables in env. An unknown
// SHOPCLIP_ variable is an error, so a typo never goes unnoticed.
func (c *Config) ApplyEnv(env []string) error {
	known := map[string]bool{"SHOPCLIP_CONFIG": true}
	for _, e := range Env {
		known[e.Name] = true
	}
	var errs []error
	for _, kv := range env {
		name, val, _ := strings.Cut(kv, "=")
		// SHOPCLIP_TEST_* belong to the test scripts.
		if !strings.HasPrefix(name, "SHOPCLIP_") || strings.HasPrefix(name, "SHOPCLIP_TEST_") {
			continue
		}
		if !known[name] {
			errs = append(errs, fmt.Errorf("unknown environment variable %s", name))
			continue
		}
		if err := c.set(name, val); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, plainNumError(err, val)))
		}
	}
	return errors.Join(errs...)
}

// plainNumError says what a number or switch in the environment should
// have been, rather than strconv's own words.
func plainNumError(err error, val string) error {
	var ne *strconv.NumError
	if !errors.As(err, &ne) {
		return err
	}
	switch {
	case ne.Func == "ParseBool":
		return fmt.Errorf("%q is not true or false", val)
	case errors.Is(ne.Err, strconv.ErrRange):
		return fmt.Errorf("%q is out of range", val)
	case ne.Func == "ParseFloat":
		return fmt.Errorf("%q is not a number", val)
	default:
		return fmt.Errorf("%q is not a whole number", val)
	}
}

func (c *Config) set(name, val string) error {
	var err error
	switch name {
	case "SHOPCLIP_CONFIG":
	case "SHOPCLIP_ADDR":
		c.Addr = val
	case "SHOPCLIP_DATA":
		c.DataDir = val
	case "SHOPCLIP_PUBLIC_URL":
		c.PublicURL = val
	case "SHOPCLIP_LOG_LEVEL":
		c.LogLevel = val
	case "SHOPCLIP_LOG_FORMAT":
		c.LogFormat = val
	case "SHOPCLIP_STARTUP_TIMEOUT":
		var d time.Duration
		d, err = time.ParseDuration(val)
		c.StartupTimeout = &d
	case "SHOPCLIP_DATABASE_URL":
		c.Database.URL = val
	case "SHOPCLIP_REDIS_URL":
		c.Redis.URL = val
	case "SHOPCLIP_BLOB_DIR":
		c.Blob.Dir = val
	case "SHOPCLIP_S3_ENDPOINT":
		c.Blob.S3.Endpoint = val
	case "SHOPCLIP_S3_REGION":
		c.Blob.S3.Region = val
	case "SHOPCLIP_S3_BUCKET":
		c.Blob.S3.Bucket = val
	case "SHOPCLIP_S3_ACCESS_KEY":
		c.Blob.S3.AccessKey = val
	case "SHOPCLIP_S3_SECRET_KEY":
		c.Blob.S3.SecretKey = val
	case "SHOPCLIP_S3_USE_SSL":
		c.Blob.S3.UseSSL, err = strconv.ParseBool(val)
	case "SHOPCLIP_S3_SIGNED_URL_TTL":
		c.Blob.S3.SignedURLTTL, err = time.ParseDuration(val)
	case "SHOPCLIP_UPLOAD_MAX_BYTES":
		c.Upload.MaxBytes, err = strconv.ParseInt(val, 10, 64)
	case "SHOPCLIP_UPLOAD_MAX_CONCURRENT":
		c.Upload.MaxConcurrent, err = strconv.Atoi(val)
	case "SHOPCLIP_UPLOAD_MAX_CONCURRENT_PER_ACCOUNT":
		c.Upload.MaxConcurrentPerAccount, err = strconv.Atoi(val)
	case "SHOPCLIP_UPLOAD_MAX_BYTES_PER_ACCOUNT":
		var n int64
		n, err = strconv.ParseInt(val, 10, 64)
		c.Upload.MaxBytesPerAccount = &n
	case "SHOPCLIP_UPLOAD_MAX_UPLOADS_PER_DAY":
		var n int
		n, err = strconv.Atoi(val)
		c.Upload.MaxUploadsPerDay = &n
	case "SHOPCLIP_WORKER_CONCURRENCY":
		c.Worker.Concurrency, err = strconv.Atoi(val)
	case "SHOPCLIP_WORKER_MAX_RETRY":
		c.Worker.MaxRetry, err = strconv.Atoi(val)
	case "SHOPCLIP_WORKER_MAX_CRASHES":
		c.Worker.MaxCrashes, err = strconv.Atoi(val)
	case "SHOPCLIP_WORKER_RECONCILE_INTERVAL":
		c.Worker.ReconcileInterval, err = time.ParseDuration(val)
	case "SHOPCLIP_TRANSCODE_RETRY_WINDOW":
		c.Transcode.RetryWindow, err = time.ParseDuration(val)
	case "SHOPCLIP_TRANSCODE_FIRST_SEGMENT":
		c.Transcode.FirstSegment, err = time.ParseDuration(val)
	case "SHOPCLIP_TRANSCODE_WARM_MEMORY_MIB":
		var n int
		n, err = strconv.Atoi(val)
		c.Transcode.WarmMemoryMiB = &n
	case "SHOPCLIP_TRANSCODE_CODECS":
		c.Transcode.Codecs = strings.Fields(strings.ReplaceAll(val, ",", " "))
	case "SHOPCLIP_WORKER_WORK_DIR":
		c.Worker.WorkDir = val
	case "SHOPCLIP_WORKER_METRICS_ADDR":
		c.Worker.MetricsAddr = &val
	case "SHOPCLIP_JANITOR_GRACE":
		c.Janitor.Grace, err = time.ParseDuration(val)
	case "SHOPCLIP_JANITOR_INTERVAL":
		c.Janitor.Interval, err = time.ParseDuration(val)
	case "SHOPCLIP_EVENTS_RETENTION":
		c.Events.Retention, err = time.ParseDuration(val)
	case "SHOPCLIP_ADMIN_QUEUE_CONSOLE_WRITE":
		c.Admin.QueueConsoleWrite, err = strconv.ParseBool(val)
	case "SHOPCLIP_WEBHOOKS_ALLOW_PRIVATE":
		c.Webhooks.AllowPrivate, err = strconv.ParseBool(val)
	case "SHOPCLIP_WEB_FRAME_ANCESTORS":
		c.Web.FrameAncestors = strings.Fields(val)
	case "SHOPCLIP_WEB_MEDIA_ORIGINS":
		c.Web.MediaOrigins = strings.Fields(val)
	case "SHOPCLIP_AUTH_OPEN_SIGNUP":
		var open bool
		open, err = strconv.ParseBool(val)
		c.Auth.OpenSignup = &open
	case "SHOPCLIP_HTTP_TRUSTED_PROXIES":
		c.HTTP.TrustedProxies = strings.Fields(val)
	case "SHOPCLIP_HTTP_MAX_CONNECTIONS":
		c.HTTP.MaxConnections, err = strconv.Atoi(val)
	}
	return err
}

// Validate reports every problem with c at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr %q: want host:port: %v", c.Addr, err)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("public_url %q: want http(s)://host[:port] with no path", c.PublicURL)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level %q: want debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "", "json", "text":
	default:
		bad("log_format %q: want json or text", c.LogFormat)
	}
	if d := c.StartupWait(); d < 0 || (d > 0 && d < time.Second) {
		bad("startup_timeout %s: want 0s (wait for ever) or at least 1s", d)
	}
	if c.Redis.URL != "" {
		u, err := url.Parse(c.Redis.URL)
		switch {
		case err != nil:
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // without the URL and its password
			}
			bad("redis.url: %v", err)
		case u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix" && u.Scheme != "redis-socket" && u.Scheme != "redis-sentinel":
			bad("redis.url %q: want redis://host:port/db, rediss://…, redis-sentinel://… or unix:///path.sock", u.Redacted())
		}
	}
	if s := c.Blob.S3; s.Enabled() {
		if strings.Contains(s.Endpoint, "://") {
			bad("blob.s3.endpoint %q: want host:port without a scheme (use use_ssl for https)", s.Endpoint)
		}
		if s.Bucket == "" || s.AccessKey == "" || s.SecretKey == "" {
			bad("blob.s3: endpoint is set, so bucket, access_key and secret_key are required")
		}
		if s.SignedURLTTL <= 0 || s.SignedURLTTL > 7*24*time.Hour {
			bad("blob.s3.signed_url_ttl %s: want more than 0 and at most 7 days (S3's limit)", s.SignedURLTTL)
		}
	}
	if c.Upload.MaxBytes < 1<<20 {
		bad("upload.max_bytes %d: want at least 1 MiB", c.Upload.MaxBytes)
	}
	if c.Upload.MaxConcurrent < 1 {
		bad("upload.max_concurrent %d: want at least 1", c.Upload.MaxConcurrent)
	}
	if n := c.Upload.MaxConcurrentPerAccount; n < 1 || n > c.Upload.MaxConcurrent {
		bad("upload.max_concurrent_per_account %d: want 1..upload.max_concurrent (%d)", n, c.Upload.MaxConcurrent)
	}
	if n := c.Upload.BytesPerAccount(); n < 0 {
		bad("upload.max_bytes_per_account %d: want 0 (no bound) or more", n)
	}
	if n := c.Upload.UploadsPerDay(); n < 0 {
		bad("upload.max_uploads_per_day %d: want 0 (no bound) or more", n)
	}
	if c.Worker.Concurrency < 1 || c.Worker.Concurrency > 64 {
		bad("worker.concurrency %d: want 1..64", c.Worker.Concurrency)
	}
	if c.Webhooks.Concurrency < 1 || c.Webhooks.Concurrency > 64 {
		bad("webhooks.concurrency %d: want 1..64", c.Webhooks.Concurrency)
	}
	if c.Worker.MaxRetry < 3 {
		bad("worker.max_retry %d: want at least 3 (a worker crash uses up a retry)", c.Worker.MaxRetry)
	}
	if c.Worker.MaxCrashes < 1 || c.Worker.MaxCrashes > c.Worker.MaxRetry+1 {
		bad("worker.max_crashes %d: want 1..max_retry+1", c.Worker.MaxCrashes)
	}
	if c.Transcode.RetryWindow < time.Minute || c.Transcode.RetryWindow > 7*24*time.Hour {
		bad("transcode.retry_window %s: want 1m to 168h", c.Transcode.RetryWindow)
	}
	if a := c.Worker.MetricsAddress(); a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			bad("worker.metrics_addr %q: want host:port, or empty for none: %v", a, err)
		}
	}
	if c.Worker.ReconcileInterval < time.Second {
		bad("worker.reconcile_interval %s: want at least 1s", c.Worker.ReconcileInterval)
	}
	if c.Janitor.Grace < 10*time.Minute || c.Janitor.Grace > 30*24*time.Hour {
		bad("janitor.grace %s: want 10m to 720h", c.Janitor.Grace)
	}
	if c.Janitor.Interval < time.Second || c.Janitor.Interval > 24*time.Hour {
		bad("janitor.interval %s: want 1s to 24h", c.Janitor.Interval)
	}
	if c.Events.Retention < shopclip.AttributionWindow {
		bad("events.retention %s: want at least %s (the attribution window)", c.Events.Retention, shopclip.AttributionWindow)
	}
	if c.Admin.QueueConsoleWrite && strings.HasPrefix(c.PublicURL, "http://") && !loopbackURL(c.PublicURL) {
		bad("admin.queue_console_write: public_url %q is plain http on another machine; an admin's session that can delete jobs must ride https://", c.PublicURL)
	}
	for _, origins := range []struct {
		key  string
		list []string
	}{{"frame_ancestors", c.Web.FrameAncestors}, {"media_origins", c.Web.MediaOrigins}} {
		for _, o := range origins.list {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
				u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.ContainsAny(o, " ;,'\"*") {
				bad("web.%s %q: want an origin such as https://shop.example.com", origins.key, o)
			}
		}
	}
	if _, err := clientip.ParsePrefixes(c.HTTP.TrustedProxies); err != nil {
		bad("http.trusted_proxies %v", err)
	}
	if c.HTTP.MaxConnections < 16 {
		bad("http.max_connections %d: want at least 16", c.HTTP.MaxConnections)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"read_header_timeout", c.HTTP.ReadHeaderTimeout}, {"body_timeout", c.HTTP.BodyTimeout},
		{"idle_read_timeout", c.HTTP.IdleReadTimeout}, {"idle_write_timeout", c.HTTP.IdleWriteTimeout}, {"idle_timeout", c.HTTP.IdleTimeout},
	} {
		if d.v < time.Second || d.v > time.Hour {
			bad("http.%s %s: want 1s..1h", d.key, d.v)
		}
	}
	if err := c.Transcode.Engine().Validate(); err != nil {
		bad("transcode: %v", err)
	}
	if m := c.Transcode.WarmMemoryMiB; m != nil && (*m < 0 || *m > 4096) {
		bad("transcode.warm_memory_mib %d: want 0 (off) to 4096", *m)
	}
	if s := c.Transcode.Sandbox; s != "" && s != "on" && s != "off" {
		bad("transcode.sandbox %q: want on or off", s)
	}
	if c.Transcode.SandboxUID < 0 || c.Transcode.SandboxGID < 0 || (c.Transcode.SandboxUID == 0) != (c.Transcode.SandboxGID == 0) {
		bad("transcode.sandbox_uid %d, sandbox_gid %d: want both positive, or both unset", c.Transcode.SandboxUID, c.Transcode.SandboxGID)
	}
	return errors.Join(errs...)
}

// UsesPostgres reports whether the metadata store is PostgreSQL.
func (c *Config) UsesPostgres() bool {
	return strings.HasPrefix(c.Database.URL, "postgres://") || strings.HasPrefix(c.Database.URL, "postgresql://")
}

// loopbackURL reports whether u's host is this machine (localhost or a
// loopback address).
func loopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	host := p.Hostname()
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
