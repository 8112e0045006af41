package janitor_test

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/janitor"
)

// jobDirs makes, in a new work directory, the job directories killed
// workers leave and entries that are not the workers', all last changed
// long ago unless fresh; and a processing clip whose attempt owns one.
func jobDirs(t *testing.T) (dir string, running, dead, fresh, share string, others []string, j *janitor.Janitor) {
	t.Helper()
	bs, db := backends[0].open(t)
	ctx := t.Context()
	acct := &shopclip.Account{ID: shopclip.NewID(shopclip.PrefixAccount), Name: "a", Role: shopclip.RoleCreator}
	if err := db.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	id := shopclip.NewID(shopclip.PrefixClip)
	if err := db.CreateClip(ctx, &shopclip.Clip{ID: id, CreatorID: acct.ID, Title: "t", OriginalKey: shopclip.OriginalKey(id), OriginalSize: 1}); err != nil {
		t.Fatal(err)
	}
	att := shopclip.NewID(shopclip.PrefixAttempt)
	if _, err := db.StartClipAttempt(ctx, id, att); err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	running = id + "-" + att                                                                   // its clip is processing under it
	dead = id + "-" + shopclip.NewID(shopclip.PrefixAttempt)                                   // an attempt taken over
	fresh = shopclip.NewID(shopclip.PrefixClip) + "-" + shopclip.NewID(shopclip.PrefixAttempt) // changed within the grace
	share = "share-" + id + "-123456"
	others = []string{"cache", id, "share-" + id, id + "-att_short", "sandbox-" + att}
	long := time.Now().Add(-2 * janitor.DefaultGrace)
	for _, name := range append([]string{running, dead, fresh, share}, others...) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Join(p, "out", "720p"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "out", "720p", "seg_00000.m4s"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if name == fresh {
			continue
		}
		for _, q := range []string{filepath.Join(p, "out", "720p", "seg_00000.m4s"), filepath.Join(p, "out", "720p"), filepath.Join(p, "out"), p} {
			if err := os.Chtimes(q, long, long); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, id+"-"+shopclip.NewID(shopclip.PrefixAttempt)+".txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, running, dead, fresh, share, others, &janitor.Janitor{Blobs: bs, Clips: db, WorkDir: dir}
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.Name() != ".workers.lock" && e.IsDir() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

func wantEntries(t *testing.T, dir string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := entries(t, dir); !slices.Equal(got, want) {
		t.Errorf("work dir holds %q, want %q", got, want)
	}
}

// TestPassJobDirs: a pass removes the job directories that have been still
// for the grace, except the one its clip's running attempt owns, and
// nothing that is not a job directory.
func TestPassJobDirs(t *testing.T) {
	dir, running, dead, fresh, share, others, j := jobDirs(t)
	c, err := j.Pass(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if c.JobDirs != 2 {
		t.Errorf("removed %d job dirs, want 2 (%s, %s)", c.JobDirs, dead, share)
	}
	wantEntries(t, dir, append([]string{running, fresh}, others...)...)
}

// TestClaimWorkDirAlone: a worker starting with no other worker on its work
// directory removes every job directory, old or new (none can be running),
// and nothing else.
func TestClaimWorkDirAlone(t *testing.T) {
	dir, _, _, _, _, others, j := jobDirs(t)
	n, release, err := j.ClaimWorkDir(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if n != 4 {
		t.Errorf("removed %d job dirs, want 4", n)
	}
	wantEntries(t, dir, others...)
}

// TestClaimWorkDirShared: while another worker holds the work directory
// (its shared lock), a starting worker removes only what a pass would; and
// it holds the lock itself until release, so that a later one is not alone
// either.
func TestClaimWorkDirShared(t *testing.T) {
	dir, running, _, fresh, _, others, j := jobDirs(t)
	f, err := os.OpenFile(filepath.Join(dir, ".workers.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		t.Fatal(err)
	}
	n, release, err := j.ClaimWorkDir(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("removed %d job dirs, want 2", n)
	}
	wantEntries(t, dir, append([]string{running, fresh}, others...)...)

	f.Close() // the other worker exits; this one still holds its share
	g, err := os.OpenFile(filepath.Join(dir, ".workers.lock"), os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := syscall.Flock(int(g.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		t.Fatal("took the work dir's lock exclusively while a claiming worker runs")
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(g.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("after release the lock is still held: %v", err)
	}
}
