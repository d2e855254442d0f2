"""The README's first screen is a contract: two commands, and CI runs the second verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text())[:2]


def test_the_first_screen_has_the_two_commands():
    main_job, tests = readme_commands()
    assert main_job.startswith("python3.11 -m venv .venv") and "selftaught" in main_job
    assert tests.startswith("python3.11 -m venv .venv") and "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci


def test_the_readme_task_example_is_the_builtin_fibonacci_task():
    readme = (ROOT / "README.md").read_text()
    builtin = ROOT / "src" / "selftaught" / "tasks" / "builtin" / "fibonacci"
    for name in ("task.toml", "seed.py", "utility.txt", "scorer.py"):
        assert (builtin / name).read_text().strip() in readme, f"README's {name} is out of date"


def test_the_readme_config_example_loads(tmp_path):
    from selftaught.config import load

    (example,) = [block for block in re.findall(r"```toml\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)
                  if block.startswith("[lm]")]
    path = tmp_path / "example.toml"
    path.write_text(example)
    config = load("small", path)
    assert (config.lm.backend, config.run.lm_calls, config.placement.workers) == ("openai", 4, 2)
