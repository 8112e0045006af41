package transcode

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Sandbox says how a Runner isolates its children (RELIABILITY B8). The
// zero value is the full sandbox:
//
//   - new user, mount, PID, network, IPC and UTS namespaces: no network at
//     all (not even loopback), no other process visible, and a root of its
//     own holding only the job's files (the input read-only, the out dir
//     writable) and a /proc of its PID namespace;
//   - an unprivileged user: when the Runner's process is not root, the
//     child is uid 0 of its user namespace, which is the Runner's uid on
//     the host (unprivileged user namespaces); when it is root, the child
//     becomes UID:GID on the host before entering a user namespace of its
//     own, and the Runner hands it the job's out dir (and the job's own
//     unreadable inputs) first;
//   - no capabilities, no_new_privs, and a seccomp filter (no sockets, no
//     new processes but threads, no exec, ptrace, mounts, namespaces, kernel
//     keyring, BPF, perf or module calls, no links);
//   - an empty environment and rlimits (Limits), RLIMIT_NPROC included.
//
// The child sets its sandbox up itself (transcode/ffmpeg, before the Go
// runtime starts) from the --sandbox flags of ChildRequest. When the kernel
// refuses the namespaces, or the child cannot complete its setup, the job
// fails with an internal error (an infrastructure problem, never a verdict
// on the video): there is no silent fallback.
type Sandbox struct {
	// Off runs children with none of the above but their rlimits, their
	// own process group and an empty environment. For development only,
	// on machines without user namespaces: a child then reads whatever
	// the worker can and reaches the network.
	Off bool
	// UID and GID are the host ids a child runs as when the Runner's
	// process is root. Default 65534 (nobody); a uid of its own (unused by
	// anything else) is better. Never 0.
	UID, GID int
}

// mounts are the paths a sandboxed child sees, bound at the same absolute
// paths: rw ones first (in order), then ro ones (which may be inside an
// rw one).
type mounts struct {
	rw []string
	ro []string
}

// sandboxArgs returns the child's --sandbox flags for m, after preparing
// the files for the child's uid when the Runner is root; nil when the
// sandbox is off.
func (s Sandbox) sandboxArgs(m mounts) ([]string, error) {
	if s.Off {
		return nil, nil
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/ns/mnt", &st); err != nil {
		return nil, fmt.Errorf("transcode: sandbox: own mount namespace: %w", err)
	}
	mode := "userns"
	if os.Geteuid() == 0 {
		uid, gid := s.ids()
		if uid == 0 || gid == 0 {
			return nil, errors.New("transcode: sandbox: the child's uid and gid must not be 0")
		}
		if err := grant(m, uid, gid); err != nil {
			return nil, err
		}
		mode = strconv.Itoa(uid) + ":" + strconv.Itoa(gid)
	}
	args := []string{"--sandbox", mode, "--sandbox-mntns", strconv.FormatUint(st.Ino, 10)}
	for _, p := range m.rw {
		if err := checkMountPath(p); err != nil {
			return nil, err
		}
		args = append(args, "--sandbox-rw", p)
	}
	for _, p := range m.ro {
		if err := checkMountPath(p); err != nil {
			return nil, err
		}
		args = append(args, "--sandbox-ro", p)
	}
	return args, nil
}

// grantJob prepares m for the child's uid when the Runner is root and
// sandboxed (as sandboxArgs does), for a prestarted child given its job.
func (s Sandbox) grantJob(m mounts) error {
	if s.Off || os.Geteuid() != 0 {
		return nil
	}
	uid, gid := s.ids()
	if uid == 0 || gid == 0 {
		return errors.New("transcode: sandbox: the child's uid and gid must not be 0")
	}
	return grant(m, uid, gid)
}

func (s Sandbox) ids() (uid, gid int) {
	uid, gid = s.UID, s.GID
	if uid == 0 && gid == 0 {
		uid, gid = 65534, 65534
	}
	return uid, gid
}

// sysProcAttr returns the child's process attributes: its own process
// group, killed with the Runner, and (sandbox on) its namespaces.
func (s Sandbox) sysProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if s.Off {
		return attr
	}
	attr.Cloneflags = syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWNET | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS
	if os.Geteuid() != 0 {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	return attr
}

// checkMountPath checks p can be bound into the child's root: absolute,
// clean, outside /proc (where the child builds its root).
func checkMountPath(p string) error {
	if !filepath.IsAbs(p) || filepath.Clean(p) != p || p == "/" {
		return fmt.Errorf("transcode: sandbox: %q is not a clean absolute path", p)
	}
	if p == "/proc" || strings.HasPrefix(p, "/proc/") {
		return fmt.Errorf("transcode: sandbox: %q is under /proc", p)
	}
	return nil
}

// grant makes m usable by uid:gid, for a root Runner: each rw directory
// (the job's own) is handed to uid:gid, and each ro file uid:gid cannot
// read is handed to it when it is the job's own copy (one link); a shared
// file (a hard link into the blob store) is never changed, and one the
// child could not read is an error.
func grant(m mounts, uid, gid int) error {
	for _, p := range m.rw {
		fi, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("transcode: sandbox: %w", err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("transcode: sandbox: %q is not a directory", p)
		}
		if err := os.Lchown(p, uid, gid); err != nil {
			return fmt.Errorf("transcode: sandbox: hand the job dir to the child: %w", err)
		}
	}
	for _, p := range m.ro {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // the child says so
		}
		if err != nil {
			return fmt.Errorf("transcode: sandbox: %w", err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if readable(fi.Mode(), st, uid, gid) {
			continue
		}
		if !fi.Mode().IsRegular() || st.Nlink != 1 {
			return fmt.Errorf("transcode: sandbox: %q is shared (%d links) and not readable by uid %d", p, st.Nlink, uid)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			return fmt.Errorf("transcode: sandbox: hand the input to the child: %w", err)
		}
	}
	return nil
}

// readable reports whether uid:gid (no supplementary groups) may read a
// file of mode and owner st.
func readable(mode fs.FileMode, st *syscall.Stat_t, uid, gid int) bool {
	perm := mode.Perm()
	switch {
	case int(st.Uid) == uid:
		return perm&0o400 != 0
	case int(st.Gid) == gid:
		return perm&0o040 != 0
	default:
		return perm&0o004 != 0
	}
}

// childSignal returns the signal that ended a child: the wait status's, or
// the one the sandbox's init reports as exit status 128+N (an init cannot
// die of a signal it raises itself).
func childSignal(state *os.ProcessState) (syscall.Signal, bool) {
	ws, ok := state.Sys().(syscall.WaitStatus)
	if !ok {
		return 0, false
	}
	if ws.Signaled() {
		return ws.Signal(), true
	}
	if c := ws.ExitStatus(); c > 128 && c <= 128+64 {
		return syscall.Signal(c - 128), true
	}
	return 0, false
}

// startError explains a child that could not be started.
func (s Sandbox) startError(argv0 string, err error) error {
	if !s.Off && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EUSERS) || errors.Is(err, syscall.EACCES)) {
		return fmt.Errorf("transcode: start child %q in its sandbox (user, mount, PID and network namespaces; see /proc/sys/user/max_user_namespaces): %w; transcode.sandbox: off runs it unconfined, for development only", argv0, err)
	}
	return fmt.Errorf("transcode: start child %q: %w", argv0, err)
}
