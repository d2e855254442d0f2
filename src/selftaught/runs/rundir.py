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
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import platform
from pathlib import Path
from typing import Any

from selftaught.version import __version__
from selftaught.errors import ConfigError
from selftaught.runs.journal import Journal
from selftaught.tasks.secret import InstanceSecret, create_run_secret, load_run_secret
from selftaught.ids import program_id


class RunDir:
    def __init__(self, path: Path, config: dict, secret: InstanceSecret | None = None) -> None:
        self.path = path
        self.config = config
        self._given_secret = secret  # a key the caller holds for this run (--instance-secret)
        (path / "programs").mkdir(parents=True, exist_ok=True)
        self.journal = Journal(path / "events.jsonl")

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
        path = root / f"{stamp}-{command}"
        suffix = 1
        while path.exists():
            suffix += 1
            path = root / f"{stamp}-{command}-{suffix}"
        path.mkdir(parents=True)
        create_run_secret(path, instance_secret, store_key)
        config = {"command": command, "settings": settings, "selftaught": __version__,
                  "python": platform.python_version(), "created": _dt.datetime.now().isoformat()}
        (path / "config.json").write_text(json.dumps(config, indent=2, default=str) + "\n")
        return cls(path, config)

    @classmethod
    def resume(cls, path: Path, command: str, instance_secret: InstanceSecret | None = None) -> "RunDir":
        config_file = path / "config.json"
        if not config_file.is_file():
            raise ConfigError(f"{path} is not a run directory (no config.json)",
                              "pass a directory printed by an earlier run, e.g. runs/20261124-093000-improve")
        config = json.loads(config_file.read_text())
        if config.get("command") != command:
            raise ConfigError(f"{path} is a `{config.get('command')}` run, not `{command}`",
                              f"resume it with `selftaught {config.get('command')} --resume {path}`")
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

    def load_program(self, pid: str) -> str:
        return (self.path / "programs" / f"{pid}.py").read_text(encoding="utf-8")

    def write_result(self, name: str, source: str) -> Path:
        target = self.path / name
        target.write_text(source, encoding="utf-8", errors="surrogateescape")
        return target
