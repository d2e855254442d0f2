from selftaught.analysis.lineage import candidate_changes, lineage
from selftaught.analysis.rundata import load_run
from tests.analysis.factory import C1, C2, C3, S0, improver_run, make_run, self_improve_run
from tests.analysis.test_recorded import SELF_IMPROVE


def test_every_improver_knows_its_parent_with_a_diff(tmp_path):
    tree = lineage(load_run(self_improve_run(tmp_path)))
    assert [(n.program, n.label, n.parent, n.role) for n in tree.nodes] == [
        (S0, "I_0", None, "seed"), (C1, "I_1", S0, "accepted"), (C2, "candidate of step 1", S0, "rejected"),
        (C3, "candidate of step 2", C1, "rejected")]
    assert [n.program for n in tree.roots()] == [S0]
    assert [n.program for n in tree.children(S0)] == [C1, C2]
    i1 = tree.get(C1)
    assert i1.diff.startswith(f"--- {S0[:8]}.py\n+++ {C1[:8]}.py\n")
    assert "+    incumbent = initial_solution\n" in i1.diff
    assert tree.get(C2).source is None and tree.get(C2).diff is None  # its source was never recorded
    assert i1.edit == "code changed beyond the module's constants"  # analysis/edits.py, on the sources
    assert tree.get(C2).edit == "" and tree.get(S0).edit == ""  # no source to compare; the seed has no parent


def test_downstream_runs_hang_under_the_tasks_seed_program(tmp_path):
    runs = [improver_run(1, "imp", 0, 0.9, 0.8, task="fibonacci", kind="improve",
                         solution_source="def fib(n):\n    return n\n")]
    tree = lineage(load_run(make_run(tmp_path, "r", "improve", runs, settings={"task": "fibonacci"})))
    root, child = tree.nodes
    assert (root.label, root.role, child.parent, child.role) == ("seed program (fibonacci)", "seed", root.key, "solution")
    assert "-    if n < 2:\n" in child.diff and "+    return n\n" in child.diff


def test_candidates_are_counted_by_what_they_changed_and_whether_they_scored_like_their_parent(tmp_path):
    made = candidate_changes(load_run(self_improve_run(tmp_path)))
    assert [(c.t, c.improver, c.parent, c.category, c.same_scores) for c in made] == [
        (1, C1, S0, "code", False), (1, C2, S0, "source not recorded", False), (2, C3, C1, "code", False)]
    # A run recorded from the embedded model: its I_1 is I_0 with new comments, and under common
    # random numbers it scored exactly like I_0; one step-2 candidate does not parse.
    recorded = candidate_changes(load_run(SELF_IMPROVE))
    assert [(c.t, c.category, c.same_scores) for c in recorded] == [
        (1, "nothing", True), (1, "code", False), (2, "unparsable", False), (2, "code", False)]
