package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/blob/local"
	"github.com/shopclip/shopclip/blob/s3"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/janitor"
	"github.com/shopclip/shopclip/store"
)

// crashEnv is the environment of shopclip subprocesses sharing a database
// and a blob store, and the test's own handles on both.
type crashEnv struct {
	env      []string
	dsn      string
	workDir  string
	blobs    blob.Store
	db       *store.DB
	postgres bool
}

func newCrashEnv(t *testing.T, postgres bool) *crashEnv {
	t.Helper()
	redisAddr, redisDB := testenv.Redis(t)
	data := t.TempDir()
	e := &crashEnv{workDir: filepath.Join(data, "work"), postgres: postgres}
	e.env = []string{
		"SHOPCLIP_DATA=" + data,
		"SHOPCLIP_WORKER_WORK_DIR=" + e.workDir,
		fmt.Sprintf("SHOPCLIP_REDIS_URL=redis://%s/%d", redisAddr, redisDB),
		// No quota: nothing but CreateClip writes to the database during
		// an upload, so that holding the database stops it right there.
		"SHOPCLIP_UPLOAD_MAX_BYTES_PER_ACCOUNT=0", "SHOPCLIP_UPLOAD_MAX_UPLOADS_PER_DAY=0",
	}
	var err error
	if postgres {
		e.dsn = testenv.Postgres(t)
		m := testenv.MinIO(t)
		e.env = append(e.env, "SHOPCLIP_DATABASE_URL="+e.dsn, "SHOPCLIP_S3_ENDPOINT="+m.Endpoint, "SHOPCLIP_S3_BUCKET="+m.Bucket,
			"SHOPCLIP_S3_ACCESS_KEY="+m.AccessKey, "SHOPCLIP_S3_SECRET_KEY="+m.SecretKey)
		st, err := s3.New(s3.Config{Endpoint: m.Endpoint, Bucket: m.Bucket, AccessKey: m.AccessKey, SecretKey: m.SecretKey})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.EnsureBucket(t.Context()); err != nil {
			t.Fatal(err)
		}
		e.blobs = st
	} else {
		e.dsn = filepath.Join(data, "shopclip.db")
		st, err := local.New(filepath.Join(data, "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		e.blobs = st
	}
	if e.db, err = store.Open(t.Context(), e.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	for _, kv := range e.env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return e
}

// serve starts `shopclip serve` and returns its base URL.
func (e *crashEnv) serve(t *testing.T) (*proc, string) {
	t.Helper()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p := startProc(t, e.env, "serve", "--addr", addr)
	waitHTTP(t, "http://"+addr+"/readyz", 60*time.Second)
	return p, "http://" + addr
}

// holdClips blocks inserts into clips from another connection until the
// returned function is called: SQLite's write lock (writers wait up to the
// store's busy timeout, 10 s), or a PostgreSQL table lock that still lets
// readers read.
func (e *crashEnv) holdClips(t *testing.T) (release func()) {
	t.Helper()
	driver, dsn, lock := "sqlite", "file:"+e.dsn, "BEGIN IMMEDIATE"
	if e.postgres {
		driver, dsn, lock = "pgx", e.dsn, "BEGIN; LOCK TABLE clips IN EXCLUSIVE MODE"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := raw.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for stmt := range strings.SplitSeq(lock, "; ") {
		if _, err := conn.ExecContext(context.Background(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return func() {
		if e.postgres {
			// The dead server's INSERT reached PostgreSQL before it
			// died, and would run once the lock goes (PostgreSQL does
			// not look for a gone client while it waits): end it, as
			// a crash just before sending it would have.
			if _, err := conn.ExecContext(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`); err != nil {
				t.Errorf("end the waiting INSERT: %v", err)
			}
		}
		conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
		raw.Close()
	}
}

// postClip sends a media file as POST /v1/clips and ignores the outcome
// (the server may die on it).
func postClip(base, key, file string) {
	f, err := os.Open(file)
	if err != nil {
		return
	}
	defer f.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, _ := mw.CreateFormFile("file", filepath.Base(file))
		io.Copy(fw, f)
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", base+"/v1/clips", pr)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// poll calls ok every 20 ms until it returns true or timeout passes.
func poll(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
	}
}

func listKeys(t *testing.T, bs blob.Store, prefix string) []string {
	t.Helper()
	infos, err := bs.List(t.Context(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, i := range infos {
		ks = append(ks, i.Key)
	}
	return ks
}

// TestJanitorAfterUploadCrash kills `shopclip serve` between storing an
// upload's original and recording its clip (the database held so that the
// upload waits right there), on local+SQLite and MinIO+PostgreSQL: the
// original is left with no row; the janitor leaves it within the grace and
// removes it past it, and leaves the clips that were recorded.
func TestJanitorAfterUploadCrash(t *testing.T) {
	for _, postgres := range []bool{false, true} {
		t.Run(map[bool]string{false: "local+sqlite", true: "minio+postgres"}[postgres], func(t *testing.T) {
			e := newCrashEnv(t, postgres)
			key := cli(t, "account", "create", "--role", "creator", "--name", "alice")
			api, base := e.serve(t)
			media := testenv.Media(t, "iphone_h264_aac_568x320_rotm90_gps.mov")
			kept := client{t, base}.upload(key, media, "recorded") // a clip that stays

			release := e.holdClips(t)
			go postClip(base, key, media)
			var orphan string
			poll(t, "the original stored", 8*time.Second, func() bool {
				for _, k := range listKeys(t, e.blobs, "originals/") {
					if k != shopclip.OriginalKey(kept) {
						orphan = k
					}
				}
				return orphan != ""
			})
			api.stop(syscall.SIGKILL)
			release()

			id := strings.TrimPrefix(orphan, "originals/")
			if refs, err := e.db.ClipRefs(t.Context(), []string{id, kept}); err != nil || len(refs) != 1 {
				t.Fatalf("after the crash: refs %+v, %v; want only the recorded clip", refs, err)
			}
			now := time.Now()
			j := &janitor.Janitor{Blobs: e.blobs, Clips: e.db, Now: func() time.Time { return now }, Logger: testLogger(t)}
			if c, err := j.Pass(t.Context()); err != nil || c.Total() != 0 {
				t.Fatalf("within the grace: removed %+v, %v", c, err)
			}
			now = time.Now().Add(janitor.DefaultGrace + time.Minute)
			if c, err := j.Pass(t.Context()); err != nil || c != (janitor.Counts{Originals: 1}) {
				t.Fatalf("past the grace: removed %+v, %v; want the orphan original", c, err)
			}
			if got := listKeys(t, e.blobs, "originals/"); len(got) != 1 || got[0] != shopclip.OriginalKey(kept) {
				t.Fatalf("originals left: %q, want only %s", got, shopclip.OriginalKey(kept))
			}
		})
	}
}

// TestJanitorAfterWorkerKill kills `shopclip worker` (SIGKILL, its
// transcode child with it) while it uploads a generation: its job directory
// and partial generation are left. While the clip is processing under that
// attempt the janitor removes neither, however old; the next worker to
// start removes the job directory before taking tasks; once another
// attempt owns the clip, the janitor removes the dead attempt's generation
// past the grace, and never the clip's original.
func TestJanitorAfterWorkerKill(t *testing.T) {
	e := newCrashEnv(t, false)
	key := cli(t, "account", "create", "--role", "creator", "--name", "alice")
	_, base := e.serve(t)
	worker := startProc(t, e.env, "worker")
	id := client{t, base}.upload(key, testenv.Media(t, "iphone_h264_aac_568x320_rotm90_gps.mov"), "killed")

	var jobDir, gen string
	poll(t, "a job directory and outputs of the attempt", 2*time.Minute, func() bool {
		ents, _ := os.ReadDir(e.workDir)
		for _, d := range ents {
			if strings.HasPrefix(d.Name(), id+"-") {
				jobDir = d.Name()
			}
		}
		for _, k := range listKeys(t, e.blobs, shopclip.ClipPrefix(id)) {
			gen, _, _ = strings.Cut(strings.TrimPrefix(k, shopclip.ClipPrefix(id)), "/")
		}
		return jobDir != "" && gen != ""
	})
	worker.stop(syscall.SIGKILL)
	attempt := strings.TrimPrefix(jobDir, id+"-")
	if gen != attempt {
		t.Fatalf("outputs under %q, job dir %q", gen, jobDir)
	}
	refs, err := e.db.ClipRefs(t.Context(), []string{id})
	if r := refs[id]; err != nil || r.Status != shopclip.ClipProcessing || r.AttemptID != attempt {
		t.Fatalf("after the kill: %+v, %v; want processing under %s", r, err, attempt)
	}
	genKeys := listKeys(t, e.blobs, shopclip.GenerationPrefix(id, gen))

	// Past the grace, but the clip still says the attempt runs: nothing.
	now := time.Now().Add(3 * janitor.DefaultGrace)
	j := &janitor.Janitor{Blobs: e.blobs, Clips: e.db, WorkDir: e.workDir, Now: func() time.Time { return now }, Logger: testLogger(t)}
	if c, err := j.Pass(t.Context()); err != nil || c.Total() != 0 {
		t.Fatalf("while the clip is processing under the dead attempt: removed %+v, %v", c, err)
	}
	if _, err := os.Stat(filepath.Join(e.workDir, jobDir)); err != nil {
		t.Fatalf("job dir: %v", err)
	}

	// The next worker removes the job directory at start.
	next := startProc(t, e.env, "worker")
	poll(t, "the job directory removed by the next worker", time.Minute, func() bool {
		_, err := os.Stat(filepath.Join(e.workDir, jobDir))
		return os.IsNotExist(err)
	})
	next.stop(syscall.SIGKILL)

	// Another attempt takes the clip over, as the retry does: the dead
	// attempt's generation is abandoned, and removed only past the grace.
	if _, err := e.db.StartClipAttempt(t.Context(), id, shopclip.NewID(shopclip.PrefixAttempt)); err != nil {
		t.Fatal(err)
	}
	now = time.Now()
	if c, err := j.Pass(t.Context()); err != nil || c.Total() != 0 {
		t.Fatalf("within the grace: removed %+v, %v", c, err)
	}
	if got := listKeys(t, e.blobs, shopclip.GenerationPrefix(id, gen)); len(got) != len(genKeys) {
		t.Fatalf("within the grace the generation went from %d to %d objects", len(genKeys), len(got))
	}
	now = time.Now().Add(janitor.DefaultGrace + time.Minute)
	c, err := j.Pass(t.Context())
	if err != nil || c.Generations < 1 {
		t.Fatalf("past the grace: removed %+v, %v; want the dead attempt's generation", c, err)
	}
	if got := listKeys(t, e.blobs, shopclip.GenerationPrefix(id, gen)); len(got) != 0 {
		t.Errorf("the dead attempt's generation still holds %q", got)
	}
	if _, err := e.blobs.Stat(t.Context(), shopclip.OriginalKey(id)); err != nil {
		t.Errorf("the clip's original: %v", err)
	}
}
