"""Run directories: config, programs, an append-only event journal, and resume."""

from selftaught.runs.journal import Journal
from selftaught.runs.rundir import RunDir

__all__ = ["Journal", "RunDir"]
