package chaos

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/shopclip/shopclip/internal/testenv"
)

// TestChaosDrill runs the fault drill: CHAOS_SECONDS of load and faults
// (default 120; `make chaos` runs 600), then a grace of at most
// CHAOS_GRACE_SECONDS (default 150, or 300 for drills of 8 minutes or
// more), and asserts the goals on the reconciled ledger: nothing lost,
// published twice, orphaned or stuck; every good clip ready; media
// failures only for broken inputs; every acknowledged tag, price and
// discount change kept. The table is logged and written with the ledger
// and every process's log to CHAOS_DIR (default a temporary directory,
// kept when the test fails). CHAOS_BIN names a shopclip binary to drill
// instead of building one from the tree.
func TestChaosDrill(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos drill takes minutes")
	}
	seconds := envInt(t, "CHAOS_SECONDS", 120)
	duration := time.Duration(seconds) * time.Second
	graceDefault := 150
	if duration >= 8*time.Minute {
		graceDefault = 300
	}
	grace := time.Duration(envInt(t, "CHAOS_GRACE_SECONDS", graceDefault)) * time.Second
	seed := int64(envInt(t, "CHAOS_SEED", int(time.Now().UnixNano()%1_000_000)))

	redis, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Unavailable(t, "redis-server: %v", err)
	}
	pgBin, err := testenv.PostgresBinDir()
	if err != nil {
		testenv.Unavailable(t, "postgresql: %v", err)
	}
	minioBin, err := testenv.MinIOBinary()
	if err != nil {
		testenv.Unavailable(t, "minio: %v", err)
	}
	media := testenv.MediaDir(t)

	dir := os.Getenv("CHAOS_DIR")
	if dir == "" {
		if dir, err = os.MkdirTemp("", "shopclip-chaos-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if !t.Failed() {
				os.RemoveAll(dir)
			}
		})
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the ledger, the report and every process's log are in %s", dir)
		}
	})
	bin := os.Getenv("CHAOS_BIN") // a shopclip binary built already
	if bin == "" {
		bin = filepath.Join(dir, "shopclip")
		build := exec.Command("go", "build", "-o", bin, "github.com/shopclip/shopclip/cmd/shopclip")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}

	t.Logf("chaos drill: %s of faults, grace %s, seed %d", duration, grace, seed)
	d := New(Config{
		Duration: duration, Grace: grace, Seed: seed,
		Bin: bin, MediaDir: media, Dir: dir,
		RedisBin: redis, PostgresBinDir: pgBin, MinIOBin: minioBin,
		Logf: t.Logf,
	})
	t.Cleanup(d.Close)
	ctx, cancel := context.WithTimeout(context.Background(), duration+grace+5*time.Minute)
	defer cancel()
	rep, err := d.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	rep.WriteMarkdown(&md)
	if err := os.WriteFile(filepath.Join(dir, "report.md"), md.Bytes(), 0o644); err != nil {
		t.Error(err)
	}
	if testing.Verbose() {
		fmt.Printf("\n%s\n", md.Bytes())
	} else {
		t.Logf("\n%s", md.Bytes())
	}
	for _, miss := range rep.Goals() {
		t.Errorf("goal missed: %s", miss)
	}
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}
