"""Language-model replicas on a Ray cluster's nodes: the part of a run that costs (decoding) grows
with the cluster instead of staying on the head node.

`--executor ray --lm-replicas per-node` (or a number) starts one engine per node as a Ray actor,
with the embedded model from the node's own package install (nothing is downloaded). The
driver's LanguageModelClient then spreads its requests over the replicas (lm/backends/pool.py):
the cache, the k-th-sample claims, the budgets and the journal stay in the driver, so which
replica answered changes nothing that is cached or replayed. A replica that dies is taken out
of rotation and its requests go to the others; only when every replica is down does the run stop.

CPU split (stated rule): a replica decodes with half its node's CPUs (at least 1); the other
half is the node's sandbox pool for improver runs. Replicas listen on all interfaces with a key
made for this run, which only the driver holds.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from dataclasses import dataclass
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from selftaught.errors import ConfigError
from selftaught.lm.config import LMConfig

REPLICA_KEY_ENV = "SELFTAUGHT_REPLICA_KEY"  # set in the driver only, for its client


@ray.remote(num_cpus=0)
class EngineReplica:
    """One engine on this node, for the run's lifetime (the server dies with the actor)."""

    def __init__(self, config: LMConfig, slots: int, threads: int, api_key: str) -> None:
        from selftaught.lm.local.embedded import ensure_model
        from selftaught.lm.local.server import LlamaServer, ServerConfig

        self.server = LlamaServer(ServerConfig(
            model_path=config.model_path or ensure_model(), slots=slots, ctx_per_slot=config.ctx_per_slot,
            threads=threads, alias=config.model_name, startup_timeout_s=config.startup_timeout_s,
            engine=config.engine, llama_server=config.llama_server, api_key=api_key, host="0.0.0.0",
        )).start()

    def url(self) -> str:
        return f"http://{ray.util.get_node_ip_address()}:{self.server.port}/v1"

    def served_by(self) -> str:
        assert self.server.served is not None
        return self.server.served.describe()


@dataclass
class Replicas:
    """The started replicas: their URLs (the driver's endpoints) and the key they require."""

    actors: list[Any]
    urls: list[str]
    api_key: str

    def lm_config(self, base: LMConfig) -> LMConfig:
        """The driver's LM config: the replicas as endpoints of the same model (the cache keys
        stay the embedded model's), with this run's key in this process's environment only."""
        os.environ[REPLICA_KEY_ENV] = self.api_key
        return dataclasses.replace(base, backend="openai", endpoints=tuple(self.urls), model=base.model_name,
                                   base_url=None, api_key_env=REPLICA_KEY_ENV)

    def stop(self) -> None:
        for actor in self.actors:
            try:
                ray.kill(actor)
            except Exception:  # already gone with its node
                pass


def parse_count(value: str) -> int | None:
    """'' -> 0 (no replicas), 'per-node' -> None (every node), 'N' -> N."""
    if value in ("", "0"):
        return 0
    if value == "per-node":
        return None
    if value.isdigit():
        return int(value)
    raise ConfigError(f"lm_replicas = {value!r} is not 'per-node' or a number of replicas",
                      "use --lm-replicas per-node, or --lm-replicas N")


def start_replicas(config: LMConfig, slots: int, count: str) -> Replicas:
    """Engines on `count` alive nodes ('per-node': all), in parallel; raises naming a node whose
    engine does not start."""
    wanted = parse_count(count)
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    chosen = nodes if wanted is None else nodes[:wanted]
    if wanted and len(nodes) < wanted:
        raise ConfigError(f"--lm-replicas {wanted} asks for more nodes than the cluster has ({len(nodes)})",
                          "use --lm-replicas per-node, or a number up to the nodes of `ray status`")
    key = secrets.token_hex(16)
    actors = [EngineReplica.options(  # type: ignore[attr-defined]
        scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False),
        name=f"selftaught-engine-{n['NodeID'][:8]}-{key[:6]}",
    ).remote(config, slots, max(1, int(n.get("Resources", {}).get("CPU", 2)) // 2), key) for n in chosen]
    replicas = Replicas(actors, [], key)
    try:
        replicas.urls = ray.get([a.url.remote() for a in actors])
    except Exception as exc:
        replicas.stop()
        raise ConfigError(f"an engine replica did not start on the cluster: {exc}",
                          "run `selftaught doctor` on each node (the embedded model and engine must be installed)") from None
    return replicas
