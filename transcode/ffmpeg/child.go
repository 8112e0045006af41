package ffmpeg

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/transcode"
)

// testHookBeforeTranscode, when set (by tests only), runs in ChildMain after
// the rlimits and the sandbox are in place and before the engine starts.
var testHookBeforeTranscode func(transcode.ChildRequest)

// ChildMain is the child side of the transcode protocol (see
// transcode.ChildRequest) and the body of `shopclip transcode`: it parses
// args, applies the rlimits to its own process, runs Transcode (or BurnIn,
// with --share, printing a transcode.ShareReport), writes
// events as JSON lines to --events-fd (from a bounded queue, see
// eventWriter, drained for up to 5 s at the end) and prints exactly one
// JSON document on stdout: the Report, or {"error":{"code","message"}}. It returns the
// exit code: transcode.ExitOK, ExitMedia (the input is unusable) or
// ExitInternal.
//
// It sets the process's traceback mode to "crash", so a fatal signal inside
// FFmpeg kills the process by a signal the parent recognizes as a crash,
// and its local time zone to UTC.
func ChildMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	debug.SetTraceback("crash")
	// Log times in UTC, without looking for a time zone file: the child's
	// environment is empty (no TZ) and its sandbox has no such file.
	time.Local = time.UTC
	out := &reportWriter{w: stdout}

	req, err := transcode.ParseChildArgs(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return transcode.ExitOK
		}
		return out.fail(err)
	}
	if req.EventsFD != 0 {
		// A Runner's child: its parent alone ends it (SIGKILL to its
		// group, or its deadline). A SIGTERM or SIGINT sent to every
		// process of a service (systemd's default, a terminal's Ctrl-C)
		// must not end it as a failed job: the worker is shutting down
		// and requeues the task itself.
		signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
	}
	level := slog.LevelWarn
	_ = level.UnmarshalText([]byte(req.LogLevel))
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	SetLogger(log)

	// Limits and the sandbox's seccomp filter first: nothing of the input
	// has been read yet.
	if err := req.Rlimits.Apply(); err != nil {
		return out.fail(err)
	}
	if err := installSandbox(req.Sandbox); err != nil {
		return out.fail(err)
	}
	if err := CheckLibraries(); err != nil {
		return out.fail(err)
	}
	if req.JobFD > 0 {
		// Prestarted: everything above is done ahead of the job, and
		// memory for it is faulted in while it waits.
		var warm *warming
		if req.WarmMemory > 0 {
			warm = warmMemory(req.WarmMemory)
		}
		in, outDir, err := transcode.ReceiveJob(req.JobFD)
		if warm != nil {
			log.Debug("warm memory", "bytes", warm.finish(warmStopWait))
		}
		if errors.Is(err, io.EOF) {
			return transcode.ExitOK // no job came: the Runner closed
		} else if err != nil {
			return out.fail(err)
		}
		req.Input, req.OutDir = in, outDir
	}
	log.Debug("running") // in its sandbox: where a job's start ends
	// The soft CPU limit sends SIGXCPU: report it as a resource limit and
	// exit (the hard limit, 5 s later, would SIGKILL).
	xcpu := make(chan os.Signal, 1)
	signal.Notify(xcpu, syscall.SIGXCPU)
	defer signal.Stop(xcpu)
	go func() {
		if _, ok := <-xcpu; ok {
			os.Exit(out.fail(shopclip.Errorf(shopclip.EMEDIALIMIT, "Processing the video used more CPU time than allowed and was stopped.")))
		}
	}()

	var events *eventWriter
	if req.EventsFD > 0 {
		f := os.NewFile(uintptr(req.EventsFD), "events")
		if f == nil {
			return out.fail(fmt.Errorf("ffmpeg: events fd %d is not open", req.EventsFD))
		}
		defer f.Close()
		events = newEventWriter(f, log)
	}
	if testHookBeforeTranscode != nil {
		testHookBeforeTranscode(req)
	}
	if req.Share != "" {
		rep, err := burnInChild(ctx, req, events.send)
		events.close(eventsDrainTimeout)
		if err != nil {
			log.Info("share render failed", "error", err)
		}
		return out.shareReport(rep, err)
	}
	rep, err := Transcode(ctx, req.Input, req.OutDir, req.Config, events.send)
	events.close(eventsDrainTimeout)
	if err != nil {
		log.Info("transcode failed", "error", err)
		if rep == nil {
			return out.fail(err)
		}
		return out.report(rep, err)
	}
	return out.report(rep, nil)
}

// warmStopWait bounds how long a job waits for the warming to stop and free
// what it faulted in (it stops within one 8 MiB chunk).
const warmStopWait = 200 * time.Millisecond

// reportWriter prints the one JSON document, exactly once even when the
// SIGXCPU handler races with the end of the transcode.
type reportWriter struct {
	mu   sync.Mutex
	done bool
	w    io.Writer
}

func (o *reportWriter) fail(err error) int {
	return o.report(&transcode.Report{}, err)
}

func (o *reportWriter) report(rep *transcode.Report, err error) int {
	return o.write(rep, &rep.Error, err)
}

// shareReport prints a share render's report; rep may be nil.
func (o *reportWriter) shareReport(rep *transcode.ShareReport, err error) int {
	if rep == nil {
		rep = &transcode.ShareReport{}
	}
	return o.write(rep, &rep.Error, err)
}

// write prints rep, a report whose error field is *errField, with err in
// it, and returns the exit code.
func (o *reportWriter) write(rep any, errField **shopclip.Error, err error) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done {
		return transcode.ExitInternal
	}
	o.done = true
	code := transcode.ExitOK
	if err != nil {
		*errField = reportError(err)
		code = transcode.ExitInternal
		if shopclip.IsMediaError((*errField).Code) {
			code = transcode.ExitMedia
		}
	}
	enc := json.NewEncoder(o.w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		return transcode.ExitInternal
	}
	return code
}

// Bounds of the events not yet written to the events pipe.
const (
	// eventsQueueMax bounds the bytes of events waiting for the parent to
	// read them (about 40,000 events; a 3 min clip sends a few thousand).
	eventsQueueMax = 4 << 20
	// eventsDrainTimeout is how long the child waits at the end for the
	// parent to read the last events.
	eventsDrainTimeout = 5 * time.Second
)

// eventWriter sends events as JSON lines to the events pipe from a
// goroutine of its own, so a parent slow to read never holds up the engine:
// events wait in memory, up to eventsQueueMax bytes. When the parent falls
// that far behind (it stopped reading) or the pipe breaks (it is gone), the
// writer stops for good: later events are dropped, so the parent sees a
// prefix of the sequence, never one with a gap (a playlist whose segment's
// event went missing), and the transcode carries on; the parent publishes
// what was not announced from the Report. A nil eventWriter drops every
// event.
type eventWriter struct {
	w    io.Writer
	log  *slog.Logger
	done chan struct{}

	mu     sync.Mutex
	cond   *sync.Cond
	queue  []byte // JSON lines not yet handed to the writer goroutine
	closed bool
	broken bool
}

func newEventWriter(w io.Writer, log *slog.Logger) *eventWriter {
	e := &eventWriter{w: w, log: log, done: make(chan struct{})}
	e.cond = sync.NewCond(&e.mu)
	go e.run()
	return e
}

// send queues ev. It never blocks on the pipe.
func (e *eventWriter) send(ev transcode.Event) {
	if e == nil {
		return
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.broken || e.closed {
		return
	}
	if len(e.queue)+len(b)+1 > eventsQueueMax {
		e.broken = true
		e.queue = nil
		e.log.Warn("transcode: the parent does not read events; sending no more")
		return
	}
	e.queue = append(append(e.queue, b...), '\n')
	e.cond.Signal()
}

// run writes the queued events until close, in order.
func (e *eventWriter) run() {
	defer close(e.done)
	for {
		e.mu.Lock()
		for len(e.queue) == 0 && !e.closed && !e.broken {
			e.cond.Wait()
		}
		batch := e.queue
		e.queue = nil
		stop := e.broken || (e.closed && len(batch) == 0)
		e.mu.Unlock()
		if stop {
			return
		}
		if _, err := e.w.Write(batch); err != nil {
			e.mu.Lock()
			e.broken = true
			e.queue = nil
			e.mu.Unlock()
			e.log.Warn("transcode: events pipe closed; no more events", "error", err)
			return
		}
	}
}

// close stops taking events and waits up to timeout for the queued ones to
// be written.
func (e *eventWriter) close(timeout time.Duration) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.closed = true
	e.cond.Signal()
	e.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-e.done:
	case <-t.C:
		e.log.Warn("transcode: the parent did not read the last events")
	}
}
