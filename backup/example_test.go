package backup_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/shopclip/shopclip/backup"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/blob/local"
	"github.com/shopclip/shopclip/store"
)

// A data directory backed up, then restored into a new one.
func Example() {
	dir, err := os.MkdirTemp("", "shopclip-backup-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	// A data directory: a database and one object.
	db, err := store.Open(ctx, filepath.Join(dir, "data", "shopclip.db"))
	if err != nil {
		log.Fatal(err)
	}
	db.Close()
	blobs, err := local.New(filepath.Join(dir, "data", "blobs"))
	if err != nil {
		log.Fatal(err)
	}
	defer blobs.Close()
	if err := blobs.Put(ctx, "originals/clip_1", strings.NewReader("mp4"), 3, blob.PutOptions{}); err != nil {
		log.Fatal(err)
	}

	src := backup.Source{Database: filepath.Join(dir, "data", "shopclip.db"), Blobs: blobs}
	m, err := backup.Create(ctx, src, filepath.Join(dir, "backup"), backup.Options{Version: "example"})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range m.Files {
		fmt.Println(f.Path)
	}

	restored, err := local.New(filepath.Join(dir, "restored", "blobs"))
	if err != nil {
		log.Fatal(err)
	}
	defer restored.Close()
	dst := backup.Target{Database: filepath.Join(dir, "restored", "shopclip.db"), Blobs: restored}
	if _, err := backup.Restore(ctx, filepath.Join(dir, "backup"), dst); err != nil {
		log.Fatal(err)
	}
	info, err := restored.Stat(ctx, "originals/clip_1")
	fmt.Println("restored:", info.Key, info.Size, err)
	// Output:
	// blobs/originals/clip_1
	// shopclip.db
	// restored: originals/clip_1 3 <nil>
}
