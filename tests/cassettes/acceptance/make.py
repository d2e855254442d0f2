"""Writes the improvers of the acceptance cassette (run once; the files are committed).

seed.py   the paper's seed improver, except that on an improver it proposes keep_best.py
keep_best.py  the seed improver that also keeps initial_solution if no rewrite beats it (really
          better where every rewrite is worse); on an improver it proposes first.py
first.py  returns the first rewrite unscored (really different, and worse)
Downstream all three send the seed improver's requests, so they share LM samples (CRN)."""

from pathlib import Path

from selftaught.improvers import seed_improver

HERE = Path(__file__).parent
SEED = seed_improver()
CALL = "    new_solutions = language_model.batch_prompt(expertise, [message] * n_messages, temperature=0.7)\n"
BRANCH = ('    if "def improve_algorithm" in initial_solution:  # improving an improver: a fixed proposal\n'
          "        return PROPOSAL\n")


def with_branch(source: str, proposal: str) -> str:
    doc = '    """Improves a solution according to a utility function."""\n'
    assert doc in source and CALL in source
    body = source.replace(doc, doc + BRANCH)
    return body.replace("from helpers import extract_code\n", f"from helpers import extract_code\n\nPROPOSAL = {proposal!r}\n")


first = SEED.replace("    best_solution = max(new_solutions, key=utility)\n", "    best_solution = new_solutions[0]\n")
keep_best = SEED.replace(
    "    n_messages = min(language_model.max_responses_per_call, utility.budget)\n",
    "    n_messages = min(language_model.max_responses_per_call, utility.budget - 1)\n").replace(
    "    best_solution = max(new_solutions, key=utility)\n",
    "    best_solution = max(new_solutions + [initial_solution], key=utility)\n")
assert first != SEED and keep_best != SEED
(HERE / "first.py").write_text(first)
(HERE / "keep_best.py").write_text(with_branch(keep_best, first))
(HERE / "seed.py").write_text(with_branch(SEED, with_branch(keep_best, first)))
