"""The seccomp filter every sandboxed child loads: compiled once per fork-server.

Shipped into the sandbox as source text with worker.py (stdlib only, plus pyseccomp, which
is bind-mounted read-only).
"""

from __future__ import annotations

import errno
import os
import socket

CLONE_THREAD = 0x00010000
# Syscalls no candidate or improver needs. Namespaces already isolate most of these; the
# filter is a second wall and makes attempts visible (the child dies with SIGSYS).
DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
    "unshare", "setns", "bpf", "keyctl", "add_key", "request_key", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "perf_event_open",
    "fork", "vfork", "execve", "execveat", "tkill", "pidfd_open", "pidfd_send_signal",
    "pidfd_getfd", "personality", "kexec_load", "init_module", "finit_module", "reboot",
    "swapon", "swapoff", "acct", "quotactl",
    # System V IPC and POSIX message queues outlive the process inside the slot's ipc
    # namespace: a program could leave memory or messages behind for the next one.
    "shmget", "shmat", "msgget", "msgsnd", "semget", "mq_open",
    "migrate_pages", "move_pages",
    # Memory a program could hold outside its address space (RLIMIT_AS does not count it): an
    # anonymous file filled with write() instead of mmap(), and descriptors parked "in flight"
    # in a socket (SCM_RIGHTS needs sendmsg; the runtime only ever receives descriptors).
    "memfd_create", "memfd_secret", "sendmsg", "sendmmsg",
    # Kernel memory no address-space limit counts: pages pinned in pipes (vmsplice of one page
    # pins its whole huge page; splice and tee move pinned pages on), and data queued on
    # AF_UNIX connections that nobody accepts. The runtime needs none of them (socketpair stays).
    "vmsplice", "splice", "tee", "bind", "listen", "accept", "accept4", "connect",
    # Work charged to the whole machine, not the program: flushing every file system.
    "sync", "syncfs",
    # The rest of the new mount API (open_tree, move_mount and fsopen are above), and watching
    # the shared /usr: what host commands run is not a program's business.
    "fspick", "fsconfig", "fsmount", "mount_setattr", "fanotify_init", "inotify_init",
    "inotify_init1", "inotify_add_watch",
)
# Syscalls newer than some libseccomp releases know by name: denied by number (the same on
# every architecture since Linux 5.1's unified table). listmount/statmount name host paths.
DENIED_BY_NUMBER = {"statmount": 457, "listmount": 458, "open_tree_attr": 467}
# Growing kernel buffers past their defaults, which no memory limit counts: a pipe's
# (F_SETPIPE_SZ: 64 KiB -> 1 MiB) and a socket's (SO_SNDBUF/SO_RCVBUF: ~400 KiB -> 2 x
# net.core.wmem_max, 8 MiB here). At the defaults, all the descriptors a program may open
# hold at most ~30 MiB.
BUFFER_FCNTL = (1031,)
SOL_SOCKET, BUFFER_SOCKOPTS = 1, (7, 8, 32, 33)  # SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE, SO_RCVBUFFORCE


def build_filter(settings: dict, parent: int | None):
    """The complete seccomp filter for this fork-server's children (a pyseccomp object).

    Every rule is independent of the child's own pid, so it is compiled once (see
    CompiledFilter) and each child only loads the finished BPF: ~10 us instead of ~1 ms.
    """
    import ctypes.util

    # pyseccomp finds its libraries through ctypes.util.find_library, which would shell out
    # to ldconfig; hand it the paths the host resolved instead.
    known = {"c": settings["libc"], "seccomp": settings["libseccomp"]}
    original = ctypes.util.find_library
    ctypes.util.find_library = lambda name: known.get(name) or original(name)
    try:
        import pyseccomp as sc
    finally:
        ctypes.util.find_library = original
    filt = sc.SyscallFilter(sc.ALLOW)
    # Syscalls of another ABI (i386 `int 0x80`) would bypass the x86-64 numbers: kill.
    filt.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    for name in (*DENIED_SYSCALLS, *DENIED_BY_NUMBER):
        try:
            filt.add_rule(sc.KILL_PROCESS, name)
        except (OSError, ValueError, RuntimeError):
            if name in DENIED_BY_NUMBER:  # unknown to this libseccomp: its number
                filt.add_rule(sc.KILL_PROCESS, DENIED_BY_NUMBER[name])
            # else: unknown to this libseccomp and arch, so nothing a program could call
    # Threads are fine; a new process (fork-like clone) is not.
    filt.add_rule(sc.KILL_PROCESS, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    # clone3 hides its flags behind a pointer; ENOSYS makes glibc fall back to clone.
    filt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    filt.add_rule(sc.KILL_PROCESS, "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
    for command in BUFFER_FCNTL:
        filt.add_rule(sc.KILL_PROCESS, "fcntl", sc.Arg(1, sc.EQ, command))
    for option in BUFFER_SOCKOPTS:
        filt.add_rule(sc.KILL_PROCESS, "setsockopt", sc.Arg(1, sc.EQ, SOL_SOCKET), sc.Arg(2, sc.EQ, option))
    _add_pid_rules(filt, sc, parent)
    return filt


def _add_pid_rules(filt, sc, parent: int | None) -> None:
    """A child may signal (also with a queued signal), re-limit, renice or pin only itself.

    Sandboxed, each program is pid 1 of a pid namespace of its own (fresh.FreshPids,
    `parent` None): no other process has a number it could name, so only the rules below on
    negative pids remain. Without that namespace (`parent` the fork-server's pid), the slot's
    namespace also holds bwrap's pid 1 and the fork-server, and both are refused by number.
    Negative pids (process groups, -1 = all) are caught as values above 2**31 - 1; pid 0 means
    the caller. Without these rules a program could make the *next* program in the slot fail.
    """
    targets = [("kill", 0), ("tgkill", 0), ("rt_sigqueueinfo", 0), ("rt_tgsigqueueinfo", 0),
               ("prlimit64", 0), ("sched_setaffinity", 0),
               ("sched_setscheduler", 0), ("sched_setparam", 0), ("sched_setattr", 0),
               ("setpriority", 1), ("ioprio_set", 1)]
    for name, arg in targets:
        for other in () if parent is None else {1, parent}:
            filt.add_rule(sc.KILL_PROCESS, name, sc.Arg(arg, sc.EQ, other))
        filt.add_rule(sc.KILL_PROCESS, name, sc.Arg(arg, sc.GT, 0x7FFFFFFF))
    filt.add_rule(sc.KILL_PROCESS, "setpriority", sc.Arg(0, sc.NE, 0))  # only PRIO_PROCESS
    filt.add_rule(sc.KILL_PROCESS, "ioprio_set", sc.Arg(0, sc.NE, 1))  # only IOPRIO_WHO_PROCESS
    _add_async_owner_rules(filt, sc)


# Every other way to have the kernel send a signal: an owner for signal-driven I/O (SIGIO, or
# any signal chosen with F_SETSIG) on a socket, pipe or file. The owner may be any process or
# process group of the same uid, e.g. the fork-server; no program needs to set one.
# (tkill, pidfd_open and pidfd_send_signal are denied outright; timer_create and mq_notify
# can only target the caller's own threads, or mq_open is denied; PR_SET_PDEATHSIG signals
# the caller itself.)
ASYNC_OWNER_FCNTL = (8, 15)  # F_SETOWN, F_SETOWN_EX
ASYNC_OWNER_IOCTL = (0x8901, 0x8902)  # FIOSETOWN, SIOCSPGRP


def _add_async_owner_rules(filt, sc) -> None:
    for command in ASYNC_OWNER_FCNTL:
        filt.add_rule(sc.KILL_PROCESS, "fcntl", sc.Arg(1, sc.EQ, command))
    for request in ASYNC_OWNER_IOCTL:
        # ioctl's request is an unsigned int: compare its low 32 bits only
        filt.add_rule(sc.KILL_PROCESS, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, request))


class CompiledFilter:
    """A filter exported to BPF once; load() installs it in the calling process."""

    PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2

    def __init__(self, filt, libc_name: str) -> None:
        import ctypes

        read_end, write_end = os.pipe()
        try:
            filt.export_bpf(_FdFile(write_end))
            os.close(write_end)
            write_end = -1
            chunks = []
            while chunk := os.read(read_end, 65536):
                chunks.append(chunk)
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
        program = b"".join(chunks)
        if not program or len(program) % 8:
            raise RuntimeError("libseccomp exported an empty or malformed BPF program")

        class SockFprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

        self._buffer = ctypes.create_string_buffer(program, len(program))
        self._prog = SockFprog(len(program) // 8, ctypes.cast(self._buffer, ctypes.c_void_p))
        self._libc = ctypes.CDLL(libc_name, use_errno=True)
        self._ctypes = ctypes

    def load(self) -> None:
        libc, ctypes = self._libc, self._ctypes
        if libc.prctl(self.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or libc.prctl(
            self.PR_SET_SECCOMP, self.SECCOMP_MODE_FILTER, ctypes.byref(self._prog), 0, 0
        ) != 0:
            raise OSError(ctypes.get_errno(), "cannot install the seccomp filter")


class _FdFile:
    """pyseccomp's export_bpf wants an object with fileno()."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd
