package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/blob/blobtest"
	"github.com/shopclip/shopclip/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// testPartSize is S3's smallest part, so that the suite's 20 MiB object
// goes up in several parts.
const testPartSize = 5 << 20

// minIO returns the test MinIO and a fresh bucket name, once the server
// serves S3 requests: MinIO answers its readiness probe a moment before it
// stops answering XMinioServerNotInitialized (503).
func minIO(t *testing.T) testenv.S3 {
	t.Helper()
	env := testenv.MinIO(t)
	s, err := New(Config{Endpoint: env.Endpoint, Bucket: env.Bucket, AccessKey: env.AccessKey, SecretKey: env.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := s.client.BucketExists(t.Context(), env.Bucket)
		if err == nil {
			return env
		}
		if time.Now().After(deadline) {
			t.Fatalf("MinIO at %s not serving: %v", env.Endpoint, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// newStore returns a Store on a fresh bucket of the test MinIO, removed with
// its objects when t ends. edit, when not nil, changes the Config first.
func newStore(t *testing.T, edit func(*Config)) *Store {
	t.Helper()
	env := minIO(t)
	cfg := Config{
		Endpoint:  env.Endpoint,
		Bucket:    env.Bucket,
		AccessKey: env.AccessKey,
		SecretKey: env.SecretKey,
		PartSize:  testPartSize,
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.EnsureBucket(t.Context()); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.client.RemoveBucketWithOptions(ctx, s.bucket, minio.RemoveBucketOptions{ForceDelete: true}); err != nil {
			t.Logf("remove bucket %s: %v", s.bucket, err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t, nil) })
}

func TestConformanceWithPrefix(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return newStore(t, func(c *Config) { c.Prefix = "deploy-1/" })
	})
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := shopclip.ErrorCode(err); got != code {
		t.Errorf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}

func TestPrefixKeepsToItself(t *testing.T) {
	s := newStore(t, func(c *Config) { c.Prefix = "tenant/" })
	ctx := t.Context()
	for _, name := range []string{"other/x", "tenant-x", "tenantx/y"} {
		if _, err := s.client.PutObject(ctx, s.bucket, name, strings.NewReader("theirs"), 6, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, "a/b", strings.NewReader("ours"), 4, blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.StatObject(ctx, s.bucket, "tenant/a/b", minio.StatObjectOptions{}); err != nil {
		t.Errorf("the object is not under the prefix in the bucket: %v", err)
	}
	infos, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Key != "a/b" {
		t.Errorf("List: got %+v, want only a/b", infos)
	}
	if err := s.DeletePrefix(ctx, "a/"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"other/x", "tenant-x", "tenantx/y"} {
		if _, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{}); err != nil {
			t.Errorf("object %q outside the prefix: %v", name, err)
		}
	}
	if _, err := s.Stat(ctx, "tenant-x"); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Errorf("Stat of a key outside the prefix: got %v, want code %q", err, shopclip.ENOTFOUND)
	}
}

func TestContentTypeKept(t *testing.T) {
	s := newStore(t, nil)
	ctx := t.Context()
	const ct = "text/plain; charset=utf-8"
	if err := s.Put(ctx, "notes/x.bin", strings.NewReader("hello"), 5, blob.PutOptions{ContentType: ct}); err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(ctx, "notes/x.bin")
	if err != nil {
		t.Fatal(err)
	}
	if info.ContentType != ct {
		t.Errorf("Stat: got content type %q, want %q", info.ContentType, ct)
	}
	o, err := s.Open(ctx, "notes/x.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if got := o.Info().ContentType; got != ct {
		t.Errorf("Open: got content type %q, want %q", got, ct)
	}
}

func get(t *testing.T, u string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp.StatusCode, resp.Header, body
}

func TestSignedURL(t *testing.T) {
	s := newStore(t, func(c *Config) { c.Prefix = "p/" })
	ctx := t.Context()
	data := bytes.Repeat([]byte("#EXTM3U\n"), 1000)
	for _, key := range []string{"clips/a/master.m3u8", "clips/b/master.m3u8"} {
		if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), blob.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	signed, err := s.SignedURL(ctx, "clips/a/master.m3u8", time.Hour)
	if err != nil {
		t.Fatalf("SignedURL: %v", err)
	}
	status, header, body := get(t, signed)
	if status != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("GET signed URL: got %d with %d bytes, want 200 with the object's %d", status, len(body), len(data))
	}
	if got, want := header.Get("Content-Type"), "application/vnd.apple.mpegurl"; got != want {
		t.Errorf("GET signed URL: Content-Type %q, want %q", got, want)
	}

	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("tampered signature", func(t *testing.T) {
		tampered := *u
		q := tampered.Query()
		sig := []byte(q.Get("X-Amz-Signature"))
		if last := len(sig) - 1; sig[last] == '0' {
			sig[last] = '1'
		} else {
			sig[last] = '0'
		}
		q.Set("X-Amz-Signature", string(sig))
		tampered.RawQuery = q.Encode()
		if status, _, body := get(t, tampered.String()); status != http.StatusForbidden {
			t.Errorf("GET with a tampered signature: got %d %s, want 403", status, body)
		}
	})
	t.Run("other key", func(t *testing.T) {
		other := *u
		other.Path = strings.Replace(other.Path, "clips/a/", "clips/b/", 1)
		other.RawPath = ""
		if status, _, body := get(t, other.String()); status != http.StatusForbidden {
			t.Errorf("GET of another key with a signed URL: got %d %s, want 403", status, body)
		}
	})
	t.Run("expired", func(t *testing.T) {
		short, err := s.SignedURL(ctx, "clips/a/master.m3u8", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		// Not a timing assertion: once two seconds have passed the URL
		// must be refused, however slow the machine.
		time.Sleep(2100 * time.Millisecond)
		status, _, body := get(t, short)
		if status != http.StatusForbidden || !bytes.Contains(bytes.ToLower(body), []byte("expired")) {
			t.Errorf("GET of an expired signed URL: got %d %s, want 403 saying it expired", status, body)
		}
	})
}

func TestSignedURLLifetime(t *testing.T) {
	s := newStore(t, nil)
	ctx := t.Context()
	for _, ttl := range []time.Duration{0, -time.Second, 500 * time.Millisecond, MaxSignedURLTTL + time.Second, 30 * 24 * time.Hour} {
		u, err := s.SignedURL(ctx, "a", ttl)
		if shopclip.ErrorCode(err) != shopclip.EINVALID {
			t.Errorf("SignedURL(ttl %s): got %q, %v, want code %q", ttl, u, err, shopclip.EINVALID)
		}
	}
	for _, ttl := range []time.Duration{time.Second, MaxSignedURLTTL} {
		if _, err := s.SignedURL(ctx, "a", ttl); err != nil {
			t.Errorf("SignedURL(ttl %s): %v", ttl, err)
		}
	}
	_, err := s.SignedURL(ctx, "../a", time.Hour)
	wantCode(t, "SignedURL(../a)", err, shopclip.EINVALID)
}

// TestUnreachable checks that a server nobody answers for fails every call
// with EUNAVAILABLE, by itself and well before the test's own deadline.
func TestUnreachable(t *testing.T) {
	s, err := New(Config{Endpoint: "127.0.0.1:1", Bucket: "nothing", AccessKey: "k", SecretKey: "secret-key"})
	if err != nil {
		t.Fatal(err)
	}
	checkUnavailable(t, s)
}

// TestUnresponsive does the same with a server that accepts connections and
// never answers (a stopped process): Config.ResponseTimeout ends each try.
func TestUnresponsive(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { io.Copy(io.Discard, c) })
		}
	})
	s, err := New(Config{Endpoint: l.Addr().String(), Bucket: "nothing", AccessKey: "k", SecretKey: "secret-key",
		Region: "us-east-1", MaxRetries: 2, ResponseTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	checkUnavailable(t, s)
}

func checkUnavailable(t *testing.T, s *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	check := func(op string, err error) {
		t.Helper()
		if code := shopclip.ErrorCode(err); code != shopclip.EUNAVAILABLE || ctx.Err() != nil {
			t.Errorf("%s: got %v (code %q), want code %q from the client, before the test's deadline", op, err, code, shopclip.EUNAVAILABLE)
		}
	}
	check("Ping", s.Ping(ctx))
	check("EnsureBucket", s.EnsureBucket(ctx))
	check("Put", s.Put(ctx, "a/b", strings.NewReader("x"), 1, blob.PutOptions{}))
	check("Put size -1", s.Put(ctx, "a/b", strings.NewReader("x"), -1, blob.PutOptions{}))
	_, err := s.Open(ctx, "a/b")
	check("Open", err)
	_, err = s.Stat(ctx, "a/b")
	check("Stat", err)
	_, err = s.List(ctx, "a/")
	check("List", err)
	check("Delete", s.Delete(ctx, "a/b"))
	check("DeletePrefix", s.DeletePrefix(ctx, "a/"))
	check("AbortIncompleteUploads", s.AbortIncompleteUploads(ctx, time.Hour))
}

func TestMissingBucket(t *testing.T) {
	env := minIO(t)
	s, err := New(Config{Endpoint: env.Endpoint, Bucket: env.Bucket, AccessKey: env.AccessKey, SecretKey: env.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	wantCode(t, "Ping", s.Ping(ctx), shopclip.EUNAVAILABLE)
	wantCode(t, "Put", s.Put(ctx, "a", strings.NewReader("x"), 1, blob.PutOptions{}), shopclip.EUNAVAILABLE)
	_, err = s.Stat(ctx, "a")
	wantCode(t, "Stat", err, shopclip.EUNAVAILABLE)
}

func TestEnsureBucketConcurrent(t *testing.T) {
	env := minIO(t)
	cfg := Config{Endpoint: env.Endpoint, Bucket: env.Bucket, AccessKey: env.AccessKey, SecretKey: env.SecretKey}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	var stores []*Store
	for range errs {
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	t.Cleanup(func() {
		stores[0].client.RemoveBucketWithOptions(context.Background(), cfg.Bucket, minio.RemoveBucketOptions{ForceDelete: true})
	})
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.EnsureBucket(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("EnsureBucket %d: %v", i, err)
		}
	}
	if err := stores[0].EnsureBucket(t.Context()); err != nil {
		t.Errorf("EnsureBucket again: %v", err)
	}
	if err := stores[0].Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// uploads returns the IDs of the incomplete multipart uploads of the object
// named name in the bucket.
func uploads(t *testing.T, s *Store, name string) []string {
	t.Helper()
	var ids []string
	for u := range s.client.ListIncompleteUploads(context.Background(), s.bucket, name, true) {
		if u.Err != nil {
			t.Fatalf("ListIncompleteUploads(%q): %v", name, u.Err)
		}
		if u.Key == name {
			ids = append(ids, u.UploadID)
		}
	}
	return ids
}

// TestFailedMultipartPutIsAborted checks what minio-go promises and the
// Store relies on: a multipart Put that fails midway, because its context
// ended or its reader failed, leaves no incomplete upload behind.
func TestFailedMultipartPutIsAborted(t *testing.T) {
	s := newStore(t, func(c *Config) { c.Prefix = "p/" })
	const size = 3*testPartSize + 1
	errBoom := errors.New("boom")
	cases := []struct {
		name     string
		declared int64
		cancel   bool // else the reader fails
	}{
		{"canceled, size unknown", -1, true},
		{"canceled, size known", size, true},
		{"reader fails, size unknown", -1, false},
		{"reader fails, size known", size, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := fmt.Sprintf("mp/obj%d", i)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var during []string
			r := blobtest.NewHookReader(size, testPartSize+testPartSize/2, func() error {
				// The first part is up: the upload exists.
				during = uploads(t, s, s.name(key))
				if c.cancel {
					cancel()
					return nil
				}
				return errBoom
			})
			err := s.Put(ctx, key, r, c.declared, blob.PutOptions{})
			if c.cancel && !errors.Is(err, context.Canceled) || !c.cancel && !errors.Is(err, errBoom) {
				t.Fatalf("Put: got %v, want the failure", err)
			}
			if len(during) != 1 {
				t.Fatalf("incomplete uploads during the Put: got %q, want one (is it multipart?)", during)
			}
			if after := uploads(t, s, s.name(key)); len(after) != 0 {
				t.Errorf("incomplete uploads after the failed Put: got %q, want none", after)
			}
			if _, err := s.Stat(t.Context(), key); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
				t.Errorf("Stat after the failed Put: got %v, want code %q", err, shopclip.ENOTFOUND)
			}
		})
	}
}

func TestAbortIncompleteUploads(t *testing.T) {
	s := newStore(t, func(c *Config) { c.Prefix = "p/" })
	ctx := t.Context()
	core := minio.Core{Client: s.client}
	// Uploads a process started and never finished: two under the
	// Store's prefix, one outside it.
	start := func(name string) {
		t.Helper()
		id, err := core.NewMultipartUpload(ctx, s.bucket, name, minio.PutObjectOptions{})
		if err != nil {
			t.Fatalf("NewMultipartUpload(%q): %v", name, err)
		}
		if _, err := core.PutObjectPart(ctx, s.bucket, name, id, 1, strings.NewReader("part"), 4, minio.PutObjectPartOptions{}); err != nil {
			t.Fatalf("PutObjectPart(%q): %v", name, err)
		}
	}
	names := []string{"p/stale/a", "p/stale/deeper/b", "elsewhere/c"}
	for _, name := range names {
		start(name)
	}
	count := func() []int {
		var n []int
		for _, name := range names {
			n = append(n, len(uploads(t, s, name)))
		}
		return n
	}
	if got := count(); !slices.Equal(got, []int{1, 1, 1}) {
		t.Fatalf("uploads before: got %v, want one each", got)
	}
	if err := s.AbortIncompleteUploads(ctx, time.Hour); err != nil {
		t.Fatalf("AbortIncompleteUploads(1h): %v", err)
	}
	if got := count(); !slices.Equal(got, []int{1, 1, 1}) {
		t.Errorf("uploads after aborting those older than 1h: got %v, want all (they are young)", got)
	}
	if err := s.AbortIncompleteUploads(ctx, 0); err != nil {
		t.Fatalf("AbortIncompleteUploads(0): %v", err)
	}
	if got := count(); !slices.Equal(got, []int{0, 0, 1}) {
		t.Errorf("uploads after aborting all: got %v, want [0 0 1] (the one outside the prefix stays)", got)
	}
	if err := s.AbortIncompleteUploads(ctx, -time.Second); shopclip.ErrorCode(err) != shopclip.EINVALID {
		t.Errorf("AbortIncompleteUploads(-1s): got %v, want code %q", err, shopclip.EINVALID)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	good := Config{Endpoint: "127.0.0.1:9000", Bucket: "b"}
	cases := []struct {
		name string
		edit func(*Config)
	}{
		{"no endpoint", func(c *Config) { c.Endpoint = "" }},
		{"endpoint with scheme", func(c *Config) { c.Endpoint = "http://127.0.0.1:9000" }},
		{"no bucket", func(c *Config) { c.Bucket = "" }},
		{"prefix without slash", func(c *Config) { c.Prefix = "p" }},
		{"prefix with traversal", func(c *Config) { c.Prefix = "../" }},
		{"part too small", func(c *Config) { c.PartSize = 1 << 20 }},
		{"negative retries", func(c *Config) { c.MaxRetries = -1 }},
	}
	for _, c := range cases {
		cfg := good
		c.edit(&cfg)
		if _, err := New(cfg); shopclip.ErrorCode(err) != shopclip.EINVALID {
			t.Errorf("%s: got %v, want code %q", c.name, err, shopclip.EINVALID)
		}
	}
	if _, err := New(good); err != nil {
		t.Errorf("good config: %v", err)
	}
}

func TestTranslate(t *testing.T) {
	s := &Store{bucket: "b"}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"NoSuchKey", minio.ErrorResponse{Code: minio.NoSuchKey, StatusCode: 404}, shopclip.ENOTFOUND},
		{"bare 404", minio.ErrorResponse{Code: "404 Not Found", StatusCode: 404}, shopclip.ENOTFOUND},
		{"NoSuchBucket", minio.ErrorResponse{Code: minio.NoSuchBucket, StatusCode: 404}, shopclip.EUNAVAILABLE},
		{"PreconditionFailed", minio.ErrorResponse{Code: minio.PreconditionFailed, StatusCode: 412}, shopclip.ECONFLICT},
		{"ConditionalRequestConflict", minio.ErrorResponse{Code: "ConditionalRequestConflict", StatusCode: 409}, shopclip.ECONFLICT},
		{"SlowDown", minio.ErrorResponse{Code: "SlowDown", StatusCode: 503}, shopclip.EUNAVAILABLE},
		{"bare 502", minio.ErrorResponse{Code: "502 Bad Gateway", StatusCode: 502}, shopclip.EUNAVAILABLE},
		{"EntityTooLarge", minio.ErrorResponse{Code: minio.EntityTooLarge, StatusCode: 400}, shopclip.ETOOLARGE},
		{"AccessDenied", minio.ErrorResponse{Code: minio.AccessDenied, StatusCode: 403}, shopclip.EINTERNAL},
		{"wrapped", fmt.Errorf("x: %w", minio.ErrorResponse{Code: minio.NoSuchKey}), shopclip.ENOTFOUND},
		{"connection refused", &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, shopclip.EUNAVAILABLE},
		{"unexpected EOF", io.ErrUnexpectedEOF, shopclip.EUNAVAILABLE},
		{"other", errors.New("x"), shopclip.EINTERNAL},
	}
	for _, c := range cases {
		err := s.translate(context.Background(), c.err)
		if got := shopclip.ErrorCode(err); got != c.want {
			t.Errorf("%s: got code %q, want %q", c.name, got, c.want)
		}
		if !errors.Is(err, c.err) && !errors.As(err, new(minio.ErrorResponse)) {
			t.Errorf("%s: the translated error %v does not wrap the cause", c.name, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.translate(ctx, errors.New("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("with an ended context: got %v, want the context's error", err)
	}
}
