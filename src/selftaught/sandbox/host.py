"""The trusted side: a pool of sandboxed fork-servers and the per-call protocol.

The host never imports or executes program text. It ships the text into a sandbox, sends
the inputs only once the fork-server has started the child's CPU clock, answers proxy
requests (LM, utility) under budgets it alone enforces, and turns whatever comes back into
an Outcome after checking every type. A call's time is the CPU time of the entry-point call
as the kernel counts it, read by the fork-server; the program cannot forge it.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import queue
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from selftaught.errors import SelftaughtError
from selftaught.sandbox import isolation, protocol, telemetry
from selftaught.sandbox.cgroup import MemoryCgroups
from selftaught.sandbox.config import SandboxConfig
from selftaught.sandbox.outcome import Outcome, Telemetry
from selftaught.sandbox.conversation import RawRun, WallLimits
from selftaught.sandbox.slot import Slot
from selftaught.sandbox.verdict import CpuLimits, judge_error, overrun

LmHandler = Callable[[str, dict], Any]
UtilityHandler = Callable[[str], float]
FailureHandler = Callable[[str], str]  # utility.failure(program): why a scored program failed
_UNSAFE_BANNER = (
    "\n!!! selftaught: running LM-written code WITHOUT A SANDBOX (--unsafe-no-sandbox). !!!\n"
    "!!! It can read, change and delete anything this user can.                     !!!\n\n"
)


_SHIPPED = ("protocol", "syscall_filter", "child", "fresh", "worker")  # in import order; worker last


def _boot_source() -> str:
    """The -c program: load the in-sandbox modules from text, start the fork-server."""
    here = Path(__file__).parent
    loads = "".join(f"_load('sbx_{name}', {(here / f'{name}.py').read_text()!r})\n" for name in _SHIPPED)
    return (
        "import sys, types, json\n"
        "def _load(name, src):\n"
        "    mod = types.ModuleType(name); sys.modules[name] = mod\n"
        "    exec(compile(src, '<' + name + '>', 'exec'), mod.__dict__); return mod\n"
        f"{loads}"
        "sys.modules['sbx_worker'].main(json.loads(sys.argv[1]))\n"
    )


class SandboxPool:
    """Parallel sandboxed workers. Use as a context manager; `call` is thread-safe.

    Fails closed: without bwrap, user namespaces or seccomp it raises SelftaughtError,
    unless config.unsafe is set (then it prints a loud banner and marks every Outcome).
    """

    _numbers = itertools.count()  # pools of this process: each gets its own slot uids

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.number = next(SandboxPool._numbers)
        self.launch: dict = {}
        self._slots: queue.Queue[Slot] = queue.Queue()
        self._all: list[Slot] = []
        self._unsafe_scratch: tempfile.TemporaryDirectory | None = None
        self.launcher: ThreadPoolExecutor | None = None
        self._nproc_base = 0
        self.cgroups: MemoryCgroups | None = None  # a memory cgroup per slot, where the host can

    def __enter__(self) -> SandboxPool:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        # Every bwrap is forked by this one pool-lifetime thread (see Slot.start); as root it
        # also holds the private mount namespace the launch spec stages bwrap's inputs in.
        self.launcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-launcher")
        try:
            self.launch = self._launch_spec()
        except BaseException:
            self.close()
            raise
        # As root every slot has a uid of its own, so NPROC only counts the sandbox; as a
        # normal user it also counts the user's other processes, which must not starve it.
        self._nproc_base = 0 if os.geteuid() == 0 else isolation.tasks_of_current_uid()
        isolation.become_subreaper()
        if not self.config.unsafe and self.config.memory_cgroups:
            self.cgroups, _ = MemoryCgroups.find()  # where there is none, the denials stand alone
        slots = [Slot(i, self.config, self.launch, self.launcher, self.number, self.cgroups)
                 for i in range(self.config.slots)]
        errors: list[BaseException] = []

        def start_one(slot: Slot) -> None:
            try:
                slot.start()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=start_one, args=(slot,)) for slot in slots]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self._all = slots
        if errors:
            self.close()
            raise errors[0]
        for slot in slots:
            self._slots.put(slot)

    def close(self) -> None:
        for slot in self._all:
            slot.close()
        self._all = []
        if self.launcher is not None:
            self.launcher.shutdown(wait=True)
            self.launcher = None
        if self._unsafe_scratch is not None:
            self._unsafe_scratch.cleanup()
            self._unsafe_scratch = None

    def _launch_spec(self) -> dict:
        config = self.config
        numpy_dir = config.numpy_dir or isolation.module_dir("numpy")
        libraries = isolation.library_names()
        settings = dict(libraries, preload=list(config.preload),
                        helper_modules=[[name, source] for name, source in config.helper_modules])
        if config.unsafe:
            sys.stderr.write(_UNSAFE_BANNER)
            self._unsafe_scratch = tempfile.TemporaryDirectory(prefix="selftaught-unsafe-")
            settings.update(seccomp=False, scratch=self._unsafe_scratch.name,
                            extra_paths=[numpy_dir] if numpy_dir else [])
            return {"prefix": [], "boot": _boot_source(), "settings": settings}
        isolation.check_user_namespaces()
        seccomp_dir = config.pyseccomp_dir or isolation.module_dir("pyseccomp")
        if seccomp_dir is None:
            raise SelftaughtError("the sandbox needs the pyseccomp package, which is not installed",
                                  isolation.FIX_ISOLATION)
        bwrap = config.bwrap or isolation.bwrap_binary()
        binds = isolation.site_binds(numpy_dir, seccomp_dir)
        if os.geteuid() == 0:  # bwrap runs as the slot uid: it must be able to reach these
            bwrap, binds = self._stage(bwrap, binds)
        prefix = isolation.bwrap_argv(bwrap, config.scratch_bytes, isolation.ro_bind_args(binds))
        prefix += ["--setenv", "PYTHONHASHSEED", "0"]  # same str hashes in every fork-server (see Slot)
        settings.update(seccomp=True, scratch=isolation.SANDBOX_SCRATCH, fresh_scratch=True, fresh_pids=True,
                        scratch_bytes=config.scratch_bytes, scratch_inodes=config.scratch_inodes,
                        extra_paths=[isolation.SANDBOX_SITE])
        return {"prefix": prefix, "boot": _boot_source(), "settings": settings}

    def _stage(self, bwrap: str, binds: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
        """As root: bind bwrap and the site packages into the launcher thread's private
        staging tmpfs, so the slot uid never has to traverse their real parents (e.g. /root).

        Only where that is impossible (no CAP_SYS_ADMIN, e.g. a default Docker container) does
        the pool use the real paths, and then it refuses to start unless the slot uid can
        traverse them. Either way the objects themselves must be readable by other uids.
        """
        config = self.config
        blocked = isolation.unreadable_for_others(config.python, executable=True)
        if blocked:
            raise SelftaughtError(
                f"the sandbox uid cannot read {config.python} ({blocked} is not readable by others)",
                "use an interpreter under /usr that all users can read (SandboxConfig.python)")
        plan = isolation.staging_plan(bwrap, binds)
        for path, executable in [(bwrap, True), *((source, False) for source, _ in plan.mounts)]:
            if isolation.unreadable_for_others(path, ancestors=False, executable=executable):
                raise SelftaughtError(
                    f"the sandbox uid cannot read {path} (not readable by other users)",
                    f"make it readable by all users (chmod -R o+rX {path}), or reinstall it with umask 022")
        try:
            self.launcher.submit(isolation.stage_privately, plan.mounts).result()
        except OSError as exc:
            for path, executable in [(bwrap, True), *((source, False) for source, _ in binds)]:
                blocked = isolation.unreadable_for_others(path, executable=executable)
                if blocked:
                    raise SelftaughtError(
                        f"the sandbox uid cannot read {path} ({blocked} is not readable by others), "
                        f"and the pool could not stage it privately ({exc})",
                        "run the host as root with CAP_SYS_ADMIN, or install selftaught in a virtual "
                        "environment that all users can traverse (e.g. <checkout>/.venv outside /root)") from None
            return bwrap, binds
        return plan.bwrap, list(plan.site_binds)

    # -- public calls ----------------------------------------------------------------------

    def call(self, program_text: str | bytes, entry_point: str, args: Sequence[Any] = (),
             kwargs: Mapping[str, Any] | None = None, time_limit_s: float = 2.0,
             memory_limit_mb: int = 512, *, module_time_limit_s: float = 1.0, rng_seed: int = 0) -> Outcome:
        """Run `entry_point(*args, **kwargs)` of the program in a sandbox.

        time_limit_s is CPU time of the call itself (every thread, from the hand-over of the
        arguments to the answer), as the kernel counts it; executing the module is limited
        separately, to module_time_limit_s of CPU time. Each phase also has a wall-clock
        backstop (SandboxConfig.wall_backstop) for programs that sleep. Module-level code
        draws random numbers from a fixed state; `random` and numpy's generators are seeded
        with rng_seed just before the call.
        """
        text, flags, invalid = _program_text(program_text, self.config.max_program_bytes)
        if text is None:
            return self._judge_invalid_text(flags, invalid)
        try:
            call_frame = protocol.encode_frame({"args": protocol.to_wire(list(args)),
                                                "kwargs": protocol.to_wire(dict(kwargs or {}))},
                                               self.config.max_frame_bytes)
        except protocol.ProtocolError as exc:
            raise SelftaughtError(f"cannot send these arguments into the sandbox: {exc}",
                                  "pass only JSON-like data and numpy arrays") from None
        job = {"mode": "call", "program": text, "entry": entry_point, "rng_seed": int(rng_seed)}
        cpu = CpuLimits(float(module_time_limit_s), float(time_limit_s))
        wall = WallLimits(self.config.wall_backstop(cpu.module_s), self.config.wall_backstop(cpu.call_s))
        arguments_fd = _memfd(call_frame)
        try:
            raw = self._run(job, memory_limit_mb, cpu, wall, None, arguments_fd)
        finally:
            os.close(arguments_fd)
        return self._judge(raw, flags, cpu)

    def run_improver(self, improver_text: str | bytes, initial_solution: str,
                     utility_handler: UtilityHandler, utility_description: str,
                     lm_handler: LmHandler, time_limit_s: float, *,
                     entry_point: str = "improve_algorithm", memory_limit_mb: int = 1024,
                     utility_attributes: Mapping[str, Any] | None = None,
                     lm_attributes: Mapping[str, Any] | None = None,
                     failure_handler: FailureHandler | None = None) -> Outcome:
        """Run improver(initial_solution, utility, language_model) in a sandbox.

        Inside, `utility` and `language_model` are proxies: every call travels to the host,
        where `utility_handler(solution)` and `lm_handler(method, kwargs)` enforce budgets
        (raising BudgetExceeded, which is re-raised by name inside). Their attributes
        (`utility.str`, `utility.budget`, `language_model.budget`, ...) are copies for the
        improver to read; changing them changes nothing on the host. The value is the
        improved solution and must be a string. time_limit_s is wall time, LM calls included.
        `utility.failure(solution)` asks `failure_handler` (none: it answers "").
        Handlers run in host threads; a utility handler that itself uses this pool needs a
        free slot (use slots >= 2 or a second pool).
        """
        text, flags, invalid = _program_text(improver_text, self.config.max_program_bytes)
        if text is None:
            return self._judge_invalid_text(flags, invalid)
        utility_attrs = dict(utility_attributes or {})
        utility_attrs.setdefault("str", utility_description)
        utility_attrs.setdefault("description", utility_description)
        job = {"mode": "improve", "program": text, "entry": entry_point,
               "initial_solution": initial_solution,
               "utility_attributes": protocol.to_wire(utility_attrs),
               "lm_attributes": protocol.to_wire(dict(lm_attributes or {}))}
        handlers = {"utility": utility_handler, "lm": lm_handler}
        if failure_handler is not None:
            handlers["utility.failure"] = failure_handler
        raw = self._run(job, memory_limit_mb, CpuLimits(), WallLimits(time_limit_s), handlers)
        outcome = self._judge(raw, flags, CpuLimits())
        if outcome.ok and type(outcome.value) is not str:
            return _replace(outcome, status="bad_output", value=None,
                            diagnostics=f"an improver must return a string, got {type(outcome.value).__name__}")
        return outcome

    # -- internals ---------------------------------------------------------------------------

    def _run(self, job: dict, memory_limit_mb: int, cpu: CpuLimits, wall: WallLimits, handlers,
             arguments_fd: int | None = None) -> RawRun:
        if not self._all:
            raise SelftaughtError("the sandbox pool is not started", "use `with SandboxPool(config) as pool:`")
        config = self.config
        longest = wall.first_phase_s if cpu.call_s is None else (cpu.module_s or 0.0) + cpu.call_s
        limits = {
            "as_bytes": int(memory_limit_mb) << 20,
            "cpu_s": int(longest) + 2,  # a last resort behind the fork-server and the wall clock
            "module_cpu_s": cpu.module_s,
            "call_cpu_s": cpu.call_s,
            "module_wall_s": wall.first_phase_s if wall.call_s is not None else None,
            "call_wall_s": wall.call_s,
            "fsize_bytes": config.max_file_bytes,
            "nofile": config.max_open_files,
            "nproc": None if config.unsafe else self._nproc_base + config.max_threads,
            "max_frame_bytes": config.max_frame_bytes,
            "max_result_bytes": config.max_result_bytes,
        }
        slot = self._slots.get()
        try:
            return slot.execute(job, limits, wall, handlers, arguments_fd)
        finally:
            self._slots.put(slot)

    def _judge(self, raw: RawRun, flags: tuple[str, ...], cpu: CpuLimits) -> Outcome:
        status, value, diagnostics, blocked = "crash", None, "", None
        over = overrun(raw, cpu)
        call_cpu_s = raw.cpu_s - raw.clock_s if raw.cpu_s is not None and raw.clock_s is not None else None
        if raw.violation:  # the fork-server ended it: whatever it answered, it broke the protocol
            status = "blocked"
            diagnostics = blocked = f"broke the fork-server's clock protocol: {raw.violation}"
        elif raw.output_over:  # before the timeout its end looks like: the cap ended the run
            status = "blocked"
            diagnostics = blocked = (f"wrote more than {self.config.max_output_bytes:,} bytes to stdout/stderr "
                                     "(the sandbox's output cap); the host stopped reading and ended it")
        elif over:
            status, diagnostics = "timeout", over
        elif raw.result is not None:
            try:
                value, status = protocol.from_wire(raw.result.get("result")), "ok"
            except (protocol.ProtocolError, ValueError, TypeError) as exc:
                status, diagnostics = "bad_output", f"result failed type checks: {exc}"
        elif raw.protocol_error:
            status, diagnostics = "bad_output", raw.protocol_error
        elif raw.error is not None:
            status, diagnostics = judge_error(raw.error)
        elif raw.exit_status is not None:
            status, diagnostics = telemetry.describe_exit(raw.exit_status)
        elif raw.worker_died:
            diagnostics = f"the sandbox worker died; it will be restarted. {raw.worker_stderr}".strip()
        if raw.exit_status is not None:
            # The telemetry hears of a forbidden action whatever the answer: a thread may make
            # the call after the answer is sent (the answer stands; the attempt is counted).
            exit_kind, exit_text = telemetry.describe_exit(raw.exit_status)
            blocked = exit_text if exit_kind == "blocked" and blocked is None else blocked
        if raw.handler_errors:
            diagnostics += " | host handler errors: " + "; ".join(raw.handler_errors[:5])
        return Outcome(
            status=status, value=value, wall_time_s=raw.wall_time_s,
            cpu_time_s=call_cpu_s if call_cpu_s is not None else (raw.cpu_s or 0.0), diagnostics=diagnostics,
            output_tail=raw.output.decode("utf-8", "replace"),
            telemetry=Telemetry(static_flags=flags, runtime_events=tuple(raw.events), blocked=blocked),
            unsafe=self.config.unsafe,
        )

    def _judge_invalid_text(self, flags: tuple[str, ...], why: str) -> Outcome:
        return Outcome(status="syntax_error", diagnostics=why,
                       telemetry=Telemetry(static_flags=flags), unsafe=self.config.unsafe)


def _memfd(data: bytes) -> int:
    """An anonymous file holding `data`: the fork-server passes it on without reading it."""
    fd = os.memfd_create("selftaught-arguments", os.MFD_CLOEXEC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BaseException:
        os.close(fd)
        raise
    return fd


def _program_text(program: str | bytes, max_bytes: int) -> tuple[str | None, tuple[str, ...], str]:
    """(text, static flags, why it cannot run): program text decoded strictly; garbage bytes
    are a syntax error, not a crash, and an oversized text is neither sent nor scanned."""
    if isinstance(program, bytes):
        try:
            program = program.decode("utf-8")
        except UnicodeDecodeError:
            return None, ("unparsable",), "program text is not valid UTF-8"
    if type(program) is not str:
        return None, ("unparsable",), "program text is not a string"
    try:
        size = len(program.encode("utf-8"))  # lone surrogates cannot cross the wire
    except UnicodeEncodeError:
        return None, ("unparsable",), "program text is not valid UTF-8"
    if size > max_bytes:
        return None, ("oversized",), f"program text of {size} bytes is over the sandbox's {max_bytes}-byte cap"
    return program, telemetry.scan(program), ""


def _replace(outcome: Outcome, **changes: Any) -> Outcome:
    return dataclasses.replace(outcome, **changes)
