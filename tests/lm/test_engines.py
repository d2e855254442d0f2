"""Which engine serves, and what a crash on this CPU does: real processes that die of SIGSEGV or
SIGILL at load or at the first token stand in for a native build on a CPU that does not back
its flags; the prebuilt engine behind them is the real one with the embedded model."""

from __future__ import annotations

import logging
import signal
import stat
import sys
import textwrap
from pathlib import Path

import pytest

from selftaught.errors import ConfigError, EngineError
from selftaught.lm.local import engines
from selftaught.lm.local.engines import Launch
from selftaught.lm.local.server import LlamaServer, ServerConfig


def _executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def dies_at_load(tmp_path: Path, sig: str = "SEGV") -> Path:
    """A 'native llama-server' that dies of the signal as it loads, whatever its flags."""
    return _executable(tmp_path / "llama-server", f"#!/bin/sh\nkill -{sig} $$\n")


def dies_unless_no_repack(tmp_path: Path) -> Path:
    """Dies of SIGILL with repacking on (an unbacked AMX path); with --no-repack it is the real
    engine (the prebuilt one, standing in for a native build without the bad path)."""
    return _executable(tmp_path / "llama-server", textwrap.dedent(f"""\
        #!/bin/sh
        case " $* " in
            *" --no-repack "*) exec {sys.executable} -m selftaught.lm.local.serve "$@" ;;
            *) kill -ILL $$ ;;
        esac
    """))


def dies_at_first_token(tmp_path: Path) -> Path:
    """Loads (answers /health), then dies of SIGSEGV on its first completion request."""
    return _executable(tmp_path / "llama-server", textwrap.dedent(f"""\
        #!{sys.executable}
        import os, signal, sys
        from http.server import BaseHTTPRequestHandler, HTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{{"status": "ok"}}')

            def do_POST(self):
                os.kill(os.getpid(), signal.SIGSEGV)

        HTTPServer(("127.0.0.1", int(sys.argv[sys.argv.index("--port") + 1])), Handler).serve_forever()
    """))


@pytest.fixture(autouse=True)
def _fresh_machine_memory(tmp_path, monkeypatch):
    """Each test starts on a machine where nothing has crashed yet."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def model():
    from selftaught.lm.local.embedded import ensure_model

    return ensure_model()


def config(model: Path, **kw) -> ServerConfig:
    return ServerConfig(model_path=model, slots=1, ctx_per_slot=512, **kw)


# Real processes, real fallbacks ------------------------------------------------------------

@pytest.mark.embedded
def test_a_native_build_that_dies_at_load_falls_back_to_the_prebuilt_engine(tmp_path, model, caplog):
    with caplog.at_level(logging.WARNING), \
            LlamaServer(config(model, engine="native", llama_server=dies_at_load(tmp_path))) as server:
        served = server.served
        assert served.launch == Launch("prebuilt")
        assert served.crashed == ("native: SIGSEGV at load", "native --no-repack: SIGSEGV at load")
        assert "served by prebuilt (fell back after: native: SIGSEGV at load" in caplog.text
        assert "AVX2 = 1" in server.system_info()  # which kernels the engine uses
    # remembered: the next start goes straight to the engine that works here
    with LlamaServer(config(model, engine="native", llama_server=tmp_path / "llama-server")) as again:
        assert again.served.launch == Launch("prebuilt") and again.served.crashed == ()
        assert again.served.remembered == ("native (SIGSEGV at load)", "native --no-repack (SIGSEGV at load)")


@pytest.mark.embedded
def test_a_crash_with_repacking_is_retried_once_without_it(tmp_path, model):
    with LlamaServer(config(model, engine="native", llama_server=dies_unless_no_repack(tmp_path))) as server:
        assert server.served.launch == Launch("native", repack=False)
        assert server.served.crashed == ("native: SIGILL at load",)
        assert server.process.poll() is None


@pytest.mark.embedded
def test_a_crash_at_the_first_token_falls_back_too(tmp_path, model):
    with LlamaServer(config(model, engine="native", llama_server=dies_at_first_token(tmp_path))) as server:
        assert server.served.launch == Launch("prebuilt")
        assert server.served.crashed == ("native: SIGSEGV at the first token",
                                         "native --no-repack: SIGSEGV at the first token")


@pytest.mark.embedded
def test_a_run_goes_on_through_the_fallback_and_records_it(tmp_path):
    """A whole session on a machine whose native engine crashes: it answers, and the run's
    journal names the engine that served and the crashes before it."""
    import dataclasses

    from selftaught.lm.cache import CacheMode
    from selftaught.lm.config import LMConfig
    from selftaught.config import Config
    from selftaught.runs.rundir import RunDir
    from selftaught.session import open_session
    from selftaught.settings import PRESETS

    lm = LMConfig(engine="native", llama_server=dies_at_load(tmp_path, "ILL"), cache=CacheMode.OFF,
                  max_tokens=8, ctx_per_slot=1024)
    settings = dataclasses.replace(PRESETS["small"], lm_responses=1, sample_seed="engine-test")
    run = RunDir.create(tmp_path / "run", "improve", {})
    with open_session(run, Config(lm, settings)) as session:
        (answer,) = session.lm.prompt("You are terse.", "Say hi.", temperature=0.0)
    assert answer.strip()
    (event,) = run.journal.events("engine")
    assert (event["label"], event["crashed"]) == (
        "prebuilt", ["native: SIGILL at load", "native --no-repack: SIGILL at load"])


@pytest.mark.embedded
def test_every_engine_crashing_is_one_clear_error(tmp_path, model, monkeypatch):
    monkeypatch.setattr(engines, "prebuilt_installed", lambda: False)
    with pytest.raises(EngineError, match=r"every engine crashed on this CPU .*native: SIGSEGV at load; "
                                          r"native --no-repack: SIGSEGV at load") as error:
        LlamaServer(config(model, engine="native", llama_server=dies_at_load(tmp_path))).start()
    assert "--backend openai" in error.value.fix


@pytest.mark.embedded
def test_a_failure_that_is_not_a_crash_does_not_fall_back(tmp_path):
    """A bad model file is the user's to fix: the error says so, no other engine is tried."""
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a gguf" * 100)
    with pytest.raises(EngineError, match=r"llama-server \(prebuilt\) exited with code 1 ") as error:
        LlamaServer(config(bogus, engine="prebuilt")).start()
    assert "check the model file" in error.value.fix


def test_a_crash_mid_run_names_the_cause_and_the_fix(tmp_path, model):
    server = LlamaServer(config(model, engine="native", llama_server=dies_at_load(tmp_path), fallback=False))
    with pytest.raises(EngineError, match="every engine crashed"):
        server.start()
    server._launch = Launch("native")
    server.process = type("Dead", (), {"poll": lambda self: -signal.SIGILL, "returncode": -signal.SIGILL})()
    with pytest.raises(EngineError, match=r"the native engine \(llama-server\) exited with code -4 \(SIGILL\): "
                                          r"a CPU path this machine does not back") as error:
        server.check_alive()
    assert "--engine prebuilt" in error.value.fix


# The choice -------------------------------------------------------------------------------

def test_auto_prefers_the_prebuilt_engine_and_falls_back_to_native(tmp_path):
    native = dies_at_load(tmp_path)
    assert engines.ladder("auto", native) == [Launch("prebuilt"), Launch("prebuilt", False),
                                               Launch("native"), Launch("native", False)]
    assert engines.ladder("native", native)[0] == Launch("native")


def test_auto_without_the_prebuilt_engine_uses_native(tmp_path, monkeypatch):
    monkeypatch.setattr(engines, "prebuilt_installed", lambda: False)
    assert engines.ladder("auto", dies_at_load(tmp_path)) == [Launch("native"), Launch("native", False)]


def test_an_engine_asked_for_but_not_installed_names_the_extra(monkeypatch):
    monkeypatch.setattr(engines, "prebuilt_installed", lambda: False)
    with pytest.raises(EngineError, match="the prebuilt engine is not installed") as error:
        engines.ladder("prebuilt", Path("/nonexistent/llama-server"))
    assert "selftaught[embedded]" in error.value.fix


def test_an_unknown_engine_is_refused():
    with pytest.raises(ConfigError, match="unknown engine 'fast'") as error:
        engines.check_engine("fast")
    assert "auto, prebuilt, native" in error.value.fix


def test_only_cpu_path_signals_count_as_crashes():
    assert engines.crash_signal(-signal.SIGSEGV) == "SIGSEGV"
    assert engines.crash_signal(-signal.SIGILL) == "SIGILL"
    assert engines.crash_signal(-signal.SIGKILL) is None  # the OOM killer, or a user
    assert engines.crash_signal(1) is None and engines.crash_signal(None) is None


def test_the_memory_is_keyed_by_the_engine_file_and_the_cpu(tmp_path):
    server = dies_at_load(tmp_path)
    engines.remember(Launch("native"), "SIGSEGV at load", server)
    assert engines.remembered_crash(Launch("native"), server) == "SIGSEGV at load"
    assert engines.remembered_crash(Launch("native", False), server) is None
    server.write_text(server.read_text() + "# rebuilt\n")  # another binary: no memory of it
    assert engines.remembered_crash(Launch("native"), server) is None
