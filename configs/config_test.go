package configs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip/configs"
	"github.com/shopclip/shopclip/transcode"
)

func TestExamplesParse(t *testing.T) {
	for _, name := range []string{"shopclip.example.yaml", "scale-out.example.yaml"} {
		t.Run(name, func(t *testing.T) {
			env := []string{"SHOPCLIP_S3_SECRET_KEY=s3cret"}
			c, err := configs.Load(name, env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.Addr == "" || c.Worker.Concurrency != 2 {
				t.Errorf("unexpected config: %+v", c)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c, err := configs.Load("", []string{"SHOPCLIP_DATA=/tmp/x"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Database.URL, "/tmp/x/shopclip.db"; got != want {
		t.Errorf("Database.URL = %q, want %q", got, want)
	}
	if got, want := c.Blob.Dir, "/tmp/x/blobs"; got != want {
		t.Errorf("Blob.Dir = %q, want %q", got, want)
	}
	if c.Upload.MaxBytes != 1<<30 || c.Worker.MaxRetry != 100 || c.Transcode.RetryWindow != time.Hour || c.Addr != "127.0.0.1:8080" {
		t.Errorf("defaults: %+v", c)
	}
	if h := c.HTTP; h.MaxConnections != 4096 || h.ReadHeaderTimeout != 10*time.Second || h.BodyTimeout != 30*time.Second ||
		h.IdleReadTimeout != time.Minute || h.IdleWriteTimeout != time.Minute || h.IdleTimeout != 2*time.Minute || len(h.Proxies()) != 0 {
		t.Errorf("http defaults: %+v", h)
	}
}

func TestStrictDecoding(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "adr: 1.2.3.4:80\n", "adr"},
		{"unknown nested key", "worker:\n  concurency: 3\n", "concurency"},
		{"wrong type", "worker:\n  concurrency: many\n", "many"},
		{"two documents", "addr: 127.0.0.1:1\n---\naddr: 127.0.0.1:2\n", "more than one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := configs.Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := configs.Parse(nil); err != nil {
		t.Errorf("empty file: %v", err)
	}
}

func TestEnv(t *testing.T) {
	c, err := configs.Load("", []string{
		"SHOPCLIP_ADDR=127.0.0.1:9999",
		"SHOPCLIP_WORKER_RECONCILE_INTERVAL=30s",
		"SHOPCLIP_TRANSCODE_RETRY_WINDOW=2h",
		"SHOPCLIP_S3_USE_SSL=true",
		"SHOPCLIP_S3_ENDPOINT=127.0.0.1:9000", "SHOPCLIP_S3_BUCKET=b", "SHOPCLIP_S3_ACCESS_KEY=a", "SHOPCLIP_S3_SECRET_KEY=s",
		"SHOPCLIP_TEST_REDIS_ADDR=ignored", "PATH=/bin",
		"SHOPCLIP_HTTP_TRUSTED_PROXIES=127.0.0.1 10.0.0.0/8", "SHOPCLIP_HTTP_MAX_CONNECTIONS=100",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || c.Worker.ReconcileInterval != 30*time.Second || c.Transcode.RetryWindow != 2*time.Hour || !c.Blob.S3.UseSSL || !c.Blob.S3.Enabled() {
		t.Errorf("env not applied: %+v", c)
	}
	if p := c.HTTP.Proxies(); len(p) != 2 || p[1].String() != "10.0.0.0/8" || c.HTTP.MaxConnections != 100 {
		t.Errorf("http env not applied: %+v", c.HTTP)
	}
	for bad, want := range map[string]string{
		"SHOPCLIP_ADRR=x":                                "unknown environment variable SHOPCLIP_ADRR",
		"SHOPCLIP_S3_USE_SSL=maybe":                      `SHOPCLIP_S3_USE_SSL: "maybe" is not true or false`,
		"SHOPCLIP_WORKER_CONCURRENCY=two":                `SHOPCLIP_WORKER_CONCURRENCY: "two" is not a whole number`,
		"SHOPCLIP_TRANSCODE_WARM_MEMORY_MIB=1.5":         `SHOPCLIP_TRANSCODE_WARM_MEMORY_MIB: "1.5" is not a whole number`,
		"SHOPCLIP_UPLOAD_MAX_BYTES=99999999999999999999": `SHOPCLIP_UPLOAD_MAX_BYTES: "99999999999999999999" is out of range`,
		"SHOPCLIP_TRANSCODE_RETRY_WINDOW=soon":           `SHOPCLIP_TRANSCODE_RETRY_WINDOW: time: invalid duration "soon"`,
	} {
		if _, err := configs.Load("", []string{bad}); err == nil || err.Error() != want {
			t.Errorf("Load with %s: %v, want %q", bad, err, want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"bad addr", "addr: localhost\n", "addr"},
		{"bad redis", "redis:\n  url: http://x\n", "redis.url"},
		{"partial s3", "blob:\n  s3:\n    endpoint: 127.0.0.1:9000\n", "bucket"},
		{"scheme in endpoint", "blob:\n  s3:\n    endpoint: http://x:9000\n    bucket: b\n    access_key: a\n    secret_key: s\n", "without a scheme"},
		{"too few retries", "worker:\n  max_retry: 1\n", "max_retry"},
		{"retry window too short", "transcode:\n  retry_window: 10s\n", "retry_window"},
		{"tiny upload limit", "upload:\n  max_bytes: 10\n", "max_bytes"},
		{"public url with path", "public_url: https://x.example/app\n", "public_url"},
		{"frame ancestor with a path", "web:\n  frame_ancestors: [https://shop.example/x]\n", "web.frame_ancestors"},
		{"wildcard frame ancestor", "web:\n  frame_ancestors: ['https://*']\n", "web.frame_ancestors"},
		{"directive in a media origin", "web:\n  media_origins: [\"https://cdn.example; script-src *\"]\n", "web.media_origins"},
		{"trusted proxy not an address", "http:\n  trusted_proxies: [proxy.internal]\n", "http.trusted_proxies"},
		{"trusted proxy bad CIDR", "http:\n  trusted_proxies: [10.0.0.0/40]\n", "http.trusted_proxies"},
		{"too few connections", "http:\n  max_connections: 1\n", "http.max_connections"},
		{"sub-second timeout", "http:\n  idle_write_timeout: 10ms\n", "http.idle_write_timeout"},
		{"negative startup timeout", "startup_timeout: -1s\n", "startup_timeout"},
		{"sub-second startup timeout", "startup_timeout: 10ms\n", "startup_timeout"},
		{"long signed urls", "blob:\n  s3:\n    endpoint: h:1\n    bucket: b\n    access_key: a\n    secret_key: s\n    signed_url_ttl: 200h\n", "7 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := configs.Load(path, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestTranscodeSection(t *testing.T) {
	c, err := configs.Parse([]byte("transcode:\n  crf: 20\n  rungs:\n    - {short_side: 720, max_rate: 2000000}\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := c.Transcode.Engine()
	if e.CRF != 20 || len(e.Rungs) != 1 || e.Rungs[0].ShortSide != 720 || e.Preset != "veryfast" {
		t.Errorf("engine config = %+v", e)
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("transcode:\n  crf: 99\n"), 0o600)
	if _, err := configs.Load(path, nil); err == nil || !strings.Contains(err.Error(), "transcode") {
		t.Errorf("crf 99: %v", err)
	}
}

// TestTranscodeFirstSegment: the first segment is 500 ms unless set (by the
// file or the environment), reaches the engine, and is refused out of the
// engine's range.
func TestTranscodeFirstSegment(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want time.Duration // 0: refused
	}{
		{"default", "", nil, 500 * time.Millisecond},
		{"file", "transcode:\n  first_segment: 1s\n", nil, time.Second},
		{"environment", "transcode:\n  first_segment: 1s\n", []string{"SHOPCLIP_TRANSCODE_FIRST_SEGMENT=300ms"}, 300 * time.Millisecond},
		{"equal segments", "transcode:\n  first_segment: 2s\n", nil, 2 * time.Second},
		{"too short", "transcode:\n  first_segment: 50ms\n", nil, 0},
		{"longer than the others", "transcode:\n  first_segment: 3s\n", nil, 0},
		{"sub-millisecond", "transcode:\n  first_segment: 500500us\n", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := configs.Load(path, tt.env)
			if tt.want == 0 {
				if err == nil || !strings.Contains(err.Error(), "first segment") {
					t.Errorf("Load = %v, want an error about the first segment", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Transcode.Engine().FirstSegmentDuration; got != tt.want {
				t.Errorf("engine's first segment = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestTranscodeWarmMemory: the waiting child warms 256 MiB unless set (by
// the file or the environment; 0 turns it off), and at most 4 GiB.
func TestTranscodeWarmMemory(t *testing.T) {
	for _, tt := range []struct {
		name string
		yaml string
		env  []string
		want int64 // -1: refused
	}{
		{"default", "", nil, 256 << 20},
		{"file", "transcode:\n  warm_memory_mib: 512\n", nil, 512 << 20},
		{"off", "transcode:\n  warm_memory_mib: 0\n", nil, 0},
		{"environment", "transcode:\n  warm_memory_mib: 512\n", []string{"SHOPCLIP_TRANSCODE_WARM_MEMORY_MIB=64"}, 64 << 20},
		{"negative", "transcode:\n  warm_memory_mib: -1\n", nil, -1},
		{"too much", "transcode:\n  warm_memory_mib: 5000\n", nil, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := configs.Load(path, tt.env)
			if tt.want < 0 {
				if err == nil || !strings.Contains(err.Error(), "warm_memory_mib") {
					t.Errorf("Load = %v, want an error about warm_memory_mib", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Transcode.WarmMemory(); got != tt.want {
				t.Errorf("WarmMemory() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestTranscodeSandbox(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		want       transcode.Sandbox
		err        string
	}{
		{"default", "", transcode.Sandbox{}, ""},
		{"on", "transcode:\n  sandbox: on\n", transcode.Sandbox{}, ""},
		{"off", "transcode:\n  sandbox: off\n", transcode.Sandbox{Off: true}, ""},
		{"uid", "transcode:\n  sandbox_uid: 990\n  sandbox_gid: 990\n", transcode.Sandbox{UID: 990, GID: 990}, ""},
		{"typo", "transcode:\n  sandbox: of\n", transcode.Sandbox{}, "transcode.sandbox"},
		{"uid alone", "transcode:\n  sandbox_uid: 990\n", transcode.Sandbox{}, "sandbox_uid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := configs.Load(path, nil)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("Load error = %v, want one mentioning %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Transcode.Isolation(); got != tt.want {
				t.Errorf("Isolation() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStartupTimeout(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want time.Duration
	}{
		{"default", "", nil, 5 * time.Minute},
		{"file", "startup_timeout: 30s\n", nil, 30 * time.Second},
		{"for ever in the file", "startup_timeout: 0s\n", nil, 0},
		{"env over the file", "startup_timeout: 30s\n", []string{"SHOPCLIP_STARTUP_TIMEOUT=2m"}, 2 * time.Minute},
		{"for ever in the env", "", []string{"SHOPCLIP_STARTUP_TIMEOUT=0"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := configs.Load(path, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.StartupWait(); got != tt.want {
				t.Errorf("StartupWait() = %s, want %s", got, tt.want)
			}
		})
	}
}
