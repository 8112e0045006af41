package apibench

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Goal is issue 13's bar for a read path at GoalConns connections: at
// least GoalRatio of the floor's throughput (closed loop), and p99 under
// GoalP99 while serving that much (paced at GoalRatio of the floor's
// throughput, GoalConns connections at most).
const (
	GoalConns = 100
	GoalRatio = 0.5
	GoalP99   = 10 * time.Millisecond
	// GoalEvents is the events a second POST /v1/events must sustain
	// without loss.
	GoalEvents = 5000
)

// Options tune a run.
type Options struct {
	Conns []int         // concurrency levels; default 10, 100, 1000
	Cell  time.Duration // each cell's length; default 3 s
	// Rounds is how many times each cell runs, floor and shopclip in
	// turn, its figures over every round (on a machine others load too,
	// a burst of theirs then weighs on both). Default 1.
	Rounds int
	// Only, when set, keeps the targets whose name it matches.
	Only *regexp.Regexp
	Out  io.Writer // where the table goes; default os.Stdout
	Logf func(format string, args ...any)
}

// Row is one target at one concurrency: the floor's cell and shopclip's.
type Row struct {
	Target      Target
	Conns       int
	Floor, Shop Cell
	// PacedFloor and Paced, at GoalConns connections for the targets held
	// to a goal, are the floor and shopclip sent a fixed rate: GoalRatio
	// of the floor's closed-loop throughput (read paths), GoalEvents a
	// second (events).
	PacedFloor, Paced Cell
	// Events is the check of the events recorded, after an events cell.
	Events *EventsCheck
}

// Ratio is shopclip's throughput over the floor's.
func (r Row) Ratio() float64 {
	if f := r.Floor.Rate(); f > 0 {
		return r.Shop.Rate() / f
	}
	return 0
}

// Goal says whether the row meets issue 13's goal: "OK" or "NO" at
// GoalConns connections for read paths and events, "" otherwise.
func (r Row) Goal() string {
	if r.Conns != GoalConns {
		return ""
	}
	ok := false
	switch {
	case r.Target.Read:
		ok = r.Ratio() >= GoalRatio && r.Shop.Errors+r.Shop.Limited == 0 &&
			r.Paced.Kept() && r.Paced.P99 < GoalP99 && r.Paced.Errors+r.Paced.Limited == 0
	case r.Target.Events:
		ok = r.Shop.Rate() >= GoalEvents && r.Shop.Errors+r.Shop.Limited == 0 && r.Events != nil && r.Events.Exact() &&
			r.Paced.Kept() && r.Paced.Errors+r.Paced.Limited == 0
	default:
		return ""
	}
	if ok {
		return "OK"
	}
	return "NO"
}

// Report is a run against one stack.
type Report struct {
	DB       string
	Floor    string // the floor's base URL
	Captures []Capture
	Rows     []Row
}

// Run captures each target's answer from the stack, starts the floor with
// those answers, and runs every target at every concurrency against the
// floor and then shopclip, printing the table to opts.Out.
func Run(ctx context.Context, tb testing.TB, st *Stack, opts Options) *Report {
	tb.Helper()
	if len(opts.Conns) == 0 {
		opts.Conns = []int{10, 100, 1000}
	}
	if opts.Cell <= 0 {
		opts.Cell = 3 * time.Second
	}
	if opts.Rounds <= 0 {
		opts.Rounds = 1
	}
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	logf := opts.Logf
	if logf == nil {
		logf = tb.Logf
	}
	rep := &Report{DB: st.DB}
	addrs := &Addresses{}
	var targets []Target
	for _, t := range st.Targets() {
		if opts.Only == nil || opts.Only.MatchString(t.Name) {
			targets = append(targets, t)
		}
	}
	if len(targets) == 0 {
		tb.Fatalf("apibench: no target matches %v", opts.Only)
	}
	for _, t := range targets {
		c, err := st.Capture(ctx, t, addrs)
		if err != nil {
			tb.Fatalf("apibench: capture %s: %v", t.Name, err)
		}
		if c.Status < 200 || c.Status >= 400 {
			tb.Fatalf("apibench: capture %s: %d %s", t.Name, c.Status, c.Body)
		}
		rep.Captures = append(rep.Captures, c)
	}
	rep.Floor = StartFloor(tb, rep.Captures)
	load := loadAvg()
	start := time.Now()
	for _, t := range targets {
		for _, n := range opts.Conns {
			if ctx.Err() != nil {
				tb.Fatal(ctx.Err())
			}
			row := Row{Target: t, Conns: n}
			var count func(int, []byte)
			if t.Events {
				count = st.CountEvent
			}
			row.Floor, row.Shop = alternate(ctx, rep.Floor, st.Base, t, Load{Conns: n, Length: opts.Cell}, opts.Rounds, addrs, count)
			if n == GoalConns && (t.Read || t.Events) {
				rate := float64(GoalEvents)
				if t.Read {
					rate = GoalRatio * row.Floor.Rate()
				}
				row.PacedFloor, row.Paced = alternate(ctx, rep.Floor, st.Base, t, Load{Conns: n, Rate: rate, Length: opts.Cell}, opts.Rounds, addrs, count)
			}
			if t.Events {
				ev, err := st.CheckEvents(ctx)
				if err != nil {
					tb.Errorf("apibench: events check: %v", err)
				}
				row.Events = &ev
			}
			logf("apibench: %s: %s at %d: floor %.0f/s, shopclip %.0f/s", st.DB, t.Name, n, row.Floor.Rate(), row.Shop.Rate())
			rep.Rows = append(rep.Rows, row)
		}
	}
	rep.Print(opts.Out, opts.Cell, opts.Rounds, load, loadAvg(), time.Since(start))
	return rep
}

// alternate runs t under load against the floor and then shopclip, rounds
// times, and merges each server's cells.
func alternate(ctx context.Context, floorBase, shopBase string, t Target, load Load, rounds int, addrs *Addresses, count func(int, []byte)) (floor, shop Cell) {
	var fs, ss []Cell
	for range rounds {
		f := Attack(ctx, floorBase, t, load, addrs, nil)
		f.Server = "floor"
		fs = append(fs, f)
		settle()
		s := Attack(ctx, shopBase, t, load, addrs, count)
		s.Server = "shopclip"
		ss = append(ss, s)
		settle()
	}
	return Merge(fs...), Merge(ss...)
}

// settle lets closed connections and the servers' garbage go between cells.
func settle() { time.Sleep(250 * time.Millisecond) }

// loadAvg is the machine's 1-minute load average, or "?".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// Print writes the report's table.
func (r *Report) Print(w io.Writer, cell time.Duration, rounds int, loadBefore, loadAfter string, took time.Duration) {
	db := map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}[r.DB]
	fmt.Fprintf(w, "\nshopclip serve on %s + a local blob dir vs the floor (bare net/http, same bytes from memory)\n", db)
	fmt.Fprintf(w, "closed loop on loopback, %s a cell, floor then shopclip, %d round(s); load average %s before, %s after (%d CPUs); %s in all\n",
		cell, rounds, loadBefore, loadAfter, runtime.NumCPU(), took.Round(time.Second))
	fmt.Fprintf(w, "%-36s %5s %9s %10s %6s %7s %7s %8s %9s %6s %6s %6s %4s\n",
		"target", "conns", "floor/s", "shopclip/s", "ratio", "p50 ms", "p99 ms", "p99.9 ms", "floor p99", "429s", "errors", "floor!", "goal")
	var notes []string
	for _, row := range r.Rows {
		fmt.Fprintf(w, "%-36s %5d %9.0f %10.0f %6.2f %7.2f %7.2f %8.2f %9.2f %6d %6d %6d %4s\n",
			row.Target.Name, row.Conns, row.Floor.Rate(), row.Shop.Rate(), row.Ratio(),
			ms(row.Shop.P50), ms(row.Shop.P99), ms(row.Shop.P999), ms(row.Floor.P99),
			row.Shop.Limited, row.Shop.Errors, row.Floor.Limited+row.Floor.Errors, row.Goal())
		if row.Events != nil {
			fmt.Fprintf(w, "%-36s %5d   events without loss? %s\n", "", row.Conns, row.Events)
		}
		for _, c := range []Cell{row.Floor, row.Shop, row.PacedFloor, row.Paced} {
			if c.FirstError != "" {
				notes = append(notes, fmt.Sprintf("%s at %d, %s: first failure %s", row.Target.Name, row.Conns, c.Server, c.FirstError))
			}
		}
	}
	r.printPaced(w)
	fmt.Fprintf(w, "goal at %d conns: read paths >= %.0f%% of the floor's throughput, and p99 < %s paced at that rate; events >= %d/s (closed loop and paced), none lost, no errors\n",
		GoalConns, GoalRatio*100, GoalP99, GoalEvents)
	fmt.Fprintln(w, "429s and errors are shopclip's answers that are not 2xx/3xx (not counted as throughput); floor! the floor's")
	for _, n := range notes {
		fmt.Fprintln(w, "  "+n)
	}
}

// printPaced writes the paced cells' table, when there are any.
func (r *Report) printPaced(w io.Writer) {
	header := false
	for _, row := range r.Rows {
		if row.Paced.Asked == 0 {
			continue
		}
		if !header {
			fmt.Fprintf(w, "paced: a fixed rate (read paths: %.0f%% of the floor's throughput above; events: %d/s), %d conns at most\n",
				GoalRatio*100, GoalEvents, GoalConns)
			fmt.Fprintf(w, "%-36s %8s %8s %7s %7s %8s %10s %7s %7s %8s %4s\n",
				"target", "asked/s", "floor/s", "p50 ms", "p99 ms", "p99.9 ms", "shopclip/s", "p50 ms", "p99 ms", "p99.9 ms", "goal")
			header = true
		}
		f, s := row.PacedFloor, row.Paced
		fmt.Fprintf(w, "%-36s %8.0f %8.0f %7.2f %7.2f %8.2f %10.0f %7.2f %7.2f %8.2f %4s\n",
			row.Target.Name, s.Asked, f.Rate(), ms(f.P50), ms(f.P99), ms(f.P999),
			s.Rate(), ms(s.P50), ms(s.P99), ms(s.P999), row.Goal())
		for _, c := range []Cell{f, s} {
			if !c.Kept() {
				fmt.Fprintf(w, "%-36s   %s fell behind: %.0f/s of %.0f/s asked (its latencies understate the wait)\n", "", c.Server, c.Rate(), c.Asked)
			}
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
