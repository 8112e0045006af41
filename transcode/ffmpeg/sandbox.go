package ffmpeg

/*
extern int shopclip_sandbox_state;
static int shopclip_sandbox_ready(void) { return shopclip_sandbox_state; }
*/
import "C"

import (
	"errors"
	"fmt"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// The child's sandbox is built in two steps: sandbox_linux.c, a constructor
// that runs before the Go runtime starts (single-threaded), sets up the
// mounts, the user, drops capabilities and sets no_new_privs; then
// installSandbox, first thing in ChildMain after the rlimits, loads the
// seccomp filter into every thread before the input is opened.

// sandboxReady reports whether the constructor set the sandbox up.
func sandboxReady() bool { return C.shopclip_sandbox_ready() == 1 }

// installSandbox checks the constructor set the sandbox up and loads the
// seccomp filter (mode is ChildRequest.Sandbox; empty: unconfined, nothing
// to do).
func installSandbox(mode string) error {
	if mode == "" {
		return nil
	}
	if !sandboxReady() {
		return errors.New("transcode sandbox: --sandbox given but the sandbox was not set up (the binary's constructor did not run: is it linked externally?)")
	}
	filter, err := seccompFilter()
	if err != nil {
		return err
	}
	if err := seccomp.LoadFilter(filter); err != nil {
		return fmt.Errorf("transcode sandbox: load the seccomp filter: %w", err)
	}
	return nil
}

// seccompFilter is a deny-list: the child decodes, filters and encodes
// files, and needs none of these. Denied calls fail with EPERM (ENOSYS for
// clone3, so the C library falls back to clone, whose thread-creating form
// is allowed). It applies to every thread (TSYNC); no_new_privs is already
// set. Calls this architecture does not have (fork, iopl on arm64) are left
// out.
func seccompFilter() (seccomp.Filter, error) {
	info, err := arch.GetInfo("")
	if err != nil {
		return seccomp.Filter{}, fmt.Errorf("transcode sandbox: seccomp: %w", err)
	}
	var deny []string
	for _, name := range []string{
		// The network (the network namespace is empty anyway).
		"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
		// Other processes, and new ones.
		"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_open", "pidfd_getfd",
		"pidfd_send_signal", "kcmp", "fork", "vfork", "execve", "execveat",
		// Mounts, namespaces, root.
		"mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "fsopen", "fsconfig", "fsmount",
		"fspick", "move_mount", "open_tree", "mount_setattr",
		// Kernel interfaces a media job has no use for.
		"keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
		"io_uring_enter", "io_uring_register", "fanotify_init", "open_by_handle_at", "name_to_handle_at",
		"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
		"swapon", "swapoff", "acct", "quotactl", "syslog", "vhangup", "iopl", "ioperm", "personality",
		"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
		// Links: the child writes plain files only, and must not point the
		// parent at anything else.
		"link", "linkat", "symlink", "symlinkat",
	} {
		if _, ok := info.SyscallNames[name]; ok {
			deny = append(deny, name)
		}
	}
	return seccomp.Filter{
		NoNewPrivs: true,
		Flag:       seccomp.FilterFlagTSync,
		Policy: seccomp.Policy{
			DefaultAction: seccomp.ActionAllow,
			Syscalls: []seccomp.SyscallGroup{
				{Action: seccomp.ActionErrno, Names: deny},
				{
					// clone without CLONE_THREAD makes a process.
					Action: seccomp.ActionErrno,
					NamesWithCondtions: []seccomp.NameWithConditions{{
						Name:       "clone",
						Conditions: seccomp.ArgumentConditions{{Argument: 0, Operation: seccomp.BitsNotSet, Value: unix.CLONE_THREAD}},
					}},
				},
				{Action: seccomp.ActionErrno | seccomp.Action(unix.ENOSYS), Names: []string{"clone3"}},
			},
		},
	}, nil
}
