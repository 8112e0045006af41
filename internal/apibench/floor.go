package apibench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Capture is one answer of shopclip's, as the floor repeats it.
type Capture struct {
	Method string
	Path   string // without the query
	Status int
	// ContentType and Location are the answer's headers of those names
	// ("" when absent).
	ContentType string
	Location    string
	Body        []byte
}

// FloorHandler answers each captured method and path with its capture's
// status, Content-Type, Location and body, from memory, and anything else
// with 404. It reads request bodies whole, as shopclip must.
func FloorHandler(caps []Capture) http.Handler {
	type answer struct {
		ct, loc, length []string
		status          int
		body            []byte
	}
	answers := map[string]*answer{}
	for _, c := range caps {
		a := &answer{status: c.Status, body: c.Body, length: []string{strconv.Itoa(len(c.Body))}}
		if c.ContentType != "" {
			a.ct = []string{c.ContentType}
		}
		if c.Location != "" {
			a.loc = []string{c.Location}
		}
		answers[c.Method+" "+c.Path] = a
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[r.Method+" "+r.URL.Path]
		if a == nil {
			http.NotFound(w, r)
			return
		}
		if r.Body != nil {
			io.Copy(io.Discard, r.Body)
		}
		h := w.Header()
		if a.ct != nil {
			h["Content-Type"] = a.ct
		}
		if a.loc != nil {
			h["Location"] = a.loc
		}
		h["Content-Length"] = a.length
		w.WriteHeader(a.status)
		w.Write(a.body)
	})
}

// EnvFloor names the file of captures (JSON) when the test binary runs as
// the floor: TestMain calls ServeFloor then.
const EnvFloor = "APIBENCH_FLOOR"

// floorBanner starts the line the floor prints with its address.
const floorBanner = "floor listening on "

// ServeFloor is the floor process: it reads the captures in file, listens
// on 127.0.0.1 (a free port), prints its address to stdout and serves
// until SIGTERM or SIGINT.
func ServeFloor(file string, stdout io.Writer) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var caps []Capture
	if err := json.Unmarshal(b, &caps); err != nil {
		return fmt.Errorf("apibench: floor: %s: %w", file, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: FloorHandler(caps), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintf(stdout, "%s%s\n", floorBanner, l.Addr())
	if err := srv.Serve(l); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// StartFloor runs the floor in a process of its own (this test binary
// again, with EnvFloor set) so that it shares no runtime with the load
// generator, as shopclip does not, and returns its base URL. It stops when
// tb ends.
func StartFloor(tb testing.TB, caps []Capture) string {
	tb.Helper()
	dir := tb.TempDir()
	b, err := json.Marshal(caps)
	if err != nil {
		tb.Fatal(err)
	}
	file := dir + "/captures.json"
	if err := os.WriteFile(file, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), EnvFloor+"="+file)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stopCmd(cmd) })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), floorBanner); ok {
				line <- addr
			}
		}
		close(line)
	}()
	select {
	case addr, ok := <-line:
		if !ok {
			tb.Fatalf("apibench: the floor exited without listening")
		}
		return "http://" + addr
	case <-time.After(30 * time.Second):
		tb.Fatalf("apibench: the floor did not listen within 30s")
	}
	return ""
}

// stopCmd ends a process started in its own group: SIGTERM, then SIGKILL
// after 10 s.
func stopCmd(cmd *exec.Cmd) {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}
