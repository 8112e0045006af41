package storefront_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/shopclip/shopclip/blob/s3"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/storefront"
)

// BenchmarkConcurrentUploadsRSS sends 50 simple uploads of 12 MiB at once
// to a storefront whose blob store is MinIO (each Put of unknown size
// holds one 16 MiB part in memory), with the process's bound on uploads at
// once off and on, and reports the growth of the process's peak RSS and
// how many uploads were refused (503). Run it alone:
//
//	go test ./storefront -run '^$' -bench ConcurrentUploadsRSS -benchtime 1x
func BenchmarkConcurrentUploadsRSS(b *testing.B) {
	const uploads, size = 50, 12 << 20
	file := fakeMP4(size)
	for _, bound := range []int{1000, 16} {
		b.Run("bound="+strconv.Itoa(bound), func(b *testing.B) {
			e := newEnv(b)
			ctx := context.Background()
			m := testenv.MinIO(b)
			bs, err := s3.New(s3.Config{Endpoint: m.Endpoint, Bucket: m.Bucket, AccessKey: m.AccessKey, SecretKey: m.SecretKey})
			if err != nil {
				b.Fatal(err)
			}
			if err := bs.EnsureBucket(ctx); err != nil {
				b.Fatal(err)
			}
			e.api.Blobs = bs
			e.api.MaxUploadBytes = 16 << 20
			e.limitUploads(bound, bound, storefront.UploadQuota{})
			for b.Loop() {
				resetPeakRSS(b)
				base := rssKiB(b, "VmRSS")
				var wg sync.WaitGroup
				var mu sync.Mutex
				statuses := map[int]int{}
				for range uploads {
					wg.Go(func() {
						status := e.postShared("alice", file)
						mu.Lock()
						statuses[status]++
						mu.Unlock()
					})
				}
				wg.Wait()
				peak := rssKiB(b, "VmHWM")
				b.ReportMetric(float64(peak-base)/1024, "peakRSSgrowth-MiB")
				b.ReportMetric(float64(statuses[http.StatusServiceUnavailable]), "refused-503")
				b.ReportMetric(float64(statuses[http.StatusAccepted]), "accepted")
				if statuses[http.StatusAccepted]+statuses[http.StatusServiceUnavailable] != uploads {
					b.Fatalf("statuses %v", statuses)
				}
			}
		})
	}
}

// postShared uploads data as user without copying it per request.
func (e *env) postShared(user string, data []byte) int {
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	mw.CreateFormFile("file", "clip.mp4")
	boundary := mw.Boundary()
	tail := "\r\n--" + boundary + "--\r\n"
	body := io.MultiReader(bytes.NewReader(head.Bytes()), bytes.NewReader(data), strings.NewReader(tail))
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/clips", body)
	req.ContentLength = int64(head.Len() + len(data) + len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.keys[user])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// resetPeakRSS resets the process's VmHWM (Linux 4.0+).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak RSS: %v", err)
	}
}

// rssKiB reads a field of /proc/self/status, in KiB.
func rssKiB(b *testing.B, field string) int64 {
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}
