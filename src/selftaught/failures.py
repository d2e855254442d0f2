"""What an improver may learn about why a program failed (`utility.failure`, selftaught's
extension of the paper's interface), and nothing more.

A program's diagnostics are not safe to pass on as they are. The program wrote them: it sees the
hidden instance's inputs and could raise them in an exception message (or in the name of an
exception class of its own), and an improver that learned the val inputs could return a table of
answers worked out in its own, longer time limit, gaming û. Other diagnostics are the host's: a
scorer's error may hold expected outputs, a dead worker's log is the slot's. So an account is
built only from what cannot carry the instance: the status, the name of a built-in exception,
the line of the program where it was raised, and that line of the program's own source (the
improver has the source already). What remains is a few bits per call, as the score itself is.
"""

from __future__ import annotations

import builtins
import re

SOURCE_LINE_CHARS = 160  # of the program line shown

# Fixed words per status: none of these diagnostics reach the improver.
STATUS_ACCOUNT = {
    "timeout": "it ran past its time limit",
    "memory_error": "it ran out of memory",
    "syntax_error": "it does not parse (a syntax error)",
    "missing_entry_point": "it does not define the function the task calls",
    "bad_output": "it returned a value that cannot be passed back or scored",
    "blocked": "the sandbox stopped it (a forbidden operation, or a resource past its limit)",
    "scorer_error": "the task's scorer could not score its output",
}
_RAISED = re.compile(r"\A([A-Za-z_][A-Za-z0-9_]{0,59}):")
_CANDIDATE_LINE = re.compile(r'File "<candidate>", line (\d{1,9})')
_BUILTIN_EXCEPTIONS = frozenset(name for name, value in vars(builtins).items()
                                if isinstance(value, type) and issubclass(value, BaseException))


def instance_account(status: str, diagnostics: str, source: str) -> str:
    """One failing instance, in words an improver may read."""
    if status != "crash":
        return STATUS_ACCOUNT.get(status, f"it ended with status {status!r}" if status.isidentifier() else "it failed")
    raised = _RAISED.match(diagnostics)
    if raised is None or raised.group(1) not in _BUILTIN_EXCEPTIONS:
        return "it crashed" if raised is None else "it raised an exception of a class of its own"
    account = f"it raised {raised.group(1)}"
    # The innermost frame of the program's own code. The message before the traceback is the
    # program's, so a line it names there counts only if the program has that line: a number
    # carries no more than the choice of a line.
    program = source.splitlines()
    lines = [int(n) for n in _CANDIDATE_LINE.findall(diagnostics) if 0 < int(n) <= len(program)]
    if lines:
        account += f" at line {lines[-1]}"
        if program[lines[-1] - 1].strip():
            account += f": {program[lines[-1] - 1].strip()[:SOURCE_LINE_CHARS]}"
    return account
