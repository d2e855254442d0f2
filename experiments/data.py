"""Where the experiments' data lives: outside the product repository, in its `results` branch
checked out beside it (RESULTS.md, "Where the data is"), or wherever SELFTAUGHT_DATA points.

    git worktree add ../selftaught-results results
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SELFTAUGHT_DATA") or ROOT.parent / "selftaught-results" / "results")
