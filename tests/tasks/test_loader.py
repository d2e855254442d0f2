import shutil

import pytest

from selftaught.errors import ConfigError
from selftaught.tasks.loader import builtin_dir, builtin_names, load_task


@pytest.fixture
def task_dir(tmp_path):
    target = tmp_path / "mytask"
    shutil.copytree(builtin_dir() / "fibonacci", target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_builtin_tasks_load_by_name():
    assert "fibonacci" in builtin_names()
    task = load_task("fibonacci")
    assert task.entry_point == "fib" and task.splits["val"].instances == 5
    assert "def fib" in task.seed_program and "Brevity" in task.utility_text


def test_a_task_directory_loads_by_path(task_dir):
    assert load_task(task_dir).directory == task_dir.resolve()


def _edit(path, old, new):
    path.write_text(path.read_text().replace(old, new))


@pytest.mark.parametrize(
    "edit, problem",
    [
        (("task.toml", 'entry_point = "fib"', 'entry_point = "not valid"'), "entry_point 'not valid' is not"),
        (("task.toml", "time_limit_s = 2.0", "time_limit_s = -1"), "field `time_limit_s` = -1 is invalid"),
        (("task.toml", "memory_limit_mb = 256", "memory_limit_mb = true"), "field `memory_limit_mb` = True"),
        (("task.toml", 'entry_point = "fib"\n', ""), "missing field `entry_point`"),
        (("task.toml", "seed = 200", "seed = 102"), "val and test splits share seeds (e.g. 102)"),
        (("task.toml", "instances = 10", "instances = 0"), "[splits.test] needs an integer"),
        (("task.toml", "[splits.val]", "[splits.vals]"), "must define [splits.val] and [splits.test]"),
        (("task.toml", "[splits.val]", "[split.val]"), "unknown field `split`"),
        (("task.toml", "speed_scored = true", "speed_score = true"), "unknown field `speed_score`"),
        (("task.toml", "seed = 100\n", "seed = 100\ninstance = 5\n"), "unknown field `instance` in [splits.val]"),
        (("task.toml", "time_limit_s = 2.0", "time_limit_s = 1e12"), "field `time_limit_s` = 1000000000000.0"),
        (("task.toml", "time_limit_s = 2.0", "time_limit_s = inf"), "field `time_limit_s` = inf is invalid"),
        (("task.toml", "time_limit_s = 2.0", "time_limit_s = nan"), "field `time_limit_s` = nan is invalid"),
        (("task.toml", "memory_limit_mb = 256", "memory_limit_mb = 256\nmodule_time_limit_s = inf"),
         "field `module_time_limit_s` = inf is invalid"),
        (("task.toml", "memory_limit_mb = 256", "memory_limit_mb = 9223372036854775807"),
         "field `memory_limit_mb` = 9223372036854775807 is invalid"),
        (("task.toml", "instances = 10", "instances = 100001"), "[splits.test] needs an integer"),
        (("task.toml", "seed = 200", "seed = true"), "[splits.test] needs an integer"),
        (("task.toml", "seed = 200", "seed = 104"), "val and test splits share seeds (e.g. 104)"),
        (("task.toml", "seed = 200", "seed = 96"), "val and test splits share seeds (e.g. 100)"),
        (("seed.py", "def fib(n):", "def fibo(n):"), "seed.py: the seed program does not define the entry point `fib`"),
        (("seed.py", "def fib(n):", "async def fib(n):"), "seed.py: the entry point `fib` is an async def"),
        (("scorer.py", "def finalize(mean, scores, source):", "finalize = 3\n\n\ndef unused(mean, scores, source):"),
         "scorer.py: `finalize` = 3 is not a function"),
        (("seed.py", "return n", "return n +"), "seed.py:3: the seed program does not parse"),
        (("scorer.py", "def arguments(instance):", "def args(instance):"), "missing function(s) arguments"),
        (("scorer.py", "import math", "import not_a_module_xyz"), "scorer.py failed to import: ModuleNotFoundError"),
        (("task.toml", "memory_limit_mb = 256", "memory_limit_mb = 256\nmodule_time_limit_s = 0"),
         "field `module_time_limit_s` = 0 is invalid"),
        (("task.toml", 'name = "fibonacci"', "name = 3"), "field `name` = 3"),
        (("task.toml", 'name = "fibonacci"', 'name = "fib/v2"'), "field `name` = 'fib/v2' is invalid"),
    ],
)
def test_errors_name_the_file_and_the_field(task_dir, edit, problem):
    file, old, new = edit
    text = (task_dir / file).read_text()
    assert old in text  # the edit must change something, or the case tests nothing
    _edit(task_dir / file, old, new)
    with pytest.raises(ConfigError) as info:
        load_task(task_dir)
    assert problem in info.value.problem
    assert file in info.value.problem and info.value.fix


@pytest.mark.parametrize("missing", ["task.toml", "seed.py", "utility.txt", "scorer.py"])
def test_a_missing_file_is_named(task_dir, missing):
    (task_dir / missing).unlink()
    with pytest.raises(ConfigError, match=f"{missing} is missing"):
        load_task(task_dir)


def test_an_unknown_task_lists_the_builtins():
    with pytest.raises(ConfigError) as info:
        load_task("no_such_task")
    assert "fibonacci" in info.value.fix and "new-task" in info.value.fix


def test_bad_toml_and_non_utf8(task_dir):
    (task_dir / "utility.txt").write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="utility.txt is not UTF-8"):
        load_task(task_dir)
    (task_dir / "task.toml").write_text("name = ")
    with pytest.raises(ConfigError, match="task.toml is not valid TOML"):
        load_task(task_dir)


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_task_loads(name):
    assert load_task(name).name == name


def test_an_unknown_field_names_the_nearest(task_dir):
    _edit(task_dir / "task.toml", "speed_scored = true", "speed_score = true")
    with pytest.raises(ConfigError, match="did you mean `speed_scored`"):
        load_task(task_dir)


def test_splits_that_only_touch_do_not_overlap(task_dir):
    _edit(task_dir / "task.toml", "seed = 200", "seed = 105")  # val is 100..104
    assert load_task(task_dir).splits["test"].seed == 105


@pytest.mark.parametrize("seed", [
    "from math import fib\n",
    "import fib\n",
    "fib = lambda n: n\n",
    "fib: object = len\n",
    "a, (fib, b) = 1, (len, 2)\n",
    "class fib:\n    pass\n",
    "try:\n    from fast import fib\nexcept ImportError:\n    def fib(n):\n        return n\n",
    "from helpers import *\n",  # may bind it: not checkable, so not refused
    "async def fib(n):\n    return n\nfib = sync(fib)\n",  # the later binding counts
])
def test_the_entry_point_may_be_bound_any_way(task_dir, seed):
    (task_dir / "seed.py").write_text(seed)
    assert load_task(task_dir).entry_point == "fib"


@pytest.mark.parametrize("seed", ["def outer():\n    def fib(n):\n        return n\n", "x.fib = len\n"])
def test_an_entry_point_bound_only_inside_something_else_is_refused(task_dir, seed):
    (task_dir / "seed.py").write_text(seed)
    with pytest.raises(ConfigError, match="does not define the entry point `fib`"):
        load_task(task_dir)


def test_finalize_none_counts_as_absent(task_dir):
    (task_dir / "scorer.py").write_text((task_dir / "scorer.py").read_text() + "\nfinalize = None\n")
    assert load_task(task_dir).scorer.finalize is None


@pytest.mark.parametrize("file", ["task.toml", "seed.py", "utility.txt", "scorer.py"])
def test_a_directory_in_place_of_a_file_is_named(task_dir, file):
    (task_dir / file).unlink()
    (task_dir / file).mkdir()
    with pytest.raises(ConfigError) as info:
        load_task(task_dir)
    assert f"cannot read {task_dir / file}" in info.value.problem and file in info.value.fix


def test_a_task_toml_that_is_not_utf8_is_named(task_dir):
    (task_dir / "task.toml").write_bytes((task_dir / "task.toml").read_bytes().replace(b"Fibonacci", b"Fibon\xe4cci"))
    with pytest.raises(ConfigError, match="task.toml is not UTF-8 text"):
        load_task(task_dir)


def test_module_time_limit_defaults_to_one_second_and_can_be_set(task_dir):
    assert load_task(task_dir).module_time_limit_s == 1.0
    _edit(task_dir / "task.toml", "memory_limit_mb = 256", "memory_limit_mb = 256\nmodule_time_limit_s = 3")
    assert load_task(task_dir).module_time_limit_s == 3.0
