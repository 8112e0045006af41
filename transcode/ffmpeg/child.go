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

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/transcode"
)

// testHookBeforeTranscode, when set (by tests only), runs in ChildMain after
// the rlimits are applied and before the engine starts.
var testHookBeforeTranscode func()

// ChildMain is the child side of the transcode protocol (see
// transcode.ChildRequest) and the body of `shopclip transcode`: it parses
// args, applies the rlimits to its own process, runs Transcode, writes
// events as JSON lines to --events-fd and prints exactly one JSON document
// on stdout: the Report, or {"error":{"code","message"}}. It returns the
// exit code: transcode.ExitOK, ExitMedia (the input is unusable) or
// ExitInternal.
//
// It sets the process's traceback mode to "crash", so a fatal signal inside
// FFmpeg kills the process by a signal the parent recognizes as a crash.
func ChildMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	debug.SetTraceback("crash")
	out := &reportWriter{w: stdout}

	req, err := transcode.ParseChildArgs(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return transcode.ExitOK
		}
		return out.fail(err)
	}
	level := slog.LevelWarn
	_ = level.UnmarshalText([]byte(req.LogLevel))
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	SetLogger(log)

	// Limits first: nothing of the input has been read yet.
	if err := req.Rlimits.Apply(); err != nil {
		return out.fail(err)
	}
	if err := CheckLibraries(); err != nil {
		return out.fail(err)
	}
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
		events = &eventWriter{w: f, log: log}
	}
	if testHookBeforeTranscode != nil {
		testHookBeforeTranscode()
	}
	rep, err := Transcode(ctx, req.Input, req.OutDir, req.Config, events.send)
	if err != nil {
		log.Info("transcode failed", "error", err)
		if rep == nil {
			return out.fail(err)
		}
		return out.report(rep, err)
	}
	return out.report(rep, nil)
}

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
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done {
		return transcode.ExitInternal
	}
	o.done = true
	code := transcode.ExitOK
	if err != nil {
		rep.Error = reportError(err)
		code = transcode.ExitInternal
		if shopclip.IsMediaError(rep.Error.Code) {
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

// eventWriter writes events as JSON lines; a nil one drops them.
type eventWriter struct {
	mu     sync.Mutex
	w      io.Writer
	log    *slog.Logger
	broken bool
}

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
	if e.broken {
		return
	}
	if _, err := e.w.Write(append(b, '\n')); err != nil {
		e.broken = true
		e.log.Warn("transcode: events pipe closed; no more events", "error", err)
	}
}
