package transcode

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The child-process protocol. Runner starts
//
//	<Command...> --in ABS --out ABS --events-fd 3 --config JSON --limit-as N --limit-cpu S --limit-fsize N --limit-nofile N --limit-nproc N
//	    --sandbox MODE --sandbox-mntns INO --sandbox-rw OUT --sandbox-ro IN
//
// with an empty environment, cwd = the out dir, its own process group, fd 3
// the write end of the events pipe and its namespaces (see Sandbox; the
// child builds the rest of its sandbox from the --sandbox flags before its
// Go code runs). The child (ffmpeg.ChildMain, behind
// `shopclip transcode`) applies the rlimits to itself first, then runs the
// engine, writes events as JSON lines to the events fd, and prints exactly
// one JSON document on stdout: the Report, or {"error":{"code","message"}}.
// It exits with ExitOK, ExitMedia (a media error: the upload is unusable) or
// ExitInternal (anything else). Runner treats death by signal as a crash
// (EMEDIACRASH), except the resource-limit ones (EMEDIALIMIT); an exit
// status of 128+N is death by signal N (how the sandbox's init, PID 1 of
// the child's namespace, reports the child it runs).
//
// With --job-fd 4 instead of --in and --out (Runner.Prestart) the child is
// started ahead of its job, with no job's file in its sandbox, and waits
// for the input and the out dir, handed over open on that unix socket (see
// ReceiveJob).
//
// With --share SPEC (Runner.Share) the child makes a share render instead:
// --out names the MP4 file to write, SPEC is a ShareSpec JSON file whose
// overlay images are in SPEC's directory, the events are the probe and
// progress only, and the JSON document is a ShareReport.
const (
	ExitOK       = 0
	ExitInternal = 1
	ExitMedia    = 2
)

// ChildRequest is what the child process is asked to do: the flags Runner
// passes and ffmpeg.ChildMain parses.
type ChildRequest struct {
	Input  string
	OutDir string // a transcode's out dir; empty for a share render
	// Share, when set, is the path of a ShareSpec JSON file: the child
	// burns its overlays into Input and writes the MP4 file Output (see
	// ShareSpec). OutDir is then unused.
	Share    string
	Output   string
	EventsFD int // 0: no events
	// JobFD, when not 0, makes a prestarted child (Runner.Prestart): it
	// is started without Input and OutDir, which its job brings later on
	// this unix socket (see ReceiveJob). A transcode only, never a share
	// render.
	JobFD  int
	Config Config
	// Rlimits are applied by the child to itself before it opens the input;
	// zero fields are left as inherited.
	Rlimits Rlimits
	// WarmMemory, for a prestarted child (JobFD), is how many bytes of
	// heap it faults in while it waits, at the lowest priority, for its
	// job's first allocations (0: none).
	WarmMemory int64
	// LogLevel is the child's slog level: "debug", "info", "warn" (default)
	// or "error".
	LogLevel string
	// Sandbox is the --sandbox mode the child was started with ("userns"
	// or "UID:GID"; see Sandbox), empty when unconfined. Runner adds the
	// --sandbox flags itself: Args never writes them.
	Sandbox string
}

// Rlimits are the setrlimit(2) values a child applies to itself. Zero means
// leave the limit as inherited.
type Rlimits struct {
	AddressSpace int64 // RLIMIT_AS, bytes
	CPUSeconds   int64 // RLIMIT_CPU soft limit; the hard limit is 5 s more
	FileSize     int64 // RLIMIT_FSIZE, bytes
	OpenFiles    int64 // RLIMIT_NOFILE
	Processes    int64 // RLIMIT_NPROC
}

// Args returns the command-line flags that encode r.
func (r ChildRequest) Args() ([]string, error) {
	cfg, err := json.Marshal(r.Config)
	if err != nil {
		return nil, fmt.Errorf("transcode: encode child config: %w", err)
	}
	args := []string{"--in", r.Input, "--out", r.OutDir, "--config", string(cfg)}
	if r.Share != "" {
		args = []string{"--in", r.Input, "--out", r.Output, "--share", r.Share, "--config", string(cfg)}
	} else if r.JobFD > 0 {
		args = []string{"--job-fd", strconv.Itoa(r.JobFD), "--config", string(cfg)}
	}
	if r.EventsFD > 0 {
		args = append(args, "--events-fd", strconv.Itoa(r.EventsFD))
	}
	add := func(name string, v int64) {
		if v > 0 {
			args = append(args, "--"+name, strconv.FormatInt(v, 10))
		}
	}
	add("limit-as", r.Rlimits.AddressSpace)
	add("limit-cpu", r.Rlimits.CPUSeconds)
	add("limit-fsize", r.Rlimits.FileSize)
	add("limit-nofile", r.Rlimits.OpenFiles)
	add("limit-nproc", r.Rlimits.Processes)
	if r.JobFD > 0 {
		add("warm-memory", r.WarmMemory)
	}
	if r.LogLevel != "" {
		args = append(args, "--log-level", r.LogLevel)
	}
	return args, nil
}

// ParseChildArgs parses the flags of the child (and of `shopclip transcode`),
// the --sandbox ones included (only Sandbox is kept).
// Relative --in, --out and --share are made absolute, for people running
// the command by hand. With --share, --out is the output file (Output);
// without, the out dir (OutDir). Usage errors are written to output.
func ParseChildArgs(args []string, output io.Writer) (ChildRequest, error) {
	var r ChildRequest
	fs := flag.NewFlagSet("transcode", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.Usage = func() {
		fmt.Fprintln(output, "usage: shopclip transcode --in FILE --out DIR [--share SPEC] [--config JSON] [--events-fd N] [--limit-as BYTES] [--limit-cpu SECONDS] [--limit-fsize BYTES] [--limit-nofile N] [--log-level LEVEL]")
		fmt.Fprintln(output, "Transcodes FILE into an HLS ladder in DIR and prints a JSON report on stdout.")
		fmt.Fprintln(output, "With --share, burns the overlays of the share spec SPEC into the MP4 FILE and writes the MP4 file named by --out instead.")
		fs.PrintDefaults()
	}
	fs.StringVar(&r.Input, "in", "", "input media `file`")
	var out string
	fs.StringVar(&out, "out", "", "output `dir` (created if missing); with --share, the output MP4 file")
	fs.StringVar(&r.Share, "share", "", "make a share render of the ShareSpec in this JSON `file` (overlay images beside it)")
	cfg := fs.String("config", "", "transcode.Config as `JSON` (default: DefaultConfig)")
	fs.IntVar(&r.EventsFD, "events-fd", 0, "write progress events as JSON lines to this inherited `fd`")
	fs.IntVar(&r.JobFD, "job-fd", 0, "wait for the input and the out dir on this inherited unix socket `fd`, instead of --in and --out (Runner only)")
	fs.Int64Var(&r.WarmMemory, "warm-memory", 0, "with --job-fd, fault in this many `bytes` of heap while waiting for the job (Runner only)")
	fs.Int64Var(&r.Rlimits.AddressSpace, "limit-as", 0, "RLIMIT_AS in `bytes` (0: inherit)")
	fs.Int64Var(&r.Rlimits.CPUSeconds, "limit-cpu", 0, "RLIMIT_CPU in `seconds` (0: inherit)")
	fs.Int64Var(&r.Rlimits.FileSize, "limit-fsize", 0, "RLIMIT_FSIZE in `bytes` (0: inherit)")
	fs.Int64Var(&r.Rlimits.OpenFiles, "limit-nofile", 0, "RLIMIT_NOFILE (0: inherit)")
	fs.Int64Var(&r.Rlimits.Processes, "limit-nproc", 0, "RLIMIT_NPROC (0: inherit)")
	// The sandbox flags are read by the child before its Go code runs
	// (transcode/ffmpeg); here they are recorded so the child can check
	// its sandbox was set up.
	fs.StringVar(&r.Sandbox, "sandbox", "", "set up the sandbox: `userns` or UID:GID (Runner only)")
	fs.Func("sandbox-mntns", "the parent's mount namespace `inode` (Runner only)", func(string) error { return nil })
	fs.Func("sandbox-ro", "a `path` the sandboxed child may read (Runner only; repeatable)", func(string) error { return nil })
	fs.Func("sandbox-rw", "a `path` the sandboxed child may write (Runner only; repeatable)", func(string) error { return nil })
	fs.StringVar(&r.LogLevel, "log-level", "warn", "log `level` on stderr: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return r, err
	}
	if fs.NArg() > 0 {
		return r, fmt.Errorf("transcode: unexpected arguments %q", fs.Args())
	}
	if r.WarmMemory < 0 || (r.WarmMemory > 0 && r.JobFD == 0) {
		return r, errors.New("transcode: --warm-memory is a number of bytes, with --job-fd only")
	}
	if r.JobFD != 0 {
		if r.Input != "" || out != "" || r.Share != "" || r.JobFD < 0 {
			return r, errors.New("transcode: --job-fd goes without --in, --out and --share")
		}
		return r, r.check(*cfg)
	}
	if r.Input == "" || out == "" {
		fs.Usage()
		return r, errors.New("transcode: --in and --out are required")
	}
	var err error
	if r.Input, err = filepath.Abs(r.Input); err != nil {
		return r, fmt.Errorf("transcode: --in: %w", err)
	}
	if out, err = filepath.Abs(out); err != nil {
		return r, fmt.Errorf("transcode: --out: %w", err)
	}
	if r.Share == "" {
		r.OutDir = out
	} else {
		r.Output = out
		if r.Share, err = filepath.Abs(r.Share); err != nil {
			return r, fmt.Errorf("transcode: --share: %w", err)
		}
	}
	return r, r.check(*cfg)
}

// check decodes the --config JSON cfg into r and checks r's values.
func (r *ChildRequest) check(cfg string) error {
	if cfg != "" {
		dec := json.NewDecoder(strings.NewReader(cfg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r.Config); err != nil {
			return fmt.Errorf("transcode: --config: %w", err)
		}
	}
	if err := r.Config.Validate(); err != nil {
		return err
	}
	if r.Rlimits.AddressSpace < 0 || r.Rlimits.CPUSeconds < 0 || r.Rlimits.FileSize < 0 || r.Rlimits.OpenFiles < 0 || r.Rlimits.Processes < 0 {
		return errors.New("transcode: negative limit")
	}
	switch r.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("transcode: --log-level %q: want debug, info, warn or error", r.LogLevel)
	}
	return nil
}

// InputURL returns the URL to open an input at path with: "file:" and the
// path, which must be absolute, clean and free of control characters. The
// explicit scheme keeps FFmpeg from reading a protocol out of the name
// ("concat:", "http:", "subfile,"…), and only the file protocol is allowed
// anyway.
func InputURL(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("transcode: input %q is not an absolute path", path)
	}
	if filepath.Clean(path) != path {
		return "", fmt.Errorf("transcode: input %q is not a clean path", path)
	}
	if strings.ContainsFunc(path, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", fmt.Errorf("transcode: input %q holds control characters", path)
	}
	return "file:" + path, nil
}

// Duration helpers for flags that carry seconds.
func seconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }
