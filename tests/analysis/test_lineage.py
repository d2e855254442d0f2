from selftaught.analysis.lineage import lineage
from selftaught.analysis.rundata import load_run
from tests.analysis.factory import C1, C2, C3, S0, improver_run, make_run, self_improve_run


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


def test_downstream_runs_hang_under_the_tasks_seed_program(tmp_path):
    runs = [improver_run(1, "imp", 0, 0.9, 0.8, task="fibonacci", kind="improve",
                         solution_source="def fib(n):\n    return n\n")]
    tree = lineage(load_run(make_run(tmp_path, "r", "improve", runs, settings={"task": "fibonacci"})))
    root, child = tree.nodes
    assert (root.label, root.role, child.parent, child.role) == ("seed program (fibonacci)", "seed", root.key, "solution")
    assert "-    if n < 2:\n" in child.diff and "+    return n\n" in child.diff
