package transcode

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Apply sets the limits on the calling process (setrlimit(2) on itself) and
// disables core dumps, so a crash leaves no core file in the job dir. The
// CPU limit is soft at CPUSeconds (SIGXCPU, which the child turns into an
// EMEDIALIMIT report) and hard 5 s later (SIGKILL).
func (l Rlimits) Apply() error {
	set := func(name string, res int, soft, hard uint64) error {
		if err := syscall.Setrlimit(res, &syscall.Rlimit{Cur: soft, Max: hard}); err != nil {
			return fmt.Errorf("transcode: setrlimit %s=%d: %w", name, soft, err)
		}
		return nil
	}
	if err := set("RLIMIT_CORE", syscall.RLIMIT_CORE, 0, 0); err != nil {
		return err
	}
	if l.AddressSpace > 0 {
		if err := set("RLIMIT_AS", syscall.RLIMIT_AS, uint64(l.AddressSpace), uint64(l.AddressSpace)); err != nil {
			return err
		}
	}
	if l.CPUSeconds > 0 {
		if err := set("RLIMIT_CPU", syscall.RLIMIT_CPU, uint64(l.CPUSeconds), uint64(l.CPUSeconds+5)); err != nil {
			return err
		}
	}
	if l.FileSize > 0 {
		if err := set("RLIMIT_FSIZE", syscall.RLIMIT_FSIZE, uint64(l.FileSize), uint64(l.FileSize)); err != nil {
			return err
		}
	}
	if l.Processes > 0 {
		if err := set("RLIMIT_NPROC", unix.RLIMIT_NPROC, uint64(l.Processes), uint64(l.Processes)); err != nil {
			return err
		}
	}
	if l.OpenFiles > 0 {
		if err := set("RLIMIT_NOFILE", syscall.RLIMIT_NOFILE, uint64(l.OpenFiles), uint64(l.OpenFiles)); err != nil {
			return err
		}
	}
	return nil
}
