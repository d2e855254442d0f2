"""Language-model replicas on a real two-node local Ray cluster (`ray start`, 1 CPU per node):
one engine per node, the driver's client spreading requests over both, the usage log naming
which served. The cluster is test_ray.py's."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the ray executor needs `pip install 'selftaught[ray]'`")

from selftaught.config import Config  # noqa: E402
from selftaught.errors import ConfigError  # noqa: E402
from selftaught.lm.cache import CacheMode  # noqa: E402
from selftaught.lm.config import LMConfig  # noqa: E402
from selftaught.runs.rundir import RunDir  # noqa: E402
from selftaught.session import open_session  # noqa: E402
from selftaught.settings import PRESETS, Placement  # noqa: E402

from tests.executors.test_ray import RAY, LocalCluster  # noqa: E402

pytestmark = pytest.mark.timeout(400)


@pytest.fixture(scope="module")
def cluster():
    if not Path(RAY).exists():
        pytest.skip(f"no `ray` command beside the interpreter ({RAY})")
    root = Path(tempfile.mkdtemp(prefix="st-rep-", dir="/tmp"))
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


@pytest.mark.embedded
def test_a_run_on_two_nodes_uses_the_replica_on_each(cluster, tmp_path):
    settings = dataclasses.replace(PRESETS["small"], lm_responses=1, meta_responses=1, sample_seed="replicas")
    placement = Placement(executor="ray", ray_address=cluster.address, lm_replicas="per-node")
    cache = tmp_path / "cache.sqlite"
    config = Config(LMConfig(cache=CacheMode.READWRITE, cache_path=cache, max_tokens=8, ctx_per_slot=1024), settings,
                    placement)
    run = RunDir.create(tmp_path / "runs", "improve", {})
    texts: dict[int, list[str]] = {}

    def ask(lm, i: int) -> None:
        texts[i] = lm.with_fresh_budget(stream=f"s{i}").prompt("Be terse.", f"Say the number {i}.")

    with open_session(run, config) as session:
        assert session.lm.backend.name == "openai" and len(session.lm.backend.endpoints) == 2
        threads = [threading.Thread(target=ask, args=(session.lm, i)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    usage = [json.loads(line) for line in run.usage_log.read_text().splitlines()]
    served = {url for record in usage for url in record["endpoints"]}
    assert len(usage) == 4 and len(served) == 2, usage  # both replicas answered
    # Which replica answered is not part of what was cached: the same requests replay offline,
    # serially and without Ray, to the same samples.
    replay = Config(LMConfig(backend="replay", cache_path=cache, max_tokens=8),
                    dataclasses.replace(PRESETS["small"], lm_responses=1, meta_responses=1, sample_seed="replicas"))
    with open_session(RunDir.create(tmp_path / "replay", "improve", {}), replay) as session:
        assert {i: session.lm.with_fresh_budget(stream=f"s{i}").prompt("Be terse.", f"Say the number {i}.")
                for i in range(4)} == texts


def test_replicas_need_the_ray_executor():
    with pytest.raises(ConfigError, match="--lm-replicas is set but the executor is not ray") as error:
        Placement(lm_replicas="per-node")
    assert "--executor ray" in error.value.fix
