"""Analysis of run directories: strategies of improvers, safety telemetry, lineage, scores per
step with intervals, and the list of runs. Plain functions over read-only run data that return
result objects; nothing here prints or writes."""

from selftaught.analysis.analyze import Improver, RunAnalysis, analyze
from selftaught.analysis.rundata import RunData, load_run
from selftaught.analysis.runs import RunEntry, RunList, list_runs
from selftaught.analysis.safety import Safety, SafetyTable, run_safety, safety_table
from selftaught.analysis.stats import Rate, score_interval, wilson
from selftaught.stats import Interval
from selftaught.analysis.strategies import STRATEGIES, StrategyReport, detect, frequency

__all__ = [
    "Improver", "Interval", "Rate", "RunAnalysis", "RunData", "RunEntry", "RunList", "STRATEGIES", "Safety",
    "SafetyTable", "StrategyReport", "analyze", "detect", "frequency", "list_runs", "load_run", "score_interval",
    "run_safety", "safety_table", "wilson",
]
