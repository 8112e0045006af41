package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"

	"golang.org/x/sys/unix"

	"github.com/shopclip/shopclip/configs"
	"github.com/shopclip/shopclip/internal/logctx"
)

// newLogger is the process's logger at level: JSON lines (one object a
// line), or key=value text when format is "text". Every line logged with a
// request's or a task's context carries its request_id, clip_id and
// task_id (logctx), so one grep follows an upload.
func newLogger(w io.Writer, format, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	} else {
		// Durations as text does ("1.5s"), not in nanoseconds.
		opts.ReplaceAttr = func(_ []string, a slog.Attr) slog.Attr {
			if a.Value.Kind() == slog.KindDuration {
				return slog.String(a.Key, a.Value.Duration().String())
			}
			return a
		}
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(logctx.NewHandler(h))
}

// logFormat is the format of a process's logs: log_format when set;
// otherwise text for `shopclip up` with stderr on a terminal (a person
// reads it), JSON for everything else (a collector reads it).
func logFormat(cfg configs.Config, mode Mode, stderr io.Writer) string {
	if cfg.LogFormat != "" {
		return cfg.LogFormat
	}
	if mode == ModeUp && isTerminal(stderr) {
		return "text"
	}
	return "json"
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func runServer(ctx context.Context, mode string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("shopclip "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "listen address HOST:PORT (default 127.0.0.1:8080)")
	data := fs.String("data", "", "data directory (default ~/.local/share/shopclip)")
	config := fs.String("config", "", "configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	cfg, err := configFromFlags(*config, *addr, *data)
	if err != nil {
		return err
	}
	log := newLogger(stderr, logFormat(cfg, Mode(mode), stderr), cfg.LogLevel)
	m := &Main{Config: cfg, Mode: Mode(mode), Logger: log}
	if err := m.Run(ctx); err != nil {
		if errors.Is(err, errStopped) { // a signal while a service was down
			fmt.Fprintf(stdout, "shopclip: %v\n", err)
			return nil
		}
		return err
	}
	printBanner(stdout, m)
	<-ctx.Done()
	fmt.Fprintln(stdout, "\nshopclip: stopping (Ctrl-C again to force)…")
	done := make(chan error, 1)
	go func() { done <- m.Close() }()
	// A second signal forces the exit.
	force := make(chan os.Signal, 1)
	notifyForce(force)
	select {
	case err := <-done:
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "shopclip: stopped")
		return nil
	case <-force:
		return fmt.Errorf("forced exit")
	}
}

// configFromFlags loads the configuration with --addr and --data applied on
// top of the file and the environment (flags win).
func configFromFlags(path, addr, data string) (configs.Config, error) {
	if path == "" {
		path = os.Getenv("SHOPCLIP_CONFIG")
	}
	env := os.Environ()
	if addr != "" {
		env = append(env, "SHOPCLIP_ADDR="+addr)
	}
	if data != "" {
		abs, err := filepath.Abs(data)
		if err != nil {
			return configs.Config{}, err
		}
		env = append(env, "SHOPCLIP_DATA="+abs)
	}
	return configs.Load(path, env)
}

func printBanner(w io.Writer, m *Main) {
	self := os.Args[0]
	cfg := m.Config
	switch m.Mode {
	case ModeWorker:
		fmt.Fprintf(w, "shopclip worker is running (concurrency %d). Ctrl-C stops it.\n", cfg.Worker.Concurrency)
		return
	case ModeServe:
		fmt.Fprintf(w, "shopclip API and pages are listening on %s (the feed at %s/). Ctrl-C stops it.\n", m.URL(), m.URL())
		return
	}
	fmt.Fprintf(w, `
shopclip is running on %[1]s
  studio:   %[1]s/studio/signup (creators upload and approve, brands tag)
  watch:    %[1]s/ (the feed), %[1]s/deals
  data:     %[2]s (SQLite, blobs, Redis)
  health:   %[1]s/readyz

Next: sign up in the studio as a creator and upload a clip, then as a
brand (another browser) add a product and tag it. Or from a terminal:
  KEY=$(%[3]s account create --role creator --name alice --data %[2]s)
  %[3]s upload --server %[1]s --key "$KEY" clip.mp4
  curl %[1]s/v1/feed

Ctrl-C stops everything; your clips stay in the data directory.
`, m.URL(), cfg.DataDir, self)
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
		return bi.Main.Version
	}
	return "devel"
}
