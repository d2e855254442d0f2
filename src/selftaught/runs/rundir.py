"""A run directory holds everything a run did:

    config.json     the command, its settings, versions, and whether the sandbox was off
    instance_key.sha256  the fingerprint of the key hidden instances derive from
                    (tasks/secret.py): the key stays in the user's key store, so that the run
                    can be resumed and re-scored on this machine and shared without it
    instance_secret the key itself, only when asked (--store-instance-key); never sent into
                    a sandbox
    events.jsonl    the journal (see journal.py)
    usage.jsonl     one line per language-model call
    programs/       every program and improver seen, content-addressed (<id>.py)
    *.py            the results as plain files: improved_program.py and output_program.py
                    (improve), improver_<t>.py (self-improve)
    *.md, *.json    reports, e.g. transfer.md and transfer.json
    .lock           held (flock) by the one process writing the run: a second writer, e.g. two
                    `--resume` at once, would append the same work to one journal twice
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import functools
import json
import os
import platform
import warnings
from pathlib import Path
from typing import Any, Callable

from selftaught.version import __version__
from selftaught.errors import DAMAGED_RUN_FIX, ConfigError
from selftaught.runs.journal import Journal
from selftaught.tasks.secret import InstanceSecret, create_run_secret, load_run_secret
from selftaught.ids import program_id


LOCK_FILE = ".lock"  # experiments/publish.py and manifest.py leave it out of the data: it holds a pid


class RunDir:
    """One run's directory, open for writing by this process until `close()` (or the end of a
    `with` block): it holds the directory's lock, so no other RunDir, in this process or
    another, writes the same run meanwhile."""

    def __init__(self, path: Path, config: dict, secret: InstanceSecret | None = None) -> None:
        self.path = path
        self.config = config
        self._given_secret = secret  # a key the caller holds for this run (--instance-secret)
        self._lock_fd: int | None = _lock(path)
        try:
            check_layout(path)
            (path / "programs").mkdir(parents=True, exist_ok=True)
            try:
                self.journal = Journal(path / "events.jsonl")
            except OSError as exc:
                raise unreadable(path / "events.jsonl", exc) from None
        except BaseException:
            self.close()
            raise
        self.damage = self._damage()  # as found, before this process journals anything (a resume does)

    def close(self) -> None:
        """Release the run's lock; the run can be resumed from here on."""
        fd = getattr(self, "_lock_fd", None)  # None too when __init__ failed before locking
        if fd is not None:
            os.close(fd)
            self._lock_fd = None

    def __enter__(self) -> "RunDir":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def _damage(self) -> list[str]:
        """What a resume found damaged and will redo, in words for the user (empty: nothing)."""
        notes = []
        if self.journal.skipped:
            notes.append(f"{self.journal.skipped} damaged line(s) of events.jsonl were skipped: the work they "
                         "recorded is done again")
        if not any(True for _ in self.journal.events()) and _has_lines(self.usage_log):
            notes.append("events.jsonl is missing or empty, but usage.jsonl shows language-model calls: "
                         "the run starts over, and usage.jsonl goes on counting every call")
        return notes

    @property
    def usage_log(self) -> Path:
        return self.path / "usage.jsonl"

    @functools.cached_property
    def instance_secret(self) -> InstanceSecret:
        return load_run_secret(self.path, self._given_secret)

    @classmethod
    def create(cls, root: Path, command: str, settings: dict[str, Any],
               instance_secret: InstanceSecret | None = None, store_key: bool = False) -> "RunDir":
        """A new run directory; its instance key is `instance_secret`, or this user's. The run
        keeps the key's fingerprint, and the key itself only with `store_key`."""
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        root.mkdir(parents=True, exist_ok=True)
        path, suffix = root / f"{stamp}-{command}", 1
        while True:
            try:
                path.mkdir()  # atomic: two runs started in one second, by two processes, get two names
                break
            except FileExistsError:
                suffix += 1
                path = root / f"{stamp}-{command}-{suffix}"
        create_run_secret(path, instance_secret, store_key)
        config = {"command": command, "settings": settings, "selftaught": __version__,
                  "python": platform.python_version(), "created": _dt.datetime.now().isoformat()}
        (path / "config.json").write_text(json.dumps(config, indent=2, default=str) + "\n")
        return cls(path, config)

    @classmethod
    def resume(cls, path: Path, command: str, instance_secret: InstanceSecret | None = None) -> "RunDir":
        config = read_run_config(path, f"pass a directory printed by an earlier `selftaught {command}`, "
                                       f"e.g. runs/20261124-093000-{command}")
        if not isinstance(config.get("command"), str) or not isinstance(config.get("settings"), dict):
            raise ConfigError(f"{path / 'config.json'} lacks the run's command or its settings", DAMAGED_RUN_FIX)
        if config["command"] != command:
            raise ConfigError(f"{path} is a `{config['command']}` run, not `{command}`",
                              f"resume it with `selftaught {config['command']} --resume {path}`")
        return cls(path, config, instance_secret)

    @property
    def settings(self) -> dict[str, Any]:
        return self.config["settings"]

    def save_program(self, source: str) -> Path:
        target = self.path / "programs" / f"{program_id(source)}.py"
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            tmp.write_text(source, encoding="utf-8", errors="surrogateescape")
            os.replace(tmp, target)
        return target

    def load_program(self, pid: str, role: str = "program") -> str:
        """A saved program, checked against its id: a file changed after the run saved it would
        otherwise be run, and recorded, as the program the run named. `role` names it in errors."""
        file = self.path / "programs" / f"{pid}.py"
        try:  # bytes as save_program wrote them: read_text would turn \r\n into \n and change the id
            source = file.read_bytes().decode("utf-8", "surrogateescape")
        except OSError as exc:
            raise ConfigError(f"{self.path} cannot read programs/{pid}.py, the {role}: {exc.strerror or exc}",
                              DAMAGED_RUN_FIX) from None
        if program_id(source) != pid:
            raise ConfigError(f"{file}, the {role}, was changed after the run saved it (its content's id is "
                              f"{program_id(source)})", "restore the file from a copy of the run, or start a "
                              "new run with the changed program")
        return source

    def write_result(self, name: str, source: str) -> Path:
        target = self.path / name
        target.write_text(source, encoding="utf-8", errors="surrogateescape")
        return target


def read_run_config(path: Path, fix: str, loads: Callable[[str], Any] = json.loads) -> dict:
    """A run directory's config.json, checked as far as every reader relies on it: a JSON object
    (a reader copes with missing fields; a resume needs more). `fix` says what to pass instead of
    a non-run; `loads` parses the JSON (a reader may read numbers its own way)."""
    config_file = path / "config.json"
    try:
        found = config_file.is_file()
    except OSError as exc:  # e.g. the run directory itself cannot be read
        raise unreadable(path, exc) from None
    if not found:
        raise ConfigError(f"{path} is not a run directory (no config.json)", fix)
    try:
        text = config_file.read_bytes()
    except OSError as exc:
        raise unreadable(config_file, exc) from None
    try:
        config = loads(text.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, an integer too long, nesting too deep
        raise ConfigError(f"{config_file} is not valid JSON: {str(exc)[:200]}", DAMAGED_RUN_FIX) from None
    if not isinstance(config, dict):
        raise ConfigError(f"{config_file} does not hold a JSON object", DAMAGED_RUN_FIX)
    return config


def _lock(path: Path) -> int | None:
    """Hold the run's lock (flock: the kernel drops it when its holder exits, kill -9 too)."""
    try:
        fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConfigError(f"cannot open {path / LOCK_FILE}: {exc.strerror or exc}",
                          "give this user write access to the run directory") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            # A filesystem without flock (some network mounts): run, unguarded, rather than refuse.
            warnings.warn(f"cannot lock {path}: {exc.strerror}; do not resume this run twice at once")
            return fd
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        os.close(fd)
        if holder == str(os.getpid()):
            raise ConfigError(f"{path} is open already in this process",
                              "close the other RunDir of it first (run.close(), or open it in a `with` block)")
        raise ConfigError(f"{path} is in use by {f'process {holder}' if holder else 'another process'}, which is "
                          "still writing it", "wait for that run to finish, or stop it (Ctrl-C) and then resume")
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)  # who holds it, for the error above
    except OSError as exc:  # e.g. a full disk: the run could not journal either
        os.close(fd)
        raise ConfigError(f"cannot write {path / LOCK_FILE}: {exc.strerror or exc}",
                          "free space on the disk, or give this user write access to the run directory") from None
    return fd


def unreadable(path: Path, exc: OSError) -> ConfigError:
    return ConfigError(f"cannot read {path}: {exc.strerror or exc}",
                       "make it readable for this user (e.g. `chmod -R u+rX` on the run directory), or run "
                       "the command as the user that wrote the run")


def check_layout(path: Path) -> None:
    """Files where a run keeps files, directories where it keeps directories."""
    for name, want_dir in (("programs", True), ("events.jsonl", False), ("usage.jsonl", False)):
        entry = path / name
        try:
            present, is_dir = entry.exists(), entry.is_dir()
        except OSError as exc:
            raise unreadable(entry, exc) from None
        if present and is_dir != want_dir:
            raise ConfigError(f"{entry} should be a {'directory' if want_dir else 'file'}, and is not",
                              DAMAGED_RUN_FIX)


def _has_lines(file: Path) -> bool:
    try:
        return file.stat().st_size > 0
    except OSError:
        return False
