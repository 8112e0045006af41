package janitor_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
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

func TestMain(m *testing.M) { testenv.Main(m) }

// backend is a real blob store and a real database.
type backend struct {
	name string
	open func(t *testing.T) (blob.Store, *store.DB)
}

var backends = []backend{
	{"local+sqlite", func(t *testing.T) (blob.Store, *store.DB) {
		bs, err := local.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bs.Close() })
		return bs, openDB(t, t.TempDir()+"/shopclip.db")
	}},
	{"minio+postgres", func(t *testing.T) (blob.Store, *store.DB) {
		m := testenv.MinIO(t)
		bs, err := s3.New(s3.Config{Endpoint: m.Endpoint, Bucket: m.Bucket, AccessKey: m.AccessKey, SecretKey: m.SecretKey})
		if err != nil {
			t.Fatal(err)
		}
		if err := bs.EnsureBucket(t.Context()); err != nil {
			t.Fatal(err)
		}
		return bs, openDB(t, testenv.Postgres(t))
	}},
}

func openDB(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// world is a bucket and a database in the states crashes leave, with what
// a pass past the grace must remove and what it must keep.
type world struct {
	removed, kept []string // keys
	want          janitor.Counts
}

func put(t *testing.T, bs blob.Store, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := bs.Put(t.Context(), k, strings.NewReader("x"), 1, blob.PutOptions{}); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
}

func genKeys(clipID, gen string) []string {
	p := shopclip.GenerationPrefix(clipID, gen)
	return []string{p + shopclip.MasterPlaylist, p + "720p/init.mp4", p + "720p/seg_00000.m4s", p + "720p/seg_00001.m4s", p + shopclip.PosterFile}
}

// build makes, through the store and the blob store as the real code paths
// do, every kind of orphan and every kind of object that must stay. The
// database's clock reads db time; the objects are stamped now by the blob
// store.
func build(t *testing.T, bs blob.Store, db *store.DB) world {
	ctx := t.Context()
	var w world
	acct := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "alice", Role: shopclip.RoleCreator}
	if err := db.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	newClip := func() *shopclip.Clip {
		id := shopclip.NewID(shopclip.PrefixClip)
		c := &shopclip.Clip{ID: id, CreatorID: acct.ID, Title: "t", OriginalKey: shopclip.OriginalKey(id), OriginalSize: 1}
		put(t, bs, c.OriginalKey)
		if err := db.CreateClip(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	start := func(c *shopclip.Clip) string {
		att := shopclip.NewID(shopclip.PrefixAttempt)
		if _, err := db.StartClipAttempt(ctx, c.ID, att); err != nil {
			t.Fatal(err)
		}
		return att
	}
	publish := func(c *shopclip.Clip, att string) {
		pub := &shopclip.Publication{Generation: att, OutputPrefix: shopclip.GenerationPrefix(c.ID, att), DurationMS: 1000, Width: 720, Height: 1280,
			Renditions: []shopclip.Rendition{{Name: "720p", Width: 720, Height: 1280, Bandwidth: 1_000_000}}}
		if err := db.PublishClip(ctx, c.ID, att, pub); err != nil {
			t.Fatal(err)
		}
	}

	// A ready clip: its published generation, overlays and current share
	// stay; the generation of an attempt killed before it (taken over by
	// the one that published) and a replaced share go.
	live := newClip()
	killed := start(live)
	put(t, bs, genKeys(live.ID, killed)...)
	att := start(live)
	put(t, bs, genKeys(live.ID, att)...)
	publish(live, att)
	share, oldShare := shopclip.ShareKey(live.ID, "aaaa"), shopclip.ShareKey(live.ID, "0000")
	put(t, bs, oldShare, share, shopclip.OverlaysKey(live.ID, "json"), shopclip.OverlaysKey(live.ID, "vtt"))
	if err := db.SetClipShare(ctx, live.ID, share); err != nil {
		t.Fatal(err)
	}
	w.kept = append(w.kept, live.OriginalKey, share, shopclip.OverlaysKey(live.ID, "json"), shopclip.OverlaysKey(live.ID, "vtt"))
	w.kept = append(w.kept, genKeys(live.ID, att)...)
	w.removed = append(w.removed, oldShare)
	w.removed = append(w.removed, genKeys(live.ID, killed)...)
	w.want.Generations++
	w.want.Shares++

	// A processing clip taken over from a dead attempt: the owner's
	// outputs (in flight) stay, the dead one's go.
	proc := newClip()
	dead := start(proc)
	put(t, bs, genKeys(proc.ID, dead)...)
	owner := start(proc)
	put(t, bs, genKeys(proc.ID, owner)[:2]...)
	w.kept = append(w.kept, proc.OriginalKey)
	w.kept = append(w.kept, genKeys(proc.ID, owner)[:2]...)
	w.removed = append(w.removed, genKeys(proc.ID, dead)...)
	w.want.Generations++

	// A failed clip keeps its original and the generation it recorded.
	failed := newClip()
	fatt := start(failed)
	put(t, bs, genKeys(failed.ID, fatt)...)
	if err := db.UpdateClipProgress(ctx, failed.ID, fatt, 0.5, &shopclip.Publication{Generation: fatt, OutputPrefix: shopclip.GenerationPrefix(failed.ID, fatt),
		DurationMS: 1000, Width: 720, Height: 1280, Renditions: []shopclip.Rendition{{Name: "720p", Width: 720, Height: 1280, Bandwidth: 1}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.FailClip(ctx, failed.ID, fatt, shopclip.Errorf(shopclip.EINTERNAL, "down")); err != nil {
		t.Fatal(err)
	}
	w.kept = append(w.kept, failed.OriginalKey)
	w.kept = append(w.kept, genKeys(failed.ID, fatt)...)

	// A deleted clip whose blob deletes failed: the row is gone, its
	// original and every output go.
	gone := newClip()
	gatt := start(gone)
	put(t, bs, genKeys(gone.ID, gatt)...)
	publish(gone, gatt)
	put(t, bs, shopclip.OverlaysKey(gone.ID, "json"))
	if err := db.DeleteClip(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	w.removed = append(w.removed, gone.OriginalKey, shopclip.OverlaysKey(gone.ID, "json"))
	w.removed = append(w.removed, genKeys(gone.ID, gatt)...)
	w.want.Originals++
	w.want.DeletedClip++

	// An original stored by an upload that died before recording its clip.
	orphan := shopclip.OriginalKey(shopclip.NewID(shopclip.PrefixClip))
	put(t, bs, orphan)
	w.removed = append(w.removed, orphan)
	w.want.Originals++

	// Not names this layout makes: never touched.
	put(t, bs, "originals/readme.txt", "clips/not-an-id/x", "uploads/abc", "clips/"+live.ID+"/"+"notes/x")
	w.kept = append(w.kept, "originals/readme.txt", "clips/not-an-id/x", "uploads/abc", "clips/"+live.ID+"/notes/x")
	return w
}

// keys lists every key in bs.
func keys(t *testing.T, bs blob.Store) []string {
	t.Helper()
	infos, err := bs.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, i := range infos {
		ks = append(ks, i.Key)
	}
	return ks
}

func logTo(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, nil))
}

// TestPass: within the grace a pass removes nothing; past it, exactly the
// orphans, whatever the page size (groups spanning pages), and a second
// pass finds nothing more.
func TestPass(t *testing.T) {
	for _, b := range backends {
		for _, pageSize := range []int{1, 3, 0} {
			t.Run(fmt.Sprintf("%s/page%d", b.name, pageSize), func(t *testing.T) {
				t.Parallel()
				bs, db := b.open(t)
				w := build(t, bs, db)
				all := keys(t, bs)
				var logs bytes.Buffer
				now := time.Now()
				j := &janitor.Janitor{Blobs: bs, Clips: db, PageSize: pageSize, Now: func() time.Time { return now }, Logger: logTo(&logs)}

				// Within the grace: nothing.
				now = time.Now().Add(janitor.DefaultGrace - time.Minute)
				c, err := j.Pass(t.Context())
				if err != nil || c.Total() != 0 {
					t.Fatalf("pass within the grace: removed %+v, %v", c, err)
				}
				if got := keys(t, bs); !slices.Equal(got, all) {
					t.Fatalf("within the grace the bucket changed:\n got %q\nwant %q", got, all)
				}

				// Past it: the orphans.
				now = time.Now().Add(janitor.DefaultGrace + time.Minute)
				c, err = j.Pass(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if c != w.want {
					t.Errorf("removed %+v, want %+v", c, w.want)
				}
				left := keys(t, bs)
				for _, k := range w.removed {
					if slices.Contains(left, k) {
						t.Errorf("orphan %s was not removed", k)
					}
				}
				for _, k := range w.kept {
					if !slices.Contains(left, k) {
						t.Errorf("%s was removed; it must stay", k)
					}
				}
				if len(left) != len(w.kept) {
					t.Errorf("left %d objects %q, want the %d kept", len(left), left, len(w.kept))
				}
				for _, reason := range []string{janitor.ReasonOriginal, janitor.ReasonDeleted, janitor.ReasonGeneration, janitor.ReasonShare} {
					if !strings.Contains(logs.String(), `reason="`+reason+`"`) {
						t.Errorf("no removal logged with reason %q:\n%s", reason, logs.String())
					}
				}

				c, err = j.Pass(t.Context())
				if err != nil || c.Total() != 0 {
					t.Errorf("second pass: removed %+v, %v; want nothing", c, err)
				}
				if got := j.Totals(); got != w.want {
					t.Errorf("totals %+v, want %+v", got, w.want)
				}
			})
		}
	}
}

// TestRecentClipChange: a clip that changed within the grace (a processing
// clip's progress, a publish) keeps every generation, however old their
// objects; and an orphan original newer than the grace stays while older
// ones go.
func TestRecentClipChange(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			bs, db := b.open(t)
			ctx := t.Context()
			now := time.Now().Add(janitor.DefaultGrace + time.Minute)
			acct := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "a", Role: shopclip.RoleCreator}
			if err := db.CreateAccount(ctx, acct); err != nil {
				t.Fatal(err)
			}
			id := shopclip.NewID(shopclip.PrefixClip)
			c := &shopclip.Clip{ID: id, CreatorID: acct.ID, Title: "t", OriginalKey: shopclip.OriginalKey(id), OriginalSize: 1}
			put(t, bs, c.OriginalKey)
			if err := db.CreateClip(ctx, c); err != nil {
				t.Fatal(err)
			}
			first := shopclip.NewID(shopclip.PrefixAttempt)
			if _, err := db.StartClipAttempt(ctx, id, first); err != nil {
				t.Fatal(err)
			}
			put(t, bs, genKeys(id, first)...)
			// The second attempt reports progress "now" (the janitor's
			// clock): the first one's objects are old, the clip is not.
			db.SetNow(func() time.Time { return now.Add(-time.Minute) })
			second := shopclip.NewID(shopclip.PrefixAttempt)
			if _, err := db.StartClipAttempt(ctx, id, second); err != nil {
				t.Fatal(err)
			}
			if err := db.UpdateClipProgress(ctx, id, second, 0.3, nil); err != nil {
				t.Fatal(err)
			}
			j := &janitor.Janitor{Blobs: bs, Clips: db, Now: func() time.Time { return now }}
			if c, err := j.Pass(ctx); err != nil || c.Total() != 0 {
				t.Fatalf("removed %+v, %v; want nothing while the clip changes", c, err)
			}
			if left := keys(t, bs); len(left) != 1+len(genKeys(id, first)) {
				t.Fatalf("left %q", left)
			}
			// Once the clip has been still for the grace, the first
			// attempt's generation goes.
			now = now.Add(janitor.DefaultGrace)
			if c, err := j.Pass(ctx); err != nil || c != (janitor.Counts{Generations: 1}) {
				t.Fatalf("removed %+v, %v; want the first generation", c, err)
			}
		})
	}
}

// TestLookupFailure: a database that does not answer removes nothing.
func TestLookupFailure(t *testing.T) {
	bs, db := backends[0].open(t)
	put(t, bs, shopclip.OriginalKey(shopclip.NewID(shopclip.PrefixClip)), shopclip.ClipPrefix(shopclip.NewID(shopclip.PrefixClip))+"x")
	db.Close()
	j := &janitor.Janitor{Blobs: bs, Clips: db, Now: func() time.Time { return time.Now().Add(48 * time.Hour) }}
	c, err := j.Pass(context.Background())
	if err == nil || c.Total() != 0 {
		t.Fatalf("pass with a closed database: removed %+v, err %v; want an error and nothing removed", c, err)
	}
	if left := keys(t, bs); len(left) != 2 {
		t.Fatalf("left %q, want both objects", left)
	}
}
