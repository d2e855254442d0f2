"""The report as a person sees it: rendered by real headless Chromium, with no console errors,
no fetches, every figure decoded, and a screenshot."""

import struct

import pytest

from selftaught.report import build_report
from tests.analysis.test_recorded import SELF_IMPROVE, TRANSFER
from tests.report.chromium import check_page
from tests.report.hostile import hostile_run


@pytest.mark.timeout(1200)  # the first use may install Chromium
def test_the_report_renders_in_chromium(chromium, tmp_path):
    page = build_report([SELF_IMPROVE, TRANSFER, hostile_run(tmp_path)]).save(tmp_path / "report.html")
    result = check_page(page, chromium)
    assert result.console_errors == []
    assert {url.split(":", 1)[0] for url in result.requests} <= {"file", "data"}
    assert len(result.images) == 10
    for image in result.images:
        assert image["error"] == "" and image["width"] > 0 and image["height"] > 0, image
    assert result.scripts == 0  # the hostile run's text did not become a script
    assert result.title.startswith(f"selftaught report: {SELF_IMPROVE.name}")
    shot = tmp_path / "report.png"
    shot.write_bytes(result.screenshot)
    width, height = struct.unpack(">II", result.screenshot[16:24])
    assert result.screenshot[:8] == b"\x89PNG\r\n\x1a\n" and width >= 1280 and height > 3000
