package ffmpeg

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shopclip/shopclip"
	"github.com/shopclip/shopclip/internal/testenv"
	"github.com/shopclip/shopclip/transcode"
)

// systemPaths are what any process of this binary opens besides its job:
// the dynamic loader's and libraries' files (libgcrypt, linked by
// libavformat's TLS support, reads its config when loaded), and what the Go
// runtime and libav read about the machine.
var systemPaths = []string{"/etc/ld.so.cache", "/etc/gcrypt/", "/lib/", "/lib64/", "/usr/lib/", "/proc/", "/sys/", "/dev/null"}

var openRE = regexp.MustCompile(`^\d+\s+(open|openat|connect)\((?:AT_FDCWD, )?(?:"([^"]*)")?`)

// TestChildReadsOnlyItsJobDir runs the sandboxed child under strace
// (RELIABILITY B1, B8): for a real clip and for an HLS playlist posing as an
// MP4 that names another tenant's file, and for an AVI carrying that
// playlist in a GAB2 subtitle, the child opens nothing outside its job dir
// but system files, never the other tenant's, and connects nowhere.
func TestChildReadsOnlyItsJobDir(t *testing.T) {
	testenv.Tool(t, "strace")
	root := t.TempDir()
	job, tenant := filepath.Join(root, "job1"), filepath.Join(root, "job2")
	for _, d := range []string{job, tenant} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := generate(t, "-f", "lavfi", "-i", "testsrc=s=64x64:d=1", "-c:v", "libx264", "-preset", "ultrafast", "-f", "mpegts", filepath.Join(tenant, "secret.ts"))
	clip, err := os.ReadFile(media(t, "h264_noaudio_480x270_koala.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	playlist := "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n" + secret + "\n#EXTINF:1,\n../job2/secret.ts\n#EXT-X-ENDLIST\n"
	inputs := map[string][]byte{
		"clip.mp4": clip,
		"evil.mp4": []byte(playlist),
		// An accepted AVI whose GAB2 subtitle holds the playlist: it
		// transcodes, and the playlist opens nothing (TestHostileAVIGAB2).
		"gab2.avi": buildAVI(t, aviFile{w: 64, h: 48, fps: 10, frames: 10, sub: gab2("English", []byte(playlist))}),
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			in := filepath.Join(job, name)
			if err := os.WriteFile(in, data, 0o644); err != nil {
				t.Fatal(err)
			}
			trace := filepath.Join(root, name+".strace")
			r := testRunner(t, "child")
			r.Command = []string{"strace", "-f", "-qq", "-e", "trace=open,openat,connect", "-o", trace, os.Args[0], "child"}
			_, err := r.Run(context.Background(), transcode.Job{Input: in, OutDir: filepath.Join(job, "out-"+name)})
			if name == "evil.mp4" {
				if shopclip.ErrorCode(err) != shopclip.EMEDIAFORMAT {
					t.Errorf("hostile input: %v, want %s", err, shopclip.EMEDIAFORMAT)
				}
			} else if err != nil {
				t.Fatalf("Run: %v", err)
			}
			f, err := os.Open(trace)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			opens := 0
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				m := openRE.FindStringSubmatch(sc.Text())
				if m == nil {
					continue
				}
				if m[1] == "connect" {
					t.Errorf("the child connected somewhere: %s", sc.Text())
					continue
				}
				path := m[2]
				opens++
				if strings.HasPrefix(path, tenant) || strings.Contains(path, "secret") {
					t.Errorf("the child opened another tenant's file: %s", sc.Text())
				}
				if !strings.HasPrefix(path, job+"/") && path != job && !hasPrefix(path, systemPaths) {
					t.Errorf("the child opened %q, outside its job dir", path)
				}
			}
			if opens == 0 {
				t.Fatalf("no opens traced: is strace working? %s", readHead(trace))
			}
		})
	}
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func readHead(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 500))
	return string(b)
}

// sandboxCheck reports whether this machine gives processes the sandbox's
// namespaces (unprivileged user namespaces when not root).
var sandboxCheck = sync.OnceValue(func() error {
	flags := "-mpniuf"
	if os.Geteuid() != 0 {
		flags = "-Urmpniuf"
	}
	if out, err := exec.Command("unshare", flags, "true").CombinedOutput(); err != nil {
		return fmt.Errorf("unshare %s: %v: %s", flags, err, out)
	}
	return nil
})

// requireSandbox skips t (fails it under CI=true) when the machine cannot
// sandbox the child.
func requireSandbox(t *testing.T) {
	t.Helper()
	if err := sandboxCheck(); err != nil {
		testenv.Unavailable(t, "no namespaces for the transcode sandbox: %v", err)
	}
}

// TestSandbox runs the probe child, a transcode's and a share render's, in
// its sandbox (RELIABILITY B8): from inside it tries to reach a loopback
// listener, to read the parent's environment, another job's input, the
// database and host files, to write outside its out dir and over its
// input, to make links, sockets and processes, to exec, ptrace, mount,
// unshare, chroot and signal the parent; and it reports its capabilities,
// seccomp mode, environment, RLIMIT_NPROC, root directory and network
// interfaces. A symbolic link it announces as a segment is not passed on.
func TestSandbox(t *testing.T) {
	requireSandbox(t)
	t.Setenv("SHOPCLIP_TEST_SECRET", "hunter2")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()

	for _, mode := range []string{"transcode", "share"} {
		t.Run(mode, func(t *testing.T) {
			data := t.TempDir()
			job, other := filepath.Join(data, "work", "clip1-a"), filepath.Join(data, "work", "clip2-a")
			out := filepath.Join(job, "out")
			for _, d := range []string{out, other} {
				if err := os.MkdirAll(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			for name, content := range map[string]string{
				filepath.Join(other, "source"):     "another tenant's secret video",
				filepath.Join(data, "shopclip.db"): "SQLite format 3\x00 secret rows",
			} {
				if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink("/etc/passwd", filepath.Join(out, "link.m4s")); err != nil {
				t.Fatal(err)
			}
			input := filepath.Join(job, "source")
			p := probeParams{
				Dial: ln.Addr().String(),
				Read: []string{"/proc/1/environ", fmt.Sprintf("/proc/%d/environ", os.Getpid()), filepath.Join(other, "source"),
					filepath.Join(data, "shopclip.db"), "/etc/passwd", filepath.Join(out, "link.m4s")},
				Write: []string{filepath.Join(data, "escape.txt"), filepath.Join(other, "escape.txt"), "/tmp/shopclip-escape.txt", input},
				Kill:  os.Getpid(),
			}
			if mode == "transcode" {
				p.Write = append(p.Write, filepath.Join(job, "escape.txt"))
				p.Announce = "link.m4s"
			}
			params, _ := json.Marshal(p)
			if err := os.WriteFile(input, params, 0o600); err != nil {
				t.Fatal(err)
			}

			r := testRunner(t, "probechild")
			if r.Sandbox.Off {
				t.Fatal("the sandbox is off")
			}
			var events []transcode.Event
			factsDir := out
			if mode == "transcode" {
				_, err = r.Run(context.Background(), transcode.Job{Input: input, OutDir: out, OnEvent: func(ev transcode.Event) { events = append(events, ev) }})
			} else {
				factsDir = job
				_, err = r.Share(context.Background(), job, "source", "share.mp4", transcode.ShareSpec{})
			}
			if err != nil {
				t.Fatalf("probe child: %v", err)
			}
			b, err := os.ReadFile(filepath.Join(factsDir, "probe.json"))
			if err != nil {
				t.Fatal(err)
			}
			var f probeFacts
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}

			if !slices.Equal(f.Env, transcode.ChildEnvironment) {
				t.Errorf("the child's environment is %q, want only %q", f.Env, transcode.ChildEnvironment)
			}
			if f.Dial == "" || accepted.Load() != 0 {
				t.Errorf("the child dialed a loopback listener: error %q, %d connections accepted", f.Dial, accepted.Load())
			}
			for _, path := range p.Read {
				got := f.Read[path]
				switch {
				case strings.Contains(got, "secret") || strings.Contains(got, "hunter2") || strings.Contains(got, "root:"):
					t.Errorf("the child read %s: %q", path, got)
				case path == "/proc/1/environ" && strings.HasPrefix(got, "read: ") &&
					strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(got, "read: "), "\x00"), "\x00", ":") == strings.Join(transcode.ChildEnvironment, ":"):
					// The sandbox's own init (the child), whose environment
					// is ChildEnvironment alone (glibc splits the tunables
					// in place).
				case !strings.Contains(got, "no such file") && !strings.Contains(got, "permission denied"):
					t.Errorf("the child reading %s: %q, want no such file or permission denied", path, got)
				}
			}
			for _, path := range p.Write {
				if got := f.Write[path]; !strings.Contains(got, "read-only file system") && !strings.Contains(got, "no such file") {
					t.Errorf("the child writing %s: %q, want read-only file system or no such file", path, got)
				}
				if path != input {
					if _, err := os.Lstat(path); err == nil {
						t.Errorf("the child created %s", path)
					}
				}
			}
			if b, err := os.ReadFile(input); err != nil || string(b) != string(params) {
				t.Errorf("the input changed: %q, %v", b, err)
			}
			for call, got := range f.Calls {
				want := "operation not permitted"
				if call == "kill" {
					want = "no such process"
				}
				if !strings.HasSuffix(got, want) {
					t.Errorf("%s from the child: %q, want %q", call, got, want)
				}
			}
			for _, name := range []string{"passwd.m4s", "hard.m4s"} {
				if _, err := os.Lstat(filepath.Join(factsDir, name)); err == nil {
					t.Errorf("the child made the link %s", name)
				}
			}
			for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
				if f.Status[k] != "0000000000000000" {
					t.Errorf("child %s = %q, want no capabilities", k, f.Status[k])
				}
			}
			if f.Status["NoNewPrivs"] != "1" || f.Status["Seccomp"] != "2" {
				t.Errorf("child NoNewPrivs %q, Seccomp %q; want 1 and 2 (filter)", f.Status["NoNewPrivs"], f.Status["Seccomp"])
			}
			if want := "Max processes 256 256 processes"; f.NPROC != want {
				t.Errorf("child RLIMIT_NPROC: %q, want %q", f.NPROC, want)
			}
			top := strings.Split(data, "/")[1]
			if fmt.Sprint(f.Root) != fmt.Sprint([]string{"proc", top}) {
				t.Errorf("the child's / holds %v, want only proc and %s (the way to its job)", f.Root, top)
			}
			if fmt.Sprint(f.Interfaces) != "[lo]" {
				t.Errorf("child network interfaces %q, want only lo", f.Interfaces)
			}

			// What the child writes is its host user's: the Runner's, or the
			// sandbox's uid when the Runner is root.
			fi, err := os.Lstat(f.Wrote)
			if err != nil {
				t.Fatalf("the child could not write in its out dir: %v", err)
			}
			wantUID := os.Getuid()
			if wantUID == 0 {
				wantUID = 65534
			}
			if uid := int(fi.Sys().(*syscall.Stat_t).Uid); uid != wantUID {
				t.Errorf("the child's file belongs to uid %d on the host, want %d", uid, wantUID)
			}
			for _, ev := range events {
				if ev.Path == "link.m4s" {
					t.Errorf("the symbolic link the child announced was passed on: %+v", ev)
				}
			}
		})
	}
}

// TestSandboxThreadLimit checks RLIMIT_NPROC holds in the sandbox (B7): a
// child starting threads without end is stopped near the limit, reported
// as a resource limit.
func TestSandboxThreadLimit(t *testing.T) {
	requireSandbox(t)
	in := filepath.Join(t.TempDir(), "in.mp4")
	if err := os.WriteFile(in, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	r := testRunner(t, "floodchild")
	r.Limits.Processes = 48
	var logs testenv.SyncBuffer
	r.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, runErr := r.Run(context.Background(), transcode.Job{Input: in, OutDir: out})
	if shopclip.ErrorCode(runErr) != shopclip.EMEDIALIMIT {
		t.Errorf("thread flood: %v, want %s\n%s", runErr, shopclip.EMEDIALIMIT, lastN(logs.String(), 3000))
	}
	b, err := os.ReadFile(filepath.Join(out, "threads.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(string(b))
	t.Logf("the flood stopped at %d threads: %v", n, runErr)
	if n < 8 || n > 48 {
		t.Errorf("the flood stopped at %d threads, want between 8 and the limit, 48", n)
	}
}

// TestSandboxUnprivileged runs the sandbox's tests again as an unprivileged
// user (nobody) when this test runs as root, so the unprivileged path (the
// child in a user namespace the Runner's uid makes) is tested on every
// machine.
func TestSandboxUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root: the other tests ran the unprivileged path")
	}
	setpriv := testenv.Tool(t, "setpriv")
	// (t.TempDir's parent is root's alone.)
	tmp, err := os.MkdirTemp("", "sandbox-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	if err := os.Chown(tmp, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	// A copy of this test binary nobody may run (go test's build dir is
	// root's alone), run with no capability left.
	bin := filepath.Join(tmp, "ffmpeg.test")
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
		bin, "-test.run=^(TestSandbox|TestSandboxThreadLimit|TestRunnerVerticalPhone)$", "-test.count=1", "-test.v")
	cmd.Env = []string{"TMPDIR=" + tmp, "HOME=" + tmp, "CI=" + os.Getenv("CI"), "PATH=" + os.Getenv("PATH")}
	if dir := os.Getenv(testenv.EnvMedia); dir != "" {
		cmd.Env = append(cmd.Env, testenv.EnvMedia+"="+dir)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	// (TestRunnerVerticalPhone may skip without the media corpus.)
	for _, name := range []string{"TestSandbox/transcode", "TestSandbox/share", "TestSandboxThreadLimit"} {
		if !strings.Contains(string(out), "--- PASS: "+name+" ") {
			t.Errorf("as nobody, %s did not pass:\n%s", name, out)
		}
	}
}

func lastN(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// BenchmarkChildStart measures what the sandbox adds to a job's start: the
// time from Run to the child's first event (the child's namespaces, its
// root, capabilities, seccomp), with the sandbox and without.
func BenchmarkChildStart(b *testing.B) {
	in := filepath.Join(b.TempDir(), "in.mp4")
	if err := os.WriteFile(in, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, off := range []bool{false, true} {
		name := "sandbox"
		if off {
			name = "off"
		}
		b.Run(name, func(b *testing.B) {
			r := &transcode.Runner{Command: []string{os.Args[0], "startchild"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			r.Sandbox.Off = off
			var first time.Duration
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				var once sync.Once
				_, err := r.Run(context.Background(), transcode.Job{Input: in, OutDir: filepath.Join(b.TempDir(), "out"),
					OnEvent: func(transcode.Event) { once.Do(func() { first += time.Since(start) }) }})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(first.Microseconds())/float64(b.N)/1000, "ms-to-first-event")
		})
	}
}
