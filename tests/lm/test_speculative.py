"""The speculative setting: from config to llama-server's flags."""

from pathlib import Path

import pytest

from selftaught.errors import ConfigError
from selftaught.lm.config import LMConfig, from_sources
from selftaught.lm.local.server import LlamaServer, ServerConfig
from selftaught.lm.local.speculative import describe, server_flags


@pytest.mark.parametrize("kind, draft, flags", [
    ("none", None, []),
    ("ngram", None, ["--spec-type", "ngram-simple"]),
    ("draft", Path("/m/d.gguf"), ["--spec-type", "draft-simple", "--spec-draft-model", "/m/d.gguf"]),
])
def test_each_setting_is_a_set_of_server_flags(kind, draft, flags):
    assert server_flags(kind, draft) == flags


def test_the_server_command_ends_with_the_speculative_flags_then_extra_ones():
    config = ServerConfig(model_path=Path("/m/t.gguf"), slots=2, speculative="draft",
                          draft_model_path=Path("/m/d.gguf"), extra_args=("--spec-draft-n-max", "8"))
    assert LlamaServer(config).command(Path("/bin/llama-server"))[-6:] == [
        "--spec-type", "draft-simple", "--spec-draft-model", "/m/d.gguf", "--spec-draft-n-max", "8"]


def test_unknown_and_incomplete_settings_are_refused():
    with pytest.raises(ConfigError, match="unknown speculative setting 'fast'") as info:
        LMConfig(speculative="fast")
    assert info.value.fix == "use one of: none, ngram, draft"
    with pytest.raises(ConfigError, match="'draft' needs a draft model") as info:
        ServerConfig(model_path=Path("/m/t.gguf"), speculative="draft")
    assert "selftaught[draft]" in info.value.fix
    with pytest.raises(ConfigError, match="a draft model is given but speculative is 'ngram'"):
        LMConfig(speculative="ngram", draft_model_path=Path("/m/d.gguf"))


def test_the_lm_table_sets_the_speculative_setting(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('[lm]\nspeculative = "draft"\ndraft_model_path = "~/d.gguf"\n')
    cfg = from_sources(toml)
    assert (cfg.speculative, cfg.draft_model_path) == ("draft", Path("~/d.gguf").expanduser())
    with pytest.raises(ConfigError, match="speculative is 'none'"):
        from_sources(toml, speculative="none")  # the flag wins, and contradicts the table's draft model


def test_doctor_describes_the_setting():
    assert describe("ngram") == "ngram (--spec-type ngram-simple)"
    assert describe("none") == "none (no speculative decoding)"
