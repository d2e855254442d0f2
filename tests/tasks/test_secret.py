"""Hidden instance seeds: derived from a secret the host keeps, stored with care."""

import hashlib
import hmac
import os
import stat

import pytest

from selftaught.errors import ConfigError
from selftaught.tasks import secret as secrets_module
from selftaught.tasks.loader import load_task
from selftaught.tasks.secret import (InstanceSecret, create_run_secret, load_or_create, load_run_secret,
                                     read_secret, rng_seed, write_secret)

KEY = InstanceSecret(bytes(range(32)))


def test_seeds_are_an_hmac_of_task_split_and_index():
    assert KEY.instance_seed("parity", "val", 4321, 0) == 3809780965931573680
    assert KEY.instance_seed("parity", "val", 4321, 1) == 1005639922303953397
    assert KEY.instance_seed("parity", "test", 5678, 0) == 17489216472365145476
    digest = hmac.new(bytes(range(32)), b"parity/val/4321/0", hashlib.sha256).digest()
    assert KEY.instance_seed("parity", "val", 4321, 0) == int.from_bytes(digest[:8], "big")


def test_a_task_numbers_its_hidden_instances():
    task = load_task("parity")
    seeds = task.instance_seeds("val", KEY)
    assert seeds[:2] == [3809780965931573680, 1005639922303953397] and len(seeds) == 20
    assert not set(seeds) & set(task.instance_seeds("test", KEY))
    assert seeds != task.instance_seeds("val", InstanceSecret.generate())
    with pytest.raises(ConfigError, match="no split 'train'"):
        task.instance_seeds("train", KEY)


def test_the_rng_seed_is_fixed_per_instance_and_program():
    assert rng_seed(3809780965931573680, "abc") == 7932654507064795667
    assert rng_seed(3809780965931573680, "abd") != rng_seed(3809780965931573680, "abc")


def test_the_key_is_never_printed():
    assert repr(KEY) == "InstanceSecret()" and KEY.hex() not in str(KEY)


def test_a_secret_file_is_private_and_round_trips(tmp_path):
    path = tmp_path / "run" / "instance_secret"
    write_secret(path, KEY)
    assert read_secret(path) == KEY and path.read_text() == KEY.hex() + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    write_secret(path, KEY)  # the same secret again: fine
    with pytest.raises(ConfigError, match="already holds another instance secret"):
        write_secret(path, InstanceSecret.generate())
    assert [p.name for p in path.parent.iterdir()] == ["instance_secret"]


def test_load_or_create_creates_once(tmp_path):
    path = tmp_path / "instance_secret"
    first = load_or_create(path)
    assert load_or_create(path) == first and len(first.key) == 32


def test_the_user_secret_lives_in_the_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert secrets_module.user_secret_path() == tmp_path / "selftaught" / "instance_secret"
    assert secrets_module.user_secret() == secrets_module.user_secret()
    assert os.listdir(tmp_path / "selftaught") == ["instance_secret"]


@pytest.mark.parametrize("text", ["", "xyz", "00ff"])
def test_malformed_secrets_are_refused(tmp_path, text):
    (tmp_path / "s").write_text(text)
    with pytest.raises(ConfigError) as info:
        read_secret(tmp_path / "s")
    assert "hex" in info.value.problem and info.value.fix
    with pytest.raises(ConfigError, match="no instance secret at"):
        read_secret(tmp_path / "missing")


def test_a_run_keeps_its_keys_fingerprint_and_defaults_to_the_users(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert create_run_secret(tmp_path / "run") == secrets_module.user_secret() == load_run_secret(tmp_path / "run")
    assert create_run_secret(tmp_path / "other", KEY) == KEY == load_run_secret(tmp_path / "other")
    for run in ("run", "other"):  # the key is in the user's key store, never in the run
        assert sorted(os.listdir(tmp_path / run)) == ["instance_key.sha256"]
        assert KEY.hex() not in (tmp_path / run / "instance_key.sha256").read_text()
    with pytest.raises(ConfigError, match="predates hidden instances") as info:
        load_run_secret(tmp_path / "old-run")
    assert "start a new run" in info.value.fix


def test_a_run_moved_to_another_machine_names_the_missing_key_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "here"))
    create_run_secret(tmp_path / "run", KEY)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "elsewhere"))
    with pytest.raises(ConfigError, match=r"run was scored with an instance key this machine does not have "
                                          r"\(fingerprint [0-9a-f]{16}…") as info:
        load_run_secret(tmp_path / "run")
    assert "--instance-secret FILE" in info.value.fix and "--store-instance-key" in info.value.fix
    with pytest.raises(ConfigError, match="is not the one run was scored with"):
        load_run_secret(tmp_path / "run", InstanceSecret(bytes(range(1, 33))))
    assert load_run_secret(tmp_path / "run", KEY) == KEY
    assert load_run_secret(tmp_path / "run") == KEY  # given once, kept in this machine's store


def test_a_run_asked_to_store_its_key_carries_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "here"))
    create_run_secret(tmp_path / "shared", KEY, store=True)
    assert read_secret(tmp_path / "shared" / "instance_secret") == KEY
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "elsewhere"))
    assert load_run_secret(tmp_path / "shared") == KEY
