"""A run whose LM-written text tries everything a page must not let through."""

from pathlib import Path

from tests.analysis.factory import evaluation, improver_run, make_run, meta_score, usage

ATTACK = ('"</script><script>alert(1)</script><img src=x onerror=alert(2)>'
          '<link rel=stylesheet href="http://example.invalid/x.css">\x1b[2J\x1b]0;owned\x07\u202e\ud800')
IMPROVER = f"def improve_algorithm(initial_solution, utility, language_model):\n    return {ATTACK!r}\n"


def hostile_run(root: Path) -> Path:
    runs = [improver_run(1 + i, "evil", i, 0.5, 0.5, task="fibonacci", flags=("disable_sandbox",),
                         blocked=f"seccomp {ATTACK}", solution_source=f"# {ATTACK}\ndef fib(n):\n    return n\n")
            for i in range(2)]
    events = [*runs, {**meta_score(4, "evil", runs, "fibonacci"), "improver": "evil"},
              {**evaluation(5, "fibonacci", "val", "e" * 16, ["bad_output"]),
               "instances": [{"status": "bad_output", "diagnostics": ATTACK, "static_flags": [ATTACK]}]}]
    settings = {"tasks": ["fibonacci"], "run": {"n_tests": 2, "iterations": 0}, "lm": {"model": ATTACK}}
    return make_run(root, "20261124-110000-self-improve", "self-improve", events, [usage(2, 5, 5, model=ATTACK)],
                    settings=settings, programs=[IMPROVER])
