package storefront_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/storefront"
	"github.com/shopclip/shopclip/upload"
)

// limitUploads serves e's API again with these upload bounds, and the
// store's quotas.
func (e *env) limitUploads(perAccount, total int, q storefront.UploadQuota) {
	e.api.Quotas = e.store
	e.api.UploadQuota = q
	e.api.MaxConcurrentUploadsPerAccount = perAccount
	e.api.MaxConcurrentUploads = total
	e.srv.Config.Handler = e.api.Handler()
}

// inFlight reads the uploads receiving bytes from /metrics.
func (e *env) inFlight() int {
	e.t.Helper()
	r := e.do("root", "GET", "/metrics", nil)
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "shopclip_uploads_in_flight "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				e.t.Fatalf("metrics: %q", sc.Text())
			}
			return n
		}
	}
	e.t.Fatalf("no shopclip_uploads_in_flight in /metrics: %d %s", r.Status, r.Body)
	return 0
}

// waitInFlight waits until n uploads are receiving bytes.
func (e *env) waitInFlight(n int) {
	e.t.Helper()
	got := -1
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = e.inFlight(); got == n {
			return
		}
	}
	e.t.Fatalf("%d uploads in flight, want %d", got, n)
}

// slowUpload is a POST /v1/clips whose body the test feeds.
type slowUpload struct {
	pw   *io.PipeWriter
	mw   *multipart.Writer
	done chan response
}

// startUpload starts a clip upload as user that sends the start of a video
// and then waits for finish or hangup.
func (e *env) startUpload(user string) *slowUpload {
	e.t.Helper()
	pr, pw := io.Pipe()
	u := &slowUpload{pw: pw, mw: multipart.NewWriter(pw), done: make(chan response, 1)}
	req, err := http.NewRequest("POST", e.srv.URL+"/v1/clips", pr)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", u.mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.keys[user])
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			u.done <- response{Status: -1, Body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		u.done <- response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	}()
	go func() {
		fw, _ := u.mw.CreateFormFile("file", "slow.mp4")
		fw.Write(fakeMP4(64 << 10))
	}()
	return u
}

// finish sends the rest and returns the answer.
func (u *slowUpload) finish() response {
	go func() {
		u.mw.Close()
		u.pw.Close()
	}()
	return <-u.done
}

// hangup cuts the body mid-way.
func (u *slowUpload) hangup() {
	u.pw.CloseWithError(errors.New("the client went away"))
	<-u.done
}

// wantRetryLater checks a refusal: status, error code and a Retry-After.
func wantRetryLater(t *testing.T, what string, r response, status int, code string) {
	t.Helper()
	if r.Status != status || r.errCode() != code {
		t.Fatalf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, code)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("%s: Retry-After %q", what, r.Header.Get("Retry-After"))
	}
}

// tusPatch sends body at offset 0 of the upload at loc as user.
func (e *env) tusPatch(user, loc string, body []byte) response {
	return e.do(user, "PATCH", strings.TrimPrefix(loc, e.srv.URL), bytes.NewReader(body),
		"Tus-Resumable", "1.0.0", "Content-Type", "application/offset+octet-stream", "Upload-Offset", "0")
}

// TestUploadsOfOneAccountAtOnce: an account's uploads past the bound are
// refused with 429 and Retry-After, on both paths, while another account's
// go on; once they finish the places are free again.
func TestUploadsOfOneAccountAtOnce(t *testing.T) {
	e := newEnv(t)
	e.limitUploads(2, 10, storefront.UploadQuota{})
	ctx := context.Background()
	data := fakeMP4(100 << 10)
	loc, err := e.tus("alice").Create(ctx, int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	first, second := e.startUpload("alice"), e.startUpload("alice")
	e.waitInFlight(2)

	r := e.upload("alice", "third", fakeMP4(4096))
	wantRetryLater(t, "alice's third upload at once", r, http.StatusTooManyRequests, shopclip.ERATELIMITED)
	if !strings.Contains(r.errMessage(), "2 uploads in progress") {
		t.Errorf("message %q does not say the bound", r.errMessage())
	}
	wantRetryLater(t, "alice's PATCH beside two uploads", e.tusPatch("alice", loc, data), http.StatusTooManyRequests, shopclip.ERATELIMITED)
	// A created upload receiving nothing holds no place: creating another
	// is fine.
	if _, err := e.tus("alice").Create(ctx, 10, nil); err != nil {
		t.Errorf("creating an upload beside two in flight: %v", err)
	}
	if r := e.upload("bob", "bob's", fakeMP4(4096)); r.Status != http.StatusAccepted {
		t.Fatalf("bob's upload beside alice's two: %d %s", r.Status, r.Body)
	}

	for i, u := range []*slowUpload{first, second} {
		if r := u.finish(); r.Status != http.StatusAccepted {
			t.Fatalf("slow upload %d: %d %s", i, r.Status, r.Body)
		}
	}
	e.waitInFlight(0)
	if r := e.tusPatch("alice", loc, data); r.Status != http.StatusNoContent || r.Header.Get(upload.ClipIDHeader) == "" {
		t.Fatalf("alice's PATCH after the two: %d %s", r.Status, r.Body)
	}
	if r := e.upload("alice", "again", fakeMP4(4096)); r.Status != http.StatusAccepted {
		t.Fatalf("alice's upload after the two: %d %s", r.Status, r.Body)
	}
}

// TestUploadsOfTheProcessAtOnce: past the process's bound, 503 with
// Retry-After, whoever asks.
func TestUploadsOfTheProcessAtOnce(t *testing.T) {
	e := newEnv(t)
	e.limitUploads(4, 2, storefront.UploadQuota{})
	ctx := context.Background()
	data := fakeMP4(100 << 10)
	loc, err := e.tus("bob").Create(ctx, int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := e.startUpload("alice"), e.startUpload("alice")
	e.waitInFlight(2)
	r := e.upload("bob", "one too many", fakeMP4(4096))
	wantRetryLater(t, "an upload past the process's bound", r, http.StatusServiceUnavailable, shopclip.EUNAVAILABLE)
	if r.Header.Get("Retry-After") != "5" {
		t.Errorf("Retry-After %q, want 5", r.Header.Get("Retry-After"))
	}
	wantRetryLater(t, "a PATCH past the process's bound", e.tusPatch("bob", loc, data), http.StatusServiceUnavailable, shopclip.EUNAVAILABLE)
	a.finish()
	b.finish()
	e.waitInFlight(0)
	if _, err := e.tus("bob").Send(ctx, loc, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("bob's upload afterwards: %v", err)
	}
}

// TestUploadPlacesFreedOnFailure: every way an upload can fail gives its
// place back (one place in all: a leak refuses the next upload).
func TestUploadPlacesFreedOnFailure(t *testing.T) {
	e := newEnv(t)
	e.limitUploads(1, 1, storefront.UploadQuota{MaxBytes: 1 << 30, MaxPerDay: 1000})
	ctx := context.Background()
	held := func() int64 {
		u, err := e.store.UploadUsage(ctx, e.accounts["alice"].ID, shopclip.UploadLimits{})
		if err != nil {
			t.Fatal(err)
		}
		return u.HeldBytes
	}
	for _, tc := range []struct {
		name string
		fail func(t *testing.T)
		held int64 // the room it holds after: a cut upload's, until it goes on
	}{
		{"the client hangs up mid-body", func(t *testing.T) {
			u := e.startUpload("alice")
			e.waitInFlight(1)
			u.hangup()
		}, 0},
		{"the body is too large", func(t *testing.T) {
			// Streamed, so that no Content-Length tells it first.
			pr, pw := io.Pipe()
			mw := multipart.NewWriter(pw)
			go func() {
				fw, _ := mw.CreateFormFile("file", "big.mp4")
				fw.Write(fakeMP4(3 << 20))
				mw.Close()
				pw.Close()
			}()
			if r := e.do("alice", "POST", "/v1/clips", io.NopCloser(pr), "Content-Type", mw.FormDataContentType()); r.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("%d %s, want 413", r.Status, r.Body)
			}
		}, 0},
		{"the file is not a video", func(t *testing.T) {
			if r := e.upload("alice", "page", []byte(strings.Repeat("<html></html>", 200))); r.Status != http.StatusUnsupportedMediaType {
				t.Fatalf("%d %s, want 415", r.Status, r.Body)
			}
		}, 0},
		{"a PATCH is cut", func(t *testing.T) {
			data := patterned(1<<20, 3)
			loc, err := e.tus("alice").Create(ctx, int64(len(data)), nil)
			if err != nil {
				t.Fatal(err)
			}
			e.cutPatch("alice", loc, data, 300<<10)
		}, 1 << 20},
		{"a PATCH's bytes are not a video", func(t *testing.T) {
			junk := []byte(strings.Repeat("<html></html>", 200))
			loc, err := e.tus("alice").Create(ctx, int64(len(junk)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if r := e.tusPatch("alice", loc, junk); r.Status != http.StatusUnsupportedMediaType {
				t.Fatalf("%d %s, want 415", r.Status, r.Body)
			}
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := held()
			tc.fail(t)
			e.waitInFlight(0)
			// The failed request may not have reached the server's gate
			// yet (a cut PATCH's bytes sit in the socket): a place it takes
			// late is refused for a moment, a leaked one for good.
			r := e.upload("alice", "next", fakeMP4(4096))
			for deadline := time.Now().Add(10 * time.Second); (r.Status == http.StatusServiceUnavailable || r.Status == http.StatusTooManyRequests) && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
				e.waitInFlight(0)
				r = e.upload("alice", "next", fakeMP4(4096))
			}
			if r.Status != http.StatusAccepted {
				t.Fatalf("the next upload: %d %s", r.Status, r.Body)
			}
			// Nor room in the quota, but a resumable upload's.
			if got := held() - before; got != tc.held {
				t.Errorf("the failed upload holds %d bytes, want %d", got, tc.held)
			}
		})
	}
}

// TestUploadStorageQuota: an upload that does not fit the account's storage
// quota is refused before its bytes, at POST /v1/clips and at tus creation,
// leaving nothing behind; unfinished uploads count until they end.
func TestUploadStorageQuota(t *testing.T) {
	e := newEnv(t)
	e.limitUploads(4, 64, storefront.UploadQuota{MaxBytes: 1 << 20})
	ctx := context.Background()
	if r := e.upload("alice", "first", fakeMP4(600<<10)); r.Status != http.StatusAccepted {
		t.Fatalf("first upload: %d %s", r.Status, r.Body)
	}
	blobsBefore, _ := e.blobs.List(ctx, "")
	r := e.upload("alice", "second", fakeMP4(600<<10))
	if r.Status != http.StatusRequestEntityTooLarge || r.errCode() != shopclip.ETOOLARGE ||
		!strings.Contains(r.errMessage(), "storage quota of 1 MiB") || !strings.Contains(r.errMessage(), "use 600 KiB") && !strings.Contains(r.errMessage(), "use 614400 bytes") {
		t.Fatalf("an upload past the quota: %d %s", r.Status, r.Body)
	}
	_, err := e.tus("alice").Create(ctx, 600<<10, nil)
	var refused *upload.Error
	if !errors.As(err, &refused) || refused.Status != http.StatusRequestEntityTooLarge || !strings.Contains(refused.Message, "storage quota") {
		t.Fatalf("a tus upload past the quota: %v", err)
	}
	if left := e.leftovers(); len(left) != 0 {
		t.Errorf("a refused tus upload left %v", left)
	}
	if blobs, _ := e.blobs.List(ctx, ""); len(blobs) != len(blobsBefore) {
		t.Errorf("refusals left blobs: %v, before %v", blobs, blobsBefore)
	}
	var list struct{ Clips []struct{ ID string } }
	e.do("alice", "GET", "/v1/clips", nil).json(t, &list)
	if len(list.Clips) != 1 {
		t.Errorf("clips after refusals: %+v", list.Clips)
	}
	// Another account's room is its own.
	if r := e.upload("bob", "bob's", fakeMP4(600<<10)); r.Status != http.StatusAccepted {
		t.Fatalf("bob's upload: %d %s", r.Status, r.Body)
	}

	// An unfinished upload holds its declared size: 600 + 300 KiB leave
	// no room for 200 KiB more until it is cancelled.
	loc, err := e.tus("alice").Create(ctx, 300<<10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.upload("alice", "third", fakeMP4(200<<10)); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("an upload beside an unfinished one: %d %s", r.Status, r.Body)
	}
	if err := e.tus("alice").Cancel(ctx, loc); err != nil {
		t.Fatal(err)
	}
	if r := e.upload("alice", "third", fakeMP4(200<<10)); r.Status != http.StatusAccepted {
		t.Fatalf("an upload after the cancel: %d %s", r.Status, r.Body)
	}
	// A finished tus upload counts as its clip, not twice.
	data := fakeMP4(100 << 10)
	loc, err = e.tus("alice").Create(ctx, int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.tus("alice").Send(ctx, loc, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	u, err := e.store.UploadUsage(ctx, e.accounts["alice"].ID, shopclip.UploadLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(900 << 10); u.HeldBytes != 0 || u.StoredBytes != want {
		t.Fatalf("usage %+v, want %d stored and nothing held", u, want)
	}
	// Deleting a clip makes room.
	if r := e.do("alice", "DELETE", "/v1/clips/"+list.Clips[0].ID, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := e.upload("alice", "after a delete", fakeMP4(500<<10)); r.Status != http.StatusAccepted {
		t.Fatalf("an upload after a delete: %d %s", r.Status, r.Body)
	}
}

// TestUploadsPerDay: past the day's uploads, 429 with Retry-After at the
// next UTC midnight, on both paths.
func TestUploadsPerDay(t *testing.T) {
	e := newEnv(t)
	e.limitUploads(4, 64, storefront.UploadQuota{MaxPerDay: 2})
	ctx := context.Background()
	if r := e.upload("alice", "one", fakeMP4(4096)); r.Status != http.StatusAccepted {
		t.Fatalf("first: %d %s", r.Status, r.Body)
	}
	if _, err := e.tus("alice").Create(ctx, 4096, nil); err != nil {
		t.Fatalf("second, resumable: %v", err)
	}
	r := e.upload("alice", "three", fakeMP4(4096))
	wantRetryLater(t, "a third upload in a day", r, http.StatusTooManyRequests, shopclip.ERATELIMITED)
	// The env's clock is at noon UTC.
	if got, want := r.Header.Get("Retry-After"), strconv.Itoa(12*3600); got != want {
		t.Errorf("Retry-After %s, want %s (midnight UTC)", got, want)
	}
	if !strings.Contains(r.errMessage(), "2 uploads today") {
		t.Errorf("message %q", r.errMessage())
	}
	_, err := e.tus("alice").Create(ctx, 4096, nil)
	var refused *upload.Error
	if !errors.As(err, &refused) || refused.Status != http.StatusTooManyRequests || !strings.Contains(refused.Message, "uploads today") {
		t.Fatalf("a third, resumable: %v", err)
	}
	if left := e.leftovers(); len(left) != 2 { // the second upload's file and .info
		t.Errorf("tus files: %v", left)
	}
	if r := e.upload("bob", "bob's", fakeMP4(4096)); r.Status != http.StatusAccepted {
		t.Fatalf("bob's: %d %s", r.Status, r.Body)
	}
	// The next day counts afresh.
	e.now = e.now.Add(12 * time.Hour)
	if r := e.upload("alice", "tomorrow", fakeMP4(4096)); r.Status != http.StatusAccepted {
		t.Fatalf("the next day: %d %s", r.Status, r.Body)
	}
}
