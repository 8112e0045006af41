package local_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/blob"
	"github.com/shopclip/shopclip/blob/local"
)

func Example() {
	dir, err := os.MkdirTemp("", "shopclip-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := local.New(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()

	// Publish a playlist; IfNotExists makes the key create-only.
	playlist := "#EXTM3U\n#EXT-X-ENDLIST\n"
	opts := blob.PutOptions{IfNotExists: true}
	if err := store.Put(ctx, "clips/c1/g1/master.m3u8", strings.NewReader(playlist), int64(len(playlist)), opts); err != nil {
		log.Fatal(err)
	}
	err = store.Put(ctx, "clips/c1/g1/master.m3u8", strings.NewReader(playlist), int64(len(playlist)), opts)
	fmt.Println("second put:", shopclip.ErrorCode(err))

	obj, err := store.Open(ctx, "clips/c1/g1/master.m3u8")
	if err != nil {
		log.Fatal(err)
	}
	defer obj.Close()
	body, _ := io.ReadAll(obj)
	fmt.Printf("%s (%d bytes, %s)\n", strings.Fields(string(body))[0], obj.Info().Size, obj.Info().ContentType)

	infos, _ := store.List(ctx, "clips/c1/")
	for _, info := range infos {
		fmt.Println("listed:", info.Key)
	}

	_, err = store.Stat(ctx, "clips/c2/master.m3u8")
	fmt.Println("missing:", shopclip.ErrorCode(err))
	_, err = store.Stat(ctx, "../etc/passwd")
	fmt.Println("traversal:", shopclip.ErrorCode(err))
	// Output:
	// second put: conflict
	// #EXTM3U (23 bytes, application/vnd.apple.mpegurl)
	// listed: clips/c1/g1/master.m3u8
	// missing: not_found
	// traversal: invalid
}
