"""What each program finds fresh, whatever the one before it did: runs inside the sandbox, in
the fork-server (worker.py), shipped to it as source like the other in-sandbox modules.

The scratch directory is a tmpfs the fork-server mounts in its own mount namespace (it keeps
CAP_SYS_ADMIN of the sandbox's user namespace for this and for the pid namespaces, nothing
else; children drop it).
After each run it checks that the scratch is exactly as mounted; if anything changed it
unmounts it and mounts a fresh one: bounded work, whatever the program left (permissions,
deep trees, hard links, a full disk). Only then does it tell the host it is ready, so the
host starts the next program's clock after the reset, and a fork-server whose reset failed
exits and is rebuilt before the next program.

Each program also starts in a pid namespace of its own (FreshPids).
"""

from __future__ import annotations

import ctypes
import os
import sys


def _check(result: int, what: str) -> None:
    """A libc call's result (ctypes with use_errno): raise with its errno unless it is 0."""
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


class FreshPids:
    """Each program is pid 1 of a pid namespace of its own, so nothing it does to pid numbers
    reaches the next program: in one shared namespace, a program that started threads until the
    counter stood at 776 chose the next program's pid (777), a covert channel past the scratch
    reset. Its threads get pids 2, 3, ... of its namespace, it can name no other process, and
    when it ends the kernel ends whatever it left behind there.

    unshare(CLONE_NEWPID) puts only the caller's *next* child in a new namespace, and can be
    done again only once the caller's namespace for children is its own again: setns(pidfd of
    itself, CLONE_NEWPID) after each fork (Linux 5.8+), two system calls per program. Both need
    CAP_SYS_ADMIN over the slot's pid namespace, which the fork-server keeps in the sandbox's
    user namespace (isolation.bwrap_argv avoids the nested one bwrap's --dev would make). Where
    setns is refused anyway (a setuid bwrap), a short-lived nursery does it instead, at the cost
    of one more fork per program: the nursery unshares, forks the program, reports its pid and
    exits, and the fork-server, a child subreaper, adopts the program. Unsafe mode (no
    namespaces) forks directly.

    Being pid 1 has one visible effect: signals a program sends itself without a handler for
    them (kill(getpid(), SIGKILL), SIGTERM) are ignored, as for any init. The kernel's own
    signals (faults, seccomp's SIGSYS, RLIMIT_CPU's SIGKILL) and the fork-server's SIGKILL
    still end it."""

    CLONE_NEWPID, PR_SET_CHILD_SUBREAPER = 0x20000000, 36

    def __init__(self, settings: dict) -> None:
        self.on = bool(settings.get("fresh_pids"))
        self.mode = "off"
        if not self.on:
            return
        self.libc = ctypes.CDLL(settings.get("libc", "libc.so.6"), use_errno=True)
        self.own = os.pidfd_open(os.getpid())
        self.mode = "setns"
        if settings.get("fresh_pids") == "nursery" or self.libc.unshare(self.CLONE_NEWPID) != 0 \
                or self.libc.setns(self.own, self.CLONE_NEWPID) != 0:
            self.mode = "nursery"
            if self.libc.prctl(self.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
        probe = self.fork()  # once at start, so that a kernel without it fails here
        if probe == 0:
            os._exit(0 if os.getpid() == 1 else 1)
        _, status = os.waitpid(probe, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise OSError(f"a program forked in a new pid namespace was not its pid 1 (status {status})")

    def fork(self) -> int:
        """os.fork(), with the child in a pid namespace of its own: 0 in the child, the child's
        pid (as the fork-server sees it, a child of the fork-server) in the fork-server."""
        if self.mode == "off":
            return os.fork()
        if self.mode == "setns":
            _check(self.libc.unshare(self.CLONE_NEWPID), "unshare(CLONE_NEWPID)")
            pid = 0
            try:
                pid = os.fork()
            finally:
                if pid != 0 or sys.exc_info()[0] is not None:  # the fork-server, also if fork failed
                    _check(self.libc.setns(self.own, self.CLONE_NEWPID), "setns(own pidfd, CLONE_NEWPID)")
            return pid
        read_end, write_end = os.pipe()
        nursery = os.fork()
        if nursery == 0:
            program = -1
            try:
                os.close(read_end)
                if self.libc.unshare(self.CLONE_NEWPID) == 0:
                    program = os.fork()
            except BaseException:
                os._exit(71)
            if program == 0:
                os.close(write_end)
                return 0
            if program > 0:
                os.write(write_end, program.to_bytes(4, "little"))
            os._exit(0 if program > 0 else 72)
        os.close(write_end)
        reported = b""
        while len(reported) < 4:
            chunk = os.read(read_end, 4 - len(reported))
            if not chunk:
                break
            reported += chunk
        os.close(read_end)
        os.waitpid(nursery, 0)  # it has exited: its program is the fork-server's child now
        if len(reported) != 4:
            raise OSError("the pid-namespace nursery could not fork a program in a new pid namespace")
        return int.from_bytes(reported, "little")


class Scratch:
    """The scratch directory: every program finds it empty, writable and of full size.

    Sandboxed, it is a tmpfs of its own (size and inode count capped: hard links and empty
    files cost kernel memory that the byte size does not count), remounted whenever a run
    changed anything in it. Unsafe mode (no namespaces) can only wipe a host directory."""

    CLONE_NEWNS, MS_NOSUID, MS_NODEV, MS_NOATIME, MS_REC, MS_PRIVATE, MNT_DETACH = (
        0x20000, 0x2, 0x4, 0x400, 0x4000, 0x40000, 0x2)

    def __init__(self, settings: dict) -> None:
        self.path = settings["scratch"]
        self.mounted = bool(settings.get("fresh_scratch"))
        if self.mounted:
            self.libc = ctypes.CDLL(settings.get("libc", "libc.so.6"), use_errno=True)
            self.libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
            self.libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
            self.options = (f"size={int(settings['scratch_bytes'])},nr_inodes={int(settings['scratch_inodes'])},"
                            "mode=0700").encode()
            # a mount namespace of the fork-server's own: mounts here reach nobody else
            _check(self.libc.unshare(self.CLONE_NEWNS), "unshare(CLONE_NEWNS)")
            _check(self.libc.mount(None, b"/", None, self.MS_REC | self.MS_PRIVATE, None), "make / private")
            self._mount()
        self.pristine = self._state()

    def _mount(self) -> None:
        _check(self.libc.mount(b"scratch", self.path.encode(), b"tmpfs",
                                    self.MS_NOSUID | self.MS_NODEV | self.MS_NOATIME, self.options),
                    f"mount a tmpfs on {self.path}")

    def _state(self) -> tuple:
        """Everything a program could change: entries, metadata of the root (ctime moves with
        any chmod, chown, xattr or utime), and the free blocks and inodes."""
        entries = os.listdir(self.path)
        st, vfs = os.lstat(self.path), os.statvfs(self.path)
        return (tuple(entries), st.st_mode, st.st_uid, st.st_gid, st.st_nlink, st.st_mtime_ns,
                st.st_ctime_ns, st.st_atime_ns, vfs.f_bfree, vfs.f_ffree)

    def reset(self) -> bool:
        """Make the scratch pristine again; False if that failed (the slot must be rebuilt).
        Never raises: a crash here would take the fork-server down mid-protocol."""
        try:
            try:
                if self._state() == self.pristine:
                    return True  # untouched (most programs): nothing to do
            except OSError:
                pass  # e.g. the program made the root unreadable: remount
            if not self.mounted:
                _wipe(self.path)
                return not os.listdir(self.path)
            _check(self.libc.umount2(self.path.encode(), self.MNT_DETACH), f"unmount {self.path}")
            self._mount()
            self.pristine = self._state()  # a new tmpfs: new timestamps
            return not self.pristine[0]
        except BaseException:
            return False


def _wipe(scratch: str) -> None:
    """Unsafe mode: empty a host directory, without recursion (trees may be deep), making
    each directory writable and searchable first."""
    stack, visited = [scratch], set()
    while stack:
        path = stack[-1]
        visited.add(path)
        try:
            os.chmod(path, 0o700)
            entries = list(os.scandir(path))
        except OSError:
            entries = []
        pushed = False
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.path in visited:
                    continue  # it could not be removed: leave it (the host sees the dirty scratch)
                stack.append(entry.path)
                pushed = True
            else:
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass
        if pushed:
            continue
        stack.pop()
        if path != scratch:
            try:
                os.rmdir(path)
            except OSError:
                pass
