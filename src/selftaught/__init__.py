"""selftaught: the Self-Taught Optimizer (STOP), recursively self-improving code generation.

The paper's verbs, each in a run directory, each returning its report (api.py):

    from selftaught import improve, self_improve, transfer

    improve("fibonacci")                       # I(u, s, L): a better program for a task
    result = self_improve(["lpn"])              # I_t = I_{t-1}(û, I_{t-1}, L)
    transfer([result.run_dir], tasks=["parity"])  # the improved improvers on held-out tasks
"""

from selftaught.version import __version__

__all__ = ["__version__", "configure", "improve", "open_run", "self_improve", "transfer"]
_API = {"configure", "improve", "open_run", "self_improve", "transfer"}


def __getattr__(name: str):
    # Imported on first use: `import selftaught` (the CLI's --help, a worker node) stays light.
    if name in _API:
        from selftaught import api

        return getattr(api, name)
    raise AttributeError(f"module 'selftaught' has no attribute {name!r}")
