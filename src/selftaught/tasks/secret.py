"""The instance secret: the key hidden instance seeds are derived from.

Task generators are public, so public seeds (4321 + i) would let a program regenerate the
instance it is given and return the hidden answers. Instance i of a split is instead
make_instance(HMAC-SHA256(secret, "task/split/base seed/i")), a 64-bit seed. The secret
stays in the host: it is never sent into a sandbox, and the per-call RNG seed a program sees
is a one-way hash of the instance seed.

Where a secret comes from: `selftaught evaluate` and library calls without one use the
per-user secret, created on first use (user_secret_path()), so scores on one machine stay
comparable from run to run. A run records only the key's fingerprint (`instance_key.sha256`)
and finds the key in this user's key store (key_store(): every key a run used here, by
fingerprint), so a shared or published run directory never carries the key. A run keeps the
key itself (`instance_secret`) only when asked (`--store-instance-key`), e.g. to share a run
that others should re-score on the same hidden instances. Older runs that hold the key are
still read.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from selftaught.errors import ConfigError

SECRET_BYTES = 32
FILE_NAME = "instance_secret"
FINGERPRINT_FILE = "instance_key.sha256"


@dataclass(frozen=True)
class InstanceSecret:
    key: bytes = field(repr=False)  # never printed: a traceback must not reveal it

    def __post_init__(self) -> None:
        if type(self.key) is not bytes or len(self.key) < 16:
            raise ConfigError("an instance secret must be at least 16 random bytes",
                              "create one with InstanceSecret.generate()")

    @classmethod
    def generate(cls) -> InstanceSecret:
        return cls(secrets.token_bytes(SECRET_BYTES))

    @classmethod
    def from_hex(cls, text: str, source: str = "the instance secret") -> InstanceSecret:
        try:
            key = bytes.fromhex(text.strip())
        except ValueError:
            key = b""
        if len(key) < 16:
            raise ConfigError(f"{source} is not a hex string of at least 32 digits",
                              f"write {SECRET_BYTES * 2} hex digits, e.g. from `python -c "
                              "\"import secrets; print(secrets.token_hex(32))\"`")
        return cls(key)

    def hex(self) -> str:
        return self.key.hex()

    def instance_seed(self, task: str, split: str, base_seed: int, index: int) -> int:
        """The seed of instance `index` of a split (base_seed: the split's seed in task.toml)."""
        message = f"{task}/{split}/{base_seed}/{index}".encode()
        return int.from_bytes(hmac.new(self.key, message, hashlib.sha256).digest()[:8], "big")


def rng_seed(instance_seed: int, program_id: str) -> int:
    """The seed of `random` and numpy inside the sandbox for one (instance, program): fixed,
    so a randomized program scores the same on every run, and one-way, so it does not
    reveal the instance seed."""
    digest = hashlib.sha256(f"{instance_seed}/{program_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def read_secret(path: Path) -> InstanceSecret:
    """The secret stored at `path` (hex text)."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise ConfigError(f"no instance secret at {path}",
                          "pass the instance_secret file of the run whose instances you want") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the instance secret {path}: {exc}",
                          "make it a readable file of hex digits") from None
    return InstanceSecret.from_hex(text, str(path))


def write_secret(path: Path, secret: InstanceSecret) -> None:
    """Store `secret` at `path`, readable by this user only. An existing file must hold the
    same secret: a run never changes its instances."""
    _create(path, secret)
    if read_secret(path) != secret:
        raise ConfigError(f"{path} already holds another instance secret",
                          "remove it first if you really want new hidden instances")


def load_or_create(path: Path) -> InstanceSecret:
    """The secret at `path`, created (random, mode 0600) if there is none yet."""
    if not path.exists():
        _create(path, InstanceSecret.generate())
    return read_secret(path)


def _create(path: Path, secret: InstanceSecret) -> None:
    """Write the file atomically unless it exists (a concurrent creator wins)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret.hex() + "\n")
    try:
        os.link(tmp, path)  # unlike rename, never replaces a file another process just wrote
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def fingerprint(secret: InstanceSecret) -> str:
    """A public name for a key: a domain-separated hash, from which the key cannot be found."""
    return hashlib.sha256(b"selftaught instance key\0" + secret.key).hexdigest()


def key_store() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("selftaught")) / "keys"


def remember_key(secret: InstanceSecret) -> None:
    """Keep `secret` in this user's key store (mode 0600), so runs that used it can resume."""
    _create(key_store() / fingerprint(secret), secret)


def create_run_secret(run_dir: Path, secret: InstanceSecret | None = None, store: bool = False) -> InstanceSecret:
    """Give a new run directory its key: `secret`, or this user's, so runs on one machine score
    on the same instances unless told otherwise. The run records the key's fingerprint; the
    key itself goes to the user's key store, and into the run only with `store`."""
    chosen = secret or user_secret()
    remember_key(chosen)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / FINGERPRINT_FILE).write_text(fingerprint(chosen) + "\n")
    if store:
        write_secret(run_dir / FILE_NAME, chosen)
    return chosen


def stored_key_path(run_dir: Path) -> Path | None:
    """Where this user's key store keeps a run's key, for a run that records only the key's
    fingerprint (None: the run holds its key itself, or predates hidden instances). The path
    may not exist: the key stays on the machine that made the run."""
    if (run_dir / FILE_NAME).exists() or not (run_dir / FINGERPRINT_FILE).exists():
        return None
    return key_store() / (run_dir / FINGERPRINT_FILE).read_text().strip()


def load_run_secret(run_dir: Path, given: InstanceSecret | None = None) -> InstanceSecret:
    """The key a run directory was created with (to resume or re-score it): the run's own copy
    if it stored one, else `given` or this user's key store, matched by fingerprint."""
    if (run_dir / FILE_NAME).exists():
        return read_secret(run_dir / FILE_NAME)
    if not (run_dir / FINGERPRINT_FILE).exists():
        raise ConfigError(f"{run_dir} has no {FILE_NAME}: the run predates hidden instances",
                          "start a new run (this one was scored on the public seeds 4321 + i, ...)")
    wanted = (run_dir / FINGERPRINT_FILE).read_text().strip()
    if given is not None:
        if fingerprint(given) != wanted:
            raise ConfigError(f"the instance key given is not the one {run_dir.name} was scored with "
                              f"(its fingerprint is {wanted[:16]}…, the given key's {fingerprint(given)[:16]}…)",
                              "pass the key file of the machine that ran it, or leave --instance-secret out")
        remember_key(given)
        return given
    stored = stored_key_path(run_dir)
    if stored is not None and stored.exists():
        return read_secret(stored)
    raise ConfigError(
        f"{run_dir.name} was scored with an instance key this machine does not have "
        f"(fingerprint {wanted[:16]}…; the run keeps only the fingerprint)",
        f"copy the key from the machine that ran it ({key_store()}/{wanted[:16]}… there) and pass "
        "--instance-secret FILE; to share runs with their key, run them with --store-instance-key")


def user_secret_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("selftaught")) / FILE_NAME


def user_secret() -> InstanceSecret:
    """This user's default secret (created on first use; honours XDG_DATA_HOME)."""
    return load_or_create(user_secret_path())
