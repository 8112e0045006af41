package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/store"
)

// A clip's life in the embedded SQLite store: upload, a transcode attempt
// that takes ownership, a stale attempt refused, publication, the feed.
func Example() {
	dir, err := os.MkdirTemp("", "shopclip-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "shopclip.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	creator := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "Mei", Role: shopclip.RoleCreator}
	if err := db.CreateAccount(ctx, creator); err != nil {
		log.Fatal(err)
	}
	clip := &shopclip.Clip{
		ID: shopclip.NewID(shopclip.PrefixClip), CreatorID: creator.ID, Title: "Sunset 🌅",
		OriginalKey: "originals/sunset.mp4",
	}
	if err := db.CreateClip(ctx, clip); err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", clip.Status)

	// A worker takes the clip; then the task is redelivered and a second
	// attempt takes over.
	first, second := shopclip.NewID(shopclip.PrefixAttempt), shopclip.NewID(shopclip.PrefixAttempt)
	if _, err := db.StartClipAttempt(ctx, clip.ID, first); err != nil {
		log.Fatal(err)
	}
	c, err := db.StartClipAttempt(ctx, clip.ID, second)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("started:", c.Status, "attempts", c.Attempts)

	pub := &shopclip.Publication{Generation: "g2", OutputPrefix: "clips/" + clip.ID + "/g2/", Width: 720, Height: 1280}
	err = db.PublishClip(ctx, clip.ID, first, pub)
	fmt.Println("stale attempt publishes:", shopclip.ErrorCode(err))
	if err := db.PublishClip(ctx, clip.ID, second, pub); err != nil {
		log.Fatal(err)
	}

	feed, err := db.FeedClips(ctx, shopclip.FeedCursor{}, 10)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range feed {
		fmt.Println("feed:", c.Title, c.Status, c.Generation)
	}
	// Output:
	// created: uploaded
	// started: processing attempts 2
	// stale attempt publishes: conflict
	// feed: Sunset 🌅 ready g2
}
