import base64
import struct

from selftaught.analysis.history import Step, TransferRow, Usage
from selftaught.stats import Interval
from selftaught.report import plots
from tests.analysis.factory import self_improve_run


def png_size(uri: str) -> tuple[int, int]:
    assert uri.startswith("data:image/png;base64,")
    data = base64.b64decode(uri.split(",", 1)[1])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_every_figure_is_a_png_and_the_same_input_gives_the_same_bytes(tmp_path):
    from selftaught.analysis.history import self_improvement
    from selftaught.analysis.rundata import load_run

    steps = self_improvement(load_run(self_improve_run(tmp_path)))
    row = TransferRow("max$cut$", 0.4, {"I_0": Interval(0.5, 0.2, 0.8, 3), "I_1": Interval(0.1, 0.0, 0.3, 3)}, Usage())
    figures = [
        plots.meta_utility([("run", steps)], [("lpn (val)", 0.45)]),
        plots.meta_utility([("a", steps), ("b", steps)], []),
        plots.candidates(steps),
        plots.usage(["I_0", "step 1"], [s.usage for s in steps[:2]], [22.0, 38.0], "step"),
        plots.transfer([row, row]),
        plots.strategy_frequency({"beam_search": 2, "local_search": 0}, 3),
        plots.strategy_frequency({"beam_search": 0}, 0),
        plots.before_after("fibonacci", (0.5, None), (0.9, 0.8)),
    ]
    for uri in figures:
        width, height = png_size(uri)
        assert width >= 400 and height >= 150
    assert plots.candidates(steps) == figures[2]


def test_labels_cannot_switch_matplotlib_into_math_mode():
    assert plots.label("a $x$ b") == r"a \$x\$ b"
    assert plots.label("x" * 60) == "x" * 37 + "..."
    empty = [Step(0, "i", None, None, True, "seed", None, (), Usage(), 0.0)]
    png_size(plots.candidates(empty))


def test_several_runs_put_the_meta_utility_legend_beside_the_axes(tmp_path):
    from selftaught.analysis.history import self_improvement
    from selftaught.analysis.rundata import load_run

    steps = self_improvement(load_run(self_improve_run(tmp_path)))
    # 100 dpi: one run keeps its legend inside a 7.5 in figure; several get 3 in more for theirs,
    # and more than 4 runs a taller figure for the longer legend.
    assert png_size(plots.meta_utility([("run", steps)], [])) == (750, 360)
    assert png_size(plots.meta_utility([("a", steps), ("b", steps)], [])) == (1050, 360)
    assert png_size(plots.meta_utility([(str(k), steps) for k in range(6)], [])) == (1050, 480)
