// The transcode child's sandbox, set up before the Go runtime starts.
//
// The Go runtime starts threads before main, and a multi-threaded process
// cannot unshare a user namespace, change its capabilities for every thread
// at once or fork safely. So this constructor, which the dynamic loader runs
// while the process is still single-threaded, does the whole setup when
// the command line holds the --sandbox flags transcode.Runner adds (see
// transcode.Sandbox and transcode.ChildRequest for the protocol):
//
//   --sandbox MODE           "userns": the parent gave the child new user,
//                            mount, PID, network, IPC and UTS namespaces, the
//                            child being uid 0 in its user namespace;
//                            "UID:GID": the parent (root) gave it all but
//                            the user namespace, and the child becomes
//                            UID:GID on the host, then enters a user
//                            namespace of its own.
//   --sandbox-mntns N        the inode of the parent's mount namespace: the
//                            setup refuses to run in it.
//   --sandbox-ro PATH        a file or directory the child may read;
//   --sandbox-rw PATH        one it may also write (repeatable, in order).
//
// The steps: make every mount private; build a new root on a tmpfs holding
// only the listed paths, bound at the same absolute paths (read-only ones
// remounted read-only, none with suid, devices or exec), and a fresh /proc
// of the child's PID namespace; pivot_root into it and make the tmpfs
// read-only; drop to UID:GID and enter a user namespace (root parents);
// drop every capability (bounding, ambient, permitted, effective,
// inheritable) and lock the securebits so nothing regains them; set
// no_new_privs. The seccomp filter comes later, from Go (installSandbox
// in sandbox.go), before the input is opened.
//
// When the process is PID 1 of its namespace it stays in this constructor
// as the namespace's init: it forks the real child (which goes on to start
// the Go runtime), reaps every process and exits with the child's exit
// status, or 128+N when the child was killed by signal N (an init cannot
// be killed by a signal it raises itself; transcode.Runner reads that exit
// status as the signal).
//
// A failure prints the child protocol's JSON error document on stdout and
// exits with status 1 (transcode.ExitInternal): the parent reports an
// infrastructure error, never a media verdict.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>

// shopclip_sandbox_state is 0 when no sandbox was asked for, 1 once it is
// set up (read by Go: sandboxReady).
int shopclip_sandbox_state = 0;

// The new root is built on a tmpfs mounted over /proc: no bound path is
// ever under /proc (the parent refuses those), and the host's /proc must
// not be visible anyway.
static const char *newroot = "/proc";

static void sb_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void sb_fail(const char *fmt, ...) {
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	// The message is ours (paths the parent chose and strerror); escape
	// what JSON needs anyway.
	char esc[1100];
	size_t j = 0;
	for (size_t i = 0; msg[i] && j < sizeof esc - 7; i++) {
		unsigned char c = (unsigned char)msg[i];
		if (c == '"' || c == '\\') {
			esc[j++] = '\\';
			esc[j++] = c;
		} else if (c < 0x20) {
			j += snprintf(esc + j, sizeof esc - j, "\\u%04x", c);
		} else {
			esc[j++] = c;
		}
	}
	esc[j] = 0;
	dprintf(1, "{\"error\":{\"code\":\"internal\",\"message\":\"transcode sandbox: %s\"}}\n", esc);
	_exit(1);
}

// mkdirs creates every directory of path (absolute) under newroot; with
// file set, the last component is created as an empty file instead.
static void mkdirs(const char *path, int file) {
	char p[4096];
	if (snprintf(p, sizeof p, "%s%s", newroot, path) >= (int)sizeof p) sb_fail("path too long: %s", path);
	size_t skip = strlen(newroot) + 1;
	for (char *s = p + skip; *s; s++) {
		if (*s != '/') continue;
		*s = 0;
		if (mkdir(p, 0755) != 0 && errno != EEXIST) sb_fail("mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (file) {
		int fd = open(p, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0 && errno != EEXIST) sb_fail("create %s: %s", p, strerror(errno));
		if (fd >= 0) close(fd);
	} else if (mkdir(p, 0755) != 0 && errno != EEXIST) {
		sb_fail("mkdir %s: %s", p, strerror(errno));
	}
}

// mountFlags returns the MS_* flags matching a mount's current ST_* flags,
// which a remount in a user namespace must keep (they are locked).
static unsigned long mountFlags(const char *path) {
	struct statvfs st;
	if (statvfs(path, &st) != 0) sb_fail("statvfs %s: %s", path, strerror(errno));
	unsigned long f = 0;
	if (st.f_flag & ST_RDONLY) f |= MS_RDONLY;
	if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
	if (st.f_flag & ST_NODEV) f |= MS_NODEV;
	if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
	if (st.f_flag & ST_NOATIME) f |= MS_NOATIME;
	if (st.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
	if (st.f_flag & ST_RELATIME) f |= MS_RELATIME;
	return f;
}

static void bind(const char *src, int writable) {
	if (src[0] != '/' || strstr(src, "/../") || strncmp(src, "/proc", 5) == 0)
		sb_fail("bad path %s", src);
	struct stat st;
	if (stat(src, &st) != 0) sb_fail("stat %s: %s", src, strerror(errno));
	mkdirs(src, !S_ISDIR(st.st_mode));
	char dst[4096];
	snprintf(dst, sizeof dst, "%s%s", newroot, src);
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0) sb_fail("bind %s: %s", src, strerror(errno));
	unsigned long f = mountFlags(dst) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if (!writable) f |= MS_RDONLY;
	if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | f, NULL) != 0)
		sb_fail("remount %s: %s", src, strerror(errno));
}

static void writeFile(const char *path, const char *data) {
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) sb_fail("open %s: %s", path, strerror(errno));
	ssize_t n = write(fd, data, strlen(data));
	if (n != (ssize_t)strlen(data)) sb_fail("write %s: %s", path, strerror(errno));
	close(fd);
}

static void dropCapabilities(void) {
	// Lock root out of regaining capabilities (by execve as uid 0 or by a
	// uid change), then empty every set.
	int bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
		   SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0) sb_fail("securebits: %s", strerror(errno));
	for (int c = 0; c <= 63; c++) {
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) sb_fail("drop capability %d: %s", c, strerror(errno));
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) sb_fail("clear ambient capabilities: %s", strerror(errno));
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	if (syscall(SYS_capset, &h, d) != 0) sb_fail("capset: %s", strerror(errno));
}

// init is PID 1 of the child's namespace: it reaps everything and exits
// with the status of child.
static void init(pid_t child) __attribute__((noreturn));

static void init(pid_t child) {
	// Hold nothing of the child's: its pipes reach EOF when it ends.
	for (int fd = 0; fd < 1024; fd++) {
		if (fd != 2) close(fd);
	}
	for (;;) {
		int status;
		pid_t p = waitpid(-1, &status, 0);
		if (p < 0) {
			if (errno == EINTR) continue;
			_exit(1);
		}
		if (p != child) continue;
		if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
		if (WIFSIGNALED(status)) _exit(128 + WTERMSIG(status));
	}
}

__attribute__((constructor)) static void shopclip_sandbox(int argc, char **argv, char **envp) {
	(void)envp;
	const char *mode = NULL, *mntns = NULL;
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--sandbox") == 0) mode = argv[i + 1];
		if (strcmp(argv[i], "--sandbox-mntns") == 0) mntns = argv[i + 1];
	}
	if (mode == NULL) return;

	// Never in the parent's mount namespace: the new root would be built
	// over the host's /proc.
	struct stat ns;
	if (mntns == NULL) sb_fail("--sandbox-mntns missing");
	if (stat("/proc/self/ns/mnt", &ns) != 0) sb_fail("stat /proc/self/ns/mnt: %s", strerror(errno));
	if (strtoull(mntns, NULL, 10) == (unsigned long long)ns.st_ino) sb_fail("not in a mount namespace of its own");

	uid_t uid = 0;
	gid_t gid = 0;
	int root = strcmp(mode, "userns") != 0;
	if (root) {
		unsigned long u, g;
		char end;
		if (sscanf(mode, "%lu:%lu%c", &u, &g, &end) != 2 || u == 0 || g == 0) sb_fail("bad --sandbox %s", mode);
		if (geteuid() != 0) sb_fail("--sandbox %s needs a root parent", mode);
		uid = u;
		gid = g;
	}

	char cwd[4096];
	if (getcwd(cwd, sizeof cwd) == NULL) strcpy(cwd, "/");

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) sb_fail("make mounts private: %s", strerror(errno));
	if (mount("tmpfs", newroot, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,nr_inodes=256,mode=0755") != 0)
		sb_fail("mount the new root: %s", strerror(errno));
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--sandbox-ro") == 0) bind(argv[i + 1], 0);
		if (strcmp(argv[i], "--sandbox-rw") == 0) bind(argv[i + 1], 1);
	}
	mkdirs("/proc", 0);
	if (mount("proc", "/proc/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
		sb_fail("mount /proc: %s", strerror(errno));

	// pivot_root(".", ".") stacks the old root under the new one; detach it.
	if (chdir(newroot) != 0) sb_fail("chdir to the new root: %s", strerror(errno));
	if (syscall(SYS_pivot_root, ".", ".") != 0) sb_fail("pivot_root: %s", strerror(errno));
	if (umount2(".", MNT_DETACH) != 0) sb_fail("detach the old root: %s", strerror(errno));
	if (chdir("/") != 0) sb_fail("chdir /: %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | mountFlags("/"), NULL) != 0)
		sb_fail("make the new root read-only: %s", strerror(errno));

	if (root) {
		// Become UID:GID on the host, then uid 0 of a user namespace of
		// our own (which owns none of the other namespaces).
		if (setgroups(0, NULL) != 0) sb_fail("setgroups: %s", strerror(errno));
		if (setresgid(gid, gid, gid) != 0) sb_fail("setresgid %u: %s", gid, strerror(errno));
		if (setresuid(uid, uid, uid) != 0) sb_fail("setresuid %u: %s", uid, strerror(errno));
		// A uid change makes the process undumpable, which hands its
		// /proc/self files to root: take them back to write the maps.
		if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) sb_fail("dumpable: %s", strerror(errno));
		if (unshare(CLONE_NEWUSER) != 0) sb_fail("unshare a user namespace: %s", strerror(errno));
		char map[64];
		writeFile("/proc/self/setgroups", "deny");
		snprintf(map, sizeof map, "0 %u 1\n", uid);
		writeFile("/proc/self/uid_map", map);
		snprintf(map, sizeof map, "0 %u 1\n", gid);
		writeFile("/proc/self/gid_map", map);
	}
	dropCapabilities();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) sb_fail("no_new_privs: %s", strerror(errno));
	if (chdir(cwd) != 0 && chdir("/") != 0) sb_fail("chdir: %s", strerror(errno));

	if (getpid() == 1) {
		pid_t child = fork();
		if (child < 0) sb_fail("fork: %s", strerror(errno));
		if (child > 0) init(child);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) sb_fail("pdeathsig: %s", strerror(errno));
	}
	shopclip_sandbox_state = 1;
}
