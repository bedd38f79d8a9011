"""Results of a child process that renders or opens napari (the core never imports napari).

The child prints a JSON list of the files it wrote on its last line of stdout, and exits with
:data:`EXIT_INPUT_ERROR` (one line on stderr) for bad input, :data:`EXIT_DISPLAY_ERROR` for a
display problem; any other failure (an uncaught exception, a crash) is a fault of the program,
which the parent reports as one line too, the child's stderr being kept to be shown after that
line with ``--verbose``.
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
from .failures import DETAIL_ATTRIBUTE, failure_line

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


def error_line(lines: Sequence[str]) -> str:
    """The child's error line: its last line that starts with ``ivcviewer:`` (a traceback may
    follow it), else its last line; without the ``ivcviewer: error:`` prefix.

    >>> error_line(["Qt: no GL", "ivcviewer: error: ct: bad", "Traceback ...", "KeyError: 1"])
    'ct: bad'
    """
    ours = [ln for ln in lines if ln.startswith("ivcviewer:")]
    last = ours[-1] if ours else (lines[-1] if lines else "")
    return last.removeprefix("ivcviewer:").strip().removeprefix("error:").strip()


def child_error(
    proc: subprocess.CompletedProcess[str],
    what: str,
    verbose_hint: str = "run with --verbose to see the traceback",
) -> IvcviewerError:
    """The error for a failed child process.

    Bad input keeps the child's one-line message; a display problem becomes a
    :class:`DisplayError`; any other status (a crash) is reported as an internal error with the
    last line of its stderr. Whatever else the child printed (its traceback) is logged at INFO
    level, marked to be shown after the error line with ``--verbose``.
    """
    lines = output_lines(proc.stderr)
    expected = proc.returncode in (EXIT_INPUT_ERROR, EXIT_DISPLAY_ERROR)
    # the line of an expected failure may be followed by other output; a crash ends with its cause
    last = error_line(lines) if expected else (lines[-1] if lines else "")
    if len(lines) > 1 or not expected:
        _log.info(
            "%s: stderr of the failed process:\n%s",
            what,
            (proc.stderr or "").rstrip(),
            extra={DETAIL_ATTRIBUTE: True},
        )
    if proc.returncode == EXIT_INPUT_ERROR and last:
        return IvcviewerError(last)
    if proc.returncode == EXIT_DISPLAY_ERROR and last:
        return DisplayError(f"{what} failed: {last}")
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


def run_as_child(action: Callable[[], Sequence[Path] | None], where: str = "") -> int:
    """The child's side of the protocol: run ``action`` and return the exit status.

    A list of written files is printed as JSON on the last line of stdout; ``None`` (a window
    that was opened and closed) prints nothing. A :class:`DisplayError` exits with
    :data:`EXIT_DISPLAY_ERROR`, any other ivcviewer or file error with
    :data:`EXIT_INPUT_ERROR`, each as one line on stderr (a file error names its file, else
    ``where``). Any other exception is a fault of the program and propagates with its
    traceback; the parent turns it into one line (:func:`child_error`).
    """
    try:
        written = action()
    except DisplayError as err:
        print(f"ivcviewer: {err}", file=sys.stderr)
        return EXIT_DISPLAY_ERROR
    except (IvcviewerError, OSError) as err:
        print(f"ivcviewer: {failure_line(err, where or 'napari')}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    if written is not None:
        print(json.dumps([os.fspath(p) for p in written]))
    return 0
