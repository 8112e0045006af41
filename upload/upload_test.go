package upload

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"
)

func TestEncodeMetadata(t *testing.T) {
	got := EncodeMetadata(map[string]string{"title": "Ferry, at dusk", "filename": "a b.mov"})
	want := "filename " + base64.StdEncoding.EncodeToString([]byte("a b.mov")) + ",title " + base64.StdEncoding.EncodeToString([]byte("Ferry, at dusk"))
	if got != want {
		t.Fatalf("EncodeMetadata = %q, want %q", got, want)
	}
	if EncodeMetadata(nil) != "" {
		t.Fatal("no metadata is not empty")
	}
}

func TestValidID(t *testing.T) {
	for _, id := range []string{"0123456789abcdef0123456789abcdef", "abc+2~ZmFrZS11cGxvYWQtaWQ="} {
		if !validID(id) {
			t.Errorf("validID(%q) = false", id)
		}
	}
	for _, id := range []string{"", ".", "..", "../etc/passwd", "a/b", `a\b`, "a b", strings.Repeat("a", 1025), "a%2fb"} {
		if validID(id) {
			t.Errorf("validID(%q) = true", id)
		}
	}
}

// TestExpire drops the local uploads untouched for longer than the age,
// and keeps the others.
func TestExpire(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := Local(dir)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(size int64) string {
		up, err := b.composer.Core.NewUpload(ctx, handler.FileInfo{Size: size, MetaData: handler.MetaData{metaOwner: "acc_x"}})
		if err != nil {
			t.Fatal(err)
		}
		info, _ := up.GetInfo(ctx)
		return info.ID
	}
	old, fresh := mk(10), mk(20)
	past := time.Now().Add(-48 * time.Hour)
	for _, p := range []string{filepath.Join(dir, old), filepath.Join(dir, old+".info")} {
		if err := os.Chtimes(p, past, past); err != nil {
			t.Fatal(err)
		}
	}
	n, err := b.Expire(ctx, 24*time.Hour, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("Expire = %d, %v; want 1", n, err)
	}
	if _, err := b.composer.Core.GetUpload(ctx, old); err == nil {
		t.Error("the abandoned upload is still there")
	}
	if _, err := b.composer.Core.GetUpload(ctx, fresh); err != nil {
		t.Errorf("the fresh upload went: %v", err)
	}
}
