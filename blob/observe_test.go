package blob_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/blob/blobtest"
	"github.com/shopclip/shopclip/blob/local"
	"github.com/shopclip/shopclip/internal/metrics"
	"github.com/shopclip/shopclip/internal/metrics/metricstest"
)

// TestObservedConformance: an observed store is still a store.
func TestObservedConformance(t *testing.T) {
	reg := metrics.NewRegistry()
	m := metrics.NewBlob(reg)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		st, err := local.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return blob.Observe(st, m.Observer("local"))
	})
}

// TestObserveMetrics: operations reach the latency histogram by backend
// and operation, errors the error counter by code, and the optional
// interfaces of the store stay visible.
func TestObserveMetrics(t *testing.T) {
	ctx := context.Background()
	st, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	s := blob.Observe(st, metrics.NewBlob(reg).Observer("local"))
	if _, ok := s.(blob.LocalFiler); !ok {
		t.Error("the observed local store lost blob.LocalFiler")
	}
	if blob.Unwrap(s) != blob.Store(st) || blob.Unwrap(st) != blob.Store(st) {
		t.Error("Unwrap does not return the local store")
	}
	for range 2 {
		if err := s.Put(ctx, "a/b", strings.NewReader("hello"), 5, blob.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Stat(ctx, "a/missing"); shopclip.ErrorCode(err) != shopclip.ENOTFOUND {
		t.Fatalf("stat missing: %v", err)
	}
	if err := s.Put(ctx, "a/b", strings.NewReader("again"), 5, blob.PutOptions{IfNotExists: true}); shopclip.ErrorCode(err) != shopclip.ECONFLICT {
		t.Fatalf("put if not exists: %v", err)
	}
	o, err := s.Open(ctx, "a/b")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, o)
	o.Close()

	got := metricstest.Gather(t, reg)
	for _, c := range []struct {
		op   string
		want uint64
	}{{"put", 3}, {"stat", 1}, {"open", 1}, {"delete", 0}} {
		if n, _, _ := got.Histogram("shopclip_blob_operation_duration_seconds", "backend", "local", "op", c.op); n != c.want {
			t.Errorf("%s operations observed %d, want %d", c.op, n, c.want)
		}
	}
	for _, c := range []struct {
		op, code string
		want     float64
	}{{"stat", "not_found", 1}, {"put", "conflict", 1}, {"put", "internal", 0}, {"open", "not_found", 0}} {
		if v, _ := got.Value("shopclip_blob_errors_total", "backend", "local", "op", c.op, "code", c.code); v != c.want {
			t.Errorf("errors of %s with %s = %v, want %v", c.op, c.code, v, c.want)
		}
	}
}
