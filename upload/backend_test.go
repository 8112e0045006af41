package upload

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
)

// tusTestServer serves a Service over a Backend at 127.0.0.1 for one
// owner, with a fake clip maker in place of the storefront's.
type tusTestServer struct {
	url string
	// failFinish makes Finish fail as an outage does (503, the upload
	// kept for a HEAD to finish).
	failFinish atomic.Bool
	mu         sync.Mutex
	clips      map[string]finishedUpload // by upload ID
}

type finishedUpload struct {
	clipID string
	size   int64
}

const testOwner = "acc_alice"

func newTusTestServer(t *testing.T, b *Backend) *tusTestServer {
	t.Helper()
	ts := &tusTestServer{clips: map[string]finishedUpload{}}
	svc := &Service{
		Backend:  b,
		BasePath: "/v1/uploads/",
		MaxSize:  64 << 20,
		Finish: func(ctx context.Context, u *Upload) (string, error) {
			if ts.failFinish.Load() {
				return "", shopclip.Errorf(shopclip.EUNAVAILABLE, "down for the test")
			}
			r, err := u.Open(ctx)
			if err != nil {
				return "", err
			}
			defer r.Close()
			n, err := io.Copy(io.Discard, r)
			if err != nil || n != u.Size {
				return "", shopclip.Errorf(shopclip.EINTERNAL, "read %d of %d bytes: %v", n, u.Size, err)
			}
			ts.mu.Lock()
			defer ts.mu.Unlock()
			f := finishedUpload{clipID: "clp_" + strconv.Itoa(len(ts.clips)+1), size: u.Size}
			ts.clips[u.ID] = f
			return f.clipID, nil
		},
		Finished: func(ctx context.Context, owner, id string) (string, int64, error) {
			ts.mu.Lock()
			defer ts.mu.Unlock()
			if f, ok := ts.clips[id]; ok && owner == testOwner {
				return f.clipID, f.size, nil
			}
			return "", 0, shopclip.Errorf(shopclip.ENOTFOUND, "no such upload")
		},
		ErrorStatus: func(err error) int {
			if shopclip.ErrorCode(err) == shopclip.EUNAVAILABLE {
				return http.StatusServiceUnavailable
			}
			return http.StatusInternalServerError
		},
	}
	if err := svc.Init(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/uploads/", func(w http.ResponseWriter, r *http.Request) { svc.Create(w, r, testOwner) })
	mux.HandleFunc("HEAD /v1/uploads/{id}", func(w http.ResponseWriter, r *http.Request) { svc.Head(w, r, testOwner, r.PathValue("id")) })
	mux.HandleFunc("PATCH /v1/uploads/{id}", func(w http.ResponseWriter, r *http.Request) { svc.Patch(w, r, testOwner, r.PathValue("id")) })
	srv := httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(srv.Close)
	ts.url = srv.URL
	return ts
}

// patch sends data[from:to] to the upload at loc and returns the status.
func patch(t *testing.T, loc string, data []byte, from, to int) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPatch, loc, bytes.NewReader(data[from:to]))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", strconv.Itoa(from))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestExpireS3 drops the S3 uploads untouched for longer than the age —
// their objects, their multipart upload, and their answer to HEAD — also
// one whose multipart upload the bucket's janitor already aborted, and
// keeps the uploads written to since, whatever was written (a part, the
// bytes short of a part, the last byte), and the finished ones.
func TestExpireS3(t *testing.T) {
	ctx := context.Background()
	m := testenv.MinIO(t)
	mc, err := minio.New(m.Endpoint, &minio.Options{Creds: miniocreds.NewStaticV4(m.AccessKey, m.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(ctx, m.Bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := S3(S3Config{Endpoint: m.Endpoint, Region: "us-east-1", Bucket: m.Bucket, AccessKey: m.AccessKey, SecretKey: m.SecretKey,
		PartSize: 5 << 20, BufferedParts: 1})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTusTestServer(t, b)
	c := &Client{Server: ts.url}
	const mib = 1 << 20
	data := bytes.Repeat([]byte("0123456789abcdef"), 12*mib/16)

	type upload struct {
		loc, id, objectID, multipartID string
		size                           int
	}
	create := func(size int) *upload {
		t.Helper()
		loc, err := c.Create(ctx, int64(size), map[string]string{"filename": "a.mp4"})
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		up := &upload{loc: loc, id: path.Base(u.Path), size: size}
		var ok bool
		if up.objectID, up.multipartID, ok = strings.Cut(up.id, "+"); !ok {
			t.Fatalf("upload ID %q is not objectID+multipartID", up.id)
		}
		return up
	}
	send := func(u *upload, from, to, want int) {
		t.Helper()
		if got := patch(t, u.loc, data, from, to); got != want {
			t.Fatalf("PATCH %d-%d of %s: status %d, want %d", from, to, u.id, got, want)
		}
	}
	objects := func(u *upload) []string {
		t.Helper()
		var keys []string
		for o := range mc.ListObjects(ctx, m.Bucket, minio.ListObjectsOptions{Prefix: "uploads/" + u.objectID, Recursive: true}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			keys = append(keys, o.Key)
		}
		return keys
	}
	multipart := func(u *upload) bool {
		t.Helper()
		found := false
		// MinIO lists the uploads of an exact key (or of the whole bucket).
		for mu := range mc.ListIncompleteUploads(ctx, m.Bucket, "uploads/"+u.objectID, true) {
			if mu.Err != nil {
				t.Fatal(mu.Err)
			}
			found = found || mu.UploadID == u.multipartID
		}
		return found
	}
	head := func(u *upload) (status int, offset int64, clip string) {
		t.Helper()
		off, clip, err := c.Offset(ctx, u.loc)
		var refused *Error
		switch {
		case errors.As(err, &refused):
			return refused.Status, 0, ""
		case err != nil:
			t.Fatal(err)
		}
		return http.StatusOK, off, clip
	}

	// Written to before the cut: a part and the bytes short of the next.
	abandoned := create(12 * mib)
	send(abandoned, 0, 6*mib, http.StatusNoContent)
	// Its multipart upload aborted, as the bucket's janitor does a day
	// after it began: tusd takes the upload for complete.
	aborted := create(12 * mib)
	send(aborted, 0, 6*mib, http.StatusNoContent)
	if err := (minio.Core{Client: mc}).AbortMultipartUpload(ctx, m.Bucket, "uploads/"+aborted.objectID, aborted.multipartID); err != nil {
		t.Fatal(err)
	}
	// Begun before the cut, written to after it.
	newPart := create(12 * mib)
	send(newPart, 0, 1*mib, http.StatusNoContent) // the bytes short of a part, alone
	newTail := create(12 * mib)
	send(newTail, 0, 6*mib, http.StatusNoContent)
	waiting := create(2 * mib)
	send(waiting, 0, 1*mib, http.StatusNoContent)
	// Finished before the cut: its clip made, its bytes dropped.
	finished := create(1 * mib)
	send(finished, 0, 1*mib, http.StatusNoContent)

	if len(objects(abandoned)) == 0 || !multipart(abandoned) {
		t.Fatalf("the abandoned upload is not in the bucket to begin with: %v", objects(abandoned))
	}
	before := time.Now()
	// S3's Last-Modified has whole seconds: after this wait, what is
	// written has a Last-Modified after cut, and what was written before
	// has one before.
	time.Sleep(1500 * time.Millisecond)
	cut := before.Add(250 * time.Millisecond)

	send(newPart, 1*mib, 5*mib, http.StatusNoContent) // a part; none short of the next
	send(newTail, 6*mib, 7*mib, http.StatusNoContent) // the bytes short of a part, rewritten
	ts.failFinish.Store(true)
	send(waiting, 1*mib, 2*mib, http.StatusServiceUnavailable) // complete, its clip not made
	ts.failFinish.Store(false)
	if keys := objects(newPart); len(keys) != 1 {
		t.Fatalf("newPart holds %v, want its info object alone (its bytes in a part)", keys)
	}

	n, err := b.Expire(ctx, 24*time.Hour, cut.Add(24*time.Hour))
	if err != nil || n != 2 {
		t.Errorf("Expire = %d, %v; want 2", n, err)
	}
	for name, u := range map[string]*upload{"abandoned": abandoned, "aborted": aborted} {
		if keys := objects(u); len(keys) != 0 {
			t.Errorf("%s: the bucket keeps %v", name, keys)
		}
		if multipart(u) {
			t.Errorf("%s: its multipart upload is still there", name)
		}
		if got, _, _ := head(u); got != http.StatusNotFound {
			t.Errorf("%s: HEAD = %d, want 404", name, got)
		}
	}
	for _, tc := range []struct {
		name       string
		u          *upload
		offset     int64
		multipart  bool
		wantClipID bool
	}{
		{"newPart", newPart, 5 * mib, true, false},
		{"newTail", newTail, 7 * mib, true, false},
		{"waiting", waiting, 2 * mib, false, true},
		{"finished", finished, 1 * mib, false, true},
	} {
		if got := multipart(tc.u); got != tc.multipart {
			t.Errorf("%s: multipart upload there: %v, want %v", tc.name, got, tc.multipart)
		}
		status, off, clip := head(tc.u)
		if status != http.StatusOK || off != tc.offset || (clip != "") != tc.wantClipID {
			t.Errorf("%s: HEAD = %d, offset %d, clip %q; want 200, offset %d, a clip: %v", tc.name, status, off, clip, tc.offset, tc.wantClipID)
		}
	}
	// Nothing is left to expire at the cut.
	if n, err := b.Expire(ctx, 24*time.Hour, cut.Add(24*time.Hour)); err != nil || n != 0 {
		t.Errorf("Expire again = %d, %v; want 0", n, err)
	}
}
