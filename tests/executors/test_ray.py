"""The ray executor on a real Ray cluster on this machine: a head node and one worker node
(`ray start`, 1 CPU each, in a temp dir), started for this module and stopped after it.

- the recorded job gives the ray executor the same journal as the serial one;
- a failure of the machinery in a unit (here: a replay miss) stops the run with that error,
  without retrying the unit or scoring it;
- killing the worker node while it runs a unit: the unit is retried on the head, every unit
  is journalled exactly once, and none scores 0 for the crash.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the ray executor needs `pip install 'selftaught[ray]'`")

from selftaught.errors import CacheMiss  # noqa: E402
from selftaught.executors import SerialExecutor  # noqa: E402
from selftaught.executors.ray_cluster import RayExecutor  # noqa: E402
from selftaught.work import open_pools  # noqa: E402
from selftaught.lm.backends.replay import ReplayBackend  # noqa: E402
from selftaught.lm.cache import CacheMode, ResponseCache  # noqa: E402

from tests.executors.jobs import ScriptedModel, results, run_job, session  # noqa: E402

pytestmark = pytest.mark.timeout(300)
RAY = str(Path(sys.executable).with_name("ray"))
START_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    """Two `ray start --block` processes, each in its own process group, so that one node can
    be killed (and both stopped) by process group, leaving any other Ray on the machine alone."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, _free_port()
        self.address = f"127.0.0.1:{self.port}"
        # No token auth (a test cluster lives a minute), whatever ~/.ray/auth_token a local
        # ray.init() left; the driver (this process) gets the same setting while the cluster runs.
        self.auth = {"RAY_AUTH_MODE": "disabled"}
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **self.auth}
        self.nodes: dict[str, subprocess.Popen] = {}

    def _start(self, name: str, *args: str) -> None:
        (self.root / name).mkdir()
        log = (self.root / f"{name}.log").open("w")
        self.nodes[name] = subprocess.Popen(
            [RAY, "start", "--block", "--num-cpus=1", "--disable-usage-stats", "--node-ip-address=127.0.0.1",
             f"--temp-dir={self.root / name}", "--object-store-memory=80000000",
             f"--dashboard-agent-listen-port={_free_port()}", *args],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def _wait_for(self, alive_nodes: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for name, proc in self.nodes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"ray node {name} exited: {(self.root / f'{name}.log').read_text()[-2000:]}")
            done = subprocess.run([RAY, "status", f"--address={self.address}"], env=self.env,
                                  capture_output=True, text=True, timeout=60)
            if done.returncode == 0 and done.stdout.count("node_") >= alive_nodes:
                return
            time.sleep(1)
        logs = "\n".join(f"{name}: {(self.root / f'{name}.log').read_text()[-1500:]}" for name in self.nodes)
        raise RuntimeError(f"the Ray cluster did not reach {alive_nodes} node(s) in {START_TIMEOUT_S} s; "
                           f"`ray status`: {done.stdout[-500:]}{done.stderr[-1500:]}\n{logs}")

    def start(self) -> None:
        self._start("head", "--head", f"--port={self.port}", "--include-dashboard=false")
        self._wait_for(1)
        self._start("worker", f"--address={self.address}")
        self._wait_for(2)

    def kill(self, name: str) -> None:
        proc = self.nodes.pop(name)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(30)

    def stop(self) -> None:
        for name, proc in self.nodes.items():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for name in list(self.nodes):
            try:
                self.nodes[name].wait(5)
            except subprocess.TimeoutExpired:
                pass
            self.kill(name)  # whatever of its group is left


@pytest.fixture(scope="module")
def cluster():
    if not Path(RAY).exists():
        pytest.skip(f"no `ray` command next to {sys.executable}")
    if not os.path.isdir("/dev/shm"):
        pytest.skip("Ray needs /dev/shm for its object store")
    root = Path(tempfile.mkdtemp(prefix="st-ray-", dir="/tmp"))  # short: Ray's socket paths are capped
    cluster = LocalCluster(root)
    saved = {name: os.environ.get(name) for name in cluster.auth}
    os.environ.update(cluster.auth)
    try:
        cluster.start()
        yield cluster
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def pools():
    with open_pools(improver_slots=3, program_slots=2) as pools:
        yield pools


def test_ray_gives_the_serial_executors_results(cluster, pools, tmp_path):
    cache = tmp_path / "cache.sqlite"
    recorded = session(tmp_path / "serial", pools, SerialExecutor(), ScriptedModel(), cache, CacheMode.READWRITE)
    run_job(recorded)
    executor = RayExecutor(cluster.address)
    try:
        assert executor.workers == 2
        replayed = session(tmp_path / "ray", pools, executor, ReplayBackend("scripted"), cache, CacheMode.REPLAY)
        runs = run_job(replayed)
        before = list(replayed.journal.events())
        assert run_job(replayed) == runs and list(replayed.journal.events()) == before  # journalled: not rerun
    finally:
        executor.close()
    assert [r["status"] for r in runs] == ["ok"] * 4
    assert results(replayed) == results(recorded)
    # the units' LM calls were served by the driver: in the run's usage log, all from the cache
    assert replayed.lm.usage.calls == 4 and [r["lm_calls"] for r in runs] == [1] * 4


def test_a_replay_miss_stops_the_run_and_is_not_retried(cluster, pools, tmp_path):
    empty = tmp_path / "empty.sqlite"
    ResponseCache(empty, CacheMode.READWRITE).close()
    executor = RayExecutor(cluster.address)
    try:
        job = session(tmp_path / "run", pools, executor, ReplayBackend("scripted"), empty, CacheMode.REPLAY)
        with pytest.raises(CacheMiss, match="has no sample #0"):
            run_job(job)
    finally:
        executor.close()
    events = list(job.journal.events())
    assert not [e for e in events if e["kind"] == "improver_run"]
    started = Counter(e["run"] for e in events if e["kind"] == "improver_run_started")
    assert len(started) == 4 and set(started.values()) == {1}


def test_a_killed_worker_node_costs_a_retry_not_a_result(cluster, pools, tmp_path):
    gate = threading.Event()
    model = ScriptedModel(gate)
    executor = RayExecutor(cluster.address)
    job = session(tmp_path / "run", pools, executor, model, tmp_path / "cache.sqlite", CacheMode.READWRITE)
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["runs"] = run_job(job)
        except BaseException as exc:  # reported below
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    try:
        # The event that matters, not a count that timing decides: a unit has started on the
        # worker node (the driver's node is the head). It may be anywhere in its run when the
        # node dies; the gate keeps it from finishing first.
        head = ray.get_runtime_context().get_node_id()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and thread.is_alive() and not any(
                e.get("node") not in (None, head) for e in job.journal.events("improver_run_started")):
            time.sleep(0.2)
        assert any(e.get("node") != head for e in job.journal.events("improver_run_started")), outcome
        cluster.kill("worker")
        gate.set()
        thread.join(240)
    finally:
        gate.set()
        thread.join(60)
        executor.close()
    assert "error" not in outcome, outcome.get("error")
    runs = outcome["runs"]
    assert [r["status"] for r in runs] == ["ok"] * 4 and all(r["val"] > 0 for r in runs)
    events = list(job.journal.events())
    done = Counter(e["key"] for e in events if e["kind"] == "improver_run")
    assert sorted(done) == sorted(r["key"] for r in runs) and set(done.values()) == {1}
    started = Counter(e["run"] for e in events if e["kind"] == "improver_run_started")
    # the unit that was running on the worker (and any the worker had taken) started again
    assert set(started) == set(done) and max(started.values()) >= 2


@pytest.mark.parametrize("address, problem", [
    ("127.0.0.1:1", "no Ray cluster answers at 127.0.0.1:1"),
    ("ray://10.0.0.1:10001", "Ray Client addresses are not supported"),
    ("head-node", "is not HOST:PORT"),
])
def test_a_bad_address_fails_at_once_with_a_fix(address, problem):
    from selftaught.errors import ConfigError

    if ray.is_initialized():
        ray.shutdown()
    started = time.monotonic()
    with pytest.raises(ConfigError, match=problem) as error:
        RayExecutor(address)
    assert error.value.fix and time.monotonic() - started < 15
