package transcode

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// OpenOutput opens the file rel (slash-separated, relative) under outDir
// for reading, for a parent publishing what the sandboxed child wrote. The
// child owns outDir and may have planted anything there, even while the
// parent looks: every component is opened relative to the one before it
// without following symbolic links, and the result must be a regular file,
// so no link, FIFO or device the child made can make the parent read
// something else (the open cannot block on a FIFO either).
func OpenOutput(outDir, rel string) (*os.File, error) {
	if rel == "" || strings.Contains(rel, `\`) || path.Clean(rel) != rel || !filepath.IsLocal(filepath.FromSlash(rel)) {
		return nil, fmt.Errorf("transcode: output %q is not a relative path inside the out dir", rel)
	}
	const flags = syscall.O_NOFOLLOW | syscall.O_CLOEXEC | syscall.O_NONBLOCK
	dir, err := syscall.Open(outDir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: outDir, Err: err}
	}
	parts := strings.Split(rel, "/")
	for i, part := range parts {
		mode := syscall.O_RDONLY | flags
		if i < len(parts)-1 {
			mode |= syscall.O_DIRECTORY
		}
		fd, err := syscall.Openat(dir, part, mode, 0)
		syscall.Close(dir)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: filepath.Join(outDir, rel), Err: err}
		}
		dir = fd
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(dir, &st); err != nil {
		syscall.Close(dir)
		return nil, &os.PathError{Op: "stat", Path: filepath.Join(outDir, rel), Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(dir)
		return nil, fmt.Errorf("transcode: output %q is not a regular file", rel)
	}
	// Reads block as usual (O_NONBLOCK only kept the open from waiting on a
	// FIFO).
	if err := syscall.SetNonblock(dir, false); err != nil {
		syscall.Close(dir)
		return nil, err
	}
	return os.NewFile(uintptr(dir), filepath.Join(outDir, filepath.FromSlash(rel))), nil
}

// ReadOutput reads the whole of OpenOutput(outDir, rel).
func ReadOutput(outDir, rel string) ([]byte, error) {
	f, err := OpenOutput(outDir, rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
