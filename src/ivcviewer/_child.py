"""Results of a child process that renders or opens napari (the core never imports napari).

The child prints a JSON list of the files it wrote on its last line of stdout, and exits with
:data:`EXIT_INPUT_ERROR` (one line on stderr) for bad input, :data:`EXIT_DISPLAY_ERROR` for a
display problem; any other failure is a fault of the program.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import DisplayError, IvcviewerError

#: Exit status of a child for bad input (one line on stderr).
EXIT_INPUT_ERROR = 2
#: Exit status of a child for a display problem (no X server, no OpenGL).
EXIT_DISPLAY_ERROR = 3
#: How many lines of the child's stderr an error message quotes.
STDERR_TAIL_LINES = 5

_log = logging.getLogger(__name__)


def output_lines(text: str | None) -> list[str]:
    """The non-blank lines of a child's output, stripped.

    >>> output_lines("a\\n\\n  b \\n")
    ['a', 'b']
    """
    return [ln.strip() for ln in (text or "").splitlines() if ln.strip()]


def stderr_tail(proc: subprocess.CompletedProcess[str]) -> str:
    """The last lines of a child's stderr on one line."""
    tail = output_lines(proc.stderr)[-STDERR_TAIL_LINES:]
    return " | ".join(tail) if tail else "(nothing on stderr)"


def child_error(
    proc: subprocess.CompletedProcess[str],
    what: str,
    verbose_hint: str = "run with --verbose to see the traceback",
) -> IvcviewerError:
    """The error for a failed child process.

    Bad input keeps the child's one-line message; a display problem becomes a
    :class:`DisplayError`; any other status (an uncaught exception, a crash) is reported as an
    internal error with the last line of its stderr, the whole stderr (the traceback) being
    logged at INFO level (shown with ``--verbose``).
    """
    lines = output_lines(proc.stderr)
    last = lines[-1].removeprefix("ivcviewer: ").removeprefix("error: ") if lines else ""
    if proc.returncode == EXIT_INPUT_ERROR and last:
        return IvcviewerError(last)
    if proc.returncode == EXIT_DISPLAY_ERROR and last:
        return DisplayError(f"{what} failed: {last}")
    _log.info("%s: stderr of the failed process:\n%s", what, (proc.stderr or "").rstrip())
    return DisplayError(
        f"{what} stopped with an internal error (exit status {proc.returncode}): "
        f"{last or '(nothing on stderr)'}. This is a fault of the program, not of the input; "
        f"{verbose_hint}."
    )


def child_paths(
    proc: subprocess.CompletedProcess[str],
    what: str,
    verbose_hint: str = "run with --verbose to see the traceback",
) -> list[Path]:
    """The files a child wrote (the JSON list on its last line of stdout).

    Raises
    ------
    IvcviewerError
        The child's error when it failed (see :func:`child_error`).
    DisplayError
        When it succeeded but printed no JSON list of paths (the message quotes the end of its
        stderr).
    """
    if proc.returncode != 0:
        raise child_error(proc, what, verbose_hint)
    out = output_lines(proc.stdout)
    try:
        listed = json.loads(out[-1]) if out else None
    except json.JSONDecodeError:
        listed = None
    if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
        shown = repr(out[-1][:200]) if out else "nothing"
        raise DisplayError(
            f"{what} ended without error but printed {shown} instead of a JSON list of the "
            f"files written; its stderr ended with: {stderr_tail(proc)}"
        )
    return [Path(p) for p in listed]


def run_as_child(action: Callable[[], Sequence[Path] | None]) -> int:
    """The child's side of the protocol: run ``action`` and return the exit status.

    A list of written files is printed as JSON on the last line of stdout; ``None`` (a window
    that was opened and closed) prints nothing. A :class:`DisplayError` exits with
    :data:`EXIT_DISPLAY_ERROR`, any other ivcviewer or file error with
    :data:`EXIT_INPUT_ERROR`, each as one line on stderr. Any other exception is a fault of the
    program and propagates with its traceback.
    """
    try:
        written = action()
    except DisplayError as err:
        print(f"ivcviewer: {err}", file=sys.stderr)
        return EXIT_DISPLAY_ERROR
    except (IvcviewerError, OSError) as err:
        print(f"ivcviewer: {err}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    if written is not None:
        print(json.dumps([os.fspath(p) for p in written]))
    return 0
