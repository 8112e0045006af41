package apibench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopclip/shopclip/internal/testenv"
)

func TestMain(m *testing.M) {
	if file := os.Getenv(EnvFloor); file != "" {
		// This binary runs as the floor (StartFloor).
		if err := ServeFloor(file, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "apibench: floor:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	testenv.Main(m)
}

// TestHarness runs the harness small — SQLite, 10 connections, cells of
// half a second — and checks that it measures what it says: every cell of
// every target answered 2xx/3xx only, with answers; the floor answers each
// target with shopclip's status, Content-Type and bytes (events: status
// and Content-Type, their bodies name a new event each time); and the
// clip's stats count exactly the events answered as recorded.
func TestHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("builds shopclip and transcodes a clip")
	}
	bin := BuildShopclip(t)
	st := StartStack(t, StackConfig{DB: "sqlite", Bin: bin})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	rep := Run(ctx, t, st, Options{Conns: []int{10}, Cell: 500 * time.Millisecond, Out: &out})
	t.Logf("%s", out.Bytes())

	if got, want := len(rep.Rows), len(st.Targets()); got != want {
		t.Fatalf("%d rows, want %d (one a target)", got, want)
	}
	for _, row := range rep.Rows {
		for _, c := range []Cell{row.Floor, row.Shop} {
			if c.OK == 0 || c.Limited != 0 || c.Errors != 0 {
				t.Errorf("%s, %s: %d answered 2xx/3xx, %d 429s, %d errors (%s); want only 2xx/3xx",
					row.Target.Name, c.Server, c.OK, c.Limited, c.Errors, c.FirstError)
			}
			if c.P50 <= 0 || c.P99 < c.P50 || c.P999 < c.P99 {
				t.Errorf("%s, %s: latencies p50 %s p99 %s p99.9 %s", row.Target.Name, c.Server, c.P50, c.P99, c.P999)
			}
		}
		if row.Target.Events {
			if row.Events == nil || !row.Events.Exact() || row.Events.AnsweredViews == 0 || row.Events.AnsweredImpressions == 0 {
				t.Errorf("events: %v; want views and impressions, counted exactly", row.Events)
			}
		}
	}

	// The floor answers what shopclip answers.
	addrs := &Addresses{}
	for _, tg := range st.Targets() {
		shop, err := st.Capture(ctx, tg, addrs)
		if err != nil {
			t.Fatal(err)
		}
		floor := fetch(t, rep.Floor, tg)
		if shop.Status != floor.Status || shop.ContentType != floor.ContentType || shop.Location != floor.Location {
			t.Errorf("%s: shopclip %d %q %q, the floor %d %q %q", tg.Name, shop.Status, shop.ContentType, shop.Location,
				floor.Status, floor.ContentType, floor.Location)
		}
		if !tg.Events && !bytes.Equal(shop.Body, floor.Body) {
			i := firstDiff(floor.Body, shop.Body)
			from := max(0, i-40)
			t.Errorf("%s: the floor's %d bytes differ from shopclip's %d at byte %d:\nfloor:    …%.80q\nshopclip: …%.80q",
				tg.Name, len(floor.Body), len(shop.Body), i, floor.Body[min(from, len(floor.Body)):], shop.Body[min(from, len(shop.Body)):])
		}
		if len(shop.Body) == 0 && tg.Method == "GET" && !strings.HasPrefix(tg.Name, "GET /v1/buy") {
			t.Errorf("%s: an empty answer", tg.Name)
		}
	}
	// The captures above posted an event too: the stats still count
	// exactly what was answered.
	if ev, err := st.CheckEvents(ctx); err != nil || !ev.Exact() {
		t.Errorf("events after the comparison: %v (%v)", ev, err)
	}
}

// firstDiff is the index of the first byte where a and b differ.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// fetch makes t's request to the floor at base.
func fetch(tb testing.TB, base string, t Target) Capture {
	tb.Helper()
	var body io.Reader
	if t.Body != nil {
		body = strings.NewReader(`{}`)
	}
	req, err := http.NewRequest(t.Method, base+t.Path, body)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return Capture{Method: t.Method, Path: t.Path, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
		Location: resp.Header.Get("Location"), Body: b}
}

// BenchmarkAPI is `make bench-api`: for each database of BENCH_DB
// (default "sqlite postgres"), a stack seeded as StartStack says, every
// target at each concurrency of BENCH_CONNS (default "10 100 1000") for
// BENCH_SECONDS (default 3) against the floor and then shopclip, BENCH_ROUNDS
// times (default 1); one table a database. BENCH_TARGETS, a regular
// expression, keeps the targets whose name it matches. BENCH_BIN names a shopclip
// binary to measure instead of building one from the tree (to compare
// commits).
func BenchmarkAPI(b *testing.B) {
	conns := envList(b, "BENCH_CONNS", "10 100 1000")
	var levels []int
	for _, c := range conns {
		n, err := strconv.Atoi(c)
		if err != nil || n <= 0 || n > 5000 {
			b.Fatalf("BENCH_CONNS: %q is not a number of connections from 1 to 5000", c)
		}
		levels = append(levels, n)
	}
	secs := 3.0
	if v := os.Getenv("BENCH_SECONDS"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 600 {
			b.Fatalf("BENCH_SECONDS=%q: want seconds, more than 0, at most 600", v)
		}
		secs = f
	}
	rounds := 1
	if v := os.Getenv("BENCH_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 20 {
			b.Fatalf("BENCH_ROUNDS=%q: want 1 to 20", v)
		}
		rounds = n
	}
	var only *regexp.Regexp
	if v := os.Getenv("BENCH_TARGETS"); v != "" {
		var err error
		if only, err = regexp.Compile(v); err != nil {
			b.Fatalf("BENCH_TARGETS: %v", err)
		}
	}
	dbs := envList(b, "BENCH_DB", "sqlite postgres")
	bin := os.Getenv("BENCH_BIN") // a shopclip binary built already (another commit's)
	if bin == "" {
		bin = BuildShopclip(b)
	}
	for _, db := range dbs {
		if db != "sqlite" && db != "postgres" {
			b.Fatalf("BENCH_DB: %q: want sqlite or postgres", db)
		}
		b.Run(db, func(b *testing.B) {
			for b.Loop() {
				st := StartStack(b, StackConfig{DB: db, Bin: bin})
				ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
				Run(ctx, b, st, Options{Conns: levels, Cell: time.Duration(secs * float64(time.Second)), Rounds: rounds, Only: only})
				cancel()
			}
		})
	}
}

func envList(tb testing.TB, name, def string) []string {
	tb.Helper()
	v := os.Getenv(name)
	if strings.TrimSpace(v) == "" {
		v = def
	}
	return strings.Fields(v)
}
