"""Commit the experiment data and carry it in main's history without adding a file to main's tree.

    python experiments/publish.py "experiment 3: stage 1, second sitting"

In the data checkout (the worktree holding DATA, see data.py): writes MANIFEST.md
(manifest.py), commits everything as "results: MESSAGE" (on whatever it has checked out: the
`results` branch or a detached data commit). Then, in this checkout, merges that commit with
`git merge -s ours`: main keeps its own tree, and the data commits travel with every clone of
main. The newest data commit is then

    git log -1 --format=%H --grep='^results:' HEAD

which is how RESULTS.md tells a reader to check it out. (The merge's own subject does not start
with "results:", so it is never mistaken for data.)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # a script's neighbours, however it is loaded
from data import DATA, ROOT  # noqa: E402
from manifest import write as write_manifest  # noqa: E402

from selftaught.runs.rundir import LOCK_FILE  # noqa: E402


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("message", help="what this data commit adds")
    parser.add_argument("--data", type=Path, default=DATA, help=f"the experiment data [default: {DATA}]")
    args = parser.parse_args()
    data_root = Path(git(args.data, "rev-parse", "--show-toplevel"))
    if data_root == Path(git(ROOT, "rev-parse", "--show-toplevel")):
        raise SystemExit(f"{args.data} is inside this checkout: the data must live in a worktree of its own "
                         "(RESULTS.md, 'Where the data is')")
    write_manifest(args.data)
    git(data_root, "add", "-A", "--", ".", f":(exclude,glob)**/{LOCK_FILE}")  # a run's lock holds only a pid
    if git(data_root, "status", "--porcelain"):
        git(data_root, "commit", "-q", "-m", f"results: {args.message}")
    commit = git(data_root, "rev-parse", "HEAD")
    if subprocess.run(["git", "merge-base", "--is-ancestor", commit, "HEAD"], cwd=ROOT).returncode == 0:
        print(f"data commit {commit[:10]} is already in this checkout's history")
        return
    git(ROOT, "merge", "-q", "-s", "ours", "--allow-unrelated-histories", "--no-edit",
        "-m", f"Experiment data ({args.message}): data commit {commit[:10]} joins main's history, main's tree unchanged",
        commit)
    print(f"data commit {commit[:10]} merged into {git(ROOT, 'rev-parse', '--abbrev-ref', 'HEAD')} (-s ours)")


if __name__ == "__main__":
    main()
