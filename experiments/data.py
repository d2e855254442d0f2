"""Where the experiments' data lives: outside the product's tree, in the newest `results:` data
commit (merged into main's history with `-s ours`), checked out beside this checkout (RESULTS.md,
"Where the data is"), or wherever SELFTAUGHT_DATA points.

    git worktree add ../selftaught-results $(git log -1 --format=%H --grep='^results:' HEAD)
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SELFTAUGHT_DATA") or ROOT.parent / "selftaught-results" / "results")
