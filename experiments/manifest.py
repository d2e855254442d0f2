"""Write the data location's MANIFEST.md: each run directory with its command, sample seed and
a SHA-256 over its files (path and bytes, sorted), so a copy of the data can be checked against
the manifest RESULTS.md refers to.

    python experiments/manifest.py [--data DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # a script's neighbours, however it is loaded
from data import DATA  # noqa: E402

from selftaught.runs.rundir import LOCK_FILE  # noqa: E402


def run_files(run: Path) -> list[Path]:
    """A run's files as the data commit holds them: not its lock file (publish.py leaves it out)."""
    return sorted(p for p in run.rglob("*") if p.is_file() and p.name != LOCK_FILE)


def digest(run: Path) -> str:
    h = hashlib.sha256()
    for path in run_files(run):
        h.update(str(path.relative_to(run)).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def manifest(data: Path) -> str:
    lines = ["# Manifest", "", "Written by `experiments/manifest.py`. SHA-256 over each run's files (path and bytes).",
             "No run holds an instance key (`instance_secret`).", "",
             "| run | command | sample seed | files | sha256 |", "|---|---|---|---|---|"]
    # runs/: the registered experiments'; exploratory/<study>/runs/: studies chosen after a result
    found = [*(data / "runs").iterdir(), *data.glob("exploratory/*/runs/*")]
    for run in sorted((p for p in found if p.is_dir()), key=lambda p: str(p.relative_to(data))):
        config = json.loads((run / "config.json").read_text()) if (run / "config.json").exists() else {}
        seed = config.get("settings", {}).get("run", {}).get("sample_seed", "")
        files = len(run_files(run))
        name = run.name if run.parent == data / "runs" else run.relative_to(data)
        lines.append(f"| {name} | {config.get('command', '?')} | {seed} | {files} | {digest(run)[:16]} |")
    for extra in ("cache.sqlite", "experiment.log"):
        if (data / extra).exists():
            lines.append(f"\n`{extra}`: sha256 {hashlib.sha256((data / extra).read_bytes()).hexdigest()[:16]}")
    return "\n".join(lines) + "\n"


def write(data: Path) -> Path:
    if any(data.glob("runs/*/instance_secret")) or any(data.glob("exploratory/*/runs/*/instance_secret")):
        raise SystemExit(f"{data}/runs holds instance keys: remove them before publishing the data")
    (data / "MANIFEST.md").write_text(manifest(data))
    return data / "MANIFEST.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help=f"the experiment data [default: {DATA}]")
    print(f"wrote {write(parser.parse_args().data)}")


if __name__ == "__main__":
    main()
