"""The HTML report of runs: one self-contained page (inline CSS, PNG figures as data URIs,
highlighted code, no scripts, no network fetches). `build_report(paths).save(file)`."""

from selftaught.report.build import Report, build_report

__all__ = ["Report", "build_report"]
