"""What the language model is told about where its programs run.

A 1.5B model otherwise imports scipy, sklearn or networkx, which do not exist in the sandbox,
and loses every such sample. The note is appended to each task's utility description (the
paper's `u.str`), generated from the facts, so it cannot drift from the sandbox.
"""

from __future__ import annotations

import platform

from selftaught.tasks.task import Task


def environment_note(task: Task) -> str:
    import numpy

    major_minor = ".".join(platform.python_version_tuple()[:2])
    return (
        "\n# Where the program runs (a sandbox):\n"
        f"# - Python {major_minor} with its standard library and numpy {numpy.__version__}; NO other packages\n"
        "#   (no scipy, sklearn, networkx, pandas, torch, tensorflow): importing one fails.\n"
        "# - No network, no subprocesses, no files except a small scratch directory.\n"
        f"# - Each call of `{task.entry_point}` may use {task.time_limit_s:g} s of CPU time (all threads; only the\n"
        f"#   call is timed; module-level code has its own {task.module_time_limit_s:g} s) and {task.memory_limit_mb} MiB.\n"
        "#   The program must define it with exactly the arguments shown above.\n"
    )


def described_utility_text(task: Task) -> str:
    """The utility description an improver sees for `task`: the task's text plus the note."""
    return task.utility_text.rstrip("\n") + "\n" + environment_note(task)
