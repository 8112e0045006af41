package storefront_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob/s3"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/storefront"
	"github.com/shopclip/shopclip/upload"
	"github.com/shopclip/shopclip/workers"
)

// tus returns a tus client of user's.
func (e *env) tus(user string) *upload.Client {
	return &upload.Client{Server: e.srv.URL, Key: e.keys[user], Retries: -1}
}

// checkOriginal checks that clip id is alice's, queued for transcoding, and
// that its original is data, byte for byte.
func (e *env) checkOriginal(id, owner, title string, data []byte) *shopclip.Clip {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.store.Clip(ctx, id)
	if err != nil {
		e.t.Fatalf("clip %s: %v", id, err)
	}
	sum := sha256.Sum256(data)
	if c.CreatorID != e.accounts[owner].ID || c.Title != title || c.Status != shopclip.ClipUploaded ||
		c.OriginalSize != int64(len(data)) || c.OriginalSHA256 != hex.EncodeToString(sum[:]) {
		e.t.Fatalf("clip = %+v, want %s's %q of %d bytes", c, owner, title, len(data))
	}
	rc, err := e.blobs.Open(ctx, c.OriginalKey)
	if err != nil {
		e.t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		e.t.Fatalf("the original has %d bytes and differs from the %d sent", len(got), len(data))
	}
	if _, err := e.inspector.GetTaskInfo(workers.QueueTranscode, workers.TranscodeTaskID(id)); err != nil {
		e.t.Fatalf("transcode not queued: %v", err)
	}
	return c
}

// leftovers lists what the tus backend still holds.
func (e *env) leftovers() []string {
	entries, _ := os.ReadDir(e.uploadDir)
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	return names
}

func TestTusUploadMakesAClip(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	data := fakeMP4(700 << 10)
	c := e.tus("alice")
	loc, err := c.Create(ctx, int64(len(data)), map[string]string{"filename": "beach day.mov", "filetype": "video/quicktime"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc, e.srv.URL+storefront.UploadsPath) {
		t.Fatalf("Location %q", loc)
	}
	var seen []int64
	c.Progress = func(sent, total int64) { seen = append(seen, sent) }
	id, err := c.Send(ctx, loc, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	e.checkOriginal(id, "alice", "beach day", data)
	if len(seen) < 2 || seen[len(seen)-1] != int64(len(data)) {
		t.Errorf("progress %v", seen)
	}
	if left := e.leftovers(); len(left) != 0 {
		t.Errorf("the upload's bytes were kept after the clip was made: %v", left)
	}
	// A client that lost the last answer asks again: the same clip.
	off, again, err := c.Offset(ctx, loc)
	if err != nil || off != int64(len(data)) || again != id {
		t.Fatalf("HEAD after finishing: offset %d clip %q, %v; want %d %q", off, again, err, len(data), id)
	}
	// Its creator's list shows one clip.
	var list struct{ Clips []struct{ ID string } }
	e.do("alice", "GET", "/v1/clips", nil).json(t, &list)
	if len(list.Clips) != 1 || list.Clips[0].ID != id {
		t.Fatalf("clips = %+v", list.Clips)
	}
}

// TestTusResumesAfterADroppedConnection cuts a PATCH half-way: the server
// keeps what arrived, and the client sends only the rest.
func TestTusResumesAfterADroppedConnection(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	data := patterned(1<<20, 7)
	c := e.tus("alice")
	loc, err := c.Create(ctx, int64(len(data)), map[string]string{"title": "Cut short"})
	if err != nil {
		t.Fatal(err)
	}
	half := len(data) / 2
	e.cutPatch("alice", loc, data, half)
	// The server goes on with what arrived after the client has gone; a
	// HEAD now would stop it early (tusd's lock release), so wait for the
	// upload's file to settle.
	e.settled(filepath.Join(e.uploadDir, path.Base(loc)))
	off, clipID, err := c.Offset(ctx, loc)
	if err != nil || clipID != "" || off == 0 || off > int64(half) {
		t.Fatalf("after the cut: offset %d (sent %d), clip %q, %v", off, half, clipID, err)
	}
	var sentAgain int64
	c.Progress = func(sent, total int64) {
		if sentAgain == 0 {
			sentAgain = -sent // the first report: where it resumed
		}
	}
	id, err := c.Send(ctx, loc, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	e.checkOriginal(id, "alice", "Cut short", data)
	if -sentAgain < off {
		t.Errorf("the second send started at %d, before the %d bytes the server had", -sentAgain, off)
	}
}

// settled waits until the file at p has bytes and stops growing.
func (e *env) settled(p string) {
	e.t.Helper()
	var last int64 = -1
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		st, err := os.Stat(p)
		if err == nil && st.Size() > 0 && st.Size() == last {
			return
		}
		if err == nil {
			last = st.Size()
		}
	}
	e.t.Fatalf("%s did not settle (%d bytes)", p, last)
}

// patterned is a fake MP4 of size bytes whose body is not all zeros (so a
// misplaced byte shows), the pattern's step mul.
func patterned(size, mul int) []byte {
	data := fakeMP4(size)
	for i := range data[64:] {
		data[64+i] = byte(i * mul)
	}
	return data
}

// cutPatch sends data from offset 0 as user, the connection dropping after
// its first at bytes: the request must fail.
func (e *env) cutPatch(user, loc string, data []byte, at int) {
	e.t.Helper()
	req, _ := http.NewRequest("PATCH", loc, io.MultiReader(bytes.NewReader(data[:at]), failingReader{}))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+e.keys[user])
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", "0")
	req.ContentLength = int64(len(data))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		e.t.Fatalf("the cut PATCH answered %d", resp.StatusCode)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("the network went away") }

// TestTusRefusesATamperedOffset sends bytes at an offset that is not the
// server's: refused, and the upload is unchanged.
func TestTusRefusesATamperedOffset(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	data := fakeMP4(200 << 10)
	c := e.tus("alice")
	loc, err := c.Create(ctx, int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	patch := func(offset int, body []byte) response {
		return e.do("alice", "PATCH", strings.TrimPrefix(loc, e.srv.URL), bytes.NewReader(body),
			"Tus-Resumable", "1.0.0", "Content-Type", "application/offset+octet-stream", "Upload-Offset", strconv.Itoa(offset))
	}
	if r := patch(0, data[:1000]); r.Status != http.StatusNoContent || r.Header.Get("Upload-Offset") != "1000" {
		t.Fatalf("first PATCH: %d offset %q %s", r.Status, r.Header.Get("Upload-Offset"), r.Body)
	}
	for _, off := range []int{0, 500, 1001, 5000, -1} {
		if r := patch(off, bytes.Repeat([]byte{'X'}, 1000)); r.Status != http.StatusConflict && r.Status != http.StatusBadRequest {
			t.Errorf("PATCH at %d when the server has 1000: %d, want 409", off, r.Status)
		}
	}
	if off, _, err := c.Offset(ctx, loc); err != nil || off != 1000 {
		t.Fatalf("offset after tampering: %d %v", off, err)
	}
	id, err := c.Send(ctx, loc, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	e.checkOriginal(id, "alice", "", data)
}

// TestTusUploadsAreTheirCreators: another account cannot see, continue or
// cancel an upload; brands and viewers cannot start one.
func TestTusUploadsAreTheirCreators(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	data := fakeMP4(100 << 10)
	loc, err := e.tus("alice").Create(ctx, int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(loc, e.srv.URL)
	tus := []string{"Tus-Resumable", "1.0.0", "Content-Type", "application/offset+octet-stream", "Upload-Offset", "0"}
	for _, m := range []string{"HEAD", "PATCH", "DELETE"} {
		if r := e.do("bob", m, path, bytes.NewReader(data), tus...); r.Status != http.StatusNotFound {
			t.Errorf("%s of alice's upload by bob: %d, want 404", m, r.Status)
		}
	}
	if r := e.do("acme", "POST", storefront.UploadsPath, nil, "Tus-Resumable", "1.0.0", "Upload-Length", "10"); r.Status != http.StatusForbidden {
		t.Errorf("a brand starts an upload: %d", r.Status)
	}
	if r := e.do("", "POST", storefront.UploadsPath, nil, "Tus-Resumable", "1.0.0", "Upload-Length", "10"); r.Status != http.StatusUnauthorized {
		t.Errorf("a viewer starts an upload: %d", r.Status)
	}
	if _, err := e.tus("bob").Send(ctx, loc, bytes.NewReader(data), int64(len(data))); err == nil {
		t.Fatal("bob finished alice's upload")
	}
	// Alice cancels: its bytes are gone.
	if err := e.tus("alice").Cancel(ctx, loc); err != nil {
		t.Fatal(err)
	}
	if left := e.leftovers(); len(left) != 0 {
		t.Errorf("cancelled upload left %v", left)
	}
	if _, _, err := e.tus("alice").Offset(ctx, loc); err == nil {
		t.Error("a cancelled upload still answers")
	}
}

func TestTusRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.tus("alice")
	for _, tc := range []struct {
		name   string
		size   int64
		meta   map[string]string
		status int
		msg    string
	}{
		{"empty", 0, nil, 400, "empty"},
		{"too large", 3 << 20, nil, 413, ""},
		{"not a video", 100, map[string]string{"filetype": "image/png"}, 415, "not a video"},
		{"long title", 100, map[string]string{"title": strings.Repeat("t", shopclip.MaxTitleLen+1)}, 400, "itle"},
	} {
		_, err := c.Create(ctx, tc.size, tc.meta)
		var refused *upload.Error
		if !errors.As(err, &refused) || refused.Status != tc.status || !strings.Contains(refused.Message, tc.msg) {
			t.Errorf("%s: %v, want %d %q", tc.name, err, tc.status, tc.msg)
		}
	}
	if r := e.do("alice", "POST", storefront.UploadsPath, nil, "Tus-Resumable", "1.0.0", "Upload-Defer-Length", "1"); r.Status/100 != 4 {
		t.Errorf("deferred length: %d", r.Status)
	}
	if r := e.do("alice", "POST", storefront.UploadsPath, nil, "Upload-Length", "10"); r.Status != http.StatusPreconditionFailed {
		t.Errorf("no Tus-Resumable: %d, want 412", r.Status)
	}
	if r := e.do("", "OPTIONS", storefront.UploadsPath, nil); r.Status != http.StatusOK ||
		r.Header.Get("Tus-Version") != "1.0.0" || r.Header.Get("Tus-Max-Size") != strconv.Itoa(2<<20) ||
		!strings.Contains(r.Header.Get("Tus-Extension"), "termination") {
		t.Errorf("OPTIONS: %d %v", r.Status, r.Header)
	}

	// Bytes that are not a video: refused with the API's message once
	// they are all in, and dropped.
	junk := []byte(strings.Repeat("<html>not a video</html>", 1000))
	loc, err := c.Create(ctx, int64(len(junk)), map[string]string{"filename": "page.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(ctx, loc, bytes.NewReader(junk), int64(len(junk)))
	var refused *upload.Error
	if !errors.As(err, &refused) || refused.Status != http.StatusUnsupportedMediaType || !strings.Contains(refused.Message, "does not look like a video") {
		t.Fatalf("junk: %v", err)
	}
	if left := e.leftovers(); len(left) != 0 {
		t.Errorf("refused upload left %v", left)
	}
	var list struct{ Clips []struct{ ID string } }
	e.do("alice", "GET", "/v1/clips", nil).json(t, &list)
	if len(list.Clips) != 0 {
		t.Fatalf("clips after refusals: %+v", list.Clips)
	}
	keys, _ := e.blobs.List(ctx, "clips/")
	if len(keys) != 0 {
		t.Errorf("blobs after refusals: %v", keys)
	}
}

// TestTusOnS3 assembles an upload in MinIO, as scale-out API servers do,
// cut half-way and resumed.
func TestTusOnS3(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m := testenv.MinIO(t)
	bs, err := s3.New(s3.Config{Endpoint: m.Endpoint, Bucket: m.Bucket, AccessKey: m.AccessKey, SecretKey: m.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := bs.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	// 5 MiB parts (S3's least; the default is 16 MiB), one buffered.
	backend, err := upload.S3(upload.S3Config{Endpoint: m.Endpoint, Region: "us-east-1", Bucket: m.Bucket, AccessKey: m.AccessKey, SecretKey: m.SecretKey,
		PartSize: 5 << 20, BufferedParts: 1})
	if err != nil {
		t.Fatal(err)
	}
	// 7 MiB: more than one S3 part; the limit is the env's 2 MiB.
	e.api.MaxUploadBytes = 8 << 20
	if e.api.Uploads, err = e.api.NewUploads(backend); err != nil {
		t.Fatal(err)
	}
	data := patterned(7<<20, 13)
	c := e.tus("alice")
	loc, err := c.Create(ctx, int64(len(data)), map[string]string{"title": "From S3"})
	if err != nil {
		t.Fatal(err)
	}
	half := 6 << 20
	e.cutPatch("alice", loc, data, half)
	// How much the server kept depends on when this HEAD stops the cut
	// PATCH (tusd's lock release); none of it may be past the cut.
	off, _, err := c.Offset(ctx, loc)
	if err != nil || off > int64(half) {
		t.Fatalf("after the cut: offset %d, %v", off, err)
	}
	t.Logf("the server kept %d bytes of the cut PATCH", off)
	id, err := c.Send(ctx, loc, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	e.checkOriginal(id, "alice", "From S3", data)
	objs, err := bs.List(ctx, "uploads/")
	if err != nil || len(objs) != 0 {
		t.Errorf("the bucket keeps the upload: %v %v", objs, err)
	}
}
