"""A memory cgroup per sandbox slot, where the host may make one: one limit over everything the
slot's programs hold, kernel memory included.

RLIMIT_AS counts a program's address space only. Memory the kernel holds for it (pages pinned
in pipes, queued socket data, dentries from millions of failed stat() calls on the shared /usr)
is outside it; the filter denies the calls that can pin memory (syscall_filter.py), but what it
cannot deny, such as dentries, only a memory cgroup bounds: the kernel charges kernel memory to
the cgroup of the process that made it, and reclaims or OOM-kills inside the cgroup at its limit.

Before each run the slot's limit is set to the fork-server's own memory when the slot started,
plus the run's memory limit, plus SLACK_BYTES for what the kernel keeps for any process.

Where: cgroup v1's memory hierarchy, or v2 where the host's cgroup already delegates the memory
controller to its children (the host does not reorganise a v2 tree it was placed in). Both need
write access to the host's own cgroup, in practice root. Elsewhere `find` says why not, and the
denials stand alone (`selftaught doctor` shows which protection this machine has).

A slot joins its cgroup before it starts anything: the launcher shell waits on its stdin until
the host has written the shell's pid into the cgroup, so bwrap, the fork-server and every program
are born inside it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

SLACK_BYTES = 64 << 20
ROOT = Path("/sys/fs/cgroup")
PREFIX = "selftaught-"


@dataclass(frozen=True)
class MemoryCgroups:
    """Where this process may make memory cgroups: `base` (its own cgroup), `version` 1 or 2."""

    base: Path
    version: int

    @classmethod
    def find(cls, proc_cgroup: str = "/proc/self/cgroup", root: Path = ROOT) -> tuple[MemoryCgroups | None, str]:
        """(cgroups, "") when this host can make a memory cgroup per slot, else (None, why not)."""
        try:
            lines = Path(proc_cgroup).read_text().splitlines()
        except OSError as exc:
            return None, f"cannot read {proc_cgroup}: {exc.strerror}"
        own = {}
        for line in lines:
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                own[controller] = path.lstrip("/")
        if "memory" in own and (root / "memory").is_dir():
            found = cls(root / "memory" / own["memory"], 1)
        elif "" in own and (root / "cgroup.controllers").exists():
            found = cls(root / own[""], 2)
            try:
                delegated = (found.base / "cgroup.subtree_control").read_text().split()
            except OSError:
                delegated = []
            if "memory" not in delegated:
                return None, f"cgroup v2: {found.base} does not delegate the memory controller"
        else:
            return None, "no memory controller is mounted"
        try:  # the whole round trip once: make one, join nothing, set a limit, remove it
            probe = found.make("probe")
            probe.limit(0)
            probe.remove()
        except OSError as exc:
            return None, f"cgroup v{found.version}: cannot make a memory cgroup under {found.base} ({exc.strerror})"
        found.sweep()
        return found, ""

    def sweep(self) -> None:
        """Remove empty cgroups that earlier processes of this project left (killed hosts)."""
        for stale in self.base.glob(f"{PREFIX}*"):
            try:
                pid = int(stale.name[len(PREFIX):].split("-")[0])
                if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
                    stale.rmdir()
            except (ValueError, OSError):
                pass

    def make(self, name: str) -> SlotCgroup:
        path = self.base / f"{PREFIX}{os.getpid()}-{name}"
        path.mkdir(exist_ok=True)
        if self.version == 2:
            _write(path / "memory.swap.max", "0")  # swap would only move the bound
        return SlotCgroup(path, self.version)


@dataclass
class SlotCgroup:
    path: Path
    version: int
    baseline: int = 0  # the fork-server's own memory once it has started

    @property
    def _limit_file(self) -> Path:
        return self.path / ("memory.limit_in_bytes" if self.version == 1 else "memory.max")

    def adopt(self, pid: int) -> None:
        _write(self.path / "cgroup.procs", str(pid))

    def usage(self) -> int:
        name = "memory.usage_in_bytes" if self.version == 1 else "memory.current"
        return int((self.path / name).read_text())

    def limit(self, run_bytes: int) -> None:
        """The slot's limit for the next run: baseline + the run's memory limit + slack."""
        value = self.baseline + run_bytes + SLACK_BYTES
        _write(self._limit_file, str(value))

    def current_limit(self) -> int:
        text = self._limit_file.read_text()
        return int(text) if text.strip() != "max" else -1

    def remove(self) -> None:
        """Remove the cgroup once its processes are gone (they may take a moment to exit)."""
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)


def _write(path: Path, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)
