import pytest

from selftaught.tasks.loader import load_task


@pytest.fixture(scope="module")
def task():
    return load_task("string_grid_distance")


def instance(task, t, dist):
    return task.scorer.GridInstance(seed=0, t=t, dist=dist, hidden_s=t)


def find_at_distance(t, dist):
    """Exact solver: dynamic programming over (position, letter) -> reachable partial distances."""
    target = dist - sum(a != b for a, b in zip(t, t[1:]))
    came_from = [{c: {int(c != t[0]): None} for c in "AB"}]
    for i in range(1, len(t)):
        came_from.append({c: {} for c in "AB"})
        for c in "AB":
            for prev in "AB":
                for d in came_from[i - 1][prev]:
                    came_from[i][c].setdefault(d + (c != t[i]) + (c != prev), prev)
    for c in "AB":
        if target in came_from[-1][c]:
            s, d = [c], target
            for i in range(len(t) - 1, 0, -1):
                prev = came_from[i][c][d]
                d -= (c != t[i]) + (c != prev)
                s.append(prev)
                c = prev
            return "".join(reversed(s))
    return None


def test_metadata(task, arity):
    assert (task.name, task.entry_point, task.time_limit_s) == ("string_grid_distance", "algorithm", 0.1)
    assert task.split("val").instances == task.split("test").instances == 50
    assert arity(task) == 2
    assert "0.1 seconds" in task.utility_text


def test_grid_dist_by_hand(task):
    grid_dist = task.scorer.grid_dist
    assert grid_dist("AB", "AB") == 2  # 0 differences + 1 change in s + 1 in t
    assert grid_dist("BB", "AB") == 2  # 1 difference + 0 + 1
    assert grid_dist("BA", "AB") == 4  # 2 + 1 + 1
    assert grid_dist("BAB", "AAB") == 4  # 1 + 2 + 1
    assert grid_dist("A", "B") == 1
    assert grid_dist("AAAA", "AAAA") == 0


def test_instances(task):
    lengths = set()
    for seed in task.split("val").seeds():
        inst = task.make_instance(seed)
        t, dist = task.arguments(inst)
        assert type(t) is str and 1 <= len(t) <= 30 and set(t) <= {"A", "B"}
        assert type(dist) is int and dist == task.scorer.grid_dist(inst.hidden_s, t)
        lengths.add(len(t))
    assert len(lengths) > 10
    assert task.make_instance(3) == task.make_instance(3)


def test_score_by_hand(task, ok):
    inst = instance(task, "AB", 3)
    assert task.scorer.score(instance(task, "AB", 2), ok("BB")) == 1.0
    assert task.scorer.score(inst, ok("AB")) == pytest.approx(0.5 - 1 / 12)  # distance 2, off by 1
    assert task.scorer.score(inst, ok("BA")) == pytest.approx(0.5 - 1 / 12)  # distance 4, off by 1
    assert task.scorer.score(instance(task, "AAB", 0), ok("BAB")) == pytest.approx(0.5 - 4 / 18)


@pytest.mark.parametrize("bad", ["ABC", "A", "ABB", "ab", "", ["A", "B"], None, 2, b"AB", {"s": "AB"}])
def test_malformed_strings_score_zero(task, ok, bad):
    assert task.scorer.score(instance(task, "AB", 2), ok(bad)) == 0.0


def test_failed_calls_score_zero(task, failed):
    assert task.scorer.score(instance(task, "AB", 2), failed("BB")) == 0.0


def test_seed_answer_and_exact_solver(task, ok):
    insts = [task.make_instance(s) for s in task.split("val").seeds()]
    seed_scores = [task.score(i, ok(i.t)) for i in insts]  # the seed program returns t
    assert 0.3 < sum(seed_scores) / len(seed_scores) < 0.7
    assert all(task.score(i, ok(find_at_distance(i.t, i.dist))) == 1.0 for i in insts)
