// Package scripts holds the tests of the set-up scripts: their cold paths
// (an empty cache, missing packages, a flaky network, a failed build) run on
// every `make test` with command stubs standing in for apt-get and go, so a
// script that stops silently on a fresh machine fails here first; and
// shellcheck over every script.
package scripts

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopclip/shopclip/internal/testenv"
)

// minioVersion is the MinIO version scripts/deps.sh pins; the test reads it
// from the script so the two cannot drift apart.
func minioVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("deps.sh")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MINIO_VERSION="); ok {
			return v
		}
	}
	t.Fatal("deps.sh sets no MINIO_VERSION")
	return ""
}

// stubs describes the commands a deps.sh run sees in place of the machine's.
type stubs struct {
	missing      string // a package dpkg-query reports as not installed ("" for none)
	aptUpdate    []int  // exit status of each apt-get update call in turn (0 after the list)
	aptInstall   []int  // likewise for apt-get install
	goInstall    []int  // likewise for go install
	buildWrites  string // what go install writes as the minio binary: "ok", "broken" (does not run), "" (nothing)
	builtVersion string // the version `go version -m` reports of a written binary
}

// run runs scripts/deps.sh --test with the stubs first on PATH and an empty
// cache, and returns its combined output, its error and the stubs' call log.
func (s stubs) run(t *testing.T, cache string) (out string, err error, calls []string) {
	t.Helper()
	bin := t.TempDir()
	log := filepath.Join(bin, "calls.log")
	// counter NAME: the 1-based number of this call to NAME, kept in files
	// beside the log.
	common := fmt.Sprintf(`log=%q
n() { c=$(cat "$log.$1" 2>/dev/null || echo 0); c=$((c + 1)); echo "$c" >"$log.$1"; echo "$c"; }
# status NAME CODE...: the CODE for this call to NAME (the first call gets the first), 0 past the list
status() { local i; i=$(n "$1"); shift; eval "echo \${$i:-0}"; }
`, log)
	script := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/bash\n"+common+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	list := func(xs []int) string {
		var b strings.Builder
		for _, x := range xs {
			fmt.Fprintf(&b, " %d", x)
		}
		return b.String()
	}
	script("dpkg-query", fmt.Sprintf(`pkg=${!#}
if [ "$pkg" = %q ]; then echo -n "unknown ok not-installed"; else echo -n "install ok installed"; fi
`, s.missing))
	script("apt-get", fmt.Sprintf(`echo "apt-get $*" >>"$log"
case " $* " in
  *" update "*) st=$(status update%s) ;;
  *" install "*) st=$(status install%s) ;;
  *) st=0 ;;
esac
if [ "$st" != 0 ]; then echo "E: stub apt-get $1 failure $st" >&2; fi
exit "$st"
`, list(s.aptUpdate), list(s.aptInstall)))
	script("pkg-config", `case $1 in --exists) exit 0 ;; --modversion) echo 59.27.100 ;; esac`+"\n")
	var written string
	switch s.buildWrites {
	case "ok":
		written = `printf '#!/bin/sh\necho "minio version stub"\n' >"$GOBIN/minio"; chmod +x "$GOBIN/minio"`
	case "broken":
		written = `printf '#!/bin/sh\nexit 3\n' >"$GOBIN/minio"; chmod +x "$GOBIN/minio"`
	}
	script("go", fmt.Sprintf(`echo "go $* GOBIN=${GOBIN:-}" >>"$log"
case $1 in
  install)
    st=$(status goinstall%s)
    if [ "$st" != 0 ]; then echo "go: stub module download failure $st" >&2; exit "$st"; fi
    %s ;;
  version) [ -f "$3" ] && printf '%%s: go1.26\n\tmod\tgithub.com/minio/minio\t%s\th1:x\n' "$3" ;;
  env) echo https://proxy.golang.org ;;
  mod) ;;
  *) echo "go stub: unexpected $*" >&2; exit 2 ;;
esac
`, list(s.goInstall), written, s.builtVersion))

	cmd := exec.Command("bash", "deps.sh", "--test")
	cmd.Env = append(os.Environ(),
		"PATH="+bin+":"+os.Getenv("PATH"),
		"SHOPCLIP_TEST_CACHE="+cache,
		"SHOPCLIP_DEPS_RETRY_PAUSE=0",
	)
	b, err := cmd.CombinedOutput()
	logged, _ := os.ReadFile(log)
	return string(b), err, strings.Split(strings.TrimSpace(string(logged)), "\n")
}

func count(calls []string, prefix string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// TestDepsColdCache is the defect of issue 8: with an empty cache, deps.sh
// must reach the MinIO build, verify what it built, and exit 0; a second run
// finds the build and does nothing.
func TestDepsColdCache(t *testing.T) {
	want := minioVersion(t)
	cache := filepath.Join(t.TempDir(), "empty")
	s := stubs{buildWrites: "ok", builtVersion: want}
	out, err, calls := s.run(t, cache)
	if err != nil {
		t.Fatalf("deps.sh --test on an empty cache: %v\n%s", err, out)
	}
	install := "go install github.com/minio/minio@" + want + " GOBIN=" + filepath.Join(cache, "bin")
	if got := count(calls, install); got != 1 {
		t.Errorf("calls of %q: got %d, want 1; calls:\n%s", install, got, strings.Join(calls, "\n"))
	}
	if got := count(calls, "go version -m "+filepath.Join(cache, "bin", "minio")); got == 0 {
		t.Errorf("the built binary's version was never checked; calls:\n%s", strings.Join(calls, "\n"))
	}
	if !strings.Contains(out, "MinIO "+want+" built at") || !strings.HasSuffix(out, "deps: ok\n") {
		t.Errorf("output does not report the build and end with deps: ok:\n%s", out)
	}
	if got := count(calls, "apt-get"); got != 0 {
		t.Errorf("apt-get called with every package installed: %d times", got)
	}

	out, err, calls = s.run(t, cache)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	if got := count(calls, "go install"); got != 0 {
		t.Errorf("second run rebuilt MinIO (%d go install calls); want the cached build kept", got)
	}
}

// depsCase is one run of deps.sh: the stubs it sees, whether it should
// succeed, what its output must contain and how often each stubbed command
// (by prefix of its logged line) must have been called.
type depsCase struct {
	name      string
	stubs     stubs
	ok        bool
	wantOut   []string
	wantCalls map[string]int
}

// TestDepsFailures checks that every failure of the set-up path exits
// non-zero, shows the failing tool's own error, says what failed, and that
// flaky steps are tried exactly twice.
func TestDepsFailures(t *testing.T) {
	want := minioVersion(t)
	root := os.Geteuid() == 0
	tests := []depsCase{
		{
			name:      "go install flaky once",
			stubs:     stubs{goInstall: []int{1}, buildWrites: "ok", builtVersion: want},
			ok:        true,
			wantOut:   []string{"stub module download failure 1", "the MinIO build failed; trying once more", "deps: ok"},
			wantCalls: map[string]int{"go install": 2},
		},
		{
			name:      "go install fails twice",
			stubs:     stubs{goInstall: []int{1, 1}, buildWrites: "ok", builtVersion: want},
			wantOut:   []string{"stub module download failure 1", "deps: building MinIO failed"},
			wantCalls: map[string]int{"go install": 2},
		},
		{
			name:      "go install writes nothing",
			stubs:     stubs{builtVersion: want},
			wantOut:   []string{"missing or not a MinIO build"},
			wantCalls: map[string]int{"go install": 1},
		},
		{
			name:      "go install writes another version",
			stubs:     stubs{buildWrites: "ok", builtVersion: "v0.0.0-old"},
			wantOut:   []string{"is MinIO v0.0.0-old, not " + want},
			wantCalls: map[string]int{"go install": 1},
		},
		{
			name:      "built binary does not run",
			stubs:     stubs{buildWrites: "broken", builtVersion: want},
			wantOut:   []string{"was built but does not run"},
			wantCalls: map[string]int{"go install": 1},
		},
	}
	if root {
		tests = append(tests,
			depsCase{
				name:      "apt-get update flaky once",
				stubs:     stubs{missing: "shellcheck", aptUpdate: []int{100}, buildWrites: "ok", builtVersion: want},
				ok:        true,
				wantOut:   []string{"installing shellcheck", "E: stub apt-get update failure 100", "apt-get update failed; trying once more", "deps: ok"},
				wantCalls: map[string]int{"apt-get update": 2, "apt-get install": 1, "go install": 1},
			},
			depsCase{
				name:      "apt-get install fails twice",
				stubs:     stubs{missing: "postgresql", aptInstall: []int{100, 100}},
				wantOut:   []string{"E: stub apt-get install failure 100", "deps: apt-get install postgresql failed"},
				wantCalls: map[string]int{"apt-get update": 1, "apt-get install": 2, "go install": 0},
			})
	} else {
		tests = append(tests, depsCase{
			name:      "missing package without root",
			stubs:     stubs{missing: "postgresql"},
			wantOut:   []string{"sudo apt-get install -y postgresql"},
			wantCalls: map[string]int{"apt-get": 0, "go install": 0},
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err, calls := tt.stubs.run(t, t.TempDir())
			if tt.ok && err != nil {
				t.Fatalf("deps.sh failed: %v\n%s", err, out)
			}
			if !tt.ok && err == nil {
				t.Fatalf("deps.sh exited 0; want a failure\n%s", out)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for prefix, n := range tt.wantCalls {
				if got := count(calls, prefix); got != n {
					t.Errorf("calls of %q: got %d, want %d; calls:\n%s", prefix, got, n, strings.Join(calls, "\n"))
				}
			}
		})
	}
}

// TestShellcheck runs shellcheck over every script; a warning it finds must
// be fixed, or justified in place with a disable directive and a reason.
func TestShellcheck(t *testing.T) {
	sc := testenv.Tool(t, "shellcheck")
	// From the repository's root, as the scripts run (they source
	// scripts/lib-bench.sh by that path).
	files, err := fs.Glob(os.DirFS(".."), "scripts/*.sh")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, ".ci/run")
	if len(files) < 2 {
		t.Fatalf("found no scripts: %v", files)
	}
	cmd := exec.Command(sc, append([]string{"--external-sources"}, files...)...)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("shellcheck %s: %v\n%s", strings.Join(files, " "), err, out)
	}
}
