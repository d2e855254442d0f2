"""selftaught: the Self-Taught Optimizer (STOP), recursively self-improving code generation."""

__version__ = "0.1.0"
