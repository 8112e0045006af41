package ffmpeg

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/shopclip/shopclip/transcode"
)

// probeParams tell the probe child what to try: the test writes them as
// the job's input.
type probeParams struct {
	Dial     string   `json:"dial"`     // a loopback listener of the test's
	Read     []string `json:"read"`     // files of the host the child must not read
	Write    []string `json:"write"`    // files the child must not create or change
	Announce string   `json:"announce"` // a path of the out dir to announce as a file
	Kill     int      `json:"kill"`     // a host process (the test's) to signal
}

// probeFacts is what the probe child found out from inside its sandbox.
type probeFacts struct {
	Env        []string          `json:"env"`
	Dial       string            `json:"dial"`  // the error; "" when it connected
	Read       map[string]string `json:"read"`  // path → the error, or "read: " and the bytes
	Write      map[string]string `json:"write"` // path → the error; "" when it wrote
	Calls      map[string]string `json:"calls"` // system call → the error; "" when it worked
	Status     map[string]string `json:"status"`
	NPROC      string            `json:"nproc"` // the Max processes line of /proc/self/limits
	Root       []string          `json:"root"`  // the names in /
	Interfaces []string          `json:"interfaces"`
	Wrote      string            `json:"wrote"` // a file it wrote in its out dir
}

// sandboxProbe returns the hook of the probe children: "probechild" tries
// to get out of its sandbox and records what it could do in probe.json in
// its out dir (a share render's job dir), announces params.Announce, and
// reports an empty success; "floodchild" starts OS threads until it cannot,
// recording their number in threads.txt as it goes; "startchild" sends one
// event and reports an empty success.
func sandboxProbe(mode string) func(transcode.ChildRequest) {
	return func(req transcode.ChildRequest) {
		out := req.OutDir
		if req.Share != "" {
			out = filepath.Dir(req.Output)
		}
		if mode == "startchild" {
			// The first event, at once (BenchmarkChildStart).
			os.NewFile(uintptr(req.EventsFD), "events").Write([]byte(`{"kind":"progress"}` + "\n"))
			fmt.Println("{}")
			os.Exit(transcode.ExitOK)
		}
		if mode == "floodchild" {
			floodThreads(filepath.Join(out, "threads.txt"))
			fmt.Println("{}")
			os.Exit(transcode.ExitOK)
		}
		var p probeParams
		b, err := os.ReadFile(req.Input)
		if err == nil {
			err = json.Unmarshal(b, &p)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			os.Exit(transcode.ExitInternal)
		}
		f := probe(p, out)
		if p.Announce != "" {
			ev, _ := json.Marshal(transcode.Event{Kind: transcode.EventFile, Rendition: "720p", Path: p.Announce})
			os.NewFile(uintptr(req.EventsFD), "events").Write(append(ev, '\n'))
		}
		b, _ = json.Marshal(f)
		if err := os.WriteFile(filepath.Join(out, "probe.json"), b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			os.Exit(transcode.ExitInternal)
		}
		fmt.Println("{}")
		os.Exit(transcode.ExitOK)
	}
}

func probe(p probeParams, out string) probeFacts {
	f := probeFacts{Env: os.Environ(), Read: map[string]string{}, Write: map[string]string{}, Calls: map[string]string{}, Status: map[string]string{}}
	errText := func(err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	if c, err := net.DialTimeout("tcp", p.Dial, 2*time.Second); err == nil {
		c.Close()
	} else {
		f.Dial = err.Error()
	}
	for _, path := range p.Read {
		if b, err := os.ReadFile(path); err != nil {
			f.Read[path] = err.Error()
		} else {
			f.Read[path] = "read: " + string(b)
		}
	}
	for _, path := range p.Write {
		file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
		if err == nil {
			_, err = file.Write([]byte("escaped"))
			file.Close()
		}
		f.Write[path] = errText(err)
	}
	f.Wrote = filepath.Join(out, "wrote.txt")
	if err := os.WriteFile(f.Wrote, []byte("inside"), 0o644); err != nil {
		f.Wrote = err.Error()
	}

	f.Calls["symlink"] = errText(os.Symlink("/etc/passwd", filepath.Join(out, "passwd.m4s")))
	f.Calls["link"] = errText(os.Link(f.Wrote, filepath.Join(out, "hard.m4s")))
	f.Calls["socket"] = errText(socketErr())
	f.Calls["fork"] = errText(forkErr())
	f.Calls["execve"] = errText(syscall.Exec("/proc/self/exe", []string{"probe"}, nil))
	f.Calls["ptrace"] = errText(syscall.PtraceAttach(1))
	f.Calls["mount"] = errText(syscall.Mount("none", out, "tmpfs", 0, ""))
	f.Calls["umount"] = errText(syscall.Unmount(out, syscall.MNT_DETACH))
	f.Calls["unshare"] = errText(syscall.Unshare(syscall.CLONE_NEWUSER))
	f.Calls["chroot"] = errText(syscall.Chroot(out))
	f.Calls["kill"] = errText(syscall.Kill(p.Kill, syscall.SIGCONT))

	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			switch k {
			case "Uid", "Gid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp":
				if ok {
					f.Status[k] = strings.Join(strings.Fields(v), " ")
				}
			}
		}
	}
	if file, err := os.Open("/proc/self/limits"); err == nil {
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "Max processes") {
				f.NPROC = strings.Join(strings.Fields(sc.Text()), " ")
			}
		}
		file.Close()
	}
	if ents, err := os.ReadDir("/"); err == nil {
		for _, e := range ents {
			f.Root = append(f.Root, e.Name())
		}
	}
	// (net.Interfaces needs a netlink socket, which seccomp denies.)
	if b, err := os.ReadFile("/proc/self/net/dev"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if name, _, ok := strings.Cut(line, ":"); ok {
				f.Interfaces = append(f.Interfaces, strings.TrimSpace(name))
			}
		}
	}
	return f
}

// socketErr tries to open a socket of each family a process could reach
// something with.
func socketErr() error {
	var errs []error
	for _, family := range []int{syscall.AF_INET, syscall.AF_INET6, syscall.AF_UNIX, syscall.AF_NETLINK} {
		fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err == nil {
			syscall.Close(fd)
			return fmt.Errorf("family %d: a socket was opened", family)
		}
		errs = append(errs, err)
	}
	if !errors.Is(errs[0], syscall.EPERM) {
		return errs[0]
	}
	return syscall.EPERM
}

// forkErr makes a new process the way fork(2) does; one that is made exits
// at once.
func forkErr() error {
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 {
		return errno
	}
	if pid == 0 {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	var ws syscall.WaitStatus
	syscall.Wait4(int(pid), &ws, 0, nil)
	return nil
}

// floodThreads starts OS threads (goroutines locked to their thread,
// blocked in a read) until the process dies of it, writing the number of
// threads to path after each; it gives up after 2,000.
func floodThreads(path string) {
	r, _, err := os.Pipe()
	if err != nil {
		return
	}
	for range 2000 {
		go func() {
			runtime.LockOSThread()
			var b [1]byte
			syscall.Read(int(r.Fd()), b[:])
		}()
		time.Sleep(2 * time.Millisecond)
		if b, err := os.ReadFile("/proc/self/status"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if n, ok := strings.CutPrefix(line, "Threads:"); ok {
					os.WriteFile(path, []byte(strings.TrimSpace(n)), 0o644)
				}
			}
		}
	}
}
