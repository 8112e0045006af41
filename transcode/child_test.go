package transcode

import (
	"io"
	"reflect"
	"testing"
	"time"
)

func TestChildArgsRoundTrip(t *testing.T) {
	for _, req := range []ChildRequest{
		{
			Input:    "/jobs/j1/input.mp4",
			OutDir:   "/jobs/j1/out",
			EventsFD: 3,
			Config:   Config{Preset: "ultrafast", KeyframeInterval: time.Second, Rungs: []RungConfig{{ShortSide: 480, MaxRate: 1e6}}},
			Rlimits:  Rlimits{AddressSpace: 6 << 30, CPUSeconds: 1800, FileSize: 2 << 30, OpenFiles: 256},
			LogLevel: "info",
		},
		{
			Input:    "/jobs/j1/clip.mp4",
			Output:   "/jobs/j1/share.mp4",
			Share:    "/jobs/j1/.share-spec-1.json",
			EventsFD: 3,
			Rlimits:  Rlimits{AddressSpace: 6 << 30},
			LogLevel: "info",
		},
		{ // prestarted: the job comes later
			JobFD:    4,
			EventsFD: 3,
			Rlimits:  Rlimits{AddressSpace: 6 << 30},
			LogLevel: "debug",
		},
		{ // prestarted, warming memory for its job
			JobFD:      4,
			EventsFD:   3,
			WarmMemory: 256 << 20,
			LogLevel:   "debug",
		},
	} {
		args, err := req.Args()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseChildArgs(args, io.Discard)
		if err != nil {
			t.Fatalf("ParseChildArgs(%q): %v", args, err)
		}
		if !reflect.DeepEqual(got, req) {
			t.Errorf("round trip:\ngot  %+v\nwant %+v", got, req)
		}
	}
	// A share render by hand: --out is the output file, relative paths are
	// made absolute.
	r, err := ParseChildArgs([]string{"--in", "clip.mp4", "--out", "share.mp4", "--share", "spec.json"}, io.Discard)
	if err != nil || r.OutDir != "" || r.Output[0] != '/' || r.Share[0] != '/' || r.Input[0] != '/' {
		t.Errorf("relative share paths: %+v, %v", r, err)
	}
}

func TestParseChildArgsRejects(t *testing.T) {
	for name, args := range map[string][]string{
		"no input":           {"--out", "/o"},
		"no out":             {"--in", "/i.mp4"},
		"unknown flag":       {"--in", "/i", "--out", "/o", "--bogus"},
		"extra argument":     {"--in", "/i", "--out", "/o", "extra"},
		"unknown config":     {"--in", "/i", "--out", "/o", "--config", `{"presett":"fast"}`},
		"invalid config":     {"--in", "/i", "--out", "/o", "--config", `{"crf":99}`},
		"negative limit":     {"--in", "/i", "--out", "/o", "--limit-as", "-1"},
		"bad log level":      {"--in", "/i", "--out", "/o", "--log-level", "loud"},
		"malformed config":   {"--in", "/i", "--out", "/o", "--config", `{`},
		"limit not numeric":  {"--in", "/i", "--out", "/o", "--limit-cpu", "ten"},
		"job fd and input":   {"--job-fd", "4", "--in", "/i"},
		"job fd and out":     {"--job-fd", "4", "--out", "/o"},
		"job fd and share":   {"--job-fd", "4", "--share", "/s.json"},
		"negative job fd":    {"--job-fd", "-4"},
		"job fd, bad config": {"--job-fd", "4", "--config", `{"crf":99}`},
		"warm memory alone":  {"--in", "/i", "--out", "/o", "--warm-memory", "1048576"},
		"negative warm":      {"--job-fd", "4", "--warm-memory", "-1"},
	} {
		if _, err := ParseChildArgs(args, io.Discard); err == nil {
			t.Errorf("%s: ParseChildArgs(%q) = nil error", name, args)
		}
	}
	// Relative paths (a person at a shell) are made absolute.
	r, err := ParseChildArgs([]string{"--in", "clip.mp4", "--out", "out"}, io.Discard)
	if err != nil || r.Input[0] != '/' || r.OutDir[0] != '/' {
		t.Errorf("relative paths: %+v, %v", r, err)
	}
}

// TestInputURL checks the string handed to avformat_open_input is always an
// explicit file: URL of an absolute, clean path (RELIABILITY B2).
func TestInputURL(t *testing.T) {
	good := map[string]string{
		"/jobs/j1/input.mp4":     "file:/jobs/j1/input.mp4",
		"/jobs/j1/concat:a|b":    "file:/jobs/j1/concat:a|b",
		"/jobs/j1/http:x.mp4":    "file:/jobs/j1/http:x.mp4",
		"/jobs/j1/a b?c#d.mp4":   "file:/jobs/j1/a b?c#d.mp4",
		"/jobs/j1/subfile,,x.ts": "file:/jobs/j1/subfile,,x.ts",
	}
	for in, want := range good {
		if got, err := InputURL(in); err != nil || got != want {
			t.Errorf("InputURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"input.mp4", "concat:/a|/b", "http://127.0.0.1/x.m3u8", "file:/etc/passwd", "pipe:0",
		"/jobs/j1/../j2/input.mp4", "/jobs//j1/input.mp4", "/jobs/j1/input.mp4/", "/jobs/j1/in\nput.mp4", "",
	} {
		if got, err := InputURL(in); err == nil {
			t.Errorf("InputURL(%q) = %q, want an error", in, got)
		}
	}
}
